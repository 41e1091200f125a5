"""One cell of a sheet read: seat lists, day names and ranges, hours, time zones, schedules,
and every sentence the sheet reader says about a cell (the model says the rest).

Each reader takes the cell as a sheet gives it (text, a number, a list) and returns the value
a ``CampaignDraft`` is checked with, or raises ``Bad`` with the reasons in plain words.
"""

from __future__ import annotations

import json
import numbers
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import available_timezones

from pydantic import ValidationError

from ._frames import is_missing
from ._models import DAYS, WeeklySchedule, problems
from ._timezones import find_zone, offset_minutes

#: Every sentence the reader says about a cell, by kind; the model says the rest.
SAY = {
    "no_seats": "No seats: give one seat id, or several separated by ; or ,",
    "seats_kind": "Seats must be a list or text like 'seat_a; seat_b', not {value!r}",
    "no_days": "No days: give e.g. mon-fri, mon,wed,fri or every day",
    "days_kind": "Days must be text like mon-fri, not {value!r}",
    "not_a_day": (
        "{value!r} is not a day: use mon..sun (or mo, tu, tues, thu, thurs...), a range "
        "like mon-fri, a list like mon,wed,fri, or every day"
    ),
    "no_hour": "Missing: give a whole hour such as 9 or 09:00",
    "not_an_hour": "{value!r} is not an hour: use 9 or 09:00",
    "part_hour": "{value!r}: campaigns run in whole hours (use {hour}:00)",
    "true_false": "Must be a number of {unit}, not true/false",
    "not_whole": "{value:g} is not a whole number of {unit}",
    "unknown_zone": (
        "Unknown time zone {value!r}: use a zone such as 'Europe/Paris' or 'Pacific Time', "
        "a city, an offset such as UTC+2, or minutes such as -300"
    ),
    "zone_kind": "A zone is a name such as 'Europe/Paris', not {value!r} (minutes go in timezone)",
    "clash": "{value!r} does not agree with {other!r} in {column}: give the zone once",
    "schedule_kind": (
        "The schedule must be the API's seven days, e.g. "
        '{{"monday": [true, 9, 17], ..., "sunday": [false, 9, 17]}}'
    ),
    "no_schedule": "No schedule: give days, start_hour and end_hour, or a schedule",
    "repeated_id": "campaign id already used by row {row}",
    "extra_cells": (
        "This row has {cells} cells but the header names {width} columns, so {lost!r} would "
        'be lost: quote a cell that holds the delimiter ("seat_a, seat_b"), put ; between '
        "seats, or give the column a name"
    ),
}
GROUPS = {
    "every day": DAYS,
    "everyday": DAYS,
    "daily": DAYS,
    "all": DAYS,
    "all week": DAYS,
    "weekdays": DAYS[:5],
    "weekday": DAYS[:5],
    "workdays": DAYS[:5],
    "weekends": DAYS[5:],
    "weekend": DAYS[5:],
}
ABBREVIATIONS = {
    "monday": ("mo", "mon", "mond"),
    "tuesday": ("tu", "tue", "tues"),
    "wednesday": ("we", "wed", "weds", "wedn"),
    "thursday": ("th", "thu", "thur", "thurs"),
    "friday": ("fr", "fri"),
    "saturday": ("sa", "sat"),
    "sunday": ("su", "sun"),
}
#: Every accepted spelling of a day (lower case, without a trailing dot) -> its index.
DAY_NAMES: dict[str, int] = {
    word: DAYS.index(day)
    for day, short in ABBREVIATIONS.items()
    for word in (day, day + "s", *short)
}
HOUR_TEXT = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")
MINUTES_TEXT = re.compile(r"^[+-]?\d+$")
FIXED_ZONE = re.compile(r"UTC[+-]\d{2}:\d{2}")


def say(kind: str, **values: Any) -> str:
    return SAY[kind].format(**values)


class Bad(ValueError):
    """A cell that cannot be read, and why (one sentence or more)."""

    def __init__(self, *reasons: str) -> None:
        self.reasons = reasons
        super().__init__("; ".join(reasons))


class Where(NamedTuple):
    """What a ``timezone`` or ``zone`` cell says: minutes, a zone, or both unknown."""

    minutes: int | None
    zone: str | None


# -- cells --------------------------------------------------------------------------------


def blank_cell(value: Any) -> bool:
    return is_missing(value) or (isinstance(value, str) and not value.strip())


