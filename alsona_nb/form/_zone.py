"""A time zone picker searchable by city or region, giving the API's offset in minutes.

Typing goes into a ``Combobox`` (a text box: keys type, they do not move a list), whose
suggestions read ``America/New_York (UTC-05:00)``. What is typed is matched against the zone
names with ``_`` read as a space, anywhere in the name and in any case, so "york", "new york"
or "paris" find their zone. Two special entries: no time zone at all, and a fixed offset typed
in minutes.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

import ipywidgets as widgets
import traitlets

from .._timezones import ZoneOffset, zone_names, zone_offset
from ._render import esc, line

__all__ = ["MINUTES", "NO_ZONE", "ZonePicker", "find_zone", "zone_label"]

NO_ZONE = "(no time zone: the server's default, UTC)"
MINUTES = "(a fixed offset, typed in minutes)"


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


def _key(text: str) -> str:
    return " ".join(text.replace("_", " ").replace("/", " / ").lower().split())


def find_zone(text: str, names: tuple[str, ...] | None = None) -> str | None:
    """The zone name ``text`` means: a suggestion, an exact name, or the one zone whose name
    contains it ("york" -> ``America/New_York``); ``None`` when none or several match.
    An exact city match wins over longer names ("paris" -> ``Europe/Paris``)."""
    names = names if names is not None else zone_names()
    wanted = text.split(" (UTC", 1)[0].strip()
    if not wanted:
        return None
    if wanted in names:
        return wanted
    key = _key(wanted)
    by_key = {_key(n): n for n in names}
    if key in by_key:
        return by_key[key]
    cities = [n for n in names if _key(n.rsplit("/", 1)[-1]) == key]
    if len(cities) == 1:
        return cities[0]
    found = [n for n in names if key in _key(n)]
    return found[0] if len(found) == 1 else None


class ZonePicker(widgets.HBox):  # type: ignore[misc]
    """Pick a zone by typing part of its name; ``value`` is the offset in minutes (``None``
    for no time zone), ``problem`` a plain sentence while the text matches no zone.

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
            placeholder="type a city or region, e.g. New York",
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
        elif self.zone not in self._zones or self._zones[self.zone].minutes != minutes:
            self.text.value = MINUTES
            self.minutes.value = minutes

    def _sync(self, _change: Any = None) -> None:
        typed = self.text.value
        with self.hold_trait_notifications():
            if typed == NO_ZONE:
                self.zone, self.problem, self.value = "", "", None
                self.info.value = line("info", "No time zone is sent: the server uses UTC.")
            elif typed == MINUTES:
                self.zone, self.problem, self.value = "", "", self.minutes.value
                self.info.value = line(
                    "info", "A fixed offset from UTC in minutes: -300 is UTC-05:00."
                )
            else:
                name = find_zone(typed, tuple(self._zones))
                if name is None:
                    self.problem = (
                        f"No single time zone matches {typed.strip()!r}: type a city or region "
                        "and pick one of the suggestions"
                        if typed.strip()
                        else "Pick a time zone (type a city, e.g. Paris)"
                    )
                    self.zone = ""
                    self.info.value = ""
                    return
                found = self._zones[name]
                self.zone, self.problem, self.value = name, "", found.minutes
                self.minutes.value = found.minutes
                note = esc(f"{name}: {_clock(found.minutes)}, sent as {found.minutes:+d} min.")
                self.info.value = f"<div>{note}</div>" + (
                    line("warn", found.warning, "alsona-dst-warning") if found.warning else ""
                )
            self.minutes.disabled = typed != MINUTES
