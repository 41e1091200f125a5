"""A token bucket, as an API gateway throttles: a steady rate plus a burst."""

from __future__ import annotations

import math
from collections.abc import Callable


class TokenBucket:
    """``burst`` tokens at most, refilled at ``rate`` tokens a second by ``clock``.

    Not thread-safe on its own: the sandbox calls it under its lock.
    Raises ``ValueError`` for a rate that is not positive or a burst below 1.
    """

    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        if not rate > 0 or not math.isfinite(rate):
            raise ValueError(f"rate must be a positive number of requests a second, got {rate}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst}")
        self.rate = float(rate)
        self.burst = int(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()

    def take(self) -> float:
        """Take a token: ``0.0`` when there was one, else the seconds until there will be."""
        now = self._clock()
        elapsed = max(0.0, now - self._stamp)
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate


def retry_after_header(wait: float) -> str:
    """``Retry-After`` as RFC 9110 delay-seconds: a whole number, at least 1."""
    return str(max(1, math.ceil(wait)))
