"""The client's requests and the sandbox's answers checked against the vendor's contract (the
packaged OpenAPI file, the same as ``shared/spec``), as NOTES.md reads it: point 1, a day is
[enabled, start_hour, end_hour]; point 2, two error shapes; point 9, a minted ``campaign_id``
in every body unless ``mint_ids=False``."""

from __future__ import annotations

import copy
import json
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from alsona_nb import (
    AlsonaClient,
    CampaignDraft,
    CampaignStatus,
    Fault,
    Sandbox,
    WeeklySchedule,
)
from alsona_nb._models import DAYS

MINTED = re.compile(r"campaign_[0-9a-f]{20}")
SHARED_SPEC = Path(__file__).resolve().parents[2] / "shared" / "spec"


def _contract_text() -> str:
    return files("alsona_nb").joinpath("openapi.yaml").read_text(encoding="utf-8")


def _contract() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(_contract_text())
    return spec


def _as_notes_read_it(spec: dict[str, Any], *, sending: bool) -> dict[str, Any]:
    """The contract with NOTES' decisions applied. What we send is held to the prose: every
    field it names (``timezone`` and ``campaign_id`` included), typed, and nothing else."""
    spec = copy.deepcopy(spec)
    schemas = spec["components"]["schemas"]
    hour = {"type": "integer", "minimum": 0, "maximum": 24}
    day = (
        {
            "type": "array",
            "prefixItems": [{"type": "boolean"}, hour, hour],
            "minItems": 3,
            "maxItems": 3,
        }
        if sending  # what we send: strict (NOTES 1)
        else {"type": "array", "items": {"type": ["boolean", "integer"]}}  # what we read
    )
    for name in schemas["Schedule"]["properties"]:
        schemas["Schedule"]["properties"][name] = day
    if sending:
        identifier = {"type": "string", "pattern": r"^\S+$"}  # NOTES 5
        schemas["Schedule"]["additionalProperties"] = False
        request = schemas["CampaignRequest"]
        request["additionalProperties"] = False
        request["properties"].update(
            name={"type": "string", "minLength": 1, "pattern": r"\S"},
            seats={"type": "array", "items": identifier, "minItems": 1, "uniqueItems": True},
            status={"enum": [s.value for s in CampaignStatus]},
            account_id=identifier,
            created_at={"type": "integer", "minimum": 0},
            timezone={"type": "integer", "minimum": -720, "maximum": 840},  # the prose
            campaign_id=identifier,  # the prose: optional, to choose the id
        )
    schemas["SuccessFalse"] = {
        "type": "object",
        "required": ["success", "message"],
        "properties": {"success": {"const": False}, "message": {"type": "string"}},
    }
    return spec


