"""``python -m benchmarks [name ...]``: run the benchmarks (all by default), print a table and
write ``benchmarks/RESULTS.md``. Names: call, bulk, form, import, thousand."""

from __future__ import annotations

import gc
import json
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
def sandbox_process(latency: float = 0.0) -> Iterator[tuple[str, str, str]]:
    """The sandbox in its own process (so the client's process measures only the client).
    Yields ``(url, api_key, account_id)``."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    key = "sandbox_" + secrets.token_hex(12)
    account = "account_benchmark"
    proc = subprocess.Popen(
        [sys.executable, "-m", "alsona_nb.sandbox", "--port", str(port), "--api-key", key,
         "--account-id", account, "--latency", str(latency)],
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
        body = json.dumps(
            client.prepare(draft).to_payload(), separators=(",", ":")
        ).encode()
        session = requests.Session()
        target = f"{url}/rest/accounts/{account}/campaigns"
        headers = {"X-API-KEY": key, "Content-Type": "application/json",
                   "Accept": "application/json"}

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
        "<= 1.10x",
        ratio <= 1.10,
        f"median of {blocks} alternating blocks of {per_block} calls each; sandbox in a "
        f"separate process with TCP_NODELAY. Client-process CPU per call: {ours_cpu:.0f} µs "
        f"vs {raw_cpu:.0f} µs ({ours_cpu - raw_cpu:+.0f} µs, {ours_cpu / raw_cpu:.2f}x)",
    )


# -- 2. bulk throughput -------------------------------------------------------------------


def bench_bulk(workers: int = 8, latency: float = 0.05, count: int = 400) -> Result:
    from alsona_nb import AlsonaClient

    drafts = [sample_draft(i) for i in range(count)]
    # The sandbox runs in its own process, so the client's threads have this one to themselves.
    with sandbox_process(latency) as (url, key, account):
        client = AlsonaClient(api_key=key, account_id=account, base_url=url)
        client.create_campaigns(drafts[: workers * 2], max_workers=workers, progress=False)
        t0 = time.perf_counter()
        result = client.create_campaigns(drafts, max_workers=workers, progress=False)
        rate = count / (time.perf_counter() - t0)
        assert result["ok"].all()
        sequential_n = 40
        t0 = time.perf_counter()
        result = client.create_campaigns(drafts[:sequential_n], max_workers=1, progress=False)
        sequential = sequential_n / (time.perf_counter() - t0)
        assert result["ok"].all()
        body = json.dumps(client.prepare(drafts[0]).to_payload()).encode()
        raw = raw_rate(f"{url}/rest/accounts/{account}/campaigns", key, body, workers, count)
        client.close()
    ideal = workers / latency
    fraction = rate / ideal
    speedup = rate / sequential
    return Result(
        f"2. bulk, {workers} workers, {latency * 1000:.0f} ms latency",
        f"{fraction:.3f} of ideal ({rate:.1f}/s of {ideal:.0f}/s); {speedup:.1f}x sequential "
        f"({sequential:.1f}/s)",
        ">= 0.90 of ideal and >= 7x sequential",
        fraction >= 0.90 and speedup >= 7,
        f"{count} campaigns; sandbox in a separate process with {latency * 1000:.0f} ms added "
        f"to each answer. The same run with raw Session.post from {workers} threads (no "
        f"validation, no result rows): {raw / ideal:.3f} of ideal ({raw:.1f}/s)",
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


# -- 3. form responsiveness ---------------------------------------------------------------


def bench_form(changes: int = 300) -> Result:
    try:
        from alsona_nb._form import CampaignForm
    except ImportError as exc:
        return Result("3. form: one widget change", "not measured", "<= 2 ms", None, str(exc))
    from alsona_nb import Sandbox

    with Sandbox() as sandbox:
        client = sandbox.client()
        form = CampaignForm(client, seats=["seat_a", "seat_b"])
        form.name_input.value = "Benchmark"
        form.seats_input.value = ("seat_a",)
        days = list(form.day_checkboxes)
        steps: list[Callable[[int], None]] = [
            lambda i: setattr(form.name_input, "value", f"Benchmark {i}"),
            lambda i: setattr(form.day_checkboxes[days[i % 7]], "value",
                              not form.day_checkboxes[days[i % 7]].value),
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
        "3. form: one widget change",
        f"median {median_ms:.2f} ms (p95 {p95:.2f} ms)",
        "<= 2 ms",
        median_ms <= 2.0,
        f"{changes} changes; medians in ms: {parts}; each rebuilds draft, preview and week "
        "picture",
    )


# -- 4. import cost -----------------------------------------------------------------------

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
        "4. import alsona_nb vs requests + pydantic",
        f"{ratio:.2f}x ({statistics.median(ours) * 1000:.0f} ms vs "
        f"{statistics.median(base) * 1000:.0f} ms)",
        "<= 1.3x, no pandas/ipywidgets",
        ratio <= 1.3 and not heavy,
        f"median of {rounds} fresh processes each; heavy modules imported: "
        f"{', '.join(sorted(heavy)) or 'none'}",
    )


# -- 5. a thousand campaigns --------------------------------------------------------------


def bench_thousand(count: int = 1000, workers: int = 4) -> Result:
    from alsona_nb import AlsonaClient, ResultsLog

    drafts = [sample_draft(i) for i in range(count)]
    with sandbox_process() as (url, key, account):
        def run() -> tuple[float, int]:
            client = AlsonaClient(api_key=key, account_id=account, base_url=url,
                                  log=ResultsLog())
            t0 = time.perf_counter()
            frame = client.create_campaigns(drafts, max_workers=workers, progress=False)
            elapsed = time.perf_counter() - t0
            assert frame["ok"].all() and len(frame) == count
            size = int(frame.memory_usage(deep=True).sum())
            client.close()
            return elapsed, size

        run()  # warm up (imports, first connections)
        gc.collect()
        elapsed, frame_bytes = run()
        gc.collect()
        tracemalloc.start()
        run()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return Result(
        f"5. {count} campaigns through the sandbox",
        f"{elapsed:.2f} s ({count / elapsed:.0f}/s); peak {peak / 2**20:.1f} MiB",
        "a figure (no target)",
        None,
        f"{workers} workers, sandbox in a separate process (TCP_NODELAY), with a ResultsLog; "
        "peak is "
        f"tracemalloc's for client + results (a second run); result frame "
        f"{frame_bytes / 2**20:.2f} MiB",
    )


BENCHES: dict[str, Callable[[], Result]] = {
    "call": bench_call,
    "bulk": bench_bulk,
    "form": bench_form,
    "import": bench_import,
    "thousand": bench_thousand,
}


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


def main(argv: list[str]) -> int:
    names = argv or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
        return 2
    load_before = os.getloadavg()[0]
    results = []
    for name in names:
        print(f"running {name}...", flush=True)
        results.append(BENCHES[name]())
        print(f"  {results[-1].measured}", flush=True)
    text = table(results)
    print()
    print(text)
    if names == list(BENCHES):
        when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        (HERE / "RESULTS.md").write_text(
            "# Benchmark results (latest `make bench`)\n\n"
            f"Run {when} on: {machine()}. Load average (1 min) {load_before:.1f} before and "
            f"{os.getloadavg()[0]:.1f} after: other work on this machine skews the timings.\n\n"
            f"{text}\n",
            encoding="utf-8",
        )
        print(f"\nwritten to {HERE.relative_to(ROOT) / 'RESULTS.md'}")
    return 0 if all(r.ok is not False for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
