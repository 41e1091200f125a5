"""The adaptive pacer of bulk creation: how fast to send, and how many requests at once.

The API's gateway throttles with a token bucket and answers 429; its rate is not
published. ``Pacer`` learns it from the answers, as TCP and the AWS SDKs' adaptive retry
mode do: additive increase, multiplicative decrease.

* **Spacing.** Until the first refusal nothing is spaced: only ``max_workers`` bounds the
  work, so an API without a limit goes at full speed. The first 429 or 503 sets the rate to
  what the server accepted lately (over ``window`` seconds, or since the start when that is
  shorter, but never less than ``min_span``: an opening burst is not a rate); fine answers
  then raise it by ``slow_start`` a second until the next refusal, which sets it to
  ``beta`` x the lower of the rate and what was accepted (or, when a long pause leaves
  nothing to measure, to ``cut`` x the rate); at most once per round trip (a refusal of a
  request let through before the last cut says nothing new). From then on fine answers add
  ``increase`` x that rate a second: the rate sits just under the limit and probes it now
  and then. Requests leave one by one at the current rate, from a token bucket of the
  pacer's own; after a cut the next one leaves a spacing after the last one let through,
  not at once (at once, it would meet the gateway's bucket empty and cut the rate again).
* **Pauses.** A short ``Retry-After`` (under ``long_pause`` seconds, such as a gateway's
  token bucket rounding 50 ms up to "1") holds only the refused request, which its worker
  sends again after it (``resend_delay``), while the others go on at the cut rate: pausing
  everything for every refusal would leave the bucket's refill unused. A long one (a quota,
  a restart) holds every new request until it has passed, and halves the requests allowed
  in flight (all those held leave together when it ends).
* **Concurrency.** Answers far slower than the fastest seen halve the requests allowed in
  flight; while requests wait for a slot, fine answers add one per round, up to
  ``max_workers``.
* ``max_rate`` (requests per second) says the limit when it is known: requests are spaced
  at ``1 - margin`` of it from the start (arrival jitter at exactly the limit draws
  refusals), a refusal does not cut the rate (the limit is known; the refused request
  just waits its ``Retry-After``; two within 20 spacings widen the margin by half, up to
  ``WIDEST_MARGIN``: the jitter is wider than the margin), and ``max_burst`` lets that many
  leave at once first.
* A ``503`` with ``Retry-After: 0`` asks for nothing but a new try, and a ``503`` without
  ``Retry-After`` while refusals are under a third of the answers of the last ``window``
  seconds is a failure now and then: neither is taken as a sign of the rate (a server that
  fails one request in ten is not asking for less; a storm of them still cuts it).
* No wait is ever longer than ``LONGEST_WAIT`` (an hour), whatever the server asks;
  ``refused_too_long`` tells the caller a refusal asked for longer, so that its row can be
  reported as not sent.

Everything is deterministic: the clock, ``sleep`` and the jitter come in as arguments, so
tests run it on a fake clock and assert the waits it recorded.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ._retry import LONGEST_WAIT

__all__ = ["LONGEST_WAIT", "Pacer", "Ticket"]

#: Statuses that mean "too fast": the gateway refused before doing anything.
THROTTLED = (429, 503)
#: The widest ``margin`` under a known ``max_rate`` that refusals close together lead to.
WIDEST_MARGIN = 0.08


@dataclass(frozen=True)
class Ticket:
    """One request let through: when it was allowed to leave, and after how long a wait."""

    sent_at: float
    waited: float
    reserved_at: float


class Pacer:
    """Paces requests to a server whose rate limit is unknown (or known: ``max_rate``).

    Threads call ``acquire()`` before each request (it blocks for a free slot and for the
    request's turn), ``observe(ticket, status, retry_after=..., latency=...)`` for each
    answer, and ``release(ticket)`` when done. Thread-safe.

    ``rate`` is the current spacing in requests per second (``None``: not spaced yet),
    ``limit`` the requests allowed in flight, ``pause_reason`` why new requests wait, if
    they do. ``waits`` records every wait handed to ``sleep``; ``too_long`` counts refusals
    that asked for more than ``LONGEST_WAIT``. Raises ``ValueError`` for a ``max_workers``
    below 1, a ``max_rate`` that is not positive, or a ``max_burst`` below 1.
    """

    def __init__(
        self,
        max_workers: int = 8,
        max_rate: float | None = None,
        *,
        max_burst: int | None = None,
        margin: float = 0.03,
        beta: float = 0.9,
        increase: float = 0.05,
        window: float = 0.5,
        slow_start: float = 10.0,
        cut: float = 0.7,
        min_span: float = 0.25,
        long_pause: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
            raise ValueError(
                f"max_workers must be a whole number of at least 1, got {max_workers!r}"
            )
        if max_rate is not None and (
            isinstance(max_rate, bool) or not max_rate > 0 or not math.isfinite(max_rate)
        ):
            raise ValueError(
                f"max_rate must be a positive number of requests per second, got {max_rate!r}"
            )
        if max_burst is not None and (
            isinstance(max_burst, bool) or not isinstance(max_burst, int) or max_burst < 1
        ):
            raise ValueError(f"max_burst must be a whole number of at least 1, got {max_burst!r}")
        self.max_workers = max_workers
        self.max_rate = float(max_rate) if max_rate is not None else None
        self.max_burst = max_burst if max_rate is not None else None
        self.margin = margin
        self.beta = beta
        self.increase = increase
        self.window = window
        self.slow_start = slow_start
        self.cut = cut
        self.min_span = min_span
        self.long_pause = long_pause
        self._clock, self._sleep, self._rng = clock, sleep, rng
        self._cond = threading.Condition()
        self.rate: float | None = (
            self.max_rate * (1.0 - margin) if self.max_rate is not None else None
        )
        self._allowance = float((self.max_burst or 1) - 1)  # the known burst, left to spend
        self.limit = float(max_workers)
        self.in_flight = 0
        self._last_sent = -math.inf  # when the latest request let through leaves
        self._next = -math.inf  # when the next request may leave (the pacer's token bucket)
        self.paused_until = -math.inf
        self.pause_reason: str | None = None
        self._ssthresh = math.inf
        self._last_cut = -math.inf  # requests sent before this do not cut the rate again
        self._accepted: deque[float] = deque(maxlen=4096)  # when accepted requests left
        self._refused: deque[float] = deque(maxlen=4096)  # when refusals came
        self._fastest = math.inf
        self._starved = False  # a request waited for a slot since the limit last grew
        self._started: float | None = None
        self.waits: list[float] = []
        self.throttled = 0
        self.answers = 0
        self.too_long = 0

    # -- the two calls around each request -------------------------------------------------

    def acquire(self) -> Ticket:
        """Wait for a free slot and for this request's turn; return its ticket."""
        with self._cond:
            while self.in_flight >= max(1, int(self.limit)):
                self._starved = True
                self._cond.wait()
            self.in_flight += 1
            ticket = self._reserve(self._clock())
        if ticket.waited > 0:
            self._sleep(ticket.waited)
        return ticket

    def try_acquire(self) -> Ticket | None:
        """Like ``acquire`` but never blocks nor sleeps: ``None`` when no slot is free, else
        a ticket whose request may leave at ``ticket.sent_at`` (``release`` it after)."""
        with self._cond:
            if self.in_flight >= max(1, int(self.limit)):
                self._starved = True
                return None
            self.in_flight += 1
            return self._reserve(self._clock())

    def observe(
        self,
        ticket: Ticket | None,
        status: int | None,
        *,
        retry_after: float | None = None,
        latency: float | None = None,
    ) -> None:
        """Learn from one answer (``status=None``: none came) to a request let through with
        ``ticket`` (``None``: a request the pacer did not let through, such as a retry)."""
        with self._cond:
            self._learn(ticket or _NO_TICKET, status, retry_after, latency, self._clock())

    def resend_delay(self, retry_after: float | None) -> float:
        """How long a refused request waits before it is sent again: its short
        ``Retry-After`` (a long one already holds every request), else one spacing step."""
        if retry_after is not None and retry_after < self.long_pause:
            return max(0.0, retry_after)
        with self._cond:
            return min(1.0 / self.rate, LONGEST_WAIT) if self.rate else 0.0

    @staticmethod
    def refused_too_long(retry_after: float | None) -> bool:
        """Whether a refusal asked for a wait longer than ``LONGEST_WAIT`` (the pacer waits
        at most that): its row is better reported as not sent than waited for."""
        return retry_after is not None and retry_after > LONGEST_WAIT

    def now(self) -> float:
        """The pacer's clock."""
        return self._clock()

    def wait_until(self, moment: float) -> None:
        """Sleep (the pacer's sleep) until ``moment`` on the pacer's clock, at most
        ``LONGEST_WAIT``."""
        wait = min(moment - self._clock(), LONGEST_WAIT)
        if wait > 0:
            with self._cond:
                self.waits.append(wait)
            self._sleep(wait)

    def release(self, ticket: Ticket) -> None:
        """Free the slot ``acquire`` gave ``ticket``."""
        with self._cond:
            self.in_flight -= 1
            self._cond.notify_all()

    # -- what the progress bar shows -------------------------------------------------------

    def describe(self) -> str:
        """``"18.5/s"``, ``"unpaced"``, or the pause and its reason."""
        with self._cond:
            now = self._clock()
            if self.pause_reason is not None and self.paused_until > now:
                return f"paused {self.paused_until - now:.1f} s: {self.pause_reason}"
            pace = "unpaced" if self.rate is None else f"{self.rate:.1f}/s"
            return pace + (f" (last refusal: {self.pause_reason})" if self.pause_reason else "")

    # -- the rules (called under the lock) -------------------------------------------------

    def _reserve(self, now: float) -> Ticket:
        if self._started is None:
            self._started = now
        at = max(now, self.paused_until, self._next)
        if self.rate is not None and self._allowance >= 1.0 and at <= now:
            self._allowance -= 1.0  # the known burst: leave at once
        elif self.rate is not None:
            self._next = at + 1.0 / self.rate
        self._last_sent = max(self._last_sent, at)
        wait = at - now
        if wait > 0:
            self.waits.append(wait)
        return Ticket(at, wait, now)

    def _learn(
        self,
        ticket: Ticket,
        status: int | None,
        retry_after: float | None,
        latency: float | None,
        now: float,
    ) -> None:
        self.answers += 1
        if status in THROTTLED:
            self.throttled += 1
            if retry_after is not None and retry_after > LONGEST_WAIT:
                self.too_long += 1
                retry_after = LONGEST_WAIT
            self._refused.append(now)
            if status == 503 and (retry_after == 0 or (retry_after is None and self._sparse(now))):
                # "try again now", or a failure now and then among fine answers: not a rate
                self.pause_reason = f"{status} {_REASONS[status]}"
                return
            # a known limit is not cut for a refusal (arrival jitter, not a lower limit)...
            if self.max_rate is not None and self._jittery(ticket, now):
                # ...but refusals close together say the jitter is wider than the margin
                self.margin = min(WIDEST_MARGIN, self.margin * 1.5)
                self.rate = self.max_rate * (1.0 - self.margin)
                self._last_cut = now
            if (
                self.max_rate is None and ticket.reserved_at > self._last_cut
            ):  # once per round trip, as TCP does
                if self.rate is None:  # unpaced until now: what was accepted gives a scale
                    self.rate = self._measured(now)
                else:
                    if self.paused_until < now - self.window:  # no pause in the window
                        cut = self.beta * min(self.rate, self._measured(now))
                    else:  # a pause leaves nothing to measure: cut blind, as AWS does
                        cut = self.cut * self.rate
                    self._ssthresh = self.rate = max(0.1, cut)
                self._last_cut = now
                # respace at the new rate from the last request let through: one let through
                # at once after a cut would be refused by the bucket, and cut it again
                self._next = max(self._next, now, self._last_sent + 1.0 / self.rate)
            hold = retry_after if retry_after is not None and retry_after > 0 else None
            self.pause_reason = f"{status} {_REASONS[status]}" + (
                f", Retry-After {hold:g} s" if hold is not None else ""
            )
            if hold is not None and hold >= self.long_pause:
                until = now + min(hold * (1.0 + 0.1 * self._rng()), LONGEST_WAIT)
                self.paused_until = max(self.paused_until, until)
                # fewer at once, too: every request held meanwhile leaves when it ends
                self.limit = max(1.0, self.limit / 2)
            return
        if status is None or status >= 500:
            return  # no answer, or a failure: says nothing about the rate
        self._accepted.append(now)
        if latency is not None and latency > 0:
            self._fastest = min(self._fastest, latency)
            if latency > 8 * self._fastest + 1.0 and ticket.reserved_at > self._last_cut:
                self.limit = max(1.0, self.limit / 2)  # answers queue up: fewer at once
                self._last_cut = now
                return
        if self._starved and self.limit < self.max_workers:  # more at once, if they wait
            self.limit = min(float(self.max_workers), self.limit + 1.0 / self.limit)
            self._starved = False
        if self.rate is not None:
            if self.rate < self._ssthresh:  # not measured yet: +slow_start a second
                self.rate += self.slow_start / self.rate
            else:  # additive increase: ``increase`` x the measured rate, per second
                self.rate += self.increase * self._ssthresh / self.rate
            if self.max_rate is not None:
                self.rate = min(self.rate, self.max_rate * (1.0 - self.margin))

    def _jittery(self, ticket: Ticket, now: float) -> bool:
        """Whether this refusal of a known limit came within 20 spacings of the one before,
        for a request spaced after the margin last widened (and it can widen still)."""
        assert self.max_rate is not None
        return (
            self.margin < WIDEST_MARGIN
            and ticket.reserved_at > self._last_cut
            and len(self._refused) >= 2
            and (now - self._refused[-2]) * self.max_rate < 20
        )

    def _sparse(self, now: float) -> bool:
        """Whether refusals were under a third of the answers of the last ``window`` seconds:
        a server failing now and then, not one asking for less."""
        since = now - self.window
        refused = sum(1 for t in self._refused if t > since)
        accepted = sum(1 for t in self._accepted if t > since)
        return 3 * refused < refused + accepted

    def _measured(self, now: float) -> float:
        """Answers accepted per second over the last ``window`` seconds (or since the first
        request, when that is shorter: a burst early on is not spread over a whole window)."""
        started = self._started if self._started is not None else now
        span = max(self.min_span, min(self.window, now - started))
        recent = sum(1 for t in self._accepted if t > now - span)
        return max(recent, 1) / span


_NO_TICKET = Ticket(-math.inf, 0.0, -math.inf)
_REASONS = {429: "Too Many Requests", 503: "Service Unavailable"}
