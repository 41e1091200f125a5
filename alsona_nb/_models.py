"""The campaign models: the one place that says what a valid campaign is.

The client, the sandbox, the form and bulk creation all validate through these. Strict on
what is sent (hours are whole numbers 0-24, statuses from the enum), lenient on what is read
(the vendor's own example answers ``[true, true, true]`` days and statuses like ``PAUSED``).
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from datetime import datetime, timezone
from enum import Enum
from functools import lru_cache
from typing import Annotated, Any, NamedTuple

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

DAYS: tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)


# Ids are never checked by prefix (the vendor's pages use several forms): only non-empty and
# without whitespace.
def _check_identifier(value: str) -> str:
    if not value:
        raise ValueError("cannot be empty")
    if any(c.isspace() for c in value):
        raise ValueError(f"cannot contain spaces or line breaks ({value!r})")
    return value


def mint_campaign_id() -> str:
    """A new campaign id of the seed's form: ``campaign_`` + 20 lowercase hex digits
    (80 random bits from ``secrets``), chosen before the first try so that a retry repeats
    the same create."""
    return "campaign_" + secrets.token_hex(10)


Identifier = Annotated[str, AfterValidator(_check_identifier)]
Hour = Annotated[int, Field(strict=True, ge=0, le=24)]
# UTC offsets in use run from -12:00 to +14:00.
OffsetMinutes = Annotated[int, Field(strict=True, ge=-720, le=840)]
#: Longest campaign name accepted: a name is a label, and an answer holding a huge one
#: would pass the client's answer-size cap and could never be read back.
MAX_NAME_LENGTH = 500


@lru_cache(maxsize=512)
def _is_zone(name: str) -> bool:
    """An IANA name, or a fixed offset as ``find_zone`` writes it (``"UTC+02:00"``)."""
    from ._timezones import zone_offset  # on first use: import alsona_nb stays light

    try:
        zone_offset(name)
    except ValueError:
        return False
    return True


def _check_zone(value: str) -> str:
    value = value.strip()
    if not _is_zone(value):
        raise ValueError(f"{value!r} is not a time zone name")
    return value


ZoneName = Annotated[str, AfterValidator(_check_zone)]


class CampaignStatus(str, Enum):
    """The statuses a campaign may be sent with (answers may carry others, such as PAUSED)."""

    DRAFT = "DRAFT"
    RUN = "RUN"
    PAUSE = "PAUSE"
    DONE = "DONE"

    def __str__(self) -> str:
        return self.value


class DayWindow(BaseModel):
    """One day of a schedule: on or off, and the hours ``[start_hour, end_hour)``.

    On the wire it is ``[enabled, start_hour, end_hour]``. A disabled day keeps
    its hours so that enabling it again restores them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: Annotated[bool, Field(strict=True)]
    start_hour: Hour
    end_hour: Hour

    @model_validator(mode="before")
    @classmethod
    def _from_wire(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            if len(value) != 3:
                raise ValueError(
                    f"give three values, [on or off, start hour, end hour], not {len(value)}"
                )
            if any(isinstance(v, bool) for v in value[1:]):
                # The vendor's example sends [true, true, true]; that is not an hour.
                raise ValueError("hours must be whole numbers, not true/false")
            return {"enabled": value[0], "start_hour": value[1], "end_hour": value[2]}
        return value

    @model_validator(mode="after")
    def _start_before_end(self) -> DayWindow:
        if self.start_hour >= self.end_hour:
            raise ValueError("the end hour must be after the start hour")
        return self

    @model_serializer
    def _to_wire(self) -> list[bool | int]:
        return [self.enabled, self.start_hour, self.end_hour]

    @property
    def hours(self) -> range:
        """The hours of the day this window sends in (empty when disabled)."""
        return range(self.start_hour, self.end_hour) if self.enabled else range(0)


class WeeklySchedule(BaseModel):
    """The seven days of a campaign's schedule, all required."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    monday: DayWindow
    tuesday: DayWindow
    wednesday: DayWindow
    thursday: DayWindow
    friday: DayWindow
    saturday: DayWindow
    sunday: DayWindow

    @classmethod
    def weekdays(cls, start_hour: int = 9, end_hour: int = 17) -> WeeklySchedule:
        """Monday to Friday on, the weekend off with the same hours."""
        return cls.model_validate(
            {day: [day not in ("saturday", "sunday"), start_hour, end_hour] for day in DAYS}
        )

    @classmethod
    def every_day(cls, start_hour: int = 9, end_hour: int = 17) -> WeeklySchedule:
        """All seven days on with the same hours."""
        return cls.model_validate({day: [True, start_hour, end_hour] for day in DAYS})

    def days(self) -> dict[str, DayWindow]:
        """The windows by day name, Monday first."""
        return {day: getattr(self, day) for day in DAYS}

    @property
    def enabled_days(self) -> list[str]:
        """Names of the days that are switched on."""
        return [day for day, window in self.days().items() if window.enabled]

    @property
    def hours_per_week(self) -> int:
        """How many hours a week the campaign may send."""
        return sum(len(window.hours) for window in self.days().values())


class CampaignDraft(BaseModel):
    """A campaign as the analyst means to create it; ``to_payload()`` is the exact body sent.

    ``account_id`` may be left out: the client fills in its own account. ``zone`` is the
    IANA time zone the campaign is meant for (``"America/New_York"``): never sent, since the
    API keeps only an offset; when ``timezone`` is not given, the client sends the zone's
    offset on the day the campaign is sent, and the zone is kept beside the campaign in
    journals and frames so that daylight-saving drift can be found later.
    A ``RUN`` campaign needs at least one day with hours.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, Field(max_length=MAX_NAME_LENGTH)]
    seats: list[Identifier] = Field(min_length=1)
    schedule: WeeklySchedule
    account_id: Identifier | None = None
    status: CampaignStatus = CampaignStatus.DRAFT
    timezone: OffsetMinutes | None = None
    campaign_id: Identifier | None = None
    created_at: Annotated[int, Field(strict=True, ge=0)] | None = None
    zone: Annotated[ZoneName | None, Field(exclude=True)] = None

    @field_validator("name", mode="before")
    @classmethod
    def _trim_name(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                raise ValueError("Give the campaign a name")
        return value

    @field_validator("seats", mode="before")
    @classmethod
    def _seats_as_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            raise ValueError("give a list of seat ids, not one piece of text")
        return value

    @field_validator("seats")
    @classmethod
    def _no_repeated_seat(cls, value: list[str]) -> list[str]:
        repeated = sorted(seat for seat, n in Counter(value).items() if n > 1)
        if repeated:
            more = f" and {len(repeated) - 5} more" if len(repeated) > 5 else ""
            raise ValueError(f"picked more than once: {', '.join(repeated[:5])}{more}")
        return value

    @field_validator("status", mode="before")
    @classmethod
    def _status_upper(cls, value: Any) -> Any:
        if isinstance(value, str) and not isinstance(value, CampaignStatus):
            return value.strip().upper()
        return value

    @model_validator(mode="after")
    def _running_needs_hours(self) -> CampaignDraft:
        if self.status is CampaignStatus.RUN and self.schedule.hours_per_week == 0:
            raise ValueError(_RUN_WITHOUT_HOURS)
        return self

    def to_payload(self, *, now_ms: int | None = None) -> dict[str, Any]:
        """The JSON body for the create call: ``{"campaign": {...}}``.

        ``created_at`` is filled with the current time in epoch milliseconds when the
        draft has none; fields that are ``None`` are left out.
        """
        campaign = self.model_dump(mode="json", exclude_none=True)
        if "created_at" not in campaign:
            campaign["created_at"] = now_ms if now_ms is not None else int(time.time() * 1000)
        return {"campaign": campaign}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> CampaignDraft:
        """Read a body made by ``to_payload`` (or by hand) back into a draft."""
        body = payload.get("campaign", payload) if isinstance(payload, dict) else payload
        return cls.model_validate(body)


_RUN_WITHOUT_HOURS = (
    "A running campaign needs at least one day with hours: tick a day, or save it as DRAFT"
)


def _ms_to_datetime(value: int | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):  # a "for ever" sentinel such as 2**63-1
        return None


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else ""


class Campaign(BaseModel):
    """A campaign as the server answered it, read leniently.

    ``status`` is a plain string, day lists may hold ints or the vendor example's booleans,
    and fields this package does not know are kept. Only what identifies the campaign is
    required; the epoch-ms fields are also available as UTC datetimes.
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    campaign_id: Identifier
    name: str
    account_id: str
    status: str
    seats: list[str]
    schedule: dict[str, list[bool | int]]
    timezone: int | None = None
    priority: int | None = None
    wait_until: int | None = None
    created_at: int | None = None

    @property
    def created_at_datetime(self) -> datetime | None:
        """``created_at`` as a UTC datetime."""
        return _ms_to_datetime(self.created_at)

    @property
    def priority_datetime(self) -> datetime | None:
        """``priority`` (epoch ms) as a UTC datetime."""
        return _ms_to_datetime(self.priority)

    @property
    def wait_until_datetime(self) -> datetime | None:
        """``wait_until`` as a UTC datetime."""
        return _ms_to_datetime(self.wait_until)

    def _repr_html_(self) -> str:
        """A small card: id, name, status, seats, the week, and the times (UTC)."""
        import html

        week = self.weekly_schedule()
        days = (
            ", ".join(
                f"{day[:3].capitalize()} {w.start_hour}:00-{w.end_hour}:00"
                for day, w in week.days().items()
                if w.enabled
            )
            if week is not None
            else str(self.schedule)
        )
        rows = {
            "Campaign ID": self.campaign_id,
            "Name": self.name,
            "Status": self.status,
            "Account": self.account_id,
            "Seats": ", ".join(self.seats),
            "Sends": days or "no day ticked",
            "Time offset": "" if self.timezone is None else f"{self.timezone:+d} min",
            "Created": _when(self.created_at_datetime),
            "Waits until": _when(self.wait_until_datetime),
        }
        cells = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in rows.items()
            if v
        )
        return f"<table class='alsona-campaign'>{cells}</table>"

    def weekly_schedule(self) -> WeeklySchedule | None:
        """The schedule as a ``WeeklySchedule``, or ``None`` when the server sent another
        shape (such as the vendor example's ``[true, true, true]``)."""
        try:
            return WeeklySchedule.model_validate(self.schedule)
        except ValueError:
            return None


_LABELS = {
    "name": "Name",
    "seats": "Seats",
    "schedule": "Schedule",
    "status": "Status",
    "account_id": "Account ID",
    "campaign_id": "Campaign ID",
    "timezone": "Time offset",
    "created_at": "Created at",
    "start_hour": "start hour",
    "end_hour": "end hour",
}


def problems(exc: ValidationError) -> list[tuple[str, str]]:
    """One ``(field, sentence)`` per problem, in plain words for a person.

    ``field`` is the draft's field (``schedule`` for the schedule as a whole, a day name for
    one day, the name itself for an unknown field or day, ``""`` when the input as a whole is
    wrong); the sentence never holds field paths or validator jargon:
    ``("wednesday", "Wednesday: the end hour must be after the start hour")``.
    """
    found: list[tuple[str, str]] = []
    for err in exc.errors():
        item = _problem(err)
        if item not in found:
            found.append(item)
    return found


def describe_errors(exc: ValidationError) -> list[str]:
    """The sentences of ``problems(exc)``: one plain sentence per problem."""
    return [sentence for _, sentence in problems(exc)]


_WHOLE = frozenset({"int_type", "int_parsing", "int_from_float", "bool_type"})
_RANGE = frozenset({"greater_than_equal", "less_than_equal"})


class _Rule(NamedTuple):
    """One message: for ``field`` (``"*"``: any) and ``part`` (of a day: ``enabled``, an
    hour, ``""`` for the day itself, ``"*"`` any), when the error's kind is in ``kinds``
    (empty: any) and, with ``custom``, only when the validator said something of its own."""

    field: str
    part: str
    kinds: frozenset[str]
    message: str
    custom: bool = False


def _rule(field: str, part: str, kinds: str, message: str, custom: bool = False) -> _Rule:
    return _Rule(field, part, frozenset(kinds.split()), message, custom)


# First match wins. {label}: the field's or day's name; {what}: the hour's name;
# {custom}: what the validator said; {head}: the field as given.
_RULES = (
    _rule("day", "", "missing", "{label} is missing from the schedule"),
    _rule("day", "", "extra_forbidden", "{head!r} is not a day of the week"),
    _rule("day", "enabled", "", "{label}: on or off must be true or false"),
    _rule("day", "*", "missing", "{label}: the {what} is missing"),
    _rule("day", "*", " ".join(_RANGE), "{label}: the {what} must be between 0 and 24"),
    _rule("day", "*", " ".join(_WHOLE), "{label}: the {what} must be a whole number"),
    _rule("day", "*", "", "{label}: {custom}", custom=True),
    _rule("day", "*", "", "{label}: give [on or off, start hour, end hour], e.g. [true, 9, 17]"),
    _rule("*", "", "extra_forbidden", "{head!r} is not a campaign field"),
    _rule("*", "*", "string_unicode", "{label} holds a broken character; type it again"),
    _rule("seats", "", "missing too_short", "Pick at least one seat"),
    _rule("seats", "item", "", "Seat ids {custom}", custom=True),
    _rule("seats", "item", "", "Seat ids must be text"),
    _rule("seats", "", "", "Seats: {custom}", custom=True),
    _rule("seats", "", "", "Seats: give a list of seat ids"),
    _rule("name", "", "missing", "Give the campaign a name"),
    _rule(
        "name",
        "",
        "string_too_long",
        f"The name is too long (at most {MAX_NAME_LENGTH} characters)",
    ),
    _rule("name", "", "", "{custom}", custom=True),
    _rule("name", "", "", "The name must be text"),
    _rule("zone", "", "", "The time zone {custom}", custom=True),
    _rule("*", "", "missing", "{label} is missing"),
    _rule(
        "status", "", "enum", "Status must be one of " + ", ".join(s.value for s in CampaignStatus)
    ),
    _rule(
        "timezone",
        "",
        " ".join(_RANGE),
        "The time offset must be between -720 and +840 minutes (UTC-12 to UTC+14)",
    ),
    _rule(
        "timezone",
        "",
        "",
        "The time offset must be a whole number of minutes (or pick a time zone)",
    ),
    _rule("*", "", " ".join(_WHOLE), "{label} must be a whole number"),
    _rule("*", "", "greater_than_equal", "{label} must not be negative"),
    _rule("*", "", "string_type", "{label} must be text"),
    _rule("*", "", "", "{label} {custom}", custom=True),
)


def _problem(err: Any) -> tuple[str, str]:
    loc = list(err["loc"])
    kind, ctx = err["type"], err.get("ctx") or {}
    custom = str(ctx.get("error", "")) if kind == "value_error" else ""
    if not loc:
        if kind in ("model_type", "model_attributes_type"):
            return "", "Give a campaign as a dict of its fields"
        return "", custom or err["msg"]
    head = str(loc[0])
    if head in DAYS:  # a WeeklySchedule on its own
        loc = ["schedule", *loc]
    elif head in ("enabled", "start_hour", "end_hour"):  # a DayWindow on its own
        loc = ["schedule", "", *loc]
    head = str(loc[0])
    if head == "schedule" and len(loc) == 1 and kind != "missing":
        return "schedule", "The schedule must give all seven days, Monday to Sunday"
    if head == "schedule" and len(loc) >= 2 and isinstance(loc[1], str):
        day = str(loc[1])
        part = str(loc[2]) if len(loc) >= 3 else ""
        label = day.capitalize() if day in DAYS else "This day"
        words = {"label": label, "what": _LABELS.get(part, "hours"), "custom": custom, "head": day}
        return day, _first("day", part, kind, custom, words)
    part = "item" if head == "seats" and len(loc) >= 2 else ""
    words = {"label": _LABELS.get(head, head), "what": "", "custom": custom, "head": head}
    message = _first(head, part, kind, custom, words)
    if message is None:
        message = f"{words['label']}: {err['msg'][:1].lower()}{err['msg'][1:]}"
    return head, message


def _first(field: str, part: str, kind: str, custom: str, words: dict[str, str]) -> Any:
    for rule in _RULES:
        if rule.field not in ("*", field) or rule.part not in ("*", part):
            continue
        if (rule.kinds and kind not in rule.kinds) or (rule.custom and not custom):
            continue
        return rule.message.format(**words)
    return None
