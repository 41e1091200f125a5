"""The sheet reader at scale: memory per row (tracemalloc's peak), not time, so that the test
holds on a busy machine. ``python -m benchmarks.sheet`` measures 100,000 rows and the time."""

from __future__ import annotations

import csv
import gc
import tracemalloc
from pathlib import Path

from alsona_nb._sheet import read_campaigns_csv

ROWS = 5_000
TARGET = 2.5 * 1024  # bytes a row at the peak of a read
ZONES = ["Europe/Paris", "America/New_York", "Asia/Tokyo", "600", "-300", "", "UTC"]
DAYS = ["mon-fri", "mon,wed,fri", "every day", "tue-thu", "weekdays", "Mon, Tue", "sat-sun"]


def write_sheet(path: Path, rows: int) -> None:
    seats = [f"seat_{n:020x}" for n in range(40)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["name", "seats", "days", "start_hour", "end_hour", "timezone", "status",
                      "campaign_id"])  # fmt: skip
        for n in range(rows):
            chosen = seats[n % 40] if n % 3 else f"{seats[n % 40]}; {seats[(n + 1 + n % 5) % 40]}"
            start = 6 + n % 5
            out.writerow([f"Q3 outreach {n:06d} - city {n % 97}", chosen, DAYS[n % len(DAYS)],
                          f"{start:02d}:00", str(start + 4 + n % 7), ZONES[n % len(ZONES)],
                          ["DRAFT", "RUN", "PAUSE", ""][n % 4],
                          f"campaign_{n:020x}" if n % 2 else ""])  # fmt: skip


def test_peak_memory_per_row_stays_under_the_target(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    write_sheet(path, ROWS)
    warm = tmp_path / "warm.csv"
    write_sheet(warm, 20)
    read_campaigns_csv(warm)  # the zone names and the model's validators, built once
    gc.collect()
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        batch = read_campaigns_csv(path)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        if not tracing:
            tracemalloc.stop()
    assert batch.ok and len(batch.drafts) == ROWS
    assert peak / ROWS <= TARGET, f"{peak / ROWS:.0f} bytes a row"
    # rows with the same days and hours share one schedule
    assert len({id(d.schedule) for d in batch.drafts}) <= len(DAYS) * 5 * 7
