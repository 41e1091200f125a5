"""The adaptive pacer on a fake clock: the waits it records, the rates it learns."""

from __future__ import annotations

import itertools
import threading

import pytest
from conftest import FakeTime

from alsona_nb._pacing import Pacer, Ticket


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


def test_max_rate_spaces_every_request() -> None:
    clock = FakeTime()
    p = pacer(clock, max_rate=4.0)
    sent = [send(p, clock).sent_at for _ in range(9)]
    assert [round(b - a, 9) for a, b in itertools.pairwise(sent)] == [0.25] * 8
    assert clock.sleeps == pytest.approx([0.25] * 8)
    assert p.rate == 4.0  # fine answers never raise it past the cap


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


def test_slow_start_then_cut_then_additive_increase() -> None:
    clock = FakeTime()
    p = pacer(clock, window=1.0, min_span=1.0, slow_start=8.0, increase=0.01, beta=0.9)
    send(p, clock)
    send(p, clock, 429)  # no Retry-After: nothing held
    assert p.rate == pytest.approx(1.0)  # one accepted in the last second
    expected = 1.0
    for _ in range(5):
        send(p, clock)
        expected += 8.0 / expected  # not measured yet: +8 a second
    assert p.rate == pytest.approx(expected)
    send(p, clock, 429)
    measured = p._measured(clock.now)
    assert p.rate == pytest.approx(0.9 * min(expected, measured))
    cut = p.rate
    assert cut is not None
    expected = cut
    for _ in range(10):
        send(p, clock)
        expected += 0.01 * cut / expected  # +1% of the measured rate a second
    assert p.rate == pytest.approx(expected)
    assert clock.sleeps  # spaced all along


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
    assert p.rate == 10.0 and p.limit == 8
    send(p, clock, 503, retry_after=3.0)
    assert p.describe().endswith("(last refusal: 503 Service Unavailable, Retry-After 3 s)")
    assert p.rate is not None and p.rate < 10.0 and p.throttled == 1


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
    ("kw", "message"), [({"max_workers": 0}, "max_workers"), ({"max_rate": 0}, "max_rate")]
)
def test_bad_options(kw: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Pacer(**kw)  # type: ignore[arg-type]
