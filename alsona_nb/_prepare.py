"""Building requests once, before anything is sent: a create, an update (with its diff
against the campaign it is based on) and a delete. Every campaign is validated here by the
one model, ``CampaignDraft``; nothing in this module touches the network."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import pydantic_core
from pydantic import ValidationError

from ._attempt import PreparedCreate, PreparedDelete, PreparedUpdate
from ._errors import InputError, InvalidDraftError
from ._models import Campaign, CampaignDraft, CampaignStatus, mint_campaign_id, problems
from ._settle import WRITABLE, wire

#: What an update may change.
CHANGEABLE = ("name", "status", "seats", "schedule", "timezone", "zone")


def campaigns_url(base_url: str, account_id: str, campaign_id: str | None = None) -> str:
    """The campaigns path of an account (and of one campaign), each part quoted."""
    url = f"{base_url}/rest/accounts/{quote(account_id, safe='')}/campaigns"
    return url if campaign_id is None else f"{url}/{quote(campaign_id, safe='')}"


def check_id(campaign_id: object, what: str = "campaign id") -> str:
    """``campaign_id`` when it is usable in a path. Raises ``InputError``."""
    if not isinstance(campaign_id, str) or not campaign_id or campaign_id != campaign_id.strip():
        raise InputError(f"not a {what}: {campaign_id!r}")
    return campaign_id


def draft_fields(draft: object) -> dict[str, Any]:
    """A draft, a campaign dict or a ``{"campaign": ...}`` body as a dict of fields.

    Raises ``InvalidDraftError`` for anything else."""
    if isinstance(draft, CampaignDraft):
        return dict(draft)  # checked again: model_copy(update=...) skips validation
    if isinstance(draft, Mapping) and isinstance(draft.get("campaign", draft), Mapping):
        return dict(draft.get("campaign", draft))
    raise InvalidDraftError(
        f"give a CampaignDraft or a dict of campaign fields, not {type(draft).__name__}",
        problems=[("", "Give a campaign as a CampaignDraft or a dict of its fields")],
    )


def build_create(
    draft: object, base_url: str, account_id: str | None, *, mint_ids: bool
) -> PreparedCreate:
    """The create request for ``draft``: the account, ``created_at``, the zone's offset of
    today (when the draft names a zone and no offset) and, with ``mint_ids``, a new
    ``campaign_id`` filled in; the body bytes fixed. Raises ``InvalidDraftError``."""
    data = draft_fields(draft)
    if data.get("account_id") is None and account_id is not None:
        data["account_id"] = account_id
    if data.get("created_at") is None:
        data["created_at"] = int(time.time() * 1000)
    if data.get("campaign_id") is None and mint_ids:
        data["campaign_id"] = mint_campaign_id()
    final = _validated(data)
    if final.account_id is None:
        raise InvalidDraftError(
            "no account id: set ALSONA_ACCOUNT_ID, pass account_id= to the client, or "
            "give the draft an account_id",
            problems=[("account_id", "Give the account to create the campaign in")],
        )
    body = _body(final, exclude=())
    return PreparedCreate(url=campaigns_url(base_url, final.account_id), draft=final, body=body)


def build_update(base: Campaign, changes: Mapping[str, Any], base_url: str) -> PreparedUpdate:
    """The full replace that applies ``changes`` to ``base`` (the campaign as read): every
    writable field sent, never ``campaign_id`` or ``created_at``. Raises
    ``InvalidDraftError`` when the result is not a valid campaign (nothing is sent)."""
    unknown = sorted(set(changes) - set(CHANGEABLE))
    if unknown:
        raise InvalidDraftError(
            f"an update can change {', '.join(CHANGEABLE)}; not {', '.join(unknown)}",
            problems=[(f, f"{f!r} cannot be changed by an update") for f in unknown],
        )
    data: dict[str, Any] = {f: getattr(base, f) for f in WRITABLE}
    data["campaign_id"] = base.campaign_id
    if data["status"] not in {s.value for s in CampaignStatus} and "status" not in changes:
        raise InvalidDraftError(
            f"the campaign's status {data['status']!r} cannot be sent back: give status=",
            problems=[("status", f"Pick a status ({data['status']} cannot be sent)")],
        )
    data.update(changes)
    if changes.get("zone") is not None and "timezone" not in changes:
        data["timezone"] = None
    final = _validated(data)
    body = _body(final, exclude=("campaign_id", "created_at"))
    sent = _sent_fields(body)
    diff = {f: (wire(base, f), sent.get(f)) for f in WRITABLE if wire(base, f) != sent.get(f)}
    assert final.account_id is not None
    return PreparedUpdate(
        url=campaigns_url(base_url, final.account_id, base.campaign_id),
        draft=final,
        body=body,
        based_on=base,
        diff=diff,
    )


def build_delete(campaign_id: str, account_id: str, base_url: str) -> PreparedDelete:
    """The delete request for one campaign of ``account_id``."""
    return PreparedDelete(
        url=campaigns_url(base_url, account_id, campaign_id),
        campaign_id=campaign_id,
        account_id=account_id,
    )


def _validated(data: dict[str, Any]) -> CampaignDraft:
    if data.get("zone") and data.get("timezone") is None:
        from ._timezones import zone_offset  # on first use: import alsona_nb stays light

        with contextlib.suppress(ValueError):  # the model names the zone as the problem
            data["timezone"] = zone_offset(str(data["zone"])).minutes
    try:
        return CampaignDraft.model_validate(data)
    except ValidationError as exc:
        found = problems(exc)
        raise InvalidDraftError(
            "not a valid campaign, nothing was sent: " + "; ".join(s for _, s in found),
            problems=found,
        ) from None


def _body(final: CampaignDraft, exclude: tuple[str, ...]) -> bytes:
    fields = final.model_dump(mode="json", exclude_none=True, exclude=set(exclude))
    try:
        return pydantic_core.to_json({"campaign": fields})
    except (ValueError, pydantic_core.PydanticSerializationError):
        field = next(
            (f for f in ("name", "seats", "campaign_id", "account_id") if _broken(fields.get(f))),
            "",
        )
        label = {"name": "The name", "seats": "A seat id"}.get(field, "A campaign field")
        raise InvalidDraftError(
            "the campaign holds text that cannot be sent (a broken Unicode character)",
            problems=[(field, f"{label} holds a broken character; type it again")],
        ) from None


def _sent_fields(body: bytes) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(body)["campaign"]
    return data


def _broken(value: Any) -> bool:
    """True when text (or a list of it) cannot be encoded as UTF-8 (a lone surrogate)."""
    texts = value if isinstance(value, list) else [value]
    for text in texts:
        if isinstance(text, str):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False
