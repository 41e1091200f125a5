"""Shared fixtures: a real sandbox server on loopback and a client bound to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from alsona_nb import AlsonaClient, CampaignDraft, Sandbox, WeeklySchedule


@pytest.fixture(autouse=True)
def _no_live_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may pick up a real key or host from the developer's shell."""
    for name in ("ALSONA_API_KEY", "ALSONA_ACCOUNT_ID", "ALSONA_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[AlsonaClient]:
    with sandbox.client(timeout=2.0, max_retry_wait=5.0) as c:
        yield c


@pytest.fixture
def draft() -> CampaignDraft:
    return CampaignDraft(
        name="Q3 founders outreach",
        seats=["seat_6a13e661ecc6a86e3fb7"],
        schedule=WeeklySchedule.weekdays(9, 17),
        timezone=-300,
    )
