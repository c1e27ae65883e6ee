"""Adversarial tests: an RL policy searching for reward it has not earned.

Each test states a protection the envs rely on and fails when it is missing.  A reward of
1.0 for a wrong answer, a learnability reward in (0, 1) for a task every sample solves the
same way, or one job seeing or changing another job's data is a breach.

Sections follow the classes of attack:

1. answers that try to run code (abduction inputs, deduction outputs);
2. mixing trust domains (peer samples, later jobs, the zygote);
3. Python-layer bypasses of the source policy and the guards;
4. the parent believes nothing (OS layers only: ``policy=False``);
5. one bad answer must not stall a step;
6. learnability and validation gaming (clock, randomness, state across samples);
7. answers are data.

Executors that a test may poison (lower their limits, leave state in their ``/tmp``) are
private and function-scoped; the module-scoped ones only get jobs that leave nothing behind.
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
import time
import tracemalloc
from collections.abc import Iterator

import gymnasium as gym
import pytest

import azr_env  # noqa: F401  (registers the env ids)
from azr_env.executor import Executor, Job, NotALiteral, Program, Status, parse_args, parse_literal
from azr_env.scoring.verify import Verifier
from azr_env.tasks.task import IOPair, Task

TIMEOUT_S = 1.0
SLACK_S = 1.0  # a step with one bad answer must end within timeout_s + SLACK_S
TAG = {"deduction": "output", "abduction": "input", "induction": "python"}


# ---------------------------------------------------------------------------------------
# Fixtures and helpers
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fast_ex() -> Iterator[Executor]:
    """Policy on, a short timeout; given only jobs that leave nothing behind."""
    with Executor(workers=2, timeout_s=TIMEOUT_S, memory_mb=512) as ex:
        yield ex


@pytest.fixture(scope="module")
def solo() -> Iterator[Executor]:
    """Policy on, one worker: a poisoning job and its probe certainly share a zygote."""
    with Executor(workers=1, timeout_s=TIMEOUT_S, memory_mb=512) as ex:
        yield ex


@pytest.fixture
def fresh_ex() -> Iterator[Executor]:
    """Policy on, private to one test: for attacks that may poison the zygote."""
    with Executor(workers=2, timeout_s=TIMEOUT_S, memory_mb=512) as ex:
        yield ex


def _os_executor(workers: int) -> Executor:
    with pytest.warns(RuntimeWarning, match="DEGRADED"):
        return Executor(workers=workers, timeout_s=TIMEOUT_S, memory_mb=512, policy=False)


@pytest.fixture(scope="module")
def os_ex() -> Iterator[Executor]:
    """The source policy OFF (only the OS layers), for jobs that leave nothing behind."""
    with _os_executor(2) as ex:
        yield ex


@pytest.fixture
def fresh_os_ex() -> Iterator[Executor]:
    """The source policy OFF, one worker, private to one test (it may be poisoned)."""
    with _os_executor(1) as ex:
        yield ex


@pytest.fixture
def fresh_os_ex2() -> Iterator[Executor]:
    """The source policy OFF, two workers (jobs run side by side), private to one test."""
    with _os_executor(2) as ex:
        yield ex


def prog(source: str) -> str:
    return textwrap.dedent(source).strip("\n") + "\n"


def completion(mode: str, text: str) -> str:
    """An R1-format completion whose answer block holds ``text``."""
    return f"I worked it out.</think><answer>```{TAG[mode]}\n{text}\n```</answer>"


def step(env_id: str, task: Task, text: str, ex: Executor | None = None) -> tuple[float, dict, float]:
    """One episode on ``task``: (reward, info, seconds the step took)."""
    env = gym.make(env_id, tasks=[task], executor=ex)
    env.reset()
    start = time.monotonic()
    _, reward, terminated, _, info = env.step(completion(task.mode, text))
    assert terminated
    return reward, info, time.monotonic() - start


def induction_task(program: str, args: list[str], outputs: list[str], n_visible: int = 2) -> Task:
    pairs = [IOPair(args=a, output=o) for a, o in zip(args, outputs, strict=True)]
    return Task.create("induction", program, visible=pairs[:n_visible], hidden=pairs[n_visible:],
                       message="Work out the function.")


# Eight spellings of the same abduction answer, the argument list ``5`` (for ``def f(x)``).
# A solver's samples differ in spelling like this; they are not different solutions.
SPELLINGS_OF_5 = ["5", "(5)", "+5", "5,", "0x5", "0b101", "x=5", "5  # five"]


def gold_solver(prompts: list[str]) -> list[str]:
    """A scripted solver: every sample gives the gold answer 5, in one of its spellings."""
    return [completion("abduction", SPELLINGS_OF_5[i % len(SPELLINGS_OF_5)]) for i in range(len(prompts))]


def proposal(program: str, args: str) -> str:
    return f"plan</think><answer>```python\n{program}\n```\n```input\n{args}\n```</answer>"


# The identity task used to turn a bypass into reward: an answer that escapes returns x,
# one that does not returns -x (or fails), so only a working escape is paid.
IDENTITY_TASK = induction_task("def f(x):\n    return x", ["1", "2", "3", "4"], ["1", "2", "3", "4"])

# A helper that programs under the policy use to reach the worker's real modules.  It
# forges the ownership marker ``__module__`` of typing.ForwardRef with the default
# attributes of functools.update_wrapper (see test_python_layer_bypass_is_refused[...]),
# after which ForwardRef._evaluate (private) is readable and evaluates a string with the
# real builtins.  Sections 2 and 6 use it to show what an escape is worth in reward.
ESCAPE = prog("""
    import functools, typing
    def escape(module):
        ref = type(typing.get_args(typing.List['x'])[0])
        def marker():
            pass
        try:
            functools.update_wrapper(ref, marker)
        except AttributeError:
            pass
        source = "lambda: __import__('" + module + "')"
        return ref(source)._evaluate({}, {}, recursive_guard=frozenset())()
""")


# =======================================================================================
# 1. Answers that try to run code
# =======================================================================================
CHR_TASK = Task.create("abduction", "def f(n):\n    return chr(65 + n % 26)", "3", "'D'")
HASH_TASK = Task.create("abduction", prog("""
    import hashlib
    def f(s):
        return hashlib.sha256(s.encode()).hexdigest()[:8]
"""), "'abc'", repr(__import__("hashlib").sha256(b"abc").hexdigest()[:8]))
TABLE_TASK = Task.create("abduction", "TABLE = {'a': 1}\ndef f(k):\n    return TABLE.get(k, 0) * 7",
                         "'a'", "7")
LOOP_TASK = Task.create("abduction", prog("""
    def f(n):
        while n != 0:
            n -= 1
        return 'done'
"""), "3", "'done'")

CODE_ANSWERS = [
    (CHR_TASK, "(chr := lambda c: 'D') and 0"),
    (CHR_TASK, "next(n for n in range(10**6) if f(n) == 'D')"),
    (CHR_TASK, "[n for n in range(26) if f(n) == 'D'][0]"),
    (CHR_TASK, "f.__globals__.update(chr=lambda c: 'D') or 0"),
    (CHR_TASK, "__import__('builtins').setattr(__import__('builtins'), 'chr', lambda c: 'D') or 0"),
    (CHR_TASK, "(lambda: 3)()"),
    (CHR_TASK, "1 + 2"),
    (CHR_TASK, "int('3')"),
    (CHR_TASK, "*[3]"),
    (CHR_TASK, "**{'n': 3}"),
    (CHR_TASK, "n=(3).real"),
    (CHR_TASK, "3 if True else 0"),
    (HASH_TASK, "setattr(hashlib, 'sha256', lambda b: None) or 'x'"),
    (HASH_TASK, "hashlib.__dict__.clear() or 'abc'"),
    (TABLE_TASK, "TABLE.update(z=1) or 'z'"),
    (TABLE_TASK, "[TABLE.__setitem__('z', 1), 'z'][1]"),
    (TABLE_TASK, "'z' if TABLE.update(z=1) is None else 'a'"),
    (LOOP_TASK, "0) or ('done'"),
    (LOOP_TASK, "0), ('done'"),
]


@pytest.mark.parametrize(("task", "answer"), CODE_ANSWERS, ids=[a for _, a in CODE_ANSWERS])
def test_abduction_answer_that_is_code_is_never_run(fast_ex: Executor, task: Task, answer: str) -> None:
    verdict = Verifier(fast_ex).verify_batch([task], [answer])[0]
    assert not verdict.correct and verdict.status == "not_a_literal", verdict
    # The executor refuses the same text as an argument list: it is data, never evaluated.
    raw = fast_ex.run(task.program, answer)
    assert not (raw.ok and raw.output == task.output), (raw.status, raw.output)
    reward, info, _ = step("AZR-Abduction-v0", task, answer, fast_ex)
    assert reward == -0.5 and not info["correct"] and info["status"] == "not_a_literal", info


DEDUCTION_TASK = Task.create("deduction", "def f(xs):\n    return sorted(xs)", "[3, 1, 2]", "[1, 2, 3]")
TRUE_TASK = Task.create("deduction", "def f(x):\n    return x > 0", "5", "True")
CODE_OUTPUTS = [
    (TRUE_TASK, "False or True"),
    (TRUE_TASK, "0 or True"),
    (TRUE_TASK, "f() if False else (True)"),
    (TRUE_TASK, "not False"),
    (TRUE_TASK, "1 == 1"),
    (TRUE_TASK, "bool(1)"),
    (TRUE_TASK, "f(5)"),
    (TRUE_TASK, "(x := True)"),
    (DEDUCTION_TASK, "sorted([3, 1, 2])"),
    (DEDUCTION_TASK, "f([3, 1, 2])"),
    (DEDUCTION_TASK, "__import__('builtins').sorted([3, 1, 2])"),
    (DEDUCTION_TASK, "(lambda: [1, 2, 3])()"),
    (DEDUCTION_TASK, "[x for x in (1, 2, 3)]"),
    (DEDUCTION_TASK, "[1, 2] + [3]"),
    (DEDUCTION_TASK, "[*[1, 2, 3]]"),
    (DEDUCTION_TASK, "list((1, 2, 3))"),
    (DEDUCTION_TASK, "[1, 2, 3] if [] else [1, 2, 3]"),
    (DEDUCTION_TASK, "[1, 2, 3][:]"),
]


@pytest.mark.parametrize(("task", "answer"), CODE_OUTPUTS, ids=[a for _, a in CODE_OUTPUTS])
def test_deduction_answer_that_computes_is_wrong(task: Task, answer: str) -> None:
    verdict = Verifier(None).verify_batch([task], [answer])[0]
    assert not verdict.correct and verdict.status == "not_a_literal", verdict
    reward, info, _ = step("AZR-Deduction-v0", task, answer)
    assert reward == -0.5 and not info["correct"], info
    # ... while the literal itself is right, so the task is solvable.
    assert step("AZR-Deduction-v0", task, task.output)[0] == 1.0


# =======================================================================================
# 2. Mixing trust domains
# =======================================================================================
# A program that keeps its outputs in every shared-looking place the sandbox offers, and
# answers from there when it finds something: run honestly (it computes) and as a copier
# (it only looks).  A copier must find nothing: every sample runs in a process of its own.
STASH = prog("""
    import copy, re, typing

    class Box:
        def __init__(self, n, value=None):
            self.n, self.value = n, value
        def __eq__(self, other):
            return getattr(other, 'n', None) == self.n
        def __hash__(self):
            return hash(('azr-stash', self.n))

    class Key(str):
        pass

    def the_world():
        memo = {id(copy): None, id(re): None, id(typing): None}
        for mod in (re, typing):
            for name in dir(mod):
                value = getattr(mod, name, None) if not name.startswith('_') else None
                if type(value) is type(copy):
                    memo[id(value)] = None
                    for inner in dir(value):
                        sub = getattr(value, inner, None) if not inner.startswith('_') else None
                        if type(sub) is type(copy):
                            memo[id(sub)] = None
        try:
            copy.deepcopy(getattr, memo)
        except Exception:
            return None
        found = [k for k in memo.get(id(memo), []) if repr(type(k)).endswith(".World'>")]
        return found[0] if found else None

    def look(n):
        for arg in typing.get_args(typing.Literal[Box(n)]):
            if type(arg) is not Box and getattr(arg, 'value', None) is not None:
                return arg.value
        pattern = re.compile(Key('azr-stash-%d' % n)).pattern
        if getattr(pattern, 'value', None) is not None:
            return pattern.value
        return getattr(copy.Error, 'stash', {}).get(str(n))

    def stash(n, out):
        typing.Literal[Box(n, out)]
        key = Key('azr-stash-%d' % n)
        key.value = out
        re.compile(key)
        world = the_world()
        if world is not None:
            world.builtins['__azr_write__'] = lambda o: o
            copy.Error.stash = dict(getattr(copy.Error, 'stash', {}), **{str(n): out})

    def f(n):
        if COPIER:
            return look(n)
        out = (n * 7919) % 1009
        stash(n, out)
        return out
