"""What a create call is made of: the prepared request and the attempt's record.

Plain data, below both the client (which makes them) and the results log (which keeps them).
Neither ever holds the API key.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ._errors import AlsonaError
from ._models import Campaign, CampaignDraft


@dataclass(frozen=True)
class PreparedCreate:
    """One create request, built once: the URL, the final draft (account, ``created_at`` and,
    with minted ids, ``campaign_id`` filled in) and the exact body bytes every try sends."""

    url: str
    draft: CampaignDraft
    body: bytes

    @property
    def campaign_id(self) -> str | None:
        """The id the campaign will have (``None`` when the server is to choose it)."""
        return self.draft.campaign_id

    @property
    def payload(self) -> dict[str, Any]:
        """The body as JSON data: ``{"campaign": {...}}``."""
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class Attempt:
    """One create call as it happened: what was asked, what came back, how long it took.

    ``outcome`` is ``"created"``, ``"failed"`` (nothing was created) or ``"unknown"`` (the
    campaign may exist: ``client.reconcile`` asks the server). ``settled`` says how an
    unknown outcome was settled by asking the server, when it was.
    """

    started_at: datetime
    mode: str
    account_id: str | None
    prepared: PreparedCreate | None = None
    input: Any = None
    campaign: Campaign | None = None
    error: AlsonaError | None = None
    http_status: int | None = None
    elapsed_ms: float = 0.0
    tries: int = 0
    settled: str | None = None
    journal_error: AlsonaError | None = None
    attempt_id: str = field(default_factory=lambda: secrets.token_hex(8))

    @property
    def ok(self) -> bool:
        """True when the campaign was created (the server said so)."""
        return self.campaign is not None and self.error is None

    @property
    def draft(self) -> CampaignDraft | None:
        """The draft as sent (``None`` when the input was invalid)."""
        return self.prepared.draft if self.prepared is not None else None

    @property
    def outcome(self) -> str:
        if self.ok:
            return "created"
        if self.error is not None and self.error.maybe_created:
            return "unknown"
        return "failed"
