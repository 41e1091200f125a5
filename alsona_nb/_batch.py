"""The batch runner: many campaigns, each created exactly once, at the pace the API allows.

``create_campaigns`` prepares every input first (ids minted, nothing sent while any row is
invalid), journals the whole batch (every row's id and exact body) before the first request,
then sends through a thread pool paced by ``Pacer`` (``_pacing.py``), and returns one result
row per input, in input order. A result frame or a journal fed back is first settled by asking
the server (``client.reconcile``); then only what the server says does not exist is sent
again, under its own id and (from a journal) with its journalled bytes, so nothing is created
twice and nothing queued is dropped. ``send_prepared`` is the same engine for any prepared
calls (a plan's creates and updates).
"""

from __future__ import annotations

import heapq
import json
import os
from collections.abc import Hashable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from queue import Empty, SimpleQueue
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._attempt import Attempt, AttemptSink, Outcome, Prepared, PreparedCreate
from ._errors import (
    AlsonaError,
    BatchInterruptedError,
    InvalidDraftError,
    JournalError,
    NotSentError,
    notify,
)
from ._frames import is_missing
from ._models import CampaignDraft
from ._pacing import THROTTLED, Pacer, Ticket
from ._prepare import campaigns_url
from ._results import ResultsLog, attempt_row, row_body, rows_to_frame
from ._retry import LONGEST_WAIT
from ._sheet import DraftBatch, InvalidRowsError, SheetRow, drafts_from_frame

if TYPE_CHECKING:
    from ._client import AlsonaClient

__all__ = ["create_campaigns", "send_prepared"]

#: How many times a row is sent while the gateway answers 429/503 (each try goes through the
#: pacer, which honours Retry-After; a refused try created nothing).
_ROUNDS = 8
_FIELDS = ("name", "seats", "status", "schedule", "timezone", "zone", "campaign_id", "account_id")


@dataclass
class BatchItem:
    """One input row on its way: what to send, or the finished row carried over."""

    row: Hashable
    data: Any = None  # a draft or a dict, before preparing
    prepared: Prepared | None = None
    problems: list[tuple[str, Any, str]] = field(default_factory=list)
    kept: dict[str, Any] | None = None  # a finished result row carried over unchanged
    may_exist: bool = False  # an earlier try under this id may have created it
    attempt_id: str | None = None  # the journal row this item continues


def create_campaigns(
    client: AlsonaClient,
    drafts: Any,
    *,
    max_workers: int = 8,
    max_rate: float | None = None,
    max_burst: int | None = None,
    progress: bool = True,
    log: AttemptSink | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    retry_unknown: bool = False,
    pacer: Pacer | None = None,
) -> pd.DataFrame:
    """Create many campaigns, each exactly once; one result row per input, in input order.

    ``drafts``: drafts or dicts, a sheet DataFrame, a ``DraftBatch``, or what an earlier run
    left: its result frame, its ``ResultsLog`` or the path of its journal. Those are first
    settled by asking the server (``client.reconcile``); rows that succeeded are kept, and
    only rows the server says do not exist (or that were queued and never sent) are sent
    again, under their own id; from a journal, with the very bytes journalled, and the
    journal goes on being written. A row whose id the server chose (``mint_ids=False``) and
    whose outcome is unknown is held back (an ``AlsonaWarning`` says so) unless
    ``retry_unknown=True``.

    Everything is prepared first: if a row is invalid nothing is sent and
    ``InvalidRowsError`` (an ``InvalidDraftError``, with ``.report``) is raised, unless
    ``skip_invalid=True`` (those rows come back "not sent"). With a journal, the whole batch
    is journalled before the first request. Up to ``max_workers`` requests run at once,
    paced from the answers (429/503, ``Retry-After``, latency) or capped at ``max_rate``
    requests a second when the limit is known (``max_burst``: the burst it allows, sent at
    once at the start); a row still refused after the client's
    retries goes round again (nothing was created). ``dry_run=True`` prepares and returns
    the rows without sending. Ctrl-C stops the batch: requests in flight finish, the rest
    come back "not sent" (``BatchInterruptedError`` if a second Ctrl-C left one in flight);
    feed the frame or the journal in again to finish.

    The frame has the ``ResultsLog`` columns plus ``input_row`` (the input's row label).
    ``pacer`` replaces the pacer built from ``max_workers`` and ``max_rate`` (for tests: one
    on a fake clock). Raises ``ValueError`` for bad options, ``TypeError`` for input it
    cannot read, ``InvalidRowsError``, ``JournalError`` when the batch cannot be journalled.
    """
    if pacer is None:
        pacer = Pacer(max_workers, max_rate, max_burst=max_burst)  # checks the options
    if isinstance(drafts, (ResultsLog, str, os.PathLike)):
        journal = drafts if isinstance(drafts, ResultsLog) else _journal(drafts)
        items = _from_results(client, client.reconcile(journal), retry_unknown, journal)
        if log is None and not journal.read_only:
            log = journal  # resuming a journal goes on writing it
    elif isinstance(drafts, pd.DataFrame) and {"ok", "outcome"} <= set(drafts.columns):
        items = _from_results(client, client.reconcile(drafts), retry_unknown, None)
    else:
        items = _from_drafts(drafts)
    for item in items:
        _prepare(client, item)
    bad = DraftBatch([SheetRow(i.row, None, problems=i.problems) for i in items if i.problems])
    if bad.items and not skip_invalid:
        raise InvalidRowsError(bad.report)
    return send_prepared(client, items, pacer=pacer, log=log, progress=progress, dry_run=dry_run)


