"""Settling the unknown outcomes of a journal or a results frame by asking the server.

A row whose outcome is unknown (a kernel killed mid-request, a lost answer the server could
not be asked about) is asked about by its id, in its own account; a campaign found with that
id but another name or account is someone else's and does not count as ours. Rows are worked
on by position, so a frame joined with ``pd.concat`` (repeated index labels) is settled row
by row, never by label.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._errors import JournalError
from ._frames import is_missing
from ._results import ResultsLog, rows_to_frame
from ._settle import WRITABLE, Found, GetCampaign, settle_create, settle_delete, settle_update

if TYPE_CHECKING:
    import pandas as pd

_WRITTEN_BACK = ("ok", "maybe_created", "outcome", "settled", "error_message", "http_status")


def reconcile(results: Any, get: GetCampaign, sleep: Callable[[float], None]) -> pd.DataFrame:
    """Settle every unknown row of ``results`` (a ``ResultsLog``, the path of a journal, or a
    results DataFrame) and return the results with the ``settled`` column saying how. A row
    whose id the server chose is reported as not checkable, never guessed. A journal (or a
    log with one) gets the settled rows appended.

    Raises ``JournalError`` when a journal cannot be read."""
    import pandas as pd

    log: ResultsLog | None = None
    if isinstance(results, ResultsLog):
        log = results
    elif isinstance(results, (str, os.PathLike)):
        try:
            log = ResultsLog(results)
        except JournalError:
            log = ResultsLog.read(results)  # settle in memory only
    if log is not None:
        rows = log.rows
        for row in rows:
            if settle_row(row, get, sleep) and not log.read_only:
                log.settle(row)
        settled: pd.DataFrame = rows_to_frame(rows, details=True)
        return settled
    if not isinstance(results, pd.DataFrame):
        raise TypeError("give a ResultsLog, the path of a journal, or a results DataFrame")
    frame: pd.DataFrame = results.copy()
    if "settled" not in frame.columns:
        frame["settled"] = pd.Series([None] * len(frame), index=frame.index, dtype="string")
    for position, record in enumerate(frame.to_dict("records")):
        row = {str(k): (None if is_missing(v) else v) for k, v in record.items()}
        if settle_row(row, get, sleep):
            for col in _WRITTEN_BACK:
                if col in frame.columns:
                    frame.iat[position, list(frame.columns).index(col)] = row[col]
    return frame


def settle_row(row: dict[str, Any], get: GetCampaign, sleep: Callable[[float], None]) -> bool:
    """Settle one result row in place; true when it changed."""
    outcome = row.get("outcome")
    unknown = outcome == "unknown" or (
        outcome is None and bool(row.get("maybe_created")) and not row.get("ok")
    )
    if not unknown:
        return False
    cid = row.get("campaign_id")
    if not isinstance(cid, str) or not cid:
        row["settled"] = "not checkable: the server chose the id; check in Alsona"
        return True
    action = row.get("action") or "create"
    account = row.get("account_id") if isinstance(row.get("account_id"), str) else None
    if action == "delete":
        found = settle_delete(get, cid, account, sleep)
    elif action == "update":
        intended = {f: row[f] for f in WRITABLE if row.get(f) is not None}
        found = settle_update(get, cid, intended, sleep)
    else:
        found = settle_create(get, cid, row, sleep)
    if found.found is Found.UNASKABLE:
        row["settled"] = f"still unknown: the server could not be asked ({found.reason})"
        return True
    done = {"create": "created", "update": "updated", "delete": "deleted"}.get(action, "created")
    if found.found is Found.APPLIED:
        row.update(
            outcome=done,
            ok=True,
            maybe_created=False,
            error_message=None,
            settled=f"{done} (confirmed by the server)",
            http_status=200 if done != "deleted" else 404,  # the answer that settled it
        )
        if found.campaign is not None and "priority" in row:
            row.update(priority=found.campaign.priority, wait_until=found.campaign.wait_until)
        return True
    words = (
        f"not {done}: a different campaign has the id {cid} (someone else's)"
        if found.found is Found.OTHER
        else "not created (the server has no such campaign)"
        if done == "created"
        else f"not {done} (asked the server)"
    )
    row.update(outcome="failed", ok=False, maybe_created=False, settled=words)
    return True
