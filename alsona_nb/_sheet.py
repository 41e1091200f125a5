"""The sheet reader: campaigns from a CSV file or a DataFrame, checked row by row.

``read_campaigns_csv`` and ``drafts_from_frame`` turn sheet text (``mon-fri``, ``09:00``,
zone names) into ``CampaignDraft`` inputs and return a ``DraftBatch``: the valid drafts and
a report of every problem, in plain words. Every rule about what a valid campaign is lives
in ``CampaignDraft``; nothing here sends anything.
"""

from __future__ import annotations

import csv
import io
import math
import numbers
import re
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pandas as pd
from pydantic import ValidationError

from ._errors import InvalidDraftError
from ._models import DAYS, CampaignDraft, problems
from ._timezones import zone_offset

if TYPE_CHECKING:
    from os import PathLike

__all__ = [
    "DraftBatch",
    "InvalidRowsError",
    "ValidationReport",
    "drafts_from_frame",
    "read_campaigns_csv",
]

#: The columns a sheet may have; ``name``, ``seats``, ``days``, ``start_hour`` and
#: ``end_hour`` are required (or ``schedule`` instead of the last three).
FIELDS = (
    "name",
    "seats",
    "days",
    "start_hour",
    "end_hour",
    "timezone",
    "status",
    "campaign_id",
    "account_id",
    "schedule",
)
_REQUIRED = ("name", "seats")
_SCHEDULE_PARTS = ("days", "start_hour", "end_hour")
REPORT_COLUMNS = ["row", "column", "value", "reason"]

