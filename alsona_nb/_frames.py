"""Helpers for the pandas side: missing values, result rows and campaign lists as typed
frames, a compact HTML table, and CSV and Excel exports that are safe to open.

pandas is imported inside the functions, so importing this module costs nothing. Every
frame built here carries the ``frame.alsona`` accessor (``to_csv``, ``to_excel``).
"""

from __future__ import annotations

import html
import importlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import AlsonaError

if TYPE_CHECKING:
    import pandas as pd

    from ._models import Campaign


def is_missing(value: Any) -> bool:
    """True for ``None``, NaN, ``NaT`` and ``pd.NA``; false for any other value (text,
    numbers, lists and dicts included, and values that cannot be compared)."""
    if value is None:
        return True
    if isinstance(value, (str, bytes, list, tuple, dict, set)):
        return False
    try:
        return bool(value != value)  # NaN, NaT and pd.NA are not equal to themselves
    except (TypeError, ValueError):  # pd.NA != pd.NA is pd.NA: bool() of it raises
        return type(value).__name__ == "NAType"


# -- the result row ---------------------------------------------------------------------------

#: The one schema of a result row: the log, bulk frames and frames read back all use it.
COLUMNS: tuple[str, ...] = (
    "when",
    "action",
    "mode",
    "account_id",
    "name",
    "status",
    "seats",
    "timezone",
    "zone",
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
    "diff",
    "attempt_id",
)
#: The columns a results frame shows unless ``details=True``: enough to read it, to feed it
#: back to bulk creation and to reconcile it.
DEFAULT_COLUMNS: tuple[str, ...] = (
    "when",
    "action",
    "outcome",
    "name",
    "campaign_id",
    "account_id",
    "status",
    "seats",
    "zone",
    "timezone",
    "schedule",
    "diff",
    "http_status",
    "error_message",
    "settled",
    "ok",
    "maybe_created",
)
_INT_COLUMNS = ("timezone", "http_status", "tries")
_MS_COLUMNS = ("priority", "wait_until")
_BOOL_COLUMNS = ("ok", "maybe_created")
_TEXT_COLUMNS = (
    "action",
    "mode",
    "account_id",
    "name",
    "status",
    "zone",
    "campaign_id",
    "outcome",
    "error_type",
    "error_message",
    "settled",
    "attempt_id",
)


def rows_to_frame(rows: Iterable[Mapping[str, Any]], *, details: bool = False) -> pd.DataFrame:
    """Result rows (from ``attempt_row`` or a journal) as a typed DataFrame.

    By default the readable columns of ``DEFAULT_COLUMNS``; ``details=True`` gives every
    column of ``COLUMNS``. ``when`` and the epoch-ms fields are UTC datetimes, counts are
    nullable integers, ``ok`` and ``maybe_created`` are booleans. Values that do not fit a
    column's type (an old or hand-edited journal) become missing values instead of failing;
    a row without an ``action`` (journals from before updates and deletes) is a create.
    """
    import pandas as pd

    ensure_accessor()
    columns = list(COLUMNS if details else DEFAULT_COLUMNS)
    frame: pd.DataFrame = pd.DataFrame(list(rows), columns=columns)
    frame["when"] = pd.to_datetime(frame["when"], utc=True, format="ISO8601", errors="coerce")
    for col in columns:
        if col in _MS_COLUMNS:
            frame[col] = ms_datetimes(frame[col])
        elif col in _INT_COLUMNS:
            frame[col] = _whole_numbers(frame[col])
        elif col in _BOOL_COLUMNS:
            frame[col] = frame[col].map(lambda v: v is True).astype(bool)
        elif col == "elapsed_ms":
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
        elif col in _TEXT_COLUMNS:
            frame[col] = _text(frame[col])
    frame["action"] = frame["action"].fillna("create")
    return frame


def _text(values: pd.Series[Any]) -> pd.Series[Any]:
    return values.map(lambda v: v if isinstance(v, str) else None).astype("string")


def _whole_numbers(values: pd.Series[Any]) -> pd.Series[Any]:
    import pandas as pd

    numbers = pd.to_numeric(values, errors="coerce")
    whole: pd.Series[Any] = numbers.where(numbers.abs() < 2**53).round().astype("Int64")
    return whole


def ms_datetimes(values: pd.Series[Any]) -> pd.Series[Any]:
    """Epoch milliseconds as UTC datetimes; out-of-range values (2**63-1 sentinels) are NaT."""
    import pandas as pd

    numbers = pd.to_numeric(values, errors="coerce")
    # pandas' datetime64[ns] spans about 1677-2262; a "for ever" sentinel is not a date.
    valid = numbers.notna() & (numbers.abs() < 9_000_000_000_000)
    # Whole milliseconds through the integer path: pandas 2.2's float path can raise a stray
    # FloatingPointError (it runs under np.errstate(over="raise")).
    whole = numbers.where(valid, 0).round().astype("int64")
    dates: pd.Series[Any] = pd.to_datetime(whole, unit="ms", utc=True).where(valid)
    return dates


