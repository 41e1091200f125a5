"""The results log: every call (create, update, delete) as one row, optionally journalled to
a JSON Lines file.

The journal is written ahead. A batch is *queued* first (one line per call, with its exact
request body, in one write), each call's *intent* is written before its first request and
its *outcome* after the last. Reading it back, an intent takes its queued line's place and
an outcome takes both places; a queued line never replaces anything. A kernel killed
mid-request leaves the intent, which reads as an unknown outcome (``client.reconcile``
settles it by asking the server); a batch killed part-way leaves queued lines for what was
never sent, with the bytes to send.

Durability follows SQLite's rule for a write-ahead log: each queued batch and each intent
is on disk (``fsync``) before it is returned, so before the request goes out, and each
outcome is synced once written; the folder is synced when the journal file is created. Each
line is one ``write`` on a file opened for appending, and a writer that finds the file
ending in a fragment (another writer's line cut short by a full disk) starts on a fresh
line, so its own lines stay readable. Only regular files are accepted as journals.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from ._attempt import Attempt, AttemptSink, Outcome, PreparedDelete, PreparedUpdate
from ._errors import JournalError, notify
from ._frames import (
    COLUMNS,
    DEFAULT_COLUMNS,
    frame_html,
    frame_to_csv,
    frame_to_excel,
    ms_datetimes,
    neutralise_cell,
    rows_to_frame,
)
from ._models import Campaign, CampaignDraft

try:  # advisory locks between writers (absent on Windows, where appends are not shared)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "COLUMNS",
    "DEFAULT_COLUMNS",
    "IN_FLIGHT",
    "QUEUED",
    "AttemptSink",
    "ResultsLog",
    "attempt_row",
    "frame_html",
    "frame_to_csv",
    "ms_datetimes",
    "neutralise_cell",
    "row_body",
    "rows_to_frame",
]

IN_FLIGHT = "no outcome was recorded: the kernel stopped while the request was in flight"
QUEUED = "queued: not sent yet"

_QUEUED, _INTENT, _OUTCOME = 0, 1, 2
_RANKS = {"queued": _QUEUED, "intent": _INTENT, "outcome": _OUTCOME}
_FLAGS = os.O_APPEND | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_FLAGS |= getattr(os, "O_BINARY", 0)


# -- rows -------------------------------------------------------------------------------------


def attempt_row(
    attempt: Attempt, *, in_flight: bool = False, queued: bool = False
) -> dict[str, Any]:
    """The flat, JSON-ready row of one attempt (never the API key), with the ``COLUMNS``.

    With ``in_flight``, the row of an attempt about to be sent: its outcome is unknown. With
    ``queued``, the row of an attempt waiting its turn: not sent. A delete's name, status
    and seats are the campaign's as last read; an update's ``diff`` is
    ``{field: [before, after]}``.
    """
    campaign, error, draft = attempt.campaign, attempt.error, attempt.draft
    source = _source(attempt)

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
    elif isinstance(source, Campaign):
        schedule = source.schedule
    outcome, ok = attempt.outcome.value, attempt.ok
    maybe = attempt.outcome is Outcome.UNKNOWN
    message = error.message if error is not None else None
    if queued:
        outcome, ok, maybe, message = Outcome.NOT_SENT.value, False, False, QUEUED
    elif in_flight:
        outcome, ok, maybe, message = Outcome.UNKNOWN.value, False, True, IN_FLIGHT
    return {
        "when": attempt.started_at.isoformat(),
        "action": attempt.action.value,
        "mode": attempt.mode,
        "account_id": _account(attempt),
        "name": pick("name"),
        "status": pick("status"),
        "seats": [str(s) for s in seats] if seats is not None else None,
        "timezone": pick("timezone", int),
        "zone": attempt.zone or (pick("zone") if isinstance(source, Mapping) else None),
        "campaign_id": attempt.campaign_id or pick("campaign_id"),
        "outcome": outcome,
        "ok": ok,
        "maybe_created": maybe,
        "http_status": attempt.http_status,
        "error_type": type(error).__name__ if error is not None else None,
        "error_message": message,
        "settled": attempt.settled,
        "elapsed_ms": round(attempt.elapsed_ms, 3),
        "tries": attempt.tries,
        "priority": campaign.priority if campaign else None,
        "wait_until": campaign.wait_until if campaign else None,
        "schedule": schedule,
        "diff": _json_diff(attempt),
        "attempt_id": attempt.attempt_id,
    }


def _source(attempt: Attempt) -> Campaign | CampaignDraft | Mapping[str, Any] | None:
    """Where a row's name, status and seats come from: the server's answer, else what is
    sent, else (a delete) the campaign as read, else the raw input of an invalid draft."""
    if attempt.campaign is not None:
        return attempt.campaign
    if attempt.draft is not None:
        return attempt.draft
    prepared = attempt.prepared
    if isinstance(prepared, (PreparedUpdate, PreparedDelete)) and prepared.based_on is not None:
        return prepared.based_on
    if isinstance(attempt.input, Mapping):
        inner = attempt.input.get("campaign", attempt.input)
        return inner if isinstance(inner, Mapping) else None
    return None


def _account(attempt: Attempt) -> str | None:
    """The account the call goes to: the prepared request's (the campaign's own account),
    else the attempt's."""
    prepared = attempt.prepared.account_id if attempt.prepared is not None else None
    account = prepared if isinstance(prepared, str) and prepared else attempt.account_id
    return account if isinstance(account, str) else None


