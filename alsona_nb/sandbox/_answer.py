"""The sandbox's seam: a request as it arrives (``Incoming``), what the sandbox keeps of it
(``ReceivedRequest``) and what it answers (``Reply``, with the ``Delivery`` a shell carries
out), plus the JSON helpers every answer is built with."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Protocol

from ._actions import Delivery

#: Reads a request's body on demand; raises ``UnreadableBody`` when it cannot be read.
BodyReader = Callable[[], bytes]


class UnreadableBody(Exception):
    """A body that cannot be read (a bad or absurd length, chunked, never sent), with the
    status and message to refuse it with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Incoming:
    """A request as it arrives at the sandbox.

    ``body`` is the bytes, or a ``BodyReader`` the sandbox calls only once it knows it can
    serve the request (so a request without a valid key is refused unread). ``patience`` is
    how many seconds the client waits for an answer (``None``: as long as it takes); a wait
    longer than that ends with ``Delivery.GONE`` at once, without sleeping.
    """

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes | BodyReader = b""
    patience: float | None = None


@dataclass
class ReceivedRequest:
    """What the sandbox kept of one request (the API key itself is never kept).

    ``body`` is the body parsed as JSON, ``None`` when it was not JSON, was never read (a
    refused key, an unknown route) or was too large to keep; ``body_size`` is how many bytes
    were read. ``status`` is what the client was sent (``None`` when it got no full answer).
    """

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    key_ok: bool
    status: int | None = None
    body_size: int = 0


@dataclass
class Reply:
    """One answer. It unpacks as ``status, headers, body = answer``.

    ``action`` says what the shell does with it (send it, send it and close, drop the
    connection, cut it, hang up); ``record`` is what the sandbox kept of the request.
    """

    status: int
    headers: dict[str, str]
    body: bytes
    record: ReceivedRequest | None = field(default=None, repr=False, compare=False)
    action: Delivery = Delivery.SEND

    def __iter__(self) -> Iterator[Any]:
        return iter((self.status, self.headers, self.body))

    def json(self) -> Any:
        """The body parsed as JSON (raises ``ValueError`` when it is not JSON)."""
        return json.loads(self.body)


class Servable(Protocol):
    """What the HTTP server and the in-process adapter need of a sandbox."""

    body_read_timeout: float

    def serve(self, request: Incoming) -> Reply:
        """Reply one request, never raising for what a client sends."""
        ...  # pragma: no cover


SANDBOX_HEADERS = {"Content-Type": "application/json", "X-Alsona-Sandbox": "true"}


def json_answer(status: int, data: Any, headers: Mapping[str, str] | None = None) -> Reply:
    """A JSON answer with the sandbox's usual headers."""
    return Reply(status, {**SANDBOX_HEADERS, **(headers or {})}, json.dumps(data).encode())


def error_answer(status: int, error: str, message: str) -> Reply:
    """An error in the ``{"error": ..., "message": ...}`` shape (create's 400 and 401)."""
    return json_answer(status, {"error": error, "message": message})


def failure_answer(status: int, message: str, headers: Mapping[str, str] | None = None) -> Reply:
    """An error in the ``{"success": false, "message": ...}`` shape (404, 405, refusals)."""
    return json_answer(status, {"success": False, "message": message}, headers)


def reason(status: int) -> str:
    """The reason phrase ``http.HTTPStatus`` has for ``status`` (``""`` for an unknown one)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def parse_json(raw: bytes) -> Any:
    """``json.loads`` that raises only ``ValueError`` (also for absurdly deep nesting)."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None


def json_or_none(raw: bytes) -> Any:
    """The body parsed, or ``None`` when it is not JSON."""
    try:
        return parse_json(raw)
    except ValueError:
        return None
