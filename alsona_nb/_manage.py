"""Managing campaigns after they are made: daylight-saving drift, and plans that bring an
account in line with a sheet.

The API keeps only a fixed offset, so twice a year a campaign made for a zone that observes
daylight saving runs an hour off. ``zone_drift`` checks any set of campaigns whose zone is
known on a date; ``fix_zone_drift`` updates ``timezone`` alone on each drifted one, through
the same exactly-once update path as any update. ``plan_campaigns`` reads a sheet, compares
each row with what the account has (only the fields the sheet gives), and says what it would
create and change; nothing is sent until ``CampaignPlan.apply``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._attempt import PreparedCreate, PreparedUpdate
from ._batch import BatchItem, send_prepared
from ._errors import AlsonaError, InvalidDraftError, NotFoundError
from ._frames import is_missing
from ._models import Campaign
from ._pacing import Pacer
from ._results import ResultsLog
from ._sheet import ChangeBatch, ValidationReport, read_sheet_changes
from ._timezones import next_change, offset_minutes

if TYPE_CHECKING:
    from ._attempt import AttemptSink
    from ._client import AlsonaClient

DRIFT_COLUMNS = (
    "campaign_id",
    "name",
    "account_id",
    "zone",
    "timezone",
    "expected",
    "drift_minutes",
    "next_change",
)


# -- daylight-saving drift ----------------------------------------------------------------


def zone_drift(
    client: AlsonaClient,
    campaigns: Any,
    *,
    on: date | None = None,
    zones: Mapping[str, str] | None = None,
    default_zone: str | None = None,
) -> pd.DataFrame:
    """One row per campaign whose zone is known: ``campaign_id``, ``name``, ``account_id``,
    ``zone``, ``timezone`` (the offset the server has now), ``expected`` (the zone's offset
    on ``on``, today by default, at local noon), ``drift_minutes`` (server minus expected)
    and ``next_change`` (the date the zone's offset next changes; missing for a zone
    without daylight saving).

    ``campaigns`` is a journal (path or ``ResultsLog``), a results frame, or a frame from
    ``client.list_campaigns()``. Zones come from the rows, then ``zones`` (``{campaign_id:
    zone}``, for campaigns made elsewhere), then ``default_zone``. The server is asked for
    each campaign's current offset; a campaign it no longer has is left out.

    Raises ``JournalError``, ``AlsonaError`` when the server cannot be read, ``ValueError``
    for an unknown zone.
    """
    day = on or date.today()
    wanted = _zones_of(campaigns, zones or {}, default_zone)
    current = _read_current(client, wanted)
    rows = []
    for cid, (zone, account) in wanted.items():
        campaign = current.get(cid)
        if campaign is None:
            continue
        expected = offset_minutes(zone, day)
        rows.append(
            {
                "campaign_id": cid,
                "name": campaign.name,
                "account_id": campaign.account_id or account,
                "zone": zone,
                "timezone": campaign.timezone,
                "expected": expected,
                "drift_minutes": None
                if campaign.timezone is None
                else campaign.timezone - expected,
                "next_change": next_change(zone, day),
            }
        )
    frame: pd.DataFrame = pd.DataFrame(rows, columns=list(DRIFT_COLUMNS))
    for col in ("timezone", "expected", "drift_minutes"):
        frame[col] = pd.to_numeric(frame[col]).astype("Int64")
    frame["next_change"] = pd.to_datetime(frame["next_change"]).dt.date
    return frame


def fix_zone_drift(
    client: AlsonaClient,
    drift: pd.DataFrame,
    *,
    log: AttemptSink | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Update ``timezone`` alone, to ``expected``, on every row of ``drift`` (from
    ``zone_drift``) that has drifted (a campaign without an offset counts as drifted), each
    exactly once, at the pace the API allows. Returns one result row per update (the
    ``ResultsLog`` columns, ``diff`` among them); a campaign changed meanwhile by someone
    else is reported as a ``ConflictError`` on its row, not overwritten.

    Raises ``AlsonaError`` only when the batch cannot be journalled.
    """
    items: list[BatchItem] = []
    for number, row in enumerate(drift.to_dict("records")):
        if not is_missing(row["drift_minutes"]) and int(row["drift_minutes"]) == 0:
            continue
        item = BatchItem(row.get("campaign_id", number))
        try:
            base = client.get_campaign(str(row["campaign_id"]), account_id=row.get("account_id"))
            item.prepared = client.prepare_update(
                base, timezone=int(row["expected"]), zone=row["zone"]
            )
        except AlsonaError as exc:
            item.problems.append(("campaign_id", row["campaign_id"], exc.message))
        items.append(item)
    return send_prepared(client, items, pacer=Pacer(4), log=log, progress=progress, verb="updating")


