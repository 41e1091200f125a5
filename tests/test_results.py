"""ResultsLog: one row per call (create, update, delete), a write-ahead journal that queues a
whole batch first, syncs what it must, survives torn lines, full disks and a second writer,
refuses what is not a regular file, and exports every row it holds."""

from __future__ import annotations

import errno
import json
import os
import stat
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from alsona_nb import AlsonaError, AlsonaWarning, InvalidDraftError, JournalError, ResultsLog
from alsona_nb._attempt import Attempt, PreparedCreate, PreparedDelete, PreparedUpdate
from alsona_nb._frames import COLUMNS, DEFAULT_COLUMNS
from alsona_nb._models import Campaign, CampaignDraft, CampaignStatus, WeeklySchedule
from alsona_nb._results import IN_FLIGHT, QUEUED, row_body

URL = "http://127.0.0.1:9/rest/accounts/acc_1/campaigns"
WHEN = datetime(2025, 3, 3, 9, 30, tzinfo=timezone.utc)


def make_draft(n: int = 1, **changes: Any) -> CampaignDraft:
    fields: dict[str, Any] = {
        "name": f"Q3 outreach {n}",
        "seats": ["seat_a", "seat_b"],
        "schedule": WeeklySchedule.weekdays(9, 17),
        "account_id": "acc_1",
        "status": "DRAFT",
        "timezone": -300,
        "zone": "America/New_York",
        "campaign_id": f"campaign_{n:020x}",
        "created_at": 1_740_000_000_000,
    }
    return CampaignDraft(**(fields | changes))


def answer(draft: CampaignDraft, **changes: Any) -> Campaign:
    """The server's answer for a draft."""
    fields = draft.to_payload()["campaign"] | {"priority": 1_740_000_000_123, "wait_until": 0}
    return Campaign.model_validate(fields | changes)


def create(draft: CampaignDraft, **kw: Any) -> Attempt:
    body = json.dumps(draft.to_payload(), ensure_ascii=False).encode()
    prepared = PreparedCreate(url=URL, draft=draft, body=body)
    return Attempt(WHEN, "sandbox", draft.account_id, prepared=prepared, **kw)


def created(draft: CampaignDraft) -> Attempt:
    return create(draft, campaign=answer(draft), done=True, tries=1, http_status=200)


def update(before: Campaign, after: CampaignDraft, **kw: Any) -> Attempt:
    diff = {"status": (before.status, after.status), "schedule": (before.schedule, after.schedule)}
    body = json.dumps(after.to_payload()).encode()
    prepared = PreparedUpdate(URL + "/x", after, body, based_on=before, diff=diff)
    return Attempt(WHEN, "sandbox", after.account_id, prepared=prepared, **kw)


def delete(campaign: Campaign, **kw: Any) -> Attempt:
    prepared = PreparedDelete(URL + "/x", campaign.campaign_id, campaign.account_id, campaign)
    return Attempt(WHEN, "sandbox", campaign.account_id, prepared=prepared, **kw)


def invalid(data: dict[str, Any]) -> Attempt:
    error = InvalidDraftError("Pick at least one seat", problems=[("seats", "Pick at least one")])
    return Attempt(WHEN, "sandbox", "acc_1", input=data, error=error)


def events(path: Path) -> list[str]:
    return [json.loads(line)["event"] for line in path.read_text().splitlines() if line]


# -- rows -------------------------------------------------------------------------------------


def test_a_create_row_says_what_was_made() -> None:
    log = ResultsLog()
    draft = make_draft()
    row = log.record(created(draft))
    assert set(row) == set(COLUMNS)
    assert (row["action"], row["outcome"], row["ok"], row["maybe_created"]) == (
        "create",
        "created",
        True,
        False,
    )
    assert (row["campaign_id"], row["zone"], row["timezone"]) == (
        draft.campaign_id,
        "America/New_York",
        -300,
    )
    assert row["seats"] == ["seat_a", "seat_b"] and row["diff"] is None
    assert row["schedule"]["monday"] == [True, 9, 17] and row["priority"] == 1_740_000_000_123
    assert list(COLUMNS).index("action") == list(COLUMNS).index("when") + 1
    assert list(COLUMNS).index("zone") == list(COLUMNS).index("timezone") + 1


