"""The pandas side: result rows and campaign lists as typed frames, the ``frame.alsona``
exports that are safe to open in a spreadsheet, and a compact HTML table."""

from __future__ import annotations

import json
import sys
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

import openpyxl  # type: ignore[import-untyped]
import pandas as pd
import pytest

from alsona_nb import AlsonaError
from alsona_nb._frames import (
    CAMPAIGN_COLUMNS,
    COLUMNS,
    DEFAULT_COLUMNS,
    AlsonaFrameAccessor,
    campaigns_to_frame,
    frame_html,
    neutralise_cell,
    rows_to_frame,
)
from alsona_nb._models import Campaign

WHEN = datetime(2025, 3, 3, 9, 30, tzinfo=timezone.utc)
SCHEDULE = {day: [True, 9, 17] for day in ("monday", "tuesday", "wednesday", "thursday")}


def result_row(n: int = 1, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "when": WHEN.isoformat(),
        "action": "create",
        "mode": "sandbox",
        "account_id": "acc_1",
        "name": f"Q3 outreach {n}",
        "status": "RUN",
        "seats": ["seat_a", "seat_b"],
        "timezone": -300,
        "zone": "America/New_York",
        "campaign_id": f"campaign_{n:020x}",
        "outcome": "created",
        "ok": True,
        "maybe_created": False,
        "http_status": 200,
        "error_type": None,
        "error_message": None,
        "settled": None,
        "elapsed_ms": 12.5,
        "tries": 1,
        "priority": 1_740_000_000_000,
        "wait_until": 2**63 - 1,
        "schedule": SCHEDULE,
        "diff": None,
        "attempt_id": f"a{n}",
        "body": '{"campaign": {}}',
    }
    return row | changes


def campaign(n: int = 1, **changes: Any) -> Campaign:
    fields: dict[str, Any] = {
        "campaign_id": f"campaign_{n:020x}",
        "name": f"Campaign {n}",
        "account_id": "acc_1",
        "status": "PAUSE",
        "seats": ["seat_a"],
        "schedule": SCHEDULE,
        "timezone": 60,
        "priority": 1_740_000_000_000,
        "wait_until": 2**63 - 1,
        "created_at": 1_730_000_000_000,
        "vendor_extra": "kept",
    }
    return Campaign.model_validate(fields | changes)


# -- result frames ----------------------------------------------------------------------------


def test_the_default_frame_is_the_readable_columns_typed() -> None:
    frame = rows_to_frame([result_row(1), result_row(2, outcome="updated", action="update")])
    assert list(frame.columns) == list(DEFAULT_COLUMNS) and len(DEFAULT_COLUMNS) == 17
    assert "diff" in frame.columns and "tries" not in frame.columns  # readable, with what changed
    assert str(frame["when"].dt.tz) == "UTC" and frame["when"][0] == pd.Timestamp(WHEN)
    assert str(frame["timezone"].dtype) == "Int64" and str(frame["http_status"].dtype) == "Int64"
    assert frame["ok"].dtype == bool and frame["maybe_created"].dtype == bool
    for col in ("action", "outcome", "name", "campaign_id", "account_id", "status", "zone"):
        assert isinstance(frame[col].dtype, pd.StringDtype), col
    assert frame["action"].tolist() == ["create", "update"]
    assert frame["seats"][0] == ["seat_a", "seat_b"] and frame["schedule"][0] == SCHEDULE


def test_details_give_every_column_and_never_the_body() -> None:
    diff = {"status": ["DRAFT", "RUN"]}
    frame = rows_to_frame([result_row(diff=diff)], details=True)
    assert list(frame.columns) == list(COLUMNS) and "body" not in frame.columns
    assert frame["priority"][0] == pd.Timestamp(1_740_000_000_000, unit="ms", tz="UTC")
    assert frame["wait_until"].isna().all()  # a "for ever" sentinel is not a date
    assert frame["diff"][0] == diff and frame["elapsed_ms"].dtype == float
    assert str(frame["tries"].dtype) == "Int64"


def test_rows_that_do_not_fit_become_missing_values() -> None:
    odd = {"attempt_id": "x", "when": "yesterday", "timezone": "UTC+1", "ok": "yes", "name": 7}
    frame = rows_to_frame([odd, {}], details=True)
    assert frame["when"].isna().all() and frame["timezone"].isna().all()
    assert frame["ok"].tolist() == [False, False] and frame["name"].isna().all()
    assert frame["action"].tolist() == ["create", "create"]  # journals from before updates


def test_an_empty_frame_is_typed() -> None:
    frame = rows_to_frame([])
    assert len(frame) == 0 and list(frame.columns) == list(DEFAULT_COLUMNS)
    assert str(frame["when"].dt.tz) == "UTC" and frame["ok"].dtype == bool


# -- campaign frames --------------------------------------------------------------------------


