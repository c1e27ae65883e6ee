"""Executor throughput against the baselines it must beat, all measured in one run.

Three workloads, each against its own baseline on the same cores:

  1. many inputs of one program (``def f(x): return x * 2`` on N distinct inputs):
     ours (``Executor.run_program``) against the AZR-style pebble pool, one
     ``pool.map`` per snippet as AZR does.  Target: ours >= 5x.
  2. unique programs (the 800 CRUXEval programs, each a trust domain of its own, so each
     in a fresh process): ours (``Executor.run_batch``) against a checker that starts a
     fresh process per sample the way evalplus does (``multiprocessing.Process`` with
     shared ``Value``/``Array`` results, a temporary directory, I/O swallowed, a memory
     rlimit and an alarm per input), ``workers`` samples at a time.  Target: ours >= 2x.
     Reported beside it: our cost per program (wall and CPU) and this machine's fork cost.
  3. the verification load of one AZR-scale training step (3 x 64 proposals validated,
     8 learnability samples each, 3 x 64 solver answers), ours against the executor this
     one replaced (the warm-worker pool of commit ``--baseline-ref``, loaded from git).
     No target: the price of one process per program, measured.

Every result is checked against the expected output, so a fast run of wrong answers
shows up as such (and the script exits 1).

Usage:
    .venv/bin/python benchmarks/executor.py            # full
    .venv/bin/python benchmarks/executor.py --quick    # what `make run` uses
    .venv/bin/python benchmarks/executor.py --json out.json --repeat 5 --workers 2
"""

from __future__ import annotations

import argparse
import builtins
import concurrent.futures
import contextlib
import datetime
import importlib.util
import io
import json
import multiprocessing
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from azr_env.executor import Executor, Job, Program
from azr_env.tasks.seeds import seed_tasks

try:
    import pebble
except ImportError:  # the baseline is skipped, not the benchmark
    pebble = None

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "cruxeval.jsonl"
TRIVIAL_PROGRAM = "def f(x):\n    return x * 2"
TARGET_MANY = 5.0  # ours / azr-style, many inputs of one program
TARGET_UNIQUE = 2.0  # ours / fresh process per sample, unique programs
PEBBLE_TIMEOUT_S = 10
BASELINE_REF = "8931ded"  # the last commit of the warm-worker executor


# ---------------------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------------------
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="cruxeval.jsonl")
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat (for `make run`)")
    parser.add_argument("--workers", type=int, default=None, help="executor workers (default: one per core)")
    parser.add_argument("--repeat", type=int, default=None, help="best of R runs (default 3; 1 with --quick)")
    parser.add_argument("--many", type=int, default=None, help="inputs of one program (20000; 4000)")
    parser.add_argument("--crux", type=int, default=None, help="CRUXEval programs (default all; quick 200)")
    parser.add_argument("--step-batch", type=int, default=None, help="AZR step batch size (64; quick 16)")
    parser.add_argument("--baseline-ref", default=BASELINE_REF,
                        help="git commit of the previous executor for the AZR-step comparison ('none' skips)")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args()
    args.repeat = args.repeat or (1 if args.quick else 3)
    args.many = args.many or (4000 if args.quick else 20000)
    args.crux = args.crux or (200 if args.quick else None)
    args.step_batch = args.step_batch or (16 if args.quick else 64)
    for name in ("workers", "repeat", "many", "crux", "step_batch"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


# ---------------------------------------------------------------------------------------
# Workloads: (program, args, expected output repr) triples
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Item:
    program: str
    args: str
    expected: str


def many_inputs(n: int, start: int = 0) -> list[Item]:
    """``x * 2`` over inputs cycling int, str, list, float (values from ``start`` on)."""
    values = [(i, f"s{i}", [i, i + 1], i + 0.5)[i % 4] for i in range(start, start + n)]
    return [Item(TRIVIAL_PROGRAM, repr(v), repr(v * 2)) for v in values]


def cruxeval_items(path: Path, limit: int | None, run: int = 0) -> list[Item] | None:
    """The CRUXEval rows (each program text made unique to the run), or None when missing."""
    if not path.is_file():
        print(f"NOTE: CRUXEval data not found at {path}; skipping the unique-programs workload.")
        return None
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Item(f"{r['code']}\n# run {run}\n", r["input"], r["output"]) for r in rows][:limit]


