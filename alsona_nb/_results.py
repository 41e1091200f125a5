"""The results log: every create attempt as one row, optionally journalled to JSON Lines.

The journal is written ahead: an *intent* line (the attempt's id and what it sends) before
the first request, an *outcome* line after it, each one ``write`` on a file opened for
appending. A kernel killed mid-request leaves the intent, which reads back as an attempt
with an unknown outcome; ``client.reconcile`` settles it by asking the server.
"""

from __future__ import annotations

import html
import json
import os
import threading
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ._attempt import Attempt
from ._errors import JournalError, notify

if TYPE_CHECKING:
    import pandas as pd

#: The one schema of a result row: the log, bulk frames and frames read back all use it.
COLUMNS: tuple[str, ...] = (
    "when",
    "mode",
    "account_id",
    "name",
    "status",
    "seats",
    "timezone",
    "campaign_id",
    "outcome",
    "ok",
    "maybe_created",
    "http_status",
    "error_type",
    "error_message",
    "settled",
    "elapsed_ms",
    "tries",
    "priority",
    "wait_until",
    "schedule",
    "attempt_id",
)
_INT_COLUMNS = ("timezone", "http_status", "tries")
_MS_COLUMNS = ("priority", "wait_until")
_TEXT_COLUMNS = (
    "mode",
    "account_id",
    "name",
    "status",
    "campaign_id",
    "outcome",
    "error_type",
    "error_message",
    "settled",
    "attempt_id",
)
IN_FLIGHT = "no outcome was recorded: the kernel stopped while the request was in flight"


class AttemptSink(Protocol):
    """Anything that keeps attempts, such as a ``ResultsLog``. ``intent`` (optional) is
    called before the first request, ``record`` after the last."""

    def record(self, attempt: Attempt) -> object: ...


def attempt_row(attempt: Attempt, *, in_flight: bool = False) -> dict[str, Any]:
    """The flat, JSON-ready row for one attempt (never the API key).

    With ``in_flight``, the row of an attempt about to be sent: its outcome is unknown.
    """
    draft, campaign, error = attempt.draft, attempt.campaign, attempt.error
    source: Any = campaign or draft
    if source is None and isinstance(attempt.input, Mapping):
        inner = attempt.input.get("campaign", attempt.input)
        source = inner if isinstance(inner, Mapping) else None

    def pick(name: str, kind: type | tuple[type, ...] = str) -> Any:
        value = source.get(name) if isinstance(source, Mapping) else getattr(source, name, None)
        value = value.value if isinstance(value, Enum) else value
        if isinstance(value, bool) and kind is not bool:
            return None
        return value if isinstance(value, kind) else None

    seats = pick("seats", (list, tuple))
    schedule: Any = None
    if draft is not None:
        schedule = draft.schedule.model_dump(mode="json")
    elif campaign is not None:
        schedule = campaign.schedule
    row: dict[str, Any] = {
        "when": attempt.started_at.isoformat(),
        "mode": attempt.mode,
        "account_id": attempt.account_id if isinstance(attempt.account_id, str) else None,
        "name": pick("name"),
        "status": pick("status"),
        "seats": [str(s) for s in seats] if seats is not None else None,
        "timezone": pick("timezone", int),
        "campaign_id": pick("campaign_id"),
        "outcome": "unknown" if in_flight else attempt.outcome,
        "ok": False if in_flight else attempt.ok,
        "maybe_created": True if in_flight else attempt.outcome == "unknown",
        "http_status": attempt.http_status,
        "error_type": type(error).__name__ if error is not None else None,
        "error_message": IN_FLIGHT if in_flight else (error.message if error else None),
        "settled": attempt.settled,
        "elapsed_ms": round(attempt.elapsed_ms, 3),
        "tries": attempt.tries,
        "priority": campaign.priority if campaign else None,
        "wait_until": campaign.wait_until if campaign else None,
        "schedule": schedule,
        "attempt_id": attempt.attempt_id,
    }
    return row


