"""Shared fixtures: one real sandbox server on loopback for the session (reset before each
test), clients bound to it over real HTTP or in process, and a fake clock for retries."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator

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


@pytest.fixture(scope="session")
def _sandbox_server() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


@pytest.fixture
def sandbox(_sandbox_server: Sandbox) -> Sandbox:
    """The session's sandbox, emptied and back to its defaults."""
    _sandbox_server.reset()
    return _sandbox_server


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
    """A client of the sandbox through the in-process adapter (no socket)."""
    with sandbox.client(
        in_process=True, timeout=5.0, clock=fake_time.clock, sleep=fake_time.sleep
    ) as c:
        yield c


@pytest.fixture(scope="session")
def untrusted_https() -> Iterator[str]:
    """An HTTPS server on loopback whose certificate no one trusts."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)

    def serve(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError, ssl.SSLError):  # the handshake fails
            context.wrap_socket(conn, server_side=True).close()

    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                conn, _ = listener.accept()
                threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    listener.close()


@pytest.fixture
def draft() -> CampaignDraft:
    return CampaignDraft(
        name="Q3 founders outreach",
        seats=["seat_6a13e661ecc6a86e3fb7"],
        schedule=WeeklySchedule.weekdays(9, 17),
        timezone=-300,
    )
