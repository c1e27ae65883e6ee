"""The Ray backend's overhead against the local executor, on the same cores in one run, and
the scaling model of docs/scaling.md computed from what was measured.

Both executors get every core of this machine: the local ``Executor(workers=cores)`` and a
``RayExecutor`` on a local Ray instance with one actor of ``cores`` workers.  Workloads,
each timed best of R, local and Ray alternating:

  1. one program, one input, 200 times: the fixed cost of a batch (Ray: one task and its
     round trip, the shard logic).
  2. unique programs: the 800 CRUXEval programs, one trust domain each.  The per-domain
     overhead is (Ray - local) / 800.
  3. many inputs a domain: the HumanEval+ canonical solutions on all their inputs (164
     domains, about 1,000 inputs each), as `azr bench` scores them.
  4. the verification load of one AZR-scale step (benchmarks/executor.py's ``azr_step``).

Every result is checked against the local executor's, so a fast wrong answer shows up (and
the script exits 1).  Then the model: per-domain and per-input CPU cost, Ray's overhead,
and the nodes that keep verification under 10% of step (or generation) time.

Usage:
    .venv/bin/python benchmarks/ray_executor.py
    .venv/bin/python benchmarks/ray_executor.py --quick --no-humaneval
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The unique-programs workload, the AZR step and the machine report are benchmarks/executor.py's.
from executor import DEFAULT_DATA, azr_step, cruxeval_items, machine, timed

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

from azr_env.executor import BaseExecutor, Executor, Program, RayExecutor

HUMANEVAL_PLUS = DEFAULT_DATA.parent / "HumanEvalPlus-v0.1.10.jsonl.gz"
TRIVIAL = "def f(x):\n    return x * 2"
STEP_MINUTES = 4.4  # AZR coder-3B on 2 x A100, minutes per step (AZR issue #13; reference notes 7)
NODE_CORES = 16  # the node the model assumes (the lent GPU machine has 16 cores)
SHARE = 0.10  # verification's share of step time the model keeps under


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument("--repeat", type=int, default=None, help="best of R runs (default 3; 1 with --quick)")
    parser.add_argument("--crux", type=int, default=None, help="CRUXEval programs (default all; quick 200)")
    parser.add_argument("--no-humaneval", action="store_true", help="skip the HumanEval+ workload")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args()
    args.repeat = args.repeat or (1 if args.quick else 3)
    args.crux = args.crux or (200 if args.quick else None)
    if args.repeat < 1 or (args.crux is not None and args.crux < 1):
        parser.error("--repeat and --crux must be >= 1")
    return args


def outcome(results: list[list[Any]]) -> list[list[tuple]]:
    return [[(r.status, r.output) for r in rs] for rs in results]


def compare(name: str, call: Callable[[BaseExecutor], list[list[Any]]], executors: dict[str, BaseExecutor],
            repeat: int, units: int) -> dict[str, Any]:
    """Best-of-R wall and CPU for each executor, alternating; results checked to agree."""
    best: dict[str, tuple[float, float, float]] = {}
    results: dict[str, Any] = {}
    for _ in range(repeat):
        for label, ex in executors.items():
            caller = time.process_time()  # this process's own CPU: what no node count removes
            wall, cpu, out = timed(lambda ex=ex: call(ex))
            caller = time.process_time() - caller
            if label not in best or wall < best[label][0]:
                best[label] = (wall, cpu, caller)
            results[label] = outcome(out)
    agree = results["ray"] == results["local"]
    (lw, lc, lcall), (rw, rc, rcall) = best["local"], best["ray"]
    row = {"workload": name, "units": units, "local_s": lw, "ray_s": rw, "local_cpu_s": lc, "ray_cpu_s": rc,
           "local_caller_cpu_s": lcall, "ray_caller_cpu_s": rcall, "ratio": rw / lw,
           "overhead_ms_per_unit": (rw - lw) / units * 1e3, "agree": agree}
    print(f"{name:<34} {units:>6}  local {lw:7.3f} s  ray {rw:7.3f} s  ray/local {rw / lw:5.2f}x  "
          f"overhead {row['overhead_ms_per_unit']:+7.3f} ms/unit  caller CPU {rcall / units * 1e3:6.3f} "
          f"ms/unit  {'ok' if agree else 'RESULTS DIFFER'}")
    return row


def humaneval_programs() -> list[Program] | None:
    if not HUMANEVAL_PLUS.is_file():
        print(f"NOTE: HumanEval+ not found at {HUMANEVAL_PLUS}; skipping that workload.")
        return None
    from azr_env.scoring.gold import gold_job
    from azr_env.tasks.evalplus import load_evalplus

    return [gold_job(task) for task in load_evalplus(HUMANEVAL_PLUS)]


def scaling_model(rows: dict[str, dict[str, Any]], cores: int) -> dict[str, Any]:
    """Verification CPU of each target workload from the measured costs, and the nodes of
    NODE_CORES cores that keep it under SHARE of the step (or generation) time."""
    crux, step = rows["cruxeval"], rows["azr-step"]
    domain_cpu_s = crux["local_cpu_s"] / crux["units"]

    def caller_cpu(row: dict[str, Any]) -> float:  # the caller's own CPU a domain, with Ray
        return row["ray_caller_cpu_s"] / row["units"]

    out: dict[str, Any] = {"domain_cpu_ms": domain_cpu_s * 1e3,
                           "caller_ms_per_domain": caller_cpu(crux) * 1e3,
                           "batch_overhead_ms": rows["one-call"]["overhead_ms_per_unit"], "targets": []}
    targets = [(f"AZR step ({step['units']} domains)", step["local_cpu_s"], step["units"], caller_cpu(step),
                STEP_MINUTES * 60)]
    targets.append(("CRUXEval-I, n = 100", 800 * 100 * domain_cpu_s, 800 * 100, caller_cpu(crux), None))
    if "humaneval+" in rows:
        he = rows["humaneval+"]
        targets.append(("HumanEval+, n = 100", he["local_cpu_s"] * 100, he["units"] * 100, caller_cpu(he),
                        None))
    print(f"\n== scaling model ({NODE_CORES}-core nodes; verification under {SHARE:.0%} of the step) ==")
    print(f"per domain: {domain_cpu_s * 1e3:.2f} ms CPU; the caller spends {caller_cpu(crux) * 1e3:.3f} ms a "
          f"domain; Ray adds {rows['one-call']['overhead_ms_per_unit']:.2f} ms a batch")
    for name, cpu_s, domains, per_domain_s, step_s in targets:
        caller_s_total = domains * per_domain_s  # serial in the caller: no node count removes it
        node_s = cpu_s / NODE_CORES
        entry = {"workload": name, "verify_cpu_s": cpu_s, "domains": domains, "one_node_s": node_s,
                 "caller_s": caller_s_total}
        if step_s is not None:
            entry["nodes"] = max(1, math.ceil(cpu_s / (SHARE * step_s * NODE_CORES)))
            print(f"{name:<32} {cpu_s:9.1f} CPU-s  one node {node_s:7.1f} s  caller {caller_s_total:6.2f} s  "
                  f"step {step_s:.0f} s -> {entry['nodes']} node(s)")
        else:  # generation time is the step: nodes for a few generation times
            entry["nodes_by_generation_minutes"] = {
                m: max(1, math.ceil(cpu_s / (SHARE * m * 60 * NODE_CORES))) for m in (10, 30, 60)}
            print(f"{name:<32} {cpu_s:9.1f} CPU-s  one node {node_s:7.1f} s  caller {caller_s_total:6.2f} s  "
                  f"nodes if generation takes 10/30/60 min: "
                  + "/".join(str(n) for n in entry["nodes_by_generation_minutes"].values()))
        out["targets"].append(entry)
    print(f"(measured on {cores} cores here; per-domain CPU is this VM's, a node's own may be lower)")
    return out


def main() -> None:
    args = parse_args()
    info = machine()
    cores = info["cores"]
    print("== azr_env Ray executor overhead ==")
    print(f"machine: {cores} cores ({info['cpu']}), Python {info['python']}; best of {args.repeat}")
    local = Executor(workers=cores)
    start = time.perf_counter()
    remote = RayExecutor("local", workers_per_actor=cores, ray_init_kwargs={"num_cpus": cores})
    started_s = time.perf_counter() - start
    print(f"Ray start-up (a local instance, {len(remote.actors)} actor): {started_s:.1f} s; "
          f"isolation: {remote.isolation}")
    executors: dict[str, BaseExecutor] = {"local": local, "ray": remote}
    rows: dict[str, dict[str, Any]] = {}
    try:
        one = [Program(TRIVIAL, ("21",))]
        calls = 50 if args.quick else 200
        rows["one-call"] = compare("one program, one input (a batch)",
                                   lambda ex: [r for _ in range(calls) for r in ex.run_programs(one)],
                                   executors, args.repeat, calls)
        items = cruxeval_items(DEFAULT_DATA, args.crux)
        if items is None:
            sys.exit("the CRUXEval data is needed for the per-domain figures")
        crux = [Program(i.program, (i.args,), evaluate_args=True) for i in items]
        rows["cruxeval"] = compare("CRUXEval programs (unique domains)", lambda ex: ex.run_programs(crux),
                                   executors, args.repeat, len(crux))
        humaneval = None if args.no_humaneval or args.quick else humaneval_programs()
        if humaneval:
            rows["humaneval+"] = compare("HumanEval+ gold (all inputs)",
                                         lambda ex: ex.run_programs(humaneval), executors, args.repeat,
                                         len(humaneval))
        load = azr_step(16 if args.quick else 64)
        domains = len(load.validate) + len(load.runs)
        rows["azr-step"] = compare(
            "AZR step (validate + samples)",
            lambda ex: ex.validate_programs(load.validate) + ex.run_programs(load.runs),
            executors, args.repeat, domains)
    finally:
        remote.close()
        local.close()
    model = scaling_model(rows, cores)
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "rows": rows, "model": model}, indent=2))
    if not all(row["agree"] for row in rows.values()):
        sys.exit("the Ray executor's results differ from the local executor's")


if __name__ == "__main__":
    main()
