"""Every way a call can fail, as one exception tree under ``AlsonaError``::

    AlsonaError
    ├── APIError                 the server or the network said no (or said nothing)
    │   ├── BadRequestError      400 / 422
    │   ├── AuthenticationError  401 (or no usable key)
    │   ├── PermissionDeniedError 403
    │   ├── NotFoundError        404
    │   ├── ConflictError        someone changed the campaign since it was read
    │   ├── RateLimitError       429
    │   ├── ServerError          5xx
    │   ├── TransportError       no answer; ``.kind`` says why (a ``TransportKind``)
    │   └── UnexpectedResponseError  an answer that is not a valid success
    ├── InputError (ValueError)  bad arguments; nothing was sent
    │   └── InvalidDraftError    the campaign itself is not valid
    ├── JournalError             the results journal could not be written or read
    ├── NotSentError             never sent (an invalid row, a stopped batch)
    └── BatchInterruptedError    a batch stopped while this request was in flight

Every field is set when the error is built; no error holds the API key, and none is raised
with an underlying ``requests`` exception in its ``__cause__`` or ``__context__`` (those keep
the prepared request, headers included).
"""

from __future__ import annotations

import json
import warnings
from enum import Enum
from http import HTTPStatus
from typing import Any

_EXCERPT_CHARS = 300


class AlsonaError(Exception):
    """Base of every error this package raises.

    ``status_code`` is the HTTP status (``None`` when no answer came), ``message`` a readable
    sentence, ``error`` the server's short error code when it sent one, ``body_excerpt``
    the first few hundred characters of what the server sent, and ``maybe_created`` is true
    when the change may have happened despite the error (its answer was lost and the server
    could not be asked): check before doing it again.
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


# Python's own once-per-location registry: under the default filter a notice repeated in a
# loop is shown once, and a user's "always" filter still shows every one.
_REGISTRY: dict[Any, Any] = {}


def notify(message: str) -> None:
    """Tell the user something as an ``AlsonaWarning``, attributed to ``alsona_nb`` rather
    than to a file of this machine (so no path lands in a notebook's output); the same
    notice is shown once under the default warning filter."""
    warnings.warn_explicit(
        message, AlsonaWarning, "alsona_nb", 0, module="alsona_nb", registry=_REGISTRY
    )


# -- errors from the API ------------------------------------------------------------------


class APIError(AlsonaError):
    """A call to the API failed: the server refused it, or no usable answer came."""


class BadRequestError(APIError):
    """400 or 422: the server refused the campaign as sent."""


class AuthenticationError(APIError):
    """401, or no usable API key: the key is missing or wrong."""


class PermissionDeniedError(APIError):
    """403: the key may not act on this account."""


class NotFoundError(APIError):
    """404: no such account, campaign or path on this server."""


class ConflictError(APIError):
    """Someone changed the campaign since the update was prepared; nothing was sent.

    ``changed`` maps each field that moved to ``(as the update was based on, as it is
    now)``; ``current`` is the campaign as it is now. Prepare the update again from
    ``current``, or send it with ``overwrite=True``.
    """

    def __init__(self, message: str, *, changed: dict[str, tuple[Any, Any]], current: Any):
        super().__init__(message)
        self.changed = changed
        self.current = current


class RateLimitError(APIError):
    """429: too many requests; still refused after waiting as the server asked."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: the server or a gateway in front of it failed."""


class TransportKind(str, Enum):
    """Why no full answer came."""

    REFUSED = "refused"  # the connection was refused
    DNS = "dns"  # the host name did not resolve
    CONNECT_TIMEOUT = "connect_timeout"
    PROXY = "proxy"  # the proxy refused or failed
    TLS = "tls"  # the certificate or handshake failed
    TIMEOUT = "timeout"  # no full answer within the deadline
    DROPPED = "dropped"  # the connection closed before a full answer
    TOO_LARGE = "too_large"  # the answer was over the size cap
    ERROR = "error"  # anything else

    def __str__(self) -> str:
        return self.value


class TransportError(APIError):
    """No answer came: connection refused, name not resolved, dropped, timed out...

    ``kind`` (a ``TransportKind``) says which, as data. One class with a kind rather than a
    subclass per kind: callers branch on "no answer" far more often than on its cause, and
    the kind lands as a plain value in result frames."""

    def __init__(self, message: str, *, kind: TransportKind, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.kind = kind


class UnexpectedResponseError(APIError):
    """An answer that is not a valid success: empty, not JSON, ``success: false``, no
    campaign, a redirect, or a status this client does not know."""


# -- input, journal and batch errors --------------------------------------------------------


class InputError(AlsonaError, ValueError):
    """An argument is not usable (an id with spaces, no account); nothing was sent."""


class InvalidDraftError(InputError):
    """The campaign is not valid; nothing was sent.

    ``problems`` lists ``(field, sentence)`` pairs in plain words (see ``problems()``).
    """

    def __init__(self, message: str, *, problems: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class JournalError(AlsonaError):
    """The results journal could not be written or read (the campaign itself, if one was
    created, is still returned or shown)."""


class NotSentError(AlsonaError):
    """The campaign was never sent: its row was invalid, or the batch stopped before it."""


class BatchInterruptedError(AlsonaError):
    """The batch was interrupted while this request was in flight: the campaign may or may
    not exist (``client.reconcile`` asks the server)."""

    def __init__(self, message: str, **kw: Any) -> None:
        kw.setdefault("maybe_created", True)
        super().__init__(message, **kw)


# -- building the error for an answer -------------------------------------------------------


def excerpt(text: str) -> str | None:
    """The first few hundred characters of ``text``, white space folded; ``None`` if empty."""
    text = " ".join(text.split())
    if not text:
        return None
    return text if len(text) <= _EXCERPT_CHARS else text[: _EXCERPT_CHARS - 1] + "…"


def error_from_response(
    status: int,
    body: bytes,
    content_type: str,
    *,
    note: str = "",
    maybe_created: bool = False,
    retry_after: float | None = None,
) -> APIError:
    """The typed error for a non-2xx answer. Either error body shape is read
    (``{error, message}`` or ``{success: false, message}``); an HTML page from a gateway
    or an empty body still gives a clear message. ``note`` is appended (what was done)."""
    text = body.decode("utf-8", errors="replace")
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
        reason = _reason(status)
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
        "body_excerpt": excerpt(text),
        "maybe_created": maybe_created,
    }
    if cls is RateLimitError:
        kw["retry_after"] = retry_after
    return cls(message + note, **kw)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unexpected answer"


def _class_for(status: int) -> type[APIError]:
    if status in (400, 422):
        return BadRequestError
    if 500 <= status <= 599:
        return ServerError
    return _BY_STATUS.get(status, UnexpectedResponseError)


_BY_STATUS: dict[int, type[APIError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}
