"""CampaignForm in the kernel: widget values set, buttons clicked, against a real sandbox."""

from __future__ import annotations

import html
import json
import re
import statistics
import time
import warnings
from collections.abc import Iterator
from datetime import date

import pytest
from pydantic import ValidationError

from alsona_nb import (
    AlsonaClient,
    CampaignDraft,
    CampaignStatus,
    DayWindow,
    Fault,
    ResultsLog,
    Sandbox,
    WeeklySchedule,
)
from alsona_nb._form import MINUTES, NO_ZONE, CampaignForm
from alsona_nb._models import DAYS

SEATS = ["seat_6a13e661ecc6a86e3fb7", "seat_b", "seat_c"]
WINTER = date(2025, 1, 15)


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
    form.seats_input.value = (SEATS[0],)


# -- what a new form shows ----------------------------------------------------------------


def test_new_form_explains_what_is_missing(form: CampaignForm, sandbox: Sandbox) -> None:
    assert form.draft is None and form.payload is None
    assert form.status_input.value == "DRAFT"
    assert form.timezone_input.value == "UTC"
    assert "name: must not be empty" in form.errors
    assert "must not be empty" in plain(form.error_labels["name"].value)
    assert "seats" in plain(form.error_labels["seats"].value)
    assert form.create_button.disabled
    assert "No request body" in plain(form.preview.value)
    banner = plain(form.banner.value)
    assert "SANDBOX" in banner and sandbox.account_id in banner and "LIVE" not in banner
    assert repr(form).startswith("<CampaignForm SANDBOX")


def test_filled_form_previews_exactly_the_body(form: CampaignForm, client: AlsonaClient) -> None:
    fill(form)
    assert form.errors == []
    assert not form.create_button.disabled
    assert form.draft == CampaignDraft(
        name="Q3 founders outreach",
        seats=[SEATS[0]],
        schedule=WeeklySchedule.weekdays(9, 17),
        timezone=0,
    )
    shown = json.loads(plain(form.preview.value))
    assert shown == form.payload == json.loads(form.preview_text)
    expected = client.prepare(form.draft).to_payload(now_ms=shown["campaign"]["created_at"])
    assert shown == expected
    assert shown["campaign"]["account_id"] == client.account_id
    for error in form.error_labels.values():
        assert error.value == ""


def test_api_key_is_never_shown(form: CampaignForm, sandbox: Sandbox) -> None:
    fill(form)
    form.create()
    form.show_code()
    assert sandbox.api_key not in all_widget_text(form)
    assert sandbox.api_key not in repr(form) + form.to_code()
    assert sandbox.api_key not in form.results.to_csv()


def test_form_is_the_widget_and_keeps_log_free(form: CampaignForm) -> None:
    import ipywidgets as widgets

    assert isinstance(form, widgets.VBox)
    assert isinstance(form.results_log, ResultsLog)
    assert not isinstance(form.log, ResultsLog)  # ipywidgets' own logger is untouched
    assert "alsona-form" in form._dom_classes
    for widget, cls in [
        (form.name_input, "alsona-name"),
        (form.day_checkboxes["monday"], "alsona-day-monday"),
        (form.hour_sliders["sunday"], "alsona-hours-sunday"),
        (form.create_button, "alsona-create"),
        (form.preview, "alsona-preview"),
        (form.week_picture, "alsona-week"),
        (form.banner, "alsona-banner"),
        (form.message, "alsona-message"),
    ]:
        assert cls in widget._dom_classes


# -- validation: each kind of bad input, shown next to its field ----------------------------


def _bad_name(form: CampaignForm) -> None:
    form.name_input.value = "   "


def _no_seat(form: CampaignForm) -> None:
    form.seats_input.value = ()


def _seat_with_space(form: CampaignForm) -> None:
    form.seats_input.value = ["seat a"]


def _repeated_seat(form: CampaignForm) -> None:
    form.seats_input.value = ["seat_a", "seat_a"]


def _campaign_id_with_space(form: CampaignForm) -> None:
    form.campaign_id_input.value = "spring launch"


def _empty_hours(form: CampaignForm) -> None:
    form.hour_sliders["wednesday"].value = (10, 10)


def _minutes_out_of_range(form: CampaignForm) -> None:
    form.timezone_input.value = MINUTES
    form.minutes_input.value = 900