def test_an_update_row_carries_its_diff_as_json() -> None:
    before = answer(make_draft())
    after = make_draft(status=CampaignStatus.RUN, schedule=WeeklySchedule.every_day(8, 18))
    attempt = update(before, after, campaign=answer(after), done=True, tries=1, http_status=200)
    row = ResultsLog().record(attempt)
    assert (row["action"], row["outcome"], row["status"]) == ("update", "updated", "RUN")
    assert row["diff"]["status"] == ["DRAFT", "RUN"]
    assert row["diff"]["schedule"][0]["saturday"] == [False, 9, 17]
    assert row["diff"]["schedule"][1]["saturday"] == [True, 8, 18]
    assert json.loads(json.dumps(row["diff"])) == row["diff"]  # JSON-ready as it is


def test_a_delete_row_names_the_campaign_it_deleted() -> None:
    campaign = answer(make_draft(7, name="Old spring push", status="PAUSE"))
    row = ResultsLog().record(delete(campaign, done=True, tries=1, http_status=204))
    assert (row["action"], row["outcome"], row["ok"]) == ("delete", "deleted", True)
    assert (row["name"], row["status"], row["seats"]) == (
        "Old spring push",
        "PAUSE",
        campaign.seats,
    )
    assert row["campaign_id"] == campaign.campaign_id and row["diff"] is None


def test_a_row_names_the_account_the_call_went_to() -> None:
    attempt = created(make_draft(account_id="acc_other"))
    attempt.account_id = "acc_default"  # the client's own account
    assert ResultsLog().record(attempt)["account_id"] == "acc_other"
    assert ResultsLog().record(invalid({"name": "x"}))["account_id"] == "acc_1"


def test_failed_unknown_and_unsent_rows() -> None:
    log = ResultsLog()
    refused = AlsonaError("seat is not active", status_code=400)
    lost = AlsonaError("the answer was lost", maybe_created=True)
    failed = log.record(create(make_draft(1), error=refused, tries=1, http_status=400))
    unknown = log.record(create(make_draft(2), error=lost, tries=2))
    unsent = log.record(invalid({"name": "Half done", "seats": [], "campaign_id": "CAMP9"}))
    assert (failed["outcome"], failed["error_message"], failed["http_status"]) == (
        "failed",
        "seat is not active",
        400,
    )
    assert (unknown["outcome"], unknown["maybe_created"], unknown["ok"]) == ("unknown", True, False)
    assert (unsent["outcome"], unsent["name"], unsent["campaign_id"]) == (
        "not sent",
        "Half done",
        "CAMP9",
    )
    assert unsent["error_type"] == "InvalidDraftError" and unsent["http_status"] is None
    assert repr(log) == "<ResultsLog 3 attempts, 0 ok, 1 unknown, 1 not sent>"


# -- the journal: queued, intent, outcome -----------------------------------------------------


def test_a_batch_is_journalled_whole_in_one_write_before_anything_is_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bulk.jsonl"
    log = ResultsLog(path)
    attempts = [create(make_draft(n, name=f"Café ✓ {n}")) for n in range(5)]
    writes: list[int] = []
    real_write = os.write

    def counting(fd: int, data: Any) -> int:
        writes.append(len(data))
        return real_write(fd, data)

    with monkeypatch.context() as patch:
        patch.setattr(os, "write", counting)
        log.queue(attempts)
    assert len(writes) == 1 and events(path) == ["queued"] * 5
    rows = ResultsLog.read(path).rows
    assert [r["outcome"] for r in rows] == ["not sent"] * 5
    assert {r["error_message"] for r in rows} == {QUEUED}
    assert [r["campaign_id"] for r in rows] == [a.campaign_id for a in attempts]
    for row, attempt in zip(rows, attempts, strict=True):
        assert attempt.prepared is not None
        assert row_body(row) == attempt.prepared.body  # the very bytes to send on resume
        assert row["body"] == attempt.prepared.body.decode()


