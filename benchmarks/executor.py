"""Executor throughput benchmark: ours vs an AZR-style pebble baseline vs the unisolated limit.

Measures, in one run on the same cores, executions per second for two workloads:

  (a) trivial: ``def f(x): return x * 2`` over inputs cycling int, str, list, float;
  (b) cruxeval: the CRUXEval programs with their gold inputs (checked against gold outputs);

and for three ways of running them:

  1. ours:       ``azr_env.executor.Executor`` with every isolation layer on, warm (started
                 before timing), one ``run_batch`` call per workload;
  2. azr-style:  one ``pebble.ProcessPool(max_workers=1)`` made once, and one
                 ``pool.map(execute, [snippet], timeout=10)`` per snippet, as AZR does;
  3. limit:      plain ``compile`` + ``exec`` + ``eval`` + ``repr`` in this process, no
                 isolation and no caching, on one core, times the cores ours may use.

Targets: ours >= 5x azr-style, and ours >= 25% of the limit.  Every result is checked,
so a fast run of wrong answers shows up as such.

Usage:
    .venv/bin/python benchmarks/executor.py            # full: 2,000 trivial, 800 CRUXEval
    .venv/bin/python benchmarks/executor.py --quick    # what `make run` uses
    .venv/bin/python benchmarks/executor.py --json out.json --repeat 5 --workers 2
"""

from __future__ import annotations

import argparse
import builtins
import datetime
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from azr_env.executor import Executor, Job

try:
    import pebble
except ImportError:  # the baseline is skipped, not the benchmark
    pebble = None

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "cruxeval.jsonl"
TRIVIAL_PROGRAM = "def f(x):\n    return x * 2"
TARGET_VS_AZR = 5.0  # ours / azr-style
TARGET_VS_LIMIT = 0.25  # ours / unisolated limit
PEBBLE_TIMEOUT_S = 10


# ---------------------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------------------
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="CRUXEval jsonl (code/input/output)")
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat (for `make run`)")
    parser.add_argument("--workers", type=int, default=None, help="executor workers (default: one per core)")
    parser.add_argument("--repeat", type=int, default=None, help="best of R runs (default 3; 1 with --quick)")
    parser.add_argument("--trivial", type=int, default=None, help="trivial jobs (default 2000; 500 quick)")
    parser.add_argument("--crux", type=int, default=None, help="CRUXEval rows (default all; 200 quick)")
    parser.add_argument("--latency-calls", type=int, default=None, help="single calls (300; quick 100)")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args()
    args.repeat = args.repeat or (1 if args.quick else 3)
    args.trivial = args.trivial or (500 if args.quick else 2000)
    args.crux = args.crux or (200 if args.quick else None)
    args.latency_calls = args.latency_calls or (100 if args.quick else 300)
    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be >= 1")
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    return args


# ---------------------------------------------------------------------------------------
# Workloads: (program, args, expected output repr) triples
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Item:
    program: str
    args: str
    expected: str


def trivial_workload(n: int, start: int = 0) -> list[Item]:
    """``x * 2`` over inputs cycling int, str, list, float (values from ``start`` on)."""
    items = []
    for i in range(start, start + n):
        value = (i, f"s{i}", [i, i + 1], i + 0.5)[i % 4]
        items.append(Item(TRIVIAL_PROGRAM, repr(value), repr(value * 2)))
    return items


def cruxeval_workload(path: Path, limit: int | None) -> list[Item] | None:
    """The CRUXEval rows, or None (with a message) when the file is missing."""
    if not path.is_file():
        print(f"NOTE: CRUXEval data not found at {path}; running only the trivial workload.")
        print("      Pass --data PATH to point at cruxeval.jsonl (keys: code, input, output).")
        return None
    items = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                items.append(Item(row["code"], row["input"], row["output"]))
    return items[:limit] if limit else items


def fresh_copy(name: str, items: list[Item], run: int) -> list[Item]:
    """The workload for one timed run, with texts no earlier run used.

    Our workers cache compiled programs and calls by source text; re-running the very same
    batch would time cache hits on programs the plain-exec limit must compile every time.
    So each run gets new inputs (trivial: the next values; the program stays the same, as
    when AZR runs one program on many inputs) or new program texts (CRUXEval: a trailing
    comment naming the run), and every CRUXEval program is compiled cold by every method.
    """
    if name == "trivial":
        return trivial_workload(len(items), start=run * len(items))
    return [Item(f"{it.program}\n# run {run}\n", it.args, it.expected) for it in items]


# ---------------------------------------------------------------------------------------
# The three methods.  Each takes a workload and returns (seconds, outputs).
# ---------------------------------------------------------------------------------------
def run_ours(ex: Executor, items: list[Item]) -> tuple[float, list[str | None]]:
    jobs = [Job(it.program, it.args) for it in items]
    start = time.perf_counter()
    results = ex.run_batch(jobs)
    elapsed = time.perf_counter() - start
    return elapsed, [r.output if r.ok else None for r in results]