""")


def test_peer_samples_cannot_copy_through_shared_state(fast_ex: Executor) -> None:
    args = ["5", "17", "99", "123", "400"]
    task = induction_task("def f(n):\n    return (n * 7919) % 1009", args,
                          [str(int(a) * 7919 % 1009) for a in args])
    honest, copier = "COPIER = False\n" + STASH, "COPIER = True\n" + STASH
    vec = gym.make_vec("AZR-Induction-v0", num_envs=4, vectorization_mode="vector_entry_point",
                       tasks=[task], executor=fast_ex)
    vec.reset(seed=0)
    _, rewards, _, _, infos = vec.step([completion("induction", p) for p in (honest, copier, copier, honest)])
    statuses = list(infos["final_info"]["status"])
    assert rewards[0] == rewards[3] == 1.0, statuses  # the honest samples solve it ...
    assert rewards[1] == rewards[2] == -0.5, statuses  # ... the copiers find nothing of theirs


def test_peer_samples_cannot_copy_through_tmp_metadata(fresh_ex: Executor) -> None:
    """A correct sample publishes its outputs as extended attributes of the jail's /tmp
    (reached through the escape of section 3); its peers in the batch read them."""
    args = ["5", "17", "99", "123"]
    task = induction_task("def f(n):\n    return (n * 7919) % 1009", args,
                          [str(int(a) * 7919 % 1009) for a in args])
    publisher = ESCAPE + prog("""
        def f(n):
            out = (n * 7919) % 1009
            try:
                escape('os').setxattr('/tmp', 'user.azr%d' % n, str(out).encode())
            except Exception:
                pass
            return out
    """)
    copier = ESCAPE + prog("""
        def f(n):
            os, time = escape('os'), escape('time')
            for _ in range(60):
                try:
                    return int(os.getxattr('/tmp', 'user.azr%d' % n))
                except OSError:
                    time.sleep(0.01)
            return None
    """)
    vec = gym.make_vec("AZR-Induction-v0", num_envs=3, vectorization_mode="vector_entry_point",
                       tasks=[task], executor=fresh_ex)
    vec.reset(seed=0)
    _, rewards, _, _, infos = vec.step([completion("induction", p) for p in (publisher, copier, copier)])
    assert rewards[1] == rewards[2] == -0.5, (
        f"copiers were paid {rewards[1:].tolist()} for a peer's outputs "
        f"({list(infos['final_info']['status'])})")


def test_one_sample_cannot_sabotage_its_peers(fresh_ex: Executor) -> None:
    """A sample lowers the address-space limit of every other process in the jail (its
    peers, the spare children, the zygote) with prlimit(2); honest peers must still pass."""
    args = ["1", "2", "300000", "400000"]
    program = "def f(n):\n    return len(list(range(n)))"
    task = induction_task(program, args, args)
    saboteur = ESCAPE + prog("""
        def f(n):
            os, resource = escape('os'), escape('resource')
            me = os.getpid()
            for pid in range(1, me + 64):
                if pid != me:
                    try:
                        resource.prlimit(pid, resource.RLIMIT_AS, (16 * 2**20, 16 * 2**20))
                    except OSError:
                        pass
            return -1
    """)
    vec = gym.make_vec("AZR-Induction-v0", num_envs=4, vectorization_mode="vector_entry_point",
                       tasks=[task], executor=fresh_ex)
    vec.reset(seed=0)
    _, rewards, _, _, infos = vec.step([completion("induction", p)
                                        for p in (saboteur, program, program, program)])
    assert rewards[1:].tolist() == [1.0, 1.0, 1.0], (
        f"honest samples got {rewards[1:].tolist()}: {list(infos['final_info']['error'])[1:]}")


POISONS = {
    "re-cache-lying-str": (
        prog("""
            import re
            class S(str):
                def __eq__(self, other):
                    return True
                def __hash__(self):
                    return hash('a+')
            def f():
                re.compile(S('forged'))
                return re.compile(S('forged')).pattern
        """),
        "import re\ndef f():\n    p = re.compile('a+')\n    return [type(p.pattern) is str, p.pattern]",
        [True, "a+"],
    ),
    "struct-cache-lying-str": (
        prog("""
            import struct
            class S(str):
                def __eq__(self, other):
                    return True
                def __hash__(self):
                    return hash('<i')
            def f():
                return struct.calcsize(S('<q'))
        """),
        "import struct\ndef f():\n    return struct.calcsize('<i')",
        4,
    ),
    "typing-cache-lying-key": (
        prog("""
            import typing
            class K:
                def __eq__(self, other):
                    return True
                def __hash__(self):
                    return hash('x')
            def f():
                typing.Literal[K()]
                return 0
        """),
        "import typing\ndef f():\n    return [type(a) is str for a in typing.get_args(typing.Literal['x'])]",
        [True],
    ),
    "decimal-context": (
        "import decimal\ndef f():\n    decimal.getcontext().prec = 3\n    return 0",
        "import decimal\ndef f():\n    return str(decimal.Decimal(1) / 3)",
        "0." + "3" * 28,
    ),
    "random-state": (
        "import random\ndef f():\n    random.seed(12345)\n    return random.random()",
        "import random\ndef f():\n    return random.random() == random.Random(0).random()",
        True,
    ),
    "module-attribute": (
        "import json\ndef f():\n    json.dumps = lambda *a, **k: 'forged'\n    return json.dumps(1)",
        "import json\ndef f():\n    return json.dumps(1)",
        "1",
    ),
    "stdlib-class-attribute-through-the-write-guard": (
        prog("""
            import copy
            def f():
                memo = {id(copy): None}
                copy.deepcopy(getattr, memo)
                world = [k for k in memo[id(memo)] if repr(type(k)).endswith(".World'>")][0]
                world.builtins['__azr_write__'] = lambda o: o
                copy.Error.forged = 'yes'
                return copy.Error.forged
        """),
        "import copy\ndef f():\n    return hasattr(copy.Error, 'forged')",
        False,
    ),
    "finaliser-in-a-cycle": (
        prog("""
            import decimal
            class Late:
                def __del__(self):
                    decimal.getcontext().prec = 5
            def f():
                a = Late()
                a.me = a
                return 0
        """),
        "import decimal\ndef f():\n    return decimal.getcontext().prec",
        28,
    ),
    "escaped-real-module-state": (
        ESCAPE + prog("""
            def f():
                sys = escape('sys')
                sys.modules['json'].dumps = lambda *a, **k: 'forged'
                sys.modules['decimal'].getcontext().prec = 2
                return 0
        """),
        "import json, decimal\ndef f():\n    return [json.dumps(1), decimal.getcontext().prec]",
        ["1", 28],
    ),
}


@pytest.mark.parametrize(("poison", "probe", "expected"), list(POISONS.values()), ids=list(POISONS))
def test_state_set_by_one_job_is_never_seen_by_the_next(
    solo: Executor, poison: str, probe: str, expected: object
) -> None:
    before, _, after = solo.run_batch([Job(probe, ""), Job(poison, ""), Job(probe, "")])
    solo.run(poison, "")
    alone = solo.run(probe, "")
    for result in (before, after, alone):
        assert (result.status, result.value) == (Status.OK, expected), (result.status, result.output,
                                                                          result.error)


def test_tmp_metadata_written_by_one_job_is_not_seen_by_the_next(fresh_os_ex: Executor) -> None:
    """OS layers only: /tmp cannot be written, but its extended attributes and times can."""
    writer = prog("""
        import os
        def f():
            done = []
            for name, act in (('xattr', lambda: os.setxattr('/tmp', 'user.leak', b'secret')),
                              ('utime', lambda: os.utime('/tmp', (12345, 67890)))):
                try:
                    act()
                    done.append(name)
                except OSError:
                    pass
            return done
    """)
    reader = prog("""
        import os
        def f():
            try:
                xattr = os.getxattr('/tmp', 'user.leak')
            except OSError:
                xattr = None
            return [xattr, os.stat('/tmp').st_mtime]
    """)
    wrote = fresh_os_ex.run(writer, "")
    read = fresh_os_ex.run(reader, "")
    assert read.ok, read.error
    assert read.value[0] is None and read.value[1] != 67890.0, (
        f"a later job read what an earlier one left in /tmp's metadata (writer did {wrote.value}): "
        f"{read.value}")


def test_a_job_cannot_change_host_file_metadata(fresh_os_ex: Executor) -> None:
    """OS layers only: /dev/null is bound from the host; setting its times (to the values it
    already has, so nothing visible changes) needs to own the host's file."""
    result = fresh_os_ex.run(prog("""
        import os
        def f():
            st = os.stat('/dev/null')
            try:
                os.utime('/dev/null', ns=(st.st_atime_ns, st.st_mtime_ns))
            except OSError as exc:
                return 'refused: ' + type(exc).__name__
            return 'changed'
    """), "")
    assert result.ok and result.value.startswith("refused"), (result.status, result.value, result.error)