def _json_diff(attempt: Attempt) -> dict[str, list[Any]] | None:
    diff = attempt.diff
    if diff is None:
        return None

    def plain(value: Any) -> Any:
        if isinstance(value, BaseModel):
            return value.model_dump(mode="json")
        return to_jsonable_python(value, fallback=str)

    return {str(field): [plain(before), plain(after)] for field, (before, after) in diff.items()}


def _body_text(attempt: Attempt) -> str | None:
    body = attempt.prepared.body if attempt.prepared is not None else None
    # surrogateescape: any byte survives the JSON line and comes back out of row_body.
    return body.decode("utf-8", "surrogateescape") if isinstance(body, bytes) else None


def row_body(row: Mapping[str, Any]) -> bytes | None:
    """The exact request body a queued or intent row carries (``None`` for deletes, invalid
    input and rows without one): the bytes to send when resuming from the journal."""
    body = row.get("body")
    return body.encode("utf-8", "surrogateescape") if isinstance(body, str) else None


def _merge(
    rows: dict[str, dict[str, Any]], ranks: dict[str, int], key: str, row: dict[str, Any], rank: int
) -> bool:
    """Put ``row`` in place of the row with the same key, unless that one says more (an
    outcome over an intent, either over a queued line); a body is carried forward."""
    old_rank = ranks.get(key)
    if old_rank is not None and (rank == _QUEUED or old_rank > rank):
        return False
    old = rows.get(key)
    if old is not None and "body" in old and "body" not in row:
        row["body"] = old["body"]
    rows[key] = row
    ranks[key] = rank
    return True


def _line(event: str, row: Mapping[str, Any]) -> bytes:
    """One journal line. ASCII JSON: a lone surrogate in a name cannot make it unwritable.
    Only queued and intent lines carry the body (an outcome's is its intent's)."""
    if event == "outcome" and "body" in row:
        row = {k: v for k, v in row.items() if k != "body"}
    return json.dumps({"event": event, **row}, default=str).encode() + b"\n"


# -- the log ----------------------------------------------------------------------------------


