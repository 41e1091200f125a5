"""The adaptive pacer on a fake clock: the waits it records, the rates it learns."""

from __future__ import annotations

import heapq
import itertools
import math
import random
import threading
from dataclasses import dataclass

import pytest
from conftest import FakeTime

from alsona_nb._pacing import LONGEST_WAIT, WIDEST_MARGIN, Pacer, Ticket


def pacer(clock: FakeTime, **kw: object) -> Pacer:
    return Pacer(clock=clock, sleep=clock.sleep, rng=lambda: 0.0, **kw)  # type: ignore[arg-type]


def send(p: Pacer, clock: FakeTime, status: int = 200, **kw: object) -> Ticket:
    ticket = p.acquire()
    p.observe(ticket, status, **kw)  # type: ignore[arg-type]
    p.release(ticket)
    return ticket


def test_unpaced_until_the_first_refusal() -> None:
    clock = FakeTime()
    p = pacer(clock)
    for _ in range(50):
        send(p, clock)
    assert clock.sleeps == [] and p.rate is None and p.describe() == "unpaced"


def test_max_rate_spaces_every_request_just_under_the_limit() -> None:
    clock = FakeTime()
    p = pacer(clock, max_rate=4.0, margin=0.2)
    sent = [send(p, clock).sent_at for _ in range(9)]
    assert [round(b - a, 9) for a, b in itertools.pairwise(sent)] == [0.3125] * 8
    assert p.rate == pytest.approx(3.2)  # fine answers never raise it past the cap


def test_a_refusal_sets_the_rate_from_what_was_accepted() -> None:
    clock = FakeTime()
    p = pacer(clock, window=0.5, min_span=0.25)
    for _ in range(5):  # a burst of 5 accepted at once
        send(p, clock)
    send(p, clock, 429, retry_after=1.0)
    assert p.rate == pytest.approx(20.0)  # 5 accepted, spread over min_span (0.25 s)
    assert p.describe() == "20.0/s (last refusal: 429 Too Many Requests, Retry-After 1 s)"
    # a short Retry-After holds only the refused request; the others are spaced at the rate
    assert p.resend_delay(1.0) == 1.0 and p.paused_until < clock.now
    first, second = send(p, clock), send(p, clock)
    assert p.rate is not None
    assert second.sent_at - first.sent_at == pytest.approx(1 / p.rate, rel=0.05)
    assert p.limit == 8.0  # a short refusal keeps the concurrency


def test_after_a_cut_the_next_request_leaves_a_spacing_after_the_last_let_through() -> None:
    """A request sent at once after a cut meets the gateway's bucket still empty, is refused
    and cuts the rate a second time (100/s with a burst of 1 fell to 3.6/s that way)."""
    clock = FakeTime()
    p = pacer(clock, window=0.5, min_span=0.25)
    last = send(p, clock)  # accepted
    refused = p.acquire()  # in flight when the refusal comes
    clock.now += 0.001
    p.observe(refused, 429, retry_after=1.0)
    p.release(refused)
    assert p.rate is not None
    following = p.acquire()
    assert following.sent_at >= max(last.sent_at, refused.sent_at) + 1 / p.rate - 1e-9
    p.release(following)


def test_a_long_retry_after_pauses_everything_and_halves_concurrency() -> None:
    clock = FakeTime()
    p = pacer(clock, max_rate=10.0, long_pause=5.0)
    send(p, clock, 503, retry_after=30.0)
    assert p.describe().startswith("paused 30.0 s: 503 Service Unavailable")
    assert p.rate is not None
    assert p.resend_delay(30.0) == pytest.approx(1 / p.rate)  # the pause holds it already
    ticket = p.acquire()
    assert ticket.waited == pytest.approx(30.0) and p.limit == 4.0
    p.release(ticket)


def test_one_cut_per_round_trip() -> None:
    """Refusals of requests that left before the last cut say nothing new."""
    clock = FakeTime()
    p = pacer(clock)
    send(p, clock)
    early = [p.acquire() for _ in range(4)]
    clock.now += 0.01
    p.observe(early[0], 429)
    after_one = p.rate
    assert after_one is not None
    for ticket in early[1:]:
        p.observe(ticket, 429)
    assert p.rate == after_one and p.throttled == 4
    for ticket in early:
        p.release(ticket)


