"""Bulk creation: campaigns from a sheet, validated first, then sent with bounded concurrency.

``drafts_from_frame`` / ``read_campaigns_csv`` turn rows into drafts and a report of every
bad row; ``create_campaigns`` (``AlsonaClient.create_campaigns``) sends them and returns one
result row per input, in input order. Every rule about what a valid campaign is lives in
``CampaignDraft``: this module only turns sheet text (``mon-fri``, ``09:00``, zone names)
into the model's inputs.
"""

from __future__ import annotations

import math
import numbers
import re
import sys
from collections.abc import Hashable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from queue import Empty, SimpleQueue
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import ValidationError
from requests.adapters import HTTPAdapter

from ._client import AlsonaClient, Attempt, AttemptSink
from ._models import DAYS, CampaignDraft, describe_errors
from ._results import attempt_row, rows_to_frame
from ._timezones import zone_offset

if TYPE_CHECKING:
    from os import PathLike

__all__ = [
    "DraftBatch",
    "InvalidRowsError",
    "create_campaigns",
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

_DAY_WORDS = {
    "every day": DAYS,
    "everyday": DAYS,
    "daily": DAYS,
    "all": DAYS,
    "weekdays": DAYS[:5],
    "weekends": DAYS[5:],
    "weekend": DAYS[5:],
}
_HOUR = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")
_MINUTES = re.compile(r"^[+-]?\d+$")


class InvalidRowsError(ValueError):
    """Some input rows are not valid campaigns; nothing was sent. ``report`` is a DataFrame
    with one line per problem: ``row``, ``column``, ``value``, ``reason``."""

    def __init__(self, report: pd.DataFrame) -> None:
        self.report = report
        rows = report["row"].drop_duplicates().tolist()
        lines = [f"  row {r.row}, {r.column}: {r.reason}" for r in report.head(5).itertuples()]
        more = f"\n  ... and {len(report) - 5} more (see .report)" if len(report) > 5 else ""
        super().__init__(
            f"{len(rows)} row(s) are not valid campaigns, so nothing was sent; fix them, or "
            "pass skip_invalid=True to send only the valid rows:\n" + "\n".join(lines) + more
        )


class NotSentError(Exception):
    """The row was never sent (invalid, or the batch was interrupted before it started)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InterruptedInFlight(Exception):
    """The batch was interrupted while this row's request was in flight: the campaign may or
    may not have been created."""

    maybe_created = True

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class _Item:
    row: Hashable
    draft: CampaignDraft | None
    raw: dict[str, Any] = field(default_factory=dict)
    problems: list[tuple[str, Any, str]] = field(default_factory=list)  # column, value, reason
    kept: dict[str, Any] | None = None  # a finished result row carried over unchanged
    may_exist: bool = False  # an earlier attempt with its own campaign_id may have created it


@dataclass
class DraftBatch:
    """Drafts read from a sheet: ``drafts`` (the valid ones, in order), ``report`` (every
    problem, one line each) and ``notes`` (things to know, such as DST warnings)."""

    items: list[_Item]
    notes: list[str] = field(default_factory=list)

    @property
    def drafts(self) -> list[CampaignDraft]:
        return [item.draft for item in self.items if item.draft is not None]

    @property
    def rows(self) -> list[Hashable]:
        """The row label of each valid draft, in the order of ``drafts``."""
        return [item.row for item in self.items if item.draft is not None]

    @property
    def report(self) -> pd.DataFrame:
        """One line per problem: ``row``, ``column``, ``value``, ``reason`` (empty if none)."""
        lines = [
            {"row": item.row, "column": col, "value": value, "reason": reason}
            for item in self.items
            for col, value, reason in item.problems
        ]
        report: pd.DataFrame = pd.DataFrame(lines, columns=REPORT_COLUMNS)
        return report

    @property
    def ok(self) -> bool:
        """True when every row is a valid draft."""
        return all(not item.problems for item in self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        bad = sum(1 for item in self.items if item.problems)
        return f"<DraftBatch {len(self.items)} rows: {len(self.items) - bad} valid, {bad} invalid>"


# -- reading sheets -----------------------------------------------------------------------


def read_campaigns_csv(
    path: str | PathLike[str],
    *,
    columns: Mapping[str, str] | None = None,
    zone_date: date | None = None,
    **read_csv: Any,
) -> DraftBatch:
    """Read a CSV of campaigns, one per line (see ``drafts_from_frame`` for the columns).

    Every cell is read as text. Row numbers in the report are line numbers in the file
    (the header is line 1).
    """
    read_csv.setdefault("dtype", str)
    read_csv.setdefault("keep_default_na", False)
    frame = pd.read_csv(path, **read_csv)
    frame.index = pd.RangeIndex(2, len(frame) + 2)
    return drafts_from_frame(frame, columns=columns, zone_date=zone_date)


def drafts_from_frame(
    frame: pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    zone_date: date | None = None,
) -> DraftBatch:
    """One draft per row of ``frame``, and a report of every bad row; nothing is sent.

    Columns: ``name``; ``seats`` (a list, or text separated by ``;`` or ``,``); ``days``
    (``mon-fri``, ``mon,wed,fri``, ``every day``, ``weekdays``...); ``start_hour`` and
    ``end_hour`` (``9`` or ``09:00``); optional ``timezone`` (an IANA name, converted at
    ``zone_date``, today by default, or minutes), ``status``, ``campaign_id``, ``account_id``.
    A ``schedule`` column (the API's seven-day dict) may replace days and hours. ``columns``
    maps the sheet's names to these: ``{"Campaign": "name"}``. Other columns are ignored.
    Row labels (the frame's index) identify rows in the report.
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
) -> _Item:
    item = _Item(row, None, raw={k: (None if _missing(v) else v) for k, v in cells.items()})
    data: dict[str, Any] = {}
    failed: set[str] = set()

    def problem(column: str, reason: str) -> None:
        failed.add(column)
        item.problems.append((by_field.get(column, column), cells.get(column), reason))

    for key in ("name", "status", "campaign_id", "account_id"):
        value = cells.get(key)
        if not _missing(value):
            data[key] = value.strip() if isinstance(value, str) else value
    if "name" not in data:
        data["name"] = ""  # the model says why an empty name is refused
    try:
        data["seats"] = _seats(cells.get("seats"))
    except ValueError as exc:
        problem("seats", str(exc))
    if not _missing(cells.get("timezone")):
        try:
            data["timezone"] = _timezone(cells["timezone"], on, notes)
        except ValueError as exc:
            problem("timezone", str(exc))
    if "schedule" in cells and not _missing(cells["schedule"]):
        data["schedule"] = cells["schedule"]
    else:
        parts: dict[str, Any] = {}
        for key, parse in (("days", _days), ("start_hour", _hour), ("end_hour", _hour)):
            try:
                parts[key] = parse(cells.get(key))
            except ValueError as exc:
                problem(key, str(exc))
        if len(parts) == 3:
            on_days = parts["days"]
            data["schedule"] = {
                day: [day in on_days, parts["start_hour"], parts["end_hour"]] for day in DAYS
            }
    try:
        draft = CampaignDraft.model_validate(data)
    except ValidationError as exc:
        seen: set[tuple[str, str]] = set()
        for err, line in zip(exc.errors(), describe_errors(exc), strict=True):
            column = _column_of(err["loc"], cells)
            if column in failed or (column == "days" and failed & set(_SCHEDULE_PARTS)):
                continue  # already reported as a parse problem
            reason = line.partition(": ")[2] if err["loc"] else line
            if (column, reason) not in seen:
                seen.add((column, reason))
                shown = "/".join(by_field.get(c, c) for c in column.split("/"))
                value = cells.get(column) if "/" not in column else None
                if "/" in column:
                    value = f"{cells.get('start_hour')}-{cells.get('end_hour')}"
                item.problems.append((shown, value, reason))
    else:
        if not item.problems:
            item.draft = draft
    item.raw = data  # what was understood of the row, shown in its result row if invalid
    return item


def _column_of(loc: tuple[int | str, ...], cells: Mapping[str, Any]) -> str:
    """The sheet column a model error is about."""
    head = str(loc[0]) if loc else "name"
    if head != "schedule" or "schedule" in cells:
        return head
    if len(loc) >= 3 and loc[2] in ("start_hour", "end_hour"):
        return str(loc[2])
    if len(loc) == 2:
        return "start_hour/end_hour"  # the day's window as a whole (start before end)
    return "days"


def _check_repeated_ids(items: list[_Item], by_field: Mapping[str, str]) -> None:
    first: dict[str, Hashable] = {}
    for item in items:
        if item.draft is None or item.draft.campaign_id is None:
            continue
        cid = item.draft.campaign_id
        if cid in first:
            item.problems.append(
                (
                    by_field.get("campaign_id", "campaign_id"),
                    cid,
                    f"campaign id already used by row {first[cid]}",
                )
            )
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
        raise ValueError("no seats: give one seat id or several separated by ; or ,")
    if isinstance(value, str):
        return [s.strip() for s in re.split(r"[;,]", value) if s.strip()]
    if isinstance(value, Iterable) and not isinstance(value, Mapping):
        return [s.strip() if isinstance(s, str) else s for s in value]
    raise ValueError(f"seats must be a list or text like 'seat_a; seat_b', got {value!r}")


def _day(token: str) -> int:
    for number, day in enumerate(DAYS):
        if len(token) >= 2 and day.startswith(token) and (len(token) >= 3 or token == "tu"):
            return number
    raise ValueError(
        f"{token!r} is not a day: use mon..sun, a range like mon-fri, a list like "
        "mon,wed,fri, or 'every day'"
    )


def _days(value: Any) -> set[str]:
    if _missing(value):
        raise ValueError("no days: give e.g. mon-fri, mon,wed,fri or every day")
    tokens: list[str]
    if isinstance(value, str):
        text = " ".join(value.lower().split())
        if text in _DAY_WORDS:
            return set(_DAY_WORDS[text])
        tokens = [t for t in re.split(r"\s*[,;/ ]\s*", text.replace(" - ", "-")) if t]
    elif isinstance(value, Iterable):
        tokens = [str(t).strip().lower() for t in value]
    else:
        raise ValueError(f"days must be text like mon-fri, got {value!r}")
    chosen: set[str] = set()
    for token in tokens:
        if token in _DAY_WORDS:
            chosen.update(_DAY_WORDS[token])
        elif "-" in token:
            first, _, last = token.partition("-")
            a, b = _day(first), _day(last)
            span = range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)]
            chosen.update(DAYS[i] for i in span)
        else:
            chosen.add(DAYS[_day(token)])
    if not chosen:
        raise ValueError("no days: give e.g. mon-fri, mon,wed,fri or every day")
    return chosen