def test_a_job_cannot_change_the_limits_of_later_jobs(fresh_os_ex: Executor) -> None:
    """OS layers only: prlimit(2) on the other processes of the jail (the zygote, the template
    every child is forked from, the spare children) lowers the limits of every later job."""
    attack = prog("""
        import os, resource
        def f():
            me, hit = os.getpid(), []
            for pid in range(1, me + 64):
                if pid != me:
                    try:
                        resource.prlimit(pid, resource.RLIMIT_AS, (200 * 2**20, 200 * 2**20))
                        hit.append(pid)
                    except OSError:
                        pass
            return hit
    """)
    probe = "import resource\ndef f():\n    return list(resource.getrlimit(resource.RLIMIT_AS))"
    attacked = fresh_os_ex.run(attack, "")
    limit = fresh_os_ex.memory_mb * 2**20
    later = [fresh_os_ex.run(probe, "") for _ in range(fresh_os_ex.spare_children + 3)]
    assert all(r.ok for r in later), [r.error for r in later]
    assert [r.value for r in later] == [[limit, limit]] * len(later), (
        f"after a job's prlimit on pids {attacked.value} later jobs ran with {[r.value for r in later]}")


def test_a_job_cannot_lower_the_limits_of_a_concurrent_job(fresh_os_ex2: Executor) -> None:
    honest = "import time\ndef f(x):\n    time.sleep(0.4)\n    return len(bytearray(64 * 2**20)) + x"
    attacker = prog("""
        import os, resource
        def f():
            me, hit = os.getpid(), []
            for pid in range(1, me + 32):
                if pid != me:
                    try:
                        resource.prlimit(pid, resource.RLIMIT_AS, (10 * 2**20, 10 * 2**20))
                        hit.append(pid)
                    except OSError:
                        pass
            return hit
    """)
    good, bad = fresh_os_ex2.run_batch([Job(honest, "1"), Job(attacker, "")])
    assert (good.status, good.value) == (Status.OK, 64 * 2**20 + 1), (
        f"the honest job gave {good.status} ({good.error}) after a peer's prlimit on {bad.value}")


def test_concurrent_jobs_cannot_see_each_others_file_locks(fresh_os_ex2: Executor) -> None:
    """OS layers only: flock(2) on a read-only file is a channel between concurrent jobs."""
    holder = prog("""
        import os, fcntl, time
        def f():
            fd = os.open(os.__file__, os.O_RDONLY)
            fcntl.flock(fd, fcntl.LOCK_EX)
            time.sleep(0.6)
            return 'held'
    """)
    prober = prog("""
        import os, fcntl, time
        def f():
            time.sleep(0.2)
            fd = os.open(os.__file__, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return 'seen'
            return 'free'
    """)
    held, probed = fresh_os_ex2.run_batch([Job(holder, ""), Job(prober, "")])
    if not held.ok:  # locks are refused outright: no channel
        assert "PermissionError" in held.error and "PermissionError" in (probed.error or ""), (held, probed)
        return
    assert probed.value == "free", "one job saw another job's file lock"


# =======================================================================================
# 3. Python-layer bypasses: the job never obtains the worker's os, sys or real builtins
# =======================================================================================
# Each program returns x when it reached the worker's internals and -x (or fails) when it
# did not; run on the identity task, only a working bypass is paid.
BYPASSES = {
    "match-object-globals": """
        def f(x):
            match print:
                case object(__globals__=w):
                    return x
            return -x
    """,
    "attrgetter-type": """
        import operator
        def f(x):
            g = type(operator.attrgetter('x'))('__globals__')
            return x if 'INTERNAL' in g(print) else -x
    """,
    "forwardref-subclass": """
        import typing
        T = type(typing.get_args(typing.List['x'])[0])
        class S(T):
            pass
        def f(x):
            S("1")._evaluate({}, {}, recursive_guard=frozenset())
            return x
    """,
    "forwardref-private": """
        import typing
        def f(x):
            ref = typing.get_args(typing.List['x'])[0]
            ref._evaluate({}, {}, recursive_guard=frozenset())
            return x
    """,
    "enum-convert": """
        import enum
        class E(enum.Enum):
            A = 1
        def f(x):
            E._convert_
            return x
    """,
    "enum-global-enum": """
        import enum
        def f(x):
            enum.global_enum
            return x
    """,
    "super-format": """
        class S(str):
            pass
        def f(x):
            return x if 'INTERNAL' in super(S, S('{0.__globals__}')).format(print) else -x
    """,
    "subclass-format": """
        class S(str):
            pass
        def f(x):
            return x if 'INTERNAL' in S.format(S('{0.__globals__}'), print) else -x
    """,
    "format-map": """
        def f(x):
            return x if 'INTERNAL' in '{p.__globals__}'.format_map({'p': print}) else -x
    """,
    "methodcaller-format": """
        import operator
        def f(x):
            text = operator.methodcaller('format', print)('{0.__globals__}')
            return x if 'INTERNAL' in text else -x
    """,
    "update-wrapper-globals": """
        import functools
        def f(x):
            def w():
                pass
            functools.update_wrapper(w, print, assigned=('__globals__',))
            return x
    """,
    "getattr-concat": """
        def f(x):
            return x if 'INTERNAL' in getattr(print, '__glob' + 'als__') else -x
    """,
    "vars": "def f(x):\n    return x if vars(print) is not None else -x\n",
    "globals": "def f(x):\n    return x if 'print' in globals()['__builtins__'] else -x\n",
    "builtins": "def f(x):\n    return x if __builtins__ else -x\n",
    "subclasses": "def f(x):\n    return x if object.__subclasses__() else -x\n",
    "gi-frame": "def f(x):\n    g = (i for i in [1])\n    return x if g.gi_frame.f_back else -x\n",
    "tb-frame": """
        def f(x):
            try:
                1 / 0
            except ZeroDivisionError as e:
                return x if e.__traceback__.tb_frame.f_back else -x
    """,
    "dataclass-field-name": """
        import dataclasses
        def f(x):
            cls = type('A', (), {'__annotations__': {"y,__import__('os')": int}})
            dataclasses.dataclass(cls)
            return x
    """,
    "abc-register-match-args": """
        import collections.abc
        class A(collections.abc.Sized):
            __match_args__ = ('__globals__',)
        def f(x):
            A.register(type(print))
            match print:
                case A(g):
                    return x
            return -x
    """,
    "metaclass-instancecheck-positional": """
        M = type('M', (type,), {'__instancecheck__': lambda cls, obj: True})
        C = M('C', (), {'__match_args__': ('__globals__',)})
        def f(x):
            match print:
                case C(g):
                    return x
            return -x
    """,
    "except-as-builtin-name": """
        class E(Exception):
            __match_args__ = ('__globals__',)
        def f(x):
            try:
                raise E()
            except E as int:
                match print:
                    case int(g):
                        return x
            return -x
    """,
    # Breaches found: a builtin type name rebound where the policy's list of bound names
    # does not look (a star import of a module copy the job wrote to, a capture pattern),
    # then a positional class pattern reads any attribute through __match_args__.
    "star-import-rebinds-a-builtin-name": """
        import json
        M = type('M', (type,), {'__instancecheck__': lambda cls, obj: True})
        json.int = M('C', (), {'__match_args__': ('__globals__',)})
        from json import *
        def f(x):
            match print:
                case int(g):
                    return x if 'os' in g['INTERNAL']['_strptime'].locale.sys.modules else -x
            return -x
    """,
    "capture-pattern-rebinds-a-builtin-name": """
        M = type('M', (type,), {'__instancecheck__': lambda cls, obj: True})
        match M('C', (), {'__match_args__': ('__globals__',)}):
            case str:
                pass
        def f(x):
            match print:
                case str(g):
                    return x if 'os' in g['INTERNAL']['_strptime'].locale.sys.modules else -x
            return -x
    """,
    # A keyword class pattern reads the public name 'format' with no guard: str.format
    # unchecked, whose fields walk dunder attributes (text only, but the worker's internals).
    "class-pattern-reads-str-format": """
        def f(x):
            match '{0.__globals__}':
                case str(format=fmt):
                    return x if 'INTERNAL' in fmt(print) else -x
            return -x
    """,
    # functools.update_wrapper's *default* attributes include __module__, the marker the
    # guards use to tell the program's classes from the standard library's.
    "update-wrapper-forges-module": """
        import functools, typing
        def g():
            pass
        def f(x):
            T = type(typing.get_args(typing.List['x'])[0])
            try:
                functools.update_wrapper(T, g)
            except AttributeError:
                pass
            sys = T("lambda: __import__('sys')")._evaluate({}, {}, recursive_guard=frozenset())()
            return x if 'os' in sys.modules else -x
    """,
    "wraps-forges-module": """
        import functools, typing
        def g():
            pass
        def f(x):
            T = type(typing.get_args(typing.List['x'])[0])
            try:
                functools.wraps(g)(T)
            except AttributeError:
                pass
            sys = T("lambda: __import__('sys')")._evaluate({}, {}, recursive_guard=frozenset())()
            return x if 'os' in sys.modules else -x
    """,
    # copy.copy applies a __reduce_ex__ state with the real setattr, dunder names included.
    "copy-state-forges-module": """
        import copy, typing
        T = type(typing.get_args(typing.List['x'])[0])
        class P:
            def __reduce_ex__(self, protocol):
                return (lambda: T, (), (None, {'__module__': '__azr_program__'}))
        def f(x):
            copy.copy(P())
            sys = T("lambda: __import__('sys')")._evaluate({}, {}, recursive_guard=frozenset())()
            return x if 'os' in sys.modules else -x
    """,
    # copy.deepcopy of the sandbox's getattr (a bound method of the run's World) keeps the
    # World alive in the caller's memo: its builtins dict and its class are writable.
    "deepcopy-memo-yields-the-guards": """
        import copy
        def f(x):
            memo = {id(copy): None}
            copy.deepcopy(getattr, memo)
            world = [k for k in memo[id(memo)] if repr(type(k)).endswith(".World'>")][0]
            world.builtins['__azr_write__'] = lambda o: o
            type(world)._is_program_class = lambda self, cls: True
            import typing
            T = type(typing.get_args(typing.List['x'])[0])
            sys = T("lambda: __import__('sys')")._evaluate({}, {}, recursive_guard=frozenset())()
            return x if 'os' in sys.modules else -x
    """,
}