BAD_INPUTS = [
    (_bad_name, "name", "name: must not be empty"),
    (_no_seat, "seats", "seats: List should have at least 1 item"),
    (_seat_with_space, "seats", "must not contain spaces"),
    (_repeated_seat, "seats", "seat listed more than once: seat_a"),
    (_campaign_id_with_space, "campaign_id", "campaign id: Value error, must not contain spaces"),
    (_empty_hours, "wednesday", "start hour (10) must be before end hour (10)"),
    (_minutes_out_of_range, "timezone", "timezone: Input should be less than or equal to 840"),
]


@pytest.mark.parametrize(
    ("spoil", "slot", "says"), BAD_INPUTS, ids=[b[0].__name__.strip("_") for b in BAD_INPUTS]
)
def test_bad_input_is_shown_next_to_its_field(
    client: AlsonaClient, spoil: object, slot: str, says: str
) -> None:
    form = CampaignForm(client, zone_date=WINTER)  # typed seats: any seat text is possible
    form.name_input.value = "Q3"
    form.seats_input.value = ["seat_a"]
    assert form.draft is not None
    spoil(form)  # type: ignore[operator]
    assert form.draft is None and form.payload is None
    says = says.replace("Value error, ", "")
    assert any(says in e for e in form.errors), form.errors
    assert says in plain(form.error_labels[slot].value)
    others = [s for s, label in form.error_labels.items() if s != slot and label.value]
    assert others == []
    assert form.create_button.disabled
    assert form.create() is None  # nothing is sent
    assert "Fix the problems" in plain(form.message.value)
    assert form.attempts == []


def test_fixing_the_input_clears_the_message(form: CampaignForm) -> None:
    fill(form)
    form.hour_sliders["friday"].value = (12, 12)
    assert form.error_labels["friday"].value
    form.hour_sliders["friday"].value = (12, 13)
    assert form.error_labels["friday"].value == ""
    assert form.draft is not None
    assert form.draft.schedule.friday == DayWindow(enabled=True, start_hour=12, end_hour=13)


def test_a_client_without_account_is_explained(sandbox: Sandbox) -> None:
    client = AlsonaClient(api_key=sandbox.api_key, base_url=sandbox.url, sandbox=sandbox)
    form = CampaignForm(client, seats=SEATS)
    fill(form)
    assert form.draft is not None  # the campaign itself is fine...
    assert form.payload is None  # ...but there is no account to send it to
    assert any("no account id" in e for e in form.errors)
    assert "no account id" in plain(form.error_labels["other"].value)
    assert form.create_button.disabled


# -- schedule, time zone, week picture -----------------------------------------------------


def test_unticked_day_greys_its_slider_and_keeps_its_hours(form: CampaignForm) -> None:
    fill(form)
    form.hour_sliders["tuesday"].value = (7, 11)
    form.day_checkboxes["tuesday"].value = False
    assert form.hour_sliders["tuesday"].disabled
    assert form.draft is not None
    assert form.draft.schedule.tuesday.model_dump() == [False, 7, 11]
    form.day_checkboxes["tuesday"].value = True
    assert not form.hour_sliders["tuesday"].disabled
    assert form.draft.schedule.tuesday.model_dump() == [True, 7, 11]


def test_presets(form: CampaignForm) -> None:
    fill(form)
    form.hour_sliders["monday"].value = (6, 8)
    form.preset_buttons["every_day"].click()
    assert form.draft is not None and form.draft.schedule.enabled_days == list(DAYS)
    assert form.draft.schedule.monday.model_dump() == [True, 6, 8]  # hours kept
    form.preset_buttons["clear"].click()
    assert form.draft.schedule.enabled_days == []
    assert all(slider.disabled for slider in form.hour_sliders.values())
    form.preset_buttons["weekdays"].click()
    assert form.draft.schedule == WeeklySchedule.weekdays(9, 17)
    with pytest.raises(ValueError, match="unknown preset"):
        form.apply_preset("weekends")


