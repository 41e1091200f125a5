"""Managing many campaigns over real HTTP against the sandbox: daylight-saving drift found
and fixed (a spring and an autumn change, both hemispheres, a zone without daylight saving),
and plans from a sheet: planned, applied, planned and applied again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import FakeTime

from alsona_nb import (
    AlsonaClient,
    CampaignDraft,
    CampaignPlan,
    ResultsLog,
    Sandbox,
    WeeklySchedule,
    create_campaigns,
    fix_zone_drift,
    plan_campaigns,
    zone_drift,
    zone_offset,
)
from alsona_nb.sandbox import Fault

SEAT = "seat_6a13e661ecc6a86e3fb7"
SEAT_B = "seat_1f0c9a7e2b4d8c3a5e61"
ZONES = ("America/New_York", "Europe/Paris", "Australia/Sydney", "Asia/Tokyo")

WINTER, SUMMER = date(2025, 1, 15), date(2025, 7, 15)  # northern seasons
DECEMBER = date(2025, 12, 15)

# (made on, checked on, drift in minutes by zone (server minus expected), next change by zone)
SPRING = (
    WINTER,
    SUMMER,
    {"America/New_York": -60, "Europe/Paris": -60, "Australia/Sydney": 60, "Asia/Tokyo": 0},
    {
        "America/New_York": date(2025, 11, 2),
        "Europe/Paris": date(2025, 10, 26),
        "Australia/Sydney": date(2025, 10, 5),
        "Asia/Tokyo": None,
    },
)
AUTUMN = (
    SUMMER,
    DECEMBER,
    {"America/New_York": 60, "Europe/Paris": 60, "Australia/Sydney": -60, "Asia/Tokyo": 0},
    {
        "America/New_York": date(2026, 3, 8),
        "Europe/Paris": date(2026, 3, 29),
        "Australia/Sydney": date(2026, 4, 5),
        "Asia/Tokyo": None,
    },
)


def zoned(zone: str, made_on: date, **more: Any) -> CampaignDraft:
    """A campaign for ``zone`` made on ``made_on``: the zone's offset of that day."""
    return CampaignDraft(
        name=f"Outreach {zone}",
        seats=[SEAT],
        schedule=WeeklySchedule.weekdays(9, 17),
        zone=zone,
        timezone=zone_offset(zone, made_on).minutes,
        **more,
    )


def missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


@pytest.fixture
def quiet(sandbox: Sandbox, fake_time: FakeTime) -> Iterator[AlsonaClient]:
    with sandbox.client(timeout=2.0, clock=fake_time.clock, sleep=fake_time.sleep) as c:
        yield c


# -- zone drift ---------------------------------------------------------------------------


@pytest.mark.parametrize("season", [SPRING, AUTUMN], ids=["spring", "autumn"])
def test_drift_across_a_change_is_found_fixed_once_and_gone(
    client: AlsonaClient, sandbox: Sandbox, tmp_path: Path, season: Any
) -> None:
    made_on, checked_on, drifts, changes = season
    path = tmp_path / "made.jsonl"
    made = create_campaigns(
        client, [zoned(z, made_on) for z in ZONES], log=ResultsLog(path), progress=False
    )
    assert made["ok"].all()
    ids = dict(zip(made["zone"], made["campaign_id"], strict=True))
    stored_before = sandbox.campaigns

    drift = zone_drift(client, path, on=checked_on)

    assert sandbox.counts["PUT"] == 0  # checking sends nothing
    assert sorted(drift["zone"]) == sorted(ZONES)
    by_zone = drift.set_index("zone")
    for zone in ZONES:
        row = by_zone.loc[zone]
        assert row["campaign_id"] == ids[zone]
        assert row["name"] == f"Outreach {zone}"
        assert row["timezone"] == zone_offset(zone, made_on).minutes
        assert row["expected"] == zone_offset(zone, checked_on).minutes
        assert row["drift_minutes"] == drifts[zone], zone
        if changes[zone] is None:
            assert missing(row["next_change"])
        else:
            assert row["next_change"] == changes[zone], zone

    fixes = tmp_path / "fixes.jsonl"
    log = ResultsLog(fixes)
    fixed = fix_zone_drift(client, drift, log=log)

    drifted = [z for z in ZONES if drifts[z]]
    assert sandbox.counts["PUT"] == len(drifted) == 3
    assert fixed["ok"].all() and len(fixed) == 3
    assert set(fixed["action"]) == {"update"}
    assert sorted(fixed["campaign_id"]) == sorted(ids[z] for z in drifted)
    for zone in ZONES:
        now, before = sandbox.campaigns[ids[zone]], stored_before[ids[zone]]
        assert now["timezone"] == zone_offset(zone, checked_on).minutes
        assert {k: v for k, v in now.items() if k != "timezone"} == {
            k: v for k, v in before.items() if k != "timezone"
        }  # timezone alone
    for row in fixed.to_dict("records"):
        zone = next(z for z in ZONES if ids[z] == row["campaign_id"])
        assert row["diff"] == {
            "timezone": [zone_offset(zone, made_on).minutes, zone_offset(zone, checked_on).minutes]
        }
    assert [r["action"] for r in ResultsLog.read(fixes).rows] == ["update"] * 3

    again = zone_drift(client, path, on=checked_on)
    assert again["drift_minutes"].tolist() == [0, 0, 0, 0]
    assert fix_zone_drift(client, again).empty
    assert sandbox.counts["PUT"] == 3
    assert len(sandbox.campaigns) == 4


