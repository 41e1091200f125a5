"""Bulk creation: sheet parsing, the validation report, sending over HTTP to the sandbox."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from alsona_nb import (
    AlsonaClient,
    Attempt,
    CampaignDraft,
    Fault,
    ResultsLog,
    Sandbox,
    WeeklySchedule,
    drafts_from_frame,
    read_campaigns_csv,
)
from alsona_nb._bulk import DraftBatch, InvalidRowsError

WINTER = date(2025, 1, 15)
SUMMER = date(2025, 7, 15)


def sheet(**columns: Any) -> pd.DataFrame:
    """A one-row sheet with good defaults, overridden by ``columns``."""
    row: dict[str, Any] = {
        "name": "Paris fintech",
        "seats": "seat_a",
        "days": "mon-fri",
        "start_hour": "09:00",
        "end_hour": "17:00",
    }
    row.update(columns)
    return pd.DataFrame([row])


def one(batch: DraftBatch) -> CampaignDraft:
    assert batch.ok, batch.report.to_string()
    (draft,) = batch.drafts
    return draft


def drafts(n: int, prefix: str = "c") -> list[CampaignDraft]:
    return [
        CampaignDraft(name=f"{prefix}{i:03d}", seats=["seat_a"], schedule=WeeklySchedule.weekdays())
        for i in range(n)
    ]


class TimedSandbox(Sandbox):
    """A sandbox that notes when each create call reached it."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.handled_at: list[float] = []

    def handle(self, account_id: str, key_ok: bool, raw: bytes) -> tuple[int, dict[str, Any]]:
        self.handled_at.append(time.monotonic())
        return super().handle(account_id, key_ok, raw)


@pytest.fixture
def sandbox() -> Iterator[TimedSandbox]:
    with TimedSandbox() as sb:
        yield sb


# -- parsing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seats", "expected"),
    [
        ("seat_a", ["seat_a"]),
        ("seat_a;seat_b", ["seat_a", "seat_b"]),
        (" seat_a , seat_b ,", ["seat_a", "seat_b"]),
        ("seat_a; seat_b; ", ["seat_a", "seat_b"]),
        (["seat_a", " seat_b "], ["seat_a", "seat_b"]),
        (("seat_a",), ["seat_a"]),
    ],
)
def test_seats_forms(seats: Any, expected: list[str]) -> None:
    assert one(drafts_from_frame(sheet(seats=seats))).seats == expected


@pytest.mark.parametrize(
    ("days", "enabled"),
    [
        ("mon-fri", ["monday", "tuesday", "wednesday", "thursday", "friday"]),
        ("mon,wed,fri", ["monday", "wednesday", "friday"]),
        ("Mon, Wed; Fri", ["monday", "wednesday", "friday"]),
        ("every day", list(WeeklySchedule.every_day().days())),
        ("Every  Day", list(WeeklySchedule.every_day().days())),
        ("daily", list(WeeklySchedule.every_day().days())),
        ("weekends", ["saturday", "sunday"]),
        ("fri-mon", ["monday", "friday", "saturday", "sunday"]),
        ("mon - wed, sat", ["monday", "tuesday", "wednesday", "saturday"]),
        ("tuesday,thursday", ["tuesday", "thursday"]),
        (["mon", "thu"], ["monday", "thursday"]),
    ],
)
def test_days_forms(days: Any, enabled: list[str]) -> None:
    draft = one(drafts_from_frame(sheet(days=days, start_hour=8, end_hour=12)))
    assert draft.schedule.enabled_days == enabled
    # disabled days keep the hours too (NOTES 1)
    assert all((w.start_hour, w.end_hour) == (8, 12) for w in draft.schedule.days().values())


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [(9, 17, (9, 17)), ("09:00", "17:00", (9, 17)), ("9", "24:00", (9, 24)), (8.0, 12.0, (8, 12))],
)
def test_hour_forms(start: Any, end: Any, expected: tuple[int, int]) -> None:
    window = one(drafts_from_frame(sheet(start_hour=start, end_hour=end))).schedule.monday
    assert (window.start_hour, window.end_hour) == expected