def text_cell(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def seats_cell(value: Any) -> tuple[Any, ...]:
    if isinstance(value, str):
        found = tuple(s.strip() for s in re.split(r"[;,]", value) if s.strip())
    elif isinstance(value, Iterable) and not isinstance(value, Mapping):
        found = tuple(s.strip() if isinstance(s, str) else s for s in value)
    else:
        raise Bad(say("seats_kind", value=value))
    if not found:
        raise Bad(say("no_seats"))
    return found


def day_number(token: str) -> int:
    number = DAY_NAMES.get(token.rstrip("."))
    if number is None:
        raise Bad(say("not_a_day", value=token))
    return number


def days_cell(value: Any) -> tuple[str, ...]:
    """The days a cell names, Monday first: ``mon-fri``, ``fri-mon`` (wraps round the week),
    ``mo we fr``, ``Tues, Thurs``, ``mon to wed; sat``, ``weekdays``, ``every day``..."""
    tokens: list[str]
    if isinstance(value, str):
        text = " ".join(value.lower().replace("\u2013", "-").split())
        if text in GROUPS:
            return GROUPS[text]
        text = re.sub(r"\s*(?:-|\bto\b|\bthrough\b|\bthru\b)\s*", "-", text)
        tokens = [t for t in re.split(r"[,;/&+ ]+|\band\b", text) if t and t != "and"]
    elif isinstance(value, Iterable):
        tokens = [str(t).strip().lower() for t in value]
    else:
        raise Bad(say("days_kind", value=value))
    chosen: set[str] = set()
    for token in tokens:
        if token in GROUPS:
            chosen.update(GROUPS[token])
        elif "-" in token:
            first, _, last = token.partition("-")
            a, b = day_number(first), day_number(last)
            span = range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)]
            chosen.update(DAYS[i] for i in span)
        else:
            chosen.add(DAYS[day_number(token)])
    if not chosen:
        raise Bad(say("no_days"))
    return tuple(day for day in DAYS if day in chosen)


def number_cell(value: Any, unit: str) -> int | None:
    """A cell that already holds a number, as an int (``None`` for text)."""
    if isinstance(value, bool):
        raise Bad(say("true_false", unit=unit))
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise Bad(say("not_whole", value=value, unit=unit))
        return int(value)
    return None


def hour_cell(value: Any) -> int:
    number = number_cell(value, "hours")
    if number is not None:
        return number
    match = HOUR_TEXT.match(str(value).strip())
    if match is None:
        raise Bad(say("not_an_hour", value=value))
    if match.group(2) not in (None, "00"):
        raise Bad(say("part_hour", value=value, hour=match.group(1)))
    return int(match.group(1))  # the model checks the range (0..24) and start < end


def timezone_cell(value: Any) -> Where:
    """Minutes (a number, or text such as ``-300``), or a zone as ``zone_cell`` reads it."""
    number = number_cell(value, "minutes")
    if number is not None:
        return Where(number, None)
    text = str(value).strip()
    if MINUTES_TEXT.match(text):
        return Where(int(text), None)
    return zone_cell(text)


def zone_cell(value: Any) -> Where:
    """A zone by the words people type (``America/New_York``, ``Pacific Time``, a city);
    a fixed offset (``UTC+2``) gives its minutes, since no clock change can move it."""
    if not isinstance(value, str) or MINUTES_TEXT.match(value.strip()):
        raise Bad(say("zone_kind", value=value))
    text = value.strip()
    if text in iana_names():
        return Where(None, text)  # the common case, without building the word index
    found = find_zone(text)
    if found is None:
        raise Bad(say("unknown_zone", value=text))
    if FIXED_ZONE.fullmatch(found):
        return Where(offset_minutes(found, date(2000, 1, 1)), None)
    return Where(None, found)


@lru_cache(maxsize=1)
def iana_names() -> frozenset[str]:
    return frozenset(available_timezones())


def schedule_cell(value: Any) -> WeeklySchedule:
    """The API's seven-day dict (or its JSON text, as a CSV holds it)."""
    if isinstance(value, WeeklySchedule):
        return value
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise Bad(say("schedule_kind")) from None
    if not isinstance(value, Mapping):
        raise Bad(say("schedule_kind"))
    try:
        return WeeklySchedule.model_validate(value)
    except ValidationError as exc:
        raise Bad(*(reason for _, reason in problems(exc))) from None


PARSERS: dict[str, Callable[[Any], Any]] = {
    "name": text_cell,
    "status": text_cell,
    "campaign_id": text_cell,
    "account_id": text_cell,
    "seats": seats_cell,
    "days": days_cell,
    "start_hour": hour_cell,
    "end_hour": hour_cell,
    "timezone": timezone_cell,
    "zone": zone_cell,
    "schedule": schedule_cell,
}
