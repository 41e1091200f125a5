"""Fuzz the sandbox with its OpenAPI contract (alsona_nb/openapi.yaml, read as NOTES.md says):
bodies generated from the request schema (``from_schema`` below), the same with the schedule
NOTES 1 decided on, arbitrary JSON, keys, accounts and bytes, and updates (PUT) whose fields
come from the same schemas. The sandbox never answers 5xx, every 4xx has one of the two error
shapes (NOTES 2), and every 200 is the response schema.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from alsona_nb import Sandbox
from alsona_nb._models import DAYS

SPEC = yaml.safe_load(
    (Path(__file__).resolve().parents[1] / "alsona_nb" / "openapi.yaml").read_text("utf-8")
)
SCHEMAS = SPEC["components"]["schemas"]
OPERATION = SPEC["paths"]["/rest/accounts/{account_id}/campaigns"]["post"]


def _inline(node: Any) -> Any:
    """The schema with every local ``$ref`` replaced by what it points to."""
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(SCHEMAS[node["$ref"].rsplit("/", 1)[1]])
        return {k: _inline(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v) for v in node]
    return node


REQUEST = _inline(OPERATION["requestBody"]["content"]["application/json"]["schema"])
SUCCESS = _inline(OPERATION["responses"]["200"]["content"]["application/json"]["schema"])
ERROR = _inline(OPERATION["responses"]["400"]["content"]["application/json"]["schema"])
SUCCESS_FALSE = {  # the vendor docs' other error shape (NOTES 2)
    "type": "object",
    "required": ["success", "message"],
    "properties": {"success": {"const": False}, "message": {"type": "string"}},
}

# NOTES 1: a day is [enabled, start_hour, end_hour]. The schema's "array of booleans" is the
# example's shape; we send (and the sandbox answers) integers for the hours.
NOTES_DAY = {
    "type": "array",
    "prefixItems": [{"type": "boolean"}, {"type": "integer"}, {"type": "integer"}],
    "minItems": 3,
    "maxItems": 3,
}


def _notes_schedule(schema: dict[str, Any]) -> dict[str, Any]:
    adjusted = copy.deepcopy(schema)
    days = adjusted["properties"]["campaign"]["properties"]["schedule"]["properties"]
    for day in DAYS:
        days[day] = NOTES_DAY
    return adjusted


REQUEST_NOTES = _notes_schedule(REQUEST)
SUCCESS_NOTES = _notes_schedule(SUCCESS)


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values of the small JSON Schema subset the contract uses. (hypothesis-jsonschema
    0.23.1 breaks on hypothesis 6.170, so this is done by hand.) Optional properties come
    and go; required ones are always there."""
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {k: from_schema(v) for k, v in props.items() if k in required},
            optional={k: from_schema(v) for k, v in props.items() if k not in required},
        )
    if kind == "array":
        if "prefixItems" in schema:
            return st.tuples(*map(from_schema, schema["prefixItems"])).map(list)
        return st.lists(from_schema(schema.get("items", {})), max_size=4)
    if kind == "string":
        return st.text(max_size=30)
    if kind == "integer":
        return st.one_of(st.integers(-3, 30), st.integers())
    if kind == "boolean":
        return st.booleans()
    raise AssertionError(f"schema type {kind!r} is not in the contract's subset")


FUZZ = settings(
    max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), database=None
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(keep_requests=False) as sb:
        yield sb


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def post(
    sandbox: Sandbox,
    session: requests.Session,
    body: bytes,
    *,
    key: str | None = "right",
    account: str | None = None,
    content_type: str = "application/json",
) -> requests.Response:
    headers = {"Content-Type": content_type}
    if key is not None:
        headers["X-API-KEY"] = sandbox.api_key if key == "right" else key
    url = f"{sandbox.url}/rest/accounts/{account or sandbox.account_id}/campaigns"
    return session.post(url, data=body, headers=headers, timeout=5)