def test_hours_from_a_numeric_column_with_gaps() -> None:
    frame = pd.concat([sheet(), sheet()], ignore_index=True)
    frame["start_hour"] = [9, float("nan")]
    assert frame["start_hour"].dtype == float  # pandas turned 9 into 9.0 because of the gap
    batch = drafts_from_frame(frame)
    assert batch.drafts[0].schedule.monday.start_hour == 9
    assert batch.report[["row", "column"]].values.tolist() == [[1, "start_hour"]]


def test_timezone_forms() -> None:
    frame = pd.concat(
        [
            sheet(timezone="Europe/Paris"),
            sheet(timezone="Asia/Singapore"),
            sheet(timezone=600),
            sheet(timezone="-300"),
            sheet(timezone=""),
        ],
        ignore_index=True,
    )
    summer = drafts_from_frame(frame, zone_date=SUMMER)
    assert [d.timezone for d in summer.drafts] == [120, 480, 600, -300, None]
    winter = drafts_from_frame(frame, zone_date=WINTER)
    assert winter.drafts[0].timezone == 60
    # the DST warning is there for Paris, not for Singapore (no DST)
    assert len(winter.notes) == 1 and "Europe/Paris" in winter.notes[0]


def test_status_ids_and_optional_columns() -> None:
    draft = one(
        drafts_from_frame(
            sheet(status=" run ", campaign_id="campaign_x1", account_id="acct_1", notes="ignored")
        )
    )
    assert (str(draft.status), draft.campaign_id, draft.account_id) == (
        "RUN",
        "campaign_x1",
        "acct_1",
    )
    plain = one(drafts_from_frame(sheet(status="", campaign_id="")))
    assert (str(plain.status), plain.campaign_id, plain.account_id) == ("DRAFT", None, None)


def test_column_mapping_and_missing_columns() -> None:
    frame = pd.DataFrame(
        [{"Campaign": "Berlin", "Seat IDs": "s1;s2", "Days": "mon-thu", "From": 8, "To": 16}]
    )
    mapping = {
        "Campaign": "name",
        "Seat IDs": "seats",
        "Days": "days",
        "From": "start_hour",
        "To": "end_hour",
    }
    draft = one(drafts_from_frame(frame, columns=mapping))
    assert (draft.name, draft.seats, draft.schedule.hours_per_week) == ("Berlin", ["s1", "s2"], 32)
    with pytest.raises(ValueError, match="no column for name, seats"):
        drafts_from_frame(frame)
    with pytest.raises(ValueError, match="not a column"):
        drafts_from_frame(frame, columns={"Nom": "name"})
    with pytest.raises(ValueError, match="not one of"):
        drafts_from_frame(frame, columns={"Campaign": "title"})


def test_schedule_column_replaces_days_and_hours() -> None:
    schedule = WeeklySchedule.every_day(10, 14).model_dump(mode="json")
    frame = pd.DataFrame([{"name": "x", "seats": ["s"], "schedule": schedule}])
    assert one(drafts_from_frame(frame)).schedule == WeeklySchedule.every_day(10, 14)


def test_read_csv_numbers_rows_by_file_line(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "name,seats,days,start_hour,end_hour,timezone\n"
        "Good,seat_1,mon-fri,09:00,17:00,UTC\n"
        "Bad,seat_1,mon-fri,9:30,17:00,0\n"
        "Also good,007,every day,8,12,0\n",
        encoding="utf-8",
    )
    batch = read_campaigns_csv(path)
    assert batch.rows == [2, 4]
    assert batch.drafts[1].seats == ["007"]  # read as text: the leading zero is kept
    report = batch.report
    assert report[["row", "column", "value"]].values.tolist() == [[3, "start_hour", "9:30"]]
    assert "whole hours" in report["reason"][0]


# -- the validation report ----------------------------------------------------------------


