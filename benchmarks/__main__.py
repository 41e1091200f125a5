"""``python -m benchmarks [name ...]``: run the benchmarks (all by default), print a table and
write ``benchmarks/RESULTS.md``. Names: call, throttle, bulk, form, import, tenk.

Every figure is printed next to its target and a baseline measured in the same run; all
traffic stays on loopback (the sandbox runs in its own process)."""

from __future__ import annotations

import gc
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@dataclass
class Result:
    name: str
    measured: str
    target: str
    ok: bool | None  # None: nothing to compare with (a figure only)
    detail: str = ""


# -- helpers ------------------------------------------------------------------------------


@contextmanager
def sandbox_process(
    latency: float = 0.0, rate: float | None = None, burst: int | None = None
) -> Iterator[tuple[str, str, str]]:
    """The sandbox in its own process (so the client's process measures only the client).
    Yields ``(url, api_key, account_id)``."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    key = "sandbox_" + secrets.token_hex(12)
    account = "account_benchmark"
    throttle = ["--rate", str(rate), "--burst", str(burst)] if rate is not None else []
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "alsona_nb.sandbox",
            "--port",
            str(port),
            "--api-key",
            key,
            "--account-id",
            account,
            "--latency",
            str(latency),
            *throttle,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        if "SANDBOX" not in first:
            raise RuntimeError(f"the sandbox did not start: {first}{proc.stdout.read()}")
        yield f"http://127.0.0.1:{port}", key, account
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def sample_draft(i: int = 0):  # type: ignore[no-untyped-def]
    from alsona_nb import CampaignDraft, WeeklySchedule

    return CampaignDraft(
        name=f"Benchmark campaign {i}",
        seats=["seat_6a13e661ecc6a86e3fb7", "seat_2b7f90c4d1e3a5f68c21"],
        schedule=WeeklySchedule.weekdays(9, 17),
        timezone=120,
    )


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import pydantic

    return (
        f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, requests {requests.__version__}, "
        f"pydantic {pydantic.VERSION}"
    )


# -- 1. per-call cost ---------------------------------------------------------------------


def bench_call(blocks: int = 12, per_block: int = 150) -> Result:
    from alsona_nb import AlsonaClient

    with sandbox_process() as (url, key, account):
        client = AlsonaClient(api_key=key, account_id=account, base_url=url)
        draft = sample_draft()
        # raw sends the same body each time: without an id, so the server makes one
        plain = AlsonaClient(api_key=key, account_id=account, base_url=url, mint_ids=False)
        body = plain.prepare(draft).body
        session = requests.Session()
        target = f"{url}/rest/accounts/{account}/campaigns"
        headers = {
            "X-API-KEY": key,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

        def ours() -> None:
            client.create_campaign(draft)

        def raw() -> None:
            response = session.post(target, data=body, headers=headers, timeout=10)
            if response.status_code != 200:
                raise RuntimeError(response.text)

        for fn in (ours, raw):  # warm up: connections, caches
            for _ in range(50):
                fn()
        times: dict[str, list[float]] = {"ours": [], "raw": []}
        cpu: dict[str, list[float]] = {"ours": [], "raw": []}  # this process only
        for block in range(blocks):
            order = [("ours", ours), ("raw", raw)][:: 1 if block % 2 == 0 else -1]
            for name, fn in order:
                t0, c0 = time.perf_counter(), time.process_time()
                for _ in range(per_block):
                    fn()
                times[name].append((time.perf_counter() - t0) / per_block)
                cpu[name].append((time.process_time() - c0) / per_block)
        client.close()
        session.close()
    ours_us = statistics.median(times["ours"]) * 1e6
    raw_us = statistics.median(times["raw"]) * 1e6
    ratio = ours_us / raw_us
    ours_cpu, raw_cpu = (statistics.median(cpu[k]) * 1e6 for k in ("ours", "raw"))
    return Result(
        "1. create_campaign vs raw Session.post",
        f"{ratio:.2f}x ({ours_us:.0f} µs vs {raw_us:.0f} µs per call)",
        "<= 0.85x",
        ratio <= 0.85,
        f"median of {blocks} alternating blocks of {per_block} calls each; sandbox in a "
        f"separate process with TCP_NODELAY. Client-process CPU per call: {ours_cpu:.0f} µs "
        f"vs {raw_cpu:.0f} µs ({ours_cpu - raw_cpu:+.0f} µs, {ours_cpu / raw_cpu:.2f}x)",
    )


# -- 2. bulk at any rate limit: the pacing table (benchmarks/pacing.py) ----------------------


def bench_throttle(runs: int = 1) -> list[str]:
    """Every case of the pacing table, ``runs`` times; returns the markdown section."""
    from . import pacing

    load_before = os.getloadavg()[0]
    lines, ok = pacing.run_all(runs)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    spread = (
        f"lowest–highest of {runs} runs (the figures-only lines: one run)"
        if runs > 1
        else "one run"
    )
    command = ".venv/bin/python -m benchmarks throttle" + (f" --runs {runs}" if runs > 1 else "")
    return [
        "## 2. Pacing at any limit (default options unless told)",
        "",
        f"Run {when}; load average (1 min) {load_before:.1f} before and "
        f"{os.getloadavg()[0]:.1f} after. {spread}. Command: `{command}`. "
        f"Every targeted line met in every run: {'yes' if ok else '**no**'}.",
        "",
        *lines,
        "",
        PACING_NOTES,
    ]


PACING_NOTES = """- Each line is `create_campaigns(client, drafts, progress=False, **options)`
  against a fresh `Sandbox(rate=, burst=)` (its token bucket, whole-second `Retry-After`,
  at least 1) through the in-process transport, real time. Ideal: the burst at once, then
  the rest at the bucket's rate, `(n - burst) / rate` (summed over the phases when the
  limit changes). Refused: the sandbox's count of 429s (503s for the fault lines) over the
  creates it received. Created once: every row ok, one stored campaign and one 200 per
  draft.
