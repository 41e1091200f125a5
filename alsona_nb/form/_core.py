"""The core of ``CampaignForm``: its state, the one observer, and the main button.

Every change goes to one observer (``_rebuild``) that reads the widgets into a plain dict,
validates it with the model and prepares the body the button would send: a create while the
form holds a new campaign, an update (with its diff) while it edits one. Problems show in
plain words next to the fields a person has touched. The button's state is an observer of
the read-only traits ``payload``, ``errors``, ``busy``, ``editing``, ``diff`` and ``touched``.

Exactly once: unless an id is typed, the form mints one campaign id per new campaign and
keeps it until that campaign is created, so pressing Create again after an unclear outcome
re-sends the same id, after asking the server whether the earlier press made it (then the
form says so and edits that campaign). Once created, the button updates that campaign.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any

import traitlets
from pydantic import ValidationError

from .._attempt import Attempt, PreparedCreate, PreparedDelete, PreparedUpdate
from .._client import AlsonaClient
from .._errors import AlsonaError, ConflictError, InvalidDraftError
from .._models import DAYS, Campaign, CampaignDraft, CampaignStatus, mint_campaign_id, problems
from .._results import ResultsLog, attempt_row, rows_to_frame
from . import _render as render
from . import _words as words
from ._build import SLOTS
from ._seats import account_seats
from ._view import FormView

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EVERY_FIELD", "FormCore"]

# A second click that the kernel receives within this time after a request finished was
# queued while the request ran (a double click), not pressed after reading the result.
_DOUBLE_CLICK_SECONDS = 0.4
EVERY_FIELD = (*SLOTS, "schedule", "other")


class FormCore(FormView):
    """The form's state, validation and main button (see ``CampaignForm``)."""

    draft = traitlets.Instance(CampaignDraft, allow_none=True, read_only=True)
    payload = traitlets.Dict(allow_none=True, default_value=None, read_only=True)
    errors = traitlets.List(traitlets.Unicode(), read_only=True)
    busy = traitlets.Bool(False, read_only=True)
    editing = traitlets.Instance(Campaign, allow_none=True, read_only=True)
    diff = traitlets.Dict(read_only=True)
    touched = traitlets.List(traitlets.Unicode(), read_only=True)

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
        self.client = client
        self.results_log = log if log is not None else ResultsLog()
        self.zone_date = zone_date
        self.attempts: list[Attempt] = []
        self._hidden: dict[str, Any] = {}  # account_id / created_at of a loaded draft
        self._minted: str | None = None  # the id minted for the campaign being made
        self._unsure_id: str | None = None  # an id whose last create had an unknown outcome
        self._update: PreparedUpdate | None = None
        self.problems_at: dict[str, list[str]] = {}
        self._conflict: ConflictError | None = None
        self._code_shown = False
        self._quiet = False
        self._last_finish = 0.0
        super().__init__(*account_seats(client, seats), zone_date=zone_date, details=details)
        self.shield.page_title = page_title
        self._earlier = [words.journal_row(r, self.seat_picker.label) for r in log or ()]
        self._wire()
        self._show_banner()
        self._show_results()
        self._rebuild()

    def _wire(self) -> None:
        fields = self.field_widgets()
        self._slot_of = {id(w): key for key, w in fields.items()}
        for widget in (*fields.values(), self.confirm_run):
            widget.observe(self._on_change, names="value")
        self.zone_picker.observe(self._on_change, names="problem")
        self.confirm_run.observe(self._render_button, names="value")
        self.details_button.observe(lambda c: self.set_details_shown(c["new"]), names="value")
        self.create_button.on_click(lambda _b: self._on_main_click())

    @property
    def preview_text(self) -> str:
        """The JSON shown in the preview (empty while invalid)."""
        return render.preview_text(self.payload)

    @property
    def results(self) -> pd.DataFrame:
        """This form's attempts as a DataFrame (see ``ResultsLog.to_frame``)."""
        return rows_to_frame([attempt_row(a) for a in self.attempts])

    def create(self) -> Attempt | None:
        """Create the campaign now (what the button does while not editing). Never raises for
        an API error: returns the ``Attempt`` (recorded in ``results_log``), or ``None`` when
        nothing was sent (invalid draft, unconfirmed RUN in LIVE mode, a request running, the
        form editing a campaign, or the earlier unclear press turned out to have made it:
        the form then edits that campaign)."""
        editing = "Editing a campaign: press Create as new to make another."
        if self._refused(editing if self.editing else self._blocker()):
            return None
        draft = self._to_send(self.draft)
        unsure = draft.campaign_id is not None and draft.campaign_id == self._unsure_id
        if unsure and (found := self._look_up(draft)) is not None:  # the earlier press made it
            self._say("ok", words.exists_message(found, live=self._live), "alsona-exists")
            return None
        prepared = self.client.prepare(draft)
        self.set_trait("payload", prepared.payload)  # the preview shows exactly what goes out
        self.preview.value = render.preview_html(self.payload)
        attempt = self._call(prepared, "Creating…", may_exist=unsure)
        if attempt.ok and attempt.campaign is not None:
            self._minted = None  # the next campaign gets its own id
            self.confirm_run.value = False  # each LIVE RUN needs its own confirmation
            self._start_editing(attempt.campaign)
        return attempt

    def update(self, *, overwrite: bool = False) -> Attempt | None:
        """Send the changes to the campaign being edited (what Update campaign does). A change
        someone else made since it was read is a conflict: nothing is sent, and the form
        offers to reload or to overwrite (``overwrite=True`` sends anyway). Never raises for
        an API error; ``None`` when nothing was sent."""
        blocker = "" if self.editing else "No campaign is being edited: press Create campaign."
        if self._refused(blocker or self._blocker(overwrite=overwrite)) or self._update is None:
            return None
        attempt = self._call(self._update, "Updating…", overwrite=overwrite)
        if attempt.ok and attempt.campaign is not None:
            self._start_editing(attempt.campaign)
        elif isinstance(attempt.error, ConflictError):
            self._conflict = attempt.error
            self.edit_controls.show_conflict(attempt.error.changed)
        return attempt

    @property
    def _live(self) -> bool:
        return not self.client.is_sandbox

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
        if self._quiet:
            return
        slot = self._slot_of.get(id(change["owner"]))
        if slot is not None and slot not in self.touched:
            self.set_trait("touched", [*self.touched, slot])
        self._rebuild()

    def _fill(self, draft: CampaignDraft) -> None:
        with self._hold():
            self.fill_fields(draft)
            self._hidden = {
                k: v
                for k, v in (("account_id", draft.account_id), ("created_at", draft.created_at))
                if v is not None
            }
            self._fresh()
            self.set_trait("touched", list(EVERY_FIELD))
        self._show_banner()

    def _fresh(self) -> None:
        """Forget the campaign just made or edited: a new one starts (new id, no message)."""
        self._minted = self._unsure_id = self._conflict = None
        self.confirm_run.value = False
        self.message.value = ""
        self.campaign_id_input.disabled = False
        self.set_trait("editing", None)
        self.edit_controls.show_for(None)

    def _start_editing(self, campaign: Campaign) -> None:
        self._unsure_id = self._minted = self._conflict = None
        with self._hold():
            self.campaign_id_input.value = campaign.campaign_id
            self.campaign_id_input.disabled = True
            self.set_trait("editing", campaign)
        self.edit_controls.show_for(campaign)
        self.edit_controls.add_campaign(campaign)

    def _look_up(self, draft: CampaignDraft) -> Campaign | None:
        """The campaign with the draft's id when the account has it (the form then edits
        it); ``None`` when it is not there or cannot be read."""
        assert draft.campaign_id is not None
        account = {"account_id": draft.account_id} if draft.account_id else {}
        try:
            found: Campaign = self.client.get_campaign(draft.campaign_id, **account)
        except AlsonaError:  # not there (NotFoundError), or it cannot be asked now
            return None
        self._start_editing(found)
        return found

    def _read(self) -> dict[str, Any]:
        return self.read_fields(self._hidden)

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
                at.setdefault(key if key in (*SLOTS, *DAYS) else "other", []).append(text)
        if at:
            draft = None
        payload, diff = self._prepare(draft, at)
        self.problems_at = at
        with self.hold_trait_notifications():
            self.set_trait("draft", draft)
            self.set_trait("payload", payload)
            self.set_trait("diff", diff)
            self.set_trait("errors", [e for msgs in at.values() for e in msgs])
        if self._code_shown:
            self.code.value = self.to_code()
        self.show_state(data, at, self._live)

    def _prepare(
        self, draft: CampaignDraft | None, at: dict[str, list[str]]
    ) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """The body the button would send (and, when editing, what it changes)."""
        self._update = None
        if draft is None:
            return None, {}
        try:
            if self.editing is None:
                return self.client.prepare(self._to_send(draft)).payload, {}
            self._update = self.client.prepare_update(
                self.editing,
                name=draft.name,
                status=draft.status.value,
                seats=list(draft.seats),
                schedule=draft.schedule.model_dump(),
                timezone=draft.timezone,
                zone=draft.zone,
            )
            return self._update.payload, dict(self._update.diff)
        except InvalidDraftError as exc:  # no account id anywhere, or a refused change
            at["other"] = [text for _key, text in exc.problems] or [exc.message]
            return None, {}

    def _call(
        self, prepared: PreparedCreate | PreparedUpdate | PreparedDelete, doing: str, **kw: Any
    ) -> Attempt:
        """One call through ``client.attempt`` (never raises), said under the button."""
        self.set_trait("busy", True)
        self._say("info", doing, "alsona-message-busy")
        try:
            attempt: Attempt = self.client.attempt(prepared, log=self.results_log, **kw)
        finally:
            self.set_trait("busy", False)
            self._last_finish = time.monotonic()
        self.attempts.append(attempt)
        if isinstance(prepared, PreparedCreate):
            unknown = str(attempt.outcome) == "unknown"
            self._unsure_id = prepared.campaign_id if unknown else None
        kind, text, cls, mark = words.attempt_message(
            attempt, live=self._live, same_id=self._unsure_id
        )
        self.message.value = render.line(kind, text, cls, mark=mark)
        self._show_results()
        return attempt

    def _refused(self, blocker: str | None) -> bool:
        """Say why nothing is sent, when something stands in the way."""
        blocker = "A request is running." if self.busy else blocker
        if blocker:
            self.set_trait("touched", list(EVERY_FIELD))  # a press shows every problem
            self._rebuild()
            self._say("warn", blocker, "alsona-message-blocked")
        return bool(blocker)

    def _blocker(self, *, overwrite: bool = False) -> str | None:
        """Why the button cannot send right now, or ``None``."""
        if self.payload is None:
            return "Fix the problems listed under the button first."
        if self.editing is not None and not self.diff and not overwrite:
            return "No changes to send: the form matches the campaign on the server."
        running = self.draft is not None and self.draft.status is CampaignStatus.RUN
        starts = self.editing is None or "status" in self.diff  # new outreach would start
        if self._live and running and starts and not self.confirm_run.value:
            return "LIVE and status RUN: tick the confirmation above the button first."
        return None

    @traitlets.observe("payload", "errors", "busy", "editing", "diff", "touched")
    def _render_button(self, _change: Any = None) -> None:
        """The button and the line under it follow the form's state."""
        self.show_button(self._blocker(), busy=self.busy, editing=self.editing is not None)

    def _say(self, kind: str, text: str, cls: str = "") -> None:
        self.say(kind, text, cls if cls.startswith("alsona") or not cls else f"alsona-{cls}")

    def _on_main_click(self) -> None:
        if time.monotonic() - self._last_finish < _DOUBLE_CLICK_SECONDS:
            return  # queued behind the request that just finished: a double click
        if self.editing is not None:
            self.update()
        else:
            self.create()

    def _show_banner(self) -> None:
        self.show_banner(self._live, self._hidden.get("account_id") or self.client.account_id)

    def _show_results(self) -> None:
        """The journal's earlier rows and this form's attempts, for people who never see a
        code cell (Voila)."""
        rows = [words.result_row(a, self.seat_picker.label) for a in self.attempts]
        self.results_table.value = render.results_html([*self._earlier, *rows])