def assert_contract(response: requests.Response) -> None:
    status = response.status_code
    assert status < 500, f"{status}: {response.text[:300]}"
    data = response.json()
    if status == 200:
        jsonschema.validate(data, SUCCESS_NOTES)
        assert data["success"] is True
    else:
        assert 400 <= status < 500
        shapes = [
            s for s in (ERROR, SUCCESS_FALSE) if jsonschema.Draft202012Validator(s).is_valid(data)
        ]
        assert shapes, f"{status} body in neither error shape: {data}"
        assert data["message"].strip()


def _with_account(body: dict[str, Any], sandbox: Sandbox, fix: bool) -> bytes:
    if fix and isinstance(body.get("campaign"), dict):
        body["campaign"]["account_id"] = sandbox.account_id
    return json.dumps(body).encode()


@pytest.mark.slow
@FUZZ
@given(body=from_schema(REQUEST), fix_account=st.booleans())
def test_bodies_from_the_contract(
    sandbox: Sandbox, session: requests.Session, body: dict[str, Any], fix_account: bool
) -> None:
    assert_contract(post(sandbox, session, _with_account(body, sandbox, fix_account)))


@pytest.mark.slow
@FUZZ
@given(body=from_schema(REQUEST_NOTES))
def test_bodies_with_the_notes_schedule(
    sandbox: Sandbox, session: requests.Session, body: dict[str, Any]
) -> None:
    response = post(sandbox, session, _with_account(body, sandbox, True))
    assert_contract(response)


@pytest.fixture(scope="module")
def stored(sandbox: Sandbox, session: requests.Session) -> dict[str, Any]:
    """A campaign the update fuzz replaces, again and again."""
    example = copy.deepcopy(OPERATION["requestBody"]["content"]["application/json"]["example"])
    example["campaign"].update(account_id=sandbox.account_id, campaign_id="CAMP_FUZZ_PUT")
    example["campaign"]["schedule"] = {day: [True, 9, 17] for day in DAYS}
    response = post(sandbox, session, json.dumps(example).encode())
    assert response.status_code == 200, response.text
    campaign: dict[str, Any] = response.json()["campaign"]
    return campaign


# A valid update, and from the contract's own field schemas, values that replace up to two
# of its fields (an id or a creation time among them, which an update may not carry).
VALID_UPDATE: dict[str, Any] = {
    "name": "fuzzed update",
    "status": "RUN",
    "seats": ["seat_6a13e661ecc6a86e3fb7"],
    "schedule": {day: [True, 9, 17] for day in DAYS},
    "timezone": -300,
}
FIELDS = REQUEST_NOTES["properties"]["campaign"]["properties"]
CHANGES = st.lists(st.sampled_from(sorted(FIELDS)), max_size=2, unique=True).flatmap(
    lambda names: st.fixed_dictionaries({n: from_schema(FIELDS[n]) for n in names})
)


@pytest.mark.slow
@FUZZ
@given(changes=CHANGES)
@example(changes={})
@example(changes={"name": " renamed ", "status": "PAUSE", "timezone": 60})
@example(changes={"created_at": 1})
def test_update_bodies_from_the_contract(
    sandbox: Sandbox,
    session: requests.Session,
    stored: dict[str, Any],
    changes: dict[str, Any],
) -> None:
    """A PUT answers in a contract shape; one that names the id or the creation time is
    refused; one that succeeds is what is stored and kept the campaign's id, creation time
    and server fields."""
    campaign = {**VALID_UPDATE, "account_id": sandbox.account_id, **changes}
    headers = {"X-API-KEY": sandbox.api_key, "Content-Type": "application/json"}
    url = f"{sandbox.url}/rest/accounts/{sandbox.account_id}/campaigns/CAMP_FUZZ_PUT"
    data = json.dumps({"campaign": campaign}).encode()
    response = session.put(url, data=data, headers=headers, timeout=5)
    assert_contract(response)
    if {"campaign_id", "created_at"} & set(changes):
        assert response.status_code == 400
    if response.status_code == 200:
        answered = response.json()["campaign"]
        kept = ("campaign_id", "created_at", "priority", "wait_until")
        assert {k: answered[k] for k in kept} == {k: stored[k] for k in kept}
        assert answered["name"] == campaign["name"].strip()
        assert sandbox.campaigns["CAMP_FUZZ_PUT"] == answered


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=15,
)


