"""One HTTP try: a ``requests`` session, a total deadline, a size cap, failures classified.

``Transport.send`` never raises for anything the network or the server does: it returns an
``Answer`` (any status, the body read whole but capped) or a ``NoAnswer`` that says whether the
request may have reached the server. The API key is added here, to the prepared request only:
no caller's frame holds it, no ``requests`` exception (whose prepared request carries the key
header) leaves this module, and a Ctrl-C mid-request comes out as a fresh
``KeyboardInterrupt`` whose traceback does not pass through frames that hold the request.

The request is prepared by the session (``Session.prepare_request``), so a user's session
keeps its auth, cookies, headers and hooks. What ``Session.request`` would redo on every call
(environment proxies, CA-bundle variables) is worked out once per transport. Over plain
``http://`` (loopback only) no proxy from the environment is used: the host dialled must be
loopback too, or the key would reach the proxy in clear.
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
from pydantic import SecretStr
from requests.adapters import HTTPAdapter
from requests.cookies import extract_cookies_to_jar
from requests.hooks import dispatch_hook
from requests.utils import select_proxy
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ._errors import TransportKind
from ._settings import is_loopback

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

    kind: TransportKind
    reached_server: bool
    detail: str = ""


Outcome = Answer | NoAnswer


class Transport:
    """Sends requests for one base URL with one keep-alive ``requests.Session``.

    ``timeout`` is a total deadline for a try, from connecting to the last byte; ``api_key``
    goes in the ``X-API-KEY`` header of every request.

    Raises ``ValueError`` when the session's own proxy for a plain ``http://`` base URL is
    not on loopback (the key would travel to it unencrypted).
    """

    def __init__(
        self,
        base_url: str,
        timeout: float,
        *,
        api_key: SecretStr | None = None,
        session: requests.Session | None = None,
        user_agent: str = "",
        max_answer_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        self.base_url = base_url
        self._key = api_key
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
        if base_url.startswith("http://"):
            self._proxies = _loopback_proxies(base_url, self.session.proxies)
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
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> Outcome:
        """One try: the answer, or why there was none. Never raises for network faults."""
        started = time.perf_counter()
        watch = _Watch(time.monotonic() + self.timeout)
        _current.watch = watch
        _WATCHDOG.add(watch)
        result: tuple[Answer | None, NoAnswer | None] = (None, None)
        stopped: type[BaseException] | None = None
        code: tuple[Any, ...] = ()
        try:
            result = self._exchange(method, url, headers, body, watch, started)
        except BaseException as exc:  # Ctrl-C or SystemExit: re-raised below, fresh
            stopped = type(exc)
            code = exc.args if isinstance(exc, SystemExit) else ()  # an exit code, no more
        finally:
            _current.watch = None
            _WATCHDOG.remove(watch)
        if stopped is not None:
            # Raised outside the handler: no __context__ and no traceback into the frames
            # of requests, whose locals hold the prepared request and its key header.
            raise stopped(*code)
        answer, failure = result
        if failure is not None:
            return failure
        assert answer is not None
        return answer

    def _exchange(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        body: bytes | None,
        watch: _Watch,
        started: float,
    ) -> tuple[Answer | None, NoAnswer | None]:
        request: requests.PreparedRequest | None = None
        try:
            request = self.session.prepare_request(
                requests.Request(method, url, headers=dict(headers or {}), data=body)
            )
            if self._key is not None:
                request.headers["X-API-KEY"] = self._key.get_secret_value()
            # As Session.send does, without its redirect step (it reads a 3xx body uncapped).
            response = self.session.get_adapter(url).send(
                request,
                stream=True,
                timeout=self.timeout,
                verify=self._verify,
                cert=self._cert,
                proxies=self._proxies,
            )
            extract_cookies_to_jar(self.session.cookies, request, response.raw)  # type: ignore[no-untyped-call]
            response = dispatch_hook("response", request.hooks, response)  # type: ignore[no-untyped-call]
            response.request = None
        except Exception as exc:  # classified below; never re-raised (it holds the request)
            return None, _classify(exc, watch.expired)
        finally:
            request = None  # the key header goes no further than this frame
        try:
            body = _read_capped(response, self.max_answer_bytes)
        except _TooLarge:
            return None, NoAnswer(
                TransportKind.TOO_LARGE, True, f"over {self.max_answer_bytes} bytes"
            )
        except Exception as exc:
            kind = TransportKind.TIMEOUT if watch.expired else TransportKind.DROPPED
            return None, NoAnswer(kind, True, type(exc).__name__)
        finally:
            response.close()
        if watch.expired:  # the watchdog cut it: what was read may look whole but is not
            return None, NoAnswer(TransportKind.TIMEOUT, True, "deadline")
        elapsed = (time.perf_counter() - started) * 1000
        return Answer(response.status_code, response.headers, body, elapsed), None

    def close(self) -> None:
        self.session.close()


def _loopback_proxies(base_url: str, configured: Mapping[str, str]) -> dict[str, str]:
    """The proxies for a plain ``http://`` (loopback) base URL: none from the environment
    (the key would reach a proxy in clear); the session's own only when it is on loopback.

    Raises ``ValueError`` for a session proxy elsewhere."""
    chosen = select_proxy(base_url + "/", dict(configured or {}))
    if chosen is None:
        return {}
    host = urllib3.util.parse_url(chosen).host or ""
    if not is_loopback(host):
        raise ValueError(
            f"refusing the session's proxy {host} for plain http://: the API key would reach "
            "it unencrypted. Use https://, or a proxy on loopback."
        )
    return {"http": chosen}


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
        return NoAnswer(TransportKind.TIMEOUT, True, name)
    if isinstance(exc, requests.exceptions.SSLError):
        return NoAnswer(TransportKind.TLS, False, _tls_detail(exc))
    if isinstance(exc, requests.exceptions.ProxyError):
        return NoAnswer(TransportKind.PROXY, False, name)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return NoAnswer(TransportKind.CONNECT_TIMEOUT, False, name)
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return NoAnswer(TransportKind.TIMEOUT, True, name)
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = exc.args[0] if exc.args else None
        if isinstance(reason, urllib3.exceptions.MaxRetryError):
            reason = reason.reason
        if isinstance(reason, urllib3.exceptions.NameResolutionError):
            return NoAnswer(TransportKind.DNS, False, name)
        # (NewConnectionError subclasses ConnectTimeoutError in urllib3 2: test it first.)
        if isinstance(reason, urllib3.exceptions.NewConnectionError):
            return NoAnswer(TransportKind.REFUSED, False, name)
        if isinstance(reason, urllib3.exceptions.ConnectTimeoutError):
            return NoAnswer(TransportKind.CONNECT_TIMEOUT, False, name)
        return NoAnswer(TransportKind.DROPPED, True, name)
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.InvalidHeader)):
        return NoAnswer(TransportKind.ERROR, False, name)
    # Anything else: the request may have gone out, so the outcome is unknown.
    return NoAnswer(TransportKind.ERROR, True, name)


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


class _Quiet:
    """A connection whose ``debuglevel`` stays 0: the standard debugging recipe
    (``http.client.HTTPConnection.debuglevel = 1``) would print every header sent,
    ``X-API-KEY`` among them, into the notebook."""

    @property
    def debuglevel(self) -> int:
        return 0

    @debuglevel.setter
    def debuglevel(self, value: int) -> None:
        pass


class _QuietHTTPConnection(_Quiet, HTTPConnection):
    pass


class _QuietHTTPSConnection(_Quiet, HTTPSConnection):
    pass


class _WatchedPool(_Watched, HTTPConnectionPool):
    ConnectionCls = _QuietHTTPConnection


class _WatchedHTTPSPool(_Watched, HTTPSConnectionPool):
    ConnectionCls = _QuietHTTPSConnection


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
