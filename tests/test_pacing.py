"""The adaptive pacer on a fake clock: the waits it records, the rates it learns."""

from __future__ import annotations

import heapq
import itertools
import math
import random
import threading
import time
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


def test_the_opening_lets_one_more_in_flight_for_every_20_accepted() -> None:
    """Until the first refusal nothing is spaced, but requests in flight grow from one:
    those in flight when the burst runs out are all refused."""
    clock = FakeTime()
    p = pacer(clock)
    first = p.try_acquire()
    assert first is not None and p.try_acquire() is None  # one at a time at first
    p.observe(first, 200)
    p.release(first)
    for _ in range(19):
        send(p, clock)
    held = [p.try_acquire(), p.try_acquire()]  # 20 accepted: two at a time
    assert None not in held and p.try_acquire() is None
    for ticket in held:
        assert ticket is not None
        p.release(ticket)


def test_the_first_refusal_ends_the_opening_and_the_search_spaces_requests() -> None:
    clock = FakeTime()
    p = pacer(clock)
    p.plan(100)
    for _ in range(5):  # a burst of 5, 1 ms apart
        send(p, clock, latency=0.0002)
        clock.now += 0.001
    send(p, clock, 429, retry_after=1.0, latency=0.0002)
    assert p.search.burst == 5 and p.rate is not None
    assert p.describe().endswith("(last refusal: 429 Too Many Requests, Retry-After 1 s)")
    assert p.resend_delay(1.0) == 1.0  # the refused request waits its Retry-After...
    first = send(p, clock)  # ...the others are spaced at the rate searched
    rate = p.rate
    second = send(p, clock)
    assert second.sent_at - first.sent_at == pytest.approx(1 / rate)
    assert p.limit == 8.0  # a short refusal keeps the concurrency


def test_a_refused_request_takes_no_turn_at_a_burst_of_one() -> None:
    """The bucket refills for the next request from the last accepted one: after a refusal
    at the rate found (the arrivals' jitter) the next leaves as soon as the rate proven
    has refilled the bucket, not a whole spacing after the refused one."""
    clock = FakeTime()
    p = pacer(clock)  # no latency given: the jitter allowed is 1 ms
    p.plan(1000)
    start = clock.now
    send(p, clock)
    clock.now = start + 0.001
    send(p, clock, 429, retry_after=1.0)  # the opening ends: a burst of 1
    clock.now = start + 0.1
    accepted = send(p, clock)  # 100 ms after the last acceptance: r >= 1 / 0.101
    clock.now = accepted.sent_at + 0.099
    refused = send(p, clock, 429, retry_after=1.0)  # 99 ms after it: r < 1 / 0.098
    assert refused.sent_at == clock.now and p.search.cruising()
    following = send(p, clock)
    assert following.sent_at >= accepted.sent_at + 1 / p.search.lo
    assert following.sent_at - refused.sent_at < 0.01  # not a whole spacing (0.1 s) later


def test_refusals_in_a_row_at_a_burst_of_one_are_spaced_in_full() -> None:
    """A slow answer may have reached the gateway late, so refusals follow each other
    though the proven rate has refilled the bucket since it was sent: from the second
    refusal in a row on, the next request waits a whole spacing (it was a storm of them,
    1 ms apart)."""
    clock = FakeTime()
    p = pacer(clock)
    p.plan(1000)
    send(p, clock)
    clock.now += 0.001
    send(p, clock, 429, retry_after=1.0)  # a burst of 1
    clock.now += 0.1
    accepted = send(p, clock)
    clock.now = accepted.sent_at + 0.102  # past the proven spacing, yet refused
    first = send(p, clock, 429, retry_after=1.0)
    second = send(p, clock, 429, retry_after=1.0)
    assert second.sent_at - first.sent_at < 0.01  # the first: no turn taken
    assert p.search.lo > 9  # not read as the limit going down
    assert p.rate is not None
    third = send(p, clock)
    assert third.sent_at - second.sent_at >= 1 / p.search.lo  # a whole spacing


def test_after_a_slow_answer_the_next_request_is_spaced_from_its_latest_arrival() -> None:
    clock = FakeTime()
    p = pacer(clock, max_rate=10.0, margin=0.0)
    for _ in range(10):
        send(p, clock, latency=0.01)
    slow = send(p, clock, latency=0.05)  # 40 ms slower than usual: it may have arrived late
    assert send(p, clock).sent_at == pytest.approx(slow.sent_at + 0.04 + 0.1)


def test_one_thread_at_a_time_waits_for_the_next_turn() -> None:
    """Threads all woken at each turn held up the one whose turn it was (the arrivals'
    jitter on real threads): the others wait for the turn to be taken."""
    clock = FakeTime()
    sleeping, most = [0], [0]
    lock = threading.Lock()

    def sleep(seconds: float) -> None:  # the fake clock's, but long enough for the others
        with lock:
            sleeping[0] += 1
            most[0] = max(most[0], sleeping[0])
        time.sleep(0.005)  # to come and sleep too, if they were let
        clock.sleep(seconds)
        with lock:
            sleeping[0] -= 1

    p = Pacer(4, 10.0, margin=0.0, clock=clock, sleep=sleep)
    start = threading.Barrier(4)
    sent: list[float] = []

    def work() -> None:
        start.wait()
        for _ in range(5):
            ticket = p.acquire()
            sent.append(ticket.sent_at)
            p.release(ticket)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(sent) == 20 and most[0] == 1 and len(clock.sleeps) == 19  # one a turn
    gaps = [b - a for a, b in itertools.pairwise(sorted(sent))]
    assert min(gaps) == pytest.approx(0.1)


