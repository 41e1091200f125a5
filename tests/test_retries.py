"""Retries and duplicates (NOTES 7), counted at the sandbox: what is retried, how long the
client waits, and that a lost answer never becomes a second campaign.

The basic single-call rules are pinned in test_client.py; this file covers the lost-answer
cases, the shared pause, and bulk runs under injected faults.
"""

from __future__ import annotations

import threading
import time

import pytest

from alsona_nb import (
    BadRequestError,
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
    because the id is the client's, and the server refuses the second copy."""
    sandbox.inject(lost)
    chosen = draft.model_copy(update={"campaign_id": "CAMP_lost_1"})
    with sandbox.client(timeout=0.3) as client:
        attempt = client.attempt(chosen)
    assert list(sandbox.campaigns) == ["CAMP_lost_1"]
    assert len(sandbox.requests) == 2
    assert attempt.tries == 2
    # What the analyst gets today: a refusal that names the id and says it may exist.
    assert isinstance(attempt.error, BadRequestError)
    assert attempt.error.error == "campaign_exists"
    assert "CAMP_lost_1" in attempt.error.message
    assert "earlier try" in attempt.error.message


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