def test_time_zone_gives_minutes_and_warns_about_daylight_saving(form: CampaignForm) -> None:
    fill(form)
    assert form.draft is not None and form.draft.timezone == 0
    assert "daylight" not in plain(form.timezone_info.value)
    form.timezone_input.value = "America/New_York"
    assert form.draft.timezone == -300
    assert form.minutes_input.value == -300 and form.minutes_input.disabled
    info = plain(form.timezone_info.value)
    assert "-300 min" in info and "daylight saving" in info and "will not follow" in info
    form.timezone_input.value = "Asia/Kolkata"
    assert form.draft.timezone == 330
    assert "daylight" not in plain(form.timezone_info.value)
    form.timezone_input.value = MINUTES
    assert not form.minutes_input.disabled
    form.minutes_input.value = -180
    assert form.draft.timezone == -180
    form.timezone_input.value = NO_ZONE
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
    assert list(hours) == list(DAYS)
    assert hours["monday"] == list(range(9, 17)) and hours["saturday"] == []
    assert "40 hours a week" in plain(form.week_picture.value)
    form.hour_sliders["monday"].value = (0, 24)
    form.day_checkboxes["saturday"].value = True
    hours = _hours_on(form.week_picture.value)
    assert hours["monday"] == list(range(24)) and hours["saturday"] == list(range(9, 17))
    assert form.draft is not None
    assert sum(map(len, hours.values())) == form.draft.schedule.hours_per_week == 64
    lines = plain(form.week_picture.value).splitlines()
    assert lines[1] == "Mon  " + "██" * 24 + "  0:00-24:00"
    assert lines[6] == "Sat  " + "··" * 9 + "██" * 8 + "··" * 7 + "  9:00-17:00"
    assert lines[7] == "Sun  " + "··" * 24 + "  off"
    on_cells = re.findall(r'data-hour="(\d+)" data-on="1"', form.week_picture.value)
    assert len(on_cells) == 64 and len(re.findall(r"data-hour=", form.week_picture.value)) == 168


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


# -- creating ---------------------------------------------------------------------------------


def test_create_sends_the_previewed_body(form: CampaignForm, sandbox: Sandbox) -> None:
    fill(form)
    form.create_button.click()
    assert len(form.attempts) == 1 and form.attempts[0].ok
    campaign_id = form.attempts[0].campaign.campaign_id  # type: ignore[union-attr]
    assert campaign_id in sandbox.campaigns
    assert sandbox.requests[-1].body == form.payload == json.loads(plain(form.preview.value))
    shown = plain(form.message.value)
    assert f"Created campaign {campaign_id}" in shown and "SANDBOX" in shown
    frame = form.results
    assert list(frame["campaign_id"]) == [campaign_id] and frame["ok"].all()
    assert len(form.results_log) == 1
    # Created: the button waits for a change, so a stray click does not create it twice.
    assert form.create_button.disabled
    assert form.create() is None and len(sandbox.campaigns) == 1
    form.name_input.value = "Q4 founders outreach"
    assert not form.create_button.disabled and form.message.value == ""
    assert form.create() is not None and len(sandbox.campaigns) == 2


def test_double_click_creates_once(form: CampaignForm, sandbox: Sandbox) -> None:
    fill(form)
    form.create_button.click()
    form.create_button.click()
    assert len(sandbox.requests) == 1 and len(sandbox.campaigns) == 1
    assert len(form.results) == 1


def test_double_click_after_an_error_sends_once(form: CampaignForm, sandbox: Sandbox) -> None:
    fill(form)
    sandbox.inject(Fault.error(400, "seat_6a13e661ecc6a86e3fb7 is paused"), times=5)
    form.create_button.click()
    form.create_button.click()  # arrives right after the first finished: a double click
    assert len(sandbox.requests) == 1


def test_button_is_disabled_while_the_request_runs(form: CampaignForm, sandbox: Sandbox) -> None:
    fill(form)
    sandbox.latency = 0.05
    seen: list[tuple[bool, str, object]] = []

    def during(change: dict[str, object]) -> None:
        # A click arriving now (the button is disabled in the browser) is refused too.
        seen.append((form.create_button.disabled, form.create_button.description, form.create()))

    form.create_button.observe(during, names="description")
    attempt = form.create()
    assert attempt is not None and attempt.ok
    assert seen[0] == (True, "Creating…", None)
    assert seen[-1][1] == "Create campaign"
    assert len(sandbox.campaigns) == 1


def test_server_error_is_shown_and_the_form_stays_usable(
    form: CampaignForm, sandbox: Sandbox
) -> None:
    fill(form)
    form.campaign_id_input.value = "spring-launch"
    first = form.create()
    assert first is not None and first.ok
    form.name_input.value = "Another name, same id"
    again = form.create()
    assert again is not None and not again.ok
    shown = plain(form.message.value)
    assert shown.startswith("✘ Not created: the server refused the campaign (HTTP 400)")
    assert "a campaign with id 'spring-launch' already exists" in shown
    assert not form.create_button.disabled
    frame = form.results
    assert list(frame["ok"]) == [True, False]
    assert frame["error_type"].iloc[1] == "BadRequestError"
    table = plain(form.results_table.value)  # what a Voila user sees, without code
    assert "spring-launch" in table and "already exists" in table and "<NA>" not in table
    form.campaign_id_input.value = "spring-launch-2"
    assert form.create() is not None and "spring-launch-2" in sandbox.campaigns


