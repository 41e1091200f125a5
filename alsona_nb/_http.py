"""One HTTP try: a ``requests`` session, a total deadline, a size cap, failures classified.

``Transport.send`` never raises for anything the network or the server does: it returns an
``Answer`` (any status, the body read whole but capped) or a ``NoAnswer`` that says whether the
request may have reached the server. Nothing here keeps the API key past the call, and no
``requests`` exception (whose prepared request carries the key header) leaves this module.

Per-call cost: what ``Session.request`` redoes on every call (environment proxies, netrc,
CA-bundle variables, cookie extraction) is worked out once per transport; the request itself
goes straight to the session's adapter for the URL, so proxies from the environment, mounted
adapters and TLS settings all still apply.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

#: The most an answer may take, decompressed; JSON answers of this API are a few KB.
MAX_ANSWER_BYTES = 4 * 1024 * 1024
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Answer:
    """What the server said: status, headers and the whole body (decompressed)."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    elapsed_ms: float


@dataclass(frozen=True)
class NoAnswer:
    """No full answer came. ``kind`` names why; ``reached_server`` is false only when the
    request cannot have reached the server (so sending it again cannot duplicate)."""

    kind: str  # refused, dns, connect_timeout, proxy, tls, timeout, dropped, too_large, error
    reached_server: bool
    detail: str = ""


Outcome = Answer | NoAnswer


class Transport:
    """Sends requests for one base URL with one keep-alive ``requests.Session``.

    ``timeout`` is a total deadline for a try, from connecting to the last byte.
    """

    def __init__(
        self,
        base_url: str,
        timeout: float,
        *,
        session: requests.Session | None = None,
        user_agent: str = "",
        max_answer_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.max_answer_bytes = max_answer_bytes
        self.session = session or requests.Session()
        if type(self.session.get_adapter(base_url + "/")) is HTTPAdapter:
            # requests' own adapter: swap in one whose connections the deadline can end.
            self.session.mount(base_url + "/", _DeadlineAdapter())
        if user_agent:
            self.session.headers["User-Agent"] = user_agent
        # What Session.request would merge on every call, worked out once (environment
        # proxies, REQUESTS_CA_BUNDLE...); the host never changes for this transport.
        settings = self.session.merge_environment_settings(base_url + "/", {}, None, None, None)
        self._proxies: Mapping[str, str] = settings["proxies"]
        self._verify: bool | str = settings["verify"] if settings["verify"] is not None else True
        self._cert: Any = settings["cert"]

    def set_pool_size(self, size: int) -> None:
        """Keep up to ``size`` connections alive to the host (for concurrent callers)."""
        adapter = self.session.get_adapter(self.base_url + "/")
        if isinstance(adapter, HTTPAdapter) and getattr(adapter, "_pool_maxsize", size) < size:
            replacement = (
                _DeadlineAdapter(pool_connections=1, pool_maxsize=size)
                if isinstance(adapter, _DeadlineAdapter)
                else HTTPAdapter(pool_connections=1, pool_maxsize=size)
            )
            self.session.mount(self.base_url + "/", replacement)

    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None = None
    ) -> Outcome:
        """One try: the answer, or why there was none. Never raises for network faults."""
        request = _prepared(method, url, self.session.headers, headers, body)
        started = time.perf_counter()
        watch = _Watch(time.monotonic() + self.timeout)
        _current.watch = watch
        _WATCHDOG.add(watch)
        failure: NoAnswer | None = None
        answer: Answer | None = None
        try:
            answer, failure = self._exchange(request, watch, started)
        finally:
            _current.watch = None
            _WATCHDOG.remove(watch)
            del request  # the key header goes no further than this frame
        if failure is not None:
            return failure
        assert answer is not None
        return answer

    def _exchange(
        self, request: requests.PreparedRequest, watch: _Watch, started: float
    ) -> tuple[Answer | None, NoAnswer | None]:
        adapter = self.session.get_adapter(request.url or "")
        try:
            response = adapter.send(
                request,
                stream=True,
                timeout=self.timeout,
                verify=self._verify,
                cert=self._cert,
                proxies=self._proxies,
            )
        except Exception as exc:  # classified below; never re-raised (it holds the request)
            return None, _classify(exc, watch.expired)
        try:
            body = _read_capped(response, self.max_answer_bytes)
        except _TooLarge:
            return None, NoAnswer("too_large", True, f"over {self.max_answer_bytes} bytes")
        except Exception as exc:
            kind = "timeout" if watch.expired else "dropped"
            return None, NoAnswer(kind, True, type(exc).__name__)
        finally:
            response.close()
        if watch.expired:  # the watchdog cut it: what was read may look whole but is not
            return None, NoAnswer("timeout", True, "deadline")
        elapsed = (time.perf_counter() - started) * 1000
        return Answer(response.status_code, response.headers, body, elapsed), None

    def close(self) -> None:
        self.session.close()


