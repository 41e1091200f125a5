"""The sheet reader: CSV or DataFrame rows to drafts and a plain-words validation report."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from alsona_nb import AlsonaError, CampaignDraft, InvalidDraftError, WeeklySchedule
from alsona_nb._cells import DAY_NAMES
from alsona_nb._models import DAYS
from alsona_nb._sheet import (
    DraftBatch,
    InvalidRowsError,
    drafts_from_frame,
    read_campaigns_csv,
)

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
    frame: pd.DataFrame = pd.DataFrame([row])
    return frame


def one(batch: DraftBatch) -> CampaignDraft:
    assert batch.ok, batch.report.to_string()
    (draft,) = batch.drafts
    return draft


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
            sheet(timezone=" america/new_york "),
            sheet(timezone="Pacific Time"),
            sheet(timezone="UTC+5:30"),
        ],
        ignore_index=True,
    )
    batch = drafts_from_frame(frame, zone_date=WINTER)
    # a zone fills ``zone`` and leaves ``timezone`` to the day of sending; numbers and
    # fixed offsets are minutes
    assert [(d.timezone, d.zone) for d in batch.drafts] == [
        (None, "Europe/Paris"),
        (None, "Asia/Singapore"),
        (600, None),
        (-300, None),
        (None, None),
        (None, "America/New_York"),
        (None, "America/Los_Angeles"),
        (330, None),
    ]
    assert "zone" not in batch.drafts[0].to_payload()["campaign"]  # never sent
    # a note for each zone that observes daylight saving (not for Singapore)
    assert [note.split()[0] for note in batch.notes] == [
        "Europe/Paris",
        "America/New_York",
        "America/Los_Angeles",
    ]
    assert "keeps that offset when the clocks change" in batch.notes[0]


def test_zone_column_and_its_agreement_with_timezone() -> None:
    frame = pd.concat(
        [
            sheet(zone="Asia/Tokyo"),  # 0
            sheet(timezone=540, zone="Asia/Tokyo"),  # 1: both kept
            sheet(timezone="Asia/Tokyo", zone="Tokyo"),  # 2: the same zone twice
            sheet(timezone="Europe/Paris", zone="Asia/Tokyo"),  # 3
            sheet(timezone=60, zone="UTC+2"),  # 4: two offsets
            sheet(zone="540"),  # 5: minutes in the zone column
            sheet(zone="Atlantis"),  # 6
        ],
        ignore_index=True,
    ).rename(columns={"zone": "Time zone"})
    batch = drafts_from_frame(frame, columns={"Time zone": "zone"})
    assert [(d.timezone, d.zone) for d in batch.drafts] == [
        (None, "Asia/Tokyo"),
        (540, "Asia/Tokyo"),
        (None, "Asia/Tokyo"),
    ]
    report = batch.report
    assert report[["row", "column"]].values.tolist() == [[n, "Time zone"] for n in (3, 4, 5, 6)]
    assert report["reason"][0] == (
        "'Asia/Tokyo' does not agree with 'Europe/Paris' in timezone: give the zone once"
    )
    assert "minutes go in timezone" in report["reason"][2]
    assert report["reason"][3].startswith("Unknown time zone 'Atlantis'")


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
    as_dicts = {day: {"enabled": True, "start_hour": 10, "end_hour": 14} for day in DAYS}
    frame = pd.DataFrame([{"name": "x", "seats": ["s"], "schedule": s} for s in [as_dicts] * 2])
    first, second = drafts_from_frame(frame).drafts
    assert first.schedule == second.schedule == WeeklySchedule.every_day(10, 14)


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
    assert reasons[(5, "start_hour/end_hour")] == "The end hour must be after the start hour"
    assert "more than once" in reasons[(3, "seats")]
    assert "already used by row 10" in reasons[(11, "campaign_id")]
    assert "'fry' is not a day" in reasons[(4, "days")]
    assert batch.rows == [0, 10] and not batch.ok


SPELLINGS = {
    "monday": ["mo", "mon", "Mon.", "MONDAY", "mondays"],
    "tuesday": ["tu", "tue", "tues", "Tues.", "tuesday"],
    "wednesday": ["we", "wed", "weds", "Wed.", "wednesday"],
    "thursday": ["th", "thu", "thur", "thurs", "Thurs.", "thursday"],
    "friday": ["fr", "fri", "Fri.", "friday"],
    "saturday": ["sa", "sat", "saturday"],
    "sunday": ["su", "sun", "Sunday"],
}


@pytest.mark.parametrize(("day", "word"), [(d, w) for d, ws in SPELLINGS.items() for w in ws])
def test_every_common_spelling_of_a_day(day: str, word: str) -> None:
    assert one(drafts_from_frame(sheet(days=word))).schedule.enabled_days == [day]


@pytest.mark.parametrize(
    ("days", "enabled"),
    [
        ("mo-fr", DAYS[:5]),
        ("tues-thurs", DAYS[1:4]),
        ("fri-mon", ("monday", "friday", "saturday", "sunday")),
        ("sa-tu", ("monday", "tuesday", "saturday", "sunday")),
        ("mo we fr", ("monday", "wednesday", "friday")),
        ("tue & thu", ("tuesday", "thursday")),
        ("mon to wed", DAYS[:3]),
        ("Mon\u2013Fri", DAYS[:5]),
        ("weds, sat/sun", ("wednesday", "saturday", "sunday")),
        ("weekdays", DAYS[:5]),
        ("mon and thu", ("monday", "thursday")),
    ],
)
def test_ranges_wrap_and_lists(days: str, enabled: tuple[str, ...]) -> None:
    assert one(drafts_from_frame(sheet(days=days))).schedule.enabled_days == list(enabled)


def test_every_known_spelling_is_a_day() -> None:
    assert set(DAY_NAMES.values()) == set(range(7))
    assert {"mo", "tu", "we", "th", "fr", "sa", "su", "thur", "thurs", "weds"} <= set(DAY_NAMES)


@pytest.mark.parametrize("bad", ["t", "s", "thx", "mon-", "frid-sat", "someday"])
def test_not_a_day(bad: str) -> None:
    report = drafts_from_frame(sheet(days=bad)).report
    assert report["column"].tolist() == ["days"]
    assert "is not a day" in report["reason"][0] or "No days" in report["reason"][0]


def test_csv_rows_are_file_lines_with_blank_lines_and_multiline_cells(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "name,seats,days,start_hour,end_hour\n"  # line 1
        "\n"  # 2: blank
        "Good,seat_1,mon-fri,9,17\n"  # 3
        '"Two\nline name",seat_1,mon-fri,9,17\n'  # 4-5: a quoted cell over two lines
        ",,,,\n"  # 6: an empty row from a spreadsheet
        "Bad,seat_1,mon-fry,9,17\n"  # 7
        '"Also\n\nbad",seat_1,mon-fri,9:30,17\n'  # 8-10
        "Last bad,,mon-fri,9,17\n",  # 11
        encoding="utf-8",
    )
    batch = read_campaigns_csv(path)
    assert batch.rows == [3, 4]
    assert batch.drafts[1].name == "Two\nline name"
    assert batch.report[["row", "column"]].values.tolist() == [
        [7, "days"],
        [8, "start_hour"],
        [11, "seats"],
    ]


def test_csv_reads_a_text_stream_with_another_delimiter() -> None:
    import io

    text = io.StringIO("name;seats;days;start_hour;end_hour\nA;007;th;9;12\n")
    batch = read_campaigns_csv(text, delimiter=";")
    assert batch.rows == [2] and batch.drafts[0].seats == ["007"]
    with pytest.raises(ValueError, match="empty"):
        read_campaigns_csv(io.StringIO("\n\n"))


def test_reasons_are_whole_and_left_aligned_in_the_html_report() -> None:
    batch = drafts_from_frame(sheet(timezone="Asia/Tokio"))
    reason = batch.report["reason"][0]
    assert len(reason) > 100 and reason.endswith("minutes such as -300")
    html = batch.report._repr_html_()
    assert html is not None and reason in html
    assert "class='alsona-report'" in html and "text-align: left !important" in html
    assert "..." not in repr(batch.report)


def test_every_problem_of_a_row_at_once() -> None:
    row = sheet(
        name=" ",
        seats="",
        days="mon-fry",
        start_hour="18:00",
        end_hour="09:00",
        status="LAUNCH",
        timezone="Mars/Olympus",
        campaign_id="camp 1",
    )
    report = drafts_from_frame(row).report
    # in the sheet's order, left to right
    assert report["column"].tolist() == [
        "name",
        "seats",
        "days",
        "start_hour/end_hour",
        "status",
        "timezone",
        "campaign_id",
    ]
    assert report["reason"][3] == "The end hour must be after the start hour"
    assert report["value"][3] == "18-9"


@pytest.mark.parametrize(
    ("start", "end", "column", "reasons"),
    [
        (25, 30, "start_hour/end_hour", ["start hour must be between", "end hour must be between"]),
        ("noon", 30, "start_hour", ["'noon' is not an hour"]),
        (9, 25, "end_hour", ["The end hour must be between 0 and 24"]),
    ],
)
def test_bad_hours_are_said_once_for_the_week(
    start: Any, end: Any, column: str, reasons: list[str]
) -> None:
    report = drafts_from_frame(sheet(days="bogus", start_hour=start, end_hour=end)).report
    said = report[report["column"] != "days"]
    assert said["column"].tolist() == [column] * len(reasons)
    assert all(part in reason for part, reason in zip(reasons, said["reason"], strict=True))
    assert report["column"].tolist()[0] == "days"  # the days are reported as well


def test_a_running_campaign_needs_hours() -> None:
    off = {day: [False, 9, 17] for day in DAYS}
    frame = pd.DataFrame(
        [
            {"name": "a", "seats": "s", "schedule": off, "status": "RUN"},
            {"name": "b", "seats": "s", "schedule": off, "status": "DRAFT"},
        ]
    )
    batch = drafts_from_frame(frame)
    assert batch.rows == [1]
    assert batch.report[["row", "column", "value"]].values.tolist() == [[0, "status", "RUN"]]
    assert "needs at least one day with hours" in batch.report["reason"][0]


def test_missing_values_of_every_kind_are_blank() -> None:
    frame = pd.concat([sheet(), sheet(), sheet(), sheet()], ignore_index=True)
    frame["timezone"] = pd.array([None, pd.NA, float("nan"), "600"], dtype=object)
    frame["status"] = pd.array([pd.NA, "run", None, pd.NA], dtype="string")
    batch = drafts_from_frame(frame)
    assert [(d.timezone, str(d.status)) for d in batch.drafts] == [
        (None, "DRAFT"),
        (None, "RUN"),
        (None, "DRAFT"),
        (600, "DRAFT"),
    ]


def test_rows_that_read_alike_share_their_schedule_and_report_it_once() -> None:
    frame = pd.concat(
        [sheet(name=str(n), days=days) for n, days in enumerate(["mon-fri", "weekdays", "tue"])],
        ignore_index=True,
    )
    first, second, third = drafts_from_frame(frame).drafts
    assert first.schedule is second.schedule  # one object for the same days and hours
    assert third.schedule is not first.schedule and third.schedule.enabled_days == ["tuesday"]


def test_invalid_rows_error_is_an_alsona_error() -> None:
    batch = drafts_from_frame(pd.concat([sheet(), sheet(end_hour=25)], ignore_index=True))
    error = InvalidRowsError(batch.report)
    assert isinstance(error, InvalidDraftError) and isinstance(error, AlsonaError)
    assert isinstance(error, ValueError)
    assert error.problems == [("end_hour", "row 1: The end hour must be between 0 and 24")]
    assert "row 1, end_hour" in str(error)
