"""Where the sandbox keeps campaigns: by account, then by id, behind one lock.

Campaign ids are unique across the whole store (as a real server's are), so a view of
every account's campaigns by id loses nothing. Two switches make it behave like servers
the client must survive: one that ignores client-chosen ids, and one whose reads lag
behind its writes.
"""

from __future__ import annotations

import threading
from typing import Any

from .._models import mint_campaign_id

Campaign = dict[str, Any]
_KEPT_BY_A_REPLACE = ("created_at", "priority", "wait_until")


class CampaignStore:
    """Campaigns by account and id. Thread-safe; stored dicts are replaced, never changed
    in place, so a campaign handed out stays as it was.

    ``honour_ids=False``: a create that names a ``campaign_id`` gets a new one made here
    instead (so a repeated id is never refused). ``read_lag=N``: a new campaign is missing
    from the next ``N`` reads of it (``get`` of its id, or a ``campaigns`` list of its
    account), counted by reads, not time. Writes (replace, delete, a repeated create) see
    it at once.
    """

    def __init__(self, *, honour_ids: bool = True, read_lag: int = 0) -> None:
        self.honour_ids = honour_ids
        self.read_lag = read_lag
        self._lock = threading.Lock()
        self._accounts: dict[str, dict[str, Campaign]] = {}
        self._owner: dict[str, str] = {}  # campaign id -> account
        self._lagging: dict[str, int] = {}  # campaign id -> reads it is still hidden from

    def create(self, account: str, fields: Campaign, wanted_id: str | None) -> Campaign | None:
        """Store a new campaign (``fields`` plus its id) under ``account`` and return it;
        ``None`` when ``wanted_id`` is taken (and ids are honoured)."""
        with self._lock:
            if wanted_id is not None and self.honour_ids:
                if wanted_id in self._owner:
                    return None
                campaign_id = wanted_id
            else:
                campaign_id = mint_campaign_id()
                while campaign_id in self._owner:  # pragma: no cover - 80 random bits
                    campaign_id = mint_campaign_id()
            campaign = {**fields, "campaign_id": campaign_id}
            self._accounts.setdefault(account, {})[campaign_id] = campaign
            self._owner[campaign_id] = account
            if self.read_lag > 0:
                self._lagging[campaign_id] = self.read_lag
            return campaign

    def exists(self, account: str, campaign_id: str) -> bool:
        """Whether ``account`` has the campaign (as a write sees it: no lag)."""
        with self._lock:
            return self._owner.get(campaign_id) == account

    def get(self, account: str, campaign_id: str) -> Campaign | None:
        """A read of one campaign of ``account``; ``None`` when it is not there (or not yet
        visible to reads)."""
        with self._lock:
            if self._owner.get(campaign_id) != account or self._hidden(campaign_id):
                return None
            return self._accounts[account][campaign_id]

    def list(self, account: str) -> list[Campaign]:
        """A read of every campaign of ``account``, in the order they were created."""
        with self._lock:
            stored = self._accounts.get(account, {})
            return [c for cid, c in stored.items() if not self._hidden(cid)]

    def replace(self, account: str, campaign_id: str, fields: Campaign) -> Campaign | None:
        """Replace what ``account``'s campaign holds with ``fields``, keeping its id,
        ``created_at``, ``priority`` and ``wait_until``; ``None`` when it is not there."""
        with self._lock:
            if self._owner.get(campaign_id) != account:
                return None
            old = self._accounts[account][campaign_id]
            kept: Campaign = {k: old[k] for k in _KEPT_BY_A_REPLACE if k in old}
            campaign = {**fields, **kept, "campaign_id": campaign_id}
            self._accounts[account][campaign_id] = campaign
            return campaign

    def delete(self, account: str, campaign_id: str) -> bool:
        """Delete ``account``'s campaign; ``False`` when it is not there."""
        with self._lock:
            if self._owner.get(campaign_id) != account:
                return False
            del self._accounts[account][campaign_id]
            del self._owner[campaign_id]
            self._lagging.pop(campaign_id, None)
            return True

    def of(self, account: str) -> dict[str, Campaign]:
        """``account``'s campaigns by id, as they are (no lag): a copy."""
        with self._lock:
            return dict(self._accounts.get(account, {}))

    def everything(self) -> dict[str, Campaign]:
        """Every account's campaigns by id, as they are (no lag): a copy."""
        with self._lock:
            return {cid: c for stored in self._accounts.values() for cid, c in stored.items()}

    def __len__(self) -> int:
        with self._lock:
            return len(self._owner)

    def clear(self) -> None:
        """Forget every campaign."""
        with self._lock:
            self._accounts.clear()
            self._owner.clear()
            self._lagging.clear()

    def _hidden(self, campaign_id: str) -> bool:
        """Whether this read misses the campaign (and count the read). Call under the lock."""
        left = self._lagging.get(campaign_id, 0)
        if left <= 0:
            return False
        if left == 1:
            del self._lagging[campaign_id]
        else:
            self._lagging[campaign_id] = left - 1
        return True
