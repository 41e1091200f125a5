"""The form's pieces on their own: zone picker, seat picker, schedule editor, HTML renderers."""

from __future__ import annotations

import html
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from alsona_nb._models import DAYS, WeeklySchedule
from alsona_nb.form import _render as render
from alsona_nb.form._keys import KeyShield
from alsona_nb.form._schedule import ScheduleEditor
from alsona_nb.form._seats import SeatPicker, seat_choices
from alsona_nb.form._zone import MINUTES, NO_ZONE, ZonePicker, find_zone

WINTER = date(2025, 1, 15)


def plain(html_text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


# -- zone picker ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("york", "America/New_York"),
        ("New York", "America/New_York"),
        ("paris", "Europe/Paris"),
        ("KOLKATA", "Asia/Kolkata"),
        ("America/New_York (UTC-05:00)", "America/New_York"),
        ("utc", "UTC"),
        ("europe", None),  # many zones: no guess
        ("atlantis", None),
    ],
)
def test_find_zone_by_city_or_region(typed: str, zone: str | None) -> None:
    assert find_zone(typed) == zone


def test_zone_picker_suggests_names_with_offsets() -> None:
    picker = ZonePicker(on=WINTER)
    assert "America/New_York (UTC-05:00)" in picker.text.options
    assert "Asia/Kolkata (UTC+05:30)" in picker.text.options
    assert picker.text.options[:2] == (NO_ZONE, MINUTES)
    assert not picker.text.ensure_option  # typing is free; the match happens in Python


def test_zone_picker_gives_minutes_and_the_dst_note() -> None:
    picker = ZonePicker(on=WINTER)
    assert (picker.value, picker.zone, picker.problem) == (0, "UTC", "")
    picker.text.value = "york"
    assert (picker.value, picker.zone) == (-300, "America/New_York")
    info = plain(picker.info.value)
    assert "UTC-05:00" in info and "-300 min" in info and "daylight saving" in info
    picker.text.value = "Kolkata"
    assert picker.value == 330 and "daylight" not in plain(picker.info.value)
    picker.text.value = "Pariss"
    assert picker.problem.startswith("No single time zone matches 'Pariss'")
    picker.text.value = NO_ZONE
    assert picker.value is None and picker.problem == ""
    picker.text.value = MINUTES
    assert not picker.minutes.disabled
    picker.minutes.value = -180
    assert picker.value == -180


def test_zone_picker_keeps_a_zone_whose_offset_matches() -> None:
    picker = ZonePicker(on=WINTER)
    picker.select("America/New_York")
    picker.set_minutes(-300)
    assert picker.zone == "America/New_York"
    picker.set_minutes(330)
    assert picker.text.value == MINUTES and picker.value == 330
    picker.set_minutes(None)
    assert picker.value is None


# -- seat picker ------------------------------------------------------------------------------


def test_seats_by_label_send_ids_in_the_order_picked() -> None:
    picker = SeatPicker({"Anna (sales)": "seat_a", "Ben": "seat_b"})
    assert [b.description for b in picker.boxes.values()] == [
        "Anna (sales)  (seat_a)",
        "Ben  (seat_b)",
    ]
    picker.boxes["seat_b"].value = True
    picker.boxes["seat_a"].value = True
    assert picker.value == ["seat_b", "seat_a"]
    assert picker.label("seat_a") == "Anna (sales)"
    picker.set_ids(["seat_new", "seat_a"])  # an id not in the list is added, not dropped
    assert picker.value == ["seat_new", "seat_a"] and picker.label("seat_new") == "seat_new"


def test_setting_value_ticks_the_boxes() -> None:
    picker = SeatPicker(["s1", "s2"])
    picker.value = ["s2"]
    assert [b.value for b in picker.boxes.values()] == [False, True]
    picker.boxes["s1"].value = True
    assert picker.value == ["s2", "s1"]


def test_seats_as_a_list_of_ids_or_typed() -> None:
    assert seat_choices(["s1", "s2"]) == {"s1": "s1", "s2": "s2"}
    typed = SeatPicker(None, note="could not fetch")
    assert typed.typed is not None and "could not fetch" in plain(typed.note.value)
    typed.typed.value = ["s1", "s1"]
    assert typed.value == ["s1", "s1"]  # the model, not the widget, says it is repeated