def test_report_lists_every_bad_row_with_column_and_reason() -> None:
    frame = pd.concat(
        [
            sheet(),  # 0: fine
            sheet(name="  "),  # 1
            sheet(seats=""),  # 2
            sheet(seats="seat_a;seat_a"),  # 3
            sheet(days="mon-fry"),  # 4
            sheet(start_hour="18:00", end_hour="09:00"),  # 5
            sheet(end_hour=25),  # 6
            sheet(timezone="Mars/Olympus"),  # 7
            sheet(status="LAUNCH"),  # 8
            sheet(campaign_id="camp 1"),  # 9
            sheet(campaign_id="c1"),  # 10: fine
            sheet(campaign_id="c1"),  # 11: same id again
            sheet(seats="ok", start_hour="noon", timezone=9999),  # 12: two problems
        ],
        ignore_index=True,
    )
    batch = drafts_from_frame(frame)
    report = batch.report
    assert list(report.columns) == ["row", "column", "value", "reason"]
    found = {(r.row, r.column) for r in report.itertuples()}
    assert found == {
        (1, "name"),
        (2, "seats"),
        (3, "seats"),
        (4, "days"),
        (5, "start_hour/end_hour"),
        (6, "end_hour"),
        (7, "timezone"),
        (8, "status"),
        (9, "campaign_id"),
        (11, "campaign_id"),
        (12, "start_hour"),
        (12, "timezone"),
    }
    assert len(report) == len(found)  # one line per problem: the seven days are not repeated
    reasons = {(r.row, r.column): r.reason for r in report.itertuples()}
    assert "must be before end hour" in reasons[(5, "start_hour/end_hour")]
    assert "seat listed more than once" in reasons[(3, "seats")]
    assert "already used by row 10" in reasons[(11, "campaign_id")]
    assert "'fry' is not a day" in reasons[(4, "days")]
    assert batch.rows == [0, 10] and not batch.ok


def test_invalid_rows_stop_the_whole_batch(client: AlsonaClient, sandbox: Sandbox) -> None:
    frame = pd.concat([sheet(), sheet(end_hour=25), sheet()], ignore_index=True)
    with pytest.raises(InvalidRowsError) as caught:
        client.create_campaigns(frame, progress=False)
    assert caught.value.report[["row", "column"]].values.tolist() == [[1, "end_hour"]]
    assert "row 1, end_hour" in str(caught.value)
    assert sandbox.requests == [] and sandbox.campaigns == {}
    # plain dicts are validated (and given the client's account) the same way, before sending
    good = drafts(1)[0].model_dump(mode="json", exclude_none=True)
    with pytest.raises(InvalidRowsError) as caught:
        client.create_campaigns([good, {**good, "seats": []}], progress=False)
    assert caught.value.report[["row", "column"]].values.tolist() == [[1, "seats"]]
    assert sandbox.requests == []


def test_no_account_anywhere_is_reported(sandbox: Sandbox) -> None:
    client = AlsonaClient(api_key=sandbox.api_key, base_url=sandbox.url)
    with pytest.raises(InvalidRowsError, match="no account id"):
        client.create_campaigns(drafts(2), progress=False)
    assert sandbox.requests == []


def test_skip_invalid_sends_the_rest(client: AlsonaClient, sandbox: Sandbox) -> None:
    frame = pd.concat(
        [sheet(name="a"), sheet(name="b", days="someday"), sheet(name="c")], ignore_index=True
    )
    result = client.create_campaigns(frame, skip_invalid=True, progress=False)
    assert result["ok"].tolist() == [True, False, True]
    assert result.loc[1, "error_type"] == "NotSentError"
    assert "days: 'someday' is not a day" in result.loc[1, "error_message"]
    assert result.loc[1, "tries"] == 0 and result.loc[1, "name"] == "b"
    assert sorted(c["name"] for c in sandbox.campaigns.values()) == ["a", "c"]
    assert len(sandbox.requests) == 2


# -- sending ------------------------------------------------------------------------------


