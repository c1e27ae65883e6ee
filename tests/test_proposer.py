"""Proposer envs, task buffers and the learnability reward."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import gymnasium as gym
import numpy as np
import pytest

import azr_env  # noqa: F401
from azr_env.envs.prompts import solver_prompt
from azr_env.executor import Executor
from azr_env.scoring.learnability import learnability
from azr_env.tasks.buffer import IDENTITY_MESSAGE, IDENTITY_PROGRAM, TaskBuffer
from azr_env.tasks.task import Task
from azr_env.tasks.taskset import TaskSet

PROGRAM = "def f(x):\n    return x[::-1]"
PROPOSAL = f"I plan it.</think><answer>```python\n{PROGRAM}\n```\n```input\n'abc'\n```</answer>"
RIGHT = "ok</think><answer>```output\n'cba'\n```</answer>"
WRONG = "ok</think><answer>```output\n'abc'\n```</answer>"


def proposal(program: str, args: str) -> str:
    return f"plan</think><answer>```python\n{program}\n```\n```input\n{args}\n```</answer>"


class CountingSolver:
    """A scripted solver: answers from a fixed pattern, and counts its calls."""

    def __init__(self, pattern: list[str]) -> None:
        self.pattern = pattern
        self.calls: list[int] = []

    def __call__(self, prompts: list[str]) -> list[str]:
        self.calls.append(len(prompts))
        return [self.pattern[i % len(self.pattern)] for i in range(len(prompts))]


@pytest.fixture(scope="module")
def quick():
    """A small executor with a short timeout, for proposals that loop."""
    with Executor(workers=2, timeout_s=1.0, memory_mb=512) as ex:
        yield ex


# ----------------------------------------------------------------------------- learnability
def test_learnability_rule() -> None:
    assert learnability(1.0) == 0.0 and learnability(0.0) == 0.0 and learnability(0.5) == 0.5
    assert learnability(0.25) == 0.75 and learnability(1.0, extreme_reward=-0.5) == -0.5
    with pytest.raises(ValueError):
        learnability(1.5)


@pytest.mark.parametrize(
    ("pattern", "extreme", "rate", "reward"),
    [([RIGHT], 0.0, 1.0, 0.0), ([WRONG], 0.0, 0.0, 0.0), ([RIGHT, WRONG], 0.0, 0.5, 0.5),
     ([RIGHT], -0.5, 1.0, -0.5), ([WRONG], -0.5, 0.0, -0.5), (["no tags"], 0.0, 0.0, 0.0),
     ([RIGHT, RIGHT, RIGHT, WRONG], 0.0, 0.75, 0.25)],
)
def test_learnability_reward_from_a_scripted_solver(pattern, extreme, rate, reward, quick) -> None:
    solver = CountingSolver(pattern)
    env = gym.make("AZR-Propose-Deduction-v0", solver=solver, executor=quick, extreme_reward=extreme)
    env.reset(seed=0)
    _, got, terminated, _, info = env.step(PROPOSAL)
    assert info["valid"] and info["solve_rate"] == rate and got == reward and terminated
    assert solver.calls == [8] and len(info["accuracies"]) == 8


def test_solver_sees_the_prompt_the_solver_env_would_show(quick) -> None:
    seen: list[str] = []
    env = gym.make("AZR-Propose-Abduction-v0", solver=lambda p: seen.extend(p) or ["x"] * len(p),
                   executor=quick, n_samples=3)
    env.reset(seed=0)
    info = env.step(PROPOSAL)[4]
    task = info["task"]
    assert seen == [solver_prompt(task)] * 3
    solver_env = gym.make("AZR-Abduction-v0", tasks=[task], executor=quick)
    assert solver_env.reset()[0] == seen[0]


def test_without_a_solver_valid_is_zero_and_the_prompt_is_in_info(quick) -> None:
    env = gym.make("AZR-Propose-Deduction-v0", executor=quick)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(PROPOSAL)
    assert reward == 0.0 and info["valid"] and info["solve_rate"] is None
    assert info["solver_prompt"] == solver_prompt(info["task"])
    assert "```input\n'abc'\n```" in info["solver_prompt"]


# ----------------------------------------------------------------------------- invalid proposals
@pytest.mark.parametrize(
    ("action", "reason"),
    [
        (proposal("import random\ndef f(x):\n    return random.random()", "1"), "banned import 'random'"),
        (proposal("def f(x):\n    return [x, id([]) % 7, hash('abcdefghij') % 97]", "1"), "nondeterministic"),
        (proposal("def f(x, acc=[]):\n    acc.append(x)\n    return len(acc)", "1"), "nondeterministic"),
        (proposal("import socket\ndef f(x):\n    return 1", "1"), "rejected"),
        (proposal("import os\ndef f(x):\n    return 1", "1"), "banned import 'os'"),
        (proposal("def f(x):\n    return [x,", "1"), "does not parse"),
        (proposal("def f(x):\n    while True:\n        x += 1", "1"), "timeout"),
        (proposal("def f(x):\n    return x", "1, 2"), "error"),
        (proposal("class A:\n    pass\ndef f(x):\n    return A()", "1"), "unsupported_value"),
        ("plan</think><answer>```python\ndef f(x):\n    return x\n```</answer>", "no ```input block"),
        ("<answer>```python\ndef f(x):\n    return x\n```\n```input\n1\n```</answer>", "completion is not"),
        ("plan</think><answer>```input\n1\n```</answer>", "no ```python block"),
        (proposal("X = 3", "1"), "defines no function"),
        (None, "must be a str"),
    ],
)
def test_invalid_proposals_get_minus_one_and_a_reason(action, reason, quick) -> None:
    env = gym.make("AZR-Propose-Deduction-v0", solver=CountingSolver([RIGHT]), executor=quick)
    env.reset(seed=0)
    before = len(env.unwrapped.buffer)
    _, reward, terminated, _, info = env.step(action)
    assert reward == -1.0 and terminated and not info["valid"]
    assert reason in info["reason"], info["reason"]
    assert len(env.unwrapped.buffer) == before


def test_first_function_is_renamed_f_as_azr_does(quick) -> None:
    env = gym.make("AZR-Propose-Deduction-v0", executor=quick)
    env.reset(seed=0)
    info = env.step(proposal("def helper(n):\n    return n + 1 if n < 3 else helper(n - 3)", "7"))[4]
    assert info["valid"] and info["task"].output == "2"
    assert "def f(n)" in info["task"].program and "f(n - 3)" in info["task"].program


def test_induction_proposals(quick) -> None:
    env = gym.make("AZR-Propose-Induction-v0", executor=quick, n_inputs=6)
    env.reset(seed=0)
    assert env.unwrapped.references[0].program == IDENTITY_PROGRAM
    blocks = "".join(f"```input\n{x}\n```\n" for x in ("9", "1", "'a'", "[2]", "None", "(1, 2)", "{'k': 3}"))
    info = env.step(f"plan</think><answer>{blocks}```message\nGive it back unchanged.\n```</answer>")[4]
    task = info["task"]
    assert info["valid"] and len(task.visible) == 3 and len(task.hidden) == 3  # the last 6 inputs kept
    assert [p.args for p in task.visible] == ["1", "'a'", "[2]"] and task.hidden[2].output == "{'k': 3}"
    cases = [("".join(f"```input\n{x}\n```\n" for x in "12345"), "```message\nm\n```", "5 ```input blocks"),
             (blocks, "", "no ```message"),
             (blocks, "```message\ndef f(a):\n    return a\n```", "reveals the code"),
             (blocks.replace("'a'", "'a', 2"), "```message\nm\n```", "failed validation")]
    for inputs, message, reason in cases:
        env.reset(seed=0)
        _, reward, _, _, info = env.step(f"plan</think><answer>{inputs}{message}</answer>")
        assert reward == -1.0 and reason in info["reason"], info["reason"]


# ----------------------------------------------------------------------------- buffer and envs together
def test_valid_proposals_join_the_buffer_and_solver_envs_see_them_live(quick) -> None:
    buffer = TaskBuffer("deduction")
    proposer = gym.make("AZR-Propose-Deduction-v0", buffer=buffer, executor=quick)
    solver_env = gym.make("AZR-Deduction-v0", tasks=buffer)
    assert proposer.unwrapped.buffer is buffer and len(buffer) == 1
    proposer.reset(seed=0)
    info = proposer.step(PROPOSAL)[4]
    assert info["added"] and len(buffer) == 2
    _, info2 = solver_env.reset(options={"task_id": info["task"].id})
    assert info2["task_id"] == info["task"].id
    proposer.reset(seed=0)  # the same task again, with a comment: a duplicate
    info = proposer.step(proposal(PROGRAM + "  # again", "'abc'"))[4]
    assert info["valid"] and not info["added"] and len(buffer) == 2


def test_add_to_buffer_learnable_keeps_only_learnable_tasks(quick) -> None:
    always = gym.make("AZR-Propose-Deduction-v0", solver=CountingSolver([RIGHT]), executor=quick,
                      add_to_buffer="learnable")
    always.reset(seed=0)
    assert not always.step(PROPOSAL)[4]["added"] and len(always.unwrapped.buffer) == 1
    half = gym.make("AZR-Propose-Deduction-v0", solver=CountingSolver([RIGHT, WRONG]), executor=quick,
                    add_to_buffer="learnable")
    half.reset(seed=0)
    assert half.step(PROPOSAL)[4]["added"] and len(half.unwrapped.buffer) == 2


def test_same_seed_same_references(quick) -> None:
    buffer = TaskBuffer("abduction")
    for i in range(30):
        buffer.add(Task.create("abduction", f"def f(x):\n    return x + {i}", "1", str(1 + i)))
    env = gym.make("AZR-Propose-Abduction-v0", buffer=buffer, executor=quick, k_references=6)
    first = [env.reset(seed=s)[1]["reference_ids"] for s in range(5)]
    again = [env.reset(seed=s)[1]["reference_ids"] for s in range(5)]
    assert first == again and all(len(set(ids)) == 6 for ids in first) and len({tuple(i) for i in first}) > 1


def test_intrinsic_terms_are_added_when_configured(quick) -> None:
    config = {"complexity_cyclomatic_coef": 1.0, "complexity_cyclomatic_cap": 1.0,
              "complexity_cyclomatic_scale": 4.0}
    env = gym.make("AZR-Propose-Deduction-v0", solver=CountingSolver([RIGHT, WRONG]), executor=quick,
                   intrinsic=config)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(proposal("def f(x):\n    if x:\n        return 1\n    return 2", "0"))
    assert info["intrinsic"]["complexity_cyclomatic"] == pytest.approx(0.5)  # complexity 2, scale 4
    assert reward == pytest.approx(info["learnability"] + 0.5)


def test_vector_proposer_batches_validation_and_solver_calls(quick) -> None:
    solver = CountingSolver([RIGHT, WRONG])
    vec = gym.make_vec("AZR-Propose-Deduction-v0", num_envs=4, vectorization_mode="vector_entry_point",
                       solver=solver, executor=quick, n_samples=4)
    vec.reset(seed=0)
    banned = proposal("import os\ndef f():\n    return 1", "")
    actions = [PROPOSAL, proposal(PROGRAM, "'xyz'"), "garbage", banned]
    _, rewards, terminated, _, infos = vec.step(actions)
    assert solver.calls == [8]  # two valid proposals x 4 samples, in one call
    assert rewards.tolist() == [0.5, 0.0, -1.0, -1.0] and terminated.all()
    assert infos["final_info"]["valid"].tolist() == [True, True, False, False]
    assert len(vec.unwrapped.buffer) == 3
    assert all(e.buffer is vec.unwrapped.buffer for e in vec.unwrapped.envs)


def test_solver_that_returns_the_wrong_number_of_answers_is_a_clear_error(quick) -> None:
    env = gym.make("AZR-Propose-Deduction-v0", solver=lambda p: ["x"], executor=quick)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="one answer per prompt"):
        env.step(PROPOSAL)


# ----------------------------------------------------------------------------- buffers
def test_buffers_start_from_the_identity_program() -> None:
    for mode in ("deduction", "abduction"):
        (task,) = TaskBuffer(mode)
        assert (task.program, task.args, task.output) == (IDENTITY_PROGRAM, "'Hello world'", "'Hello world'")
    (task,) = TaskBuffer("induction")
    assert task.program == IDENTITY_PROGRAM and task.message == IDENTITY_MESSAGE
    assert all(p.args == p.output for p in task.pairs) and len(task.pairs) >= 6
    assert len(TaskBuffer("deduction", seed_identity=False)) == 0


def test_buffer_dedup_cap_and_sampling() -> None:
    buffer = TaskBuffer("deduction", max_size=5, seed_identity=False)
    tasks = [Task.create("deduction", f"def f(x):\n    return x * {i}", "2", str(2 * i)) for i in range(8)]
    assert buffer.add(tasks[0]) and not buffer.add(
        Task.create("deduction", "def f(x):  # same\n    return (x * 0)", "2", "0"))
    buffer.extend(tasks[1:])
    assert len(buffer) == 5 and buffer.evicted == 3
    assert [t.output for t in buffer] == ["6", "8", "10", "12", "14"]  # the oldest went first
    assert [t.id for t in buffer.newest(2)] == [tasks[6].id, tasks[7].id]
    with pytest.raises(ValueError):
        buffer.add(Task.create("abduction", "def f():\n    return 1", "", "1"))
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    assert [t.id for t in buffer.sample(3, rng_a)] == [t.id for t in buffer.sample(3, rng_b)]
    counts = {t.id: 0 for t in buffer}
    rng = np.random.default_rng(0)
    for _ in range(2000):
        counts[buffer.sample(1, rng, "recent")[0].id] += 1
    ordered = [counts[t.id] for t in buffer]
    assert ordered[-1] > 3 * ordered[0]  # weights 1..5: the newest drawn about 5x the oldest


def test_buffer_is_safe_to_share_between_threads() -> None:
    buffer = TaskBuffer("deduction", max_size=10_000, seed_identity=False)
    tasks = [Task.create("deduction", f"def f(x):\n    return x - {i}", "0", str(-i)) for i in range(400)]

    def add_all() -> None:
        for task in tasks:
            buffer.add(task)

    threads = [threading.Thread(target=add_all) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(buffer) == 400 and len({t.id for t in buffer}) == 400


def test_buffer_save_load_round_trip(tmp_path) -> None:
    buffer = TaskBuffer("induction", max_size=50)
    path = tmp_path / "buffer.jsonl"
    buffer.save(path)
    loaded = TaskBuffer.load(path)
    assert [t.id for t in loaded] == [t.id for t in buffer] and loaded.max_size == 50
    assert loaded.mode == "induction" and loaded[0] == buffer[0]
    assert TaskSet.load(path).extra["buffer"]["max_size"] == 50
    path.write_text(path.read_text().replace("whatever", "whichever"))
    with pytest.raises(ValueError, match="sha256"):
        TaskBuffer.load(path)


_SAVER = """
import sys
from azr_env.buffers import TaskBuffer
from azr_env.tasks import Task
buffer = TaskBuffer("deduction", seed_identity=False)
for i in range(3000):
    program = "def f(x):\\n    return x + %d  # " % i + "pad" * 200
    buffer.add(Task.create("deduction", program, "1", str(i + 1)))