class ResultsLog:
    """Every call's attempts, in order, as rows; ``to_frame()`` gives a pandas DataFrame.

    With ``path``, each attempt is journalled there as it happens (see the module doc);
    opening an existing journal reads its rows back, skipping lines that cannot be read
    (one warning says how many). The journal must be a regular file, writable unless
    ``read_only=True``. ``sync=False`` skips ``fsync`` (faster; the journal then survives
    a crashed kernel but not a power cut).

    Raises ``JournalError`` when the journal is not a regular file, or cannot be written
    (or, read-only, read).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        read_only: bool = False,
        sync: bool = True,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.read_only = read_only
        self.sync = sync
        self._rows: dict[str, dict[str, Any]] = {}
        self._ranks: dict[str, int] = {}
        self._lock = threading.Lock()
        if self.path is None:
            return
        if not read_only:
            _open_for_writing(self.path)
        else:
            try:
                exists = _is_regular_file(self.path)
            except OSError as exc:
                raise _unreadable(self.path, exc) from None
            if not exists:
                return  # nothing to read yet
        self._rows, self._ranks = _read_journal(self.path)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> ResultsLog:
        """Open a journal only to read it (it is never written to).

        Raises ``JournalError`` when it is not a regular file or cannot be read.
        """
        return cls(path, read_only=True)

    def queue(self, attempts: Sequence[Attempt]) -> None:
        """Journal a batch before its first request: one ``queued`` line per attempt, with
        its exact body, in one write, synced. Until an intent or outcome comes for it, each
        reads as ``not sent``. Raises ``JournalError`` if the batch cannot be written: then
        nothing must be sent."""
        rows = []
        for attempt in attempts:
            row = attempt_row(attempt, queued=True)
            body = _body_text(attempt)
            if body is not None:
                row["body"] = body
            rows.append(row)
        if rows:
            self._append(b"".join(_line("queued", row) for row in rows))
        with self._lock:
            for row in rows:
                _merge(self._rows, self._ranks, row["attempt_id"], row, _QUEUED)

    def intent(self, attempt: Attempt) -> None:
        """Journal an attempt about to be sent, with its exact body, synced before this
        returns. Raises ``JournalError`` if it cannot be written: then nothing must be sent."""
        row = attempt_row(attempt, in_flight=True)
        body = _body_text(attempt)
        if body is not None:
            row["body"] = body
        self._append(_line("intent", row))
        with self._lock:
            _merge(self._rows, self._ranks, attempt.attempt_id, row, _INTENT)

    def record(self, attempt: Attempt) -> dict[str, Any]:
        """Add one finished attempt (and journal it, synced); returns its row.

        Raises ``JournalError`` if the journal cannot be written; the row is kept in memory.
        """
        row = attempt_row(attempt)
        with self._lock:
            _merge(self._rows, self._ranks, attempt.attempt_id, row, _OUTCOME)
        self._append(_line("outcome", row))
        return dict(row)

    def settle(self, row: Mapping[str, Any]) -> None:
        """Replace a row (by ``attempt_id``) with its settled version, journalled.

        Raises ``JournalError`` if the journal cannot be written; the row is kept in memory.
        """
        settled = dict(row)
        with self._lock:
            _merge(self._rows, self._ranks, str(settled["attempt_id"]), settled, _OUTCOME)
        if self.path is not None and not self.read_only:
            self._append(_line("outcome", settled))

    def _append(self, data: bytes) -> None:
        if self.path is None:
            return
        if self.read_only:
            raise JournalError(f"the results journal {str(self.path)!r} was opened read-only")
        try:
            fd, readable = _open_append(self.path)
            try:
                with self._lock:
                    _append_lines(fd, data, readable=readable)
                if self.sync:  # outside the lock: other threads' lines share the flush
                    os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise JournalError(
                f"could not write to the results journal {str(self.path)!r} ({exc.strerror or exc})"
            ) from None

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def __repr__(self) -> str:
        where = f" journal={str(self.path)!r}" if self.path else ""
        with self._lock:
            total = len(self._rows)
            ok = sum(1 for r in self._rows.values() if r.get("ok") is True)
            counts = Counter(
                o for r in self._rows.values() if isinstance(o := r.get("outcome"), str)
            )
        more = "".join(
            f", {counts[o.value]} {o.value}"
            for o in (Outcome.UNKNOWN, Outcome.NOT_SENT)
            if counts[o.value]
        )
        return f"<ResultsLog {total} attempts, {ok} ok{more}{where}>"

    def _repr_html_(self) -> str:
        """The first and last ten rows and the counts by outcome, however long the log."""
        with self._lock:
            rows = list(self._rows.values())
        counts = Counter(
            r["outcome"] if isinstance(r.get("outcome"), str) else "no outcome" for r in rows
        )
        shown, omitted = (rows, 0) if len(rows) <= 20 else (rows[:10] + rows[-10:], len(rows) - 20)
        return frame_html(
            rows_to_frame(shown), title=repr(self), omitted=omitted, counts=counts, max_rows=0
        )

    @property
    def rows(self) -> list[dict[str, Any]]:
        """A copy of the rows, oldest first. Queued and intent rows (and the outcome rows
        that replaced them) also hold ``body``, the request body as text (``row_body``)."""
        with self._lock:
            return [dict(r) for r in self._rows.values()]

    def to_frame(self, *, details: bool = False) -> pd.DataFrame:
        """The attempts as a DataFrame (see ``rows_to_frame``): the readable columns, or
        every column with ``details=True``."""
        return rows_to_frame(self.rows, details=details)

    def to_csv(
        self, path: str | os.PathLike[str], *, safe: bool = True, details: bool = False
    ) -> Path:
        """Write the attempts as CSV and return the path: seats joined with ``;``, text a
        spreadsheet would run as a formula neutralised unless ``safe=False``.

        Raises ``OSError`` when the file cannot be written.
        """
        return frame_to_csv(self.to_frame(details=details), path, safe=safe)

    def to_excel(
        self, path: str | os.PathLike[str], *, safe: bool = True, details: bool = False
    ) -> Path:
        """Write the attempts as an Excel workbook and return the path (cells as for
        ``to_csv``).

        Raises ``AlsonaError`` without openpyxl (``pip install alsona-nb[excel]``), and
        ``OSError`` when the file cannot be written.
        """
        return frame_to_excel(self.to_frame(details=details), path, safe=safe)


# -- the file ---------------------------------------------------------------------------------


def _not_regular(path: Path, mode: int) -> JournalError:
    kind = (
        "a folder"
        if stat.S_ISDIR(mode)
        else "a pipe (FIFO)"
        if stat.S_ISFIFO(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "not a file"
    )
    return JournalError(
        f"cannot use {str(path)!r} as the results journal: it is {kind}, not a regular file; "
        "give the path of a .jsonl file (it is created if missing)"
    )


def _unreadable(path: Path, exc: OSError) -> JournalError:
    return JournalError(f"cannot read the results journal {str(path)!r} ({exc.strerror or exc})")


def _is_regular_file(path: Path) -> bool:
    """True for an existing regular file, false when nothing is there; anything else (a
    FIFO, a device, a folder) raises ``JournalError`` before anything opens it. Raises
    ``OSError`` when the path cannot be looked at."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(mode):
        raise _not_regular(path, mode)
    return True


