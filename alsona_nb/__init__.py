"""alsona_nb: create Alsona outreach campaigns from Jupyter, each exactly once.

The client side (models, client, errors, results log) imports neither pandas nor ipywidgets;
the form, the sheet reader, bulk work, plans and the sandbox load on first use.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ._attempt import Action, Attempt, Outcome, PreparedCreate, PreparedDelete, PreparedUpdate
from ._client import AlsonaClient
from ._connect import connect, local_sandbox
from ._errors import (
    AlsonaError,
    AlsonaWarning,
    APIError,
    AuthenticationError,
    BadRequestError,
    BatchInterruptedError,
    ConflictError,
    InputError,
    InvalidDraftError,
    JournalError,
    NotFoundError,
    NotSentError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TransportError,
    TransportKind,
    UnexpectedResponseError,
)
from ._models import (
    Campaign,
    CampaignDraft,
    CampaignStatus,
    DayWindow,
    WeeklySchedule,
    describe_errors,
    mint_campaign_id,
    problems,
)
from ._results import ResultsLog
from ._retry import RetryPolicy
from ._version import __version__

# A library logs, the application decides what is shown.
logging.getLogger(__name__).addHandler(logging.NullHandler())

if TYPE_CHECKING:  # pragma: no cover
    from ._batch import create_campaigns
    from ._manage import CampaignPlan, fix_zone_drift, plan_campaigns, zone_drift
    from ._sheet import DraftBatch, InvalidRowsError, drafts_from_frame, read_campaigns_csv
    from ._timezones import ZoneOffset, find_zone, zone_offset
    from .form import CampaignForm
    from .sandbox import Fault, Sandbox, SandboxAdapter

__all__ = [
    "APIError",
    "Action",
    "AlsonaClient",
    "AlsonaError",
    "AlsonaWarning",
    "Attempt",
    "AuthenticationError",
    "BadRequestError",
    "BatchInterruptedError",
    "Campaign",
    "CampaignDraft",
    "CampaignForm",
    "CampaignPlan",
    "CampaignStatus",
    "ConflictError",
    "DayWindow",
    "DraftBatch",
    "Fault",
    "InputError",
    "InvalidDraftError",
    "InvalidRowsError",
    "JournalError",
    "NotFoundError",
    "NotSentError",
    "Outcome",
    "PermissionDeniedError",
    "PreparedCreate",
    "PreparedDelete",
    "PreparedUpdate",
    "RateLimitError",
    "ResultsLog",
    "RetryPolicy",
    "Sandbox",
    "SandboxAdapter",
    "ServerError",
    "TransportError",
    "TransportKind",
    "UnexpectedResponseError",
    "WeeklySchedule",
    "ZoneOffset",
    "__version__",
    "connect",
    "create_campaigns",
    "describe_errors",
    "drafts_from_frame",
    "find_zone",
    "fix_zone_drift",
    "local_sandbox",
    "mint_campaign_id",
    "plan_campaigns",
    "problems",
    "read_campaigns_csv",
    "zone_drift",
    "zone_offset",
]

# Names whose modules import pandas or ipywidgets (or the sandbox, or the zone tables),
# loaded on first access.
_LAZY: dict[str, str] = {
    "CampaignForm": ".form",
    "DraftBatch": "._sheet",
    "InvalidRowsError": "._sheet",
    "drafts_from_frame": "._sheet",
    "read_campaigns_csv": "._sheet",
    "create_campaigns": "._batch",
    "ZoneOffset": "._timezones",
    "find_zone": "._timezones",
    "zone_offset": "._timezones",
    "Fault": ".sandbox",
    "Sandbox": ".sandbox",
    "SandboxAdapter": ".sandbox",
    "CampaignPlan": "._manage",
    "plan_campaigns": "._manage",
    "zone_drift": "._manage",
    "fix_zone_drift": "._manage",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'alsona_nb' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value
