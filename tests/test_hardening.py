"""Guarantees that broke when tried as an attacker would, each reproduced as it was found,
through the public API over real HTTP: a crashed bulk run resumed, another account's
campaign settled in its own account, frames joined with ``pd.concat``, a colleague's
campaign under our id, a server that ignores client ids, day-long and year-9999
``Retry-After``, endless cursors, reads that lag behind writes, a 10 MB name, and sheets
with repeated headers or Excel's encodings."""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import FakeTime

from alsona_nb import (
    AlsonaClient,
    AlsonaWarning,
    CampaignDraft,
    InvalidDraftError,
    ResultsLog,
    Sandbox,
    WeeklySchedule,
    create_campaigns,
    read_campaigns_csv,
)
from alsona_nb._pacing import Pacer
from alsona_nb.sandbox import Fault

SEAT = "seat_6a13e661ecc6a86e3fb7"
OTHER = "account_0b0b0b0b0b0b0b0b0b0b"
HOUR = 3600.0


def drafts(n: int, prefix: str = "Bulk") -> list[CampaignDraft]:
    return [
        CampaignDraft(
            name=f"{prefix} {i:02d}", seats=[SEAT], schedule=WeeklySchedule.weekdays(9, 17)
        )
        for i in range(n)
    ]


def names(sandbox: Sandbox) -> list[str]:
    return sorted(c["name"] for c in sandbox.campaigns.values())


@pytest.fixture
def once(sandbox: Sandbox, fake_time: FakeTime) -> Iterator[AlsonaClient]:
    """A client that never retries by itself: a lost answer is settled by asking."""
    with sandbox.client(
        timeout=2.0, max_retries=0, clock=fake_time.clock, sleep=fake_time.sleep
    ) as c:
        yield c


@pytest.fixture(scope="module")
def two_accounts() -> Iterator[Sandbox]:
    with Sandbox(accounts=[OTHER]) as sb:
        yield sb


# -- 1. a crashed bulk run resumes without loss ---------------------------------------------


def kill_after(path: Path, sandbox: Sandbox, lines: int) -> set[str]:
    """Make ``path`` and the server look as a kernel killed after ``lines`` journal lines
    (after the batch's queued lines, if any) would have left them: the rest of the journal
    cut off, campaigns never sent taken off the server, and of those in flight (an intent
    without its outcome) every other one taken off too (its request never arrived).
    Returns the ids left on the server."""
    journal = path.read_bytes().splitlines(keepends=True)
    events = [json.loads(line) for line in journal]
    queued = sum(1 for e in events if e.get("event") == "queued")
    kept = events[: queued + lines]
    path.write_bytes(b"".join(journal[: queued + lines]))
    outcome = {e["campaign_id"] for e in kept if e.get("event") == "outcome"}
    in_flight = sorted({e["campaign_id"] for e in kept if e.get("event") == "intent"} - outcome)
    left = outcome | set(in_flight[::2])
    headers = {"X-API-KEY": sandbox.api_key}
    for cid in set(sandbox.campaigns) - left:  # straight to the sandbox, not via the client
        path_ = f"/rest/accounts/{sandbox.account_id}/campaigns/{cid}"
        assert sandbox.handle("DELETE", path_, headers, b"").status == 200
    assert set(sandbox.campaigns) == left
    return left


@pytest.mark.parametrize("lines", [0, 3, 8, 9])
def test_a_bulk_run_killed_part_way_is_resumed_from_its_journal_without_loss(
    client: AlsonaClient, sandbox: Sandbox, tmp_path: Path, lines: int
) -> None:
    path = tmp_path / "bulk.jsonl"
    batch = drafts(30)
    first = create_campaigns(client, batch, log=ResultsLog(path), max_workers=2, progress=False)
    assert first["ok"].all()
    ids = set(first["campaign_id"])
    left = kill_after(path, sandbox, lines)
    assert len(left) < 30

    resumed = create_campaigns(client, str(path), progress=False)

    assert names(sandbox) == sorted(d.name for d in batch)  # 30, each exactly once
    assert set(sandbox.campaigns) == ids  # under the ids minted the first time
    assert len(resumed) == 30 and resumed["ok"].all()
    assert sorted(resumed["name"]) == sorted(d.name for d in batch)
    again = create_campaigns(client, str(path), progress=False)
    assert again["ok"].all() and len(sandbox.campaigns) == 30


