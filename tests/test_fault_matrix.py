"""The fault matrix: every way the create call can fail, through the client and the results
journal, against the real sandbox on loopback (the form's and bulk's own matrices live in
their test modules).

Each fault yields exactly one typed error carrying the HTTP status (``None`` when no
answer came) and a readable message; a fault that leaves the outcome unknown is retried
with the same minted id and then settled by asking the server, so no error says "may or
may not" while the server can answer; the journal holds an intent and an outcome line.
Nothing here needs the network: the one host name that must not resolve is refused by a
patched resolver.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import FakeTime

from alsona_nb import (
    AlsonaClient,
    AlsonaError,
    AuthenticationError,
    BadRequestError,
    CampaignDraft,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    Sandbox,
    ServerError,
    TransportError,
    UnexpectedResponseError,
)
from alsona_nb._results import row_body
from alsona_nb.sandbox import Fault

UNRESOLVABLE = "api.alsona.invalid"  # refused by the patched resolver, never asked for real
TIMEOUT = 5.0  # a total deadline no loopback answer misses, even on a busy machine
STALL_TIMEOUT = 1.0  # for the one case that must time out (the stall is 30 s)


def _closed_port_url() -> str:
    """A loopback URL where nothing listens: the connection is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


_MISSING_FIELDS = json.dumps(
    {"success": True, "campaign": {"name": "Q3", "account_id": "acc", "status": "DRAFT"}}
)


@dataclass(frozen=True)
class Case:
    """One fault: how to cause it, and what the client must make of it."""

    id: str
    fault: Fault | None  # injected (many times over, so retries meet it too)
    error: type[AlsonaError]
    status: int | None
    says: str  # a fragment the message must contain (lower case)
    tries: int  # requests sent (1 + retries) with max_retries=2
    base_url: Callable[[], str] | None = None  # for faults that are not a server answer
    settled: bool = False  # the outcome was unknown: the server was asked (and said no)


CASES: list[Case] = [
    Case(
        "400 {error,message}",
        Fault.error(400, "seats: seat_x is not on this account"),
        BadRequestError,
        400,
        "seat_x is not on this account",
        1,
    ),
    Case(
        "400 {success:false}",
        Fault.error(400, "name is too long", shape="success_false"),
        BadRequestError,
        400,
        "name is too long",
        1,
    ),
    Case(
        "401",
        Fault.error(401, "Invalid or missing API key"),
        AuthenticationError,
        401,
        "api key",
        1,
    ),
    Case(
        "403",
        Fault.error(403, "key may not use this account", shape="success_false"),
        PermissionDeniedError,
        403,
        "may not use this account",
        1,
    ),
    Case(
        "404",
        Fault.error(404, "account not found", shape="success_false"),
        NotFoundError,
        404,
        "account not found",
        1,
    ),
    Case(
        "422",
        Fault.error(422, "schedule: all seven days are required"),
        BadRequestError,
        422,
        "seven days",
        1,
    ),
    Case(
        "429 Retry-After",
        Fault.error(429, "slow down", retry_after=0.05),
        RateLimitError,
        429,
        "slow down",
        3,
    ),
    Case(
        "500",
        Fault.error(500, "internal error", shape="success_false"),
        ServerError,
        500,
        "internal error",
        3,
        settled=True,
    ),
    Case("502 HTML page", Fault.html(502), ServerError, 502, "bad gateway", 3, settled=True),
    Case(
        "503", Fault.error(503, "maintenance", retry_after=0.05), ServerError, 503, "maintenance", 3
    ),
    Case(
        "200 success:false",
        Fault.raw(200, '{"success": false, "message": "quota reached"}'),
        UnexpectedResponseError,
        200,
        "quota reached",
        1,
    ),
    Case(
        "200 empty body",
        Fault.raw(200, b""),
        UnexpectedResponseError,
        200,
        "empty",
        3,
        settled=True,
    ),
    Case(
        "200 malformed JSON",
        Fault.raw(200, '{"success": true, "campaign": {"na'),
        UnexpectedResponseError,
        200,
        "not json",
        3,
        settled=True,
    ),
    Case(
        "200 campaign missing fields",
        Fault.raw(200, _MISSING_FIELDS),
        UnexpectedResponseError,
        200,
        "missing fields",
        3,
        settled=True,
    ),
    Case(
        "connection refused",
        None,
        TransportError,
        None,
        "connection refused",
        3,
        base_url=_closed_port_url,
    ),
    Case(
        "connection dropped mid-answer",
        Fault.cut(after_create=False),
        TransportError,
        None,
        "dropped",
        3,
        settled=True,
    ),
    Case(
        "stall past the timeout",
        Fault.stall(30.0),
        TransportError,
        None,
        "no full answer",
        3,
        settled=True,
    ),
    Case(
        "DNS failure",
        None,
        TransportError,
        None,
        "could not resolve",
        3,
        base_url=lambda: f"https://{UNRESOLVABLE}",
    ),
]


