"""Pacing at any limit: each case of the pacing table against the sandbox's token bucket.

Every case runs ``create_campaigns(client, drafts, progress=False, ...)`` against a real
``Sandbox(rate=..., burst=...)`` through its in-process transport (no sockets: the figures
are the pacer's, not loopback's), and reports, from the same run:

- elapsed over the ideal, the ideal computed from the bucket: the burst leaves at once, the
  other ``n - burst`` requests at the bucket's rate, ``(n - burst) / rate`` seconds (for a
  limit that changes, the same sum over each phase);
- the share of requests the sandbox answered 429 (``sandbox.throttled`` over the creates it
  received) or, for the fault cases, 503;
- whether every draft was created exactly once (every result row ok, one campaign stored
  per draft, one 200 per draft).
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from alsona_nb.sandbox import Fault, Incoming, Reply, Sandbox


@dataclass(frozen=True)
class Case:
    """One line of the table: the gateway, the count, the options, the targets."""

    name: str
    n: int
    rate: float | None
    burst: int = 1
    options: dict[str, Any] = field(default_factory=dict)  # create_campaigns options
    change_after: int | None = None  # creates before the limit changes...
    new_rate: float | None = None  # ...to this rate...
    new_burst: int | None = None  # ...and burst
    retry_after: bool = True  # False: the gateway's 429s carry no Retry-After
    every: int | None = None  # a 503 on every n-th request (no token bucket)
    every_retry_after: float | None = None
    max_ratio: float | None = 1.10  # target: elapsed over ideal (None: a figure only)
    max_refused: float = 0.05  # target: share refused...
    max_refused_count: int | None = 2  # ...or at most this many in a short run

    def ideal(self) -> float:
        """Seconds a client knowing the bucket needs: its burst at once, then its rate."""
        if self.rate is None:
            return 0.0
        if self.change_after is None:
            return max(0, self.n - self.burst) / self.rate
        assert self.new_rate is not None
        first = max(0, self.change_after - self.burst) / self.rate
        second_burst = self.new_burst or self.burst
        return first + max(0, self.n - self.change_after - second_burst) / self.new_rate


def told(name: str, n: int, rate: float, burst: int, options: dict[str, Any]) -> Case:
    """A known-limit line: within 1.05x of the ideal, nothing refused."""
    return Case(name, n, rate, burst, options, max_ratio=1.05, max_refused=0.0, max_refused_count=0)


CASES: list[Case] = [
    Case("1/s, burst 1", 30, 1, 1),
    Case("2/s, burst 10", 40, 2, 10),
    Case("20/s, burst 5 (the tuned case)", 300, 20, 5),
    Case("50/s, burst 50", 500, 50, 50),
    Case(
        "20/s dropping to 5/s after 80 creates",
        160,
        20,
        5,
        change_after=80,
        new_rate=5,
        new_burst=5,
    ),
    Case("10/s, 429s with no Retry-After", 200, 10, 10, retry_after=False),
    Case("5/s, burst 1", 80, 5, 1),
    Case("10/s, burst 1", 200, 10, 1),
    Case("100/s, burst 1", 1000, 100, 1),
    told("max_rate=2 told, burst 10", 40, 2, 10, {"max_rate": 2}),
    told("max_rate=2, max_burst=10 told, burst 10", 40, 2, 10, {"max_rate": 2, "max_burst": 10}),
    told("max_rate=1 told, burst 1", 30, 1, 1, {"max_rate": 1}),
    told("max_rate=5 told, burst 1", 80, 5, 1, {"max_rate": 5}),
    told("max_rate=100 told, burst 1", 1000, 100, 1, {"max_rate": 100}),
    # the other faults of the issue: figures only (the issue asks "not orders of magnitude")
    Case("no limit, a 503 on every 10th request", 300, None, every=10, max_ratio=None),
    Case(
        "no limit, 503 Retry-After: 0 on every 3rd",
        300,
        None,
        every=3,
        every_retry_after=0,
        max_ratio=None,
    ),
    Case(
        "5/s burst 5 going up to 50/s burst 50 after 25",
        300,
        5,
        5,
        change_after=25,
        new_rate=50,
        new_burst=50,
        max_ratio=None,
    ),
]


class Gateway(Sandbox):
    """The sandbox, with what a case needs of a gateway beside its token bucket: a limit
    that changes after so many creates, 429s without ``Retry-After``, periodic 503s."""

    def __init__(self, case: Case) -> None:
        super().__init__(rate=case.rate, burst=case.burst if case.rate else None)
        self.case = case
        self.arrived = 0
        self.created = 0
        self._count_lock = threading.Lock()

    def serve(self, request: Incoming) -> Reply:
        case = self.case
        with self._count_lock:
            self.arrived += 1
            fault = case.every is not None and self.arrived % case.every == 0
        if fault:  # queued now, met by the next create (this one, but for a race)
            self.inject(Fault.error(503, retry_after=case.every_retry_after))
        answer = super().serve(request)
        if answer.status == 429 and not case.retry_after:
            answer.headers.pop("Retry-After", None)
        if answer.status == 200 and case.change_after is not None:
            with self._count_lock:
                self.created += 1
                change = self.created == case.change_after
            if change:
                self.throttle(case.new_rate, case.new_burst)
        return answer


@dataclass
class Figures:
    """One run of one case."""

    elapsed: float
    ratio: float | None
    requests: int
    refused: int
    once: bool

    @property
    def share(self) -> float:
        return self.refused / max(1, self.requests)


def run_case(case: Case) -> Figures:
    """Run ``case`` once against a fresh sandbox; real time."""
    from alsona_nb import create_campaigns

    from .__main__ import sample_draft

    drafts = [sample_draft(i) for i in range(case.n)]
    sandbox = Gateway(case)
    client = sandbox.client(in_process=True, max_retries=8)
    try:
        t0 = time.perf_counter()
        frame = create_campaigns(client, drafts, progress=False, **case.options)
        elapsed = time.perf_counter() - t0
    finally:
        client.close()
    posts = sandbox.counts["POST"]
    refused = sandbox.throttled if case.every is None else sandbox.counts[503]
    names = [str(c.get("name")) for c in sandbox.campaigns.values()]
    once = (
        bool(frame["ok"].all())
        and len(frame) == case.n
        and sandbox.counts["POST", 200] == case.n
        and sorted(names) == sorted(d.name for d in drafts)
    )
    ideal = case.ideal()
    return Figures(elapsed, elapsed / ideal if ideal else None, posts, refused, once)


def met(case: Case, f: Figures) -> bool | None:
    """Whether one run meets the case's targets (``None``: a figure only)."""
    if case.max_ratio is None or f.ratio is None:
        return None
    refused_ok = f.share <= case.max_refused or (
        case.max_refused_count is not None and f.refused <= case.max_refused_count
    )
    return f.ratio <= case.max_ratio and refused_ok and f.once