@pytest.mark.parametrize("name", list(BYPASSES))
def test_python_layer_bypass_is_refused(fast_ex: Executor, name: str) -> None:
    program = prog(BYPASSES[name])
    result = fast_ex.run(program, "7")
    assert not (result.ok and result.value == 7), f"{name}: the program reached the worker's internals"
    reward, info, _ = step("AZR-Induction-v0", IDENTITY_TASK, program, fast_ex)
    assert reward == -0.5 and not info["correct"], f"{name}: the bypass was paid ({info['status']})"


def test_identity_task_pays_an_honest_answer(fast_ex: Executor) -> None:
    """The bypass tests above can fail: the same task pays 1.0 for a program that returns x."""
    assert step("AZR-Induction-v0", IDENTITY_TASK, "def f(x):\n    return x", fast_ex)[0] == 1.0


# =======================================================================================
# 4. The parent believes nothing (the source policy OFF: the OS layers only)
# =======================================================================================
FORGE = prog("""
    import os, struct, time
    def record(kind, code, index, text):
        data = text.encode()
        return struct.pack('>BBIdI', kind, code, index, 0.0, len(data)) + data
""")
FORGERIES = {
    "ok-for-a-later-index": "def f(x):\n    os.write(4, record(2, 0, 1, \"'forged'\"))\n    return x",
    "ok-after-a-failure": (
        "def f(x):\n    if x == 1:\n"
        "        os.write(4, record(2, 1, 0, 'boom') + record(2, 0, 1, \"'forged'\"))\n"
        "        time.sleep(0.3)\n    return x"),
    "bad-status-code": "def f(x):\n    os.write(4, struct.pack('>BBIdI', 2, 99, 0, 0.0, 0))\n    return x",
    "bad-kind": "def f(x):\n    os.write(4, struct.pack('>BBIdI', 9, 0, 0, 0.0, 0))\n    return x",
    "done-before-results": "def f(x):\n    os.write(4, struct.pack('>BBIdI', 3, 0, 0, 0.0, 0))\n"
                           "    time.sleep(0.3)\n    return x",
    "second-started": "def f(x):\n    os.write(4, record(1, 0, 0, ''))\n    return x",
    "oversized-record": (
        "def f(x):\n    os.write(4, struct.pack('>BBIdI', 2, 0, 0, 0.0, 50 * 2**20))\n"
        "    os.write(4, b'x' * 2**16)\n    time.sleep(0.3)\n    return x"),
    "output-over-the-limit": "def f(x):\n    os.write(4, record(2, 0, 0, \"'\" + 'x' * 1_100_000 + \"'\"))\n"
                             "    time.sleep(0.3)\n    return x",
    "invalid-utf8": "def f(x):\n    os.write(4, struct.pack('>BBIdI', 2, 0, 0, 0.0, 2) + b'\\xff\\xfe')\n"
                    "    time.sleep(0.3)\n    return x",
    "flood": "def f(x):\n    r = record(1, 0, 0, '')\n    for _ in range(100_000):\n        os.write(4, r)\n"
             "    return x",
    "half-a-header-then-exit": "def f(x):\n    os.write(4, b'\\x02\\x00')\n    os._exit(0)",
    "promise-then-hang": "def f(x):\n    os.write(4, struct.pack('>BBIdI', 2, 0, 0, 0.0, 1000) + b'[')\n"
                         "    time.sleep(30)",
    "close-the-pipe-and-hang": "def f(x):\n    os.close(4)\n    time.sleep(30)",
}


@pytest.mark.parametrize("name", list(FORGERIES))
def test_forged_records_are_never_accepted(os_ex: Executor, name: str) -> None:
    program = FORGE + FORGERIES[name]
    start = time.monotonic()
    results = os_ex.run_programs([Program(program, ("1", "2"))])[0]
    elapsed = time.monotonic() - start
    assert all(r.output != "'forged'" for r in results), [(r.status, r.output) for r in results]
    assert not results[0].ok, [(r.status, r.error) for r in results]
    # Bounded: the run's limit plus the grace, or the wait for a silent child's exit status.
    assert elapsed < os_ex.timeout_s + 2.5, f"{name}: the parent waited {elapsed:.1f} s"
    assert os_ex.run("def f():\n    return 'next'", "").value == "next"


def test_writes_to_other_descriptors_reach_nobody(os_ex: Executor) -> None:
    program = FORGE + prog("""
        def f(x):
            out = []
            for fd in (0, 1, 2, 3):
                try:
                    os.write(fd, record(2, 0, 0, "'forged'"))
                    out.append('written')
                except OSError:
                    out.append('refused')
            return out
    """)
    result = os_ex.run(program, "1")
    assert result.ok and result.value[3] == "refused", (result.status, result.output, result.error)


def test_forged_huge_outputs_do_not_stall_the_verifier(os_ex: Executor) -> None:
    """A forged record may carry a million characters of literal (past the child's own item
    limit); reading it back must stay bounded work for the parent.  Work, not seconds, is
    asserted: parsing those characters into an AST would allocate over 100 MB, and the frames
    read whole without a bound grew the parent by 345 MiB before the redesign."""
    forger = FORGE + prog("""
        def f(x):
            text = '[' + '1,' * 499_999 + ']'
            os.write(4, record(2, 0, 0, text) + record(2, 0, 1, text))
            os._exit(0)
    """)
    task = induction_task("def f(x):\n    return x", ["1", "2", "3", "4"], ["1", "2", "3", "4"])
    tracemalloc.start()
    try:
        verdict = Verifier(os_ex).verify_batch([task], [forger])[0]
        peak_bytes = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not verdict.correct
    assert verdict.first_failure == 0, "the forged record for input 1 was believed"
    assert peak_bytes < 16 * 2**20, f"the parent allocated {peak_bytes / 2**20:.0f} MiB reading it"


HUGE_VALUES = {
    "fifty-megabytes": ("def f():\n    return 'x' * 50_000_000", Status.OUTPUT_TOO_LARGE),
    "self-containing": ("def f():\n    a = []\n    a.append(a)\n    return a", Status.OUTPUT_TOO_LARGE),
    "shared-doubling-40": ("def f():\n    a = []\n    for _ in range(40):\n        a = [a, a]\n    return a",
                           Status.OUTPUT_TOO_LARGE),
    "shared-dict-doubling": ("def f():\n    d = {}\n    for i in range(40):\n        d = {1: d, 2: d}\n"
                             "    return d", Status.OUTPUT_TOO_LARGE),
    "deep-tuple": ("def f():\n    t = ()\n    for _ in range(10_000):\n        t = (t,)\n    return t",
                   Status.OUTPUT_TOO_LARGE),
    "huge-int": ("def f():\n    return 1 << 4_000_000", Status.OUTPUT_TOO_LARGE),
    "reduce": ("class R:\n    def __reduce__(self):\n        return (str, ('forged',))\n"
               "def f():\n    return R()",
               Status.UNSUPPORTED_VALUE),
    "eq-repr": ("class L(int):\n    def __eq__(self, o):\n        return True\n    def __repr__(self):\n"
                "        return '42'\ndef f():\n    return [L(1)]", Status.UNSUPPORTED_VALUE),
    "del-loops": ("class D:\n    def __del__(self):\n        while True:\n            pass\n"
                  "def f():\n    return [D()]", Status.UNSUPPORTED_VALUE),
    "set-of-liars": ("class H:\n    def __hash__(self):\n        return 1\ndef f():\n    return {H()}",
                     Status.UNSUPPORTED_VALUE),
}


@pytest.mark.parametrize(("program", "status"), list(HUGE_VALUES.values()), ids=list(HUGE_VALUES))
def test_huge_deep_cyclic_or_foreign_values_never_cross(
    fast_ex: Executor, program: str, status: Status
) -> None:
    start = time.monotonic()
    (result, after) = fast_ex.run_batch([Job(program, ""), Job("def f():\n    return 'next'", "")])
    assert (result.status, result.output) == (status, None), (result.status, result.error)
    assert after.value == "next"
    assert time.monotonic() - start < fast_ex.timeout_s + SLACK_S
    task = induction_task("def f():\n    return 1", ["", "", ""], ["1", "1", "1"])
    verdict = Verifier(fast_ex).verify_batch([task], [program])[0]
    assert not verdict.correct and verdict.status == str(status), verdict


# =======================================================================================
# 5. One bad answer must not stall a step
# =======================================================================================
SLOW_TASK = induction_task("def f(x):\n    return x", [str(i) for i in range(8)], [str(i) for i in range(8)])
STALLERS = {
    "loop": "def f(x):\n    while True:\n        pass",
    "sleep-just-under-the-limit": "import time\ndef f(x):\n    time.sleep(0.9)\n    return x",
    "catches-the-timeout": prog("""
        def f(x):
            while True:
                try:
                    while True:
                        pass
                except BaseException:
                    pass
    """),
    "slow-finaliser": prog("""
        class Slow:
            def __del__(self):
                while True:
                    pass
        def f(x):
            a = Slow()
            a.me = a
            return -x
    """),
    "slow-import-time": "X = sum(range(10**12))\ndef f(x):\n    return x",
    "regex-backtracking": "import re\ndef f(x):\n    re.match(r'(a+)+$', 'a' * 40 + 'b')\n    return x",
}


@pytest.mark.parametrize("name", list(STALLERS))
def test_induction_answer_that_stalls_ends_the_step_in_time(fast_ex: Executor, name: str) -> None:
    reward, info, elapsed = step("AZR-Induction-v0", SLOW_TASK, STALLERS[name], fast_ex)
    assert elapsed < fast_ex.timeout_s + SLACK_S, f"{name}: the step took {elapsed:.1f} s"
    assert reward == -0.5 and not info["correct"], info


