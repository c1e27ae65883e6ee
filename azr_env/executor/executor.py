"""The sandboxed executor: every program runs in a fresh, jailed process of its own.

Design, in one paragraph: per string-hash seed, one *zygote* (``_zygote.py``) runs inside
bubblewrap with every allowed module imported.  It forks a few idle children ahead of
need.  To run a program (with all of its inputs) the caller takes an idle child, writes
the job straight into the child's pipe, and reads one result record per input straight
from the child's other pipe; the child runs nothing else and exits.  A child that overruns
its deadline is killed (the zygote does it when asked, and reports every exit status so
that a crash is named by its signal).  Forking a warm template is what makes one process
per program affordable; one process per program is what makes programs unable to touch
each other.  The caller believes nothing a child sends: records are bounded and checked,
and the only payload is text, which it parses without evaluating.
"""

from __future__ import annotations

import array
import atexit
import ctypes
import dataclasses
import json
import logging
import math
import os
import pickle
import queue
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
import weakref
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from . import _protocol as proto
from . import jail as jail_lib
from .base import (
    BaseExecutor,
    Job,
    Program,
    Result,
    Status,
    as_programs,
    check_int,
    check_limits,
)
from .jail import Isolation

log = logging.getLogger("azr_env.executor")

_KILL_GRACE_S = 0.5  # the caller kills this long after the child's own alarm
_DEATH_REPORT_S = 2.0  # how long to wait for the zygote to say how a child died
_MAX_START_ATTEMPTS = 3  # a job whose child dies before starting it is tried this often
# Validation asks a program to run in half the limit, so that a task near the limit cannot
# time out in some learnability samples and not in others.
VALIDATION_TIME_FRACTION = 0.5
# Not -I: its -E would ignore PYTHONHASHSEED, and every zygote would hash strings with a secret
# of its own, so two executors (or two Ray nodes) could disagree on hash('a') % 2.  The
# environment is ours alone (bubblewrap --clearenv, or env= without it), so -E guards nothing.
_PYTHON_FLAGS = ("-s", "-S", "-B", *(("-P",) if sys.version_info >= (3, 11) else ()))
# The clock and random seed each kind of zygote gives its children (see _jobspace.py).
_SEED_CLASSES = (
    {"hash_seed": "0", "clock": 1_700_000_000.0, "random_seed": 0},
    {"hash_seed": "1", "clock": 1_800_000_000.123456, "random_seed": 1},
)


_STATUS = [Status(name) for name in proto.STATUS_CODES]


# ---------------------------------------------------------------------------------------
# Starting processes from one long-lived thread
# ---------------------------------------------------------------------------------------
_libc = ctypes.CDLL(None, use_errno=True)


_ADDR_NO_RANDOMIZE = 0x0040000


def _before_exec() -> None:  # runs in the child between fork and exec
    _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    # The same addresses in every zygote of a seed class, on every machine with the same
    # software: id(), default hashes and reprs then cannot differ between two executors or two
    # Ray nodes (seed class 1 shifts its layout on purpose, so validation still sees them).
    _libc.personality(_libc.personality(0xFFFFFFFF) | _ADDR_NO_RANDOMIZE)