def _number_cell(value: Any, unit: str) -> int | None:
    """A cell that already holds a number, as an int (``None`` for text)."""
    if isinstance(value, bool):
        raise ValueError(f"must be {unit}, not true/false")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{value:g} is not a whole number of {unit}")
        return int(value)
    return None


def _hour(value: Any) -> Any:
    if _missing(value):
        raise ValueError("missing: give a whole hour such as 9 or 09:00")
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


# -- sending ------------------------------------------------------------------------------

def _items_from_results(frame: pd.DataFrame, retry_unknown: bool) -> tuple[list[_Item], int]:
    """A result frame fed back: succeeded rows are kept as they are, failed ones retried."""
    items: list[_Item] = []
    held = 0
    for entry in frame.to_dict("records"):
        record = row = _as_row(entry)
        label = row["input_row"]
        if row["ok"] or row.get("schedule") is None:
            items.append(_Item(label, None, kept=record))  # done, or was invalid: nothing to send
            continue
        unknown = bool(row.get("maybe_created"))
        if unknown and row.get("campaign_id") is None and not retry_unknown:
            held += 1  # no id of its own: sending again could create a duplicate
            items.append(_Item(label, None, kept=record))
            continue
        fields = ("name", "seats", "status", "schedule", "timezone", "campaign_id", "account_id")
        data: dict[str, Any] = {k: row[k] for k in fields if row.get(k) is not None}
        if "timezone" in data:
            data["timezone"] = int(data["timezone"])
        data["seats"] = list(data.get("seats") or [])
        items.append(_Item(label, None, raw=data, may_exist=unknown))
    return items, held


