"""What a gateway's answers prove about its token bucket, and the rate to try next.

The gateway refills a bucket at ``r`` tokens a second, up to a burst of ``b``; a request
that finds a token takes it, one that finds none is refused (429) and takes nothing. Its
``r`` and ``b`` are not published. ``RateSearch`` reads them off the answers:

* **The opening** (nothing spaced, until the first refusal) spends the burst: what was
  accepted before the first refusal is ``burst``, and that refusal leaves the bucket empty.
* **From an empty bucket, counting is exact.** Between a refusal at ``t0`` (under one token
  left) and a later moment ``t``, the requests accepted number at most ``r (t - t0) + 1``:
  ``lo``, a proven lower bound on ``r``, grows with every acceptance. A later refusal says
  at most ``(accepted + 1) / (t - t0)`` were refilled: ``hi``, the upper bound. With a burst
  of 1 the bucket is empty after every acceptance, so each gap between two requests is a
  proof on its own: accepted after ``g`` seconds, ``r >= 1 / g``; refused, ``r < 1 / g``.
* **The search** tries a rate between the bounds, bisecting in proportion (``lo x
  (hi / lo) ** 0.5``) while refusals are affordable and stepping more carefully as they run
  out: every failed try costs one refusal, and a run has a budget of them (``budget``: 5%
  of the requests planned, at least 2). Once the bounds meet (within ``tolerance`` and the
  arrival jitter), or no refusal is left to spend, it cruises at ``lo``. A burst that was
  not spent meanwhile is not lost: sending under ``r`` fills the bucket again, and the next
  try above ``r`` spends it before it is refused, over a span long enough to count ``r``
  exactly.
* ``Retry-After`` in whole seconds says how long the next token takes: ``r >= 1 /
  (Retry-After + gap)`` at a burst of 1. It is a starting point (``hint``), not a proof.
* **The limit changes.** Acceptances beyond ``hi`` reopen the search upwards; refusals
  below ``lo`` (the bucket refilling slower than proven; at a burst of 1, by more than
  the timing's error explains) drop ``lo`` to a quarter of the new ``hi`` and search
  again. After a long run of acceptances the search looks higher (``look_every``), so a
  limit that goes up is found (one refusal a look, within the budget, when it has not).

Times are when each request reached the gateway, as the caller estimates them (the middle
of its round trip); ``jitter`` widens every bound by the error of that estimate.
"""

from __future__ import annotations

import math

__all__ = ["RateSearch"]

#: How far one answer moves ``margin`` while it aims at a share of refusals.
_AIMED_STEP = 0.008


