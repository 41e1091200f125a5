"""CampaignForm in the kernel: widget values set, buttons clicked, against a real sandbox."""

from __future__ import annotations

import html
import json
import re
import warnings
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from alsona_nb import (
    AlsonaClient,
    CampaignDraft,
    CampaignStatus,
    ConflictError,
    DayWindow,
    Fault,
    NotFoundError,
    ResultsLog,
    Sandbox,
    WeeklySchedule,
)
from alsona_nb._models import DAYS
from alsona_nb.form import MINUTES, NO_ZONE, CampaignForm

SEATS = {"Anna (sales)": "seat_6a13e661ecc6a86e3fb7", "Ben": "seat_b", "Cleo": "seat_c"}
SEAT_IDS = list(SEATS.values())
WINTER = date(2025, 1, 15)
CAMPAIGN_ID = re.compile(r"campaign_[0-9a-f]{20}")


def window(day: DayWindow) -> tuple[bool, int, int]:
    """A schedule day as ``(enabled, start, end)``."""
    return day.enabled, day.start_hour, day.end_hour


def plain(html_text: str) -> str:
    """What a person reads in an HTML widget."""
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


def all_widget_text(widget: object) -> str:
    """Every string value, description and option in the widget tree."""
    parts: list[str] = []
    for name in ("value", "description", "tooltip", "placeholder"):
        value = getattr(widget, name, None)
        if isinstance(value, (str, tuple, list)):
            parts.append(str(value))
    parts.extend(str(o) for o in getattr(widget, "options", ()))
    for child in getattr(widget, "children", ()):
        parts.append(all_widget_text(child))
    return "\n".join(parts)


@pytest.fixture
def form(client: AlsonaClient) -> CampaignForm:
    return CampaignForm(client, seats=SEATS, zone_date=WINTER)


def fill(form: CampaignForm, name: str = "Q3 founders outreach") -> None:
    form.name_input.value = name
    form.seat_picker.set_ids([SEAT_IDS[0]])


def sent_id(form: CampaignForm) -> str:
    assert form.payload is not None
    campaign_id = form.payload["campaign"]["campaign_id"]
    assert isinstance(campaign_id, str)
    return campaign_id


# -- what a new form shows ----------------------------------------------------------------


def test_new_form_explains_what_is_missing_next_to_the_button(
    form: CampaignForm, sandbox: Sandbox
) -> None:
    assert form.draft is None and form.payload is None
    assert form.status_input.value == "DRAFT" and form.zone_picker.zone == "UTC"
    assert form.errors == ["Give the campaign a name", "Pick at least one seat"]
    # Nothing touched yet: no red errors, a neutral list of what is still needed.
    assert all(label.value == "" for label in form.error_labels.values())
    assert form.create_button.disabled
    reason = plain(form.reason.value)  # right under the button, not only in a tooltip
    assert "Still needed" in reason and "Pick at least one seat" in reason
    assert 'data-kind="info"' in form.reason.value and "Not ready" not in reason
    form.name_input.value = "x"
    form.name_input.value = ""  # touched: now its problem is shown in red, next to it
    assert plain(form.error_labels["name"].value) == "✘ Give the campaign a name"
    assert form.error_labels["seats"].value == ""  # seats not touched yet
    assert "Not ready to create" in plain(form.reason.value)
    assert "No request body yet" in plain(form.preview.value)
    banner = plain(form.banner.value)
    assert banner.startswith("SANDBOX") and sandbox.account_id in banner and "LIVE" not in banner
    assert repr(form).startswith("<CampaignForm SANDBOX")


def test_seats_show_labels_and_send_ids(form: CampaignForm) -> None:
    shown = [box.description for box in form.seat_picker.boxes.values()]
    assert shown[0] == "Anna (sales)  (seat_6a13e661ecc6a86e3fb7)" and shown[1] == "Ben  (seat_b)"
    form.name_input.value = "x"
    form.seat_picker.boxes["seat_c"].value = True
    form.seat_picker.boxes["seat_b"].value = True
    assert form.payload is not None and form.payload["campaign"]["seats"] == ["seat_c", "seat_b"]


def test_filled_form_previews_exactly_the_prepared_body(
    form: CampaignForm, client: AlsonaClient
) -> None:
    fill(form)
    assert form.errors == [] and not form.create_button.disabled and form.reason.value == ""
    assert form.draft == CampaignDraft(
        name="Q3 founders outreach",
        seats=[SEAT_IDS[0]],
        schedule=WeeklySchedule.weekdays(9, 17),
        timezone=0,
    )
    shown = json.loads(plain(form.preview.value))
    assert shown == form.payload == json.loads(form.preview_text)
    campaign = shown["campaign"]
    assert CAMPAIGN_ID.fullmatch(campaign["campaign_id"])  # minted, shown before sending
    assert campaign["account_id"] == client.account_id
    again = client.prepare(form.draft.model_copy(update={"campaign_id": campaign["campaign_id"]}))
    assert {**again.payload["campaign"], "created_at": 0} == {**campaign, "created_at": 0}
    for error in form.error_labels.values():
        assert error.value == ""


def test_draft_is_an_observable_trait(form: CampaignForm) -> None:
    seen: list[CampaignDraft | None] = []
    form.observe(lambda change: seen.append(change["new"]), "draft")
    fill(form)
    assert seen and seen[-1] == form.draft and form.draft is not None
    form.name_input.value = ""
    assert seen[-1] is None


