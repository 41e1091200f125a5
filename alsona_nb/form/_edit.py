"""The controls of edit mode: a searchable picker of the account's campaigns, Pause / Resume,
Delete behind a confirmation that names the campaign, and the conflict choice (reload or
overwrite). Only widgets and their wording: ``CampaignForm`` wires the buttons to its calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import ipywidgets as widgets

from .._models import Campaign
from ._render import diff_html, line

__all__ = ["EditControls", "campaign_option"]

_SEP = " · "


def campaign_option(name: object, status: object, campaign_id: object) -> str:
    """What the picker lists for a campaign: ``name · status · id``."""
    return _SEP.join(str(v) for v in (name, status, campaign_id))


def _hidden(widget: widgets.Widget) -> widgets.Widget:
    widget.layout.display = "none"
    return widget


class EditControls(widgets.VBox):  # type: ignore[misc]
    """The picker row (``picker``, ``refresh_button``), the actions of the campaign being
    edited (``pause_button``, ``resume_button``, ``delete_button``, ``new_button``), the delete
    confirmation (``confirm_delete_button``, ``pause_instead_button``, ``cancel_button``) and
    the conflict box (``reload_button``, ``overwrite_button``)."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}  # option text -> campaign id
        self.picker = widgets.Combobox(
            options=[],
            ensure_option=False,
            description="Open",
            placeholder="type a name, a status or an id, then pick",
            style={"description_width": "110px"},
            layout={"width": "560px"},
        ).add_class("alsona-picker")
        self.refresh_button = widgets.Button(
            description="Refresh", icon="refresh", tooltip="Read the account's campaigns again"
        ).add_class("alsona-picker-refresh")
        self.note = widgets.HTML().add_class("alsona-picker-note")
        self.editing_line = widgets.HTML().add_class("alsona-editing")
        self.pause_button = widgets.Button(description="Pause", icon="pause")
        self.resume_button = widgets.Button(description="Resume", icon="play")
        self.delete_button = widgets.Button(description="Delete…", icon="trash")
        self.new_button = widgets.Button(
            description="Create as new",
            icon="plus",
            tooltip="Make another campaign from these fields, with a new campaign id",
        )
        for button, cls in (
            (self.pause_button, "alsona-pause"),
            (self.resume_button, "alsona-resume"),
            (self.delete_button, "alsona-delete"),
            (self.new_button, "alsona-create-as-new"),
        ):
            button.add_class(cls)
        self.actions = _hidden(
            widgets.HBox(
                [self.pause_button, self.resume_button, self.delete_button, self.new_button]
            ).add_class("alsona-row")
        )
        self.confirm_text = widgets.HTML()
        self.confirm_delete_button = widgets.Button(button_style="danger").add_class(
            "alsona-confirm-delete"
        )
        self.pause_instead_button = widgets.Button(
            description="Pause instead", icon="pause"
        ).add_class("alsona-pause-instead")
        self.cancel_button = widgets.Button(description="Cancel").add_class("alsona-cancel")
        self.confirm = _hidden(
            widgets.VBox(
                [
                    self.confirm_text,
                    widgets.HBox(
                        [self.pause_instead_button, self.confirm_delete_button, self.cancel_button]
                    ),
                ]
            ).add_class("alsona-delete-confirm")
        )
        self.conflict_text = widgets.HTML()
        self.reload_button = widgets.Button(description="Reload theirs", icon="refresh").add_class(
            "alsona-reload"
        )
        self.overwrite_button = widgets.Button(
            description="Overwrite with mine", button_style="warning"
        ).add_class("alsona-overwrite")
        self.conflict = _hidden(
            widgets.VBox(
                [self.conflict_text, widgets.HBox([self.reload_button, self.overwrite_button])]
            ).add_class("alsona-conflict")
        )
        self.cancel_button.on_click(lambda _b: self.hide_confirm())
        super().__init__(
            [
                widgets.HBox([self.picker, self.refresh_button]).add_class("alsona-row"),
                self.note,
                self.editing_line,
                self.actions,
                self.confirm,
                self.conflict,
            ]
        )
        self.add_class("alsona-edit")

    def set_campaigns(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """List these campaigns (``campaign_id``, ``name``, ``status``) in the picker."""
        self.ids = {
            campaign_option(r.get("name"), r.get("status"), r["campaign_id"]): str(r["campaign_id"])
            for r in rows
            if r.get("campaign_id")
        }
        self.picker.options = tuple(self.ids)

    def add_campaign(self, campaign: Campaign) -> None:
        """Add or refresh one campaign's entry (after a create or an update)."""
        self.drop_campaign(campaign.campaign_id)
        option = campaign_option(campaign.name, campaign.status, campaign.campaign_id)
        self.ids = {option: campaign.campaign_id, **self.ids}
        self.picker.options = tuple(self.ids)

    def drop_campaign(self, campaign_id: str) -> None:
        """Remove a campaign's entry (after a delete)."""
        self.ids = {k: v for k, v in self.ids.items() if v != campaign_id}
        self.picker.options = tuple(self.ids)

    def picked(self, text: str) -> str | None:
        """The campaign id of a picked entry, or of an id typed as it is."""
        text = text.strip()
        if text in self.ids:
            return self.ids[text]
        return text if text in self.ids.values() else None

    def show_for(self, campaign: Campaign | None) -> None:
        """The actions for ``campaign`` (none when no campaign is being edited)."""
        self.hide_confirm()
        self.hide_conflict()
        if campaign is None:
            self.actions.layout.display = "none"
            self.editing_line.value = ""
            return
        self.actions.layout.display = None
        status = str(campaign.status).upper()
        self.pause_button.layout.display = None if status == "RUN" else "none"
        self.resume_button.layout.display = None if status.startswith("PAUSE") else "none"
        self.editing_line.value = line(
            "info",
            f"Editing campaign “{campaign.name}” ({campaign.campaign_id}), status {status}: "
            "Update campaign sends the changes listed below; Create as new makes another.",
            "alsona-editing-line",
        )

    def ask_delete(self, campaign: Campaign) -> None:
        """Show the confirmation, naming the campaign; Pause is offered as the reversible way."""
        running = str(campaign.status).upper() == "RUN"
        pause = " Pausing stops it and can be undone." if running else ""
        self.confirm_text.value = line(
            "warn",
            f"Delete campaign “{campaign.name}” ({campaign.campaign_id})? "
            f"This cannot be undone.{pause}",
            "alsona-delete-question",
        )
        self.confirm_delete_button.description = f"Delete “{campaign.name}”"[:60]
        self.pause_instead_button.layout.display = None if running else "none"
        self.confirm.layout.display = None

    def hide_confirm(self) -> None:
        self.confirm.layout.display = "none"

    def show_conflict(self, changed: Mapping[str, tuple[Any, Any]]) -> None:
        """Which fields someone else changed (as read → as now) and the two ways on."""
        self.conflict_text.value = diff_html(
            changed,
            title="Someone else changed this campaign since the form read it "
            "(as read → as it is now). Reload theirs, or overwrite them with the form's:",
            empty="Someone else changed this campaign since the form read it.",
        )
        self.conflict.layout.display = None

    def hide_conflict(self) -> None:
        self.conflict.layout.display = "none"

    def say(self, text: str) -> None:
        """A note under the picker (why the list could not be read, ...)."""
        self.note.value = line("info", text) if text else ""
