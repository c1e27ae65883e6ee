"""Adversarial tests for the sandboxed executor: isolation, limits, policy, spoofing, faults.

Every test states a protection and fails if that protection is missing.  Tests that
poison a worker, kill workers or count processes use their own small Executor (one
worker, so that a poisoning job and its probe certainly share a process); the shared
``executor`` fixture is only given jobs that leave nothing behind.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import socket
import struct
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from azr_env.executor import Executor, Job, Result, Status

SLACK_S = 1.5  # bounded waits: a job that must be stopped ends within timeout_s + SLACK_S
REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------------------
# Fixtures and helpers
# ---------------------------------------------------------------------------------------
@pytest.fixture
def solo() -> Iterator[Executor]:
    """A private one-worker executor with the policy on (may be poisoned or killed)."""
    with Executor(workers=1, timeout_s=1.0, memory_mb=256) as ex:
        yield ex


@pytest.fixture
def os_ex() -> Iterator[Executor]:
    """The source policy OFF: only for showing what the OS layers (jail, seccomp) stop."""
    with pytest.warns(RuntimeWarning, match="DEGRADED"):
        ex = Executor(workers=1, timeout_s=2.0, policy=False)
    with ex:
        yield ex


def prog(source: str) -> str:
    return textwrap.dedent(source).strip("\n") + "\n"


def timed_batch(ex: Executor, jobs: list[Job]) -> tuple[list[Result], float]:
    start = time.monotonic()
    results = ex.run_batch(jobs)
    return results, time.monotonic() - start


def worker_pids(ex: Executor) -> list[int]:
    """Host pids of the executor's zygotes (the processes every sandboxed child forks from)."""
    return [z.proc.pid for z in ex._zygotes.values()]


def _proc_table() -> dict[int, tuple[int, str]]:
    """pid -> (ppid, state) for every process visible in /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        table[int(entry)] = (int(fields[1]), fields[0])
    return table


def descendants(root: int) -> set[int]:
    """Live (non-zombie) descendants of ``root``."""
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, state) in table.items():
        if state != "Z":
            children.setdefault(ppid, []).append(pid)
    found: set[int] = set()
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].split()[0] != "Z"


def still_alive_after(pids: set[int], within_s: float = 3.0) -> set[int]:
    """The pids still alive once ``within_s`` has passed (returns early when all are gone)."""
    deadline = time.monotonic() + within_s
    while True:
        left = {p for p in pids if alive(p)}
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def eventually(check, within_s: float = 5.0) -> bool:
    """Whether ``check()`` becomes true within ``within_s`` (children are reaped and
    replaced asynchronously, and more slowly on a loaded machine)."""
    deadline = time.monotonic() + within_s
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def steady_tree(ex: Executor) -> set[int]:
    """The executor's processes once it is idle: its zygotes, their jails and the spare
    children they keep forked (each counted once it has been born and warmed up)."""
    def settled() -> bool:
        ex._lock.acquire()
        try:
            for zygote in ex._zygotes.values():
                ex._on_control(zygote, None)
            return all(len(z.idle) >= ex.spare_children and z.requested == 0 for z in ex._zygotes.values())
        finally:
            ex._lock.release()

    assert eventually(settled)
    time.sleep(0.1)
    return worker_tree(ex)


def worker_tree(ex: Executor) -> set[int]:
    """Host pids of every worker process (bwrap and the sandboxed interpreter)."""
    pids = set(worker_pids(ex))
    for pid in list(pids):
        pids |= descendants(pid)
    return pids


def poison_then_probe(ex: Executor, poison: str, probe: str, args: str = "") -> tuple[Result, ...]:
    """Run ``probe``, ``poison``, ``probe`` in one batch, then ``poison`` and ``probe`` as two
    separate calls, all on the one worker of ``ex``.  Returns (probe before, poison in
    batch, probe after in batch, poison alone, probe alone)."""
    assert ex.workers == 1
    pid = worker_pids(ex)
    before, poisoned, after = ex.run_batch([Job(probe, args), Job(poison, args), Job(probe, args)])
    poisoned_alone = ex.run(poison, args)
    after_alone = ex.run(probe, args)
    assert worker_pids(ex) == pid, "the zygote was replaced: poison and probe did not share it"
    return before, poisoned, after, poisoned_alone, after_alone


# =======================================================================================
# 1. User code never runs in the caller's process; no state leaks from job to job
# =======================================================================================
def test_user_code_runs_in_another_process(os_ex: Executor) -> None:
    result = os_ex.run(prog("""
        import os, sys
        def f():
            return os.getpid(), 'pytest' in sys.modules, 'azr_env' in sys.modules
    """), "")
    assert result.ok, result.error
    pid, has_pytest, has_azr = result.value
    assert pid != os.getpid()
    assert (has_pytest, has_azr) == (False, False)


def test_import_os_is_rejected_with_the_policy_on(executor: Executor) -> None:
    result = executor.run("import os\ndef f():\n    return os.getpid()", "")
    assert result.status is Status.REJECTED and "'os'" in result.error


def test_module_attribute_change_does_not_leak(solo: Executor) -> None:
    poison = "import math\ndef f():\n    math.pi = 3\n    return math.pi"
    probe = "import math\ndef f():\n    return math.pi"
    before, poisoned, after, poisoned_alone, after_alone = poison_then_probe(solo, poison, probe)
    assert poisoned.value == 3  # the job changed its own copy ...
    assert before.value == after.value == after_alone.value == 3.141592653589793  # ... only


def test_rebinding_a_builtin_does_not_leak(solo: Executor) -> None:
    poison = "len = lambda x: 99\ndef f():\n    return len([1])"
    probe = "def f():\n    return len([1, 2])"
    before, poisoned, after, _, after_alone = poison_then_probe(solo, poison, probe)
    assert poisoned.value == 99
    assert before.value == after.value == after_alone.value == 2


@pytest.mark.parametrize(
    "poison",
    [
        "import builtins\nbuiltins.len = lambda x: 99\ndef f():\n    return 0",
        "from builtins import len\ndef f():\n    return 0",
        "def f():\n    __builtins__['len'] = lambda x: 99\n    return 0",
        "def f():\n    getattr(len, '__self__').len = lambda x: 99\n    return 0",
    ],
    ids=["import-builtins", "from-builtins", "__builtins__-dict", "len.__self__"],
)
def test_patching_the_builtins_is_refused(solo: Executor, poison: str) -> None:
    probe = "def f():\n    return len([1, 2])"
    before, poisoned, after, poisoned_alone, after_alone = poison_then_probe(solo, poison, probe)
    assert poisoned.status in (Status.REJECTED, Status.ERROR) and not poisoned_alone.ok
    assert before.value == after.value == after_alone.value == 2


@pytest.mark.parametrize(
    "poison",
    [
        prog("""
            import collections
            def f():
                collections.Counter.most_common = lambda self, n=None: 'forged'
                return 0
        """),
        prog("""
            from collections import Counter
            def f():
                setattr(Counter, 'most_common', lambda self, n=None: 'forged')
                return 0
        """),
    ],
    ids=["attribute-store", "setattr"],
)
def test_patching_a_stdlib_class_method_is_refused(solo: Executor, poison: str) -> None:
    probe = "import collections\ndef f():\n    return collections.Counter('abca').most_common(1)"
    before, poisoned, after, poisoned_alone, after_alone = poison_then_probe(solo, poison, probe)
    assert poisoned.status is Status.ERROR and "PermissionError" in poisoned.error
    assert poisoned_alone.status is Status.ERROR
    assert before.value == after.value == after_alone.value == [("a", 2)]


def test_setattr_of_a_new_attribute_on_a_stdlib_class_is_refused(solo: Executor) -> None:
    poison = "import json\ndef f():\n    setattr(json.JSONDecoder, 'forged', 1)\n    return 0"
    probe = "import json\ndef f():\n    return hasattr(json.JSONDecoder, 'forged'), json.loads('[1]')"
    before, poisoned, after, _, after_alone = poison_then_probe(solo, poison, probe)
    assert poisoned.status is Status.ERROR and "PermissionError" in poisoned.error
    assert before.value == after.value == after_alone.value == (False, [1])


def test_decimal_context_does_not_leak(solo: Executor) -> None:
    poison = prog("""
        import decimal
        def f():
            decimal.getcontext().prec = 3
            return str(decimal.Decimal(1) / 3)
    """)
    probe = "import decimal\ndef f():\n    return str(decimal.Decimal(1) / 3)"
    before, poisoned, after, _, after_alone = poison_then_probe(solo, poison, probe)
    assert poisoned.value == "0.333"
    assert before.value == after.value == after_alone.value == "0." + "3" * 28


def test_random_state_is_the_same_at_the_start_of_every_run(solo: Executor) -> None:
    """Every run starts from the same seed (so nothing can differ between validation and
    scoring), and what one run draws or seeds does not move the next run's numbers."""
    poison = "import random\ndef f():\n    random.seed(9)\n    return [random.random() for _ in range(100)]"
    probe = "import random\ndef f():\n    return random.random(), random.Random().random()"
    before, poisoned, after, poisoned_alone, after_alone = poison_then_probe(solo, poison, probe)
    assert poisoned.ok and poisoned_alone.ok
    assert before.value == after.value == after_alone.value
    fresh = random.Random(0).random()
    assert before.value == (fresh, fresh)


