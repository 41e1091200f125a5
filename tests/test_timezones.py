"""Zone names to fixed offsets (NOTES 8)."""

from __future__ import annotations

from datetime import date

import pytest

from alsona_nb import zone_offset
from alsona_nb._timezones import zone_names


def test_new_york_winter_and_summer() -> None:
    winter = zone_offset("America/New_York", date(2026, 1, 15))
    summer = zone_offset("America/New_York", date(2026, 7, 15))
    assert (winter.minutes, summer.minutes) == (-300, -240)
    assert winter.observes_dst and summer.observes_dst
    assert winter.warning is not None and "will not follow" in winter.warning


def test_zone_without_dst_has_no_warning() -> None:
    kolkata = zone_offset("Asia/Kolkata", date(2026, 7, 1))
    assert kolkata.minutes == 330
    assert not kolkata.observes_dst
    assert kolkata.warning is None
    assert str(kolkata) == "Asia/Kolkata: UTC+05:30 (+330 min)"


def test_utc() -> None:
    assert zone_offset("UTC", date(2026, 3, 1)).minutes == 0


def test_unknown_zone_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        zone_offset("Mars/Olympus")


def test_zone_names_start_with_utc_and_are_real() -> None:
    names = zone_names()
    assert names[0] == "UTC"
    assert "Europe/Paris" in names
    assert all(zone_offset(n, date(2026, 1, 1)) for n in names[:50])
