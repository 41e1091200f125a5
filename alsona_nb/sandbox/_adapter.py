"""An in-process transport: a ``requests`` adapter that answers by calling the sandbox
directly, with no socket, for fast tests. Faults act as they would over HTTP: a drop raises
``requests.ConnectionError``, a cut answer fails while its body is read (as over HTTP,
``requests.exceptions.ChunkedEncodingError``), and a stall longer than the read timeout
raises ``requests.ReadTimeout`` at once (after handling the request if ``after_create``)."""

from __future__ import annotations

import io
import time
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3 import HTTPResponse
from urllib3.exceptions import ProtocolError

from ._answer import Answer
from ._sandbox import ANSWER, CUT, DROP

if TYPE_CHECKING:  # pragma: no cover
    from ._sandbox import Sandbox


class SandboxAdapter(BaseAdapter):
    """Answers a ``requests.Session``'s requests from ``sandbox`` in process.

    Mount it with ``sandbox.mount(session)`` (which returns the base URL it serves).
    """

    def __init__(self, sandbox: Sandbox) -> None:
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
        """Answer ``request``; raises ``requests.ConnectionError`` or ``ReadTimeout`` as
        the faults say."""
        url = str(request.url)
        parts = urlsplit(url)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        read_timeout = _read_timeout(timeout)
        waited = 0.0

        def wait(seconds: float) -> bool:
            nonlocal waited
            waited += seconds
            if read_timeout is not None and waited > read_timeout:
                return True
            time.sleep(seconds)
            return False

        outcome, answer, _ = self.sandbox._serve(
            str(request.method), path, dict(request.headers), _body_bytes(request.body), wait
        )
        if outcome == DROP:
            raise requests.ConnectionError(
                ProtocolError("Connection aborted.", "Remote end closed connection"),
                request=request,
            )
        if outcome == ANSWER and answer is not None:
            return self._response(request, answer, answer.body)
        if outcome == CUT:
            whole = answer.body if answer is not None else b'{"success": true, "campaign": {"na'
            cut = Answer(200, {"Content-Type": "application/json"}, whole)
            return self._response(request, cut, whole[: len(whole) // 2])
        raise requests.ReadTimeout(
            f"{parts.netloc}: Read timed out. (read timeout={read_timeout})", request=request
        )

    def _response(
        self, request: requests.PreparedRequest, answer: Answer, sent: bytes
    ) -> requests.Response:
        headers = {"X-Alsona-Sandbox": "true", **answer.headers}
        headers["Content-Length"] = str(len(answer.body))
        reason = HTTPStatus(answer.status).phrase if answer.status in _KNOWN else ""
        raw = HTTPResponse(
            body=io.BytesIO(sent),
            headers=headers,
            status=answer.status,
            reason=reason,
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
        response.reason = reason
        response.url = str(request.url)
        response.request = request
        response.connection = self  # type: ignore[assignment]
        return response

    def close(self) -> None:
        """Nothing to close: there is no connection."""


_KNOWN = {status.value for status in HTTPStatus}


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
