"""The sandbox answers the contract (NOTES 9-13), keeps what it made, counts, throttles,
misbehaves only when told, and survives hostile requests. Plain ``requests`` over real HTTP
on loopback, so these tests do not depend on the client."""

from __future__ import annotations

import inspect
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests
from conftest import FakeTime

from alsona_nb import CampaignDraft
from alsona_nb.sandbox import DEFAULT_SEATS, Fault, Reply, Sandbox, SandboxAdapter

ACCOUNT = "account_cd855c2bb1cc72097238"


def campaigns_url(sandbox: Sandbox, account: str | None = None) -> str:
    return f"{sandbox.url}/rest/accounts/{account or sandbox.account_id}/campaigns"


def headers_for(sandbox: Sandbox, key: str | None = None) -> dict[str, str]:
    return {
        "X-API-KEY": key if key is not None else sandbox.api_key,
        "Content-Type": "application/json",
    }


def post(
    sandbox: Sandbox,
    body: Any,
    *,
    key: str | None = None,
    account: str | None = None,
    timeout: float = 10.0,
) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(
        campaigns_url(sandbox, account),
        data=data,
        headers=headers_for(sandbox, key),
        timeout=timeout,
    )


def get(sandbox: Sandbox, path: str, *, key: str | None = None, **params: str) -> requests.Response:
    url = f"{sandbox.url}/rest/accounts/{sandbox.account_id}/{path}"
    return requests.get(url, headers=headers_for(sandbox, key), params=params, timeout=10)


def body_for(sandbox: Sandbox, draft: CampaignDraft, **changes: Any) -> dict[str, Any]:
    payload = draft.model_copy(update={"account_id": sandbox.account_id}).to_payload()
    payload["campaign"].update(changes)
    return payload


