"""The routes the sandbox serves, for a request whose key was accepted.

POST   /rest/accounts/{account_id}/campaigns                create (400 campaign_exists)
GET    /rest/accounts/{account_id}/campaigns[?last_key=]    list that account's, cursor pages
GET    /rest/accounts/{account_id}/campaigns/{campaign_id}  one campaign, or 404
PUT    /rest/accounts/{account_id}/campaigns/{campaign_id}  full replace, or 404
DELETE /rest/accounts/{account_id}/campaigns/{campaign_id}  delete, or 404
GET    /rest/accounts/{account_id}/seats[?last_key=]        list, cursor pages
GET    /rest/accounts/{account_id}/seats/{seat_id}          one seat, or 404

A campaign lives in the account it was created under: under any other account's path it
is not there (404). ``check`` refuses, from the method and path alone, what no body could
make servable (so that it is refused unread); ``respond`` carries a request out.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import ValidationError

from .._models import CampaignDraft, describe_errors
from ._answer import Reply, error_answer, failure_answer, json_answer, parse_json
from ._store import CampaignStore

_ALLOWED = {
    ("campaigns", False): ("GET", "POST"),
    ("campaigns", True): ("GET", "PUT", "DELETE"),
    ("seats", False): ("GET",),
    ("seats", True): ("GET",),
}
# Fields an update may not carry: the id comes from the path, the creation time stays.
_NOT_IN_AN_UPDATE = ("campaign_id", "created_at")


@dataclass(frozen=True)
class Target:
    """What a path names: an account, ``campaigns`` or ``seats``, maybe one item."""

    account: str
    kind: str
    item: str | None
    query: dict[str, list[str]]


def parse_target(path: str) -> Target | None:
    """The target of ``path`` (segments %-decoded, one trailing slash allowed), or ``None``
    when it is no route of the API."""
    parts = urlsplit(path)
    segments = [unquote(part) for part in parts.path.split("/")]
    if len(segments) > 1 and segments[-1] == "":
        segments = segments[:-1]
    if (
        len(segments) not in (5, 6)
        or segments[:3] != ["", "rest", "accounts"]
        or segments[4] not in ("campaigns", "seats")
        or (len(segments) == 6 and not segments[5])
    ):
        return None
    item = segments[5] if len(segments) == 6 else None
    query = parse_qs(parts.query, keep_blank_values=True)
    return Target(segments[3], segments[4], item, query)


def check(method: str, path: str, accounts: Collection[str]) -> Target | Reply:
    """What ``path`` names, or the refusal for a request no body could make servable: no
    route, an account the key does not reach, a method the route does not allow."""
    target = parse_target(path)
    if target is None:
        return failure_answer(404, f"no route for {method} {urlsplit(path).path}")
    if target.account not in accounts:
        return failure_answer(404, f"account {target.account!r} not found")
    allowed = _ALLOWED[target.kind, target.item is not None]
    if method not in allowed:
        message = f"{method} is not allowed here"
        return failure_answer(405, message, {"Allow": ", ".join(allowed)})
    return target


def respond(
    method: str,
    target: Target,
    body: bytes,
    *,
    store: CampaignStore,
    seats: Mapping[str, str],
    page_size: int,
) -> Reply:
    """Carry out a request that ``check`` let through."""
    account, item = target.account, target.item
    if target.kind == "seats":
        if item is None:
            rows = [{"seat_id": k, "name": v} for k, v in seats.items()]
            return _page(rows, "seat_id", "seats", target.query, page_size)
        if item not in seats:
            return failure_answer(404, f"seat {item!r} not found")
        return json_answer(200, {"success": True, "seat": {"seat_id": item, "name": seats[item]}})
    if item is None:
        if method == "GET":
            return _page(store.list(account), "campaign_id", "campaigns", target.query, page_size)
        return create(store, account, body)
    if method == "PUT":
        return replace(store, account, item, body)
    if method == "DELETE":
        if not store.delete(account, item):
            return _no_campaign(item)
        return json_answer(200, {"success": True})
    found = store.get(account, item)
    if found is None:
        return _no_campaign(item)
    return json_answer(200, {"success": True, "campaign": found})


def create(store: CampaignStore, account_id: str, raw: bytes) -> Reply:
    """Validate a create body with the client's own model and store the campaign; 400 for
    a body that is not a valid campaign, lacks ``account_id`` or ``created_at``, names
    another account than the path, or names an id that is taken."""
    draft = _draft(raw, required=("account_id", "created_at"), forbidden=())
    if isinstance(draft, Reply):
        return draft
    if draft.account_id != account_id:
        return _wrong_account(draft)
    fields = _fields(draft, exclude=("campaign_id",))
    now_ms = int(time.time() * 1000)
    fields["priority"] = now_ms
    fields["wait_until"] = now_ms
    stored = store.create(account_id, fields, draft.campaign_id)
    if stored is None:
        return error_answer(
            400, "campaign_exists", f"a campaign with id {draft.campaign_id!r} already exists"
        )
    return json_answer(200, {"success": True, "campaign": stored})


def replace(store: CampaignStore, account_id: str, campaign_id: str, raw: bytes) -> Reply:
    """A full replace: validate the body as a create's, keep the campaign's id, creation
    time, priority and ``wait_until``; 400 for a body with ``campaign_id`` or
    ``created_at`` or another account than the path, 404 (before the body is parsed) when
    the campaign is not there."""
    if not store.exists(account_id, campaign_id):
        return _no_campaign(campaign_id)
    draft = _draft(raw, required=("account_id",), forbidden=_NOT_IN_AN_UPDATE)
    if isinstance(draft, Reply):
        return draft
    if draft.account_id != account_id:
        return _wrong_account(draft)
    stored = store.replace(account_id, campaign_id, _fields(draft, exclude=()))
    if stored is None:
        return _no_campaign(campaign_id)
    return json_answer(200, {"success": True, "campaign": stored})


def _draft(
    raw: bytes, *, required: tuple[str, ...], forbidden: tuple[str, ...]
) -> CampaignDraft | Reply:
    """The body's campaign as a validated draft, or the 400 that refuses it."""
    try:
        data = parse_json(raw)
    except ValueError:
        return error_answer(400, "invalid_json", "the body is not valid JSON")
    campaign = data.get("campaign") if isinstance(data, dict) else None
    if not isinstance(campaign, dict):
        return error_answer(400, "invalid_request", "the body needs a campaign object")
    refused = [f for f in forbidden if f in campaign]
    if refused:
        return error_answer(
            400, "invalid_campaign", f"an update may not carry {', '.join(refused)}"
        )
    try:
        draft = CampaignDraft.model_validate(campaign)
    except ValidationError as exc:
        return error_answer(400, "invalid_campaign", "; ".join(describe_errors(exc)) or "invalid")
    missing = [f for f in required if f not in campaign]
    if missing:
        return error_answer(400, "invalid_campaign", f"missing {', '.join(missing)}")
    return draft