class ResultsLog:
    """Every create attempt, in order, as rows; ``to_frame()`` gives a pandas DataFrame.

    With ``path``, each attempt is journalled there as it happens (see the module doc);
    opening an existing journal reads its rows back, skipping lines that cannot be read
    (one warning says how many). The journal must be writable unless ``read_only=True``.

    Raises ``JournalError`` when the journal cannot be written (or, read-only, read).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, read_only: bool = False):
        self.path = Path(path) if path is not None else None
        self.read_only = read_only
        self._rows: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._start_new_line = False
        if self.path is None:
            return
        if not read_only:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                os.close(os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644))
            except OSError as exc:
                raise JournalError(
                    f"cannot write the results journal {str(self.path)!r} ({exc.strerror or exc}); "
                    "choose another path, or pass read_only=True to only read it"
                ) from None
        if self.path.exists():
            rows, ends_clean = _read_journal(self.path)
            self._rows.update(rows)
            self._start_new_line = not ends_clean

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> ResultsLog:
        """Open a journal only to read it (it is never written to)."""
        return cls(path, read_only=True)

    def intent(self, attempt: Attempt) -> None:
        """Journal an attempt about to be sent. Raises ``JournalError`` if it cannot be
        written: then nothing must be sent."""
        row = attempt_row(attempt, in_flight=True)
        self._write({"event": "intent", **row})
        with self._lock:
            self._rows[attempt.attempt_id] = row

    def record(self, attempt: Attempt) -> dict[str, Any]:
        """Add one finished attempt (and journal it); returns its row.

        Raises ``JournalError`` if the journal cannot be written; the row is kept in memory.
        """
        row = attempt_row(attempt)
        with self._lock:
            self._rows[attempt.attempt_id] = row  # in place of its intent, if any
        self._write({"event": "outcome", **row})
        return row

    def settle(self, row: dict[str, Any]) -> None:
        """Replace a row (by ``attempt_id``) with its settled version, journalled."""
        with self._lock:
            self._rows[str(row["attempt_id"])] = dict(row)
        if self.path is not None and not self.read_only:
            self._write({"event": "outcome", **row})

    def _write(self, row: dict[str, Any]) -> None:
        if self.path is None:
            return
        if self.read_only:
            raise JournalError(f"the results journal {str(self.path)!r} was opened read-only")
        # ASCII JSON: a lone surrogate in a name cannot make the line unwritable.
        line = json.dumps(row, default=str).encode() + b"\n"
        with self._lock:
            if self._start_new_line:
                line = b"\n" + line  # after a torn line, start clean
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    written = os.write(fd, line)
                finally:
                    os.close(fd)
            except OSError as exc:
                self._start_new_line = True  # part of the line may be there
                raise JournalError(
                    f"could not write to the results journal {str(self.path)!r} "
                    f"({exc.strerror or exc})"
                ) from None
            self._start_new_line = written != len(line)
            if self._start_new_line:
                raise JournalError(f"the results journal {str(self.path)!r} took a partial line")

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def __repr__(self) -> str:
        where = f" journal={str(self.path)!r}" if self.path else ""
        rows = self.rows
        ok = sum(1 for r in rows if r.get("ok"))
        unknown = sum(1 for r in rows if r.get("outcome") == "unknown")
        more = f", {unknown} unknown" if unknown else ""
        return f"<ResultsLog {len(rows)} attempts, {ok} ok{more}{where}>"

    def _repr_html_(self) -> str:
        return frame_html(self.to_frame(), title=repr(self))

    @property
    def rows(self) -> list[dict[str, Any]]:
        """A copy of the rows, oldest first."""
        with self._lock:
            return [dict(r) for r in self._rows.values()]

    def to_frame(self) -> pd.DataFrame:
        """The attempts as a DataFrame: datetimes in UTC, nullable integers, one row each."""
        return rows_to_frame(self.rows)

    def to_csv(self, path: str | os.PathLike[str], *, safe: bool = True) -> Path:
        """Write the attempts as CSV (seats joined with ``;``) and return the path.

        With ``safe`` (the default), text cells that a spreadsheet would run as a formula
        (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) get a leading ``'``.
        """
        return frame_to_csv(self.to_frame(), path, safe=safe)


def rows_to_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows made by ``attempt_row`` as a typed DataFrame with the standard columns.

    Values that do not fit a column's type (an old or hand-edited journal) become missing
    values in the frame instead of failing; the journal keeps them as they were.
    """
    import pandas as pd

    frame: pd.DataFrame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["when"] = pd.to_datetime(frame["when"], utc=True, format="ISO8601", errors="coerce")
    for col in _MS_COLUMNS:
        frame[col] = ms_datetimes(frame[col])
    for col in _INT_COLUMNS:
        numbers = pd.to_numeric(frame[col], errors="coerce")
        frame[col] = numbers.where(numbers.abs() < 2**53).round().astype("Int64")
    for col in ("ok", "maybe_created"):
        frame[col] = frame[col].map(lambda v: v is True).astype(bool)
    frame["elapsed_ms"] = pd.to_numeric(frame["elapsed_ms"], errors="coerce").astype(float)
    for col in _TEXT_COLUMNS:
        frame[col] = frame[col].map(lambda v: v if isinstance(v, str) else None).astype("string")
    return frame