@pytest.mark.parametrize(
    "program",
    [
        "def f(x, acc=[]):\n    acc.append(x)\n    return len(acc)",
        "SEEN = []\ndef f(x):\n    SEEN.append(x)\n    return len(SEEN)",
        "def f(x):\n    f.calls = getattr(f, 'calls', 0) + 1\n    return f.calls",
    ],
    ids=["mutable-default", "module-global", "function-attribute"],
)
def test_program_state_starts_fresh_in_every_job(solo: Executor, program: str) -> None:
    before, poisoned, after, poisoned_alone, after_alone = poison_then_probe(solo, program, program, "7")
    assert [r.value for r in (before, poisoned, after, poisoned_alone, after_alone)] == [1] * 5


def test_module_global_of_one_job_is_not_visible_in_the_next(solo: Executor) -> None:
    poison = "LEAKED = 42\ndef f():\n    return LEAKED"
    probe = "def f():\n    return LEAKED"
    before, poisoned, after, _, after_alone = poison_then_probe(solo, poison, probe)
    assert poisoned.value == 42
    for probed in (before, after, after_alone):
        assert probed.status is Status.ERROR and "NameError" in probed.error


def test_registering_with_a_shared_abc_is_refused(solo: Executor) -> None:
    poison = "import collections.abc\ndef f():\n    collections.abc.Sequence.register(int)\n    return 0"
    probe = "import collections.abc\ndef f():\n    return isinstance(7, collections.abc.Sequence)"
    before, poisoned, after, _, after_alone = poison_then_probe(solo, poison, probe)
    assert poisoned.status is Status.ERROR and "not allowed" in poisoned.error
    assert before.value is after.value is after_alone.value is False


@pytest.mark.parametrize(
    ("poison", "probe", "expected"),
    [
        (
            "import textwrap\ndef f():\n    textwrap.TextWrapper.unicode_whitespace_trans[ord('a')] = 'Z'\n"
            "    return 0",
            "import textwrap\ndef f():\n    return textwrap.fill('banana')",
            "banana",
        ),
        (
            "import typing\ndef f():\n    typing.List[int]._name = 'Forged'\n    return 0",
            "import typing\ndef f():\n    return repr(typing.List[int])",
            "typing.List[int]",
        ),
        (
            "import re\ndef f():\n    re.RegexFlag._member_map_['FORGED'] = re.ASCII\n    return 0",
            "import re\ndef f():\n    try:\n        re.RegexFlag['FORGED']\n        return True\n"
            "    except KeyError:\n        return False",
            False,
        ),
    ],
    ids=["class-level-dict", "cached-typing-alias", "enum-member-map"],
)
def test_mutable_objects_reachable_from_shared_modules_do_not_leak(
    solo: Executor, poison: str, probe: str, expected: object
) -> None:
    before, _, after, _, after_alone = poison_then_probe(solo, poison, probe)
    assert before.ok, before.error
    assert before.value == expected
    assert (after.status, after.value) == (Status.OK, expected)
    assert (after_alone.status, after_alone.value) == (Status.OK, expected)