def _validator(spec: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    registry: Registry = Registry().with_resource(
        "urn:contract",
        Resource.from_contents(spec, default_specification=DRAFT202012),
    )
    rebased = copy.deepcopy(schema)
    _rebase_refs(rebased)
    return Draft202012Validator(rebased, registry=registry)


def _rebase_refs(node: Any) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
            node["$ref"] = "urn:contract" + node["$ref"]
        for value in node.values():
            _rebase_refs(value)
    elif isinstance(node, list):
        for value in node:
            _rebase_refs(value)


def _operation(spec: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = spec["paths"]["/rest/accounts/{account_id}/campaigns"]["post"]
    return op


def _request_schema(spec: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = _operation(spec)["requestBody"]["content"]["application/json"][
        "schema"
    ]
    return schema


REQUEST = _as_notes_read_it(_contract(), sending=True)
ANSWER = _as_notes_read_it(_contract(), sending=False)
request_schema = _validator(REQUEST, {**_request_schema(REQUEST), "additionalProperties": False})
success_schema = _validator(
    ANSWER, _operation(ANSWER)["responses"]["200"]["content"]["application/json"]["schema"]
)
error_schema = _validator(
    ANSWER,
    {
        "oneOf": [
            {"$ref": "#/components/schemas/Error"},
            {"$ref": "#/components/schemas/SuccessFalse"},
        ]
    },
)


def test_the_packaged_contract_is_the_shared_one() -> None:
    shared = SHARED_SPEC / "create-campaign.openapi.yaml"
    if not shared.exists():
        pytest.skip("no shared/spec beside this checkout")
    # The same contract, field for field (the comment above it speaks to its readers).
    assert yaml.safe_load(shared.read_text(encoding="utf-8")) == _contract()


def test_the_unmodified_contract_rejects_our_day_shape() -> None:
    """Why NOTES 1 is needed: read literally, the schema wants booleans only."""
    literal = _contract()
    validator = _validator(literal, _request_schema(literal))
    draft = CampaignDraft(name="x", seats=["s"], schedule=WeeklySchedule.weekdays(), account_id="a")
    assert not validator.is_valid(draft.to_payload())
    example = _operation(literal)["requestBody"]["content"]["application/json"]["example"]
    assert validator.is_valid(example)
    assert not request_schema.is_valid(example)  # the example's [true, true, true] days


@pytest.mark.parametrize(
    "mutate",
    [
        lambda body: body["campaign"].update(status="PAUSED"),
        lambda body: body["campaign"].update(owner="someone"),
        lambda body: body.update(extra=1),
        lambda body: body["campaign"].update(campaign_id="has space"),
        lambda body: body["campaign"].update(campaign_id=7),
        lambda body: body["campaign"].update(timezone=900),
        lambda body: body["campaign"].update(seats=[]),
        lambda body: body["campaign"].update(name=""),
    ],
)
def test_the_schema_as_read_refuses_what_we_must_not_send(mutate: Any) -> None:
    body = CampaignDraft(
        name="x", seats=["s"], schedule=WeeklySchedule.weekdays(), account_id="a"
    ).to_payload()
    assert request_schema.is_valid(body)
    mutate(body)
    assert not request_schema.is_valid(body)


@pytest.mark.parametrize("mint_ids", [True, False], ids=["minted", "server-chosen"])
@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"status": "RUN", "timezone": 330},
        {"schedule": WeeklySchedule.every_day(0, 24), "timezone": -720},
    ],
)
def test_requests_and_answers_match_the_contract(
    sandbox: Sandbox, draft: CampaignDraft, changes: dict[str, Any], mint_ids: bool
) -> None:
    with sandbox.client(mint_ids=mint_ids) as client:
        prepared = client.prepare(draft.model_copy(update=changes))
        campaign = client.create_campaign(prepared)
    (seen,) = sandbox.requests
    assert (seen.method, seen.path) == ("POST", f"/rest/accounts/{sandbox.account_id}/campaigns")
    assert seen.key_ok and seen.headers["Content-Type"] == "application/json"
    assert seen.body == prepared.payload  # the exact body prepared, sent once
    request_schema.validate(seen.body)
    sent_id = seen.body["campaign"].get("campaign_id")
    if mint_ids:
        assert sent_id is not None and MINTED.fullmatch(sent_id)
        assert campaign.campaign_id == sent_id
    else:
        assert sent_id is None  # the server chose the id
        assert campaign.campaign_id and campaign.campaign_id != prepared.campaign_id
    (stored,) = sandbox.campaigns.values()
    assert stored["campaign_id"] == campaign.campaign_id
    success_schema.validate({"success": True, "campaign": stored})


def test_a_chosen_id_is_sent_as_given(client: AlsonaClient, sandbox: Sandbox) -> None:
    draft = CampaignDraft(name="n", seats=["s"], schedule=WeeklySchedule.weekdays())
    client.create_campaign(draft.model_copy(update={"campaign_id": "CAMP1"}))
    (seen,) = sandbox.requests
    request_schema.validate(seen.body)
    assert seen.body["campaign"]["campaign_id"] == "CAMP1"


def test_the_answers_bytes_match_the_contract(client: AlsonaClient, sandbox: Sandbox) -> None:
    draft = CampaignDraft(name="n", seats=["s"], schedule=WeeklySchedule.weekdays())
    prepared = client.prepare(draft)
    headers = {"X-API-KEY": sandbox.api_key, "Content-Type": "application/json"}
    created = requests.post(prepared.url, data=prepared.body, headers=headers, timeout=30)
    assert created.status_code == 200
    success_schema.validate(created.json())
    assert created.json()["campaign"]["campaign_id"] == prepared.campaign_id
    # NOTES 10: one campaign is read back like a create answer
    url = f"{prepared.url}/{prepared.campaign_id}"
    fetched = requests.get(url, headers=headers, timeout=30)
    assert fetched.status_code == 200
    success_schema.validate(fetched.json())
    assert fetched.json()["campaign"] == created.json()["campaign"]
    # NOTES 9: the same id again is refused, in a contract error shape, and not stored twice
    again = requests.post(prepared.url, data=prepared.body, headers=headers, timeout=30)
    assert again.status_code == 400 and again.json()["error"] == "campaign_exists"
    error_schema.validate(again.json())
    assert list(sandbox.campaigns) == [prepared.campaign_id]


