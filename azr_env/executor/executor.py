"""The sandboxed executor: runs untrusted programs in warm, jailed worker processes.

Design, in one paragraph: a pool of pre-started workers (one per core by default), each
a ``_worker.py`` process inside bubblewrap with rlimits and a seccomp filter.  The parent
sends each worker a chunk of jobs at a time over a pipe; the worker runs them one after
another, each in a fresh namespace that shares nothing with the one before (see
``_worker.py``), and writes one result frame per job on a separate pipe.  The parent
watches a wall-clock deadline for the job in flight on each worker and kills the whole
worker (process group and PID namespace) when it passes; the job gets ``timeout``, the
rest of its chunk is re-queued, and a fresh worker takes the place of the old one.
Amortising process start-up over many jobs is what makes this fast; the per-job fresh
world is what keeps it isolated.
"""

from __future__ import annotations

import atexit
import ctypes
import enum
import io
import json
import logging
import os
import pickle
import selectors
import signal
import struct
import subprocess
import threading
import time
import warnings
import weakref
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from . import jail as jail_lib
from .jail import Isolation

log = logging.getLogger("azr_env.executor")

_FRAME = struct.Struct(">I")
_HASH_SEEDS = (0, 1)  # regular workers, and the second opinion for validate_batch
_KILL_GRACE_S = 0.5  # the parent kills this long after the worker's own alarm
_MAX_FRAME = 256 * 2**20
_PROTOCOL_3 = b"\x80\x03"
_MAX_CHUNK = 64


class Status(str, enum.Enum):
    """How a job ended."""

    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    MEMORY = "memory"
    REJECTED = "rejected"
    UNSUPPORTED_VALUE = "unsupported_value"
    OUTPUT_TOO_LARGE = "output_too_large"
    NONDETERMINISTIC = "nondeterministic"

    def __str__(self) -> str:
        return self.value


_STATUS = {s.value: s for s in Status}


@dataclass(frozen=True)
class Job:
    """A program defining ``f`` and the source text of the argument list to call it with."""

    program: str
    args: str


@dataclass(frozen=True)
class Result:
    """What running one job gave.

    ``output`` is the canonical repr of the return value and ``value`` that value rebuilt
    in the caller (never by ``eval``); both are None unless ``status`` is ``ok``.
    ``error`` says why otherwise.
    """

    status: Status
    output: str | None = None
    value: Any = None
    error: str | None = None
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status is Status.OK


