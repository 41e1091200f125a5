"""The sheet reader's files: encodings (Excel's exports), repeated headers, rows longer than
the header, schedules as JSON text."""

from __future__ import annotations

import codecs
import io
from pathlib import Path

import pandas as pd
import pytest

from alsona_nb import WeeklySchedule
from alsona_nb._sheet import drafts_from_frame, read_campaigns_csv

HEADER = "name,seats,days,start_hour,end_hour\n"
NAME = "Zürich – café € São Paulo"  # every character is in cp1252


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "sheet.csv"
    path.write_bytes(data)
    return path


# -- encodings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        (HEADER + f"{NAME},seat_1,mon-fri,9,17\n").encode("utf-8"),
        codecs.BOM_UTF8 + (HEADER + f"{NAME},seat_1,mon-fri,9,17\n").encode("utf-8"),
        (HEADER + f"{NAME},seat_1,mon-fri,9,17\r\n").encode("cp1252"),  # Excel's "CSV"
        (HEADER + f"{NAME},seat_1,mon-fri,9,17\r\n").encode("utf-16"),  # with its mark
        codecs.BOM_UTF16_BE + (HEADER + f"{NAME},seat_1,mon-fri,9,17\n").encode("utf-16-be"),
        (HEADER + f"{NAME},seat_1,mon-fri,9,17\n").encode("utf-16-le"),  # no mark
        (HEADER + f"{NAME},seat_1,mon-fri,9,17\n").encode("utf-32"),
    ],
    ids=["utf-8", "utf-8-bom", "cp1252", "utf-16", "utf-16-be", "utf-16-le-no-bom", "utf-32"],
)
def test_common_encodings_are_found(tmp_path: Path, data: bytes) -> None:
    batch = read_campaigns_csv(write(tmp_path, data))
    assert batch.ok, batch.report
    assert [d.name for d in batch.drafts] == [NAME]
    assert batch.rows == [2]


def test_bytes_and_binary_streams_are_decoded_alike() -> None:
    data = (HEADER + f"{NAME},seat_1,mon-fri,9,17\r\n").encode("cp1252")
    for source in (data, memoryview(data), io.BytesIO(data)):
        assert [d.name for d in read_campaigns_csv(source).drafts] == [NAME]
    with pytest.raises(ValueError, match="the sheet cannot be read as utf-16"):
        read_campaigns_csv(data + b"!", encoding="utf-16")


def test_excel_unicode_text_is_utf16_with_tabs(tmp_path: Path) -> None:
    text = HEADER.replace(",", "\t") + f"{NAME}\tseat_1; seat_2\tmon-fri\t9\t17\r\n"
    path = write(tmp_path, text.encode("utf-16"))
    batch = read_campaigns_csv(path, delimiter="\t")
    assert batch.drafts[0].seats == ["seat_1", "seat_2"]
    with pytest.raises(ValueError, match=r"separated by '\\t': pass delimiter='\\t'"):
        read_campaigns_csv(path)


def test_a_wrong_or_unknown_encoding_is_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, (HEADER + f"{NAME},seat_1,mon-fri,9,17\n").encode("cp1252"))
    with pytest.raises(ValueError, match=r"cannot be read as utf-8 .*encoding='cp1252'") as caught:
        read_campaigns_csv(path, encoding="utf-8")
    assert type(caught.value) is ValueError  # not a raw UnicodeDecodeError
    assert read_campaigns_csv(path, encoding="cp1252").drafts[0].name == NAME
    with pytest.raises(ValueError, match="unknown encoding 'klingon'"):
        read_campaigns_csv(path, encoding="klingon")


def test_bytes_neither_utf8_nor_cp1252_name_the_way_out(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER.encode() + b"A\x81,seat_1,mon-fri,9,17\n")
    with pytest.raises(ValueError, match="cannot be read as UTF-8 or as cp1252") as caught:
        read_campaigns_csv(path)
    assert type(caught.value) is ValueError and "encoding=" in str(caught.value)
    assert read_campaigns_csv(path, encoding="latin-1").drafts[0].name == "A\x81"


def test_a_file_marked_utf8_is_not_guessed_as_cp1252(tmp_path: Path) -> None:
    path = write(tmp_path, codecs.BOM_UTF8 + HEADER.encode() + "Café,s,mon,9,17\n".encode("cp1252"))
    with pytest.raises(ValueError, match="cannot be read as utf-8-sig"):
        read_campaigns_csv(path)