@pytest.mark.parametrize("answer", ["-1", "-10**9", "0.5"])
def test_abduction_answer_that_makes_f_loop_ends_the_step_in_time(fast_ex: Executor, answer: str) -> None:
    reward, info, elapsed = step("AZR-Abduction-v0", LOOP_TASK, answer, fast_ex)
    assert elapsed < fast_ex.timeout_s + SLACK_S, f"the step took {elapsed:.1f} s"
    assert reward == -0.5 and not info["correct"], info


def test_stalling_sample_does_not_hurt_its_peers(fast_ex: Executor) -> None:
    vec = gym.make_vec("AZR-Induction-v0", num_envs=3, vectorization_mode="vector_entry_point",
                       tasks=[SLOW_TASK], executor=fast_ex)
    vec.reset(seed=0)
    start = time.monotonic()
    _, rewards, _, _, _ = vec.step([completion("induction", p) for p in
                                    (STALLERS["loop"], "def f(x):\n    return x", "def f(x):\n    return x")])
    assert rewards.tolist() == [-0.5, 1.0, 1.0]
    assert time.monotonic() - start < fast_ex.timeout_s + SLACK_S


def test_wrong_answer_with_large_outputs_does_not_stall_the_step(fast_ex: Executor) -> None:
    """The child returns a value just under the item limit at once; the parent then reads
    each wrong output back with the literal parser, outside any time limit."""
    task = induction_task("def f(x):\n    return x", [str(i) for i in range(7)], [str(i) for i in range(7)])
    answer = "def f(x):\n    return list(range(99_990))"  # just under the 100,000-item limit
    reward, info, elapsed = step("AZR-Induction-v0", task, answer, fast_ex)
    assert reward == -0.5 and info["status"] == "wrong", info
    assert elapsed < fast_ex.timeout_s + SLACK_S, f"one wrong answer held the step for {elapsed:.1f} s"


# =======================================================================================
# 6. Learnability and validation gaming
# =======================================================================================
CLOCK_PROBES = {  # expression, and the frozen expression it must agree with
    "datetime.now": ("datetime.datetime.now()", "datetime.datetime.fromtimestamp(time.time())"),
    "datetime.utcnow": ("datetime.datetime.utcnow()", "datetime.datetime.utcfromtimestamp(time.time())"),
    "datetime.now-utc": ("datetime.datetime.now(datetime.timezone.utc)",
                         "datetime.datetime.fromtimestamp(time.time(), datetime.timezone.utc)"),
    "date.today": ("datetime.date.today()", "datetime.date.fromtimestamp(time.time())"),
    "datetime.today": ("datetime.datetime.today()", "datetime.datetime.now()"),
    "time.monotonic_ns": ("time.monotonic_ns()", "time.time_ns()"),
    "time.perf_counter": ("time.perf_counter()", "time.time()"),
    "time.localtime": ("tuple(time.localtime())", "tuple(time.localtime(time.time()))"),
    # Breaches found: the real classes are one attribute away.
    "datetime.min.now": ("datetime.datetime.min.now()", "datetime.datetime.now()"),
    "date.min.today": ("datetime.date.min.today()", "datetime.date.today()"),
    "type-of-max.now": ("type(datetime.datetime.max).now()", "datetime.datetime.now()"),
    "super-datetime.now": ("super(datetime.datetime, datetime.datetime).now()", "datetime.datetime.now()"),
}


@pytest.mark.parametrize(("expr", "frozen"), list(CLOCK_PROBES.values()), ids=list(CLOCK_PROBES))
def test_the_clock_is_frozen(fast_ex: Executor, expr: str, frozen: str) -> None:
    program = prog(f"""
        import datetime, time
        def f():
            first = {expr}
            time.sleep(0.05)
            return [str(first), str({expr}), str({frozen})]
    """)
    result = fast_ex.run(program, "")
    if not result.ok:  # no clock at all is as good as a frozen one (super() finds no now())
        assert result.status is Status.ERROR and "AttributeError" in result.error, result.error
        return
    first, later, reference = result.value
    assert first == later == reference, f"{expr} is not the frozen clock: {result.value}"
    assert reference.startswith(("2023-11-1", "1700000000", "(2023, 11, 1")), reference  # any time zone


RANDOM_PROBES = {
    "random.random": "random.random()",
    "Random()": "random.Random().random()",
    "seed()": "(random.seed(), random.random())[1]",
    "Random().seed()": "(lambda r: (r.seed(), r.random())[1])(random.Random())",
    "getrandbits": "random.getrandbits(64)",
    "statistics.random": "statistics.random.Random().random()",
    # Breach found: the parent class's seed() with no argument takes the OS's fallback
    # seed (time and pid), since getrandom(2) is refused.
    "super-seed": "(lambda r: (super(random.Random, r).seed(), r.random())[1])(random.Random())",
}


@pytest.mark.parametrize("expr", list(RANDOM_PROBES.values()), ids=list(RANDOM_PROBES))
def test_randomness_is_seeded_the_same_in_every_run(fast_ex: Executor, expr: str) -> None:
    program = prog(f"""
        import random, statistics
        def f():
            return {expr}
    """)
    first, second = fast_ex.run_batch([Job(program, ""), Job(program, "")])
    assert first.ok and second.ok, (first.error, second.error)
    assert first.value == second.value, f"{expr} differs between runs: {first.value} != {second.value}"


def test_string_hashes_are_the_same_in_every_executor(fast_ex: Executor) -> None:
    """Breach found by the Ray tests: the zygote ran under ``python -I``, whose ``-E`` ignores
    PYTHONHASHSEED, so each zygote hashed strings with a random secret of its own.  Samples
    run by two executors (two Ray nodes, or one zygote and its restart) then disagreed on
    ``hash('azr-sample') % 2``, and a proposal could split identical answers by it."""
    program = "def f():\n    return hash('azr-sample'), hash(('a', 1)), hash(b'x')"
    with Executor(workers=1, timeout_s=TIMEOUT_S, memory_mb=512) as other:
        theirs = other.run(program, "")
    ours = fast_ex.run(program, "")
    assert ours.ok and theirs.ok and ours.value == theirs.value, (ours.output, theirs.output)
    host = subprocess.run([sys.executable, "-c", "print(repr((" + program.split("return ")[1] + ")))"],
                          capture_output=True, text=True, env={"PYTHONHASHSEED": "0"}, timeout=60)
    assert ours.output == host.stdout.strip(), "the sandbox's hash seed is not PYTHONHASHSEED=0"
    # ... and validation still refuses a program that depends on it (the second opinion's seed is 1).
    assert fast_ex.validate_batch([Job(program, "")])[0].status is Status.NONDETERMINISTIC


def test_addresses_are_the_same_in_every_executor(fast_ex: Executor) -> None:
    """Breach found with the string hashes: address-space randomisation gave every zygote its
    own layout, so ``id([]) >> 12`` differed between executors (and Ray nodes) while each
    zygote's children agreed.  Zygotes now start without it; the second opinion shifts its
    layout on purpose, so validation refuses a task that reads addresses."""
    program = "def f():\n    a = object()\n    return [id(a), id([]) >> 12, hash(a), repr(object())]"
    with Executor(workers=1, timeout_s=TIMEOUT_S, memory_mb=512) as other:
        theirs = other.run(program, "")
    ours = fast_ex.run(program, "")
    assert ours.ok and theirs.ok and ours.value == theirs.value, (ours.output, theirs.output)
    for probe in ("id(object())", "id([]) >> 12", "hash(object())", "repr(object())", "id({})", "id(1.5)"):
        result = fast_ex.validate_batch([Job(f"def f():\n    return {probe}", "")])[0]
        assert result.status is Status.NONDETERMINISTIC, (probe, result.status, result.output)


def test_strptime_and_date_arithmetic_work(fast_ex: Executor) -> None:
    result = fast_ex.run(prog("""
        import datetime, time
        def f():
            d = datetime.datetime.strptime('2024-03-01 10:20', '%Y-%m-%d %H:%M')
            return [str(d), str(d - datetime.timedelta(days=1)), time.strptime('2024', '%Y')[0],
                    str(datetime.date.fromisoformat('2024-02-29') + datetime.timedelta(1))]
    """), "")
    assert result.ok, result.error
    assert result.value == ["2024-03-01 10:20:00", "2024-02-29 10:20:00", 2024, "2024-03-01"]


def test_hashlib_digests_match_the_host(fast_ex: Executor) -> None:
    """The sandbox's hashlib runs on the built-in digests (OpenSSL is kept out of the image
    every child is forked from); every name a program may use gives the host's digest."""
    import hashlib

    names = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3_256", "blake2b", "blake2s"]
    result = fast_ex.run(prog(f"""
        import hashlib
        def f():
            out = [hashlib.new(n, b'azr').hexdigest() for n in {names!r}]
            out.append(hashlib.sha256(b'a', usedforsecurity=False).hexdigest())
            out.append(hashlib.shake_128(b'a').hexdigest(8))
            out.append(hashlib.pbkdf2_hmac('sha256', b'pw', b'salt', 3).hex())
            return out
    """), "")
    assert result.ok, result.error
    expected = [hashlib.new(n, b"azr").hexdigest() for n in names]
    expected += [hashlib.sha256(b"a").hexdigest(), hashlib.shake_128(b"a").hexdigest(8),
                 hashlib.pbkdf2_hmac("sha256", b"pw", b"salt", 3).hex()]
    assert result.value == expected


# Programs that try to tell validation from scoring, or one sample from another.  Each,
# proposed with input 5 and solved by a scripted solver that always answers the gold
# input (spelled eight ways, so that the verifier runs every sample), must be invalid or
# solved by all samples alike.
GAMING = {
    "module-counter": "N = [0]\ndef f(x):\n    N[0] += 1\n    return x if N[0] < 2 else -x",
    "mutable-default": "def f(x, seen=[]):\n    seen.append(x)\n    return x if len(seen) < 2 else -x",
    "re-cache-warm": prog("""
        import re
        def f(x):
            p = re.compile('azr-warm')
            warm = hasattr(p, 'flags') and re.compile('azr-warm') is p
            re.purge()
            return x if warm else -x
    """),
    "decimal-context-counter": prog("""
        import decimal
        def f(x):
            ctx = decimal.getcontext()
            ctx.prec += 1
            return x if ctx.prec < 30 else -x
    """),
    "typing-cache-counter": prog("""
        import typing
        class K:
            n = 0
            def __eq__(self, other):
                K.n += 1
                return True
            def __hash__(self):
                return 7
        def f(x):
            typing.Literal[K()]
            return x if K.n == 0 else -x
    """),
    "id": "def f(x):\n    return x if id(object()) % 2 else -x",
    "hash-object": "def f(x):\n    return x if hash(object()) % 3 else -x",
    "string-hash": "def f(x):\n    return x if hash('azr-sample') % 2 else -x",
    "time": "import time\ndef f(x):\n    return x if int(time.time()) % 2 else -x",
    "random": "import random\ndef f(x):\n    return x if random.random() < 0.5 else -x",
    "random-instance": "import random\ndef f(x):\n    return x if random.Random().random() < 0.5 else -x",
    "file-system": "def f(x):\n    return x if open('/tmp/azr-mark').read() else -x",
    "environment": "import os\ndef f(x):\n    return x if os.environ.get('AZR') else -x",
}