def test_intent_replaces_queued_and_outcome_replaces_both(tmp_path: Path) -> None:
    path = tmp_path / "bulk.jsonl"
    log = ResultsLog(path)
    first, second, third = (create(make_draft(n)) for n in range(3))
    log.queue([first, second, third])
    log.intent(first)
    log.intent(second)
    first.tries, first.done, first.campaign = 1, True, answer(make_draft(0))
    log.record(first)
    log.queue([first, second])  # queued again: says less than what is known
    assert events(path) == ["queued"] * 3 + ["intent", "intent", "outcome", "queued", "queued"]
    for rows in (log.rows, ResultsLog.read(path).rows):
        assert [r["outcome"] for r in rows] == ["created", "unknown", "not sent"]
        assert [r["error_message"] for r in rows] == [None, IN_FLIGHT, QUEUED]
        assert all(row_body(r) is not None for r in rows)  # the outcome keeps its intent's body
    assert "body" not in json.loads(path.read_text().splitlines()[5])  # not on outcome lines
    assert "body" not in log.to_frame().columns and "body" not in log.to_frame(details=True)


def test_deletes_and_invalid_input_carry_no_body(tmp_path: Path) -> None:
    log = ResultsLog(tmp_path / "j.jsonl")
    log.queue([delete(answer(make_draft())), invalid({"name": "x"})])
    lines = [json.loads(x) for x in (tmp_path / "j.jsonl").read_text().splitlines()]
    assert [("body" in line) for line in lines] == [False, False]
    assert [row_body(r) for r in log.rows] == [None, None]


def test_an_outcome_written_before_its_intent_still_wins(tmp_path: Path) -> None:
    """Two threads can journal in either order; what a line says, not its place, decides."""
    path = tmp_path / "j.jsonl"
    base = {"attempt_id": "a1", "name": "n", "campaign_id": "c1"}
    lines = [
        {"event": "outcome", **base, "outcome": "created", "ok": True},
        {"event": "intent", **base, "outcome": "unknown", "maybe_created": True},
        {"event": "queued", **base, "outcome": "not sent"},
    ]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    (row,) = ResultsLog.read(path).rows
    assert (row["outcome"], row["ok"]) == ("created", True)


def test_a_journal_from_before_updates_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "old.jsonl"
    old: dict[str, Any] = {
        "attempt_id": "a1",
        "when": WHEN.isoformat(),
        "name": "n",
        "outcome": "created",
    }
    old |= {"ok": True, "campaign_id": "c1", "timezone": 60, "mode": "sandbox"}
    path.write_text(json.dumps({"event": "outcome", **old}) + "\n")
    frame = ResultsLog(path).to_frame(details=True)
    assert frame["action"].tolist() == ["create"] and frame["zone"].isna().all()
    assert frame["diff"].isna().all() and frame["ok"].tolist() == [True]


def test_intent_and_outcome_read_back_later(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "results.jsonl"
    log = ResultsLog(path)
    for n in range(2):
        attempt = create(make_draft(n))
        log.intent(attempt)
        attempt.tries, attempt.done, attempt.campaign = 1, True, answer(make_draft(n))
        log.record(attempt)
    assert events(path) == ["intent", "outcome", "intent", "outcome"]
    again = ResultsLog(path)
    assert again.rows == log.rows and len(again) == 2
    (tmp_path / "nested" / "results.jsonl").unlink()  # a journal deleted while in use
    log.record(created(make_draft(3)))
    assert [r["outcome"] for r in ResultsLog.read(path).rows] == ["created"]


# -- durability -------------------------------------------------------------------------------


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[int, int]]]:
    """Every fsync, as (inode, the file's size then): what was on disk when it returned."""
    calls: list[tuple[int, int]] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        real_fsync(fd)
        info = os.fstat(fd)
        calls.append((info.st_ino, -1 if stat.S_ISDIR(info.st_mode) else info.st_size))

    monkeypatch.setattr(os, "fsync", spy)
    yield calls


