"""Task sets: ordered, immutable, versioned collections of tasks, and their loaders.

File format (``.jsonl``): the first line is ``{"manifest": {...}}`` with ``name``,
``version``, ``mode`` (one mode, or ``"mixed"``), ``count``, ``sha256`` (of every
following line's bytes, newline included), ``source`` and ``license``; then one task per
line (:class:`~azr_env.tasks.Task` as JSON).  :meth:`TaskSet.load` checks the count and
the hash and names the line and field of any malformed row; :meth:`TaskSet.save` writes
atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from azr_env._io import atomic_write_text
from azr_env.tasks.task import Mode, Task

if TYPE_CHECKING:
    from azr_env.executor import BaseExecutor

FORMAT_VERSION = 1


class TaskSetError(ValueError):
    """A task-set file is malformed, tampered with, or does not fit what was asked."""


@dataclass(frozen=True)
class VerifyReport:
    """What :meth:`TaskSet.verify` found: how many tasks it checked, and which fail why."""

    checked: int
    failures: tuple[tuple[str, str], ...]

    @property
    def ok(self) -> bool:
        return not self.failures


class TaskSet:
    """An ordered, immutable collection of tasks with a name and a version.

    Indexable (``ts[0]``), iterable, ``len()``-able, and ``ts.get(task_id)``.
    """

    def __init__(
        self,
        tasks: Iterable[Task],
        name: str = "tasks",
        version: str = "1",
        *,
        source: str = "",
        license: str = "",
        extra: dict[str, Any] | None = None,
    ) -> None:
        self._tasks: tuple[Task, ...] = tuple(tasks)
        self.extra: dict[str, Any] = dict(extra or {})
        """Further manifest fields (a buffer's settings, say), kept through save and load."""
        self.name = name
        self.version = str(version)
        self.source = source
        self.license = license
        self._by_id: dict[str, int] = {}
        for i, task in enumerate(self._tasks):
            if not isinstance(task, Task):
                raise TypeError(f"tasks[{i}] is {type(task).__name__}, not Task")
            if task.id in self._by_id:
                raise TaskSetError(f"duplicate task id {task.id!r} in task set {name!r}")
            self._by_id[task.id] = i

    # -- collection protocol
    def __len__(self) -> int:
        return len(self._tasks)

    def __getitem__(self, index: int) -> Task:
        return self._tasks[index]

    def __iter__(self) -> Iterator[Task]:
        return iter(self._tasks)

    def __repr__(self) -> str:
        return f"TaskSet(name={self.name!r}, version={self.version!r}, mode={self.mode!r}, n={len(self)})"

    def get(self, task_id: str) -> Task:
        """The task with this id; KeyError if there is none."""
        try:
            return self._tasks[self._by_id[task_id]]
        except KeyError:
            raise KeyError(f"no task with id {task_id!r} in task set {self.name!r}") from None

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self._tasks]

    @property
    def mode(self) -> str:
        modes = {t.mode for t in self._tasks}
        return modes.pop() if len(modes) == 1 else "mixed"

    # -- files
    def manifest(self) -> dict[str, Any]:
        return {
            **self.extra,
            "format": FORMAT_VERSION,
            "name": self.name,
            "version": self.version,
            "mode": self.mode,
            "count": len(self),
            "sha256": hashlib.sha256(self._body().encode("utf-8")).hexdigest(),
            "source": self.source,
            "license": self.license,
        }

    def _body(self) -> str:
        return "".join(t.model_dump_json() + "\n" for t in self._tasks)

    def save(self, path: str | os.PathLike[str], extra: dict[str, Any] | None = None) -> Path:
        """Write the set as JSONL with its manifest (plus ``extra`` fields), atomically."""
        body = self._body()
        manifest = {**(extra or {}), **self.manifest()}
        atomic_write_text(path, json.dumps({"manifest": manifest}, sort_keys=True) + "\n" + body)
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TaskSet:
        """Read a set saved by :meth:`save`; :class:`TaskSetError` on any problem."""
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise TaskSetError(f"cannot read task set {path}: {exc}") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TaskSetError(f"{path}: not UTF-8 text ({exc})") from None
        head, sep, body = text.partition("\n")
        manifest = _parse_manifest(path, head)
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
        if digest != manifest["sha256"]:
            raise TaskSetError(
                f"{path}: content does not match the manifest's sha256 (the file was changed or "
                f"truncated): expected {manifest['sha256'][:16]}..., got {digest[:16]}..."
            )
        tasks = []
        for lineno, line in enumerate(body.splitlines(), start=2):
            if not line.strip():
                raise TaskSetError(f"{path}:{lineno}: empty line")
            try:
                tasks.append(Task.model_validate_json(line))
            except ValidationError as exc:
                err = exc.errors()[0]
                where = ".".join(str(x) for x in err.get("loc", ())) or "row"
                raise TaskSetError(f"{path}:{lineno}: field {where!r}: {err.get('msg')}") from None
        if len(tasks) != manifest["count"]:
            raise TaskSetError(f"{path}: manifest says {manifest['count']} tasks, file has {len(tasks)}")
        known = {"format", "name", "version", "mode", "count", "sha256", "source", "license"}
        return cls(tasks, manifest["name"], manifest["version"], source=manifest.get("source", ""),
                   license=manifest.get("license", ""),
                   extra={k: v for k, v in manifest.items() if k not in known})

    def verify(self, executor: BaseExecutor | None = None) -> VerifyReport:
        """Re-run every gold answer in the sandbox; report the tasks whose answers no longer hold.

        A shortcut for :func:`azr_env.scoring.gold.verify_gold`: the check uses the equality
        rule the set's source defines, which lives in the scoring layer (the one import from
        ``tasks`` up a layer, deferred; ``tests/test_layout.py`` names it).
        """
        from azr_env.scoring.gold import verify_gold

        return verify_gold(self, executor)

    def filter(self, mode: Mode) -> TaskSet:
        """The tasks of one mode, as a new set."""
        return TaskSet([t for t in self if t.mode == mode], self.name, self.version,
                       source=self.source, license=self.license)


def is_literal_args(args: str) -> bool:
    """Whether an argument-list text is data (literals only)."""
    from azr_env.executor.values import NotALiteral, parse_args

    try:
        parse_args(args)
    except NotALiteral:
        return False
    return True


def _parse_manifest(path: Path, head: str) -> dict[str, Any]:
    try:
        manifest = json.loads(head)["manifest"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise TaskSetError(f"{path}:1: first line must be a JSON object {{\"manifest\": ...}}") from None
    for key, kind in (("name", str), ("version", str), ("count", int), ("sha256", str)):
        if not isinstance(manifest.get(key), kind):
            raise TaskSetError(f"{path}:1: manifest field {key!r} missing or not {kind.__name__}")
    return manifest
