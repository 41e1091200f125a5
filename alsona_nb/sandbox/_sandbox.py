"""The sandbox's state and its pure request handler; the HTTP server and the in-process
adapter (``_server.py``, ``_adapter.py``) are thin shells over ``Sandbox.handle``."""

from __future__ import annotations

import secrets
import socket
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from ._answer import Answer, ReceivedRequest, json_answer, json_or_none
from ._faults import Fault, FaultQueue
from ._routes import route
from ._throttle import TokenBucket, retry_after

if TYPE_CHECKING:  # pragma: no cover
    import requests

    from .._client import AlsonaClient
    from ._server import _Server

DEFAULT_ACCOUNT_ID = "account_cd855c2bb1cc72097238"
DEFAULT_PAGE_SIZE = 50
DEFAULT_SEATS: dict[str, str] = {
    "seat_6a13e661ecc6a86e3fb7": "Ana Lopez (LinkedIn)",
    "seat_1f0c9a7e2b4d8c3a5e61": "Ben Okafor (LinkedIn)",
    "seat_93d2b7c0a4e5f6182b3c": "Chen Wei (Email)",
}
_WILDCARD_HOSTS = {"", "0.0.0.0", "::"}

# What a shell does with a request, once the sandbox has had its say.
ANSWER, DROP, CUT, GONE = "answer", "drop", "cut", "gone"