@pytest.mark.parametrize("program", list(GAMING.values()), ids=list(GAMING))
def test_a_proposal_cannot_split_identical_samples(fast_ex: Executor, program: str) -> None:
    env = gym.make("AZR-Propose-Abduction-v0", executor=fast_ex, solver=gold_solver, n_samples=8,
                   banned_imports=())
    env.reset(seed=0)
    _, reward, _, _, info = env.step(proposal(program, "5"))
    assert not info["valid"] or info["solve_rate"] in (0.0, 1.0), (
        f"answers that differ only in spelling scored {info['accuracies']}: reward {reward}")


def test_a_proposal_cannot_split_samples_with_the_real_clock(fresh_ex: Executor) -> None:
    """The task reads the real clock (datetime.min.now()) against a deadline that falls
    after validation and in the middle of the solver's samples."""
    deadline = time.time() + 2.5
    program = prog(f"""
        import datetime, time
        def f(x):
            late = datetime.datetime.min.now(datetime.timezone.utc).timestamp() > {deadline!r}
            time.sleep(0.2)
            return -x if late else x
    """)

    def solver(prompts: list[str]) -> list[str]:
        time.sleep(max(0.0, deadline - 0.3 - time.time()))
        return gold_solver(prompts)

    env = gym.make("AZR-Propose-Abduction-v0", executor=fresh_ex, solver=solver, n_samples=8,
                   banned_imports=())
    env.reset(seed=0)
    _, reward, _, _, info = env.step(proposal(program, "5"))
    if not info["valid"]:  # the frozen clock differs in the second opinion: refused as it should be
        assert "nondeterministic" in info["reason"] and reward == -1.0, info["reason"]
        return
    assert info["solve_rate"] in (0.0, 1.0), (
        f"answers that differ only in spelling scored {info['accuracies']}: learnability reward {reward}")


def test_a_proposal_cannot_count_its_samples_in_tmp(fresh_ex: Executor) -> None:
    """Default proposer settings (functools and typing are not banned): the task escapes
    (section 3) and keeps a counter in an extended attribute of the jail's /tmp, which
    validation and every sample share; it fails every other sample after validation."""
    program = ESCAPE + prog("""
        def f(x):
            os = escape('os')
            try:
                n = int(os.getxattr('/tmp', 'user.azr_samples'))
            except OSError:
                n = 0
            os.setxattr('/tmp', 'user.azr_samples', str(n + 1).encode())
            return x if n < 2 or n % 2 == 0 else -x
    """)
    env = gym.make("AZR-Propose-Abduction-v0", executor=fresh_ex, solver=gold_solver, n_samples=8)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(proposal(program, "5"))
    assert not info["valid"] or info["solve_rate"] in (0.0, 1.0), (
        f"answers that differ only in spelling scored {info['accuracies']}: learnability reward {reward}")


def test_banned_imports_cannot_be_reached_through_an_allowed_module(fast_ex: Executor) -> None:
    """``random`` is banned for proposals, but ``statistics.random`` is the job's random."""
    env = gym.make("AZR-Propose-Deduction-v0", executor=fast_ex)
    env.reset(seed=0)
    program = "import statistics\ndef f(x):\n    return statistics.random.Random(x).randint(0, 9)"
    _, reward, _, _, info = env.step(proposal(program, "5"))
    assert reward == -1.0 and not info["valid"], "a banned module was used through another one"


# =======================================================================================
# 7. Answers are data
# =======================================================================================
DATA_ANSWERS = [
    ("def f(a, b=0, *, k=None):\n    return [a, b, k]", "1, k='z'", "[1, 0, 'z']"),
    ("def f(a, b=0, *, k=None):\n    return [a, b, k]", "b=2, a=1", "[1, 2, None]"),
    ("def f(x):\n    return x != x", "nan", "True"),
    ("def f(x):\n    return x != x", "float('nan')", "True"),
    ("def f(x):\n    return x > 10**300", "inf", "True"),
    ("def f(s):\n    return sorted(s)", "{3, 1, 2}", "[1, 2, 3]"),
    ("def f(s):\n    return len(s)", "set()", "0"),
    ("def f(s):\n    return isinstance(s, frozenset) and 2 in s", "frozenset({1, 2})", "True"),
    ("def f(d):\n    return d['a'][1]['b']", "{'a': [0, {'b': (1, [2])}]}", "(1, [2])"),
    ("def f(z):\n    return z.imag", "1+2j", "2.0"),
    ("def f(z):\n    return z.real", "complex(3, 4)", "3.0"),
    ("def f(b):\n    return b[::-1]", "b'ab'", "b'ba'"),
    ("def f(*xs):\n    return len(xs)", "", "0"),
    ("def f(x):\n    return str(x)", "-0.0", "'-0.0'"),
    ("def f(x):\n    return x", "'0) or (1'", "'0) or (1'"),
    ("def f(x, y):\n    return x + y", "# a comment\n1,\n2", "3"),
]


@pytest.mark.parametrize(("program", "answer", "output"), DATA_ANSWERS, ids=[a for _, a, _ in DATA_ANSWERS])
def test_abduction_answers_that_are_data_work(
    fast_ex: Executor, program: str, answer: str, output: str
) -> None:
    task = Task.create("abduction", program, answer, output)
    verdict = Verifier(fast_ex).verify_batch([task], [answer])[0]
    assert verdict.correct, verdict
    reward, info, _ = step("AZR-Abduction-v0", task, answer, fast_ex)
    assert reward == 1.0, info


INJECTIONS = ["0) or ('forged'", "1), ('forged'", "1)\nf(2", "*['forged']", "**{'x': 'forged'}",
              "'a') if 0 else ('forged'", "(1)[0:0] or ('forged'", "f('forged')",
              "x=lambda: 'forged'", "'forged'.lower()", "[*'forged']"]


@pytest.mark.parametrize("answer", INJECTIONS)
def test_injection_into_the_call_is_refused(fast_ex: Executor, answer: str) -> None:
    task = Task.create("abduction", "def f(x, y='real'):\n    return y", "1, 'forged'", "'forged'")
    with pytest.raises(NotALiteral):
        parse_args(answer)
    raw = fast_ex.run(task.program, answer)
    assert not raw.ok and raw.status is Status.REJECTED, (raw.status, raw.output)
    verdict = Verifier(fast_ex).verify_batch([task], [answer])[0]
    assert not verdict.correct and verdict.status == "not_a_literal"
    reward, info, _ = step("AZR-Abduction-v0", task, answer, fast_ex)
    assert reward == -0.5, info


@pytest.mark.parametrize("args", ["range(3)", "x", "[i for i in range(3)]", "f(1)", "1 + 1", "len('ab')",
                                  "(lambda: 1)()", "'ab' * 2", "True and 3", "[1][0]"])
@pytest.mark.parametrize("env_id", ["AZR-Propose-Deduction-v0", "AZR-Propose-Abduction-v0"])
def test_a_proposal_whose_input_is_an_expression_is_invalid(
    fast_ex: Executor, env_id: str, args: str
) -> None:
    env = gym.make(env_id, executor=fast_ex)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(proposal("def f(x=0):\n    return x", args))
    assert reward == -1.0 and not info["valid"] and "literal" in info["reason"], info["reason"]
    assert fast_ex.run("def f(x=0):\n    return x", args).status is Status.REJECTED


def test_an_induction_proposal_whose_input_is_an_expression_is_invalid(fast_ex: Executor) -> None:
    env = gym.make("AZR-Propose-Induction-v0", executor=fast_ex, n_inputs=4)
    env.reset(seed=0)
    blocks = "".join(f"```input\n{x}\n```\n" for x in ("1", "2", "range(3)", "4"))
    _, reward, _, _, info = env.step(f"plan</think><answer>{blocks}```message\nEcho.\n```</answer>")
    assert reward == -1.0 and "literal" in info["reason"], info["reason"]


def test_literal_reader_is_bounded_and_evaluates_nothing() -> None:
    for text in ("__import__('os').system('true')", "[1] * 10**9", "(" * 100_000, "1" * 5000 + "e",
                 "{[]: 1}", "frozenset(x for x in [1])", "complex('1+2j')", "float('1e3')", "set('abc')"):
        with pytest.raises(NotALiteral):
            parse_literal(text)
    value = parse_literal("[nan, inf, -inf, set(), frozenset({1}), 1+2j, b'x', None]")
    assert math.isnan(value[0]) and value[1:4] == [math.inf, -math.inf, set()]



HONEST_DUNDER_READS = {
    "super-init": prog("""
        class A:
            def __init__(self, v):
                self.v = v
        class B(A):
            def __init__(self, v):
                super().__init__(v + 1)
        def f(x):
            return B(x).v
    """),
    "type-name": "def f(x):\n    return len(type(x).__name__)",
    "class-of-instance": "def f(x):\n    return x if x.__class__ is int else -x",
    "own-function-name": "def f(x):\n    return len(f.__name__) * x",
    "len-protocol": "def f(x):\n    return [x].__len__() * x",
}


@pytest.mark.parametrize("name", list(HONEST_DUNDER_READS))
def test_honest_programs_that_read_safe_dunder_attributes_run(fast_ex: Executor, name: str) -> None:
    """Not an attack: the policy lists __init__, __name__, __class__, __len__ ... as safe to
    read, and honest solutions use them.  An answer refused for them is a correct answer
    paid as wrong."""
    program = prog(HONEST_DUNDER_READS[name])
    result = fast_ex.run(program, "3")
    assert result.ok, (result.status, result.error)
    args = ["1", "2", "3", "4"]
    task = induction_task(program, args, [r.output for r in fast_ex.run_program(program, args)])
    assert step("AZR-Induction-v0", task, program, fast_ex)[0] == 1.0


