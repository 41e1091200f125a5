"""Exactly once, whatever the network does: every "create, then lose the answer" fault over
real HTTP ends as one campaign; unknown outcomes are settled by asking the server; the
write-ahead journal and ``reconcile`` settle what a killed kernel left in flight.

Bulk runs under faults live in test_batch.py; the single-call rules in test_client.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import FakeTime

from alsona_nb import (
    AlsonaClient,
    Attempt,
    BadRequestError,
    CampaignDraft,
    Fault,
    ResultsLog,
    Sandbox,
    ServerError,
    TransportError,
)

LOST_ANSWERS = {
    "stalled past the timeout": Fault.stall(30.0, after_create=True),
    "dropped": Fault.drop(after_create=True),
    "cut mid-answer": Fault.cut(after_create=True),
    "500 after creating": Fault.error(500, after_create=True),
    "504 after creating": Fault.error(504, after_create=True),
    "unreadable 200": Fault.raw(200, "{not json", after_create=True),
}


@pytest.fixture
def slow_ok_client(sandbox: Sandbox, fake_time: FakeTime) -> Iterator[AlsonaClient]:
    """Over real HTTP with a 5 s deadline: a loopback answer never takes that long, even on a
    loaded machine, and the stalls here last 30 s."""
    with sandbox.client(timeout=5.0, clock=fake_time.clock, sleep=fake_time.sleep) as c:
        yield c


@pytest.mark.parametrize("fault", LOST_ANSWERS.values(), ids=LOST_ANSWERS.keys())
def test_a_lost_answer_is_one_campaign(
    slow_ok_client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft, fault: Fault
) -> None:
    sandbox.inject(fault)
    attempt = slow_ok_client.attempt(draft)
    assert attempt.ok, attempt.error
    assert attempt.campaign is not None
    assert list(sandbox.campaigns) == [attempt.campaign.campaign_id]
    assert attempt.prepared is not None
    assert attempt.campaign.campaign_id == attempt.prepared.campaign_id
    assert attempt.settled is not None and "created" in attempt.settled
    assert attempt.tries == 2  # the retry with the same id was told it exists


@pytest.mark.parametrize("fault", LOST_ANSWERS.values(), ids=LOST_ANSWERS.keys())
def test_the_same_in_process(
    fast_client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft, fault: Fault
) -> None:
    sandbox.inject(fault)
    attempt = fast_client.attempt(draft)
    assert attempt.ok and len(sandbox.campaigns) == 1


def test_an_exists_refusal_after_a_lost_answer_is_checked_by_asking(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    sandbox.inject(Fault.error(500, after_create=True))
    attempt = client.attempt(draft)
    assert attempt.ok
    assert sandbox.counts["GET"] == 1  # not the words "already exists": the server's record
    assert [r.status for r in sandbox.requests if r.method == "POST"] == [500, 400]


def test_budget_spent_and_the_server_has_it(
    sandbox: Sandbox, draft: CampaignDraft, fake_time: FakeTime
) -> None:
    client = sandbox.client(max_retries=2, clock=fake_time.clock, sleep=fake_time.sleep)
    sandbox.inject(Fault.error(500, after_create=True), Fault.error(502), Fault.error(504))
    attempt = client.attempt(draft)
    assert attempt.ok and attempt.settled and "confirmed" in attempt.settled
    assert len(sandbox.campaigns) == 1 and sandbox.counts["GET"] == 1


def test_budget_spent_and_nothing_was_created(
    sandbox: Sandbox, draft: CampaignDraft, fake_time: FakeTime
) -> None:
    client = sandbox.client(max_retries=2, clock=fake_time.clock, sleep=fake_time.sleep)
    sandbox.inject(Fault.error(500), times=3)
    attempt = client.attempt(draft)
    assert isinstance(attempt.error, ServerError)
    assert not attempt.error.maybe_created and attempt.outcome == "failed"
    assert "nothing was created" in attempt.error.message
    assert attempt.settled == "not created (the server has no such campaign)"
    assert not sandbox.campaigns


def test_the_server_cannot_be_asked(
    sandbox: Sandbox, draft: CampaignDraft, fake_time: FakeTime
) -> None:
    client = sandbox.client(max_retries=1, clock=fake_time.clock, sleep=fake_time.sleep)
    sandbox.inject(Fault.error(500, after_create=True), Fault.error(500))
    sandbox.inject(Fault.error(403, "no reading for this key").on("GET"))
    attempt = client.attempt(draft)
    assert isinstance(attempt.error, ServerError)
    assert attempt.error.maybe_created and attempt.outcome == "unknown"
    assert "could not be asked" in attempt.error.message
    assert "no reading for this key" in attempt.error.message


def test_a_different_campaign_under_our_id_is_not_ours(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    other = draft.model_copy(update={"name": "someone else's", "campaign_id": "CAMP_X"})
    client.create_campaign(other)
    sandbox.inject(Fault.drop())  # ours is lost before it arrived...
    attempt = client.attempt(draft.model_copy(update={"campaign_id": "CAMP_X"}))
    assert isinstance(attempt.error, BadRequestError)  # ...and the id was someone else's
    assert not attempt.ok and "different campaign" in attempt.error.message


@pytest.mark.parametrize(
    "then",
    [Fault.error(503, retry_after=1), Fault.error(429, retry_after=1), Fault.drop()],
)
def test_a_lost_answer_then_other_failures_is_never_called_not_created(
    sandbox: Sandbox, draft: CampaignDraft, fake_time: FakeTime, then: Fault
) -> None:
    client = sandbox.client(max_retries=2, clock=fake_time.clock, sleep=fake_time.sleep)
    sandbox.inject(Fault.drop(after_create=True))
    sandbox.inject(then, times=2)
    attempt = client.attempt(draft.model_copy(update={"campaign_id": "CAMP_OWN"}))
    assert attempt.ok  # it existed: asking said so
    assert list(sandbox.campaigns) == ["CAMP_OWN"]


def test_without_minting_a_lost_answer_stays_unknown(
    sandbox: Sandbox, draft: CampaignDraft
) -> None:
    client = sandbox.client(mint_ids=False, timeout=2.0)
    sandbox.inject(Fault.drop(after_create=True))
    attempt = client.attempt(draft)
    assert isinstance(attempt.error, TransportError)
    assert attempt.error.maybe_created and attempt.outcome == "unknown"
    assert len(sandbox.requests) == 1 and sandbox.counts["GET"] == 0


def test_may_exist_with_an_existing_own_id_is_done(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    chosen = draft.model_copy(update={"campaign_id": "CAMP9"})
    client.create_campaign(chosen)
    attempt = client.attempt(chosen, may_exist=True)
    assert attempt.ok and len(sandbox.campaigns) == 1


# -- the write-ahead journal -----------------------------------------------------------


class OrderSink:
    """Records what the sandbox had seen when each hook ran."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.calls: list[tuple[str, int]] = []

    def intent(self, attempt: Attempt) -> None:
        self.calls.append(("intent", len(self.sandbox.requests)))

    def record(self, attempt: Attempt) -> None:
        self.calls.append(("record", len(self.sandbox.requests)))


