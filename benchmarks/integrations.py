"""Cost per completion of each way to score: the env API, the TRL reward function, veRL's
batched compute_score, and ``azr serve`` over loopback HTTP, in one run on one executor.

The baseline is the env API as a TRL user without our integration would call it: one
``env.step`` per completion.  The workload is the bundled seed tasks of one mode, every
completion the gold answer (a made-up wrong input can send a seed program into a long loop,
and then the benchmark measures timeouts).

    python benchmarks/integrations.py [--mode abduction] [--n 256] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time
import urllib.request

import gymnasium as gym

import azr_env  # noqa: F401
from azr_env.executor import Executor
from azr_env.export import task_records, verl_records
from azr_env.integrations import verl
from azr_env.integrations.trl import reward_function
from azr_env.tasks.seeds import seed_tasks
from azr_env.tasks.task import gold_answer

ENV_ID = {"deduction": "AZR-Deduction-v0", "abduction": "AZR-Abduction-v0", "induction": "AZR-Induction-v0"}


def completion(task) -> str:  # type: ignore[no-untyped-def]
    return f"<think>traced</think><answer>{gold_answer(task)}</answer>"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", default="abduction", choices=list(ENV_ID), help="Task mode.")
    parser.add_argument("--n", type=int, default=256, help="Completions per measurement.")
    parser.add_argument("--repeat", type=int, default=3, help="Best of R.")
    args = parser.parse_args()

    taskset = seed_tasks(args.mode)
    tasks = [taskset[i % len(taskset)] for i in range(args.n)]
    texts = [completion(t) for t in tasks]
    records = {t.id: r for t, r in zip(taskset, task_records(taskset), strict=True)}
    truths = {r["extra_info"]["task_id"]: r["reward_model"]["ground_truth"] for r in verl_records(taskset)}

    with Executor() as ex:
        env = gym.make(ENV_ID[args.mode], tasks=taskset, executor=ex)
        trl_reward = reward_function(executor=ex)

        def env_api() -> list[float]:
            out = []
            for task, text in zip(tasks, texts, strict=True):
                env.reset(options={"task_id": task.id})
                out.append(env.step(text)[1])
            return out

        def trl() -> list[float]:
            return trl_reward([""] * len(tasks), texts, task=[records[t.id]["task"] for t in tasks])

        def verl_batch() -> list[float]:
            return verl.compute_score_batch(["azr"] * len(tasks), texts, [truths[t.id] for t in tasks])

        url = start_server(ex)
        rows = [json.loads(t.model_dump_json()) for t in tasks]
        body = json.dumps({"tasks": rows, "completions": texts}).encode()

        def http() -> list[float]:
            request = urllib.request.Request(url + "/v1/score", data=body,
                                             headers={"content-type": "application/json"})
            return json.loads(urllib.request.urlopen(request, timeout=600).read())["rewards"]

        ways = {"env.step per completion": env_api, "TRL reward_function": trl,
                "veRL compute_score_batch": verl_batch, "azr serve (HTTP)": http}
        best: dict[str, float] = {}
        for name, way in ways.items():
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                rewards = way()
                times.append(time.perf_counter() - start)
                assert rewards == [1.0] * len(tasks), f"{name}: not every gold answer was paid 1.0"
            best[name] = min(times)

    base = best["env.step per completion"]
    print(f"mode={args.mode}, {args.n} completions (gold answers), best of {args.repeat}, isolation on")
    for name, seconds in best.items():
        print(f"  {name:28s} {seconds / args.n * 1000:7.2f} ms per completion   "
              f"{base / seconds:5.2f}x the env API")


def start_server(ex: Executor) -> str:
    import uvicorn

    from azr_env.integrations.server import create_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = uvicorn.Server(uvicorn.Config(create_app(ex), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(url + "/health", timeout=5)
            return url
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("azr serve did not start")


if __name__ == "__main__":
    main()
