"""What an attempt means, in plain words: the line under the button and a row of the table.

Pure functions of an ``Attempt``. The rule they follow (issue 9): "Not created" is said only
when nothing was created; while the outcome is unknown the words say so, and say whether
pressing again is safe (it is when the same campaign id is re-sent).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from .._attempt import Attempt
from .._errors import (
    AlsonaError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TransportError,
)
from .._models import problems

__all__ = ["attempt_message", "reason", "result_row"]

_ERROR_WORDS: tuple[tuple[type[AlsonaError], str], ...] = (
    (BadRequestError, "the server refused the campaign"),
    (AuthenticationError, "the API key was not accepted"),
    (PermissionDeniedError, "this key may not create campaigns in this account"),
    (NotFoundError, "the account was not found"),
    (RateLimitError, "too many requests, try again in a moment"),
    (ServerError, "the server failed"),
    (TransportError, "no answer from the server"),
)


def reason(error: BaseException | None) -> str:
    """What went wrong, in plain words, with the server's own message."""
    if isinstance(error, AlsonaError):
        what = next(
            (words for kind, words in _ERROR_WORDS if isinstance(error, kind)),
            "unexpected answer from the server",
        )
        status = f" (HTTP {error.status_code})" if error.status_code else ""
        return f"{what}{status}: {error.message}".rstrip(". ")
    if isinstance(error, ValidationError):
        return "; ".join(text for _key, text in problems(error))
    return str(error)


def attempt_message(
    attempt: Attempt, *, live: bool, same_id: str | None
) -> tuple[str, str, str, bool]:
    """``(kind, text, css class, mark)`` for ``render.line``. ``same_id``: the campaign id a
    new press would re-send after an unknown outcome (``None`` when there is none)."""
    where = "LIVE" if live else "the SANDBOX"
    settled, campaign = attempt.settled, attempt.campaign
    if attempt.outcome == "created" and campaign is not None:
        what = (
            f"campaign “{campaign.name}” ({campaign.campaign_id}), status {campaign.status}, "
            f"in {where}"
        )
        text = f"Created {what}."
        if settled:
            text = f"Created {what}: the answer was lost, so the server was asked ({settled})."
        if attempt.journal_error is not None:  # the campaign exists: say so first, then this
            text += f" But the results journal was not written: {attempt.journal_error.message}."
        return "ok", text, "alsona-message-ok", not settled
    why = reason(attempt.error)
    if attempt.outcome == "unknown":
        # Never "Not created" here: that would invite a second campaign.
        again = (
            f" Press Create campaign again: it re-sends the same campaign id {same_id}, "
            "so it cannot make a second one."
            if same_id
            else " Look at the account's campaigns before trying again."
        )
        return (
            "warn",
            f"Unclear whether it was created: {why}.{again}",
            "alsona-message-unsure",
            True,
        )
    if settled:
        text = (
            "Not created: the answer was lost, and the server has no such campaign "
            f"({settled}). Press Create campaign to try again."
        )
        return "error", text, "alsona-message-error", False
    return "error", f"Not created: {why}.", "alsona-message-error", True


def result_row(attempt: Attempt, label: Callable[[str], str]) -> dict[str, Any]:
    """One row of the form's table (see ``render.results_html``); ``label`` names a seat id."""
    draft, campaign = attempt.draft, attempt.campaign
    source = campaign or draft
    outcome = attempt.outcome
    if outcome == "created":
        result = "created"
    else:
        why = reason(attempt.error)
        result = f"unclear: {why}" if outcome == "unknown" else f"not created: {why}"
    return {
        "when": attempt.started_at.astimezone().strftime("%H:%M:%S"),
        "name": source.name if source is not None else None,
        "status": str(source.status) if source is not None else None,
        "seats": [label(s) for s in (draft.seats if draft is not None else ())],
        "campaign_id": (campaign.campaign_id if campaign else None)
        or (draft.campaign_id if draft else None),
        "kind": {"created": "ok", "unknown": "warn"}.get(outcome, "error"),
        "result": result,
    }