def test_a_job_cannot_read_an_earlier_jobs_program(solo: Executor) -> None:
    secret = f"SECRET_{uuid.uuid4().hex}"
    earlier = f"ANSWER = {secret!r}\ndef f():\n    return 0"
    reader = "def f():\n    return '{0.__globals__[_PROGRAM_CACHE]}'.format(getattr)"
    _, _, in_batch, _, alone = poison_then_probe(solo, earlier, reader)
    for result in (in_batch, alone):
        assert not (result.ok and secret in result.output), "an earlier job's source was readable"


# =======================================================================================
# 2. The OS jail (policy OFF here, to show what the OS layers alone stop)
# =======================================================================================
def test_jail_layers_are_in_force(executor: Executor) -> None:
    iso = executor.isolation
    assert iso.process and iso.namespaces and iso.seccomp and iso.rlimits and iso.policy
    assert not iso.degraded


def test_no_network_socket_creation_refused(os_ex: Executor) -> None:
    result = os_ex.run("import socket\ndef f():\n    socket.socket()\n    return 'created'", "")
    assert result.status is Status.ERROR and "PermissionError" in result.error


def test_no_network_cannot_reach_a_host_listener(os_ex: Executor) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.setblocking(False)
        port = server.getsockname()[1]
        program = prog("""
            import socket
            def f(port):
                try:
                    conn = socket.create_connection(('127.0.0.1', port), timeout=0.5)
                except OSError as exc:
                    return 'refused: ' + type(exc).__name__
                conn.sendall(b'hello')
                return 'connected'
        """)
        result = os_ex.run(program, str(port))
        assert result.ok and result.value.startswith("refused"), (result.status, result.value, result.error)
        with pytest.raises(BlockingIOError):
            server.accept()


WRITE_PROBE = prog("""
    def f(path):
        try:
            with open(path, 'w') as fh:
                fh.write('x')
        except OSError as exc:
            return 'refused: ' + type(exc).__name__
        return 'written'
""")


@pytest.mark.parametrize("directory", ["/", "/usr", "/etc", str(REPO), str(REPO / "tests")])
def test_filesystem_is_read_only_outside_tmp(os_ex: Executor, directory: str) -> None:
    path = os.path.join(directory, f"azr_probe_{uuid.uuid4().hex}")
    result = os_ex.run(WRITE_PROBE, repr(path))
    assert result.ok and result.value.startswith("refused"), (result.status, result.value, result.error)
    assert not os.path.exists(path)


def test_tmp_writes_never_reach_the_host(os_ex: Executor) -> None:
    path = f"/tmp/azr_probe_{uuid.uuid4().hex}"
    small = os_ex.run(WRITE_PROBE, repr(path))
    big = os_ex.run(prog("""
        def f(path):
            try:
                with open(path, 'wb') as fh:
                    fh.write(b'x' * (32 * 2**20))
            except OSError as exc:
                return 'refused: ' + type(exc).__name__
            return 'written'
    """), repr(path + "_big"))
    assert small.status in (Status.OK, Status.ERROR) and big.status in (Status.OK, Status.ERROR)
    assert big.value != "written"  # over the 16 MB file-size cap (or no write at all)
    assert not os.path.exists(path) and not os.path.exists(path + "_big")


def test_host_files_are_not_visible(os_ex: Executor) -> None:
    result = os_ex.run(prog("""
        import os
        def f(paths):
            return [os.path.exists(p) for p in paths]
    """), repr([str(REPO), str(REPO / "pyproject.toml"), __file__, os.path.expanduser("~")]))
    assert result.ok, result.error
    assert result.value[:3] == [False, False, False]


def test_callers_environment_is_not_inherited(monkeypatch: pytest.MonkeyPatch) -> None:
    marker = f"AZR_TEST_SECRET_{uuid.uuid4().hex.upper()}"
    monkeypatch.setenv(marker, "leaked")
    with pytest.warns(RuntimeWarning, match="DEGRADED"):
        ex = Executor(workers=1, timeout_s=2.0, policy=False)
    with ex:
        result = ex.run("import os\ndef f():\n    return dict(os.environ)", "")
    assert result.ok, result.error
    env = result.value
    assert marker not in env and "leaked" not in env.values()
    assert not {"PATH", "HOME", "USER"} & set(env)
    assert len(env) <= 4, env


@pytest.mark.parametrize(
    "body",
    [
        "os.fork()",
        "subprocess.run(['/bin/true'])",
        "subprocess.run([sys.executable, '-c', 'pass'])",
        "os.posix_spawn('/bin/true', ['true'], {})",
        "os.execv('/bin/true', ['true'])",
    ],
    ids=["fork", "subprocess-true", "subprocess-python", "posix_spawn", "execv"],
)
def test_cannot_fork_or_spawn(os_ex: Executor, body: str) -> None:
    program = prog(f"""
        import os, subprocess, sys
        def f():
            try:
                {body}
            except OSError as exc:
                return 'refused: ' + type(exc).__name__
            return 'spawned'
    """)
    result = os_ex.run(program, "")
    assert result.ok and result.value.startswith("refused"), (result.status, result.value, result.error)


@pytest.mark.parametrize(
    "target", ["os.getppid()", "TEST_PID", "0", "-1"], ids=["ppid", "test-pid", "group", "all"]
)
def test_cannot_signal_the_parent_or_the_caller(os_ex: Executor, target: str) -> None:
    program = prog(f"""
        import os, signal
        TEST_PID = {os.getpid()}
        def f():
            try:
                os.kill({target}, signal.SIGKILL)
            except OSError as exc:
                return 'refused: ' + type(exc).__name__
            return 'sent'
    """)
    result = os_ex.run(program, "")
    assert result.ok and result.value.startswith("refused"), (result.status, result.value, result.error)
    assert os_ex.run("def f():\n    return 5", "").value == 5  # worker and caller carry on


