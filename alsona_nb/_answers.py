"""What an answer (or its absence) means, for every call: one classifier and one error.

``judge`` gives every try a ``Verdict``; the call path (``_calls``) decides from it alone
whether to send again, and ``error_for`` builds the one error for a call that did not plainly
succeed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel, ValidationError

from ._errors import (
    APIError,
    TransportError,
    TransportKind,
    UnexpectedResponseError,
    error_from_response,
    excerpt,
)
from ._http import Answer, NoAnswer, Outcome
from ._models import Campaign
from ._retry import parse_retry_after


class Verdict(str, Enum):
    """What one try came to."""

    DONE = "done"  # a 2xx answer the call could read
    REFUSED = "refused"  # 429 or 503: refused before anything was done; safe to send again
    NOT_REACHED = "not reached"  # it never reached the server; safe to send again
    UNKNOWN = "unknown"  # it may have been applied: no full answer, a 5xx, an unreadable 2xx
    FINAL = "final"  # refused for good, nothing was done: 4xx, TLS, success: false, 3xx


#: Reads a 2xx answer into what the call wants, or ``None`` when it cannot.
Reader = Callable[[Answer], Any]

_NOT_REACHED = (
    TransportKind.REFUSED,
    TransportKind.DNS,
    TransportKind.CONNECT_TIMEOUT,
    TransportKind.PROXY,
)
_NO_ANSWER_WORDS = {
    TransportKind.REFUSED: "could not connect to {url} (connection refused)",
    TransportKind.DNS: "could not resolve the host of {url}",
    TransportKind.CONNECT_TIMEOUT: "could not connect to {url} within {t:g} s",
    TransportKind.PROXY: "could not connect to {url} through the proxy",
    TransportKind.TLS: "{detail} for {url}; nothing was sent",
    TransportKind.TIMEOUT: "no full answer from {url} within {t:g} s",
    TransportKind.DROPPED: "the connection to {url} was dropped before a full answer",
    TransportKind.TOO_LARGE: "the answer from {url} was too large to read ({detail})",
    TransportKind.ERROR: "the request to {url} failed ({detail})",
}


@dataclass(frozen=True)
class Judgement:
    """A try's verdict, and what the call read from a 2xx answer (when ``DONE``)."""

    verdict: Verdict
    value: Any = None


def judge(outcome: Outcome, read: Reader) -> Judgement:
    """The verdict on one try of any call; ``read`` turns a 2xx answer into the call's value."""
    if isinstance(outcome, NoAnswer):
        if outcome.reached_server:
            return Judgement(Verdict.UNKNOWN)
        return Judgement(Verdict.NOT_REACHED if outcome.kind in _NOT_REACHED else Verdict.FINAL)
    status = outcome.status
    if 200 <= status < 300:
        value = read(outcome)
        if value is not None:
            return Judgement(Verdict.DONE, value)
        return Judgement(Verdict.FINAL if _says_not_success(outcome) else Verdict.UNKNOWN)
    if status in (429, 503):
        return Judgement(Verdict.REFUSED)
    if 500 <= status < 600:
        return Judgement(Verdict.UNKNOWN)
    return Judgement(Verdict.FINAL)


def retry_after(outcome: Outcome) -> float | None:
    """The seconds an answer's ``Retry-After`` asks for (``None``: none, or not valid)."""
    if isinstance(outcome, Answer):
        return parse_retry_after(outcome.headers.get("Retry-After"))
    return None


class _SuccessAnswer(BaseModel):
    success: bool | None = None
    campaign: Campaign


def read_campaign(answer: Answer) -> Campaign | None:
    """The campaign of a success answer, or ``None`` when the answer is not one."""
    try:
        parsed = _SuccessAnswer.model_validate_json(answer.body)
    except ValidationError:
        return None
    return parsed.campaign if parsed.success is not False else None


def read_anything(answer: Answer) -> bool:
    """Any 2xx answer is a success (a delete's answer is not published)."""
    return True


def _says_not_success(answer: Answer) -> bool:
    try:
        data = json.loads(answer.body)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("success") is False


def error_for(
    outcome: Outcome, base_url: str, timeout: float, note: str, *, maybe_created: bool
) -> APIError:
    """The one error for the last try of a call, ``note`` (what was done about it) added."""
    if isinstance(outcome, NoAnswer):
        what = _NO_ANSWER_WORDS[outcome.kind].format(url=base_url, t=timeout, detail=outcome.detail)
        return TransportError(what + note, kind=outcome.kind, maybe_created=maybe_created)
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


def unreadable_success(answer: Answer, note: str, maybe_created: bool) -> APIError:
    """The error for a 2xx answer that is not the success the call expected."""
    text = answer.body.decode("utf-8", errors="replace")
    found: dict[str, Any] = {
        "status_code": answer.status,
        "maybe_created": maybe_created,
        "body_excerpt": excerpt(text),
    }
    try:
        data = json.loads(text) if text.strip() else None
    except ValueError:
        what = "the server answered success but the body is not JSON"
        return UnexpectedResponseError(what + note, **found)
    if data is None:
        what = "the server answered success with an empty body"
    elif isinstance(data, dict) and data.get("success") is False:
        what = f"the server answered success: false ({data.get('message') or 'no message'})"
    elif not isinstance(data, dict) or not isinstance(data.get("campaign"), dict):
        what = "the server's answer has no campaign in it"
    else:
        what = "the server's campaign is missing fields or has invalid ones"
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        found["error"] = data["error"]
    return UnexpectedResponseError(what + note, **found)