@pytest.mark.slow
@FUZZ
@given(
    body=st.one_of(
        json_values.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=200),
        st.just(b""),
        json_values.map(lambda v: json.dumps({"campaign": v}).encode()),
    ),
    key=st.sampled_from(["right", "wrong", None, ""]),
    account=st.one_of(st.none(), st.text(alphabet="abcdef_0123456789", min_size=1, max_size=12)),
    content_type=st.sampled_from(["application/json", "text/plain"]),
)
def test_anything_else(
    sandbox: Sandbox,
    session: requests.Session,
    body: bytes,
    key: str | None,
    account: str | None,
    content_type: str,
) -> None:
    response = post(sandbox, session, body, key=key, account=account, content_type=content_type)
    assert_contract(response)
    if key != "right":
        assert response.status_code == 401


def test_the_published_example_is_answered_per_the_contract(
    sandbox: Sandbox, session: requests.Session
) -> None:
    """The vendor's own example (booleans for hours) is refused plainly, never a crash."""
    example = copy.deepcopy(OPERATION["requestBody"]["content"]["application/json"]["example"])
    example["campaign"]["account_id"] = sandbox.account_id
    response = post(sandbox, session, json.dumps(example).encode())
    assert_contract(response)
    assert response.status_code == 400 and "hour" in response.json()["message"]


ACCOUNT = "account_cd855c2bb1cc72097238"
PATHS = st.one_of(
    st.sampled_from(
        [
            f"/rest/accounts/{ACCOUNT}/campaigns",
            f"/rest/accounts/{ACCOUNT}/campaigns/",
            f"/rest/accounts/{ACCOUNT}/seats",
            f"/rest/accounts/{ACCOUNT}/seats/seat_6a13e661ecc6a86e3fb7",
            "/rest/accounts//campaigns",
            "*",
            "",
        ]
    ),
    st.builds(
        lambda kind, item, query: f"/rest/accounts/{ACCOUNT}/{kind}{item}{query}",
        st.sampled_from(["campaigns", "seats", "other"]),
        st.one_of(st.just(""), st.text(max_size=12).map(lambda t: "/" + t)),
        st.one_of(st.just(""), st.text(max_size=20).map(lambda t: "?last_key=" + t)),
    ),
    st.text(max_size=40),
)


@pytest.mark.slow
@FUZZ
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "get", "OPTIONS"]),
    path=PATHS,
    body=st.one_of(st.binary(max_size=100), json_values.map(lambda v: json.dumps(v).encode())),
    key=st.sampled_from(["right", "wrong", None]),
    page_size=st.integers(-1, 3),
)
def test_handle_answers_any_request_in_a_contract_shape(
    method: str, path: str, body: bytes, key: str | None, page_size: int
) -> None:
    """The pure handler, with no HTTP: every route and method, any path, query and body."""
    sb = Sandbox(page_size=page_size)
    headers = {} if key is None else {"X-API-KEY": sb.api_key if key == "right" else key}
    for _ in range(2):  # the second time, there may be a campaign and a second page
        answer = sb.handle(method, path, headers, body)
        status, answer_headers, data = answer
        assert 200 <= status < 500 and answer_headers["Content-Type"] == "application/json"
        parsed = json.loads(data)
        if status == 200:
            assert parsed["success"] is True
        else:
            assert parsed["message"].strip()
        if key != "right":
            assert status == 401
    assert sb.counts[method.upper()] == 2