# ---------------------------------------------------------------------------------------
# Baseline 1: the AZR-style pebble pool
# ---------------------------------------------------------------------------------------
def azr_style_snippet(program: str, args: str) -> str:
    """The program followed by the call; ``azr_style_execute`` returns the result's repr."""
    return f"{program}\n__result__ = repr(f(\n{args}\n))\n"


def azr_style_execute(snippet: str) -> str:
    """Runs in the pebble worker: exec in a fresh globals dict with full builtins."""
    namespace = {"__builtins__": builtins, "__name__": "__main__"}
    exec(snippet, namespace)
    return namespace["__result__"]


def pebble_call(pool: Any, snippet: str) -> str | None:
    """One AZR-style execution: one ``pool.map`` over a one-element list, then ``.result()``."""
    try:
        future = pool.map(azr_style_execute, [snippet], timeout=PEBBLE_TIMEOUT_S)
        return next(iter(future.result()))
    except Exception:  # the program's error, a timeout, a dead worker: not ok
        return None


def run_azr_style(pool: Any, items: list[Item]) -> tuple[float, list[str | None]]:
    snippets = [azr_style_snippet(it.program, it.args) for it in items]
    start = time.perf_counter()
    outputs = [pebble_call(pool, s) for s in snippets]
    return time.perf_counter() - start, outputs


# ---------------------------------------------------------------------------------------
# Baseline 2: a fresh process per sample, the way evalplus checks a solution
# ---------------------------------------------------------------------------------------
def _sample_in_fresh_process(program: str, args: str, expected: str, time_limit: float, stat: Any,
                             details: Any, progress: Any) -> None:
    """The child: a temporary working directory, a memory rlimit, I/O swallowed, an alarm."""
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, 4 * 2**30))
        namespace: dict = {}
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                exec(program, namespace)
                signal.setitimer(signal.ITIMER_REAL, time_limit)
                out = eval(f"f(\n{args}\n)", namespace)
                signal.setitimer(signal.ITIMER_REAL, 0)
            details[0] = repr(out) == expected
            progress.value += 1
            stat.value = 0
        except BaseException:
            stat.value = 1


def check_in_fresh_process(item: Item) -> bool:
    """One sample: shared Values and an Array for the results, a Process, a join."""
    progress = multiprocessing.Value("i", 0)
    stat = multiprocessing.Value("i", 3)
    details = multiprocessing.Array("b", [False])
    args = (item.program, item.args, item.expected, 5.0, stat, details, progress)
    proc = multiprocessing.Process(target=_sample_in_fresh_process, args=args)
    proc.start()
    proc.join(timeout=7)
    if proc.is_alive():
        proc.kill()
        proc.join()
    return stat.value == 0 and bool(details[0])


def run_fresh_process(pool: concurrent.futures.ProcessPoolExecutor, items: list[Item]) -> tuple[float, int]:
    start = time.perf_counter()
    passed = sum(pool.map(check_in_fresh_process, items, chunksize=4))
    return time.perf_counter() - start, passed


# ---------------------------------------------------------------------------------------
# Baseline 3: the previous executor, loaded from git
# ---------------------------------------------------------------------------------------
def load_previous_executor(ref: str, into: Path) -> ModuleType | None:
    """``azr_env/executor`` as it was at ``ref``, imported under a name of its own."""
    archive = subprocess.run(["git", "-C", str(REPO_ROOT), "archive", ref, "azr_env/executor"],
                             capture_output=True)
    if archive.returncode != 0:
        print(f"NOTE: git cannot give {ref} ({archive.stderr.decode(errors='replace').strip()[:200]}); "
              "skipping the comparison with the previous executor.")
        return None
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    package = into / "azr_env" / "executor"
    spec = importlib.util.spec_from_file_location("azr_previous_executor", package / "__init__.py",
                                                  submodule_search_locations=[str(package)])
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["azr_previous_executor"] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@dataclass
class StepLoad:
    """One AZR training step's sandbox work, as programs and as single jobs."""

    validate: list[Program]
    runs: list[Program]
    expected_runs: list[list[str]]

    def jobs(self, job_class: Callable[..., Any]) -> tuple[list[Any], list[Any]]:
        """The same work for an executor without programs: one job per (program, input)."""
        validate = [job_class(p.source, a) for p in self.validate for a in p.inputs]
        runs = [job_class(p.source, a) for p in self.runs for a in p.inputs]
        return validate, runs