def test_api_key_is_never_shown(form: CampaignForm, sandbox: Sandbox) -> None:
    fill(form)
    form.create()
    form.show_code()
    assert sandbox.api_key not in all_widget_text(form)
    assert sandbox.api_key not in repr(form) + form.to_code() + form._repr_html_()
    assert sandbox.api_key not in form.results.to_csv()


def test_form_is_the_widget_and_keeps_log_free(form: CampaignForm) -> None:
    import ipywidgets as widgets

    assert isinstance(form, widgets.VBox)
    # The shield sits in a box that is never displayed (a failed script load shows nothing).
    (box,) = [c for c in form.children if form.shield in getattr(c, "children", ())]
    assert box.layout.display == "none" and form.shield in box.children
    assert isinstance(form.results_log, ResultsLog)
    assert not isinstance(form.log, ResultsLog)  # ipywidgets' own logger is untouched
    assert "alsona-form" in form._dom_classes
    for widget, cls in [
        (form.name_input, "alsona-name"),
        (form.schedule.checkboxes["monday"], "alsona-day-monday"),
        (form.schedule.sliders["sunday"], "alsona-hours-sunday"),
        (form.create_button, "alsona-create"),
        (form.new_button, "alsona-new"),
        (form.duplicate_button, "alsona-duplicate"),
        (form.preview, "alsona-preview"),
        (form.week_picture, "alsona-week"),
        (form.banner, "alsona-banner"),
        (form.message, "alsona-message"),
        (form.reason, "alsona-reason"),
        (form.zone_picker.text, "alsona-timezone"),
    ]:
        assert cls in widget._dom_classes


# -- validation: each kind of bad input, shown next to its field, in plain words --------------


def _bad_name(form: CampaignForm) -> None:
    form.name_input.value = "   "


def _no_seat(form: CampaignForm) -> None:
    form.seat_picker.set_ids([])


def _seat_with_space(form: CampaignForm) -> None:
    form.seat_picker.set_ids(["seat a"])


def _repeated_seat(form: CampaignForm) -> None:
    form.seat_picker.set_ids(["seat_a", "seat_a"])


def _campaign_id_with_space(form: CampaignForm) -> None:
    form.campaign_id_input.value = "spring launch"


def _empty_hours(form: CampaignForm) -> None:
    form.schedule.sliders["wednesday"].value = (10, 10)


def _minutes_out_of_range(form: CampaignForm) -> None:
    form.zone_picker.select(MINUTES)
    form.zone_picker.minutes.value = 900


def _unknown_zone(form: CampaignForm) -> None:
    form.zone_picker.select("Atlantis")


BAD_INPUTS = [
    (_bad_name, "name", "Give the campaign a name"),
    (_no_seat, "seats", "Pick at least one seat"),
    (_seat_with_space, "seats", "cannot contain spaces"),
    (_repeated_seat, "seats", "more than once: seat_a"),
    (_campaign_id_with_space, "campaign_id", "Campaign ID cannot contain spaces"),
    (_empty_hours, "wednesday", "Wednesday: the end hour must be after the start hour"),
    (_minutes_out_of_range, "timezone", "between -720 and +840 minutes"),
    (_unknown_zone, "timezone", "No single time zone matches 'Atlantis'"),
]


@pytest.mark.parametrize(
    ("spoil", "slot", "says"), BAD_INPUTS, ids=[b[0].__name__.strip("_") for b in BAD_INPUTS]
)
def test_bad_input_is_shown_in_plain_words_next_to_its_field(
    client: AlsonaClient, spoil: object, slot: str, says: str
) -> None:
    form = CampaignForm(client, seats=[], zone_date=WINTER)  # typed: any seat text is possible
    form.name_input.value = "Q3"
    form.seat_picker.set_ids(["seat_a"])
    assert form.draft is not None
    spoil(form)  # type: ignore[operator]
    assert form.draft is None and form.payload is None
    assert any(says in e for e in form.errors), form.errors
    where = form.schedule.notes[slot] if slot in DAYS else form.error_labels[slot]
    assert says in plain(where.value)
    assert says in plain(form.reason.value)  # and listed by the button
    for jargon in ("schedule.", "Value error", "List should", "Input should", "validation"):
        assert jargon not in " ".join(form.errors)
    others = [s for s, label in form.error_labels.items() if s != slot and label.value]
    assert others == []
    assert form.create_button.disabled
    assert form.create() is None  # nothing is sent
    assert "Fix the problems" in plain(form.message.value)
    assert form.attempts == []


def test_fixing_the_input_clears_the_message(form: CampaignForm) -> None:
    fill(form)
    form.schedule.sliders["friday"].value = (12, 12)
    assert form.schedule.notes["friday"].value
    week = plain(form.week_picture.value).splitlines()[5]
    assert "no hours: Friday: the end hour must be after the start hour" in week
    form.schedule.sliders["friday"].value = (12, 13)
    assert form.schedule.notes["friday"].value == "" and form.reason.value == ""
    assert form.draft is not None
    assert form.draft.schedule.friday == DayWindow(enabled=True, start_hour=12, end_hour=13)


def test_a_client_without_account_is_explained(sandbox: Sandbox) -> None:
    client = AlsonaClient(api_key=sandbox.api_key, base_url=sandbox.url, mode="sandbox")
    form = CampaignForm(client, seats=SEATS)
    fill(form)
    assert form.payload is None  # there is no account to send it to
    assert form.errors and "account" in form.errors[0].lower()
    assert "account" in plain(form.error_labels["other"].value).lower()
    assert form.create_button.disabled


