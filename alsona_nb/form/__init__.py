"""``CampaignForm``: a campaign's whole life in one form (create, then edit, pause, delete).

The layers, each one job: ``FormWidgets`` (``_build``: the widgets and their layout),
``FormView`` (``_view``: fields read and written, state shown), ``FormCore`` (``_core``: state,
validation, the main button, exactly once) and ``CampaignForm`` (here: opening campaigns,
pause, resume, delete, conflicts, templates, code). The pieces are ordinary widgets with a
typed ``value``: ``ScheduleEditor``, ``ZonePicker``, ``SeatPicker``; the HTML comes from pure
functions in ``_render``, the words from ``_words``; ``KeyShield`` (``_keys``) keeps
keystrokes inside the form and sets what assistive technology needs (``_a11y``).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .._attempt import Attempt
from .._client import AlsonaClient
from .._errors import AlsonaError
from .._models import Campaign, CampaignDraft, CampaignStatus, problems
from .._results import ResultsLog
from . import _words as words
from ._code import draft_code
from ._core import FormCore
from ._saved import placeholder_outputs
from ._schedule import ScheduleEditor
from ._seats import SeatPicker
from ._template import read_template, template_json
from ._zone import MINUTES, NO_ZONE, ZonePicker

__all__ = [
    "MINUTES",
    "NO_ZONE",
    "CampaignForm",
    "ScheduleEditor",
    "SeatPicker",
    "ZonePicker",
    "placeholder_outputs",
]


class CampaignForm(FormCore):
    """A form to create a campaign with ``client``, then to edit, pause or delete it.

    ``seats``: a mapping label -> seat id, or a list of ids, to pick from; an empty list to
    type ids. Without it the form asks the account (``client.list_seats()``) and, when that
    fails, takes typed ids and says why. ``log``: the ``ResultsLog`` every call is recorded in
    (``results_log``; a journal's earlier rows are listed too). ``zone_date``: the date zones
    are converted at (today). ``details``: show the request body and code at first.

    Programmatic use: ``load(draft)``, ``edit(campaign_or_id)``, ``create()``, ``update()``,
    ``pause()``, ``resume()``, ``delete()``, ``create_as_new()``, ``new_campaign()``,
    ``duplicate()``, ``save_template()``, ``load_template()``, ``results``, ``close()``; the
    read-only traits ``draft``, ``payload``, ``errors``, ``busy``, ``editing``, ``diff``.
    """

    def __init__(
        self,
        client: AlsonaClient,
        seats: Mapping[str, str] | Sequence[str] | None = None,
        log: ResultsLog | None = None,
        *,
        zone_date: date | None = None,
        details: bool = True,
        page_title: str = "",
    ) -> None:
        super().__init__(
            client, seats, log, zone_date=zone_date, details=details, page_title=page_title
        )
        self.load_template_upload.observe(self._on_upload, names="value")
        self.edit_controls.picker.observe(self._on_pick, names="value")
        ui = self.edit_controls
        for button, act in (
            (self.new_button, self.new_campaign),
            (self.duplicate_button, self.duplicate),
            (self.code_button, self._toggle_code),
            (self.save_template_button, self.save_template),
            (ui.refresh_button, self.refresh_campaigns),
            (ui.pause_button, self.pause),
            (ui.pause_instead_button, self.pause),
            (ui.resume_button, self.resume),
            (ui.delete_button, self.ask_delete),
            (ui.confirm_delete_button, self.delete),
            (ui.new_button, self.create_as_new),
            (ui.reload_button, self.reload),
            (ui.overwrite_button, lambda: self.update(overwrite=True)),
        ):
            button.on_click(lambda _b, act=act: act())
        self.refresh_campaigns()

    @classmethod
    def for_app(
        cls, client: AlsonaClient, *, journal: str | Path | None = None, **kwargs: Any
    ) -> CampaignForm:
        """A form for people who never see code (the Voila app): the body and code behind
        Details, and a journal, so that after a reload "Sent from this form" still lists what
        was sent. ``journal``: its path (default ``ALSONA_APP_JOURNAL``, else
        ``~/.alsona_nb/app-<mode>-<account>.jsonl``). Raises ``JournalError`` when the
        journal cannot be opened."""
        if journal is None:
            where = Path.home() / ".alsona_nb" / f"app-{client.mode}-{client.account_id}.jsonl"
            journal = os.environ.get("ALSONA_APP_JOURNAL") or where
        Path(journal).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("details", False)
        kwargs.setdefault("page_title", "Create an Alsona campaign")
        return cls(client, log=ResultsLog(journal), **kwargs)

    def load(self, draft: CampaignDraft | Mapping[str, Any]) -> None:
        """Fill the form from ``draft`` (a ``CampaignDraft`` or its dict / body form). When its
        ``campaign_id`` is one the account has, the form edits that campaign (the draft's
        fields shown as changes to send). Raises ``pydantic.ValidationError`` for an invalid
        draft (the form is left as it was)."""
        if not isinstance(draft, CampaignDraft):
            draft = CampaignDraft.from_payload(dict(draft))
        self._fill(draft)
        found = self._look_up(draft) if draft.campaign_id else None
        if found is not None:
            self._start_editing(found)

    def edit(self, campaign: Campaign | str) -> None:
        """Edit an existing campaign (a ``Campaign`` or its id, read from the server): the form
        shows it as the server has it and Update campaign sends what changes. Raises
        ``NotFoundError`` (no such campaign), ``AlsonaError`` (it could not be read) and
        ``InvalidDraftError`` (the server's campaign is not one the form can show)."""
        prepared = self.client.prepare_update(campaign)
        self._fill(prepared.draft)
        self._start_editing(prepared.based_on)
        self._say("info", f"Opened campaign “{prepared.based_on.name}” as the server has it.")

    def apply_preset(self, name: str) -> None:
        """A schedule preset: see ``ScheduleEditor.apply_preset``."""
        self.schedule.apply_preset(name)

    def new_campaign(self) -> None:
        """Clear the form for the next campaign (the time zone stays); a new id is minted."""
        with self._hold():
            self.name_input.value = ""
            self.status_input.value = CampaignStatus.DRAFT.value
            self.seat_picker.set_ids([])
            self.campaign_id_input.value = ""
            self.schedule.apply_preset("weekdays")
            self._fresh()
        self.set_trait("touched", [])
        self._rebuild()

    def duplicate(self) -> None:
        """Keep every field but give the campaign a new name and a new id (a new campaign)."""
        name = self.name_input.value.strip()
        self.create_as_new(f"{name} (copy)" if name else "")
        self._say("info", "Duplicated: check the new name, then press Create campaign.", "dup")

    def create_as_new(self, name: str | None = None) -> None:
        """Stop editing: the same fields (``name`` if given) become a new campaign with an id
        of its own, sent by the next Create campaign."""
        with self._hold():
            if name is not None:
                self.name_input.value = name
            self.campaign_id_input.value = ""
            self._hidden.pop("created_at", None)
            self._fresh()
        self._say("info", "A new campaign from these fields: check it, then press Create.", "new")

    def pause(self) -> Attempt | None:
        """Pause the campaign being edited (only its status changes)."""
        return self._set_status(CampaignStatus.PAUSE)

    def resume(self) -> Attempt | None:
        """Set the campaign being edited running again (only its status changes)."""
        return self._set_status(CampaignStatus.RUN)

    def ask_delete(self) -> None:
        """Show the delete confirmation, naming the campaign (what Delete… does)."""
        if self.editing is not None:
            self.edit_controls.ask_delete(self.editing)

    def delete(self) -> Attempt | None:
        """Delete the campaign being edited, now (the button asks first). Afterwards the form
        holds its fields as a new campaign. Never raises for an API error."""
        if self._refused("" if self.editing else "No campaign is being edited."):
            return None
        assert self.editing is not None
        attempt = self._call(self.client.prepare_delete(self.editing), "Deleting…")
        if attempt.ok:
            self.edit_controls.drop_campaign(self.editing.campaign_id)
            message = self.message.value
            self.create_as_new()
            self.message.value = message
        return attempt

    def reload(self) -> None:
        """Show the campaign as the server has it now (after a conflict: their version)."""
        if self._conflict is not None and self._conflict.current is not None:
            self.edit(self._conflict.current)
        elif self.editing is not None:
            self.edit(self.editing.campaign_id)

    def refresh_campaigns(self) -> None:
        """Read the account's campaigns again for the picker."""
        try:
            frame = self.client.list_campaigns(progress=False)
        except AlsonaError as exc:
            self.edit_controls.say(f"The account's campaigns could not be read ({exc.message}).")
            return
        self.edit_controls.say("")
        self.edit_controls.set_campaigns(frame.to_dict("records"))

    def save_template(self, path: str | Path | None = None) -> str:
        """The form's settings as template JSON (no id), written to ``path`` when given; the
        Save button offers it as a download. Raises ``OSError`` when ``path`` cannot be
        written."""
        text = template_json(self._read())
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        encoded = base64.b64encode(text.encode()).decode()
        self.template_link.value = (
            f'<a download="campaign-template.json" href="data:application/json;base64,'
            f'{encoded}">Download the template (campaign-template.json)</a>'
        )
        return text

    def load_template(self, source: str | Path | bytes | Mapping[str, Any]) -> None:
        """Fill the form from a template (a path, its bytes or a dict) as a new campaign.
        Raises ``ValueError`` for something that is not a usable template (the form is left as
        it was) and ``OSError`` for a file that cannot be read."""
        fields = read_template(source)
        base = {k: v for k, v in self._read().items() if k not in ("campaign_id", "created_at")}
        try:
            draft = CampaignDraft.model_validate({**base, **fields, "name": "x", "seats": ["x"]})
        except ValidationError as exc:
            raise ValueError("; ".join(text for _k, text in problems(exc))) from None
        with self._hold():
            self.name_input.value = str(fields.get("name", base["name"]))
            self.status_input.value = draft.status.value
            self.seat_picker.set_ids([str(s) for s in fields.get("seats", base["seats"])])
            self.schedule.value = {d: w.model_dump() for d, w in draft.schedule.days().items()}
            self.zone_picker.set_minutes(draft.timezone)
        self.create_as_new()
        self._say("info", "Template loaded: a new campaign, with an id of its own.", "template")

    def to_code(self) -> str:
        """Python that builds the current draft (``CampaignDraft(...)``)."""
        return draft_code(self.draft, self.errors)

    def show_code(self) -> str:
        """Show ``to_code()`` under the form, following every change until hidden (what Show
        as Python does; pressed again, it hides), and return it."""
        self._code_shown = True
        self.set_code_shown(True, self.to_code())
        return str(self.code.value)

    def _set_status(self, status: CampaignStatus) -> Attempt | None:
        if self._refused("" if self.editing else "No campaign is being edited."):
            return None
        assert self.editing is not None
        attempt = self._call(
            self.client.prepare_update(self.editing, status=status.value), f"{status.value}…"
        )
        if attempt.ok and attempt.campaign is not None:
            with self._hold():
                self.status_input.value = status.value
            self._start_editing(attempt.campaign)
        return attempt

    def _on_pick(self, change: dict[str, Any]) -> None:
        campaign_id = self.edit_controls.picked(change["new"])
        if campaign_id is None or (self.editing and self.editing.campaign_id == campaign_id):
            return
        try:
            self.edit(campaign_id)
        except AlsonaError as exc:
            self._say("error", f"Could not open {campaign_id}: {words.reason(exc, 'update')}.")

    def _on_upload(self, change: dict[str, Any]) -> None:
        files = change["new"]
        if not files:
            return
        try:
            self.load_template(bytes(files[0]["content"]))
        except ValueError as exc:
            self._say("error", f"Not loaded: {exc}", "alsona-template-error")

    def _toggle_code(self) -> None:
        if self._code_shown:
            self._code_shown = False
            self.set_code_shown(False)
        else:
            self.show_code()