def azr_step(batch: int, samples: int = 8) -> StepLoad:
    """Validation of ``batch`` proposals per mode, ``samples`` learnability samples each,
    and ``batch`` solver answers per mode, from the bundled seed programs (gold answers).

    Deduction answers are compared as literals in the caller (no sandbox); abduction runs
    the proposal's program once per answer; induction runs each answer on 5 hidden inputs.
    """
    abduction = list(seed_tasks("abduction"))[:batch]
    deduction = list(seed_tasks("deduction"))[batch : 2 * batch]
    induction = list(seed_tasks("induction"))[2 * batch : 3 * batch]
    validate = [Program(t.program, (t.args,)) for t in deduction + abduction]
    validate += [Program(t.program, tuple(p.args for p in t.pairs)) for t in induction]
    runs, expected = [], []
    for task in abduction:
        for _ in range(samples + 1):  # the samples, and the solver's own answer
            runs.append(Program(task.program, (task.args,)))
            expected.append([task.output])
    for task in induction:
        for _ in range(samples + 1):
            runs.append(Program(task.program, tuple(p.args for p in task.hidden)))
            expected.append([p.output for p in task.hidden])
    return StepLoad(validate, runs, expected)


# ---------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------
def busy_cpu_s() -> float:
    """CPU seconds this machine has spent busy (all processes), from /proc/stat."""
    try:
        with open("/proc/stat", encoding="utf-8") as fh:
            ticks = [int(x) for x in fh.readline().split()[1:]]
    except OSError:
        return float("nan")
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def fork_cost_ms(n: int = 200) -> float:
    """A bare fork + exit + wait of a small Python process, in a process of its own."""
    code = (f"import os, time\nt = time.perf_counter()\nfor _ in range({n}):\n    pid = os.fork()\n"
            "    if pid == 0:\n        os._exit(0)\n    os.waitpid(pid, 0)\n"
            f"print((time.perf_counter() - t) / {n} * 1e3)")
    done = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True)
    return float(done.stdout.strip()) if done.returncode == 0 else float("nan")


@dataclass
class Timing:
    runs_s: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)
    correct: int = 0

    @property
    def best_s(self) -> float:
        return min(self.runs_s)


def timed(call: Callable[[], Any]) -> tuple[float, float, Any]:
    cpu = busy_cpu_s()
    start = time.perf_counter()
    out = call()
    return time.perf_counter() - start, busy_cpu_s() - cpu, out


def verdict(ratio: float | None, target: float) -> str:
    if ratio is None:
        return "n/a"
    return "PASS" if ratio >= target else "FAIL"


def machine() -> dict[str, Any]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError, StopIteration), open("/proc/cpuinfo", encoding="utf-8") as fh:
        cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    return {"cores": cores, "cpu": cpu, "python": platform.python_version(), "platform": platform.platform()}