def _fields(draft: CampaignDraft, *, exclude: tuple[str, ...]) -> dict[str, Any]:
    """What the sandbox stores of a draft (``timezone`` 0 when not given)."""
    fields = draft.model_dump(mode="json", exclude_none=True, exclude=set(exclude))
    fields.setdefault("timezone", 0)
    return fields


def _wrong_account(draft: CampaignDraft) -> Reply:
    message = f"account_id {draft.account_id!r} does not match the path"
    return error_answer(400, "invalid_campaign", message)


def _no_campaign(campaign_id: str) -> Reply:
    return failure_answer(404, f"campaign {campaign_id!r} not found")


def _page(
    rows: list[dict[str, Any]], id_field: str, name: str, query: dict[str, list[str]], size: int
) -> Reply:
    """One page of ``rows``; ``last_key`` (a JSON string naming the last id on the page)
    leads to the next page, ``null`` on the last one."""
    size = max(1, size)
    start = 0
    if "last_key" in query:
        try:
            after = json.loads(query["last_key"][0])[id_field]
            start = 1 + [row[id_field] for row in rows].index(after)
        except (ValueError, TypeError, KeyError, IndexError, RecursionError):
            return failure_answer(400, "last_key is not one this server gave")
    page = rows[start : start + size]
    more = start + size < len(rows)
    last_key = json.dumps({id_field: page[-1][id_field]}) if more and page else None
    return json_answer(200, {"success": True, name: page, "last_key": last_key})