class _Spawner:
    """Starts every zygote from one thread that lives as long as the process.

    ``PR_SET_PDEATHSIG`` (ours, and bubblewrap's ``--die-with-parent``) fires when the
    *thread* that started a process ends.  A zygote started from a short-lived thread would
    die with it, and take its children's jobs along.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._requests: queue.SimpleQueue = queue.SimpleQueue()

    def popen(self, cmd: list[str], **kwargs: Any) -> subprocess.Popen:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():  # also after a fork
                self._requests = queue.SimpleQueue()
                self._thread = threading.Thread(target=self._serve, name="azr-sandbox-spawner", daemon=True)
                self._thread.start()
        done: queue.SimpleQueue = queue.SimpleQueue()
        self._requests.put((cmd, kwargs, done))
        outcome = done.get()
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def _serve(self) -> None:
        requests = self._requests
        while True:
            cmd, kwargs, done = requests.get()
            try:
                done.put(subprocess.Popen(cmd, preexec_fn=_before_exec, **kwargs))
            except BaseException as exc:  # handed back to the caller
                done.put(exc)


_SPAWNER = _Spawner()


# ---------------------------------------------------------------------------------------
# The caller's view of zygotes, children and programs
# ---------------------------------------------------------------------------------------
@dataclass
class _Domain:
    """One child's work: a program on a slice ``[start, end)`` of its inputs.

    ``results`` is the whole program's list, shared by every slice of it.
    """

    program: Program
    start: int
    end: int
    results: list[Result | None]
    calls: int
    timeout_s: float
    attempts: int = 0
    longest_after: list[float] | None = None  # the largest time limit from each input on

    def __post_init__(self) -> None:
        limits = self.program.time_limits
        if limits is not None:
            longest, suffix = 0.0, []
            for limit in reversed(limits):
                longest = max(longest, limit)
                suffix.append(longest)
            self.longest_after = suffix[::-1]

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.program.inputs[self.start : self.end]

    @property
    def budget_s(self) -> float | None:
        return self.program.budget_s

    @property
    def done(self) -> bool:
        return all(r is not None for r in self.results[self.start : self.end])

    def finish(self, index: int, result: Result) -> None:
        """Result for input ``index`` (of the program); with ``stop_on_failure``, the
        inputs after it in this slice are not run."""
        self.results[index] = result
        if not result.ok and self.program.stop_on_failure:
            for later in range(index + 1, self.end):
                if self.results[later] is None:
                    self.results[later] = _not_run(index, result.status)

    def rest(self, index: int) -> _Domain | None:
        """Without ``stop_on_failure``: the inputs after ``index`` that a dead child left."""
        if self.program.stop_on_failure or index + 1 >= self.end:
            return None
        return _Domain(self.program, index + 1, self.end, self.results, self.calls, self.timeout_s)


class _Child:
    """A sandboxed child process, from the caller's side: two pipe ends and its state."""

    def __init__(self, zygote: _Zygote, child_id: int, pid: int, job_fd: int, result_fd: int) -> None:
        self.zygote = zygote
        self.id = child_id
        self.pid = pid
        self.job_fd = job_fd
        self.result_fd = result_fd
        self.domain: _Domain | None = None
        self.pending = b""  # job bytes not yet written
        self.buffer = bytearray()
        self.started = False
        self.next_index = 0
        self.failed = False  # a non-ok result came: only DONE may follow
        self.deadline = math.inf
        self.run_start = 0.0
        self.budget_deadline = math.inf
        self.dying_since: float | None = None  # EOF without DONE: waiting for the exit status
        self.exit_status: int | None = None
        self.closed = False
        os.set_blocking(job_fd, False)
        os.set_blocking(result_fd, False)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            for fd in (self.job_fd, self.result_fd):
                try:
                    os.close(fd)
                except OSError:
                    pass


