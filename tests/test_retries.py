"""Retries and duplicates (NOTES 7), counted at the sandbox: what is retried, how long the
client waits, and that a lost answer never becomes a second campaign.

The basic single-call rules are pinned in test_client.py; this file covers the lost-answer
cases, the shared pause, and bulk runs under injected faults.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from alsona_nb import (
    CampaignDraft,
    RateLimitError,
    Sandbox,
    ServerError,
    TransportError,
)
from alsona_nb.sandbox import Fault


@pytest.mark.parametrize(
    "lost",
    [Fault.stall(1.0, after_create=True), Fault.cut(after_create=True)],
    ids=["stalled past the timeout", "cut mid-answer"],
)
def test_lost_answer_with_own_id_is_one_campaign(
    sandbox: Sandbox, draft: CampaignDraft, lost: Fault
) -> None:
    """The first answer is lost after the sandbox stored the campaign; the retry is safe
    because the id is the client's: the server refuses the second copy, and that refusal
    means the lost create worked."""
    sandbox.inject(lost)
    chosen = draft.model_copy(update={"campaign_id": "CAMP_lost_1"})
    with sandbox.client(timeout=0.3) as client:
        attempt = client.attempt(chosen)
    assert list(sandbox.campaigns) == ["CAMP_lost_1"]
    assert len(sandbox.requests) == 2
    assert attempt.tries == 2
    assert attempt.ok and attempt.extra["answer_lost"] is True
    assert attempt.campaign is not None and attempt.campaign.campaign_id == "CAMP_lost_1"


def test_lost_answer_without_own_id_is_not_retried(
    sandbox: Sandbox, draft: CampaignDraft
) -> None:
    sandbox.inject(Fault.cut(after_create=False))
    with sandbox.client(timeout=0.3) as client:
        attempt = client.attempt(draft)
    assert isinstance(attempt.error, TransportError)
    assert "may or may not have been created" in attempt.error.message
    assert len(sandbox.requests) == 1 and not sandbox.campaigns


@pytest.mark.parametrize("status", [500, 502, 504])
def test_5xx_never_retried_without_own_id(
    sandbox: Sandbox, draft: CampaignDraft, status: int
) -> None:
    sandbox.inject(Fault.error(status), times=3)
    with sandbox.client(timeout=0.3) as client:
        attempt = client.attempt(draft)
    assert isinstance(attempt.error, ServerError)
    assert len(sandbox.requests) == 1


def test_rate_limit_total_wait_is_bounded(sandbox: Sandbox, draft: CampaignDraft) -> None:
    """However often the server says 429, the client stops within max_retry_wait and
    says so plainly."""
    sandbox.inject(Fault.error(429, "slow down", retry_after=0.2), times=50)
    with sandbox.client(timeout=0.3, max_retries=50, max_retry_wait=0.7) as client:
        start = time.monotonic()
        with pytest.raises(RateLimitError) as info:
            client.create_campaign(draft)
        elapsed = time.monotonic() - start
    assert elapsed < 0.7 + 0.3  # the budget, plus the requests themselves
    assert 2 <= len(sandbox.requests) <= 4
    assert info.value.retry_after == pytest.approx(0.2)
    assert info.value.status_code == 429
    assert "max_retry_wait" in info.value.message and "slow down" in info.value.message
    assert not sandbox.campaigns


def test_rate_limit_pauses_every_thread_of_the_client(
    sandbox: Sandbox, draft: CampaignDraft
) -> None:
    """One 429 holds the whole client, so eight workers do not hammer a limited server."""
    sandbox.inject(Fault.error(429, retry_after=0.5))
    finished: list[float] = []
    with sandbox.client(timeout=2.0) as client:
        first = threading.Thread(target=client.create_campaign, args=(draft,))
        start = time.monotonic()
        first.start()
        while not sandbox.requests:  # the 429 has been asked for
            time.sleep(0.005)
        time.sleep(0.05)

        def later() -> None:
            client.create_campaign(draft)
            finished.append(time.monotonic() - start)

        second = threading.Thread(target=later)
        second.start()
        first.join(5)
        second.join(5)
    assert finished and finished[0] >= 0.5, "the second thread went ahead during the pause"
    assert len(sandbox.campaigns) == 2
    assert [r.status for r in sandbox.requests].count(429) == 1


# -- bulk under injected faults ---------------------------------------------------------

N = 1000
MIXED = [
    Fault.error(429, "slow down", retry_after=0.05),
    Fault.error(503, "busy", retry_after=0.05),
    Fault.error(500, "internal error"),
    Fault.stall(0.3),  # past the 0.2 s timeout, before anything was stored
    Fault.stall(0.3, after_create=True),  # stored, then the answer is lost
]


def _drafts(draft: CampaignDraft, own_ids: bool) -> list[CampaignDraft]:
    return [
        draft.model_copy(
            update={"name": f"bulk {i:04d}", "campaign_id": f"CAMP{i:04d}" if own_ids else None}
        )
        for i in range(N)
    ]


def _no_duplicates(sandbox: Sandbox) -> None:
    names = Counter(c["name"] for c in sandbox.campaigns.values())
    assert not [n for n, k in names.items() if k > 1], "a campaign was created twice"


@pytest.mark.slow
def test_bulk_with_own_ids_survives_faults_and_feedback_finishes(
    sandbox: Sandbox, draft: CampaignDraft, tmp_path: Path
) -> None:
    from alsona_nb import ResultsLog

    drafts = _drafts(draft, own_ids=True)
    sandbox.inject_random(0.1, MIXED, seed=7)
    log = ResultsLog(tmp_path / "bulk.jsonl")
    with sandbox.client(timeout=0.2, max_retries=3, max_retry_wait=5.0) as client:
        first = client.create_campaigns(drafts, max_workers=8, progress=False, log=log)
        assert list(first["input_row"]) == list(range(N))  # one final row per input, in order
        assert first["campaign_id"].tolist() == [d.campaign_id for d in drafts]
        assert len(log) == N
        _no_duplicates(sandbox)
        # Every row that says ok is in the sandbox, and nothing else was created
        # except campaigns whose answer was lost.
        ok_ids = set(first.loc[first["ok"], "campaign_id"])
        assert ok_ids <= set(sandbox.campaigns)
        assert first["ok"].sum() > 0.8 * N
        sandbox.clear_faults()
        again = client.create_campaigns(first, max_workers=8, progress=False)
    _no_duplicates(sandbox)
    assert len(sandbox.campaigns) == N
    failed = again.loc[~again["ok"], ["campaign_id", "error_type", "error_message"]]
    assert failed.empty, f"{len(failed)} rows still failed after feeding back:\n{failed.head()}"


@pytest.mark.slow
def test_bulk_without_ids_never_duplicates(
    sandbox: Sandbox, draft: CampaignDraft
) -> None:
    drafts = _drafts(draft, own_ids=False)
    sandbox.inject_random(0.1, MIXED, seed=11)
    with sandbox.client(timeout=0.2, max_retries=3, max_retry_wait=5.0) as client:
        first = client.create_campaigns(drafts, max_workers=8, progress=False)
        assert list(first["input_row"]) == list(range(N))
        assert list(first["name"]) == [d.name for d in drafts]
        _no_duplicates(sandbox)
        # 429/503 are retried; 500 and timeouts are not (no id of our own), so they fail.
        errors = set(first.loc[~first["ok"], "error_type"])
        assert errors <= {"ServerError", "TransportError", "RateLimitError"}
        assert {"ServerError", "TransportError"} <= errors
        sandbox.clear_faults()
        # Fed back: rows whose campaign may exist are held, the others are sent.
        again = client.create_campaigns(first, max_workers=8, progress=False)
        _no_duplicates(sandbox)
        assert len(again) == N
        held = again.loc[~again["ok"]]
        assert set(held["error_type"]) <= {"ServerError", "TransportError"}
        created = set(c["name"] for c in sandbox.campaigns.values())
        assert set(again.loc[again["ok"], "name"]) <= created
        # The analyst checked and asks for the rest: the held rows whose campaign does not
        # exist are sent; those that do exist (answer lost) must be left alone.
        rest = again[~again["name"].isin(created)]
        final = client.create_campaigns(rest, max_workers=8, progress=False, retry_unknown=True)
    assert final["ok"].all()
    _no_duplicates(sandbox)
    assert len(sandbox.campaigns) == N