def target(case: Case) -> str:
    if case.max_ratio is None:
        return "figure only (not orders of magnitude)"
    if case.max_refused == 0:
        return f"<= {case.max_ratio:.2f}x, none refused"
    return f"<= {case.max_ratio:.2f}x, <= {case.max_refused:.0%} refused (or <= 2)"


def _spread(values: list[float], fmt: str) -> str:
    low, high = min(values), max(values)
    if len(values) == 1 or fmt.format(low) == fmt.format(high):
        return fmt.format(statistics.median(values))
    return f"{fmt.format(low)}–{fmt.format(high)}"


def row(case: Case, runs: list[Figures]) -> str:
    """One markdown table row: the spread (lowest–highest) over the runs."""
    if case.max_ratio is None and case.rate is None:
        time_text = _spread([f.elapsed for f in runs], "{:.2f} s") + " (no limit)"
    elif runs[0].ratio is None:
        time_text = _spread([f.elapsed for f in runs], "{:.2f} s")
    else:
        ratios = [f.ratio for f in runs if f.ratio is not None]
        time_text = _spread(ratios, "{:.2f}x") + f" of {case.ideal():.2f} s"
    shares = _spread([100 * f.share for f in runs], "{:.1f}%")
    counts = _spread([float(f.refused) for f in runs], "{:.0f}")
    requests = _spread([float(f.requests) for f in runs], "{:.0f}")
    once = "yes" if all(f.once for f in runs) else "**NO**"
    verdicts = [met(case, f) for f in runs]
    if verdicts[0] is None:
        verdict = "—"
    else:
        good = sum(bool(v) for v in verdicts)
        verdict = "yes" if good == len(runs) else ("**NO**" if not good else f"{good}/{len(runs)}")
    return (
        f"| {case.name} ({case.n}) | {time_text} | {shares} ({counts} of {requests}) | "
        f"{once} | {target(case)} | {verdict} |"
    )


HEADER = (
    "| limit (drafts) | elapsed / ideal | refused | all created once | target | met |\n"
    "|---|---|---|---|---|---|"
)


def run_all(runs: int = 1, names: list[str] | None = None) -> tuple[list[str], bool]:
    """Run every case ``runs`` times (run 1 of every case, then run 2...); return the table
    lines and whether every targeted line met its target in every run."""
    cases = [c for c in CASES if names is None or c.name in names]
    figures: dict[str, list[Figures]] = {c.name: [] for c in cases}
    for r in range(runs):
        for case in cases:
            if r and case.max_ratio is None:
                continue  # the figures only (one of them slow): once is enough
            f = run_case(case)
            figures[case.name].append(f)
            ratio = f"{f.ratio:.2f}x" if f.ratio is not None else f"{f.elapsed:.2f} s"
            print(
                f"  run {r + 1}/{runs} {case.name} ({case.n}): {ratio}, "
                f"{f.refused} of {f.requests} refused ({f.share:.1%}), once: {f.once}, "
                f"target {target(case)}",
                flush=True,
            )
    lines = [HEADER] + [row(c, figures[c.name]) for c in cases]
    ok = all(met(c, f) is not False for c in cases for f in figures[c.name])
    return lines, ok
