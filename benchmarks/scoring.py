"""Scoring every input of a benchmark: ours against evalplus's own checker, in one run.

The 164 HumanEval+ canonical solutions, each checked on all its base and plus inputs
(about 124,000), on the same cores:

  1. ours:     the task set as `azr tasks convert humanevalplus` makes it (gold outputs
               computed before timing), then one ``Verifier.verify_batch`` of the 164
               solutions: each in a fresh sandboxed process, ``workers`` at a time;
  2. evalplus: ``evalplus.eval.untrusted_check`` on the base inputs, then on the plus
               inputs, per solution, from a process pool of ``workers``, as
               ``evalplus.evaluate --parallel`` does (ground truth computed before timing,
               as evalplus caches it).

  3. floor:    each solution called in-process on its inputs, nothing else (no sandbox, no
               comparison), from the same pool: what any checker that runs the solutions
               must spend.  ``evalplus / floor`` is the most any checker can gain.

Target: ours >= 2x evalplus.  Both verdicts are printed; they must agree (HumanEval/32
fails in both: see azr_env.scoring.compare).

    python benchmarks/scoring.py [--workers 2] [--repeat 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import gzip
import json
import multiprocessing
import os
import platform
import sys
import time
from pathlib import Path

from azr_env.executor import Executor
from azr_env.scoring.verify import Verifier
from azr_env.tasks.evalplus import EVALPLUS_LIMITS, load_evalplus

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "HumanEvalPlus-v0.1.10.jsonl.gz"
TARGET = 2.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="HumanEvalPlus jsonl(.gz)")
    parser.add_argument("--workers", type=int, default=None, help="processes at a time (one per core)")
    parser.add_argument("--repeat", type=int, default=1, help="best of R runs")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args()
    if args.repeat < 1 or (args.workers is not None and args.workers < 1):
        parser.error("--repeat and --workers must be >= 1")
    return args


# ---------------------------------------------------------------------------------------
# evalplus's side (runs in the pool's processes)
# ---------------------------------------------------------------------------------------
_EXPECTED: dict = {}


def _ground_truth(rows: list[dict]) -> dict:
    from evalplus.gen.util import trusted_exec

    truth = {}
    for row in rows:
        code = row["prompt"] + row["canonical_solution"]
        truth[row["task_id"]] = {key: trusted_exec(code, row[f"{key}_input"], row["entry_point"],
                                                   record_time=True) for key in ("base", "plus")}
    return truth


def _evalplus_check(row: dict) -> bool:
    from evalplus.eval import untrusted_check

    code = row["prompt"] + row["canonical_solution"]
    truth = _EXPECTED[row["task_id"]]
    for key in ("base", "plus"):
        expected, times = truth[key]
        status, _ = untrusted_check("humaneval", code, row[f"{key}_input"], row["entry_point"], expected,
                                    row["atol"], times, fast_check=True)
        if status != "pass":
            return False
    return True


def _bare_calls(row: dict) -> None:
    import copy

    namespace: dict = {}
    exec(row["prompt"] + row["canonical_solution"], namespace)  # noqa: S102 - trusted gold code
    solution = namespace[row["entry_point"]]
    for inp in row["base_input"] + row["plus_input"]:
        solution(*copy.deepcopy(inp))


def main() -> None:
    args = parse_args()
    try:
        import evalplus  # noqa: F401
    except ImportError:
        sys.exit("evalplus is not installed: pip install --no-deps evalplus==0.3.1 (make test installs it)")
    workers = args.workers or len(os.sched_getaffinity(0))
    with gzip.open(args.data, "rt") as fh:
        rows = [json.loads(line) for line in fh]
    n_inputs = sum(len(r["base_input"]) + len(r["plus_input"]) for r in rows)
    print("== scoring every input: ours vs evalplus's checker ==")
    print(f"machine: {workers} at a time, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{len(rows)} HumanEval+ canonical solutions, {n_inputs} inputs")

    # ---- Phase 1: gold outputs, both sides (not timed) ---------------------------------
    with Executor(workers=workers, **EVALPLUS_LIMITS) as ex:
        start = time.perf_counter()
        tasks = load_evalplus(args.data, executor=ex)
        print(f"our task set: {len(tasks)} tasks, {sum(len(t.hidden) for t in tasks)} scored inputs "
              f"({time.perf_counter() - start:.1f} s to build)")
        global _EXPECTED
        _EXPECTED = _ground_truth(rows)
        by_id = {row["task_id"]: row for row in rows}

        # ---- Phase 2: timed, alternating ----------------------------------------------
        ours_s, theirs_s, floor_s = [], [], []
        for r in range(args.repeat):
            start = time.perf_counter()
            verdicts = Verifier(ex).verify_batch(list(tasks), [t.program for t in tasks])
            ours_s.append(time.perf_counter() - start)
            ctx = multiprocessing.get_context("fork")
            start = time.perf_counter()
            with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx) as pool:
                theirs = list(pool.map(_evalplus_check, [by_id[t.id] for t in tasks]))
            theirs_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx) as pool:
                list(pool.map(_bare_calls, [by_id[t.id] for t in tasks]))
            floor_s.append(time.perf_counter() - start)
            print(f"  [run {r + 1}] ours {ours_s[-1]:.2f} s, evalplus {theirs_s[-1]:.2f} s, "
                  f"floor {floor_s[-1]:.2f} s")
    ours_pass = [v.correct for v in verdicts]
    agree = sum(a == b for a, b in zip(ours_pass, theirs, strict=True))
    ratio = min(theirs_s) / min(ours_s)
    for name, seconds, passed in (("ours", ours_s, ours_pass), ("evalplus", theirs_s, theirs)):
        print(f"{name:<9}{min(seconds):7.2f} s  ({n_inputs / min(seconds):,.0f} inputs/s)   "
              f"pass {sum(passed)}/{len(tasks)}")
    for task, verdict, their in zip(tasks, verdicts, theirs, strict=True):
        if verdict.correct != their:
            ours = f"{verdict.status} {verdict.error or ''}"[:300]
            print(f"  differ on {task.id}: ours {ours}, evalplus {their}")
    print(f"verdicts agree on {agree}/{len(tasks)} solutions")
    print(f"floor    {min(floor_s):7.2f} s  (the solutions' own calls: evalplus / floor = "
          f"{min(theirs_s) / min(floor_s):.1f}x is the most any checker can gain)")
    outcome = "PASS" if ratio >= TARGET else "FAIL"
    print(f"ours / evalplus = {ratio:.1f}x (target >= {TARGET:g}x)   {outcome}")
    if args.json:
        args.json.write_text(json.dumps({"inputs": n_inputs, "ours_s": ours_s, "evalplus_s": theirs_s,
                                         "floor_s": floor_s,
                                         "ratio": ratio, "agree": agree, "tasks": len(tasks)}, indent=2))
    if agree != len(tasks):
        sys.exit("the verdicts differ")


if __name__ == "__main__":
    main()
