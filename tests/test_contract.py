"""The client's requests and the sandbox's answers checked against the packaged OpenAPI file,
as NOTES.md reads it (point 1: a day is [enabled, start_hour, end_hour]; point 2: two error
shapes)."""

from __future__ import annotations

import copy
from importlib.resources import files
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from alsona_nb import AlsonaClient, CampaignDraft, Fault, Sandbox, WeeklySchedule


def _contract() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(
        files("alsona_nb").joinpath("openapi.yaml").read_text(encoding="utf-8")
    )
    return spec


def _as_notes_read_it(spec: dict[str, Any], *, sending: bool) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
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
    for name in spec["components"]["schemas"]["Schedule"]["properties"]:
        spec["components"]["schemas"]["Schedule"]["properties"][name] = day
    spec["components"]["schemas"]["SuccessFalse"] = {
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


REQUEST = _as_notes_read_it(_contract(), sending=True)
ANSWER = _as_notes_read_it(_contract(), sending=False)
request_schema = _validator(
    REQUEST, _operation(REQUEST)["requestBody"]["content"]["application/json"]["schema"]
)
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


def test_the_unmodified_contract_rejects_our_day_shape() -> None:
    """Why NOTES 1 is needed: read literally, the schema wants booleans only."""
    literal = _contract()
    validator = _validator(
        literal, _operation(literal)["requestBody"]["content"]["application/json"]["schema"]
    )
    draft = CampaignDraft(name="x", seats=["s"], schedule=WeeklySchedule.weekdays(), account_id="a")
    assert not validator.is_valid(draft.to_payload())
    assert validator.is_valid(
        _operation(literal)["requestBody"]["content"]["application/json"]["example"]
    )


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"status": "RUN", "timezone": 330},
        {"campaign_id": "CAMP1", "schedule": WeeklySchedule.every_day(0, 24)},
    ],
)
def test_requests_and_answers_match_the_contract(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft, changes: dict[str, Any]
) -> None:
    client.create_campaign(draft.model_copy(update=changes))
    (seen,) = sandbox.requests
    request_schema.validate(seen.body)
    (stored,) = sandbox.campaigns.values()
    success_schema.validate({"success": True, "campaign": stored})


def test_the_vendor_example_answer_shape_is_readable() -> None:
    example = _operation(ANSWER)["requestBody"]["content"]["application/json"]["example"]
    answer = {
        "success": True,
        "campaign": dict(
            example["campaign"], priority=1, timezone=0, wait_until=1, campaign_id="c"
        ),
    }
    success_schema.validate(answer)


@pytest.mark.parametrize(
    "break_it",
    [
        lambda sb, body: body.update(campaign=None),
        lambda sb, body: body["campaign"].update(name=""),
        lambda sb, body: body["campaign"]["schedule"].update(monday=[True, 9]),
        lambda sb, body: body["campaign"].pop("created_at"),
        lambda sb, body: body["campaign"].update(account_id="other"),
    ],
)
def test_error_answers_have_a_contract_shape(
    sandbox: Sandbox, draft: CampaignDraft, break_it: Any
) -> None:
    import requests

    body = draft.model_copy(update={"account_id": sandbox.account_id}).to_payload()
    break_it(sandbox, body)
    for key in (sandbox.api_key, "wrong"):
        answer = requests.post(
            f"{sandbox.url}/rest/accounts/{sandbox.account_id}/campaigns",
            json=body,
            headers={"X-API-KEY": key},
            timeout=5,
        )
        assert answer.status_code in (400, 401)
        error_schema.validate(answer.json())


@pytest.mark.parametrize("fault", [Fault.error(403, shape="success_false"), Fault.error(400)])
def test_scripted_faults_use_contract_shapes(sandbox: Sandbox, fault: Fault) -> None:
    import json

    assert fault.body is not None
    error_schema.validate(json.loads(fault.body))