# -- campaigns --------------------------------------------------------------------------------

#: The columns of a campaign list (``client.list_campaigns()``).
CAMPAIGN_COLUMNS: tuple[str, ...] = (
    "campaign_id",
    "name",
    "status",
    "seats",
    "timezone",
    "created_at",
    "priority",
    "wait_until",
    "schedule",
)


def campaigns_to_frame(campaigns: Iterable[Campaign]) -> pd.DataFrame:
    """Campaigns as a DataFrame with the ``CAMPAIGN_COLUMNS``: one row each, the epoch-ms
    fields as UTC datetimes, ``timezone`` a nullable integer, ids, names and statuses as
    text, ``seats`` a list and ``schedule`` the server's dict."""
    import pandas as pd

    ensure_accessor()
    rows = [
        {
            "campaign_id": c.campaign_id,
            "name": c.name,
            "status": c.status,
            "seats": list(c.seats),
            "timezone": c.timezone,
            "created_at": c.created_at,
            "priority": c.priority,
            "wait_until": c.wait_until,
            "schedule": c.schedule,
        }
        for c in campaigns
    ]
    frame: pd.DataFrame = pd.DataFrame(rows, columns=list(CAMPAIGN_COLUMNS))
    for col in ("created_at", "priority", "wait_until"):
        frame[col] = ms_datetimes(frame[col])
    frame["timezone"] = pd.to_numeric(frame["timezone"], errors="coerce").astype("Int64")
    for col in ("campaign_id", "name", "status"):
        frame[col] = frame[col].astype("string")
    return frame


# -- safe exports -----------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Characters an .xlsx file cannot hold (openpyxl refuses them), and its longest cell.
_NOT_IN_EXCEL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_EXCEL_CELL_CHARS = 32_767
EXCEL_MISSING = (
    "writing Excel files needs openpyxl, an optional extra: pip install alsona-nb[excel] "
    "(or pip install openpyxl), or use to_csv"
)


def neutralise_cell(value: Any) -> Any:
    """OWASP's rule against CSV injection: a text cell that starts like a formula (``=``,
    ``+``, ``-``, ``@``, tab or carriage return) gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def frame_to_csv(frame: pd.DataFrame, path: str | os.PathLike[str], *, safe: bool = True) -> Path:
    """Write a frame as UTF-8 CSV and return the path: lists joined with ``;``, dicts as
    JSON, text that cannot be encoded (a lone surrogate) as U+FFFD and, with ``safe``,
    formula-like text neutralised (``neutralise_cell``).

    Raises ``OSError`` when the file cannot be written.
    """
    target = Path(path)
    _export_ready(frame, safe=safe, excel=False).to_csv(target, index=False, encoding="utf-8")
    return target


def frame_to_excel(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    safe: bool = True,
    sheet_name: str = "results",
) -> Path:
    """Write a frame as an Excel workbook (``.xlsx``) and return the path; cells as for
    ``frame_to_csv``, datetimes in UTC without a zone (Excel has none), characters Excel
    cannot hold as U+FFFD, and cells cut at Excel's 32,767 characters.

    Raises ``AlsonaError`` when openpyxl is not installed (``pip install alsona-nb[excel]``)
    and ``OSError`` when the file cannot be written.
    """
    try:
        importlib.import_module("openpyxl")
    except ImportError:
        raise AlsonaError(EXCEL_MISSING) from None
    target = Path(path)
    out = _export_ready(frame, safe=safe, excel=True)
    out.to_excel(target, index=False, sheet_name=sheet_name, engine="openpyxl")
    return target


def _export_ready(frame: pd.DataFrame, *, safe: bool, excel: bool) -> pd.DataFrame:
    import pandas as pd

    out: pd.DataFrame = frame.copy()

    def cell(value: Any) -> Any:
        value = _flat_cell(value, excel=excel)
        return neutralise_cell(value) if safe else value

    for col in out.columns:
        series = out[col]
        if isinstance(series.dtype, pd.DatetimeTZDtype) and excel:
            out[col] = series.dt.tz_convert("UTC").dt.tz_localize(None)
        elif series.dtype == object or isinstance(series.dtype, pd.StringDtype):
            out[col] = series.map(cell, na_action="ignore").astype(object)
    out.columns = pd.Index([cell(str(c)) for c in out.columns])
    return out


def _flat_cell(value: Any, *, excel: bool) -> Any:
    if isinstance(value, (list, tuple)):
        value = ";".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = json.dumps(value, default=str)
    if not isinstance(value, str):
        return value
    value = _SURROGATE.sub("\ufffd", value)
    if excel:
        value = _NOT_IN_EXCEL.sub("\ufffd", value)[:_EXCEL_CELL_CHARS]
    return value


class AlsonaFrameAccessor:
    """``frame.alsona``: exports of a results or campaign frame that are safe to open in a
    spreadsheet (formula-like text neutralised, lists and dicts as text)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def to_csv(self, path: str | os.PathLike[str], *, safe: bool = True) -> Path:
        """Write the frame as CSV (see ``frame_to_csv``); returns the path.

        Raises ``OSError`` when the file cannot be written.
        """
        return frame_to_csv(self._frame, path, safe=safe)

    def to_excel(
        self, path: str | os.PathLike[str], *, safe: bool = True, sheet_name: str = "results"
    ) -> Path:
        """Write the frame as ``.xlsx`` (see ``frame_to_excel``); returns the path.

        Raises ``AlsonaError`` without openpyxl (``pip install alsona-nb[excel]``).
        """
        return frame_to_excel(self._frame, path, safe=safe, sheet_name=sheet_name)


