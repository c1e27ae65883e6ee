"""AZR self-play training with TRR++, through the public azr_env API (``azr train``).

Read top to bottom: set-up, then per step the four phases of the paper's Algorithm 1.

1. PROPOSE   for each mode, B proposer prompts (K references from the mode's buffer); the
             policy writes proposals.
2. VALIDATE  the proposer envs validate them in the sandbox and ask the *current* policy for
             n samples at temperature 1.0 to score learnability; valid tasks join the buffers.
3. SOLVE     for each mode, B solver prompts: the newest valid tasks first, filled from the
             buffer (AZR's "max_new"); the solver envs score the answers.
4. UPDATE    TRR++: rewards on the last token, advantages whitened separately in each of the
             six (mode, role) groups, one optimizer step over all of them.

Every random choice derives from ``cfg.seed`` and the step number (env draws, sampling), so a
run resumed from a checkpoint continues exactly, and the same config and seed give the same
tasks, rewards and weights on CPU.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

import azr_env  # noqa: F401  (registers the envs)
from azr_env._io import atomic_write_text
from azr_env.executor import Executor, RayExecutor
from azr_env.tasks.buffer import TaskBuffer
from azr_env.tasks.task import MODES
from azr_env.tasks.taskset import TaskSet

from . import checkpoint
from .config import TrainConfig
from .policy import Policy, Sample
from .preflight import lock_run_folder, preflight
from .report import PhaseProgress, plot_rewards, read_metrics, run_summary_table, summary_lines
from .trrpp import GROUPS, group_index, trrpp_advantages, trrpp_loss

TITLE = {"deduction": "Deduction", "abduction": "Abduction", "induction": "Induction"}


@dataclass
class Rollout:
    """One group's responses of a step: what was sampled and what it earned."""

    mode: str
    role: str
    samples: list[Sample] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    stats: dict[str, float] = field(default_factory=dict)


def seed_everything(seed: int) -> None:
    import random

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if not torch.cuda.is_available():
        torch.use_deterministic_algorithms(True)


