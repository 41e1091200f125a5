"""The routes the sandbox serves (NOTES 9-12), for a request whose key was accepted.

POST /rest/accounts/{account_id}/campaigns                create (400 campaign_exists)
GET  /rest/accounts/{account_id}/campaigns[?last_key=]    list, cursor pages
GET  /rest/accounts/{account_id}/campaigns/{campaign_id}  one campaign, or 404
GET  /rest/accounts/{account_id}/seats[?last_key=]        list, cursor pages
GET  /rest/accounts/{account_id}/seats/{seat_id}          one seat, or 404
"""

from __future__ import annotations

import json
import secrets
import time
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from .._models import CampaignDraft, describe_errors
from ._answer import Answer, json_answer, parse_json

if TYPE_CHECKING:  # pragma: no cover
    from ._sandbox import Sandbox

_ALLOWED = {
    ("campaigns", False): ("GET", "POST"),
    ("campaigns", True): ("GET",),
    ("seats", False): ("GET",),
    ("seats", True): ("GET",),
}


def route(
    sandbox: Sandbox, method: str, segments: list[str], query: dict[str, list[str]], body: bytes
) -> Answer:
    """Answer a request whose path is ``segments`` (split on ``/``, each %-decoded)."""
    if len(segments) > 1 and segments[-1] == "":
        segments = segments[:-1]  # one trailing slash is fine
    if (
        len(segments) not in (5, 6)
        or segments[:3] != ["", "rest", "accounts"]
        or segments[4] not in ("campaigns", "seats")
        or (len(segments) == 6 and not segments[5])
    ):
        return _missing(f"no route for {method} {'/'.join(segments)}")
    account, kind = segments[3], segments[4]
    item = segments[5] if len(segments) == 6 else None
    if account != sandbox.account_id:
        return _missing(f"account {account!r} not found")
    allowed = _ALLOWED[kind, item is not None]
    if method not in allowed:
        return json_answer(
            405,
            {"success": False, "message": f"{method} is not allowed here"},
            {"Allow": ", ".join(allowed)},
        )
    if kind == "seats":
        if item is None:
            rows = [{"seat_id": k, "name": v} for k, v in sandbox.seats.items()]
            return _page(rows, "seat_id", "seats", query, sandbox.page_size)
        if item not in sandbox.seats:
            return _missing(f"seat {item!r} not found")
        return json_answer(
            200, {"success": True, "seat": {"seat_id": item, "name": sandbox.seats[item]}}
        )
    if item is not None:
        with sandbox._lock:
            found = sandbox.campaigns.get(item)
            data = json.dumps({"success": True, "campaign": found}).encode() if found else b""
        if not data:
            return _missing(f"campaign {item!r} not found")
        return Answer(200, json_answer(200, None).headers, data)
    if method == "GET":
        with sandbox._lock:
            rows = list(sandbox.campaigns.values())
        return _page(rows, "campaign_id", "campaigns", query, sandbox.page_size)
    return create(sandbox, account, body)


def create(sandbox: Sandbox, account_id: str, raw: bytes) -> Answer:
    """Validate a create body with the client's own models and store the campaign."""
    try:
        data = parse_json(raw)
    except ValueError:
        return _error(400, "invalid_json", "the body is not valid JSON")
    campaign = data.get("campaign") if isinstance(data, dict) else None
    if not isinstance(campaign, dict):
        return _error(400, "invalid_request", "the body needs a campaign object")
    try:
        draft = CampaignDraft.model_validate(campaign)
    except ValidationError as exc:
        return _error(400, "invalid_campaign", "; ".join(describe_errors(exc)) or "invalid")
    missing = [f for f in ("account_id", "created_at") if f not in campaign]
    if missing:
        return _error(400, "invalid_campaign", f"missing {', '.join(missing)}")
    if draft.account_id != account_id:
        return _error(
            400, "invalid_campaign", f"account_id {draft.account_id!r} does not match the path"
        )
    now_ms = int(time.time() * 1000)
    answer = draft.model_dump(mode="json", exclude_none=True)
    answer.setdefault("timezone", 0)
    answer["priority"] = now_ms
    answer["wait_until"] = now_ms
    with sandbox._lock:
        campaign_id = draft.campaign_id or "campaign_" + secrets.token_hex(10)
        if campaign_id in sandbox.campaigns:
            return _error(
                400, "campaign_exists", f"a campaign with id {campaign_id!r} already exists"
            )
        answer["campaign_id"] = campaign_id
        sandbox.campaigns[campaign_id] = answer
        body = json.dumps({"success": True, "campaign": answer}).encode()
    return Answer(200, json_answer(200, None).headers, body)


def _page(
    rows: list[dict[str, Any]], id_field: str, name: str, query: dict[str, list[str]], size: int
) -> Answer:
    """One page of ``rows``; ``last_key`` (a JSON string naming the last id on the page)
    leads to the next page, ``null`` on the last one."""
    size = max(1, size)
    start = 0
    if "last_key" in query:
        try:
            after = json.loads(query["last_key"][0])[id_field]
            start = 1 + [row[id_field] for row in rows].index(after)
        except (ValueError, TypeError, KeyError, IndexError, RecursionError):
            return json_answer(
                400, {"success": False, "message": "last_key is not one this server gave"}
            )
    page = rows[start : start + size]
    more = start + size < len(rows)
    last_key = json.dumps({id_field: page[-1][id_field]}) if more and page else None
    return json_answer(200, {"success": True, name: page, "last_key": last_key})


def _missing(message: str) -> Answer:
    return json_answer(404, {"success": False, "message": message})


def _error(status: int, error: str, message: str) -> Answer:
    return json_answer(status, {"error": error, "message": message})