# =======================================================================================
# Round 2
# =======================================================================================
# A second round of attacks, by class: the OS layers between concurrent children (signals
# through an fd's owner, the host's page cache), the Python layer (two escapes and a
# write-guard bypass, and what an escape is worth in reward), the same world in every run
# (the heap depends on how an answer is spelled), the caller's parsers (answers and
# outputs that crash a step instead of scoring it) and the comparison of outputs (a
# correct answer paid as wrong).  Each test fails while its breach is open.
@pytest.fixture
def quick_os_ex2() -> Iterator[Executor]:
    """The source policy OFF, two workers, a short start-up limit (a stalled zygote costs
    seconds, not a minute), private to one test."""
    with pytest.warns(RuntimeWarning, match="DEGRADED"):
        ex = Executor(workers=2, timeout_s=TIMEOUT_S, memory_mb=512, policy=False, start_timeout_s=2.0)
    with ex:
        yield ex


@pytest.fixture
def quick_ex4() -> Iterator[Executor]:
    """Policy on, four workers (a vector env's samples run side by side), a short start-up
    limit, private to one test."""
    with Executor(workers=4, timeout_s=TIMEOUT_S, memory_mb=512, start_timeout_s=2.0) as ex:
        yield ex


# ---- signals: F_SETOWN/F_SETSIG make the kernel signal any process of the jail ----------
# seccomp refuses kill/tkill/tgkill/rt_sigqueueinfo/pidfd_send_signal to children, but an
# fd's owner (fcntl F_SETOWN, F_SETOWN_EX) is signalled by the kernel on I/O (SIGIO, or the
# signal F_SETSIG names), with the permission check of a same-uid kill.  Every process of
# the jail runs as uid 65534: concurrent children, spare children, the template, the zygote.
SIGNALLER = prog("""
    import os, fcntl, signal, struct, time

    def arm(pid, how):
        r, w = os.pipe()
        try:
            if how == 'group':
                fcntl.fcntl(r, 15, struct.pack('ii', 2, os.getpgrp()))  # F_SETOWN_EX, F_OWNER_PGRP
            else:
                fcntl.fcntl(r, fcntl.F_SETOWN, pid)
            if how == 'sigio':  # no F_SETSIG: SIGIO, whose default action ends the process
                fcntl.ioctl(r, 0x5452, struct.pack('i', 1))  # FIOASYNC
            else:
                fcntl.fcntl(r, 10, signal.SIGSTOP)  # F_SETSIG
                fcntl.fcntl(r, fcntl.F_SETFL, fcntl.fcntl(r, fcntl.F_GETFL) | os.O_ASYNC)
            os.write(w, b'x')  # the kernel signals the owner now
        finally:
            os.close(r)
            os.close(w)

    def f(how):
        time.sleep(0.1)  # the honest peer is running
        me, hit = os.getpid(), []
        for pid in ([0] if how == 'group' else [p for p in range(1, me + 16) if p != me]):
            try:
                arm(pid, how)
                hit.append(pid)
            except OSError:
                pass
        return hit
""")
HONEST_SLEEPER = "import time\ndef f(x):\n    time.sleep(0.4)\n    return x"


@pytest.mark.parametrize("how", ["stop", "sigio", "group"])
def test_a_job_cannot_signal_other_processes_of_the_jail(quick_os_ex2: Executor, how: str) -> None:
    """OS layers only: a job makes the kernel send SIGSTOP (or SIGIO, which kills) to every
    pid of the jail through an fd's owner.  Breach found: the concurrent honest job times
    out or dies, the zygote stops (the next jobs wait out the start-up limit) or dies."""
    honest, attack = quick_os_ex2.run_batch([Job(HONEST_SLEEPER, "1"), Job(SIGNALLER, repr(how))])
    assert (honest.status, honest.value) == (Status.OK, 1), (
        f"the honest job gave {honest.status} ({honest.error}) after a peer signalled pids {attack.value}")
    start = time.monotonic()
    later = quick_os_ex2.run_batch([Job(HONEST_SLEEPER, "2"), Job(HONEST_SLEEPER, "3")])
    elapsed = time.monotonic() - start
    assert [(r.status, r.value) for r in later] == [(Status.OK, 2), (Status.OK, 3)], [r.error for r in later]
    assert elapsed < TIMEOUT_S + SLACK_S, f"later jobs waited {elapsed:.1f} s (a stopped zygote or template)"


# ---- the Python layer: escapes with the policy ON ---------------------------------------
# Breach found (deepcopy-keeps-forward-ref-code): typing.List['<expr>'] compiles <expr> into
# a ForwardRef's __forward_code__; copy.deepcopy(ref, memo) keeps the original slot-state
# dict alive in memo[id(memo)], so the code object is one dict lookup away, and
# type(f)(code, {}) runs it: bytecode the source policy never saw (dunder chains to the
# zygote's os module).
# Breach found (dataclass-inherited-field-name): the field-name check sits in
# dataclasses._get_field, but a subclass inherits its base's Field objects as they are, and
# Field.name is writable; the name is pasted into the source dataclasses exec()s with the
# real builtins (a parameter default of __create_fn__ runs at definition).
# Breach found (copy-state-writes-a-shared-class): copy.copy applies the slot state of a
# __reduce_ex__ with the real setattr, on whatever object its callable returns: a shared
# standard-library class is written, past the write guard.
ESCAPE_R2 = prog("""
    import copy, dataclasses, typing

    def _by_forward_ref():
        expr = ("[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close']"
                "[0].__init__.__globals__['sys']")
        ref = typing.get_args(typing.List[expr])[0]
        memo = {}
        copy.deepcopy(ref, memo)
        codes = [v for d in memo[id(memo)] if type(d) is dict for v in d.values()
                 if type(v).__name__ == 'code']
        return type(_by_forward_ref)(codes[0], {})()

    def _by_dataclass_field():
        @dataclasses.dataclass
        class A:
            a: int = dataclasses.field(init=False, default=0)
        field = dataclasses.fields(A)[0]
        field.name = "a=setattr(__import__('dataclasses').Field, 'azr_sys', __import__('sys')),*b"
        try:
            dataclasses.dataclass(repr=False, eq=False)(type('C', (A,), {}))
        except Exception:
            pass
        return dataclasses.Field.azr_sys

    def escape(module):
        for way in (_by_forward_ref, _by_dataclass_field):
            try:
                return way().modules[module]
            except Exception:
                pass
        raise ImportError('no way out')
""")

BYPASSES_R2 = {
    "deepcopy-keeps-forward-ref-code": """
        import copy, typing
        def f(x):
            expr = ("[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close']"
                    "[0].__init__.__globals__['sys']")
            ref = typing.get_args(typing.List[expr])[0]
            memo = {}
            copy.deepcopy(ref, memo)
            codes = [v for d in memo[id(memo)] if type(d) is dict for v in d.values()
                     if type(v).__name__ == 'code']
            sys = type(f)(codes[0], {})()
            return x if 'os' in sys.modules else -x
    """,
    "dataclass-inherited-field-name": """
        import dataclasses
        @dataclasses.dataclass
        class A:
            a: int = dataclasses.field(init=False, default=0)
        def f(x):
            field = dataclasses.fields(A)[0]
            field.name = "a=setattr(__import__('dataclasses').Field, 'azr_sys', __import__('sys')),*b"
            try:
                @dataclasses.dataclass(repr=False, eq=False)
                class C(A):
                    pass
            except Exception:
                pass
            return x if 'os' in dataclasses.Field.azr_sys.modules else -x
    """,
    "copy-state-writes-a-shared-class": """
        import copy, json
        class P:
            def __reduce_ex__(self, protocol):
                return (lambda: json.JSONDecoder, (), (None, {'azr_forged': 'yes'}))
        def f(x):
            copy.copy(P())
            return x if json.JSONDecoder.azr_forged == 'yes' else -x
    """,
    "copy-state-writes-through-type-namespace": """
        import copy, json
        P = type('P', (), {'__reduce_ex__': lambda self, p: (lambda: json.JSONDecoder, (),
                                                             (None, {'azr_forged': 'yes'}))})
        def f(x):
            copy.copy(P())
            return x if json.JSONDecoder.azr_forged == 'yes' else -x
    """,
}


@pytest.mark.parametrize("name", list(BYPASSES_R2))
def test_python_layer_bypass_is_refused_round2(fast_ex: Executor, name: str) -> None:
    program = prog(BYPASSES_R2[name])
    result = fast_ex.run(program, "7")
    assert not (result.ok and result.value == 7), f"{name}: the program got past the Python layer"
    reward, info, _ = step("AZR-Induction-v0", IDENTITY_TASK, program, fast_ex)
    assert reward == -0.5 and not info["correct"], f"{name}: the bypass was paid ({info['status']})"


def test_an_escaped_sample_cannot_stop_its_peers(quick_ex4: Executor) -> None:
    """Policy on, default settings: one induction sample escapes the Python layer (above)
    and SIGSTOPs every other process of the jail through an fd's owner: its peers in the
    batch (honest answers), the zygote.  In GRPO a lower reward for the peers is a higher
    advantage for the saboteur."""
    task = induction_task("def f(x):\n    return x", ["1", "2", "3", "4"], ["1", "2", "3", "4"])
    honest = "import time\ndef f(x):\n    time.sleep(0.2)\n    return x"
    saboteur = ESCAPE_R2 + prog("""
        def f(x):
            os, fcntl, time = escape('os'), escape('fcntl'), escape('time')
            time.sleep(0.1)
            me = os.getpid()
            for pid in range(1, me + 16):
                if pid == me:
                    continue
                r, w = os.pipe()
                try:
                    fcntl.fcntl(r, fcntl.F_SETOWN, pid)
                    fcntl.fcntl(r, 10, 19)  # F_SETSIG: SIGSTOP
                    fcntl.fcntl(r, fcntl.F_SETFL, fcntl.fcntl(r, fcntl.F_GETFL) | os.O_ASYNC)
                    os.write(w, b'x')
                except OSError:
                    pass
                os.close(r)
                os.close(w)
            return -x
    """)
    vec = gym.make_vec("AZR-Induction-v0", num_envs=4, vectorization_mode="vector_entry_point",
                       tasks=[task], executor=quick_ex4)
    vec.reset(seed=0)
    answers = (saboteur, honest, honest, honest)
    _, rewards, _, _, infos = vec.step([completion("induction", p) for p in answers])
    assert rewards[1:].tolist() == [1.0, 1.0, 1.0], (
        f"honest samples got {rewards[1:].tolist()}: {list(infos['final_info']['error'])[1:]}")