def _as_row(entry: Mapping[Hashable, Any]) -> dict[str, Any]:
    """A result frame's record back in ``attempt_row`` form (ISO text, epoch ms, None)."""
    row: dict[str, Any] = {}
    for key, value in entry.items():
        if isinstance(value, pd.Timestamp):
            value = value.isoformat() if key == "when" else value.value // 1_000_000
        elif not isinstance(value, (list, dict)) and _missing(value):
            value = None
        elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
            value = int(value)
        row[str(key)] = value
    return row


def _collect(client: AlsonaClient, source: Any, retry_unknown: bool) -> tuple[list[_Item], int]:
    if isinstance(source, DraftBatch):
        return [
            _Item(i.row, i.draft, dict(i.raw), list(i.problems), i.kept) for i in source.items
        ], 0
    if isinstance(source, pd.DataFrame):
        if {"ok", "input_row"} <= set(source.columns):
            return _items_from_results(source, retry_unknown)
        return _collect(client, drafts_from_frame(source), retry_unknown)
    if isinstance(source, (CampaignDraft, Mapping)):
        source = [source]
    items = []
    for number, entry in enumerate(source):
        if isinstance(entry, CampaignDraft):
            items.append(_Item(number, entry))
        elif isinstance(entry, Mapping):
            items.append(_Item(number, None, raw=dict(entry)))
        else:
            raise TypeError(
                f"item {number} is a {type(entry).__name__}: give CampaignDrafts, dicts, a "
                "DataFrame, a DraftBatch or a result frame"
            )
    return items, 0