def test_order_is_kept_with_concurrency(client: AlsonaClient, sandbox: Sandbox) -> None:
    log = ResultsLog()
    sandbox.inject(Fault.stall(0.4, after_create=True))  # an early request answers last
    batch = drafts(16)
    result = client.create_campaigns(batch, max_workers=4, progress=False, log=log)
    names = [d.name for d in batch]
    assert result["name"].tolist() == names
    assert result["input_row"].tolist() == list(range(16))
    assert result["ok"].all() and (result["tries"] == 1).all()
    created = {cid: c["name"] for cid, c in sandbox.campaigns.items()}
    assert dict(zip(result["campaign_id"], result["name"], strict=True)) == created
    # the log got every attempt as it finished: not in input order, so it ran concurrently
    assert sorted(r["name"] for r in log) == names
    # (the stall went to one of the first four requests, whichever reached the server first)
    assert [r["name"] for r in log][-1] in names[:4]
    # same row format as the ResultsLog, plus input_row and schedule
    assert list(result.columns) == [
        "input_row",
        *log.to_frame().columns,
        "maybe_created",
        "schedule",
    ]
    assert result.loc[0, "schedule"] == WeeklySchedule.weekdays().model_dump(mode="json")


def test_retry_after_slows_the_whole_batch(client: AlsonaClient, sandbox: TimedSandbox) -> None:
    wait = 0.6
    sandbox.inject(Fault.error(429, retry_after=wait))
    start = time.monotonic()
    result = client.create_campaigns(drafts(20), max_workers=4, progress=False)
    elapsed = time.monotonic() - start
    assert result["ok"].all()
    assert len(sandbox.requests) == 21 and len(sandbox.campaigns) == 20
    assert sorted(result["tries"].tolist()) == [1] * 19 + [2]
    assert elapsed >= wait
    # Without the shared pause the other 3 workers would create all 19 others at once.
    # Only requests already in flight when the 429 came back may pass.
    early = sum(1 for t in sandbox.handled_at if t < start + wait * 0.9)
    assert early <= 4 * 2, f"{early} campaigns created during the pause"


def test_refeeding_results_retries_only_failures(client: AlsonaClient, sandbox: Sandbox) -> None:
    refused = Fault.error(400, "try again later")
    sandbox.inject(refused, refused, refused)
    first = client.create_campaigns(drafts(10), max_workers=1, progress=False)
    assert first["ok"].tolist() == [False] * 3 + [True] * 7
    assert first.loc[0, "error_type"] == "BadRequestError"
    assert len(sandbox.campaigns) == 7
    requests_before = len(sandbox.requests)

    second = client.create_campaigns(first, max_workers=3, progress=False)
    assert second["ok"].all() and len(second) == 10
    assert len(sandbox.requests) == requests_before + 3  # only the three failures
    assert len(sandbox.campaigns) == 10
    assert second["campaign_id"][3:].tolist() == first["campaign_id"][3:].tolist()
    assert second["name"].tolist() == first["name"].tolist()
    assert set(second["campaign_id"]) == set(sandbox.campaigns)

    third = client.create_campaigns(second, progress=False)  # all done: nothing to send
    assert len(sandbox.requests) == requests_before + 3
    assert third["campaign_id"].tolist() == second["campaign_id"].tolist()