def azr_style_snippet(program: str, args: str) -> str:
    """The program followed by the call; ``execute`` runs it and returns the result's repr."""
    return f"{program}\n__result__ = repr(f(\n{args}\n))\n"


def azr_style_execute(snippet: str) -> str:
    """Runs in the pebble worker: exec in a fresh globals dict with full builtins."""
    namespace = {"__builtins__": builtins, "__name__": "__main__"}
    exec(snippet, namespace)
    return namespace["__result__"]


def pebble_call(pool: pebble.ProcessPool, snippet: str) -> str | None:
    """One AZR-style execution: one ``pool.map`` over a one-element list, then ``.result()``."""
    try:
        future = pool.map(azr_style_execute, [snippet], timeout=PEBBLE_TIMEOUT_S)
        return next(iter(future.result()))
    except Exception:  # the program's error, a timeout, a dead worker: not ok
        return None


def run_azr_style(pool: pebble.ProcessPool, items: list[Item]) -> tuple[float, list[str | None]]:
    snippets = [azr_style_snippet(it.program, it.args) for it in items]
    start = time.perf_counter()
    outputs = [pebble_call(pool, s) for s in snippets]
    elapsed = time.perf_counter() - start
    return elapsed, outputs


def run_unisolated(items: list[Item]) -> tuple[float, list[str | None]]:
    """Compile + exec the program into a fresh dict, eval the call, repr: no caching."""
    outputs: list[str | None] = []
    start = time.perf_counter()
    for it in items:
        try:
            namespace = {"__builtins__": builtins, "__name__": "__main__"}
            exec(compile(it.program, "<program>", "exec"), namespace)
            outputs.append(repr(eval(compile(f"f(\n{it.args}\n)", "<args>", "eval"), namespace)))
        except Exception:
            outputs.append(None)
    elapsed = time.perf_counter() - start
    return elapsed, outputs


# ---------------------------------------------------------------------------------------
# Bookkeeping
# ---------------------------------------------------------------------------------------
@dataclass
class Measurement:
    method: str
    jobs: int
    runs_s: list[float] = field(default_factory=list)
    ok: int = 0  # returned a value
    correct: int = 0  # output == expected repr
    scale: int = 1  # the limit is measured on one core and scaled by the cores

    @property
    def best_s(self) -> float:
        return min(self.runs_s)

    @property
    def rate(self) -> float:
        return self.scale * self.jobs / self.best_s


def record(m: Measurement, elapsed: float, outputs: list[str | None], items: list[Item]) -> None:
    m.runs_s.append(elapsed)
    # Correctness from the last run (every run is checked, the count must not drift).
    ok = sum(o is not None for o in outputs)
    correct = sum(o == it.expected for o, it in zip(outputs, items, strict=True))
    if len(m.runs_s) > 1 and (ok, correct) != (m.ok, m.correct):
        print(f"  WARNING: {m.method} gave {correct} correct this run, {m.correct} before")
    m.ok, m.correct = ok, correct


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile, q in [0, 100]."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def latency(call: Callable[[int], object], n: int, warmup: int = 10) -> dict[str, float]:
    for i in range(warmup):
        call(i)
    samples = []
    for i in range(n):
        start = time.perf_counter()
        call(i)
        samples.append(time.perf_counter() - start)
    return {"p50_ms": 1e3 * percentile(samples, 50), "p99_ms": 1e3 * percentile(samples, 99), "calls": n}


def verdict(value: float | None, target: float) -> str:
    if value is None:
        return "n/a"
    return "PASS" if value >= target else "FAIL"


