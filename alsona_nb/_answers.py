"""What an answer (or its absence) means for a call: a campaign, a verdict, or the one error."""

from __future__ import annotations

import json

from pydantic import BaseModel, ValidationError

from ._errors import AlsonaError, TransportError, UnexpectedResponseError, error_from_response
from ._http import Answer, NoAnswer, Outcome
from ._models import Campaign
from ._retry import parse_retry_after

REFUSED = (429, 503)  # the gateway refused before doing anything: safe to send again
UNKNOWN_STATUS = (500, 502, 504)  # failed somewhere, perhaps after creating
NOT_REACHED = ("refused", "dns", "connect_timeout", "proxy")  # worth another try
NO_ANSWER_WORDS = {
    "refused": "could not connect to {url} (connection refused)",
    "dns": "could not resolve the host of {url}",
    "connect_timeout": "could not connect to {url} within {t:g} s",
    "proxy": "could not connect to {url} through the proxy",
    "tls": "{detail} for {url}; nothing was sent",
    "timeout": "no full answer from {url} within {t:g} s",
    "dropped": "the connection to {url} was dropped before a full answer",
    "too_large": "the answer from {url} was too large to read ({detail})",
    "error": "the request to {url} failed ({detail})",
}


class _SuccessAnswer(BaseModel):
    success: bool | None = None
    campaign: Campaign


def judge_create(outcome: Outcome) -> tuple[Campaign | None, str]:
    """A try's verdict: the campaign, or ``refused`` (safe to send again), ``unknown``
    (it may have been created) or ``final``."""
    if isinstance(outcome, NoAnswer):
        if outcome.reached_server:
            return None, "unknown"
        return None, "refused" if outcome.kind in NOT_REACHED else "final"
    if 200 <= outcome.status < 300:
        campaign = read_campaign(outcome.body)
        return (campaign, "done") if campaign is not None else (None, success_false(outcome))
    if outcome.status in REFUSED:
        return None, "refused"
    if outcome.status in UNKNOWN_STATUS or 500 <= outcome.status < 600:
        return None, "unknown"
    return None, "final"


def error_for(
    outcome: Outcome, base_url: str, timeout: float, note: str, *, maybe_created: bool
) -> AlsonaError:
    """The one error for the last try of a call, ``note`` (what was done about it) added."""
    if isinstance(outcome, NoAnswer):
        what = NO_ANSWER_WORDS.get(outcome.kind, NO_ANSWER_WORDS["error"]).format(
            url=base_url, t=timeout, detail=outcome.detail
        )
        return TransportError(what + note, maybe_created=maybe_created)
    status = outcome.status
    if 300 <= status < 400:
        return UnexpectedResponseError(
            f"the server redirected to {outcome.headers.get('Location')!r}; check base_url "
            "(redirects are not followed: the key would travel)" + note,
            status_code=status,
            maybe_created=maybe_created,
        )
    if 200 <= status < 300:
        return unreadable_success(outcome, note, maybe_created)
    return error_from_response(
        status,
        outcome.body,
        outcome.headers.get("Content-Type", ""),
        note=note,
        maybe_created=maybe_created,
        retry_after=retry_after(outcome),
    )


def retry_after(outcome: Outcome) -> float | None:
    if isinstance(outcome, Answer):
        return parse_retry_after(outcome.headers.get("Retry-After"))
    return None


def read_campaign(body: bytes) -> Campaign | None:
    """The campaign of a success answer, or ``None`` when the answer is not one."""
    try:
        answer = _SuccessAnswer.model_validate_json(body)
    except ValidationError:
        return None
    return answer.campaign if answer.success is not False else None


def success_false(answer: Answer) -> str:
    """A 2xx that is not a readable success: ``final`` when it says ``success: false``
    (nothing was created), ``unknown`` when it cannot be read."""
    try:
        data = json.loads(answer.body)
    except ValueError:
        return "unknown"
    return "final" if isinstance(data, dict) and data.get("success") is False else "unknown"


def unreadable_success(answer: Answer, note: str, maybe_created: bool) -> AlsonaError:
    text = answer.body.decode("utf-8", errors="replace")
    excerpt = " ".join(text.split())[:300] or None
    status = answer.status
    try:
        data = json.loads(text) if text.strip() else None
    except ValueError:
        return UnexpectedResponseError(
            "the server answered success but the body is not JSON" + note,
            status_code=status,
            maybe_created=maybe_created,
            body_excerpt=excerpt,
        )
    if data is None:
        what = "the server answered success with an empty body"
    elif isinstance(data, dict) and data.get("success") is False:
        message = data.get("message")
        what = f"the server answered success: false ({message or 'no message'})"
    elif not isinstance(data, dict) or not isinstance(data.get("campaign"), dict):
        what = "the server's answer has no campaign in it"
    else:
        what = "the server's campaign is missing fields or has invalid ones"
    return UnexpectedResponseError(
        what + note,
        status_code=status,
        maybe_created=maybe_created,
        body_excerpt=excerpt,
        error=data.get("error")
        if isinstance(data, dict) and isinstance(data.get("error"), str)
        else None,
    )