# -- schedule editor --------------------------------------------------------------------------


def test_schedule_editor_value_presets_and_greyed_rows() -> None:
    editor = ScheduleEditor()
    assert editor.value == {d: w.model_dump() for d, w in WeeklySchedule.weekdays().days().items()}
    editor.sliders["monday"].value = (6, 8)
    editor.apply_preset("every_day")
    assert all(v[0] for v in editor.value.values()) and editor.value["monday"] == [True, 6, 8]
    editor.apply_preset("clear")
    assert not any(v[0] for v in editor.value.values())
    assert all(s.disabled for s in editor.sliders.values())
    assert all("alsona-off" in row._dom_classes for row in editor.rows.values())
    editor.value = {d: [d == "friday", 1, 2] for d in DAYS}
    assert editor.checkboxes["friday"].value and editor.sliders["friday"].value == (1, 2)
    assert "alsona-off" not in editor.rows["friday"]._dom_classes
    with pytest.raises(ValueError, match="unknown preset"):
        editor.apply_preset("weekends")


# -- renderers --------------------------------------------------------------------------------


def test_banner_is_unmistakable_and_theme_independent() -> None:
    live = render.banner_html(live=True, account="acc_1", base_url="https://alsona.com")
    sandbox = render.banner_html(live=False, account="acc_1", base_url="http://127.0.0.1:1")
    assert plain(live).startswith("LIVE") and "https://alsona.com" in live
    assert plain(sandbox).startswith("SANDBOX") and "127.0.0.1" not in sandbox
    assert "background:#b71c1c" in live and "background:#0d47a1" in sandbox


def test_message_lines_use_theme_text_and_a_symbol() -> None:
    error = render.line("error", "Not created: <b>x</b>", "c")
    assert plain(error) == "✘ Not created: <b>x</b>"  # escaped, marked
    assert "var(--jp-error-color1, #d32f2f)" in error and "color:" not in error.split("style")[0]
    assert plain(render.line("ok", "Created x", mark=False)) == "Created x"
    assert render.line("ok", "") == ""


def test_week_picture_says_why_a_day_has_no_hours() -> None:
    schedule = {d: [True, 9, 17] for d in DAYS}
    schedule["wednesday"] = [True, 17, 17]
    schedule["sunday"] = [False, 9, 17]
    text = plain(render.week_html(schedule, {"wednesday": "Wednesday: the end hour must be after"}))
    lines = text.splitlines()
    assert lines[1] == "Mon  " + "··" * 9 + "██" * 8 + "··" * 7 + "  9:00 to 17:00"
    assert lines[3].endswith("no hours: Wednesday: the end hour must be after")
    assert lines[7].endswith("off (not ticked)")
    assert "off" not in lines[3]
    assert text.endswith("40 hours a week")


def test_preview_keeps_short_lists_on_one_line() -> None:
    body = {"campaign": {"name": "x", "schedule": {"monday": [True, 9, 17]}}}
    assert '"monday": [true, 9, 17]' in render.preview_text(body)
    assert "alsona-preview-none" in render.preview_html(None, "why")


def test_results_table_reads_well() -> None:
    rows = [
        {
            "when": "10:00:01",
            "name": "Spring launch",
            "status": "DRAFT",
            "seats": ["Anna"],
            "campaign_id": "campaign_0123456789abcdef0123",
            "kind": "ok",
            "result": "created",
        },
        {"when": "10:00:02", "name": None, "seats": [], "campaign_id": None, "kind": "error"},
    ]
    table = render.results_html(rows)  # type: ignore[arg-type]
    assert "<th>Campaign ID</th>" in table and "_" not in re.sub(r"<[^>]+>|campaign_\w+", "", table)
    assert "NA" not in plain(table) and "None" not in plain(table)
    assert 'class="alsona-id"' in table  # one click selects the whole id
    assert "No campaigns" in render.results_html([])


def test_key_shield_targets_the_form_root() -> None:
    shield = KeyShield()
    assert shield.root_selector == ".alsona-form"
    assert "data-lm-suppress-shortcuts" in shield._esm


# -- saved notebooks ----------------------------------------------------------------------


