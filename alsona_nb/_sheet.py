"""The sheet reader: campaigns, or changes to campaigns, from a CSV file or a DataFrame.

``read_campaigns_csv`` and ``drafts_from_frame`` turn sheet text (``mon-fri``, ``09:00``,
zone names) into ``CampaignDraft`` inputs and return a ``DraftBatch``: the valid drafts and
a report of every problem, in plain words. ``read_sheet_changes`` reads the same sheets
without asking for whole campaigns: each row gives only the fields its cells fill. Both go
through one reader, cell by cell; every rule about what a valid campaign is lives in
``CampaignDraft``, and nothing here sends anything.

Rows that read alike share what was parsed (one ``WeeklySchedule`` object for every row with
the same days and hours, one parse of each distinct cell text), and a CSV is read line by
line, so that a sheet of 100,000 rows stays small in memory.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from os import PathLike
from pathlib import Path
from typing import IO, Any, NamedTuple, TypeVar, cast

import pandas as pd
from pydantic import ValidationError

from ._cells import (
    PARSERS,
    Bad,
    Where,
    blank_cell,
    say,
)
from ._errors import InvalidDraftError
from ._models import DAYS, CampaignDraft, DayWindow, WeeklySchedule, problems
from ._timezones import zone_offset

__all__ = [
    "ChangeBatch",
    "DraftBatch",
    "InvalidRowsError",
    "RowChanges",
    "SheetRow",
    "ValidationReport",
    "drafts_from_frame",
    "read_campaigns_csv",
    "read_sheet_changes",
]

#: The columns a sheet may have. For drafts ``name``, ``seats``, ``days``, ``start_hour``
#: and ``end_hour`` are required (or ``schedule`` instead of the last three).
FIELDS = (
    "name",
    "seats",
    "days",
    "start_hour",
    "end_hour",
    "timezone",
    "zone",
    "status",
    "campaign_id",
    "account_id",
    "schedule",
)
#: The keys ``RowChanges.changes`` may hold.
CHANGE_FIELDS = (
    "campaign_id",
    "account_id",
    "name",
    "status",
    "seats",
    "schedule",
    "timezone",
    "zone",
)
REPORT_COLUMNS = ["row", "column", "value", "reason"]
_REQUIRED = ("name", "seats")
_PARTS = ("days", "start_hour", "end_hour")
_EXTRA = "(extra cells)"  # the report's column for cells beyond the header
# What the model checks a row with when the row does not give a required field: values it
# accepts, so that only the row's own cells are reported on.
_STAND_INS: dict[str, Any] = {
    "name": "stand-in",
    "seats": ("stand-in",),
    "schedule": WeeklySchedule.every_day(),
}

_MISSING = {"days": "no_days", "start_hour": "no_hour", "end_hour": "no_hour"}
_DST_NOTE = (
    "{zone} observes daylight saving time: each campaign is sent with the zone's offset on "
    "the day it is sent, and keeps that offset when the clocks change (the zone is kept "
    "beside the campaign, so that the drift can be found and fixed)."
)

Problem = tuple[str, Any, str]  # (column, value, reason)
#: What a CSV can come from: a path, a text stream, or bytes (a binary stream, an upload).
Source = (
    str
    | PathLike[str]
    | io.TextIOBase
    | io.BufferedIOBase
    | io.RawIOBase
    | bytes
    | bytearray
    | memoryview
)
_T = TypeVar("_T")


class _Failed:
    """The remembered outcome of a cell that could not be read."""

    __slots__ = ("reasons",)

    def __init__(self, reasons: tuple[str, ...]) -> None:
        self.reasons = reasons


# -- what a read gives --------------------------------------------------------------------


class ValidationReport(pd.DataFrame):
    """The report of a ``DraftBatch``: one line per problem (``row``, ``column``, ``value``,
    ``reason``). A DataFrame that never cuts a reason short when shown, and shows its
    sentences left-aligned."""

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame  # a slice of the report is a plain frame

    def _repr_html_(self) -> str | None:
        with pd.option_context("display.max_colwidth", None):
            html = pd.DataFrame._repr_html_(self)  # type: ignore[operator,attr-defined,unused-ignore]
        if html is None:
            return None
        style = (
            "<style>.alsona-report td, .alsona-report th "
            "{text-align: left !important; white-space: pre-wrap;}</style>"
        )
        return f"<div class='alsona-report'>{style}{html}</div>"

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


def _report(rows: Iterable[tuple[Hashable, list[Problem]]]) -> ValidationReport:
    lines = [
        {"row": row, "column": column, "value": value, "reason": reason}
        for row, found in rows
        for column, value, reason in found
    ]
    return cast(ValidationReport, ValidationReport(pd.DataFrame(lines, columns=REPORT_COLUMNS)))


@dataclass(slots=True)
class SheetRow:
    """One row of a sheet: its label, the draft when valid, what was understood of an
    invalid row (``data``; empty for a valid one: see ``draft``) and its problems as
    ``(column, value, reason)``."""

    row: Hashable
    draft: CampaignDraft | None
    data: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class DraftBatch:
    """Drafts read from a sheet: ``drafts`` (the valid ones, in order), ``report`` (every
    problem, one line each) and ``notes`` (things to know, such as daylight saving)."""

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
        return _report((item.row, item.problems) for item in self.items)

    @property
    def ok(self) -> bool:
        """True when every row is a valid draft."""
        return all(not item.problems for item in self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        bad = sum(1 for item in self.items if item.problems)
        return f"<DraftBatch {len(self.items)} rows: {len(self.items) - bad} valid, {bad} invalid>"


@dataclass(slots=True)
class RowChanges:
    """One row of a sheet read as changes.

    ``row``: its position among the sheet's rows, from 0 (the row of ``ChangeBatch.sheet``);
    ``line``: its label in the report (the CSV line it starts on, or the frame's index label);
    ``changes``: the fields whose cells the row fills, read and checked as for a draft (keys
    among ``CHANGE_FIELDS``; ``schedule`` a ``WeeklySchedule``, ``status`` a
    ``CampaignStatus``); for a row with problems, only what could be read.
    ``problems``: ``(column, value, reason)``, as in the report."""

    row: int
    line: Hashable
    changes: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class ChangeBatch:
    """A sheet read as changes: ``rows`` (every row, in order), ``report`` (every problem,
    one line each, as a ``DraftBatch``'s), ``sheet`` (the sheet as read, one row per entry of
    ``rows``, to fill in and save back), ``columns`` (each field's column in the sheet) and
    ``notes``."""

    rows: list[RowChanges]
    sheet: pd.DataFrame
    columns: dict[str, str]
    notes: list[str] = field(default_factory=list)

    @property
    def valid(self) -> list[RowChanges]:
        """The rows without problems."""
        return [row for row in self.rows if not row.problems]

    @property
    def report(self) -> ValidationReport:
        """One line per problem: ``row`` (the line), ``column``, ``value``, ``reason``."""
        return _report((row.line, row.problems) for row in self.rows)

    @property
    def ok(self) -> bool:
        """True when no row has a problem."""
        return all(not row.problems for row in self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        bad = sum(1 for row in self.rows if row.problems)
        return f"<ChangeBatch {len(self.rows)} rows: {len(self.rows) - bad} valid, {bad} invalid>"


# -- reading ------------------------------------------------------------------------------


def read_campaigns_csv(
    source: Source,
    *,
    columns: Mapping[str, str] | None = None,
    zone_date: date | None = None,
    delimiter: str = ",",
    encoding: str | None = None,
) -> DraftBatch:
    """Read a CSV of campaigns, one per row (see ``drafts_from_frame`` for the columns), from
    a path, a text stream, or bytes (a binary stream, a widget's upload).

    Every cell is read as text. A row's number in the report is the line of the file it
    starts on (the header is line 1), counting blank lines and cells that span several
    lines; blank rows are skipped, and a row with more cells than the header is reported.
    Without ``encoding`` the file is read as UTF-16 or UTF-32 when it starts with their
    byte-order mark (Excel's "Unicode text"), else as UTF-8 (with or without its mark); a
    file without a mark whose bytes are not UTF-8 is read as cp1252 (Excel's "CSV" on
    Windows). Raises ``ValueError`` for a missing or
    repeated column, an empty file or text that the encoding cannot read, ``OSError`` when
    the file cannot be read.
    """
    return _decoded(
        source, encoding, lambda lines: _csv_drafts(lines, columns, zone_date, delimiter)
    )


def drafts_from_frame(
    frame: pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    zone_date: date | None = None,
) -> DraftBatch:
    """One draft per row of ``frame``, and a report of every bad row; nothing is sent.

    Columns: ``name``; ``seats`` (a list, or text separated by ``;`` or ``,``); ``days``
    (``mon-fri``, ``fri-mon``, ``mo,we,fr``, ``tues thurs``, ``every day``, ``weekdays``...);
    ``start_hour`` and ``end_hour`` (``9`` or ``09:00``); optional ``timezone`` (minutes, a
    fixed offset such as ``UTC+2``, or a zone: ``America/New_York``, ``Pacific Time``, a
    city), ``zone`` (a zone: kept beside the campaign and never sent, its offset is taken on
    the day the campaign is sent), ``status``, ``campaign_id``, ``account_id``. A zone in
    ``timezone`` fills the draft's ``zone`` and leaves its ``timezone`` unset. A
    ``schedule`` column (the API's seven-day dict, or its JSON text) may replace days and
    hours. ``columns`` maps the sheet's names to these: ``{"Campaign": "name"}``; other
    columns are ignored. The frame's index labels the rows in the report. ``zone_date``
    dates the daylight-saving notes (today by default). Raises ``ValueError`` when a needed
    column is missing or a column is given twice.
    """
    opened = _frame_rows(frame, columns, zone_date, complete=True)
    return _draft_batch(opened.reader, opened.records)


def read_sheet_changes(
    source: Source | pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    zone_date: date | None = None,
    delimiter: str = ",",
    encoding: str | None = None,
) -> ChangeBatch:
    """Read a sheet (a CSV as ``read_campaigns_csv`` takes it, or a DataFrame) as changes to
    campaigns.

    The same columns, names and checks as ``read_campaigns_csv``, but no column is required
    and a row need not be a whole campaign: each row gives the fields whose cells it fills
    (``RowChanges.changes``), so a row with only ``campaign_id`` and ``status`` is valid.
    Days and hours come together (a row that gives one of them must give all three) and
    make a ``schedule``. A campaign id given by two rows is a problem. Raises
    ``ValueError`` as ``read_campaigns_csv`` does, and when the sheet has no column it knows.
    """
    if isinstance(source, pd.DataFrame):
        opened = _frame_rows(source, columns, zone_date, complete=False)
        batch = _change_batch(opened.reader, opened.records)
        batch.sheet = source.copy()
        return batch
    return _decoded(
        source, encoding, lambda lines: _csv_changes(lines, columns, zone_date, delimiter)
    )


# -- sheets: text, columns, rows ----------------------------------------------------------


def _decoded(source: Source, encoding: str | None, read: Callable[[Any], _T]) -> _T:
    """``read`` over the lines of ``source``, decoded as ``read_campaigns_csv`` says."""
    if isinstance(source, io.TextIOBase):
        return read(source)
    if isinstance(source, (bytes, bytearray, memoryview, io.BufferedIOBase, io.RawIOBase)):
        data = (
            bytes(source) if isinstance(source, (bytes, bytearray, memoryview)) else source.read()
        )
        name, head = "the sheet", data[:4]

        def open_as(chosen: str) -> IO[str]:
            return io.TextIOWrapper(io.BytesIO(data), encoding=chosen, newline="")
    else:
        path = Path(source)
        with path.open("rb") as start:
            name, head = path.name, start.read(4)

        def open_as(chosen: str) -> IO[str]:
            return path.open(encoding=chosen, newline="")

    chosen = encoding or _sniff(head)
    try:
        codecs.lookup(chosen)
    except LookupError:
        raise ValueError(
            f"unknown encoding {chosen!r}: try 'utf-8', 'cp1252' or 'utf-16'"
        ) from None
    try:
        with open_as(chosen) as handle:
            return read(handle)
    except UnicodeError as exc:  # undecodable bytes, or a UTF-16 text without its mark
        problem = exc
    if encoding is None and chosen == "utf-8":  # no mark: maybe Excel's cp1252
        try:
            with open_as("cp1252") as handle:
                return read(handle)
        except UnicodeError:
            chosen = "UTF-8 or as cp1252"
    why = getattr(problem, "reason", problem)
    raise ValueError(
        f"{name} cannot be read as {chosen} ({why}): pass the encoding it was saved in, e.g. "
        "encoding='cp1252', 'latin-1' or 'utf-16'"
    )


def _sniff(head: bytes) -> str:
    """The encoding a file's first bytes announce: a byte-order mark, or UTF-16's zero bytes."""
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if len(head) == 4 and head[1] == head[3] == 0 and head[0] and head[2]:
        return "utf-16-le"  # no mark, but ASCII text in UTF-16
    if len(head) == 4 and head[0] == head[2] == 0 and head[1] and head[3]:
        return "utf-16-be"
    return "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"


def _locate(
    header: Sequence[str], columns: Mapping[str, str] | None, complete: bool
) -> dict[str, int]:
    """Each field's column (its position), in the sheet's order. Raises ``ValueError`` for
    a bad mapping, a field that two columns would give, a missing column (``complete``)."""
    source_of: dict[str, str] = {name: name for name in header if name in FIELDS}
    for source, target in (columns or {}).items():
        if target not in FIELDS:
            raise ValueError(f"columns maps {source!r} to {target!r}, which is not one of {FIELDS}")
        if source not in header:
            raise ValueError(f"columns names {source!r}, which is not a column of the sheet")
        source_of[source] = target
    found: dict[str, int] = {}
    for source, target in source_of.items():
        places = [n for n, name in enumerate(header) if name == source]
        if len(places) > 1:
            where = " and ".join(str(n + 1) for n in places)
            raise ValueError(
                f"the sheet has {len(places)} columns named {source!r} (columns {where}): "
                "keep one, or rename the others"
            )
        if target in found:
            raise ValueError(
                f"both {header[found[target]]!r} and {source!r} would give {target}: drop one "
                "column, or map only one of them with columns={...}"
            )
        found[target] = places[0]
    needed = (_REQUIRED if "schedule" in found else _REQUIRED + _PARTS) if complete else ()
    missing = [f for f in needed if f not in found]
    if missing or not found:
        what = f"no column for {', '.join(missing)}" if missing else "no column it can read"
        raise ValueError(
            f"the sheet has {what} (its columns: {', '.join(header)}); rename them or pass "
            f"columns={{...}}{_delimiter_hint(header)}"
        )
    return dict(sorted(found.items(), key=lambda item: item[1]))


def _delimiter_hint(header: Sequence[str]) -> str:
    if len(header) == 1:
        for mark, name in (("\t", "'\\t'"), (";", "';'"), ("|", "'|'")):
            if mark in header[0]:
                return f"; the header looks separated by {name}: pass delimiter={name}"
    return ""


class _Record(NamedTuple):
    """One row as the sheet gives it: label, position, cells by field, problems of its own."""

    line: Hashable
    row: int
    cells: dict[str, Any]
    found: list[Problem]


class _Rows(NamedTuple):
    """A sheet opened for reading: its header, the reader of its rows, and the rows."""

    names: list[str]
    reader: _Reader
    records: Iterator[_Record]


def _csv_rows(
    lines: Iterable[str],
    columns: Mapping[str, str] | None,
    zone_date: date | None,
    delimiter: str,
    *,
    complete: bool,
    keep: list[tuple[int, list[str]]] | None = None,
) -> _Rows:
    """A CSV's rows; with ``keep``, each row's line and cells (as many as the header has)."""
    records = _csv_records(lines, delimiter)
    header = next(records, None)
    if header is None:
        raise ValueError("the CSV file is empty: give a header line and one row per campaign")
    names = [cell.strip() for cell in header[1]]
    places = _locate(names, columns, complete)
    width = len(names)

    def rows() -> Iterator[_Record]:
        for number, (line, record) in enumerate(records):
            found: list[Problem] = []
            extra = record[width:]
            if any(cell.strip() for cell in extra):
                lost = delimiter.join(extra)
                found.append(
                    (_EXTRA, lost, say("extra_cells", cells=len(record), width=width, lost=lost))
                )
            if keep is not None:
                keep.append((line, (record + [""] * width)[:width]))
            cells = {f: record[p] if p < len(record) else "" for f, p in places.items()}
            yield _Record(line, number, cells, found)

    reader = _Reader({f: names[p] for f, p in places.items()}, zone_date, complete=complete)
    return _Rows(names, reader, rows())


def _csv_records(lines: Iterable[str], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank CSV record and the line it starts on (raises ``ValueError`` for text
    that is not CSV)."""
    reader = csv.reader(lines, delimiter=delimiter)
    start = 1
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                yield start, record
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ValueError(f"line {reader.line_num} of the CSV cannot be read: {exc}") from None


def _csv_drafts(
    lines: Iterable[str], columns: Mapping[str, str] | None, zone_date: date | None, delimiter: str
) -> DraftBatch:
    opened = _csv_rows(lines, columns, zone_date, delimiter, complete=True)
    return _draft_batch(opened.reader, opened.records)


def _csv_changes(
    lines: Iterable[str], columns: Mapping[str, str] | None, zone_date: date | None, delimiter: str
) -> ChangeBatch:
    kept: list[tuple[int, list[str]]] = []
    opened = _csv_rows(lines, columns, zone_date, delimiter, complete=False, keep=kept)
    batch = _change_batch(opened.reader, opened.records)
    batch.sheet = pd.DataFrame(
        [cells for _, cells in kept],
        columns=opened.names,
        index=[line for line, _ in kept],
        dtype=object,
    )
    return batch


def _frame_rows(
    frame: pd.DataFrame,
    columns: Mapping[str, str] | None,
    zone_date: date | None,
    *,
    complete: bool,
) -> _Rows:
    names = [str(c) for c in frame.columns]
    places = _locate(names, columns, complete)
    values = {f: frame.iloc[:, p].tolist() for f, p in places.items()}
    records = (
        _Record(label, n, {f: column[n] for f, column in values.items()}, [])
        for n, label in enumerate(frame.index)
    )
    reader = _Reader({f: names[p] for f, p in places.items()}, zone_date, complete=complete)
    return _Rows(names, reader, records)


def _draft_batch(reader: _Reader, records: Iterable[_Record]) -> DraftBatch:
    items = [reader.draft(record) for record in records]
    first: dict[str, Hashable] = {}
    for item in items:
        if item.draft is not None and item.draft.campaign_id is not None:
            said = reader.repeated(item.draft.campaign_id, item.row, first)
            if said:
                item.problems.append(said)
                item.data = _understood(dict(item.draft))
                item.draft = None
    return DraftBatch(items, reader.notes())


def _change_batch(reader: _Reader, records: Iterable[_Record]) -> ChangeBatch:
    rows = [reader.changes(record) for record in records]
    first: dict[str, Hashable] = {}
    for row in rows:
        cid = row.changes.get("campaign_id")
        if not row.problems and isinstance(cid, str):
            said = reader.repeated(cid, row.line, first)
            if said:
                row.problems.append(said)
    return ChangeBatch(rows, pd.DataFrame(), dict(reader.columns), reader.notes())


# -- one row ------------------------------------------------------------------------------


class _Reader:
    """Reads the rows of one sheet, cell by cell. A cell text read once is remembered, and
    rows with the same days and hours share one ``WeeklySchedule``."""

    def __init__(self, columns: dict[str, str], zone_date: date | None, *, complete: bool) -> None:
        self.columns = columns  # field -> the sheet's column, in the sheet's order
        self.complete = complete  # whole campaigns, or changes
        self.on = zone_date
        self._order = {f: n for n, f in enumerate(columns)}
        self._memo: dict[tuple[Any, ...], Any] = {}
        self._notes: dict[str, str | None] = {}

    def notes(self) -> list[str]:
        return [note for note in self._notes.values() if note]

    def draft(self, record: _Record) -> SheetRow:
        given, found = self._read(record)
        if self.complete:
            given.setdefault("name", "")  # the model says why a row needs a name
        draft, more = self._validate(given, record.cells)
        if found or more:
            return SheetRow(record.line, None, _understood(given), self._shown(found + more))
        return SheetRow(record.line, draft)

    def changes(self, record: _Record) -> RowChanges:
        given, found = self._read(record)
        draft, more = self._validate(given, record.cells)
        if draft is None or found:
            refused = {column for column, _, _ in more}
            kept = {k: v for k, v in _understood(given, plain=False).items() if k not in refused}
            return RowChanges(record.row, record.line, kept, self._shown(found + more))
        return RowChanges(record.row, record.line, {k: getattr(draft, k) for k in given})

    def repeated(self, cid: str, row: Hashable, first: dict[str, Hashable]) -> Problem | None:
        if cid in first:
            return (self._show("campaign_id"), cid, say("repeated_id", row=first[cid]))
        first[cid] = row
        return None

    def _read(self, record: _Record) -> tuple[dict[str, Any], list[Problem]]:
        """The row's cells read one by one: what was read, and what could not be."""
        given: dict[str, Any] = {}
        found = list(record.found)
        for key, raw in record.cells.items():
            if blank_cell(raw):
                if self.complete and key == "seats":
                    found.append((key, raw, say("no_seats")))
                continue
            value = self._cell(key, raw)
            if isinstance(value, _Failed):
                found.extend((key, raw, reason) for reason in value.reasons)
            else:
                given[key] = value
        self._place(given, record.cells, found)
        self._schedule(given, record.cells, found)
        return given, found

    def _cell(self, key: str, raw: Any) -> Any:
        parse = PARSERS[key]
        if key in _UNIQUE:
            return _attempt(parse, raw)
        memo = _memo_key(key, raw)
        if memo is None:
            return _attempt(parse, raw)
        value = self._memo.get(memo, _NOTHING)
        if value is _NOTHING:
            value = self._memo[memo] = _attempt(parse, raw)
        return value

    def _place(self, given: dict[str, Any], cells: Mapping[str, Any], found: list[Problem]) -> None:
        """``timezone`` and ``zone`` together: the minutes and the zone they give."""
        said: dict[str, tuple[str, Any]] = {}  # "minutes" or "zone" -> (column, value)
        for key in ("timezone", "zone"):
            where: Where | None = given.pop(key, None)
            if where is None:
                continue
            for part, value in (("minutes", where.minutes), ("zone", where.zone)):
                if value is None:
                    continue
                if part in said and said[part][1] != value:
                    column, _ = said[part]
                    other, named = cells[column], self._show(column)
                    reason = say("clash", value=cells[key], other=other, column=named)
                    found.append((key, cells[key], reason))
                else:
                    said[part] = (key, value)
        if "minutes" in said:
            given["timezone"] = said["minutes"][1]
        if "zone" in said:
            zone = given["zone"] = said["zone"][1]
            if zone not in self._notes:
                self._notes[zone] = _dst_note(zone, self.on)

    def _schedule(
        self, given: dict[str, Any], cells: Mapping[str, Any], found: list[Problem]
    ) -> None:
        """Days and hours, checked together, as one shared ``WeeklySchedule``. A schedule
        cell wins over them; for changes, a row that gives one of the three gives all."""
        parts = {key: given.pop(key) for key in _PARTS if key in given}
        if not blank_cell(cells.get("schedule")):
            return  # read (or refused) from the schedule cell
        asked = [key for key in _PARTS if not blank_cell(cells.get(key))]
        if self.complete and not any(key in self.columns for key in _PARTS):
            found.append(("schedule", cells.get("schedule"), say("no_schedule")))
            return
        if self.complete or asked:
            found.extend((k, cells.get(k), say(_MISSING[k])) for k in _PARTS if k not in asked)
        if "start_hour" in parts and "end_hour" in parts:
            window = self._remember(("window", parts["start_hour"], parts["end_hour"]), _window)
            found.extend(window)
            if len(parts) == 3 and not window:
                week = (parts["days"], parts["start_hour"], parts["end_hour"])
                given["schedule"] = self._remember(("week", *week), _week)

    def _remember(self, key: tuple[Any, ...], make: Callable[..., _T]) -> _T:
        value = self._memo.get(key, _NOTHING)
        if value is _NOTHING:
            value = self._memo[key] = make(*key[1:])
        return cast(_T, value)

    def _validate(
        self, given: dict[str, Any], cells: Mapping[str, Any]
    ) -> tuple[CampaignDraft | None, list[Problem]]:
        """The model's verdict on what the row gave (stand-ins for what it did not give)."""
        data = {**_STAND_INS, **given}
        try:
            return CampaignDraft.model_validate(data), []
        except ValidationError as exc:
            found: list[Problem] = []
            for key, reason in problems(exc):
                column = _MODEL_COLUMN.get(key, key)
                if column in given or (column == "status" and not key):
                    found.append((column, cells.get(column), reason))
            return None, found

    def _shown(self, found: list[Problem]) -> list[Problem]:
        """Problems named by the sheet's own columns, in the sheet's order."""
        last = len(self._order)
        found = sorted(found, key=lambda p: self._order.get(p[0].split("/")[0], last))
        return [(self._show(column), value, reason) for column, value, reason in found]

    def _show(self, column: str) -> str:
        return "/".join(self.columns.get(part, part) for part in column.split("/"))


# A model problem's field (a day name: the schedule's) -> the row's field it is about.
_MODEL_COLUMN: dict[str, str] = {"": "status", **{day: "schedule" for day in DAYS}}
_UNIQUE = frozenset({"name", "campaign_id", "account_id"})  # cells not worth remembering
_NOTHING = object()


def _attempt(parse: Callable[[Any], Any], raw: Any) -> Any:
    try:
        return parse(raw)
    except Bad as exc:
        return _Failed(exc.reasons)


def _memo_key(key: str, raw: Any) -> tuple[Any, ...] | None:
    """What a cell is remembered by (its type too: ``1`` and ``True`` are not one cell), or
    ``None`` for a value that cannot be a key."""
    if isinstance(raw, Mapping):
        memo: tuple[Any, ...] = (
            key,
            "mapping",
            tuple((str(k), _frozen(v)) for k, v in raw.items()),
        )
    else:
        memo = (key, type(raw), raw)
    try:
        hash(memo)
    except TypeError:
        return None
    return memo


def _frozen(value: Any) -> Any:
    return tuple(_frozen(v) for v in value) if isinstance(value, (list, tuple)) else value


def _understood(given: Mapping[str, Any], *, plain: bool = True) -> dict[str, Any]:
    """What was read of an invalid row: seats as a list, and with ``plain`` the schedule as
    the API's dict."""
    data: dict[str, Any] = {}
    for key, value in given.items():
        if plain and isinstance(value, WeeklySchedule):
            value = value.model_dump(mode="json")
        elif isinstance(value, tuple):
            value = list(value)
        data[key] = value
    return data


def _dst_note(zone: str, on: date | None) -> str | None:
    try:
        observes = zone_offset(zone, on).observes_dst
    except ValueError:
        return None  # the model says what is wrong with the zone
    return _DST_NOTE.format(zone=zone) if observes else None


def _window(start: int, end: int) -> tuple[Problem, ...]:
    """The problems of the hours ``[start, end)`` (every day has them), said once."""
    try:
        DayWindow.model_validate([True, start, end])
    except ValidationError as exc:
        parts = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        column = parts.pop() if len(parts) == 1 else "start_hour/end_hour"
        value = {"start_hour": start, "end_hour": end}.get(column, f"{start}-{end}")
        return tuple((column, value, _sentence(reason)) for _, reason in problems(exc))
    return ()


def _sentence(reason: str) -> str:
    """A day's reason without the day's label: "The end hour must be after the start hour"."""
    tail = reason.partition(": ")[2] or reason
    return tail[:1].upper() + tail[1:]


def _week(days: tuple[str, ...], start: int, end: int) -> WeeklySchedule:
    return WeeklySchedule.model_validate({day: [day in days, start, end] for day in DAYS})