def send_prepared(
    client: AlsonaClient,
    items: list[BatchItem],
    *,
    pacer: Pacer,
    log: AttemptSink | None,
    progress: bool,
    dry_run: bool = False,
    verb: str = "creating",
) -> pd.DataFrame:
    """Send prepared items (creates, updates, deletes) at the pace the API allows: the whole
    batch journalled first, one result row per item, in order."""
    rows: list[dict[str, Any] | None] = [None] * len(items)
    send: list[int] = []
    for index, item in enumerate(items):
        if item.kept is not None:
            rows[index] = item.kept
        elif item.problems:
            reasons = "; ".join(f"{col}: {why}" for col, _, why in item.problems)
            error = NotSentError(f"invalid, not sent: {reasons}")
            rows[index] = _row(_unsent(client, item, error), item)
        elif dry_run:
            rows[index] = _row(_unsent(client, item, NotSentError("dry run: not sent")), item)
        else:
            send.append(index)
    if send and log is not None and hasattr(log, "queue"):
        queued = [_unsent(client, items[i], None) for i in send]
        log.queue(queued)  # raises JournalError: then nothing is sent
        for index, attempt in zip(send, queued, strict=True):
            items[index].attempt_id = attempt.attempt_id
    if send:
        _Run(client, items, rows, pacer, log, progress, verb).send(send)
    done = [r for r in rows if r is not None]
    frame = rows_to_frame(done)
    frame.insert(0, "input_row", [r["input_row"] for r in done])
    return frame


# -- what to send ---------------------------------------------------------------------------


def _journal(path: str | os.PathLike[str]) -> ResultsLog:
    try:
        return ResultsLog(path)
    except JournalError:
        return ResultsLog.read(path)  # settle and resend, journalling nowhere


def _from_drafts(source: Any) -> list[BatchItem]:
    """Items from drafts or dicts, a sheet DataFrame or a ``DraftBatch``."""
    if isinstance(source, pd.DataFrame):
        source = drafts_from_frame(source)
    if isinstance(source, DraftBatch):
        return [
            BatchItem(i.row, i.draft if i.draft is not None else i.data, problems=list(i.problems))
            for i in source.items
        ]
    if isinstance(source, (CampaignDraft, Mapping, PreparedCreate)):
        source = [source]
    if not isinstance(source, Iterable):
        raise TypeError(f"give drafts, a DataFrame or a DraftBatch, not {type(source).__name__}")
    items = []
    for number, entry in enumerate(source):
        if not isinstance(entry, (CampaignDraft, Mapping, PreparedCreate)):
            raise TypeError(
                f"item {number} is a {type(entry).__name__}: give CampaignDrafts, dicts, a "
                "DataFrame, a DraftBatch, a result frame or a journal"
            )
        items.append(BatchItem(number, entry))
    return items


