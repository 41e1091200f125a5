"""``CampaignForm``: layout and wiring of the campaign form over small widgets.

The pieces, each an ordinary widget with a ``value``: ``ScheduleEditor`` (``_schedule``),
``ZonePicker`` (``_zone``), ``SeatPicker`` (``_seats``); the HTML comes from pure functions
in ``_render``; ``KeyShield`` (``_keys``) keeps keystrokes inside the form. Every change goes
to one observer that reads the widgets into a plain dict, validates it with the model and
shows the model's own plain sentences (``problems``) next to the fields: no widget holds a rule.

Exactly once (issue 9): unless an id is typed, the form mints one campaign id per new campaign
and keeps it until that campaign is created, so pressing Create again after an unclear outcome
re-sends the same id and cannot make a second campaign. The preview shows the exact body that
``client.prepare`` builds, id included.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import traitlets
from pydantic import ValidationError

from .._attempt import Attempt
from .._client import AlsonaClient
from .._errors import AlsonaError, InvalidDraftError
from .._models import (
    DAYS,
    CampaignDraft,
    CampaignStatus,
    WeeklySchedule,
    mint_campaign_id,
    problems,
)
from .._results import ResultsLog, attempt_row, rows_to_frame
from . import _render as render
from . import _words as words
from ._keys import KeyShield
from ._schedule import ScheduleEditor
from ._seats import SeatPicker
from ._zone import MINUTES, NO_ZONE, ZonePicker

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MINUTES", "NO_ZONE", "CampaignForm", "ScheduleEditor", "SeatPicker", "ZonePicker"]

# Where a problem is shown: its field key -> the error widget.
_SLOTS = ("name", "status", "seats", "campaign_id", "timezone")
# A second click that the kernel receives within this time after a create finished was
# queued while the request ran (a double click), not pressed after reading the result.
_DOUBLE_CLICK_SECONDS = 0.4


class CampaignForm(widgets.VBox):  # type: ignore[misc]
    """A form to create one campaign at a time with ``client``.

    ``seats``: a mapping label -> seat id, or a list of ids, to pick from; an empty list to
    type ids. Without it the form asks the account for its seats (``client.list_seats()``)
    and, when that fails, takes typed ids and says why. ``log``: the ``ResultsLog`` every
    attempt is recorded in (a new one when not given), available as ``results_log``.
    ``zone_date``: the date time zones are converted at (today).

    Programmatic use: ``load(draft)``, ``draft`` (an observable trait:
    ``form.observe(callback, "draft")``), ``errors``, ``payload``, ``create()``,
    ``new_campaign()``, ``duplicate()``, ``results``, ``close()``.
    """

    draft = traitlets.Instance(CampaignDraft, allow_none=True, read_only=True)

    def __init__(
        self,
        client: AlsonaClient,
        seats: Mapping[str, str] | Sequence[str] | None = None,
        log: ResultsLog | None = None,
        *,
        zone_date: date | None = None,
    ) -> None:
        self.client = client
        self.results_log = log if log is not None else ResultsLog()
        self.zone_date = zone_date
        self.attempts: list[Attempt] = []
        self._payload: dict[str, Any] | None = None
        self._errors: list[str] = []
        self._hidden: dict[str, Any] = {}  # account_id / created_at of a loaded draft
        self._minted: str | None = None  # the id minted for the campaign being made
        self._unsure_id: str | None = None  # an id whose last try had an unknown outcome
        self._quiet = False
        self._busy = False
        self._created_state: dict[str, Any] | None = None
        self._last_finish = 0.0

        wide = {"description_width": "110px"}
        self.banner = widgets.HTML().add_class("alsona-banner")
        self.name_input = widgets.Text(
            description="Name",
            placeholder="e.g. Spring webinar follow-up",
            style=wide,
            layout={"width": "440px"},
        ).add_class("alsona-name")
        self.status_input = widgets.ToggleButtons(
            options=[s.value for s in CampaignStatus],
            value=CampaignStatus.DRAFT.value,
            tooltips=[
                "Created, not sending yet",
                "Starts sending at once",
                "Created paused",
                "Created as finished",
            ],
            style={"button_width": "80px"},
        ).add_class("alsona-status")
        seat_choices, seat_note = self._seat_list(seats)
        self.seat_picker = SeatPicker(seat_choices, note=seat_note)
        self.campaign_id_input = widgets.Text(
            description="Campaign ID",
            placeholder="optional: leave empty and one is made for you",
            style=wide,
            layout={"width": "440px"},
        ).add_class("alsona-campaign-id")
        self.error_labels: dict[str, widgets.HTML] = {
            slot: widgets.HTML().add_class(f"alsona-error-{slot.replace('_', '-')}")
            for slot in (*_SLOTS, "other")
        }
        self.schedule = ScheduleEditor()
        self.zone_picker = ZonePicker(on=zone_date)
        self.week_picture = widgets.HTML().add_class("alsona-week")
        self.preview = widgets.HTML().add_class("alsona-preview")
        self.confirm_run = widgets.Checkbox(
            value=False,
            indent=False,
            description="I understand: status RUN in LIVE mode starts real outreach now",
            layout={"width": "auto", "display": "none"},
        ).add_class("alsona-confirm-run")
        self.create_button = widgets.Button(
            description="Create campaign",
            button_style="primary",
            icon="paper-plane",
            layout={"width": "180px"},
        ).add_class("alsona-create")
        self.new_button = widgets.Button(
            description="New campaign", icon="file", tooltip="Clear the form for the next one"
        ).add_class("alsona-new")
        self.duplicate_button = widgets.Button(
            description="Duplicate",
            icon="copy",
            tooltip="Keep the fields, with a new name and a new campaign id",
        ).add_class("alsona-duplicate")
        self.code_button = widgets.Button(
            description="Show as Python", icon="code", layout={"width": "160px"}
        ).add_class("alsona-copy-code")
        self.copy_button = self.code_button  # the name before issue 11
        self.reason = widgets.HTML().add_class("alsona-reason")
        self.message = widgets.HTML().add_class("alsona-message")
        self.results_table = widgets.HTML().add_class("alsona-results")
        self.code = widgets.Textarea(
            layout={"width": "100%", "height": "220px", "display": "none"}
        ).add_class("alsona-code")

        self.create_button.on_click(self._on_create_click)
        self.new_button.on_click(lambda _b: self.new_campaign())
        self.duplicate_button.on_click(lambda _b: self.duplicate())
        self.code_button.on_click(lambda _b: self.show_code())
        for widget in (
            self.name_input,
            self.status_input,
            self.seat_picker,
            self.campaign_id_input,
            self.schedule,
            self.zone_picker,
            self.confirm_run,
        ):
            widget.observe(self._on_change, names="value")
        self.zone_picker.observe(self._on_change, names="problem")

        def section(title: str) -> widgets.HTML:
            return widgets.HTML(f"<b>{render.esc(title)}</b>")

        def row(*children: widgets.Widget) -> widgets.HBox:
            return widgets.HBox(list(children)).add_class("alsona-row")

        super().__init__(
            [
                widgets.HTML(render.STYLE),
                KeyShield(),
                self.banner,
                row(self.name_input, self.error_labels["name"]),
                row(
                    widgets.HTML(render.field_label("Status"), layout={"flex": "0 0 110px"}),
                    self.status_input,
                    self.error_labels["status"],
                ),
                row(self.seat_picker, self.error_labels["seats"]),
                row(self.campaign_id_input, self.error_labels["campaign_id"]),
                section("Schedule: hours in the campaign's time zone; 9 – 17 means 9:00 to 17:00"),
                self.schedule,
                row(self.zone_picker, self.error_labels["timezone"]),
                self.zone_picker.info,
                section("Week"),
                self.week_picture,
                section("Request body (exactly what Create campaign sends)"),
                self.preview,
                self.error_labels["other"],
                self.confirm_run,
                row(self.create_button, self.new_button, self.duplicate_button, self.code_button),
                self.reason,
                self.message,
                self.code,
                section("Sent from this form"),
                self.results_table,
            ]
        )
        self.add_class("alsona-form")
        self._show_banner()
        self._show_results()
        self._rebuild()

    # -- the programmatic surface ---------------------------------------------------------

    @property
    def errors(self) -> list[str]:
        """One plain sentence per problem (empty when the draft can be created)."""
        return list(self._errors)

    @property
    def payload(self) -> dict[str, Any] | None:
        """The body ``Create campaign`` sends (account and campaign id filled in), or ``None``."""
        return self._payload

    @property
    def preview_text(self) -> str:
        """The JSON shown in the preview (empty while invalid)."""
        return render.preview_text(self._payload)

    @property
    def results(self) -> pd.DataFrame:
        """This form's attempts as a DataFrame (see ``ResultsLog.to_frame``)."""
        return rows_to_frame([attempt_row(a) for a in self.attempts])

    # The widgets as they were named before issue 11 (tests, notebooks).
    @property
    def seats_input(self) -> SeatPicker:
        return self.seat_picker

    @property
    def day_checkboxes(self) -> dict[str, widgets.Checkbox]:
        return self.schedule.checkboxes

    @property
    def hour_sliders(self) -> dict[str, widgets.IntRangeSlider]:
        return self.schedule.sliders

    @property
    def preset_buttons(self) -> dict[str, widgets.Button]:
        return self.schedule.preset_buttons

    def load(self, draft: CampaignDraft | Mapping[str, Any]) -> None:
        """Fill the form from ``draft`` (a ``CampaignDraft`` or its dict / body form).
        Raises ``pydantic.ValidationError`` for an invalid one (the form is left as it was)."""
        if not isinstance(draft, CampaignDraft):
            draft = CampaignDraft.from_payload(dict(draft))
        with self._hold():
            self.name_input.value = draft.name
            self.status_input.value = draft.status.value
            self.seat_picker.set_ids(list(draft.seats))
            self.campaign_id_input.value = draft.campaign_id or ""
            self.schedule.value = {d: w.model_dump() for d, w in draft.schedule.days().items()}
            self.zone_picker.set_minutes(draft.timezone)
            self.confirm_run.value = False
            self._hidden = {
                k: v
                for k, v in (("account_id", draft.account_id), ("created_at", draft.created_at))
                if v is not None
            }
            self._fresh()
        self._show_banner()

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
            self.confirm_run.value = False
            self._hidden = {}
            self._fresh()
        self._show_banner()

    def duplicate(self) -> None:
        """Keep every field but give the campaign a new name and a new id."""
        with self._hold():
            name = self.name_input.value.strip()
            self.name_input.value = f"{name} (copy)" if name else ""
            self.campaign_id_input.value = ""
            self.confirm_run.value = False
            self._hidden.pop("created_at", None)
            self._fresh()
        self.message.value = render.line(
            "info", "Duplicated: check the new name, then press Create campaign.", "alsona-dup"
        )

    def create(self) -> Attempt | None:
        """Create the campaign now (what the button does). Never raises for an API error:
        returns the ``Attempt`` (recorded in ``results_log``), or ``None`` when nothing was
        sent (invalid draft, unconfirmed RUN in LIVE mode, or a request already running)."""
        if self._busy:
            return None
        blocker = self._blocker()
        if blocker:
            self.message.value = render.line("warn", blocker, "alsona-message-blocked")
            return None
        draft = self._to_send(self.draft)
        self._busy = True
        self._render_button()
        self.message.value = render.line("info", "Creating…", "alsona-message-busy")
        try:
            prepared = self.client.prepare(draft)
            self._payload = prepared.payload  # the preview shows exactly what goes out
            self.preview.value = render.preview_html(self._payload)
            campaign_id = self._payload["campaign"].get("campaign_id")
            unsure = campaign_id is not None and campaign_id == self._unsure_id
            attempt = self.client.attempt(prepared, log=self.results_log, may_exist=unsure)
        finally:
            self._busy = False
            self._last_finish = time.monotonic()
        self.attempts.append(attempt)
        outcome = attempt.outcome
        self._unsure_id = campaign_id if outcome == "unknown" else None
        kind, text, cls, mark = words.attempt_message(
            attempt, live=not self.client.is_sandbox, same_id=self._unsure_id
        )
        self.message.value = render.line(kind, text, cls, mark=mark)
        self._show_results()
        if outcome == "created":
            self._created_state = self._read()
            self._minted = None  # the next campaign gets its own id
            self.confirm_run.value = False  # each LIVE RUN needs its own confirmation
        self._render_button()
        return attempt

    def to_code(self) -> str:
        """Python that builds the current draft (``CampaignDraft(...)``)."""
        draft = self.draft
        if draft is None:
            return "# fix the problems shown in the form first:\n" + "\n".join(
                f"# - {e}" for e in self._errors
            )
        schedule = draft.schedule
        first = schedule.monday.start_hour, schedule.monday.end_hour
        if schedule == WeeklySchedule.weekdays(*first):
            sched = "WeeklySchedule.weekdays({}, {})".format(*first)
        elif schedule == WeeklySchedule.every_day(*first):
            sched = "WeeklySchedule.every_day({}, {})".format(*first)
        else:
            days = "".join(
                f"        {day!r}: {w.model_dump()!r},\n" for day, w in schedule.days().items()
            )
            sched = "WeeklySchedule.model_validate({\n" + days + "    })"
        lines = [
            "from alsona_nb import CampaignDraft, CampaignStatus, WeeklySchedule",
            "",
            "draft = CampaignDraft(",
            f"    name={draft.name!r},",
            f"    seats={list(draft.seats)!r},",
            f"    schedule={sched},",
            f"    status=CampaignStatus.{draft.status.name},",
        ]
        for field in ("timezone", "campaign_id", "account_id", "created_at"):
            value = getattr(draft, field)
            if value is not None:
                lines.append(f"    {field}={value!r},")
        return "\n".join([*lines, ")"])

    def show_code(self) -> str:
        """Show ``to_code()`` under the form (what ``Show as Python`` does) and return it."""
        text = self.to_code()
        self.code.value = text
        self.code.layout.display = None
        return text

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

    def __repr__(self) -> str:
        # Short and stable: the default widget repr lists every child's value.
        state = "valid" if self._payload is not None else f"{len(self._errors)} problem(s)"
        return (
            f"<CampaignForm {self.client.mode.upper()} account={self.client.account_id!r} "
            f"{state}, {len(self.attempts)} attempt(s)>"
        )

    def _repr_html_(self) -> str:
        """Where widgets are not drawn (a notebook not run yet, a static page): the banner,
        how to get the form, and the attempts so far."""
        note = render.line(
            "info", "The campaign form appears here when the notebook runs: Run ▸ Run All Cells."
        )
        parts: list[str] = [self.banner.value, note, self.results_table.value]
        return '<div class="alsona-form-static">' + "".join(parts) + "</div>"

    # -- the one observer -----------------------------------------------------------------

    @contextmanager
    def _hold(self) -> Iterator[None]:
        """Apply several widget changes, then rebuild once."""
        quiet, self._quiet = self._quiet, True
        try:
            yield
        finally:
            self._quiet = quiet
            if not quiet:
                self._rebuild()

    def _on_change(self, change: dict[str, Any]) -> None:
        if not self._quiet:
            self._rebuild()

    def _fresh(self) -> None:
        """Forget the campaign just made: a new one starts (new id, no message)."""
        self._minted = None
        self._unsure_id = None
        self._created_state = None
        self.message.value = ""

    def _seat_list(
        self, seats: Mapping[str, str] | Sequence[str] | None
    ) -> tuple[Mapping[str, str] | Sequence[str] | None, str]:
        """The seats to show (``None``: typed ids), and a note when the account's list could
        not be read."""
        if seats is not None:
            return (seats or None), ""
        try:
            found: Mapping[str, str] = self.client.list_seats()
        except AlsonaError as exc:
            return None, f"The account's seats could not be fetched ({exc.message}): type seat ids."
        if not found:
            return None, "The account lists no seats: type seat ids."
        return found, ""

    def _read(self) -> dict[str, Any]:
        """The widgets as the plain dict a ``CampaignDraft`` is validated from."""
        return {
            "name": self.name_input.value,
            "status": self.status_input.value,
            "seats": list(self.seat_picker.value),
            "schedule": {day: list(v) for day, v in self.schedule.value.items()},
            "timezone": self.zone_picker.value,
            "campaign_id": self.campaign_id_input.value.strip() or None,
            **self._hidden,
        }

    def _to_send(self, draft: CampaignDraft | None) -> CampaignDraft:
        """``draft`` with the id to send: the typed one, or the one minted for it."""
        assert draft is not None
        if draft.campaign_id is not None or not self.client.mint_ids:
            return draft
        if self._minted is None:
            self._minted = mint_campaign_id()
        return draft.model_copy(update={"campaign_id": self._minted})

    def _rebuild(self) -> None:
        data = self._read()
        at: dict[str, list[str]] = {}
        if self.zone_picker.problem:
            at["timezone"] = [self.zone_picker.problem]
        try:
            draft: CampaignDraft | None = CampaignDraft.model_validate(data)
        except ValidationError as exc:
            draft = None
            for key, text in problems(exc):
                at.setdefault(key if key in (*_SLOTS, *DAYS) else "other", []).append(text)
        if at:
            draft = None
        payload = None
        if self._created_state is not None and data == self._created_state:
            payload = self._payload  # keep showing the body that was just sent
        elif draft is not None:
            try:
                payload = self.client.prepare(self._to_send(draft)).payload
            except InvalidDraftError as exc:  # no account id anywhere
                at["other"] = [text for _key, text in exc.problems] or [exc.message]
        self._payload = payload
        self.set_trait("draft", draft)
        self._errors = [e for msgs in at.values() for e in msgs]
        if self._created_state is not None and data != self._created_state:
            self._created_state = None
            self.message.value = ""
        self._render(data, at)

    def _render(self, data: dict[str, Any], at: dict[str, list[str]]) -> None:
        for slot, label in self.error_labels.items():
            label.value = "".join(render.line("error", m, "alsona-error") for m in at.get(slot, ()))
        self.schedule.show_problems({day: at.get(day, []) for day in DAYS})
        live_run = not self.client.is_sandbox and data["status"] == CampaignStatus.RUN.value
        self.confirm_run.layout.display = None if live_run else "none"
        notes = {day: "; ".join(at[day]) for day in DAYS if day in at}
        self.week_picture.value = render.week_html(data["schedule"], notes)
        self.preview.value = render.preview_html(
            self._payload, "No request body yet: the form has problems (listed by the button)."
        )
        self._render_button()

    def _blocker(self) -> str | None:
        """Why the button is disabled right now, or ``None``."""
        if self._payload is None:
            return "Fix the problems listed under the button first."
        if self._created_state is not None:
            return "Created. To make another: change the form, or press New campaign or Duplicate."
        if (
            not self.client.is_sandbox
            and self.draft is not None
            and self.draft.status is CampaignStatus.RUN
            and not self.confirm_run.value
        ):
            return "LIVE and status RUN: tick the confirmation above the button first."
        return None

    def _render_button(self) -> None:
        blocker = "A request is running." if self._busy else self._blocker()
        self.create_button.disabled = blocker is not None
        self.create_button.tooltip = blocker or "Send this campaign to the API"
        self.create_button.description = "Creating…" if self._busy else "Create campaign"
        if self._busy or blocker is None:
            self.reason.value = ""
        elif self._payload is None and self._errors:
            self.reason.value = render.problems_html(self._errors)
        else:
            self.reason.value = render.line("muted", blocker, "alsona-blocked")

    def _on_create_click(self, _button: widgets.Button) -> None:
        if time.monotonic() - self._last_finish < _DOUBLE_CLICK_SECONDS:
            return  # queued behind the request that just finished: a double click
        self.create()

    # -- pieces of HTML -------------------------------------------------------------------

    def _show_banner(self) -> None:
        self.banner.value = render.banner_html(
            live=not self.client.is_sandbox,
            account=self._hidden.get("account_id") or self.client.account_id,
            base_url=self.client.base_url,
        )

    def _show_results(self) -> None:
        """The attempts so far as a table, for people who never see a code cell (Voila)."""
        rows = [words.result_row(a, self.seat_picker.label) for a in self.attempts]
        self.results_table.value = render.results_html(rows)