def test_lost_answer_is_not_reported_as_not_created(form: CampaignForm, sandbox: Sandbox) -> None:
    fill(form)
    sandbox.inject(Fault.raw(200, b""))
    attempt = form.create()
    assert attempt is not None and not attempt.ok
    shown = plain(form.message.value)
    assert "Not created" not in shown and "Unclear whether it was created" in shown


def test_results_go_into_a_shared_log(client: AlsonaClient, tmp_path: object) -> None:
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
    """A client without ``sandbox=``: LIVE mode, yet still on loopback."""
    with AlsonaClient(
        api_key=sandbox.api_key, account_id=sandbox.account_id, base_url=sandbox.url
    ) as client:
        assert not client.is_sandbox
        yield client


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
    assert form.create() is None and sandbox.requests == []
    assert "tick the confirmation" in plain(form.message.value)
    form.confirm_run.value = True
    assert not form.create_button.disabled
    attempt = form.create()
    assert attempt is not None and attempt.ok and "LIVE" in plain(form.message.value)
    assert not form.confirm_run.value  # the next RUN campaign needs its own tick
    form.name_input.value = "second"
    assert form.create_button.disabled and form.create() is None
    assert len(sandbox.campaigns) == 1


def test_live_draft_needs_no_confirmation(live: AlsonaClient, sandbox: Sandbox) -> None:
    form = CampaignForm(live, seats=SEATS)
    fill(form)
    assert form.create() is not None and len(sandbox.campaigns) == 1


def test_sandbox_run_needs_no_confirmation(form: CampaignForm, sandbox: Sandbox) -> None:
    fill(form)
    form.status_input.value = "RUN"
    assert form.confirm_run.layout.display == "none"
    assert form.create() is not None and len(sandbox.campaigns) == 1


# -- load and copy as code ------------------------------------------------------------------

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
    CampaignDraft(name="plain", seats=[SEATS[0]], schedule=WeeklySchedule.weekdays()),
    CampaignDraft(
        name="New York",
        seats=SEATS,
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
        seats=[SEATS[1]],
        schedule=WeeklySchedule.model_validate({d: [False, 9, 17] for d in DAYS}),
        account_id="account_other",
        created_at=1_700_000_000_000,
        timezone=840,
        status=CampaignStatus.DONE,
    ),
    CampaignDraft(name="  spaces trimmed ", seats=[SEATS[2]], schedule=_ODD_WEEK, timezone=-720),
]


@pytest.mark.parametrize("typed_seats", [False, True], ids=["seat list", "typed seats"])
@pytest.mark.parametrize("draft", DRAFTS, ids=[d.name.strip() for d in DRAFTS])
def test_load_round_trip(client: AlsonaClient, draft: CampaignDraft, typed_seats: bool) -> None:
    form = CampaignForm(client, seats=None if typed_seats else SEATS, zone_date=WINTER)
    form.load(draft)
    assert form.draft == draft
    assert form.errors == []
    again = CampaignForm(client, seats=None if typed_seats else SEATS, zone_date=WINTER)
    again.load(form.draft)
    assert again.draft == draft
    # Copy as code builds the same draft.
    code = form.show_code()
    assert form.code.value == code and form.code.layout.display is None
    namespace: dict[str, object] = {}
    exec(code, namespace)
    assert namespace["draft"] == draft


def test_load_keeps_a_chosen_zone_when_the_offset_matches(form: CampaignForm) -> None:
    form.timezone_input.value = "America/New_York"
    form.load(DRAFTS[1])
    assert form.timezone_input.value == "America/New_York"
    form.load(DRAFTS[3])
    assert form.timezone_input.value == MINUTES and form.minutes_input.value == 330


def test_loaded_account_is_used_and_shown(form: CampaignForm, sandbox: Sandbox) -> None:
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


def test_copy_as_code_while_invalid_lists_the_problems(form: CampaignForm) -> None:
    form.copy_button.click()
    assert form.code.value.startswith("# fix the problems")
    assert "# - name: must not be empty" in form.code.value


# -- cost of one change -------------------------------------------------------------------------


def test_one_widget_change_is_cheap(form: CampaignForm) -> None:
    fill(form)
    costs = []
    for i in range(200):
        start = time.perf_counter()
        form.hour_sliders["monday"].value = (i % 12, 12 + i % 12)
        costs.append(time.perf_counter() - start)
    assert form.draft is not None and form.draft.schedule.monday.end_hour == 12 + 199 % 12
    assert statistics.median(costs) < 0.002