_GROUPS = {
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
_ABBREVIATIONS = {
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
    for day, short in _ABBREVIATIONS.items()
    for word in (day, day + "s", *short)
}
_HOUR = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")
_MINUTES = re.compile(r"^[+-]?\d+$")


class ValidationReport(pd.DataFrame):
    """The report of a ``DraftBatch``: one line per problem (``row``, ``column``, ``value``,
    ``reason``). A DataFrame that never cuts a reason short when shown."""

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame  # a slice of the report is a plain frame

    def _repr_html_(self) -> str | None:
        with pd.option_context("display.max_colwidth", None):
            html = pd.DataFrame._repr_html_(self)  # type: ignore[operator,attr-defined,unused-ignore]
        return cast("str | None", html)

    def __repr__(self) -> str:
        with pd.option_context(
            "display.max_colwidth", None, "display.width", None, "display.max_columns", None
        ):
            return super().__repr__()


class InvalidRowsError(InvalidDraftError):
    """Some rows are not valid campaigns; nothing was sent. ``report`` is the
    ``ValidationReport`` (``row``, ``column``, ``value``, ``reason``); ``problems`` holds
    ``(column, "row N: reason")`` pairs."""

    def __init__(self, report: pd.DataFrame) -> None:
        self.report = ValidationReport(report)
        rows = report["row"].drop_duplicates().tolist()
        lines = [f"  row {r.row}, {r.column}: {r.reason}" for r in report.head(5).itertuples()]
        more = f"\n  ... and {len(report) - 5} more (see .report)" if len(report) > 5 else ""
        super().__init__(
            f"{len(rows)} row(s) are not valid campaigns, so nothing was sent; fix them, or "
            "pass skip_invalid=True to send only the valid rows:\n" + "\n".join(lines) + more,
            problems=[(str(r.column), f"row {r.row}: {r.reason}") for r in report.itertuples()],
        )


@dataclass
class SheetRow:
    """One row of a sheet: its label, the draft when valid, what was understood of it
    (``data``) and its problems as ``(column, value, reason)``."""

    row: Hashable
    draft: CampaignDraft | None
    data: dict[str, Any] = field(default_factory=dict)
    problems: list[tuple[str, Any, str]] = field(default_factory=list)


@dataclass
class DraftBatch:
    """Drafts read from a sheet: ``drafts`` (the valid ones, in order), ``report`` (every
    problem, one line each) and ``notes`` (things to know, such as DST warnings)."""

    items: list[SheetRow]
    notes: list[str] = field(default_factory=list)

    @property
    def drafts(self) -> list[CampaignDraft]:
        return [item.draft for item in self.items if item.draft is not None]

    @property
    def rows(self) -> list[Hashable]:
        """The row label of each valid draft, in the order of ``drafts``."""
        return [item.row for item in self.items if item.draft is not None]

    @property
    def report(self) -> ValidationReport:
        """One line per problem: ``row``, ``column``, ``value``, ``reason`` (empty if none)."""
        lines = [
            {"row": item.row, "column": col, "value": value, "reason": reason}
            for item in self.items
            for col, value, reason in item.problems
        ]
        return cast(ValidationReport, ValidationReport(pd.DataFrame(lines, columns=REPORT_COLUMNS)))

    @property
    def ok(self) -> bool:
        """True when every row is a valid draft."""
        return all(not item.problems for item in self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        bad = sum(1 for item in self.items if item.problems)
        return f"<DraftBatch {len(self.items)} rows: {len(self.items) - bad} valid, {bad} invalid>"


# -- reading ------------------------------------------------------------------------------


def read_campaigns_csv(
    source: str | PathLike[str] | io.TextIOBase,
    *,
    columns: Mapping[str, str] | None = None,
    zone_date: date | None = None,
    delimiter: str = ",",
    encoding: str = "utf-8-sig",
) -> DraftBatch:
    """Read a CSV of campaigns, one per row (see ``drafts_from_frame`` for the columns).

    Every cell is read as text. A row's number in the report is the line of the file it
    starts on (the header is line 1), counting blank lines and cells that span several
    lines; blank rows are skipped. Raises ``ValueError`` for a missing column or an empty
    file, ``OSError`` when the file cannot be read.
    """
    if isinstance(source, io.TextIOBase):
        return _read_csv(source, columns, zone_date, delimiter)
    with Path(source).open(encoding=encoding, newline="") as handle:
        return _read_csv(handle, columns, zone_date, delimiter)


def _read_csv(
    handle: Iterable[str],
    columns: Mapping[str, str] | None,
    zone_date: date | None,
    delimiter: str,
) -> DraftBatch:
    reader = csv.reader(handle, delimiter=delimiter)
    header: list[str] | None = None
    records: list[list[str]] = []
    lines: list[int] = []
    start = 1
    for record in reader:
        if any(cell.strip() for cell in record):
            if header is None:
                header = [cell.strip() for cell in record]
            else:
                records.append(record + [""] * (len(header) - len(record)))
                lines.append(start)
        start = reader.line_num + 1
    if header is None:
        raise ValueError("the CSV file is empty: give a header line and one row per campaign")
    frame = pd.DataFrame([r[: len(header)] for r in records], columns=header, index=lines)
    return drafts_from_frame(frame, columns=columns, zone_date=zone_date)


def drafts_from_frame(
    frame: pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    zone_date: date | None = None,
) -> DraftBatch:
    """One draft per row of ``frame``, and a report of every bad row; nothing is sent.

    Columns: ``name``; ``seats`` (a list, or text separated by ``;`` or ``,``); ``days``
    (``mon-fri``, ``fri-mon``, ``mo,we,fr``, ``tues thurs``, ``every day``, ``weekdays``...);
    ``start_hour`` and ``end_hour`` (``9`` or ``09:00``); optional ``timezone`` (an IANA
    name, converted at ``zone_date``, today by default, or minutes), ``status``,
    ``campaign_id``, ``account_id``. A ``schedule`` column (the API's seven-day dict) may
    replace days and hours. ``columns`` maps the sheet's names to these:
    ``{"Campaign": "name"}``; other columns are ignored. The frame's index labels the rows
    in the report. Raises ``ValueError`` when a needed column is missing.
    """
    names = {str(c): str(c) for c in frame.columns}
    for source, target in (columns or {}).items():
        if target not in FIELDS:
            raise ValueError(f"columns maps {source!r} to {target!r}, which is not one of {FIELDS}")
        if source not in names:
            raise ValueError(f"columns names {source!r}, which is not a column of the sheet")
        names[source] = target
    by_field = {target: source for source, target in names.items() if target in FIELDS}
    needed = _REQUIRED if "schedule" in by_field else _REQUIRED + _SCHEDULE_PARTS
    missing = [f for f in needed if f not in by_field]
    if missing:
        raise ValueError(
            f"the sheet has no column for {', '.join(missing)} (its columns: "
            f"{', '.join(map(str, frame.columns))}); rename them or pass columns={{...}}"
        )
    on = zone_date or date.today()
    notes: dict[str, str] = {}
    items = [
        _parse_row(row, {f: values[src] for f, src in by_field.items()}, by_field, on, notes)
        for row, values in zip(frame.index, frame.to_dict("records"), strict=True)
    ]
    _check_repeated_ids(items, by_field)
    return DraftBatch(items, list(notes.values()))


def _parse_row(
    row: Hashable,
    cells: dict[str, Any],
    by_field: dict[str, str],
    on: date,
    notes: dict[str, str],
) -> SheetRow:
    item = SheetRow(row, None)
    data: dict[str, Any] = {}
    failed: set[str] = set()

    def problem(column: str, value: Any, reason: str) -> None:
        failed.add(column)
        shown = "/".join(by_field.get(c, c) for c in column.split("/"))
        if (shown, reason) not in {(c, r) for c, _, r in item.problems}:
            item.problems.append((shown, value, reason))

    for key in ("name", "status", "campaign_id", "account_id"):
        value = cells.get(key)
        if not _missing(value):
            data[key] = value.strip() if isinstance(value, str) else value
    if "name" not in data:
        data["name"] = ""  # the model says why an empty name is refused
    try:
        data["seats"] = _seats(cells.get("seats"))
    except ValueError as exc:
        problem("seats", cells.get("seats"), str(exc))
    if not _missing(cells.get("timezone")):
        try:
            data["timezone"] = _timezone(cells["timezone"], on, notes)
        except ValueError as exc:
            problem("timezone", cells["timezone"], str(exc))
    hours: dict[str, Any] = {}
    if "schedule" in cells and not _missing(cells["schedule"]):
        data["schedule"] = cells["schedule"]
    else:
        for key, parse in (("days", _days), ("start_hour", _hour), ("end_hour", _hour)):
            try:
                hours[key] = parse(cells.get(key))
            except ValueError as exc:
                problem(key, cells.get(key), str(exc))
        if len(hours) == 3:
            data["schedule"] = {
                day: [day in hours["days"], hours["start_hour"], hours["end_hour"]] for day in DAYS
            }
    try:
        draft = CampaignDraft.model_validate(data)
    except ValidationError as exc:
        for key, reason in problems(exc):
            column, value = key, cells.get(key)
            if key in DAYS or key == "schedule":
                if len(hours) == 3 and key in DAYS:  # the same hours every day: say it once
                    column, value = _hour_column(hours)
                    tail = reason.partition(": ")[2]
                    reason = tail[:1].upper() + tail[1:] if tail else reason
                elif hours:
                    continue  # days or hours could not be read: already said
                else:
                    column, value = "schedule", cells.get("schedule")
            if column in failed:
                continue  # already said when the cell was read
            problem(column, value, reason)
    else:
        if not item.problems:
            item.draft = draft
    item.data = data  # what was understood of the row, shown in its result row if invalid
    return item


def _hour_column(hours: Mapping[str, Any]) -> tuple[str, Any]:
    """The column(s) a day-window problem is about, when every day has the same hours."""
    start, end = hours["start_hour"], hours["end_hour"]
    for key, value in (("start_hour", start), ("end_hour", end)):
        if not isinstance(value, int) or not 0 <= value <= 24:
            return key, value
    return "start_hour/end_hour", f"{start}-{end}"


def _check_repeated_ids(items: list[SheetRow], by_field: Mapping[str, str]) -> None:
    first: dict[str, Hashable] = {}
    for item in items:
        if item.draft is None or item.draft.campaign_id is None:
            continue
        cid = item.draft.campaign_id
        if cid in first:
            column = by_field.get("campaign_id", "campaign_id")
            item.problems.append((column, cid, f"campaign id already used by row {first[cid]}"))
            item.draft = None
        else:
            first[cid] = item.row


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def _seats(value: Any) -> list[Any]:
    if _missing(value):
        raise ValueError("No seats: give one seat id, or several separated by ; or ,")
    if isinstance(value, str):
        return [s.strip() for s in re.split(r"[;,]", value) if s.strip()]
    if isinstance(value, Iterable) and not isinstance(value, Mapping):
        return [s.strip() if isinstance(s, str) else s for s in value]
    raise ValueError(f"Seats must be a list or text like 'seat_a; seat_b', not {value!r}")


def _day(token: str) -> int:
    number = DAY_NAMES.get(token.rstrip("."))
    if number is None:
        raise ValueError(
            f"{token!r} is not a day: use mon..sun (or mo, tu, tues, thu, thurs...), a range "
            "like mon-fri, a list like mon,wed,fri, or every day"
        )
    return number


def _days(value: Any) -> set[str]:
    """The days a cell names: ``mon-fri``, ``fri-mon`` (wraps round the week), ``mo we fr``,
    ``Tues, Thurs``, ``mon to wed; sat``, ``weekdays``, ``every day``..."""
    if _missing(value):
        raise ValueError("No days: give e.g. mon-fri, mon,wed,fri or every day")
    tokens: list[str]
    if isinstance(value, str):
        text = " ".join(value.lower().replace("\u2013", "-").split())
        if text in _GROUPS:
            return set(_GROUPS[text])
        text = re.sub(r"\s*(?:-|\bto\b|\bthrough\b|\bthru\b)\s*", "-", text)
        tokens = [t for t in re.split(r"[,;/&+ ]+|\band\b", text) if t and t != "and"]
    elif isinstance(value, Iterable):
        tokens = [str(t).strip().lower() for t in value]
    else:
        raise ValueError(f"Days must be text like mon-fri, not {value!r}")
    chosen: set[str] = set()
    for token in tokens:
        if token in _GROUPS:
            chosen.update(_GROUPS[token])
        elif "-" in token:
            first, _, last = token.partition("-")
            a, b = _day(first), _day(last)
            span = range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)]
            chosen.update(DAYS[i] for i in span)
        else:
            chosen.add(DAYS[_day(token)])
    if not chosen:
        raise ValueError("No days: give e.g. mon-fri, mon,wed,fri or every day")
    return chosen


def _number_cell(value: Any, unit: str) -> int | None:
    """A cell that already holds a number, as an int (``None`` for text)."""
    if isinstance(value, bool):
        raise ValueError(f"Must be a number of {unit}, not true/false")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{value:g} is not a whole number of {unit}")
        return int(value)
    return None


def _hour(value: Any) -> Any:
    if _missing(value):
        raise ValueError("Missing: give a whole hour such as 9 or 09:00")
    number = _number_cell(value, "hours")
    if number is not None:
        return number
    match = _HOUR.match(str(value).strip())
    if match is None:
        raise ValueError(f"{value!r} is not an hour: use 9 or 09:00")
    if match.group(2) not in (None, "00"):
        raise ValueError(f"{value!r}: campaigns run in whole hours (use {match.group(1)}:00)")
    return int(match.group(1))  # the model checks the range (0..24) and start < end


def _timezone(value: Any, on: date, notes: dict[str, str]) -> Any:
    number = _number_cell(value, "minutes")
    if number is not None:
        return number
    text = str(value).strip()
    if _MINUTES.match(text):
        return int(text)
    offset = zone_offset(text, on)  # ValueError names the problem
    if offset.warning:
        notes.setdefault(offset.zone, offset.warning)
    return offset.minutes
