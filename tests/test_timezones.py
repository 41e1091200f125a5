"""Zone names to the fixed offsets the API takes (NOTES 8), and that every one of them is a
time offset a campaign accepts."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from alsona_nb import CampaignDraft, WeeklySchedule, ZoneOffset, zone_offset
from alsona_nb._timezones import zone_names


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
