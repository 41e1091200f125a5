"""alsona_nb: create Alsona outreach campaigns from Jupyter.

The client side (models, client, errors, sandbox) imports neither pandas nor ipywidgets;
``ResultsLog``, ``CampaignForm`` and the bulk helpers load them on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._client import AlsonaClient, Attempt
from ._connect import connect
from ._errors import (
    AlsonaError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
)
from ._models import (
    Campaign,
    CampaignDraft,
    CampaignStatus,
    DayWindow,
    WeeklySchedule,
    describe_errors,
)
from ._timezones import ZoneOffset, zone_offset
from ._version import __version__
from .sandbox import Fault, Sandbox

if TYPE_CHECKING:  # pragma: no cover
    from ._bulk import DraftBatch, InvalidRowsError, drafts_from_frame, read_campaigns_csv
    from ._form import CampaignForm
    from ._results import ResultsLog

__all__ = [
    "AlsonaClient",
    "AlsonaError",
    "Attempt",
    "AuthenticationError",
    "BadRequestError",
    "Campaign",
    "CampaignDraft",
    "CampaignForm",
    "CampaignStatus",
    "DayWindow",
    "DraftBatch",
    "Fault",
    "InvalidRowsError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResultsLog",
    "Sandbox",
    "ServerError",
    "TransportError",
    "UnexpectedResponseError",
    "WeeklySchedule",
    "ZoneOffset",
    "__version__",
    "connect",
    "describe_errors",
    "drafts_from_frame",
    "read_campaigns_csv",
    "zone_offset",
]

# Names whose modules import pandas or ipywidgets, loaded on first access.
_LAZY: dict[str, str] = {
    "ResultsLog": "._results",
    "CampaignForm": "._form",
    "DraftBatch": "._bulk",
    "InvalidRowsError": "._bulk",
    "drafts_from_frame": "._bulk",
    "read_campaigns_csv": "._bulk",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'alsona_nb' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value
