"""What the answers prove about a token bucket, and the rate the search tries next."""

from __future__ import annotations

import math

import pytest

from alsona_nb._ratesearch import RateSearch


def opened(burst: int, *, at: float = 0.01, retry_after: float | None = 1.0) -> RateSearch:
    """A search whose opening saw ``burst`` acceptances, then a refusal at ``at``."""
    search = RateSearch(jitter=0.0)
    for i in range(burst):
        search.accepted(at * i / burst)
    search.refused(at, retry_after)
    return search


def test_the_opening_spends_the_burst_and_is_not_spaced() -> None:
    search = RateSearch(jitter=0.0)
    for i in range(10):
        search.accepted(i * 0.001)
        assert search.rate(5) is None  # nothing spaced before the first refusal
    search.refused(0.01, 1.0)
    assert search.burst == 10
    assert search.hi == pytest.approx(10 / 0.01)  # the burst came at most this fast
    assert search.hint == pytest.approx(1 / 1.001)  # Retry-After 1 s, 1 ms after the last
    assert search.rate(5) is not None


def test_at_a_burst_of_one_every_gap_is_a_proof_or_a_bound() -> None:
    search = opened(1)  # accepted at 0, refused at 10 ms
    search.accepted(0.25)  # 250 ms after the last acceptance: r >= 4
    assert search.lo == pytest.approx(4.0)
    search.refused(0.25 + 0.1, 1.0)  # 100 ms after it: r < 10
    assert search.hi == pytest.approx(10.0)
    search.accepted(0.25 + 0.125)  # the refusal took no token: 125 ms from the last: r >= 8
    assert search.lo == pytest.approx(8.0)


def test_the_jitter_widens_every_bound() -> None:
    search = opened(1)
    search.jitter = 0.01
    search.accepted(0.24)
    assert search.lo == pytest.approx(1 / 0.25)
    search.refused(0.24 + 0.11, 1.0)
    assert search.hi == pytest.approx(1 / 0.1)


def test_from_an_empty_bucket_the_count_proves_the_rate() -> None:
    search = opened(10)  # emptied at 10 ms
    for k in range(1, 21):  # 20 accepted over 2 s: at least 19 refilled (one may be left)
        search.accepted(0.01 + 0.1 * k)
    assert search.lo == pytest.approx(19 / 2.0)
    search.refused(0.01 + 2.05, 1.0)  # then one short: at most 21 in 2.05 s
    assert search.hi == pytest.approx(21 / 2.05)
    assert search.cruising() is False  # 9.5 to 10.2: not met within 4%


def test_a_bucket_that_may_have_filled_up_is_counted_from_there() -> None:
    """Slow (the bucket fills up, its refill lost), then fast until refused: counting from
    the emptying would put ``hi`` under the true rate (20/s here, burst 5)."""
    search = opened(5)
    t = 0.01
    for _ in range(10):  # 2/s for 5 s: the bucket is full after 0.3 s
        t += 0.5
        search.accepted(t)
    full_at = t
    for _ in range(30):  # 40/s: the 5 tokens and the refill go in 0.25 s... and then some
        t += 0.025
        search.accepted(t)
    search.refused(t + 0.025, 1.0)
    assert search.hi >= 20.0  # counted from where the bucket may have been full
    assert search.hi == pytest.approx(31 / (t + 0.025 - full_at))


def test_refusals_below_what_was_proven_say_the_limit_went_down() -> None:
    search = opened(1)
    search.accepted(0.05)  # r >= 20
    search.refused(0.05 + 0.2, 1.0)  # refused 200 ms after it: r < 5, under what was proven
    assert search.hi == pytest.approx(5.0) and search.lo == pytest.approx(5.0 / 4)


def test_acceptances_beyond_the_bound_say_the_limit_went_up() -> None:
    search = opened(1)
    search.refused(0.1, 1.0)  # r < 10
    search.accepted(0.05)  # ...but 50 ms after an acceptance one more was accepted
    assert search.lo == pytest.approx(20.0) and search.hi == pytest.approx(40.0)


@pytest.mark.parametrize(("spare", "share"), [(5, 0.5), (3, 0.5), (2, 0.2), (1, 0.1)])
def test_the_try_is_bolder_the_more_refusals_are_left(spare: int, share: float) -> None:
    search = opened(1, at=0.001)
    search.accepted(0.5)  # lo = 2
    search.refused(0.5 + 1 / 200, 1.0)  # hi = 200
    assert search.rate(spare) == pytest.approx(2 * 100**share)


