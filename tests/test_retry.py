"""The pure retry decision, Retry-After as RFC 9110 reads it, and the shared pause: all with
numbers passed in, nothing slept."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from conftest import FakeTime

from alsona_nb._retry import LONGEST_WAIT, Pause, RetryPolicy, parse_retry_after


def test_backoff_doubles_up_to_the_cap_with_equal_jitter() -> None:
    policy = RetryPolicy(max_retries=10, max_wait=1000, base=0.25, cap=2.0)
    assert [policy.decide(t, 0.0, jitter=1.0) for t in range(1, 6)] == [0.25, 0.5, 1.0, 2.0, 2.0]
    assert [policy.decide(t, 0.0, jitter=0.0) for t in range(1, 4)] == [0.125, 0.25, 0.5]


def test_retry_after_replaces_the_backoff_with_a_little_jitter() -> None:
    policy = RetryPolicy()
    assert policy.decide(1, 0.0, 10.0, jitter=0.0) == 10.0
    assert policy.decide(1, 0.0, 10.0, jitter=1.0) == pytest.approx(11.05)


def test_stops_after_max_retries() -> None:
    policy = RetryPolicy(max_retries=2)
    assert isinstance(policy.decide(2, 0.0), float)
    assert policy.decide(3, 0.0) == "still failing after 3 tries"


def test_stops_when_the_wait_budget_would_be_passed() -> None:
    decision = RetryPolicy(max_wait=5.0).decide(1, 4.0, 2.0, jitter=0.0)
    assert isinstance(decision, str) and "max_retry_wait=5 s" in decision


def test_an_absurd_retry_after_is_never_waited_for_even_with_no_budget() -> None:
    policy = RetryPolicy(max_wait=float("inf"))
    decision = policy.decide(1, 0.0, LONGEST_WAIT * 10)
    assert isinstance(decision, str) and "asked to wait" in decision


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


def test_the_pause_is_shared_by_threads(fake_time: FakeTime) -> None:
    pause = Pause(fake_time.clock, fake_time.sleep)
    pause.hold(2.0)
    lock = threading.Lock()

    def waiter() -> None:
        with lock:  # the fake clock is not thread-safe; the pause is
            pause.wait()

    threads = [threading.Thread(target=waiter) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(fake_time.sleeps) == 2.0  # the first waiter slept; the clock had moved on
