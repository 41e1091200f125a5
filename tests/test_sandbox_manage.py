"""The sandbox manages campaigns after their create: a full replace (PUT) and a delete by id,
both scoped to the account in the path, faults that carry them out and lose the answer, a
server that ignores client-chosen ids, and one whose reads lag behind its writes.

Plain ``requests``, over real HTTP on loopback and through the in-process adapter (the same
tests run on both), so nothing here depends on the client."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from alsona_nb import CampaignDraft
from alsona_nb.sandbox import Delivery, Fault, Incoming, Sandbox

OTHER = "account_0ther0ther0ther0ther0"


@dataclass
class Api:
    """A sandbox and a session that reaches it, over HTTP or in process."""

    sandbox: Sandbox
    session: requests.Session
    base: str

    def url(self, campaign_id: str | None = None, account: str | None = None) -> str:
        url = f"{self.base}/rest/accounts/{account or self.sandbox.account_id}/campaigns"
        return url if campaign_id is None else f"{url}/{campaign_id}"

    def send(
        self,
        method: str,
        campaign_id: str | None = None,
        body: Any = None,
        *,
        account: str | None = None,
        timeout: float = 10.0,
    ) -> requests.Response:
        data = None if body is None else json.dumps(body).encode()
        headers = {"X-API-KEY": self.sandbox.api_key, "Content-Type": "application/json"}
        return self.session.request(
            method, self.url(campaign_id, account), data=data, headers=headers, timeout=timeout
        )

    def create(self, draft: CampaignDraft, **changes: Any) -> dict[str, Any]:
        answer = self.send("POST", body=payload(self.sandbox, draft, **changes))
        assert answer.status_code == 200, answer.text
        campaign: dict[str, Any] = answer.json()["campaign"]
        return campaign


def payload(sandbox: Sandbox, draft: CampaignDraft, **changes: Any) -> dict[str, Any]:
    """A create body for ``draft`` in the sandbox's own account, with ``changes``."""
    body = draft.model_copy(update={"account_id": sandbox.account_id}).to_payload()
    body["campaign"].update(changes)
    return body


def replacement(account_id: str, **changes: Any) -> dict[str, Any]:
    """An update body as the client sends one: every writable field, no id or created_at."""
    campaign = {
        "name": "Q3 founders outreach (fixed hours)",
        "account_id": account_id,
        "status": "PAUSE",
        "seats": ["seat_1f0c9a7e2b4d8c3a5e61"],
        "schedule": {d: [d not in ("saturday", "sunday"), 8, 16] for d in DAYS},
        "timezone": 60,
    }
    campaign.update(changes)
    return {"campaign": campaign}


DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@pytest.fixture(params=["http", "in_process"])
def api(request: pytest.FixtureRequest) -> Iterator[Api]:
    sb = Sandbox(accounts=[OTHER])
    with requests.Session() as session:
        if request.param == "http":
            with sb:
                yield Api(sb, session, sb.url)
        else:
            yield Api(sb, session, sb.mount(session))
            sb.stop()


# -- replace ------------------------------------------------------------------------------


def test_put_replaces_every_field_and_keeps_id_creation_and_server_fields(
    api: Api, draft: CampaignDraft
) -> None:
    before = api.create(draft, campaign_id="CAMP1", created_at=1_700_000_000_000)
    body = replacement(api.sandbox.account_id)
    del body["campaign"]["timezone"]  # a full replace: what is not sent is the default
    answer = api.send("PUT", "CAMP1", body)
    assert answer.status_code == 200 and answer.headers["X-Alsona-Sandbox"] == "true"
    data = answer.json()
    assert data["success"] is True and set(data) == {"success", "campaign"}
    after = data["campaign"]
    expected = {
        **body["campaign"],
        "timezone": 0,
        "campaign_id": "CAMP1",
        "created_at": 1_700_000_000_000,
        "priority": before["priority"],
        "wait_until": before["wait_until"],
    }
    assert after == expected
    assert api.sandbox.campaigns == {"CAMP1": expected}
    assert api.send("GET", "CAMP1").json() == {"success": True, "campaign": expected}
    again = api.send("PUT", "CAMP1", body)  # the same bytes again: the same result
    assert again.json() == data and api.sandbox.campaigns == {"CAMP1": expected}
    counts = api.sandbox.counts
    assert (counts["PUT"], counts["PUT", 200], counts["POST", 200]) == (2, 2, 1)