# -- schedule, time zone, week picture -----------------------------------------------------


def test_unticked_day_greys_its_row_and_keeps_its_hours(form: CampaignForm) -> None:
    fill(form)
    form.schedule.sliders["tuesday"].value = (7, 11)
    form.schedule.checkboxes["tuesday"].value = False
    assert form.schedule.sliders["tuesday"].disabled
    assert "alsona-off" in form.schedule.rows["tuesday"]._dom_classes
    assert form.draft is not None
    assert window(form.draft.schedule.tuesday) == (False, 7, 11)
    form.schedule.checkboxes["tuesday"].value = True
    assert not form.schedule.sliders["tuesday"].disabled
    assert window(form.draft.schedule.tuesday) == (True, 7, 11)


def test_presets(form: CampaignForm) -> None:
    fill(form)
    form.schedule.sliders["monday"].value = (6, 8)
    form.schedule.preset_buttons["every_day"].click()
    assert form.draft is not None and form.draft.schedule.enabled_days == list(DAYS)
    assert window(form.draft.schedule.monday) == (True, 6, 8)  # hours kept
    form.schedule.preset_buttons["clear"].click()
    assert form.draft.schedule.enabled_days == []
    form.schedule.preset_buttons["weekdays"].click()
    assert form.draft.schedule == WeeklySchedule.weekdays(9, 17)


def test_time_zone_by_city_gives_minutes_and_the_dst_note(form: CampaignForm) -> None:
    fill(form)
    assert form.draft is not None and form.draft.timezone == 0
    form.zone_picker.select("york")
    assert form.draft.timezone == -300 and form.zone_picker.zone == "America/New_York"
    info = plain(form.zone_picker.info.value)
    assert "-300 min" in info and "daylight saving" in info and "will not follow" in info
    form.zone_picker.select("kolkata")
    assert form.draft.timezone == 330
    form.zone_picker.select(NO_ZONE)
    assert form.draft.timezone is None
    assert form.payload is not None and "timezone" not in form.payload["campaign"]


def _hours_on(picture: str) -> dict[str, list[int]]:
    return {
        day: [int(h) for h in hours.split()]
        for day, hours in re.findall(r'data-day="(\w+)" data-hours="([\d ]*)"', picture)
    }


def test_week_picture_follows_the_schedule_live(form: CampaignForm) -> None:
    fill(form)
    hours = _hours_on(form.week_picture.value)
    assert hours["monday"] == list(range(9, 17)) and hours["saturday"] == []
    form.schedule.sliders["monday"].value = (0, 24)
    form.schedule.checkboxes["saturday"].value = True
    hours = _hours_on(form.week_picture.value)
    assert form.draft is not None
    assert sum(map(len, hours.values())) == form.draft.schedule.hours_per_week == 64
    lines = plain(form.week_picture.value).splitlines()
    assert lines[1] == "Mon  " + "██" * 24 + "  0:00 to 24:00"
    assert lines[7] == "Sun  " + "··" * 24 + "  off (not ticked)"
    assert lines[-1] == "64 hours a week"


def test_close_releases_every_widget(client: AlsonaClient) -> None:
    import ipywidgets as widgets

    def alive() -> set[str]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # Widget.widgets, still there
            return set(widgets.Widget.widgets)

    before = alive()
    form = CampaignForm(client, seats=SEATS)
    assert len(alive() - before) > 50
    form.close()
    assert alive() - before == set()


# -- creating, exactly once -----------------------------------------------------------------


def test_create_sends_the_previewed_body(form: CampaignForm, sandbox: Sandbox) -> None:
    fill(form)
    previewed = form.payload
    form.create_button.click()
    assert len(form.attempts) == 1 and form.attempts[0].ok
    campaign_id = form.attempts[0].campaign.campaign_id  # type: ignore[union-attr]
    assert previewed is not None and campaign_id == previewed["campaign"]["campaign_id"]
    assert campaign_id in sandbox.campaigns
    assert sandbox.requests[-1].body == form.attempts[0].prepared.payload  # type: ignore[union-attr]
    shown = plain(form.message.value)
    assert shown.startswith("✔ Created campaign “Q3 founders outreach”")
    assert campaign_id in shown and "SANDBOX" in shown
    table = plain(form.results_table.value)
    assert "Anna (sales)" in table and campaign_id in table and "✔ created" in table
    assert form.results_table.value in form._repr_html_()
    assert len(form.results_log) == 1
    # Created: the form now edits that campaign; nothing to send until something changes.
    assert form.editing is not None and form.editing.campaign_id == campaign_id
    assert form.create_button.description == "Update campaign" and form.create_button.disabled
    assert "No changes to send" in plain(form.reason.value)
    assert form.create() is None and len(sandbox.campaigns) == 1
    form.name_input.value = "Q4 founders outreach"  # a change is an update, never a 2nd create
    assert form.diff == {"name": ("Q3 founders outreach", "Q4 founders outreach")}
    assert "Q3 founders outreach → Q4 founders outreach" in plain(form.changes.value)
    assert not form.create_button.disabled and form.create() is None
    assert form.update() is not None
    assert sandbox.counts["POST"] == 1 and sandbox.counts["PUT"] == 1
    assert [c["name"] for c in sandbox.campaigns.values()] == ["Q4 founders outreach"]
    assert plain(form.message.value).startswith("✔ Updated campaign “Q4 founders outreach”")
    assert form.diff == {} and form.create_button.disabled
    form.edit_controls.new_button.click()  # Create as new: the explicit choice, a fresh id
    assert form.editing is None and form.create_button.description == "Create campaign"
    assert sent_id(form) != campaign_id
    assert form.create() is not None and len(sandbox.campaigns) == 2