def eventually(check: Callable[[], bool], within: float = 20.0) -> bool:
    """For what the server does after the client stopped waiting (a polled condition)."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


# -- create -------------------------------------------------------------------------------


def test_success_answer_fills_server_fields(sandbox: Sandbox, draft: CampaignDraft) -> None:
    answer = post(sandbox, body_for(sandbox, draft))
    assert answer.status_code == 200
    assert answer.headers["X-Alsona-Sandbox"] == "true"
    data = answer.json()
    assert data["success"] is True
    campaign = data["campaign"]
    assert re.fullmatch(r"campaign_[0-9a-f]{20}", campaign["campaign_id"])
    assert isinstance(campaign["priority"], int) and isinstance(campaign["wait_until"], int)
    assert campaign["timezone"] == -300
    assert sandbox.campaigns == {campaign["campaign_id"]: campaign}


def test_timezone_defaults_to_zero(sandbox: Sandbox, draft: CampaignDraft) -> None:
    body = body_for(sandbox, draft)
    del body["campaign"]["timezone"]
    assert post(sandbox, body).json()["campaign"]["timezone"] == 0


def test_chosen_id_is_kept_and_a_second_create_is_400(
    sandbox: Sandbox, draft: CampaignDraft
) -> None:
    body = body_for(sandbox, draft, campaign_id="CAMP6a13")
    assert post(sandbox, body).json()["campaign"]["campaign_id"] == "CAMP6a13"
    again = post(sandbox, body)
    assert again.status_code == 400
    assert again.json() == {
        "error": "campaign_exists",
        "message": "a campaign with id 'CAMP6a13' already exists",
    }
    assert len(sandbox.campaigns) == 1


@pytest.mark.parametrize(
    "body,error",
    [
        (b"{nope", "invalid_json"),
        (b"", "invalid_json"),
        ({"name": "no wrapper"}, "invalid_request"),
        ({"campaign": {"name": ""}}, "invalid_campaign"),
    ],
)
def test_bad_bodies_are_400_with_a_reason(sandbox: Sandbox, body: Any, error: str) -> None:
    answer = post(sandbox, body)
    assert answer.status_code == 400
    assert answer.json()["error"] == error and answer.json()["message"].strip()


def test_validates_with_the_same_models(sandbox: Sandbox, draft: CampaignDraft) -> None:
    body = body_for(sandbox, draft)
    body["campaign"]["schedule"]["monday"] = [True, 17, 9]
    answer = post(sandbox, body)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_campaign"
    assert "hour" in answer.json()["message"].lower()


@pytest.mark.parametrize("field", ["created_at", "account_id"])
def test_schema_required_fields(sandbox: Sandbox, draft: CampaignDraft, field: str) -> None:
    body = body_for(sandbox, draft)
    del body["campaign"][field]
    answer = post(sandbox, body)
    assert answer.status_code == 400
    assert f"missing {field}" in answer.json()["message"]


def test_body_account_must_match_path(sandbox: Sandbox, draft: CampaignDraft) -> None:
    answer = post(sandbox, body_for(sandbox, draft, account_id="account_x"))
    assert answer.status_code == 400
    assert "does not match the path" in answer.json()["message"]


# -- routes, keys, accounts, methods ------------------------------------------------------

ROUTES = [
    ("POST", "campaigns"),
    ("GET", "campaigns"),
    ("GET", "campaigns/campaign_00000000000000000000"),
    ("GET", "seats"),
    ("GET", "seats/seat_6a13e661ecc6a86e3fb7"),
    ("GET", "nowhere"),
]


@pytest.mark.parametrize("key", ["", "wrong"])
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_bad_key_is_401_on_every_route(
    sandbox: Sandbox, draft: CampaignDraft, key: str, method: str, path: str
) -> None:
    answer = requests.request(
        method,
        f"{sandbox.url}/rest/accounts/{sandbox.account_id}/{path}",
        json=body_for(sandbox, draft),
        headers={"X-API-KEY": key},
        timeout=10,
    )
    assert answer.status_code == 401
    assert set(answer.json()) == {"error", "message"}
    assert sandbox.requests[0].key_ok is False
    assert "X-API-KEY" not in sandbox.requests[0].headers
    assert sandbox.campaigns == {}


@pytest.mark.parametrize(("method", "path"), ROUTES[:5])
def test_another_account_is_404_on_every_route(
    sandbox: Sandbox, draft: CampaignDraft, method: str, path: str
) -> None:
    answer = requests.request(
        method,
        f"{sandbox.url}/rest/accounts/account_nobody/{path}",
        json=body_for(sandbox, draft),
        headers=headers_for(sandbox),
        timeout=10,
    )
    assert answer.status_code == 404
    assert answer.json()["success"] is False and "account_nobody" in answer.json()["message"]


@pytest.mark.parametrize(
    "path", ["/", "/rest/accounts", f"/rest/accounts/{ACCOUNT}/other", f"/rest/x/{ACCOUNT}/seats"]
)
def test_unknown_routes_are_404(sandbox: Sandbox, path: str) -> None:
    answer = requests.get(sandbox.url + path, headers=headers_for(sandbox), timeout=10)
    assert answer.status_code == 404 and answer.json()["success"] is False


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "campaigns", "GET, POST"),
        ("PUT", "campaigns", "GET, POST"),
        ("POST", "campaigns/campaign_x", "GET, PUT, DELETE"),
        ("POST", "seats", "GET"),
        ("PATCH", "seats/seat_x", "GET"),
    ],
)
def test_wrong_methods_are_405(sandbox: Sandbox, method: str, path: str, allow: str) -> None:
    url = f"{sandbox.url}/rest/accounts/{sandbox.account_id}/{path}"
    answer = requests.request(method, url, headers=headers_for(sandbox), data=b"{}", timeout=10)
    assert answer.status_code == 405
    assert answer.headers["Allow"] == allow and answer.json()["success"] is False


# -- get one, list, seats -----------------------------------------------------------------


def test_get_one_campaign_answers_what_create_answered(
    sandbox: Sandbox, draft: CampaignDraft
) -> None:
    created = post(sandbox, body_for(sandbox, draft, campaign_id="CAMP/1?x&y")).json()
    answer = get(sandbox, "campaigns/" + quote("CAMP/1?x&y", safe=""))
    assert answer.status_code == 200
    assert (
        answer.json() == created == {"success": True, "campaign": sandbox.campaigns["CAMP/1?x&y"]}
    )


def test_get_an_unknown_campaign_is_404(sandbox: Sandbox) -> None:
    answer = get(sandbox, "campaigns/campaign_00000000000000000000")
    assert answer.status_code == 404
    assert answer.json() == {
        "success": False,
        "message": "campaign 'campaign_00000000000000000000' not found",
    }


def follow_pages(sandbox: Sandbox, path: str, name: str) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    params: dict[str, str] = {}
    while True:
        data = get(sandbox, path, **params).json()
        assert data["success"] is True and set(data) == {"success", name, "last_key"}
        pages.append(data[name])
        if data["last_key"] is None:
            return pages
        assert isinstance(data["last_key"], str)
        params = {"last_key": data["last_key"]}  # requests URL-encodes it


def test_list_campaigns_follows_cursor_pages(sandbox: Sandbox, draft: CampaignDraft) -> None:
    sandbox.page_size = 2
    assert follow_pages(sandbox, "campaigns", "campaigns") == [[]]
    ids = [
        post(sandbox, body_for(sandbox, draft)).json()["campaign"]["campaign_id"] for _ in range(5)
    ]
    pages = follow_pages(sandbox, "campaigns", "campaigns")
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [c["campaign_id"] for p in pages for c in p] == ids
    assert pages[0][0] == sandbox.campaigns[ids[0]]
    post(sandbox, body_for(sandbox, draft))
    assert [len(p) for p in follow_pages(sandbox, "campaigns", "campaigns")] == [2, 2, 2]


def test_the_cursor_needs_url_encoding_and_a_made_up_one_is_400(
    sandbox: Sandbox, draft: CampaignDraft
) -> None:
    sandbox.page_size = 1
    post(sandbox, body_for(sandbox, draft))
    post(sandbox, body_for(sandbox, draft))
    last_key = get(sandbox, "campaigns").json()["last_key"]
    assert quote(last_key, safe="") != last_key  # a client that does not encode it breaks
    for made_up in ["nope", '{"campaign_id": "campaign_gone"}', "[1]", "{" * 5000]:
        answer = get(sandbox, "campaigns", last_key=made_up)
        assert answer.status_code == 400 and answer.json()["success"] is False


def test_seats_list_has_ids_and_names_in_pages(sandbox: Sandbox) -> None:
    assert "seat_6a13e661ecc6a86e3fb7" in sandbox.seats and len(sandbox.seats) >= 3
    sandbox.page_size = 2
    pages = follow_pages(sandbox, "seats", "seats")
    assert len(pages) == -(-len(sandbox.seats) // 2)
    listed = {s["seat_id"]: s["name"] for p in pages for s in p}
    assert listed == sandbox.seats == DEFAULT_SEATS
    assert listed["seat_6a13e661ecc6a86e3fb7"] == "Ana Lopez (LinkedIn)"


def test_seats_are_settable_and_one_can_be_read() -> None:
    with Sandbox(seats={"SEAT1": "Zoe (Email)"}) as sb:
        assert get(sb, "seats").json() == {
            "success": True,
            "seats": [{"seat_id": "SEAT1", "name": "Zoe (Email)"}],
            "last_key": None,
        }
        assert get(sb, "seats/SEAT1").json() == {
            "success": True,
            "seat": {"seat_id": "SEAT1", "name": "Zoe (Email)"},
        }
        assert get(sb, "seats/seat_6a13e661ecc6a86e3fb7").status_code == 404


# -- counters, throttle, reset ------------------------------------------------------------


def test_requests_are_counted_by_method_and_answers_by_status(
    sandbox: Sandbox, draft: CampaignDraft
) -> None:
    post(sandbox, body_for(sandbox, draft))
    post(sandbox, body_for(sandbox, draft), key="wrong")
    get(sandbox, "campaigns")
    get(sandbox, "seats")
    get(sandbox, "seats")
    assert (sandbox.counts["POST"], sandbox.counts["GET"]) == (2, 3)
    assert (sandbox.counts[200], sandbox.counts[401], sandbox.counts[429]) == (4, 1, 0)
    assert [r.method for r in sandbox.requests] == ["POST", "POST", "GET", "GET", "GET"]


def test_throttle_is_a_token_bucket_on_an_injected_clock(draft: CampaignDraft) -> None:
    clock = FakeTime()
    with Sandbox(rate=2.0, burst=3, clock=clock) as sb:
        assert (sb.rate, sb.burst) == (2.0, 3)
        statuses = [post(sb, body_for(sb, draft)).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        refused = get(sb, "seats")  # every route, every method
        assert refused.status_code == 429
        assert refused.json() == {"message": "Too Many Requests"}
        assert refused.headers["Retry-After"] == "1"  # 0.5 s rounded up to whole seconds
        assert (sb.counts[429], sb.throttled, len(sb.campaigns)) == (1, 1, 3)
        clock.now += 0.5  # one token back
        assert get(sb, "seats").status_code == 200
        assert get(sb, "seats").status_code == 429
        clock.now += 10.0  # refills up to the burst only
        assert [get(sb, "seats").status_code for _ in range(4)] == [200, 200, 200, 429]
        assert sb.throttled == 3


def test_retry_after_is_whole_seconds_and_throttle_can_change(draft: CampaignDraft) -> None:
    clock = FakeTime()
    with Sandbox(clock=clock) as sb:
        assert sb.rate is None
        sb.throttle(0.25, burst=1)
        assert get(sb, "seats").status_code == 200
        assert get(sb, "seats").headers["Retry-After"] == "4"
        clock.now += 1.5
        assert get(sb, "seats").headers["Retry-After"] == "3"  # 2.5 s left, rounded up
        sb.throttle(None)
        assert [get(sb, "seats").status_code for _ in range(5)] == [200] * 5
        with pytest.raises(ValueError):
            sb.throttle(0)


def test_reset_forgets_everything_and_restores_the_settings(draft: CampaignDraft) -> None:
    clock = FakeTime()
    with Sandbox(rate=5.0, burst=2, page_size=7, clock=clock) as sb:
        post(sb, body_for(sb, draft))
        post(sb, body_for(sb, draft))
        assert post(sb, body_for(sb, draft)).status_code == 429
        sb.inject(Fault.error(500), times=3)
        sb.inject_random(1.0, [Fault.error(503)])
        sb.latency, sb.page_size = 0.5, 1
        sb.seats["seat_new"] = "New"
        sb.throttle(None)
        sb.reset()
        assert (sb.campaigns, sb.requests, sb.throttled) == ({}, [], 0)
        assert sb.counts == {} and not sb.counts["POST"]
        assert (sb.latency, sb.page_size, sb.seats) == (0.0, 7, DEFAULT_SEATS)
        assert (sb.rate, sb.burst) == (5.0, 2)  # a fresh, full bucket
        assert [post(sb, body_for(sb, draft)).status_code for _ in range(3)] == [200, 200, 429]


# -- faults -------------------------------------------------------------------------------


def test_latency_knob(draft: CampaignDraft) -> None:
    with Sandbox(latency=0.2) as slow:
        start = time.monotonic()
        assert post(slow, body_for(slow, draft)).status_code == 200
        assert time.monotonic() - start >= 0.2


def test_faults_come_in_order_then_normal_service(sandbox: Sandbox, draft: CampaignDraft) -> None:
    sandbox.inject(Fault.error(429, retry_after=7), Fault.html(502))
    first, second, third = (post(sandbox, body_for(sandbox, draft)) for _ in range(3))
    assert (first.status_code, first.headers["Retry-After"]) == (429, "7")
    assert second.status_code == 502 and second.text.startswith("<html>")
    assert third.status_code == 200
    assert [r.status for r in sandbox.requests] == [429, 502, 200]
    assert sandbox.counts[429] == 1 and sandbox.throttled == 0


def test_faults_wait_for_their_method(sandbox: Sandbox, draft: CampaignDraft) -> None:
    sandbox.inject(Fault.error(500, methods=("GET",)), Fault.drop().on("get"), Fault.error(503))
    assert get(sandbox, "seats").status_code == 500
    assert post(sandbox, body_for(sandbox, draft)).status_code == 503  # skips the GET faults
    with pytest.raises(requests.ConnectionError):
        get(sandbox, "campaigns")
    assert get(sandbox, "campaigns").status_code == 200
    assert post(sandbox, body_for(sandbox, draft)).status_code == 200


@pytest.mark.parametrize(
    "fault",
    [Fault.error(500, after_create=True), Fault.html(502, after_create=True)],
    ids=["500", "html"],
)
def test_after_create_errors_store_the_campaign_and_lose_the_answer(
    sandbox: Sandbox, draft: CampaignDraft, fault: Fault
) -> None:
    sandbox.inject(fault)
    body = body_for(sandbox, draft, campaign_id="CAMPlost")
    assert post(sandbox, body).status_code == fault.status
    assert list(sandbox.campaigns) == ["CAMPlost"]
    assert get(sandbox, "campaigns/CAMPlost").status_code == 200
    assert post(sandbox, body).json()["error"] == "campaign_exists"
    assert [r.status for r in sandbox.requests] == [fault.status, 200, 400]
    assert sandbox.counts[200] == 1 and sandbox.counts[fault.status] == 1


def test_drop_and_cut_break_the_connection(sandbox: Sandbox, draft: CampaignDraft) -> None:
    sandbox.inject(Fault.drop(), Fault.cut(after_create=True), Fault.drop(after_create=True))
    with pytest.raises(requests.ConnectionError):
        post(sandbox, body_for(sandbox, draft))
    assert sandbox.campaigns == {}
    with pytest.raises(requests.RequestException):
        post(sandbox, body_for(sandbox, draft))
    assert len(sandbox.campaigns) == 1  # the cut came after the campaign was stored
    with pytest.raises(requests.ConnectionError):
        post(sandbox, body_for(sandbox, draft))
    assert len(sandbox.campaigns) == 2
    assert [r.status for r in sandbox.requests] == [None, None, None]
    assert sandbox.counts["POST"] == 3 and sandbox.counts[200] == 0


def test_stall_outlasts_a_timeout_before_the_create(sandbox: Sandbox, draft: CampaignDraft) -> None:
    sandbox.inject(Fault.stall(60.0))
    with pytest.raises(requests.ReadTimeout):
        post(sandbox, body_for(sandbox, draft), timeout=0.5)
    assert sandbox.campaigns == {}  # stop() ends the stall; nothing was created


def test_stall_after_the_create_stores_it_and_loses_the_answer(
    sandbox: Sandbox, draft: CampaignDraft
) -> None:
    sandbox.inject(Fault.stall(60.0, after_create=True))
    with pytest.raises(requests.ReadTimeout):
        post(sandbox, body_for(sandbox, draft, campaign_id="CAMPslow"), timeout=0.5)
    assert eventually(lambda: "CAMPslow" in sandbox.campaigns)


def test_reset_hangs_up_stalled_requests_without_a_trace(
    sandbox: Sandbox, draft: CampaignDraft
) -> None:
    sandbox.inject(Fault.stall(60.0), Fault.stall(60.0, after_create=True))
    for _ in range(2):
        with pytest.raises(requests.ReadTimeout):
            post(sandbox, body_for(sandbox, draft), timeout=0.5)
    assert eventually(lambda: len(sandbox.campaigns) == 1)  # the second one, before its stall
    sandbox.reset()
    assert eventually(lambda: sandbox.open_connections == 0)  # both waits ended at once
    assert (sandbox.campaigns, sandbox.requests, sandbox.counts) == ({}, [], {})


def test_a_get_can_break_too_for_reconcile_tests(sandbox: Sandbox, draft: CampaignDraft) -> None:
    sandbox.inject(Fault.cut(after_create=True))
    with pytest.raises(requests.RequestException):
        post(sandbox, body_for(sandbox, draft, campaign_id="CAMPx"))
    sandbox.inject(Fault.stall(60.0).on("GET"))
    url = f"{sandbox.url}/rest/accounts/{sandbox.account_id}/campaigns/CAMPx"
    with pytest.raises(requests.ReadTimeout):
        requests.get(url, headers=headers_for(sandbox), timeout=0.5)
    assert get(sandbox, "campaigns/CAMPx").status_code == 200


def test_random_faults_are_reproducible(draft: CampaignDraft) -> None:
    def run() -> list[int | None]:
        with Sandbox() as sb:
            sb.inject_random(0.5, [Fault.error(503), Fault.error(500)], seed=3)
            for _ in range(20):
                post(sb, body_for(sb, draft))
                get(sb, "seats")  # GETs meet no POST fault and draw nothing
            return [r.status for r in sb.requests if r.method == "POST"]

    statuses = run()
    assert statuses == run()
    assert {200, 500, 503} == set(statuses)


def test_stop_ends_kept_alive_connections(draft: CampaignDraft) -> None:
    sandbox = Sandbox().start()
    session = requests.Session()
    url = campaigns_url(sandbox)
    body = json.dumps(body_for(sandbox, draft))
    headers = {"X-API-KEY": sandbox.api_key}
    assert session.post(url, data=body, headers=headers, timeout=10).status_code == 200
    sandbox.stop()
    with pytest.raises(requests.ConnectionError):
        session.post(url, data=body, headers=headers, timeout=10)


# -- hostile requests (raw sockets) -------------------------------------------------------


def raw_exchange(sandbox: Sandbox, data: bytes) -> bytes:
    """Send ``data`` and read until the server closes (30 s at most)."""
    port = int(sandbox.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(data)
        chunks: list[bytes] = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def request_head(sandbox: Sandbox, length: str, extra: str = "") -> bytes:
    return (
        f"POST /rest/accounts/{sandbox.account_id}/campaigns HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nConnection: close\r\nX-API-KEY: {sandbox.api_key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n{extra}\r\n"
    ).encode()


@pytest.fixture
def hostile(sandbox: Sandbox, capfd: pytest.CaptureFixture[str]) -> Iterator[Sandbox]:
    """The sandbox, waiting 0.3 s for a body; afterwards, it still serves and nothing went
    to stderr."""
    sandbox.body_read_timeout = 0.3
    yield sandbox
    assert get(sandbox, "seats").status_code == 200
    assert "Traceback" not in capfd.readouterr().err


def status_of(reply: bytes) -> int:
    assert reply.startswith(b"HTTP/1.1 "), reply[:100]
    return int(reply.split(b" ", 2)[1])


@pytest.mark.parametrize("length", ["abc", "-5", "1e3", "+5", "5, 5"])
def test_a_content_length_that_is_not_a_number_is_400(hostile: Sandbox, length: str) -> None:
    reply = raw_exchange(hostile, request_head(hostile, length))
    assert status_of(reply) == 400 and b"Content-Length" in reply


def test_an_absurd_content_length_is_413_without_reading(hostile: Sandbox) -> None:
    reply = raw_exchange(hostile, request_head(hostile, str(10**12)))
    assert status_of(reply) == 413
    assert hostile.counts[413] == 1


def test_deeply_nested_json_is_400(hostile: Sandbox) -> None:
    body = b'{"campaign": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    reply = raw_exchange(hostile, request_head(hostile, str(len(body))) + body)
    assert status_of(reply) == 400 and b"invalid_json" in reply


def test_a_body_shorter_than_announced_is_400_soon(hostile: Sandbox) -> None:
    reply = raw_exchange(hostile, request_head(hostile, "100") + b'{"campaign"')
    assert status_of(reply) == 400 and b"shorter" in reply
    assert hostile.campaigns == {}


def test_a_chunked_body_is_411(hostile: Sandbox) -> None:
    head = request_head(hostile, "0").replace(b"Content-Length: 0", b"Transfer-Encoding: chunked")
    reply = raw_exchange(hostile, head)
    assert status_of(reply) == 411


def test_many_seats_are_checked_in_linear_time(sandbox: Sandbox, draft: CampaignDraft) -> None:
    seats = [f"seat_{i}" for i in range(50_000)]  # ~0.7 MB: quadratic checks would hang
    answer = post(sandbox, body_for(sandbox, draft, seats=seats))
    assert answer.status_code == 200 and answer.json()["campaign"]["seats"] == seats


# -- the pure handler and the in-process transport ----------------------------------------


def test_handle_is_a_pure_function_of_the_request(draft: CampaignDraft) -> None:
    sb = Sandbox()  # never started: no server, no socket
    body = json.dumps(body_for(sb, draft, campaign_id="CAMP1")).encode()
    answer = sb.handle(
        "post", f"/rest/accounts/{ACCOUNT}/campaigns", {"x-api-key": sb.api_key}, body
    )
    status, headers, data = answer
    assert isinstance(answer, Reply) and status == 200
    assert headers["Content-Type"] == "application/json"
    assert json.loads(data)["campaign"] == sb.campaigns["CAMP1"]
    listing = sb.handle(
        "GET", f"/rest/accounts/{ACCOUNT}/campaigns?x=1", {"X-Api-Key": sb.api_key}, b""
    )
    assert [c["campaign_id"] for c in listing.json()["campaigns"]] == ["CAMP1"]
    assert sb.counts["POST"] == sb.counts["GET"] == 1


@pytest.fixture
def in_process() -> Iterator[tuple[Sandbox, requests.Session, str]]:
    sb = Sandbox()
    with requests.Session() as session:
        base = sb.mount(session)
        yield sb, session, base
    sb.stop()


def test_the_adapter_answers_without_a_socket(
    in_process: tuple[Sandbox, requests.Session, str], draft: CampaignDraft
) -> None:
    sb, session, base = in_process
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base) and base == sb.in_process_url
    assert isinstance(session.get_adapter(base + "/rest"), SandboxAdapter)
    url = f"{base}/rest/accounts/{sb.account_id}/campaigns"
    headers = {"X-API-KEY": sb.api_key}
    created = session.post(url, json=body_for(sb, draft), headers=headers, timeout=5)
    assert created.status_code == 200 and created.headers["X-Alsona-Sandbox"] == "true"
    assert created.json()["campaign"] == next(iter(sb.campaigns.values()))
    sb.page_size = 1
    session.post(url, json=body_for(sb, draft), headers=headers, timeout=5)
    first = session.get(url, headers=headers, timeout=5).json()
    second = session.get(url, headers=headers, params={"last_key": first["last_key"]}).json()
    assert second["last_key"] is None and len(first["campaigns"] + second["campaigns"]) == 2
    with pytest.raises(requests.ConnectionError):  # the port is held, never listened on
        requests.get(url, headers=headers, timeout=5)


def test_in_process_faults_fail_as_over_http(
    in_process: tuple[Sandbox, requests.Session, str], draft: CampaignDraft
) -> None:
    sb, session, base = in_process
    url = f"{base}/rest/accounts/{sb.account_id}/campaigns"
    headers = {"X-API-KEY": sb.api_key}

    def send(campaign_id: str, timeout: float | tuple[float, float] = 5.0) -> requests.Response:
        body = body_for(sb, draft, campaign_id=campaign_id)
        return session.post(url, json=body, headers=headers, timeout=timeout)

    sb.inject(
        Fault.drop(),
        Fault.drop(after_create=True),
        Fault.cut(),
        Fault.stall(3600.0, after_create=True),
        Fault.stall(3600.0),
        Fault.error(500, after_create=True),
    )
    with pytest.raises(requests.ConnectionError):
        send("c1")
    with pytest.raises(requests.ConnectionError):
        send("c2")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        send("c3")
    start = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        send("c4", timeout=(5.0, 30.0))
    with pytest.raises(requests.ReadTimeout):
        send("c5", timeout=30.0)
    assert time.monotonic() - start < 30.0  # raised at once, not after sleeping
    assert send("c6").status_code == 500
    assert sorted(sb.campaigns) == ["c2", "c3", "c4", "c6"]
    assert sb.counts["POST"] == 6 and sb.counts[500] == 1 and sb.counts[200] == 0


@pytest.mark.skipif(
    "mode" not in inspect.signature(__import__("alsona_nb").AlsonaClient).parameters,
    reason="waits for the core rewrite (AlsonaClient(mode=...))",
)
def test_client_in_process(draft: CampaignDraft) -> None:
    sb = Sandbox()
    with sb.client(in_process=True) as client:
        assert client.mode == "sandbox" and client.base_url == sb.in_process_url
        created = client.create_campaign(draft)
        assert created.campaign_id in sb.campaigns
    sb.stop()


# -- command line -------------------------------------------------------------------------


def start_cli(*args: str) -> tuple[subprocess.Popen[str], list[str]]:
    """Start the CLI; the lines it printed up to the key line."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "alsona_nb.sandbox", *args],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    while not lines or "ALSONA_API_KEY" not in lines[-1]:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
    return proc, lines


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_command_line_server(draft: CampaignDraft) -> None:
    port = free_port()
    proc, lines = start_cli("--port", str(port), "--api-key", "k-cli-secret", "--page-size", "1")
    try:
        assert f"SANDBOX (local, nothing is sent to Alsona) at http://127.0.0.1:{port}" in lines[0]
        assert "k-cli-secret" not in "".join(lines)
        body = draft.model_copy(update={"account_id": ACCOUNT})
        base = f"http://127.0.0.1:{port}/rest/accounts/{ACCOUNT}"
        for _ in range(2):
            answer = requests.post(
                f"{base}/campaigns",
                json=body.to_payload(),
                headers={"X-API-KEY": "k-cli-secret"},
                timeout=10,
            )
            assert answer.status_code == 200
        listed = requests.get(
            f"{base}/campaigns", headers={"X-API-KEY": "k-cli-secret"}, timeout=10
        )
        assert len(listed.json()["campaigns"]) == 1 and listed.json()["last_key"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()  # type: ignore[union-attr]


def test_command_line_on_all_interfaces_prints_a_loopback_url() -> None:
    port = free_port()
    proc, lines = start_cli("--host", "0.0.0.0", "--port", str(port), "--rate", "0.001")
    try:
        text = "".join(lines)
        url = f"http://127.0.0.1:{port}"
        assert f"at {url}" in lines[0] and f"ALSONA_BASE_URL={url}" in text
        assert "all interfaces" in text and "throttle" in text
        key = text.split("ALSONA_API_KEY=", 1)[1].split()[0]
        seats = f"{url}/rest/accounts/{ACCOUNT}/seats"
        assert requests.get(seats, headers={"X-API-KEY": key}, timeout=10).status_code == 200
        throttled = requests.get(seats, headers={"X-API-KEY": key}, timeout=10)
        assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()  # type: ignore[union-attr]


def test_command_line_other_accounts_ignored_ids_and_lagging_reads(draft: CampaignDraft) -> None:
    port = free_port()
    args = ["--port", str(port), "--api-key", "k", "--also-account", "account_b"]
    proc, lines = start_cli(*args, "--ignore-ids", "--read-lag", "1")
    try:
        text = "".join(lines)
        assert "also reaches: account_b" in text and "ids are ignored" in text
        assert "next 1 reads" in text
        base = f"http://127.0.0.1:{port}/rest/accounts/account_b/campaigns"
        body = draft.model_copy(update={"account_id": "account_b", "campaign_id": "CAMP_MINE"})
        created = requests.post(
            base, json=body.to_payload(), headers={"X-API-KEY": "k"}, timeout=10
        ).json()["campaign"]
        assert created["campaign_id"] != "CAMP_MINE"
        one = f"{base}/{created['campaign_id']}"
        statuses = [requests.get(one, headers={"X-API-KEY": "k"}, timeout=10).status_code]
        statuses.append(requests.get(one, headers={"X-API-KEY": "k"}, timeout=10).status_code)
        assert statuses == [404, 200]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()  # type: ignore[union-attr]