def _from_results(
    client: AlsonaClient, frame: pd.DataFrame, retry_unknown: bool, journal: ResultsLog | None
) -> list[BatchItem]:
    """An earlier run, settled: what succeeded is kept, what does not exist is sent again.

    A journal has a row per attempt; one campaign id is one input (created if any of its
    attempts created it). From a journal, a row is sent again with its journalled bytes."""
    bodies = {r.get("attempt_id"): row_body(r) for r in journal.rows} if journal else {}
    labels = frame["input_row"].tolist() if "input_row" in frame.columns else None
    records = [_plain(r) for r in frame.to_dict("records")]
    by_id: dict[str, int] = {}
    items: list[BatchItem] = []
    held = skipped = 0
    for number, row in enumerate(records):
        if row.get("action") not in (None, "create"):
            skipped += not row.get("ok")
            continue  # an update or a delete: its body is no create, never sent as one
        label = labels[number] if labels is not None else len(items)
        row["input_row"] = label
        cid = row.get("campaign_id")
        if labels is None and isinstance(cid, str) and cid in by_id:
            earlier = items[by_id[cid]]
            if earlier.kept is not None and earlier.kept.get("ok"):
                continue  # already created by an earlier attempt
            row["input_row"] = earlier.row
            items[by_id[cid]] = item = BatchItem(earlier.row)
        else:
            item = BatchItem(label)
            if isinstance(cid, str):
                by_id[cid] = len(items)
            items.append(item)
        unknown = row.get("outcome") == "unknown"
        body = bodies.get(row.get("attempt_id"))
        if row.get("ok") or (row.get("schedule") is None and body is None):
            item.kept = row  # done, or never valid: nothing to send
        elif unknown and not isinstance(cid, str) and not retry_unknown:
            held += 1  # no id of its own: sending it again could make a second campaign
            item.kept = row
        else:
            item.may_exist = unknown
            item.attempt_id = row.get("attempt_id") if journal is not None else None
            item.data = {k: row[k] for k in _FIELDS if row.get(k) is not None}
            if body is not None and isinstance(row.get("account_id"), str):
                draft = CampaignDraft.from_payload(json.loads(body))
                url = campaigns_url(client.base_url, row["account_id"])
                item.prepared = PreparedCreate(
                    url, draft.model_copy(update={"zone": row.get("zone")}), body
                )
    if held:
        notify(
            f"{held} row(s) may have created their campaign (the answer was lost) and have no "
            "id of their own to ask the server about, so they were not sent again; check them "
            "in Alsona, then pass retry_unknown=True to send them anyway."
        )
    if skipped:
        notify(
            f"{skipped} update or delete row(s) that did not succeed were not sent again: "
            "create_campaigns only creates; send them with client.update_campaign or "
            "client.delete_campaign."
        )
    return items


def _plain(record: Mapping[Hashable, Any]) -> dict[str, Any]:
    """A frame's record as plain Python: missing cells as ``None``, numbers as ``int``."""
    row: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, pd.Timestamp):
            value = value.isoformat() if key == "when" else value.value // 1_000_000
        elif is_missing(value):
            value = None
        elif hasattr(value, "item") and not isinstance(value, (str, bytes)):
            value = value.item()  # numpy scalars
        row[str(key)] = value
    return row


def _prepare(client: AlsonaClient, item: BatchItem) -> None:
    """Build the request once (id minted, account filled in) or note why it cannot be."""
    if item.kept is not None or item.problems or item.prepared is not None:
        return
    try:
        item.prepared = client.prepare(item.data)
    except InvalidDraftError as exc:
        data = item.data if isinstance(item.data, Mapping) else {}
        if isinstance(item.data, CampaignDraft):
            data = item.data.model_dump()
        for key, reason in exc.problems or [("", exc.message)]:
            item.problems.append((key, data.get(key) if key else None, reason))


