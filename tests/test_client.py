"""The client over real HTTP against the sandbox on loopback: calls, errors, retries."""

from __future__ import annotations

import logging
import time

import pytest
from pydantic import ValidationError

import alsona_nb
from alsona_nb import (
    AlsonaClient,
    AlsonaError,
    AuthenticationError,
    BadRequestError,
    CampaignDraft,
    Fault,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResultsLog,
    Sandbox,
    ServerError,
    TransportError,
    UnexpectedResponseError,
)


def test_create_returns_the_servers_campaign(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    campaign = client.create_campaign(draft)
    assert campaign.campaign_id in sandbox.campaigns
    assert campaign.name == draft.name
    assert campaign.account_id == sandbox.account_id
    assert campaign.timezone == -300
    assert campaign.priority is not None and campaign.wait_until is not None


def test_request_is_exactly_the_drafts_payload(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    client.create_campaign(draft)
    (seen,) = sandbox.requests
    assert seen.path == f"/rest/accounts/{sandbox.account_id}/campaigns"
    assert seen.key_ok
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["User-Agent"].startswith(f"alsona-nb/{alsona_nb.__version__} ")
    sent = seen.body["campaign"]
    expected = draft.model_copy(update={"account_id": sandbox.account_id}).to_payload(
        now_ms=sent["created_at"]
    )
    assert seen.body == expected


def test_dicts_and_bodies_are_accepted(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    client.create_campaign(draft.model_dump(exclude_none=True))
    client.create_campaign(draft.to_payload())
    assert len(sandbox.campaigns) == 2


def test_the_drafts_own_account_wins(sandbox: Sandbox, draft: CampaignDraft) -> None:
    client = sandbox.client(account_id="account_other")
    assert client.create_campaign(draft.model_copy(update={"account_id": sandbox.account_id}))
    with pytest.raises(NotFoundError, match="account_other"):
        client.create_campaign(draft)


def test_invalid_input_is_refused_before_any_request(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    with pytest.raises(ValidationError, match="name"):
        client.create_campaign({"name": " ", "seats": ["s"], "schedule": {}})
    # model_copy(update=...) skips validation; the client validates again.
    with pytest.raises(ValidationError, match="spaces"):
        client.create_campaign(draft.model_copy(update={"campaign_id": "a b"}))
    assert sandbox.requests == []


def test_no_account_anywhere_is_refused_before_any_request(
    sandbox: Sandbox, draft: CampaignDraft
) -> None:
    client = AlsonaClient(api_key=sandbox.api_key, base_url=sandbox.url)
    with pytest.raises(ValueError, match="no account id"):
        client.create_campaign(draft)
    assert sandbox.requests == []


def test_no_key_is_refused_at_construction() -> None:
    with pytest.raises(AuthenticationError, match="ALSONA_API_KEY"):
        AlsonaClient(account_id="a")


def test_environment_defaults(monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox) -> None:
    monkeypatch.setenv("ALSONA_API_KEY", sandbox.api_key)
    monkeypatch.setenv("ALSONA_ACCOUNT_ID", sandbox.account_id)
    monkeypatch.setenv("ALSONA_BASE_URL", sandbox.url)
    client = AlsonaClient()
    assert (client.base_url, client.account_id, client.is_sandbox) == (
        sandbox.url,
        sandbox.account_id,
        False,
    )
    assert AlsonaClient(api_key="k").base_url == sandbox.url


def test_default_host_is_the_seeds() -> None:
    assert AlsonaClient(api_key="k").base_url == "https://alsona.com"


@pytest.mark.parametrize(
    "url", ["http://alsona.com", "http://10.0.0.5:8000", "ftp://alsona.com", "alsona.com"]
)
def test_unsafe_or_malformed_base_urls_refused(url: str) -> None:
    with pytest.raises(ValueError, match=r"https?://"):
        AlsonaClient(api_key="k", base_url=url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9"])
def test_plain_http_only_to_loopback(url: str) -> None:
    assert AlsonaClient(api_key="k", base_url=url + "/").base_url == url


# -- errors from real answers ------------------------------------------------------------


def test_wrong_key_is_authentication_error(sandbox: Sandbox, draft: CampaignDraft) -> None:
    client = sandbox.client(api_key="not-the-key")
    with pytest.raises(AuthenticationError) as exc:
        client.create_campaign(draft)
    assert exc.value.status_code == 401
    assert exc.value.message == "Invalid or missing API key"
    assert exc.value.error == "unauthorized"


def test_duplicate_campaign_id_is_bad_request(client: AlsonaClient, draft: CampaignDraft) -> None:
    chosen = draft.model_copy(update={"campaign_id": "CAMP0001"})
    client.create_campaign(chosen)
    with pytest.raises(BadRequestError, match="already exists") as exc:
        client.create_campaign(chosen)
    assert exc.value.status_code == 400


@pytest.mark.parametrize(
    "fault,cls,status",
    [
        (Fault.error(400, shape="success_false"), BadRequestError, 400),
        (Fault.error(403), PermissionDeniedError, 403),
        (Fault.error(404), NotFoundError, 404),
        (Fault.error(422), BadRequestError, 422),
        (Fault.error(500), ServerError, 500),
        (Fault.html(502), ServerError, 502),
        (Fault.error(418), UnexpectedResponseError, 418),
        (Fault.raw(200, '{"success": false, "message": "quota"}'), UnexpectedResponseError, 200),
        (Fault.raw(200, ""), UnexpectedResponseError, 200),
        (Fault.raw(200, "{not json"), UnexpectedResponseError, 200),
        (Fault.raw(200, '{"success": true}'), UnexpectedResponseError, 200),
        (
            Fault.raw(200, '{"success": true, "campaign": {"name": "x"}}'),
            UnexpectedResponseError,
            200,
        ),
        (
            Fault(status=302, body=b"", headers={"Location": "https://elsewhere.example/"}),
            UnexpectedResponseError,
            302,
        ),
    ],
)
def test_each_answer_has_its_error_class(
    client: AlsonaClient,
    sandbox: Sandbox,
    draft: CampaignDraft,
    fault: Fault,
    cls: type[AlsonaError],
    status: int,
) -> None:
    sandbox.inject(fault)
    with pytest.raises(cls) as exc:
        client.create_campaign(draft)
    assert type(exc.value) is cls
    assert exc.value.status_code == status
    assert exc.value.message
    assert len(sandbox.requests) == 1  # none of these is retried without a campaign_id


def test_html_gateway_page_is_still_a_clear_error(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    sandbox.inject(Fault.html(502))
    with pytest.raises(ServerError) as exc:
        client.create_campaign(draft)
    assert str(exc.value) == (
        "HTTP 502: Bad gateway (the server sent an HTML page, probably from a gateway)"
        " (the campaign may or may not have been created)"
    )
    assert exc.value.maybe_created
    assert exc.value.body_excerpt is not None and "nginx" in exc.value.body_excerpt


# -- retries (NOTES 7), counted at the sandbox -------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
def test_429_and_503_are_retried_after_retry_after(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft, status: int
) -> None:
    sandbox.inject(Fault.error(status, retry_after=0.3))
    start = time.monotonic()
    campaign = client.create_campaign(draft)
    assert time.monotonic() - start >= 0.3
    assert [r.status for r in sandbox.requests] == [status, 200]
    assert list(sandbox.campaigns) == [campaign.campaign_id]


def test_retry_after_as_http_date(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    from email.utils import formatdate

    sandbox.inject(Fault.error(429, retry_after=formatdate(time.time() + 1, usegmt=True)))
    attempt = client.attempt(draft)
    assert attempt.ok and attempt.tries == 2


def test_rate_limit_gives_up_within_the_wait_budget(sandbox: Sandbox, draft: CampaignDraft) -> None:
    client = sandbox.client(max_retry_wait=1.0)
    sandbox.inject(Fault.error(429, retry_after=30))
    start = time.monotonic()
    with pytest.raises(RateLimitError, match="max_retry_wait") as exc:
        client.create_campaign(draft)
    assert time.monotonic() - start < 1.0
    assert exc.value.retry_after == 30
    assert len(sandbox.requests) == 1


def test_rate_limit_gives_up_after_max_retries(sandbox: Sandbox, draft: CampaignDraft) -> None:
    client = sandbox.client(max_retries=2)
    sandbox.inject(Fault.error(429, retry_after=0), times=5)
    with pytest.raises(RateLimitError, match="after 3 tries"):
        client.create_campaign(draft)
    assert len(sandbox.requests) == 3


def test_5xx_not_retried_without_a_campaign_id(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    sandbox.inject(Fault.error(500))
    with pytest.raises(ServerError):
        client.create_campaign(draft)
    assert len(sandbox.requests) == 1


def test_5xx_retried_with_a_campaign_id(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    sandbox.inject(Fault.error(500), Fault.error(502))
    campaign = client.create_campaign(draft.model_copy(update={"campaign_id": "CAMP42"}))
    assert campaign.campaign_id == "CAMP42"
    assert [r.status for r in sandbox.requests] == [500, 502, 200]


def test_read_timeout_not_retried_without_a_campaign_id(
    sandbox: Sandbox, draft: CampaignDraft
) -> None:
    client = sandbox.client(timeout=0.3)
    sandbox.inject(Fault.stall(1.0, after_create=True))
    with pytest.raises(TransportError, match="may or may not have been created"):
        client.create_campaign(draft)
    assert len(sandbox.requests) == 1


def test_lost_answer_with_campaign_id_creates_exactly_once(
    sandbox: Sandbox, draft: CampaignDraft
) -> None:
    client = sandbox.client(timeout=0.3)
    sandbox.inject(Fault.stall(1.0, after_create=True))
    chosen = draft.model_copy(update={"campaign_id": "CAMP7"})
    attempt = client.attempt(chosen)
    # The retry was told "CAMP7 already exists": our own lost create, so it counts as done.
    assert attempt.ok and attempt.extra["answer_lost"] is True
    assert attempt.campaign is not None and attempt.campaign.campaign_id == "CAMP7"
    assert list(sandbox.campaigns) == ["CAMP7"]
    assert len(sandbox.requests) == 2 and sandbox.requests[1].status == 400


def test_an_id_taken_before_is_still_an_error(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    chosen = draft.model_copy(update={"campaign_id": "CAMP8"})
    client.create_campaign(chosen)
    with pytest.raises(BadRequestError, match="already exists"):
        client.create_campaign(chosen)  # nothing was lost: a real clash


def test_may_exist_counts_an_existing_own_id_as_done(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    """A re-feed after a lost answer: the caller knows an earlier attempt may have created it."""
    chosen = draft.model_copy(update={"campaign_id": "CAMP9"})
    client.create_campaign(chosen)
    assert client.attempt(chosen, may_exist=True).ok
    assert client.attempt(draft, may_exist=True).ok  # no own id: a plain new create
    assert len(sandbox.campaigns) == 2


def test_dropped_connection_not_retried_without_a_campaign_id(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    sandbox.inject(Fault.cut(after_create=True))
    with pytest.raises(TransportError, match="dropped"):
        client.create_campaign(draft)
    assert len(sandbox.requests) == 1
    assert len(sandbox.campaigns) == 1


def test_connection_refused_is_retried_then_transport_error(draft: CampaignDraft) -> None:
    with Sandbox() as gone:
        url = gone.url
    client = AlsonaClient(api_key="k", account_id="a", base_url=url, max_retries=2)
    attempt = client.attempt(draft)
    assert isinstance(attempt.error, TransportError)
    assert "connection refused" in attempt.error.message
    assert attempt.tries == 3
    assert attempt.http_status is None


def test_connect_failure_then_server_up_succeeds(draft: CampaignDraft) -> None:
    """A refused connection never reached a server, so retrying it is safe."""
    sandbox = Sandbox()
    sandbox.start()
    port = int(sandbox.url.rsplit(":", 1)[1])
    sandbox.stop()
    client = AlsonaClient(api_key="k", account_id="a", base_url=f"http://127.0.0.1:{port}")
    later = Sandbox(port=port, api_key="k", account_id="a")
    import threading

    timer = threading.Timer(0.1, later.start)
    timer.start()
    try:
        assert client.create_campaign(draft).campaign_id in later.campaigns
    finally:
        timer.join()
        later.stop()


# -- what is kept, and what is never shown -------------------------------------------------


def test_every_call_is_one_attempt_in_the_log(sandbox: Sandbox, draft: CampaignDraft) -> None:
    log = ResultsLog()
    client = sandbox.client(log=log)
    client.create_campaign(draft)
    with pytest.raises(ValidationError):
        client.create_campaign({"name": ""})
    sandbox.inject(Fault.error(403))
    with pytest.raises(PermissionDeniedError):
        client.create_campaign(draft)
    frame = log.to_frame()
    assert frame["ok"].tolist() == [True, False, False]
    assert frame["error_type"].tolist()[1:] == ["ValidationError", "PermissionDeniedError"]
    assert frame["http_status"].tolist()[0::2] == [200, 403]


def test_the_key_never_shows(
    sandbox: Sandbox, draft: CampaignDraft, caplog: pytest.LogCaptureFixture
) -> None:
    key = sandbox.api_key
    client = sandbox.client(log=ResultsLog())
    caplog.set_level(logging.DEBUG)
    client.create_campaign(draft)
    sandbox.inject(Fault.error(401), Fault.html(502))
    errors = [client.attempt(draft).error for _ in range(2)]
    shown = [repr(client), str(client), caplog.text, *map(repr, errors), *map(str, errors)]
    shown.append(repr(client.log.rows))  # type: ignore[union-attr]
    assert caplog.text  # DEBUG lines were written
    assert not [text for text in shown if key in text]


def test_keep_alive_reuses_one_connection(client: AlsonaClient, draft: CampaignDraft) -> None:
    for _ in range(5):
        client.create_campaign(draft)
    pool = client._session.get_adapter(client.base_url).poolmanager
    (connection_pool,) = pool.pools._container.values()
    assert connection_pool.num_connections == 1
