"""The form's widgets read and written: fields to a plain dict and back, and the state shown
(problems where a person has touched, the changes to send, the button, the accessibility
rules). No client calls here: ``CampaignForm`` decides, this shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets

from .._models import DAYS, Campaign, CampaignDraft, CampaignStatus
from . import _render as render
from ._a11y import aria_rules
from ._build import FormWidgets
from ._words import result_row

__all__ = ["FormView"]


class FormView(FormWidgets):
    """``FormWidgets`` with the means to read the fields and show a state."""

    client: Any
    attempts: list[Any]
    touched: list[str]
    payload: dict[str, Any] | None
    errors: list[str]
    diff: dict[str, Any]
    editing: Campaign | None
    problems_at: dict[str, list[str]]  # the problems by field key, set before the traits

    def field_widgets(self) -> dict[str, widgets.Widget]:
        """The widgets whose ``value`` is part of the campaign, by the key of their problems."""
        return {
            "name": self.name_input,
            "status": self.status_input,
            "seats": self.seat_picker,
            "campaign_id": self.campaign_id_input,
            "schedule": self.schedule,
            "timezone": self.zone_picker,
        }

    def read_fields(self, hidden: Mapping[str, Any]) -> dict[str, Any]:
        """The widgets as the plain dict a ``CampaignDraft`` is validated from."""
        return {
            "name": self.name_input.value,
            "status": self.status_input.value,
            "seats": list(self.seat_picker.value),
            "schedule": {day: list(v) for day, v in self.schedule.value.items()},
            "timezone": self.zone_picker.value,
            "zone": _kept_zone(self.zone_picker.zone),
            "campaign_id": self.campaign_id_input.value.strip() or None,
            **hidden,
        }

    def fill_fields(self, draft: CampaignDraft) -> None:
        """Show ``draft`` in the widgets (the caller holds the rebuild)."""
        self.name_input.value = draft.name
        self.status_input.value = draft.status.value
        self.seat_picker.set_ids(list(draft.seats))
        self.campaign_id_input.value = draft.campaign_id or ""
        self.schedule.value = {d: w.model_dump() for d, w in draft.schedule.days().items()}
        if draft.zone:
            self.zone_picker.select(draft.zone)
        if not draft.zone or self.zone_picker.value != draft.timezone:
            self.zone_picker.set_minutes(draft.timezone)

    def is_touched(self, key: str) -> bool:
        """Whether the problems filed under ``key`` are shown in red yet."""
        touched = self.touched
        if key in DAYS:
            return "schedule" in touched
        return key in touched or (key == "other" and bool(touched))

    def show_state(self, data: Mapping[str, Any], at: Mapping[str, list[str]], live: bool) -> None:
        """Problems next to the fields a person has touched, the week, the changes to send,
        the body, and the attributes assistive technology reads."""
        shown = {k: v for k, v in at.items() if self.is_touched(k)}
        for slot, label in self.error_labels.items():
            msgs = shown.get(slot, ())
            label.value = "".join(render.line("error", m, "alsona-error") for m in msgs)
        self.schedule.show_problems({day: shown.get(day, []) for day in DAYS})
        live_run = live and data["status"] == CampaignStatus.RUN.value
        self.confirm_run.layout.display = None if live_run else "none"
        notes = {day: "; ".join(at[day]) for day in DAYS if day in at}
        self.week_picture.value = render.week_html(data["schedule"], notes)
        self.changes.value = (
            ""
            if self.editing is None
            else render.diff_html(
                self.diff if self.payload is not None else {},
                title="Changes to send (the server's campaign → this form):",
                empty="No changes to send: the form matches the campaign on the server."
                if self.payload is not None
                else "No changes can be sent until the problems are fixed.",
            )
        )
        self.preview.value = render.preview_html(
            self.payload, "No request body yet: the form has problems (listed by the button)."
        )
        days_on = [d for d, v in data["schedule"].items() if v[0]]
        self.shield.rules = aria_rules(
            list(self.status_input.options), data["status"], days_on, list(shown)
        )

    def show_button(self, blocker: str | None, *, busy: bool, editing: bool) -> None:
        """The main button (Create or Update) and the line under it, for this state."""
        doing, idle = (
            ("Updating…", "Update campaign") if editing else ("Creating…", "Create campaign")
        )
        self.create_button.disabled = busy or blocker is not None
        self.create_button.description = doing if busy else idle
        self.create_button.tooltip = (
            "A request is running." if busy else blocker or "Send this campaign to the API"
        )
        if busy or blocker is None:
            self.reason.value = ""
        elif self.payload is None and self.errors:
            touched = any(self.is_touched(k) for k in self.problems_at)
            self.reason.value = render.problems_html(self.errors, touched=touched)
        else:
            self.reason.value = render.line("muted", blocker, "alsona-blocked")

    def show_banner(self, live: bool, account: str | None) -> None:
        self.banner.value = render.banner_html(
            live=live, account=account, base_url=self.client.base_url
        )

    def say(self, kind: str, text: str, cls: str = "") -> None:
        """One line under the button (announced: the message is a live region)."""
        self.message.value = render.line(kind, text, cls)

    def set_code_shown(self, shown: bool, code: str = "") -> None:
        """Show (with ``code``) or hide the Python under the form."""
        self.code.layout.display = None if shown else "none"
        self.code_button.description = "Hide Python" if shown else "Show as Python"
        if shown:
            self.code.value = code

    def set_details_shown(self, shown: bool) -> None:
        self.details.layout.display = None if shown else "none"

    def __repr__(self) -> str:
        # Short and stable: the default widget repr lists every child's value.
        state = "valid" if self.payload is not None else f"{len(self.errors)} problem(s)"
        return (
            f"<CampaignForm {self.client.mode.upper()} account={self.client.account_id!r} "
            f"{state}, {len(self.attempts)} attempt(s)>"
        )

    def _repr_html_(self) -> str:
        """Where widgets are not drawn (a notebook not run yet, a static page): the banner,
        how to get the form, and this form's attempts."""
        note = render.line(
            "info", "The campaign form appears here when the notebook runs: Run ▸ Run All Cells."
        )
        rows = [result_row(a, self.seat_picker.label) for a in self.attempts]
        parts = [self.banner.value, note, render.results_html(rows)]
        return '<div class="alsona-form-static">' + "".join(parts) + "</div>"

    def close(self) -> None:
        """Close the form and every widget in it (their models leave the kernel)."""
        pending: list[Any] = [self]
        while pending:
            widget = pending.pop()
            pending.extend(getattr(widget, "children", ()))
            for part in ("layout", "style"):
                if getattr(widget, part, None) is not None:
                    getattr(widget, part).close()
            if widget is not self:
                widget.close()
        super().close()


def _kept_zone(zone: str) -> str | None:
    """The zone a draft keeps beside its offset (never sent): a named zone, whose offset may
    change with the seasons; not a fixed offset ("UTC", "UTC+02:00"), which the offset says."""
    return zone if zone and not zone.startswith("UTC") else None