# =======================================================================================
# 3. Limits: processes, memory, recursion, CPU, output size
# =======================================================================================
def test_fork_bomb_is_refused(os_ex: Executor) -> None:
    before = steady_tree(os_ex)
    bomb = "import os\ndef f():\n    while True:\n        os.fork()"
    (bombed, after), elapsed = timed_batch(os_ex, [Job(bomb, ""), Job("def f(x):\n    return x + 1", "1")])
    assert bombed.status is not Status.OK and "PermissionError" in (bombed.error or "")
    assert (after.status, after.value) == (Status.OK, 2)
    assert elapsed < os_ex.timeout_s + SLACK_S
    assert len(steady_tree(os_ex)) == len(before)


@pytest.mark.parametrize(
    "bomb",
    [
        "def f():\n    return [0] * 10**10",
        "def f():\n    return 'a' * (2**33)",
        "def f():\n    grow = []\n    while True:\n        grow.append([0] * 10**6)",
        "def f():\n    return bytearray(10**12)",
    ],
    ids=["list-multiply", "str-multiply", "growing-list", "bytearray"],
)
def test_memory_bomb_gives_memory_and_the_batch_carries_on(solo: Executor, bomb: str) -> None:
    good = Job("def f(x):\n    return x * 2", "21")
    (bombed, after), elapsed = timed_batch(solo, [Job(bomb, ""), good])
    assert bombed.status is Status.MEMORY, (bombed.status, bombed.error)
    assert bombed.output is None and bombed.value is None
    assert (after.status, after.value) == (Status.OK, 42)
    assert elapsed < solo.timeout_s + SLACK_S


def test_deep_recursion_is_an_error(solo: Executor) -> None:
    deep = Job("def f(n):\n    return f(n + 1) + 1", "0")
    (result, after), elapsed = timed_batch(solo, [deep, Job("def f():\n    return 'fine'", "")])
    assert result.status is Status.ERROR and "RecursionError" in result.error
    assert (after.status, after.value) == (Status.OK, "fine")
    assert elapsed < solo.timeout_s + SLACK_S


CPU_HOGS = {
    "huge-power": "def f():\n    return 10**10**8",
    "regex-backtracking": "import re\ndef f():\n    return bool(re.match(r'(a+)+$', 'a' * 64 + 'b'))",
    "catches-the-alarm": prog("""
        def f():
            while True:
                try:
                    while True:
                        pass
                except BaseException:
                    pass
    """),
    "busy-loop-in-finally": prog("""
        def f():
            try:
                while True:
                    pass
            finally:
                while True:
                    pass
    """),
}


@pytest.mark.parametrize("program", list(CPU_HOGS.values()), ids=list(CPU_HOGS))
def test_cpu_hog_times_out_within_the_limit_and_the_batch_carries_on(solo: Executor, program: str) -> None:
    good = Job("def f(x):\n    return [x] * 3", "'ok'")
    (hog, after), elapsed = timed_batch(solo, [Job(program, ""), good])
    assert hog.status is Status.TIMEOUT, (hog.status, hog.error)
    assert hog.output is None and hog.value is None
    assert (after.status, after.value) == (Status.OK, ["ok"] * 3)
    assert elapsed < solo.timeout_s + SLACK_S


def test_output_size_cap_is_never_truncated(executor: Executor) -> None:
    result = executor.run("def f():\n    return 'x' * 2_000_000", "")
    assert result.status is Status.OUTPUT_TOO_LARGE
    assert result.output is None and result.value is None
    # Just under the cap is returned whole.
    fits = executor.run("def f():\n    return 'x' * 900_000", "")
    assert fits.ok and fits.value == "x" * 900_000


@pytest.mark.parametrize(
    "program",
    [
        "def f():\n    v = 0\n    for _ in range(200):\n        v = [v]\n    return v",
        "def f():\n    v = {}\n    for _ in range(200):\n        v = {'k': v}\n    return v",
        "def f():\n    v = []\n    v.append(v)\n    return v",
        "def f():\n    return list(range(200_000))",
        "def f():\n    return 10 ** 2_000_000",
    ],
    ids=["nested-lists", "nested-dicts", "self-containing", "too-many-items", "huge-int"],
)
def test_oversized_values_are_output_too_large(executor: Executor, program: str) -> None:
    result = executor.run(program, "")
    assert result.status is Status.OUTPUT_TOO_LARGE, (result.status, result.error)
    assert result.output is None and result.value is None


# =======================================================================================
# 4. The source policy
# =======================================================================================
@pytest.mark.parametrize(
    ("statement", "named"),
    [
        ("import os", "'os'"),
        ("import sys", "'sys'"),
        ("import subprocess", "'subprocess'"),
        ("import socket", "'socket'"),
        ("import ctypes", "'ctypes'"),
        ("import importlib", "'importlib'"),
        ("import builtins", "'builtins'"),
        ("import pickle", "'pickle'"),
        ("from os import path", "'os'"),
        ("import os.path as p", "'os.path'"),
        ("import math, marshal", "'marshal'"),
        ("from importlib import import_module", "'importlib'"),
        ("from . import sibling", "relative"),
        ("from .. import parent", "relative"),
    ],
)
def test_forbidden_imports_are_rejected_with_module_and_line(
    executor: Executor, statement: str, named: str
) -> None:
    program = f"# a comment\nX = 1\n{statement}\ndef f():\n    return X\n"
    result = executor.run(program, "")
    assert result.status is Status.REJECTED, (result.status, result.error)
    assert named in result.error and "line 3" in result.error


def test_forbidden_import_inside_a_function_is_rejected(executor: Executor) -> None:
    result = executor.run("def f():\n    x = 1\n    import os\n    return x", "")
    assert result.status is Status.REJECTED and "'os'" in result.error and "line 3" in result.error


@pytest.mark.parametrize("name", ["open", "exec", "eval", "compile", "__import__", "globals", "locals",
                                  "vars", "breakpoint", "__builtins__"])
def test_forbidden_builtins_are_rejected_naming_construct_and_line(executor: Executor, name: str) -> None:
    program = f"def f():\n    y = 2\n    return {name}('1')\n"
    result = executor.run(program, "")
    assert result.status is Status.REJECTED, (result.status, result.error)
    assert f"'{name}'" in result.error and "line 3" in result.error