def ms_datetimes(values: pd.Series[Any]) -> pd.Series[Any]:
    """Epoch milliseconds as UTC datetimes; out-of-range values (2**63-1 sentinels) are NaT."""
    import pandas as pd

    numbers = pd.to_numeric(values, errors="coerce")
    # pandas' datetime64[ns] spans about 1677-2262; a "for ever" sentinel is not a date.
    numbers = numbers.where(numbers.abs() < 9_000_000_000_000)
    dates: pd.Series[Any] = pd.to_datetime(numbers, unit="ms", utc=True)
    return dates


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """OWASP's rule against CSV injection: a text cell that starts like a formula gets a
    leading ``'``."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def frame_to_csv(frame: pd.DataFrame, path: str | os.PathLike[str], *, safe: bool = True) -> Path:
    """Write a result frame as CSV: lists joined with ``;``, dicts as JSON, and (``safe``)
    formula-like text neutralised."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype) == "string":
            out[col] = out[col].map(_csv_cell, na_action="ignore")
            if safe:
                out[col] = out[col].map(neutralise_cell, na_action="ignore")
    target = Path(path)
    out.to_csv(target, index=False)
    return target


def _csv_cell(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return value


_SHOWN = ("when", "outcome", "name", "campaign_id", "status", "error_message", "settled")
_MARKS = {"created": "✔ created", "failed": "✘ failed", "unknown": "⚠ unknown"}


def frame_html(frame: pd.DataFrame, *, title: str = "") -> str:
    """A compact, readable HTML table of a result frame: labels, no NA noise, ids whole."""
    shown = [c for c in _SHOWN if c in frame.columns]
    head = "".join(f"<th>{html.escape(c.replace('_', ' ').capitalize())}</th>" for c in shown)
    body = []
    for record in frame[shown].to_dict("records"):
        cells = []
        for col in shown:
            value = record[col]
            text = "" if value is None or _is_na(value) else str(value)
            if col == "when" and isinstance(value, datetime):
                text = value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
            if col == "outcome":
                text = _MARKS.get(text, text)
            style = ' style="font-family:monospace"' if col == "campaign_id" else ""
            cells.append(f"<td{style}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    caption = f"<caption>{html.escape(title)}</caption>" if title else ""
    return (
        f'<table class="alsona-results">{caption}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _is_na(value: Any) -> bool:
    try:
        return bool(value != value)  # NaN, NaT and pd.NA compare unequal (or raise)
    except (TypeError, ValueError):
        return True


def _read_journal(path: Path) -> tuple[dict[str, dict[str, Any]], bool]:
    """The rows of a journal by attempt id, and whether it ends with a full line.

    Opened read-only; never written to. Lines that are not whole JSON objects (a torn
    write, a cut UTF-8 character, a glued fragment) are skipped, with one warning.
    """
    try:
        with path.open("rb") as journal:
            data = journal.read()
    except OSError as exc:
        raise JournalError(
            f"cannot read the results journal {str(path)!r} ({exc.strerror or exc})"
        ) from None
    rows: dict[str, dict[str, Any]] = {}
    skipped: list[int] = []
    for number, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            skipped.append(number)
            continue
        if not isinstance(row, dict):
            skipped.append(number)
            continue
        event = row.pop("event", "outcome")
        key = str(row.get("attempt_id") or f"line-{number}")
        if event == "intent" and key in rows:
            continue  # an outcome already came for it
        rows[key] = row  # an outcome takes its intent's place
    if skipped:
        lines = ", ".join(map(str, skipped[:5])) + (" ..." if len(skipped) > 5 else "")
        notify(
            f"{path}: skipped {len(skipped)} unreadable line(s) (line {lines}); "
            "a torn line is what a crash mid-write leaves"
        )
    return rows, data.endswith(b"\n") or not data