def test_a_saved_notebook_keeps_the_forms_placeholder_not_its_widget_view() -> None:
    from alsona_nb.form import placeholder_outputs
    from alsona_nb.form._saved import WIDGET_VIEW

    view = {"version_major": 2, "version_minor": 0, "model_id": "abc"}
    form_out = {
        "output_type": "execute_result",
        "data": {
            "text/plain": "<CampaignForm SANDBOX ...>",
            "text/html": "<div>x</div>",
            WIDGET_VIEW: view,
        },
    }
    other_out = {
        "output_type": "display_data",
        "data": {"text/plain": "IntSlider()", WIDGET_VIEW: view},
    }
    model: dict[str, Any] = {
        "type": "notebook",
        "content": {
            "metadata": {"widgets": {"state": {}}},
            "cells": [
                {"cell_type": "code", "outputs": [form_out, other_out]},
                {"cell_type": "markdown"},
            ],
        },
    }
    placeholder_outputs(model)
    assert "widgets" not in model["content"]["metadata"]
    assert set(form_out["data"]) == {"text/plain", "text/html"}  # what a reader should see
    assert WIDGET_VIEW in other_out["data"]  # someone else's widget: not ours to change
    placeholder_outputs({"type": "file", "content": "x"})  # other files: untouched


# -- typed values, diffs, templates ---------------------------------------------------------


def test_schedule_and_seat_values_are_typed() -> None:
    import traitlets

    editor = ScheduleEditor()
    with pytest.raises(traitlets.TraitError):
        editor.value = {"monday": [True, 9, 17]}  # not the seven days
    with pytest.raises(traitlets.TraitError):
        editor.value = {d: [True, 9, 25] for d in DAYS}  # not an hour
    with pytest.raises(traitlets.TraitError):
        editor.value = {d: [1, 9, 17] for d in DAYS}  # enabled is a bool
    picker = SeatPicker(["s1"])
    with pytest.raises(traitlets.TraitError):
        picker.value = [1]  # type: ignore[list-item]


def test_diff_and_needed_lists_read_as_sentences() -> None:
    before = {d: [True, 9, 17] for d in DAYS}
    after = {**before, "friday": [True, 9, 12]}
    text = plain(
        render.diff_html(
            {"name": ("A", "B"), "schedule": (before, after)}, title="Changes:", empty="none"
        )
    )
    assert "Name: A → B" in text and "Schedule: Fri 9:00–17:00 → Fri 9:00–12:00" in text
    assert "Mon" not in text  # only the days that change
    assert plain(render.diff_html({}, title="x", empty="Nothing")) == "Nothing"
    needed = render.problems_html(["Give the campaign a name"], touched=False)
    assert 'data-kind="info"' in needed and "Still needed" in plain(needed)
    assert 'data-kind="error"' in render.problems_html(["x"])


def test_templates_hold_no_ids_and_refuse_what_is_not_one(tmp_path: Path) -> None:
    from alsona_nb.form._template import read_template, template_json

    text = template_json(
        {"name": "N", "campaign_id": "c1", "account_id": "a", "created_at": 1, "timezone": None}
    )
    assert json.loads(text) == {"alsona_template": 1, "name": "N"}
    path = tmp_path / "t.json"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())  # a BOM, as some editors write
    assert read_template(path) == {"name": "N"}
    body = {"campaign": {"name": "x", "campaign_id": "c", "seats": ["s"]}}
    assert read_template(body) == {"name": "x", "seats": ["s"]}  # a request body, id dropped
    for bad in (b"not json", b"[]", b'{"campaign": 3}', b" " * 70_000):
        with pytest.raises(ValueError):
            read_template(bad)


def test_aria_rules_name_every_handle_once() -> None:
    from alsona_nb.form._a11y import aria_rules

    rules = aria_rules(["DRAFT", "RUN"], "RUN", ["monday"], ["name", "friday"])
    labels = [r[2] for r in rules if r[1] == "aria-label" and "noUi" in str(r[0])]
    assert len(labels) == len(set(labels)) == 14
    pressed = [r[2] for r in rules if r[1] == "aria-pressed"]
    assert pressed == ["false", "true"]
    invalid = {str(r[0]): r[2] for r in rules if r[1] == "aria-invalid"}
    assert invalid[".alsona-name input"] == "true" and invalid[".alsona-seats input"] == "false"
    assert invalid[".alsona-day-friday input, .alsona-hours-friday .noUi-handle"] == "true"
