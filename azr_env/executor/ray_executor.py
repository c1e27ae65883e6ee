"""The executor on a Ray cluster: the same API as :class:`~.executor.Executor`, run on many nodes.

Design, in one paragraph: the caller's process holds a pool of Ray actors (by default one
per node, sized to the node's CPUs), each owning a local jailed :class:`~.executor.Executor`
on its node.  A batch is cut into *shards* of whole programs (a program is one trust domain,
never split: its inputs still share one fresh sandboxed process) and an idle actor gets the
next shard, one at a time, so nothing ever waits behind a slow shard on another node.
Results are put back in the caller's order.  When an actor dies or its node leaves, the
programs of its shard are run again, each on its own, by other actors: a re-run is safe
because a program has no effect outside its throwaway process.  A shard that outlives its
bound has its actor killed and counts as lost too.  A program whose run is lost
``max_attempts`` times gets an ``error`` result that says so; a dead actor is replaced while
its node is alive.  Every job gets a result; docs/scaling.md has the whole table.

>>> from azr_env.executor import RayExecutor, Program
>>> with RayExecutor(timeout_s=2.0) as ex:  # doctest: +SKIP
...     ex.run_programs([Program("def f(x):\\n    return x * 2", ("21",))])[0][0].output
'42'
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
import warnings
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .base import MAX_TIMEOUT_S, BaseExecutor, Program, Result, Status, as_programs, check_int, check_limits
from .executor import VALIDATION_TIME_FRACTION, Executor
from .jail import Isolation

log = logging.getLogger("azr_env.executor.ray")

_SHARD_SLACK_S = 60.0  # added to a shard's bound: start-up, transfer, a loaded node
_REPLACEMENTS_PER_NODE = 3  # dead actors replaced on one node within one batch, at most


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:  # an optional extra: say how to get it
        raise ImportError("RayExecutor needs ray: pip install 'azr-env[ray]'") from exc
    return ray


# Ray is connected once per process: the first RayExecutor that finds it unconnected connects,
# and the last one of those to close disconnects (a connection made by the caller is left alone).
_connection = {"users": 0, "ours": False}
_connection_lock = threading.Lock()


def _check_reachable(address: str | None, timeout_s: float = 5.0) -> None:
    """Fail in seconds on a HOST:PORT where nothing listens: ``ray.init`` retries for minutes."""
    host, sep, port = (address or "").rpartition(":")
    if not sep or not port.isdigit() or "://" in (address or ""):
        return  # None, "auto", "local" and ray:// addresses: Ray says what is wrong by itself
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise ConnectionError(f"no Ray cluster answers at {address}: {exc}") from None


def _connect(address: str | None, ray_init_kwargs: dict[str, Any]) -> None:
    ray = _ray()
    with _connection_lock:
        if not ray.is_initialized():
            _check_reachable(address)
            ray.init(address=address, **{"include_dashboard": False, "log_to_driver": False,
                                         "configure_logging": False, **ray_init_kwargs})
            _connection["ours"] = True
        _connection["users"] += 1


def _disconnect() -> None:
    ray = _ray()
    with _connection_lock:
        _connection["users"] -= 1
        if _connection["users"] == 0 and _connection["ours"]:
            _connection["ours"] = False
            if ray.is_initialized():
                ray.shutdown()


class _ExecutorActor:
    """Runs inside a Ray worker process on one node: a local jailed executor and nothing else."""

    def __init__(self, executor_kwargs: dict[str, Any]) -> None:
        self.executor = Executor(**executor_kwargs)

    def hello(self) -> dict[str, Any]:
        ray = _ray()
        return {"pid": os.getpid(), "node_id": ray.get_runtime_context().get_node_id(),
                "workers": self.executor.workers, "isolation": self.executor.isolation}

    def run(self, programs: list[Program], validate: bool) -> list[_Packed]:
        run = self.executor.validate_programs if validate else self.executor.run_programs
        return [_pack(results) for results in run(programs)]

    def close(self) -> None:
        self.executor.close()


# Results travel packed: a program's statuses as bytes and its outputs, errors and durations as
# lists (a third of the time of pickling Result objects; HumanEval+'s gold runs are 17 MB).
_Packed = tuple[bytes, list[str | None], list[str | None], list[float]]
_STATUSES = tuple(Status)
_CODES = {status: code for code, status in enumerate(_STATUSES)}


def _pack(results: list[Result]) -> _Packed:
    return (bytes(_CODES[r.status] for r in results), [r.output for r in results],
            [r.error for r in results], [r.duration_s for r in results])


def _unpack(packed: Any, runs: int, max_chars: int) -> list[Result] | None:
    """A program's results from an actor's reply, or None if the reply is not well formed."""
    try:
        codes, outputs, errors, durations = packed
        sizes = {len(codes), len(outputs), len(errors), len(durations)}
        if not (isinstance(codes, bytes) and sizes == {runs} and all(code < len(_STATUSES) for code in codes)
                and all(x is None or (isinstance(x, str) and len(x) <= max_chars) for x in outputs)
                and all(x is None or isinstance(x, str) for x in errors)
                and all(isinstance(d, (int, float)) and not isinstance(d, bool) for d in durations)):
            return None
    except (TypeError, ValueError):
        return None
    return [Result(_STATUSES[code], output, error, duration)
            for code, output, error, duration in zip(codes, outputs, errors, durations, strict=True)]


@dataclass(frozen=True)
class ActorInfo:
    """One actor of a :class:`RayExecutor`: where it runs and what it is doing."""

    name: str
    node_id: str
    pid: int
    workers: int
    busy: bool


@dataclass(frozen=True)
class BatchReport:
    """What happened in a :class:`RayExecutor`'s last batch (for logs and tests)."""

    programs: int
    shards: int
    shards_per_actor: dict[str, int]
    actor_deaths: int
    rerun_programs: int
    lost_programs: int