def test_each_line_is_on_disk_before_it_returns(
    tmp_path: Path, synced: list[tuple[int, int]]
) -> None:
    path = tmp_path / "j.jsonl"
    log = ResultsLog(path)
    folder = os.stat(tmp_path).st_ino
    assert synced == [(folder, -1)]  # the new file's name is durable
    attempt = create(make_draft())
    log.queue([attempt])
    log.intent(attempt)  # synced before it returns, so before the request goes out
    attempt.tries, attempt.done, attempt.campaign = 1, True, answer(make_draft())
    log.record(attempt)
    inode, sizes = os.stat(path).st_ino, []
    for ino, size in synced[1:]:
        assert ino == inode
        sizes.append(size)
    assert len(sizes) == 3 and sizes[-1] == path.stat().st_size
    lengths = [len(line) + 1 for line in path.read_bytes().split(b"\n")[:-1]]
    assert sizes == [lengths[0], lengths[0] + lengths[1], sum(lengths)]
    ResultsLog(path)  # opening an existing journal syncs nothing
    assert len(synced) == 4


def test_sync_false_skips_fsync(tmp_path: Path, synced: list[tuple[int, int]]) -> None:
    log = ResultsLog(tmp_path / "j.jsonl", sync=False)
    log.record(created(make_draft()))
    assert [size for _, size in synced] == [-1]  # only the folder, when the file was made
    assert len(ResultsLog.read(tmp_path / "j.jsonl")) == 1


# -- a second writer, a full disk, torn lines -------------------------------------------------


def test_a_full_disk_never_glues_another_writers_line_onto_a_fragment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "shared.jsonl"
    a, b = ResultsLog(path), ResultsLog(path)
    real_write = os.write

    def half_then_full(fd: int, data: Any) -> int:
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(os, "write", half_then_full)
        with pytest.raises(JournalError, match="No space left"):
            a.record(created(make_draft(1)))
    assert not path.read_bytes().endswith(b"\n")  # A's fragment is there
    b_attempt = created(make_draft(2))
    b.record(b_attempt)
    a.record(created(make_draft(3)))  # and A itself recovers on a fresh line
    with pytest.warns(AlsonaWarning, match="skipped 1"):
        rows = ResultsLog.read(path).rows
    assert [(r["campaign_id"], r["outcome"]) for r in rows] == [
        (b_attempt.campaign_id, "created"),
        (make_draft(3).campaign_id, "created"),
    ]