class _ValueUnpickler(pickle.Unpickler):
    """Unpickles worker frames: builtin data only, no class or function can be named."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "builtins" and name in ("complex", "set", "frozenset"):
            return {"complex": complex, "set": set, "frozenset": frozenset}[name]
        raise pickle.UnpicklingError(f"worker sent a forbidden global {module}.{name}")


_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent() -> None:  # runs in the child between fork and exec
    _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@dataclass
class _Task:
    """One execution to do: a job, how many calls, and which hash seed it needs."""

    program: str
    args: str
    calls: int
    seed_class: int


class _Worker:
    """One worker process and its pipes, as seen from the parent."""

    def __init__(self, executor: Executor, seed_class: int) -> None:
        self.seed_class = seed_class
        self.inflight: deque[int] = deque()
        self.buffer = bytearray()
        self.ready = False
        self.hello: dict = {}
        self.jobs_done = 0
        self.recycle = False
        self.started = time.monotonic()
        self.last_progress = self.started
        read_fd, write_fd = os.pipe()
        config = dict(executor._worker_config, result_fd=write_fd)
        env = {"PYTHONHASHSEED": str(_HASH_SEEDS[seed_class]), "LC_ALL": "C.UTF-8"}
        worker_py = os.path.join(jail_lib.WORKER_DIR, "_worker.py")
        if executor._bwrap:
            seccomp_dir = executor._seccomp_dir
            cmd = jail_lib.bwrap_command(executor._bwrap, env, seccomp_dir)
            config["seccomp_path"] = f"{jail_lib.SANDBOX_ROOT}/lib" if seccomp_dir else None
            worker_py = f"{jail_lib.SANDBOX_ROOT}/worker/_worker.py"
        else:
            cmd = []
            config["seccomp_path"] = executor._seccomp_dir
        cmd += [jail_lib.interpreter(), "-I", "-S", "-B", worker_py, json.dumps(config)]
        main_thread = threading.current_thread() is threading.main_thread()
        try:
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                pass_fds=(write_fd,),
                start_new_session=True,
                # Tie workers to this process's life (tied to the spawning thread, so
                # only when that thread is the main one).
                preexec_fn=_die_with_parent if main_thread else None,
                env=None if executor._bwrap else env,
                cwd="/",
            )
        finally:
            os.close(write_fd)
        self.fd = read_fd
        os.set_blocking(read_fd, False)
        os.set_blocking(self.proc.stderr.fileno(), False)

    def send(self, tasks: list[tuple[int, _Task]]) -> None:
        batch = [(tid, t.program, t.args, t.calls) for tid, t in tasks]
        data = pickle.dumps(batch, protocol=5)
        self.proc.stdin.write(_FRAME.pack(len(data)) + data)
        self.proc.stdin.flush()
        self.inflight.extend(tid for tid, _ in tasks)
        self.last_progress = time.monotonic()

    def read_frames(self) -> tuple[list[Any], bool]:
        """Frames available now, and whether the worker has closed its pipe."""
        eof = False
        while True:
            try:
                chunk = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                break
            except OSError:
                eof = True
                break
            if not chunk:
                eof = True
                break
            self.buffer += chunk
        payloads = []
        offset = 0
        while len(self.buffer) - offset >= 4:
            (size,) = _FRAME.unpack_from(self.buffer, offset)
            if size > _MAX_FRAME:
                raise pickle.UnpicklingError("worker sent an oversized frame")
            if len(self.buffer) - offset < 4 + size:
                break
            payload = self.buffer[offset + 4 : offset + 4 + size]
            if payload[:2] != _PROTOCOL_3:  # see below: frames must not share memo numbering
                raise pickle.UnpicklingError("worker frame is not a protocol-3 pickle")
            payloads.append(payload)
            offset += 4 + size
        del self.buffer[:offset]
        if not payloads:
            return [], eof
        # One unpickler reads the consecutive pickles: much cheaper than one per frame.
        # Workers pickle with protocol 3, whose memo indices are explicit, so frames stay
        # independent even though the unpickler's memo outlives each one.
        unpickler = _ValueUnpickler(io.BytesIO(b"".join(payloads)))
        return [unpickler.load() for _ in payloads], eof

    def stderr_text(self) -> str:
        try:
            data = self.proc.stderr.read() or b""
        except (OSError, ValueError):
            data = b""
        return data.decode(errors="replace").strip()[-500:]

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.kill()
        except OSError:
            pass
        self.close_pipes()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log.error("sandbox worker %s did not exit after SIGKILL", self.proc.pid)

    def close_pipes(self) -> None:
        for closer in (self.proc.stdin.close, self.proc.stderr.close, lambda: os.close(self.fd)):
            try:
                closer()
            except OSError:
                pass

    def death_reason(self) -> str:
        code = self.proc.poll()
        if code is None:
            return "the sandbox worker stopped answering"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = str(-code)
            return f"the sandbox worker died ({name})"
        return f"the sandbox worker exited with status {code}"


_LIVE: weakref.WeakSet[Executor] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for executor in list(_LIVE):
        executor.close()


class Executor:
    """Runs untrusted Python programs in a pool of jailed, warm worker processes.

    Args:
        workers: number of worker processes; None means one per core.
        timeout_s: wall-clock limit for one job (program load and every call).
        memory_mb: address-space limit of each worker, in MiB.
        max_output_chars: a longer output repr is ``output_too_large``, never truncated.
        max_output_items: the most elements (nodes) an output may have.
        jail: ``"auto"`` uses bubblewrap when the host allows it and warns when it can't;
            ``"required"`` raises instead; ``"off"`` never tries (still warns).
        policy: the source policy (imports, names, attributes).  Only for testing the OS
            layers: never turn it off for untrusted code.
        recycle_after: a worker is replaced after this many jobs.

    Use it as a context manager, or call :meth:`close`.
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
        recycle_after: int = 20_000,
        start_timeout_s: float = 60.0,
    ) -> None:
        if workers is None:
            workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
            workers = workers or 1
        if not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive int or None, got {workers!r}")
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s!r}")
        if not isinstance(memory_mb, int) or memory_mb < 64:
            raise ValueError(f"memory_mb must be an int >= 64, got {memory_mb!r}")
        if jail not in ("auto", "required", "off"):
            raise ValueError(f"jail must be 'auto', 'required' or 'off', got {jail!r}")
        self.workers = workers
        self.timeout_s = float(timeout_s)
        self.memory_mb = memory_mb
        self.recycle_after = recycle_after
        self.start_timeout_s = start_timeout_s
        self._lock = threading.RLock()
        self._closed = False
        self._pool: list[_Worker] = []
        self._worker_config = {
            "timeout_s": self.timeout_s,
            "memory_mb": memory_mb,
            "max_output_chars": max_output_chars,
            "max_output_items": max_output_items,
            "policy": policy,
            "cpu_lifetime_s": 3600,
        }
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
        self._worker_config["jailed"] = self._bwrap is not None
        self._seccomp_dir = jail_lib.find_pyseccomp()
        if self._seccomp_dir is None:
            notes.append("pyseccomp not installed: no seccomp filter")
        if not policy:
            notes.append("source policy turned off by the caller")
        self._notes = notes
        self._policy = policy
        _LIVE.add(self)
        for _ in range(workers):
            self._pool.append(_Worker(self, 0))
        self._wait_ready(self._pool)
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
        """The isolation layers in force (from the workers' own reports)."""
        seccomp = bool(self._pool) and all(w.hello.get("seccomp") for w in self._pool if w.ready)
        return Isolation(
            process=True,
            namespaces=self._bwrap is not None,
            seccomp=seccomp,
            rlimits=True,
            policy=self._policy,
            bwrap=self._bwrap,
            notes=tuple(self._notes),
        )

    def run(self, program: str, args: str) -> Result:
        """Run one job."""
        return self.run_batch([Job(program, args)])[0]

    def run_batch(self, jobs: Iterable[Job]) -> list[Result]:
        """Run jobs across the workers; one Result per job, in order."""
        jobs = _as_jobs(jobs)
        tasks = [_Task(j.program, j.args, 1, 0) for j in jobs]
        return self._execute(tasks)

    def validate_batch(self, jobs: Iterable[Job]) -> list[Result]:
        """Like :meth:`run_batch`, and also reject non-deterministic programs.

        Each job runs in a worker with one string-hash seed, calling ``f`` twice (fresh
        arguments each time), and again in a worker with another seed.  Any difference
        in the canonical outputs, or an ok in one run and a failure in another, gives
        ``nondeterministic``.
        """
        jobs = _as_jobs(jobs)
        tasks = [_Task(j.program, j.args, 2, 0) for j in jobs]
        tasks += [_Task(j.program, j.args, 1, 1) for j in jobs]
        results = self._execute(tasks)
        n = len(jobs)
        return [_merge_determinism(results[i], results[n + i]) for i in range(n)]

    def close(self) -> None:
        """Stop every worker.  Safe to call twice; the executor cannot be used after."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for worker in self._pool:
                worker.kill()
            self._pool.clear()
            _LIVE.discard(self)

    def __enter__(self) -> Executor:
        return self

    def __copy__(self) -> Executor:
        return self  # a pool of processes is shared, never duplicated

    def __deepcopy__(self, memo: dict) -> Executor:
        return self  # e.g. gymnasium deep-copies an env spec's kwargs in env.spec.make()

    def __reduce__(self) -> Any:
        raise TypeError("an Executor cannot be pickled: create one in each process "
                        "(the envs start their own when given executor=None)")

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    # ------------------------------------------------------------------ machinery
    def _wait_ready(self, workers: list[_Worker]) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        pending = [w for w in workers if not w.ready]
        while pending:
            for worker in pending:
                frames, eof = worker.read_frames()
                for frame in frames:
                    self._on_hello(worker, frame)
                if eof and not worker.ready:
                    self._start_failed(worker)
            pending = [w for w in pending if not w.ready]
            if pending and time.monotonic() > deadline:
                self._start_failed(pending[0])
            if pending:
                time.sleep(0.005)

    def _on_hello(self, worker: _Worker, frame: Any) -> None:
        if isinstance(frame, tuple) and frame and frame[0] == "hello":
            worker.ready = True
            worker.hello = frame[1]
            worker.last_progress = time.monotonic()
        else:
            raise RuntimeError(f"sandbox worker sent {frame!r} before its hello")

    def _start_failed(self, worker: _Worker) -> None:
        err = worker.stderr_text()
        worker.kill()
        self.close()
        raise RuntimeError(f"a sandbox worker failed to start: {worker.death_reason()}. {err}")

    def _spawn(self, seed_class: int) -> _Worker:
        worker = _Worker(self, seed_class)
        self._pool.append(worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        worker.kill()
        self._pool.remove(worker)

    def _execute(self, tasks: list[_Task]) -> list[Result]:
        with self._lock:
            if self._closed:
                raise RuntimeError("this Executor is closed")
            if not tasks:
                return []
            return self._schedule(tasks)

    def _schedule(self, tasks: list[_Task]) -> list[Result]:
        results: list[Result | None] = [None] * len(tasks)
        queues: dict[int, deque[int]] = {0: deque(), 1: deque()}
        for tid, task in enumerate(tasks):
            queues[task.seed_class].append(tid)
        if queues[1] and not any(w.seed_class == 1 for w in self._pool):
            for _ in range(self.workers):  # the second-opinion workers, started on demand
                self._spawn(1)
        remaining = len(tasks)
        selector = selectors.DefaultSelector()
        registered: dict[int, _Worker] = {}
        try:
            while remaining:
                # Dispatch a chunk to every idle, ready worker.
                per_class = {c: sum(1 for w in self._pool if w.seed_class == c) for c in queues}
                for worker in list(self._pool):
                    if worker.fd not in registered:
                        selector.register(worker.fd, selectors.EVENT_READ)
                        registered[worker.fd] = worker
                    queue = queues[worker.seed_class]
                    if worker.ready and not worker.inflight and queue:
                        size = _chunk_size(len(queue), per_class[worker.seed_class])
                        chunk = [queue.popleft() for _ in range(min(size, len(queue)))]
                        try:
                            worker.send([(tid, tasks[tid]) for tid in chunk])
                        except (BrokenPipeError, OSError):
                            queue.extendleft(reversed(chunk))
                            worker.inflight.clear()
                            self._replace(worker, selector, registered)
                now = time.monotonic()
                wait = min(
                    (self._deadline(w) - now for w in self._pool if w.inflight or not w.ready),
                    default=1.0,
                )
                events = selector.select(timeout=max(0.0, min(wait, 1.0)))
                for key, _ in events:
                    worker = registered.get(key.fd)
                    if worker is None or worker not in self._pool:
                        continue
                    remaining -= self._drain(worker, tasks, results, queues, selector, registered)
                now = time.monotonic()
                for worker in list(self._pool):
                    if (worker.inflight or not worker.ready) and now > self._deadline(worker):
                        remaining -= self._on_stuck(worker, tasks, results, queues, selector, registered)
        finally:
            selector.close()
        return results  # type: ignore[return-value]

    def _deadline(self, worker: _Worker) -> float:
        if not worker.ready:
            return worker.started + self.start_timeout_s
        return worker.last_progress + self.timeout_s + _KILL_GRACE_S

    def _drain(self, worker, tasks, results, queues, selector, registered) -> int:
        """Collect a worker's results; on death, fail its job in flight.  Returns jobs done."""
        done = 0
        try:
            frames, eof = worker.read_frames()
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, struct.error) as exc:
            frames, eof = [], True
            log.error("sandbox worker %s sent a malformed frame: %s", worker.proc.pid, exc)
        for frame in frames:
            if not worker.ready:
                self._on_hello(worker, frame)
                continue
            result, recycle = self._frame_to_result(worker, frame)
            if result is None:  # protocol violation: treat the worker as broken
                eof = True
                break
            tid = worker.inflight.popleft()
            results[tid] = result
            done += 1
            worker.jobs_done += 1
            worker.last_progress = time.monotonic()
            worker.recycle = worker.recycle or recycle
        if eof:
            if not worker.ready:
                self._start_failed(worker)
            done += self._fail_inflight(worker, worker.death_reason(), Status.ERROR, results, queues)
            self._replace(worker, selector, registered)
        elif not worker.inflight and (worker.recycle or worker.jobs_done >= self.recycle_after):
            self._replace(worker, selector, registered)
        return done

    def _frame_to_result(self, worker: _Worker, frame: Any) -> tuple[Result | None, bool]:
        try:
            tid, status, output, value, error, duration, recycle = frame
            if not worker.inflight or tid != worker.inflight[0]:
                raise ValueError("result for a job not in flight")
            return Result(_STATUS[status], output, value, error, float(duration)), bool(recycle)
        except KeyError:
            log.error("sandbox worker %s sent an unknown status", worker.proc.pid)
            return None, True
        except (ValueError, TypeError):
            log.error("sandbox worker %s broke the protocol", worker.proc.pid)
            return None, True

    def _on_stuck(self, worker, tasks, results, queues, selector, registered) -> int:
        if not worker.ready:
            self._start_failed(worker)
        # Results that arrived just before the deadline still count.
        done = self._drain(worker, tasks, results, queues, selector, registered)
        if worker not in self._pool or not worker.inflight:
            return done
        if time.monotonic() <= self._deadline(worker):
            return done
        message = f"timed out after {self.timeout_s:g} s (killed)"
        done += self._fail_inflight(worker, message, Status.TIMEOUT, results, queues)
        self._replace(worker, selector, registered)
        return done

    def _fail_inflight(self, worker, message, status, results, queues) -> int:
        """The job in flight gets ``status``; the rest of the chunk goes back in the queue."""
        if not worker.inflight:
            return 0
        tid = worker.inflight.popleft()
        results[tid] = Result(status, error=message, duration_s=time.monotonic() - worker.last_progress)
        queues[worker.seed_class].extendleft(reversed(worker.inflight))
        worker.inflight.clear()
        return 1

    def _replace(self, worker, selector, registered) -> None:
        if worker.fd in registered:
            selector.unregister(worker.fd)
            del registered[worker.fd]
        self._retire(worker)
        self._spawn(worker.seed_class)


