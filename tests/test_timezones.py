"""Zone names to the fixed offsets the API takes (NOTES 8), and that every one of them is a
time offset a campaign accepts; zones found by the words people type; the offset on a date and
the next clock change, across a spring and an autumn change in both hemispheres."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alsona_nb import CampaignDraft, WeeklySchedule, ZoneOffset, zone_offset
from alsona_nb._timezones import find_zone, fixed_zone, next_change, offset_minutes, zone_names


def test_new_york_winter_and_summer() -> None:
    winter = zone_offset("America/New_York", date(2026, 1, 15))
    summer = zone_offset("America/New_York", date(2026, 7, 15))
    assert (winter.minutes, summer.minutes) == (-300, -240)
    assert winter.observes_dst and summer.observes_dst
    assert winter.warning == (
        "America/New_York observes daylight saving time: the API takes a fixed offset, so "
        "-300 min (its offset on 2026-01-15) will not follow the clock change."
    )


def test_southern_summer_is_in_january() -> None:
    january = zone_offset("Australia/Sydney", date(2026, 1, 15))
    july = zone_offset("Australia/Sydney", date(2026, 7, 15))
    assert (january.minutes, july.minutes) == (660, 600)
    assert january.observes_dst


def test_zone_without_dst_has_no_warning() -> None:
    kolkata = zone_offset("Asia/Kolkata", date(2026, 7, 1))
    assert kolkata.minutes == 330
    assert not kolkata.observes_dst
    assert kolkata.warning is None
    assert str(kolkata) == "Asia/Kolkata: UTC+05:30 (+330 min)"


@pytest.mark.parametrize(
    "zone,minutes,shown",
    [
        ("Asia/Kathmandu", 345, "UTC+05:45"),
        ("America/St_Johns", -210, "UTC-03:30"),
        ("Pacific/Kiritimati", 840, "UTC+14:00"),
        ("Etc/GMT+12", -720, "UTC-12:00"),
    ],
)
def test_odd_and_extreme_offsets(zone: str, minutes: int, shown: str) -> None:
    offset = zone_offset(zone, date(2026, 1, 15))
    assert offset.minutes == minutes
    assert shown in str(offset)


def test_utc() -> None:
    utc = zone_offset("UTC", date(2026, 3, 1))
    assert (utc.minutes, utc.observes_dst, str(utc)) == (0, False, "UTC: UTC+00:00 (+0 min)")


def test_a_datetime_counts_as_its_date() -> None:
    on = datetime(2026, 7, 15, 23, 30)
    assert zone_offset("Europe/Paris", on) == zone_offset("Europe/Paris", date(2026, 7, 15))
    assert zone_offset("Europe/Paris", on).on == date(2026, 7, 15)


def test_today_when_no_date_is_given() -> None:
    before = date.today()
    offset = zone_offset("Europe/Paris")
    assert isinstance(offset, ZoneOffset) and offset.on in {before, date.today()}


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../../etc/passwd", "europe/paris "])
def test_unknown_zone_is_a_clear_error(zone: str) -> None:
    with pytest.raises(ValueError, match=f"unknown time zone {zone!r}: use an IANA name"):
        zone_offset(zone)


def test_zone_names_start_with_utc_and_are_real() -> None:
    names = zone_names()
    assert names[0] == "UTC" and "Europe/Paris" in names
    assert list(names[1:]) == sorted(names[1:])
    assert not [n for n in names if n.startswith(("Etc/", "SystemV/"))]


@pytest.mark.parametrize("on", [date(2026, 1, 15), date(2026, 7, 15)])
def test_every_zone_gives_an_offset_a_campaign_accepts(on: date) -> None:
    schedule = WeeklySchedule.weekdays()
    for name in zone_names():
        minutes = zone_offset(name, on).minutes
        draft = CampaignDraft(name="n", seats=["s"], schedule=schedule, timezone=minutes)
        assert draft.to_payload(now_ms=0)["campaign"]["timezone"] == minutes, name


# -- the offset on a date and the next change -------------------------------------------------

# (zone, the day of the spring change, the day of the autumn change in 2026, winter and summer
# offsets). Sydney's summer is in January: its clocks go back in April and forward in October.
CHANGES = [
    ("America/New_York", date(2026, 3, 8), date(2026, 11, 1), -300, -240),
    ("Europe/Paris", date(2026, 3, 29), date(2026, 10, 25), 60, 120),
    ("Australia/Sydney", date(2026, 10, 4), date(2026, 4, 5), 600, 660),
]


@pytest.mark.parametrize(("zone", "spring", "autumn", "winter", "summer"), CHANGES)
def test_offset_on_the_day_of_each_change_is_the_new_one(
    zone: str, spring: date, autumn: date, winter: int, summer: int
) -> None:
    day = timedelta(days=1)
    assert (offset_minutes(zone, spring - day), offset_minutes(zone, spring)) == (winter, summer)
    assert (offset_minutes(zone, autumn - day), offset_minutes(zone, autumn)) == (summer, winter)
    assert offset_minutes(zone, spring) == zone_offset(zone, spring).minutes


@pytest.mark.parametrize(("zone", "spring", "autumn", "winter", "summer"), CHANGES)
def test_next_change_is_the_day_the_offset_moves(
    zone: str, spring: date, autumn: date, winter: int, summer: int
) -> None:
    first, second = sorted((spring, autumn))
    day = timedelta(days=1)
    assert next_change(zone, date(2026, 1, 15)) == first
    assert next_change(zone, first - day) == first  # the day before counts the change
    assert next_change(zone, first) == second  # the change day itself is past
    assert next_change(zone, second - day) == second
    after = next_change(zone, second)
    assert after is not None and after.year == 2027 and after.month == first.month
    assert next_change(zone, datetime(2026, 1, 15, 23, 0)) == first


def test_next_change_agrees_with_the_offsets_day_by_day() -> None:
    start = date(2026, 2, 1)
    change = next_change("America/New_York", start)
    assert change is not None
    offsets = [offset_minutes("America/New_York", start + timedelta(days=n)) for n in range(60)]
    moved = [start + timedelta(days=n) for n in range(1, 60) if offsets[n] != offsets[n - 1]]
    assert moved[0] == change == date(2026, 3, 8)


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "Asia/Kolkata", "UTC", "UTC+02:00"])
def test_a_zone_without_daylight_saving_has_no_next_change(zone: str) -> None:
    assert next_change(zone, date(2026, 1, 15)) is None
    assert offset_minutes(zone, date(2026, 1, 15)) == offset_minutes(zone, date(2026, 7, 15))


def test_tokyo_keeps_one_offset() -> None:
    assert offset_minutes("Asia/Tokyo", date(2026, 1, 15)) == 540
    assert not zone_offset("Asia/Tokyo", date(2026, 7, 15)).observes_dst


@pytest.mark.parametrize(
    ("zone", "minutes"), [("UTC+02:00", 120), ("UTC-05:30", -330), ("UTC+14:00", 840)]
)
def test_a_fixed_offset_is_a_zone_that_never_moves(zone: str, minutes: int) -> None:
    offset = zone_offset(zone, date(2026, 7, 1))
    assert (offset.minutes, offset.observes_dst, offset.warning) == (minutes, False, None)
    assert str(offset).startswith(f"{zone}: {zone} (")
    assert offset_minutes(zone, date(2026, 1, 1)) == minutes


@pytest.mark.parametrize("zone", ["UTC+2", "UTC+15:00", "UTC-12:01", "UTC+02:60", "GMT+02:00"])
def test_only_the_written_fixed_form_in_range_is_a_zone(zone: str) -> None:
    for call in (lambda: zone_offset(zone), lambda: offset_minutes(zone, date(2026, 1, 1))):
        with pytest.raises(ValueError, match="unknown time zone"):
            call()
    with pytest.raises(ValueError, match="unknown time zone"):
        next_change(zone, date(2026, 1, 1))


def test_fixed_zone_names() -> None:
    assert [fixed_zone(m) for m in (120, 0, -330, 840, -720)] == [
        "UTC+02:00",
        "UTC",
        "UTC-05:30",
        "UTC+14:00",
        "UTC-12:00",
    ]
    with pytest.raises(ValueError, match="between -720 and \\+840 minutes"):
        fixed_zone(900)


# -- finding a zone by the words people type --------------------------------------------------

FOUND = [
    # IANA names in any case, with spaces for underscores
    ("america/new_york", "America/New_York"),
    ("America/New York", "America/New_York"),
    ("EUROPE/PARIS", "Europe/Paris"),
    ("utc", "UTC"),
    ("Etc/GMT-2", "Etc/GMT-2"),
    # CLDR exemplar cities, accents ignored, and old names
    ("paris", "Europe/Paris"),
    ("KOLKATA", "Asia/Kolkata"),
    ("Calcutta", "Asia/Kolkata"),
    ("Zürich", "Europe/Zurich"),
    ("Sao Paulo", "America/Sao_Paulo"),
    ("Ho Chi Minh City", "Asia/Ho_Chi_Minh"),
    # cities that are no zone's name
    ("San Francisco", "America/Los_Angeles"),
    ("Mumbai", "Asia/Kolkata"),
    ("Bangalore", "Asia/Kolkata"),
    ("Washington", "America/New_York"),
    ("Washington, D.C.", "America/New_York"),
    ("Munich", "Europe/Berlin"),
    ("Boston", "America/New_York"),
    ("St. Louis", "America/Chicago"),
    # zone names, with or without "Time"
    ("Pacific Time", "America/Los_Angeles"),
    ("pacific standard time", "America/Los_Angeles"),
    ("Central European Time", "Europe/Paris"),
    ("Central European Summer Time", "Europe/Paris"),
    ("India Standard Time", "Asia/Kolkata"),
    ("Eastern Time", "America/New_York"),
    ("Mountain Time", "America/Denver"),
    ("Australian Eastern Standard Time", "Australia/Sydney"),
    ("British Summer Time", "Europe/London"),
    ("New York time", "America/New_York"),
    # abbreviations, the most common meaning
    ("EST", "America/New_York"),
    ("edt", "America/New_York"),
    ("PST", "America/Los_Angeles"),
    ("CET", "Europe/Paris"),
    ("CEST", "Europe/Paris"),
    ("IST", "Asia/Kolkata"),
    ("BST", "Europe/London"),
    ("CST", "America/Chicago"),
    ("JST", "Asia/Tokyo"),
    ("AEST", "Australia/Sydney"),
    ("SAST", "Africa/Johannesburg"),
    ("GMT", "UTC"),
    # countries with one clock
    ("Japan", "Asia/Tokyo"),
    ("India", "Asia/Kolkata"),
    ("Germany", "Europe/Berlin"),
    # offsets: a fixed zone
    ("UTC+2", "UTC+02:00"),
    ("utc +2", "UTC+02:00"),
    ("GMT-5", "UTC-05:00"),
    ("UTC+5:30", "UTC+05:30"),
    ("UTC+0530", "UTC+05:30"),
    ("UTC−03:00", "UTC-03:00"),
    ("+02:00", "UTC+02:00"),
    ("UTC+14", "UTC+14:00"),
    ("UTC-12", "UTC-12:00"),
    ("UTC+0", "UTC"),
    # part of one zone's name
    ("york", "America/New_York"),
    ("  kolkat  ", "Asia/Kolkata"),
]


@pytest.mark.parametrize(("typed", "zone"), FOUND)
def test_find_zone_by_the_words_people_type(typed: str, zone: str) -> None:
    assert find_zone(typed) == zone


@pytest.mark.parametrize(("typed", "zone"), FOUND)
def test_zone_offset_takes_whatever_find_zone_gives(typed: str, zone: str) -> None:
    found = find_zone(typed)
    assert found is not None
    minutes = zone_offset(found, date(2026, 1, 15)).minutes
    assert -720 <= minutes <= 840
    if found == "UTC" or found.startswith(("UTC+", "UTC-")):
        assert next_change(found, date(2026, 1, 15)) is None


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "atlantis",
        "Pariss",
        "europe",  # dozens of zones with different clocks
        "United States",  # a country of several clocks
        "China",  # Shanghai and Urumqi keep different clocks
        "new",
        "ny",  # too short to be a part of a name
        "UTC+15",  # beyond the widest zone
        "UTC-13",
        "UTC+2:75",
        "-300",  # minutes, not an offset
        "12:00",
        "Mars/Olympus",
    ],
)
def test_unknown_or_ambiguous_text_finds_nothing(typed: str) -> None:
    assert find_zone(typed) is None


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=30) | st.sampled_from([t for t, _ in FOUND]).map(lambda t: t + "x"))
def test_any_text_finds_a_usable_zone_or_nothing(text: str) -> None:
    found = find_zone(text)
    if found is not None:
        assert -720 <= zone_offset(found, date(2026, 1, 15)).minutes <= 840


def test_import_stays_free_of_babel_until_a_search() -> None:
    code = (
        "import sys, alsona_nb; from alsona_nb._timezones import find_zone\n"
        "print('babel' in sys.modules); find_zone('Mumbai'); print('babel' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "True"]
