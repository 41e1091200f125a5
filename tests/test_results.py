"""ResultsLog: one row per attempt, a write-ahead journal that survives crashes, full disks
and read-only folders, frames that always read back, and CSV that is safe to open."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

from alsona_nb import (
    AlsonaClient,
    AlsonaWarning,
    Attempt,
    CampaignDraft,
    Fault,
    JournalError,
    ResultsLog,
    Sandbox,
)
from alsona_nb._results import COLUMNS, neutralise_cell


def test_rows_for_success_error_and_invalid_input(
    fast_client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    log = ResultsLog()
    ok = fast_client.attempt(draft, log=log)
    sandbox.inject(Fault.error(400, "seat is not active"))
    fast_client.attempt(draft.model_copy(update={"campaign_id": "CAMP9"}), log=log)
    fast_client.attempt({"name": "Half done", "seats": []}, log=log)
    first, second, third = log.rows
    assert first["ok"] and first["outcome"] == "created"
    assert first["campaign_id"] == ok.campaign.campaign_id  # type: ignore[union-attr]
    assert first["priority"] is not None and first["http_status"] == 200
    assert (second["error_type"], second["error_message"], second["http_status"]) == (
        "BadRequestError",
        "seat is not active",
        400,
    )
    assert second["campaign_id"] == "CAMP9" and second["outcome"] == "failed"
    assert third["name"] == "Half done" and third["http_status"] is None
    assert third["error_type"] == "InvalidDraftError"
    assert "Pick at least one seat" in third["error_message"]
    assert all(set(row) == set(COLUMNS) for row in log.rows)


def test_frame_dtypes(fast_client: AlsonaClient, draft: CampaignDraft) -> None:
    log = ResultsLog()
    fast_client.attempt(draft, log=log)
    fast_client.attempt({"name": ""}, log=log)
    frame = log.to_frame()
    assert list(frame.columns) == list(COLUMNS)
    assert str(frame["when"].dtype).startswith("datetime64") and str(frame["when"].dt.tz) == "UTC"
    assert str(frame["wait_until"].dtype).startswith("datetime64")
    assert frame["ok"].dtype == bool and frame["maybe_created"].dtype == bool
    assert str(frame["http_status"].dtype) == "Int64"
    assert frame["outcome"].tolist() == ["created", "failed"]


def test_empty_log_gives_an_empty_typed_frame() -> None:
    frame = ResultsLog().to_frame()
    assert len(frame) == 0 and list(frame.columns) == list(COLUMNS)


def test_journal_intent_and_outcome_read_back_later(
    fast_client: AlsonaClient, draft: CampaignDraft, tmp_path: Path
) -> None:
    path = tmp_path / "nested" / "results.jsonl"
    log = ResultsLog(path)
    fast_client.attempt(draft, log=log)
    fast_client.attempt(draft, log=log)
    events = [json.loads(x)["event"] for x in path.read_text().splitlines()]
    assert events == ["intent", "outcome", "intent", "outcome"]
    again = ResultsLog(path)
    assert again.rows == log.rows and len(again) == 2


def test_an_unwritable_journal_is_refused_when_opened(tmp_path: Path) -> None:
    (tmp_path / "dir.jsonl").mkdir()
    with pytest.raises(JournalError, match="cannot write"):
        ResultsLog(tmp_path / "dir.jsonl")


def test_a_read_only_journal_is_read_without_writing(
    fast_client: AlsonaClient, draft: CampaignDraft, tmp_path: Path
) -> None:
    path = tmp_path / "j.jsonl"
    fast_client.attempt(draft, log=ResultsLog(path))
    with path.open("ab") as f:
        f.write(b'{"torn": ')  # a crash mid-write
    before = path.read_bytes()
    path.chmod(0o444)
    with pytest.warns(AlsonaWarning, match="skipped 1"):
        log = ResultsLog.read(path)
    assert len(log) == 1 and path.read_bytes() == before
    with pytest.raises(JournalError, match="read-only"):
        log.intent(fast_client.attempt({"name": ""}))


def test_a_failed_outcome_write_never_hides_the_created_campaign(
    fast_client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft, tmp_path: Path
) -> None:
    class FullDisk(ResultsLog):
        def record(self, attempt: Attempt) -> dict[str, object]:
            super().record(attempt)  # kept in memory, then the write fails
            raise JournalError("could not write to the results journal (No space left)")

    log = FullDisk()
    with pytest.warns(AlsonaWarning, match="No space left.*created.*campaign_"):
        campaign = fast_client.create_campaign(draft, log=log)
    assert list(sandbox.campaigns) == [campaign.campaign_id]
    with pytest.warns(AlsonaWarning):
        attempt = fast_client.attempt(draft, log=log)
    assert attempt.ok and isinstance(attempt.journal_error, JournalError)


def test_a_torn_line_never_swallows_the_next_row(
    fast_client: AlsonaClient, draft: CampaignDraft, tmp_path: Path
) -> None:
    path = tmp_path / "j.jsonl"
    fast_client.attempt(draft, log=ResultsLog(path))
    with path.open("ab") as f:
        f.write('{"name": "caf\u00e9'.encode()[:-1])  # cut inside a UTF-8 character
    with pytest.warns(AlsonaWarning, match="skipped 1"):
        log = ResultsLog(path)
    fast_client.attempt(draft, log=log)  # starts on a new line
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


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "x", "seats": ["s"], "timezone": "America/New_York"},
        {"name": 42, "seats": "s1", "status": ["RUN"], "campaign_id": 7},
        {"name": "lone \ud800 surrogate", "seats": ["s"]},
    ],
)
def test_every_row_the_project_writes_reads_back(
    fast_client: AlsonaClient, tmp_path: Path, bad: dict[str, object]
) -> None:
    path = tmp_path / "j.jsonl"
    log = ResultsLog(path)
    attempt = fast_client.attempt(bad, log=log)
    assert attempt.error is not None
    assert len(log.to_frame()) == 1
    assert len(ResultsLog(path).to_frame()) == 1


def test_out_of_range_values_are_kept_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    row = {"attempt_id": "a", "ok": True, "wait_until": 2**63 - 1, "priority": -(2**70)}
    row |= {"timezone": "UTC+1", "http_status": 1e300, "when": "yesterday", "tries": "3"}
    path.write_text(json.dumps(row) + "\n")
    log = ResultsLog.read(path)
    frame = log.to_frame()
    assert frame["wait_until"].isna().all() and frame["priority"].isna().all()
    assert frame["timezone"].isna().all() and frame["tries"].tolist() == [3]
    assert log.rows[0]["wait_until"] == 2**63 - 1  # kept in the rows


@pytest.mark.parametrize("cell", ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_that_look_like_formulas_are_neutralised(cell: str) -> None:
    assert neutralise_cell(cell) == "'" + cell
    assert neutralise_cell("Q3 outreach") == "Q3 outreach"


def test_csv_export_is_safe_by_default(
    fast_client: AlsonaClient, draft: CampaignDraft, tmp_path: Path
) -> None:
    log = ResultsLog()
    fast_client.attempt(draft.model_copy(update={"name": '=HYPERLINK("x")'}), log=log)
    written = pd.read_csv(log.to_csv(tmp_path / "r.csv"), dtype=str)
    assert written["name"].tolist() == ['\'=HYPERLINK("x")']
    assert written["seats"].tolist() == ["seat_6a13e661ecc6a86e3fb7"]
    assert written["timezone"].tolist() == ["-300"]  # numbers are numbers, not text
    raw = pd.read_csv(log.to_csv(tmp_path / "raw.csv", safe=False), dtype=str)
    assert raw["name"].tolist() == ['=HYPERLINK("x")']


def test_repr_and_html(fast_client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft) -> None:
    log = ResultsLog()
    fast_client.attempt(draft, log=log)
    sandbox.inject(Fault.error(403, "<b>no</b>"))
    fast_client.attempt(draft, log=log)
    assert repr(log) == "<ResultsLog 2 attempts, 1 ok>"
    html = log._repr_html_()
    assert "✔ created" in html and "✘ failed" in html
    assert "&lt;b&gt;no&lt;/b&gt;" in html and "<NA>" not in html and "nan" not in html


def test_an_in_flight_intent_reads_as_unknown(
    fast_client: AlsonaClient, draft: CampaignDraft, tmp_path: Path
) -> None:
    log = ResultsLog(tmp_path / "j.jsonl")
    prepared = fast_client.prepare(draft)
    log.intent(Attempt(datetime.now(timezone.utc), "sandbox", "acc", prepared))
    (row,) = ResultsLog.read(tmp_path / "j.jsonl").rows
    assert (row["outcome"], row["maybe_created"], row["campaign_id"]) == (
        "unknown",
        True,
        prepared.campaign_id,
    )