def _zones_of(
    source: Any, zones: Mapping[str, str], default_zone: str | None
) -> dict[str, tuple[str, str | None]]:
    """``{campaign_id: (zone, account_id)}`` for every campaign of ``source`` with a zone."""
    if isinstance(source, (str, os.PathLike)):
        source = ResultsLog.read(source)
    frame = source.to_frame() if isinstance(source, ResultsLog) else source
    if not isinstance(frame, pd.DataFrame):
        raise TypeError("give a journal, a ResultsLog, a results frame or list_campaigns()")
    found: dict[str, tuple[str, str | None]] = {}
    for row in frame.to_dict("records"):
        cid = row.get("campaign_id")
        if not isinstance(cid, str) or row.get("ok") is False or row.get("action") == "delete":
            if isinstance(cid, str) and row.get("action") == "delete" and row.get("ok"):
                found.pop(cid, None)
            continue
        zone = zones.get(cid) or _text(row.get("zone")) or default_zone
        if zone:
            found[cid] = (zone, _text(row.get("account_id")))
    for cid, zone in zones.items():
        found.setdefault(cid, (zone, None))
    return found


def _read_current(
    client: AlsonaClient, wanted: Mapping[str, tuple[str, str | None]]
) -> dict[str, Campaign]:
    """The campaigns of ``wanted`` as the server has them: the client's account in one
    paged read, any other account one campaign at a time."""
    current = {c.campaign_id: c for c in client.iter_campaigns()} if wanted else {}
    for cid, (_, account) in wanted.items():
        if cid not in current and account and account != client.account_id:
            try:
                current[cid] = client.get_campaign(cid, account_id=account)
            except NotFoundError:
                continue
    return current


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# -- plans ----------------------------------------------------------------------------------


@dataclass
class _Step:
    row: int
    line: Any
    action: str  # create, update, unchanged, invalid
    prepared: PreparedCreate | PreparedUpdate | None = None
    campaign_id: str | None = None
    name: str | None = None
    changes: str = ""


@dataclass
class CampaignPlan:
    """What applying a sheet would do: ``frame`` (one row per sheet row: ``action`` create,
    update, unchanged or invalid, ``campaign_id``, ``name``, the changes in words),
    ``report`` (every invalid row, as the sheet reader reports it) and ``sheet`` (the sheet
    with every minted id filled in: save it, so that planning it again gives all
    ``unchanged``). Nothing is sent until ``apply``."""

    client: AlsonaClient
    steps: list[_Step]
    sheet: pd.DataFrame
    report: ValidationReport
    _applied: bool = field(default=False, repr=False)

    @property
    def frame(self) -> pd.DataFrame:
        rows = [
            {
                "row": s.line,
                "action": s.action,
                "campaign_id": s.campaign_id,
                "name": s.name,
                "changes": s.changes,
            }
            for s in self.steps
        ]
        frame: pd.DataFrame = pd.DataFrame(
            rows, columns=["row", "action", "campaign_id", "name", "changes"]
        )
        for col in ("action", "campaign_id", "name", "changes"):
            frame[col] = frame[col].astype("string")
        return frame

    def _repr_html_(self) -> str:
        counts = self.frame["action"].value_counts().to_dict()
        said = ", ".join(f"{n} {a}" for a, n in counts.items())
        table: str = self.frame.to_html(index=False, justify="left")
        return (
            f"<p>Plan: {said or 'nothing'}. Nothing is sent until <code>apply()</code>.</p>{table}"
        )

    def apply(
        self,
        *,
        log: AttemptSink | None = None,
        progress: bool = True,
        max_rate: float | None = None,
        max_workers: int = 8,
    ) -> pd.DataFrame:
        """Carry out every create and update of the plan, each exactly once, through bulk's
        pacing and journal; one result row per action, with ``ok``. Applying again creates
        nothing twice (a create whose id the server already has for this campaign is
        confirmed by asking) and an update already in place sends nothing.

        Raises ``AlsonaError`` when the batch cannot be journalled."""
        items = []
        for step in self.steps:
            if step.prepared is None:
                continue
            item = BatchItem(step.line, prepared=step.prepared)
            item.may_exist = isinstance(step.prepared, PreparedCreate)
            items.append(item)
        pacer = Pacer(max_workers, max_rate)
        result: pd.DataFrame = send_prepared(
            self.client, items, pacer=pacer, log=log, progress=progress, verb="applying"
        )
        self._applied = True
        return result