def test_a_bulk_run_interrupted_by_a_journal_that_stops_is_resumed(
    client: AlsonaClient, sandbox: Sandbox, tmp_path: Path
) -> None:
    """The same with a real stop: the journal fails part-way (a full disk), the run ends."""
    path = tmp_path / "bulk.jsonl"

    class Failing(ResultsLog):
        writes = 0

        def intent(self, attempt: Any) -> None:
            Failing.writes += 1
            if Failing.writes > 8:
                raise OSError(28, "No space left on device")
            super().intent(attempt)

    batch = drafts(30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AlsonaWarning)
        first = create_campaigns(client, batch, log=Failing(path), max_workers=1, progress=False)
    assert first["ok"].sum() == 8 == len(sandbox.campaigns)

    resumed = create_campaigns(client, path, progress=False)

    assert names(sandbox) == sorted(d.name for d in batch)
    assert resumed["ok"].all() and len(resumed) == 30


# -- 2. another account's campaign, settled in its own account ------------------------------


def test_a_lost_answer_for_another_accounts_campaign_is_settled_in_that_account(
    two_accounts: Sandbox, fake_time: FakeTime
) -> None:
    sb = two_accounts
    sb.reset()
    (draft,) = drafts(1)
    with sb.client(timeout=2.0, max_retries=0, clock=fake_time.clock, sleep=fake_time.sleep) as c:
        assert c.account_id != OTHER
        sb.inject(Fault.drop(after_apply=True))
        attempt = c.attempt(draft.model_copy(update={"account_id": OTHER}))
    assert attempt.ok, attempt.error
    assert str(attempt.outcome) == "created"
    assert list(sb.campaigns_of(OTHER)) == [attempt.campaign_id]
    gets = [r.path for r in sb.requests if r.method == "GET"]
    assert gets and all(f"/accounts/{OTHER}/" in p for p in gets)


def test_a_sheets_account_column_is_settled_and_reconciled_in_that_account(
    two_accounts: Sandbox, fake_time: FakeTime, tmp_path: Path
) -> None:
    sb = two_accounts
    sb.reset()
    sheet = pd.DataFrame(
        {
            "name": ["Theirs A", "Theirs B"],
            "seats": [SEAT, SEAT],
            "days": ["mon-fri", "mon-fri"],
            "start_hour": [9, 9],
            "end_hour": [17, 17],
            "account_id": [OTHER, OTHER],
        }
    )
    path = tmp_path / "bulk.jsonl"
    with sb.client(timeout=2.0, max_retries=0, clock=fake_time.clock, sleep=fake_time.sleep) as c:
        # the first answer is lost and the server cannot be asked at once: unknown
        sb.inject(Fault.drop(after_apply=True), Fault.error(500).on("GET"))
        first = create_campaigns(c, sheet, log=ResultsLog(path), max_workers=1, progress=False)
        assert first["outcome"].tolist() == ["unknown", "created"]
        settled = c.reconcile(path)
        resumed = create_campaigns(c, path, progress=False)
    assert set(settled["outcome"]) == {"created"}
    assert resumed["ok"].all()
    assert sorted(c["name"] for c in sb.campaigns_of(OTHER).values()) == ["Theirs A", "Theirs B"]
    assert sb.campaigns_of(sb.account_id) == {}


# -- 3. frames joined with pd.concat --------------------------------------------------------


def unknown_row(
    once: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft, *, arrived: bool
) -> pd.DataFrame:
    """A one-row result frame (index 0) whose outcome is unknown: the answer was lost (after
    the create, or before it arrived) and the server could not be asked."""
    sandbox.inject(Fault.drop(after_apply=arrived), Fault.error(500).on("GET"))
    frame = create_campaigns(once, [draft], max_workers=1, progress=False)
    assert frame["outcome"].tolist() == ["unknown"]
    return frame