def main() -> None:
    args = parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    cpu_model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu_model = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print("== azr_env executor benchmark ==")
    print(f"machine: {cores} cores ({cpu_model}), Python {platform.python_version()}, {platform.platform()}")
    print(f"mode: {'quick' if args.quick else 'full'}, best of {args.repeat} run(s)")

    # ---- Phase 1: workloads (built before anything is timed) ------------------------------
    workloads: dict[str, list[Item]] = {"trivial": trivial_workload(args.trivial)}
    crux = cruxeval_workload(args.data, args.crux)
    if crux is not None:
        workloads["cruxeval"] = crux
    print("workloads: " + ", ".join(f"{name} ({len(items)} jobs)" for name, items in workloads.items()))

    # ---- Phase 2: start-up (the pebble pool first, so its forked worker inherits no executor pipes)
    pool = None
    pebble_startup_s = None
    if pebble is None:
        print("NOTE: pebble is not installed (pip install pebble): skipping the AZR-style baseline.")
    else:
        start = time.perf_counter()
        pool = pebble.ProcessPool(max_workers=1)
        pebble_call(pool, azr_style_snippet(TRIVIAL_PROGRAM, "1"))
        pebble_startup_s = time.perf_counter() - start
    start = time.perf_counter()
    ex = Executor(workers=args.workers)
    startup_s = time.perf_counter() - start
    iso = ex.isolation
    print(f"isolation: {iso}")
    print(f"degraded: {iso.degraded}")
    if iso.degraded:
        ex.close()
        if pool is not None:
            pool.stop()
        sys.exit("ERROR: the executor is running with a layer missing; this benchmark needs every layer on.")
    scale = min(ex.workers, cores)  # the cores ours can use; the limit is scaled to the same
    print(f"start-up: executor {startup_s * 1e3:.0f} ms ({ex.workers} workers)", end="")
    print(f", pebble pool {pebble_startup_s * 1e3:.0f} ms (1 worker)" if pool is not None else "")

    try:
        # ---- Phase 3: single-call latency ----------------------------------------------
        lat: dict[str, dict[str, float]] = {}
        inputs = [it.args for it in trivial_workload(40)]
        lat["ours"] = latency(lambda i: ex.run(TRIVIAL_PROGRAM, inputs[i % 40]), args.latency_calls)
        if pool is not None:
            snippets = [azr_style_snippet(TRIVIAL_PROGRAM, a) for a in inputs]
            lat["azr-style"] = latency(lambda i: pebble_call(pool, snippets[i % 40]), args.latency_calls)
        print(f"\n-- single-call latency, trivial program, {args.latency_calls} calls --")
        for name, row in lat.items():
            print(f"  {name:<10} p50 {row['p50_ms']:7.3f} ms   p99 {row['p99_ms']:7.3f} ms")

        # ---- Phase 4: throughput, the methods interleaved run by run ---------------------
        measurements: dict[str, dict[str, Measurement]] = {}
        for wname, items in workloads.items():
            ms = {"ours": Measurement("ours", len(items))}
            if pool is not None:
                ms["azr-style"] = Measurement("azr-style", len(items))
            ms["limit"] = Measurement("limit", len(items), scale=scale)
            for r in range(args.repeat):
                batch = fresh_copy(wname, items, run=r + 1)
                record(ms["ours"], *run_ours(ex, batch), batch)
                if pool is not None:
                    record(ms["azr-style"], *run_azr_style(pool, batch), batch)
                record(ms["limit"], *run_unisolated(batch), batch)
                runs = ", ".join(f"{m.method} {m.runs_s[-1]:.3f} s" for m in ms.values())
                print(f"  [{wname} run {r + 1}/{args.repeat}] {runs}")
            measurements[wname] = ms
    finally:
        ex.close()
        if pool is not None:
            pool.stop()
            pool.join()

    # ---- Phase 5: report ---------------------------------------------------------------
    report: dict = {
        "date": datetime.date.today().isoformat(),
        "machine": {"cores": cores, "cpu": cpu_model, "python": platform.python_version()},
        "mode": "quick" if args.quick else "full",
        "repeat": args.repeat,
        "workers": ex.workers,
        "isolation": str(iso),
        "degraded": iso.degraded,
        "startup_s": {"ours": startup_s, "azr-style": pebble_startup_s},
        "latency": lat,
        "workloads": {},
    }
    all_pass = True
    wrong = False
    for wname, ms in measurements.items():
        ours = ms["ours"]
        azr = ms.get("azr-style")
        limit = ms["limit"]
        vs_azr = ours.rate / azr.rate if azr else None
        vs_limit = ours.rate / limit.rate
        print(f"\n-- {wname}: {ours.jobs} jobs, best of {args.repeat} --")
        print(f"  {'method':<10} {'exec/s':>10} {'best s':>8}   correct")
        for m in ms.values():
            note = f"   (1 core x {m.scale})" if m.scale > 1 else ""
            print(f"  {m.method:<10} {m.rate:10.0f} {m.best_s:8.3f}   {m.correct}/{m.jobs} (ok {m.ok}){note}")
        azr_text = f"{vs_azr:.1f}x" if vs_azr is not None else "n/a (no pebble)"
        print(
            f"  ours / azr-style = {azr_text:>8}  (target >= {TARGET_VS_AZR:g}x)   "
            f"{verdict(vs_azr, TARGET_VS_AZR)}"
        )
        print(
            f"  ours / limit     = {vs_limit:8.0%}  (target >= {TARGET_VS_LIMIT:.0%})    "
            f"{verdict(vs_limit, TARGET_VS_LIMIT)}"
        )
        all_pass &= verdict(vs_limit, TARGET_VS_LIMIT) == "PASS" and verdict(vs_azr, TARGET_VS_AZR) != "FAIL"
        if ours.correct < limit.correct:
            wrong = True
            print(f"  WRONG ANSWERS: ours has {ours.correct} correct, plain exec {limit.correct}")
        report["workloads"][wname] = {
            "jobs": ours.jobs,
            "methods": {
                m.method: {
                    "rate_per_s": m.rate,
                    "best_s": m.best_s,
                    "runs_s": m.runs_s,
                    "ok": m.ok,
                    "correct": m.correct,
                    "scale": m.scale,
                }
                for m in ms.values()
            },
            "ours_vs_azr_style": vs_azr,
            "ours_vs_limit": vs_limit,
        }
    report["all_targets_met"] = all_pass
    print(f"\ntargets: {'all met' if all_pass else 'NOT all met'}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    if wrong:
        sys.exit(1)


if __name__ == "__main__":
    main()