def plan_campaigns(client: AlsonaClient, sheet: Any) -> CampaignPlan:
    """Compare a sheet (a CSV path, a DataFrame, or drafts) with the account and plan what
    to create and update. A row whose ``campaign_id`` the account has is ``update`` when a
    field it gives differs (only the fields the sheet gives are compared and changed: a
    missing column or an empty cell leaves the field as the server has it) or
    ``unchanged``; a row without an id, or with an id the account does not have, is
    ``create`` (an id minted now, filled into ``plan.sheet``). Invalid rows are reported as
    the sheet reader reports them, and planned as ``invalid``. Nothing is sent.

    Raises ``AlsonaError`` when the account's campaigns cannot be read, ``ValueError`` for
    a sheet that cannot be read.
    """
    batch = _changes_of(sheet)
    existing = {c.campaign_id: c for c in client.iter_campaigns()}
    out = batch.sheet.copy()
    id_column = batch.columns.get("campaign_id", "campaign_id")
    if id_column not in out.columns:
        out[id_column] = pd.Series([None] * len(out), index=out.index, dtype="object")
    steps = []
    for row in batch.rows:
        step = _plan_row(client, row.row, row.line, row.changes, row.ok, existing)
        if step.action == "invalid" and row.ok:
            batch_problem = ("", None, step.changes)
            row.problems.append(batch_problem)
        if step.campaign_id is not None:
            out.iloc[row.row, list(out.columns).index(id_column)] = step.campaign_id
        steps.append(step)
    return CampaignPlan(client, steps, out, batch.report)


def _changes_of(sheet: Any) -> ChangeBatch:
    if isinstance(sheet, (str, os.PathLike, pd.DataFrame)):
        return read_sheet_changes(sheet)
    if isinstance(sheet, Iterable):
        records = [
            {k: v for k, v in dict(d).items() if v is not None}
            for d in (x.model_dump(mode="json") if hasattr(x, "model_dump") else x for x in sheet)
        ]
        return read_sheet_changes(pd.DataFrame(records))
    raise TypeError("give a CSV path, a DataFrame or drafts")


def _plan_row(
    client: AlsonaClient,
    position: int,
    line: Any,
    changes: dict[str, Any],
    ok: bool,
    existing: Mapping[str, Campaign],
) -> _Step:
    cid = changes.get("campaign_id")
    if not ok:
        return _Step(position, line, "invalid", campaign_id=cid, name=changes.get("name"))
    fields = {k: v for k, v in changes.items() if k not in ("campaign_id", "account_id")}
    try:
        if isinstance(cid, str) and cid in existing:
            update = client.prepare_update(existing[cid], **fields)
            action = "update" if update.diff else "unchanged"
            words = _diff_words(update.diff)
            chosen = update if update.diff else None
            return _Step(position, line, action, chosen, cid, update.draft.name, words)
        prepared = client.prepare(changes)
    except InvalidDraftError as exc:
        return _Step(position, line, "invalid", None, cid, changes.get("name"), exc.message)
    return _Step(
        position, line, "create", prepared, prepared.campaign_id, prepared.draft.name, "new"
    )


def _diff_words(diff: Mapping[str, tuple[Any, Any]]) -> str:
    return "; ".join(f"{f}: {_short(a)} → {_short(b)}" for f, (a, b) in diff.items())


def _short(value: Any) -> str:
    if isinstance(value, dict):  # a schedule: the days that send, with their hours
        on = [f"{d[:3].capitalize()} {v[1]}-{v[2]}" for d, v in value.items() if v and v[0]]
        return ", ".join(on) or "no day"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)