def test_the_zone_is_kept_beside_the_campaign_and_never_sent(
    form: CampaignForm, sandbox: Sandbox
) -> None:
    fill(form)
    form.zone_picker.select("New York")
    assert form.draft is not None and form.draft.zone == "America/New_York"
    assert form.payload is not None and "zone" not in form.payload["campaign"]
    assert form.payload["campaign"]["timezone"] == -300  # its offset on the form's date
    form.create_button.click()
    assert form.results_log.to_frame()["zone"].tolist() == ["America/New_York"]
    form.zone_picker.select("Paris")  # editing: the zone's offset is what changes
    assert form.diff == {"timezone": (-300, 60)}
    form.zone_picker.select("UTC")  # a fixed offset keeps no zone: the offset says it all
    assert form.draft is not None and form.draft.zone is None


def test_new_campaign_clears_and_duplicate_keeps_the_fields(
    form: CampaignForm, sandbox: Sandbox
) -> None:
    fill(form)
    form.zone_picker.select("Paris")
    form.schedule.checkboxes["saturday"].value = True
    first = form.create()
    assert first is not None and first.ok
    form.duplicate()
    assert form.name_input.value == "Q3 founders outreach (copy)"
    assert form.draft is not None and form.draft.schedule.saturday.enabled
    assert form.zone_picker.zone == "Europe/Paris" and form.draft.seats == [SEAT_IDS[0]]
    assert sent_id(form) != first.campaign.campaign_id  # type: ignore[union-attr]
    second = form.create()
    assert second is not None and second.ok and len(sandbox.campaigns) == 2
    form.new_campaign()
    assert form.name_input.value == "" and form.seat_picker.value == []
    assert form.draft is None and form.errors == [
        "Give the campaign a name",
        "Pick at least one seat",
    ]
    assert form.zone_picker.zone == "Europe/Paris"  # the zone stays: analysts keep theirs
    assert form.message.value == ""


def test_double_click_creates_once(form: CampaignForm, sandbox: Sandbox) -> None:
    fill(form)
    form.create_button.click()
    form.create_button.click()
    assert len(sandbox.campaigns) == 1 and len(form.results) == 1


def test_double_click_after_an_error_sends_once(form: CampaignForm, sandbox: Sandbox) -> None:
    fill(form)
    sandbox.inject(Fault.error(400, "seat_6a13e661ecc6a86e3fb7 is paused"), times=5)
    form.create_button.click()
    form.create_button.click()  # arrives right after the first finished: a double click
    assert sandbox.counts["POST"] == 1


def test_a_refusal_is_said_plainly_and_the_form_stays_usable(
    form: CampaignForm, sandbox: Sandbox
) -> None:
    fill(form)
    form.campaign_id_input.value = "spring-launch"
    sandbox.inject(Fault.error(400, "seat_6a13e661ecc6a86e3fb7 is paused"))
    first = form.create()
    assert first is not None and first.outcome == "failed"
    shown = plain(form.message.value)
    assert shown.startswith("✘ Not created: the server refused the campaign (HTTP 400)")
    assert "is paused" in shown and form.editing is None
    assert not form.create_button.disabled
    table = plain(form.results_table.value)  # what a Voila user sees, without code
    assert "✘ not created" in table and "<NA>" not in table and "nan" not in table
    again = form.create()
    assert again is not None and again.ok and "spring-launch" in sandbox.campaigns


@pytest.fixture
def once(sandbox: Sandbox) -> Iterator[AlsonaClient]:
    """A sandbox client that never retries by itself: each press is one POST."""
    with sandbox.client(timeout=2.0, max_retries=0) as client:
        yield client


def test_unclear_outcome_keeps_the_id_so_a_retry_cannot_duplicate(
    once: AlsonaClient, sandbox: Sandbox
) -> None:
    form = CampaignForm(once, seats=SEATS, zone_date=WINTER)
    fill(form)
    campaign_id = sent_id(form)
    # The campaign is stored, its answer lost, and the server cannot be asked either.
    sandbox.inject(Fault.drop(after_create=True))
    sandbox.inject(Fault.error(500).on("GET"), times=10)
    attempt = form.create()
    assert attempt is not None and attempt.outcome == "unknown"
    assert attempt.error is not None and attempt.error.maybe_created
    shown = plain(form.message.value)
    assert shown.startswith("⚠ Unclear whether it was created")
    assert "Not created" not in shown and campaign_id in shown
    assert not form.create_button.disabled
    assert sent_id(form) == campaign_id  # the same id while the same campaign is retried
    form.name_input.value = "Q3 founders outreach, renamed"
    assert sent_id(form) == campaign_id  # even after an edit: the first may exist already
    sandbox.clear_faults()
    # The press asks first: the campaign exists, so the form says so and edits it.
    assert form.create() is None
    shown = plain(form.message.value)
    assert shown.startswith("✔ The earlier press did create campaign “Q3 founders outreach”")
    assert "Not created" not in shown and "already exists" not in shown
    assert form.editing is not None and form.editing.campaign_id == campaign_id
    assert form.diff == {"name": ("Q3 founders outreach", "Q3 founders outreach, renamed")}
    assert form.create_button.description == "Update campaign"
    assert form.update() is not None
    assert list(sandbox.campaigns) == [campaign_id]  # one campaign, never two
    assert sandbox.campaigns[campaign_id]["name"] == "Q3 founders outreach, renamed"
    assert sandbox.counts["POST"] == 1


