"""Adaptive concurrency, the rate bucket and the retry policy, on their own."""

from __future__ import annotations

import asyncio
import random

from studio.generate.errors import CallError, FailureKind
from studio.generate.limits import AdaptiveLimit, RateBucket
from studio.generate.retry import RetryPolicy, parse_retry_after


async def test_limit_halves_once_per_burst_and_grows_back_slowly() -> None:
    limit = AdaptiveLimit(16)
    epochs = [await limit.acquire() for _ in range(16)]
    assert limit.in_flight == 16
    for epoch in epochs[:5]:  # five 429s from requests that were all in flight together
        limit.throttled(epoch)
    assert limit.limit == 8 and limit.decreases == 1
    for _ in range(16):
        limit.release()
    for _ in range(8):
        limit.succeeded()
    assert limit.limit == 9  # one more slot per window of `limit` successes
    for _ in range(9):
        limit.succeeded()
    assert limit.limit == 10
    fresh = await limit.acquire()
    limit.throttled(fresh)
    assert limit.limit == 5
    limit.release()


async def test_waiters_are_served_when_the_limit_grows() -> None:
    limit = AdaptiveLimit(4)
    limit.throttled(await limit.acquire())  # -> 2
    limit.release()
    held = [await limit.acquire() for _ in range(2)]
    waiter = asyncio.ensure_future(limit.acquire())
    await asyncio.sleep(0)
    assert not waiter.done()
    limit.succeeded()
    limit.succeeded()  # window of 2 successes: limit 3, the waiter gets its slot
    await asyncio.wait_for(waiter, 5)
    assert limit.in_flight == 3 and len(held) == 2


async def test_cancelled_waiter_gives_its_place_back() -> None:
    limit = AdaptiveLimit(1)
    await limit.acquire()
    waiter = asyncio.ensure_future(limit.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    limit.release()
    assert limit.in_flight == 0
    await asyncio.wait_for(limit.acquire(), 5)


async def test_rate_bucket_queues_instead_of_rejecting() -> None:
    bucket = RateBucket(rpm=600)  # 10 per second, bucket of 600: no wait for a few
    for _ in range(5):
        await asyncio.wait_for(bucket.acquire(), 5)
    tokens = RateBucket(tpm=60)  # 1 token per second
    await tokens.acquire(60)
    loop = asyncio.get_running_loop()
    start = loop.time()
    await asyncio.wait_for(tokens.acquire(1), 30)
    assert loop.time() - start >= 0.9


def test_backoff_has_jitter_and_caps() -> None:
    policy = RetryPolicy(max_attempts=5, backoff_base=0.5, backoff_cap=4.0, retry_after_cap=10)
    server = CallError(FailureKind.SERVER, "x", "E")
    rng = random.Random(1)
    delays = [policy.delay(server, 3, rng) for _ in range(200)]
    assert min(delays) >= 0 and max(delays) <= 2.0 and len(set(delays)) > 100
    assert max(policy.delay(server, 20, rng) for _ in range(50)) <= 4.0
    told = CallError(FailureKind.RATE_LIMIT, "x", "E", 429, retry_after=3.0)
    assert policy.delay(told, 1) == 3.0
    greedy = CallError(FailureKind.RATE_LIMIT, "x", "E", 429, retry_after=120.0)
    assert policy.delay(greedy, 1) == 10
    assert policy.should_retry(server, 4) and not policy.should_retry(server, 5)
    for kind in (FailureKind.CLIENT, FailureKind.AUTH):
        assert not policy.should_retry(CallError(kind, "x", "E"), 1)


def test_retry_after_header_forms() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