def _open_for_writing(path: Path) -> None:
    """Check that ``path`` is (or can become) a writable regular file, creating it."""
    try:
        if not _is_regular_file(path):
            path.parent.mkdir(parents=True, exist_ok=True)
        os.close(_open_append(path)[0])
    except OSError as exc:
        raise JournalError(
            f"cannot write the results journal {str(path)!r} ({exc.strerror or exc}); "
            "choose another path, or pass read_only=True to only read it"
        ) from None


def _open_append(path: Path) -> tuple[int, bool]:
    """An fd appending to the journal (created, and its folder synced, when missing) and
    whether it can also be read. Never blocks; refuses anything but a regular file."""
    readable = True
    try:
        try:
            fd = os.open(path, os.O_RDWR | _FLAGS)
        except PermissionError:  # a write-only file
            fd, readable = os.open(path, os.O_WRONLY | _FLAGS), False
    except FileNotFoundError:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | _FLAGS, 0o644)
        except FileExistsError:  # another writer created it just now
            fd = os.open(path, os.O_RDWR | _FLAGS)
        else:
            _sync_folder(path.parent)
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _not_regular(path, mode)
    return fd, readable


def _sync_folder(folder: Path) -> None:
    """Make a new file's name durable. Best effort: some systems cannot open or sync a
    folder (Windows, some network file systems); the file's own data is still synced."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _append_lines(fd: int, data: bytes, *, readable: bool) -> None:
    """Append whole lines, on a fresh line if the file ends in a fragment."""
    locked = False
    if fcntl is not None:
        # Check-then-write must not interleave with another writer's; on file systems
        # without locks, appends are still whole writes.
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX)
            locked = True
    try:
        size = os.fstat(fd).st_size
        if size and (not readable or _last_byte(fd, size) != b"\n"):
            data = b"\n" + data  # never extend a line this writer did not finish
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            if written <= 0:
                raise OSError("the journal took a partial line")
            view = view[written:]
    finally:
        if locked:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)


def _last_byte(fd: int, size: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, 1, size - 1)
    os.lseek(fd, size - 1, os.SEEK_SET)  # pragma: no cover - Windows
    return os.read(fd, 1)  # pragma: no cover


def _read_journal(path: Path) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """The rows of a journal by attempt id (and how much each says: queued, intent or
    outcome). Opened read-only and never blocking; never written to. Lines that are not
    whole JSON objects (a torn write, a cut UTF-8 character, a glued fragment) are skipped,
    with one warning."""
    try:
        fd = os.open(path, os.O_RDONLY | (_FLAGS & ~os.O_APPEND))
        try:
            mode = os.fstat(fd).st_mode
            if not stat.S_ISREG(mode):
                raise _not_regular(path, mode)
            with os.fdopen(fd, "rb", closefd=False) as journal:
                data = journal.read()
        finally:
            os.close(fd)
    except OSError as exc:
        raise _unreadable(path, exc) from None
    rows: dict[str, dict[str, Any]] = {}
    ranks: dict[str, int] = {}
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
        rank = _RANKS.get(str(row.pop("event", "outcome")), _OUTCOME)
        _merge(rows, ranks, str(row.get("attempt_id") or f"line-{number}"), row, rank)
    if skipped:
        lines = ", ".join(map(str, skipped[:5])) + (" ..." if len(skipped) > 5 else "")
        notify(
            f"{path}: skipped {len(skipped)} unreadable line(s) (line {lines}); "
            "a torn line is what a crash mid-write leaves"
        )
    return rows, ranks
