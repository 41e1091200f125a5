"""The sandbox keeps bounded memory: counts of everything, but only the latest requests and
only small bodies; a request without a valid key, or one no body could make servable, is
refused before its body is read or parsed. Over real HTTP on loopback, and in process."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
import requests

from alsona_nb import CampaignDraft
from alsona_nb.sandbox import (
    KEPT_BODY_BYTES,
    KEPT_REQUESTS,
    MAX_BODY_BYTES,
    Delivery,
    Incoming,
    Sandbox,
    UnreadableBody,
)

MIB = 1 << 20


@pytest.fixture
def served() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


def campaigns_url(sb: Sandbox, base: str | None = None) -> str:
    return f"{base or sb.url}/rest/accounts/{sb.account_id}/campaigns"


def test_keyless_megabyte_posts_are_refused_unread_and_leave_nothing_kept(
    served: Sandbox,
) -> None:
    body = b"{" + b" " * (MIB - 2) + b"}"  # 1 MiB, as a web page could send to the port
    with requests.Session() as session:
        for key in ["", "wrong"] * 15:
            answer = session.post(
                campaigns_url(served), data=body, headers={"X-API-KEY": key}, timeout=10
            )
            assert answer.status_code == 401  # an answer, not a reset, though unread
            assert answer.headers["Connection"] == "close"
    assert (served.counts["POST"], served.counts["POST", 401]) == (30, 30)
    assert len(served.requests) == 30
    assert all(r.body is None and r.body_size == 0 for r in served.requests)
    assert served.kept_body_bytes == 0
    with requests.Session() as session:  # and it still serves
        headers = {"X-API-KEY": served.api_key}
        assert session.get(campaigns_url(served), headers=headers, timeout=10).status_code == 200


def test_large_bodies_are_counted_not_kept_and_only_the_latest_requests_are(
    served: Sandbox, draft: CampaignDraft
) -> None:
    headers = {"X-API-KEY": served.api_key}
    big = json.dumps({"campaign": {"name": "x" * (MIB - 100)}}).encode()
    assert KEPT_BODY_BYTES < len(big) <= MAX_BODY_BYTES
    with requests.Session() as session:
        for _ in range(30):
            answer = session.post(campaigns_url(served), data=big, headers=headers, timeout=10)
            assert answer.status_code == 400  # read, refused as a campaign
        assert served.kept_body_bytes == 0
        assert {r.body_size for r in served.requests} == {len(big)}
        small = draft.model_copy(update={"account_id": served.account_id}).to_payload()
        for _ in range(KEPT_REQUESTS + 10):
            answer = session.post(campaigns_url(served), json=small, headers=headers, timeout=10)
            assert answer.status_code == 200
    kept = served.requests
    assert len(kept) == KEPT_REQUESTS and all(r.body == small for r in kept)
    assert served.kept_body_bytes == sum(r.body_size for r in kept) <= KEPT_REQUESTS * 1024
    assert served.counts["POST"] == 30 + KEPT_REQUESTS + 10  # counts stay exact
    assert len(served.campaigns) == KEPT_REQUESTS + 10


def test_keep_requests_takes_a_number_or_false(draft: CampaignDraft) -> None:
    body = json.dumps(draft.model_copy(update={"account_id": "a"}).to_payload()).encode()
    for keep, kept in [(3, 3), (False, 0), (True, min(KEPT_REQUESTS, 5))]:
        sb = Sandbox(account_id="a", keep_requests=keep)
        for _ in range(5):
            sb.handle("POST", "/rest/accounts/a/campaigns", {"X-API-KEY": sb.api_key}, body)
        assert len(sb.requests) == kept and sb.counts["POST", 200] == 5


def raw_exchange(sb: Sandbox, data: bytes) -> bytes:
    """Send ``data`` and read until the server ends its side (30 s at most)."""
    port = int(sb.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(data)
        chunks: list[bytes] = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


@pytest.mark.parametrize(
    ("key", "path", "status"),
    [
        ("wrong", "/rest/accounts/{account}/campaigns", 401),
        ("", "/rest/accounts/{account}/campaigns", 401),
        ("right", "/rest/accounts/account_nobody/campaigns", 404),
        ("right", "/rest/accounts/{account}/nowhere", 404),
        ("right", "/rest/accounts/{account}/seats", 405),
        ("right", "/rest/accounts/{account}/campaigns/CAMP_ONE", 405),
    ],
)
def test_what_cannot_be_served_is_refused_before_the_body_is_read(
    served: Sandbox, key: str, path: str, status: int
) -> None:
    """The head announces a body that never comes: reading it would wait, then answer 400
    "shorter than its Content-Length"; the answer comes from the head alone."""
    served.body_read_timeout = 60.0  # a server that read would hang past the socket timeout
    method = "PATCH" if path.endswith("CAMP_ONE") else "POST"
    head = (
        f"{method} {path.format(account=served.account_id)} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"X-API-KEY: {served.api_key if key == 'right' else key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {MAX_BODY_BYTES}\r\n\r\n"
    )
    reply = raw_exchange(served, head.encode())
    assert reply.startswith(f"HTTP/1.1 {status} ".encode()), reply[:200]
    assert b"Connection: close" in reply
    (seen,) = served.requests
    assert (seen.status, seen.body, seen.body_size) == (status, None, 0)


def test_serve_never_calls_the_body_reader_for_a_request_it_refuses(
    draft: CampaignDraft,
) -> None:
    sb = Sandbox(accounts=["account_b"])
    calls: list[str] = []
    body = json.dumps(draft.model_copy(update={"account_id": sb.account_id}).to_payload())

    def reader() -> bytes:
        calls.append("read")
        return body.encode()

    def serve(key: str, account: str, method: str = "POST") -> tuple[int, Delivery]:
        path = f"/rest/accounts/{account}/campaigns"
        answer = sb.serve(Incoming(method, path, {"X-API-KEY": key}, reader))
        return answer.status, answer.action

    assert serve("wrong", sb.account_id) == (401, Delivery.CLOSE)
    assert serve("", "account_b") == (401, Delivery.CLOSE)
    assert serve(sb.api_key, "account_nobody") == (404, Delivery.CLOSE)
    assert serve(sb.api_key, sb.account_id, "DELETE") == (405, Delivery.CLOSE)
    assert calls == []
    assert serve(sb.api_key, sb.account_id) == (200, Delivery.SEND)
    assert calls == ["read"]


def test_an_unreadable_body_is_refused_and_the_connection_closed() -> None:
    sb = Sandbox()

    def reader() -> bytes:
        raise UnreadableBody(413, "too large")

    path = f"/rest/accounts/{sb.account_id}/campaigns"
    answer = sb.serve(Incoming("POST", path, {"X-API-KEY": sb.api_key}, reader))
    assert (answer.status, answer.action) == (413, Delivery.CLOSE)
    assert answer.json() == {"success": False, "message": "too large"}
    assert sb.counts[413] == 1 and sb.campaigns == {}


def test_a_keyless_body_is_never_parsed_in_process(draft: CampaignDraft) -> None:
    sb = Sandbox()
    path = f"/rest/accounts/{sb.account_id}/campaigns"
    body = json.dumps(draft.model_copy(update={"account_id": sb.account_id}).to_payload())
    with requests.Session() as session:
        base = sb.mount(session)
        for key in ("wrong", sb.api_key):
            session.post(base + path, data=body, headers={"X-API-KEY": key}, timeout=5)
    refused, served = sb.requests
    assert (refused.status, refused.body, refused.body_size) == (401, None, 0)
    assert (served.status, served.body, served.body_size) == (200, json.loads(body), len(body))
    sb.stop()