@pytest.mark.parametrize("created_first", [False, True])
def test_frames_joined_with_concat_are_settled_row_by_row(
    once: AlsonaClient, sandbox: Sandbox, created_first: bool
) -> None:
    made, never = drafts(2, "Joined")
    created = unknown_row(once, sandbox, made, arrived=True)
    not_created = unknown_row(once, sandbox, never, arrived=False)
    parts = [created, not_created] if created_first else [not_created, created]
    joined = pd.concat(parts)
    assert joined.index.tolist() == [0, 0]
    assert names(sandbox) == ["Joined 00"]

    settled = once.reconcile(joined)
    by_name = dict(zip(settled["name"], settled["outcome"], strict=True))
    assert by_name == {"Joined 00": "created", "Joined 01": "failed"}
    flags = dict(zip(settled["name"], settled["ok"], strict=True))
    assert flags == {"Joined 00": True, "Joined 01": False}

    finished = create_campaigns(once, joined, progress=False)
    assert finished["ok"].all() and len(finished) == 2
    assert names(sandbox) == ["Joined 00", "Joined 01"]  # the row never sent was sent


# -- 4. a colleague's campaign under our id -------------------------------------------------


def test_reconcile_does_not_take_a_colleagues_campaign_with_our_id_for_ours(
    once: AlsonaClient, sandbox: Sandbox, fake_time: FakeTime, tmp_path: Path
) -> None:
    (ours,) = drafts(1, "Ours")
    prepared = once.prepare(ours)
    with sandbox.client(clock=fake_time.clock, sleep=fake_time.sleep) as colleague:
        theirs = ours.model_copy(update={"name": "Theirs", "campaign_id": prepared.campaign_id})
        colleague.create_campaign(theirs)
    path = tmp_path / "journal.jsonl"
    sandbox.inject(Fault.drop(), Fault.error(500).on("GET"))  # ours never arrived; unaskable
    attempt = once.attempt(prepared, log=ResultsLog(path))
    assert str(attempt.outcome) == "unknown"

    settled = once.reconcile(path)

    (row,) = settled.to_dict("records")
    assert row["outcome"] != "created" and not row["ok"]
    assert "someone else" in row["settled"] or "different campaign" in row["settled"]
    assert names(sandbox) == ["Theirs"]


# -- 6. a server that ignores client ids ----------------------------------------------------


def test_a_server_ignoring_client_ids_after_a_lost_answer_is_reported_loudly(
    client: AlsonaClient, sandbox: Sandbox
) -> None:
    sandbox.honour_ids = False
    sandbox.inject(Fault.drop(after_apply=True))
    with pytest.warns(AlsonaWarning) as warned:
        frame = create_campaigns(client, drafts(2, "Ignored"), max_workers=1, progress=False)
    said = " ".join(str(w.message) for w in warned)
    assert "ignored" in said and "second campaign" in said
    assert len(sandbox.campaigns) == 3  # the lost try made one more: said, not hidden
    assert set(frame["campaign_id"]) <= set(sandbox.campaigns)  # the server's ids recorded
    assert client.mint_ids is False


# -- 12. Retry-After of a day, and of the year 9999 -----------------------------------------

LONG_WAITS = [
    pytest.param("86400", id="a-day"),
    pytest.param("Fri, 31 Dec 9999 23:59:59 GMT", id="year-9999"),
    pytest.param(str(10**30), id="huge-number"),
]


