"""The benchmark harness behind ``azr bench``: score a solver on a frozen task set.

Scoring goes through the solver vector envs, so prompts, answer parsing and verification
are exactly those of training.  A run is:

1. for each task, ``n_samples`` completions from the solver (batched), appended to
   ``OUT/completions.jsonl`` as they arrive, so a killed run continues where it stopped;
2. each batch scored through ``gym.make_vec(<mode env>, vectorization_mode="vector_entry_point")``;
3. metrics per mode and per task: accuracy (mean over all samples), format-error rate, and
   pass@k with the unbiased estimator (Chen et al. 2021) for k in {1, 5, 10} where n >= k;
4. ``OUT/results.json`` (with ``accuracy`` and ``pass@k`` keys per mode), ``OUT/results.md``
   and ``OUT/results.png``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym

from azr_env._io import atomic_write_text, save_figure
from azr_env.bench.solvers.base import SolverError
from azr_env.envs.prompts import solver_prompt
from azr_env.executor import BaseExecutor, Executor
from azr_env.tasks.task import Task
from azr_env.tasks.taskset import TaskSet

Solver = Callable[[list[str]], list[str]]
KS = (1, 5, 10)
ENV_IDS = {"deduction": "AZR-Deduction-v0", "abduction": "AZR-Abduction-v0", "induction": "AZR-Induction-v0"}
COMPLETIONS = "completions.jsonl"


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples of which c are correct: 1 - C(n-c, k) / C(n, k)."""
    if not 0 <= c <= n or k < 1 or k > n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


class CompletionCache:
    """``completions.jsonl``: one line per (task, sample), appended and synced per batch.

    A line cut short by a crash is ignored when the file is read back; a run started with
    other settings (task set, solver, samples, prompt format) refuses to reuse the cache.
    """

    def __init__(self, path: Path, fingerprint: dict[str, Any]) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self.done: dict[tuple[str, int], str] = {}
        if path.exists():
            self._read()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding="utf-8") as fh:
                fh.write(json.dumps({"run": fingerprint}, sort_keys=True) + "\n")

    def _read(self) -> None:
        lines = self.path.read_text(encoding="utf-8").splitlines()
        try:
            head = json.loads(lines[0])["run"] if lines else None
        except (json.JSONDecodeError, KeyError, TypeError):
            head = None
        if head != self.fingerprint:
            raise ValueError(f"{self.path} holds completions of a different run ({self._differences(head)}); "
                             "use another --out folder or delete it")
        for line in lines[1:]:
            try:
                row = json.loads(line)
                self.done[(row["task_id"], int(row["sample"]))] = row["completion"]
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                continue  # a line cut short by a crash: that sample is asked for again

    def _differences(self, head: Any) -> str:
        if not isinstance(head, dict):
            return "its first line is not a run header"
        keys = sorted(set(head) | set(self.fingerprint), key=str)
        return ", ".join(f"{k}={head.get(k)!r} there, {self.fingerprint.get(k)!r} now"
                         for k in keys if head.get(k) != self.fingerprint.get(k))

    def add(self, rows: list[tuple[str, int, str]]) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            if fh.tell() and not self.path.read_bytes().endswith(b"\n"):
                fh.write("\n")  # never glue a new line onto a torn one
            for task_id, sample, completion in rows:
                fh.write(json.dumps({"task_id": task_id, "sample": sample, "completion": completion}) + "\n")
                self.done[(task_id, sample)] = completion
            fh.flush()
            os.fsync(fh.fileno())


