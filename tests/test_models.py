"""Every rule of the campaign models (NOTES 1, 3, 5)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from alsona_nb import (
    Campaign,
    CampaignDraft,
    CampaignStatus,
    DayWindow,
    WeeklySchedule,
    describe_errors,
)
from alsona_nb._models import DAYS

SEAT = "seat_6a13e661ecc6a86e3fb7"


def make(**changes: Any) -> CampaignDraft:
    fields: dict[str, Any] = {
        "name": "Outreach",
        "seats": [SEAT],
        "schedule": WeeklySchedule.weekdays(),
    }
    fields.update(changes)
    return CampaignDraft(**fields)


def messages(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return " | ".join(describe_errors(exc.value))


class TestDayWindow:
    def test_wire_shape_is_enabled_start_end(self) -> None:
        assert DayWindow(enabled=True, start_hour=9, end_hour=17).model_dump() == [True, 9, 17]

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
        "wire,needle",
        [
            ([True, 17, 9], "must be before end hour"),
            ([True, 9, 9], "must be before end hour"),
            ([True, -1, 9], "greater than or equal to 0"),
            ([True, 9, 25], "less than or equal to 24"),
            ([True, True, True], "not true/false"),  # the vendor example's shape
            ([True, 9], "got 2 item"),
            ([True, "9", 17], "valid integer"),
            ([True, 9.5, 17], "valid integer"),
            (["yes", 9, 17], "valid boolean"),
        ],
    )
    def test_bad_windows_are_refused_plainly(self, wire: list[Any], needle: str) -> None:
        with pytest.raises(ValidationError) as exc:
            DayWindow.model_validate(wire)
        assert needle in messages(exc)


class TestWeeklySchedule:
    def test_weekdays(self) -> None:
        schedule = WeeklySchedule.weekdays(8, 18)
        assert schedule.enabled_days == ["monday", "tuesday", "wednesday", "thursday", "friday"]
        assert schedule.saturday.model_dump() == [False, 8, 18]
        assert schedule.hours_per_week == 5 * 10

    def test_every_day(self) -> None:
        assert WeeklySchedule.every_day(0, 24).hours_per_week == 7 * 24

    def test_all_seven_days_required(self) -> None:
        wire = WeeklySchedule.weekdays().model_dump()
        del wire["sunday"]
        with pytest.raises(ValidationError) as exc:
            WeeklySchedule.model_validate(wire)
        assert "sunday: Field required" in messages(exc)

    def test_unknown_day_refused(self) -> None:
        wire = WeeklySchedule.weekdays().model_dump()
        wire["funday"] = [True, 9, 17]
        with pytest.raises(ValidationError):
            WeeklySchedule.model_validate(wire)

    def test_wire_round_trip(self) -> None:
        schedule = WeeklySchedule.weekdays(7, 19)
        assert WeeklySchedule.model_validate(schedule.model_dump()) == schedule


class TestCampaignDraft:
    def test_name_is_trimmed(self) -> None:
        assert make(name="  Launch \n").name == "Launch"

    @pytest.mark.parametrize("name", ["", "   ", "\t\n"])
    def test_empty_name_refused(self, name: str) -> None:
        with pytest.raises(ValidationError) as exc:
            make(name=name)
        assert "name: must not be empty" in messages(exc)

    def test_at_least_one_seat(self) -> None:
        with pytest.raises(ValidationError) as exc:
            make(seats=[])
        assert "seats" in messages(exc)

    @pytest.mark.parametrize("seat", ["", "seat 1", "seat\t1", " seat"])
    def test_seat_ids_nonempty_without_whitespace(self, seat: str) -> None:
        with pytest.raises(ValidationError) as exc:
            make(seats=[seat])
        assert "seats.0: must not" in messages(exc)

    @pytest.mark.parametrize("seat", ["SEAT6a13e661", "seat_6a13e661ecc6a86e3fb7", "x", "123"])
    def test_seat_ids_never_checked_by_prefix(self, seat: str) -> None:
        assert make(seats=[seat]).seats == [seat]

    def test_repeated_seat_refused(self) -> None:
        with pytest.raises(ValidationError) as exc:
            make(seats=["a", "b", "a"])
        assert "seat listed more than once: a" in messages(exc)

    def test_seats_as_one_string_refused(self) -> None:
        with pytest.raises(ValidationError) as exc:
            make(seats="seat_1")
        assert "list of seat ids" in messages(exc)

    @pytest.mark.parametrize("tz", [-720, -300, 0, 330, 840])
    def test_timezone_range(self, tz: int) -> None:
        assert make(timezone=tz).timezone == tz

    @pytest.mark.parametrize("tz", [-721, 841, True, 60.5, "-300"])
    def test_timezone_refused(self, tz: Any) -> None:
        with pytest.raises(ValidationError) as exc:
            make(timezone=tz)
        assert "timezone" in messages(exc)

    def test_status_default_and_case(self) -> None:
        assert make().status is CampaignStatus.DRAFT
        assert make(status="run").status is CampaignStatus.RUN

    def test_status_outside_enum_refused(self) -> None:
        # NOTES 3: strict on what we send, even though the vendor answers "PAUSED".
        with pytest.raises(ValidationError) as exc:
            make(status="PAUSED")
        assert "'DRAFT', 'RUN', 'PAUSE' or 'DONE'" in messages(exc)

    @pytest.mark.parametrize("field", ["campaign_id", "account_id"])
    def test_ids_without_whitespace(self, field: str) -> None:
        with pytest.raises(ValidationError):
            make(**{field: "has space"})
        assert getattr(make(**{field: "CAMP123"}), field) == "CAMP123"

    def test_unknown_field_refused(self) -> None:
        with pytest.raises(ValidationError) as exc:
            make(nmae="typo")
        assert "nmae" in messages(exc)

    def test_frozen(self) -> None:
        with pytest.raises(ValidationError):
            make().name = "other"  # type: ignore[misc]


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

    def test_created_at_filled_with_epoch_ms_now(self) -> None:
        import time

        before = int(time.time() * 1000)
        created = make().to_payload()["campaign"]["created_at"]
        assert before <= created <= int(time.time() * 1000)

    def test_given_created_at_kept(self) -> None:
        assert make(created_at=5).to_payload()["campaign"]["created_at"] == 5

    def test_round_trip(self) -> None:
        draft = make(account_id="a", campaign_id="c", timezone=60, created_at=7)
        assert CampaignDraft.from_payload(draft.to_payload()) == draft


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