@pytest.mark.parametrize("retry_after", LONG_WAITS)
def test_one_long_retry_after_in_bulk_stops_the_batch_instead_of_waiting(
    client: AlsonaClient, sandbox: Sandbox, fake_time: FakeTime, retry_after: str
) -> None:
    sandbox.inject(Fault.error(429, retry_after=retry_after))
    pacer = Pacer(1, clock=fake_time.clock, sleep=fake_time.sleep)
    start = fake_time.now

    frame = create_campaigns(client, drafts(6), pacer=pacer, progress=False)

    # A single create gives up at once when asked to wait more than an hour; bulk does the
    # same: nothing waits the day (or the year 9999), and what was not sent says so.
    assert max(fake_time.sleeps, default=0.0) <= HOUR + 1
    assert fake_time.now - start < HOUR
    outcomes = frame["outcome"].tolist()
    assert "unknown" not in outcomes and not frame["maybe_created"].any()
    assert set(outcomes) <= {"created", "not sent", "failed"}
    assert "not sent" in outcomes
    assert frame["ok"].sum() == len(sandbox.campaigns)
    unsent = frame[frame["outcome"] == "not sent"]
    assert unsent["error_message"].str.contains("asked to wait", case=False).all()
    # fed back once the gateway lets go, the rest is sent: every draft created once
    again = create_campaigns(
        client, frame, pacer=Pacer(1, clock=fake_time.clock, sleep=fake_time.sleep), progress=False
    )
    assert again["ok"].all() and len(sandbox.campaigns) == 6


@pytest.mark.parametrize("retry_after", LONG_WAITS)
def test_a_gateway_refusing_everything_for_ever_leaves_rows_refused_never_unknown(
    client: AlsonaClient, sandbox: Sandbox, fake_time: FakeTime, retry_after: str
) -> None:
    sandbox.inject(Fault.error(429, retry_after=retry_after), times=500)
    pacer = Pacer(2, clock=fake_time.clock, sleep=fake_time.sleep)

    frame = create_campaigns(client, drafts(4), pacer=pacer, progress=False)

    assert len(frame) == 4
    assert sandbox.campaigns == {}
    assert not frame["ok"].any()
    assert "unknown" not in frame["outcome"].tolist()
    assert not frame["maybe_created"].any()
    assert max(fake_time.sleeps, default=0.0) <= HOUR + 1


# -- 14. an endless cursor ----------------------------------------------------------------