class _Zygote:
    """One zygote process (for one string-hash seed), from the caller's side."""

    def __init__(self, executor: Executor, seed_class: int) -> None:
        self.seed_class = seed_class
        self.ready = False
        self.hello: dict = {}
        self.idle: deque[_Child] = deque()
        self.children: dict[int, _Child] = {}
        self.requested = 0  # forks asked for and not yet born
        self.started = time.monotonic()
        self.dead = False
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        seed = _SEED_CLASSES[seed_class]
        config = dict(executor._zygote_config, control_fd=theirs.fileno(), clock=seed["clock"],
                      random_seed=seed["random_seed"])
        env = {"PYTHONHASHSEED": seed["hash_seed"], "LC_ALL": "C.UTF-8"}
        zygote_py = os.path.join(jail_lib.WORKER_DIR, "_zygote.py")
        if executor._bwrap:
            cmd = jail_lib.bwrap_command(executor._bwrap, env, executor._seccomp_dir)
            config["seccomp_path"] = f"{jail_lib.SANDBOX_ROOT}/lib" if executor._seccomp_dir else None
            zygote_py = f"{jail_lib.SANDBOX_ROOT}/worker/_zygote.py"
        else:
            cmd = []
            config["seccomp_path"] = executor._seccomp_dir
        # One length for every config, so that no zygote's heap differs by the text of its own.
        cmd += [jail_lib.interpreter(), *_PYTHON_FLAGS, zygote_py, json.dumps(config).ljust(4096)]
        try:
            self.proc = _SPAWNER.popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                pass_fds=(theirs.fileno(),), start_new_session=True,
                env=None if executor._bwrap else env, cwd="/",
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.sock = ours
        self.sock.setblocking(False)
        os.set_blocking(self.proc.stderr.fileno(), False)

    def send(self, message: bytes) -> bool:
        try:
            self.sock.send(message)
            return True
        except OSError:
            self.dead = True
            return False

    def request_children(self, wanted: int) -> None:
        while not self.dead and len(self.idle) + self.requested < wanted:
            if not self.send(proto.FORK):
                return
            self.requested += 1

    def receive(self) -> list[tuple[bytes, list[int]]]:
        """Messages waiting on the control socket (tag+payload, fds); marks EOF as dead."""
        messages = []
        while True:
            try:
                data, ancdata, _, _ = self.sock.recvmsg(proto.MAX_CONTROL, socket.CMSG_SPACE(16))
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self.dead = True
                break
            if not data:
                self.dead = True
                break
            fds = array.array("i")
            for level, kind, payload in ancdata:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
            messages.append((data, list(fds)))
        return messages

    def stderr_text(self) -> str:
        try:
            data = self.proc.stderr.read() or b""
        except (OSError, ValueError):
            data = b""
        return data.decode(errors="replace").strip()[-500:]

    def stop(self, kill: bool = True) -> None:
        """Quit the zygote (and with it, in the jail, every child); close our ends."""
        for child in list(self.children.values()):
            child.close()
        self.children.clear()
        self.idle.clear()
        if kill:
            self.send(proto.QUIT)
            for target in (lambda: os.killpg(self.proc.pid, signal.SIGKILL), self.proc.kill):
                try:
                    target()
                except (ProcessLookupError, PermissionError, OSError):
                    pass
        for closer in (self.sock.close, self.proc.stderr.close):
            try:
                closer()
            except OSError:
                pass
        if kill:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                log.error("sandbox zygote %s did not exit after SIGKILL", self.proc.pid)
        self.dead = True


def _death_reason(status: int | None) -> str:
    if status is None:
        return "the sandbox process stopped answering"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        return f"the sandbox process died ({name})"
    return f"the sandbox process exited with status {os.waitstatus_to_exitcode(status)} before finishing"


_LIVE: weakref.WeakSet[Executor] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for executor in list(_LIVE):
        executor.close()


def _forget_all_after_fork() -> None:
    for executor in list(_LIVE):
        executor._forget_inherited()


os.register_at_fork(after_in_child=_forget_all_after_fork)