def _batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def run_bench(
    taskset: TaskSet,
    solver: Solver,
    out_dir: str | os.PathLike[str],
    *,
    n_samples: int = 1,
    batch_size: int = 32,
    seed: int = 0,
    solver_name: str = "solver",
    settings: dict[str, Any] | None = None,
    executor: BaseExecutor | None = None,
    prompt_format: str = "r1",
    format_rule: str = "strict",
    progress: bool = True,
) -> dict[str, Any]:
    """Score ``solver`` on every task ``n_samples`` times; write and return the results."""
    if n_samples < 1 or batch_size < 1:
        raise ValueError("n_samples and batch_size must be >= 1")
    if len(taskset) == 0:
        raise ValueError(f"task set {taskset.name!r} is empty")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} is a file: the output is a folder (completions, results.json, results.md)")
    fingerprint = {
        "taskset": taskset.name,
        "version": taskset.version,
        "sha256": taskset.manifest()["sha256"],
        "solver": solver_name,
        "n_samples": n_samples,
        "seed": seed,
        "prompt_format": prompt_format,
        "format_rule": format_rule,
        **(settings or {}),
    }
    cache = CompletionCache(out / COMPLETIONS, fingerprint)
    items = [(task, s) for task in taskset for s in range(n_samples)]
    reused = sum((task.id, s) in cache.done for task, s in items)
    scores: dict[tuple[str, int], dict[str, Any]] = {}
    bar = _progress(progress, len(items))
    own_executor = executor is None and needs_executor(taskset)
    if own_executor:
        executor = Executor(**executor_limits(taskset))
    try:
        for batch in _batches(items, batch_size):
            missing = [(t, s) for t, s in batch if (t.id, s) not in cache.done]
            if missing:
                # Same seed, same samples: the seed of a batch depends only on what it holds.
                # The solver envs' own prompt builder: the prompt a solver env would show.
                prompts = [solver_prompt(t, prompt_format) for t, _ in missing]  # type: ignore[arg-type]
                answers = _ask(solver, prompts, _batch_seed(seed, missing))
                cache.add([(t.id, s, a) for (t, s), a in zip(missing, answers, strict=True)])
            _score(batch, cache, scores, executor, prompt_format, format_rule)
            if bar is not None:
                correct = sum(v["correct"] for v in scores.values())
                bar[0].update(bar[1], advance=len(batch), description=f"accuracy {correct / len(scores):.1%}")
    finally:
        if bar is not None:
            bar[0].stop()
        if own_executor:
            executor.close()  # type: ignore[union-attr]
    results = summarise(taskset, scores, n_samples)
    results.update(
        solver=solver_name,
        n_samples=n_samples,
        seed=seed,
        settings=settings or {},
        date=_dt.date.today().isoformat(),
        prompt_format=prompt_format,
        format_rule=format_rule,
        completions={"reused": reused, "generated": len(items) - reused},
    )
    write_outputs(results, out)
    return results


def needs_executor(taskset: TaskSet) -> bool:
    """Whether scoring runs code (deduction answers are compared as values, nothing runs)."""
    return any(t.mode != "deduction" for t in taskset)


def executor_limits(taskset: TaskSet) -> dict[str, Any]:
    """The executor limits a task set is scored under (evalplus's outputs reach megabytes)."""
    from azr_env.tasks.evalplus import EVALPLUS_LIMITS

    evalplus = any(t.metadata.extra.get("compare") == "evalplus" for t in taskset)
    return dict(EVALPLUS_LIMITS) if evalplus else {}