def ensure_accessor() -> None:
    """Register the ``frame.alsona`` accessor on pandas DataFrames (once; later calls do
    nothing). Every frame function of this module calls it."""
    import pandas as pd

    if not hasattr(pd.DataFrame, "alsona"):
        pd.api.extensions.register_dataframe_accessor("alsona")(AlsonaFrameAccessor)


# -- HTML -------------------------------------------------------------------------------------

_SHOWN = ("when", "action", "outcome", "name", "campaign_id", "status", "error_message", "settled")
_MARKS = {
    "created": "✔ created",
    "updated": "✔ updated",
    "deleted": "✔ deleted",
    "failed": "✘ failed",
    "unknown": "⚠ unknown",
    "not sent": "○ not sent",
}
_CELL = "text-align:left;vertical-align:top"


def frame_html(
    frame: pd.DataFrame,
    *,
    title: str = "",
    max_rows: int = 20,
    omitted: int = 0,
    counts: Mapping[str, int] | None = None,
) -> str:
    """A compact HTML table of a results frame: labelled columns, text left-aligned, no NA
    noise, ids whole, and the outcome counts above it.

    A frame longer than ``max_rows`` shows its first and last ``max_rows // 2`` rows with a
    line saying how many are left out. A caller that already cut the frame to its head and
    tail passes ``omitted`` (rows left out between them) and ``counts`` (by outcome, of all
    rows).
    """
    if counts is None:
        found: list[Any] = frame["outcome"].tolist() if "outcome" in frame.columns else []
        counts = Counter("no outcome" if is_missing(v) else str(v) for v in found)
    if max_rows > 0 and len(frame) > max_rows:
        half = max_rows // 2
        omitted += len(frame) - 2 * half
        frame = frame.iloc[list(range(half)) + list(range(len(frame) - half, len(frame)))]
    shown = [c for c in _SHOWN if c in frame.columns]
    head = "".join(
        f'<th style="{_CELL}">{html.escape(c.replace("_", " ").capitalize())}</th>' for c in shown
    )
    body = [_html_row(record, shown) for record in frame[shown].to_dict("records")]
    if omitted:
        note = f"… {omitted:,} more row{'s' if omitted != 1 else ''} …"
        body.insert(
            len(body) // 2, f'<tr><td colspan="{len(shown)}" style="{_CELL}">{note}</td></tr>'
        )
    total = len(frame) + omitted
    tally = ", ".join(f"{n:,} {html.escape(k)}" for k, n in sorted(counts.items(), key=_by_count))
    summary = f"{total:,} row{'s' if total != 1 else ''}" + (f": {tally}" if tally else "")
    title = html.escape(_SURROGATE.sub("\ufffd", title))
    caption = title + ("<br>" if title else "") + summary
    return (
        f'<table class="alsona-results"><caption style="{_CELL}">{caption}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _by_count(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]


def _html_row(record: Mapping[Any, Any], shown: list[str]) -> str:
    cells = []
    for col in shown:
        value = record[col]
        text = "" if is_missing(value) else _SURROGATE.sub("\ufffd", str(value))
        if col == "when" and isinstance(value, datetime):
            text = value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        if col == "outcome":
            text = _MARKS.get(text, text)
        style = _CELL + (";font-family:monospace" if col == "campaign_id" else "")
        cells.append(f'<td style="{style}">{html.escape(text)}</td>')
    return "<tr>" + "".join(cells) + "</tr>"
