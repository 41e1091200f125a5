"""The sandbox: its state, and ``Sandbox.serve``, the one entry both shells call (the HTTP
server of ``_server.py`` and the in-process adapter of ``_adapter.py``)."""

from __future__ import annotations

import secrets
import socket
import threading
import time
import weakref
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._actions import Delivery, FaultAction
from ._adapter import SandboxAdapter
from ._answer import (
    Incoming,
    ReceivedRequest,
    Reply,
    UnreadableBody,
    error_answer,
    failure_answer,
    json_answer,
    json_or_none,
)
from ._faults import Fault, FaultQueue
from ._routes import Target, check, respond
from ._server import BODY_READ_TIMEOUT, HttpServer, start_server
from ._store import CampaignStore
from ._throttle import TokenBucket, retry_after_header

if TYPE_CHECKING:  # pragma: no cover
    from requests import Session

    from .._client import AlsonaClient

DEFAULT_ACCOUNT_ID = "account_cd855c2bb1cc72097238"
DEFAULT_PAGE_SIZE = 50
DEFAULT_SEATS: dict[str, str] = {
    "seat_6a13e661ecc6a86e3fb7": "Ana Lopez (LinkedIn)",
    "seat_1f0c9a7e2b4d8c3a5e61": "Ben Okafor (LinkedIn)",
    "seat_93d2b7c0a4e5f6182b3c": "Chen Wei (Email)",
}
#: How many requests ``Sandbox.requests`` keeps (the latest), unless told otherwise.
KEPT_REQUESTS = 50
#: Bodies larger than this are not kept (their size is).
KEPT_BODY_BYTES = 64 * 1024
#: Hosts that mean "listen on every interface".
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})
# A cut answer when nothing was carried out: the start of a success, cut short.
_CUT_STAND_IN = b'{"success": true, "campaign": {"na'