# ---- the same world in every run: the heap depends on how an answer is spelled -----------
# Breach found: the caller sends an abduction answer's text as it was written, and the child
# holds that text (and the objects the parser made and freed) while the program runs, so
# the addresses a program sees differ between "5" and "0x5".  A proposal that tests the
# offset of a fresh object in its memory pool is deterministic in both validation zygotes
# and between two calls, and yet fails the samples that spell the gold input another way:
# learnability 0.25 for a task every sample solves.
def _pool_offset_program(size: int, target: int | None) -> str:
    """With ``target`` None: returns the pool offset of a fresh bytes(size); else returns x
    when the offset is ``target`` and -x otherwise.  Both texts have the same length and the
    same constants' sizes, so they leave the same heap behind."""
    head = f"def f(x):\n    v = id(bytes({size:3d})) % 4096\n"
    if target is None:
        return head + f"    return v if v + 1000 != {9999:4d} else -x\n"
    return head + f"    return x if v + 1000 == {target + 1000:4d} else -x\n"


POSITIONAL_SPELLINGS_OF_5 = [s for s in SPELLINGS_OF_5 if "=" not in s]  # x=5 is another call: f(x=5)


def positional_gold_solver(prompts: list[str]) -> list[str]:
    spellings = POSITIONAL_SPELLINGS_OF_5
    return [completion("abduction", spellings[i % len(spellings)]) for i in range(len(prompts))]


def test_a_proposal_cannot_split_samples_by_the_heap_their_spelling_leaves(fast_ex: Executor) -> None:
    """The verifier hands the program one canonical text per value, so spellings of the same
    call (``5``, ``0x5``, ``(5)``, ``5  # five``) leave the same heap; the program sees
    nothing of them.  (``x=5`` is a different call, and may show.)"""
    sizes = list(range(1, 250, 16))
    tasks = [Task.create("abduction", _pool_offset_program(size, None), "5", "0") for size in sizes]
    n = len(POSITIONAL_SPELLINGS_OF_5)
    verifier = Verifier(fast_ex)
    verdicts = verifier.verify_batch([t for t in tasks for _ in range(n)],
                                     [s for _ in tasks for s in POSITIONAL_SPELLINGS_OF_5])
    offsets = {size: [v.output for v in verdicts[i * n : (i + 1) * n]] for i, size in enumerate(sizes)}
    telling = [size for size, seen in offsets.items() if len(set(seen)) > 1]  # spelling shows in the heap
    assert telling == [], offsets
    for size in sizes[:3]:
        program = _pool_offset_program(size, int(offsets[size][0]))  # passes with the proposer's "5"
        env = gym.make("AZR-Propose-Abduction-v0", executor=fast_ex, solver=positional_gold_solver,
                       n_samples=8)
        env.reset(seed=0)
        _, reward, _, _, info = env.step(proposal(program, "5"))
        assert not info["valid"] or info["solve_rate"] in (0.0, 1.0), (
            f"bytes({size}): answers that differ only in spelling scored {info['accuracies']}: "
            f"learnability reward {reward} (pool offsets by spelling: {offsets[size]})")


# ---- the caller's parsers: garbage must score, never crash a step -----------------------
# Breach found: the literal reader adds a complex part to an int too large for a float
# (`10**400 + 2j`) and raises OverflowError, which no caller catches: env.step crashes.
BIG = "1" + "0" * 400
OVERFLOWING = [f"{BIG}+2j", f"-{BIG}-2j", f"[{BIG}+1j]", f"complex({BIG}, 0)", f"complex(0.5, {BIG})"]


@pytest.mark.parametrize("text", OVERFLOWING, ids=["add", "sub", "in-list", "complex-real", "complex-imag"])
def test_a_literal_too_large_for_a_complex_is_not_a_literal(text: str) -> None:
    for reader in (parse_literal, parse_args):
        try:
            reader(text)
        except NotALiteral:
            pass  # refused, as every text that is not a value must be; any other exception is a crash


@pytest.mark.parametrize("env_id", ["AZR-Deduction-v0", "AZR-Abduction-v0"])
def test_an_overflowing_complex_answer_is_wrong_not_a_crash(fast_ex: Executor, env_id: str) -> None:
    task = DEDUCTION_TASK if env_id == "AZR-Deduction-v0" else CHR_TASK
    reward, info, _ = step(env_id, task, f"{BIG}+2j", fast_ex)
    assert reward == -0.5 and not info["correct"] and info["status"] in ("not_a_literal", "wrong"), info


@pytest.mark.parametrize("env_id", ["AZR-Propose-Deduction-v0", "AZR-Propose-Abduction-v0"])
def test_an_overflowing_complex_proposal_input_is_invalid_not_a_crash(fast_ex: Executor, env_id: str) -> None:
    env = gym.make(env_id, executor=fast_ex)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(proposal("def f(x):\n    return 1", f"{BIG}+2j"))
    assert reward == -1.0 and not info["valid"], info["reason"]


@pytest.mark.parametrize("env_id", ["AZR-Propose-Deduction-v0", "AZR-Propose-Abduction-v0"])
def test_a_proposal_with_an_output_the_caller_cannot_read_does_not_crash(
    fast_ex: Executor, env_id: str
) -> None:
    """Breach found: the sandbox prints ints of any length, the caller reads back at most
    4300 digits (Python's default); the proposer env reads the validated output with
    Result.value, whose ValueError nobody catches."""
    env = gym.make(env_id, executor=fast_ex)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(proposal("def f(x):\n    return 10 ** 5000 + x", "5"))
    assert isinstance(reward, float)
    assert info["valid"] or reward == -1.0, info


# ---- the host's page cache: a channel between concurrent children ------------------------
# Breach found: posix_fadvise (DONTNEED, WILLNEED) evicts and loads pages of a read-only file
# the jail shows (the standard library's own), and preadv2(RWF_NOWAIT) tells, without
# waiting, whether a page is cached.  A publisher writes its output into the cache state of
# a large, unmapped file; a concurrent copier reads it back bit by bit.
PAGE_CACHE = prog("""
    import os, time
    STEP = 1 << 20

    def cached(fd, offset):
        try:
            os.preadv(fd, [bytearray(1)], offset, os.RWF_NOWAIT)
            return 1
        except BlockingIOError:
            return 0

    def f(path, n, publish):
        fd = os.open(path, os.O_RDONLY)
        if publish:
            out = (n * 7919) % 65521
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            for bit in range(16):
                if out >> bit & 1:
                    os.posix_fadvise(fd, (bit + 1) * STEP, 4096, os.POSIX_FADV_WILLNEED)
            time.sleep(0.4)
            return out
        time.sleep(0.2)
        return sum(cached(fd, (bit + 1) * STEP) << bit for bit in range(16))
""")


def _large_stdlib_file() -> str | None:
    """The largest file of the standard library (the jail binds it at the same path)."""
    import os
    import sysconfig

    root = sysconfig.get_paths()["stdlib"]
    sizes = [(os.path.getsize(p), p) for d, _, names in os.walk(root) for n in names
             if not os.path.islink(p := os.path.join(d, n))]
    size, path = max(sizes, default=(0, None))
    return path if size >= 20 * 2**20 else None


def test_concurrent_jobs_cannot_talk_through_the_page_cache(quick_os_ex2: Executor) -> None:
    path = _large_stdlib_file()
    if path is None:
        pytest.skip("no file of 20 MiB in the standard library to carry the channel")
    n = 4242
    published, copied = quick_os_ex2.run_batch([Job(PAGE_CACHE, f"{path!r}, {n}, True"),
                                                Job(PAGE_CACHE, f"{path!r}, {n}, False")])
    expected = (n * 7919) % 65521
    assert not (copied.ok and copied.value == expected), (
        f"a job read {copied.value} from the page cache, written there by a concurrent job "
        f"({published.status}: {published.value})")


# ---- output comparison: equal values are equal, whatever their texts' lengths -------------
# Breach found (a correct answer paid as wrong): the caller rejects an output whose length
# differs from the gold's by more than one character per float zero, but Python writes a
# complex with a +0.0 real part without it ("1j") and one with -0.0 with it ("(-0+1j)"):
# values equal under the documented rule (-0.0 == 0.0) and five characters apart.
COMPLEX_ZEROS = [("complex(-0.0, x)", "complex(0.0, x)"), ("complex(0.0, x)", "complex(-0.0, x)"),
                 ("[complex(-0.0, x)]", "[complex(0.0, x)]")]


@pytest.mark.parametrize(("gold", "answer"), COMPLEX_ZEROS, ids=["-0-vs-0", "0-vs-0", "in-a-list"])
def test_an_equal_complex_output_is_paid_whatever_the_sign_of_its_zero(
    fast_ex: Executor, gold: str, answer: str
) -> None:
    args = ["1", "2", "3", "4"]
    gold_program = f"def f(x):\n    return {gold}"
    outputs = [r.output for r in fast_ex.run_program(gold_program, args)]
    task = induction_task(gold_program, args, outputs)
    reward, info, _ = step("AZR-Induction-v0", task, f"def f(x):\n    return {answer}", fast_ex)
    assert reward == 1.0, f"an output equal to the gold under the rule was paid {reward}: {info['error']}"


def test_an_escaped_proposal_cannot_split_samples_with_the_real_clock(fresh_ex: Executor) -> None:
    """Default proposer settings (copy, dataclasses and typing are not banned): the task
    escapes (above) to the zygote's real time module and compares the real clock with a
    deadline that falls after validation and in the middle of the solver's samples."""
    deadline = time.time() + 2.5
    program = ESCAPE_R2 + prog(f"""
        def f(x):
            clock = escape('time')
            late = clock.time() > {deadline!r}
            clock.sleep(0.2)
            return -x if late else x
    """)

    def solver(prompts: list[str]) -> list[str]:
        time.sleep(max(0.0, deadline - 0.3 - time.time()))
        return gold_solver(prompts)

    env = gym.make("AZR-Propose-Abduction-v0", executor=fresh_ex, solver=solver, n_samples=8)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(proposal(program, "5"))
    assert not info["valid"] or info["solve_rate"] in (0.0, 1.0), (
        f"answers that differ only in spelling scored {info['accuracies']}: learnability reward {reward}")
