"""The batch runner over real HTTP against the sandbox: exactly once, paced, interruptible."""

from __future__ import annotations

import json
import os
import re
import signal
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import FakeTime

from alsona_nb import (
    AlsonaClient,
    AlsonaWarning,
    Attempt,
    CampaignDraft,
    Fault,
    InvalidDraftError,
    ResultsLog,
    Sandbox,
    WeeklySchedule,
)
from alsona_nb._batch import create_campaigns
from alsona_nb._frames import DEFAULT_COLUMNS
from alsona_nb._pacing import Pacer
from alsona_nb._results import row_body
from alsona_nb._sheet import InvalidRowsError


def drafts(n: int, prefix: str = "c") -> list[CampaignDraft]:
    return [
        CampaignDraft(name=f"{prefix}{i:04d}", seats=["seat_a"], schedule=WeeklySchedule.weekdays())
        for i in range(n)
    ]


def sheet(**columns: Any) -> pd.DataFrame:
    row: dict[str, Any] = {
        "name": "Paris fintech",
        "seats": "seat_a",
        "days": "mon-fri",
        "start_hour": 9,
        "end_hour": 17,
    }
    row.update(columns)
    frame: pd.DataFrame = pd.DataFrame([row])
    return frame


def names_created(sandbox: Sandbox) -> list[str]:
    return sorted(c["name"] for c in sandbox.campaigns.values())


# -- before anything is sent --------------------------------------------------------------


def test_invalid_rows_stop_the_whole_batch(client: AlsonaClient, sandbox: Sandbox) -> None:
    frame = pd.concat([sheet(), sheet(end_hour=25), sheet()], ignore_index=True)
    with pytest.raises(InvalidRowsError) as caught:
        create_campaigns(client, frame, progress=False)
    assert isinstance(caught.value, InvalidDraftError)
    assert caught.value.report[["row", "column"]].values.tolist() == [[1, "end_hour"]]
    assert "row 1, end_hour" in str(caught.value)
    good = drafts(1)[0].model_dump(mode="json", exclude_none=True)
    with pytest.raises(InvalidRowsError) as caught:
        create_campaigns(client, [good, {**good, "seats": []}], progress=False)
    assert caught.value.report[["row", "column"]].values.tolist() == [[1, "seats"]]
    assert sandbox.counts["POST"] == 0 and sandbox.campaigns == {}


def test_no_account_anywhere_is_reported(sandbox: Sandbox) -> None:
    client = AlsonaClient(api_key=sandbox.api_key, base_url=sandbox.url)
    with pytest.raises(InvalidRowsError, match="account"):
        create_campaigns(client, drafts(2), progress=False)
    assert sandbox.counts["POST"] == 0


def test_skip_invalid_sends_the_rest(client: AlsonaClient, sandbox: Sandbox) -> None:
    frame = pd.concat(
        [sheet(name="a"), sheet(name="b", days="someday"), sheet(name="c")], ignore_index=True
    )
    log = ResultsLog()
    result = create_campaigns(client, frame, skip_invalid=True, progress=False, log=log)
    assert result["ok"].tolist() == [True, False, True]
    assert result["outcome"].tolist() == ["created", "not sent", "created"]
    assert "days: 'someday' is not a day" in result.loc[1, "error_message"]
    assert result.loc[1, "name"] == "b" and not result.loc[1, "maybe_created"]
    assert names_created(sandbox) == ["a", "c"] and sandbox.counts["POST"] == 2
    assert len(log) == 2  # only what was sent is journalled


def test_bad_options(client: AlsonaClient) -> None:
    with pytest.raises(ValueError, match="max_workers"):
        create_campaigns(client, drafts(1), max_workers=0)
    with pytest.raises(ValueError, match="max_rate"):
        create_campaigns(client, drafts(1), max_rate=0)
    with pytest.raises(TypeError, match="give CampaignDrafts"):
        create_campaigns(client, [42], progress=False)


# -- sending ------------------------------------------------------------------------------