def test_no_refusal_left_or_bounds_met_cruise_just_under_what_was_proven() -> None:
    search = opened(1)
    search.accepted(0.1)  # lo = 10
    search.refused(0.1 + 0.099, 1.0)  # hi = 10.1: met
    assert search.cruising()
    assert search.rate(5) == pytest.approx(10 * (1 - search.margin))
    search.jitter = 0.001  # at a burst of 1, the jitter must fit in the gap: 1% more here
    assert search.rate(5) == pytest.approx(10 / 1.01 * (1 - search.margin))
    assert search.rate(5, ending=True) == pytest.approx(10 / 1.02 * (1 - search.margin))
    wide = opened(1)
    wide.accepted(0.5)
    assert wide.rate(0) == pytest.approx(2 * (1 - wide.margin))  # nothing left to spend


@pytest.mark.parametrize("spare", [1, 2])
def test_with_few_refusals_left_and_a_burst_the_rate_climbs_from_what_is_proven(
    spare: int,
) -> None:
    search = opened(10)
    base = search.base()
    assert base == search.hint  # nothing proven yet: Retry-After's hint
    assert search.rate(spare) == pytest.approx(base)
    search.accepted(0.5)
    search.accepted(1.0)
    base = search.base()
    assert search.rate(spare) == pytest.approx(base * 1.1**2)
    assert search.rate(3) > search.rate(spare)  # with more to spend: a bolder try


@pytest.mark.parametrize(("hi", "step"), [(4.0, 2**0.1), (2.4, 1.03), (2.1, 1.05**0.5)])
def test_a_try_is_at_least_three_percent_above_the_proven_rate(hi: float, step: float) -> None:
    search = opened(1, at=0.001)
    search.accepted(0.5)  # lo = 2
    search.refused(0.5 + 1 / hi, 1.0)
    assert not search.cruising()
    assert search.rate(1) == pytest.approx(2 * step)  # ...but not past the bounds' middle


def cruising_at_ten() -> RateSearch:
    search = opened(1)
    search.accepted(0.1)  # lo = 10
    search.refused(0.1 + 0.099, 1.0)  # hi = 10.1: met
    assert search.cruising()
    return search


def test_cruising_at_a_burst_of_one_the_margin_settles_where_the_aimed_share_is_refused() -> None:
    search = cruising_at_ten()
    start = search.margin
    search.aim = 0.02
    t = 0.2
    for _ in range(3):  # one refusal in fifty: the share aimed at, the margin stays put
        for _ in range(49):
            t += 0.1
            search.accepted(t)
        search.refused(t + 0.05, 1.0)
    assert search.margin == pytest.approx(start, abs=1e-9)
    for _ in range(300):  # nothing refused: it narrows, down to its floor
        t += 0.1
        search.accepted(t)
    assert search.margin == search.narrowest_margin
    assert search.rate(0) == pytest.approx(search.lo * (1 - search.narrowest_margin))
    for _ in range(20):  # refused often: it widens, up to its ceiling
        search.refused(t + 0.05, 1.0)
    assert search.margin == search.widest_margin


def test_without_an_aim_the_margin_only_widens() -> None:
    search = cruising_at_ten()
    start = search.margin
    for i in range(100):
        search.accepted(0.3 + 0.1 * i)
    assert search.margin == start
    search.refused(10.35, 1.0)
    assert search.margin == pytest.approx(start + 0.002)


def test_without_retry_after_the_search_starts_at_one_a_second() -> None:
    search = opened(10, retry_after=None)
    assert search.hint is None and search.base() == 1.0


def test_a_long_run_of_acceptances_looks_higher_once() -> None:
    search = opened(1)
    search.accepted(0.1)
    search.refused(0.1 + 0.099, 1.0)
    before = search.hi
    search.look_every = 3
    t = 0.1
    for _ in range(3):
        t += 0.11
        search.accepted(t)
    assert search.hi == pytest.approx(2 * before)  # the look: the search reopens upwards
    assert not search.cruising() and search.rate(5) > 10.0
    search.refused(t + 1 / 14, 1.0)  # refused: the limit is where it was
    assert search.hi == pytest.approx(before)


def test_hi_is_infinite_until_a_refusal_bounds_it() -> None:
    search = RateSearch()
    search.accepted(0.0)
    assert math.isinf(search.hi) and search.rate(3) is None