@pytest.mark.parametrize(
    ("program", "construct"),
    [
        ("def f():\n    return ().__class__.__bases__[0].__subclasses__()", "__bases__|__subclasses__"),
        ("def f():\n    return f.__globals__", "__globals__"),
        ("def f():\n    x = 1\n    return x.__dict__", "__dict__"),
        ("def f():\n    return f.__code__", "__code__"),
        ("def f():\n    return (lambda: 0).__closure__", "__closure__"),
        ("def f():\n    return [].append.__self__", "__self__"),
        ("def f():\n    return object.__subclasses__()", "__subclasses__"),
        ("def f():\n    g = (x for x in [1])\n    return g.gi_frame.f_back", "gi_frame|f_back"),
        ("def f():\n    g = (x for x in [1])\n    return g.gi_code", "gi_code"),
        ("def f():\n    try:\n        1 / 0\n    except Exception as e:\n        return e.__traceback__",
         "__traceback__"),
        ("class A:\n    pass\ndef f():\n    a = A()\n    a.__class__ = int\n    return 1", "__class__"),
        ("def f():\n    return __loader__", "__loader__"),
    ],
)
def test_dunder_chains_and_introspection_are_rejected(
    executor: Executor, program: str, construct: str
) -> None:
    """Rejected, naming one of the forbidden attributes in the chain (| separates them)."""
    result = executor.run(program, "")
    assert result.status is Status.REJECTED, (result.status, result.error)
    assert any(f"'{name}'" in result.error for name in construct.split("|")), result.error
    assert "line " in result.error


RUNTIME_BYPASSES = {
    "getattr-concat": "def f():\n    return getattr(f, '__glo' + 'bals__')",
    "getattr-frame": "def f():\n    g = (x for x in [1])\n    return getattr(g, 'gi_' + 'frame')",
    "attrgetter": "import operator\ndef f():\n    return operator.attrgetter('__class__.__base__')(1)",
    "methodcaller": "import operator\ndef f():\n    return operator.methodcaller('__subclasses__')(object)",
    "Formatter.get_field": (
        "import string\ndef f():\n    return string.Formatter().get_field('0.__globals__', [f], {})"
    ),
    "get_type_hints": "import typing\ndef f():\n    return typing.get_type_hints(f)",
    "vars": "def f():\n    return vars(f)",
    "str.format": "def f():\n    return '{0.__globals__}'.format(f)",
    "singledispatch-annotation": prog("""
        import functools
        LEAK = []
        @functools.singledispatch
        def dispatch(x):
            return 0
        def handler(x: "(LEAK.append(().__class__.__base__.__subclasses__()), int)[1]"):
            return 1
        def f():
            dispatch.register(handler)
            return len(LEAK[0])
    """),
    "dataclass-field-name": prog("""
        import dataclasses
        def f():
            name = "__class__,__import__('os').getpid())#"
            cls = type('A', (), {'__annotations__': {name: int}})
            cls = dataclasses.dataclass(init=False, repr=False)(cls)
            a = cls()
            return (a == a)[1]
    """),
}


@pytest.mark.parametrize("program", list(RUNTIME_BYPASSES.values()), ids=list(RUNTIME_BYPASSES))
def test_runtime_bypasses_never_succeed(solo: Executor, program: str) -> None:
    result = solo.run(program, "")
    assert result.status in (Status.REJECTED, Status.ERROR), (result.status, result.output, result.error)


def test_accepts_ordinary_programs(executor: Executor) -> None:
    program = prog('''
        import functools

        class Point:
            def __init__(self, x, y):
                self.x = x
                self.y = y

            def __repr__(self):
                return f"Point({self.x}, {self.y})"

            def __eq__(self, other):
                return (self.x, self.y) == (other.x, other.y)

            def __lt__(self, other):
                return (self.x, self.y) < (other.x, other.y)

            def norm(self):
                return abs(self.x) + abs(self.y)

        def helper(n):
            def inner(k):
                return k * 2
            return [inner(i) for i in range(n)]

        def fact(n):
            return 1 if n <= 1 else n * fact(n - 1)

        def f(input):
            _ = 1
            __ = 2
            _____ = 3
            points = sorted([Point(2, 1), Point(1, 5), Point(1, 2)])
            total = functools.reduce(lambda a, b: a + b, map(Point.norm, points))
            squares = {k: k * k for k in range(input)}
            for _ in range(2):
                pass
            return ([repr(p) for p in points], Point(1, 2) == Point(1, 2), total, helper(input),
                    fact(input), squares, _ + __ + _____, input)
    ''')
    result = executor.run(program, "4")
    assert result.ok, result.error
    assert result.value == (
        ["Point(1, 2)", "Point(1, 5)", "Point(2, 1)"], True, 12, [0, 2, 4, 6], 24,
        {0: 0, 1: 1, 2: 4, 3: 9}, 1 + 2 + 3, 4,
    )


def test_accepts_a_parameter_shadowing_a_forbidden_name(executor: Executor) -> None:
    result = executor.run("def f(open, input):\n    return open + input", "1, 2")
    assert (result.status, result.value) == (Status.OK, 3)


def test_no_cruxeval_program_is_rejected(executor: Executor, cruxeval_rows: list[dict]) -> None:
    assert len(cruxeval_rows) == 800
    jobs = [Job(row["code"], row["input"], evaluate_args=True) for row in cruxeval_rows]
    results = executor.run_batch(jobs)
    rejected = [(row["id"], r.error) for row, r in zip(cruxeval_rows, results, strict=True)
                if r.status is Status.REJECTED]
    assert rejected == []


# =======================================================================================
# 5. The harness cannot be spoofed
# =======================================================================================
def _forged_frame() -> bytes:
    payload = pickle.dumps((0, "ok", "'forged'", "forged", None, 0.0, False), protocol=5)
    return struct.pack(">I", len(payload)) + payload


def test_printing_a_fake_result_is_ignored(executor: Executor) -> None:
    program = prog(f"""
        def f():
            print('ok 42')
            print({_forged_frame()!r})
            print("Result(status='ok', output='42')")
            return 'honest'
    """)
    result = executor.run(program, "")
    assert (result.status, result.value) == (Status.OK, "honest")