def test_unclear_outcome_then_nothing_was_made_creates_it(
    once: AlsonaClient, sandbox: Sandbox
) -> None:
    form = CampaignForm(once, seats=SEATS, zone_date=WINTER)
    fill(form)
    campaign_id = sent_id(form)
    sandbox.inject(Fault.drop())  # lost before anything was stored, and GETs fail
    sandbox.inject(Fault.error(500).on("GET"), times=3)
    first = form.create()
    assert first is not None and first.outcome == "unknown"
    sandbox.clear_faults()
    form.name_input.value = "Q3, typo fixed"
    second = form.create()  # asked first: not there, so this press creates it, same id
    assert second is not None and second.ok and list(sandbox.campaigns) == [campaign_id]


def test_lost_answer_settled_by_asking_says_created(once: AlsonaClient, sandbox: Sandbox) -> None:
    form = CampaignForm(once, seats=SEATS, zone_date=WINTER)
    fill(form)
    sandbox.inject(Fault.drop(after_create=True))
    attempt = form.create()
    assert attempt is not None and attempt.ok and attempt.settled
    shown = plain(form.message.value)
    assert shown.startswith("Created campaign") and "the answer was lost" in shown


def test_lost_request_settled_by_asking_says_not_created(
    once: AlsonaClient, sandbox: Sandbox
) -> None:
    form = CampaignForm(once, seats=SEATS, zone_date=WINTER)
    fill(form)
    campaign_id = sent_id(form)
    sandbox.inject(Fault.drop())  # lost before anything was stored
    attempt = form.create()
    assert attempt is not None and attempt.outcome == "failed" and attempt.settled
    shown = plain(form.message.value)
    assert shown.startswith("Not created") and sandbox.campaigns == {}
    assert form.create() is not None and list(sandbox.campaigns) == [campaign_id]


def test_results_go_into_a_shared_log(client: AlsonaClient) -> None:
    log = ResultsLog()
    one = CampaignForm(client, seats=SEATS, log=log)
    two = CampaignForm(client, seats=SEATS, log=log)
    fill(one, "first")
    fill(two, "second")
    one.create()
    two.create()
    assert one.results_log is log and len(log) == 2
    assert list(one.results["name"]) == ["first"]
    assert list(log.to_frame()["name"]) == ["first", "second"]


# -- LIVE mode ---------------------------------------------------------------------------------


@pytest.fixture
def live(sandbox: Sandbox) -> Iterator[AlsonaClient]:
    """A LIVE-mode client, yet still on loopback."""
    with AlsonaClient(
        api_key=sandbox.api_key, account_id=sandbox.account_id, base_url=sandbox.url
    ) as client:
        assert not client.is_sandbox
        yield client


def test_without_seats_the_accounts_seats_are_listed(client: AlsonaClient) -> None:
    form = CampaignForm(client)
    assert form.seat_picker.typed is None
    labels = [box.description for box in form.seat_picker.boxes.values()]
    assert labels[0] == "Ana Lopez (LinkedIn)  (seat_6a13e661ecc6a86e3fb7)"


def test_live_without_seats_lists_the_accounts_seats(live: AlsonaClient, sandbox: Sandbox) -> None:
    form = CampaignForm(live)
    assert form.seat_picker.typed is None
    assert set(form.seat_picker.boxes) == set(live.list_seats().values())
    assert form.seat_picker.note.value == ""


def test_live_seats_fall_back_to_typed_ids_with_a_note(
    live: AlsonaClient, sandbox: Sandbox
) -> None:
    sandbox.inject(Fault.error(403, "no seats for you").on("GET"), times=5)
    form = CampaignForm(live)
    assert form.seat_picker.typed is not None
    assert "could not be fetched" in plain(form.seat_picker.note.value)


def test_live_run_needs_an_explicit_confirmation(live: AlsonaClient, sandbox: Sandbox) -> None:
    form = CampaignForm(live, seats=SEATS)
    banner = plain(form.banner.value)
    assert banner.startswith("LIVE") and sandbox.account_id in banner and "SANDBOX" not in banner
    fill(form)
    assert form.confirm_run.layout.display == "none" and not form.create_button.disabled
    form.status_input.value = "RUN"
    assert form.confirm_run.layout.display is None  # shown
    assert form.draft is not None and form.draft.status is CampaignStatus.RUN
    assert form.errors == [] and form.create_button.disabled
    assert "tick the confirmation" in plain(form.reason.value)
    assert form.create() is None and sandbox.counts["POST"] == 0
    form.confirm_run.value = True
    assert not form.create_button.disabled
    attempt = form.create()
    assert attempt is not None and attempt.ok and "LIVE" in plain(form.message.value)
    assert not form.confirm_run.value  # the next RUN campaign needs its own tick
    form.name_input.value = "renamed"  # an update that keeps RUN: no new outreach starts
    assert not form.create_button.disabled
    form.create_as_new("second")
    assert form.create_button.disabled and form.create() is None
    assert len(sandbox.campaigns) == 1


def test_sandbox_run_needs_no_confirmation(form: CampaignForm, sandbox: Sandbox) -> None:
    fill(form)
    form.status_input.value = "RUN"
    assert form.confirm_run.layout.display == "none"
    assert form.create() is not None and len(sandbox.campaigns) == 1


# -- load and show as code --------------------------------------------------------------------

