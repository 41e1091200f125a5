"""Every rule of the campaign models (NOTES 1, 3, 5, 9), the plain words they are explained
in (``problems``), minted ids, and ``client.prepare`` (validate and build, send nothing)."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from conftest import JARGON
from pydantic import ValidationError

from alsona_nb import (
    AlsonaClient,
    AlsonaError,
    Campaign,
    CampaignDraft,
    CampaignStatus,
    DayWindow,
    InvalidDraftError,
    PreparedCreate,
    Sandbox,
    WeeklySchedule,
    describe_errors,
    mint_campaign_id,
    problems,
)
from alsona_nb._models import DAYS

SEAT = "seat_6a13e661ecc6a86e3fb7"
MINTED = re.compile(r"campaign_[0-9a-f]{20}")


def make(**changes: Any) -> CampaignDraft:
    fields: dict[str, Any] = {
        "name": "Outreach",
        "seats": [SEAT],
        "schedule": WeeklySchedule.weekdays(),
    }
    fields.update(changes)
    return CampaignDraft(**fields)


def wire(**changes: Any) -> dict[str, Any]:
    """A valid draft as plain data, with ``changes`` applied (``None`` removes a field)."""
    data: dict[str, Any] = {
        "name": "Outreach",
        "seats": [SEAT],
        "schedule": WeeklySchedule.weekdays().model_dump(),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def with_day(day: str, value: Any) -> dict[str, Any]:
    schedule = WeeklySchedule.weekdays().model_dump()
    schedule[day] = value
    return wire(schedule=schedule)


def refused(data: Any) -> list[tuple[str, str]]:
    """The problems of ``data`` as a draft, each checked to be plain words."""
    with pytest.raises(ValidationError) as info:
        CampaignDraft.model_validate(data)
    found = problems(info.value)
    assert found, "a refused draft must name at least one problem"
    assert describe_errors(info.value) == [sentence for _, sentence in found]
    for _, sentence in found:
        assert_plain(sentence)
    return found


def on_the_wire(day: DayWindow) -> Any:
    """A day as it is dumped (a list: pydantic's stubs say dict)."""
    return day.model_dump()


def assert_plain(sentence: str) -> None:
    lowered = sentence.lower()
    assert sentence.strip() == sentence and sentence, repr(sentence)
    assert sentence[0].isupper() or sentence[0] == "'", f"not a sentence: {sentence!r}"
    assert not [j for j in JARGON if j in lowered], f"jargon in {sentence!r}"
    assert not re.search(r"\b\w+\.\d+\b", sentence), f"field path in {sentence!r}"


class TestDayWindow:
    def test_wire_shape_is_enabled_start_end(self) -> None:
        day = DayWindow(enabled=True, start_hour=9, end_hour=17)
        assert on_the_wire(day) == [True, 9, 17]
        assert json.loads(day.model_dump_json()) == [True, 9, 17]

    def test_reads_the_wire_list(self) -> None:
        assert DayWindow.model_validate([False, 8, 12]) == DayWindow(
            enabled=False, start_hour=8, end_hour=12
        )

    def test_disabled_day_keeps_its_hours(self) -> None:
        day = DayWindow.model_validate([False, 9, 17])
        assert (day.start_hour, day.end_hour) == (9, 17)
        assert list(day.hours) == []
        assert list(day.model_copy(update={"enabled": True}).hours) == list(range(9, 17))

    @pytest.mark.parametrize("start,end", [(0, 24), (0, 1), (23, 24)])
    def test_hour_bounds_accepted(self, start: int, end: int) -> None:
        assert DayWindow(enabled=True, start_hour=start, end_hour=end).end_hour == end

    @pytest.mark.parametrize(
        "value,sentence",
        [
            ([True, 17, 9], "Wednesday: the end hour must be after the start hour"),
            ([False, 9, 9], "Wednesday: the end hour must be after the start hour"),
            ([True, -1, 9], "Wednesday: the start hour must be between 0 and 24"),
            ([True, 9, 25], "Wednesday: the end hour must be between 0 and 24"),
            # the vendor example's shape
            ([True, True, True], "Wednesday: hours must be whole numbers, not true/false"),
            ([True, 9], "Wednesday: give three values, [on or off, start hour, end hour], not 2"),
            ([True, "9", 17], "Wednesday: the start hour must be a whole number"),
            ([True, 9, 17.5], "Wednesday: the end hour must be a whole number"),
            (None, "Wednesday: give [on or off, start hour, end hour], e.g. [true, 9, 17]"),
        ],
    )
    def test_bad_days_are_refused_in_plain_words(self, value: Any, sentence: str) -> None:
        assert refused(with_day("wednesday", value)) == [("wednesday", sentence)]

    def test_on_or_off_that_is_not_true_or_false(self) -> None:
        ((field, sentence),) = refused(with_day("friday", ["yes", 9, 17]))
        assert field == "friday" and sentence.startswith("Friday:")
        assert "hour" not in sentence, "the hours are fine: the on/off value is wrong"

    def test_a_day_without_its_end_hour(self) -> None:
        ((field, sentence),) = refused(with_day("friday", {"enabled": True, "start_hour": 9}))
        assert field == "friday" and "end hour" in sentence

    @pytest.mark.parametrize("value", [[True, 17, 9], [True, -1, 9], [True, "9", 17]])
    def test_a_day_on_its_own_is_refused_without_jargon(self, value: Any) -> None:
        with pytest.raises(ValidationError) as info:
            DayWindow.model_validate(value)
        for _, sentence in problems(info.value):
            assert not [j for j in JARGON if j in sentence.lower()], sentence

    def test_a_day_on_its_own_with_a_bad_on_or_off(self) -> None:
        with pytest.raises(ValidationError) as info:
            DayWindow.model_validate(["yes", 9, 17])
        for _, sentence in problems(info.value):
            assert not [j for j in JARGON if j in sentence.lower()], sentence


class TestWeeklySchedule:
    def test_weekdays(self) -> None:
        schedule = WeeklySchedule.weekdays(8, 18)
        assert schedule.enabled_days == ["monday", "tuesday", "wednesday", "thursday", "friday"]
        assert on_the_wire(schedule.saturday) == [False, 8, 18]
        assert schedule.hours_per_week == 5 * 10

    def test_every_day(self) -> None:
        assert WeeklySchedule.every_day(0, 24).hours_per_week == 7 * 24

    def test_all_seven_days_required(self) -> None:
        schedule = WeeklySchedule.weekdays().model_dump()
        del schedule["sunday"]
        assert refused(wire(schedule=schedule)) == [
            ("sunday", "Sunday is missing from the schedule")
        ]

    def test_unknown_day_refused(self) -> None:
        schedule = WeeklySchedule.weekdays().model_dump()
        schedule["funday"] = [True, 9, 17]
        assert refused(wire(schedule=schedule)) == [("funday", "'funday' is not a day of the week")]

    def test_one_sentence_per_problem_in_the_order_of_the_week(self) -> None:
        schedule = WeeklySchedule.weekdays().model_dump()
        schedule["tuesday"] = [True, 12, 10]
        schedule["saturday"] = [False, 30, 31]
        found = refused(wire(schedule=schedule))
        assert [field for field, _ in found] == ["tuesday", "saturday", "saturday"]
        assert found[0][1] == "Tuesday: the end hour must be after the start hour"

    def test_wire_round_trip(self) -> None:
        schedule = WeeklySchedule.weekdays(7, 19)
        assert WeeklySchedule.model_validate(schedule.model_dump()) == schedule


class TestCampaignDraft:
    def test_name_is_trimmed(self) -> None:
        assert make(name="  Launch \n").name == "Launch"

    @pytest.mark.parametrize("name", ["", "   ", "\t\n", None])
    def test_empty_or_missing_name_refused(self, name: str | None) -> None:
        assert refused(wire(name=name)) == [("name", "Give the campaign a name")]

    def test_name_must_be_text(self) -> None:
        assert refused(wire(name=5)) == [("name", "The name must be text")]

    @pytest.mark.parametrize("seats", [[], None])
    def test_at_least_one_seat(self, seats: list[str] | None) -> None:
        assert refused(wire(seats=seats)) == [("seats", "Pick at least one seat")]

    @pytest.mark.parametrize("seat", ["seat 1", "seat\t1", " seat", "seat\n"])
    def test_seat_ids_without_whitespace(self, seat: str) -> None:
        assert refused(wire(seats=[SEAT, seat])) == [
            ("seats", f"Seat ids cannot contain spaces or line breaks ({seat!r})")
        ]

    def test_seat_ids_not_empty(self) -> None:
        assert refused(wire(seats=[""])) == [("seats", "Seat ids cannot be empty")]

    @pytest.mark.parametrize("seat", ["SEAT6a13e661", "seat_6a13e661ecc6a86e3fb7", "x", "123"])
    def test_seat_ids_never_checked_by_prefix(self, seat: str) -> None:
        assert make(seats=[seat]).seats == [seat]

    def test_repeated_seat_refused(self) -> None:
        ((field, sentence),) = refused(wire(seats=["a", "b", "a"]))
        assert field == "seats" and "more than once" in sentence and sentence.endswith(": a")

    def test_repeated_seats_among_forty_thousand(self) -> None:
        seats = [f"seat_{i:05d}" for i in range(40_000)]
        assert len(make(seats=seats).seats) == 40_000
        ((field, sentence),) = refused(wire(seats=[*seats, "seat_31415"]))
        assert field == "seats" and "more than once" in sentence
        assert "seat_31415" in sentence and "seat_31416" not in sentence

    def test_seats_as_one_string_refused(self) -> None:
        ((field, sentence),) = refused(wire(seats="seat_1"))
        assert field == "seats" and "list of seat ids" in sentence

    @pytest.mark.parametrize("tz", [-720, -300, 0, 330, 840])
    def test_timezone_range(self, tz: int) -> None:
        assert make(timezone=tz).timezone == tz

    @pytest.mark.parametrize("tz", [-721, 841, -100_000])
    def test_timezone_out_of_range(self, tz: int) -> None:
        assert refused(wire(timezone=tz)) == [
            ("timezone", "The time offset must be between -720 and +840 minutes (UTC-12 to UTC+14)")
        ]

    @pytest.mark.parametrize("tz", [True, 60.5, "-300", [0]])
    def test_timezone_must_be_whole_minutes(self, tz: Any) -> None:
        ((field, sentence),) = refused(wire(timezone=tz))
        assert field == "timezone" and "whole number of minutes" in sentence

    def test_status_default_and_case(self) -> None:
        assert make().status is CampaignStatus.DRAFT
        assert make(status=" run ").status is CampaignStatus.RUN

    @pytest.mark.parametrize("status", ["PAUSED", "", 5])
    def test_status_outside_enum_refused(self, status: Any) -> None:
        # NOTES 3: strict on what we send, even though the vendor answers "PAUSED".
        assert refused(wire(status=status)) == [
            ("status", "Status must be one of DRAFT, RUN, PAUSE, DONE")
        ]

    @pytest.mark.parametrize(
        "field,label", [("campaign_id", "Campaign ID"), ("account_id", "Account ID")]
    )
    def test_ids_without_whitespace(self, field: str, label: str) -> None:
        assert refused(wire(**{field: "has space"})) == [
            (field, f"{label} cannot contain spaces or line breaks ('has space')")
        ]
        assert getattr(make(**{field: "CAMP123"}), field) == "CAMP123"

    @pytest.mark.parametrize("created_at", [-1, "soon", True])
    def test_created_at_is_epoch_ms(self, created_at: Any) -> None:
        ((field, _),) = refused(wire(created_at=created_at))
        assert field == "created_at"

    def test_unknown_field_refused(self) -> None:
        assert refused(wire(nmae="typo")) == [("nmae", "'nmae' is not a campaign field")]

    def test_schedule_missing(self) -> None:
        assert refused(wire(schedule=None)) == [("schedule", "Schedule is missing")]

    @pytest.mark.parametrize("schedule", ["weekdays", [[True, 9, 17]] * 7])
    def test_schedule_that_is_not_a_week(self, schedule: Any) -> None:
        assert [f for f, _ in refused(wire(schedule=schedule))] == ["schedule"]

    @pytest.mark.parametrize("data", [None, [], "a campaign", 5])
    def test_not_a_dict_at_all(self, data: Any) -> None:
        assert refused(data) == [("", "Give a campaign as a dict of its fields")]

    def test_every_problem_at_once(self) -> None:
        data = with_day("monday", [True, 10, 9])
        data.update(name=" ", seats=[], status="LIVE", timezone=900, extra=1)
        found = dict(refused(data))
        assert set(found) == {"name", "seats", "status", "timezone", "monday", "extra"}
        assert found["monday"] == "Monday: the end hour must be after the start hour"

    def test_frozen(self) -> None:
        with pytest.raises(ValidationError):
            make().name = "other"  # type: ignore[misc]


class TestMintCampaignId:
    def test_form_of_the_seed(self) -> None:
        assert MINTED.fullmatch(mint_campaign_id())

    def test_different_every_call(self) -> None:
        ids = {mint_campaign_id() for _ in range(2000)}
        assert len(ids) == 2000 and all(MINTED.fullmatch(i) for i in ids)

    def test_eighty_bits_from_secrets(self, monkeypatch: pytest.MonkeyPatch) -> None:
        asked: list[int] = []

        def token_hex(nbytes: int) -> str:
            asked.append(nbytes)
            return "ab" * nbytes

        monkeypatch.setattr("secrets.token_hex", token_hex)
        assert mint_campaign_id() == "campaign_" + "ab" * 10
        assert asked == [10]

    def test_a_minted_id_is_a_valid_campaign_id(self) -> None:
        cid = mint_campaign_id()
        assert make(campaign_id=cid).campaign_id == cid


class TestPayload:
    def test_exact_body(self) -> None:
        draft = make(account_id="account_1", timezone=-300, status="RUN")
        assert draft.to_payload(now_ms=1756551947499) == {
            "campaign": {
                "name": "Outreach",
                "seats": [SEAT],
                "schedule": {
                    "monday": [True, 9, 17],
                    "tuesday": [True, 9, 17],
                    "wednesday": [True, 9, 17],
                    "thursday": [True, 9, 17],
                    "friday": [True, 9, 17],
                    "saturday": [False, 9, 17],
                    "sunday": [False, 9, 17],
                },
                "account_id": "account_1",
                "status": "RUN",
                "timezone": -300,
                "created_at": 1756551947499,
            }
        }

    def test_none_fields_left_out(self) -> None:
        body = make().to_payload()["campaign"]
        assert not {"account_id", "timezone", "campaign_id"} & body.keys()

    def test_given_created_at_kept(self) -> None:
        assert make(created_at=5).to_payload()["campaign"]["created_at"] == 5

    def test_round_trip(self) -> None:
        draft = make(account_id="a", campaign_id="c", timezone=60, created_at=7)
        assert CampaignDraft.from_payload(draft.to_payload()) == draft


def requests_seen(sandbox: Sandbox) -> int:
    """How many requests ``sandbox`` has answered so far (a shared sandbox: compare)."""
    return sum(n for key, n in sandbox.counts.items() if isinstance(key, str))


class TestPrepare:
    def test_builds_the_request_once_and_sends_nothing(
        self, prep: AlsonaClient, offline_sandbox: Sandbox
    ) -> None:
        seen = requests_seen(offline_sandbox)
        before = int(time.time() * 1000)
        prepared = prep.prepare(make(timezone=-300))
        after = int(time.time() * 1000)
        assert isinstance(prepared, PreparedCreate)
        assert prepared.url == f"{prep.base_url}/rest/accounts/{prep.account_id}/campaigns"
        draft = prepared.draft
        assert draft.account_id == prep.account_id == offline_sandbox.account_id
        assert draft.created_at is not None and before <= draft.created_at <= after
        assert draft.campaign_id is not None and MINTED.fullmatch(draft.campaign_id)
        assert prepared.campaign_id == draft.campaign_id
        assert prepared.payload == json.loads(prepared.body)
        assert prepared.payload == {"campaign": draft.model_dump(mode="json", exclude_none=True)}
        assert prepared.payload["campaign"]["timezone"] == -300
        assert requests_seen(offline_sandbox) == seen

    def test_every_prepare_mints_a_new_id(self, prep: AlsonaClient) -> None:
        first, second = prep.prepare(make()), prep.prepare(make())
        assert first.campaign_id != second.campaign_id
        assert prep.prepare(first) is first  # a prepared request is kept as it is

    def test_given_values_are_kept(self, prep: AlsonaClient) -> None:
        prepared = prep.prepare(make(campaign_id="CAMP1", created_at=5, account_id="acc_2"))
        assert prepared.payload["campaign"]["campaign_id"] == "CAMP1"
        assert prepared.payload["campaign"]["created_at"] == 5
        assert prepared.url.endswith("/rest/accounts/acc_2/campaigns")

    def test_without_minting_the_server_chooses(self, offline_sandbox: Sandbox) -> None:
        prepared = offline_sandbox.client(in_process=True, mint_ids=False).prepare(make())
        assert prepared.campaign_id is None
        assert "campaign_id" not in prepared.payload["campaign"]

    @pytest.mark.parametrize("form", ["dict", "body"])
    def test_takes_plain_data(self, prep: AlsonaClient, form: str) -> None:
        data = wire(status="run")
        prepared = prep.prepare(data if form == "dict" else {"campaign": data})
        assert prepared.payload["campaign"]["status"] == "RUN"
        assert prepared.draft.seats == [SEAT]

    def test_invalid_input_is_an_invalid_draft_error(
        self, prep: AlsonaClient, offline_sandbox: Sandbox
    ) -> None:
        seen = requests_seen(offline_sandbox)
        with pytest.raises(InvalidDraftError) as info:
            prep.prepare(with_day("wednesday", [True, 17, 9]) | {"seats": []})
        error = info.value
        assert isinstance(error, AlsonaError) and isinstance(error, ValueError)
        assert error.problems == [
            ("seats", "Pick at least one seat"),
            ("wednesday", "Wednesday: the end hour must be after the start hour"),
        ]
        assert "Pick at least one seat" in str(error) and "nothing was sent" in str(error)
        assert not error.maybe_created and error.status_code is None
        assert requests_seen(offline_sandbox) == seen

    def test_a_copy_that_skipped_validation_is_checked_again(self, prep: AlsonaClient) -> None:
        unchecked = make().model_copy(update={"seats": []})
        with pytest.raises(InvalidDraftError) as info:
            prep.prepare(unchecked)
        assert info.value.problems == [("seats", "Pick at least one seat")]

    @pytest.mark.parametrize("thing", [5, "a campaign", None])
    def test_not_a_campaign_at_all(self, prep: AlsonaClient, thing: Any) -> None:
        with pytest.raises(InvalidDraftError) as info:
            prep.prepare(thing)
        assert [field for field, _ in info.value.problems] == [""]

    def test_no_account_anywhere(self, offline_sandbox: Sandbox) -> None:
        client = offline_sandbox.client(in_process=True, account_id=None)
        assert client.account_id is None
        with pytest.raises(InvalidDraftError) as info:
            client.prepare(make())
        assert [field for field, _ in info.value.problems] == ["account_id"]
        assert client.prepare(make(account_id="acc_3")).draft.account_id == "acc_3"

    def test_text_that_cannot_be_sent(self, prep: AlsonaClient) -> None:
        with pytest.raises(InvalidDraftError) as info:
            prep.prepare(wire(name="broken \ud800 name"))
        assert [field for field, _ in info.value.problems] == ["name"]

    def test_text_that_cannot_be_sent_in_a_seat(self, prep: AlsonaClient) -> None:
        with pytest.raises(InvalidDraftError) as info:
            prep.prepare(wire(seats=["seat_\ud800"]))
        assert [field for field, _ in info.value.problems] == ["seats"]

    def test_a_body_whose_campaign_is_not_a_dict(self, prep: AlsonaClient) -> None:
        with pytest.raises(InvalidDraftError) as info:
            prep.prepare({"campaign": 5})
        assert [field for field, _ in info.value.problems] == [""]


class TestCampaign:
    SEED_ANSWER = {  # noqa: RUF012
        "name": "Test Rest",
        "seats": [SEAT],
        "status": "PAUSED",
        "priority": 1756551947499,
        "schedule": {day: [day not in ("saturday", "sunday"), True, True] for day in DAYS},
        "timezone": -300,
        "account_id": "account_136ce10b5f8a7682efb3",
        "created_at": 1756551947499,
        "wait_until": 1756551947499,
        "campaign_id": "campaign_a1b2c3d4e5f6a7b8c9d0",
        "owner": "someone",
    }

    def test_reads_the_vendor_example_leniently(self) -> None:
        campaign = Campaign.model_validate(self.SEED_ANSWER)
        assert campaign.status == "PAUSED"
        assert campaign.schedule["monday"] == [True, True, True]
        assert campaign.weekly_schedule() is None  # booleans are not hours
        assert campaign.model_extra == {"owner": "someone"}

    def test_datetimes(self) -> None:
        campaign = Campaign.model_validate(self.SEED_ANSWER)
        assert campaign.created_at_datetime is not None
        assert campaign.created_at_datetime.isoformat() == "2025-08-30T11:05:47.499000+00:00"
        assert campaign.wait_until_datetime == campaign.priority_datetime

    def test_integer_days_give_a_schedule(self) -> None:
        answer = dict(self.SEED_ANSWER, schedule=WeeklySchedule.weekdays().model_dump())
        assert Campaign.model_validate(answer).weekly_schedule() == WeeklySchedule.weekdays()

    def test_campaign_id_required(self) -> None:
        answer = dict(self.SEED_ANSWER)
        del answer["campaign_id"]
        with pytest.raises(ValidationError):
            Campaign.model_validate(answer)


def test_campaign_shows_itself_as_a_card_and_survives_for_ever_sentinels() -> None:
    campaign = Campaign.model_validate(
        {
            "campaign_id": "campaign_a1b2c3d4e5f6a7b8c9d0",
            "name": "<b>Q3</b>",
            "account_id": "acc",
            "status": "PAUSED",
            "seats": ["s1", "s2"],
            "schedule": WeeklySchedule.weekdays(9, 17).model_dump(),
            "timezone": -300,
            "wait_until": 2**63 - 1,
        }
    )
    html = campaign._repr_html_()
    assert "campaign_a1b2c3d4e5f6a7b8c9d0" in html and "&lt;b&gt;Q3&lt;/b&gt;" in html
    assert "Mon 9:00-17:00" in html and "Sat" not in html and "-300 min" in html
    assert campaign.wait_until_datetime is None