def test_writing_a_fake_frame_to_stdout_and_stderr_is_ignored(os_ex: Executor) -> None:
    program = prog(f"""
        import os, sys
        def f():
            frame = {_forged_frame()!r}
            os.write(1, frame)
            os.write(2, frame)
            sys.stdout.write('ok 42\\n')
            sys.stdout.flush()
            return 'honest'
    """)
    results = os_ex.run_batch([Job(program, ""), Job("def f():\n    return 'next'", "")])
    assert [(r.status, r.value) for r in results] == [(Status.OK, "honest"), (Status.OK, "next")]


@pytest.mark.parametrize(
    "program",
    [
        "def f():\n    raise SystemExit(0)",
        "def f():\n    raise SystemExit('ok 42')",
        "def f():\n    raise KeyboardInterrupt",
        "def f():\n    raise GeneratorExit",
        "raise SystemExit(0)\ndef f():\n    return 1",
    ],
)
def test_exiting_is_an_error_not_ok(executor: Executor, program: str) -> None:
    results = executor.run_batch([Job(program, ""), Job("def f():\n    return 'next'", "")])
    assert results[0].status is Status.ERROR and results[0].output is None
    assert (results[1].status, results[1].value) == (Status.OK, "next")


@pytest.mark.parametrize(
    "program",
    [
        "import sys\ndef f():\n    sys.exit(0)",
        "import os\ndef f():\n    os._exit(0)",
        "import os\ndef f():\n    os.abort()",
    ],
    ids=["sys.exit", "os._exit", "os.abort"],
)
def test_exiting_the_worker_is_never_ok(os_ex: Executor, program: str) -> None:
    results = os_ex.run_batch([Job(program, ""), Job("def f():\n    return 'next'", "")])
    assert results[0].status is not Status.OK and results[0].output is None
    assert (results[1].status, results[1].value) == (Status.OK, "next")


@pytest.mark.parametrize(
    "program",
    [
        prog("""
            class Liar:
                def __eq__(self, other):
                    return True
                def __repr__(self):
                    return '42'
            def f():
                return Liar()
        """),
        "class S(str):\n    pass\ndef f():\n    return S('42')",
        "class I(int):\n    def __repr__(self):\n        return '43'\ndef f():\n    return I(42)",
        "class L(list):\n    pass\ndef f():\n    return [1, L([2])]",
        "class D(dict):\n    pass\ndef f():\n    return {'k': D()}",
        "import collections\ndef f():\n    return collections.OrderedDict(a=1)",
        "def f():\n    return f",
        "def f():\n    return (x for x in [1])",
        "def f():\n    return {1: object()}",
    ],
    ids=["custom-eq-repr", "str-subclass", "int-subclass", "nested-list-subclass", "dict-subclass",
         "ordereddict", "function", "generator", "object"],
)
def test_non_builtin_return_values_are_unsupported(executor: Executor, program: str) -> None:
    result = executor.run(program, "")
    assert result.status is Status.UNSUPPORTED_VALUE, (result.status, result.error)
    assert result.output is None and result.value is None


@pytest.mark.parametrize(
    "args",
    [
        "0) or ('forged'",
        "1), 'x'",
        "1), ('forged'",
        "1)\nf(2",
        "1) if False else ('forged'",
        "1)[0:0] or ('forged'",
        "*[1]), ('forged'",
    ],
)
def test_args_injection_is_rejected(executor: Executor, args: str) -> None:
    result = executor.run("def f(x):\n    return x", args)
    assert result.status in (Status.REJECTED, Status.ERROR), (result.status, result.output)
    assert result.value != "forged"


def test_returning_after_catching_the_timeout_is_a_timeout(solo: Executor) -> None:
    program = prog("""
        def f():
            try:
                while True:
                    pass
            except BaseException:
                return 'forged'
    """)
    (result, after), elapsed = timed_batch(solo, [Job(program, ""), Job("def f():\n    return 1", "")])
    assert result.status is Status.TIMEOUT and result.value is None and result.output is None
    assert (after.status, after.value) == (Status.OK, 1)
    assert elapsed < solo.timeout_s + SLACK_S


def test_a_job_cannot_forge_the_result_of_a_later_job(solo: Executor) -> None:
    poison = prog("""
        import dataclasses
        def f(x):
            code = ("__class__,__import__('sys').modules['__main__'].__dict__.__setitem__('_canonical', "
                    "lambda results: ('ok', repr('forged'), 'forged', None)))#")
            cls = type('A', (), {'__annotations__': {code: int}})
            cls = dataclasses.dataclass(init=False, repr=False)(cls)
            a = cls()
            a == a
            return x
    """)
    honest = "def f(x):\n    return x"
    _, _, in_batch, _, alone = poison_then_probe(solo, poison, honest, "41")
    assert (in_batch.status, in_batch.value) == (Status.OK, 41)
    assert (alone.status, alone.value) == (Status.OK, 41)


# =======================================================================================
# 6. Faults: dying workers, hangs, leftover processes
# =======================================================================================
@pytest.mark.parametrize(
    "crash",
    [
        "import ctypes\ndef f():\n    return ctypes.string_at(0)",
        "import os\ndef f():\n    os.kill(os.getpid(), 9)\n    return 'alive'",
        "import os\ndef f():\n    os._exit(3)",
    ],
    ids=["segfault", "kill-self", "exit"],
)
def test_a_dying_worker_fails_only_its_job(os_ex: Executor, crash: str) -> None:
    jobs = [Job("def f(x):\n    return x * 10", str(i)) for i in range(3)]
    jobs.insert(1, Job(crash, ""))
    results, elapsed = timed_batch(os_ex, jobs)
    assert results[1].status is not Status.OK and results[1].output is None
    assert [(r.status, r.value) for i, r in enumerate(results) if i != 1] == [(Status.OK, 0), (Status.OK, 10),
                                                                             (Status.OK, 20)]
    assert elapsed < os_ex.timeout_s + SLACK_S


