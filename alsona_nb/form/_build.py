"""The form's widgets and their layout, without behaviour: ``CampaignForm`` adds the wiring.

Every widget carries an ``alsona-...`` class, which the browser tests, the style sheet and the
accessibility rules (``_a11y``) find it by.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import ipywidgets as widgets

from .._models import CampaignStatus
from . import _render as render
from ._edit import EditControls
from ._keys import KeyShield
from ._schedule import ScheduleEditor
from ._seats import SeatPicker
from ._zone import ZonePicker

__all__ = ["SLOTS", "FormWidgets"]

# Where a problem is shown: its field key -> the error widget.
SLOTS = ("name", "status", "seats", "campaign_id", "timezone")
_WIDE = {"description_width": "110px"}
_STATUS_TIPS = {
    "DRAFT": "Created, not sending yet",
    "RUN": "Starts sending at once",
    "PAUSE": "Created paused",
    "DONE": "Created as finished",
}


def _section(title: str) -> widgets.HTML:
    return widgets.HTML(f"<b>{render.esc(title)}</b>")


def _row(*children: widgets.Widget) -> widgets.HBox:
    return widgets.HBox(list(children)).add_class("alsona-row")


def _button(description: str, cls: str, **kwargs: object) -> widgets.Button:
    return widgets.Button(description=description, **kwargs).add_class(cls)


class FormWidgets(widgets.VBox):  # type: ignore[misc]
    """The campaign form's widgets, laid out; no behaviour of their own."""

    def __init__(
        self,
        seats: Mapping[str, str] | Sequence[str] | None,
        seat_note: str,
        *,
        zone_date: date | None,
        details: bool,
    ) -> None:
        self._fields(seats, seat_note, zone_date)
        self._outputs()
        self._buttons(details)
        self.edit_controls = EditControls()
        # The shield sits in a box that is never displayed: where its script cannot load
        # (no anywidget in the front-end), the error view it leaves shows nothing.
        self.shield = KeyShield()
        super().__init__(self._layout())
        self.add_class("alsona-form")

    def _fields(
        self, seats: Mapping[str, str] | Sequence[str] | None, note: str, zone_date: date | None
    ) -> None:
        self.banner = widgets.HTML().add_class("alsona-banner")
        self.name_input = widgets.Text(
            description="Name",
            placeholder="e.g. Spring webinar follow-up",
            style=_WIDE,
            layout={"width": "440px"},
        ).add_class("alsona-name")
        self.status_input = widgets.ToggleButtons(
            options=[s.value for s in CampaignStatus],
            value=CampaignStatus.DRAFT.value,
            tooltips=[_STATUS_TIPS.get(s.value, "") for s in CampaignStatus],
            style={"button_width": "80px"},
        ).add_class("alsona-status")
        self.seat_picker = SeatPicker(seats, note=note)
        self.campaign_id_input = widgets.Text(
            description="Campaign ID",
            placeholder="optional: leave empty and one is made for you",
            style=_WIDE,
            layout={"width": "440px"},
        ).add_class("alsona-campaign-id")
        self.error_labels: dict[str, widgets.HTML] = {
            slot: widgets.HTML().add_class(f"alsona-error-{slot.replace('_', '-')}")
            for slot in (*SLOTS, "other")
        }
        self.schedule = ScheduleEditor()
        self.zone_picker = ZonePicker(on=zone_date)
        self.confirm_run = widgets.Checkbox(
            value=False,
            indent=False,
            description="I understand: status RUN in LIVE mode starts real outreach now",
            layout={"width": "auto", "display": "none"},
        ).add_class("alsona-confirm-run")

    def _outputs(self) -> None:
        self.week_picture = widgets.HTML().add_class("alsona-week")
        self.changes = widgets.HTML().add_class("alsona-changes")
        self.preview = widgets.HTML().add_class("alsona-preview")
        self.reason = widgets.HTML().add_class("alsona-reason")
        self.message = widgets.HTML().add_class("alsona-message")
        self.results_table = widgets.HTML().add_class("alsona-results")
        self.code = widgets.Textarea(
            layout={"width": "100%", "height": "220px", "display": "none"}
        ).add_class("alsona-code")
        self.template_link = widgets.HTML().add_class("alsona-template-link")

    def _buttons(self, details: bool) -> None:
        self.create_button = _button(
            "Create campaign",
            "alsona-create",
            button_style="primary",
            icon="paper-plane",
            layout={"width": "180px"},
        )
        self.new_button = _button(
            "New campaign", "alsona-new", icon="file", tooltip="Clear the form for the next one"
        )
        self.duplicate_button = _button(
            "Duplicate",
            "alsona-duplicate",
            icon="copy",
            tooltip="Keep the fields, with a new name and a new campaign id",
        )
        self.code_button = _button(
            "Show as Python", "alsona-copy-code", icon="code", layout={"width": "160px"}
        )
        self.details_button = widgets.ToggleButton(
            value=details,
            description="Details",
            icon="info",
            tooltip="The exact request body, Python code and templates",
        ).add_class("alsona-details-toggle")
        self.save_template_button = _button(
            "Save as template", "alsona-save-template", icon="download"
        )
        self.load_template_upload = widgets.FileUpload(
            accept=".json", multiple=False, description="Load template"
        ).add_class("alsona-load-template")

    def _layout(self) -> list[widgets.Widget]:
        labels = self.error_labels
        self.details = widgets.VBox(
            [
                _section("Request body (exactly what the button sends)"),
                self.preview,
                _row(self.code_button, self.save_template_button, self.load_template_upload),
                self.template_link,
                self.code,
            ],
            layout={"display": None if self.details_button.value else "none"},
        ).add_class("alsona-details")
        status_label = widgets.HTML(render.field_label("Status"), layout={"flex": "0 0 110px"})
        return [
            widgets.HTML(render.STYLE),
            widgets.Box([self.shield], layout={"display": "none"}).add_class("alsona-shield"),
            self.banner,
            self.edit_controls,
            _row(self.name_input, labels["name"]),
            _row(status_label, self.status_input, labels["status"]),
            _row(self.seat_picker, labels["seats"]),
            _row(self.campaign_id_input, labels["campaign_id"]),
            _section("Schedule: hours in the campaign's time zone; 9 – 17 means 9:00 to 17:00"),
            self.schedule,
            _row(self.zone_picker, labels["timezone"]),
            self.zone_picker.info,
            _section("Week"),
            self.week_picture,
            self.changes,
            labels["other"],
            self.confirm_run,
            _row(self.create_button, self.new_button, self.duplicate_button, self.details_button),
            self.reason,
            self.message,
            self.details,
            _section("Sent from this form"),
            self.results_table,
        ]
