"""The executor under faults and load: every one of these failed on the warm-worker design.

Each test names the failure it guards against.  The pool used to run many jobs one after
another in the same worker process; now every program gets a fresh process forked from a
zygote, so whatever one job leaves behind dies with it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import gymnasium as gym
import pytest

import azr_env  # noqa: F401  (registers the envs)
from azr_env.executor import Executor, Job, Program, Status
from azr_env.tasks.task import IOPair, Task

REPO = Path(__file__).resolve().parents[1]
SLACK_S = 1.5


def sandbox_pids() -> list[int]:
    """Host pids of this process's sandbox interpreters (zygotes and their children)."""
    mine = {os.getpid()}
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            table[int(entry)] = (int(stat[stat.rindex(")") + 2 :].split()[1]), cmdline)
    found: list[int] = []
    frontier = set(mine)
    while frontier:
        frontier = {pid for pid, (ppid, _) in table.items() if ppid in frontier}
        found += [pid for pid in frontier if b"azr_env/executor/_" in table[pid][1]
                  or b"/azr/worker/_" in table[pid][1]]
    return found


# ---------------------------------------------------------------------------------------
# Memory: what one job stores is gone before the next
# ---------------------------------------------------------------------------------------
STASH_600MB = textwrap.dedent("""
    import re
    class Key(str):
        pass
    def f():
        key = Key('stash')
        key.payload = bytearray(600 * 2**20)
        re.compile(key)  # re's compile cache keeps the key, and so the payload
        return 1
""")


def test_memory_stored_by_one_job_does_not_starve_the_next() -> None:
    with Executor(workers=1, timeout_s=5.0, memory_mb=1024) as ex:
        probe = Job("def f():\n    return len(bytearray(600 * 2**20))", "")
        stash, probe = ex.run_batch([Job(STASH_600MB, ""), probe])
        assert stash.ok, stash.error
        assert (probe.status, probe.value) == (Status.OK, 600 * 2**20), probe.error


# ---------------------------------------------------------------------------------------
# Threads: a sandbox started from a thread outlives the thread
# ---------------------------------------------------------------------------------------
def test_a_thread_that_made_the_executor_ending_mid_batch_costs_no_job() -> None:
    made: list[Executor] = []
    ready, finish = threading.Event(), threading.Event()

    def owner() -> None:
        made.append(Executor(workers=2, timeout_s=5.0))
        ready.set()
        finish.wait(30)

    thread = threading.Thread(target=owner)
    thread.start()
    assert ready.wait(60)
    ex = made[0]
    try:
        results: list = []
        jobs = [Job("import time\ndef f(x):\n    time.sleep(0.4)\n    return x", str(i)) for i in range(6)]
        batch = threading.Thread(target=lambda: results.extend(ex.run_batch(jobs)))
        batch.start()
        time.sleep(0.5)
        finish.set()  # the thread that started the sandbox ends while jobs run in it
        thread.join()
        batch.join(timeout=60)
        assert [(r.status, r.value) for r in results] == [(Status.OK, i) for i in range(6)]
    finally:
        ex.close()


def test_an_executor_made_in_a_thread_that_ends_keeps_working() -> None:
    made: list[Executor] = []
    thread = threading.Thread(target=lambda: made.append(Executor(workers=1, timeout_s=2.0)))
    thread.start()
    thread.join()
    ex = made[0]
    try:
        time.sleep(0.5)  # die-with-parent would have fired by now
        results = ex.run_batch([Job("def f(x):\n    return x * 3", str(i)) for i in range(20)])
        assert [(r.status, r.value) for r in results] == [(Status.OK, 3 * i) for i in range(20)]
        assert ex.validate_batch([Job("def f():\n    return 1", "")])[0].ok  # a zygote started now, too
    finally:
        ex.close()


def test_threads_sharing_an_executor_get_their_own_results(executor: Executor) -> None:
    errors: list[str] = []

    def worker(k: int) -> None:
        for _ in range(3):
            jobs = [Job(f"def f(x):\n    return x * 1000 + {k}", str(i)) for i in range(5)]
            results = executor.run_batch(jobs)
            if [r.value for r in results] != [i * 1000 + k for i in range(5)]:
                errors.append(f"thread {k}: {[r.value for r in results]}")

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []


# ---------------------------------------------------------------------------------------
# fork(): parent and child each get their own sandbox, and their own results
# ---------------------------------------------------------------------------------------
FORK_SCRIPT = textwrap.dedent("""
    import os, sys
    from azr_env.executor import Executor, Job

    def check(ex, marker, n=40):
        jobs = [Job(f"def f(x):\\n    return x * 1000 + {marker}", str(i)) for i in range(n)]
        return [r.value for r in ex.run_batch(jobs)] == [i * 1000 + marker for i in range(n)]

    ex = Executor(workers=2, timeout_s=2.0)
    assert check(ex, 1)
    pid = os.fork()
    if pid == 0:
        ok = check(ex, 2) and check(ex, 3)
        how = sys.argv[1]
        if how == "close":
            ex.close()
        if how == "exit" or how == "close":
            sys.exit(0 if ok else 1)  # a normal exit: atexit handlers run
        os._exit(0 if ok else 1)
    parent_ok = all(check(ex, 4) for _ in range(3))
    _, status = os.waitpid(pid, 0)
    after = check(ex, 5)  # the child's exit must not have taken the parent's sandbox down
    print(parent_ok, os.waitstatus_to_exitcode(status), after, flush=True)
    ex.close()
""")


