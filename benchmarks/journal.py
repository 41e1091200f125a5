"""``python -m benchmarks.journal [lines]``: what durability costs per journal line.

``ResultsLog.record`` with ``fsync`` (the default: each intent is on disk before its request
goes out, each outcome after) and without (``sync=False``), against the ideal: the same line
written with nothing but ``open``, ``write``, ``fsync`` and ``close``, measured in the same
run. A figure only: the disk and its load decide it (a journal line is written once per call,
and a call under a rate limit takes far longer than either).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone

from alsona_nb import ResultsLog
from alsona_nb._attempt import Attempt, PreparedCreate
from alsona_nb._models import Campaign, CampaignDraft, WeeklySchedule


def _attempts(n: int) -> list[Attempt]:
    draft = CampaignDraft(
        name="Q3 outreach",
        seats=["seat_6a13e661ecc6a86e3fb7"],
        schedule=WeeklySchedule.weekdays(),
        account_id="account_benchmark",
        campaign_id="campaign_" + "0" * 20,
        zone="America/New_York",
    )
    body = json.dumps(draft.to_payload()).encode()
    campaign = Campaign.model_validate(draft.to_payload()["campaign"])
    prepared = PreparedCreate("http://127.0.0.1/x", draft, body)
    now = datetime.now(timezone.utc)
    return [
        Attempt(now, "sandbox", draft.account_id, prepared, campaign=campaign, done=True, tries=1)
        for _ in range(n)
    ]


def _per_line(write: Callable[[], object], n: int) -> float:
    started = time.perf_counter()
    write()
    return (time.perf_counter() - started) / n * 1e6


def measure(n: int = 500, runs: int = 3) -> dict[str, list[float]]:
    """Microseconds per line for each way of writing, ``runs`` times."""
    attempts = _attempts(n)
    line = json.dumps({"event": "outcome", "row": "x" * 700}).encode() + b"\n"
    found: dict[str, list[float]] = {"raw, fsync": [], "record, fsync": [], "record, no fsync": []}
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            raw = os.path.join(folder, "raw.jsonl")

            def syscalls(path: str = raw) -> None:
                for _ in range(n):
                    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                    os.write(fd, line)
                    os.fsync(fd)
                    os.close(fd)

            found["raw, fsync"].append(_per_line(syscalls, n))
            for sync, name in ((True, "record, fsync"), (False, "record, no fsync")):
                log = ResultsLog(os.path.join(folder, f"{name}.jsonl"), sync=sync)

                def records(log: ResultsLog = log) -> None:
                    for attempt in attempts:
                        log.record(attempt)

                found[name].append(_per_line(records, n))
    return found


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 500
    found = measure(n)
    ideal = statistics.median(found["raw, fsync"])
    print(f"journal lines ({n} a run, 3 runs; median, then min-max, microseconds a line):")
    for name, values in found.items():
        median = statistics.median(values)
        print(
            f"  {name:18} {median:8.0f} us  ({min(values):.0f}-{max(values):.0f})"
            f"  {median / ideal:5.2f}x the bare fsync"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