def test_a_late_non_utf8_byte_rereads_the_whole_file_as_cp1252(tmp_path: Path) -> None:
    rows = "".join(f"Row {n},seat_1,mon-fri,9,17\n" for n in range(3000))  # past one chunk
    path = write(tmp_path, (HEADER + rows + "Café,seat_1,mon-fri,9,17\n").encode("cp1252"))
    batch = read_campaigns_csv(path)
    assert len(batch.drafts) == 3001 and batch.drafts[-1].name == "Café"
    assert batch.rows[-1] == 3002


# -- headers and cells --------------------------------------------------------------------


def test_a_repeated_header_is_refused_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path, b"name,seats,days,start_hour,end_hour,seats\nA,seat_1,mon-fri,9,17,\n")
    with pytest.raises(ValueError, match=r"2 columns named 'seats' \(columns 2 and 6\)"):
        read_campaigns_csv(path)
    frame = pd.DataFrame(
        [["A", "s", "mon", 9, 17, ""]], columns=[*HEADER.strip().split(","), "name"]
    )
    with pytest.raises(ValueError, match="2 columns named 'name'"):
        drafts_from_frame(frame)


def test_repeated_columns_the_reader_ignores_are_fine(tmp_path: Path) -> None:
    path = write(tmp_path, b"notes,name,seats,days,start_hour,end_hour,notes\n,A,s,mon,9,17,x\n")
    assert read_campaigns_csv(path).ok


def test_two_columns_for_one_field_are_refused() -> None:
    frame = pd.DataFrame([{"name": "", "Campaign": "A", "seats": "s", "days": "mon",
                           "start_hour": 9, "end_hour": 17}])  # fmt: skip
    with pytest.raises(ValueError, match="both 'name' and 'Campaign' would give name"):
        drafts_from_frame(frame, columns={"Campaign": "name"})
    batch = drafts_from_frame(frame.drop(columns="name"), columns={"Campaign": "name"})
    assert batch.drafts[0].name == "A"


def test_a_row_longer_than_the_header_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        (
            HEADER
            + "Good,seat_1,mon-fri,9,17,,\n"  # 2: trailing empty cells lose nothing
            + "Cut,seat_1,seat_2,mon-fri,9,17\n"  # 3: an unquoted comma in the seats
            + "Note,seat_1,mon-fri,9,17,call first\n"  # 4
        ).encode(),
    )
    batch = read_campaigns_csv(path)
    assert batch.rows == [2]
    report = batch.report
    assert report[report["row"] == 4][["column", "value"]].values.tolist() == [
        ["(extra cells)", "call first"]
    ]
    said = report[report["row"] == 3]
    assert said["column"].tolist() == ["days", "start_hour", "(extra cells)"]
    assert said["value"].tolist()[-1] == "17"
    assert "6 cells but the header names 5 columns" in said["reason"].tolist()[-1]


def test_text_that_is_not_csv_is_a_clear_error() -> None:
    huge = "x" * 200_000  # past the csv module's cell limit
    text = io.StringIO(HEADER + "A,s,mon,9,17\n" + f"{huge},s,mon,9,17\n")
    with pytest.raises(
        ValueError, match="line 3 of the CSV cannot be read: field larger"
    ) as caught:
        read_campaigns_csv(text)
    assert type(caught.value) is ValueError


def test_a_schedule_column_holds_json_text(tmp_path: Path) -> None:
    week = WeeklySchedule.every_day(10, 14).model_dump_json()
    reversed_ = week.replace("[true,10,14]", "[true,14,10]", 1)
    path = tmp_path / "week.csv"
    pd.DataFrame(
        {"name": ["a", "b", "c", "d"], "seats": "s", "schedule": [week, reversed_, "{oops", ""]}
    ).to_csv(path, index=False)
    batch = read_campaigns_csv(path)
    assert batch.drafts[0].schedule == WeeklySchedule.every_day(10, 14)
    assert batch.report[["row", "column", "reason"]].values.tolist() == [
        [3, "schedule", "Monday: the end hour must be after the start hour"],
        [4, "schedule", batch.report["reason"][1]],
        [5, "schedule", "No schedule: give days, start_hour and end_hour, or a schedule"],
    ]
    assert batch.report["reason"][1].startswith("The schedule must be the API's seven days")