class Sandbox:
    """A local stand-in for the Alsona API: a real HTTP server on loopback (``start()`` or
    ``with``), an in-process transport (``client(in_process=True)``), or neither
    (``handle()``).

    ``campaigns`` holds what was created, by id; ``requests`` every request received;
    ``counts`` counts requests by method (``counts["POST"]``) and answers by status
    (``counts[429]``); ``throttled`` counts the throttle's 429s. ``seats`` (id -> name) is
    what the seats list answers (creates do not check seats against it). ``page_size`` sets
    the list pages; ``latency`` (seconds) is added to every request; ``inject`` queues
    faults; ``throttle`` sets a token bucket. ``reset()`` forgets everything.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        account_id: str = DEFAULT_ACCOUNT_ID,
        latency: float = 0.0,
        keep_requests: bool = True,
        page_size: int = DEFAULT_PAGE_SIZE,
        seats: Mapping[str, str] | None = None,
        rate: float | None = None,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.port = port
        self.api_key = api_key or "sandbox_" + secrets.token_hex(12)
        self.account_id = account_id
        self.keep_requests = keep_requests
        self.clock = clock
        self._defaults = (latency, page_size, dict(DEFAULT_SEATS if seats is None else seats))
        self._throttle_defaults = (rate, burst)
        self._lock = threading.RLock()
        self._faults = FaultQueue()
        self._interrupt = threading.Event()  # set to end in-flight waits (stop, reset)
        self._generation = 0  # grows with each reset: a request from before stays out
        self._server: _Server | None = None
        self._reserved: socket.socket | None = None
        self.campaigns: dict[str, dict[str, Any]] = {}
        self.requests: list[ReceivedRequest] = []
        self.counts: Counter[str | int] = Counter()
        self.throttled = 0
        self.latency, self.page_size = latency, page_size
        self.seats: dict[str, str] = {}
        self._bucket: TokenBucket | None = None
        self.reset()

    # -- lifecycle --------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL of the running HTTP server (a loopback address a client accepts).

        Raises ``RuntimeError`` when the server is not running.
        """
        if self._server is None:
            raise RuntimeError("the sandbox is not running: call start() or use `with`")
        port = self._server.server_address[1]
        if self.host in _WILDCARD_HOSTS:  # listening everywhere: this machine reaches it here
            return f"http://{'[::1]' if self.host == '::' else '127.0.0.1'}:{port}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{port}"

    def start(self) -> Sandbox:
        """Start the HTTP server in a daemon thread (no-op when running). Raises
        ``OSError`` when the address cannot be bound."""
        if self._server is None:
            from ._server import serve

            self._server = serve(self, self.host, self.port)
        return self

    def stop(self) -> None:
        """Stop the server, end kept-alive connections, free the in-process URL's port."""
        if self._reserved is not None:
            self._reserved.close()
            self._reserved = None
        if self._server is None:
            return
        self._interrupt_waits()
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._server = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "not serving HTTP"
        return f"<Sandbox {where} account={self.account_id!r} campaigns={len(self.campaigns)}>"

    def reset(self) -> None:
        """Forget campaigns, requests, counts and faults; put throttle, latency, page size
        and seats back to what the constructor was given. Requests still waiting (latency,
        stalls) are hung up and leave no trace."""
        self._interrupt_waits()
        self.clear_faults()
        with self._lock:
            self.campaigns.clear()
            self.requests.clear()
            self.counts.clear()
            self.throttled = 0
            latency, page_size, seats = self._defaults
            self.latency, self.page_size, self.seats = latency, page_size, dict(seats)
            self.throttle(*self._throttle_defaults)

    def _interrupt_waits(self) -> None:
        with self._lock:
            interrupt, self._interrupt = self._interrupt, threading.Event()
            self._generation += 1
        interrupt.set()

    def _wait(self, seconds: float) -> bool:
        """Wait (for latency or a stall); True when ``stop()`` or ``reset()`` ended it."""
        return self._interrupt.wait(seconds)

    # -- clients ----------------------------------------------------------------------

    @property
    def in_process_url(self) -> str:
        """The base URL the in-process transport answers: a loopback port this sandbox holds
        bound but never listens on, so a request that missed the adapter is refused."""
        with self._lock:
            if self._reserved is None:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.bind(("127.0.0.1", 0))
                weakref.finalize(self, sock.close)
                self._reserved = sock
            return f"http://127.0.0.1:{self._reserved.getsockname()[1]}"

    def mount(self, session: requests.Session) -> str:
        """Answer ``session``'s requests to ``in_process_url`` in process, with no socket;
        returns that URL."""
        from ._adapter import SandboxAdapter

        base = self.in_process_url
        session.mount(base + "/", SandboxAdapter(self))
        return base

    def client(self, *, in_process: bool = False, **kwargs: Any) -> AlsonaClient:
        """A client of this sandbox (``mode="sandbox"``): over HTTP (the server must be
        running), or with ``in_process=True`` through a ``SandboxAdapter`` on its session."""
        from .._client import AlsonaClient

        kwargs.setdefault("api_key", self.api_key)
        kwargs.setdefault("account_id", self.account_id)
        if in_process:
            import requests

            session = kwargs.pop("session", None) or requests.Session()
            kwargs["base_url"] = self.mount(session)
            kwargs["session"] = session
        else:
            kwargs.setdefault("base_url", self.url)
        return AlsonaClient(mode="sandbox", **kwargs)  # type: ignore[call-arg,unused-ignore]

    # -- faults and throttle ----------------------------------------------------------

    def inject(self, *faults: Fault, times: int = 1) -> None:
        """Queue faults, each ``times`` times; a request meets the first queued fault that
        waits for its method."""
        self._faults.inject(faults, times)

    def inject_random(self, rate: float, faults: Iterable[Fault], seed: int = 0) -> None:
        """From now on, each request meets one of ``faults`` (those waiting for its method)
        with probability ``rate``; ``seed`` makes the run reproducible."""
        self._faults.inject_random(rate, faults, seed)

    def clear_faults(self) -> None:
        """Drop queued and random faults."""
        self._faults.clear()

    @property
    def pending_faults(self) -> int:
        """How many queued faults no request has met yet."""
        return len(self._faults)

    def throttle(self, rate: float | None, burst: int | None = None) -> None:
        """Throttle like a gateway: ``rate`` requests a second with bursts of ``burst``
        (default: the rate, at least 1); ``None`` turns it off. Raises ``ValueError``."""
        bucket = None
        if rate is not None:
            bucket = TokenBucket(
                rate, burst if burst is not None else max(1, int(rate)), self.clock
            )
        with self._lock:
            self._bucket = bucket

    @property
    def rate(self) -> float | None:
        """The throttle's rate (requests a second), ``None`` when off."""
        return self._bucket.rate if self._bucket is not None else None

    @property
    def burst(self) -> int | None:
        """The throttle's burst, ``None`` when off."""
        return self._bucket.burst if self._bucket is not None else None

    # -- the API ----------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """Answer one request, as NOTES 9-13 say; never raises for what a client sends.

        ``path`` may carry a query; ``headers`` are matched case-insensitively. The request
        is recorded and counted, the throttle and the key are checked, then the route runs.
        """
        method = method.upper()
        record = self._receive(method, path, headers, body)
        with self._lock:
            wait = self._bucket.take() if self._bucket is not None else 0.0
            if wait:
                self.throttled += 1
        if wait:
            answer = Answer(
                429,
                {"Content-Type": "application/json", "Retry-After": retry_after(wait)},
                b'{"message": "Too Many Requests"}',
            )
        elif not record.key_ok:
            answer = _error(401, "unauthorized", "Invalid or missing API key")
        else:
            parts = urlsplit(path)
            query = parse_qs(parts.query, keep_blank_values=True)
            segments = [unquote(part) for part in parts.path.split("/")]
            answer = route(self, method, segments, query, body)
        self._settle(record, answer.status)
        answer.record = record
        return answer

    def _receive(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> ReceivedRequest:
        """Record and count one request (the key itself is left out, only whether it fits)."""
        given = {k.lower(): v for k, v in headers.items()}.get("x-api-key", "")
        record = ReceivedRequest(
            method=method.upper(),
            path=path,
            headers={k: v for k, v in headers.items() if k.lower() != "x-api-key"},
            body=json_or_none(body) if body and self.keep_requests else None,
            key_ok=secrets.compare_digest(given.encode("utf-8", "replace"), self.api_key.encode()),
        )
        with self._lock:
            self.counts[record.method] += 1
            if self.keep_requests:
                self.requests.append(record)
        return record

    def _settle(self, record: ReceivedRequest, status: int | None) -> None:
        """Set (or change) the status the client was sent for ``record``."""
        with self._lock:
            if record.status is not None:
                self.counts[record.status] -= 1
            if status is not None:
                self.counts[status] += 1
            record.status = status

    def _serve(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
        wait: Callable[[float], bool],
    ) -> tuple[str, Answer | None, ReceivedRequest | None]:
        """Latency, faults, then ``handle``: what a shell should do (``ANSWER``, ``DROP``,
        ``CUT`` or ``GONE`` when a wait ran out), the answer, and the record.

        ``wait(seconds)`` waits and returns True when the client is gone (timeout, stop,
        reset).
        """
        generation = self._generation
        if self.latency and wait(self.latency):
            return GONE, None, None
        fault = self._faults.next_for(method.upper())
        if fault is None:
            answer = self.handle(method, path, headers, body)
            return ANSWER, answer, answer.record
        if not fault.after_create:
            if fault.action == "stall":
                if wait(fault.stall_seconds):
                    if generation != self._generation:  # reset meanwhile: leave no trace
                        return GONE, None, None
                    return GONE, None, self._receive(method, path, headers, body)
                answer = self.handle(method, path, headers, body)
                return ANSWER, answer, answer.record
            record = self._receive(method, path, headers, body)
            if fault.action in (DROP, CUT):
                return fault.action, None, record
            answer = fault.answer()
            self._settle(record, answer.status)
            return ANSWER, answer, record
        answer = self.handle(method, path, headers, body)
        record = answer.record or self._receive(method, path, headers, body)
        if fault.action == "stall":
            if wait(fault.stall_seconds):
                if generation == self._generation:
                    self._settle(record, None)
                return GONE, answer, record
            return ANSWER, answer, record
        if fault.action in (DROP, CUT):
            self._settle(record, None)
            return fault.action, answer, record
        lost = fault.answer()
        self._settle(record, lost.status)
        return ANSWER, lost, record


def _error(status: int, error: str, message: str) -> Answer:
    return json_answer(status, {"error": error, "message": message})
