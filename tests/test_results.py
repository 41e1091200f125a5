"""ResultsLog: one row per attempt, a journal that survives the session, typed frames."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from alsona_nb import AlsonaClient, CampaignDraft, Fault, ResultsLog, Sandbox
from alsona_nb._results import COLUMNS


def test_rows_for_success_error_and_invalid_input(sandbox: Sandbox, draft: CampaignDraft) -> None:
    log = ResultsLog()
    client = sandbox.client(log=log)
    ok = client.attempt(draft)
    sandbox.inject(Fault.error(400, "seat is not active"))
    client.attempt(draft.model_copy(update={"campaign_id": "CAMP9"}))
    client.attempt({"name": "Half done", "seats": []})
    first, second, third = log.rows
    assert first["ok"] and first["campaign_id"] == ok.campaign.campaign_id  # type: ignore[union-attr]
    assert first["priority"] is not None and first["http_status"] == 200
    assert (second["error_type"], second["error_message"], second["http_status"]) == (
        "BadRequestError",
        "seat is not active",
        400,
    )
    assert second["campaign_id"] == "CAMP9"
    assert third["name"] == "Half done" and third["http_status"] is None
    assert third["error_type"] == "ValidationError"
    assert "seats" in third["error_message"]
    assert all(set(row) == set(COLUMNS) for row in log.rows)


def test_frame_dtypes(client: AlsonaClient, draft: CampaignDraft) -> None:
    log = ResultsLog()
    client.attempt(draft, log=log)
    client.attempt({"name": ""}, log=log)
    frame = log.to_frame()
    assert list(frame.columns) == list(COLUMNS)
    assert str(frame["when"].dtype).startswith("datetime64") and frame["when"].dt.tz is not None
    assert str(frame["priority"].dtype).startswith("datetime64")
    assert frame["timezone"].dtype == "Int64" and frame["http_status"].dtype == "Int64"
    assert frame["ok"].dtype == bool
    assert frame["timezone"].tolist()[0] == -300
    assert pd.isna(frame["http_status"].iloc[1])


def test_empty_log_gives_an_empty_typed_frame() -> None:
    frame = ResultsLog().to_frame()
    assert frame.empty and list(frame.columns) == list(COLUMNS)


def test_journal_line_per_attempt_read_back_later(
    tmp_path: Path, client: AlsonaClient, draft: CampaignDraft
) -> None:
    path = tmp_path / "runs" / "journal.jsonl"
    log = ResultsLog(path)
    client.attempt(draft, log=log)
    client.attempt({"name": ""}, log=log)
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(line) for line in lines)
    later = ResultsLog(path)
    assert later.rows == log.rows
    client.attempt(draft, log=later)
    assert len(ResultsLog(path).to_frame()) == 3


def test_csv_export(tmp_path: Path, sandbox: Sandbox, draft: CampaignDraft) -> None:
    log = ResultsLog()
    sandbox.client(log=log).attempt(draft.model_copy(update={"seats": ["s1", "s2"]}))
    target = log.to_csv(tmp_path / "out.csv")
    back = pd.read_csv(target)
    assert back.loc[0, "seats"] == "s1;s2"
    assert back.loc[0, "campaign_id"].startswith("campaign_")


def test_repr_counts(client: AlsonaClient, draft: CampaignDraft) -> None:
    log = ResultsLog()
    client.attempt(draft, log=log)
    client.attempt({}, log=log)
    assert repr(log) == "<ResultsLog 2 attempts, 1 ok>"