def test_refusals_close_together_widen_a_known_limits_margin() -> None:
    """Under a known limit a refusal is arrival jitter: it never cuts the rate, but two within
    20 spacings widen the margin by half (once per round trip), up to ``WIDEST_MARGIN``."""
    clock = FakeTime()
    p = pacer(clock, max_rate=100.0)
    send(p, clock, 429, retry_after=1.0)
    assert p.rate == pytest.approx(97.0)  # one refusal: nothing changes
    early = [p.acquire() for _ in range(3)]
    p.observe(early[0], 429, retry_after=1.0)
    assert p.margin == pytest.approx(0.045) and p.rate == pytest.approx(95.5)
    for ticket in early[1:]:  # spaced before the margin widened: nothing new
        p.observe(ticket, 429, retry_after=1.0)
    assert p.margin == pytest.approx(0.045)
    for ticket in early:
        p.release(ticket)
    for _ in range(20):
        clock.now += 0.001
        send(p, clock, 429, retry_after=1.0)
    assert p.margin == WIDEST_MARGIN and p.rate == pytest.approx(92.0)
    clock.now += 1.0  # a refusal alone: a known limit is never cut for it
    send(p, clock, 429, retry_after=1.0)
    assert p.rate == pytest.approx(92.0)


def test_no_answer_teaches_nothing_and_503_is_a_refusal() -> None:
    clock = FakeTime()
    p = pacer(clock, max_rate=10.0)
    send(p, clock, None)  # type: ignore[arg-type]
    assert p.rate == pytest.approx(9.7) and p.limit == 8
    send(p, clock, 503, retry_after=3.0)
    assert p.describe().endswith("(last refusal: 503 Service Unavailable, Retry-After 3 s)")
    assert p.rate == pytest.approx(9.7) and p.throttled == 1  # a known limit is not cut


def test_concurrency_is_bounded_by_the_limit() -> None:
    clock = FakeTime()
    p = pacer(clock, max_workers=3)
    held = [p.acquire() for _ in range(3)]
    got: list[Ticket] = []
    waiter = threading.Thread(target=lambda: got.append(p.acquire()))
    waiter.start()
    waiter.join(0.05)
    assert waiter.is_alive() and p.in_flight == 3  # the fourth waits for a slot
    p.release(held[0])
    waiter.join(10)
    assert not waiter.is_alive() and len(got) == 1 and p.in_flight == 3


