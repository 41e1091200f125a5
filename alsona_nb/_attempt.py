"""What a call is made of: the prepared request and the attempt's record.

Plain data, below both the client (which makes them) and the results log (which keeps them).
Neither ever holds the API key.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar, Protocol

from ._errors import AlsonaError
from ._models import Campaign, CampaignDraft


class Action(str, Enum):
    """What a call does to a campaign."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"

    def __str__(self) -> str:
        return self.value


class Outcome(str, Enum):
    """How an attempt ended. ``UNKNOWN``: the change may or may not have happened (the
    server could not be asked); ``NOT_SENT``: nothing left this machine."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    FAILED = "failed"
    UNKNOWN = "unknown"
    NOT_SENT = "not sent"

    def __str__(self) -> str:
        return self.value


_DONE = {Action.CREATE: Outcome.CREATED, Action.UPDATE: Outcome.UPDATED}
_DONE[Action.DELETE] = Outcome.DELETED

#: ``{field: (before, after)}``: what an update changes.
Diff = Mapping[str, tuple[Any, Any]]


class _Sends:
    """What a create and an update share: a draft and the exact body bytes."""

    draft: CampaignDraft
    body: bytes

    @property
    def account_id(self) -> str | None:
        return self.draft.account_id

    @property
    def payload(self) -> dict[str, Any]:
        """The body as JSON data: ``{"campaign": {...}}``."""
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass(frozen=True)
class PreparedCreate(_Sends):
    """One create request, built once: the URL, the final draft (account, ``created_at`` and,
    with minted ids, ``campaign_id`` filled in) and the exact body bytes every try sends."""

    action: ClassVar[Action] = Action.CREATE
    url: str
    draft: CampaignDraft
    body: bytes

    @property
    def campaign_id(self) -> str | None:
        """The id the campaign will have (``None`` when the server is to choose it)."""
        return self.draft.campaign_id


@dataclass(frozen=True)
class PreparedUpdate(_Sends):
    """One update (a full replace), built once: the campaign as it will be (``draft``, its
    ``campaign_id`` set, validated like a create), the exact body every try sends (without
    ``campaign_id`` and ``created_at``), the campaign as read when it was prepared
    (``based_on``) and ``diff``: ``{field: (before, after)}`` for the fields that change."""

    action: ClassVar[Action] = Action.UPDATE
    url: str
    draft: CampaignDraft
    body: bytes
    based_on: Campaign
    diff: Diff

    @property
    def campaign_id(self) -> str:
        return self.based_on.campaign_id


@dataclass(frozen=True)
class PreparedDelete:
    """One delete: the URL, the campaign's id and account, and the campaign as last read
    (``None`` when it was not read first)."""

    action: ClassVar[Action] = Action.DELETE
    url: str
    campaign_id: str
    account_id: str
    based_on: Campaign | None = None
    body: None = None

    @property
    def draft(self) -> None:
        return None


Prepared = PreparedCreate | PreparedUpdate | PreparedDelete


@dataclass
class Attempt:
    """One call as it happened: what was asked, what came back, how long it took.

    ``outcome`` says how it ended (``Outcome``); ``settled`` says how an unknown outcome was
    settled by asking the server, when it was; ``done`` is true once the server confirmed
    the change (a delete returns no campaign).
    """

    started_at: datetime
    mode: str
    account_id: str | None
    prepared: Prepared | None = None
    input: Any = None
    campaign: Campaign | None = None
    error: AlsonaError | None = None
    http_status: int | None = None
    elapsed_ms: float = 0.0
    tries: int = 0
    settled: str | None = None
    done: bool = False
    journal_error: AlsonaError | None = None
    attempt_id: str = field(default_factory=lambda: secrets.token_hex(8))
    action: Action = Action.CREATE

    def __post_init__(self) -> None:
        if self.prepared is not None:
            self.action = self.prepared.action

    @property
    def ok(self) -> bool:
        """True when the server confirmed the create, update or delete."""
        return self.done and self.error is None

    @property
    def draft(self) -> CampaignDraft | None:
        """The campaign as sent (``None`` when the input was invalid, and for deletes)."""
        return self.prepared.draft if self.prepared is not None else None

    @property
    def campaign_id(self) -> str | None:
        if self.campaign is not None:
            return self.campaign.campaign_id
        return self.prepared.campaign_id if self.prepared is not None else None

    @property
    def zone(self) -> str | None:
        """The time zone the campaign is meant for, when the draft names one."""
        draft = self.draft
        return draft.zone if draft is not None else None

    @property
    def diff(self) -> Diff | None:
        """What an update changes (``None`` for other actions)."""
        return self.prepared.diff if isinstance(self.prepared, PreparedUpdate) else None

    @property
    def outcome(self) -> Outcome:
        if self.ok:
            return _DONE[self.action]
        if self.tries == 0:
            return Outcome.NOT_SENT
        if self.error is not None and self.error.maybe_created:
            return Outcome.UNKNOWN
        return Outcome.FAILED


class AttemptSink(Protocol):
    """Anything that keeps attempts, such as a ``ResultsLog``: ``intent`` is called before
    the first request (raising there means nothing is sent), ``record`` after the last."""

    def intent(self, attempt: Attempt) -> object: ...

    def record(self, attempt: Attempt) -> object: ...
