"""A sheet read as changes (for plans): only the fields a row fills, checked as for drafts."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from alsona_nb import CampaignStatus, WeeklySchedule
from alsona_nb._sheet import (
    CHANGE_FIELDS,
    ChangeBatch,
    RowChanges,
    drafts_from_frame,
    read_sheet_changes,
)

FULL: dict[str, Any] = {
    "campaign_id": "campaign_1",
    "account_id": "account_1",
    "name": "  Paris fintech ",
    "status": " run ",
    "seats": "seat_a; seat_b",
    "days": "mon-fri",
    "start_hour": "09:00",
    "end_hour": "17",
    "timezone": "120",
    "zone": "Europe/Paris",
}


def csv_text(*rows: dict[str, Any], header: list[str] | None = None) -> io.StringIO:
    frame = pd.DataFrame(list(rows), columns=header or list(FULL))
    return io.StringIO(frame.to_csv(index=False))


def test_a_row_gives_only_the_fields_it_fills() -> None:
    batch = read_sheet_changes(
        csv_text({"campaign_id": "campaign_1", "status": "pause"}, {"campaign_id": "campaign_2"})
    )
    assert isinstance(batch, ChangeBatch) and batch.ok and len(batch) == 2
    assert batch.rows == [
        RowChanges(0, 2, {"campaign_id": "campaign_1", "status": CampaignStatus.PAUSE}),
        RowChanges(1, 3, {"campaign_id": "campaign_2"}),
    ]
    assert batch.report.empty and batch.valid == batch.rows


def test_every_field_read_and_checked_as_for_a_draft() -> None:
    (row,) = read_sheet_changes(csv_text(FULL)).rows
    assert row.ok and set(row.changes) == set(CHANGE_FIELDS)
    assert row.changes == {
        "campaign_id": "campaign_1",
        "account_id": "account_1",
        "name": "Paris fintech",
        "status": CampaignStatus.RUN,
        "seats": ["seat_a", "seat_b"],
        "schedule": WeeklySchedule.weekdays(9, 17),
        "timezone": 120,
        "zone": "Europe/Paris",
    }
    (zone_only,) = read_sheet_changes(csv_text({"timezone": "New York"})).rows
    assert zone_only.changes == {"zone": "America/New_York"}  # and timezone left as it is


BAD_ROWS: list[dict[str, Any]] = [
    {"seats": "seat_a;seat_a"},
    {"days": "mon-fry", "start_hour": "18:00", "end_hour": "09:00"},
    {"end_hour": 25},
    {"timezone": "Mars/Olympus"},
    {"timezone": "Europe/Paris", "zone": "Asia/Tokyo"},
    {"status": "LAUNCH"},
    {"campaign_id": "camp 1", "account_id": "acct 2"},
    {"start_hour": "9:30"},
]


def test_the_same_cells_get_the_same_reasons_as_for_drafts() -> None:
    good = {k: v for k, v in FULL.items() if k != "campaign_id"}
    frame = pd.DataFrame([{**good, **bad} for bad in BAD_ROWS])
    drafts = drafts_from_frame(frame).report
    changes = read_sheet_changes(frame).report
    assert len(drafts) == len(BAD_ROWS) + 2  # the days and the hours; the ids
    pd.testing.assert_frame_equal(changes, drafts)


def test_an_empty_cell_is_no_change() -> None:
    frame = pd.DataFrame([{**FULL, "name": " ", "seats": float("nan"), "zone": None}])
    (row,) = read_sheet_changes(frame).rows
    assert row.ok and not {"name", "seats", "zone"} & set(row.changes)
    assert drafts_from_frame(frame).report["column"].tolist() == ["name", "seats"]


def test_days_and_hours_come_together() -> None:
    batch = read_sheet_changes(
        csv_text({"campaign_id": "c1", "days": "mon"}, {"campaign_id": "c2", "end_hour": "9"})
    )
    assert batch.report[["row", "column"]].values.tolist() == [
        [2, "start_hour"],
        [2, "end_hour"],
        [3, "days"],
        [3, "start_hour"],
    ]
    assert batch.report["reason"][0] == "Missing: give a whole hour such as 9 or 09:00"
    assert [row.changes for row in batch.rows] == [{"campaign_id": "c1"}, {"campaign_id": "c2"}]


def test_a_row_with_problems_keeps_only_what_could_be_read() -> None:
    cells = {"campaign_id": "camp 1", "name": " Kept ", "seats": "s1", "days": "fry"}
    (row,) = read_sheet_changes(csv_text({**cells, "start_hour": "9", "end_hour": "17"})).rows
    assert not row.ok and [p[0] for p in row.problems] == ["campaign_id", "days"]
    assert row.changes == {"name": "Kept", "seats": ["s1"]}


def test_one_campaign_id_on_two_rows_is_a_problem() -> None:
    batch = read_sheet_changes(
        csv_text({"campaign_id": "c1", "status": "run"}, {"campaign_id": "c1", "name": "x"})
    )
    assert batch.report[["row", "column", "value"]].values.tolist() == [[3, "campaign_id", "c1"]]
    assert "already used by row 2" in batch.report["reason"][0] and not batch.ok


def test_the_sheet_as_read_lines_up_with_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    path.write_text(
        'ID,status,notes\n\nc1,run,first\n,DRAFT,\n"c3",pause,"two\nlines"\n', encoding="utf-8"
    )
    batch = read_sheet_changes(path, columns={"ID": "campaign_id"})
    assert batch.columns == {"campaign_id": "ID", "status": "status"}
    assert [(r.row, r.line) for r in batch.rows] == [(0, 3), (1, 4), (2, 5)]
    assert batch.sheet.columns.tolist() == ["ID", "status", "notes"]
    assert batch.sheet.index.tolist() == [3, 4, 5]
    assert batch.sheet.iloc[2].tolist() == ["c3", "pause", "two\nlines"]
    assert batch.rows[1].changes == {"status": CampaignStatus.DRAFT}  # no id: a create


def test_a_frame_keeps_its_labels_and_is_copied() -> None:
    frame = pd.concat(
        [pd.DataFrame([{"campaign_id": "c1"}]), pd.DataFrame([{"campaign_id": "c2"}])]
    )  # both rows labelled 0
    batch = read_sheet_changes(frame)
    assert [(r.row, r.line) for r in batch.rows] == [(0, 0), (1, 0)]
    batch.sheet.iloc[0, 0] = "changed"
    assert frame.iloc[0, 0] == "c1"


def test_a_sheet_with_no_known_column_is_refused() -> None:
    with pytest.raises(ValueError, match="no column it can read"):
        read_sheet_changes(pd.DataFrame([{"Campagne": "x"}]))
    with pytest.raises(ValueError, match="2 columns named 'status'"):
        read_sheet_changes(io.StringIO("campaign_id,status,status\nc1,run,\n"))