def _prepared(
    method: str,
    url: str,
    defaults: Mapping[str, str | bytes],
    headers: Mapping[str, str],
    body: bytes | None,
) -> requests.PreparedRequest:
    """The request as ``PreparedRequest.prepare`` would build it, without re-parsing a URL
    that this package built from a checked base URL and quoted path parts (a large share of
    a call's cost in ``requests``)."""
    request = requests.PreparedRequest()
    request.method = method
    request.url = url
    merged: CaseInsensitiveDict[str] = CaseInsensitiveDict()
    for name, value in defaults.items():
        merged[name] = value if isinstance(value, str) else value.decode("latin-1")
    merged.update(headers)
    if body is not None:
        merged["Content-Length"] = str(len(body))
    request.headers = merged
    request.body = body
    return request


class _TooLarge(Exception):
    pass


def _read_capped(response: requests.Response, cap: int) -> bytes:
    """The body, decompressed here (not by urllib3) so the cap holds after inflating."""
    raw = response.raw
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    inflate: Any = None
    if encoding in ("gzip", "x-gzip"):
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        inflate = zlib.decompressobj()
    elif encoding not in ("", "identity"):
        raise ValueError(f"unsupported Content-Encoding {encoding!r}")
    parts: list[bytes] = []
    size = 0
    urllib3_raw = isinstance(raw, urllib3.response.BaseHTTPResponse)
    while True:
        if raw is None:
            break
        chunk = raw.read(_CHUNK, decode_content=False) if urllib3_raw else raw.read(_CHUNK)
        if not chunk:
            break
        if inflate is not None:
            # Never inflate more than the room left: a small bomb stays small.
            chunk = inflate.decompress(chunk, cap - size + 1)
            if inflate.unconsumed_tail:
                raise _TooLarge
        size += len(chunk)
        if size > cap:
            raise _TooLarge
        parts.append(chunk)
    return b"".join(parts)


def _classify(exc: Exception, expired: bool) -> NoAnswer:
    """Why ``adapter.send`` failed, by exception class (requests wraps urllib3's)."""
    name = type(exc).__name__
    if expired:
        return NoAnswer("timeout", True, name)
    if isinstance(exc, requests.exceptions.SSLError):
        return NoAnswer("tls", False, _tls_detail(exc))
    if isinstance(exc, requests.exceptions.ProxyError):
        return NoAnswer("proxy", False, name)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return NoAnswer("connect_timeout", False, name)
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return NoAnswer("timeout", True, name)
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = exc.args[0] if exc.args else None
        if isinstance(reason, urllib3.exceptions.MaxRetryError):
            reason = reason.reason
        if isinstance(reason, urllib3.exceptions.NameResolutionError):
            return NoAnswer("dns", False, name)
        # (NewConnectionError subclasses ConnectTimeoutError in urllib3 2: test it first.)
        if isinstance(reason, urllib3.exceptions.NewConnectionError):
            return NoAnswer("refused", False, name)
        if isinstance(reason, urllib3.exceptions.ConnectTimeoutError):
            return NoAnswer("connect_timeout", False, name)
        return NoAnswer("dropped", True, name)
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.InvalidHeader)):
        return NoAnswer("error", False, name)
    # Anything else: the request may have gone out, so the outcome is unknown.
    return NoAnswer("error", True, name)


def _tls_detail(exc: Exception) -> str:
    text = str(exc).lower()
    if "certificate" in text or "cert" in text:
        return "the server's TLS certificate was not accepted"
    return "the TLS handshake failed"


# -- the total deadline ------------------------------------------------------------------
# A try registers itself with one watchdog thread; the connection it takes from the pool is
# noted (below); at the deadline the watchdog shuts that socket, so a trickled or endless
# answer ends whatever phase it is in.


class _Watch:
    __slots__ = ("conn", "deadline", "expired")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.conn: Any = None
        self.expired = False


class _Watchdog:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Watch]] = []
        self._live: set[int] = set()
        self._ids = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, watch: _Watch) -> None:
        with self._cond:
            key = next(self._ids)
            watch_id = id(watch)
            self._live.add(watch_id)
            heapq.heappush(self._heap, (watch.deadline, key, watch))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="alsona-deadline")
                self._thread.daemon = True
                self._thread.start()
            elif self._heap[0][2] is watch:
                self._cond.notify()

    def remove(self, watch: _Watch) -> None:
        with self._cond:
            self._live.discard(id(watch))

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and id(self._heap[0][2]) not in self._live:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                deadline, _, watch = self._heap[0]
                delay = deadline - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._heap)
                self._live.discard(id(watch))
                watch.expired = True
                sock = getattr(watch.conn, "sock", None)
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)


_WATCHDOG = _Watchdog()
_current = threading.local()


class _Watched:
    """Notes the connection a try takes from the pool, for the watchdog."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        watch = getattr(_current, "watch", None)
        if watch is not None:
            watch.conn = conn
        return conn


class _WatchedPool(_Watched, HTTPConnectionPool):
    pass


class _WatchedHTTPSPool(_Watched, HTTPSConnectionPool):
    pass


_POOLS = {"http": _WatchedPool, "https": _WatchedHTTPSPool}


class _DeadlineAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose connections the deadline watchdog can end."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager
