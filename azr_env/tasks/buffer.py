"""Task buffers: the live, growing task pools that self-play proposes into and solves from.

One buffer per mode.  A new buffer holds AZR's seed, the identity program
(``def f(a): return a`` on ``"Hello world"``; for induction the same program with six
I/O pairs and the message "Write a function that returns whatever you input"), or any
TaskSet you give it.

* **Dedup** by normalised content: the program as ``ast.unparse`` prints it (comments and
  layout do not count) and the inputs, so the same task proposed twice is stored once.
* **Cap** (``max_size``, AZR's 16,384): when full, the *oldest* task is evicted, so the
  buffer follows the current policy.  (AZR keeps the oldest and drops the newest.)
* **Sampling** of K references uniformly or weighted towards recent entries, without
  replacement, from a numpy ``Generator``: the same seed gives the same references.
* **Safe to share** between envs in one process (a lock guards every change), and read
  live by solver envs given it as ``tasks=``: a task added is drawable at the next reset.
  A pickled buffer is a snapshot: a copy in another process does not see later additions.
* ``save(path)`` / ``TaskBuffer.load(path)``: the TaskSet JSONL format with a manifest
  (version, counts, content hash) and the buffer's own settings; writes are atomic.
"""

from __future__ import annotations

import ast
import os
import threading
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import numpy as np

from azr_env.executor.values import parse_ast
from azr_env.tasks.task import MODES, IOPair, Mode, Task
from azr_env.tasks.taskset import TaskSet, TaskSetError

Strategy = Literal["uniform", "recent"]

IDENTITY_PROGRAM = "def f(a):\n    return a"
IDENTITY_MESSAGE = "Write a function that returns whatever you input"
_IDENTITY_INPUTS = ("'Hello world'", "1", "[1, 2, 3]", "{'a': 1}", "(1, 'b')", "3.5")


def identity_seed(mode: Mode) -> Task:
    """AZR's starting task for ``mode``."""
    if mode == "induction":
        pairs = [IOPair(args=a, output=a) for a in _IDENTITY_INPUTS]
        half = len(pairs) // 2
        return Task.create("induction", IDENTITY_PROGRAM, visible=pairs[:half], hidden=pairs[half:],
                           message=IDENTITY_MESSAGE, source="seed")
    return Task.create(mode, IDENTITY_PROGRAM, "'Hello world'", "'Hello world'", source="seed")


def _normalise_source(text: str, mode: str = "exec") -> str:
    try:
        return ast.unparse(parse_ast(text, mode=mode))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return text.strip()


def dedup_key(task: Task) -> tuple:
    """What makes two tasks the same: the normalised program and its inputs."""
    program = _normalise_source(task.program)
    if task.mode == "induction":
        inputs = tuple(_normalise_source(f"f({p.args})", "eval") for p in task.pairs)
        return (task.mode, program, inputs)
    return (task.mode, program, _normalise_source(f"f({task.args})", "eval"))


class TaskBuffer:
    """A live pool of tasks of one mode.  See the module docstring."""

    def __init__(
        self,
        mode: Mode,
        tasks: Iterable[Task] | None = None,
        *,
        max_size: int = 16_384,
        seed_identity: bool = True,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if not isinstance(max_size, int) or max_size < 1:
            raise ValueError(f"max_size must be a positive int, got {max_size!r}")
        self.mode: Mode = mode
        self.max_size = max_size
        self._lock = threading.RLock()
        self._tasks: list[Task] = []
        self._by_id: dict[str, Task] = {}
        self._keys: dict[tuple, str] = {}
        self.evicted = 0
        if tasks is None and seed_identity:
            tasks = [identity_seed(mode)]
        self.extend(tasks or [])

    # -- reading (the protocol solver envs use: len, indexing, get)
    def __len__(self) -> int:
        return len(self._tasks)

    def __getitem__(self, index: int) -> Task:
        return self._tasks[index]

    def __iter__(self) -> Iterator[Task]:
        with self._lock:
            return iter(list(self._tasks))

    def __contains__(self, task: object) -> bool:
        return isinstance(task, Task) and dedup_key(task) in self._keys

    # -- pickling (multiprocessing, vector envs with spawn): everything but the lock
    def __getstate__(self) -> dict[str, Any]:
        with self._lock:
            state = dict(self.__dict__)
            state.update(_tasks=list(self._tasks), _by_id=dict(self._by_id), _keys=dict(self._keys))
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"TaskBuffer(mode={self.mode!r}, n={len(self)}, max_size={self.max_size})"

    def get(self, task_id: str) -> Task:
        try:
            return self._by_id[task_id]
        except KeyError:
            raise KeyError(f"no task with id {task_id!r} in the {self.mode} buffer") from None

    def newest(self, n: int) -> list[Task]:
        """The ``n`` most recently added tasks, newest last."""
        with self._lock:
            return list(self._tasks[-n:]) if n > 0 else []

    # -- writing
    def add(self, task: Task) -> bool:
        """Add a task; False if it duplicates one already held."""
        if not isinstance(task, Task):
            raise TypeError(f"expected a Task, got {type(task).__name__}")
        if task.mode != self.mode:
            raise ValueError(f"a {task.mode} task cannot go into the {self.mode} buffer")
        key = dedup_key(task)
        with self._lock:
            if key in self._keys or task.id in self._by_id:
                return False
            self._tasks.append(task)
            self._by_id[task.id] = task
            self._keys[key] = task.id
            while len(self._tasks) > self.max_size:
                old = self._tasks.pop(0)
                del self._by_id[old.id]
                self._keys.pop(dedup_key(old), None)
                self.evicted += 1
            return True

    def extend(self, tasks: Iterable[Task]) -> int:
        """Add many; returns how many were new."""
        return sum(self.add(task) for task in tasks)

    # -- sampling
    def sample(self, k: int, rng: np.random.Generator, strategy: Strategy = "uniform") -> list[Task]:
        """``k`` distinct tasks (fewer if the buffer is smaller), deterministic given ``rng``."""
        if strategy not in ("uniform", "recent"):
            raise ValueError(f"strategy must be 'uniform' or 'recent', got {strategy!r}")
        with self._lock:
            n = len(self._tasks)
            k = min(int(k), n)
            if k <= 0:
                return []
            p = None
            if strategy == "recent":  # weight grows linearly with recency
                weights = np.arange(1, n + 1, dtype=np.float64)
                p = weights / weights.sum()
            picks = rng.choice(n, size=k, replace=False, p=p)
            return [self._tasks[int(i)] for i in picks]

    # -- files
    def to_taskset(self, name: str | None = None, version: str = "1") -> TaskSet:
        """A frozen snapshot."""
        with self._lock:
            name = name or f"buffer-{self.mode}"
            return TaskSet(list(self._tasks), name, version, source="azr_env.buffers")

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the buffer atomically (TaskSet format plus the buffer's settings)."""
        extra = {"buffer": {"mode": self.mode, "max_size": self.max_size, "evicted": self.evicted}}
        self.to_taskset().save(path, extra=extra)

    @classmethod
    def load(cls, path: str | os.PathLike[str], **kwargs: Any) -> TaskBuffer:
        """Read a buffer written by :meth:`save` (or any single-mode TaskSet file)."""
        taskset = TaskSet.load(path)
        settings = taskset.extra.get("buffer", {})
        mode = settings.get("mode", taskset.mode)
        if mode not in MODES:
            raise TaskSetError(f"{path}: holds {taskset.mode} tasks; a buffer needs one mode")
        kwargs.setdefault("max_size", settings.get("max_size", 16_384))
        buffer = cls(mode, list(taskset), seed_identity=False, **kwargs)
        buffer.evicted = int(settings.get("evicted", 0))
        return buffer
