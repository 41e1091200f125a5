"""The HTTP shell: a threading server on loopback that reads a request, lets the sandbox
answer it (``Sandbox._serve``) and writes the answer, or misbehaves as a fault says.

Bodies are read defensively: a bad or absurd ``Content-Length``, a chunked body or one
that never arrives is refused with a 4xx and the connection closed, never a traceback.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from ._answer import Answer
from ._sandbox import ANSWER, CUT, DROP

if TYPE_CHECKING:  # pragma: no cover
    from ._sandbox import Sandbox

MAX_BODY_BYTES = 1 << 20  # larger bodies are refused (413) without being read
BODY_READ_TIMEOUT = 2.0  # seconds a client may take to send the body it announced
_DIGITS = re.compile(r"[0-9]{1,19}")


def serve(sandbox: Sandbox, host: str, port: int) -> _Server:
    """Bind, then serve in a daemon thread. Raises ``OSError`` when binding fails."""
    cls = _Server6 if ":" in host else _Server
    server = cls((host, port), _Handler)
    server.sandbox = sandbox
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="alsona-sandbox",
        daemon=True,
    )
    thread.start()
    return server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    sandbox: Sandbox

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.open_connections: set[socket.socket] = set()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        self.open_connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.open_connections.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out or hung up is part of the game here, not a server error.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """End kept-alive connections too, so a stopped sandbox answers nothing more."""
        for conn in list(self.open_connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real API would offer
    server: _Server
    server_version = "AlsonaSandbox"
    timeout = 60  # idle keep-alive connections close after a minute
    # Headers and body go out in two writes; with Nagle on, delayed ACKs add ~40 ms to each.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the sandbox runs inside notebooks and tests

    def _dispatch(self) -> None:
        sandbox = self.server.sandbox
        body = self._read_body()
        if body is None:
            return
        headers = dict(self.headers.items())
        outcome, answer, _ = sandbox._serve(self.command, self.path, headers, body, sandbox._wait)
        if outcome == ANSWER and answer is not None:
            self._send(answer)
        elif outcome == CUT:
            self._cut(answer)
        elif outcome == DROP:
            self._hang_up()
        else:  # GONE: the sandbox is stopping
            self._hang_up()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    def _read_body(self) -> bytes | None:
        """The body, or ``None`` after refusing the request (and closing the connection)."""
        if "Transfer-Encoding" in self.headers:
            return self._refuse(411, "send the body with a Content-Length, not chunked")
        announced = self.headers.get("Content-Length")
        if announced is None:
            return b""
        if not _DIGITS.fullmatch(announced.strip()):
            return self._refuse(400, "Content-Length is not a number of bytes")
        length = int(announced.strip())
        if length > MAX_BODY_BYTES:
            return self._refuse(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
        data: bytes | None = None
        try:
            self.connection.settimeout(BODY_READ_TIMEOUT)
            data = self.rfile.read(length)
            self.connection.settimeout(self.timeout)
        except OSError:  # TimeoutError included: the body never came
            pass
        if data is None or len(data) < length:
            return self._refuse(400, "the body is shorter than its Content-Length")
        return data

    def _refuse(self, status: int, message: str) -> bytes | None:
        sandbox = self.server.sandbox
        record = sandbox._receive(self.command, self.path, dict(self.headers.items()), b"")
        sandbox._settle(record, status)
        body = json.dumps({"success": False, "message": message}).encode()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self._send(Answer(status, {"Content-Type": "application/json"}, body), close=True)
        return None

    def _send(self, answer: Answer, *, close: bool = False) -> None:
        self.send_response(answer.status)
        headers = {"X-Alsona-Sandbox": "true", **answer.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(answer.body)

    def _cut(self, answer: Answer | None) -> None:
        """The head of a 200 and half its body, then the connection closes."""
        body = answer.body if answer is not None else b'{"success": true, "campaign": {"na'
        head = f"HTTP/1.1 200 {HTTPStatus(200).phrase}\r\nContent-Type: application/json\r\n"
        head += f"Content-Length: {len(body)}\r\n\r\n"
        with contextlib.suppress(OSError):
            self.wfile.write(head.encode() + body[: len(body) // 2])
            self.wfile.flush()
        self._hang_up()

    def _hang_up(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
