"""The results log: every create attempt as one row, optionally journalled to JSON Lines."""

from __future__ import annotations

import json
import os
import threading
import warnings
from collections.abc import Iterator, Mapping
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._client import Attempt

if TYPE_CHECKING:
    import pandas as pd

COLUMNS: tuple[str, ...] = (
    "when",
    "mode",
    "account_id",
    "name",
    "status",
    "seats",
    "timezone",
    "campaign_id",
    "priority",
    "wait_until",
    "ok",
    "http_status",
    "error_type",
    "error_message",
    "elapsed_ms",
    "tries",
)
_INT_COLUMNS = ("timezone", "http_status", "tries")
_MS_COLUMNS = ("priority", "wait_until")


def attempt_row(attempt: Attempt) -> dict[str, Any]:
    """The flat, JSON-ready row for one attempt (never the API key)."""
    draft, campaign, error = attempt.draft, attempt.campaign, attempt.error
    source: Any = campaign or draft
    raw = attempt.extra.get("input")
    if source is None and isinstance(raw, Mapping):
        source = raw.get("campaign", raw) if isinstance(raw.get("campaign"), Mapping) else raw

    def pick(name: str) -> Any:
        value = source.get(name) if isinstance(source, Mapping) else getattr(source, name, None)
        return value.value if isinstance(value, Enum) else value

    seats = pick("seats")
    return {
        "when": attempt.started_at.isoformat(),
        "mode": attempt.mode,
        "account_id": attempt.account_id,
        "name": pick("name"),
        "status": pick("status"),
        "seats": list(seats) if isinstance(seats, (list, tuple)) else seats,
        "timezone": pick("timezone"),
        "campaign_id": pick("campaign_id"),
        "priority": campaign.priority if campaign else None,
        "wait_until": campaign.wait_until if campaign else None,
        "ok": attempt.ok,
        "http_status": attempt.http_status,
        "error_type": type(error).__name__ if error is not None else None,
        "error_message": _error_text(error),
        "elapsed_ms": round(attempt.elapsed_ms, 3),
        "tries": attempt.tries,
    }


def _error_text(error: BaseException | None) -> str | None:
    if error is None:
        return None
    message = getattr(error, "message", None)
    if isinstance(message, str):
        return message
    from pydantic import ValidationError

    from ._models import describe_errors

    if isinstance(error, ValidationError):
        return "; ".join(describe_errors(error))
    return str(error)


class ResultsLog:
    """Every create attempt, in order, as rows; ``to_frame()`` gives a pandas DataFrame.

    With ``path``, each attempt is appended to that JSON Lines journal at once (one line,
    flushed), so a crashed kernel loses nothing; opening an existing journal reads its
    earlier rows back.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        if self.path is not None and self.path.exists():
            self._rows.extend(_read_journal(self.path))
            _end_torn_line(self.path)

    def record(self, attempt: Attempt) -> dict[str, Any]:
        """Add one attempt (and journal it); returns its row."""
        row = attempt_row(attempt)
        line = json.dumps(row, default=str, ensure_ascii=False) + "\n"
        with self._lock:
            self._rows.append(row)
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as journal:
                    journal.write(line)
                    journal.flush()
        return row

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(list(self._rows))

    def __repr__(self) -> str:
        where = f" journal={str(self.path)!r}" if self.path else ""
        ok = sum(1 for r in self._rows if r["ok"])
        return f"<ResultsLog {len(self._rows)} attempts, {ok} ok{where}>"

    @property
    def rows(self) -> list[dict[str, Any]]:
        """A copy of the rows, oldest first."""
        with self._lock:
            return [dict(r) for r in self._rows]

    def to_frame(self) -> pd.DataFrame:
        """The attempts as a DataFrame: datetimes in UTC, nullable integers, one row each."""
        return rows_to_frame(self.rows)

    def to_csv(self, path: str | Path) -> Path:
        """Write the attempts as CSV (seats joined with ``;``) and return the path."""
        frame = self.to_frame()
        frame["seats"] = frame["seats"].map(lambda s: ";".join(s) if isinstance(s, list) else s)
        target = Path(path)
        frame.to_csv(target, index=False)
        return target


def rows_to_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows made by ``attempt_row`` as a typed DataFrame with the standard columns."""
    import pandas as pd

    frame: pd.DataFrame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["when"] = pd.to_datetime(frame["when"], utc=True, format="ISO8601")
    for col in _MS_COLUMNS:
        frame[col] = pd.to_datetime(frame[col], unit="ms", utc=True)
    for col in _INT_COLUMNS:
        frame[col] = frame[col].astype("Int64")
    frame["ok"] = frame["ok"].astype(bool)
    frame["elapsed_ms"] = frame["elapsed_ms"].astype(float)
    for col in (
        "mode",
        "account_id",
        "name",
        "status",
        "campaign_id",
        "error_type",
        "error_message",
    ):
        frame[col] = frame[col].astype("string")
    return frame


def _end_torn_line(path: Path) -> None:
    """Close a last line cut by a crash, so that the next row starts on its own line."""
    with path.open("rb+") as journal:
        if journal.seek(0, os.SEEK_END) == 0:
            return
        journal.seek(-1, os.SEEK_END)
        if journal.read(1) != b"\n":
            journal.write(b"\n")


def _read_journal(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as journal:
        for number, line in enumerate(journal, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                # A kernel killed mid-write leaves at most one torn last line.
                warnings.warn(
                    f"{path}: line {number} is not complete JSON and was skipped",
                    stacklevel=3,
                )
                continue
            if isinstance(row, dict):
                yield row