# -- rows -----------------------------------------------------------------------------------


def _row(attempt: Attempt, item: BatchItem) -> dict[str, Any]:
    row = attempt_row(attempt)
    row["input_row"] = item.row
    return row


def _unsent(client: AlsonaClient, item: BatchItem, error: AlsonaError | None) -> Attempt:
    """The attempt of a row that was not sent (invalid, a dry run, queued or interrupted)."""
    attempt = Attempt(
        datetime.now(timezone.utc),
        client.mode,
        client.account_id,
        prepared=item.prepared,
        error=error,
    )
    if item.attempt_id is not None:
        attempt.attempt_id = item.attempt_id
    if item.prepared is not None:
        attempt.account_id = item.prepared.account_id
    elif isinstance(item.data, CampaignDraft):
        attempt.input = item.data.model_dump(mode="json")
    else:
        attempt.input = item.data
    return attempt


# -- sending --------------------------------------------------------------------------------


class _Run:
    """One batch on its way: the pool, the pacer, the progress bar and Ctrl-C."""

    def __init__(
        self,
        client: AlsonaClient,
        items: list[BatchItem],
        rows: list[dict[str, Any] | None],
        pacer: Pacer,
        log: AttemptSink | None,
        progress: bool,
        verb: str,
    ) -> None:
        self.client, self.items, self.rows = client, items, rows
        self.pacer, self.log, self.progress, self.verb = pacer, log, progress, verb
        self.failed = 0
        self.stopped = ""  # why the rows not yet sent will not be sent
        self._told: dict[int, float | None] = {}  # each row's last Retry-After

    def send(self, send: list[int]) -> None:
        from tqdm.auto import tqdm

        self.client.set_pool_size(self.pacer.max_workers)
        self.pacer.plan(len(send))
        bar = tqdm(total=len(send), disable=not self.progress, desc=self.verb, unit=" campaign")
        pool = ThreadPoolExecutor(self.pacer.max_workers, thread_name_prefix="alsona-bulk")
        latest: dict[int, Future[Attempt]] = {}  # each row's latest try
        owner: dict[Future[Attempt], int] = {}  # which row a try is for
        finished: SimpleQueue[Future[Attempt]] = SimpleQueue()
        later: list[tuple[float, int]] = []  # refused rows: when to send them again
        rounds = dict.fromkeys(send, 0)
        interrupted = False

        def submit(index: int) -> None:
            rounds[index] += 1
            future = pool.submit(self._one, index)
            latest[index] = future
            owner[future] = index
            future.add_done_callback(finished.put)

        try:
            for index in send:
                submit(index)
            left = in_flight = len(send)
            while left:
                now = self.pacer.now()
                while later and later[0][0] <= now:
                    submit(heapq.heappop(later)[1])
                    in_flight += 1
                if later and not in_flight:  # only refused rows left: wait for the first
                    self.pacer.wait_until(later[0][0])
                    continue
                wait_for = min(0.2, max(0.0, later[0][0] - now)) if later else 0.2
                try:  # a timeout, so that Ctrl-C, the bar and refused rows stay live
                    future = finished.get(timeout=wait_for)
                except Empty:
                    self._show(bar)
                    continue
                in_flight -= 1
                index = owner[future]
                told = self._told.get(index)
                if (
                    self._refused(future)
                    and rounds[index] < _ROUNDS
                    and not Pacer.refused_too_long(told)  # over an hour: report, do not wait
                ):
                    # refused before anything was done: nothing was created, so the row goes
                    # round again after its Retry-After, at the pace learned meanwhile
                    due = self.pacer.now() + self.pacer.resend_delay(told)
                    heapq.heappush(later, (due, index))
                    continue
                self._finish(future, index, bar)
                left -= 1
        except KeyboardInterrupt:
            interrupted = True
            pool.shutdown(wait=False, cancel_futures=True)
            try:
                running = {f for f in latest.values() if not f.cancelled()}
                while running:  # requests in flight may create campaigns: keep their answers
                    done, running = wait(running, timeout=0.2)
                    for future in done:
                        self._finish(future, owner[future], bar)
            except KeyboardInterrupt:
                pass  # a second Ctrl-C: stop waiting for requests in flight
        finally:
            pool.shutdown(wait=False)
            self._show(bar)
            bar.close()
        if interrupted:
            self._after_interrupt(latest)

    def _one(self, index: int) -> Attempt:
        item = self.items[index]
        assert item.prepared is not None
        if self.stopped:
            return _unsent(self.client, item, NotSentError(self.stopped))
        ticket = self.pacer.acquire()
        told: list[float | None] = [None]  # the last try's Retry-After
        try:
            if self.stopped:  # decided while this row waited for its turn
                return _unsent(self.client, item, NotSentError(self.stopped))
            attempt = self.client.attempt(
                item.prepared,
                log=self.log,
                may_exist=item.may_exist,
                on_try=partial(self._seen, ticket, told),
                retry_throttled=False,
                attempt_id=item.attempt_id,
            )
        finally:
            self.pacer.release(ticket)
        self._told[index] = told[0]
        return attempt

    @staticmethod
    def _refused(future: Future[Attempt]) -> bool:
        """A throttled try that created nothing (429/503 before anything was done)."""
        if future.cancelled() or future.exception() is not None:
            return False
        attempt = future.result()
        return attempt.outcome is Outcome.FAILED and attempt.http_status in THROTTLED

    def _seen(
        self,
        ticket: Ticket,
        told: list[float | None],
        status: int | None,
        retry_after: float | None,
        seconds: float,
    ) -> None:
        """Every try's answer teaches the pacer (the client's own retries included). A
        server asking to wait longer than this client ever waits stops the batch: the rows
        not yet sent come back "not sent", to be fed back later."""
        told[0] = retry_after
        if Pacer.refused_too_long(retry_after):
            assert retry_after is not None
            self.stopped = (
                f"not sent: the server asked to wait {retry_after:.0f} s, longer than this "
                f"client waits ({LONGEST_WAIT:.0f} s); feed the journal or this frame back later"
            )
            retry_after = None  # a refusal still teaches the pacer; the wait is not taken
        self.pacer.observe(ticket, status, retry_after=retry_after, latency=seconds)

    def _finish(self, future: Future[Attempt], index: int, bar: Any) -> None:
        if self.rows[index] is not None or future.cancelled():
            return
        item = self.items[index]
        error = future.exception()
        if error is None:
            attempt = future.result()
        else:  # not an API failure (client.attempt returns those): the pacer or a thread
            attempt = _unsent(self.client, item, None)
            attempt.tries = 1  # it may have been sent
            attempt.error = AlsonaError(
                f"unexpected failure ({type(error).__name__}); the campaign may or may not "
                "exist: feed this frame back to create_campaigns to settle it",
                maybe_created=True,
            )
        self.rows[index] = _row(attempt, item)
        self.failed += not attempt.ok
        bar.update(1)
        self._show(bar)

    def _show(self, bar: Any) -> None:
        shown = {"pace": self.pacer.describe()}
        if self.failed:
            shown["failed"] = str(self.failed)
        bar.set_postfix(shown, refresh=False)

    def _after_interrupt(self, latest: dict[int, Future[Attempt]]) -> None:
        sent = 0
        for index, future in latest.items():
            if self.rows[index] is not None:
                sent += 1
                continue
            error: AlsonaError = (
                NotSentError("not sent: the batch was interrupted before this row")
                if future.cancelled() or not future.running()
                else BatchInterruptedError(
                    "interrupted while in flight: the campaign may or may not exist; feed this "
                    "frame back to create_campaigns to settle it by asking the server"
                )
            )
            self.rows[index] = _row(
                _unsent(self.client, self.items[index], error), self.items[index]
            )
        notify(
            f"interrupted: {sent} of {len(latest)} row(s) were sent; the others were not. Pass "
            "this result frame to create_campaigns again to send the rest."
        )
