"""Env-steps per second: single env, the batched vector env (N = 64) and Gymnasium's sync wrapper.

All three run in one process on the same executor, on the bundled seed tasks (offline),
with the gold answer as every action (a made-up wrong input can send a seed program into
a long loop, and then the benchmark measures timeouts).
Target: the vector env at least 5x the single env (it verifies N answers in one batch).

    python benchmarks/envs.py [--mode abduction] [--steps 2000] [--num-envs 64]
"""

from __future__ import annotations

import argparse
import json
import time

import gymnasium as gym

import azr_env  # noqa: F401
from azr_env.executor import Executor
from azr_env.tasks.task import gold_answer

TAG = {"deduction": "output", "abduction": "input", "induction": "python"}
ENV_ID = {"deduction": "AZR-Deduction-v0", "abduction": "AZR-Abduction-v0", "induction": "AZR-Induction-v0"}


def action_for(task) -> str:
    return f"traced</think><answer>```{TAG[task.mode]}\n{gold_answer(task)}\n```</answer>"


def run_single(mode: str, steps: int, executor: Executor) -> float:
    env = gym.make(ENV_ID[mode], executor=executor)
    env.reset(seed=0)
    start = time.perf_counter()
    for _ in range(steps):
        env.step(action_for(env.unwrapped.task))
        env.reset()
    return steps / (time.perf_counter() - start)


def run_vector(mode: str, steps: int, num_envs: int, executor: Executor, how: str) -> float:
    vec = gym.make_vec(ENV_ID[mode], num_envs=num_envs, vectorization_mode=how, executor=executor)
    _, infos = vec.reset(seed=0)
    subs = vec.unwrapped.envs
    iterations = max(1, steps // num_envs)
    start = time.perf_counter()
    for _ in range(iterations):
        vec.step([action_for((e.unwrapped if hasattr(e, "unwrapped") else e).task) for e in subs])
    rate = iterations * num_envs / (time.perf_counter() - start)
    vec.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=list(ENV_ID), default="abduction", help="which solver env")
    parser.add_argument("--steps", type=int, default=2000, help="env-steps per measurement")
    parser.add_argument("--num-envs", type=int, default=64, help="sub-envs in the vector envs")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--json", type=str, default=None, help="also write the numbers here")
    args = parser.parse_args()

    with Executor() as executor:
        print(f"executor: {executor.workers} workers; isolation: {executor.isolation}")
        # Phase 1: warm-up (worker caches, imports).
        run_vector(args.mode, args.num_envs * 4, args.num_envs, executor, "vector_entry_point")
        # Phase 2: measure, best of --repeat.
        single = max(run_single(args.mode, args.steps, executor) for _ in range(args.repeat))
        vector = max(run_vector(args.mode, args.steps, args.num_envs, executor, "vector_entry_point")
                     for _ in range(args.repeat))
        sync = max(run_vector(args.mode, args.steps, args.num_envs, executor, "sync")
                   for _ in range(args.repeat))
    ratio = vector / single
    print(f"mode={args.mode} steps={args.steps} num_envs={args.num_envs}")
    print(f"  single env            {single:10,.0f} steps/s   1.00x")
    print(f"  vector env (N={args.num_envs:<3})    {vector:10,.0f} steps/s  {ratio:5.2f}x  "
          f"(target >= 5x: {'PASS' if ratio >= 5 else 'FAIL'})")
    print(f"  SyncVectorEnv (N={args.num_envs:<3}) {sync:10,.0f} steps/s  {sync / single:5.2f}x")
    if args.json:
        with open(args.json, "w") as fh:
            numbers = {"mode": args.mode, "single": single, "vector": vector, "sync": sync, "ratio": ratio}
            json.dump(numbers, fh)


if __name__ == "__main__":
    main()