def test_a_crashed_child_is_named_and_reaped(os_ex: Executor) -> None:
    before = len(steady_tree(os_ex))
    zygotes = worker_pids(os_ex)
    result = os_ex.run("import ctypes\ndef f():\n    return ctypes.string_at(0)", "")
    assert result.status is Status.ERROR and "SIGSEGV" in result.error
    assert os_ex.run("def f():\n    return 'next'", "").value == "next"
    assert worker_pids(os_ex) == zygotes  # a crash costs one child, never the zygote
    assert len(steady_tree(os_ex)) == before


def test_a_killed_timed_out_child_leaves_no_process(solo: Executor) -> None:
    before = steady_tree(solo)
    assert len(before) >= 1
    stubborn = CPU_HOGS["catches-the-alarm"]
    assert solo.run(stubborn, "").status is Status.TIMEOUT
    assert len(steady_tree(solo)) == len(before)
    busy = [pid for pid in worker_tree(solo) if _proc_table().get(pid, (0, ""))[1] == "R"]
    assert eventually(lambda: not [p for p in busy if alive(p) and _proc_table().get(p, (0, ""))[1] == "R"])
    assert solo.run("def f():\n    return 3", "").value == 3


def test_a_finaliser_never_runs_after_the_result_is_taken(solo: Executor) -> None:
    slow = prog("""
        class Slow:
            def __del__(self):
                while True:
                    pass
        def f():
            a = Slow()
            a.me = a
            return 1
    """)
    (result, after), elapsed = timed_batch(solo, [Job(slow, ""), Job("def f():\n    return 2", "")])
    assert (result.status, result.value, after.value) == (Status.OK, 1, 2)
    assert elapsed < solo.timeout_s


def test_close_leaves_no_worker_processes() -> None:
    before = descendants(os.getpid())
    ex = Executor(workers=2, timeout_s=1.0)
    results = ex.validate_batch([Job("def f(x):\n    return x", "1")])  # starts the second-opinion workers
    assert results[0].ok
    tree = worker_tree(ex)
    assert len(worker_pids(ex)) == 2 and tree  # one zygote per string-hash seed
    ex.close()
    assert still_alive_after(tree) == set()
    assert descendants(os.getpid()) - before == set()
    ex.close()  # a second close is harmless
    with pytest.raises(RuntimeError, match="closed"):
        ex.run("def f():\n    return 1", "")


CHILD = """
import json, os, sys
from pathlib import Path
from azr_env.executor import Executor

def descendants(root):
    children = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                stat = Path(f'/proc/{entry}/stat').read_text()
            except OSError:
                continue
            children.setdefault(int(stat[stat.rindex(')') + 2:].split()[1]), []).append(int(entry))
    found, stack = set(), [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return sorted(found)

ex = Executor(workers=2, timeout_s=1.0)
assert ex.run('def f():\\n    return 1', '').value == 1
print(json.dumps(descendants(os.getpid())), flush=True)
if sys.argv[1] == 'hard':
    os._exit(0)
"""


@pytest.mark.parametrize("how", ["normal", "hard"])
def test_a_process_that_exits_without_close_leaves_no_orphans(how: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, how], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert done.returncode == 0, done.stderr[-2000:]
    pids = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert len(pids) >= 2  # two workers, each at least one process
    assert still_alive_after(pids) == set()


