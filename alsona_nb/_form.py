"""``CampaignForm``: an ipywidgets form over one ``CampaignDraft``.

The form is a thin view: every widget change goes to one observer that reads the widgets
into a plain dict, validates it with ``CampaignDraft.model_validate`` and shows
``describe_errors`` next to the fields. No widget re-implements a rule of the model.
Only standard ipywidgets 8 controls are used, so it works in JupyterLab, Notebook 7, Voila
and VS Code.
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
from pydantic import ValidationError

from ._client import AlsonaClient, Attempt
from ._errors import (
    AlsonaError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TransportError,
)
from ._models import DAYS, CampaignDraft, CampaignStatus, DayWindow, WeeklySchedule, describe_errors
from ._results import ResultsLog, attempt_row, rows_to_frame
from ._timezones import ZoneOffset, zone_names, zone_offset

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CampaignForm"]

NO_ZONE = "(not set)"
MINUTES = "(offset in minutes)"
_DEFAULT_HOURS = (9, 17)
_DAY_SHORT = {day: day[:3].capitalize() for day in DAYS}
# Where a problem is shown: the first part of the error's location -> the error widget key.
_ERROR_SLOTS = ("name", "status", "seats", "campaign_id", "timezone", *DAYS)
# A second click that the kernel receives within this time after a create finished was
# queued while the request ran (a double click), not pressed after reading the result.
_DOUBLE_CLICK_SECONDS = 0.4

_ERROR_WORDS: tuple[tuple[type[AlsonaError], str], ...] = (
    (BadRequestError, "the server refused the campaign"),
    (AuthenticationError, "the API key was not accepted"),
    (PermissionDeniedError, "this key may not create campaigns in this account"),
    (NotFoundError, "the account was not found"),
    (RateLimitError, "too many requests, try again in a moment"),
    (ServerError, "the server failed"),
    (TransportError, "no answer from the server"),
)


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _line(text: str, color: str, cls: str = "") -> str:
    return f'<div class="{cls}" style="color:{color}">{text}</div>' if text else ""


class CampaignForm(widgets.VBox):  # type: ignore[misc]
    """A form to create one campaign at a time with ``client``.

    ``seats``: the seat ids to pick from (without it, seat ids are typed in). ``log``: the
    ``ResultsLog`` every attempt is recorded in (a new one when not given), available as
    ``results_log``. ``zone_date``: the date time zones are converted at (today).

    Programmatic use: ``load(draft)``, ``draft``, ``errors``, ``payload``, ``create()``,
    ``results``.
    """

    def __init__(
        self,
        client: AlsonaClient,
        seats: list[str] | tuple[str, ...] | None = None,
        log: ResultsLog | None = None,
        *,
        zone_date: date | None = None,
    ) -> None:
        self.client = client
        self.results_log = log if log is not None else ResultsLog()
        self.zone_date = zone_date
        self.attempts: list[Attempt] = []
        self._draft: CampaignDraft | None = None
        self._payload: dict[str, Any] | None = None
        self._errors: list[str] = []
        self._hidden: dict[str, Any] = {}  # account_id / created_at of a loaded draft
        self._quiet = False
        self._busy = False
        self._created_state: dict[str, Any] | None = None
        self._last_finish = 0.0
        self._zones: dict[str, ZoneOffset] = {}

        wide = {"description_width": "110px"}
        self.banner = widgets.HTML().add_class("alsona-banner")
        self.name_input = widgets.Text(
            description="Name", placeholder="Spring webinar follow-up", style=wide
        ).add_class("alsona-name")
        self.status_input = widgets.Dropdown(
            description="Status",
            options=[s.value for s in CampaignStatus],
            value=CampaignStatus.DRAFT.value,
            style=wide,
        ).add_class("alsona-status")
        self.seats_input: widgets.SelectMultiple | widgets.TagsInput
        if seats is not None:
            self.seats_input = widgets.SelectMultiple(
                description="Seats",
                options=list(seats),
                rows=min(max(len(seats), 2), 6),
                style=wide,
            )
            seats_row: widgets.Widget = self.seats_input
        else:
            self.seats_input = widgets.TagsInput(value=[], allow_duplicates=True)
            seats_row = widgets.HBox(
                [widgets.Label("Seats", layout={"width": "110px"}), self.seats_input]
            )
        self.seats_input.add_class("alsona-seats")
        self.campaign_id_input = widgets.Text(
            description="Campaign ID",
            placeholder="optional: the server makes one",
            style=wide,
        ).add_class("alsona-campaign-id")

        self.error_labels: dict[str, widgets.HTML] = {
            slot: widgets.HTML().add_class(f"alsona-error-{slot.replace('_', '-')}")
            for slot in (*_ERROR_SLOTS, "other")
        }

        self.day_checkboxes: dict[str, widgets.Checkbox] = {}
        self.hour_sliders: dict[str, widgets.IntRangeSlider] = {}
        day_rows = []
        for day in DAYS:
            box = widgets.Checkbox(
                description=day.capitalize(),
                value=day not in ("saturday", "sunday"),
                indent=False,
                layout={"width": "110px"},
            ).add_class(f"alsona-day-{day}")
            slider = widgets.IntRangeSlider(
                value=_DEFAULT_HOURS,
                min=0,
                max=24,
                step=1,
                description="",
                continuous_update=False,
                layout={"width": "360px"},
                tooltip=f"{day.capitalize()} hours",
            ).add_class(f"alsona-hours-{day}")
            self.day_checkboxes[day] = box
            self.hour_sliders[day] = slider
            day_rows.append(widgets.HBox([box, slider, self.error_labels[day]]))
        self.preset_buttons = {
            "weekdays": widgets.Button(description="Weekdays 9-17"),
            "every_day": widgets.Button(description="Every day"),
            "clear": widgets.Button(description="Clear"),
        }
        for key, button in self.preset_buttons.items():
            button.add_class(f"alsona-preset-{key.replace('_', '-')}")
            button.on_click(lambda _b, key=key: self.apply_preset(key))

        self.timezone_input = widgets.Dropdown(
            description="Time zone",
            options=[*zone_names(), MINUTES, NO_ZONE],
            value="UTC",
            style=wide,
        ).add_class("alsona-timezone")
        self.minutes_input = widgets.IntText(
            value=0,
            description="Minutes",
            disabled=True,
            style={"description_width": "60px"},
            layout={"width": "150px"},
        ).add_class("alsona-timezone-minutes")
        self.timezone_info = widgets.HTML().add_class("alsona-timezone-info")

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
        self.copy_button = widgets.Button(
            description="Copy as code", icon="code", layout={"width": "150px"}
        ).add_class("alsona-copy-code")
        self.message = widgets.HTML().add_class("alsona-message")
        self.results_table = widgets.HTML().add_class("alsona-results")
        self.code = widgets.Textarea(
            layout={"width": "100%", "height": "190px", "display": "none"},
            description="",
            disabled=False,
        ).add_class("alsona-code")
        self.create_button.on_click(self._on_create_click)
        self.copy_button.on_click(lambda _b: self.show_code())

        self._inputs: list[widgets.Widget] = [
            self.name_input,
            self.status_input,
            self.seats_input,
            self.campaign_id_input,
            *self.day_checkboxes.values(),
            *self.hour_sliders.values(),
            self.timezone_input,
            self.minutes_input,
            self.confirm_run,
        ]
        for widget in self._inputs:
            widget.observe(self._on_change, names="value")

        def section(title: str) -> widgets.HTML:
            return widgets.HTML(f"<b>{title}</b>")

        super().__init__(
            [
                self.banner,
                widgets.HBox([self.name_input, self.error_labels["name"]]),
                widgets.HBox([self.status_input, self.error_labels["status"]]),
                widgets.HBox([seats_row, self.error_labels["seats"]]),
                widgets.HBox([self.campaign_id_input, self.error_labels["campaign_id"]]),
                section("Schedule (hours in the campaign's time zone; end hour not included)"),
                *day_rows,
                widgets.HBox(list(self.preset_buttons.values())),
                widgets.HBox(
                    [self.timezone_input, self.minutes_input, self.error_labels["timezone"]]
                ),
                self.timezone_info,
                section("Week"),
                self.week_picture,
                section("Request body (exactly what Create campaign sends)"),
                self.preview,
                self.error_labels["other"],
                self.confirm_run,
                widgets.HBox([self.create_button, self.copy_button]),
                self.message,
                self.code,
                self.results_table,
            ]
        )
        self.add_class("alsona-form")
        self._show_banner()
        self._rebuild()

    # -- the programmatic surface ---------------------------------------------------------

    @property
    def draft(self) -> CampaignDraft | None:
        """The draft the widgets describe, or ``None`` while something is invalid."""
        return self._draft

    @property
    def errors(self) -> list[str]:
        """One plain sentence per problem (empty when the draft can be created)."""
        return list(self._errors)

    @property
    def payload(self) -> dict[str, Any] | None:
        """The body ``Create campaign`` sends (account filled in), or ``None``."""
        return self._payload

    @property
    def preview_text(self) -> str:
        """The JSON shown in the preview (empty while invalid)."""
        if self._payload is None:
            return ""
        return _FLAT_LIST.sub(_one_line, json.dumps(self._payload, indent=2, ensure_ascii=False))

    @property
    def results(self) -> pd.DataFrame:
        """This form's attempts as a DataFrame (see ``ResultsLog.to_frame``)."""
        return rows_to_frame([attempt_row(a) for a in self.attempts])

    def load(self, draft: CampaignDraft | Mapping[str, Any]) -> None:
        """Fill the form from ``draft`` (a ``CampaignDraft`` or its dict / body form)."""
        if not isinstance(draft, CampaignDraft):
            draft = CampaignDraft.from_payload(dict(draft))
        with self._hold():
            self.name_input.value = draft.name
            self.status_input.value = draft.status.value
            seats = list(draft.seats)
            if isinstance(self.seats_input, widgets.SelectMultiple):
                known = list(self.seats_input.options)
                missing = [s for s in seats if s not in known]
                if missing:  # a draft's seats are never dropped for not being in the list
                    self.seats_input.options = known + missing
                self.seats_input.value = tuple(seats)
            else:
                self.seats_input.value = seats
            self.campaign_id_input.value = draft.campaign_id or ""
            for day, window in draft.schedule.days().items():
                self.day_checkboxes[day].value = window.enabled
                self.hour_sliders[day].value = (window.start_hour, window.end_hour)
            zone = self.timezone_input.value
            if draft.timezone is None:
                self.timezone_input.value = NO_ZONE
            elif zone in (NO_ZONE, MINUTES) or self._zone(zone).minutes != draft.timezone:
                self.timezone_input.value = MINUTES
                self.minutes_input.value = draft.timezone
            self.confirm_run.value = False
            self._hidden = {
                k: v
                for k, v in (("account_id", draft.account_id), ("created_at", draft.created_at))
                if v is not None
            }
        self._created_state = None
        self.message.value = ""
        self._show_banner()

    def apply_preset(self, name: str) -> None:
        """``"weekdays"`` (Monday to Friday 9-17), ``"every_day"`` (tick all seven days,
        keeping their hours) or ``"clear"`` (untick all days, keeping their hours)."""
        with self._hold():
            if name == "weekdays":
                for day, window in WeeklySchedule.weekdays().days().items():
                    self.day_checkboxes[day].value = window.enabled
                    self.hour_sliders[day].value = (window.start_hour, window.end_hour)
            elif name in ("every_day", "clear"):
                for box in self.day_checkboxes.values():
                    box.value = name == "every_day"
            else:
                raise ValueError(f"unknown preset {name!r}: weekdays, every_day or clear")

    def create(self) -> Attempt | None:
        """Create the campaign now (what the button does). Never raises for an API error:
        returns the ``Attempt`` (recorded in ``results_log``), or ``None`` when nothing was
        sent (invalid draft, unconfirmed RUN in LIVE mode, or a request already running)."""
        if self._busy:
            return None
        blocker = self._blocker()
        if blocker:
            self.message.value = _line(_esc(blocker), "#b45309", "alsona-message-blocked")
            return None
        assert self._draft is not None
        draft = self._draft
        if draft.created_at is None:
            draft = draft.model_copy(update={"created_at": int(time.time() * 1000)})
        self._busy = True
        self._render_button()
        self.message.value = _line("Creating…", "#555", "alsona-message-busy")
        try:
            sent = self.client.prepare(draft)
            self._payload = sent.to_payload()  # the preview shows exactly what goes out
            self.preview.value = self._preview_html()
            attempt = self.client.attempt(sent, log=self.results_log)
        finally:
            self._busy = False
            self._last_finish = time.monotonic()
        self.attempts.append(attempt)
        self._report(attempt)
        self._show_results()
        if attempt.ok:
            self._created_state = self._read()
            self.confirm_run.value = False  # each LIVE RUN needs its own confirmation
        self._render_button()
        return attempt

    def to_code(self) -> str:
        """Python that builds the current draft (``CampaignDraft(...)``)."""
        draft = self._draft
        if draft is None:
            return "# fix the problems shown in the form first:\n" + "\n".join(
                f"# - {e}" for e in self._errors
            )
        schedule = draft.schedule
        if schedule == WeeklySchedule.weekdays(*_hours(schedule, "monday")):
            sched = "WeeklySchedule.weekdays({}, {})".format(*_hours(schedule, "monday"))
        elif schedule == WeeklySchedule.every_day(*_hours(schedule, "monday")):
            sched = "WeeklySchedule.every_day({}, {})".format(*_hours(schedule, "monday"))
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
        """Show ``to_code()`` under the form (what ``Copy as code`` does) and return it."""
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

    def _zone(self, name: str) -> ZoneOffset:
        found = self._zones.get(name)
        if found is None:
            found = self._zones[name] = zone_offset(name, self.zone_date)
        return found

    def _read(self) -> dict[str, Any]:
        """The widgets as the plain dict a ``CampaignDraft`` is validated from."""
        zone = self.timezone_input.value
        timezone: int | None
        if zone == NO_ZONE:
            timezone = None
        elif zone == MINUTES:
            timezone = self.minutes_input.value
        else:
            timezone = self._zone(zone).minutes
        data: dict[str, Any] = {
            "name": self.name_input.value,
            "status": self.status_input.value,
            "seats": list(self.seats_input.value),
            "schedule": {
                day: [self.day_checkboxes[day].value, *self.hour_sliders[day].value] for day in DAYS
            },
            "timezone": timezone,
            "campaign_id": self.campaign_id_input.value.strip() or None,
            **self._hidden,
        }
        return data

    def _rebuild(self) -> None:
        data = self._read()
        errors_at: dict[str, list[str]] = {}
        try:
            draft: CampaignDraft | None = CampaignDraft.model_validate(data)
        except ValidationError as exc:
            draft = None
            for err, text in zip(exc.errors(), describe_errors(exc), strict=True):
                slot = str(err["loc"][0]) if err["loc"] else "other"
                if slot == "schedule" and len(err["loc"]) > 1:
                    slot = str(err["loc"][1])
                errors_at.setdefault(slot if slot in _ERROR_SLOTS else "other", []).append(text)
        payload = None
        if self._created_state is not None and data == self._created_state:
            payload = self._payload  # keep showing the body that was just sent
        elif draft is not None:
            try:
                payload = self.client.prepare(draft).to_payload()
            except (ValidationError, ValueError) as exc:  # no account id anywhere
                errors_at["other"] = [str(exc)]
        self._draft, self._payload = draft, payload
        self._errors = [e for msgs in errors_at.values() for e in msgs]
        if self._created_state is not None and data != self._created_state:
            self._created_state = None
            self.message.value = ""
        self._render(data, errors_at)

    def _render(self, data: dict[str, Any], errors_at: dict[str, list[str]]) -> None:
        quiet, self._quiet = self._quiet, True  # the minutes box below is output here
        try:
            for slot, label in self.error_labels.items():
                label.value = "".join(
                    _line("⚠ " + _esc(m), "#b91c1c", "alsona-error")
                    for m in errors_at.get(slot, ())
                )
            for day in DAYS:
                self.hour_sliders[day].disabled = not self.day_checkboxes[day].value
            zone = self.timezone_input.value
            self.minutes_input.disabled = zone != MINUTES
            if zone in (NO_ZONE, MINUTES):
                self.timezone_info.value = (
                    "No time zone is sent: the server uses its default (UTC)."
                    if zone == NO_ZONE
                    else "A fixed UTC offset in minutes (-300 is UTC-05:00)."
                )
            else:
                offset = self._zone(zone)
                self.minutes_input.value = offset.minutes
                self.timezone_info.value = _esc(str(offset)) + (
                    _line("⚠ " + _esc(offset.warning), "#b45309", "alsona-dst-warning")
                    if offset.warning
                    else ""
                )
            live_run = not self.client.is_sandbox and data["status"] == CampaignStatus.RUN.value
            self.confirm_run.layout.display = None if live_run else "none"
            self.week_picture.value = self._week_html(data)
            self.preview.value = self._preview_html()
            self._render_button()
        finally:
            self._quiet = quiet

    def _blocker(self) -> str | None:
        """Why the button is disabled right now, or ``None``."""
        if self._payload is None:
            return "Fix the problems marked in the form first."
        if self._created_state is not None:
            return "This campaign was just created: change the form to create another."
        if (
            not self.client.is_sandbox
            and self._draft is not None
            and self._draft.status is CampaignStatus.RUN
            and not self.confirm_run.value
        ):
            return "LIVE and status RUN: tick the confirmation above first."
        return None

    def _render_button(self) -> None:
        blocker = "A request is running." if self._busy else self._blocker()
        self.create_button.disabled = blocker is not None
        self.create_button.tooltip = blocker or "Send this campaign to the API"
        self.create_button.description = "Creating…" if self._busy else "Create campaign"

    def _on_create_click(self, _button: widgets.Button) -> None:
        if time.monotonic() - self._last_finish < _DOUBLE_CLICK_SECONDS:
            return  # queued behind the request that just finished: a double click
        self.create()

    # -- pieces of HTML -------------------------------------------------------------------

    def _show_banner(self) -> None:
        client = self.client
        account = self._hidden.get("account_id") or client.account_id or "(no account id)"
        if client.is_sandbox:
            text = (
                f"SANDBOX: a local test server, nothing is sent to Alsona. Account {_esc(account)}."
            )
            color, mode = "#1e40af", "sandbox"
        else:
            text = (
                f"LIVE: campaigns are really created at {_esc(client.base_url)} "
                f"in account {_esc(account)}."
            )
            color, mode = "#b91c1c", "live"
        self.banner.value = (
            f'<div data-mode="{mode}" style="padding:6px 10px;border:2px solid {color};'
            f'color:{color};font-weight:bold">{text}</div>'
        )

    def _preview_html(self) -> str:
        if self._payload is None:
            return "<i>No request body while the form has problems.</i>"
        return (
            '<pre class="alsona-preview-json" '
            'style="margin:0;line-height:1.3;font-family:monospace;max-height:260px;overflow:auto">'
            + _esc(self.preview_text)
            + "</pre>"
        )

    def _week_html(self, data: dict[str, Any]) -> str:
        """Seven lines of 24 two-character cells: readable as plain text, small to send."""
        axis = "".join(f"{h:<6}" for h in range(0, 24, 3))
        rows = [f'<span style="color:#6b7280">     {axis}</span>']
        total = 0
        for day in DAYS:
            enabled, start, end = data["schedule"][day]
            # model_construct: the model's own notion of the hours, without validating.
            on = DayWindow.model_construct(enabled=enabled, start_hour=start, end_hour=end).hours
            total += len(on)
            runs = (range(on.start), on, range(on.stop, 24)) if on else (range(24), on, on)
            cells = [
                f'<span style="color:{color}">'
                + "".join(
                    f'<span data-hour="{h}" data-on="{int(h in on)}">{mark}</span>' for h in run
                )
                + "</span>"
                for run, color, mark in zip(
                    runs, ("#d1d5db", "#16a34a", "#d1d5db"), ("··", "██", "··"), strict=True
                )
            ]
            hours = " ".join(map(str, on))
            when = f"{on.start}:00-{on.stop}:00" if on else "off"
            rows.append(
                f'<span data-day="{day}" data-hours="{hours}">{_DAY_SHORT[day]}  '
                f"{''.join(cells)}  {when}</span>"
            )
        rows.append(f'<span class="alsona-week-total">{total} hours a week</span>')
        return (
            '<pre class="alsona-week-grid" style="margin:0;line-height:1.25;font-family:monospace">'
            + "\n".join(rows)
            + "</pre>"
        )

    def _show_results(self) -> None:
        """The attempts so far as a table, for people who never see a code cell (Voila)."""
        frame = self.results[list(_RESULT_COLUMNS)]
        frame = frame.assign(when=frame["when"].dt.strftime("%H:%M:%S")).astype(object)
        self.results_table.value = "<b>Attempts from this form</b>" + frame.fillna("").to_html(
            index=False, classes="alsona-results-table", border=0
        )

    def _report(self, attempt: Attempt) -> None:
        where = "the SANDBOX" if self.client.is_sandbox else "LIVE"
        if attempt.ok:
            assert attempt.campaign is not None
            text = (
                f"✔ Created campaign {_esc(attempt.campaign.campaign_id)} "
                f"({_esc(attempt.campaign.name)}, status {_esc(attempt.campaign.status)}) "
                f"in {where}."
            )
            self.message.value = _line(text, "#15803d", "alsona-message-ok")
            return
        error = attempt.error
        if isinstance(error, AlsonaError):
            what = next(
                (words for kind, words in _ERROR_WORDS if isinstance(error, kind)),
                "unexpected answer from the server",
            )
            status = f" (HTTP {error.status_code})" if error.status_code else ""
            if error.maybe_created:
                # No "Not created" here: that would invite a second click and a duplicate.
                text = f"⚠ Unclear whether it was created: {what}{status}: {error.message}"
                self.message.value = _line(_esc(text), "#b45309", "alsona-message-unsure")
                return
            text = f"✘ Not created: {what}{status}: {error.message}"
        else:
            text = f"✘ Not created: {error}"
        self.message.value = _line(_esc(text), "#b91c1c", "alsona-message-error")


_RESULT_COLUMNS = ("when", "name", "status", "campaign_id", "ok", "http_status", "error_message")
_FLAT_LIST = re.compile(r"\[[^\[\]{}]*\]")


def _one_line(match: re.Match[str]) -> str:
    """A list of plain values on one line: ``[true, 9, 17]`` rather than five lines."""
    try:
        return json.dumps(json.loads(match.group(0)), ensure_ascii=False)
    except ValueError:  # a bracket inside a string: leave it as it was
        return match.group(0)


def _hours(schedule: WeeklySchedule, day: str) -> tuple[int, int]:
    window = schedule.days()[day]
    return window.start_hour, window.end_hour
