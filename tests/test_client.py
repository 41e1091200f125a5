"""The client over real HTTP against the sandbox on loopback: prepare, create, errors,
retries (waits recorded by a fake clock, never slept), reads and the base-URL rules."""

from __future__ import annotations

import json
import re
import socket
from email.utils import formatdate

import pytest
from conftest import EchoServer, FakeTime

import alsona_nb
from alsona_nb import (
    AlsonaClient,
    AlsonaError,
    AuthenticationError,
    BadRequestError,
    CampaignDraft,
    Fault,
    InputError,
    InvalidDraftError,
    NotFoundError,
    PermissionDeniedError,
    PreparedCreate,
    RateLimitError,
    Sandbox,
    ServerError,
    TransportError,
    UnexpectedResponseError,
    WeeklySchedule,
)

MINTED = re.compile(r"^campaign_[0-9a-f]{20}$")


def test_create_returns_the_servers_campaign(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    campaign = client.create_campaign(draft)
    assert list(sandbox.campaigns) == [campaign.campaign_id]
    assert MINTED.match(campaign.campaign_id)
    assert (campaign.name, campaign.account_id, campaign.timezone) == (
        draft.name,
        sandbox.account_id,
        -300,
    )
    assert campaign.priority is not None and campaign.wait_until is not None


def test_prepare_builds_the_request_once(client: AlsonaClient, draft: CampaignDraft) -> None:
    prepared = client.prepare(draft)
    assert isinstance(prepared, PreparedCreate)
    assert prepared.url == f"{client.base_url}/rest/accounts/{client.account_id}/campaigns"
    assert MINTED.match(prepared.campaign_id or "")
    assert prepared.draft.account_id == client.account_id
    assert prepared.draft.created_at is not None
    assert prepared.payload == json.loads(prepared.body)
    assert prepared.payload["campaign"]["campaign_id"] == prepared.campaign_id
    assert client.prepare(prepared) is prepared
    assert client.prepare(draft).campaign_id != prepared.campaign_id  # a new one each time


def test_the_bytes_sent_are_the_prepared_body(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    prepared = client.prepare(draft)
    campaign = client.create_campaign(prepared)
    (seen,) = sandbox.requests
    assert seen.body == prepared.payload
    assert seen.path == f"/rest/accounts/{sandbox.account_id}/campaigns"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["User-Agent"].startswith(f"alsona-nb/{alsona_nb.__version__} ")
    assert campaign.campaign_id == prepared.campaign_id


def test_every_retry_sends_the_same_bytes(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    sandbox.inject(Fault.error(503), Fault.error(500), Fault.error(429, retry_after=1))
    campaign = client.create_campaign(draft)
    bodies = {json.dumps(r.body, sort_keys=True) for r in sandbox.requests}
    assert len(sandbox.requests) == 4 and len(bodies) == 1
    assert list(sandbox.campaigns) == [campaign.campaign_id]


def test_without_minting_the_server_chooses_the_id(sandbox: Sandbox, draft: CampaignDraft) -> None:
    client = sandbox.client(mint_ids=False)
    assert client.prepare(draft).campaign_id is None
    campaign = client.create_campaign(draft)
    assert "campaign_id" not in sandbox.requests[0].body["campaign"]
    assert MINTED.match(campaign.campaign_id)


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


@pytest.mark.parametrize(
    "bad",
    [None, 42, "a name", ["x"], {"name": " ", "seats": ["s"], "schedule": {}}],
)
def test_invalid_input_is_refused_before_any_request(
    client: AlsonaClient, sandbox: Sandbox, bad: object
) -> None:
    with pytest.raises(InvalidDraftError) as exc:
        client.create_campaign(bad)  # type: ignore[arg-type]
    assert isinstance(exc.value, ValueError) and isinstance(exc.value, AlsonaError)
    assert exc.value.problems and not exc.value.maybe_created
    assert sandbox.requests == []


def test_a_draft_copied_into_an_invalid_state_is_checked_again(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    # model_copy(update=...) skips validation; the client validates again.
    with pytest.raises(InvalidDraftError, match="spaces"):
        client.create_campaign(draft.model_copy(update={"campaign_id": "a b"}))
    assert sandbox.requests == []


def test_no_account_anywhere_is_refused_before_any_request(
    sandbox: Sandbox, draft: CampaignDraft
) -> None:
    client = AlsonaClient(api_key=sandbox.api_key, base_url=sandbox.url)
    with pytest.raises(InvalidDraftError, match="no account id"):
        client.create_campaign(draft)
    assert sandbox.requests == []


@pytest.mark.parametrize("bad", ["", " campaign_1", "campaign_1\n", 42, None])
def test_a_bad_campaign_id_is_an_input_error_and_nothing_is_sent(
    client: AlsonaClient, sandbox: Sandbox, bad: object
) -> None:
    for call in (client.get_campaign, client.prepare_delete, client.prepare_update):
        with pytest.raises(InputError) as exc:
            call(bad)  # type: ignore[arg-type]
        assert not isinstance(exc.value, InvalidDraftError)  # no draft is involved
        assert isinstance(exc.value, ValueError) and not exc.value.maybe_created
    assert sandbox.requests == []


def test_reading_without_an_account_is_an_input_error(sandbox: Sandbox) -> None:
    client = AlsonaClient(api_key=sandbox.api_key, base_url=sandbox.url)
    with pytest.raises(InputError, match="no account id"):
        client.get_campaign("campaign_1")
    with pytest.raises(InputError, match="no account id"):
        client.list_seats()
    assert sandbox.requests == []
    made = sandbox.client().create_campaign(
        CampaignDraft(name="n", seats=["s"], schedule=WeeklySchedule.weekdays())
    )
    assert client.get_campaign(made.campaign_id, account_id=sandbox.account_id) == made


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


def test_default_host_is_the_seeds() -> None:
    assert AlsonaClient(api_key="k").base_url == "https://alsona.com"


@pytest.mark.parametrize(
    "url",
    [
        "http://alsona.com",
        "http://10.0.0.5:8000",
        "ftp://alsona.com",
        "alsona.com",
        "http://host-a:P\\@127.0.0.1:9",  # urllib3 would connect to host-a
        "http://host-a\\@127.0.0.1:9",
        "https://user:pw@alsona.com",
        "https://token@alsona.com",
        "https://alsona.com /x",
    ],
)
def test_unsafe_or_malformed_base_urls_refused(url: str) -> None:
    with pytest.raises(ValueError) as exc:
        AlsonaClient(api_key="k", base_url=url)
    assert "pw" not in str(exc.value) and "token" not in str(exc.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9"])
def test_plain_http_only_to_loopback(url: str) -> None:
    assert AlsonaClient(api_key="k", base_url=url + "/").base_url == url


# -- errors from real answers ------------------------------------------------------------


def test_wrong_key_is_authentication_error(sandbox: Sandbox, draft: CampaignDraft) -> None:
    client = sandbox.client(api_key="not-the-key")
    with pytest.raises(AuthenticationError) as exc:
        client.create_campaign(draft)
    assert exc.value.status_code == 401
    assert exc.value.error == "unauthorized"
    assert not exc.value.maybe_created


def test_a_taken_id_is_still_an_error(client: AlsonaClient, draft: CampaignDraft) -> None:
    chosen = draft.model_copy(update={"campaign_id": "CAMP0001"})
    client.create_campaign(chosen)
    with pytest.raises(BadRequestError, match="already exists") as exc:
        client.create_campaign(chosen)  # nothing was lost: a real clash
    assert exc.value.status_code == 400 and not exc.value.maybe_created


@pytest.mark.parametrize(
    "fault,cls,status",
    [
        (Fault.error(400, shape="success_false"), BadRequestError, 400),
        (Fault.error(403), PermissionDeniedError, 403),
        (Fault.error(404), NotFoundError, 404),
        (Fault.error(422), BadRequestError, 422),
        (Fault.error(418), UnexpectedResponseError, 418),
        (Fault.raw(200, '{"success": false, "message": "quota"}'), UnexpectedResponseError, 200),
        (
            Fault(status=302, body=b"", headers={"Location": "https://elsewhere.example/"}),
            UnexpectedResponseError,
            302,
        ),
    ],
)
def test_refusals_have_their_error_class_and_are_not_retried(
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
    assert exc.value.message and not exc.value.maybe_created
    assert len(sandbox.requests) == 1


@pytest.mark.parametrize(
    "fault,cls,status",
    [
        (Fault.error(500), ServerError, 500),
        (Fault.html(502), ServerError, 502),
        (Fault.raw(200, ""), UnexpectedResponseError, 200),
        (Fault.raw(200, "{not json"), UnexpectedResponseError, 200),
        (Fault.raw(200, '{"success": true}'), UnexpectedResponseError, 200),
        (
            Fault.raw(200, '{"success": true, "campaign": {"name": "x"}}'),
            UnexpectedResponseError,
            200,
        ),
    ],
)
def test_unknown_outcomes_without_minting_keep_the_cautious_rule(
    sandbox: Sandbox,
    draft: CampaignDraft,
    fault: Fault,
    cls: type[AlsonaError],
    status: int,
) -> None:
    """mint_ids=False: no id to repeat or ask about, so no retry and maybe_created."""
    sandbox.inject(fault)
    with pytest.raises(cls) as exc:
        sandbox.client(mint_ids=False).create_campaign(draft)
    assert exc.value.status_code == status and exc.value.maybe_created
    assert "cannot be asked" in exc.value.message
    assert len(sandbox.requests) == 1


def test_html_gateway_page_is_a_clear_error(sandbox: Sandbox, draft: CampaignDraft) -> None:
    sandbox.inject(Fault.html(502))
    with pytest.raises(ServerError) as exc:
        sandbox.client(mint_ids=False).create_campaign(draft)
    assert str(exc.value).startswith(
        "HTTP 502: Bad Gateway (the server sent an HTML page, probably from a gateway)"
    )
    assert exc.value.body_excerpt is not None and "nginx" in exc.value.body_excerpt


# -- retries, waits recorded by the fake clock --------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
def test_429_and_503_are_retried_after_retry_after(
    client: AlsonaClient,
    sandbox: Sandbox,
    draft: CampaignDraft,
    status: int,
    fake_time: FakeTime,
) -> None:
    sandbox.inject(Fault.error(status, retry_after=3))
    campaign = client.create_campaign(draft)
    assert len(fake_time.sleeps) == 1 and 3.0 <= fake_time.sleeps[0] <= 3.35
    assert [r.status for r in sandbox.requests] == [status, 200]
    assert list(sandbox.campaigns) == [campaign.campaign_id]


def test_retry_after_as_http_date(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft, fake_time: FakeTime
) -> None:
    import time

    sandbox.inject(Fault.error(429, retry_after=formatdate(time.time() + 20, usegmt=True)))
    attempt = client.attempt(draft)
    assert attempt.ok and attempt.tries == 2
    assert 15 <= fake_time.sleeps[0] <= 23


@pytest.mark.parametrize("header", ["inf", "nan", "-5", "later"])
def test_a_bad_retry_after_means_backoff_not_at_once_nor_for_ever(
    sandbox: Sandbox, draft: CampaignDraft, fake_time: FakeTime, header: str
) -> None:
    client = sandbox.client(
        clock=fake_time.clock, sleep=fake_time.sleep, max_retry_wait=float("inf")
    )
    sandbox.inject(Fault.error(429, retry_after=header))
    assert client.attempt(draft).ok
    assert len(fake_time.sleeps) == 1 and 0.1 <= fake_time.sleeps[0] <= 1.0
    assert client.attempt(draft).ok  # the client stays usable


def test_rate_limit_gives_up_within_the_wait_budget(
    sandbox: Sandbox, draft: CampaignDraft, fake_time: FakeTime
) -> None:
    client = sandbox.client(max_retry_wait=1.0, clock=fake_time.clock, sleep=fake_time.sleep)
    sandbox.inject(Fault.error(429, retry_after=30))
    with pytest.raises(RateLimitError, match="max_retry_wait") as exc:
        client.create_campaign(draft)
    assert fake_time.sleeps == []
    assert exc.value.retry_after == 30 and not exc.value.maybe_created
    assert len(sandbox.requests) == 1


def test_rate_limit_gives_up_after_max_retries(
    sandbox: Sandbox, draft: CampaignDraft, fake_time: FakeTime
) -> None:
    client = sandbox.client(max_retries=2, clock=fake_time.clock, sleep=fake_time.sleep)
    sandbox.inject(Fault.error(429, retry_after=0), times=5)
    with pytest.raises(RateLimitError, match="after 3 tries"):
        client.create_campaign(draft)
    assert len(sandbox.requests) == 3 and len(fake_time.sleeps) == 2


@pytest.mark.parametrize("status", [500, 501, 502, 504])
def test_a_5xx_but_503_is_an_unknown_outcome_for_every_call(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft, status: int
) -> None:
    """Any 5xx but 503 may have been applied: a create under its own id is sent again, and so
    is a read; neither is believed refused."""
    sandbox.inject(Fault.error(status))
    made = client.create_campaign(draft)
    sandbox.inject(Fault.error(status).on("GET"))
    assert client.get_campaign(made.campaign_id) == made
    assert [(r.method, r.status) for r in sandbox.requests] == [
        ("POST", status),
        ("POST", 200),
        ("GET", status),
        ("GET", 200),
    ]


def test_a_read_told_to_wait_holds_the_other_calls_of_the_client(
    sandbox: Sandbox, draft: CampaignDraft, fake_time: FakeTime
) -> None:
    """A 429 answered to a GET pauses the whole client, as one to a POST does: a create made
    while the read waits (here, from inside its wait) waits for the same pause."""
    nested: list[str] = []

    def sleep(seconds: float) -> None:
        fake_time.sleeps.append(seconds)
        if len(fake_time.sleeps) == 1:  # the read's wait: another call starts meanwhile
            nested.append(client.create_campaign(draft).campaign_id)
        fake_time.now += seconds

    client = sandbox.client(clock=fake_time.clock, sleep=sleep)
    made = sandbox.client().create_campaign(draft)
    sandbox.inject(Fault.error(429, retry_after=30).on("GET"))
    assert client.get_campaign(made.campaign_id) == made
    assert len(fake_time.sleeps) == 2 and 30 <= fake_time.sleeps[0] <= 33.1
    assert fake_time.sleeps[1] == pytest.approx(fake_time.sleeps[0])  # the create was held
    assert nested[0] in sandbox.campaigns


def test_connection_refused_is_retried_then_transport_error(
    draft: CampaignDraft, fake_time: FakeTime
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as held:
        url = f"http://127.0.0.1:{held.getsockname()[1]}"
    client = AlsonaClient(
        api_key="k", account_id="a", base_url=url, max_retries=2, sleep=fake_time.sleep
    )
    attempt = client.attempt(draft)
    assert isinstance(attempt.error, TransportError)
    assert "connection refused" in attempt.error.message
    assert not attempt.error.maybe_created
    assert (attempt.tries, attempt.http_status, len(fake_time.sleeps)) == (3, None, 2)


# -- reading campaigns and seats back ------------------------------------------------------


def test_get_campaign(client: AlsonaClient, draft: CampaignDraft) -> None:
    made = client.create_campaign(draft)
    assert client.get_campaign(made.campaign_id) == made
    with pytest.raises(NotFoundError):
        client.get_campaign("campaign_00000000000000000000")


def test_list_campaigns_follows_every_page(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    sandbox.page_size = 2
    made = [client.create_campaign(draft.model_copy(update={"name": f"n{i}"})) for i in range(5)]
    frame = client.list_campaigns(progress=False)
    assert sorted(frame["campaign_id"]) == sorted(c.campaign_id for c in made)
    assert sandbox.counts["GET"] == 3
    assert str(frame["created_at"].dtype).startswith("datetime64")
    assert frame["timezone"].tolist() == [-300] * 5


def test_list_campaigns_of_an_empty_account(client: AlsonaClient) -> None:
    frame = client.list_campaigns(progress=False)
    assert len(frame) == 0 and "campaign_id" in frame.columns


def test_list_seats_by_label(client: AlsonaClient, sandbox: Sandbox) -> None:
    sandbox.seats = {"seat_a": "Ana Lopez", "seat_b": "Ana Lopez", "seat_c": ""}
    assert client.list_seats() == {
        "Ana Lopez (seat_a)": "seat_a",
        "Ana Lopez (seat_b)": "seat_b",
        "seat_c": "seat_c",
    }


def test_keep_alive_reuses_one_connection(echo_server: EchoServer, draft: CampaignDraft) -> None:
    with AlsonaClient(api_key="k", account_id="a", base_url=echo_server.url) as client:
        for _ in range(5):
            client.create_campaign(draft)
        client.get_campaign("campaign_00000000000000000000")
    assert len(echo_server.seen) == 6 and echo_server.connections == 1


def test_a_users_session_keeps_its_auth_cookies_headers_and_hooks(
    echo_server: EchoServer, draft: CampaignDraft
) -> None:
    """What a corporate session carries reaches the server, as plain requests would send it;
    the client's own headers and the key are still the ones sent."""
    import requests

    answered: list[int] = []
    session = requests.Session()
    session.auth = ("proxy-user", "proxy-pass")
    session.cookies.set("corp_sso", "ticket-1")
    session.headers["X-Corp-Trace"] = "trace-7"
    session.hooks["response"].append(lambda response, **kw: answered.append(response.status_code))
    with AlsonaClient(
        api_key="the-key", account_id="a", base_url=echo_server.url, session=session
    ) as client:
        client.create_campaign(draft)
        client.get_campaign("campaign_00000000000000000000")
    assert answered == [200, 200]
    first, second = echo_server.seen
    for seen in (first, second):
        assert seen.headers["Authorization"] == "Basic cHJveHktdXNlcjpwcm94eS1wYXNz"
        assert seen.headers["X-Corp-Trace"] == "trace-7"
        assert "corp_sso=ticket-1" in seen.headers["Cookie"]
        assert seen.headers["X-API-KEY"] == "the-key"
        assert seen.headers["Accept"] == "application/json"
        assert seen.headers["User-Agent"].startswith("alsona-nb/")
    assert first.headers["Content-Type"] == "application/json"
    assert "from_server=1" in second.headers["Cookie"]  # the session's jar took the answer's


def test_the_in_process_transport_is_the_same_client(
    fast_client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    campaign = fast_client.create_campaign(draft)
    assert list(sandbox.campaigns) == [campaign.campaign_id]
    assert fast_client.get_campaign(campaign.campaign_id) == campaign


def test_a_certificate_failure_says_so_and_that_nothing_was_created(
    untrusted_https: str, draft: CampaignDraft, fake_time: FakeTime
) -> None:
    client = AlsonaClient(
        api_key="k", account_id="a", base_url=untrusted_https, sleep=fake_time.sleep
    )
    attempt = client.attempt(draft)
    assert isinstance(attempt.error, TransportError)
    assert "certificate" in attempt.error.message and "nothing was sent" in attempt.error.message
    assert not attempt.error.maybe_created and attempt.outcome == "failed"
    assert attempt.tries == 1 and fake_time.sleeps == []  # retrying cannot fix a certificate


def test_every_try_is_told_to_an_observer(
    client: AlsonaClient, sandbox: Sandbox, draft: CampaignDraft
) -> None:
    seen: list[tuple[int | None, float | None]] = []
    sandbox.inject(Fault.error(429, retry_after=2), Fault.drop())
    attempt = client.attempt(
        draft, on_try=lambda status, wait, seconds: seen.append((status, wait))
    )
    assert attempt.ok
    assert seen == [(429, 2.0), (None, None), (200, None)]