def test_order_ids_and_columns(client: AlsonaClient, sandbox: Sandbox) -> None:
    log = ResultsLog()
    sandbox.inject(Fault.stall(0.3))  # an early request answers last
    batch = drafts(16)
    result = create_campaigns(client, batch, max_workers=4, progress=False, log=log)
    assert result["name"].tolist() == [d.name for d in batch]
    assert result["input_row"].tolist() == list(range(16))
    assert result["ok"].all() and (result["outcome"] == "created").all()
    assert list(result.columns) == ["input_row", *DEFAULT_COLUMNS]
    details = log.to_frame(details=True)
    assert (details["tries"] == 1).all() and details["campaign_id"].is_unique
    created = {cid: c["name"] for cid, c in sandbox.campaigns.items()}
    assert dict(zip(result["campaign_id"], result["name"], strict=True)) == created
    assert result["campaign_id"].str.match(r"^campaign_[0-9a-f]{20}$").all()  # minted
    assert len(log) == 16 and all(r["ok"] for r in log)


def test_the_whole_batch_is_journalled_before_the_first_request(
    client: AlsonaClient, sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "run.jsonl"
    queued: list[tuple[int, int]] = []

    class Watched(ResultsLog):
        def queue(self, attempts: Sequence[Attempt]) -> None:
            queued.append((len(attempts), sandbox.counts["POST"]))
            super().queue(attempts)

    result = create_campaigns(client, drafts(5), max_workers=2, progress=False, log=Watched(path))
    assert queued == [(5, 0)]  # every row, before anything was sent
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    first = lines[:5]
    assert [line["event"] for line in first] == ["queued"] * 5
    assert [line["campaign_id"] for line in first] == result["campaign_id"].tolist()
    for line in first:  # each with the exact bytes to send
        body = row_body(line)
        assert body is not None
        assert json.loads(body)["campaign"]["campaign_id"] == line["campaign_id"]
    assert sorted(x["event"] for x in lines[5:]) == ["intent"] * 5 + ["outcome"] * 5


def test_dry_run_mints_the_ids_that_are_then_sent(client: AlsonaClient, sandbox: Sandbox) -> None:
    log = ResultsLog()
    preview = create_campaigns(client, drafts(3), dry_run=True, progress=False, log=log)
    assert sandbox.counts["POST"] == 0 and len(log) == 0
    assert preview["outcome"].tolist() == ["not sent"] * 3 and not preview["ok"].any()
    assert not preview["maybe_created"].any()
    assert (preview["account_id"] == sandbox.account_id).all()
    assert preview["campaign_id"].str.match(r"^campaign_[0-9a-f]{20}$").all()
    sent = create_campaigns(client, preview, progress=False)
    assert sent["ok"].all()
    assert sorted(sandbox.campaigns) == sorted(preview["campaign_id"])


def test_feeding_back_sends_only_what_does_not_exist(
    client: AlsonaClient, sandbox: Sandbox
) -> None:
    refused = Fault.error(400, "try again later")
    sandbox.inject(refused, refused, refused)
    first = create_campaigns(client, drafts(10), max_workers=1, progress=False)
    assert first["ok"].tolist() == [False] * 3 + [True] * 7
    posts = sandbox.counts["POST"]
    second = create_campaigns(client, first, max_workers=3, progress=False)
    assert second["ok"].all() and len(second) == 10
    assert sandbox.counts["POST"] == posts + 3
    assert second["campaign_id"].tolist() == first["campaign_id"].tolist()  # ids kept
    assert sorted(sandbox.campaigns) == sorted(second["campaign_id"])
    third = create_campaigns(client, second, progress=False)  # all done: nothing to send
    assert sandbox.counts["POST"] == posts + 3
    assert third["campaign_id"].tolist() == second["campaign_id"].tolist()


def test_lost_answers_settle_by_asking_and_never_duplicate(
    sandbox: Sandbox, fake_time: FakeTime
) -> None:
    client = sandbox.client(timeout=2.0, max_retries=0, sleep=fake_time.sleep)
    sandbox.inject(Fault.cut(after_create=True), Fault.drop(after_create=False))
    first = create_campaigns(client, drafts(4), max_workers=1, progress=False)
    assert len(sandbox.campaigns) == 3
    # the client asked the server about both lost answers: one was created, one was not
    assert first["ok"].tolist() == [True, False, True, True]
    assert first.loc[1, "outcome"] == "failed" and not first.loc[1, "maybe_created"]
    posts = sandbox.counts["POST"]
    second = create_campaigns(client, first, progress=False)
    assert sandbox.counts["POST"] == posts + 1
    assert second["ok"].all()
    assert names_created(sandbox) == [d.name for d in drafts(4)]  # each once
    assert second["campaign_id"].tolist() == first["campaign_id"].tolist()


def test_unknown_rows_without_an_id_are_held_back_with_a_warning(
    sandbox: Sandbox, fake_time: FakeTime
) -> None:
    client = sandbox.client(timeout=2.0, mint_ids=False, sleep=fake_time.sleep)
    sandbox.inject(Fault.cut(after_create=True))
    first = create_campaigns(client, drafts(3), max_workers=1, progress=False)
    assert first["outcome"].tolist() == ["unknown", "created", "created"]
    with pytest.warns(AlsonaWarning, match="not sent again"):
        again = create_campaigns(client, first, progress=False)
    assert len(sandbox.campaigns) == 3 and not again.loc[0, "ok"]
    forced = create_campaigns(client, first, retry_unknown=True, progress=False)
    assert forced["ok"].all() and len(sandbox.campaigns) == 4  # the duplicate it warned of


def test_a_journal_fed_back_finishes_the_run(
    sandbox: Sandbox, tmp_path: Path, fake_time: FakeTime
) -> None:
    client = sandbox.client(timeout=2.0, max_retries=0, sleep=fake_time.sleep)
    journal = tmp_path / "run.jsonl"
    sandbox.inject(Fault.error(500, after_create=True), Fault.error(400, "busy"))
    first = create_campaigns(
        client, drafts(6), max_workers=2, progress=False, log=ResultsLog(journal)
    )
    assert not first["ok"].all()
    again = create_campaigns(client, journal, progress=False, log=ResultsLog(journal))
    assert again["ok"].all() and len(again) == 6
    assert names_created(sandbox) == [d.name for d in drafts(6)]


def test_interrupt_keeps_finished_rows(client: AlsonaClient, sandbox: Sandbox) -> None:
    """A real SIGINT, as Jupyter's stop button sends, from the log after the third attempt."""
    sandbox.latency = 0.05

    recorded: list[str] = []

    class InterruptAfter(ResultsLog):
        def record(self, attempt: Attempt) -> dict[str, Any]:
            row = super().record(attempt)
            recorded.append(attempt.attempt_id)
            if len(recorded) == 3:
                os.kill(os.getpid(), signal.SIGINT)
            return row

    with pytest.warns(AlsonaWarning, match="interrupted"):
        result = create_campaigns(
            client, drafts(20), max_workers=2, progress=False, log=InterruptAfter()
        )
    assert len(result) == 20 and result["input_row"].tolist() == list(range(20))
    done = result[result["ok"]]
    assert 3 <= len(done) < 20
    assert set(done["campaign_id"]) == set(sandbox.campaigns)  # nothing in flight was lost
    rest = result[~result["ok"]]
    assert (rest["outcome"] == "not sent").all() and not rest["maybe_created"].any()
    finished = create_campaigns(client, result, max_workers=2, progress=False)
    assert finished["ok"].all()
    assert names_created(sandbox) == [d.name for d in drafts(20)]


def test_progress_bar_shows_the_pace(
    client: AlsonaClient, capsys: pytest.CaptureFixture[str]
) -> None:
    create_campaigns(client, drafts(3), progress=True, max_rate=1000)
    err = capsys.readouterr().err
    assert "creating: 100%" in err and "3/3" in err
    (pace,) = set(re.findall(r"pace=([0-9.]+)/s", err))
    assert 0 < float(pace) <= 1000  # never above the rate it was told


# -- pacing against a throttled sandbox ---------------------------------------------------


def test_max_rate_is_honoured_and_nothing_is_refused(fake_time: FakeTime) -> None:
    clock = fake_time
    with Sandbox(rate=5.0, burst=1, clock=clock) as sandbox:
        client = sandbox.client(timeout=5.0, clock=clock, sleep=clock.sleep)
        pacer = Pacer(1, 5.0, clock=clock, sleep=clock.sleep)
        log = ResultsLog()
        result = create_campaigns(client, drafts(40), progress=False, pacer=pacer, log=log)
        assert result["ok"].all() and (log.to_frame(details=True)["tries"] == 1).all()
        # a bucket of one token refilled 5 times a second refused nothing: never too fast
        assert sandbox.throttled == 0 and sandbox.counts["POST"] == 40
        assert len(pacer.waits) >= 39 and min(pacer.waits) >= 0.2 - 1e-9


@pytest.mark.parametrize("workers", [1, 4])
def test_unknown_limit_every_draft_once(fake_time: FakeTime, workers: int) -> None:
    clock = fake_time
    with Sandbox(rate=20.0, burst=5, clock=clock) as sandbox:
        client = sandbox.client(timeout=5.0, clock=clock, sleep=clock.sleep, max_retries=8)
        pacer = Pacer(workers, clock=clock, sleep=clock.sleep)
        result = create_campaigns(client, drafts(200), progress=False, pacer=pacer)
        assert result["ok"].all() and len(sandbox.campaigns) == 200
        assert names_created(sandbox) == [d.name for d in drafts(200)]
        assert pacer.rate is not None  # it learned a rate
        if workers == 1:
            # One worker on the fake clock is deterministic: paced, it is rarely refused.
            # (With several, the clock moves by every thread's sleep in whatever order the
            # machine runs them, so the share refused says more about the machine than the
            # pacer: tests/test_pacing.py measures that on a simulated bucket instead.)
            assert sandbox.throttled <= 0.1 * sandbox.counts["POST"]


# -- exactly once under every fault -------------------------------------------------------

LOSING = [
    Fault.drop(after_create=True),
    Fault.stall(1.5, after_create=True),
    Fault.error(500, after_create=True),
    Fault.cut(),
]
REFUSING = [
    Fault.drop(),
    Fault.error(500),
    Fault.error(503, retry_after=0),
    Fault.error(429, retry_after=0),
    Fault.html(502),
]


@pytest.mark.slow
def test_a_thousand_drafts_through_every_fault_exactly_once(fake_time: FakeTime) -> None:
    clock = fake_time  # retry and pacing waits take no real time; the stalls do
    with Sandbox() as sandbox:
        client = sandbox.client(
            timeout=1.0, max_retries=2, max_retry_wait=5.0, clock=clock, sleep=clock.sleep
        )
        sandbox.inject_random(0.10, LOSING + REFUSING, seed=9)
        batch = drafts(1000)
        pacer = Pacer(8, clock=clock, sleep=clock.sleep)
        first = create_campaigns(client, batch, progress=False, pacer=pacer)
        assert pacer.throttled > 0  # the 429s and 503s reached the pacer
        assert len(first) == 1000
        sandbox.clear_faults()
        pacer = Pacer(8, clock=clock, sleep=clock.sleep)
        second = create_campaigns(client, first, progress=False, pacer=pacer)  # one reconcile
        assert second["ok"].all() and len(second) == 1000
        assert second["campaign_id"].tolist() == first["campaign_id"].tolist()
        assert names_created(sandbox) == [d.name for d in batch]  # each exactly once
        assert set(sandbox.campaigns) == set(second["campaign_id"])
        assert sandbox.counts["GET"] > 0  # unknown outcomes were settled by asking


def test_warnings_not_prints(client: AlsonaClient, capsys: pytest.CaptureFixture[str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        create_campaigns(client, drafts(2), progress=False)
    assert capsys.readouterr() == ("", "")