def test_slow_answers_halve_concurrency() -> None:
    clock = FakeTime()
    p = pacer(clock, max_workers=8)
    send(p, clock, latency=0.05)
    send(p, clock, latency=3.0)  # 60x slower: the server queues
    assert p.limit == 4


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"max_workers": 0}, "max_workers"),
        ({"max_rate": 0}, "max_rate"),
        ({"max_rate": float("inf")}, "max_rate"),
        ({"max_rate": 1, "max_burst": 0}, "max_burst"),
    ],
)
def test_bad_options(kw: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Pacer(**kw)  # type: ignore[arg-type]


# -- a known limit, against a simulated token bucket (no threads, no wall time) -------------


@dataclass(frozen=True)
class Gateway:
    """A token bucket (``rate``, ``burst``; ``None``: no limit) that may change to
    ``new_rate``/``new_burst`` after ``change_after`` creates, answer its 429s without
    ``Retry-After``, or answer a 503 (``every_retry_after``) to every ``every``-th request."""

    rate: float | None
    burst: int = 1
    change_after: int | None = None
    new_rate: float | None = None
    new_burst: int | None = None
    retry_after: bool = True
    every: int | None = None
    every_retry_after: float | None = None

    def ideal(self, count: int) -> float:
        """The burst at once, then the rest at the rate (summed over both phases)."""
        if self.rate is None:
            return 0.0
        if self.change_after is None or self.new_rate is None:
            return (count - self.burst) / self.rate
        first = (self.change_after - self.burst) / self.rate
        return first + (count - self.change_after - (self.new_burst or self.burst)) / self.new_rate


@dataclass(frozen=True)
class Run:
    elapsed: float
    ratio: float  # elapsed / ideal (inf without a limit)
    refused: int
    requests: int

    @property
    def share(self) -> float:
        return self.refused / self.requests


def run_gateway(
    gateway: Gateway,
    count: int,
    pacer_kw: dict[str, object],
) -> Run:
    """``count`` creates through the pacer's decisions against ``gateway`` on a fake clock,
    as create_campaigns drives it: eight workers, each request arriving (and answered)
    0.4-1.2 ms after it leaves, a refused row sent again after its ``resend_delay``. Fails
    if a row is created twice or not at all."""
    rng = random.Random(7)
    now = [0.0]
    p = Pacer(8, clock=lambda: now[0], sleep=lambda s: None, rng=rng.random, **pacer_kw)  # type: ignore[arg-type]
    rate, burst = gateway.rate, gateway.burst
    bucket = {"tokens": float(burst), "stamp": 0.0}
    events: list[tuple[float, int, str, int, Ticket | None]] = []
    answers: dict[int, tuple[int, float | None]] = {}  # an answer event's status, Retry-After
    order = itertools.count()
    queue, created, refused, done, last, arrived = list(range(count)), [0] * count, 0, 0, 0.0, 0
    idle = 8

    def start() -> None:
        nonlocal idle
        while idle and queue and (ticket := p.try_acquire()) is not None:
            idle -= 1
            row = queue.pop(0)
            arrival = ticket.sent_at + 0.0004 + 0.0008 * rng.random()
            heapq.heappush(events, (arrival, next(order), "arrive", row, ticket))

    def answer(row: int, ticket: Ticket, status: int, wait: float | None = None) -> None:
        key = next(order)
        answers[key] = (status, wait)
        heapq.heappush(events, (now[0], key, "answer", row, ticket))

    start()
    while done < count:
        now[0], key, kind, row, ticket = heapq.heappop(events)
        if kind == "later":
            queue.append(row)
            start()
            continue
        assert ticket is not None
        if kind == "answer":
            status, wait = answers.pop(key)
            p.observe(ticket, status, retry_after=wait)
            if status == 200:
                done, last = done + 1, now[0]
            else:
                later = now[0] + p.resend_delay(wait)
                heapq.heappush(events, (later, next(order), "later", row, None))
            p.release(ticket)
            idle += 1
            start()
            continue
        arrived += 1
        if gateway.every is not None and arrived % gateway.every == 0:
            refused += 1
            answer(row, ticket, 503, gateway.every_retry_after)
            continue
        if rate is not None:
            refill = (now[0] - bucket["stamp"]) * rate
            bucket.update(tokens=min(burst, bucket["tokens"] + refill), stamp=now[0])
            if bucket["tokens"] < 1.0:
                refused += 1
                wait = float(max(1, math.ceil((1.0 - bucket["tokens"]) / rate)))
                answer(row, ticket, 429, wait if gateway.retry_after else None)
                continue
            bucket["tokens"] -= 1.0
        created[row] += 1
        if sum(created) == gateway.change_after:
            rate, burst = gateway.new_rate, gateway.new_burst or burst
            bucket.update(tokens=float(burst), stamp=now[0])
        answer(row, ticket, 200)
    assert created == [1] * count
    ideal = gateway.ideal(count)
    return Run(last, last / ideal if ideal else math.inf, refused, arrived)


def simulate(rate: float, burst: int, count: int, pacer_kw: dict[str, object]) -> tuple[float, int]:
    """(elapsed / ideal, requests refused) of ``count`` creates against a token bucket."""
    run = run_gateway(Gateway(rate, burst), count, pacer_kw)
    return run.ratio, run.refused


@pytest.mark.parametrize(
    ("rate", "burst", "count"),
    [(1, 1, 30), (2, 10, 40), (5, 1, 80), (20, 5, 300), (50, 50, 500)],
)
def test_a_known_limit_and_burst_are_met_with_nothing_refused(
    rate: float, burst: int, count: int
) -> None:
    ratio, refused = simulate(rate, burst, count, {"max_rate": rate, "max_burst": burst})
    assert ratio <= 1.05 and refused == 0


def test_a_known_limit_without_its_burst_is_slower_but_refuses_nothing() -> None:
    ratio, refused = simulate(2, 10, 40, {"max_rate": 2})
    assert ratio > 1.2 and refused == 0  # the burst is never spent unless told


# -- waits are capped; a "try again now" is not a rate ---------------------------------------


def test_a_day_long_retry_after_holds_at_most_the_longest_wait() -> None:
    clock = FakeTime()
    p = pacer(clock, max_rate=10.0)
    day = 86_400.0
    assert Pacer.refused_too_long(day) and not Pacer.refused_too_long(LONGEST_WAIT)
    send(p, clock, 429, retry_after=day)
    assert p.too_long == 1 and p.paused_until - clock.now <= LONGEST_WAIT
    ticket = p.acquire()
    assert ticket.waited <= LONGEST_WAIT
    p.release(ticket)
    assert p.resend_delay(day) <= LONGEST_WAIT
    before = clock.now
    p.wait_until(before + 1e12)  # an HTTP-date in year 9999
    assert clock.now - before == LONGEST_WAIT


def test_a_503_that_says_try_now_is_not_a_rate() -> None:
    clock = FakeTime()
    p = pacer(clock)
    for _ in range(10):
        send(p, clock)
        send(p, clock, 503, retry_after=0.0)
    assert p.rate is None and p.resend_delay(0.0) == 0.0 and p.throttled == 10


def test_try_acquire_never_blocks() -> None:
    clock = FakeTime()
    p = pacer(clock, max_workers=1)
    first = p.try_acquire()
    assert first is not None and p.try_acquire() is None
    p.release(first)
    assert p.try_acquire() is not None


# -- every line of the pacing table, on the fake clock --------------------------------------
# Targets: default options within 1.10x of the ideal with at most 5% refused (or at most 2);
# a told max_rate within 1.05x with nothing refused. Lines that still miss assert what the
# pacer measures now (a little slack above it, so a regression fails) and say so: they are
# not the target. The answers here come back within ~1 ms: the real benchmark on this
# machine is slower at burst 1 (100/s: about 9x, not 1.7x), which this does not reproduce.

MEETS = "meets the target"
TABLE = [
    # (line, gateway, drafts, options, highest elapsed/ideal, most refused share, note)
    ("1/s b1", Gateway(1, 1), 30, {}, 1.10, 0.63, "MISSES: 61% refused (target 5%)"),
    ("2/s b10", Gateway(2, 10), 40, {}, 1.10, 0.46, "MISSES: 44% refused"),
    ("20/s b5", Gateway(20, 5), 300, {}, 1.10, 0.05, MEETS),
    ("50/s b50", Gateway(50, 50), 500, {}, 1.10, 0.12, "MISSES: 11.2% refused"),
    ("20/s then 5/s", Gateway(20, 5, 80, 5, 5), 160, {}, 1.10, 0.16, "MISSES: 14.4% refused"),
    (
        "10/s, no Retry-After",
        Gateway(10, 10, retry_after=False),
        200,
        {},
        1.10,
        0.16,
        "MISSES: 14.5% refused",
    ),
    ("5/s b1", Gateway(5, 1), 80, {}, 1.31, 0.21, "MISSES: 1.28x, 20% refused"),
    ("10/s b1", Gateway(10, 1), 200, {}, 1.34, 0.12, "MISSES: 1.31x, 10.7% refused"),
    ("100/s b1", Gateway(100, 1), 1000, {}, 1.78, 0.05, "MISSES: 1.73x (1.5% refused)"),
    ("told 2/s b10", Gateway(2, 10), 40, {"max_rate": 2}, 1.40, 0.0, "MISSES: 1.34x, burst unused"),
    ("told 1/s b1", Gateway(1, 1), 30, {"max_rate": 1}, 1.05, 0.0, MEETS),
    ("told 5/s b1", Gateway(5, 1), 80, {"max_rate": 5}, 1.05, 0.0, MEETS),
    (
        "told 100/s b1",
        Gateway(100, 1),
        1000,
        {"max_rate": 100},
        1.10,
        0.01,
        "MISSES: 1.08x, 0.7% refused (arrival jitter over a 10 ms spacing with no burst)",
    ),
    (
        "told 2/s b10 + burst",
        Gateway(2, 10),
        40,
        {"max_rate": 2, "max_burst": 10},
        1.05,
        0.0,
        MEETS,
    ),
]


@pytest.mark.parametrize(
    ("gateway", "count", "options", "ratio", "share", "note"),
    [pytest.param(*line[1:], id=line[0]) for line in TABLE],
)
def test_every_line_of_the_table(
    gateway: Gateway,
    count: int,
    options: dict[str, object],
    ratio: float,
    share: float,
    note: str,
) -> None:
    run = run_gateway(gateway, count, options)
    assert run.ratio <= ratio, note
    if note == MEETS and share:
        assert run.share <= share or run.refused <= 2
    else:
        assert run.share <= share, note


def test_a_503_now_and_then_is_not_a_rate() -> None:
    # a 503 without Retry-After on every 10th request, no limit: it took 79 s of the fake
    # clock when each one cut the rate; retried at once, the run takes a few dozen ms
    run = run_gateway(Gateway(None, every=10), 300, {})
    assert run.elapsed < 0.1 and run.refused == 33
    run = run_gateway(Gateway(None, every=3, every_retry_after=0.0), 300, {})
    assert run.elapsed < 0.1


def test_a_storm_of_503s_still_cuts_the_rate() -> None:
    clock = FakeTime()
    p = pacer(clock)
    for _ in range(3):
        send(p, clock)
    clock.now += 0.01
    for _ in range(4):
        send(p, clock, 503)
    assert p.rate is not None  # refusals were most of the answers: a sign of the rate


def test_a_limit_going_up_is_found_slowly() -> None:
    # MISSES: from 5/s to 50/s after 25 creates, 300 drafts take 42 s of the fake clock
    # where 8.5 s is the ideal (the climb adds 5% of the measured rate a second)
    run = run_gateway(Gateway(5, 5, 25, 50, 50), 300, {})
    assert run.elapsed < 45 and run.share <= 0.08
