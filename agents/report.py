"""What a run shows its user: progress within each step with an ETA, the per-step table, a
summary that says what the numbers mean, and the reward curves from ``metrics.jsonl``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from azr_env._io import save_figure
from azr_env.tasks.task import MODES


class PhaseProgress:
    """Progress within each step (three proposer phases, three solver phases, the update) with an
    ETA: a live bar on a terminal, one line a phase elsewhere (logs, CI, ``make run | tee``)."""

    PHASES = 7

    def __init__(self, steps: int, done: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.total = steps * self.PHASES
        self.start_done = self.done = done * self.PHASES
        self.steps = steps
        self.started = time.perf_counter()
        self.console = Console(stderr=True)
        self.live = self.console.is_terminal
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                            TextColumn("ETA"), TimeRemainingColumn(), console=self.console)
        self.task = self.bar.add_task("self-play: step 1 starting", total=self.total, completed=self.done)
        if self.live:
            self.bar.start()

    def eta_s(self) -> float | None:
        """Seconds left, from the mean time per phase so far (None before the first phase)."""
        done = self.done - self.start_done
        if done <= 0:
            return None
        return (time.perf_counter() - self.started) / done * (self.total - self.done)

    def advance(self, step: int, label: str) -> None:
        self.done += 1
        text = f"step {step}/{self.steps}: {label}"
        self.bar.update(self.task, completed=self.done, description=text)
        if not self.live:
            eta = self.eta_s()
            left = ""
            if eta is not None and self.done < self.total:
                left = f", about {eta:.0f} s left" if eta < 120 else f", about {eta / 60:.0f} min left"
            elapsed = time.perf_counter() - self.started
            print(f"[azr train] {text} ({elapsed:.0f} s{left})", flush=True)

    def stop(self) -> None:
        if self.live:
            self.bar.stop()


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """The per-step records of ``metrics.jsonl``; a line cut short by a kill is skipped."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and isinstance(row.get("step"), int):
            rows.append(row)
    return rows


def plot_rewards(metrics_path: Path, png: Path) -> None:
    """A PNG of the per-(mode, role) reward curves from metrics.jsonl."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_metrics(metrics_path)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
    for ax, role in zip(axes, ("propose", "solve"), strict=True):
        for mode in MODES:
            ax.plot(
                [r["step"] for r in rows],
                [r.get(f"{role}/{mode}/reward") for r in rows],
                marker="o",
                label=mode,
            )
        ax.set_title(f"{role} reward")
        ax.set_xlabel("step")
        ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, png)


def _mean(record: dict[str, Any], role: str, key: str) -> float:
    return float(np.mean([record[f"{role}/{m}/{key}"] for m in MODES]))


def run_summary_table(history: list[dict[str, Any]]):
    """One row a step: the means over the three modes, and the update's loss."""
    from rich.table import Table

    table = Table("step", "propose reward", "valid", "solve reward", "format ok", "solve rate",
                  "groups with signal", "pg_loss", "seconds")
    for r in history:
        table.add_row(
            str(r["step"]),
            f"{_mean(r, 'propose', 'reward'):+.2f}",
            f"{_mean(r, 'propose', 'valid_rate'):.0%}",
            f"{_mean(r, 'solve', 'reward'):+.2f}",
            f"{1 - _mean(r, 'solve', 'format_error_rate'):.0%}",
            f"{_mean(r, 'solve', 'solve_rate'):.0%}",
            f"{r.get('train/groups_with_signal', 0):.0f} of 6",
            f"{r['train/pg_loss']:+.4f}",
            f"{r['seconds']:.0f}",
        )
    return table


def summary_lines(history: list[dict[str, Any]], format_rule: str) -> list[str]:
    """What a run's numbers mean, in words: format compliance, solve rate, whether TRR++ had a
    signal to learn from, and what moved between the first and the last step."""
    if not history:
        return ["No step ran."]
    first, last = history[0], history[-1]
    span = f"step {first['step']} -> step {last['step']}"

    def move(role: str, key: str, fmt: str) -> str:
        a, b = _mean(first, role, key), _mean(last, role, key)
        return f"{a:{fmt}} -> {b:{fmt}}"

    a, b = 1 - _mean(first, "solve", "format_error_rate"), 1 - _mean(last, "solve", "format_error_rate")
    solver_format = f"{a:.0%} -> {b:.0%}"
    signal = [r.get("train/groups_with_signal", 0.0) for r in history]
    updated = sum(abs(r["train/pg_loss"]) > 0 for r in history)
    lines = [
        f"What the numbers mean ({len(history)} step{'s' * (len(history) != 1)}, format rule {format_rule}; "
        f"{span}):",
        f"- format compliance, answers in the rewarded format: solver {solver_format}; proposals that "
        f"were valid programs: {move('propose', 'valid_rate', '.0%')}.",
        f"- solve rate, correct answers of all the solver's answers: {move('solve', 'solve_rate', '.0%')}.",
    ]
    if updated:
        lines.append(
            f"- learning signal: {np.mean(signal):.1f} of 6 (mode, role) groups a step had rewards that "
            f"differ, and pg_loss was non-zero in {updated} of {len(history)} steps: each update moved "
            "the policy towards the better-rewarded responses of its group."
        )
    else:
        lines.append(
            "- learning signal: none. Every reward in each (mode, role) group was equal, so TRR++'s "
            "whitened advantages were all 0 and TRR++ had nothing to learn from (only the entropy bonus "
            "moved the weights)."
            + (" Under the strict rule a 135M model never writes <think>/<answer>; format_rule: fenced "
               "gives it a signal (docs/training.md, 'Learning signal')." if format_rule == "strict" else
               " A larger batch_size or more steps make a differing reward in some group more likely.")
        )
    lines.append(
        f"- what moved: solver reward {move('solve', 'reward', '+.2f')}, proposer reward "
        f"{move('propose', 'reward', '+.2f')}. A few steps show that the loop runs and learns from "
        "differences, not a trend; docs/training.md has a 16-step run with a held-out control."
    )
    return lines