class Sandbox:
    """A local stand-in for the Alsona API: a real HTTP server on loopback (``start()`` or
    ``with``), an in-process transport (``client(in_process=True)``), or neither
    (``serve()``, ``handle()``).

    The key reaches ``account_id`` and the ``accounts`` given besides it (as an agency key
    would); any other account is 404. ``campaigns`` is every account's campaigns by id (a
    copy; ``campaigns_of(account)`` for one account); ``requests`` the latest requests
    (``keep_requests``: ``True`` for the last 50, a number, or ``False``), bodies over
    ``KEPT_BODY_BYTES`` left out; ``counts`` counts requests by method (``counts["PUT"]``),
    answers by status (``counts[429]``) and both (``counts["PUT", 200]``); ``throttled``
    counts the throttle's 429s. ``seats`` (id -> name) is what the seats list answers
    (creates do not check seats against it). ``page_size`` sets the list pages; ``latency``
    (seconds) is added to every request; ``honour_ids=False`` makes it ignore client-chosen
    ids; ``read_lag=N`` hides a new campaign from its next N reads; ``inject`` queues
    faults; ``throttle`` sets a token bucket. ``reset()`` forgets everything.

    Raises ``ValueError`` for a throttle rate that is not positive or a burst below 1.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        account_id: str = DEFAULT_ACCOUNT_ID,
        accounts: Iterable[str] = (),
        latency: float = 0.0,
        keep_requests: bool | int = True,
        page_size: int = DEFAULT_PAGE_SIZE,
        seats: Mapping[str, str] | None = None,
        rate: float | None = None,
        burst: int | None = None,
        honour_ids: bool = True,
        read_lag: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.port = port
        self.api_key = api_key or "sandbox_" + secrets.token_hex(12)
        self.account_id = account_id
        self.accounts = (account_id, *(a for a in accounts if a != account_id))
        kept = KEPT_REQUESTS if keep_requests is True else max(0, int(keep_requests))
        self.keep_requests = kept > 0
        self.clock = clock
        self._defaults = (latency, page_size, dict(DEFAULT_SEATS if seats is None else seats))
        self._store_defaults = (honour_ids, read_lag)
        self._throttle_defaults = (rate, burst)
        self._lock = threading.RLock()
        self._faults = FaultQueue()
        self._store = CampaignStore(honour_ids=honour_ids, read_lag=read_lag)
        self._interrupt = threading.Event()  # set to end in-flight waits (stop, reset)
        self._generation = 0  # grows with each reset: a request from before stays out
        self._server: HttpServer | None = None
        self._reserved: socket.socket | None = None
        self._kept: deque[ReceivedRequest] = deque(maxlen=kept)
        self.counts: Counter[str | int | tuple[str, int]] = Counter()
        self.throttled = 0
        self.latency, self.page_size = latency, page_size
        self.body_read_timeout = BODY_READ_TIMEOUT
        self.seats: dict[str, str] = {}
        self._bucket: TokenBucket | None = None
        self.reset()

    # -- what it holds ----------------------------------------------------------------

    @property
    def campaigns(self) -> dict[str, dict[str, Any]]:
        """Every account's campaigns by id, as stored (a copy; reads' lag does not apply)."""
        return self._store.everything()

    def campaigns_of(self, account_id: str) -> dict[str, dict[str, Any]]:
        """One account's campaigns by id, as stored (a copy)."""
        return self._store.of(account_id)

    @property
    def requests(self) -> list[ReceivedRequest]:
        """The latest requests received, oldest first (a copy of the list)."""
        with self._lock:
            return list(self._kept)

    @property
    def kept_body_bytes(self) -> int:
        """How many bytes of request bodies the kept requests hold."""
        with self._lock:
            return sum(r.body_size for r in self._kept if r.body is not None)

    @property
    def honour_ids(self) -> bool:
        """Whether a create keeps the ``campaign_id`` it names (else one is made here)."""
        return self._store.honour_ids

    @honour_ids.setter
    def honour_ids(self, value: bool) -> None:
        self._store.honour_ids = bool(value)

    @property
    def read_lag(self) -> int:
        """How many reads a newly created campaign is missing from."""
        return self._store.read_lag

    @read_lag.setter
    def read_lag(self, value: int) -> None:
        self._store.read_lag = max(0, int(value))

    # -- lifecycle --------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL of the running HTTP server (a loopback address a client accepts).

        Raises ``RuntimeError`` when the server is not running.
        """
        if self._server is None:
            raise RuntimeError("the sandbox is not running: call start() or use `with`")
        port = self._server.server_address[1]
        if self.host in WILDCARD_HOSTS:  # listening everywhere: this machine reaches it here
            return f"http://{'[::1]' if self.host == '::' else '127.0.0.1'}:{port}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{port}"

    @property
    def open_connections(self) -> int:
        """How many HTTP connections are open now (0 when the server is not running)."""
        return len(self._server.open_connections) if self._server is not None else 0

    def start(self) -> Sandbox:
        """Start the HTTP server in a daemon thread (no-op when running). Raises
        ``OSError`` when the address cannot be bound."""
        if self._server is None:
            self._server = start_server(self, self.host, self.port)
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
        return f"<Sandbox {where} account={self.account_id!r} campaigns={len(self._store)}>"

    def reset(self) -> None:
        """Forget campaigns, requests, counts and faults; put throttle, latency, page size,
        seats, id handling and read lag back to what the constructor was given. Requests
        still waiting (latency, stalls) are hung up and leave no trace."""
        self._interrupt_waits()
        self.clear_faults()
        with self._lock:
            self._store.clear()
            self._kept.clear()
            self.counts.clear()
            self.throttled = 0
            latency, page_size, seats = self._defaults
            self.latency, self.page_size, self.seats = latency, page_size, dict(seats)
            self.honour_ids, self.read_lag = self._store_defaults
            self.body_read_timeout = BODY_READ_TIMEOUT
            self.throttle(*self._throttle_defaults)

    def _interrupt_waits(self) -> None:
        with self._lock:
            interrupt, self._interrupt = self._interrupt, threading.Event()
            self._generation += 1
        interrupt.set()

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

    def mount(self, session: Session) -> str:
        """Reply ``session``'s requests to ``in_process_url`` in process, with no socket;
        returns that URL."""
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

    def serve(self, request: Incoming) -> Reply:
        """Reply one request as a shell should deliver it (``answer.action``); never
        raises for what a client sends.

        In order: the latency wait; the key (a request without a valid key is refused
        with 401 and ``Delivery.CLOSE``, its body never read); what the method and path
        alone refuse (404, 405, also unread); the body (an unreadable one is refused and
        the connection closed); the fault the request meets, if any; then the throttle
        and the route. A fault ``after_apply`` carries the request out before it
        misbehaves. The request is recorded and counted from the key check on.
        """
        wait = self._waiter(request.patience)
        if self.latency and wait(self.latency):
            return _gone()
        admitted = self._admit(request)
        if isinstance(admitted, Reply):
            return admitted
        fault = self._faults.next_for(admitted.record.method)
        if fault is None:
            return self._finish(admitted, self._respond(admitted))
        applied = self._respond(admitted) if fault.after_apply else None
        if fault.action is FaultAction.STALL:
            if wait(fault.stall_seconds):
                return self._finish(admitted, _gone())
            if applied is None:  # stalled before: carried out once the time is up
                applied = self._respond(admitted)
            return self._finish(admitted, applied)
        if fault.action is FaultAction.ANSWER:
            return self._finish(admitted, fault.answer())
        return self._finish(admitted, _lost(fault.action, applied))

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """Reply one request at once, with no latency and no faults: the key, the route,
        the throttle, as ``serve`` checks them. ``path`` may carry a query; ``headers``
        are matched case-insensitively. The request is recorded and counted."""
        admitted = self._admit(Incoming(method, path, headers, body))
        if isinstance(admitted, Reply):
            return admitted
        return self._finish(admitted, self._respond(admitted))

    def _admit(self, request: Incoming) -> _Admitted | Reply:
        """Record and count the request, check the key, then the method and path, then read
        the body: what the route needs, or the refusal (``Delivery.CLOSE`` when a body it
        was offered is left unread)."""
        method = request.method.upper()
        given = next((v for k, v in request.headers.items() if k.lower() == "x-api-key"), "")
        key_ok = secrets.compare_digest(given.encode("utf-8", "replace"), self.api_key.encode())
        record = ReceivedRequest(
            method=method,
            path=request.path,
            headers={k: v for k, v in request.headers.items() if k.lower() != "x-api-key"},
            body=None,
            key_ok=key_ok,
        )
        with self._lock:
            self.counts[method] += 1
            self._kept.append(record)
            generation = self._generation
        if not key_ok:
            refused = error_answer(401, "unauthorized", "Invalid or missing API key")
            refused.action = Delivery.CLOSE
            return self._deliver(record, generation, refused)
        checked = check(method, request.path, self.accounts)
        if isinstance(checked, Reply):
            if not isinstance(request.body, bytes):
                checked.action = Delivery.CLOSE
            return self._deliver(record, generation, checked)
        try:
            body = request.body if isinstance(request.body, bytes) else request.body()
        except UnreadableBody as exc:
            refused = failure_answer(exc.status, exc.message)
            refused.action = Delivery.CLOSE
            return self._deliver(record, generation, refused)
        record.body_size = len(body)
        if body and self.keep_requests and len(body) <= KEPT_BODY_BYTES:
            record.body = json_or_none(body)
        return _Admitted(record, generation, checked, body)

    def _respond(self, admitted: _Admitted) -> Reply:
        """The throttle, then the route."""
        with self._lock:
            wait = self._bucket.take() if self._bucket is not None else 0.0
            if wait:
                self.throttled += 1
        if wait:
            headers = {"Retry-After": retry_after_header(wait)}
            return json_answer(429, {"message": "Too Many Requests"}, headers)
        return respond(
            admitted.record.method,
            admitted.target,
            admitted.body,
            store=self._store,
            seats=self.seats,
            page_size=self.page_size,
        )

    def _finish(self, admitted: _Admitted, answer: Reply) -> Reply:
        """``_deliver`` for an admitted request."""
        return self._deliver(admitted.record, admitted.generation, answer)

    def _deliver(self, record: ReceivedRequest, generation: int, answer: Reply) -> Reply:
        """Count the status the client is sent (none for a lost answer) and hand the answer
        on with its record; a request from before a reset leaves no trace."""
        status = answer.status if answer.action in (Delivery.SEND, Delivery.CLOSE) else None
        with self._lock:
            if generation == self._generation and status is not None:
                self.counts[status] += 1
                self.counts[record.method, status] += 1
                record.status = status
        answer.record = record
        return answer

    def _waiter(self, patience: float | None) -> Callable[[float], bool]:
        """``wait(seconds)``: True when the client gave up first (past ``patience``, at
        once) or ``stop()`` or ``reset()`` ended the wait."""
        interrupt = self._interrupt
        waited = 0.0

        def wait(seconds: float) -> bool:
            nonlocal waited
            waited += seconds
            if patience is not None and waited > patience:
                return True
            return interrupt.wait(seconds)

        return wait


@dataclass(frozen=True)
class _Admitted:
    """A request past the key, path and body checks: its record, the reset generation it
    belongs to, what its path names and its body."""

    record: ReceivedRequest
    generation: int
    target: Target
    body: bytes


def _gone() -> Reply:
    """No answer: the client stopped waiting, or the sandbox stopped or reset."""
    return Reply(0, {}, b"", action=Delivery.GONE)


def _lost(action: FaultAction, answer: Reply | None) -> Reply:
    """A dropped or cut answer: for a cut, the head of a 200 and the body to send half of
    (the answer that was lost, or the start of a success when nothing was carried out)."""
    if action is FaultAction.DROP:
        return Reply(0, {}, b"", action=Delivery.DROP)
    body = answer.body if answer is not None else _CUT_STAND_IN
    return Reply(200, {"Content-Type": "application/json"}, body, action=Delivery.CUT)