def test_drift_from_a_results_frame_a_log_and_the_account_list(
    client: AlsonaClient, sandbox: Sandbox, tmp_path: Path
) -> None:
    log = ResultsLog(tmp_path / "made.jsonl")
    made = create_campaigns(client, [zoned(z, WINTER) for z in ZONES], log=log, progress=False)
    expected = {"America/New_York": -60, "Europe/Paris": -60, "Australia/Sydney": 60}
    expected["Asia/Tokyo"] = 0

    def drifts(frame: pd.DataFrame) -> dict[str, int]:
        return dict(zip(frame["zone"], frame["drift_minutes"].tolist(), strict=True))

    assert drifts(zone_drift(client, made, on=SUMMER)) == expected
    assert drifts(zone_drift(client, log, on=SUMMER)) == expected
    assert drifts(zone_drift(client, str(log.path), on=SUMMER)) == expected

    listed = client.list_campaigns(progress=False)
    assert "zone" not in listed.columns or listed["zone"].isna().all()  # the API has no zones
    assert zone_drift(client, listed, on=SUMMER).empty  # no zone known: nothing to say
    zones = dict(zip(made["campaign_id"], made["zone"], strict=True))
    assert drifts(zone_drift(client, listed, on=SUMMER, zones=zones)) == expected
    only_paris = zone_drift(client, listed, on=SUMMER, default_zone="Europe/Paris")
    assert set(only_paris["zone"]) == {"Europe/Paris"} and len(only_paris) == 4
    assert sandbox.counts["PUT"] == 0