# ---------------------------------------------------------------------------------------
# The executor
# ---------------------------------------------------------------------------------------
class Executor(BaseExecutor):
    """Runs untrusted Python programs, each in a fresh, jailed process forked from a warm zygote.

    Args:
        workers: how many programs run at once; None means one per core.
        timeout_s: wall-clock limit for one run (one call of ``f`` on one input).
        memory_mb: address-space limit of each sandboxed process, in MiB.
        max_output_chars: a longer output is ``output_too_large``, never truncated.
        max_output_items: the most elements (nodes) an output may have.
        jail: ``"auto"`` uses bubblewrap when the host allows it and warns when it can't;
            ``"required"`` raises instead; ``"off"`` never tries (still warns).
        policy: the source policy (imports, names, attributes).  Only for testing the OS
            layers: never turn it off for untrusted code.
        spare_children: idle children each zygote keeps forked ahead of need.
        start_timeout_s: how long a zygote may take to start.
        recycle_after: accepted for compatibility and ignored: no process is reused.

    Use it as a context manager, or call :meth:`close`.  One executor may be used from
    several threads (calls are served one at a time) and survives ``os.fork``: the child
    process gets processes of its own on first use.
    """

    def __init__(
        self,
        workers: int | None = None,
        timeout_s: float = 5.0,
        memory_mb: int = 1024,
        *,
        max_output_chars: int = 1_000_000,
        max_output_items: int = 100_000,
        jail: str = "auto",
        policy: bool = True,
        spare_children: int | None = None,
        start_timeout_s: float = 60.0,
        recycle_after: int = 20_000,
    ) -> None:
        if workers is None:
            workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
            workers = workers or 1
        check_int("workers", workers, 1)
        check_int("recycle_after", recycle_after, 1)
        check_limits(timeout_s=timeout_s, start_timeout_s=start_timeout_s, memory_mb=memory_mb,
                     max_output_chars=max_output_chars, max_output_items=max_output_items,
                     spare_children=spare_children, jail=jail, policy=policy)
        self.workers = workers
        self.timeout_s = float(timeout_s)
        self.memory_mb = memory_mb
        self.max_output_chars = max_output_chars
        self.max_output_items = max_output_items
        self.start_timeout_s = float(start_timeout_s)
        self.spare_children = spare_children or min(workers, 4)
        self._lock = threading.RLock()
        self._closed = False
        self._pid = os.getpid()
        self._zygotes: dict[int, _Zygote] = {}
        self._zygote_config = {"memory_mb": memory_mb, "policy": policy}
        notes: list[str] = []
        self._bwrap = None
        if jail != "off":
            self._bwrap, why = jail_lib.probe_bwrap()
            if self._bwrap is None:
                if jail == "required":
                    raise RuntimeError(f"the sandbox jail is required but unavailable: {why}")
                notes.append(why)
        else:
            notes.append("jail turned off by the caller")
        self._zygote_config["jailed"] = self._bwrap is not None
        self._seccomp_dir = jail_lib.find_pyseccomp()
        if self._seccomp_dir is None:
            notes.append("pyseccomp not installed: no seccomp filter")
        if not policy:
            notes.append("source policy turned off by the caller")
        self._notes = notes
        self._policy = policy
        _LIVE.add(self)
        with self._lock:
            self._start_zygote(0)
        iso = self.isolation
        if jail == "required" and not iso.seccomp:
            self.close()
            raise RuntimeError("the sandbox jail is required but seccomp is unavailable")
        if iso.degraded:
            message = f"azr_env executor is running DEGRADED: {iso}"
            log.warning(message)
            warnings.warn(message, RuntimeWarning, stacklevel=2)

    # ------------------------------------------------------------------ public API
    @property
    def isolation(self) -> Isolation:
        """The isolation layers in force (from the zygotes' own reports)."""
        ready = [z for z in self._zygotes.values() if z.ready]
        seccomp = bool(ready) and all(z.hello.get("seccomp") for z in ready)
        return Isolation(
            process=True,
            namespaces=self._bwrap is not None,
            seccomp=seccomp,
            rlimits=True,
            policy=self._policy,
            bwrap=self._bwrap,
            notes=tuple(self._notes),
        )

    def run_programs(self, programs: Iterable[Program]) -> list[list[Result]]:
        """Run programs, each in a process of its own on all its inputs; results in order."""
        return self._execute(as_programs(programs), 1, 0)

    def validate_programs(self, programs: Iterable[Program]) -> list[list[Result]]:
        """Like :meth:`run_programs`, and also reject what a task must not be.

        Each program runs in a child with one string-hash seed, clock and random seed,
        calling ``f`` twice per input (fresh arguments each time), and again in a child
        with another hash seed, clock and random seed.  Any difference in the canonical
        outputs, or ``ok`` in one run and a failure in another, gives ``nondeterministic``.
        Each run must finish within half of ``timeout_s``, so that load cannot make a valid
        task time out when it is scored.
        """
        programs = as_programs(programs)
        first = self._execute(programs, 2, 0, VALIDATION_TIME_FRACTION)
        second = self._execute(programs, 1, 1, VALIDATION_TIME_FRACTION)
        return [[_merge_determinism(a, b) for a, b in zip(x, y, strict=True)]
                for x, y in zip(first, second, strict=True)]

    def close(self) -> None:
        """Stop every sandbox process.  Safe to call twice; the executor cannot be used after."""
        if os.getpid() != self._pid:
            self._forget_inherited()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for zygote in self._zygotes.values():
                zygote.stop()
            self._zygotes.clear()
            _LIVE.discard(self)

    def __reduce__(self) -> Any:
        raise TypeError("an Executor cannot be pickled: create one in each process "
                        "(the envs start their own when given executor=None)")

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    # ------------------------------------------------------------------ processes
    def _forget_inherited(self) -> None:
        """In a forked child of the caller: the zygotes belong to the parent.  Close our
        copies of their descriptors without a word to them, and start afresh on next use."""
        if os.getpid() == self._pid:
            return
        self._lock = threading.RLock()  # another thread may have held it at the fork
        for zygote in self._zygotes.values():
            zygote.stop(kill=False)
        self._zygotes = {}
        self._pid = os.getpid()

    def _start_zygote(self, seed_class: int) -> _Zygote:
        """A zygote that has said hello, with idle children on the way."""
        last_error = ""
        for _ in range(_MAX_START_ATTEMPTS):
            zygote = _Zygote(self, seed_class)
            self._zygotes[seed_class] = zygote
            deadline = time.monotonic() + self.start_timeout_s
            while not zygote.ready and not zygote.dead and time.monotonic() < deadline:
                selectors_wait([zygote.sock], min(0.05, max(0.0, deadline - time.monotonic())))
                self._on_control(zygote, None)
            if zygote.ready:
                zygote.request_children(self.spare_children)
                return zygote
            code = zygote.proc.poll()
            last_error = "it did not say hello in time" if code is None else f"it exited with status {code}"
            last_error += f": {zygote.stderr_text() or 'no message'}"
            zygote.stop()
            del self._zygotes[seed_class]
        raise RuntimeError(f"the sandbox could not start: {last_error}")

    def _zygote(self, seed_class: int) -> _Zygote:
        zygote = self._zygotes.get(seed_class)
        if zygote is None or zygote.dead:
            if zygote is not None:
                zygote.stop()
            zygote = self._start_zygote(seed_class)
        return zygote

    def _on_control(self, zygote: _Zygote, run: _Run | None) -> None:
        """Handle what a zygote says: hello, a new child, a child's exit."""
        for data, fds in zygote.receive():
            tag, body = data[:1], data[1:]
            if tag == proto.HELLO and not zygote.ready:
                try:
                    zygote.hello = json.loads(body)
                except ValueError:
                    zygote.hello = {}
                zygote.ready = True
            elif tag == proto.BORN and len(body) == proto.CHILD.size and len(fds) == 2:
                child_id, pid = proto.CHILD.unpack(body)
                child = _Child(zygote, child_id, pid, fds[0], fds[1])
                zygote.children[child_id] = child
                zygote.idle.append(child)
                zygote.requested = max(0, zygote.requested - 1)
            elif tag == proto.EXITED and len(body) == proto.EXIT.size:
                child_id, status = proto.EXIT.unpack(body)
                if child_id == 0:  # a child died before it was born: that fork is lost
                    zygote.requested = max(0, zygote.requested - 1)
                    continue
                child = zygote.children.pop(child_id, None)
                if child is None:
                    continue
                child.exit_status = status
                if child in zygote.idle:  # died while idle: no job lost, no job failed
                    zygote.idle.remove(child)
                    child.close()
                elif run is not None and child.domain is not None:
                    run.on_exit(child)
            else:
                for fd in fds:
                    os.close(fd)
                log.error("sandbox zygote %s sent a malformed control message", zygote.proc.pid)

    # ------------------------------------------------------------------ scheduling
    def _execute(self, programs: list[Program], calls: int, seed_class: int,
                 time_fraction: float = 1.0) -> list[list[Result]]:
        if os.getpid() != self._pid:
            self._forget_inherited()
        with self._lock:
            if self._closed:
                raise RuntimeError("this Executor is closed")
            if not programs:
                return []
            timeout = self.timeout_s * time_fraction
            if time_fraction != 1.0:
                programs = [dataclasses.replace(p, budget_s=p.budget_s * time_fraction)
                            if p.budget_s is not None else p for p in programs]
            results: list[list[Result | None]] = [[None] * len(p.inputs) for p in programs]
            domains = [_Domain(program, 0, len(program.inputs), out, calls, timeout)
                       for program, out in zip(programs, results, strict=True) if program.inputs]
            _Run(self, domains, seed_class).go()
            return results  # type: ignore[return-value]

    def _job_bytes(self, domain: _Domain) -> bytes:
        program = domain.program
        job = {
            "program": program.source, "inputs": list(domain.inputs), "calls": domain.calls,
            "evaluate_args": program.evaluate_args, "timeout_s": domain.timeout_s,
            "budget_s": program.budget_s, "stop_on_failure": program.stop_on_failure,
            "max_chars": self.max_output_chars, "max_items": self.max_output_items, "policy": self._policy,
            "output": program.output,
            "time_limits": None if program.time_limits is None else
            [t * domain.timeout_s / self.timeout_s for t in program.time_limits[domain.start : domain.end]],
        }
        data = pickle.dumps(job, protocol=5)
        return proto.LENGTH.pack(len(data)) + data