- The 503 lines have no token bucket: the sandbox answers a 503 (without `Retry-After`, or
  with `Retry-After: 0`) to every 10th or 3rd create; the changing limits call
  `Sandbox.throttle` after that many creates; the no-`Retry-After` line strips the header
  from the bucket's 429s.
- **Unknown limit.** The gateway's token bucket is read off the answers
  (`alsona_nb/_ratesearch.py`). The opening is unpaced, one request in flight at first, and
  spends the burst; its first `429` leaves the bucket empty. From an emptied bucket the
  answers count exactly: what was accepted since proves a lower bound on the refill rate,
  the next refusal an upper one (at a burst of 1 every gap between two requests is a proof
  or a bound). The pacer tries a rate between the bounds (bisecting while it can afford
  refusals: 5% of the requests planned, at least 2; more carefully as they run out), then
  holds just under the proven rate, by the arrivals' jitter (half the spread of the
  latencies) and a margin. At a burst of 1 that margin aims at a share of refusals (2% at
  most, half of what the budget still allows): each refusal widens it, each acceptance
  narrows it. A refused request takes no turn: the next one is spaced from the last
  accepted. On threads, one thread at a time waits for the next turn (eight woken at once
  held up the one sending: the spread of a try's way to the bucket, eight in ten, fell from
  0.6-0.7 ms to about 0.4 ms), it looks again when the latest answer is due, and turns come
  early by the usual delay of a try after its turn. The sandbox (like RFC 9110) answers
  `Retry-After` in whole seconds, at least 1: a refused row waits that long while the others
  go on. What is left above the ideal: at a burst of 1 and 100/s the arrivals' jitter
  (0.4-1.2 ms on the fake clock; here 0.7-1.1 ms from a try's start to the bucket, for eight
  in ten) is 4-8% of a spacing, and every refusal costs its row a second turn; with a burst
  and a short run (2/s, burst 10, 40 drafts: 2 refusals allowed) the one refusal beyond the
  opening is spent on a slow climb that ends in an exact count; a short run at a burst of 1
  (5/s, 80 drafts: 4 refusals) depends on where its bisection lands.
