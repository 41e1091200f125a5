"""``python -m benchmarks.sheet [rows]``: the sheet reader at scale (100,000 rows by default).

Generates a CSV of campaigns (varied names, seats, days, hours, zones and statuses, half of
the rows with their own campaign id), then measures ``read_campaigns_csv`` on it:

- memory: the ``tracemalloc`` peak while reading, per row, against the target (2.5 KiB);
- time: the median of three reads, against a baseline measured in the same run: pandas
  reading the same file (every cell as text) plus ``CampaignDraft`` validating the same
  drafts from plain dicts (what a reader with no work of its own would cost).
"""

from __future__ import annotations

import csv
import gc
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

TARGET_BYTES_PER_ROW = 2.5 * 1024
ZONES = ["Europe/Paris", "America/New_York", "Asia/Tokyo", "600", "-300", "", "UTC"]
DAYS = ["mon-fri", "mon,wed,fri", "every day", "tue-thu", "weekdays", "Mon, Tue", "sat-sun"]
STATUSES = ["DRAFT", "RUN", "PAUSE", "", "draft"]


def generate(path: Path, rows: int) -> None:
    """Write a sheet of ``rows`` campaigns to ``path`` (deterministic: no randomness)."""
    seats = [f"seat_{n:020x}" for n in range(40)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(
            ["name", "seats", "days", "start_hour", "end_hour", "timezone", "status", "campaign_id"]
        )
        for n in range(rows):
            start = 6 + n % 5
            second = seats[(n + 1 + n % 5) % 40]
            chosen = seats[n % 40] if n % 3 else f"{seats[n % 40]}; {second}"
            out.writerow(
                [
                    f"Q3 outreach {n:06d} - city {n % 97}",
                    chosen,
                    DAYS[n % len(DAYS)],
                    f"{start:02d}:00",
                    str(start + 4 + n % 7),
                    ZONES[n % len(ZONES)],
                    STATUSES[n % len(STATUSES)],
                    f"campaign_{n:020x}" if n % 2 else "",
                ]
            )


def _read(path: Path) -> Any:
    from alsona_nb import read_campaigns_csv

    return read_campaigns_csv(path)


def peak_bytes(run: Callable[[], Any]) -> tuple[int, Any]:
    """The tracemalloc peak (bytes above what was allocated before) while ``run`` runs."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = run()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    return peak, result


def median_seconds(run: Callable[[], Any], repeat: int = 3) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(repeat):
        result = None
        gc.collect()
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return times, result


def baseline(path: Path, payloads: list[dict[str, Any]]) -> Callable[[], Any]:
    """pandas reading ``path`` as text plus the model validating ``payloads``."""
    import pandas as pd

    from alsona_nb import CampaignDraft

    def run() -> Any:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        drafts = [CampaignDraft.model_validate(p) for p in payloads]
        return frame, drafts

    return run


def main(argv: list[str]) -> int:
    rows = int(argv[0]) if argv else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sheet.csv"
        generate(path, rows)
        size = path.stat().st_size
        import alsona_nb  # imported before measuring, so that imports are not counted

        alsona_nb.read_campaigns_csv  # noqa: B018 (loads the sheet module)
        peak, batch = peak_bytes(lambda: _read(path))
        assert batch.ok, batch.report.head()
        payloads = [d.model_dump(exclude_none=True) for d in batch.drafts]
        del batch
        gc.collect()
        ours, _ = median_seconds(lambda: _read(path))
        base, _ = median_seconds(baseline(path, payloads))
    per_row = peak / rows
    ratio = statistics.median(ours) / statistics.median(base)
    print(
        f"sheet: {rows:,} rows, {size / 2**20:.1f} MiB of CSV  (python -m benchmarks.sheet {rows})"
    )
    print(
        f"  peak memory  {peak / 2**20:7.1f} MiB = {per_row / 1024:.2f} KiB a row"
        f"   target <= {TARGET_BYTES_PER_ROW / 1024:.1f} KiB a row"
        f"   {'ok' if per_row <= TARGET_BYTES_PER_ROW else 'MISSED'}"
    )
    print(
        "  time         read_campaigns_csv "
        + " / ".join(f"{t:.2f}" for t in ours)
        + " s; baseline (pandas read + model validation) "
        + " / ".join(f"{t:.2f}" for t in base)
        + f" s; median ratio {ratio:.2f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