def _prepare(client: AlsonaClient, item: _Item) -> None:
    """Validate through ``client.prepare`` (which also fills in the account)."""
    if item.kept is not None or item.problems:
        return
    try:
        item.draft = client.prepare(item.draft if item.draft is not None else item.raw)
    except ValidationError as exc:
        item.draft = None
        for err, line in zip(exc.errors(), describe_errors(exc), strict=True):
            column = str(err["loc"][0]) if err["loc"] else ""
            reason = line.partition(": ")[2] if err["loc"] else line
            item.problems.append((column, item.raw.get(column), reason))
    except ValueError as exc:
        item.draft = None
        item.problems.append(("account_id", item.raw.get("account_id"), str(exc)))


def _ensure_pool(client: AlsonaClient, workers: int) -> None:
    """Give the client's session at least ``workers`` keep-alive connections to its host
    (requests keeps 10 per host by default; more workers would open and drop connections)."""
    session = client._session
    adapter = session.get_adapter(client.base_url + "/")
    size = getattr(adapter, "_pool_maxsize", None)
    if type(adapter) is HTTPAdapter and size is not None and size < workers:
        session.mount(
            client.base_url + "/",
            HTTPAdapter(pool_connections=1, pool_maxsize=workers, max_retries=adapter.max_retries),
        )


def _row(attempt: Attempt, item: _Item) -> dict[str, Any]:
    row = attempt_row(attempt)
    row["input_row"] = item.row
    error = attempt.error
    # Unknown exceptions (not the API's) count as "may exist": nothing says otherwise.
    row["maybe_created"] = error is not None and bool(
        getattr(error, "maybe_created", not isinstance(error, (NotSentError, ValueError)))
    )
    draft = attempt.draft or item.draft
    row["schedule"] = draft.schedule.model_dump(mode="json") if draft is not None else None
    return row


def _not_sent(
    client: AlsonaClient, item: _Item, error: Exception, mode: str | None = None
) -> dict[str, Any]:
    attempt = Attempt(
        datetime.now(timezone.utc), mode or client.mode, client.account_id, item.draft, error=error
    )
    if item.draft is None:
        shown = dict(item.raw)
        if not isinstance(shown.get("timezone"), int) or isinstance(shown["timezone"], bool):
            shown.pop("timezone", None)  # the result's timezone column holds minutes only
        attempt.extra["input"] = shown
    else:
        attempt.account_id = item.draft.account_id
    return _row(attempt, item)


def create_campaigns(
    client: AlsonaClient,
    drafts: Any,
    *,
    max_workers: int = 4,
    progress: bool = True,
    log: AttemptSink | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    retry_unknown: bool = False,
) -> pd.DataFrame:
    """Create many campaigns; return one result row per input, in input order.

    ``drafts`` is a list of drafts (or dicts), a DataFrame of sheet rows, a ``DraftBatch``,
    or an earlier result frame: then only its failed rows are sent again, never the ones
    that succeeded, and failed rows whose campaign may exist anyway (the answer was lost)
    are kept unless ``retry_unknown=True``.

    Everything is validated first: if a row is invalid nothing is sent and
    ``InvalidRowsError`` (with ``.report``) is raised, unless ``skip_invalid=True`` (those
    rows are then reported as not sent). Up to ``max_workers`` requests run at once; a 429
    or 503 pauses the whole batch for its ``Retry-After``. Each attempt also goes to
    ``log``. ``dry_run=True`` validates and returns the rows without sending anything.
    Ctrl-C (a kernel interrupt) stops the batch: rows in flight finish, the rest are
    marked not sent, and the frame comes back; feed it in again to continue.

    The frame has ``ResultsLog``'s columns plus ``input_row`` (the input's row label),
    ``maybe_created`` (failed, but the campaign may exist: the answer was lost) and
    ``schedule`` (the API's day lists).
    """
    if not isinstance(max_workers, int) or isinstance(max_workers, bool) or max_workers < 1:
        raise ValueError(f"max_workers must be a whole number of at least 1, got {max_workers!r}")
    items, held = _collect(client, drafts, retry_unknown)
    for item in items:
        _prepare(client, item)
    bad = DraftBatch([item for item in items if item.problems])
    if bad.items and not skip_invalid:
        raise InvalidRowsError(bad.report)

    rows: list[dict[str, Any] | None] = [None] * len(items)
    send: list[int] = []
    for index, item in enumerate(items):
        if item.kept is not None:
            rows[index] = dict(item.kept)
        elif item.problems:
            reasons = "; ".join(f"{col}: {why}" for col, _, why in item.problems)
            error = NotSentError(f"invalid, not sent: {reasons}")
            rows[index] = _not_sent(client, item, error, "dry-run" if dry_run else None)
        elif dry_run:
            assert item.draft is not None
            attempt = Attempt(
                datetime.now(timezone.utc), "dry-run", item.draft.account_id, item.draft
            )
            rows[index] = _row(attempt, item)
        else:
            send.append(index)
    if held:
        print(
            f"{held} failed row(s) may have created their campaign anyway (the answer was "
            "lost), so they were not sent again; check them in Alsona, then pass "
            "retry_unknown=True to send them anyway.",
            file=sys.stderr,
        )
    if send:
        _send_all(client, items, rows, send, max_workers, progress, log)
    frame = rows_to_frame([r for r in rows if r is not None])
    frame.insert(0, "input_row", [r["input_row"] for r in rows if r is not None])
    frame["maybe_created"] = [bool(r.get("maybe_created")) for r in rows if r is not None]
    frame["schedule"] = [r.get("schedule") for r in rows if r is not None]
    return frame


