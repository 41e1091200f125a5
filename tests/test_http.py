"""The one-try transport over real sockets: total deadline, size cap, classification, TLS,
proxies from the environment. Each server here is a few lines on loopback that misbehaves
in one way; none of these tests measures speed (deadlines are checked by what came back)."""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Callable

import pytest
import requests
from conftest import raw_server
from pydantic import SecretStr

from alsona_nb import TransportKind
from alsona_nb._http import Answer, NoAnswer, Transport


def after_request(serve: Callable[[socket.socket], None]) -> Callable[[socket.socket], None]:
    """``serve`` once the request has been read (small: one read is enough here)."""

    def serve_after(conn: socket.socket) -> None:
        conn.recv(65536)
        serve(conn)

    return serve_after


def _trickle(conn: socket.socket, head: bytes, stop_after: float = 120.0) -> None:
    """Send ``head``, then one byte every 0.05 s, for ever (until the client goes)."""
    conn.sendall(head)
    for _ in range(int(stop_after / 0.05)):
        conn.sendall(b" ")
        threading.Event().wait(0.05)


def test_a_trickled_answer_ends_at_the_total_deadline() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    with raw_server(after_request(lambda c: _trickle(c, head))) as server:
        url = server.url
        outcome = Transport(url, timeout=1.0).send("GET", url + "/x", {})
    # Per-read timeouts alone would wait for 100000 bytes x 0.05 s; the deadline ends it.
    assert isinstance(outcome, NoAnswer)
    assert (outcome.kind, outcome.reached_server) == (TransportKind.TIMEOUT, True)


def test_trickled_headers_end_at_the_total_deadline() -> None:
    with raw_server(after_request(lambda c: _trickle(c, b"HTTP/1.1 200 OK\r\nX-Slow: "))) as server:
        url = server.url
        outcome = Transport(url, timeout=1.0).send("GET", url + "/x", {})
    assert isinstance(outcome, NoAnswer) and outcome.kind is TransportKind.TIMEOUT


