"""The HTTP shell: a threading server on loopback that hands each request to the sandbox's
``serve`` and carries out the answer's ``Delivery``: send it, send it and close, drop the
connection, or send half of it.

The body is not read until the sandbox asks for it, so a request it refuses from its head
(no valid key, no route) is never read into memory. Bodies are read defensively: a bad or
absurd ``Content-Length``, a chunked body or one that never arrives is refused with a 4xx
and the connection closed, never a traceback.
"""

from __future__ import annotations

import contextlib
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ._actions import Delivery
from ._answer import BodyReader, Incoming, Reply, Servable, UnreadableBody, reason

MAX_BODY_BYTES = 1 << 20  # larger bodies are refused (413) without being read
BODY_READ_TIMEOUT = 2.0  # seconds a client may take to send the body it announced
_DIGITS = re.compile(r"[0-9]{1,19}")
_DRAIN_CHUNK = 1 << 16


def start_server(servable: Servable, host: str, port: int) -> HttpServer:
    """Bind, then serve ``servable`` in a daemon thread. Raises ``OSError`` when binding
    fails."""
    cls = HttpServer6 if ":" in host else HttpServer
    server = cls((host, port), _Handler)
    server.servable = servable
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="alsona-sandbox",
        daemon=True,
    )
    thread.start()
    return server


class HttpServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its open connections, to end them on stop."""

    daemon_threads = True
    request_queue_size = 128
    servable: Servable

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.open_connections: set[socket.socket] = set()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        """Serve one connection, noting it as open meanwhile."""
        self.open_connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.open_connections.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Report errors, except a client that timed out or hung up (part of the game)."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """End kept-alive connections too, so a stopped sandbox answers nothing more."""
        for conn in list(self.open_connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class HttpServer6(HttpServer):
    """The same over IPv6."""

    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real API would offer
    server: HttpServer
    server_version = "AlsonaSandbox"
    timeout = 60  # idle keep-alive connections close after a minute
    # Headers and body go out in two writes; with Nagle on, delayed ACKs add ~40 ms to each.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the sandbox runs inside notebooks and tests

    def _dispatch(self) -> None:
        self._unread: int | None = 0  # bytes of body still in the socket (None: unknown)
        request = Incoming(self.command, self.path, dict(self.headers.items()), self._body())
        answer = self.server.servable.serve(request)
        if answer.action is Delivery.SEND:
            self._send(answer)
        elif answer.action is Delivery.CLOSE:
            self._send(answer, close=True)
            self._drain_and_close()
        elif answer.action is Delivery.CUT:
            self._cut(answer)
        else:  # DROP, or GONE: the client gave up, or the sandbox is stopping
            self._hang_up()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    def _body(self) -> bytes | BodyReader:
        """The body when there is none to read, else a reader the sandbox calls once it
        means to serve the request."""
        if "Transfer-Encoding" in self.headers:
            self._unread = None
            return _refusing(411, "send the body with a Content-Length, not chunked")
        announced = self.headers.get("Content-Length")
        if announced is None:
            return b""
        if not _DIGITS.fullmatch(announced.strip()):
            self._unread = None
            return _refusing(400, "Content-Length is not a number of bytes")
        length = int(announced.strip())
        if length == 0:
            return b""
        self._unread = length
        if length > MAX_BODY_BYTES:
            return _refusing(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
        return lambda: self._read(length)

    def _read(self, length: int) -> bytes:
        """Read the announced body; raises ``UnreadableBody`` when it does not all come in
        time."""
        data: bytes | None = None
        try:
            self.connection.settimeout(self.server.servable.body_read_timeout)
            data = self.rfile.read(length)
            self.connection.settimeout(self.timeout)
        except OSError:  # TimeoutError included: the body never came
            pass
        if data is None or len(data) < length:
            raise UnreadableBody(400, "the body is shorter than its Content-Length")
        self._unread = 0
        return data

    def _send(self, answer: Reply, *, close: bool = False) -> None:
        self.send_response(answer.status, reason(answer.status))
        headers = {"X-Alsona-Sandbox": "true", **answer.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        if close:
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(answer.body)

    def _drain_and_close(self) -> None:
        """After an answer that ends the connection: say so (FIN), then discard what the
        client still sends of its body (so it reads the answer instead of a reset), for a
        bounded time and never more than it announced; nothing is kept."""
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            left = self._unread
            deadline = time.monotonic() + self.server.servable.body_read_timeout
            while left is None or left > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.connection.settimeout(remaining)
                chunk = self.connection.recv(
                    _DRAIN_CHUNK if left is None else min(left, _DRAIN_CHUNK)
                )
                if not chunk:
                    break
                if left is not None:
                    left -= len(chunk)
        self._hang_up()

    def _cut(self, answer: Reply) -> None:
        """The head of the answer and half its body, then the connection closes."""
        body = answer.body
        head = f"HTTP/1.1 {answer.status} {reason(answer.status)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in answer.headers.items())
        head += f"Content-Length: {len(body)}\r\n\r\n"
        with contextlib.suppress(OSError):
            self.wfile.write(head.encode() + body[: len(body) // 2])
            self.wfile.flush()
        self._hang_up()

    def _hang_up(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _refusing(status: int, message: str) -> BodyReader:
    """A reader that refuses the body, for one the server will not read."""

    def refuse() -> bytes:
        raise UnreadableBody(status, message)

    return refuse
