"""Every way a call can fail, as one exception hierarchy under ``AlsonaError``.

Every field is set when the error is built; no error holds the API key, and none is raised
with an underlying ``requests`` exception in its ``__cause__`` or ``__context__`` (those keep
the prepared request, headers included).
"""

from __future__ import annotations

import json
import warnings
from typing import Any

_EXCERPT_CHARS = 300


class AlsonaError(Exception):
    """Base of every error this package raises for a call to the API.

    ``status_code`` is the HTTP status (``None`` when no answer came), ``message`` a readable
    sentence, ``error`` the server's short error code when it sent one, ``body_excerpt``
    the first few hundred characters of what the server sent, and ``maybe_created`` is true
    when the campaign may exist despite the error (its answer was lost or unreadable): check
    before creating it again.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error: str | None = None,
        body_excerpt: str | None = None,
        maybe_created: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.error = error
        self.body_excerpt = body_excerpt
        self.maybe_created = maybe_created

    def __str__(self) -> str:
        prefix = f"HTTP {self.status_code}: " if self.status_code is not None else ""
        return prefix + self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, message={self.message!r})"


class AlsonaWarning(UserWarning):
    """Notices for the user (which sandbox is used, rows held back, an interrupted batch):
    silence them with ``warnings.filterwarnings("ignore", category=AlsonaWarning)``."""


def notify(message: str) -> None:
    """Tell the user something as an ``AlsonaWarning``, attributed to ``alsona_nb`` rather
    than to a file of this machine (so no path lands in a notebook's output)."""
    warnings.warn_explicit(message, AlsonaWarning, "alsona_nb", 0, module="alsona_nb")


class InvalidDraftError(AlsonaError, ValueError):
    """The input is not a valid campaign; nothing was sent.

    ``problems`` lists ``(field, sentence)`` pairs in plain words (see ``problems()``).
    """

    def __init__(self, message: str, *, problems: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class NotSentError(AlsonaError):
    """The campaign was never sent: its row was invalid, or the batch stopped before it."""


class Interrupted(AlsonaError):
    """The batch was interrupted while this request was in flight: the campaign may or may
    not exist (``client.reconcile`` asks the server)."""

    def __init__(self, message: str, **kw: Any) -> None:
        kw.setdefault("maybe_created", True)
        super().__init__(message, **kw)


class JournalError(AlsonaError):
    """The results journal could not be written or read (the campaign itself, if one was
    created, is still returned or shown)."""


class BadRequestError(AlsonaError):
    """400 or 422: the server refused the campaign as sent."""


class AuthenticationError(AlsonaError):
    """401: the API key is missing or wrong."""


class PermissionDeniedError(AlsonaError):
    """403: the key may not act on this account."""


class NotFoundError(AlsonaError):
    """404: no such account, campaign or path on this server."""


class RateLimitError(AlsonaError):
    """429: too many requests; still refused after waiting as the server asked."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(AlsonaError):
    """5xx: the server or a gateway in front of it failed."""


class TransportError(AlsonaError):
    """No answer came: connection refused, name not resolved, dropped, or timed out."""


class UnexpectedResponseError(AlsonaError):
    """An answer that is not a valid success: empty, not JSON, ``success: false``, no
    campaign, a redirect, or a status this client does not know."""


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _EXCERPT_CHARS else text[: _EXCERPT_CHARS - 1] + "…"


def error_from_response(
    status: int,
    body: bytes,
    content_type: str,
    *,
    note: str = "",
    maybe_created: bool = False,
    retry_after: float | None = None,
) -> AlsonaError:
    """Build the typed error for a non-2xx answer, reading either error body shape (NOTES 2).

    ``note`` is appended to the message (what the client did about it)."""
    text = body.decode("utf-8", errors="replace")
    excerpt = _excerpt(text) if text.strip() else None
    error_code: str | None = None
    message: str | None = None
    try:
        data = json.loads(text) if text.strip() else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        if isinstance(data.get("error"), str):
            error_code = data["error"]
        if isinstance(data.get("message"), str) and data["message"].strip():
            message = data["message"].strip()
        elif error_code:
            message = error_code
    if message is None:
        reason = _REASONS.get(status, "unexpected answer")
        if "html" in content_type.lower() or text.lstrip().startswith("<"):
            message = f"{reason} (the server sent an HTML page, probably from a gateway)"
        elif text.strip():
            message = f"{reason} (the body was not the API's JSON error)"
        else:
            message = f"{reason} (empty body)"
    cls = _class_for(status)
    kw: dict[str, Any] = {
        "status_code": status,
        "error": error_code,
        "body_excerpt": excerpt,
        "maybe_created": maybe_created,
    }
    if cls is RateLimitError:
        kw["retry_after"] = retry_after
    return cls(message + note, **kw)


_REASONS = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    422: "Unprocessable request",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


def _class_for(status: int) -> type[AlsonaError]:
    if status in (400, 422):
        return BadRequestError
    if 500 <= status <= 599:
        return ServerError
    return _BY_STATUS.get(status, UnexpectedResponseError)


_BY_STATUS: dict[int, type[AlsonaError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}