# =======================================================================================
# Determinism: validate_batch
# =======================================================================================
LONG_WORDS = [f"{word}_{word[::-1]}_{i}" for i, word in enumerate(
    ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"])]

NONDETERMINISTIC = {
    "random": ("import random\ndef f():\n    return random.random()", ""),
    "random-choice": ("import random\ndef f(xs):\n    return random.choice(xs)", repr(list(range(1000)))),
    "time": ("import time\ndef f():\n    return time.time()", ""),
    "perf-counter": ("import time\ndef f():\n    return time.perf_counter_ns()", ""),
    "id": ("def f():\n    return id(object())", ""),
    "id-of-arg": ("def f(x):\n    return id(x)", "[1]"),
    "set-order": (f"def f():\n    return list({set(LONG_WORDS)!r})", ""),
    "set-order-joined": ("def f(words):\n    return ','.join(set(words))", repr(LONG_WORDS)),
    "hash": ("def f(s):\n    return hash(s)", "'some long string'"),
    "mutable-default": ("def f(x, acc=[]):\n    acc.append(x)\n    return list(acc)", "1"),
    "function-attribute": ("def f():\n    f.n = getattr(f, 'n', 0) + 1\n    return f.n", ""),
    "module-global": ("N = 0\ndef f():\n    global N\n    N += 1\n    return N", ""),
    "closure-counter": (
        "def make():\n    count = [0]\n    def g():\n        count[0] += 1\n        return count[0]\n"
        "    return g\nG = make()\ndef f():\n    return G()", ""),
}


@pytest.mark.parametrize(("program", "args"), list(NONDETERMINISTIC.values()), ids=list(NONDETERMINISTIC))
def test_validate_rejects_nondeterministic_programs(executor: Executor, program: str, args: str) -> None:
    result = executor.validate_batch([Job(program, args)])[0]
    assert result.status is Status.NONDETERMINISTIC, (result.status, result.output, result.error)
    assert result.output is None


DETERMINISTIC = {
    "sorted-set": (f"def f():\n    return sorted({set(LONG_WORDS)!r})", "", sorted(LONG_WORDS)),
    "set-value": ("def f(words):\n    return set(words)", repr(LONG_WORDS), set(LONG_WORDS)),
    "seeded-random": (
        "import random\ndef f():\n    random.seed(1)\n    return [random.randint(0, 99) for _ in range(5)]",
        "",
        [17, 72, 97, 8, 32],
    ),
    "own-random-instance": ("import random\ndef f():\n    return random.Random(7).random()", "",
                            random.Random(7).random()),
    "arg-mutation": ("def f(xs):\n    xs.append(1)\n    return xs", "[0]", [0, 1]),
    "local-state": ("def f(n):\n    acc = []\n    for i in range(n):\n        acc.append(i)\n    return acc",
                    "3", [0, 1, 2]),
}


@pytest.mark.parametrize(
    ("program", "args", "expected"), list(DETERMINISTIC.values()), ids=list(DETERMINISTIC)
)
def test_validate_accepts_deterministic_programs(
    executor: Executor, program: str, args: str, expected: object
) -> None:
    result = executor.validate_batch([Job(program, args)])[0]
    assert result.ok, (result.status, result.error)
    assert result.value == expected


def test_validate_mixed_batch_keeps_order(executor: Executor) -> None:
    jobs = [
        Job("def f(x):\n    return x", "1"),
        Job(*NONDETERMINISTIC["random"]),
        Job("def f():\n    return 2", ""),
    ]
    statuses = [r.status for r in executor.validate_batch(jobs)]
    assert statuses == [Status.OK, Status.NONDETERMINISTIC, Status.OK]


# =======================================================================================
# Garbage in: every str gives a Result, never an exception
# =======================================================================================
_junk_rng = random.Random(1234)
BINARY_JUNK = bytes(_junk_rng.randrange(256) for _ in range(4000)).decode("latin-1")

GARBAGE_PROGRAMS = {
    "syntax-error": "def f(:\n    return 1",
    "empty": "",
    "whitespace": "   \n\t\n",
    "no-f": "def g():\n    return 1",
    "f-not-callable": "f = 3",
    "f-is-none": "f = None",
    "indentation": "def f():\nreturn 1",
    "one-mb-invalid": "def f(:\n" + "x" * 2**20,
    "binary-junk": BINARY_JUNK,
    "nul-byte": "def f():\n    return 1\x00",
    "nul-in-string": "def f():\n    return '\x00'",
    "deep-parens": "(" * 10000,
    "deep-balanced-parens": "def f():\n    return " + "(" * 5000 + "1" + ")" * 5000,
    "deep-unary": "def f():\n    return " + "-" * 100_000 + "1",
    "long-sum": "def f():\n    return " + "+".join(["1"] * 100_000),
    "lone-surrogate": "def f():\n    return 1 \ud800",
    "bom": "\ufeffdef f():\n    return 1 +",
    "undefined-name": "def f():\n    return undefined_name",
    "raises-at-import": "raise ValueError('boom')\ndef f():\n    return 1",
}


@pytest.mark.parametrize("program", list(GARBAGE_PROGRAMS.values()), ids=list(GARBAGE_PROGRAMS))
def test_garbage_programs_give_a_result(solo: Executor, program: str) -> None:
    results = solo.run_batch([Job(program, ""), Job("def f():\n    return 'next'", "")])
    assert isinstance(results[0], Result)
    assert results[0].status in (Status.ERROR, Status.REJECTED), (results[0].status, results[0].error)
    assert results[0].error and results[0].output is None
    assert (results[1].status, results[1].value) == (Status.OK, "next")


def test_one_megabyte_valid_program_runs(executor: Executor) -> None:
    filler = "".join(f"C{i} = {i}\n" for i in range(60_000))
    program = filler + "# " + "x" * (2**20 - len(filler)) + "\ndef f():\n    return C59999\n"
    assert len(program) > 2**20
    result = executor.run(program, "")
    assert (result.status, result.value) == (Status.OK, 59999)


@pytest.mark.parametrize(
    "args",
    ["(", ")", "1,,", "x=", "*", "'\x00'", "(" * 10000, "1 2", "\ud800", BINARY_JUNK[:200], "import os"],
)
def test_unparseable_args_give_a_result(executor: Executor, args: str) -> None:
    result = executor.run("def f(*a, **k):\n    return 1", args)
    assert result.status in (Status.ERROR, Status.REJECTED), (result.status, result.error)
    assert result.error and result.output is None


@pytest.mark.parametrize(
    "jobs",
    [
        [Job(b"def f():\n    return 1", "")],  # type: ignore[arg-type]
        [Job(None, "")],  # type: ignore[arg-type]
        [Job("def f():\n    return 1", 1)],  # type: ignore[arg-type]
        ["def f():\n    return 1"],
        "def f():\n    return 1",
        [("def f():\n    return 1", "")],
    ],
    ids=["bytes-program", "none-program", "int-args", "str-in-list", "bare-str", "tuple"],
)
def test_wrong_argument_types_raise_type_error(executor: Executor, jobs: object) -> None:
    with pytest.raises(TypeError, match=r"str|Job"):
        executor.run_batch(jobs)  # type: ignore[arg-type]
    assert executor.run("def f():\n    return 'still fine'", "").value == "still fine"


# =======================================================================================
# Every run of a program sees the same world: no source of variation between samples
# =======================================================================================
SAME_IN_EVERY_RUN = {
    "id": "def f():\n    return id(object())",
    "default-hash": "def f():\n    return hash(object())",
    "default-repr": "def f():\n    return repr(object())",
    "set-of-objects": "class A:\n    pass\ndef f():\n    return [str(a) for a in {A() for _ in range(9)}]",
    "clock": "import time, datetime\ndef f():\n    return time.time(), str(datetime.date.today())",
    "random": "import random\ndef f():\n    return random.random(), random.Random().random()",
}


@pytest.mark.parametrize("program", list(SAME_IN_EVERY_RUN.values()), ids=list(SAME_IN_EVERY_RUN))
def test_every_run_of_a_program_sees_the_same_world(executor: Executor, program: str) -> None:
    """Addresses, clock and random numbers cannot tell one run (one learnability sample,
    validation from scoring) from another: each run starts from the same memory image."""
    noise = [Job("def f(x):\n    return len([object() for _ in range(x)])", str(i * 97)) for i in range(10)]
    jobs = [job for pair in zip([Job(program, "")] * 10, noise, strict=True) for job in pair]
    outputs = {r.output for r in executor.run_batch(jobs)[::2]}
    assert len(outputs) == 1 and None not in outputs


@pytest.mark.parametrize("program", list(SAME_IN_EVERY_RUN.values()), ids=list(SAME_IN_EVERY_RUN))
def test_validation_rejects_a_program_that_depends_on_them(executor: Executor, program: str) -> None:
    assert executor.validate_batch([Job(program, "")])[0].status is Status.NONDETERMINISTIC