- **Told limit.** `max_rate=` spaces at 97% of it from the start; a burst is spent only
  when told (`max_burst=`): finding it costs a refusal, which a told limit promises not to
  draw. At a burst of 1 and 100/s the same jitter draws a few refusals (0.2-0.7% here),
  each of which holds its row for a second's `Retry-After`, so that line misses its targets
  (1.05x, none refused) in some runs or all."""


# -- 3. bulk throughput -------------------------------------------------------------------


def bench_bulk() -> Result:
    figures = [_bulk_run(8, 0.05, 400), _bulk_run(32, 0.2, 640)]
    worst = min(f for f, _ in figures)
    return Result(
        "3. bulk throughput vs workers / latency",
        "; ".join(text for _, text in figures),
        ">= 0.93 of ideal each",
        worst >= 0.93,
        "sandbox in a separate process with the latency added to each answer; raw = bare "
        "Session.post of prebuilt JSON from as many threads (no validation, no result rows), "
        "same sandbox, same run",
    )


def _bulk_run(workers: int, latency: float, count: int) -> tuple[float, str]:
    from alsona_nb import AlsonaClient
    from alsona_nb._batch import create_campaigns

    drafts = [sample_draft(i) for i in range(count)]
    with sandbox_process(latency) as (url, key, account):
        client = AlsonaClient(api_key=key, account_id=account, base_url=url)
        create_campaigns(client, drafts[:workers], max_workers=workers, progress=False)
        t0 = time.perf_counter()
        result = create_campaigns(client, drafts, max_workers=workers, progress=False)
        rate = count / (time.perf_counter() - t0)
        assert result["ok"].all()
        plain = AlsonaClient(api_key=key, account_id=account, base_url=url, mint_ids=False)
        body = plain.prepare(drafts[0]).body
        raw = raw_rate(f"{url}/rest/accounts/{account}/campaigns", key, body, workers, count)
        client.close()
    ideal = workers / latency
    return rate / ideal, (
        f"{workers} workers at {latency * 1000:.0f} ms: {rate / ideal:.3f} of ideal "
        f"({rate:.0f}/s of {ideal:.0f}/s; raw {raw / ideal:.3f})"
    )


def raw_rate(url: str, key: str, body: bytes, workers: int, count: int) -> float:
    """Campaigns per second with bare ``Session.post`` of prebuilt JSON from ``workers``
    threads, against the same sandbox."""
    from concurrent.futures import ThreadPoolExecutor

    headers = {"X-API-KEY": key, "Content-Type": "application/json"}
    session = requests.Session()
    session.mount(url, requests.adapters.HTTPAdapter(pool_maxsize=workers))

    def post(_: int) -> None:
        if session.post(url, data=body, headers=headers, timeout=10).status_code != 200:
            raise RuntimeError("the sandbox refused the benchmark's body")

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(post, range(workers * 2)))
        t0 = time.perf_counter()
        list(pool.map(post, range(count)))
        rate = count / (time.perf_counter() - t0)
    session.close()
    return rate


# -- 4. form responsiveness ---------------------------------------------------------------


def bench_form(changes: int = 300) -> Result:
    try:
        from alsona_nb import CampaignForm
    except ImportError as exc:
        return Result("4. form: one widget change", "not measured", "<= 2 ms", None, str(exc))
    from alsona_nb import Sandbox

    with Sandbox() as sandbox:
        client = sandbox.client()
        form = CampaignForm(client, seats=["seat_a", "seat_b"])
        form.name_input.value = "Benchmark"
        form.seats_input.value = ("seat_a",)
        days = list(form.day_checkboxes)
        steps: list[Callable[[int], None]] = [
            lambda i: setattr(form.name_input, "value", f"Benchmark {i}"),
            lambda i: setattr(
                form.day_checkboxes[days[i % 7]],
                "value",
                not form.day_checkboxes[days[i % 7]].value,
            ),
            lambda i: setattr(form.hour_sliders[days[i % 5]], "value", (8 + (i // 3) % 3, 17)),
        ]
        for i in range(30):
            steps[i % 3](i)
        costs: dict[int, list[float]] = {0: [], 1: [], 2: []}
        for i in range(changes):
            t0 = time.perf_counter()
            steps[i % 3](i)
            costs[i % 3].append(time.perf_counter() - t0)
        assert form.draft is not None or form.errors
        form.close()
        client.close()
    every = [c for group in costs.values() for c in group]
    median_ms = statistics.median(every) * 1000
    parts = ", ".join(
        f"{label} {statistics.median(costs[k]) * 1000:.2f}"
        for k, label in ((0, "name"), (1, "day box"), (2, "hour slider"))
    )
    p95 = statistics.quantiles(every, n=20)[-1] * 1000
    return Result(
        "4. form: one widget change",
        f"median {median_ms:.2f} ms (p95 {p95:.2f} ms)",
        "<= 2 ms",
        median_ms <= 2.0,
        f"{changes} changes; medians in ms: {parts}; each rebuilds draft, preview and week picture",
    )


# -- 5. import cost -----------------------------------------------------------------------

_IMPORT_OURS = """
import time, sys
t0 = time.perf_counter()
import alsona_nb
dt = time.perf_counter() - t0
heavy = sorted(m for m in ("pandas", "ipywidgets", "tqdm") if m in sys.modules)
print(dt, ",".join(heavy))
"""
_IMPORT_BASE = """
import time, sys
t0 = time.perf_counter()
import requests, pydantic
class Small(pydantic.BaseModel):
    name: str
    seats: list[str]
