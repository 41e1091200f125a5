"""The zone picker on its own, in the kernel: what people type, the minutes it gives, what the
minutes box and the hint show."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest

from alsona_nb.form._zone import MINUTES, NO_ZONE, ZonePicker, find_zone

WINTER = date(2026, 1, 15)
SUMMER = date(2026, 7, 15)


def plain(html_text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


def shown(picker: ZonePicker) -> bool:
    return bool(picker.minutes.layout.visibility != "hidden")


@pytest.mark.parametrize(
    ("typed", "zone", "minutes", "dst"),
    [
        ("San Francisco", "America/Los_Angeles", -480, True),
        ("Mumbai", "Asia/Kolkata", 330, False),
        ("Pacific Time", "America/Los_Angeles", -480, True),
        ("EST", "America/New_York", -300, True),
        ("CET", "Europe/Paris", 60, True),
        ("AEST", "Australia/Sydney", 660, True),  # January is Sydney's summer
        ("UTC+2", "UTC+02:00", 120, False),
        ("GMT-3:30", "UTC-03:30", -210, False),
        ("Etc/GMT-2", "Etc/GMT-2", 120, False),  # a name the suggestions leave out
        ("America/New_York (UTC-05:00)", "America/New_York", -300, True),  # a suggestion
    ],
)
def test_typed_words_give_the_zone_and_its_minutes(
    typed: str, zone: str, minutes: int, dst: bool
) -> None:
    picker = ZonePicker(on=WINTER)
    picker.text.value = typed
    assert (picker.zone, picker.value, picker.problem) == (zone, minutes, "")
    assert picker.minutes.value == minutes and shown(picker) and picker.minutes.disabled
    info = plain(picker.info.value)
    assert f"sent as {minutes:+d} min" in info
    assert ("daylight saving" in info) is dst


def test_a_fixed_offset_is_said_to_be_one() -> None:
    picker = ZonePicker(on=WINTER)
    picker.text.value = "UTC+5:30"
    assert plain(picker.info.value) == "UTC+05:30: a fixed offset, sent as +330 min."


def test_offsets_are_taken_on_the_pickers_date() -> None:
    picker = ZonePicker(on=SUMMER)
    picker.text.value = "EST"  # New York's zone, which is on daylight saving in July
    assert picker.value == -240


def test_no_match_hides_the_minutes_of_the_last_match() -> None:
    picker = ZonePicker(on=WINTER)
    picker.text.value = "Mumbai"
    assert picker.minutes.value == 330 and shown(picker)
    picker.text.value = "Atlantis"
    assert picker.problem.startswith("No single time zone matches 'Atlantis'")
    assert "UTC+2" in picker.problem  # says what may be typed
    assert not shown(picker) and picker.zone == "" and picker.info.value == ""
    picker.text.value = "europe"  # ambiguous: no guess either
    assert picker.problem.startswith("No single time zone matches 'europe'")
    assert not shown(picker)
    picker.text.value = ""
    assert picker.problem == "Pick a time zone (type a city, e.g. Paris)" and not shown(picker)
    picker.text.value = "Paris"
    assert (picker.value, picker.minutes.value, picker.problem) == (60, 60, "") and shown(picker)


def test_no_time_zone_hides_the_minutes_too() -> None:
    picker = ZonePicker(on=WINTER)
    picker.text.value = "Tokyo"
    picker.select(NO_ZONE)
    assert picker.value is None and not shown(picker)
    assert "No time zone is sent" in plain(picker.info.value)


def test_the_fixed_offset_hint_shows_the_minutes_typed() -> None:
    picker = ZonePicker(on=WINTER)
    picker.select(MINUTES)
    assert not picker.minutes.disabled and shown(picker)
    picker.minutes.value = -180
    assert picker.value == -180
    assert plain(picker.info.value) == "A fixed offset of -180 min: UTC-03:00, the same all year."
    picker.minutes.value = 345
    assert plain(picker.info.value) == "A fixed offset of +345 min: UTC+05:45, the same all year."
    picker.minutes.value = 900
    assert "+900 min: the API takes -720 to +840 minutes" in plain(picker.info.value)


def test_set_minutes_keeps_a_fixed_zone_with_that_offset() -> None:
    picker = ZonePicker(on=WINTER)
    picker.text.value = "UTC+2"
    picker.set_minutes(120)
    assert (picker.text.value, picker.zone) == ("UTC+2", "UTC+02:00")
    picker.set_minutes(60)
    assert (picker.text.value, picker.value, picker.zone) == (MINUTES, 60, "")


def test_find_zone_within_names() -> None:
    assert find_zone("Tokyo", names=("UTC", "Asia/Tokyo")) == "Asia/Tokyo"
    assert find_zone("Tokyo", names=("UTC",)) is None
    assert find_zone("UTC+2", names=("UTC",)) == "UTC+02:00"  # offsets are always a match
    assert find_zone("Atlantis (UTC+01:00)") is None
