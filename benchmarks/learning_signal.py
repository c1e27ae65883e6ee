"""The learning-signal run: does TRR++ self-play move the embedded model on CPU in a short run?

    python benchmarks/learning_signal.py                          # ~1 hour on a 2-core CPU
    python benchmarks/learning_signal.py --png docs/img/learning_signal.png

1. TRAIN     ``azr train`` with ``agents/configs/smollm2-cpu-signal.yaml`` (resumed if OUT
             already holds part of the run, so a killed run continues).
2. CURVES    per step, from OUT/metrics.jsonl: the solver's format compliance (1 - format-error
             rate) and reward per mode, and the proposer's format compliance and valid rate.
3. CONTROL   the initial and the trained policy answer the same held-out solver prompts with
             the same sampling seeds at temperature 1.0: the first seed tasks of each mode, and
             16 one-line programs a mode (EASY_PROGRAMS).  Training never sees either.  Printed
             side by side, with the ratio trained / initial: the baseline is measured in the
             same run.

``--seed-buffer easy`` starts the buffers from 24 other one-line programs a mode
(TRAIN_EASY_PROGRAMS) instead of the identity program: the task difficulty of the seed buffer.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from azr_agents import checkpoint
from azr_agents.config import TrainConfig
from azr_agents.policy import Policy
from azr_agents.train import MODES, TITLE, read_metrics, train

import azr_env  # noqa: F401  (registers the envs)
from azr_env._io import atomic_write_text, save_figure
from azr_env.tasks.seeds import seed_tasks
from azr_env.tasks.task import IOPair, Task
from azr_env.tasks.taskset import TaskSet

# One-line programs of the kind self-play proposes in its first steps (its buffers grow from the
# identity program), none of them in the buffers: can the model solve what it trains on?
EASY_PROGRAMS = [
    ("def f(x):\n    return x + 1", "4"), ("def f(x):\n    return x * 2", "7"),
    ("def f(x):\n    return x - 3", "10"), ("def f(x):\n    return x * x", "5"),
    ("def f(s):\n    return s + s", "'ab'"),
    ("def f(s):\n    return s.upper()", "'cat'"), ("def f(s):\n    return s[::-1]", "'abc'"),
    ("def f(xs):\n    return len(xs)", "[1, 2, 3]"), ("def f(xs):\n    return xs[0]", "[9, 8]"),
    ("def f(x):\n    return [x]", "6"), ("def f(xs):\n    return sum(xs)", "[1, 2, 3]"),
    ("def f(x):\n    return x > 3", "5"), ("def f(s):\n    return len(s)", "'hello'"),
    ("def f(xs):\n    return xs[::-1]", "[1, 2]"), ("def f(x):\n    return str(x)", "12"),
    ("def f(x):\n    return x + 10", "0"),
]
# The --seed-buffer easy training buffers: one-liners of the same kind, none of them held out.
TRAIN_EASY_PROGRAMS = [
    ("def f(x):\n    return x + 2", "5"), ("def f(x):\n    return x * 3", "4"),
    ("def f(x):\n    return x - 1", "8"), ("def f(x):\n    return x // 2", "9"),
    ("def f(x):\n    return x % 3", "7"), ("def f(x):\n    return -x", "6"),
    ("def f(x):\n    return abs(x)", "-4"), ("def f(x):\n    return x + x", "11"),
    ("def f(x):\n    return x == 0", "0"), ("def f(x):\n    return x * 10", "3"),
    ("def f(x):\n    return [x, x]", "2"), ("def f(x):\n    return x < 0", "-1"),
    ("def f(s):\n    return s.lower()", "'DOG'"), ("def f(s):\n    return s[0]", "'xyz'"),
    ("def f(s):\n    return s + '!'", "'hi'"), ("def f(s):\n    return s * 3", "'o'"),
    ("def f(s):\n    return s[-1]", "'cab'"), ("def f(s):\n    return s[1:]", "'sun'"),
    ("def f(xs):\n    return xs[-1]", "[4, 5, 6]"), ("def f(xs):\n    return max(xs)", "[3, 9, 2]"),
    ("def f(xs):\n    return min(xs)", "[7, 1, 5]"), ("def f(xs):\n    return sorted(xs)", "[3, 1, 2]"),
    ("def f(xs):\n    return xs + [0]", "[1, 2]"), ("def f(xs):\n    return len(xs) * 2", "[5, 5, 5]"),
]
EASY_INDUCTION_INPUTS = {"x": ["1", "2", "3", "4", "5"], "s": ["'a'", "'hi'", "'dog'", "'xy'", "'b'"],
                         "xs": ["[1, 2]", "[3]", "[4, 5, 6]", "[7, 8]", "[9, 1, 2]"]}


def easy_tasks(mode: str, programs: list[tuple[str, str]] = EASY_PROGRAMS) -> list[Task]:
    """One-line ``programs`` as tasks of ``mode``, gold outputs computed in the sandbox."""
    from azr_env.executor import default_executor

    ex = default_executor()
    tasks = []
    for program, args in programs:
        if mode != "induction":
            tasks.append(Task.create(mode, program, args, ex.run(program, args).output or "", source="easy"))
            continue
        inputs = EASY_INDUCTION_INPUTS[program.split("(")[1].split(")")[0]]
        pairs = [IOPair(args=a, output=ex.run(program, a).output or "") for a in inputs]
        tasks.append(Task.create("induction", program, visible=pairs[:2], hidden=pairs[2:],
                                 message="Write the one-line function.", source="easy"))
    return tasks


def held_out_scores(policy: Policy, cfg: TrainConfig, n_tasks: int, n_samples: int,
                    task_sets: dict[str, list[Task]] | None = None) -> dict[str, dict]:
    """Format compliance, correct rate and mean reward of ``policy`` on the first seed tasks of
    each mode (or on ``task_sets[mode]``)."""
    scores = {}
    for i, mode in enumerate(MODES):
        tasks = (task_sets or {}).get(mode) or list(seed_tasks(mode))[:n_tasks]
        env = gym.make(
            f"AZR-{TITLE[mode]}-v0",
            tasks=tasks,
            format_rule=cfg.format_rule,
            prompt_format="chat" if cfg.chat_template else "r1",
        )
        ids = [t.id for t in tasks for _ in range(n_samples)]
        prompts = [env.reset(options={"task_id": task_id})[0] for task_id in ids]
        samples = policy.generate(prompts, seed=10_000 + i)
        rewards, formatted, correct = [], [], []
        for task_id, sample in zip(ids, samples, strict=True):
            env.reset(options={"task_id": task_id})
            _, reward, _, _, info = env.step(sample.text)
            rewards.append(reward)
            formatted.append(bool(info["format_ok"]))
            correct.append(bool(info["correct"]))
        env.close()
        scores[mode] = {"format_compliance": float(np.mean(formatted)), "correct": float(np.mean(correct)),
                        "reward": float(np.mean(rewards)), "correct_per_sample": correct}
    return scores


def paired_p_value(before: list[bool], after: list[bool]) -> float:
    """Exact two-sided McNemar test: the chance of a split of the discordant pairs at least as
    uneven as this one if training changed nothing.  Pairs share a prompt and a sampling seed."""
    gained = sum(a and not b for b, a in zip(before, after, strict=True))
    lost = sum(b and not a for b, a in zip(before, after, strict=True))
    n = gained + lost
    tail = sum(math.comb(n, k) for k in range(min(gained, lost) + 1)) / 2**n
    return min(1.0, 2 * tail)


def correct_answers(scores: dict[str, dict], modes: tuple[str, ...] = tuple(MODES)) -> list[bool]:
    """Per-sample correctness of ``held_out_scores`` over ``modes``, in a fixed order."""
    return [c for mode in modes for c in scores[mode]["correct_per_sample"]]


def paired_p_values(initial: dict[str, dict], trained: dict[str, dict]) -> dict[str, float]:
    """``paired_p_value`` of the correct answers per mode, and over all modes together."""
    groups = {mode: (mode,) for mode in MODES} | {"all": tuple(MODES)}
    return {name: paired_p_value(correct_answers(initial, modes), correct_answers(trained, modes))
            for name, modes in groups.items()}


def print_control(what: str, initial: dict[str, dict], trained: dict[str, dict], p: dict[str, float]) -> None:
    print(f"\nheld-out solver prompts: {what}, T=1 (p: exact paired test of the correct answers)")
    print(
        f"{'mode':<11}{'compliance initial':>19}{'trained':>9}{'ratio':>7}"
        f"{'correct initial':>17}{'trained':>9}{'p':>7}{'reward initial':>16}{'trained':>9}"
    )
    for mode in MODES:
        a, b = initial[mode], trained[mode]
        ratio = b["format_compliance"] / a["format_compliance"] if a["format_compliance"] else float("inf")
        print(
            f"{mode:<11}{a['format_compliance']:>19.1%}{b['format_compliance']:>9.1%}{ratio:>7.2f}"
            f"{a['correct']:>17.1%}{b['correct']:>9.1%}"
            f"{p[mode]:>7.3f}"
            f"{a['reward']:>16.3f}{b['reward']:>9.3f}"
        )
    print(f"{'all modes':<46}{np.mean(correct_answers(initial)):>17.1%}"
          f"{np.mean(correct_answers(trained)):>9.1%}{p['all']:>7.3f}")


def model_name(cfg: TrainConfig) -> str:
    if cfg.random_init:
        return "a tiny random model"
    return "SmolLM2-135M-Instruct (embedded)" if cfg.model == "embedded" else cfg.model


def plot(rows: list[dict], png: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    steps = [r["step"] for r in rows]
    panels = [
        ("solver format compliance", lambda r, m: 1 - r[f"solve/{m}/format_error_rate"]),
        ("solver reward", lambda r, m: r[f"solve/{m}/reward"]),
        ("proposer format compliance", lambda r, m: 1 - r[f"propose/{m}/format_error_rate"]),
        ("proposer valid rate", lambda r, m: r[f"propose/{m}/valid_rate"]),
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(15, 3.4))
    for ax, (name, value) in zip(axes, panels, strict=True):
        for mode in MODES:
            ax.plot(steps, [value(r, mode) for r in rows], marker=".", label=mode)
        ax.plot(steps, [np.mean([value(r, m) for m in MODES]) for r in rows], "k--", label="mean")
        ax.set_title(name)
        ax.set_xlabel("step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, png)


def write_easy_buffers(folder: Path) -> Path:
    """TRAIN_EASY_PROGRAMS as ``folder/<mode>.jsonl`` task sets, for ``init_buffers``."""
    for mode in MODES:
        TaskSet(easy_tasks(mode, TRAIN_EASY_PROGRAMS), f"easy-{mode}").save(folder / f"{mode}.jsonl")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", default="agents/configs/smollm2-cpu-signal.yaml", help="Training config.")
    parser.add_argument("--out", default="runs/signal", help="Output folder of the run (resumed if present).")
    parser.add_argument("--steps", type=int, default=None, help="Override the config's steps.")
    parser.add_argument("--eval-tasks", type=int, default=16, help="Held-out seed tasks per mode.")
    parser.add_argument("--eval-samples", type=int, default=2, help="Samples per held-out task.")
    parser.add_argument("--png", default=None, help="Also write the curves here (default: OUT/signal.png).")
    parser.add_argument("--easy-samples", type=int, default=3,
                        help="Samples per easy held-out task (16 one-line programs a mode; 0 skips them).")
    parser.add_argument("--seed-buffer", choices=["config", "easy"], default="config",
                        help="Buffers to start from: the config's (the identity program unless it sets "
                        "init_buffers), or 24 one-line programs a mode (TRAIN_EASY_PROGRAMS).")
    args = parser.parse_args()

    out = Path(args.out)
    overrides = {"out": args.out} | ({"steps": args.steps} if args.steps else {})
    if args.seed_buffer == "easy":
        overrides["init_buffers"] = str(write_easy_buffers(out / "seed_buffers"))
    cfg = TrainConfig.from_yaml(args.config).model_copy(update=overrides)

    # -- 1. train (or continue)
    resume = str(out) if checkpoint.latest(out) is not None else None
    train(cfg, resume=resume)
    rows = read_metrics(out / "metrics.jsonl")

    # -- 2. curves
    pngs = [out / "signal.png"] + ([Path(args.png)] if args.png else [])
    for png in pngs:
        plot(rows, png, f"{model_name(cfg)}, TRR++ self-play, format rule {cfg.format_rule}, lr {cfg.lr:g}")

    # -- 3. control: initial vs trained policy on held-out prompts, same seeds
    easy = {mode: easy_tasks(mode) for mode in MODES} if args.easy_samples else None
    policy = Policy(cfg)
    initial = held_out_scores(policy, cfg, args.eval_tasks, args.eval_samples)
    initial_easy = held_out_scores(policy, cfg, 0, args.easy_samples, easy) if easy else None
    latest = checkpoint.latest(out)
    policy.model.load_state_dict(torch.load(latest / "model.pt", map_location="cpu"))
    trained = held_out_scores(policy, cfg, args.eval_tasks, args.eval_samples)
    trained_easy = held_out_scores(policy, cfg, 0, args.easy_samples, easy) if easy else None

    p_held_out = paired_p_values(initial, trained)
    p_easy = paired_p_values(initial_easy, trained_easy) if easy else None
    print_control(f"{args.eval_tasks} seed tasks x {args.eval_samples} samples a mode", initial, trained,
                  p_held_out)
    if easy:
        print_control(f"{len(EASY_PROGRAMS)} one-line programs x {args.easy_samples} samples a mode",
                      initial_easy, trained_easy, p_easy)
    quarter = max(1, len(rows) // 4)

    def solver_means(part: list[dict]) -> dict[str, float]:
        return {
            "format_compliance": float(
                np.mean([1 - r[f"solve/{m}/format_error_rate"] for r in part for m in MODES])
            ),
            "reward": float(np.mean([r[f"solve/{m}/reward"] for r in part for m in MODES])),
            "solve_rate": float(np.mean([r[f"solve/{m}/solve_rate"] for r in part for m in MODES])),
        }

    summary = {
        "config": cfg.model_dump(),
        "steps": len(rows),
        "training_first_quarter": solver_means(rows[:quarter]),
        "training_last_quarter": solver_means(rows[-quarter:]),
        "held_out_initial": initial,
        "held_out_trained": trained,
        "easy_initial": initial_easy,
        "easy_trained": trained_easy,
        "paired_p_held_out": p_held_out,
        "paired_p_easy": p_easy,
    }
    atomic_write_text(out / "learning_signal.json", json.dumps(summary, indent=2))
    first, last = summary["training_first_quarter"], summary["training_last_quarter"]
    print(
        f"training, solver (all modes), first vs last quarter of the steps: format compliance "
        f"{first['format_compliance']:.1%} -> {last['format_compliance']:.1%}, reward "
        f"{first['reward']:+.3f} -> {last['reward']:+.3f}, solve rate {first['solve_rate']:.1%} -> "
        f"{last['solve_rate']:.1%}; curves: {', '.join(map(str, pngs))}"
    )


if __name__ == "__main__":
    main()
