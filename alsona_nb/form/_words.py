"""What an attempt means, in plain words: the line under the button and a row of the table.

Pure functions of an ``Attempt``. The rule they follow: "Not created" is said only
when nothing was created; while the outcome is unknown the words say so, and say whether
pressing again is safe (it is when the same campaign id is re-sent).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from .._attempt import Attempt
from .._errors import (
    AlsonaError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TransportError,
)
from .._models import Campaign, problems

__all__ = ["attempt_message", "exists_message", "journal_row", "reason", "result_row"]

_ERROR_WORDS: tuple[tuple[type[AlsonaError], str], ...] = (
    (BadRequestError, "the server refused the campaign"),
    (AuthenticationError, "the API key was not accepted"),
    (PermissionDeniedError, "this key may not change campaigns in this account"),
    (ConflictError, "someone else changed the campaign"),
    (NotFoundError, "the account was not found"),
    (RateLimitError, "too many requests, try again in a moment"),
    (ServerError, "the server failed"),
    (TransportError, "no answer from the server"),
)


def reason(error: BaseException | None, action: str = "create") -> str:
    """What went wrong, in plain words, with the server's own message."""
    if isinstance(error, AlsonaError):
        what = next(
            (words for kind, words in _ERROR_WORDS if isinstance(error, kind)),
            "unexpected answer from the server",
        )
        if action != "create" and isinstance(error, NotFoundError):
            what = "the campaign was not found"
        status = f" (HTTP {error.status_code})" if error.status_code else ""
        return f"{what}{status}: {error.message}".rstrip(". ")
    if isinstance(error, ValidationError):
        return "; ".join(text for _key, text in problems(error))
    return str(error)


_VERB = {"create": "created", "update": "updated", "delete": "deleted"}
_BUTTON = {"create": "Create campaign", "update": "Update campaign", "delete": "Delete"}


def _about(campaign: Campaign | None, fallback: str, live: bool) -> str:
    where = "LIVE" if live else "the SANDBOX"
    if campaign is None:
        return f"campaign {fallback} in {where}"
    return (
        f"campaign “{campaign.name}” ({campaign.campaign_id}), status {campaign.status}, in {where}"
    )


def attempt_message(
    attempt: Attempt, *, live: bool, same_id: str | None
) -> tuple[str, str, str, bool]:
    """``(kind, text, css class, mark)`` for ``render.line``. ``same_id``: the campaign id a
    new press would re-send after an unknown outcome (``None`` when there is none)."""
    action = str(attempt.action)
    verb = _VERB.get(action, "done")
    settled = attempt.settled
    campaign = attempt.campaign or getattr(attempt.prepared, "based_on", None)
    if attempt.ok:
        what = _about(campaign, str(attempt.campaign_id or ""), live)
        text = f"{verb.capitalize()} {what}."
        if attempt.diff:
            text = f"{verb.capitalize()} {what}: {', '.join(attempt.diff)} changed."
        if settled:
            text = (
                f"{verb.capitalize()} {what}: the answer was lost, so the server was asked "
                f"({settled})."
            )
        if attempt.journal_error is not None:  # it happened: say so first, then this
            text += f" But the results journal was not written: {attempt.journal_error.message}."
        return "ok", text, "alsona-message-ok", not settled
    why = reason(attempt.error, action)
    if isinstance(attempt.error, ConflictError):
        fields = ", ".join(attempt.error.changed) or "some fields"
        text = (
            f"Not {verb}: someone else changed this campaign since the form read it "
            f"({fields}). Nothing was sent: reload their version, or overwrite it with yours."
        )
        return "warn", text, "alsona-message-conflict", True
    if str(attempt.outcome) == "unknown":
        # Never "Not created" here: that would invite a second campaign.
        if action != "create":
            again = f" Press {_BUTTON[action]} again: it repeats the same request."
        elif same_id:
            again = (
                f" Press Create campaign again: it re-sends the same campaign id {same_id}, "
                "so it cannot make a second one."
            )
        else:
            again = " Look at the account's campaigns before trying again."
        return (
            "warn",
            f"Unclear whether it was {verb}: {why}.{again}",
            "alsona-message-unsure",
            True,
        )
    if settled:
        text = (
            f"Not {verb}: the answer was lost, and the server says it was not done "
            f"({settled}). Press {_BUTTON.get(action, 'the button')} to try again."
        )
        return "error", text, "alsona-message-error", False
    return "error", f"Not {verb}: {why}.", "alsona-message-error", True


def exists_message(campaign: Campaign, *, live: bool) -> str:
    """After an unclear create and a change: the earlier press made the campaign."""
    return (
        f"The earlier press did create {_about(campaign, campaign.campaign_id, live)}: "
        "the server has it. The form now edits it, and your changes since are listed as "
        "changes to send: press Update campaign to send them."
    )


def result_row(attempt: Attempt, label: Callable[[str], str]) -> dict[str, Any]:
    """One row of the form's table (see ``render.results_html``); ``label`` names a seat id."""
    draft, campaign = attempt.draft, attempt.campaign
    source: Any = campaign or draft or getattr(attempt.prepared, "based_on", None)
    action = str(attempt.action)
    verb = _VERB.get(action, "done")
    outcome = str(attempt.outcome)
    if attempt.ok:
        result = verb
    else:
        why = reason(attempt.error, action)
        result = f"unclear: {why}" if outcome == "unknown" else f"not {verb}: {why}"
    seats = draft.seats if draft is not None else getattr(source, "seats", None) or ()
    return {
        "when": attempt.started_at.astimezone().strftime("%H:%M:%S"),
        "name": source.name if source is not None else None,
        "status": str(source.status) if source is not None else None,
        "seats": [label(s) for s in seats],
        "campaign_id": attempt.campaign_id,
        "kind": "ok" if attempt.ok else {"unknown": "warn"}.get(outcome, "error"),
        "result": result,
    }


def journal_row(row: Mapping[str, Any], label: Callable[[str], str]) -> dict[str, Any]:
    """A row of the form's table from a journal row (``ResultsLog.rows``): what was sent
    before this form opened."""
    when = row.get("when")
    try:
        shown = datetime.fromisoformat(str(when)).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        shown = ""
    action = str(row.get("action") or "create")
    outcome = str(row.get("outcome") or "")
    ok = bool(row.get("ok"))
    message = row.get("error_message")
    result = _VERB.get(action, outcome) if ok else outcome + (f": {message}" if message else "")
    return {
        "when": shown,
        "name": row.get("name"),
        "status": row.get("status"),
        "seats": [label(str(s)) for s in row.get("seats") or ()],
        "campaign_id": row.get("campaign_id"),
        "kind": "ok" if ok else {"unknown": "warn"}.get(outcome, "error"),
        "result": result,
    }