@dataclass
class _Actor:
    name: str
    node_id: str
    handle: Any
    pid: int = 0
    workers: int = 0
    isolation: Isolation | None = None
    shard: _Shard | None = None


@dataclass
class _Shard:
    indices: tuple[int, ...]
    attempts: int = 0
    deadline: float = math.inf


class RayExecutor(BaseExecutor):
    """Runs untrusted Python programs on a Ray cluster, each in a jailed process on some node.

    Args:
        address: the cluster to join (as ``ray.init(address=...)``); None starts or joins a
            local Ray instance.  If this process is connected to Ray already, that
            connection is used and ``address`` is ignored.
        timeout_s, memory_mb, max_output_chars, max_output_items, jail, policy,
            spare_children, start_timeout_s: as for :class:`~azr_env.executor.Executor`, given
            to the executor of every actor.
        workers_per_actor: programs at a time on each actor; None: the CPUs of its node.
        actors_per_node: actors started on each node with a CPU.
        num_cpus_per_actor: CPUs each actor reserves from Ray; None: its workers.
        max_attempts: how often a program is run before its loss is reported as an error.
        shards_per_actor: a batch is cut into about this many shards per actor.  More balance
            nodes of unequal speed; fewer waste less, as each shard ends when its slowest
            program does while the actor's other workers wait (measured in docs/scaling.md).
        ray_init_kwargs: more arguments for ``ray.init`` when this executor connects.

    Every node must have ``azr-env`` installed (the actors import it).  Use it as a context
    manager, or call :meth:`close`; it disconnects from Ray only if it connected.
    """

    def __init__(
        self,
        address: str | None = None,
        timeout_s: float = 5.0,
        memory_mb: int = 1024,
        *,
        max_output_chars: int = 1_000_000,
        max_output_items: int = 100_000,
        jail: str = "auto",
        policy: bool = True,
        spare_children: int | None = None,
        start_timeout_s: float = 60.0,
        workers_per_actor: int | None = None,
        actors_per_node: int = 1,
        num_cpus_per_actor: float | None = None,
        max_attempts: int = 3,
        shards_per_actor: int = 2,
        ray_init_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self._executor_kwargs: dict[str, Any] = {
            "timeout_s": timeout_s, "memory_mb": memory_mb, "max_output_chars": max_output_chars,
            "max_output_items": max_output_items, "jail": jail, "policy": policy,
            "spare_children": spare_children, "start_timeout_s": start_timeout_s,
        }
        check_limits(**self._executor_kwargs)  # here, in the caller: not in every actor on the cluster
        check_int("actors_per_node", actors_per_node, 1)
        check_int("max_attempts", max_attempts, 1)
        check_int("shards_per_actor", shards_per_actor, 1)
        if workers_per_actor is not None:
            check_int("workers_per_actor", workers_per_actor, 1)
        if num_cpus_per_actor is not None and not (isinstance(num_cpus_per_actor, (int, float))
                                                   and num_cpus_per_actor >= 0):
            raise ValueError(f"num_cpus_per_actor must be a number >= 0, got {num_cpus_per_actor!r}")
        self.timeout_s = float(timeout_s)
        self.start_timeout_s = float(start_timeout_s)
        self.workers_per_actor = workers_per_actor
        self.actors_per_node = actors_per_node
        self.num_cpus_per_actor = num_cpus_per_actor
        self.max_attempts = max_attempts
        self.shards_per_actor = shards_per_actor
        self.last_batch: BatchReport | None = None
        self._lock = threading.RLock()
        self._pid = os.getpid()
        self._closed = False
        self._actors: list[_Actor] = []
        self._starting: dict[Any, tuple[_Actor, float]] = {}  # hello reference -> (actor, deadline)
        self._names = 0
        self._connected = False
        _connect(address, ray_init_kwargs or {})
        self._connected = True
        try:
            self._start_actors()
        except BaseException:
            self.close()
            raise
        if self.isolation.degraded:  # as the local executor does: a missing layer is never silent
            message = f"azr_env Ray executor is running DEGRADED: {self.isolation}"
            log.warning(message)
            warnings.warn(message, RuntimeWarning, stacklevel=2)

    # ------------------------------------------------------------------ public API
    @property
    def workers(self) -> int:
        """Programs at a time, over all actors."""
        return sum(actor.workers for actor in self._actors)

    @property
    def isolation(self) -> Isolation:
        """The isolation in force on every actor: a layer is on only if it is on everywhere."""
        reports = [a.isolation for a in self._actors if a.isolation is not None]
        if not reports:
            return Isolation(False, False, False, False, False, notes=("no Ray actor is running",))
        notes = dict.fromkeys(note for r in reports for note in r.notes)
        layers = {name: all(getattr(r, name) for r in reports)
                  for name in ("process", "namespaces", "seccomp", "rlimits", "policy")}
        return Isolation(**layers, bwrap=reports[0].bwrap,
                         notes=(*notes, f"on {len(reports)} Ray actors"))

    @property
    def actors(self) -> list[ActorInfo]:
        """The actors now in the pool."""
        return [ActorInfo(a.name, a.node_id, a.pid, a.workers, a.shard is not None) for a in self._actors]

    def run_programs(self, programs: Iterable[Program]) -> list[list[Result]]:
        """Run programs, each in a process of its own on all its inputs; results in order."""
        return self._execute(as_programs(programs), validate=False)

    def validate_programs(self, programs: Iterable[Program]) -> list[list[Result]]:
        """As :meth:`Executor.validate_programs <azr_env.executor.Executor.validate_programs>`:
        both runs of a program happen on the same actor."""
        return self._execute(as_programs(programs), validate=True)

    def close(self) -> None:
        """Stop every actor, and disconnect from Ray if a RayExecutor connected and no other
        one still uses it.  Safe to call twice; the executor cannot be used after."""
        with self._lock:
            if self._closed or os.getpid() != self._pid:
                return
            self._closed = True
            ray = _ray()
            if ray.is_initialized():
                refs = [a.handle.close.remote() for a in self._actors]
                if refs:  # a graceful close first: the actors stop their sandboxes
                    ray.wait(refs, num_returns=len(refs), timeout=5.0)
                for actor in [*self._actors, *(a for a, _ in self._starting.values())]:
                    ray.kill(actor.handle)
            self._actors, self._starting = [], {}
            if self._connected:
                _disconnect()

    def __reduce__(self) -> Any:
        raise TypeError("a RayExecutor cannot be pickled: create one in each process")

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    # ------------------------------------------------------------------ actors
    def _start_actors(self) -> None:
        ray = _ray()
        nodes = [n for n in ray.nodes() if n.get("Alive") and n.get("Resources", {}).get("CPU", 0) >= 1]
        for node in nodes:
            for _ in range(self.actors_per_node):
                self._new_actor(node["NodeID"], int(node["Resources"]["CPU"]))
        errors = self._admit_started(wait_s=self.start_timeout_s, wait_all=True)
        if not self._actors:
            raise RuntimeError(f"the Ray executor could not start an actor on any of {len(nodes)} nodes: "
                               + ("; ".join(errors) or "no node has a CPU"))

    def _new_actor(self, node_id: str, node_cpus: int) -> None:
        """Start an actor on ``node_id``; it joins the pool when its hello arrives."""
        ray = _ray()
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        workers = self.workers_per_actor or max(1, node_cpus)
        cpus = min(workers, node_cpus) if self.num_cpus_per_actor is None else self.num_cpus_per_actor
        self._names += 1
        handle = ray.remote(_ExecutorActor).options(
            num_cpus=cpus, max_restarts=0, max_concurrency=1,
            scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False),
        ).remote({**self._executor_kwargs, "workers": workers})
        actor = _Actor(f"actor-{self._names}@{node_id[:8]}", node_id, handle)
        self._starting[handle.hello.remote()] = (actor, time.monotonic() + self.start_timeout_s)

    def _admit_started(self, wait_s: float = 0.0, wait_all: bool = False) -> list[str]:
        """Actors whose hello has arrived join the pool; those past their start deadline are
        killed.  Waits up to ``wait_s`` for one hello (for all with ``wait_all``).  Returns
        what went wrong, one line an actor."""
        ray = _ray()
        if not self._starting:
            return []
        refs = list(self._starting)
        ready, _ = ray.wait(refs, num_returns=len(refs) if wait_all else 1, timeout=wait_s)
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)  # and any other that is ready
        errors = []
        for ref in refs:
            actor, deadline = self._starting[ref]
            if ref not in ready:
                if time.monotonic() >= deadline:
                    del self._starting[ref]
                    ray.kill(actor.handle)
                    errors.append(f"{actor.name} did not start in {self.start_timeout_s:g} s")
                continue
            del self._starting[ref]
            try:
                hello = ray.get(ref)
            except Exception as exc:
                ray.kill(actor.handle)
                errors.append(f"{actor.name}: {_one_line(exc)}")
                continue
            actor.pid, actor.workers, actor.isolation = hello["pid"], hello["workers"], hello["isolation"]
            self._actors.append(actor)
        for error in errors:
            log.warning("Ray executor: %s", error)
        return errors

    def _replace(self, dead: _Actor, replaced: Counter) -> None:
        """Start a new actor on a dead one's node if that node is alive (a few times a batch);
        the batch goes on meanwhile."""
        ray = _ray()
        if replaced[dead.node_id] >= _REPLACEMENTS_PER_NODE:
            return
        replaced[dead.node_id] += 1
        node = next((n for n in ray.nodes() if n["NodeID"] == dead.node_id and n.get("Alive")), None)
        if node is not None:
            self._new_actor(dead.node_id, int(node["Resources"].get("CPU", 1)))

    # ------------------------------------------------------------------ scheduling
    def _execute(self, programs: list[Program], validate: bool) -> list[list[Result]]:
        if os.getpid() != self._pid:
            raise RuntimeError("a RayExecutor cannot be used in a forked child: create one in each process")
        with self._lock:
            if self._closed:
                raise RuntimeError("this RayExecutor is closed")
            if not programs:
                return []
            return _Batch(self, programs, validate).go()

    def _shards(self, programs: list[Program]) -> list[_Shard]:
        """Contiguous runs of whole programs with about equal numbers of inputs."""
        total = sum(max(1, len(p.inputs)) for p in programs)
        target = max(1, math.ceil(total / (self.shards_per_actor * max(1, len(self._actors)))))
        shards, current, size = [], [], 0
        for index, program in enumerate(programs):
            current.append(index)
            size += max(1, len(program.inputs))
            if size >= target:
                shards.append(_Shard(tuple(current)))
                current, size = [], 0
        if current:
            shards.append(_Shard(tuple(current)))
        return shards

    def _bound_s(self, programs: list[Program], workers: int, validate: bool) -> float:
        """How long a shard may take on an actor before it counts as lost: every run at its
        limit, spread over the actor's workers, plus the longest program, plus slack."""
        factor = (2 + 1) * VALIDATION_TIME_FRACTION if validate else 1.0
        costs = []
        for program in programs:
            limits = program.time_limits or (self.timeout_s,) * len(program.inputs)
            cost = sum(limits) + 0.5 * len(limits)  # each run's kill grace
            if program.budget_s is not None:
                cost = min(cost, program.budget_s + 0.5)
            costs.append(cost * factor)
        if not costs:
            return _SHARD_SLACK_S
        return min(sum(costs) / max(1, workers) + max(costs) + _SHARD_SLACK_S, MAX_TIMEOUT_S)


