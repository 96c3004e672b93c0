"""Our retry policy: which failures are retried and how long to wait before the next attempt.

Retried: 429, 5xx, timeouts, dropped connections, cut streams and malformed responses. Never
retried: 400, 401, 403, 404, 422 (the request or the key is wrong; retrying burns quota).
The wait is exponential backoff with full jitter, or the server's Retry-After when it gives
one, capped: litellm would honour a Retry-After of 120 s without a cap.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from studio.generate.errors import CallError, FailureKind


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    retry_after_cap: float = 60.0

    def should_retry(self, error: CallError, attempt: int) -> bool:
        return error.retryable and attempt < self.max_attempts

    def delay(self, error: CallError, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if error.retry_after is not None and error.retry_after >= 0:
            return float(min(error.retry_after, self.retry_after_cap))
        draw: float = (rng or random).random()
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        if error.kind is FailureKind.RATE_LIMIT:
            # Without a Retry-After, don't come back sooner than half the backoff.
            return float(ceiling * (0.5 + draw / 2))
        return float(ceiling * draw)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    from datetime import UTC, datetime

    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