class _Run:
    """One batch of programs through the children of one zygote."""

    def __init__(self, executor: Executor, domains: list[_Domain], seed_class: int) -> None:
        self.ex = executor
        self.queue: deque[_Domain] = deque(domains)
        self.left = len(domains)
        self.seed_class = seed_class
        self.busy: dict[int, _Child] = {}  # result fd -> child
        self.selector = selectors.DefaultSelector()
        self.zygote = executor._zygote(seed_class)
        self.starved_since: float | None = None  # work waiting, no idle child
        # The longest a record may be: an output (4 bytes per character at most) or an error.
        self.max_record = 4 * max(executor.max_output_chars, proto.MAX_ERROR_CHARS) + 64

    def go(self) -> None:
        try:
            while self.left:
                if self.zygote.dead or self._starved():
                    self._restart_zygote()
                self._dispatch()
                self.zygote.request_children(self.ex.spare_children)
                wanted = {self.zygote.sock.fileno(): ("control", None)}
                for child in self.busy.values():
                    wanted[child.result_fd] = ("result", child)
                    if child.pending:
                        wanted[child.job_fd] = ("job", child)
                _reregister(self.selector, wanted)
                now = time.monotonic()
                wait = min((self._deadline(c) - now for c in self.busy.values()), default=1.0)
                for key, events in self.selector.select(timeout=max(0.0, min(wait, 1.0))):
                    kind, child = key.data
                    if kind == "control":
                        self.ex._on_control(self.zygote, self)
                    elif not self._is_busy(child):
                        continue
                    elif kind == "job" and events & selectors.EVENT_WRITE:
                        self._write_job(child)
                    elif kind == "result":
                        self._read(child)
                now = time.monotonic()
                for child in list(self.busy.values()):
                    if now > self._deadline(child):
                        self._overdue(child)
        finally:
            self.selector.close()

    def _is_busy(self, child: _Child) -> bool:
        return self.busy.get(child.result_fd) is child

    def _starved(self) -> bool:
        """Work has waited a whole start-up time for a child that never came."""
        if not (self.queue and not self.zygote.idle and len(self.busy) < self.ex.workers):
            self.starved_since = None
            return False
        now = time.monotonic()
        if self.starved_since is None:
            self.starved_since = now
        return now - self.starved_since > self.ex.start_timeout_s

    # ---- giving out work
    def _dispatch(self) -> None:
        while self.queue and len(self.busy) < self.ex.workers and self.zygote.idle:
            child = self.zygote.idle.popleft()
            domain = self.queue.popleft()
            domain.attempts += 1
            child.domain = domain
            child.pending = self.ex._job_bytes(domain)
            child.deadline = time.monotonic() + self.ex.start_timeout_s
            self.busy[child.result_fd] = child
            self._write_job(child)
            self.zygote.request_children(self.ex.spare_children)

    def _write_job(self, child: _Child) -> None:
        try:
            written = os.write(child.job_fd, child.pending)
            child.pending = child.pending[written:]
        except BlockingIOError:
            pass
        except OSError:  # the child died while idle: the job never reached it
            self._requeue(child)

    def _requeue(self, child: _Child) -> None:
        domain = child.domain
        self._drop(child)
        assert domain is not None
        if domain.attempts >= _MAX_START_ATTEMPTS:
            result = Result(Status.ERROR, error=f"{_death_reason(child.exit_status)} before it started")
            for index in range(domain.start, domain.end):
                if domain.results[index] is None:
                    domain.finish(index, result)
            self.left -= 1
        else:
            self.queue.appendleft(domain)

    def _drop(self, child: _Child, kill: bool = False) -> None:
        if self._is_busy(child):
            del self.busy[child.result_fd]
        registered = self.selector.get_map()
        for fd in (child.result_fd, child.job_fd):  # before closing: the number may be reused
            key = registered.get(fd)
            if key is not None and key.data[1] is child:
                self.selector.unregister(fd)
        if kill and child.exit_status is None and not child.zygote.dead:
            child.zygote.send(proto.KILL + proto.CHILD.pack(child.id, child.pid))
        child.close()
        child.domain = None

    def _complete(self, child: _Child, kill: bool = False) -> None:
        """The child's domain has all its results (it exits by itself unless killed)."""
        assert child.domain is not None and child.domain.done
        self.left -= 1
        self._drop(child, kill=kill)

    # ---- reading results
    def _deadline(self, child: _Child) -> float:
        if child.dying_since is not None:
            return child.dying_since + _DEATH_REPORT_S
        return child.deadline

    def _arm(self, child: _Child) -> None:
        """Deadline for the run in flight: its limit (within the budget) plus a grace.

        A child sends the results of fast runs together, so the run in flight may be a
        later one than the next result due: with per-input limits, the deadline is the
        largest limit still to come.  (The child's own alarm keeps each run to its limit;
        this is the backstop for a program that ignores it.)
        """
        domain = child.domain
        assert domain is not None
        now = time.monotonic()
        child.run_start = now
        limit = domain.timeout_s
        if domain.longest_after is not None:  # scaled as the job's were (validation asks for half)
            index = min(domain.start + child.next_index, domain.end - 1)
            limit = domain.longest_after[index] * domain.timeout_s / self.ex.timeout_s
        limit = min(limit, max(0.0, child.budget_deadline - now))
        child.deadline = now + limit + _KILL_GRACE_S

    def _read(self, child: _Child) -> None:
        eof = False
        while len(child.buffer) <= self.max_record + proto.HEADER.size:
            try:
                chunk = os.read(child.result_fd, 1 << 20)
            except BlockingIOError:
                break
            except OSError:
                eof = True
                break
            if not chunk:
                eof = True
                break
            child.buffer += chunk
        if not self._parse(child):
            return
        if eof and child.domain is not None:
            self._on_eof(child)

    def _parse(self, child: _Child) -> bool:
        """Act on every whole record in the buffer; False when the child is finished with."""
        domain = child.domain
        assert domain is not None
        buffer = child.buffer
        view = memoryview(buffer)
        unpack, size = proto.HEADER.unpack_from, proto.HEADER.size
        n_runs = domain.end - domain.start
        offset = 0
        progressed = False
        try:
            while len(buffer) - offset >= size:
                kind, code, index, duration, length = unpack(buffer, offset)
                if length > self.max_record:
                    raise _Broken(f"a record of {length} bytes")
                start = offset + size
                if len(buffer) - start < length:
                    break
                text = str(view[start : start + length], "utf-8")
                offset = start + length
                if kind == proto.RESULT and child.started and not child.failed and index == child.next_index \
                        and index < n_runs and code < len(_STATUS):
                    result = self._result(_STATUS[code], text, duration)
                    child.next_index += 1
                    progressed = True
                    if result.status is Status.OK:
                        domain.results[domain.start + index] = result
                    else:
                        domain.finish(domain.start + index, result)
                        child.failed = domain.program.stop_on_failure
                elif kind == proto.STARTED and not child.started:
                    child.started = True
                    budget = domain.budget_s
                    child.budget_deadline = time.monotonic() + budget if budget else math.inf
                    progressed = True
                elif kind == proto.DONE and child.started and domain.done:
                    view.release()
                    del buffer[:offset]
                    self._complete(child)
                    return False
                else:
                    raise _Broken("a record out of order")
        except (_Broken, UnicodeDecodeError, ValueError) as exc:
            view.release()
            log.error("sandbox child %s broke the protocol: %s", child.pid, exc)
            self._fail_current(child, Result(Status.ERROR, error="the sandbox process broke the protocol"))
            return False
        view.release()
        del buffer[:offset]
        if progressed:
            self._arm(child)
        return True

    def _result(self, status: Status, text: str, duration: float) -> Result:
        if status is Status.OK:
            if len(text) > self.ex.max_output_chars:
                raise _Broken("an output over the limit")
            return Result(status, text, None, duration)
        return Result(status, None, text[: proto.MAX_ERROR_CHARS], duration)

    def _fail_current(self, child: _Child, result: Result) -> None:
        """The run in flight gets ``result``; the child is killed.  The rest of its slice
        is not run, or (without ``stop_on_failure``) goes to another child."""
        domain = child.domain
        assert domain is not None
        rest = None
        if not domain.done:
            index = min(domain.start + child.next_index, domain.end - 1)
            domain.finish(index, result)
            rest = domain.rest(index)
        if rest is not None:
            domain.end = rest.start  # this child's slice ends here
            self.queue.append(rest)
            self.left += 1
        self._complete(child, kill=True)

    def _on_eof(self, child: _Child) -> None:
        """The child closed its result pipe without saying DONE: it died."""
        if not child.started:
            self._requeue(child)
            return
        if child.exit_status is not None:
            self._fail_current(child, Result(Status.ERROR, error=_death_reason(child.exit_status)))
        elif child.dying_since is None:
            child.dying_since = time.monotonic()  # the zygote's report of how is on its way

    def on_exit(self, child: _Child) -> None:
        """The zygote reaped a busy child."""
        if not self._is_busy(child):
            return
        self._read(child)  # results it wrote before dying still count
        if child.domain is None or not self._is_busy(child):
            return
        if not child.started:
            self._requeue(child)
        else:
            self._fail_current(child, Result(Status.ERROR, error=_death_reason(child.exit_status)))

    def _overdue(self, child: _Child) -> None:
        if child.dying_since is not None:
            self._fail_current(child, Result(Status.ERROR, error=_death_reason(child.exit_status)))
            return
        self._read(child)  # results that arrived just before the deadline still count
        if not self._is_busy(child) or time.monotonic() <= self._deadline(child):
            return
        if not child.started:  # it never picked up its job: try another child
            self.zygote.send(proto.KILL + proto.CHILD.pack(child.id, child.pid))
            self._requeue(child)
            return
        limit = child.deadline - child.run_start - _KILL_GRACE_S
        self._fail_current(child, Result(Status.TIMEOUT, error=f"timed out after {limit:g} s (killed)",
                                         duration_s=time.monotonic() - child.run_start))

    def _restart_zygote(self) -> None:
        """The zygote died (it runs no program, so this is rare): jobs its children had
        not started go back in the queue; those they had started fail."""
        old = self.zygote
        reason = f"the sandbox zygote died: {old.stderr_text() or 'no message'}"
        for child in list(self.busy.values()):
            if child.zygote is old:
                if child.started:
                    self._fail_current(child, Result(Status.ERROR, error=reason))
                else:
                    self._requeue(child)
        if old.sock.fileno() in self.selector.get_map():
            self.selector.unregister(old.sock.fileno())
        old.stop()
        self.starved_since = None
        try:
            self.zygote = self.ex._zygote(self.seed_class)
        except RuntimeError as exc:
            while self.queue:
                domain = self.queue.popleft()
                for index in range(domain.start, domain.end):
                    if domain.results[index] is None:
                        domain.finish(index, Result(Status.ERROR, error=str(exc)))
                self.left -= 1
            raise