def main() -> None:
    args = parse_args()
    info = machine()
    print("== azr_env executor benchmark ==")
    print(f"machine: {info['cores']} cores ({info['cpu']}), Python {info['python']}, {info['platform']}")
    print(f"mode: {'quick' if args.quick else 'full'}, best of {args.repeat} run(s)")
    report: dict[str, Any] = {"date": datetime.date.today().isoformat(), "machine": info,
                              "mode": "quick" if args.quick else "full", "repeat": args.repeat}
    wrong = False

    # ---- Phase 1: start-up (the baselines' pools first: their forks inherit no executor pipes)
    pool = pebble.ProcessPool(max_workers=1) if pebble is not None else None
    if pool is None:
        print("NOTE: pebble is not installed (pip install pebble): skipping the AZR-style baseline.")
    else:
        pebble_call(pool, azr_style_snippet(TRIVIAL_PROGRAM, "1"))
    start = time.perf_counter()
    ex = Executor(workers=args.workers)
    startup_s = time.perf_counter() - start
    fresh_pool = concurrent.futures.ProcessPoolExecutor(ex.workers,
                                                        mp_context=multiprocessing.get_context("fork"))
    iso = ex.isolation
    print(f"isolation: {iso}")
    if iso.degraded:
        ex.close()
        sys.exit("ERROR: the executor is running with a layer missing; this benchmark needs every layer on.")
    fork_ms = fork_cost_ms()
    print(f"start-up: {startup_s * 1e3:.0f} ms ({ex.workers} at a time); "
          f"this machine's fork + exit + wait: {fork_ms:.2f} ms")
    report.update(workers=ex.workers, isolation=str(iso), startup_s=startup_s, fork_cost_ms=fork_ms)

    try:
        # ---- Phase 2: many inputs of one program ----------------------------------------
        ours, azr = Timing(), Timing()
        for r in range(args.repeat):
            items = many_inputs(args.many, start=r * args.many)  # inputs no earlier run used
            inputs = [it.args for it in items]
            wall, cpu, results = timed(lambda inputs=inputs: ex.run_program(TRIVIAL_PROGRAM, inputs))
            ours.runs_s.append(wall)
            ours.cpu_s.append(cpu)
            ours.correct = sum(res.output == it.expected for res, it in zip(results, items, strict=True))
            if pool is not None:
                sample = items[: max(1000, len(items) // 10)]  # pebble is slow: a part, rate scaled
                wall, cpu, outputs = timed(lambda sample=sample: run_azr_style(pool, sample)[1])
                azr.runs_s.append(wall * len(items) / len(sample))
                azr.correct = sum(o == it.expected for o, it in zip(outputs, sample, strict=True))
            print(f"  [many inputs run {r + 1}] ours {ours.runs_s[-1]:.3f} s"
                  + (f", azr-style {azr.runs_s[-1]:.3f} s (scaled)" if pool is not None else ""))
        many_rate = args.many / ours.best_s
        azr_rate = args.many / azr.best_s if azr.runs_s else None
        ratio_many = many_rate / azr_rate if azr_rate else None
        wrong |= ours.correct != args.many
        print(f"\n-- many inputs of one program: {args.many} inputs, best of {args.repeat} --")
        print(f"  ours       {many_rate:10.0f} runs/s   correct {ours.correct}/{args.many}")
        if azr_rate:
            checked = max(1000, args.many // 10)
            print(f"  azr-style  {azr_rate:10.0f} runs/s   correct {azr.correct}/{checked}")
        print(f"  ours / azr-style = {ratio_many or 0:.1f}x (target >= {TARGET_MANY:g}x)   "
              f"{verdict(ratio_many, TARGET_MANY)}")
        report["many_inputs"] = {"inputs": args.many, "ours_per_s": many_rate, "azr_style_per_s": azr_rate,
                                 "ratio": ratio_many, "target": TARGET_MANY, "correct": ours.correct}

        # ---- Phase 3: unique programs, one process each -----------------------------------
        ratio_unique = None
        if cruxeval_items(args.data, args.crux) is not None:
            ours, fresh = Timing(), Timing()
            for r in range(args.repeat):
                items = cruxeval_items(args.data, args.crux, run=r + 1) or []
                jobs = [Job(it.program, it.args, evaluate_args=True) for it in items]
                wall, cpu, results = timed(lambda jobs=jobs: ex.run_batch(jobs))
                ours.runs_s.append(wall)
                ours.cpu_s.append(cpu)
                ours.correct = sum(res.output == it.expected for res, it in zip(results, items, strict=True))
                wall, cpu, passed = timed(lambda items=items: run_fresh_process(fresh_pool, items)[1])
                fresh.runs_s.append(wall)
                fresh.cpu_s.append(cpu)
                fresh.correct = passed
                print(f"  [unique programs run {r + 1}] ours {ours.runs_s[-1]:.3f} s, "
                      f"fresh process per sample {fresh.runs_s[-1]:.3f} s")
            n = len(items)
            ratio_unique = fresh.best_s / ours.best_s
            per_program_ms = ours.best_s / n * 1e3
            cpu_per_program_ms = min(ours.cpu_s) / n * 1e3
            wrong |= ours.correct < fresh.correct
            print(f"\n-- unique programs: {n} CRUXEval programs, each in a fresh process, "
                  f"best of {args.repeat} --")
            print(f"  ours                      {n / ours.best_s:8.0f} programs/s   "
                  f"correct {ours.correct}/{n}")
            print(f"  fresh process per sample  {n / fresh.best_s:8.0f} programs/s   "
                  f"correct {fresh.correct}/{n}")
            print(f"  ours / fresh process = {ratio_unique:.1f}x (target >= {TARGET_UNIQUE:g}x)   "
                  f"{verdict(ratio_unique, TARGET_UNIQUE)}")
            print(f"  our cost per program: {per_program_ms:.2f} ms wall with {ex.workers} at a time, "
                  f"{cpu_per_program_ms:.2f} ms CPU (this machine's bare fork: {fork_ms:.2f} ms)")
            report["unique_programs"] = {
                "programs": n, "ours_per_s": n / ours.best_s, "fresh_process_per_s": n / fresh.best_s,
                "ratio": ratio_unique, "target": TARGET_UNIQUE, "correct": ours.correct,
                "baseline_correct": fresh.correct, "ms_per_program": per_program_ms,
                "cpu_ms_per_program": cpu_per_program_ms,
            }

        # ---- Phase 4: one AZR-scale training step's verification --------------------------
        load = azr_step(args.step_batch)
        wall, cpu, (validated, ran) = timed(
            lambda: (ex.validate_programs(load.validate), ex.run_programs(load.runs)))
        ok = all(r.ok for rs in validated for r in rs)
        ok &= all(r.output == e for rs, es in zip(ran, load.expected_runs, strict=True)
                  for r, e in zip(rs, es, strict=True))
        wrong |= not ok
        step = {"batch": args.step_batch, "programs_validated": len(load.validate),
                "programs_run": len(load.runs), "ours_s": wall, "ours_cpu_s": cpu, "ours_correct": ok}
        print(f"\n-- one AZR step's verification: {len(load.validate)} proposals validated, "
              f"{len(load.runs)} answers run --")
        print(f"  ours      {wall:7.2f} s  ({cpu:.2f} CPU s)   all correct: {ok}")
        if args.baseline_ref != "none":
            with tempfile.TemporaryDirectory() as tmp:
                previous = load_previous_executor(args.baseline_ref, Path(tmp))
                if previous is not None:
                    with previous.Executor(workers=ex.workers) as old:
                        validate_jobs, run_jobs = load.jobs(previous.Job)
                        wall, cpu, (v, r) = timed(
                            lambda: (old.validate_batch(validate_jobs), old.run_batch(run_jobs)))
                    old_ok = all(x.ok for x in v + r)
                    step.update(previous_ref=args.baseline_ref, previous_s=wall, previous_cpu_s=cpu,
                                previous_correct=old_ok, ratio=step["ours_s"] / wall)
                    print(f"  previous  {wall:7.2f} s  ({cpu:.2f} CPU s)   all ok: {old_ok}   "
                          f"(warm workers at {args.baseline_ref}; ours takes {step['ratio']:.1f}x as long)")
        report["azr_step"] = step
    finally:
        ex.close()
        fresh_pool.shutdown()
        if pool is not None:
            pool.stop()
            pool.join()
        shutil.rmtree(Path(tempfile.gettempdir()) / "azr_previous_executor", ignore_errors=True)

    # ---- Phase 5: report ------------------------------------------------------------------
    met = [verdict(ratio_many, TARGET_MANY), verdict(ratio_unique, TARGET_UNIQUE)]
    report["all_targets_met"] = "FAIL" not in met
    print(f"\ntargets: {'all met' if report['all_targets_met'] else 'NOT all met'}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    if wrong:
        sys.exit("WRONG ANSWERS: see above")


if __name__ == "__main__":
    main()