Small(name="x", seats=["a"])
dt = time.perf_counter() - t0
print(dt, "")
"""


def bench_import(rounds: int = 15) -> Result:
    ours: list[float] = []
    base: list[float] = []
    heavy: set[str] = set()
    for _ in range(rounds):
        for code, into in ((_IMPORT_OURS, ours), (_IMPORT_BASE, base)):
            out = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
            ).stdout.split()
            into.append(float(out[0]))
            if len(out) > 1:
                heavy.update(out[1].split(","))
    ratio = statistics.median(ours) / statistics.median(base)
    return Result(
        "5. import alsona_nb vs requests + pydantic",
        f"{ratio:.2f}x ({statistics.median(ours) * 1000:.0f} ms vs "
        f"{statistics.median(base) * 1000:.0f} ms)",
        "<= 1.3x, no pandas/ipywidgets",
        ratio <= 1.3 and not heavy,
        f"median of {rounds} fresh processes each; heavy modules imported: "
        f"{', '.join(sorted(heavy)) or 'none'}",
    )


# -- 6. ten thousand campaigns in one call -----------------------------------------------


def bench_tenk(count: int = 10_000, small: int = 1_000) -> Result:
    """Peak memory of one bulk call (tracemalloc: Python allocations of this process), for
    ``small`` and ``count`` campaigns: flat means the peak grows with the result rows only."""
    from alsona_nb import AlsonaClient
    from alsona_nb._batch import create_campaigns

    with sandbox_process() as (url, key, account):
        client = AlsonaClient(api_key=key, account_id=account, base_url=url)

        def run(n: int) -> tuple[float, int, int]:
            drafts = (sample_draft(i) for i in range(n))
            gc.collect()
            tracemalloc.start()
            t0 = time.perf_counter()
            frame = create_campaigns(client, list(drafts), progress=False)
            elapsed = time.perf_counter() - t0
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            assert frame["ok"].all() and len(frame) == n
            return elapsed, peak, int(frame.memory_usage(deep=True).sum())

        run(200)  # warm up
        _, small_peak, _ = run(small)
        elapsed, peak, frame_bytes = run(count)
        client.close()
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    per_small, per_big = small_peak / small, peak / count
    return Result(
        f"6. {count} campaigns in one bulk call",
        f"peak {peak / 2**20:.1f} MiB ({per_big / 1024:.1f} KiB a campaign; "
        f"{per_small / 1024:.1f} KiB at {small}); {elapsed:.1f} s",
        "flat: KiB a campaign no higher at 10,000 than at 1,000",
        per_big <= per_small * 1.10,
        f"tracemalloc peak of this process during the call (drafts, threads, result rows, "
        f"frame); result frame {frame_bytes / 2**20:.1f} MiB; peak RSS of the benchmark "
        f"process {rss:.0f} MiB; {count / elapsed:.0f} campaigns/s under tracemalloc",
    )


BENCHES: dict[str, Callable[[], Result | list[str]]] = {
    "call": bench_call,
    "throttle": bench_throttle,
    "bulk": bench_bulk,
    "form": bench_form,
    "import": bench_import,
    "tenk": bench_tenk,
}


NOTES = """## Reading these figures