print("ready", flush=True)
while True:
    buffer.save(sys.argv[1])
"""


def test_a_crash_mid_save_never_leaves_a_half_written_file(tmp_path) -> None:
    path = tmp_path / "buffer.jsonl"
    TaskBuffer("deduction").save(path)  # an earlier, good file
    for delay in (0.05, 0.2, 0.4):
        proc = subprocess.Popen([sys.executable, "-c", _SAVER, str(path)], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        loaded = TaskBuffer.load(path)  # the old or a new complete file, never a torn one
        assert len(loaded) in (1, 3000)


def test_buffers_and_proposer_envs_pickle_as_snapshots() -> None:
    import pickle

    buffer = TaskBuffer("deduction")
    env = gym.make("AZR-Propose-Deduction-v0", buffer=buffer)
    env.reset(seed=0)
    env.step("not a proposal")
    copy = pickle.loads(pickle.dumps(env))
    assert [t.id for t in copy.unwrapped.buffer] == [t.id for t in buffer]
    assert copy.reset(seed=0)[0] == env.reset(seed=0)[0]
    copy.unwrapped.buffer.add(Task.create("deduction", "def f(x):\n    return x + 1", "1", "2"))
    assert len(copy.unwrapped.buffer) == 2 and len(buffer) == 1  # a copy, not a view