def _batch_seed(seed: int, items: Sequence[tuple[Task, int]]) -> int:
    text = f"{seed}:" + ",".join(f"{t.id}#{s}" for t, s in items)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def _ask(solver: Solver, prompts: list[str], seed: int) -> list[str]:
    if hasattr(solver, "seed"):
        solver.seed = seed  # type: ignore[attr-defined]
    try:
        answers = solver(prompts)
    except SolverError:
        raise
    except Exception as exc:  # a user's solver: its error, said in one line by the caller
        raise SolverError(f"the solver raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(answers, (list, tuple)) or len(answers) != len(prompts):
        got = len(answers) if isinstance(answers, (list, tuple)) else type(answers).__name__
        raise ValueError(
            f"the solver must return one completion per prompt: {len(prompts)} prompts, got {got}"
        )
    return [a if isinstance(a, str) else "" for a in answers]


def _score(batch, cache: CompletionCache, scores, executor, prompt_format: str, format_rule: str) -> None:
    by_mode: dict[str, list[tuple[Task, int]]] = {}
    for task, s in batch:
        by_mode.setdefault(task.mode, []).append((task, s))
    for mode, items in by_mode.items():
        vec = gym.make_vec(
            ENV_IDS[mode],
            num_envs=len(items),
            vectorization_mode="vector_entry_point",
            tasks=[t for t, _ in items],
            executor=executor,
            prompt_format=prompt_format,
            format_rule=format_rule,
        )
        vec.reset(seed=0)
        for env, (task, _) in zip(vec.unwrapped.envs, items, strict=True):
            env.reset(options={"task_id": task.id})
        _, rewards, _, _, infos = vec.step([cache.done[(t.id, s)] for t, s in items])
        final = infos["final_info"]
        for i, (task, s) in enumerate(items):
            scores[(task.id, s)] = {
                "correct": bool(final["correct"][i]),
                "format_ok": bool(final["format_ok"][i]),
                "status": str(final["status"][i]),
                "reward": float(rewards[i]),
            }
            n_base = task.metadata.extra.get("n_base")
            if isinstance(n_base, int) and "first_failure" in final and final["_first_failure"][i]:
                # evalplus's base pass: every base input (the first n_base hidden ones) passed
                first = int(final["first_failure"][i])
                scores[(task.id, s)]["base_correct"] = bool(final["correct"][i]) or first >= n_base
        vec.close()


def _progress(enabled: bool, total: int):
    if not enabled:
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    bar.start()
    return bar, bar.add_task("accuracy -", total=total)


def summarise(
    taskset: TaskSet, scores: dict[tuple[str, int], dict[str, Any]], n_samples: int
) -> dict[str, Any]:
    """Metrics per mode and per task from the per-sample scores."""
    per_task: dict[str, dict[str, Any]] = {}
    modes: dict[str, dict[str, Any]] = {}
    for task in taskset:
        samples = [scores[(task.id, s)] for s in range(n_samples)]
        c = sum(x["correct"] for x in samples)
        row = {
            "mode": task.mode,
            "n": n_samples,
            "correct": c,
            "format_errors": sum(not x["format_ok"] for x in samples),
            "statuses": sorted({x["status"] for x in samples}),
        }
        row.update({f"pass@{k}": pass_at_k(n_samples, c, k) for k in KS if k <= n_samples})
        if "n_base" in task.metadata.extra:  # evalplus: the base tests alone, as evalplus reports
            base = sum(x.get("base_correct", False) for x in samples)
            row["base_correct"] = base
            row.update({f"base_pass@{k}": pass_at_k(n_samples, base, k) for k in KS if k <= n_samples})
        per_task[task.id] = row
    for mode in sorted({t.mode for t in taskset}):
        rows = [r for r in per_task.values() if r["mode"] == mode]
        total = sum(r["n"] for r in rows)
        summary = {
            "n_tasks": len(rows),
            "n_samples": n_samples,
            "accuracy": sum(r["correct"] for r in rows) / total,
            "format_error_rate": sum(r["format_errors"] for r in rows) / total,
        }
        summary.update(
            {f"pass@{k}": sum(r[f"pass@{k}"] for r in rows) / len(rows) for k in KS if k <= n_samples}
        )
        if rows and all("base_correct" in r for r in rows):
            summary["base_accuracy"] = sum(r["base_correct"] for r in rows) / total
            summary.update({f"base_pass@{k}": sum(r[f"base_pass@{k}"] for r in rows) / len(rows)
                            for k in KS if k <= n_samples})
        modes[mode] = summary
    rules = sorted({t.metadata.extra.get("compare", "strict") for t in taskset})
    return {"taskset": taskset.name, "taskset_version": taskset.version,
            "taskset_sha256": taskset.manifest()["sha256"], "modes": modes, "tasks": per_task,
            "scored": taskset.extra.get("scored", "every hidden input of every task"), "compare": rules}


def markdown_table(results: dict[str, Any]) -> str:
    ks = [f"pass@{k}" for k in KS if k <= results.get("n_samples", 1)]
    base = [f"base_{k}" for k in ks] if any("base_pass@1" in m for m in results["modes"].values()) else []
    head = ["mode", "tasks", "accuracy", "format errors", *ks, *[k.replace("_", " ") for k in base]]
    lines = [
        f"# {results['taskset']} v{results['taskset_version']}: {results.get('solver', '')}",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for mode, m in results["modes"].items():
        cells = [
            mode,
            str(m["n_tasks"]),
            f"{m['accuracy']:.1%}",
            f"{m['format_error_rate']:.1%}",
            *[f"{m[k]:.1%}" for k in ks],
            *[f"{m[k]:.1%}" if k in m else "-" for k in base],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if "scored" in results:
        lines += ["", f"Scored on {results['scored']}; compared by: {', '.join(results.get('compare', []))}."]
    return "\n".join(lines) + "\n"


def write_outputs(results: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "results.json", json.dumps(results, indent=2, sort_keys=True) + "\n")
    atomic_write_text(out / "results.md", markdown_table(results))
    try:
        _plot(results, out / "results.png")
    except ImportError:
        pass  # matplotlib is in the train extra; the JSON and Markdown are the results


def _plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = [f"pass@{k}" for k in KS if k <= results.get("n_samples", 1)]
    metrics = ["accuracy", *ks, "format_error_rate"]
    modes = list(results["modes"])
    fig, ax = plt.subplots(figsize=(2.2 + 2.0 * len(modes), 3.4))
    width = 0.8 / len(metrics)
    for j, metric in enumerate(metrics):
        values = [results["modes"][m][metric] for m in modes]
        label = "format errors" if metric == "format_error_rate" else metric
        bars = ax.bar([i + j * width for i in range(len(modes))], values, width, label=label,
                      hatch="//" if metric == "format_error_rate" else None)
        ax.bar_label(bars, labels=[f"{v:.0%}" for v in values], fontsize=7, padding=1)
    ax.set_xticks([i + width * (len(metrics) - 1) / 2 for i in range(len(modes))], modes)
    ax.set_ylim(0, 1.12)
    ax.set_title(f"{results['taskset']}: {results.get('solver', '')}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def _natural(task_id: str) -> list[Any]:
    """HumanEval/2 before HumanEval/10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", task_id)]


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Differences between two results: per mode (b minus a), the tasks whose pass@1 changed
    (largest change first), and warnings where the two runs are not like for like."""
    modes = {}
    for mode in sorted(set(a["modes"]) | set(b["modes"])):
        ma, mb = a["modes"].get(mode, {}), b["modes"].get(mode, {})
        keys = [
            k for k in ("accuracy", "format_error_rate", *[f"pass@{k}" for k in KS]) if k in ma and k in mb
        ]
        modes[mode] = {k: {"a": ma[k], "b": mb[k], "delta": mb[k] - ma[k]} for k in keys}
    changed = []
    for task_id in set(a["tasks"]) & set(b["tasks"]):
        pa, pb = a["tasks"][task_id].get("pass@1"), b["tasks"][task_id].get("pass@1")
        if pa is not None and pb is not None and pa != pb:
            changed.append((task_id, {"a": pa, "b": pb, "delta": pb - pa}))
    changed.sort(key=lambda item: (-abs(item[1]["delta"]), _natural(item[0])))
    only = {"a": sorted(set(a["tasks"]) - set(b["tasks"]), key=_natural),
            "b": sorted(set(b["tasks"]) - set(a["tasks"]), key=_natural)}
    warnings = []
    for key in ("taskset", "taskset_version", "taskset_sha256", "n_samples", "prompt_format", "format_rule"):
        if key in a and key in b and a[key] != b[key]:
            warnings.append(f"{key} differs: {a[key]!r} in A, {b[key]!r} in B")
    if only["a"] or only["b"]:
        warnings.append(f"the task sets differ: {len(only['a'])} tasks only in A, {len(only['b'])} only in B")
    return {"modes": modes, "tasks": dict(changed), "only_in": only, "warnings": warnings}
