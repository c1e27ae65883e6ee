"""One self-play training step, timed: seconds per phase and tokens per second.

    python benchmarks/train_step.py                      # the embedded SmolLM2-135M on CPU
    python benchmarks/train_step.py --random-init        # a tiny random model (fast smoke run)
    python benchmarks/train_step.py --trl                # also TRL's GRPOTrainer, side by side

With ``--trl`` (needs ``pip install trl``), the same model does a comparable solver-only
update with TRL's GRPOTrainer on the same deduction prompts (B prompts x G generations, the
same generation budget, reward from the same AZR-Deduction-v0 verifier), and we time ours
doing the same: the solve phase for those prompts plus one TRR++ update.  The ratio is
printed; both are measured in this run, on this machine.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
from azr_agents.config import TrainConfig
from azr_agents.train import MODES, Rollout, Trainer


def config(args: argparse.Namespace, out: str) -> TrainConfig:
    return TrainConfig(
        random_init=args.random_init,
        batch_size=args.batch_size,
        n_samples=args.n_samples,
        max_new_tokens=args.max_new_tokens,
        steps=1,
        out=out,
        seed=args.seed,
    )


def ours_full_step(args: argparse.Namespace) -> dict[str, float]:
    """Phase 1: one whole AZR step (propose, validate, solve, update)."""
    with tempfile.TemporaryDirectory() as out:
        trainer = Trainer(config(args, out))
        try:
            record = trainer.run()[0]
        finally:
            trainer.close()
    tokens = {
        role: sum(record[f"{role}/{m}/response_length"] * args.batch_size for m in MODES)
        for role in ("propose", "solve")
    }
    gen_seconds = record["time/propose"] + record["time/solve"]
    return {
        "propose_s": record["time/propose"],
        "solve_s": record["time/solve"],
        "update_s": record["time/update"],
        "step_s": record["seconds"],
        "trained_tokens": tokens["propose"] + tokens["solve"],
        "update_tokens_per_s": (tokens["propose"] + tokens["solve"]) / record["time/update"],
        "rollout_tokens_per_s": (tokens["propose"] + tokens["solve"]) / gen_seconds,
    }


def ours_solver_only(args: argparse.Namespace, generations: int) -> tuple[float, list]:
    """Phase 2: ours on a solver-only update: B seed deduction tasks x G samples, one TRR++ step."""
    from azr_env.tasks.seeds import seed_tasks

    tasks = list(seed_tasks("deduction"))[: args.batch_size]
    with tempfile.TemporaryDirectory() as out:
        cfg = config(args, out).model_copy(update={"batch_size": args.batch_size * generations})
        trainer = Trainer(cfg)
        try:
            trainer.buffers["deduction"].extend(tasks)
            trainer._new_tasks = {"deduction": [t for t in tasks for _ in range(generations)]}
            start = time.perf_counter()
            rollout: Rollout = trainer.solve("deduction")  # the B x G prompts, answered and scored
            trainer.update([rollout])
            seconds = time.perf_counter() - start
        finally:
            trainer.close()
    return seconds, tasks


def trl_solver_only(args: argparse.Namespace, tasks: list, generations: int) -> float:
    """Phase 3: TRL's GRPOTrainer, one step on the same prompts, model and verifier."""
    import datasets
    import gymnasium as gym
    from azr_agents.policy import Policy
    from trl import GRPOConfig, GRPOTrainer

    from azr_env.envs.prompts import solver_prompt

    policy = Policy(config(args, "unused"))
    env = gym.make("AZR-Deduction-v0", tasks=tasks).unwrapped
    by_prompt = {solver_prompt(t): t.id for t in tasks}

    def text(x) -> str:
        return x[-1]["content"] if isinstance(x, list) else str(x)

    def reward(prompts, completions, **_):
        scores = []
        for p, c in zip(prompts, completions, strict=True):
            env.reset(options={"task_id": by_prompt[text(p)]})
            scores.append(env.step(text(c))[1])
        return scores

    rows = [{"prompt": [{"role": "user", "content": p}]} for p in by_prompt]
    with tempfile.TemporaryDirectory() as out:
        cfg = GRPOConfig(
            output_dir=out,
            per_device_train_batch_size=len(rows) * generations,
            num_generations=generations,
            max_completion_length=args.max_new_tokens,
            max_steps=1,
            learning_rate=1e-6,
            logging_steps=1,
            report_to=[],
            use_cpu=not torch.cuda.is_available(),
            save_strategy="no",
            temperature=1.0,
            beta=0.0,
        )
        trainer = GRPOTrainer(
            model=policy.model,
            processing_class=policy.tokenizer,
            reward_funcs=reward,
            args=cfg,
            train_dataset=datasets.Dataset.from_list(rows),
        )
        start = time.perf_counter()
        trainer.train()
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--random-init", action="store_true", help="a tiny random model instead of SmolLM2")
    parser.add_argument("--batch-size", type=int, default=2, help="prompts per (mode, role)")
    parser.add_argument("--n-samples", type=int, default=2, help="learnability samples per proposal")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--generations", type=int, default=2, help="--trl: samples per prompt (GRPO's G)")
    parser.add_argument("--trl", action="store_true", help="also time TRL's GRPOTrainer")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(
        f"device {device}; model {'tiny random' if args.random_init else 'embedded SmolLM2-135M'}; "
        f"batch {args.batch_size} per (mode, role); max_new_tokens {args.max_new_tokens}"
    )
    numbers = ours_full_step(args)
    print(
        f"one AZR step: propose+validate {numbers['propose_s']:.1f} s, solve {numbers['solve_s']:.1f} s, "
        f"update {numbers['update_s']:.1f} s, total {numbers['step_s']:.1f} s"
    )
    print(
        f"  rollout {numbers['rollout_tokens_per_s']:.1f} tokens/s, "
        f"update {numbers['update_tokens_per_s']:.1f} tokens/s "
        f"({numbers['trained_tokens']:.0f} trained response tokens)"
    )
    if args.trl:
        ours, tasks = ours_solver_only(args, args.generations)
        theirs = trl_solver_only(args, tasks, args.generations)
        numbers.update(solver_only_ours_s=ours, solver_only_trl_s=theirs, trl_over_ours=theirs / ours)
        print(
            f"solver-only update ({args.batch_size} prompts x {args.generations}): ours {ours:.1f} s, "
            f"TRL GRPOTrainer {theirs:.1f} s, ratio TRL/ours {theirs / ours:.2f}x"
        )
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=2))


if __name__ == "__main__":
    main()
