"""An in-process transport: a ``requests`` adapter that answers by calling the sandbox's
``serve`` directly, with no socket, for fast tests. Faults act as they would over HTTP: a
drop raises ``requests.ConnectionError``, a cut answer fails while its body is read (as over
HTTP, ``requests.exceptions.ChunkedEncodingError``), and a wait longer than the read timeout
raises ``requests.ReadTimeout`` at once, without sleeping (after carrying the request out
when the fault says so)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3 import HTTPResponse
from urllib3.exceptions import ProtocolError

from ._actions import Delivery
from ._answer import Incoming, Reply, Servable, reason


class SandboxAdapter(BaseAdapter):
    """Answers a ``requests.Session``'s requests from ``sandbox`` in process.

    Mount it with ``sandbox.mount(session)`` (which returns the base URL it serves).
    """

    def __init__(self, sandbox: Servable) -> None:
        super().__init__()
        self.sandbox = sandbox

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Reply ``request``; raises ``requests.ConnectionError`` or ``ReadTimeout`` as
        the faults say."""
        url = str(request.url)
        parts = urlsplit(url)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        read_timeout = _read_timeout(timeout)
        incoming = Incoming(
            str(request.method),
            path,
            dict(request.headers),
            _body_bytes(request.body),
            patience=read_timeout,
        )
        answer = self.sandbox.serve(incoming)
        if answer.action is Delivery.DROP:
            raise requests.ConnectionError(
                ProtocolError("Connection aborted.", "Remote end closed connection"),
                request=request,
            )
        if answer.action in (Delivery.SEND, Delivery.CLOSE):
            return self._response(request, answer, answer.body)
        if answer.action is Delivery.CUT:
            return self._response(request, answer, answer.body[: len(answer.body) // 2])
        raise requests.ReadTimeout(
            f"{parts.netloc}: Read timed out. (read timeout={read_timeout})", request=request
        )

    def _response(
        self, request: requests.PreparedRequest, answer: Reply, sent: bytes
    ) -> requests.Response:
        headers = {"X-Alsona-Sandbox": "true", **answer.headers}
        headers["Content-Length"] = str(len(answer.body))
        phrase = reason(answer.status)
        raw = HTTPResponse(
            body=io.BytesIO(sent),
            headers=headers,
            status=answer.status,
            reason=phrase,
            preload_content=False,
            decode_content=False,
            enforce_content_length=True,
            request_method=request.method,
            request_url=request.url,
        )
        response = requests.Response()
        response.status_code = answer.status
        response.headers = CaseInsensitiveDict(headers)
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = raw
        response.reason = phrase
        response.url = str(request.url)
        response.request = request
        response.connection = self  # type: ignore[assignment]
        return response

    def close(self) -> None:
        """Nothing to close: there is no connection."""


def _read_timeout(timeout: Any) -> float | None:
    """The read part of a ``requests`` timeout (a number, a pair, or a urllib3 Timeout)."""
    if isinstance(timeout, tuple):
        timeout = timeout[1]
    read = getattr(timeout, "read_timeout", timeout)
    return float(read) if isinstance(read, (int, float)) else None


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if isinstance(body, Iterable):
        return b"".join(c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in body)
    return bytes(body)
