"""Our own concurrency and rate control, per provider.

``AdaptiveLimit`` is additive-increase, multiplicative-decrease, as NVIDIA's Data Designer
does: it starts at the ceiling the user set, halves on a 429 and grows back by one slot per
window of successes. A burst of 429s from requests that were already in flight when the limit
fell counts once. ``RateBucket`` is an optional requests- and tokens-per-minute budget that
queues rather than rejects (litellm's Router rejects).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class AdaptiveLimit:
    """A semaphore whose size moves: halves on 429, grows by one per window of successes.

    Used from one event loop only; waiters are served first come, first served.
    """

    def __init__(self, ceiling: int, *, floor: int = 1) -> None:
        self.ceiling = max(1, ceiling)
        self.floor = max(1, min(floor, self.ceiling))
        self.limit = self.ceiling
        self.in_flight = 0
        self.decreases = 0
        self._successes = 0
        self._epoch = 0  # bumped at each decrease
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> int:
        """Take a slot; returns the epoch the request starts in (pass it to ``throttled``)."""
        if self.in_flight < self.limit and not self._waiters:
            self.in_flight += 1
            return self._epoch
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # granted a slot just as we were cancelled: hand it on
            else:
                self._waiters.remove(waiter)
            raise
        return self._epoch

    def release(self) -> None:
        self.in_flight -= 1
        self._grant()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[int]:
        epoch = await self.acquire()
        try:
            yield epoch
        finally:
            self.release()

    def succeeded(self) -> None:
        self._successes += 1
        if self.limit < self.ceiling and self._successes >= self.limit:
            self._successes = 0
            self.limit += 1
            self._grant()

    def throttled(self, epoch: int) -> None:
        """A 429 for a request started in ``epoch``: halve, unless already halved since."""
        if epoch != self._epoch:
            return
        self._epoch += 1
        self._successes = 0
        self.decreases += 1
        self.limit = max(self.floor, self.limit // 2)

    def _grant(self) -> None:
        while self._waiters and self.in_flight < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.in_flight += 1
                waiter.set_result(None)


class RateBucket:
    """Token buckets for requests and tokens per minute; ``acquire`` waits for both."""

    def __init__(self, rpm: float | None = None, tpm: float | None = None) -> None:
        self.rpm = rpm
        self.tpm = tpm
        now = time.monotonic()
        self._requests = float(rpm or 0)
        self._tokens = float(tpm or 0)
        self._stamp = now
        self._lock = asyncio.Lock()

    @property
    def active(self) -> bool:
        return bool(self.rpm or self.tpm)

    def _refill(self) -> None:
        now = time.monotonic()
        elapsed = now - self._stamp
        self._stamp = now
        if self.rpm:
            self._requests = min(self.rpm, self._requests + elapsed * self.rpm / 60.0)
        if self.tpm:
            self._tokens = min(self.tpm, self._tokens + elapsed * self.tpm / 60.0)

    async def acquire(self, tokens: int = 0) -> None:
        if not self.active:
            return
        async with self._lock:
            while True:
                self._refill()
                need_r = 1.0 - self._requests if self.rpm else 0.0
                # A request larger than the whole budget waits for a full bucket, not forever.
                want_t = min(float(tokens), float(self.tpm or 0))
                need_t = want_t - self._tokens if self.tpm else 0.0
                if need_r <= 0 and need_t <= 0:
                    if self.rpm:
                        self._requests -= 1.0
                    if self.tpm:
                        self._tokens -= want_t
                    return
                wait = max(
                    need_r * 60.0 / self.rpm if self.rpm and need_r > 0 else 0.0,
                    need_t * 60.0 / self.tpm if self.tpm and need_t > 0 else 0.0,
                )
                await asyncio.sleep(wait)

    def spend_tokens(self, extra: int) -> None:
        """Charge tokens learnt after the call (the completion) against the budget."""
        if self.tpm and extra > 0:
            self._tokens -= extra