def _chunk_size(queued: int, workers: int) -> int:
    """Jobs to send an idle worker at once.

    Each send costs a pipe write and a wake-up (tens of microseconds, as much as a small
    job), so a small batch is split evenly in one go; a large one goes in chunks of 32 to
    64, about a third of a fair share, so that the workers still finish together.
    """
    fair = -(-queued // max(1, workers))
    if fair <= 32:
        return max(1, fair)
    return min(_MAX_CHUNK, max(32, -(-fair // 3)))


def _as_jobs(jobs: Iterable[Job]) -> list[Job]:
    if isinstance(jobs, (str, bytes)):
        raise TypeError("jobs must be an iterable of Job, not a string")
    out = list(jobs)
    for i, job in enumerate(out):
        if not isinstance(job, Job):
            raise TypeError(f"jobs[{i}] is {type(job).__name__}, not Job")
        if not isinstance(job.program, str) or not isinstance(job.args, str):
            raise TypeError(f"jobs[{i}]: program and args must be str")
    return out


def _merge_determinism(first: Result, second: Result) -> Result:
    if first.status is Status.NONDETERMINISTIC:
        return first
    if first.ok and second.ok:
        if first.output == second.output:
            return first
        reason = f"outputs differ between runs: {first.output[:200]} != {second.output[:200]}"
        return Result(Status.NONDETERMINISTIC, error=reason, duration_s=first.duration_s)
    if first.ok != second.ok and Status.TIMEOUT not in (first.status, second.status):
        reason = f"one run gave {first.status}, another {second.status}: {first.error or second.error}"
        return Result(Status.NONDETERMINISTIC, error=reason, duration_s=first.duration_s)
    return first if not first.ok else second


def run_batch(jobs: Sequence[Job], **kwargs: Any) -> list[Result]:
    """Run jobs in a temporary Executor (convenient for one-off use; slow to start)."""
    with Executor(**kwargs) as executor:
        return executor.run_batch(jobs)
