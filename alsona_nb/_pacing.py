"""The pacer of bulk work: when each request may leave, and how many may be in flight.

The API's gateway throttles with a token bucket and answers 429; its rate and burst are not
published. ``Pacer`` finds them from the answers (``_ratesearch.RateSearch``) and spaces
requests at the rate found:

* **The opening.** Until the first refusal nothing is spaced, and requests in flight grow
  from 1 by one for every 20 accepted (up to ``max_workers``): an API without a limit soon
  goes at full speed, and the refusals that end the opening (every request in flight when
  the bucket runs dry) stay few. The opening spends the burst.
* **The search.** Then requests leave one by one at the rate the search gives: a rate
  between what the answers prove and what they rule out, tried higher while the run can
  afford refusals (``refusals``: their share of the requests ``plan``-ned, at least 2),
  then held just under the limit. A refused request is sent again after its short
  ``Retry-After`` (``resend_delay``) while the others go on.
* **Turns.** A request takes its turn when it comes (none is reserved ahead, so a new
  rate applies at once), spaced from when the last accepted request really left (its try
  may begin late on a busy machine); a refused one took no token and takes no turn.
  One thread at a time waits for the next turn (threads all woken at once would hold up
  the one whose turn it is), and it looks again when the latest answer is due (it may
  change the rate). Turns come early by the usual ``_lead`` of a try over its turn, so
  that the tries themselves are spaced.
  Each answer's arrival is the middle of its try, off by about half the usual spread of
  the tries (the search's ``jitter``), more for the slowest tenth.
* **Pauses.** A ``Retry-After`` of ``long_pause`` seconds or more (a quota, a restart)
  holds every new request until it has passed and halves the requests allowed in flight.
* **Concurrency.** Answers far slower than the fastest seen halve the requests allowed in
  flight; while requests wait for a slot, fine answers add one per round.
* ``max_rate`` (requests per second) says the limit when it is known: requests are spaced
  at ``1 - margin`` of it from the start (arrival jitter at exactly the limit draws
  refusals), a refusal does not cut the rate (the refused request just waits its
  ``Retry-After``; two within 20 spacings widen the margin by half, up to
  ``WIDEST_MARGIN``), and ``max_burst`` lets that many leave at once first.
* A ``503`` with ``Retry-After: 0`` asks for nothing but a new try, and a ``503`` without
  ``Retry-After`` while refusals are under a third of the answers of the last ``window``
  seconds is a failure now and then: neither is taken as a sign of the rate.
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

from ._ratesearch import RateSearch
from ._retry import LONGEST_WAIT

__all__ = ["LONGEST_WAIT", "Pacer", "Ticket"]

#: Statuses that mean "too fast": the gateway refused before doing anything.
THROTTLED = (429, 503)
#: The widest ``margin`` under a known ``max_rate`` that refusals close together lead to.
WIDEST_MARGIN = 0.08
#: During the opening, one more request in flight for every this many accepted.
OPENING_STEP = 20
#: At a burst of 1, cruising aims at no more than this share of refusals.
AIMED_REFUSALS = 0.02


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
    answer, and ``release(ticket)`` when done. ``plan(count)`` says how many requests are
    coming (the refusals the search may spend are a share of them). Thread-safe.

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
        refusals: float = 0.05,
        window: float = 0.5,
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
        self.refusals = refusals
        self.window = window
        self.long_pause = long_pause
        self._clock, self._sleep, self._rng = clock, sleep, rng
        lock = threading.RLock()
        self._cond = threading.Condition(lock)  # slots, and everything the pacer knows...
        self._line = threading.Condition(lock)  # ...and threads waiting for a turn
        self._turn_taken = False  # a thread waits for the next turn
        self.search = RateSearch()
        self.rate: float | None = (
            self.max_rate * (1.0 - margin) if self.max_rate is not None else None
        )
        # the known burst, left to spend (the first request leaves at once anyway)
        self._allowance = float(self.max_burst or 1) if max_rate is not None else 0.0
        self.limit = float(max_workers)
        self.in_flight = 0
        self.planned = 0
        # the latest requests let through, but those refused: a refused request took no
        # token, so the next one is spaced from the one before it
        self._spaced: deque[_Spaced] = deque(maxlen=64)
        self._leads: deque[float] = deque(maxlen=64)  # how long after its turn a try began
        self._lead = 0.0  # ...at the least of nine in ten (``_learned_lead``)
        self._refused_sent = -math.inf  # ...but not sooner than this
        self.paused_until = -math.inf
        self.pause_reason: str | None = None
        self._last_cut = -math.inf  # requests reserved before this do not cut again
        self._accepted_times: deque[float] = deque(maxlen=4096)  # when accepted answers came
        self._refused_times: deque[float] = deque(maxlen=4096)  # when refusals came
        self._latencies: deque[float] = deque(maxlen=64)
        self._usual_latency: float | None = None  # their median
        self._fastest = math.inf
        self._starved = False  # a request waited for a slot since the limit last grew
        self.waits: list[float] = []
        self.throttled = 0
        self.searched = 0  # refusals the search learned from (its budget is spent on them)
        self.accepted = 0
        self._told = 1.0  # the latest short Retry-After
        self.answers = 0
        self.too_long = 0

    # -- the two calls around each request -------------------------------------------------

    def plan(self, count: int) -> None:
        """Say that ``count`` more requests are coming."""
        with self._cond:
            self.planned += max(0, count)

    def acquire(self) -> Ticket:
        """Wait for a free slot and for this request's turn; return its ticket."""
        with self._cond:
            while self.in_flight >= self._slots():
                self._starved = True
                self._cond.wait()
            self.in_flight += 1
            came = self._clock()
            # one thread at a time waits for the next turn, the others for it to be taken:
            # threads all woken at each turn would hold up the one whose turn it is
            while self._turn_taken:
                self._line.wait()
            self._turn_taken = True
        try:
            while True:  # a turn is taken when it comes, so that a new rate applies at once
                with self._cond:
                    now = self._clock()
                    wait = self._turn(now) - now
                    if wait <= 0:
                        return self._reserve(now, came)
                    # the answer to the latest request may change the rate: look again then
                    wait = min(wait, self._answer_due(now) - now)
                    self.waits.append(wait)
                self._sleep(wait)
        finally:
            with self._cond:
                self._turn_taken = False
                self._line.notify()

    def try_acquire(self) -> Ticket | None:
        """Like ``acquire`` but never blocks nor sleeps: ``None`` when no slot is free or
        it is not yet the next request's turn (``next_turn()``), else a ticket for a request
        that may leave now (``release`` it after)."""
        with self._cond:
            now = self._clock()
            if self.in_flight >= self._slots():
                self._starved = True
                return None
            if self._turn(now) > now:
                return None
            self.in_flight += 1
            return self._reserve(now, now)

    def next_turn(self) -> float:
        """When the next request may leave, on the pacer's clock."""
        with self._cond:
            return self._turn(self._clock())

    def observe(
        self,
        ticket: Ticket | None,
        status: int | None,
        *,
        retry_after: float | None = None,
        latency: float | None = None,
    ) -> None:
        """Learn from one answer (``status=None``: none came) to a request let through with
        ``ticket`` (``None``: a request the pacer did not let through, such as a retry);
        ``latency``: how long its round trip took."""
        with self._cond:
            self._learn(ticket or _NO_TICKET, status, retry_after, latency, self._clock())
            self._cond.notify_all()  # the opening may allow more in flight now

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

    def _slots(self) -> int:
        slots = max(1, int(self.limit))
        if self.max_rate is None and self.search.burst is None:  # the opening
            slots = min(slots, 1 + self.accepted // OPENING_STEP)
        return slots

    def _turn(self, now: float) -> float:
        return max(now, self._due())

    def _due(self) -> float:
        at = self.paused_until
        if self.rate is not None and not self._allowance >= 1.0 and self._spaced:
            at = max(at, self._spaced_from() + 1.0 / self.rate - self._lead, self._refused_sent)
        return at

    def _latest(self) -> _Spaced:
        return max(self._spaced, key=lambda spaced: spaced.began)

    def _spaced_from(self) -> float:
        """When the latest request let through began, later by what a slow answer says
        it may have reached the gateway late."""
        latest = self._latest()
        return latest.began + 2.0 * latest.late

    def _answer_due(self, now: float) -> float:
        """When the answer to the latest request let through usually comes, if it has not
        come yet and will come after ``now``; else never."""
        if not self._spaced or self._usual_latency is None:
            return math.inf
        latest = self._latest()
        at = latest.began + 1.5 * self._usual_latency
        return at if not latest.answered and at > now else math.inf

    def _learned_lead(self, lead: float) -> None:
        """A try began ``lead`` after its turn (a thread waking late, the attempt's record):
        turns come early by the least of nine in ten, so that the tries themselves are
        spaced. Worked out once an answer, not at every turn."""
        self._leads.append(lead)
        if len(self._leads) >= 8:
            self._lead = sorted(self._leads)[len(self._leads) // 10]

    def _reserve(self, now: float, came: float) -> Ticket:
        if self._allowance >= 1.0 and now >= self.paused_until:
            self._allowance -= 1.0  # the known burst: leave at once
        due = max(came, min(now, self._due()))  # when its turn was (it may wake late)
        self._spaced.append(_Spaced(now, max(now, due + self._lead), due))
        return Ticket(now, now - came, came)

    def _learn(
        self,
        ticket: Ticket,
        status: int | None,
        retry_after: float | None,
        latency: float | None,
        now: float,
    ) -> None:
        self.answers += 1
        reached, late, began = self._reached(ticket, latency, now)
        if status in THROTTLED:
            self._refusal(ticket, status, retry_after, reached, late, now)
            return
        if status is None or status >= 500:
            return  # no answer, or a failure: says nothing about the rate
        self._accepted_times.append(now)
        self.accepted += 1
        spaced = self._spaced_entry(ticket)
        if spaced is not None:  # spaced from when it really began
            spaced.began, spaced.answered, spaced.late = began, True, late
            self._learned_lead(began - spaced.due)
        if self.max_rate is None:
            self.search.accepted(reached, late)
            self._follow_search()
        if latency is not None and latency > 0:
            self._fastest = min(self._fastest, latency)
            if latency > 8 * self._fastest + 1.0 and ticket.reserved_at > self._last_cut:
                self.limit = max(1.0, self.limit / 2)  # answers queue up: fewer at once
                self._last_cut = now
                return
        if self._starved and self.limit < self.max_workers:  # more at once, if they wait
            self.limit = min(float(self.max_workers), self.limit + 1.0 / self.limit)
            self._starved = False

    def _refusal(
        self,
        ticket: Ticket,
        status: int | None,
        retry_after: float | None,
        reached: float,
        late: float,
        now: float,
    ) -> None:
        assert status is not None
        self.throttled += 1
        spaced = self._spaced_entry(ticket)
        if spaced is not None:
            self._spaced.remove(spaced)
            # after a refusal the bucket is empty: the next request waits a spacing, but at a
            # burst of 1 (the first refusal since an acceptance: the last accepted may have
            # reached the gateway late) only until the proven rate has refilled it since then
            self._refused_sent = max(self._refused_sent, self._after_refusal(ticket.sent_at))
        if retry_after is not None and retry_after > LONGEST_WAIT:
            self.too_long += 1
            retry_after = LONGEST_WAIT
        self._refused_times.append(now)
        self.pause_reason = f"{status} {_REASONS[status]}"
        if status == 503 and (retry_after == 0 or (retry_after is None and self._sparse(now))):
            return  # "try again now", or a failure now and then among fine answers
        if self.max_rate is not None:
            if self._jittery(ticket, now):  # refusals close together: the jitter is wider
                self.margin = min(WIDEST_MARGIN, self.margin * 1.5)
                self.rate = self.max_rate * (1.0 - self.margin)
                self._last_cut = now
        elif retry_after is None or retry_after < self.long_pause:
            if retry_after is not None:
                self._told = retry_after
            self.searched += 1
            self.search.refused(reached, retry_after, late)
            self._follow_search()
        if retry_after is not None and retry_after > 0:
            self.pause_reason += f", Retry-After {retry_after:g} s"
            if retry_after >= self.long_pause:
                until = now + min(retry_after * (1.0 + 0.1 * self._rng()), LONGEST_WAIT)
                self.paused_until = max(self.paused_until, until)
                # fewer at once, too: every request held meanwhile leaves when it ends
                self.limit = max(1.0, self.limit / 2)

    def _follow_search(self) -> None:
        budget = max(2, math.floor(self.refusals * max(self.planned, self.answers)))
        left = self.planned - self.accepted
        # a refusal among the last requests holds the run for its Retry-After
        ending = left <= self.search.lo * self._told + self.limit
        # a quarter of the budget is kept back for the arrivals' jitter, which no search avoids
        reserve = budget // 4 if budget >= 20 else 0
        spare = budget - reserve - self.searched
        # the refusals to spare, spread over the requests left: an eighth to look for a
        # limit gone up, a quarter to refine the rate found
        self.search.look_every = max(50.0, 8.0 * left / spare) if spare > 1 else math.inf
        self.search.creep = 0.03 * max(0, spare) / (4.0 * max(left, 1))
        # at a burst of 1 the jitter draws refusals whatever the margin: aim at half of what
        # the budget still allows, spread over the requests left
        unspent = max(0, budget - self.throttled)
        self.search.aim = min(AIMED_REFUSALS, unspent / (2.0 * max(left, 1)))
        self.rate = self.search.rate(spare, ending=ending)

    def _after_refusal(self, sent: float) -> float:
        search = self.search
        refused, accepted = self._refused_times, self._accepted_times
        first = not refused or (bool(accepted) and refused[-1] < accepted[-1])
        if self.max_rate is None and search.single and search.lo > 0 and self._spaced and first:
            after = self._spaced_from() + 1.0 / search.lo + 2.0 * search.jitter - self._lead
            return max(sent, after)
        return sent + (1.0 / self.rate if self.rate else 0.0)

    def _spaced_entry(self, ticket: Ticket) -> _Spaced | None:
        return next((s for s in self._spaced if s.sent_at == ticket.sent_at), None)

    def _reached(
        self, ticket: Ticket, latency: float | None, now: float
    ) -> tuple[float, float, float]:
        """When the request reached the gateway: the middle of its try (which may have
        begun after its turn: a busy thread is late); and how much less sure that is than
        usual (half of what the try took beyond nine in ten lately: a slow answer may have
        been slow on either way); and when it really left."""
        left = ticket.sent_at if math.isfinite(ticket.sent_at) else now
        if latency is None or latency <= 0:
            return left, 0.0, left
        self._latencies.append(latency)
        ordered = sorted(self._latencies)
        self._usual_latency = ordered[len(ordered) // 2]
        late = 0.0
        if len(ordered) >= 8:
            usual, fast = ordered[len(ordered) * 9 // 10], ordered[len(ordered) // 10]
            self.search.jitter = max(0.0002, (usual - fast) / 2.0)  # the middle's error
            late = max(0.0, latency - usual) / 2.0  # the slowest tenth: less sure still
        began = max(left, now - latency)
        return began + latency / 2.0, late, began

    def _jittery(self, ticket: Ticket, now: float) -> bool:
        """Whether this refusal of a known limit came within 20 spacings of the one before,
        for a request spaced after the margin last widened (and it can widen still)."""
        assert self.max_rate is not None
        return (
            self.margin < WIDEST_MARGIN
            and ticket.reserved_at > self._last_cut
            and len(self._refused_times) >= 2
            and (now - self._refused_times[-2]) * self.max_rate < 20
        )

    def _sparse(self, now: float) -> bool:
        """Whether refusals were under a third of the answers of the last ``window`` seconds:
        a server failing now and then, not one asking for less."""
        since = now - self.window
        refused = sum(1 for t in self._refused_times if t > since)
        accepted = sum(1 for t in self._accepted_times if t > since)
        return 3 * refused < refused + accepted


@dataclass(eq=False)
class _Spaced:
    """A request let through, that the next ones are spaced from: its turn (``sent_at``,
    ``due``: when it was due, as it may wake late) and when its try began (until it is
    ``answered``: when it was due and the usual ``_lead``)."""

    sent_at: float
    began: float
    due: float
    answered: bool = False
    late: float = 0.0  # how much less sure than usual its arrival is (``_reached``)


_NO_TICKET = Ticket(-math.inf, 0.0, -math.inf)
_REASONS = {429: "Too Many Requests", 503: "Service Unavailable"}