def test_the_intent_is_journalled_before_the_request(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    sink = OrderSink(sandbox)
    client.create_campaign(draft, log=sink)  # type: ignore[arg-type]
    assert sink.calls == [("intent", 0), ("record", 1)]


def test_an_intent_that_cannot_be_written_sends_nothing(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft, tmp_path: Path
) -> None:
    log = ResultsLog(tmp_path / "j.jsonl")
    (tmp_path / "j.jsonl").unlink()
    (tmp_path / "j.jsonl").mkdir()  # now the journal cannot be appended to
    attempt = client.attempt(draft, log=log)
    assert attempt.error is not None and "nothing was sent" in attempt.error.message
    assert not attempt.error.maybe_created and sandbox.requests == []


def test_in_flight_attempts_read_back_as_unknown_and_reconcile_settles_them(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft, tmp_path: Path
) -> None:
    path = tmp_path / "journal.jsonl"
    log = ResultsLog(path)
    created = client.prepare(draft)
    never_sent = client.prepare(draft.model_copy(update={"name": "never sent"}))
    for prepared in (created, never_sent):
        log.intent(
            Attempt(
                started_at=datetime.now(timezone.utc),
                mode="sandbox",
                account_id=sandbox.account_id,
                prepared=prepared,
            )
        )
    client.create_campaign(created)  # reached the server, then "the kernel died"
    before = ResultsLog.read(path).to_frame()
    assert before["outcome"].tolist() == ["unknown", "unknown"]
    assert before["maybe_created"].all()
    settled = client.reconcile(path)
    assert settled["outcome"].tolist() == ["created", "failed"]
    assert settled["ok"].tolist() == [True, False]
    assert settled["settled"].str.startswith("created").tolist()[0]
    after = ResultsLog.read(path).to_frame()  # the settlement was journalled
    assert after["outcome"].tolist() == ["created", "failed"]
    # one read found the first; "not found" for the second was asked twice more (0.5 s, 1 s)
    assert sandbox.counts["GET"] == 4


def test_reconcile_a_frame_and_rows_without_an_id(
    sandbox: Sandbox, draft: CampaignDraft, fake_time: FakeTime
) -> None:
    log = ResultsLog()
    cautious = sandbox.client(mint_ids=False, log=log)
    sandbox.inject(Fault.drop(after_create=True))
    cautious.attempt(draft)
    minted = sandbox.client(log=log, clock=fake_time.clock, sleep=fake_time.sleep)
    sandbox.inject(Fault.error(500, after_create=True).on("POST"))
    sandbox.inject(Fault.error(500).on("GET"), times=10)
    minted.attempt(draft)
    sandbox.clear_faults()
    frame = log.to_frame()
    assert frame["outcome"].tolist() == ["unknown", "unknown"]
    settled = minted.reconcile(frame)
    assert settled["outcome"].tolist() == ["unknown", "created"]
    assert "not checkable" in settled["settled"].iloc[0]


def _child(base_url: str, key: str, account: str, journal: Path) -> subprocess.Popen[bytes]:
    code = (
        "import alsona_nb as an, sys\n"
        f"c = an.AlsonaClient(api_key={key!r}, account_id={account!r}, base_url={base_url!r},"
        " timeout=300)\n"
        f"log = an.ResultsLog({str(journal)!r})\n"
        "d = an.CampaignDraft(name='killed mid-request', seats=['s1'],"
        " schedule=an.WeeklySchedule.weekdays())\n"
        "c.create_campaign(d, log=log)\n"
    )
    return subprocess.Popen([sys.executable, "-c", code])


@pytest.mark.parametrize("after_create", [True, False], ids=["created", "not created"])
def test_sigkill_mid_request_then_reconcile(
    client: AlsonaClient, sandbox: Sandbox, tmp_path: Path, after_create: bool
) -> None:
    journal = tmp_path / "killed.jsonl"
    sandbox.inject(Fault.stall(300.0, after_create=after_create))
    child = _child(sandbox.url, sandbox.api_key, sandbox.account_id, journal)
    try:
        deadline = time.monotonic() + 120  # generous: only a broken test waits this long
        while sandbox.pending_faults and time.monotonic() < deadline:
            threading.Event().wait(0.05)  # the stall has met the child's request
        assert not sandbox.pending_faults, "the child never sent its request"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    frame = ResultsLog.read(journal).to_frame()
    assert frame["outcome"].tolist() == ["unknown"]
    settled = client.reconcile(journal)
    assert settled["outcome"].tolist() == (["created"] if after_create else ["failed"])
    assert len(sandbox.campaigns) == (1 if after_create else 0)
    if after_create:
        assert settled["campaign_id"].tolist() == list(sandbox.campaigns)