@pytest.fixture(params=CASES, ids=[c.id for c in CASES])
def case(request: pytest.FixtureRequest) -> Case:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
def _no_real_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    """The unresolvable host fails as a resolver would, without asking the machine's."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, (str, bytes)) and UNRESOLVABLE in str(host):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def faulty(sandbox: Sandbox, case: Case, fake_time: FakeTime) -> Iterator[AlsonaClient]:
    """A client that meets ``case``: the sandbox answers with the fault every time."""
    if case.fault is not None:
        sandbox.inject(case.fault, times=10)
    timeout = STALL_TIMEOUT if case.id == "stall past the timeout" else TIMEOUT
    options: dict[str, Any] = {
        "timeout": timeout,
        "max_retries": 2,
        "max_retry_wait": 2.0,
        "clock": fake_time.clock,
        "sleep": fake_time.sleep,
    }
    if case.base_url is not None:
        client = AlsonaClient(
            api_key=sandbox.api_key,
            account_id=sandbox.account_id,
            base_url=case.base_url(),
            **options,
        )
    else:
        client = sandbox.client(**options)
    with client:
        yield client


def assert_readable(message: str) -> None:
    """A sentence an analyst can read: no markup, no Python noise, not a wall of text."""
    assert message.strip()
    assert len(message) < 400, message
    for noise in ("<html", "<body", "Traceback", "None", "HTTPConnectionPool", "object at 0x"):
        assert noise not in message, f"{noise!r} in {message!r}"


def test_client_raises_one_typed_error(
    faulty: AlsonaClient, sandbox: Sandbox, case: Case, draft: CampaignDraft, fake_time: FakeTime
) -> None:
    with pytest.raises(AlsonaError) as info:
        faulty.create_campaign(draft)
    exc = info.value
    assert type(exc) is case.error
    assert exc.status_code == case.status
    assert case.says in exc.message.lower()
    assert_readable(exc.message)
    assert str(exc) == (f"HTTP {case.status}: " if case.status else "") + exc.message
    # Not chained to requests' internals: the analyst sees one error, not three.
    assert exc.__cause__ is None
    assert exc.__suppress_context__ or exc.__context__ is None
    # Where the fault is an answer, the sandbox saw every try; otherwise it saw nothing.
    met = 10 - sandbox.pending_faults if case.fault is not None else 0
    assert met == (case.tries if case.base_url is None else 0)
    # Unknown outcomes were settled by asking: "not found" is asked twice more (a read may
    # lag behind a create), after 0.5 s and 1 s; nothing was created, and the error says so.
    assert sandbox.counts["GET"] == (3 if case.settled else 0)
    if case.settled:
        assert fake_time.sleeps[-2:] == [0.5, 1.0]
    assert not exc.maybe_created
    assert ("nothing was created" in exc.message) == case.settled
    assert not sandbox.campaigns


def test_journal_has_an_intent_line_and_an_outcome_line(
    faulty: AlsonaClient, case: Case, draft: CampaignDraft, tmp_path: Path
) -> None:
    from alsona_nb import ResultsLog

    path = tmp_path / "results.jsonl"
    log = ResultsLog(path)
    attempt = faulty.attempt(draft, log=log)
    assert not attempt.ok and attempt.prepared is not None
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert [x.pop("event") for x in lines] == ["intent", "outcome"]
    intent, row = lines
    assert intent["outcome"] == "unknown" and intent["attempt_id"] == row["attempt_id"]
    assert row["ok"] is False and row["outcome"] == "failed"
    assert row["name"] == draft.name
    assert row["http_status"] == case.status
    assert row["error_type"] == case.error.__name__
    assert row["error_message"] == attempt.error.message  # type: ignore[union-attr]
    assert row["tries"] == case.tries
    assert row["campaign_id"] == attempt.prepared.campaign_id
    assert row["settled"] == attempt.settled
    assert "body" not in row and row_body(intent) == attempt.prepared.body  # the bytes sent
    # Reopening the journal reads the same row back (with the intent's body carried on).
    (reread,) = ResultsLog(path).rows
    assert row_body(reread) == attempt.prepared.body
    assert {k: v for k, v in reread.items() if k != "body"} == row


def test_html_page_is_kept_only_as_an_excerpt(
    sandbox: Sandbox, draft: CampaignDraft, fake_time: FakeTime
) -> None:
    sandbox.inject(Fault.html(502))
    with (
        sandbox.client(timeout=TIMEOUT, max_retries=0, sleep=fake_time.sleep) as client,
        pytest.raises(ServerError) as info,
    ):
        client.create_campaign(draft)
    assert info.value.body_excerpt is not None
    assert "<h1>502 Bad Gateway</h1>" in info.value.body_excerpt
    assert "<" not in info.value.message


def test_client_is_usable_after_every_fault(
    sandbox: Sandbox, draft: CampaignDraft, fake_time: FakeTime
) -> None:
    """One client meets each server-side fault in turn, then still creates a campaign."""
    options: dict[str, Any] = {"clock": fake_time.clock, "sleep": fake_time.sleep}
    with sandbox.client(timeout=STALL_TIMEOUT, max_retries=0, **options) as client:
        for case in CASES:
            if case.fault is None:
                continue
            sandbox.inject(case.fault)
            attempt = client.attempt(draft)
            assert type(attempt.error) is case.error, case.id
        sandbox.clear_faults()
        created = client.create_campaign(draft)
    assert created.campaign_id in sandbox.campaigns


# -- the form ---------------------------------------------------------------------------


def _plain(html_text: str) -> str:
    """What a person reads in an HTML widget: tags removed, entities decoded."""
    import html
    import re

    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


def test_form_shows_the_message_and_stays_usable(
    faulty: AlsonaClient, sandbox: Sandbox, case: Case, draft: CampaignDraft, tmp_path: Path
) -> None:
    from alsona_nb import CampaignForm, ResultsLog

    path = tmp_path / "form.jsonl"
    form = CampaignForm(faulty, seats=list(draft.seats), log=ResultsLog(path))
    form.load(draft)
    assert not form.errors and not form.create_button.disabled
    attempt = form.create()
    assert attempt is not None and type(attempt.error) is case.error
    shown = _plain(form.message.value)
    # Every case here is settled (the server said nothing was created) or plainly refused.
    assert "Not created" in shown and "Unclear" not in shown, shown
    assert_readable(shown)
    assert form.draft is not None and form.draft.name == draft.name  # nothing typed is lost
    assert not form.create_button.disabled
    if case.base_url is None:  # the server comes back: the same form now creates it
        sandbox.clear_faults()
        again = form.create()
        assert again is not None and again.ok, form.message.value
        assert again.campaign is not None and list(sandbox.campaigns) == [
            again.campaign.campaign_id
        ]
    form.close()


def test_form_shows_a_created_campaign_whose_journal_line_failed(
    sandbox: Sandbox, draft: CampaignDraft
) -> None:
    from alsona_nb import AlsonaWarning, Attempt, CampaignForm, JournalError, ResultsLog

    class FullDisk(ResultsLog):
        def record(self, attempt: Attempt) -> dict[str, object]:
            super().record(attempt)
            raise JournalError("could not write to the results journal (No space left)")

    form = CampaignForm(sandbox.client(), seats=list(draft.seats), log=FullDisk())
    form.load(draft)
    with pytest.warns(AlsonaWarning, match="No space left"):
        attempt = form.create()
    assert attempt is not None and attempt.ok
    shown = _plain(form.message.value)
    assert "Created" in shown and list(sandbox.campaigns) == [attempt.campaign.campaign_id]  # type: ignore[union-attr]
    assert (
        "journal was not written" in shown
    )  # the journal's failure is said too, as its own problem
    assert form.create_button.disabled  # the "just created" block: no easy duplicate
    form.close()