def test_the_turn_is_looked_at_again_when_the_latest_answer_is_due() -> None:
    """The answer to the request before may change the rate: the thread waiting for the
    next turn looks again when it usually comes (50% later than the usual round trip)."""
    clock = FakeTime()
    p = pacer(clock, max_workers=2, max_rate=1.0, margin=0.0)
    send(p, clock, latency=0.01)
    held = p.acquire()  # its answer is due at 15 ms
    ticket = p.acquire()
    assert clock.sleeps[-2:] == pytest.approx([0.015, 0.985])
    assert ticket.sent_at == pytest.approx(held.sent_at + 1.0)
    p.observe(held, 200, latency=0.01)
    p.release(held)
    p.observe(ticket, 200, latency=0.01)
    p.release(ticket)
    send(p, clock, latency=0.01)  # its answer came before: one wait
    assert clock.sleeps[-1] == pytest.approx(1.0)


def test_a_turn_is_taken_when_it_comes() -> None:
    """No request reserves a turn ahead: a rate learned meanwhile applies to it."""
    clock = FakeTime()
    p = pacer(clock, max_rate=2.0, margin=0.0)
    first = send(p, clock)
    assert p.try_acquire() is None and p.next_turn() == pytest.approx(first.sent_at + 0.5)
    clock.now = p.next_turn()
    ticket = p.try_acquire()
    assert ticket is not None and ticket.sent_at == clock.now
    p.release(ticket)


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
    p = pacer(clock, max_workers=3, max_rate=1e6)  # a known limit: no opening
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
    seed: int = 7,
) -> Run:
    """``count`` creates through the pacer's decisions against ``gateway`` on a fake clock,
    as create_campaigns drives it: eight workers, each request arriving (and answered)
    0.4-1.2 ms after it leaves, a refused row sent again after its ``resend_delay``. Fails
    if a row is created twice or not at all."""
    rng = random.Random(seed)
    now = [0.0]
    p = Pacer(8, clock=lambda: now[0], sleep=lambda s: None, rng=rng.random, **pacer_kw)  # type: ignore[arg-type]
    p.plan(count)
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
        if idle and queue and (turn := p.next_turn()) > now[0]:  # wake up for the next turn
            heapq.heappush(events, (turn, next(order), "turn", -1, None))

    def answer(row: int, ticket: Ticket, status: int, wait: float | None = None) -> None:
        key = next(order)
        answers[key] = (status, wait)
        heapq.heappush(events, (now[0], key, "answer", row, ticket))

    start()
    while done < count:
        now[0], key, kind, row, ticket = heapq.heappop(events)
        if kind in ("later", "turn"):
            if kind == "later":
                queue.append(row)
            start()
            continue
        assert ticket is not None
        if kind == "answer":
            status, wait = answers.pop(key)
            p.observe(ticket, status, retry_after=wait, latency=now[0] - ticket.sent_at)
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
# a told max_rate within 1.05x with nothing refused. The two told lines that miss assert
# what the pacer measures now (a little slack above it, so a regression fails) and say why.
# Each line runs with three arrival-jitter draws (the gateway's answers come 0.4-1.2 ms
# after a request leaves; at a burst of 1 and 100/s that is 8% of a spacing).

MEETS = "meets the target"
TABLE = [
    # (line, gateway, drafts, options, highest elapsed/ideal, most refused share, note)
    ("1/s b1", Gateway(1, 1), 30, {}, 1.10, 0.05, MEETS),
    ("2/s b10", Gateway(2, 10), 40, {}, 1.10, 0.05, MEETS),
    ("20/s b5", Gateway(20, 5), 300, {}, 1.10, 0.05, MEETS),
    ("50/s b50", Gateway(50, 50), 500, {}, 1.10, 0.05, MEETS),
    ("20/s then 5/s", Gateway(20, 5, 80, 5, 5), 160, {}, 1.10, 0.05, MEETS),
    ("10/s, no Retry-After", Gateway(10, 10, retry_after=False), 200, {}, 1.10, 0.05, MEETS),
    ("5/s b1", Gateway(5, 1), 80, {}, 1.10, 0.05, MEETS),
    ("10/s b1", Gateway(10, 1), 200, {}, 1.10, 0.05, MEETS),
    ("100/s b1", Gateway(100, 1), 1000, {}, 1.10, 0.05, MEETS),
    (
        "told 2/s b10",
        Gateway(2, 10),
        40,
        {"max_rate": 2},
        1.35,
        0.0,
        "MISSES: 1.34x, the burst is never spent unless told (learning it costs a refusal)",
    ),
    ("told 1/s b1", Gateway(1, 1), 30, {"max_rate": 1}, 1.05, 0.0, MEETS),
    ("told 5/s b1", Gateway(5, 1), 80, {"max_rate": 5}, 1.05, 0.0, MEETS),
    (
        "told 100/s b1",
        Gateway(100, 1),
        1000,
        {"max_rate": 100},
        1.12,
        0.01,
        "MISSES: 1.08-1.16x, up to 0.6% refused (the arrivals' jitter is 8% of the spacing)",
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


@pytest.mark.parametrize("seed", [1, 2, 3])
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
    seed: int,
) -> None:
    run = run_gateway(gateway, count, options, seed=seed)
    assert run.ratio <= ratio, note
    if note == MEETS and not options:
        assert run.share <= share or run.refused <= 2, note
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


def test_a_limit_going_up_is_found() -> None:
    # from 5/s to 50/s after 25 creates: 300 drafts take 39 s of the fake clock where 8.5 s
    # is the ideal (figure only; it was 42 s): the search looks higher now and then, with
    # an eighth of the refusals it can spare
    run = run_gateway(Gateway(5, 5, 25, 50, 50), 300, {})
    assert run.elapsed < 42 and run.share <= 0.05