def test_lost_answers_are_not_sent_again_unless_asked(
    client: AlsonaClient, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.inject(Fault.cut(after_create=True))  # created, but the answer is lost
    first = client.create_campaigns(drafts(3), max_workers=1, progress=False)
    assert first["ok"].tolist() == [False, True, True]
    assert first.loc[0, "error_type"] == "TransportError"
    assert first["maybe_created"].tolist() == [True, False, False]
    assert len(sandbox.campaigns) == 3

    again = client.create_campaigns(first, progress=False)
    assert "may have created their campaign anyway" in capsys.readouterr().err
    assert len(sandbox.campaigns) == 3 and not again.loc[0, "ok"]
    forced = client.create_campaigns(again, retry_unknown=True, progress=False)
    assert forced["ok"].all() and len(sandbox.campaigns) == 4  # the duplicate we warned about


def test_client_chosen_ids_are_always_safe_to_retry(
    client: AlsonaClient, sandbox: Sandbox
) -> None:
    sandbox.inject(Fault.cut(after_create=True), times=4)  # beyond the client's own retries
    batch = [d.model_copy(update={"campaign_id": f"camp_{i}"}) for i, d in enumerate(drafts(2))]
    first = client.create_campaigns(batch, max_workers=1, progress=False)
    assert first["ok"].tolist() == [False, True]
    assert first.loc[0, "maybe_created"] and not first.loc[1, "maybe_created"]
    second = client.create_campaigns(first, progress=False)
    # the id already exists from the lost answer: the client counts it as created, and
    # nothing is duplicated
    assert second["ok"].all() and second.loc[0, "http_status"] == 400
    assert sorted(sandbox.campaigns) == ["camp_0", "camp_1"]


def test_dry_run_sends_nothing(client: AlsonaClient, sandbox: Sandbox) -> None:
    log = ResultsLog()
    preview = client.create_campaigns(drafts(3), dry_run=True, progress=False, log=log)
    assert sandbox.requests == [] and len(log) == 0
    assert preview["mode"].tolist() == ["dry-run"] * 3
    assert (preview["account_id"] == sandbox.account_id).all()
    assert not preview["ok"].any() and (preview["tries"] == 0).all()
    sent = client.create_campaigns(preview, progress=False)  # the preview, sent for real
    assert sent["ok"].all() and len(sandbox.campaigns) == 3


def test_interrupt_keeps_finished_rows(client: AlsonaClient, sandbox: Sandbox) -> None:
    """A real SIGINT, as Jupyter's interrupt sends, raised from the log sink of a worker
    after the third attempt: the main thread gets KeyboardInterrupt mid-batch."""
    sandbox.latency = 0.05

    class InterruptAfter(ResultsLog):
        def record(self, attempt: Attempt) -> dict[str, Any]:
            row = super().record(attempt)
            if len(self) == 3:
                os.kill(os.getpid(), signal.SIGINT)
            return row

    log = InterruptAfter()
    result = client.create_campaigns(drafts(20), max_workers=2, progress=False, log=log)
    assert len(result) == 20 and result["input_row"].tolist() == list(range(20))
    done = result[result["ok"]]
    assert 3 <= len(done) < 20
    # every campaign the server created is in the result: nothing in flight was lost
    assert set(done["campaign_id"]) == set(sandbox.campaigns)
    rest = result[~result["ok"]]
    assert (rest["error_type"] == "NotSentError").all() and (rest["tries"] == 0).all()
    assert len(log) == len(done)

    log.record = ResultsLog.record.__get__(log)  # type: ignore[method-assign]
    finished = client.create_campaigns(result, max_workers=2, progress=False, log=log)
    assert finished["ok"].all()
    assert sorted(c["name"] for c in sandbox.campaigns.values()) == [d.name for d in drafts(20)]


def test_pool_is_big_enough_for_the_workers(
    client: AlsonaClient, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.latency = 0.02
    with caplog.at_level(logging.WARNING, logger="urllib3"):
        result = client.create_campaigns(drafts(24), max_workers=12, progress=False)
    assert result["ok"].all()
    assert not [r for r in caplog.records if "pool is full" in r.getMessage()]
    adapter = client._session.get_adapter(client.base_url + "/rest/accounts")
    assert adapter._pool_maxsize >= 12  # type: ignore[attr-defined]


def test_progress_bar_and_bad_options(
    client: AlsonaClient, capsys: pytest.CaptureFixture[str]
) -> None:
    client.create_campaigns(drafts(2), progress=True)
    assert "creating: 100%" in capsys.readouterr().err
    with pytest.raises(ValueError, match="max_workers"):
        client.create_campaigns(drafts(1), max_workers=0)
    with pytest.raises(TypeError, match="give CampaignDrafts"):
        client.create_campaigns([42], progress=False)


def test_a_crashing_log_does_not_stop_the_batch(client: AlsonaClient, sandbox: Sandbox) -> None:
    lock = threading.Lock()

    class Flaky(ResultsLog):
        def record(self, attempt: Attempt) -> dict[str, Any]:
            with lock:
                if len(self) == 1:
                    self._rows.append({"ok": False})  # only fail once
                    raise OSError("disk full")
            return super().record(attempt)

    result = client.create_campaigns(drafts(4), max_workers=1, progress=False, log=Flaky())
    assert len(result) == 4 and result.loc[1, "error_type"] == "OSError"
    assert len(sandbox.campaigns) == 4  # it was created: the row must not be retried blindly
    again = client.create_campaigns(result, progress=False)
    assert len(sandbox.campaigns) == 4 and not again.loc[1, "ok"]