- **2, pacing.** Its own section above (`python -m benchmarks throttle`).
- **3.** The raw baseline (bare `Session.post` from as many threads) is the ceiling this
  machine reaches in the same run; bulk is compared with both.
- **6.** Peak per campaign is the same at 1,000 and 10,000: memory grows with the result
  rows only (drafts, prepared bodies, one result row each), nothing accumulates per request.
"""


def table(results: list[Result]) -> str:
    lines = [
        "| benchmark | measured | target | met |",
        "|---|---|---|---|",
    ]
    for r in results:
        met = "—" if r.ok is None else ("yes" if r.ok else "**NO**")
        lines.append(f"| {r.name} | {r.measured} | {r.target} | {met} |")
    lines.append("")
    lines += [f"- {r.name}: {r.detail}" for r in results if r.detail]
    return "\n".join(lines)


def _sections(text: str) -> dict[str, str]:
    """The marked sections of a RESULTS.md: ``<!-- NAME -->`` ... ``<!-- /NAME -->``."""
    found = {}
    for part in text.split("<!-- /")[:-1]:
        start = part.rfind("<!-- ")
        if start >= 0:
            name = part[start + 5 :].split(" -->", 1)[0]
            found[name] = part[start:].split(" -->\n", 1)[-1]
    return found


def write_results(classic: list[Result] | None, throttle: list[str] | None) -> None:
    """Rewrite RESULTS.md with the sections run now, keeping the others from the last run."""
    path = HERE / "RESULTS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    old = _sections(text)
    if text and not old and "\n| benchmark |" in text:  # written before the sections
        old["classic"] = text[text.index("Run ") :]
    if classic is not None:
        when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        old["classic"] = (
            f"Run {when}. Command: `make bench` (`.venv/bin/python -m benchmarks`).\n\n"
            f"{table(classic)}\n\n{NOTES}\n"
        )
    if throttle is not None:
        old["throttle"] = "\n".join(throttle) + "\n"
    names = ["throttle", "classic"] + [n for n in old if n not in ("throttle", "classic")]
    body = "".join(  # sections written by hand are kept, after these
        f"<!-- {name} -->\n{old[name]}<!-- /{name} -->\n\n" for name in names if name in old
    )
    path.write_text(
        "# Benchmark results (latest `make bench`)\n\n"
        f"Machine: {machine()}. Other work on this machine skews the timings (load averages "
        "are given with each section). One benchmark: `python -m benchmarks NAME` (names: "
        f"{', '.join(BENCHES)}); the pacing table three times: "
        "`python -m benchmarks throttle --runs 3`.\n\n" + body,
        encoding="utf-8",
    )
    print(f"\nwritten to {path.relative_to(ROOT)}")


def main(argv: list[str]) -> int:
    runs = 1
    if "--runs" in argv:
        at = argv.index("--runs")
        runs = int(argv[at + 1])
        argv = argv[:at] + argv[at + 2 :]
    names = argv or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
        return 2
    results: list[Result] = []
    throttle: list[str] | None = None
    for name in names:
        print(f"running {name}...", flush=True)
        if name == "throttle":
            throttle = bench_throttle(runs)
            print("\n".join(throttle[4:-2]), flush=True)
            continue
        result = BENCHES[name]()
        assert isinstance(result, Result)
        results.append(result)
        print(f"  {result.measured}", flush=True)
    if results:
        print()
        print(table(results))
    everything = [n for n in BENCHES if n != "throttle"]
    write_results(results if set(everything) <= set(names) else None, throttle)
    ok = all(r.ok is not False for r in results)
    return 0 if ok and (throttle is None or "met in every run: yes" in throttle[2]) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