_ODD_WEEK = WeeklySchedule.model_validate(
    {
        "monday": [True, 0, 24],
        "tuesday": [False, 3, 4],
        "wednesday": [True, 23, 24],
        "thursday": [False, 9, 17],
        "friday": [True, 8, 12],
        "saturday": [True, 10, 14],
        "sunday": [False, 0, 1],
    }
)
DRAFTS = [
    CampaignDraft(name="plain", seats=[SEAT_IDS[0]], schedule=WeeklySchedule.weekdays()),
    CampaignDraft(
        name="New York",
        seats=SEAT_IDS,
        schedule=WeeklySchedule.every_day(8, 20),
        timezone=-300,
        status=CampaignStatus.RUN,
    ),
    CampaignDraft(name="utc", seats=["seat_c", "seat_b"], schedule=_ODD_WEEK, timezone=0),
    CampaignDraft(name="India", seats=["seat_b"], schedule=_ODD_WEEK, timezone=330),
    CampaignDraft(
        name="chosen id",
        seats=["seat_x_not_in_list"],
        schedule=WeeklySchedule.weekdays(7, 9),
        campaign_id="spring-launch",
        status=CampaignStatus.PAUSE,
    ),
    CampaignDraft(
        name="everything",
        seats=[SEAT_IDS[1]],
        schedule=WeeklySchedule.model_validate({d: [False, 9, 17] for d in DAYS}),
        account_id="account_other",
        created_at=1_700_000_000_000,
        timezone=840,
        status=CampaignStatus.DONE,
    ),
    CampaignDraft(name="  spaces trimmed ", seats=[SEAT_IDS[2]], schedule=_ODD_WEEK, timezone=-720),
]


@pytest.mark.parametrize("typed_seats", [False, True], ids=["seat list", "typed seats"])
@pytest.mark.parametrize("draft", DRAFTS, ids=[d.name.strip() for d in DRAFTS])
def test_load_round_trip(client: AlsonaClient, draft: CampaignDraft, typed_seats: bool) -> None:
    form = CampaignForm(client, seats=[] if typed_seats else SEATS, zone_date=WINTER)
    form.load(draft)
    assert form.draft == draft
    assert form.errors == []
    again = CampaignForm(client, seats=[] if typed_seats else SEATS, zone_date=WINTER)
    again.load(form.draft)
    assert again.draft == draft
    code = form.show_code()  # "Show as Python" builds the same draft
    assert form.code.value == code and form.code.layout.display is None
    namespace: dict[str, object] = {}
    exec(code, namespace)
    assert namespace["draft"] == draft


def test_load_keeps_a_chosen_zone_when_the_offset_matches(form: CampaignForm) -> None:
    form.zone_picker.select("America/New_York")
    form.load(DRAFTS[1])
    assert form.zone_picker.zone == "America/New_York"
    form.load(DRAFTS[3])
    assert form.zone_picker.text.value == MINUTES and form.zone_picker.minutes.value == 330


def test_loaded_account_is_used_and_shown(form: CampaignForm) -> None:
    form.load(DRAFTS[5])
    assert "account_other" in plain(form.banner.value)
    assert form.payload is not None and form.payload["campaign"]["account_id"] == "account_other"
    assert form.payload["campaign"]["created_at"] == 1_700_000_000_000
    attempt = form.create()
    assert attempt is not None and attempt.http_status == 404
    assert "account 'account_other' not found" in plain(form.message.value)


def test_load_accepts_a_body_and_refuses_bad_input_without_losing_the_form(
    form: CampaignForm,
) -> None:
    form.load(DRAFTS[1].to_payload(now_ms=5))
    assert form.draft == DRAFTS[1].model_copy(update={"created_at": 5})
    before = form.draft
    with pytest.raises(ValidationError):
        form.load({"name": "x", "seats": [], "schedule": {}})
    assert form.draft == before


def test_show_as_python_while_invalid_lists_the_problems(form: CampaignForm) -> None:
    form.code_button.click()
    assert form.code.value.startswith("# fix the problems")
    assert "# - Give the campaign a name" in form.code.value