class RateSearch:
    """Bounds on a token bucket's rate from accepted and refused requests; the next rate.

    ``accepted(t)`` and ``refused(t, retry_after)`` take each answer (``t``: when the
    request reached the gateway); ``rate(spare)`` is the rate to send at now, given how many
    refusals the run can still afford (``None``: not spaced yet, the opening).
    """

    #: Bounds within this share of each other (beyond the jitter) are met: cruise.
    tolerance = 0.04
    #: After this many acceptances in a row the search looks higher: ``hi`` doubles (a
    #: limit may have gone up; if not, the look costs one refusal). The pacer sets it from
    #: the refusals it can spare over the requests left.
    look_every = math.inf
    #: While cruising, each acceptance raises ``hi`` by this share, so that the search
    #: goes on refining ``lo`` now and then (the pacer sets it from the refusals to spare).
    creep = 0.0
    #: Refusals while cruising widen ``margin`` up to this.
    widest_margin = 0.05
    #: A try between the bounds is at least this share above the proven rate (but not past
    #: their middle).
    least_step = 0.03
    #: With two refusals left or fewer and a burst, each acceptance raises the rate by this.
    climb = 0.1
    #: While cruising at a burst of 1, the share of requests refused that ``margin`` aims at
    #: (the pacer sets it from the refusals it can spare; 0: refusals only widen it). Each
    #: refusal widens it by ``0.008 x (1 - aim)``, each acceptance narrows it by ``0.008 x
    #: aim``: it settles where the arrivals' jitter draws that share of refusals, whatever
    #: the jitter estimate says.
    aim = 0.0
    #: Narrowed by ``aim``, ``margin`` may go this far below 0 (above the proven rate: the
    #: proofs allow for the jitter too, so they stay a little under the true rate).
    narrowest_margin = -0.04

    def __init__(self, jitter: float = 0.001, margin: float = 0.007) -> None:
        self.jitter = jitter
        self.margin = margin
        self.lo = 0.0
        self.hi = math.inf
        self.hint: float | None = None
        self.burst: int | None = None  # accepted before the first refusal
        self._opening = 0  # accepted so far, before the first refusal
        self._started: float | None = None
        self._accepted_at = -math.inf  # the latest acceptance...
        self._accepted_late = 0.0  # ...and how much less sure its time is than usual
        self._empty_at: float | None = None  # the bucket was empty then (a refusal)...
        self._after: list[float] = []  # ...and these were accepted after it (when)
        self._empty_late = 0.0
        self._streak = 0  # acceptances since the last refusal or look higher
        self._looked_from = math.inf  # ``hi`` before the look higher under way

    @property
    def single(self) -> bool:
        """Whether the burst is 1: the bucket is empty after every acceptance."""
        return self.burst == 1

    def accepted(self, t: float, late: float = 0.0) -> None:
        """A request that reached the gateway at ``t`` was accepted (``late``: how much
        less sure than usual ``t`` is, either way: half a round trip slower than usual)."""
        if self._started is None:
            self._started = t
        if self.burst is None:
            self._opening += 1
        elif self.single:
            if t > self._accepted_at:
                self._proves(1.0 / (t - self._accepted_at + self._error(late)))
        elif self._empty_at is not None and t > self._empty_at:
            self._after.append(t)
            self._proves((len(self._after) - 1) / (t - self._empty_at + self._error(late)))
        self._streak += 1
        if self.single and self.aim and self.cruising():
            self.margin = max(self.narrowest_margin, self.margin - _AIMED_STEP * self.aim)
        if self._streak >= self.look_every:  # long unrefused: the bounds may be stale
            self._looked_from, self.hi, self._streak = self.hi, 2.0 * self.hi, 0
        elif self.cruising():
            self.hi *= 1.0 + self.creep
        if self.lo > self._looked_from:
            self._looked_from = math.inf  # it had gone up: search on from here
        if t > self._accepted_at:
            self._accepted_at, self._accepted_late = t, late

    def refused(self, t: float, retry_after: float | None, late: float = 0.0) -> None:
        """A request that reached the gateway at ``t`` was refused (``Retry-After`` given;
        ``late`` as for ``accepted``)."""
        if self._started is None:
            self._started = t
        self._streak = 0
        if self.cruising():  # refused at the rate found: the jitter is wider than thought
            widen = _AIMED_STEP * (1.0 - self.aim) if self.single and self.aim else 0.002
            self.margin = min(self.widest_margin, self.margin + widen)
        if self._looked_from < self.hi:  # looked higher and found the limit where it was
            self.hi, self._looked_from = self._looked_from, math.inf
        if self.burst is None:  # the opening ends: the burst is spent, the bucket empty
            self.burst = max(1, self._opening)
            span = t - (self._started if self._started is not None else t)
            if span > 0:  # the burst and the refill came at least this fast
                self.hi = max(1.0, self._opening) / span
            if retry_after is not None and retry_after >= 1:
                self.hint = 1.0 / (retry_after + max(0.0, t - self._accepted_at))
            self._empty_at, self._after, self._empty_late = t, [], late
            return
        if self.single:
            span = t - self._accepted_at - self._error(late, self._accepted_late)
            if span > 0:
                self._bounds(1.0 / span)
            return
        assert self._empty_at is not None
        bound = self._refilled(t, late)
        if bound is not None:
            self._bounds(bound)
        if self._after:  # a new run of refusals starts here; within one, the first counts
            self._empty_at, self._after, self._empty_late = t, [], late

    def base(self) -> float:
        """The rate proven or hinted: the slowest one worth sending at."""
        base = max(self.lo, self.hint or 0.0) or 1.0  # nothing known: APIs start at 1/s
        return max(self.lo, self.hi / 2.0) if base >= self.hi else base

    def cruising(self) -> bool:
        """Whether the bounds have met: more trying would only find the jitter."""
        if self.burst is None or self.lo <= 0.0:
            return False
        gap = 1.0 / self.lo - 1.0 / self.hi
        return gap <= self.tolerance / self.lo + 2.0 * self.jitter

    def rate(self, spare: int, *, ending: bool = False) -> float | None:
        """The rate to send at, with ``spare`` refusals left to spend on trying higher;
        ``ending``: the last requests, whose refusals would make the run longer."""
        if self.burst is None:
            return None
        base = self.base()
        if spare <= 0 or ending or self.cruising():
            return self.cruise(base, safe=ending)
        if spare <= 2 and not self.single:
            # few refusals left, and a burst to fill: climb slowly from what is proven, so
            # that the bucket fills while under the rate and empties over it, and the
            # refusal, when it comes, ends a span long enough to count the rate exactly (a
            # try between the bounds would only be proven as slowly as it is counted)
            return base * (1.0 + self.climb) ** len(self._after)
        hi = self.hi if math.isfinite(self.hi) else 16.0 * base
        # lower as refusals run out: with the last ones a refused try leaves a slow climb,
        # in steps of at least ``least_step`` (refused, the try was at most that too high)
        share = 0.5 if spare >= 3 else (0.2 if spare == 2 else 0.1)
        ratio = hi / base
        return base * min(max(float(ratio**share), 1.0 + self.least_step), math.sqrt(ratio))

    def cruise(self, base: float, *, safe: bool = False) -> float:
        """Just under ``base``: at a burst of 1 the arrivals' jitter must fit in the gap
        (``safe``: all of it, not only its usual share)."""
        if self.single:
            base /= 1.0 + (2.0 if safe else 1.0) * self.jitter * base
        return base * (1.0 - self.margin)

    def _refilled(self, t: float, late: float) -> float | None:
        """At most how fast the bucket refilled, from its emptying to a refusal at ``t``:
        what was accepted meanwhile, plus the one token short. That holds only if the
        bucket never filled up meanwhile (sending slower than the rate, then faster: the
        refill while full is lost); when it may have, the count starts where it may have
        been full, since from there on sending outran the refill."""
        assert self._empty_at is not None and self.burst is not None
        start, times = self._empty_at, self._after
        for _ in range(2):
            span = t - start - self._error(late)
            if span <= 0:
                return None
            bound = (len(times) + 1) / span
            # tokens the bucket would hold just before each acceptance, at that rate
            held = [bound * (at - start) - k for k, at in enumerate(times)]
            peak = max(range(len(held)), key=held.__getitem__, default=None)
            if peak is None or held[peak] <= self.burst - 1:
                return bound
            start, times = times[peak], times[peak + 1 :]
        return bound

    def _error(self, late: float, before: float | None = None) -> float:
        """How far off a span between two arrival times may be: the usual jitter, plus
        what either end was less sure than usual (``before``: the reference's, by default
        the latest acceptance's or the emptying's)."""
        if before is None:
            before = self._accepted_late if self.single else self._empty_late
        return self.jitter + late + before

    # -- the bounds, kept consistent ------------------------------------------------------

    def _proves(self, rate: float) -> None:
        self.lo = max(self.lo, rate)
        if self.lo > self.hi:  # accepted faster than refusals allowed: the limit went up
            self.hi = 2.0 * self.lo

    def _bounds(self, rate: float) -> None:
        self.hi = min(self.hi, rate)
        if self.hint is not None and self.hint > self.hi:
            self.hint = None  # Retry-After was not the bucket's
        # at a burst of 1 a refusal a little below the proven rate is the timing off by more
        # than the jitter (with a burst, the bucket's slack absorbs that); well below, or
        # with a burst at all, the limit went down
        slack = 3.0 * self.tolerance if self.single else 0.0
        if self.hi < self.lo * (1.0 - slack):
            self.lo = self.hi / 4.0
        elif self.hi < self.lo:
            self.hi = self.lo
