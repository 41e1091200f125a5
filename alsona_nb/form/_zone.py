"""A time zone picker searchable by the words people type, giving the API's offset in minutes.

Typing goes into a ``Combobox`` (a text box: keys type, they do not move a list), whose
suggestions read ``America/New_York (UTC-05:00)``. What is typed is read by
``alsona_nb.find_zone``: zone names in any case, cities ("San Francisco", "Mumbai"), zone names
("Pacific Time"), abbreviations ("EST", "CET") and offsets ("UTC+2"). Two special entries: no
time zone at all, and a fixed offset typed in minutes.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

import ipywidgets as widgets
import traitlets

from .._timezones import ZoneOffset, zone_names, zone_offset
from .._timezones import find_zone as _find_zone
from ._render import esc, line

__all__ = ["MINUTES", "NO_ZONE", "ZonePicker", "find_zone", "zone_label"]

NO_ZONE = "(no time zone: the server's default, UTC)"
MINUTES = "(a fixed offset, typed in minutes)"
_LOWEST, _HIGHEST = -720, 840  # the offsets the API takes


def _clock(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{mins:02d}"


@lru_cache(maxsize=4)
def _offsets(on: date) -> dict[str, ZoneOffset]:
    return {name: zone_offset(name, on) for name in zone_names()}


def zone_label(zone: ZoneOffset) -> str:
    """``America/New_York (UTC-05:00)``: what the suggestions show."""
    return f"{zone.zone} ({_clock(zone.minutes)})"


def _is_fixed(zone: str) -> bool:
    return zone.startswith(("UTC+", "UTC-"))


def find_zone(text: str, names: tuple[str, ...] | None = None) -> str | None:
    """The zone ``text`` means, as ``alsona_nb.find_zone`` reads it, with a suggestion
    (``America/New_York (UTC-05:00)``) read as its zone; ``None`` when none or several match.
    ``names``: when given, a zone outside them is no match (fixed offsets such as
    ``UTC+02:00`` always are one)."""
    found = _find_zone(text.split(" (UTC", 1)[0])
    if found is None or names is None or found in names or _is_fixed(found):
        return found
    return None


def _typed_hint(minutes: int) -> str:
    if not _LOWEST <= minutes <= _HIGHEST:
        return f"A fixed offset of {minutes:+d} min: the API takes -720 to +840 minutes."
    return f"A fixed offset of {minutes:+d} min: {_clock(minutes)}, the same all year."


class ZonePicker(widgets.HBox):  # type: ignore[misc]
    """Pick a zone by typing a city, a zone's name or an offset; ``value`` is the offset in
    minutes (``None`` for no time zone), ``zone`` the zone found (an IANA name, a fixed
    ``"UTC+02:00"``, or ``""`` for no zone and for minutes typed), ``problem`` a plain
    sentence while the text matches no zone (the minutes box is hidden meanwhile).

    ``on``: the date offsets are taken at (today): a zone with daylight saving gets a note
    that the fixed offset will not follow the clock change.
    """

    value = traitlets.Int(0, allow_none=True)
    zone = traitlets.Unicode("UTC")
    problem = traitlets.Unicode("")

    def __init__(self, on: date | None = None, **kwargs: Any) -> None:
        self.on = on or date.today()
        self._zones = _offsets(self.on)
        options = [NO_ZONE, MINUTES, *(zone_label(z) for z in self._zones.values())]
        self.text = widgets.Combobox(
            value="UTC",
            options=options,
            ensure_option=False,
            placeholder="a city, zone or offset: New York, EST, UTC+2",
            description="Time zone",
            style={"description_width": "110px"},
            layout={"width": "440px"},
        ).add_class("alsona-timezone")
        self.minutes = widgets.IntText(
            value=0,
            description="Minutes",
            disabled=True,
            style={"description_width": "60px"},
            layout={"width": "150px"},
        ).add_class("alsona-timezone-minutes")
        self.info = widgets.HTML().add_class("alsona-timezone-info")
        super().__init__([self.text, self.minutes], **kwargs)
        self.add_class("alsona-row")
        self.text.observe(self._sync, names="value")
        self.minutes.observe(self._sync, names="value")
        self._sync()

    def select(self, zone: str) -> None:
        """Show ``zone`` (a zone name, ``MINUTES`` or ``NO_ZONE``)."""
        self.text.value = zone

    def set_minutes(self, minutes: int | None) -> None:
        """Show an offset: the current zone when it has that offset, else typed minutes."""
        if minutes is None:
            self.text.value = NO_ZONE
        elif not self.zone or self._offset(self.zone).minutes != minutes:
            self.text.value = MINUTES
            self.minutes.value = minutes

    def _offset(self, zone: str) -> ZoneOffset:
        return self._zones.get(zone) or zone_offset(zone, self.on)

    def _sync(self, _change: Any = None) -> None:
        typed = self.text.value
        with self.hold_trait_notifications():
            shown = True
            if typed == NO_ZONE:
                self.zone, self.problem, self.value = "", "", None
                self.info.value = line("info", "No time zone is sent: the server uses UTC.")
                shown = False
            elif typed == MINUTES:
                self.zone, self.problem, self.value = "", "", self.minutes.value
                self.info.value = line("info", _typed_hint(self.minutes.value))
            else:
                shown = self._show_zone(typed)
            self.minutes.disabled = typed != MINUTES
            # Hidden rather than showing minutes that are not sent (no zone, or no match).
            self.minutes.layout.visibility = "visible" if shown else "hidden"

    def _show_zone(self, typed: str) -> bool:
        """Shows the zone ``typed`` means; ``False`` (and a problem) when there is none."""
        name = find_zone(typed)
        if name is None:
            self.problem = (
                f"No single time zone matches {typed.strip()!r}: type a city, a zone such as "
                "Pacific Time, or an offset such as UTC+2, and pick one of the suggestions"
                if typed.strip()
                else "Pick a time zone (type a city, e.g. Paris)"
            )
            self.zone = ""
            self.info.value = ""
            return False
        found = self._offset(name)
        self.zone, self.problem, self.value = name, "", found.minutes
        self.minutes.value = found.minutes
        what = "a fixed offset" if _is_fixed(name) else _clock(found.minutes)
        note = esc(f"{name}: {what}, sent as {found.minutes:+d} min.")
        self.info.value = f"<div>{note}</div>" + (
            line("warn", found.warning, "alsona-dst-warning") if found.warning else ""
        )
        return True
