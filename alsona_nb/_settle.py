"""Settling an unknown outcome by asking the server, for a create, an update or a delete.

Each function takes ``get(campaign_id, account_id) -> Campaign`` (raising ``NotFoundError``
when there is none), so it works for a live call and for a journal read back alike. The
campaign is asked about in its own account: a campaign of account B is not visible under
account A's path. "Not found" is asked again briefly before it is believed, since a store
whose reads lag may not show a campaign a moment after it was made.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from ._errors import AlsonaError, NotFoundError
from ._models import Campaign

#: ``get(campaign_id, account_id)``: the campaign as the server has it.
GetCampaign = Callable[[str, "str | None"], Campaign]

#: Waits before asking again after "not found" (a lagging read), in seconds.
NOT_FOUND_RECHECKS = (0.5, 1.0)

#: The fields a create or an update sends, compared to tell whether a change happened.
WRITABLE = ("name", "account_id", "status", "seats", "schedule", "timezone")


class Found(str, Enum):
    """What asking the server found."""

    APPLIED = "applied"  # the change happened (created, updated, deleted)
    NOT_APPLIED = "not applied"  # it did not happen
    OTHER = "other"  # a different campaign has the id (someone else's)
    UNASKABLE = "unaskable"  # the server could not be asked


@dataclass(frozen=True)
class Settlement:
    """The answer to "did it happen?": ``found``, the campaign as the server has it (when it
    has one), and ``reason`` (why it could not be asked, or what differs)."""

    found: Found
    campaign: Campaign | None = None
    reason: str = ""


def ask(
    get: GetCampaign, campaign_id: str, account_id: str | None, sleep: Callable[[float], None]
) -> Campaign | None:
    """The campaign, or ``None`` when the server still has none after asking again.

    Raises ``AlsonaError`` (not ``NotFoundError``) when the server cannot be asked."""
    for wait in (*NOT_FOUND_RECHECKS, None):
        try:
            return get(campaign_id, account_id)
        except NotFoundError:
            if wait is None:
                return None
            sleep(wait)
    return None  # pragma: no cover (the loop returns)


def _asked(
    get: GetCampaign, campaign_id: str, account_id: str | None, sleep: Callable[[float], None]
) -> Settlement | Campaign | None:
    try:
        return ask(get, campaign_id, account_id, sleep)
    except AlsonaError as exc:
        return Settlement(Found.UNASKABLE, reason=exc.message)


def settle_create(
    get: GetCampaign,
    campaign_id: str,
    intended: Mapping[str, Any],
    sleep: Callable[[float], None],
) -> Settlement:
    """Was the campaign ``intended`` (a row or a draft's fields: at least ``name`` and
    ``account_id``) created under ``campaign_id``? A campaign with that id but another name
    or account is someone else's (``OTHER``)."""
    found = _asked(get, campaign_id, intended.get("account_id"), sleep)
    if isinstance(found, Settlement):
        return found
    if found is None:
        return Settlement(Found.NOT_APPLIED)
    if found.name != intended.get("name") or found.account_id != intended.get("account_id"):
        return Settlement(Found.OTHER, found, "a different campaign has that id")
    return Settlement(Found.APPLIED, found)


def settle_update(
    get: GetCampaign,
    campaign_id: str,
    intended: Mapping[str, Any],
    sleep: Callable[[float], None],
) -> Settlement:
    """Does the campaign now hold every field of ``intended`` (the wire values sent)?"""
    found = _asked(get, campaign_id, intended.get("account_id"), sleep)
    if isinstance(found, Settlement):
        return found
    if found is None:
        return Settlement(Found.NOT_APPLIED, reason="the campaign no longer exists")
    differs = [f for f in intended if f in WRITABLE and wire(found, f) != intended[f]]
    if differs:
        return Settlement(
            Found.NOT_APPLIED, found, "the server still has other " + ", ".join(differs)
        )
    return Settlement(Found.APPLIED, found)


def settle_delete(
    get: GetCampaign, campaign_id: str, account_id: str | None, sleep: Callable[[float], None]
) -> Settlement:
    """Is the campaign gone? (A lagging read is not waited for here: "found" is believed.)"""
    try:
        found = get(campaign_id, account_id)
    except NotFoundError:
        return Settlement(Found.APPLIED)
    except AlsonaError as exc:
        return Settlement(Found.UNASKABLE, reason=exc.message)
    return Settlement(Found.NOT_APPLIED, found)


def wire(campaign: Campaign, field: str) -> Any:
    """A campaign's field as it goes on the wire (status as text, days as lists)."""
    value = getattr(campaign, field)
    if field == "schedule":
        return {day: list(v) for day, v in value.items()}
    if field == "seats":
        return list(value)
    return value
