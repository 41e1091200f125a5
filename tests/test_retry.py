"""The pure retry decision, Retry-After as RFC 9110 reads it, and the shared pause: all with
numbers passed in, nothing slept."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from conftest import FakeTime

from alsona_nb._retry import LONGEST_WAIT, Decision, Pause, RetryPolicy, parse_retry_after


def waits(policy: RetryPolicy, tries: range, jitter: float) -> list[float | None]:
    return [policy.decide(t, 0.0, jitter=jitter).wait for t in tries]


def test_backoff_doubles_up_to_the_cap_with_equal_jitter() -> None:
    policy = RetryPolicy(max_retries=10, max_wait=1000, base=0.25, cap=2.0)
    assert waits(policy, range(1, 6), jitter=1.0) == [0.25, 0.5, 1.0, 2.0, 2.0]
    assert waits(policy, range(1, 4), jitter=0.0) == [0.125, 0.25, 0.5]


def test_retry_after_replaces_the_backoff_with_a_little_jitter() -> None:
    policy = RetryPolicy()
    assert policy.decide(1, 0.0, 10.0, jitter=0.0) == Decision(wait=10.0)
    assert policy.decide(1, 0.0, 10.0, jitter=1.0).wait == pytest.approx(11.05)


def test_stops_after_max_retries() -> None:
    policy = RetryPolicy(max_retries=2)
    going_on = policy.decide(2, 0.0)
    assert going_on.retry and going_on.wait is not None and going_on.wait > 0
    stopped = policy.decide(3, 0.0)
    assert not stopped.retry and stopped.wait is None
    assert stopped.reason == "still failing after 3 tries"


def test_stops_when_the_wait_budget_would_be_passed() -> None:
    decision = RetryPolicy(max_wait=5.0).decide(1, 4.0, 2.0, jitter=0.0)
    assert not decision.retry and "max_retry_wait=5 s" in decision.reason
    assert RetryPolicy(max_wait=5.0).decide(1, 3.0, 2.0, jitter=0.0).wait == 2.0  # just fits


def test_an_absurd_retry_after_is_never_waited_for_even_with_no_budget() -> None:
    policy = RetryPolicy(max_wait=float("inf"))
    decision = policy.decide(1, 0.0, LONGEST_WAIT * 10)
    assert not decision.retry and "asked to wait" in decision.reason
    assert policy.decide(1, 0.0, LONGEST_WAIT / 2, jitter=0.0).wait == LONGEST_WAIT / 2


@pytest.mark.parametrize(
    "header,seconds",
    [("5", 5.0), (" 120 ", 120.0), ("1.5", 1.5), ("0", 0.0)],
)
def test_retry_after_delay_seconds(header: str, seconds: float) -> None:
    assert parse_retry_after(header) == seconds


@pytest.mark.parametrize("header", [None, "", "inf", "-inf", "nan", "-1", "soon", "1e999"])
def test_invalid_retry_after_means_use_the_backoff(header: str | None) -> None:
    assert parse_retry_after(header) is None


def test_retry_after_as_an_http_date() -> None:
    now = datetime(2026, 11, 28, 12, 0, 0, tzinfo=timezone.utc)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    earlier = format_datetime(now - timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(later, now) == 30.0
    assert parse_retry_after(earlier, now) == 0.0
    assert parse_retry_after("Fri, 99 Zzz 2026 12:00:00 GMT", now) is None


def test_the_pause_holds_until_its_end(fake_time: FakeTime) -> None:
    pause = Pause(fake_time.clock, fake_time.sleep)
    pause.wait()
    assert fake_time.sleeps == []
    pause.hold(3.0)
    pause.hold(1.0)  # a shorter hold does not shorten it
    pause.wait()
    assert fake_time.sleeps == [3.0]
    pause.wait()
    assert fake_time.sleeps == [3.0]


class SteppedClock:
    """Time that moves only when the test says so. ``sleep`` blocks its thread until the
    clock reaches the end of the sleep, so many threads really wait at once; ``cond``
    guards the clock and is notified at every change."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeping = 0  # threads inside sleep() now
        self.slept = 0  # sleeps that ended
        self.cond = threading.Condition()

    def clock(self) -> float:
        with self.cond:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.cond:
            until = self.now + seconds
            self.sleeping += 1
            self.cond.notify_all()
            while self.now < until:
                self.cond.wait()
            self.sleeping -= 1
            self.slept += 1
            self.cond.notify_all()

    def advance_to(self, when: float) -> None:
        with self.cond:
            self.now = when
            self.cond.notify_all()

    def wait_for(self, done: Callable[[], bool]) -> None:
        with self.cond:
            assert self.cond.wait_for(done, timeout=30), "the threads never got there"


def test_the_pause_holds_every_thread_at_once_until_its_end() -> None:
    """Four threads wait on one pause at the same time; a hold made while they sleep
    (another thread's 429) keeps all of them waiting; none goes before the end."""
    time = SteppedClock()
    pause = Pause(time.clock, time.sleep)
    pause.hold(2.0)
    released: list[float] = []

    def waiter() -> None:
        pause.wait()
        with time.cond:
            released.append(time.now)
            time.cond.notify_all()

    threads = [threading.Thread(target=waiter) for _ in range(4)]
    for t in threads:
        t.start()
    time.wait_for(lambda: time.sleeping == 4)  # all four inside wait() together
    pause.hold(3.0)  # pushed further (to 3.0) while they sleep
    time.advance_to(2.0)  # their first sleeps end, but the pause does not
    time.wait_for(lambda: time.slept == 4 and time.sleeping + len(released) == 4)
    assert released == []
    time.advance_to(3.0)
    time.wait_for(lambda: len(released) == 4)
    for t in threads:
        t.join(timeout=30)
    assert released == [3.0] * 4 and time.slept == 8