def test_many_writers_on_one_journal_never_tear_a_line(tmp_path: Path) -> None:
    path = tmp_path / "shared.jsonl"
    logs = [ResultsLog(path, sync=False) for _ in range(4)]
    start = threading.Barrier(len(logs))

    def write(log: ResultsLog, offset: int) -> None:
        start.wait()
        for n in range(50):
            log.record(created(make_draft(offset + n)))

    threads = [threading.Thread(target=write, args=(log, i * 100)) for i, log in enumerate(logs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = ResultsLog.read(path).rows  # warns (an error here) if any line is torn
    assert len(rows) == 200 and all(r["outcome"] == "created" for r in rows)


def test_a_torn_line_never_swallows_the_next_row(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    ResultsLog(path).record(created(make_draft(1)))
    with path.open("ab") as f:
        f.write('{"name": "caf\u00e9'.encode()[:-1])  # cut inside a UTF-8 character
    with pytest.warns(AlsonaWarning, match="skipped 1"):
        log = ResultsLog(path)
    log.record(created(make_draft(2)))  # starts on a new line
    with pytest.warns(AlsonaWarning, match="skipped 1"):
        rows = ResultsLog.read(path).rows
    assert len(rows) == 2 and all(r["outcome"] == "created" for r in rows)


def test_unreadable_lines_anywhere_are_skipped_with_one_warning(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    good = json.dumps({"event": "outcome", "attempt_id": "a1", "name": "ok", "ok": True})
    path.write_bytes(b"\xff\xfe\n" + good.encode() + b"\n[1, 2]\n{bad json\n" + b"[" * 100_000)
    with pytest.warns(AlsonaWarning) as caught:
        rows = ResultsLog.read(path).rows
    assert len(caught) == 1 and "skipped 4" in str(caught[0].message)
    assert [r["name"] for r in rows] == ["ok"]


# -- what may be a journal --------------------------------------------------------------------


def opened_without_blocking(path: Path, read_only: bool) -> BaseException | None:
    """Open a log in a thread; a log that blocks (a FIFO opened for reading) fails here."""
    caught: list[BaseException] = []

    def run() -> None:
        try:
            ResultsLog(path, read_only=read_only)
        except BaseException as exc:
            caught.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive(), f"opening {path} blocked"
    return caught[0] if caught else None


@pytest.mark.parametrize("read_only", [False, True])
def test_a_fifo_is_refused_without_blocking(tmp_path: Path, read_only: bool) -> None:
    fifo = tmp_path / "journal.jsonl"
    os.mkfifo(fifo)
    error = opened_without_blocking(fifo, read_only)
    assert isinstance(error, JournalError) and "pipe (FIFO), not a regular file" in str(error)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/full"])
@pytest.mark.parametrize("read_only", [False, True])
def test_devices_are_refused(device: str, read_only: bool) -> None:
    error = opened_without_blocking(Path(device), read_only)
    assert isinstance(error, JournalError) and "a device, not a regular file" in str(error)


def test_a_folder_in_place_of_the_journal_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dir.jsonl").mkdir()
    for read_only in (False, True):
        with pytest.raises(JournalError, match="a folder, not a regular file"):
            ResultsLog(tmp_path / "dir.jsonl", read_only=read_only)


def test_a_journal_that_cannot_be_created_is_refused_when_opened(tmp_path: Path) -> None:
    """Fails to write even as root (CI runs as root, where chmod 0o444 stops nothing)."""
    (tmp_path / "a_file").write_text("")
    with pytest.raises(JournalError, match=r"cannot write.*read_only=True"):
        ResultsLog(tmp_path / "a_file" / "results.jsonl")
    with pytest.raises(JournalError, match="cannot read"):
        ResultsLog(tmp_path / "a_file" / "results.jsonl", read_only=True)


def test_a_journal_replaced_by_a_fifo_while_in_use_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    log = ResultsLog(path)
    path.unlink()
    os.mkfifo(path)
    with pytest.raises(JournalError, match="not a regular file"):
        log.record(created(make_draft()))


def test_a_read_only_journal_is_read_without_writing(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    ResultsLog(path).record(created(make_draft()))
    with path.open("ab") as f:
        f.write(b'{"torn": ')  # a crash mid-write
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    with pytest.warns(AlsonaWarning, match="skipped 1"):
        log = ResultsLog.read(path)
    assert len(log) == 1
    with pytest.raises(JournalError, match="read-only"):
        log.intent(create(make_draft(2)))
    with pytest.raises(JournalError, match="read-only"):
        log.queue([create(make_draft(2))])
    log.settle(log.rows[0] | {"settled": "checked"})  # in memory only
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert len(ResultsLog.read(tmp_path / "missing.jsonl")) == 0
    assert not (tmp_path / "missing.jsonl").exists()


# -- frames and exports of the log ------------------------------------------------------------


def test_frames_default_and_detailed() -> None:
    log = ResultsLog()
    log.record(created(make_draft()))
    log.record(invalid({"name": ""}))
    frame = log.to_frame()
    assert list(frame.columns) == list(DEFAULT_COLUMNS)
    assert frame["outcome"].tolist() == ["created", "not sent"]
    assert list(log.to_frame(details=True).columns) == list(COLUMNS)
    assert list(ResultsLog().to_frame().columns) == list(DEFAULT_COLUMNS)


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "x", "seats": ["s"], "timezone": "America/New_York"},
        {"name": 42, "seats": "s1", "status": ["RUN"], "campaign_id": 7},
        {"name": "lone \ud800 surrogate", "seats": ["s\udc80"], "zone": "Europe/\ud800"},
    ],
)
def test_every_journalled_row_reads_back_and_exports(tmp_path: Path, bad: dict[str, Any]) -> None:
    path = tmp_path / "j.jsonl"
    ResultsLog(path).record(invalid(bad))
    log = ResultsLog(path)
    assert len(log.to_frame()) == 1
    csv = pd.read_csv(log.to_csv(tmp_path / "r.csv"), dtype=str, keep_default_na=False)
    assert len(csv) == 1 and csv["outcome"].tolist() == ["not sent"]
    assert "\ud800" not in csv.to_string()
    excel = pd.read_excel(log.to_excel(tmp_path / "r.xlsx", details=True), dtype=str)
    assert len(excel) == 1
    if "surrogate" in str(bad["name"]):
        assert csv["name"].tolist() == ["lone \ufffd surrogate"]
        assert excel["name"].tolist() == ["lone \ufffd surrogate"]
        assert "\ud800" not in log._repr_html_() and "\ufffd" in log._repr_html_()


def test_exports_are_safe_by_default(tmp_path: Path) -> None:
    log = ResultsLog()
    log.record(created(make_draft(name='=HYPERLINK("http://x","y")')))
    written = pd.read_csv(log.to_csv(tmp_path / "r.csv"), dtype=str)
    assert written["name"].tolist() == ['\'=HYPERLINK("http://x","y")']
    assert written["seats"].tolist() == ["seat_a;seat_b"]
    assert written["timezone"].tolist() == ["-300"]  # numbers are numbers, not text
    raw = pd.read_csv(log.to_csv(tmp_path / "raw.csv", safe=False), dtype=str)
    assert raw["name"].tolist() == ['=HYPERLINK("http://x","y")']
    sheet = pd.read_excel(log.to_excel(tmp_path / "r.xlsx"), dtype=str)
    assert sheet["name"].tolist() == ['\'=HYPERLINK("http://x","y")']


# -- how the log shows itself -----------------------------------------------------------------


def test_repr_and_html() -> None:
    log = ResultsLog()
    log.record(created(make_draft(1)))
    log.record(create(make_draft(2), error=AlsonaError("<b>no</b>", status_code=403), tries=1))
    assert repr(log) == "<ResultsLog 2 attempts, 1 ok>"
    html = log._repr_html_()
    assert "✔ created" in html and "✘ failed" in html and "text-align:left" in html
    assert "&lt;b&gt;no&lt;/b&gt;" in html and "<NA>" not in html and "nan" not in html
    assert "2 rows: 1 created, 1 failed" in html


def test_a_huge_journal_shows_its_head_tail_and_counts(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    base = {"event": "outcome", "when": WHEN.isoformat(), "action": "create", "ok": True}
    with path.open("w") as f:
        for n in range(200_000):
            outcome = "failed" if n % 1000 == 7 else "created"
            row = base | {"attempt_id": f"a{n}", "name": f"row {n} end", "outcome": outcome}
            f.write(json.dumps(row) + "\n")
    html = ResultsLog.read(path)._repr_html_()
    assert len(html) < 20_000
    assert "row 0 end" in html and "row 9 end" in html and "row 10 end" not in html
    assert "row 199990 end" in html and "row 199999 end" in html and "row 100000 " not in html
    assert "… 199,980 more rows …" in html
    assert "200,000 rows: 199,800 created, 200 failed" in html
