"""A kernel killed (SIGKILL) in the middle of a bulk run: ``client.reconcile(journal)`` then
gives exactly the campaigns the server holds, each once, every row settled; feeding the
journal back to ``create_campaigns`` finishes the run (the rows never sent included, from
their queued lines) without a duplicate."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import FakeTime

from alsona_nb import Sandbox
from alsona_nb._batch import create_campaigns

JOB = textwrap.dedent(
    """
    import sys
    from alsona_nb import AlsonaClient, CampaignDraft, ResultsLog, WeeklySchedule
    from alsona_nb._batch import create_campaigns
    base_url, key, account, journal = sys.argv[1:5]
    client = AlsonaClient(api_key=key, account_id=account, base_url=base_url, timeout=30)
    drafts = [
        CampaignDraft(name=f"killed {i:03d}", seats=["seat_1"], schedule=WeeklySchedule.weekdays())
        for i in range(400)
    ]
    create_campaigns(client, drafts, max_workers=4, progress=False, log=ResultsLog(journal))
    """
)


OUTCOME_LINE = b'{"event": "outcome"'


@pytest.mark.slow
def test_sigkill_mid_bulk_then_reconcile_gives_exactly_the_server_set(
    tmp_path: Path, fake_time: FakeTime
) -> None:
    journal = tmp_path / "run.jsonl"
    with Sandbox(latency=0.05) as sandbox, (tmp_path / "stderr.txt").open("wb") as stderr:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                JOB,
                sandbox.url,
                sandbox.api_key,
                sandbox.account_id,
                str(journal),
            ],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                # the whole batch is queued first; kill once 40 of its rows have an outcome
                if journal.exists() and journal.read_bytes().count(OUTCOME_LINE) >= 40:
                    break
                assert proc.poll() is None, (tmp_path / "stderr.txt").read_text()
                time.sleep(0.01)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        assert proc.returncode == -signal.SIGKILL
        with sandbox.client(timeout=10, clock=fake_time.clock, sleep=fake_time.sleep) as client:
            settled = client.reconcile(journal)
            assert not (settled["outcome"] == "unknown").any()  # every row settled
            assert settled["campaign_id"].nunique() == 400  # all queued before the first send
            created = settled[settled["ok"]]["campaign_id"].tolist()
            assert len(created) == len(set(created))  # each once
            assert set(created) == set(sandbox.campaigns)  # exactly the server's set
            assert 0 < len(created) < 400, "the job was not killed in the middle"

            posts = sandbox.counts["POST"]
            rest = create_campaigns(client, journal, progress=False)
            # only the journalled attempts that created nothing are sent again
            assert rest["ok"].all() and len(rest) == settled["campaign_id"].nunique()
            assert sandbox.counts["POST"] - posts == len(rest) - len(set(created))
            names = sorted(c["name"] for c in sandbox.campaigns.values())
            assert names == [f"killed {i:03d}" for i in range(400)]  # each once, none lost