class _Broken(Exception):
    """A child sent something the protocol does not allow."""


def _reregister(selector: selectors.BaseSelector, wanted: dict[int, tuple[str, Any]]) -> None:
    """Make the selector watch exactly ``wanted`` (fd -> data); job fds for writing."""
    current = selector.get_map()
    for fd in [fd for fd in current if fd not in wanted]:
        selector.unregister(fd)
    for fd, data in wanted.items():
        events = selectors.EVENT_WRITE if data[0] == "job" else selectors.EVENT_READ
        key = current.get(fd)
        if key is None:
            selector.register(fd, events, data)
        elif key.data != data or key.events != events:
            selector.modify(fd, events, data)


def selectors_wait(socks: list[socket.socket], timeout: float) -> None:
    with selectors.DefaultSelector() as selector:
        for sock in socks:
            selector.register(sock, selectors.EVENT_READ)
        selector.select(timeout)


def _not_run(index: int, status: Status) -> Result:
    return Result(Status.NOT_RUN, error=f"not run: input {index} gave {status}")


def _merge_determinism(first: Result, second: Result) -> Result:
    if first.status is Status.NONDETERMINISTIC:
        return first
    if first.ok and second.ok:
        if first.output == second.output:
            return first
        reason = f"outputs differ between runs: {first.output[:200]} != {second.output[:200]}"  # type: ignore[index]
        return Result(Status.NONDETERMINISTIC, error=reason, duration_s=first.duration_s)
    if Status.NOT_RUN in (first.status, second.status):
        return first if first.status is not Status.NOT_RUN else second
    if first.ok != second.ok and Status.TIMEOUT not in (first.status, second.status):
        reason = f"one run gave {first.status}, another {second.status}: {first.error or second.error}"
        return Result(Status.NONDETERMINISTIC, error=reason, duration_s=first.duration_s)
    return first if not first.ok else second


def run_batch(jobs: Sequence[Job], **kwargs: Any) -> list[Result]:
    """Run jobs in a temporary Executor (convenient for one-off use; slow to start)."""
    with Executor(**kwargs) as executor:
        return executor.run_batch(jobs)
