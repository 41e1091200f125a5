"""Updating and deleting a campaign through the client, over real HTTP against the sandbox:
the exact body and diff of an update, invalid changes that send nothing, every lost-answer
fault (applied once, reported done), lost updates (someone changed it meanwhile), deletes,
the campaign's own account for every call, the journal's rows, and a server that ignores the
ids the client chooses."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FakeTime

from alsona_nb import (
    AlsonaClient,
    AlsonaWarning,
    Campaign,
    CampaignDraft,
    ConflictError,
    InvalidDraftError,
    NotFoundError,
    Outcome,
    PreparedUpdate,
    ResultsLog,
    Sandbox,
    WeeklySchedule,
    create_campaigns,
)
from alsona_nb.sandbox import Fault

OTHER = "account_0b0b0b0b0b0b0b0b0b0b"
SEAT_B = "seat_1f0c9a7e2b4d8c3a5e61"
# A try gives up after TIMEOUT seconds (real time: generous on a loaded machine); a stall
# of STALL seconds is an answer that never comes in time.
TIMEOUT, STALL = 1.0, 1.5
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def made(client: AlsonaClient, draft: CampaignDraft, **changes: Any) -> Campaign:
    return client.create_campaign(draft.model_copy(update=changes))


def stored(sandbox: Sandbox, campaign_id: str) -> dict[str, Any]:
    return sandbox.campaigns[campaign_id]


def bodies(sandbox: Sandbox, method: str) -> list[Any]:
    return [r.body for r in sandbox.requests if r.method == method]


# -- prepare_update: the exact body and the diff ------------------------------------------


def test_prepare_update_holds_the_full_replace_and_only_the_changed_fields(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    campaign = made(client, draft)
    puts, gets = sandbox.counts["PUT"], sandbox.counts["GET"]

    prepared = client.prepare_update(campaign.campaign_id, name="Q4 founders", seats=[SEAT_B])

    assert isinstance(prepared, PreparedUpdate)
    assert sandbox.counts["PUT"] == puts  # nothing sent while preparing
    assert sandbox.counts["GET"] == gets + 1  # read once, given an id
    assert prepared.campaign_id == campaign.campaign_id
    assert prepared.based_on == campaign
    assert json.loads(prepared.body) == prepared.payload
    sent = prepared.payload["campaign"]
    assert "campaign_id" not in sent
    assert "created_at" not in sent
    assert sent == {
        "name": "Q4 founders",
        "account_id": sandbox.account_id,  # the path's account
        "status": "DRAFT",
        "seats": [SEAT_B],
        "schedule": WeeklySchedule.weekdays(9, 17).model_dump(mode="json"),
        "timezone": -300,
    }
    assert prepared.url.endswith(
        f"/rest/accounts/{sandbox.account_id}/campaigns/{campaign.campaign_id}"
    )
    assert dict(prepared.diff) == {
        "name": ("Q3 founders outreach", "Q4 founders"),
        "seats": (["seat_6a13e661ecc6a86e3fb7"], [SEAT_B]),
    }


def test_a_change_to_what_it_already_is_has_an_empty_diff(
    client: AlsonaClient, draft: CampaignDraft
) -> None:
    campaign = made(client, draft)
    assert dict(client.prepare_update(campaign, name=campaign.name, timezone=-300).diff) == {}


def test_a_zone_change_fills_in_its_offset_and_the_diff_shows_the_offset(
    client: AlsonaClient, draft: CampaignDraft
) -> None:
    campaign = made(client, draft, timezone=540)
    prepared = client.prepare_update(campaign, zone="Asia/Tokyo")  # no daylight saving
    assert prepared.payload["campaign"]["timezone"] == 540
    assert "zone" not in prepared.payload["campaign"]  # never sent
    assert prepared.draft.zone == "Asia/Tokyo"
    assert dict(prepared.diff) == {}


def test_an_update_cannot_move_a_campaign_to_another_account(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    campaign = made(client, draft)
    with pytest.raises(InvalidDraftError, match="another account"):
        client.prepare_update(campaign, account_id=OTHER, name="moved")
    with pytest.raises(NotFoundError):  # an id is looked up in the account named
        client.update_campaign(campaign.campaign_id, account_id=OTHER, name="moved")
    assert sandbox.counts["PUT"] == 0


@pytest.mark.parametrize(
    "changes",
    [
        {"name": ""},
        {"name": "   "},
        {"seats": []},
        {"status": "SOMETIMES"},
        {"timezone": 100_000},
        {"schedule": {"monday": [True, 17, 9]}},
        {"zone": "Mars/Olympus_Mons"},
        {"campaign_id": "campaign_00000000000000000000"},
        {"created_at": 1},
        {"status": "RUN", "schedule": {d: [False, 9, 17] for d in DAYS}},
    ],
    ids=lambda c: ",".join(c),
)
def test_invalid_changes_raise_and_send_nothing(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft, changes: dict[str, Any]
) -> None:
    campaign = made(client, draft)
    before = stored(sandbox, campaign.campaign_id)

    with pytest.raises(InvalidDraftError) as raised:
        client.prepare_update(campaign, **changes)
    assert raised.value.problems
    with pytest.raises(InvalidDraftError):
        client.update_campaign(campaign.campaign_id, **changes)
    attempt = client.attempt(client.prepare_update(campaign, name="fine"), overwrite=False)
    assert attempt.ok  # the client is still usable

    assert sandbox.counts["PUT"] == 1  # only the valid one above
    assert stored(sandbox, campaign.campaign_id)["name"] == "fine"
    assert {k: v for k, v in stored(sandbox, campaign.campaign_id).items() if k != "name"} == {
        k: v for k, v in before.items() if k != "name"
    }


def test_prepare_update_of_a_campaign_that_is_not_there(client: AlsonaClient) -> None:
    with pytest.raises(NotFoundError):
        client.prepare_update("campaign_ffffffffffffffffffff", name="x")


# -- update through every lost-answer fault ----------------------------------------------

LOST_PUT = [
    pytest.param(Fault.drop(after_apply=True), id="drop-after-apply"),
    pytest.param(Fault.cut(after_apply=True), id="cut-after-apply"),
    pytest.param(Fault.error(500, after_apply=True), id="500-after-apply"),
    pytest.param(Fault.html(502, after_apply=True), id="502-html-after-apply"),
    pytest.param(Fault.error(504, after_apply=True), id="504-after-apply"),
    pytest.param(Fault.stall(STALL, after_apply=True), id="stall-past-timeout-after-apply"),
    pytest.param(Fault.drop(), id="drop-before-apply"),
    pytest.param(Fault.error(503), id="503-before-apply"),
]


@pytest.fixture
def quick(sandbox: Sandbox, fake_time: FakeTime) -> Iterator[AlsonaClient]:
    """A client whose tries give up after TIMEOUT (a stall past it is a lost answer)."""
    with sandbox.client(timeout=TIMEOUT, clock=fake_time.clock, sleep=fake_time.sleep) as c:
        yield c


@pytest.fixture
def asking(sandbox: Sandbox, fake_time: FakeTime) -> Iterator[AlsonaClient]:
    """A client that never retries: a lost answer can only be settled by asking."""
    with sandbox.client(
        timeout=TIMEOUT, max_retries=0, clock=fake_time.clock, sleep=fake_time.sleep
    ) as c:
        yield c


@pytest.mark.parametrize("fault", LOST_PUT)
def test_an_update_whose_answer_is_lost_is_applied_once_and_reported_done(
    quick: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft, fault: Fault
) -> None:
    campaign = made(quick, draft)
    prepared = quick.prepare_update(campaign, name="Q4", status="PAUSE")
    sandbox.inject(fault.on("PUT"))

    updated = quick.update_campaign(prepared)

    assert sandbox.pending_faults == 0
    assert updated.name == "Q4" and updated.status == "PAUSE"
    assert updated.campaign_id == campaign.campaign_id
    assert len(sandbox.campaigns) == 1
    row = stored(sandbox, campaign.campaign_id)
    assert (row["name"], row["status"], row["created_at"]) == ("Q4", "PAUSE", campaign.created_at)
    # every try carried the very same bytes (a repeat of a full replace changes nothing)
    assert bodies(sandbox, "PUT") == [prepared.payload] * sandbox.counts["PUT"]
    assert 1 <= sandbox.counts["PUT"] <= 2


@pytest.mark.parametrize("fault", LOST_PUT[:6])
def test_an_update_whose_answer_is_lost_is_settled_by_reading_it_back(
    asking: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft, fault: Fault
) -> None:
    campaign = made(asking, draft)
    sandbox.inject(fault.on("PUT"))

    attempt = asking.attempt(asking.prepare_update(campaign, name="Q4"))

    assert attempt.ok, attempt.error
    assert attempt.outcome is Outcome.UPDATED
    assert attempt.settled is not None and "asking" in attempt.settled
    assert attempt.campaign is not None and attempt.campaign.name == "Q4"
    assert sandbox.counts["PUT"] == 1
    assert stored(sandbox, campaign.campaign_id)["name"] == "Q4"


def test_an_update_lost_before_it_was_applied_is_not_reported_done(
    asking: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    campaign = made(asking, draft)
    sandbox.inject(Fault.drop().on("PUT"))

    attempt = asking.attempt(asking.prepare_update(campaign, name="Q4"))

    assert not attempt.ok
    assert attempt.outcome is Outcome.FAILED  # asked: the server has no such change
    assert stored(sandbox, campaign.campaign_id)["name"] == draft.name


# -- lost updates --------------------------------------------------------------------------


def test_a_campaign_changed_since_it_was_read_is_a_conflict_and_nothing_is_sent(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft, fake_time: FakeTime
) -> None:
    campaign = made(client, draft)
    mine = client.prepare_update(campaign, name="mine")
    with sandbox.client(clock=fake_time.clock, sleep=fake_time.sleep) as colleague:
        colleague.update_campaign(campaign.campaign_id, status="PAUSE", timezone=60)
    assert sandbox.counts["PUT"] == 1

    with pytest.raises(ConflictError) as raised:
        client.update_campaign(mine)

    assert sandbox.counts["PUT"] == 1  # ours was not sent
    assert raised.value.changed == {"status": ("DRAFT", "PAUSE"), "timezone": (-300, 60)}
    assert raised.value.current.status == "PAUSE"
    assert "status" in raised.value.message and "timezone" in raised.value.message
    attempt = client.attempt(mine)
    assert isinstance(attempt.error, ConflictError)
    assert attempt.outcome is not Outcome.UPDATED
    assert sandbox.counts["PUT"] == 1
    assert stored(sandbox, campaign.campaign_id)["name"] == draft.name

    overwritten = client.update_campaign(mine, overwrite=True)

    assert sandbox.counts["PUT"] == 2
    # a full replace of the campaign as it was read, with our change
    assert (overwritten.name, overwritten.status, overwritten.timezone) == ("mine", "DRAFT", -300)
    assert stored(sandbox, campaign.campaign_id)["status"] == "DRAFT"


def test_an_update_from_the_campaign_as_it_is_now_goes_through(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    campaign = made(client, draft)
    stale = client.prepare_update(campaign, name="mine")
    client.update_campaign(campaign.campaign_id, status="PAUSE")
    with pytest.raises(ConflictError) as raised:
        client.update_campaign(stale)
    fresh = client.prepare_update(raised.value.current, name="mine")
    assert client.update_campaign(fresh).status == "PAUSE"
    assert stored(sandbox, campaign.campaign_id)["name"] == "mine"


def test_an_update_of_a_campaign_deleted_meanwhile_sends_nothing(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    campaign = made(client, draft)
    prepared = client.prepare_update(campaign, name="mine")
    client.delete_campaign(campaign.campaign_id)
    with pytest.raises(NotFoundError):
        client.update_campaign(prepared)
    assert sandbox.counts["PUT"] == 0
    assert sandbox.campaigns == {}


# -- delete ------------------------------------------------------------------------------

LOST_DELETE = [
    pytest.param(Fault.drop(after_apply=True), id="drop-after-apply"),
    pytest.param(Fault.cut(after_apply=True), id="cut-after-apply"),
    pytest.param(Fault.error(500, after_apply=True), id="500-after-apply"),
    pytest.param(Fault.html(502, after_apply=True), id="502-html-after-apply"),
    pytest.param(Fault.error(504, after_apply=True), id="504-after-apply"),
    pytest.param(Fault.stall(STALL, after_apply=True), id="stall-past-timeout-after-apply"),
]


def test_delete_deletes_once(client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft) -> None:
    keep = made(client, draft, name="keep")
    gone = made(client, draft)
    client.delete_campaign(gone.campaign_id)
    assert sandbox.counts["DELETE"] == 1
    assert list(sandbox.campaigns) == [keep.campaign_id]
    with pytest.raises(NotFoundError):
        client.get_campaign(gone.campaign_id)


@pytest.mark.parametrize("retries", [3, 0], ids=["retried", "asked"])
@pytest.mark.parametrize("fault", LOST_DELETE)
def test_a_delete_whose_answer_is_lost_is_reported_deleted(
    sandbox: Sandbox, fake_time: FakeTime, draft: CampaignDraft, fault: Fault, retries: int
) -> None:
    with sandbox.client(
        timeout=TIMEOUT, max_retries=retries, clock=fake_time.clock, sleep=fake_time.sleep
    ) as client:
        keep = made(client, draft, name="keep")
        gone = made(client, draft)
        sandbox.inject(fault.on("DELETE"))

        attempt = client.attempt(client.prepare_delete(gone.campaign_id))
        assert attempt.ok, attempt.error
        assert attempt.outcome is Outcome.DELETED
        assert attempt.settled  # how the lost answer was settled is said
        assert list(sandbox.campaigns) == [keep.campaign_id]
        assert 1 <= sandbox.counts["DELETE"] <= retries + 1

        sandbox.inject(fault.on("DELETE"))
        client.delete_campaign(keep)  # the raising call says nothing went wrong
        assert sandbox.campaigns == {}


def test_a_404_after_our_own_lost_delete_means_deleted(
    quick: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    campaign = made(quick, draft)
    sandbox.inject(Fault.drop(after_apply=True).on("DELETE"))
    quick.delete_campaign(campaign.campaign_id)
    assert sandbox.counts["DELETE", 404] == 1  # the retry found it gone
    assert sandbox.campaigns == {}


def test_delete_of_a_campaign_that_is_not_there_is_not_found(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    with pytest.raises(NotFoundError):
        client.delete_campaign("campaign_ffffffffffffffffffff")
    campaign = made(client, draft)
    prepared = client.prepare_delete(campaign.campaign_id)
    client.delete_campaign(campaign)  # someone deletes it first
    with pytest.raises(NotFoundError):
        client.delete_campaign(prepared)  # not ours after a lost answer: not found
    attempt = client.attempt(prepared)
    assert not attempt.ok and isinstance(attempt.error, NotFoundError)


def test_a_delete_lost_before_it_was_applied_is_not_reported_deleted(
    asking: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    campaign = made(asking, draft)
    sandbox.inject(Fault.drop().on("DELETE"))
    attempt = asking.attempt(asking.prepare_delete(campaign))
    assert not attempt.ok
    assert attempt.outcome is Outcome.FAILED
    assert campaign.campaign_id in sandbox.campaigns


# -- the campaign's own account -------------------------------------------------------------


@pytest.fixture(scope="module")
def two_accounts() -> Iterator[Sandbox]:
    with Sandbox(accounts=[OTHER]) as sb:
        yield sb


def test_every_call_goes_to_the_account_of_the_campaign(
    two_accounts: Sandbox, fake_time: FakeTime, draft: CampaignDraft
) -> None:
    sb = two_accounts
    sb.reset()
    with sb.client(timeout=TIMEOUT, clock=fake_time.clock, sleep=fake_time.sleep) as client:
        assert client.account_id != OTHER
        created = client.create_campaign(draft.model_copy(update={"account_id": OTHER}))
        assert list(sb.campaigns_of(OTHER)) == [created.campaign_id]
        assert sb.campaigns_of(sb.account_id) == {}
        with pytest.raises(NotFoundError):
            client.get_campaign(created.campaign_id)  # not visible under the client's account
        create_request, *_ = sb.requests
        start = len(sb.requests)

        read = client.get_campaign(created.campaign_id, account_id=OTHER)
        assert read.account_id == OTHER
        sb.inject(Fault.drop(after_apply=True).on("PUT"))
        updated = client.update_campaign(read, status="PAUSE")
        assert updated.status == "PAUSE"
        assert sb.campaigns_of(OTHER)[created.campaign_id]["status"] == "PAUSE"

        prepared = client.prepare_delete(created.campaign_id, account_id=OTHER)
        sb.inject(Fault.drop(after_apply=True).on("DELETE"))
        assert client.attempt(prepared).ok
        assert sb.campaigns == {}

    paths = {(r.method, r.path.split("?")[0]) for r in [create_request, *sb.requests[start:]]}
    accounts = {path.split("/")[3] for _, path in paths}
    assert accounts == {OTHER}, paths
    assert {m for m, _ in paths} == {"POST", "GET", "PUT", "DELETE"}


def test_an_update_settled_after_a_lost_answer_asks_in_the_campaigns_account(
    two_accounts: Sandbox, fake_time: FakeTime, draft: CampaignDraft
) -> None:
    sb = two_accounts
    sb.reset()
    with sb.client(
        timeout=TIMEOUT, max_retries=0, clock=fake_time.clock, sleep=fake_time.sleep
    ) as client:
        created = client.create_campaign(draft.model_copy(update={"account_id": OTHER}))
        sb.inject(Fault.cut(after_apply=True).on("PUT"))
        attempt = client.attempt(client.prepare_update(created, name="renamed"))
    assert attempt.ok, attempt.error
    assert attempt.account_id == OTHER
    assert sb.campaigns_of(OTHER)[created.campaign_id]["name"] == "renamed"


# -- the journal -------------------------------------------------------------------------


def test_updates_and_deletes_are_journalled_with_their_action_and_diff(
    quick: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft, tmp_path: Path
) -> None:
    path = tmp_path / "journal.jsonl"
    log = ResultsLog(path)
    campaign = quick.create_campaign(draft.model_copy(update={"zone": "America/New_York"}), log=log)
    sandbox.inject(Fault.drop(after_apply=True).on("PUT"))
    quick.update_campaign(campaign.campaign_id, log=log, name="Q4", timezone=-240)
    quick.delete_campaign(campaign.campaign_id, log=log)
    with pytest.raises(NotFoundError):
        quick.delete_campaign(campaign.campaign_id, log=log)  # nothing read: nothing journalled

    frame = ResultsLog.read(path).to_frame(details=True)
    assert frame["action"].tolist() == ["create", "update", "delete"]
    assert frame["outcome"].tolist() == ["created", "updated", "deleted"]
    assert frame["ok"].tolist() == [True, True, True]
    assert set(frame["campaign_id"]) == {campaign.campaign_id}
    update = frame.iloc[1]
    assert update["diff"] == {"name": [draft.name, "Q4"], "timezone": [-300, -240]}
    assert (update["name"], update["timezone"]) == ("Q4", -240)
    assert update["settled"]  # the lost answer is said
    assert frame.iloc[2]["name"] == "Q4"  # a delete names the campaign as last read
    assert frame.iloc[0]["zone"] == "America/New_York"

    lines = [json.loads(line) for line in path.read_text().splitlines()]
    update_lines = [line for line in lines if line.get("action") == "update"]
    events = [line.get("event") for line in update_lines]
    assert "intent" in events and "outcome" in events  # intent before, outcome after
    assert events.index("intent") < events.index("outcome")
    assert log.to_frame()["action"].tolist() == ["create", "update", "delete"]


def test_a_conflict_is_journalled_as_not_sent(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft, tmp_path: Path
) -> None:
    log = ResultsLog(tmp_path / "journal.jsonl")
    campaign = made(client, draft)
    stale = client.prepare_update(campaign, name="mine")
    client.update_campaign(campaign.campaign_id, status="PAUSE")
    with pytest.raises(ConflictError):
        client.update_campaign(stale, log=log)
    (row,) = log.rows
    assert (row["action"], row["ok"], row["error_type"]) == ("update", False, "ConflictError")
    assert row["outcome"] != "unknown"
    assert row["diff"] == {"name": [draft.name, "mine"]}


# -- a server that ignores the ids the client chooses ---------------------------------------


def test_a_create_answered_with_another_id_warns_and_stops_minting(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft, tmp_path: Path
) -> None:
    sandbox.honour_ids = False
    log = ResultsLog(tmp_path / "journal.jsonl")
    prepared = client.prepare(draft)
    sent_id = prepared.campaign_id
    assert sent_id is not None and client.mint_ids

    with pytest.warns(AlsonaWarning) as warned:
        attempt = client.attempt(prepared, log=log)

    assert attempt.ok
    (server_id,) = sandbox.campaigns
    assert server_id != sent_id
    message = " ".join(str(w.message) for w in warned)
    assert sent_id in message and server_id in message
    assert client.mint_ids is False
    assert attempt.campaign is not None and attempt.campaign.campaign_id == server_id
    assert attempt.campaign_id == server_id
    (row,) = ResultsLog.read(log.path).rows
    assert row["campaign_id"] == server_id
    assert server_id in (row["settled"] or "")
    assert client.prepare(draft).campaign_id is None  # no id minted any more


def test_a_journal_with_updates_and_deletes_fed_to_bulk_never_sends_them_as_creates(
    asking: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft, tmp_path: Path
) -> None:
    path = tmp_path / "journal.jsonl"
    first = create_campaigns(asking, [draft, draft.model_copy(update={"name": "second"})],
                             log=ResultsLog(path), progress=False)  # fmt: skip
    kept, gone = first["campaign_id"]
    renamed = asking.prepare_update(kept, name="renamed")
    sandbox.inject(Fault.error(400).on("PUT"))  # refused: the update failed
    assert not asking.attempt(renamed, log=ResultsLog(path)).ok
    sandbox.inject(Fault.error(400).on("DELETE"))
    assert not asking.attempt(asking.prepare_delete(gone), log=ResultsLog(path)).ok
    fixes = tmp_path / "fixes.jsonl"
    sandbox.inject(Fault.error(400).on("PUT"))
    assert not asking.attempt(asking.prepare_update(kept, name="other"), log=ResultsLog(fixes)).ok
    posts = sandbox.counts["POST"]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AlsonaWarning)
        resumed = create_campaigns(asking, path, progress=False)
        only_updates = create_campaigns(asking, fixes, progress=False)

    assert sandbox.counts["POST"] == posts  # nothing created again, no update sent as a create
    assert sandbox.counts["PUT"] == 2 and sandbox.counts["DELETE"] == 1
    assert resumed["ok"].all() and resumed["campaign_id"].tolist() == [kept, gone]
    assert not (only_updates["action"] == "create").any() or only_updates.empty
    assert sorted(c["name"] for c in sandbox.campaigns.values()) == [draft.name, "second"]


def test_unknown_updates_and_deletes_in_a_journal_are_settled_by_reconcile(
    two_accounts: Sandbox, fake_time: FakeTime, draft: CampaignDraft, tmp_path: Path
) -> None:
    sb = two_accounts
    sb.reset()
    path = tmp_path / "journal.jsonl"
    with sb.client(
        timeout=TIMEOUT, max_retries=0, clock=fake_time.clock, sleep=fake_time.sleep
    ) as client:
        theirs = client.create_campaign(draft.model_copy(update={"account_id": OTHER}))
        ours = client.create_campaign(draft)
        untouched = client.create_campaign(draft.model_copy(update={"name": "untouched"}))
        renamed = client.prepare_update(theirs, name="renamed")
        # the re-read before sending goes through; the answer is lost; asking fails
        sb.inject(
            Fault.stall(0).on("GET"),
            Fault.drop(after_apply=True).on("PUT"),
            Fault.error(500).on("GET"),
        )
        assert str(client.attempt(renamed, log=ResultsLog(path)).outcome) == "unknown"
        sb.inject(Fault.drop(after_apply=True).on("DELETE"), Fault.error(500).on("GET"))
        assert str(client.attempt(client.prepare_delete(ours), log=ResultsLog(path)).outcome) == (
            "unknown"
        )
        paused = client.prepare_update(untouched, status="PAUSE")
        sb.inject(Fault.stall(0).on("GET"), Fault.drop().on("PUT"), Fault.error(500).on("GET"))
        assert str(client.attempt(paused, log=ResultsLog(path)).outcome) == "unknown"

        settled = client.reconcile(path)

    assert settled["action"].tolist() == ["update", "delete", "update"]
    assert settled["outcome"].tolist() == ["updated", "deleted", "failed"]
    assert settled["account_id"].tolist()[0] == OTHER
    assert ResultsLog.read(path).to_frame()["outcome"].tolist() == ["updated", "deleted", "failed"]
    assert sb.campaigns_of(OTHER)[theirs.campaign_id]["name"] == "renamed"
    assert sb.campaigns_of(sb.account_id)[untouched.campaign_id]["status"] == "DRAFT"