def test_the_drift_is_read_from_the_server_not_from_the_journal(
    client: AlsonaClient, sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "made.jsonl"
    made = create_campaigns(client, [zoned("America/New_York", WINTER)], log=ResultsLog(path))
    cid = made["campaign_id"][0]
    client.update_campaign(cid, timezone=-240)  # fixed elsewhere
    (row,) = zone_drift(client, path, on=SUMMER).to_dict("records")
    assert (row["timezone"], row["drift_minutes"]) == (-240, 0)
    client.delete_campaign(cid)
    assert zone_drift(client, path, on=SUMMER).empty  # gone: nothing to fix


def test_a_drift_fix_whose_answer_is_lost_is_applied_once(
    quiet: AlsonaClient, sandbox: Sandbox
) -> None:
    made = create_campaigns(quiet, [zoned(z, WINTER) for z in ZONES], progress=False)
    drift = zone_drift(quiet, made, on=SUMMER)
    sandbox.inject(Fault.drop(after_apply=True).on("PUT"), Fault.cut(after_apply=True).on("PUT"))

    fixed = fix_zone_drift(quiet, drift)

    assert fixed["ok"].all() and len(fixed) == 3
    assert sandbox.pending_faults == 0
    assert len(sandbox.campaigns) == 4
    assert zone_drift(quiet, made, on=SUMMER)["drift_minutes"].tolist() == [0, 0, 0, 0]


# -- plans ----------------------------------------------------------------------------------


def two_existing(client: AlsonaClient) -> list[str]:
    a = client.create_campaign(
        CampaignDraft(
            name="Paris fintech",
            seats=[SEAT],
            schedule=WeeklySchedule.weekdays(9, 17),
            timezone=60,
        )
    )
    b = client.create_campaign(
        CampaignDraft(
            name="Berlin SaaS", seats=[SEAT], schedule=WeeklySchedule.weekdays(8, 16), timezone=60
        )
    )
    return [a.campaign_id, b.campaign_id]


def sheet_rows(ids: list[str]) -> list[dict[str, Any]]:
    """Five rows: an update (status and seats; the name cell empty), a row the account
    already matches, a new campaign, a row whose id the account does not have, an invalid row.
    No timezone column: the sheet leaves every offset as it is."""
    return [
        {"campaign_id": ids[0], "name": "", "status": "PAUSE", "seats": f"{SEAT};{SEAT_B}"},
        {"campaign_id": ids[1], "name": "Berlin SaaS", "status": "", "seats": ""},
        {"name": "Lisbon agencies", "seats": SEAT, "days": "mon-fri", "start_hour": "10",
         "end_hour": "16"},
        {"campaign_id": "campaign_0123456789abcdef0123", "name": "Madrid retail",
         "seats": SEAT_B, "days": "tue,thu", "start_hour": "9", "end_hour": "12"},
        {"name": "Broken", "seats": SEAT, "status": "LAUNCH", "days": "mon", "start_hour": "9",
         "end_hour": "17"},
    ]  # fmt: skip


COLUMNS = ["campaign_id", "name", "status", "seats", "days", "start_hour", "end_hour"]


def as_csv(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    path = tmp_path / "plan.csv"
    pd.DataFrame(rows, columns=COLUMNS).to_csv(path, index=False)
    return path


@pytest.fixture(params=["csv", "frame-nan", "frame-blank"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """Turns sheet rows into a CSV path or a DataFrame (empty cells NaN, or blank text)."""
    if request.param == "csv":
        return lambda rows: as_csv(tmp_path, rows)
    if request.param == "frame-nan":
        return lambda rows: pd.DataFrame(rows, columns=COLUMNS)
    return lambda rows: pd.DataFrame(rows, columns=COLUMNS).fillna("")


def test_a_plan_says_what_it_would_do_and_sends_nothing(
    client: AlsonaClient, sandbox: Sandbox, source: Any
) -> None:
    ids = two_existing(client)
    before = sandbox.campaigns
    posts = sandbox.counts["POST"]

    plan = plan_campaigns(client, source(sheet_rows(ids)))

    assert isinstance(plan, CampaignPlan)
    assert sandbox.counts["POST"] == posts and sandbox.counts["PUT"] == 0
    assert sandbox.campaigns == before
    frame = plan.frame
    assert frame["action"].tolist() == ["update", "unchanged", "create", "create", "invalid"]
    update = frame.iloc[0]
    assert update["campaign_id"] == ids[0]
    assert update["name"] == "Paris fintech"  # the empty cell left the name
    words = update["changes"]
    assert "status" in words and "DRAFT" in words and "PAUSE" in words
    assert "seats" in words and SEAT_B in words
    assert "name" not in words and "timezone" not in words and "schedule" not in words
    assert frame.iloc[1]["changes"] in ("", None) or pd.isna(frame.iloc[1]["changes"])

    minted = frame.iloc[2]["campaign_id"]
    assert isinstance(minted, str) and minted.startswith("campaign_") and minted not in ids
    assert frame.iloc[3]["campaign_id"] == "campaign_0123456789abcdef0123"  # its own id kept
    assert plan.sheet["campaign_id"].tolist()[:4] == [*ids, minted, frame.iloc[3]["campaign_id"]]

    report = plan.report
    assert len(report) == 1
    assert report.iloc[0]["column"] == "status" and report.iloc[0]["value"] == "LAUNCH"
    assert "DRAFT" in report.iloc[0]["reason"]


def test_apply_creates_and_updates_once_then_the_saved_sheet_plans_as_unchanged(
    client: AlsonaClient, sandbox: Sandbox, source: Any, tmp_path: Path
) -> None:
    ids = two_existing(client)
    plan = plan_campaigns(client, source(sheet_rows(ids)))
    minted = plan.frame.iloc[2]["campaign_id"]
    posts = sandbox.counts["POST"]
    journal = tmp_path / "apply.jsonl"
    log = ResultsLog(journal)

    applied = plan.apply(log=log, progress=False)

    assert applied["ok"].all() and len(applied) == 3  # the invalid and unchanged rows: nothing
    assert applied["action"].tolist() == ["update", "create", "create"]
    assert sandbox.counts["PUT"] == 1
    assert sandbox.counts["POST"] - posts == 2
    held = sandbox.campaigns
    assert set(held) == {*ids, minted, "campaign_0123456789abcdef0123"}
    updated = held[ids[0]]
    assert (updated["name"], updated["status"], updated["timezone"]) == (
        "Paris fintech",
        "PAUSE",
        60,
    )
    assert updated["seats"] == [SEAT, SEAT_B]
    assert held[ids[1]]["name"] == "Berlin SaaS" and held[ids[1]]["status"] == "DRAFT"
    assert held[minted]["name"] == "Lisbon agencies"
    assert held[minted]["schedule"]["monday"] == [True, 10, 16]
    assert not any(c["name"] == "Broken" for c in held.values())
    assert {r["action"] for r in ResultsLog.read(journal).rows} == {"update", "create"}

    saved = tmp_path / "saved.csv"
    plan.sheet.to_csv(saved, index=False)
    replanned = plan_campaigns(client, saved)
    assert replanned.frame["action"].tolist() == ["unchanged"] * 4 + ["invalid"]
    counts = dict(sandbox.counts)
    assert replanned.apply(progress=False).empty
    assert sandbox.counts["POST"] == counts.get("POST", 0)
    assert sandbox.counts["PUT"] == counts.get("PUT", 0)
    assert sandbox.campaigns == held


def test_applying_the_same_plan_twice_changes_nothing(
    quiet: AlsonaClient, sandbox: Sandbox, source: Any
) -> None:
    ids = two_existing(quiet)
    plan = plan_campaigns(quiet, source(sheet_rows(ids)))
    plan.apply(progress=False)
    held, puts, made = sandbox.campaigns, sandbox.counts["PUT"], sandbox.counts["POST", 200]

    again = plan.apply(progress=False)

    assert again["ok"].all()
    assert sandbox.counts["PUT"] == puts  # an update already in place sends nothing
    assert sandbox.counts["POST", 200] == made  # no create made anything
    assert sandbox.campaigns == held


def test_a_plan_applied_through_lost_answers_is_carried_out_once(
    quiet: AlsonaClient, sandbox: Sandbox, source: Any
) -> None:
    ids = two_existing(quiet)
    plan = plan_campaigns(quiet, source(sheet_rows(ids)))
    sandbox.inject(Fault.drop(after_apply=True).on("PUT", "POST"), times=3)

    applied = plan.apply(progress=False)

    assert applied["ok"].all() and len(applied) == 3
    assert len(sandbox.campaigns) == 4
    assert sandbox.campaigns[ids[0]]["status"] == "PAUSE"
    assert plan_campaigns(quiet, plan.sheet).frame["action"].tolist()[:4] == ["unchanged"] * 4


def test_a_plan_from_drafts_and_from_a_zone_column(client: AlsonaClient, sandbox: Sandbox) -> None:
    existing = client.create_campaign(zoned("America/New_York", WINTER))
    drafts = [
        zoned("America/New_York", SUMMER, campaign_id=existing.campaign_id).model_copy(
            update={"name": existing.name}
        ),
        zoned("Asia/Tokyo", WINTER),
    ]
    plan = plan_campaigns(client, drafts)
    assert plan.frame["action"].tolist() == ["update", "create"]
    assert "timezone: -300 → -240" in plan.frame.iloc[0]["changes"]
    plan.apply(progress=False)
    assert sandbox.campaigns[existing.campaign_id]["timezone"] == -240
    assert sandbox.counts["PUT"] == 1 and len(sandbox.campaigns) == 2
    # the sandbox never receives a zone: it is kept beside the campaign
    assert all("zone" not in (r.body or {}).get("campaign", {}) for r in sandbox.requests)
    assert json.loads(json.dumps(plan.frame["changes"].tolist()))  # plain words


def test_drift_of_a_campaign_in_another_account_is_read_and_fixed_there(
    fake_time: FakeTime, tmp_path: Path
) -> None:
    other = "account_0b0b0b0b0b0b0b0b0b0b"
    path = tmp_path / "made.jsonl"
    with (
        Sandbox(accounts=[other]) as sb,
        sb.client(clock=fake_time.clock, sleep=fake_time.sleep) as client,
    ):
        made = client.create_campaign(
            zoned("Europe/Paris", WINTER, account_id=other), log=ResultsLog(path)
        )
        (row,) = zone_drift(client, path, on=SUMMER).to_dict("records")
        assert (row["account_id"], row["drift_minutes"]) == (other, -60)
        fixed = fix_zone_drift(client, zone_drift(client, path, on=SUMMER))
        assert fixed["ok"].all()
        assert sb.campaigns_of(other)[made.campaign_id]["timezone"] == 120
        assert sb.campaigns_of(sb.account_id) == {}
        paths = [
            r.path for r in sb.requests if r.method in ("PUT", "GET") and "/campaigns/" in r.path
        ]
        assert paths and all(f"/accounts/{other}/" in p for p in paths)