def test_campaigns_as_a_frame() -> None:
    frame = campaigns_to_frame(iter([campaign(1), campaign(2, timezone=None, priority=None)]))
    assert list(frame.columns) == list(CAMPAIGN_COLUMNS)
    for col in ("campaign_id", "name", "status"):
        assert isinstance(frame[col].dtype, pd.StringDtype), col
    assert str(frame["timezone"].dtype) == "Int64" and frame["timezone"].tolist()[0] == 60
    assert pd.isna(frame["timezone"][1]) and pd.isna(frame["priority"][1])
    for col in ("created_at", "priority", "wait_until"):
        assert str(frame[col].dt.tz) == "UTC", col
    assert frame["created_at"][0] == pd.Timestamp(1_730_000_000_000, unit="ms", tz="UTC")
    assert frame["wait_until"].isna().all()
    assert frame["seats"][0] == ["seat_a"] and frame["schedule"][0] == SCHEDULE
    empty = campaigns_to_frame([])
    assert len(empty) == 0 and list(empty.columns) == list(CAMPAIGN_COLUMNS)


# -- safe exports -----------------------------------------------------------------------------

HOSTILE = '=HYPERLINK("http://evil.example","click")'


def alsona(frame: pd.DataFrame) -> AlsonaFrameAccessor:
    """``frame.alsona``, typed (pandas-stubs reads an unknown attribute as a column)."""
    return cast(AlsonaFrameAccessor, frame.alsona)


@pytest.mark.parametrize("cell", ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_cells_that_look_like_formulas_are_neutralised(cell: str) -> None:
    assert neutralise_cell(cell) == "'" + cell
    assert neutralise_cell("Q3 outreach") == "Q3 outreach" and neutralise_cell(-5) == -5


def test_every_results_frame_exports_safe_csv(tmp_path: Path) -> None:
    frame = rows_to_frame([result_row(name=HOSTILE, error_message="-1 seats")], details=True)
    joined = pd.concat([frame, frame])  # still a results frame, still the accessor
    out = alsona(joined).to_csv(tmp_path / "r.csv")
    written = pd.read_csv(out, dtype=str)
    assert written["name"].tolist() == ["'" + HOSTILE] * 2
    assert written["error_message"].tolist() == ["'-1 seats"] * 2
    assert written["seats"].tolist() == ["seat_a;seat_b"] * 2
    assert json.loads(written["schedule"][0]) == SCHEDULE
    assert written["timezone"].tolist() == ["-300"] * 2  # numbers stay numbers
    raw = pd.read_csv(alsona(frame).to_csv(tmp_path / "raw.csv", safe=False), dtype=str)
    assert raw["name"].tolist() == [HOSTILE]


def test_every_results_frame_exports_safe_excel(tmp_path: Path) -> None:
    frame = rows_to_frame([result_row(name=HOSTILE + "\x00\ud800")], details=True)
    out = alsona(frame).to_excel(tmp_path / "r.xlsx")
    sheet = openpyxl.load_workbook(out).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    values = dict(zip(header, [c for c in sheet[2]], strict=True))
    assert values["name"].value == "'" + HOSTILE + "\ufffd\ufffd"
    assert values["name"].data_type == "s"  # text, never a formula
    assert values["when"].value == datetime(2025, 3, 3, 9, 30)  # UTC, as Excel has no zones
    assert values["seats"].value == "seat_a;seat_b" and values["timezone"].value == -300
    assert values["wait_until"].value is None


def test_campaign_frames_export_too(tmp_path: Path) -> None:
    frame = campaigns_to_frame([campaign(name=HOSTILE)])
    written = pd.read_csv(alsona(frame).to_csv(tmp_path / "c.csv"), dtype=str)
    assert written["name"].tolist() == ["'" + HOSTILE]
    assert pd.read_excel(alsona(frame).to_excel(tmp_path / "c.xlsx"))["name"][0] == "'" + HOSTILE


def test_excel_without_openpyxl_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = rows_to_frame([result_row()])
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # import openpyxl now fails
    with pytest.raises(AlsonaError, match=r"pip install alsona-nb\[excel\]"):
        alsona(frame).to_excel(tmp_path / "r.xlsx")
    assert not (tmp_path / "r.xlsx").exists()


def test_the_accessor_is_registered_once() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas warns when an accessor is registered again
        for _ in range(3):
            rows_to_frame([])
            campaigns_to_frame([])
    assert hasattr(pd.DataFrame(), "alsona")


# -- HTML -------------------------------------------------------------------------------------


def test_html_is_left_aligned_escaped_and_marked() -> None:
    rows = [
        result_row(1),
        result_row(2, outcome="failed", ok=False, error_message="<b>no</b>", settled=None),
        result_row(3, outcome="not sent", ok=False, campaign_id=None),
        result_row(4, outcome="deleted", action="delete"),
    ]
    html = frame_html(rows_to_frame(rows), title="<results>")
    assert html.count('<td style="text-align:left') == 4 * 8
    assert "✔ created" in html and "✘ failed" in html and "○ not sent" in html
    assert "✔ deleted" in html and "&lt;b&gt;no&lt;/b&gt;" in html and "&lt;results&gt;" in html
    assert "<NA>" not in html and "nan" not in html and "None" not in html
    assert "2025-03-03 09:30:00 UTC" in html
    assert "4 rows: 1 created, 1 deleted, 1 failed, 1 not sent" in html


def test_html_of_a_long_frame_shows_head_tail_and_counts() -> None:
    rows = [result_row(n, name=f"row {n} end") for n in range(100)]
    html = frame_html(rows_to_frame(rows))
    assert html.count("<tr>") == 1 + 20 + 1  # header, head and tail, the gap
    assert "row 9 end" in html and "row 10 end" not in html and "row 90 end" in html
    assert "… 80 more rows …" in html and "100 rows: 100 created" in html
