"""The sandbox answers the contract, keeps what it made, and misbehaves only when told."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from typing import Any

import pytest
import requests

from alsona_nb import CampaignDraft, Fault, Sandbox


def post(
    sandbox: Sandbox,
    body: Any,
    *,
    key: str | None = None,
    account: str | None = None,
    timeout: float = 5.0,
) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(
        f"{sandbox.url}/rest/accounts/{account or sandbox.account_id}/campaigns",
        data=data,
        headers={
            "X-API-KEY": key if key is not None else sandbox.api_key,
            "Content-Type": "application/json",
        },
        timeout=timeout,
    )


def body_for(sandbox: Sandbox, draft: CampaignDraft, **changes: Any) -> dict[str, Any]:
    payload = draft.model_copy(update={"account_id": sandbox.account_id}).to_payload()
    payload["campaign"].update(changes)
    return payload


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


@pytest.mark.parametrize("key", ["", "wrong"])
def test_bad_key_is_401_in_the_contract_shape(
    sandbox: Sandbox, draft: CampaignDraft, key: str
) -> None:
    answer = post(sandbox, body_for(sandbox, draft), key=key)
    assert answer.status_code == 401
    assert set(answer.json()) == {"error", "message"}
    assert sandbox.requests[0].key_ok is False
    assert sandbox.campaigns == {}


@pytest.mark.parametrize(
    "body,needle",
    [
        (b"{nope", "not valid JSON"),
        ({"name": "no wrapper"}, "needs a campaign object"),
        ({"campaign": {"name": ""}}, "name: must not be empty"),
    ],
)
def test_bad_bodies_are_400_with_a_reason(sandbox: Sandbox, body: Any, needle: str) -> None:
    answer = post(sandbox, body)
    assert answer.status_code == 400
    assert needle in answer.json()["message"]


def test_validates_with_the_same_models(sandbox: Sandbox, draft: CampaignDraft) -> None:
    body = body_for(sandbox, draft)
    body["campaign"]["schedule"]["monday"] = [True, 17, 9]
    answer = post(sandbox, body)
    assert answer.status_code == 400
    assert (
        "schedule.monday: start hour (17) must be before end hour (9)" in answer.json()["message"]
    )


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


def test_unknown_account_is_404(sandbox: Sandbox, draft: CampaignDraft) -> None:
    answer = post(sandbox, body_for(sandbox, draft), account="account_nobody")
    assert answer.status_code == 404
    assert answer.json()["success"] is False


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


def test_drop_and_cut_break_the_connection(sandbox: Sandbox, draft: CampaignDraft) -> None:
    sandbox.inject(Fault.drop(), Fault.cut(after_create=True))
    with pytest.raises(requests.ConnectionError):
        post(sandbox, body_for(sandbox, draft))
    with pytest.raises(requests.RequestException):
        post(sandbox, body_for(sandbox, draft))
    assert len(sandbox.campaigns) == 1  # the cut came after the campaign was stored


def test_stall_outlasts_a_short_timeout(sandbox: Sandbox, draft: CampaignDraft) -> None:
    sandbox.inject(Fault.stall(2.0))
    with pytest.raises(requests.ReadTimeout):
        post(sandbox, body_for(sandbox, draft), timeout=0.2)


def test_random_faults_are_reproducible(draft: CampaignDraft) -> None:
    def run() -> list[int | None]:
        with Sandbox() as sb:
            sb.inject_random(0.5, [Fault.error(503), Fault.error(500)], seed=3)
            for _ in range(20):
                post(sb, body_for(sb, draft))
            return [r.status for r in sb.requests]

    statuses = run()
    assert statuses == run()
    assert {200, 500, 503} == set(statuses)


def test_stop_ends_kept_alive_connections(draft: CampaignDraft) -> None:
    sandbox = Sandbox().start()
    session = requests.Session()
    url = f"{sandbox.url}/rest/accounts/{sandbox.account_id}/campaigns"
    body = json.dumps(body_for(sandbox, draft))
    headers = {"X-API-KEY": sandbox.api_key}
    assert session.post(url, data=body, headers=headers, timeout=2).status_code == 200
    sandbox.stop()
    with pytest.raises(requests.ConnectionError):
        session.post(url, data=body, headers=headers, timeout=2)


def test_command_line_server(draft: CampaignDraft) -> None:
    with Sandbox() as probe:  # borrow a free port
        port = int(probe.url.rsplit(":", 1)[1])
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "alsona_nb.sandbox", "--port", str(port), "--api-key", "k-cli"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert f"SANDBOX (local, nothing is sent to Alsona) at http://127.0.0.1:{port}" in banner
        body = draft.model_copy(update={"account_id": "account_cd855c2bb1cc72097238"})
        answer = requests.post(
            f"http://127.0.0.1:{port}/rest/accounts/account_cd855c2bb1cc72097238/campaigns",
            json=body.to_payload(),
            headers={"X-API-KEY": "k-cli"},
            timeout=5,
        )
        assert answer.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
