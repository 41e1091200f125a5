"""Carrying out a prepared create, update or delete: send it through the one call path, and
when the outcome is unknown, settle it by asking the server before saying anything.

Each function returns what it found (``Result``); the client turns that into an ``Attempt``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._answers import read_anything, read_campaign
from ._attempt import PreparedCreate, PreparedDelete, PreparedUpdate
from ._calls import Caller, Request, Sent, TryObserver
from ._errors import AlsonaError, ConflictError, notify
from ._models import Campaign
from ._settle import (
    WRITABLE,
    Found,
    GetCampaign,
    Settlement,
    settle_create,
    settle_delete,
    settle_update,
    wire,
)


@dataclass(frozen=True)
class Result:
    """What a call came to: the campaign (for a create or an update), the error, how many
    tries, the status of the answer that settled it, and how an unknown outcome was settled.
    ``done``: the server confirmed the change."""

    done: bool
    campaign: Campaign | None = None
    error: AlsonaError | None = None
    tries: int = 0
    http_status: int | None = None
    settled: str | None = None
    ids_ignored: bool = False


class Performer:
    """Runs prepared calls through ``caller``; ``get`` reads a campaign in its account."""

    def __init__(self, caller: Caller, get: GetCampaign, sleep: Callable[[float], None]):
        self.caller = caller
        self.get = get
        self.sleep = sleep

    def create(
        self,
        prepared: PreparedCreate,
        *,
        may_exist: bool = False,
        on_try: TryObserver | None = None,
        retry_throttled: bool = True,
        ids_honoured: bool = True,
    ) -> Result:
        """Create once; ``may_exist``: an earlier call may already have created it;
        ``ids_honoured=False``: the server was seen ignoring client ids, so the id sent
        cannot make a retry safe nor be asked about."""
        cid = prepared.campaign_id
        own = cid is not None and ids_honoured
        request = Request("POST", prepared.url, prepared.body, repeatable=own)
        sent = self.caller.send(
            request,
            read_campaign,
            on_try=on_try,
            retry_throttled=retry_throttled,
            unknown=may_exist and own,
        )
        if sent.done:
            return self._created(prepared, sent)
        if not sent.unknown:
            return self._failed(sent)
        if not own or cid is None:
            chose = "chose its id" if cid is None else "ignores the ids this client sends"
            return self._failed(
                sent,
                f"; the campaign may or may not have been created (the server {chose}, so "
                "it cannot be asked): check in Alsona before creating it again",
                maybe=True,
            )
        intended = {"name": prepared.draft.name, "account_id": prepared.draft.account_id}
        found = settle_create(self.get, cid, intended, self.sleep)
        return self._settled(sent, found, cid, "created", "nothing was created")

    def _created(self, prepared: PreparedCreate, sent: Sent) -> Result:
        campaign: Campaign = sent.value
        lost = sent.unknown and sent.tries > 1  # an earlier try of this call lost its answer
        settled = "created (the answer of an earlier try was lost)" if lost else None
        ignored = prepared.campaign_id is not None and campaign.campaign_id != prepared.campaign_id
        if ignored:
            notify(
                f"the server ignored the campaign id this client chose ({prepared.campaign_id}) "
                f"and answered with its own ({campaign.campaign_id}): retries can no longer be "
                "made safe, so this client stops choosing ids"
                + (
                    "; an earlier try whose answer was lost may have made a second campaign: "
                    "check in Alsona"
                    if sent.unknown
                    else ""
                )
            )
            settled = f"created as {campaign.campaign_id} (the server ignored the id sent)"
        return Result(True, campaign, None, sent.tries, sent.status, settled, ignored)

    def update(self, prepared: PreparedUpdate, *, overwrite: bool = False) -> Result:
        """Replace the campaign once, unless someone changed it since it was read."""
        try:
            current = self.get(prepared.campaign_id, prepared.account_id)
        except AlsonaError as exc:
            return Result(False, error=exc)
        intended = json.loads(prepared.body)["campaign"]
        if all(wire(current, f) == v for f, v in intended.items() if f in WRITABLE):
            # already as intended (an earlier apply): sending it again would change nothing
            return Result(True, current, None, 0, None, "already as intended; nothing sent")
        moved = {
            f: (wire(prepared.based_on, f), wire(current, f))
            for f in WRITABLE
            if wire(prepared.based_on, f) != wire(current, f)
        }
        if moved and not overwrite:
            return Result(False, error=_conflict(prepared.campaign_id, moved, current))
        sent = self.caller.send(Request("PUT", prepared.url, prepared.body), read_campaign)
        if sent.done:
            lost = sent.unknown and sent.tries > 1
            settled = "updated (the answer of an earlier try was lost)" if lost else None
            return Result(True, sent.value, None, sent.tries, sent.status, settled)
        if not sent.unknown:
            return self._failed(sent)
        found = settle_update(self.get, prepared.campaign_id, intended, self.sleep)
        return self._settled(sent, found, prepared.campaign_id, "updated", "nothing was changed")

    def delete(self, prepared: PreparedDelete) -> Result:
        """Delete once: after an unknown outcome of our own delete, "not found" means done."""
        sent = self.caller.send(Request("DELETE", prepared.url), read_anything)
        if sent.done:
            return Result(True, None, None, sent.tries, sent.status)
        if sent.status == 404 and sent.unknown:
            return Result(True, None, None, sent.tries, 404, "deleted (an earlier try did it)")
        if not sent.unknown:
            return self._failed(sent)
        found = settle_delete(self.get, prepared.campaign_id, prepared.account_id, self.sleep)
        return self._settled(sent, found, prepared.campaign_id, "deleted", "nothing was deleted")

    def _failed(self, sent: Sent, note: str = "", *, maybe: bool = False) -> Result:
        error = self.caller.error(sent, note, maybe_created=maybe)
        return Result(False, None, error, sent.tries, sent.status)

    def _settled(self, sent: Sent, found: Settlement, cid: str, done: str, nothing: str) -> Result:
        if found.found is Found.APPLIED:
            status = 200 if done != "deleted" else 404
            settled = f"{done} (confirmed by asking the server after a lost answer)"
            return Result(True, found.campaign, None, sent.tries, status, settled)
        if found.found is Found.UNASKABLE:
            note = (
                f"; campaign {cid} may or may not have been {done}, and the server could not "
                f"be asked ({found.reason})"
            )
            return self._failed(sent, note, maybe=True)
        if found.found is Found.OTHER:
            note = f"; {nothing}: the server has a different campaign with the id {cid}"
            result = self._failed(sent, note)
            return Result(
                False, None, result.error, sent.tries, sent.status, "another campaign has this id"
            )
        why = f" ({found.reason})" if found.reason else ""
        note = f"; {nothing}: asked afterwards, the server has no such change for {cid}{why}"
        if done == "created":
            note = f"; {nothing}: asked afterwards, the server has no campaign {cid}"
        result = self._failed(sent, note)
        settled = (
            "not created (the server has no such campaign)"
            if done == "created"
            else f"not {done} (asked the server)"
        )
        return Result(False, None, result.error, sent.tries, sent.status, settled)


def _conflict(
    campaign_id: str, moved: dict[str, tuple[Any, Any]], current: Campaign
) -> ConflictError:
    fields = ", ".join(moved)
    return ConflictError(
        f"campaign {campaign_id} was changed by someone else since it was read ({fields}); "
        "nothing was sent: prepare the update again, or pass overwrite=True",
        changed=moved,
        current=current,
    )
