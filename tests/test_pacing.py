"""The adaptive pacer on a fake clock: the waits it records, the rates it learns."""

from __future__ import annotations

import heapq
import itertools
import math
import random
import threading

import pytest
from conftest import FakeTime

from alsona_nb._pacing import LONGEST_WAIT, Pacer, Ticket


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
    assert second.sent_at - first.sent_at == pytest.approx(1 / p.rate, rel=0.05)
    assert p.limit == 8.0  # a short refusal keeps the concurrency


def test_a_long_retry_after_pauses_everything_and_halves_concurrency() -> None:
    clock = FakeTime()
    p = pacer(clock, max_rate=10.0, long_pause=5.0)
    send(p, clock, 503, retry_after=30.0)
    assert p.describe().startswith("paused 30.0 s: 503 Service Unavailable")
    assert p.resend_delay(30.0) == pytest.approx(1 / p.rate)  # the pause holds it already
    ticket = p.acquire()
    assert ticket.waited == pytest.approx(30.0) and p.limit == 4.0
    p.release(ticket)


def test_one_cut_per_round_trip() -> None:
    """Refusals of requests that left before the last cut say nothing new."""
    clock = FakeTime()
    p = pacer(clock, max_rate=50.0)
    early = [p.acquire() for _ in range(4)]
    p.observe(early[0], 429)
    after_one = p.rate
    for ticket in early[1:]:
        p.observe(ticket, 429)
    assert p.rate == after_one and p.throttled == 4
    for ticket in early:
        p.release(ticket)


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


def simulate(rate: float, burst: int, count: int, pacer_kw: dict[str, object]) -> tuple[float, int]:
    """``count`` creates through the pacer's decisions against a token bucket (``rate``,
    ``burst``) on a fake clock, as create_campaigns drives it: eight workers, each request
    arriving 0.4-1.2 ms after it leaves, a refused row sent again after its Retry-After.
    Returns (elapsed / ideal, requests refused); fails if a row is created twice."""
    rng = random.Random(7)
    now = [0.0]
    p = Pacer(8, clock=lambda: now[0], sleep=lambda s: None, rng=rng.random, **pacer_kw)  # type: ignore[arg-type]
    bucket = {"tokens": float(burst), "stamp": 0.0}
    events: list[tuple[float, int, str, int, Ticket | None]] = []
    order = itertools.count()
    queue, created, refused, done, last = list(range(count)), [0] * count, 0, 0, 0.0
    idle = 8

    def start() -> None:
        nonlocal idle
        while idle and queue and (ticket := p.try_acquire()) is not None:
            idle -= 1
            row = queue.pop(0)
            heapq.heappush(
                events,
                (
                    ticket.sent_at + 0.0004 + 0.0008 * rng.random(),
                    next(order),
                    "arrive",
                    row,
                    ticket,
                ),
            )

    start()
    while done < count:
        now[0], _, kind, row, ticket = heapq.heappop(events)
        if kind == "later":
            queue.append(row)
        else:
            assert ticket is not None
            refill = (now[0] - bucket["stamp"]) * rate
            bucket["tokens"], bucket["stamp"] = min(burst, bucket["tokens"] + refill), now[0]
            if bucket["tokens"] >= 1.0:
                bucket["tokens"] -= 1.0
                created[row] += 1
                p.observe(ticket, 200)
                done, last = done + 1, now[0]
            else:
                refused += 1
                wait = float(max(1, math.ceil((1.0 - bucket["tokens"]) / rate)))
                p.observe(ticket, 429, retry_after=wait)
                heapq.heappush(
                    events, (now[0] + p.resend_delay(wait), next(order), "later", row, None)
                )
            p.release(ticket)
            idle += 1
        start()
    assert created == [1] * count
    return last / ((count - burst) / rate), refused


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