def test_put_validates_like_a_create(api: Api, draft: CampaignDraft) -> None:
    api.create(draft, campaign_id="CAMP1")
    body = replacement(api.sandbox.account_id)
    body["campaign"]["schedule"]["monday"] = [True, 17, 9]
    answer = api.send("PUT", "CAMP1", body)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_campaign"
    assert "hour" in answer.json()["message"].lower()


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"campaign_id": "CAMP1"}, "may not carry campaign_id"),
        ({"created_at": 1_700_000_000_000}, "may not carry created_at"),
        ({"campaign_id": "CAMP1", "created_at": 5}, "may not carry campaign_id, created_at"),
        ({"account_id": OTHER}, "does not match the path"),
        ({"account_id": None}, "missing account_id"),
        ({"name": "  "}, "name"),
        ({"seats": []}, "seat"),
        ({"status": "NOPE"}, "status"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_put_refusals_are_400_and_change_nothing(
    api: Api, draft: CampaignDraft, change: dict[str, Any], says: str
) -> None:
    stored = api.create(draft, campaign_id="CAMP1")
    body = replacement(api.sandbox.account_id)
    body["campaign"].update(change)
    body["campaign"] = {k: v for k, v in body["campaign"].items() if v is not None}
    answer = api.send("PUT", "CAMP1", body)
    assert answer.status_code == 400, answer.text
    assert set(answer.json()) == {"error", "message"}
    assert says in answer.json()["message"].lower()
    assert api.sandbox.campaigns == {"CAMP1": stored}


@pytest.mark.parametrize(
    ("raw", "error"),
    [(b"{nope", "invalid_json"), (b"", "invalid_json"), (b'{"name": "x"}', "invalid_request")],
)
def test_a_put_body_that_is_no_campaign_is_400(
    api: Api, draft: CampaignDraft, raw: bytes, error: str
) -> None:
    api.create(draft, campaign_id="CAMP1")
    headers = {"X-API-KEY": api.sandbox.api_key}
    answer = api.session.put(api.url("CAMP1"), data=raw, headers=headers, timeout=10)
    assert answer.status_code == 400 and answer.json()["error"] == error


def test_put_and_delete_of_a_campaign_that_is_not_there_are_404(api: Api) -> None:
    body = replacement(api.sandbox.account_id)
    for method in ("PUT", "DELETE"):
        answer = api.send(method, "campaign_00000000000000000000", body)
        assert answer.status_code == 404
        assert answer.json() == {
            "success": False,
            "message": "campaign 'campaign_00000000000000000000' not found",
        }
    assert api.sandbox.campaigns == {}
    assert (api.sandbox.counts["PUT", 404], api.sandbox.counts["DELETE", 404]) == (1, 1)


def test_a_put_to_a_missing_campaign_is_404_even_with_a_bad_body(api: Api) -> None:
    headers = {"X-API-KEY": api.sandbox.api_key}
    answer = api.session.put(api.url("CAMPnone"), data=b"{nope", headers=headers, timeout=10)
    assert answer.status_code == 404  # not a 400 for the body: it is not looked at


# -- delete -------------------------------------------------------------------------------


def test_delete_removes_it_once(api: Api, draft: CampaignDraft) -> None:
    kept = api.create(draft)
    api.create(draft, campaign_id="CAMPgone")
    answer = api.send("DELETE", "CAMPgone")
    assert answer.status_code == 200 and answer.json() == {"success": True}
    assert api.sandbox.campaigns == {kept["campaign_id"]: kept}
    assert api.send("GET", "CAMPgone").status_code == 404
    assert api.send("DELETE", "CAMPgone").status_code == 404
    listed = api.send("GET").json()["campaigns"]
    assert [c["campaign_id"] for c in listed] == [kept["campaign_id"]]
    assert api.create(draft, campaign_id="CAMPgone")["campaign_id"] == "CAMPgone"  # id free
    counts = api.sandbox.counts
    assert (counts["DELETE"], counts["DELETE", 200], counts["DELETE", 404]) == (2, 1, 1)


# -- accounts -----------------------------------------------------------------------------


def test_campaigns_are_scoped_to_the_account_in_the_path(api: Api, draft: CampaignDraft) -> None:
    sb = api.sandbox
    assert sb.accounts == (sb.account_id, OTHER)
    mine = api.create(draft, campaign_id="CAMP_A")
    theirs_body = payload(sb, draft, campaign_id="CAMP_B", account_id=OTHER)
    theirs = api.send("POST", body=theirs_body, account=OTHER).json()["campaign"]
    assert theirs["account_id"] == OTHER
    # Under the other account's path, a campaign is not there, whatever the method.
    assert api.send("GET", "CAMP_A", account=OTHER).status_code == 404
    assert api.send("GET", "CAMP_B").status_code == 404
    moved = replacement(OTHER, name="moved")
    assert api.send("PUT", "CAMP_A", moved, account=OTHER).status_code == 404
    assert api.send("DELETE", "CAMP_A", account=OTHER).status_code == 404
    assert api.send("DELETE", "CAMP_B").status_code == 404
    # Each list lists its own account only.
    assert [c["campaign_id"] for c in api.send("GET").json()["campaigns"]] == ["CAMP_A"]
    listed = api.send("GET", account=OTHER).json()["campaigns"]
    assert [c["campaign_id"] for c in listed] == ["CAMP_B"]
    assert sb.campaigns_of(sb.account_id) == {"CAMP_A": mine}
    assert sb.campaigns_of(OTHER) == {"CAMP_B": theirs}
    assert sb.campaigns == {"CAMP_A": mine, "CAMP_B": theirs}
    # Under its own account's path, it is.
    assert api.send("PUT", "CAMP_B", moved, account=OTHER).json()["campaign"]["name"] == "moved"
    assert api.send("DELETE", "CAMP_B", account=OTHER).status_code == 200
    assert sb.campaigns == {"CAMP_A": mine}


def test_a_create_must_name_the_paths_account_and_ids_are_unique_across_accounts(
    api: Api, draft: CampaignDraft
) -> None:
    sb = api.sandbox
    crossed = api.send("POST", body=payload(sb, draft), account=OTHER)  # names account A
    assert crossed.status_code == 400 and "does not match the path" in crossed.json()["message"]
    api.create(draft, campaign_id="CAMP1")
    same_id = payload(sb, draft, campaign_id="CAMP1", account_id=OTHER)
    again = api.send("POST", body=same_id, account=OTHER)
    assert again.status_code == 400 and again.json()["error"] == "campaign_exists"
    assert sb.campaigns_of(OTHER) == {}


def test_an_account_the_key_does_not_reach_is_still_404(api: Api, draft: CampaignDraft) -> None:
    body = payload(api.sandbox, draft, account_id="account_nobody")
    for method, item in [
        ("POST", None),
        ("GET", None),
        ("GET", "x"),
        ("PUT", "x"),
        ("DELETE", "x"),
    ]:
        answer = api.send(method, item, body, account="account_nobody")
        assert answer.status_code == 404 and "account_nobody" in answer.json()["message"]


# -- faults that carry a change out and lose the answer -----------------------------------

LOST = {
    "dropped": Fault.drop(after_create=True),
    "cut": Fault.cut(),
    "500": Fault.error(500, after_apply=True),
    "html 502": Fault.html(502, after_create=True),
    "stalled": Fault.stall(3600.0, after_apply=True),
}


def lose(api: Api, fault: Fault, method: str, *args: Any) -> None:
    """Send with ``fault`` waiting for ``method``; the client gets no usable answer."""
    api.sandbox.inject(fault.on(method))
    try:
        answer = api.send(method, *args, timeout=0.5 if fault.stall_seconds else 10.0)
    except requests.RequestException:
        return
    assert answer.status_code >= 500  # an error page in place of the answer


@pytest.mark.parametrize("fault", LOST.values(), ids=LOST.keys())
def test_a_lost_put_answer_was_applied_exactly_once(
    api: Api, draft: CampaignDraft, fault: Fault
) -> None:
    before = api.create(draft, campaign_id="CAMP1")
    body = replacement(api.sandbox.account_id)
    lose(api, fault, "PUT", "CAMP1", body)
    expected = {
        **body["campaign"],
        **{k: before[k] for k in ("campaign_id", "created_at", "priority", "wait_until")},
    }
    assert api.sandbox.campaigns == {"CAMP1": expected}  # the change is there, once
    assert api.sandbox.counts["PUT"] == 1 and api.sandbox.pending_faults == 0
    (put,) = [r for r in api.sandbox.requests if r.method == "PUT"]
    assert put.body == body and put.status == (fault.status if fault.action == "answer" else None)
    retried = api.send("PUT", "CAMP1", body)  # a retry of the same bytes settles it
    assert retried.json() == {"success": True, "campaign": expected}


@pytest.mark.parametrize("fault", LOST.values(), ids=LOST.keys())
def test_a_lost_delete_answer_was_applied_exactly_once(
    api: Api, draft: CampaignDraft, fault: Fault
) -> None:
    kept = api.create(draft)
    api.create(draft, campaign_id="CAMPgone")
    lose(api, fault, "DELETE", "CAMPgone")
    assert api.sandbox.campaigns == {kept["campaign_id"]: kept}
    assert api.sandbox.counts["DELETE"] == 1 and api.sandbox.pending_faults == 0
    assert api.send("DELETE", "CAMPgone").status_code == 404  # asking again: not there


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_a_fault_before_applying_changes_nothing(
    api: Api, draft: CampaignDraft, method: str
) -> None:
    stored = api.create(draft, campaign_id="CAMP1")
    for fault in (Fault.drop(), Fault.error(503), Fault.cut(after_create=False)):
        lose(api, fault, method, "CAMP1", replacement(api.sandbox.account_id))
    assert api.sandbox.campaigns == {"CAMP1": stored}
    assert api.sandbox.counts[method] == 3


def test_faults_waiting_for_post_leave_put_and_delete_alone(api: Api, draft: CampaignDraft) -> None:
    api.create(draft, campaign_id="CAMP1")
    api.sandbox.inject(Fault.drop(after_create=True))
    assert api.send("PUT", "CAMP1", replacement(api.sandbox.account_id)).status_code == 200
    assert api.send("DELETE", "CAMP1").status_code == 200
    assert api.sandbox.pending_faults == 1


# -- a server that ignores client ids -----------------------------------------------------


def test_a_server_that_ignores_client_ids(api: Api, draft: CampaignDraft) -> None:
    sb = api.sandbox
    sb.honour_ids = False
    first = api.create(draft, campaign_id="CAMP_MINE")
    second = api.create(draft, campaign_id="CAMP_MINE")  # never refused as a repeat
    ids = [first["campaign_id"], second["campaign_id"]]
    assert all(re.fullmatch(r"campaign_[0-9a-f]{20}", i) for i in ids) and ids[0] != ids[1]
    assert sorted(sb.campaigns) == sorted(ids)
    assert api.send("GET", "CAMP_MINE").status_code == 404
    sb.reset()
    assert sb.honour_ids is True
    assert api.create(draft, campaign_id="CAMP_MINE")["campaign_id"] == "CAMP_MINE"


def test_honour_ids_false_from_the_constructor(draft: CampaignDraft) -> None:
    sb = Sandbox(honour_ids=False)
    headers = {"X-API-KEY": sb.api_key}
    body = json.dumps(payload(sb, draft, campaign_id="CAMP_MINE")).encode()
    answer = sb.handle("POST", f"/rest/accounts/{sb.account_id}/campaigns", headers, body)
    assert answer.status == 200 and answer.json()["campaign"]["campaign_id"] != "CAMP_MINE"


# -- a store whose reads lag --------------------------------------------------------------


def test_reads_lag_behind_a_create_for_a_number_of_reads(api: Api, draft: CampaignDraft) -> None:
    sb = api.sandbox
    sb.read_lag = 2
    created = api.create(draft, campaign_id="CAMP_LAG")
    assert sb.campaigns == {"CAMP_LAG": created}  # it is stored
    assert [api.send("GET", "CAMP_LAG").status_code for _ in range(3)] == [404, 404, 200]
    listed = api.create(draft, campaign_id="CAMP_LIST")
    pages = [api.send("GET").json()["campaigns"] for _ in range(3)]
    assert [[c["campaign_id"] for c in p] for p in pages] == [
        ["CAMP_LAG"],
        ["CAMP_LAG"],
        ["CAMP_LAG", "CAMP_LIST"],
    ]
    assert pages[2][1] == listed


def test_writes_see_a_lagging_campaign_at_once(api: Api, draft: CampaignDraft) -> None:
    sb = api.sandbox
    sb.read_lag = 5
    api.create(draft, campaign_id="CAMP_LAG")
    assert api.send("POST", body=payload(sb, draft, campaign_id="CAMP_LAG")).status_code == 400
    body = replacement(sb.account_id, name="renamed")
    assert api.send("PUT", "CAMP_LAG", body).json()["campaign"]["name"] == "renamed"
    assert api.send("GET", "CAMP_LAG").status_code == 404  # still lagging for reads
    assert api.send("DELETE", "CAMP_LAG").status_code == 200
    assert sb.campaigns == {}


def test_read_lag_from_the_constructor_and_reset(draft: CampaignDraft) -> None:
    sb = Sandbox(read_lag=1)
    headers = {"X-API-KEY": sb.api_key}
    path = f"/rest/accounts/{sb.account_id}/campaigns"
    body = json.dumps(payload(sb, draft, campaign_id="C1")).encode()
    assert sb.handle("POST", path, headers, body).status == 200
    assert [sb.handle("GET", path + "/C1", headers, b"").status for _ in range(2)] == [404, 200]
    sb.read_lag = 0
    sb.reset()
    assert sb.read_lag == 1


# -- the one seam -------------------------------------------------------------------------


def test_serve_says_what_the_shell_does(draft: CampaignDraft) -> None:
    sb = Sandbox()
    headers = {"X-API-KEY": sb.api_key}
    path = f"/rest/accounts/{sb.account_id}/campaigns"
    body = json.dumps(payload(sb, draft, campaign_id="C1")).encode()
    sb.inject(Fault.drop(after_create=True), Fault.cut(), Fault.stall(60.0))
    dropped = sb.serve(Incoming("POST", path, headers, body))
    cut = sb.serve(Incoming("POST", path, headers, body))
    gone = sb.serve(Incoming("POST", path, headers, body, patience=1.0))  # gives up at once
    sent = sb.serve(Incoming("POST", path, headers, body))
    assert [a.action for a in (dropped, cut, gone, sent)] == [
        Delivery.DROP,
        Delivery.CUT,
        Delivery.GONE,
        Delivery.SEND,
    ]
    assert cut.status == 200 and json.loads(cut.body)["error"] == "campaign_exists"
    assert sent.json()["error"] == "campaign_exists" and list(sb.campaigns) == ["C1"]
    assert [r.status for r in sb.requests] == [None, None, None, 400]