class _Batch:
    """One batch of programs through the actors of a RayExecutor."""

    def __init__(self, executor: RayExecutor, programs: list[Program], validate: bool) -> None:
        self.ex = executor
        self.programs = programs
        self.max_chars = executor._executor_kwargs["max_output_chars"]
        self.validate = validate
        self.results: list[list[Result] | None] = [None if p.inputs else [] for p in programs]
        self.queue: deque[_Shard] = deque(s for s in executor._shards(programs)
                                          if any(programs[i].inputs for i in s.indices))
        self.running: dict[Any, _Actor] = {}  # result reference -> the actor running its shard
        self.shards_per_actor: Counter = Counter()
        self.replaced: Counter = Counter()
        self.deaths = self.reruns = self.lost = self.shards = 0

    def go(self) -> list[list[Result]]:
        ray = _ray()
        starting = self.ex._starting
        try:
            while self.queue or self.running:
                self.ex._admit_started()
                self._dispatch()
                if not self.running:
                    if starting:  # only new actors could take the queued work: wait for one
                        self.ex._admit_started(wait_s=1.0)
                        continue
                    self._fail_queued("no Ray actor is left to run it")
                    break
                deadline = min(a.shard.deadline for a in self.running.values())  # type: ignore[union-attr]
                wait_s = max(0.0, min(deadline - time.monotonic(), 1.0))
                ready, _ = ray.wait([*self.running, *starting], num_returns=1, timeout=wait_s)
                for ref in ready:
                    if ref in self.running:
                        self._collect(ref)
                self._kill_overdue()
        finally:
            for actor in self.running.values():  # interrupted (Ctrl-C): free the actors for the next batch
                actor.shard = None
            self.ex.last_batch = BatchReport(
                programs=len(self.programs), shards=self.shards, shards_per_actor=dict(self.shards_per_actor),
                actor_deaths=self.deaths, rerun_programs=self.reruns, lost_programs=self.lost)
        return self.results  # type: ignore[return-value]

    def _dispatch(self) -> None:
        for actor in self.ex._actors:
            if not self.queue:
                return
            if actor.shard is not None:
                continue
            shard = self.queue.popleft()
            shard.attempts += 1
            programs = [self.programs[i] for i in shard.indices]
            shard.deadline = time.monotonic() + self.ex._bound_s(programs, actor.workers, self.validate)
            actor.shard = shard
            self.running[actor.handle.run.remote(programs, self.validate)] = actor
            self.shards += 1
            self.shards_per_actor[actor.name] += 1

    def _collect(self, ref: Any) -> None:
        ray = _ray()
        actor = self.running.pop(ref)
        shard = actor.shard
        assert shard is not None
        actor.shard = None
        try:
            out = ray.get(ref)
        except Exception as exc:  # the actor died, its node left, or its executor broke
            self._lose(actor, shard, _one_line(exc))
            return
        unpacked: list[list[Result] | None] = [None]
        if isinstance(out, list) and len(out) == len(shard.indices):
            unpacked = [_unpack(packed, len(self.programs[index].inputs), self.max_chars)
                        for index, packed in zip(shard.indices, out, strict=True)]
        if any(results is None for results in unpacked):
            self._fail(shard, f"{actor.name} sent a malformed reply")  # a bug, not a loss: no re-run
            return
        for index, results in zip(shard.indices, unpacked, strict=True):
            self.results[index] = results

    def _kill_overdue(self) -> None:
        now = time.monotonic()
        for ref, actor in list(self.running.items()):
            if actor.shard is not None and now > actor.shard.deadline:
                del self.running[ref]
                shard, actor.shard = actor.shard, None
                self._lose(actor, shard, f"{actor.name} did not answer in time (killed)")  # _lose kills it

    def _lose(self, actor: _Actor, shard: _Shard, why: str) -> None:
        """The actor is gone with the shard: re-run its programs one by one, or say they were lost."""
        log.warning("Ray executor: %s lost a shard of %d programs: %s", actor.name, len(shard.indices), why)
        self.deaths += 1
        if actor in self.ex._actors:
            self.ex._actors.remove(actor)
            _ray().kill(actor.handle)
            self.ex._replace(actor, self.replaced)
        if shard.attempts >= self.ex.max_attempts:
            self._fail(shard, f"lost: the Ray actor running it failed {shard.attempts} times ({why})")
            return
        self.reruns += len(shard.indices)
        for index in reversed(shard.indices):  # first, and one program a shard: one bad one fails alone
            self.queue.appendleft(_Shard((index,), attempts=shard.attempts))

    def _fail(self, shard: _Shard, why: str) -> None:
        self.lost += len(shard.indices)
        for index in shard.indices:
            self.results[index] = [Result(Status.ERROR, error=why) for _ in self.programs[index].inputs]

    def _fail_queued(self, why: str) -> None:
        while self.queue:
            self._fail(self.queue.popleft(), why)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[-1] if text else ''}"[:500]