class Trainer:
    """Holds the run's state; ``run()`` is the loop."""

    def __init__(self, cfg: TrainConfig, resume: str | None = None) -> None:
        self.cfg = cfg
        self.out = Path(cfg.out)
        # -- what can fail in seconds fails before any worker starts or the model loads
        preflight(cfg)
        found = checkpoint.latest(Path(resume)) if resume else None
        if resume and found is None:
            raise FileNotFoundError(f"no complete checkpoint under {resume}")
        if not resume and checkpoint.latest(self.out) is not None:
            raise FileExistsError(
                f"{self.out} holds a run already: continue it (--resume {self.out}) or pick another --out"
            )
        self.out.mkdir(parents=True, exist_ok=True)
        self._lock = lock_run_folder(self.out)
        seed_everything(cfg.seed)
        # -- set-up: executor, policy, optimizer, buffers, envs
        self.executor = (RayExecutor(cfg.ray_address, timeout_s=cfg.executor_timeout_s) if cfg.ray_address
                         else Executor(timeout_s=cfg.executor_timeout_s))
        self.policy = Policy(cfg)
        params = [p for p in self.policy.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.step = 0
        self.reference = None  # the initial policy, for the optional KL penalty
        if cfg.kl_coef > 0:
            import copy

            self.reference = copy.deepcopy(self.policy.model).eval().requires_grad_(False)
        self.buffers = self._initial_buffers()
        if found is not None:
            self.step, self.buffers = checkpoint.load(found, self.policy.model, self.optimizer)
        self.metrics_path = self.out / "metrics.jsonl"
        # Steps logged after the checkpoint we resume from (a killed run) are run again: drop
        # their records, and any half-written line, so the file holds each step once.
        kept = [r for r in read_metrics(self.metrics_path) if r["step"] <= self.step]
        atomic_write_text(self.metrics_path, "".join(json.dumps(r) + "\n" for r in kept))
        self._calls = 0
        self._new_tasks: dict[str, list] = {}
        # A chat model gets the task alone from the envs and wraps it in its chat template with
        # the R1 instruction as the system message; a base model gets AZR's raw R1 prompt.
        self.prompt_format = "chat" if cfg.chat_template else "r1"
        sampler = self.policy.sampler(self._next_seed)
        common = dict(
            num_envs=cfg.batch_size,
            vectorization_mode="vector_entry_point",
            executor=self.executor,
            format_rule=cfg.format_rule,
            prompt_format=self.prompt_format,
        )
        self.proposers = {
            m: gym.make_vec(
                f"AZR-Propose-{TITLE[m]}-v0",
                buffer=self.buffers[m],
                solver=sampler,
                n_samples=cfg.n_samples,
                solver_format_rule=cfg.format_rule,
                k_references=cfg.k_references,
                n_inputs=cfg.n_inputs,
                extreme_reward=cfg.extreme_reward,
                add_to_buffer=cfg.add_to_buffer,
                **common,
            )
            for m in MODES
        }
        self.solvers = {m: gym.make_vec(f"AZR-{TITLE[m]}-v0", tasks=self.buffers[m], **common) for m in MODES}
        self.writer = self._writer()
        self.wandb = None
        if cfg.wandb:
            import wandb  # optional: pip install wandb

            self.wandb = wandb.init(project="azr-env", config=cfg.model_dump(), dir=str(self.out))

    # ------------------------------------------------------------------ set-up helpers
    def _initial_buffers(self) -> dict[str, TaskBuffer]:
        if not self.cfg.init_buffers:
            return {m: TaskBuffer(m) for m in MODES}
        folder = Path(self.cfg.init_buffers)
        return {m: TaskBuffer(m, list(TaskSet.load(folder / f"{m}.jsonl"))) for m in MODES}

    def _writer(self):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            return None
        return SummaryWriter(str(self.out / "tensorboard"))

    def _next_seed(self) -> int:
        """Seeds for sampling: a function of (seed, step, call), never of wall-clock or history."""
        self._calls += 1
        return (self.cfg.seed * 1_000_003 + self.step * 10_007 + self._calls) % (2**31 - 1)

    def _env_seed(self, offset: int) -> int:
        return self.cfg.seed * 100_003 + self.step * 101 + offset

    # ------------------------------------------------------------------ the phases
    def propose(self, mode: str) -> Rollout:
        """PROPOSE + VALIDATE: the proposer env validates and scores learnability."""
        vec = self.proposers[mode]
        prompts, _ = vec.reset(seed=self._env_seed(MODES.index(mode)), options={"step": self.step})
        samples = self.policy.generate(list(prompts), self._next_seed())
        _, rewards, _, _, infos = vec.step([s.text for s in samples])
        final = infos["final_info"]
        valid = final["valid"].astype(bool)
        rates = [r for r in final["solve_rate"] if r is not None]
        stats = {
            "reward": float(rewards.mean()),
            "valid_rate": float(valid.mean()),
            "format_error_rate": float(1.0 - final["format_ok"].astype(bool).mean()),
            "learnability": float(np.mean([r for r in final["learnability"] if r is not None] or [0.0])),
            "solve_rate_estimate": float(np.mean(rates)) if rates else 0.0,
            "response_length": float(np.mean([len(s.response_ids) for s in samples])),
        }
        self._new_tasks[mode] = [
            t for t, ok in zip(final["task"], valid, strict=True) if ok and t is not None
        ]
        return Rollout(mode, "propose", samples, rewards.tolist(), stats)

    def solve(self, mode: str) -> Rollout:
        """SOLVE: newest valid tasks first, the rest drawn from the buffer."""
        vec = self.solvers[mode]
        drawn, _ = vec.reset(seed=self._env_seed(10 + MODES.index(mode)))
        prompts = list(drawn)
        for i, task in enumerate(self._new_tasks.get(mode, [])[: len(prompts)]):
            prompts[i] = vec.unwrapped.envs[i].reset(options={"task_id": task.id})[0]
        samples = self.policy.generate(prompts, self._next_seed())
        _, rewards, _, _, infos = vec.step([s.text for s in samples])
        final = infos["final_info"]
        stats = {
            "reward": float(rewards.mean()),
            "solve_rate": float(final["correct"].astype(bool).mean()),
            "format_error_rate": float(1.0 - final["format_ok"].astype(bool).mean()),
            "response_length": float(np.mean([len(s.response_ids) for s in samples])),
        }
        return Rollout(mode, "solve", samples, rewards.tolist(), stats)

    def update(self, rollouts: list[Rollout]) -> dict[str, float]:
        """UPDATE: TRR++ over the six groups, one optimizer step."""
        samples = [s for r in rollouts for s in r.samples]
        rewards = torch.tensor([x for r in rollouts for x in r.rewards], dtype=torch.float32)
        groups = torch.tensor([group_index(r.mode, r.role) for r in rollouts for _ in r.samples])
        width = max(len(s.response_ids) for s in samples)
        mask = torch.zeros(len(samples), width)
        for i, s in enumerate(samples):
            mask[i, : len(s.response_ids)] = 1.0
        advantages = trrpp_advantages(rewards, mask, groups)
        n_tokens = float(mask.sum())
        self.policy.train_mode()
        self.optimizer.zero_grad(set_to_none=True)
        totals = {"loss": 0.0, "pg_loss": 0.0, "entropy": 0.0, "kl": 0.0}
        size = self.cfg.update_micro_batch
        order = sorted(
            range(len(samples)), key=lambda i: len(samples[i].prompt_ids) + len(samples[i].response_ids)
        )
        for start in range(0, len(samples), size):  # similar lengths together: little padding
            rows = order[start : start + size]
            batch = [samples[i] for i in rows]
            logprobs, entropy, row_mask = self.policy.response_logprobs(batch)
            m = row_mask.shape[1]
            right = torch.zeros_like(row_mask)  # advantages right-aligned, like the logits
            for j, i in enumerate(rows):
                n = len(samples[i].response_ids)
                right[j, m - n :] = advantages[i, :n].to(right.device)
            ref = None
            if self.reference is not None:
                with torch.no_grad():
                    ref = self.policy.response_logprobs(batch, self.reference)[0]
            loss, stats = trrpp_loss(
                logprobs,
                right,
                row_mask,
                entropy,
                entropy_coef=self.cfg.entropy_coef,
                ref_logprobs=ref,
                kl_coef=self.cfg.kl_coef,
            )
            share = float(row_mask.sum()) / n_tokens  # token-mean over the whole batch
            (loss * share).backward()
            for key in totals:
                totals[key] += getattr(stats, key) * share
        params = [p for p in self.policy.model.parameters() if p.requires_grad]
        grad_norm = torch.nn.utils.clip_grad_norm_(params, self.cfg.clip_grad)
        self.optimizer.step()
        if self.policy.vllm is not None:
            self.policy.vllm.sync(self.policy.model)  # generation must use the new weights
        totals["grad_norm"] = float(grad_norm)
        # Groups whose rewards differ: the only ones TRR++'s whitened advantages can learn from.
        totals["groups_with_signal"] = float(sum(len(set(r.rewards)) > 1 for r in rollouts))
        return totals

    # ------------------------------------------------------------------ the loop
    def seed_buffers(self) -> None:
        """SEEDING (before step 1): grow the buffers from the identity program, as AZR does.

        Each round, every mode's proposer writes B proposals; valid ones join the buffers.
        No solver is asked and nothing is trained.
        """
        for round_ in range(self.cfg.seed_rounds):
            for mode in MODES:
                vec = gym.make_vec(
                    f"AZR-Propose-{TITLE[mode]}-v0",
                    num_envs=self.cfg.batch_size,
                    vectorization_mode="vector_entry_point",
                    executor=self.executor,
                    buffer=self.buffers[mode],
                    solver=None,
                    k_references=self.cfg.k_references,
                    n_inputs=self.cfg.n_inputs,
                    format_rule=self.cfg.format_rule,
                    prompt_format=self.prompt_format,
                )
                prompts, _ = vec.reset(seed=self.cfg.seed * 7_919 + round_ * 31 + MODES.index(mode))
                self._calls = round_ * 3 + MODES.index(mode)
                vec.step([s.text for s in self.policy.generate(list(prompts), self._next_seed())])
                vec.close()

    def run(self) -> list[dict[str, Any]]:
        if self.step == 0 and self.cfg.seed_rounds:
            self.seed_buffers()
        progress = PhaseProgress(self.cfg.steps, self.step)
        try:
            return self._loop(progress)
        finally:
            progress.stop()

    def _loop(self, progress: PhaseProgress) -> list[dict[str, Any]]:
        history = []
        while self.step < self.cfg.steps:
            started = time.perf_counter()
            times: dict[str, float] = {}
            rollouts: list[Rollout] = []
            self._new_tasks = {}
            self._calls = 0  # sampling seeds restart each step: a resumed run draws the same ones
            t0 = time.perf_counter()
            for mode in MODES:  # 1-2. propose, validate, estimate learnability
                rollouts.append(self.propose(mode))
                progress.advance(self.step + 1, f"proposed {mode}")
            times["propose"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            for mode in MODES:  # 3. solve
                rollouts.append(self.solve(mode))
                progress.advance(self.step + 1, f"solved {mode}")
            times["solve"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            train_stats = self.update(rollouts)  # 4. TRR++
            times["update"] = time.perf_counter() - t0
            self.step += 1
            if self.cfg.eval_every and self.step % self.cfg.eval_every == 0:
                t0 = time.perf_counter()
                train_stats.update(self.evaluate())
                times["eval"] = time.perf_counter() - t0
            record = self._log(rollouts, train_stats, times, time.perf_counter() - started)
            history.append(record)
            solve = np.mean([record[f"solve/{m}/reward"] for m in MODES])
            propose = np.mean([record[f"propose/{m}/reward"] for m in MODES])
            progress.advance(self.step, f"updated: propose {propose:+.2f}, solve {solve:+.2f}, "
                             f"pg_loss {record['train/pg_loss']:+.4f}")
            if self.step % self.cfg.checkpoint_every == 0 or self.step == self.cfg.steps:
                checkpoint.save(
                    self.out,
                    self.step,
                    self.policy.model,
                    self.optimizer,
                    self.buffers,
                    self.cfg.model_dump(),
                    keep=self.cfg.keep_checkpoints,
                )
        return history

    def evaluate(self) -> dict[str, float]:
        """Periodic evaluation on frozen task sets, through the benchmark harness."""
        from azr_env.bench import harness as bench
        from azr_env.tasks.seeds import seed_tasks
        from azr_env.tasks.taskset import TaskSet

        def solve(prompts: list[str]) -> list[str]:
            return [s.text for s in self.policy.generate(prompts, self._next_seed())]

        found: dict[str, float] = {}
        for spec in self.cfg.eval_tasksets:
            full = seed_tasks(spec.split(":", 1)[1]) if spec.startswith("seed:") else TaskSet.load(spec)
            tasks = TaskSet(list(full)[: self.cfg.eval_limit], full.name, full.version)
            where = self.out / "eval" / f"step-{self.step:06d}" / tasks.name
            results = bench.run_bench(
                tasks,
                solve,
                where,
                executor=self.executor,
                progress=False,
                solver_name="policy",
                prompt_format=self.prompt_format,
                format_rule=self.cfg.format_rule,
                seed=self.cfg.seed + self.step,
            )
            for mode, metrics in results["modes"].items():
                found[f"eval/{tasks.name}/{mode}/accuracy"] = metrics["accuracy"]
        return found

    def _log(
        self, rollouts: list[Rollout], train_stats: dict[str, float], times: dict[str, float], seconds: float
    ) -> dict[str, Any]:
        record: dict[str, Any] = {"step": self.step, "seconds": seconds}
        for r in rollouts:
            for key, value in r.stats.items():
                record[f"{r.role}/{r.mode}/{key}"] = value
        record.update({(k if k.startswith("eval/") else f"train/{k}"): v for k, v in train_stats.items()})
        record.update({f"time/{k}": v for k, v in times.items()})
        record.update({f"buffer/{m}": len(self.buffers[m]) for m in MODES})
        if self.writer is not None:
            for key, value in record.items():
                if key != "step":
                    self.writer.add_scalar(key, value, self.step)
            self.writer.flush()
        if self.wandb is not None:
            self.wandb.log(record, step=self.step)
        with self.metrics_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
        return record

    def close(self) -> None:
        self._lock.close()  # releases the run folder
        for vec in (*self.proposers.values(), *self.solvers.values()):
            vec.close()
        if self.writer is not None:
            self.writer.close()
        if self.wandb is not None:
            self.wandb.finish()
        self.executor.close()


def train(cfg: TrainConfig, resume: str | None = None) -> list[dict[str, Any]]:
    """Run ``cfg`` (continuing from ``resume``, an output folder); returns the per-step records."""
    trainer = Trainer(cfg, resume)
    try:
        return trainer.run()
    finally:
        trainer.close()
        if trainer.metrics_path.exists():
            try:
                plot_rewards(trainer.metrics_path, trainer.out / "rewards.png")
            except ImportError:
                pass


__all__ = ["GROUPS", "Rollout", "Trainer", "plot_rewards", "preflight", "run_summary_table", "summary_lines",
           "train"]
