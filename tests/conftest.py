"""Shared fixtures: one real sandbox server on loopback for the session (reset before each
test), one sandbox reached only in process, clients bound to them, a fake clock for retries,
and one loopback accept loop for the small servers that misbehave on purpose."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import trustme

from alsona_nb import AlsonaClient, CampaignDraft, Sandbox, WeeklySchedule

# What a person must never be shown: pydantic's words, or where in the data a problem sits.
JARGON = (
    "input should",
    "validation error",
    "value error",
    "field required",
    "greater than or equal",
    "less than or equal",
    "list should have",
    "should be a valid",
    "instance of",
    "errors.pydantic.dev",
    "[type=",
    "input_value",
    "schedule.",
    "seats.",
    "campaign.",
    "should have at least",
    "traceback",
)


class FakeTime:
    """A clock that only moves when slept on (or when a test moves ``now``); ``sleeps``
    records every wait asked for. Calling it, or ``clock()``, reads it. Thread-safe."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    __call__ = clock

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(0.0, seconds)


@pytest.fixture(autouse=True)
def _no_live_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may pick up a real key, host or proxy from the developer's shell."""
    for name in ("ALSONA_API_KEY", "ALSONA_ACCOUNT_ID", "ALSONA_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("NO_PROXY", "no_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


# -- sandboxes and clients ----------------------------------------------------------------


@pytest.fixture(scope="session")
def _sandbox_server() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


@pytest.fixture
def sandbox(_sandbox_server: Sandbox) -> Sandbox:
    """The session's sandbox over HTTP on loopback, emptied and back to its defaults."""
    _sandbox_server.reset()
    return _sandbox_server


@pytest.fixture(scope="session")
def offline_sandbox() -> Iterator[Sandbox]:
    """The session's sandbox without a server, reached in process only (no socket); it
    counts what reaches it, so a test can tell that nothing was sent. Not reset between
    tests (hypothesis tests share it): compare counts before and after."""
    sb = Sandbox(account_id="account_prep")
    yield sb
    sb.stop()


@pytest.fixture(scope="session")
def prep(offline_sandbox: Sandbox) -> AlsonaClient:
    """A client of ``offline_sandbox``: for ``prepare`` and validation."""
    return offline_sandbox.client(in_process=True)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def client(sandbox: Sandbox, fake_time: FakeTime) -> Iterator[AlsonaClient]:
    """A client of the sandbox over real HTTP; its retry waits go to ``fake_time``."""
    with sandbox.client(timeout=5.0, clock=fake_time.clock, sleep=fake_time.sleep) as c:
        yield c


@pytest.fixture
def fast_client(sandbox: Sandbox, fake_time: FakeTime) -> Iterator[AlsonaClient]:
    """A client of the same sandbox through the in-process adapter (no socket)."""
    with sandbox.client(
        in_process=True, timeout=5.0, clock=fake_time.clock, sleep=fake_time.sleep
    ) as c:
        yield c


@pytest.fixture
def draft() -> CampaignDraft:
    return CampaignDraft(
        name="Q3 founders outreach",
        seats=["seat_6a13e661ecc6a86e3fb7"],
        schedule=WeeklySchedule.weekdays(9, 17),
        timezone=-300,
    )


# -- small servers on loopback ------------------------------------------------------------


@dataclass
class Listener:
    """A loopback server started by ``raw_server``: its base URL and how many connections
    it accepted."""

    url: str
    port: int
    accepted: int = 0


@contextlib.contextmanager
def raw_server(serve: Callable[[socket.socket], None]) -> Iterator[Listener]:
    """A loopback server that hands each accepted connection to ``serve`` (in its own
    thread; the connection is closed afterwards, socket errors ignored)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    found = Listener(f"http://127.0.0.1:{port}", port)
    stop = threading.Event()

    def guarded(conn: socket.socket) -> None:
        with contextlib.suppress(OSError, ssl.SSLError), conn:
            serve(conn)

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            found.accepted += 1
            threading.Thread(target=guarded, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        stop.set()
        thread.join()
        listener.close()


@pytest.fixture(scope="session")
def untrusted_https() -> Iterator[str]:
    """An HTTPS server on loopback whose certificate no one trusts."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)

    def serve(conn: socket.socket) -> None:
        context.wrap_socket(conn, server_side=True).close()  # the handshake fails

    with raw_server(serve) as server:
        yield server.url.replace("http://", "https://")


@dataclass
class Seen:
    """One request an ``EchoServer`` received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class EchoServer:
    """A small HTTP/1.1 server on loopback (keep-alive) that records every request and
    answers a create or a read with the campaign it was sent, as the API would."""

    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    connections: int = 0


def _echo_answer(seen: Seen) -> bytes:
    try:
        campaign = dict(json.loads(seen.body)["campaign"])
    except (ValueError, KeyError, TypeError):  # a read: a campaign of the account in the path
        account = seen.path.split("/")[3] if seen.path.count("/") >= 3 else "a"
        week = {day: [True, 9, 17] for day in ("monday", "tuesday", "wednesday")}
        campaign = {"name": "read", "seats": ["s"], "schedule": week, "account_id": account}
        campaign["status"] = "DRAFT"
    campaign.setdefault("campaign_id", "campaign_00000000000000000000")
    campaign.update(priority=1, wait_until=1)
    return json.dumps({"success": True, "campaign": campaign}).encode()


@pytest.fixture
def echo_server() -> Iterator[EchoServer]:
    """An ``EchoServer`` for this test."""
    server = EchoServer()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            server.connections += 1
            super().setup()

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            seen = Seen(self.command, self.path, dict(self.headers), self.rfile.read(length))
            server.seen.append(seen)
            body = _echo_answer(seen)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Set-Cookie", "from_server=1; Path=/")
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


#: What a copy of the repository for a test leaves out: environments, caches, build output,
#: journals (the packaging and Binder tests copy the tree).
NOT_COPIED = shutil.ignore_patterns(
    ".venv",
    ".venv-*",
    ".git",
    "__pycache__",
    "*.egg-info",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".hypothesis",
    ".ipynb_checkpoints",
    "test-artifacts",
    "build",
    "dist",
    "*.jsonl",
)