def test_the_deadline_leaves_the_connection_pool_usable() -> None:
    answers = iter([b"slow", b"fast"])

    def serve(conn: socket.socket) -> None:
        if next(answers) == b"slow":
            _trickle(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 9999\r\n\r\n", 5)
        else:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")

    with raw_server(after_request(serve)) as server:
        url = server.url
        transport = Transport(url, timeout=1.0)
        assert isinstance(transport.send("GET", url + "/x", {}), NoAnswer)
        outcome = transport.send("GET", url + "/x", {})
    assert isinstance(outcome, Answer) and outcome.body == b"{}"


def _answer(body: bytes, *headers: str) -> Callable[[socket.socket], None]:
    def serve(conn: socket.socket) -> None:
        extra = "".join(h + "\r\n" for h in headers)
        conn.sendall(
            f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body
        )

    return serve


def test_a_body_over_the_cap_is_not_read_whole() -> None:
    with raw_server(after_request(_answer(b"x" * 50_000))) as server:
        url = server.url
        outcome = Transport(url, timeout=5.0, max_answer_bytes=10_000).send("GET", url, {})
    assert isinstance(outcome, NoAnswer)
    assert (outcome.kind, outcome.reached_server) == (TransportKind.TOO_LARGE, True)


def test_an_endless_chunked_body_is_cut_at_the_cap() -> None:
    def serve(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"4000\r\n" + b"y" * 0x4000 + b"\r\n"
        for _ in range(10_000):  # 160 MB if nobody stopped reading
            conn.sendall(chunk)

    with raw_server(after_request(serve)) as server:
        url = server.url
        outcome = Transport(url, timeout=30.0, max_answer_bytes=100_000).send("GET", url, {})
    assert isinstance(outcome, NoAnswer) and outcome.kind is TransportKind.TOO_LARGE


def test_a_gzip_bomb_is_measured_after_inflating() -> None:
    bomb = gzip.compress(b"\0" * 20_000_000)  # 20 MB of zeros in about 20 KB
    assert len(bomb) < 100_000
    with raw_server(after_request(_answer(bomb, "Content-Encoding: gzip"))) as server:
        url = server.url
        outcome = Transport(url, timeout=30.0, max_answer_bytes=1_000_000).send("GET", url, {})
    assert isinstance(outcome, NoAnswer) and outcome.kind is TransportKind.TOO_LARGE


def test_gzip_within_the_cap_is_inflated() -> None:
    with raw_server(
        after_request(_answer(gzip.compress(b'{"ok": 1}'), "Content-Encoding: gzip"))
    ) as server:
        url = server.url
        outcome = Transport(url, timeout=5.0).send("GET", url, {})
    assert isinstance(outcome, Answer) and outcome.body == b'{"ok": 1}'


def test_connection_refused_never_reached_the_server() -> None:
    with socket.create_server(("127.0.0.1", 0)) as held:
        url = f"http://127.0.0.1:{held.getsockname()[1]}"
    outcome = Transport(url, timeout=5.0).send("POST", url, {}, b"{}")
    assert outcome == NoAnswer(TransportKind.REFUSED, False, "ConnectionError")


def test_a_name_that_does_not_resolve(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_host(*args: object, **kwargs: object) -> list[object]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    url = "https://alsona.invalid"
    outcome = Transport(url, timeout=5.0).send("POST", url + "/x", {}, b"{}")
    assert isinstance(outcome, NoAnswer) and (outcome.kind, outcome.reached_server) == (
        TransportKind.DNS,
        False,
    )


def test_a_dropped_answer_may_have_reached_the_server() -> None:
    def serve(conn: socket.socket) -> None:
        conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{"succ')

    with raw_server(after_request(serve)) as server:
        url = server.url
        outcome = Transport(url, timeout=5.0).send("POST", url, {}, b"{}")
    assert isinstance(outcome, NoAnswer)
    assert (outcome.kind, outcome.reached_server) == (TransportKind.DROPPED, True)


def test_a_certificate_failure_is_named_and_nothing_was_sent(untrusted_https: str) -> None:
    outcome = Transport(untrusted_https, timeout=5.0).send("POST", untrusted_https, {}, b"{}")
    assert isinstance(outcome, NoAnswer)
    assert (outcome.kind, outcome.reached_server) == (TransportKind.TLS, False)
    assert "certificate" in outcome.detail


def test_proxies_from_the_environment_are_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTPS_PROXY is read once per transport, and requests still go through it; the key
    only travels inside the tunnel."""
    seen: list[bytes] = []

    def serve(conn: socket.socket) -> None:
        seen.append(conn.recv(65536))
        conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

    with raw_server(serve) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        outcome = Transport("https://alsona.com", timeout=5.0, api_key=SecretStr("k-123")).send(
            "POST", "https://alsona.com/rest", {}, b"{}"
        )
    assert seen and seen[0].startswith(b"CONNECT alsona.com:443 ")
    assert b"X-API-KEY" not in seen[0].upper() and b"k-123" not in seen[0]
    assert isinstance(outcome, NoAnswer) and (outcome.kind, outcome.reached_server) == (
        TransportKind.PROXY,
        False,
    )


def test_a_mounted_adapter_is_honoured() -> None:
    """Another transport mounted on the session (the sandbox's in-process one) is used."""

    class Fixed(requests.adapters.BaseAdapter):
        def send(  # type: ignore[override]
            self, request: requests.PreparedRequest, **kwargs: object
        ) -> requests.Response:
            response = requests.Response()
            response.status_code = 201
            response.raw = __import__("io").BytesIO(b"made")
            response.request = request
            return response

        def close(self) -> None:
            pass

    session = requests.Session()
    session.mount("https://example.test/", Fixed())
    outcome = Transport("https://example.test", 5.0, session=session).send(
        "GET", "https://example.test/x", {}
    )
    assert isinstance(outcome, Answer) and (outcome.status, outcome.body) == (201, b"made")