class _Endless(BaseHTTPRequestHandler):
    """Every page empty, every cursor new (ending after 300 pages, so old code stops)."""

    pages = 0
    full = False  # pages with one seat each, instead of empty ones

    def do_GET(self) -> None:
        type(self).pages += 1
        more = f"key-{self.pages}" if self.pages < 300 else None
        seats = [{"seat_id": f"seat_{self.pages}"}] if self.full else []
        body = json.dumps(
            {"success": True, "seats": seats, "campaigns": [], "last_key": more}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def endless(fake_time: FakeTime) -> Iterator[tuple[AlsonaClient, type[_Endless]]]:
    handler = type("Handler", (_Endless,), {"pages": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    client = AlsonaClient(
        api_key="test_key_0123456789",
        account_id="account_1",
        base_url=url,
        timeout=2.0,
        clock=fake_time.clock,
        sleep=fake_time.sleep,
    )
    try:
        yield client, handler
    finally:
        client.close()
        server.shutdown()
        server.server_close()
        thread.join()


def test_an_endless_cursor_of_empty_pages_ends_list_seats_with_a_warning(
    endless: tuple[AlsonaClient, type[_Endless]],
) -> None:
    client, handler = endless
    with pytest.warns(AlsonaWarning, match="empty page"):
        assert client.list_seats() == {}
    assert handler.pages <= 2


def test_an_endless_cursor_of_empty_pages_ends_list_campaigns_with_a_warning(
    endless: tuple[AlsonaClient, type[_Endless]],
) -> None:
    client, handler = endless
    with pytest.warns(AlsonaWarning, match="empty page"):
        frame = client.list_campaigns(progress=False)
    assert frame.empty
    assert handler.pages <= 2


def test_an_endless_cursor_of_full_pages_ends_at_the_page_bound_with_a_warning(
    endless: tuple[AlsonaClient, type[_Endless]], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, handler = endless
    handler.full = True
    monkeypatch.setattr("alsona_nb._listing.MAX_PAGES", 25)  # 10,000 in use: too slow here
    with pytest.warns(AlsonaWarning, match="after 25 pages"):
        seats = client.list_seats()
    assert len(seats) == 25 and handler.pages == 25


# -- also seen ------------------------------------------------------------------------------


def test_a_create_whose_answer_is_lost_and_whose_read_lags_is_still_created(
    once: AlsonaClient, sandbox: Sandbox, fake_time: FakeTime
) -> None:
    sandbox.read_lag = 1
    sandbox.inject(Fault.drop(after_apply=True))

    attempt = once.attempt(drafts(1)[0])

    assert attempt.ok, attempt.error
    assert str(attempt.outcome) == "created"
    assert len(sandbox.campaigns) == 1
    assert sandbox.counts["GET", 404] == 1 and sandbox.counts["GET", 200] == 1
    assert fake_time.sleeps  # it asked again after a pause, on the fake clock


def test_a_lagging_read_in_reconcile_is_asked_again(
    once: AlsonaClient, sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "journal.jsonl"
    sandbox.read_lag = 1  # hidden from the first read that reaches the store
    sandbox.inject(Fault.drop(after_apply=True), Fault.error(500).on("GET"))
    assert str(once.attempt(drafts(1)[0], log=ResultsLog(path)).outcome) == "unknown"
    (row,) = once.reconcile(path).to_dict("records")
    assert row["outcome"] == "created" and row["ok"]
    assert sandbox.counts["GET", 404] == 1  # the lagging read was not believed


@pytest.mark.parametrize("size", [10_000_000, 100_000])
def test_a_huge_name_is_refused_before_sending(
    client: AlsonaClient, sandbox: Sandbox, size: int
) -> None:
    huge = {
        "name": "x" * size,
        "seats": [SEAT],
        "schedule": WeeklySchedule.weekdays(9, 17).model_dump(mode="json"),
    }
    with pytest.raises(InvalidDraftError) as raised:
        client.create_campaign(huge)
    assert any(field == "name" for field, _ in raised.value.problems)
    assert len(str(raised.value)) < 2000  # the name is not echoed back
    frame = create_campaigns(client, [huge], skip_invalid=True, progress=False)
    assert frame["outcome"].tolist() == ["not sent"]
    assert sandbox.counts["POST"] == 0
    (made,) = drafts(1)
    with pytest.raises(InvalidDraftError):
        client.prepare_update(client.create_campaign(made), name="y" * size)
    assert sandbox.counts["PUT"] == 0


def test_a_csv_with_a_column_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "twice.csv"
    path.write_text(
        "name,seats,days,start_hour,end_hour,name\nKept,seat_a,mon-fri,9,17,\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="name"):
        read_campaigns_csv(path)


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16"])
def test_excels_csv_encodings_are_read(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / f"{encoding}.csv"
    text = "name,seats,days,start_hour,end_hour\nCafé “Zürich” – Q3,seat_a,mon-fri,9,17\n"
    path.write_bytes(text.encode(encoding))
    batch = read_campaigns_csv(path)
    (item,) = batch.items
    assert item.draft is not None and item.draft.name == "Café “Zürich” – Q3"


def test_an_encoding_that_cannot_be_read_says_which_to_use(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("name,seats,days,start_hour,end_hour\nCafé,seat_a,mon,9,17\n".encode("cp1252"))
    with pytest.raises(ValueError, match="encoding") as raised:
        read_campaigns_csv(path, encoding="utf-8")
    assert not isinstance(raised.value, UnicodeDecodeError)


def test_once_the_server_is_seen_ignoring_ids_no_lost_answer_is_sent_again(
    client: AlsonaClient, sandbox: Sandbox
) -> None:
    """Rows prepared before the first answer carry minted ids; once an answer shows the
    server ignores them, a lost answer of a later row must not be retried (a duplicate)."""
    sandbox.honour_ids = False
    sandbox.inject(Fault.stall(0.0), Fault.drop(after_apply=True))  # the 2nd answer is lost
    with pytest.warns(AlsonaWarning, match="ignored"):
        frame = create_campaigns(client, drafts(3, "Ignored"), max_workers=1, progress=False)
    assert names(sandbox) == ["Ignored 00", "Ignored 01", "Ignored 02"]  # none twice
    assert frame["outcome"].tolist() == ["created", "unknown", "created"]
    assert "check in Alsona" in frame["error_message"][1]