def test_one_widget_change_rebuilds_once(form: CampaignForm, client: AlsonaClient) -> None:
    fill(form)
    calls = 0
    real = client.prepare

    def counting(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    client.prepare = counting  # type: ignore[method-assign,assignment]
    form.schedule.sliders["monday"].value = (8, 12)
    assert calls == 1
    form.load(DRAFTS[2])  # many widgets at once: one rebuild
    assert calls == 2


# -- edit mode: open, update, pause, resume, delete, conflicts -----------------------------


def _made(client: AlsonaClient, name: str = "Existing", status: str = "RUN") -> str:
    campaign = client.create_campaign(
        CampaignDraft(
            name=name, seats=[SEAT_IDS[0]], schedule=WeeklySchedule.weekdays(), status=status
        )
    )
    return campaign.campaign_id


def test_edit_by_id_and_load_with_a_known_id_edit_that_campaign(
    form: CampaignForm, client: AlsonaClient, sandbox: Sandbox
) -> None:
    campaign_id = _made(client)
    form.edit(campaign_id)
    assert form.editing is not None and form.name_input.value == "Existing"
    assert form.campaign_id_input.value == campaign_id and form.campaign_id_input.disabled
    assert form.diff == {} and form.create_button.description == "Update campaign"
    assert "Editing campaign “Existing”" in plain(form.edit_controls.editing_line.value)
    other = CampaignForm(client, seats=SEATS, zone_date=WINTER)
    other.load(
        CampaignDraft(
            name="Existing, new hours",
            seats=[SEAT_IDS[0]],
            schedule=WeeklySchedule.weekdays(8, 12),
            status=CampaignStatus.RUN,
            campaign_id=campaign_id,
        )
    )
    assert other.editing is not None and set(other.diff) >= {"name", "schedule"}
    assert "Mon 9:00–17:00" in plain(other.changes.value)
    attempt = other.update()
    assert attempt is not None and attempt.ok and len(sandbox.campaigns) == 1
    assert sandbox.campaigns[campaign_id]["schedule"]["monday"] == [True, 8, 12]
    with pytest.raises(NotFoundError):
        form.edit("campaign_00000000000000000000")


def test_the_picker_lists_the_accounts_campaigns_and_opens_one(
    client: AlsonaClient, sandbox: Sandbox
) -> None:
    campaign_id = _made(client, "Picked one", "PAUSE")
    form = CampaignForm(client, seats=SEATS, zone_date=WINTER)
    option = f"Picked one · PAUSE · {campaign_id}"
    assert option in form.edit_controls.picker.options
    form.edit_controls.picker.value = "Picked"  # typing part of it opens nothing
    assert form.editing is None
    form.edit_controls.picker.value = option
    assert form.editing is not None and form.editing.campaign_id == campaign_id
    assert form.status_input.value == "PAUSE"
    assert form.edit_controls.resume_button.layout.display is None
    assert form.edit_controls.pause_button.layout.display == "none"


def test_pause_resume_and_delete_behind_a_confirmation(
    form: CampaignForm, client: AlsonaClient, sandbox: Sandbox
) -> None:
    form.edit(_made(client, "Spring"))
    ui = form.edit_controls
    assert ui.pause_button.layout.display is None
    ui.pause_button.click()
    campaign_id = form.editing.campaign_id  # type: ignore[union-attr]
    assert sandbox.campaigns[campaign_id]["status"] == "PAUSE"
    assert form.status_input.value == "PAUSE" and form.diff == {}
    form.resume()
    assert sandbox.campaigns[campaign_id]["status"] == "RUN"
    ui.delete_button.click()  # asks first, naming the campaign, offering Pause
    assert ui.confirm.layout.display is None
    question = plain(ui.confirm_text.value)
    assert "Delete campaign “Spring”" in question and campaign_id in question
    assert "Pausing stops it and can be undone" in question
    assert ui.pause_instead_button.layout.display is None
    assert campaign_id in sandbox.campaigns  # nothing deleted by asking
    ui.cancel_button.click()
    assert ui.confirm.layout.display == "none" and campaign_id in sandbox.campaigns
    form.ask_delete()
    ui.confirm_delete_button.click()
    assert campaign_id not in sandbox.campaigns
    assert plain(form.message.value).startswith("✔ Deleted campaign “Spring”")
    assert form.editing is None and form.name_input.value == "Spring"
    assert all(v != campaign_id for v in ui.ids.values())


def test_a_conflict_names_the_fields_and_offers_reload_or_overwrite(
    form: CampaignForm, client: AlsonaClient, sandbox: Sandbox
) -> None:
    campaign_id = _made(client, "Shared")
    form.edit(campaign_id)
    form.name_input.value = "Mine"
    client.update_campaign(campaign_id, name="Theirs")  # a colleague, meanwhile
    attempt = form.update()
    assert attempt is not None and isinstance(attempt.error, ConflictError)
    assert sandbox.campaigns[campaign_id]["name"] == "Theirs"  # nothing was sent
    assert form.edit_controls.conflict.layout.display is None
    box = plain(form.edit_controls.conflict_text.value)
    assert "Someone else changed" in box and "Shared → Theirs" in box
    assert "Not updated" in plain(form.message.value)
    form.edit_controls.overwrite_button.click()
    assert sandbox.campaigns[campaign_id]["name"] == "Mine"
    client.update_campaign(campaign_id, name="Theirs again")
    form.name_input.value = "Mine, again"
    assert isinstance(form.update().error, ConflictError)  # type: ignore[union-attr]
    form.edit_controls.reload_button.click()
    assert form.name_input.value == "Theirs again" and form.diff == {}


# -- the form for everyone: names, pressed state, live regions, invalid fields -----------------


def _rules(form: CampaignForm) -> dict[tuple[str, str], str | None]:
    return {(sel, attr): value for sel, attr, value in form.shield.rules}


def test_assistive_technology_gets_names_pressed_state_and_invalid_fields(
    form: CampaignForm,
) -> None:
    rules = _rules(form)
    names = [v for (sel, attr), v in rules.items() if attr == "aria-label" and "noUi" in sel]
    assert len(names) == 14 and "Monday, from" in names and "Sunday, until" in names
    pressed = {sel: v for (sel, attr), v in rules.items() if attr == "aria-pressed"}
    assert list(pressed.values()) == ["true", "false", "false", "false"]
    assert rules[(".alsona-message", "role")] == "status"
    assert rules[(".alsona-message", "aria-live")] == "polite"
    assert rules[(".alsona-hours-saturday .noUi-handle", "tabindex")] == "-1"  # off: no Tab
    assert rules[(".alsona-hours-monday .noUi-handle", "tabindex")] == "0"
    assert rules[(".alsona-name input", "aria-invalid")] == "false"  # not touched yet
    form.status_input.value = "RUN"
    form.name_input.value = "x"
    form.name_input.value = " "
    rules = _rules(form)
    assert rules[(".alsona-name input", "aria-invalid")] == "true"
    assert rules[(".alsona-seats input", "aria-invalid")] == "false"
    assert rules[(".alsona-status .widget-toggle-button:nth-of-type(2)", "aria-pressed")] == "true"
    form.create()  # a press shows every problem
    assert _rules(form)[(".alsona-seats input", "aria-invalid")] == "true"


def test_the_hours_readout_is_plain_text(form: CampaignForm) -> None:
    assert all(not s.readout for s in form.schedule.sliders.values())
    form.schedule.sliders["monday"].value = (7, 19)
    assert plain(form.schedule.readouts["monday"].value) == "7:00 – 19:00"


def test_run_with_no_hours_is_refused_with_the_models_reason(form: CampaignForm) -> None:
    fill(form)
    form.status_input.value = "RUN"
    form.schedule.preset_buttons["clear"].click()
    assert form.payload is None and form.create() is None
    assert any("A running campaign needs at least one day with hours" in e for e in form.errors)
    assert "at least one day with hours" in plain(form.reason.value)
    form.status_input.value = "DRAFT"  # a draft may stay empty
    assert form.payload is not None


def test_show_as_python_follows_the_form_and_hides_when_pressed_again(
    form: CampaignForm,
) -> None:
    fill(form)
    form.code_button.click()
    assert form.code.layout.display is None and "Q3 founders outreach" in form.code.value
    assert form.code_button.description == "Hide Python"
    form.name_input.value = "Renamed"
    assert "Renamed" in form.code.value and "Q3 founders" not in form.code.value
    form.name_input.value = ""
    assert form.code.value.startswith("# fix the problems")
    form.code_button.click()
    assert form.code.layout.display == "none" and form.code_button.description == "Show as Python"


def test_details_hold_the_body_and_code(client: AlsonaClient) -> None:
    form = CampaignForm(client, seats=SEATS, details=False)
    assert form.details.layout.display == "none" and form.preview in form.details.children
    form.details_button.value = True
    assert form.details.layout.display is None


# -- templates and the journal ---------------------------------------------------------------


def test_a_template_is_saved_without_ids_and_loads_as_a_new_campaign(
    form: CampaignForm, client: AlsonaClient, tmp_path: Path
) -> None:
    fill(form)
    form.zone_picker.select("kolkata")
    form.schedule.sliders["friday"].value = (10, 12)
    assert form.create() is not None and form.editing is not None
    path = tmp_path / "t.json"
    text = form.save_template(path)
    data = json.loads(path.read_text())
    assert text == path.read_text() and "campaign_id" not in data and "account_id" not in data
    assert data["schedule"]["friday"] == [True, 10, 12] and data["timezone"] == 330
    assert "campaign-template.json" in form.template_link.value
    other = CampaignForm(client, seats=SEATS, zone_date=WINTER)
    other.load_template(path)
    assert other.editing is None and other.draft is not None
    assert window(other.draft.schedule.friday) == (True, 10, 12)
    assert other.draft.timezone == 330 and other.name_input.value == "Q3 founders outreach"
    assert sent_id(other) != form.editing.campaign_id
    with pytest.raises(ValueError, match="not a template"):
        other.load_template(b"[1, 2]")
    with pytest.raises(ValueError, match="end hour"):
        other.load_template({"schedule": {d: [True, 5, 5] for d in DAYS}})
    assert window(other.draft.schedule.friday) == (True, 10, 12)  # left as it was


def _upload(content: bytes) -> tuple[dict[str, object], ...]:
    """What FileUpload's value holds after a file is picked in the page."""
    meta = {
        "name": "t.json",
        "type": "application/json",
        "last_modified": datetime.now(timezone.utc),
    }
    return ({**meta, "size": len(content), "content": memoryview(content)},)


def test_a_template_uploaded_in_the_page_loads(form: CampaignForm) -> None:
    body = json.dumps({"name": "From a file", "seats": ["seat_b"], "status": "PAUSE"}).encode()
    form.load_template_upload.value = _upload(body)
    assert form.name_input.value == "From a file" and form.status_input.value == "PAUSE"
    form.load_template_upload.value = _upload(b"nope")
    assert "Not loaded" in plain(form.message.value)


def test_a_journal_shows_what_was_sent_before_the_page_reloaded(
    client: AlsonaClient, tmp_path: Path
) -> None:
    journal = tmp_path / "app.jsonl"
    first = CampaignForm(client, seats=SEATS, log=ResultsLog(journal))
    fill(first, "Before the reload")
    assert first.create() is not None
    again = CampaignForm(client, seats=SEATS, log=ResultsLog(journal))
    table = plain(again.results_table.value)
    assert "Before the reload" in table and "✔ created" in table and "Anna (sales)" in table


def test_the_app_form_folds_details_away_and_keeps_a_journal(
    client: AlsonaClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALSONA_APP_JOURNAL", str(tmp_path / "sub" / "app.jsonl"))
    app = CampaignForm.for_app(client, seats=SEATS)
    assert app.details.layout.display == "none" and app.shield.page_title
    assert app.results_log.path == tmp_path / "sub" / "app.jsonl"
    assert all(label.value == "" for label in app.error_labels.values())  # opens clean
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("ALSONA_APP_JOURNAL")
    default = CampaignForm.for_app(client, seats=SEATS)
    assert default.results_log.path == (
        tmp_path / ".alsona_nb" / f"app-sandbox-{client.account_id}.jsonl"
    )
