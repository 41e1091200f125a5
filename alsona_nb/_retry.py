"""When to try again: a pure retry decision, ``Retry-After`` as RFC 9110 reads it, and the
client-wide pause. Clock, sleep and randomness are passed in, so tests record the waits
instead of sleeping."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

#: No single wait longer than this, whatever the server asks (it is never "wait for ever").
LONGEST_WAIT = 3600.0


@dataclass(frozen=True)
class RetryPolicy:
    """How many tries and how long to wait between them.

    ``max_retries`` tries after the first; ``max_wait`` seconds of waiting in all. Backoff is
    ``base * 2**(tries-1)`` capped at ``cap``, with jitter ("equal jitter": half fixed, half
    random); a server's ``Retry-After`` replaces the backoff (plus up to 10% jitter).
    """

    max_retries: int = 3
    max_wait: float = 60.0
    base: float = 0.25
    cap: float = 8.0

    def decide(
        self,
        tries: int,
        waited: float,
        retry_after: float | None = None,
        *,
        jitter: float = 0.5,
    ) -> Decision:
        """Whether to send try ``tries + 1``, and after how long a wait.

        ``tries`` tries were made, ``waited`` seconds were waited so far; ``jitter`` is a
        number in [0, 1) (the caller's randomness).
        """
        if tries > self.max_retries:
            return Decision.stop(f"still failing after {tries} tries")
        if retry_after is not None:
            if retry_after > LONGEST_WAIT:
                return Decision.stop(
                    f"the server asked to wait {retry_after:.0f} s; this client waits at most "
                    f"{LONGEST_WAIT:.0f} s"
                )
            wait = retry_after + jitter * (0.1 * retry_after + 0.05)
        else:
            step = min(self.cap, self.base * 2.0 ** (tries - 1))
            wait = step * (0.5 + 0.5 * jitter)
        if waited + wait > self.max_wait:
            return Decision.stop(
                f"gave up after {tries} tries: waiting {wait:.0f} s more would pass "
                f"max_retry_wait={self.max_wait:g} s"
            )
        return Decision(wait=wait)


@dataclass(frozen=True)
class Decision:
    """What ``RetryPolicy.decide`` says: wait ``wait`` seconds and try again, or stop
    (``wait`` is ``None``) for ``reason``."""

    wait: float | None
    reason: str = ""

    @classmethod
    def stop(cls, reason: str) -> Decision:
        return cls(wait=None, reason=reason)

    @property
    def retry(self) -> bool:
        return self.wait is not None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (RFC 9110: delay-seconds or an
    HTTP-date), or ``None`` when absent or not a valid value (then the backoff applies).

    A decimal number is accepted too; NaN, infinity and negative numbers are not valid.
    """
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


class Pause:
    """A pause shared by every thread of a client: a 429 or 503 holds all its requests."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._not_before = -math.inf

    def hold(self, seconds: float) -> None:
        """Hold every request for ``seconds`` from now (a later hold wins)."""
        with self._lock:
            self._not_before = max(self._not_before, self.clock() + seconds)

    def wait(self) -> None:
        """Return when the pause is over (at once when there is none)."""
        # A loop: another thread may push the pause further while this one sleeps.
        while (delay := self._not_before - self.clock()) > 0:
            self.sleep(delay)
