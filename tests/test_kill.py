"""A kernel killed (SIGKILL) in the middle of a bulk run leaves a valid journal.

A subprocess runs ``create_campaigns`` with a ``ResultsLog(path)`` against a sandbox with
latency; once some lines exist it is killed without warning. Every complete line is a row;
a line torn by the kill can only be the last one, and ``ResultsLog`` skips it with a warning.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest

from alsona_nb import CampaignDraft, Sandbox

JOB = textwrap.dedent(
    """
    import sys
    from alsona_nb import AlsonaClient, CampaignDraft, ResultsLog, WeeklySchedule
    base_url, key, account, journal = sys.argv[1:5]
    client = AlsonaClient(api_key=key, account_id=account, base_url=base_url, timeout=5)
    drafts = [
        CampaignDraft(name=f"killed {i:03d}", seats=["seat_1"], schedule=WeeklySchedule.weekdays(),
                      campaign_id=f"CAMPK{i:03d}")
        for i in range(400)
    ]
    client.create_campaigns(drafts, max_workers=4, progress=False, log=ResultsLog(journal))
    """
)


@pytest.mark.slow
def test_sigkill_mid_bulk_leaves_a_valid_journal(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    with Sandbox(latency=0.05) as sandbox:
        proc = subprocess.Popen(
            [sys.executable, "-c", JOB, sandbox.url, sandbox.api_key, sandbox.account_id,
             str(journal)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if journal.exists() and journal.read_bytes().count(b"\n") >= 20:
                    break
                assert proc.poll() is None, proc.stderr.read().decode()  # type: ignore[union-attr]
                time.sleep(0.01)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        assert proc.returncode == -signal.SIGKILL
        created = dict(sandbox.campaigns)

    data = journal.read_bytes()
    lines = data.split(b"\n")
    complete, torn = lines[:-1], lines[-1]  # after the last newline: empty, or a torn line
    rows = [json.loads(line) for line in complete]  # every complete line parses
    assert 20 <= len(rows) < 400, "the job was not killed in the middle"
    assert all(r["ok"] for r in rows)
    ids = [r["campaign_id"] for r in rows]
    assert len(set(ids)) == len(ids)
    # Every finished attempt in the journal is a campaign the server holds; the server may
    # hold a few more (in flight when the kill came, their answers never journalled).
    assert set(ids) <= set(created)
    assert len(created) - len(ids) <= 4 + 1

    # Reading the journal back: complete rows, plus a warning if the kill tore a line.
    from alsona_nb import ResultsLog

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reopened = ResultsLog(journal)
    assert [r["campaign_id"] for r in reopened.rows] == ids
    assert bool(caught) == bool(torn.strip())


def test_torn_last_line_is_skipped_with_a_warning(tmp_path: Path, draft: CampaignDraft) -> None:
    """What a kill during a write leaves: complete lines, then half of one. The journal
    stays usable and appending continues on a fresh line."""
    from alsona_nb import ResultsLog

    with Sandbox() as sandbox, sandbox.client() as client:
        path = tmp_path / "torn.jsonl"
        log = ResultsLog(path)
        client.attempt(draft, log=log)
        client.attempt(draft, log=log)
        whole = path.read_text(encoding="utf-8")
        path.write_text(whole + whole.splitlines()[0][:37], encoding="utf-8")
        with pytest.warns(UserWarning, match="line 3 is not complete JSON"):
            reopened = ResultsLog(path)
        assert len(reopened) == 2
        client.attempt(draft, log=reopened)
    # The next run's row must not be glued onto the torn fragment.
    with pytest.warns(UserWarning):
        again = ResultsLog(path)
    assert len(again) == 3