def _send_all(
    client: AlsonaClient,
    items: list[_Item],
    rows: list[dict[str, Any] | None],
    send: list[int],
    max_workers: int,
    progress: bool,
    log: AttemptSink | None,
) -> None:
    from tqdm.auto import tqdm

    _ensure_pool(client, max_workers)
    bar = tqdm(total=len(send), disable=not progress, desc="creating", unit="campaign")
    pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="alsona-bulk")
    futures: dict[Future[Attempt], int] = {}
    failed = 0

    def finish(future: Future[Attempt]) -> None:
        nonlocal failed
        index = futures[future]
        if rows[index] is not None:
            return
        error = future.exception()
        if error is not None:  # not an API failure (client.attempt never raises those)
            attempt = Attempt(
                datetime.now(timezone.utc),
                client.mode,
                client.account_id,
                items[index].draft,
                error=error,
            )
        else:
            attempt = future.result()
        rows[index] = _row(attempt, items[index])
        failed += not attempt.ok
        bar.update(1)
        if failed:
            bar.set_postfix(failed=failed, refresh=False)

    interrupted = False
    finished: SimpleQueue[Future[Attempt]] = SimpleQueue()
    try:
        for index in send:
            draft = items[index].draft
            assert draft is not None
            future = pool.submit(
                client.attempt, draft, log=log, may_exist=items[index].may_exist
            )
            futures[future] = index
            future.add_done_callback(finished.put)
        for _ in range(len(send)):
            # (futures.wait() on all of them would cost O(n) per completion.) The timeout
            # lets a Ctrl-C be seen promptly on every platform.
            while True:
                try:
                    future = finished.get(timeout=0.2)
                    break
                except Empty:
                    continue
            finish(future)
    except KeyboardInterrupt:
        interrupted = True
        pool.shutdown(wait=False, cancel_futures=True)
        try:
            running = {f for f in futures if not f.cancelled()}
            while running:  # requests in flight may create campaigns: keep their answers
                done, running = wait(running, timeout=0.2)
                for future in done:
                    finish(future)
        except KeyboardInterrupt:
            pass  # a second Ctrl-C: stop waiting for requests in flight
        for future, index in futures.items():
            if rows[index] is None and future.done() and not future.cancelled():
                finish(future)
    finally:
        pool.shutdown(wait=False)
        bar.close()
    if interrupted:
        for future, index in futures.items():
            if rows[index] is None:
                error: Exception = (
                    NotSentError("not sent: the batch was interrupted before this row")
                    if future.cancelled()
                    else InterruptedInFlight(
                        "interrupted while in flight: the campaign may or may not have been "
                        "created; check before sending it again"
                    )
                )
                rows[index] = _not_sent(client, items[index], error)
        done_count = sum(1 for i in send if (rows[i] or {}).get("tries"))
        print(
            f"interrupted: {done_count} of {len(send)} row(s) were sent; the others are marked "
            "not sent. Pass this result frame to create_campaigns again to send the rest.",
            file=sys.stderr,
        )