def test_the_vendor_example_answer_is_read_by_the_client(sandbox: Sandbox) -> None:
    """The vendor's example answer (booleans for hours, "PAUSED") is in the contract's answer
    shape, and the client reads it as the created campaign instead of failing on it."""
    example = _operation(ANSWER)["requestBody"]["content"]["application/json"]["example"]
    answer = {
        "success": True,
        "campaign": dict(
            example["campaign"], priority=1, timezone=0, wait_until=1, campaign_id="CAMP_VENDOR"
        ),
    }
    success_schema.validate(answer)
    sandbox.inject(Fault.raw(200, json.dumps(answer)))
    draft = CampaignDraft(name="n", seats=["s"], schedule=WeeklySchedule.weekdays())
    with sandbox.client(mint_ids=False) as client:
        campaign = client.create_campaign(draft)
    assert campaign.campaign_id == "CAMP_VENDOR"
    assert campaign.schedule == example["campaign"]["schedule"]
    assert campaign.status == example["campaign"]["status"]
    assert campaign.weekly_schedule() is None  # booleans are not hours: said, not guessed


@pytest.mark.parametrize(
    "break_it",
    [
        lambda body: body.update(campaign=None),
        lambda body: body["campaign"].update(name=""),
        lambda body: body["campaign"]["schedule"].update(monday=[True, 9]),
        lambda body: body["campaign"].pop("created_at"),
        lambda body: body["campaign"].update(account_id="other"),
        lambda body: body["campaign"].update(campaign_id="has space"),
    ],
)
def test_error_answers_have_a_contract_shape(
    sandbox: Sandbox, draft: CampaignDraft, break_it: Any
) -> None:
    body = draft.model_copy(update={"account_id": sandbox.account_id}).to_payload()
    break_it(body)
    for key, status in ((sandbox.api_key, 400), ("wrong", 401)):
        answer = requests.post(
            f"{sandbox.url}/rest/accounts/{sandbox.account_id}/campaigns",
            json=body,
            headers={"X-API-KEY": key},
            timeout=30,
        )
        assert answer.status_code == status
        error_schema.validate(answer.json())
    assert not sandbox.campaigns


@pytest.mark.parametrize("fault", [Fault.error(403, shape="success_false"), Fault.error(400)])
def test_scripted_faults_use_contract_shapes(fault: Fault) -> None:
    assert fault.body is not None
    error_schema.validate(json.loads(fault.body))


windows = st.tuples(st.booleans(), st.integers(0, 23)).flatmap(
    lambda t: st.tuples(st.just(t[0]), st.just(t[1]), st.integers(t[1] + 1, 24)).map(list)
)
no_space = st.text(min_size=1, max_size=20).filter(lambda s: not any(c.isspace() for c in s))


def _runs_only_with_hours(fields: dict[str, Any]) -> bool:
    """A RUN campaign needs a day with hours (the model refuses it otherwise)."""
    days = fields["schedule"].values()
    return fields["status"] is not CampaignStatus.RUN or any(day[0] for day in days)


drafts = (
    st.builds(
        dict,
        name=st.text(min_size=1, max_size=60).filter(str.strip),
        seats=st.lists(no_space, min_size=1, max_size=4, unique=True),
        schedule=st.fixed_dictionaries({d: windows for d in DAYS}),
        status=st.sampled_from(list(CampaignStatus)),
        timezone=st.one_of(st.none(), st.integers(-720, 840)),
        campaign_id=st.one_of(st.none(), no_space),
        account_id=st.one_of(st.none(), no_space),
    )
    .filter(_runs_only_with_hours)
    .map(lambda fields: CampaignDraft(**fields))
)


@pytest.fixture(scope="module")
def offline(offline_sandbox: Sandbox) -> dict[bool, AlsonaClient]:
    return {m: offline_sandbox.client(in_process=True, mint_ids=m) for m in (True, False)}


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(draft=drafts, mint_ids=st.booleans())
def test_every_prepared_body_matches_the_contract(
    offline: dict[bool, AlsonaClient], draft: CampaignDraft, mint_ids: bool
) -> None:
    prepared = offline[mint_ids].prepare(draft)
    request_schema.validate(json.loads(prepared.body))
    sent = prepared.payload["campaign"]
    if draft.campaign_id is not None:
        assert sent["campaign_id"] == draft.campaign_id
    elif mint_ids:
        assert MINTED.fullmatch(sent["campaign_id"])
    else:
        assert "campaign_id" not in sent