@pytest.mark.parametrize("how", ["close", "exit", "hard-exit"])
def test_an_executor_used_across_fork_gives_each_process_its_own_results(how: str) -> None:
    done = subprocess.run([sys.executable, "-c", FORK_SCRIPT, how], capture_output=True, text=True,
                          timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["True", "0", "True"], done.stdout + done.stderr[-2000:]


# ---------------------------------------------------------------------------------------
# Deaths: a sandbox process killed at any time costs no innocent job
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("pause_s", [0.0, 0.3])
def test_sandbox_processes_killed_while_idle_cost_no_job(pause_s: float) -> None:
    with Executor(workers=2, timeout_s=2.0) as ex:
        assert ex.run("def f():\n    return 0", "").ok
        time.sleep(0.3)
        victims = sandbox_pids()
        assert victims
        for pid in victims:  # every zygote and every idle child, the jails around them too
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(pause_s)  # none: the next batch races the deaths
        results = ex.run_batch([Job("def f(x):\n    return -x", str(i)) for i in range(10)])
        assert [(r.status, r.value) for r in results] == [(Status.OK, -i) for i in range(10)]


def test_killing_a_busy_child_fails_its_job_only() -> None:
    with Executor(workers=2, timeout_s=5.0) as ex:
        jobs = [Job("import time\ndef f():\n    time.sleep(3)\n    return 'slept'", "")]
        jobs += [Job("def f(x):\n    return x + 1", str(i)) for i in range(6)]
        results: list = []
        runner = threading.Thread(target=lambda: results.extend(ex.run_batch(jobs)))
        runner.start()
        time.sleep(1.0)
        sleepers = [pid for pid in sandbox_pids()
                    if Path(f"/proc/{pid}/wchan").read_text() == "hrtimer_nanosleep"]
        assert len(sleepers) == 1
        for pid in sleepers:
            os.kill(pid, signal.SIGKILL)
        runner.join(timeout=30)
        assert results[0].status in (Status.ERROR, Status.OK)  # killed (or done before the kill)
        if results[0].status is Status.ERROR:
            assert "SIGKILL" in results[0].error
        assert [(r.status, r.value) for r in results[1:]] == [(Status.OK, i + 1) for i in range(6)]


# ---------------------------------------------------------------------------------------
# Settings: nonsense is refused at once, never a hang or a broken executor
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [
    {"recycle_after": 0}, {"timeout_s": float("inf")}, {"timeout_s": float("nan")}, {"timeout_s": 0},
    {"timeout_s": -1}, {"max_output_chars": -1}, {"max_output_items": 0}, {"memory_mb": 10},
    {"workers": 0}, {"workers": 1.5}, {"start_timeout_s": float("inf")}, {"spare_children": 0},
], ids=lambda kw: next(iter(kw.items())).__repr__())
def test_bad_settings_are_refused_clearly(kwargs: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        Executor(**kwargs)


def test_a_bad_budget_is_refused(executor: Executor) -> None:
    with pytest.raises(ValueError, match="budget_s"):
        executor.run_programs([Program("def f():\n    return 1", ("",), budget_s=float("inf"))])


# ---------------------------------------------------------------------------------------
# Steps: one bad answer costs about one timeout, however many inputs it has
# ---------------------------------------------------------------------------------------
def test_a_looping_induction_answer_ends_the_step_within_one_timeout() -> None:
    hidden = [IOPair(args=str(i), output=str(i)) for i in range(10)]
    task = Task.create("induction", "def f(x):\n    return x", visible=hidden[:2], hidden=hidden,
                       message="identity")
    looping = "def f(x):\n    while True:\n        pass"
    slow = "import time\ndef f(x):\n    time.sleep(0.6)\n    return x"
    with Executor(workers=2, timeout_s=1.0) as ex:
        env = gym.make("AZR-Induction-v0", tasks=[task], executor=ex)
        for program in (looping, slow):
            env.reset(seed=0)
            start = time.monotonic()
            _, reward, *_ , info = env.step(f"x</think><answer>```python\n{program}\n```</answer>")
            assert time.monotonic() - start < ex.timeout_s + SLACK_S
            assert reward == -0.5 and info["status"] == "timeout"


def test_a_solution_stops_being_checked_at_its_first_timeout() -> None:
    # evalplus-style scoring: one loop costs one time limit, never one per remaining input.
    program = Program("def f(x):\n    while x == 3:\n        pass\n    return x", tuple(map(str, range(10))),
                      time_limits=(0.5,) * 10)
    with Executor(workers=2, timeout_s=5.0) as ex:
        results = ex.run_programs([program])[0]
    assert [r.status for r in results] == [Status.OK] * 3 + [Status.TIMEOUT] + [Status.NOT_RUN] * 6
    assert "input 3 gave timeout" in results[4].error


def test_an_oversized_proposal_is_a_format_error_and_never_joins_the_buffer() -> None:
    env = gym.make("AZR-Propose-Deduction-v0")
    env.reset(seed=0)
    before = len(env.unwrapped.buffer)
    program = "def f(x):\n    return x\n" + "# padding\n" * 1_000_000
    action = f"x</think><answer>```python\n{program}```\n```input\n1\n```</answer>"
    assert len(action) > 10_000_000
    _, reward, *_, info = env.step(action)
    assert reward == -1.0 and not info["format_ok"] and not info["added"]
    assert len(env.unwrapped.buffer) == before


def test_bench_out_naming_a_file_is_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "results.txt"
    target.write_text("keep me")
    done = subprocess.run([sys.executable, "-m", "azr_env.cli", "bench", "seed:deduction", "--solver",
                           "python:builtins:list", "--out", str(target)], capture_output=True, text=True,
                          timeout=120, cwd=REPO)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "is a file" in done.stderr
    assert target.read_text() == "keep me"
