"""Tasks: a program, its inputs and outputs, in one of the three AZR modes.

* deduction: given ``program`` and ``args``, predict ``output``;
* abduction: given ``program`` and ``output``, find any args with ``f(args) == output``;
* induction: given the ``visible`` I/O pairs and ``message``, write a program that also
  gives the ``hidden`` outputs on the hidden inputs.

``args`` is the source text of an argument list (``"[1, 2], 'a'"``) and ``output`` the
canonical repr of the return value (see :mod:`azr_env.executor.values`).  A task's id is
derived from its content unless a source gives one (CRUXEval keeps ``sample_0`` ...).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Mode = Literal["deduction", "abduction", "induction"]
MODES: tuple[Mode, ...] = ("deduction", "abduction", "induction")


class IOPair(BaseModel):
    """One call: the argument-list source and the canonical repr of its result."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    args: str
    output: str


class TaskMetadata(BaseModel):
    """Where a task came from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = Field("unknown", description="Origin: 'seed', 'cruxeval', 'selfplay', ...")
    step: int | None = Field(None, description="Self-play step that created the task, if any.")
    content_hash: str = Field("", description="sha256 of the task's content; filled in on creation.")
    extra: dict[str, Any] = Field(default_factory=dict, description="Free-form, JSON-serialisable.")


class Task(BaseModel):
    """One task.  Create with :meth:`Task.create` to get the id and hash filled in."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    mode: Mode
    program: str
    args: str = ""
    output: str = ""
    visible: tuple[IOPair, ...] = ()
    hidden: tuple[IOPair, ...] = ()
    message: str = ""
    metadata: TaskMetadata = Field(default_factory=TaskMetadata)

    @model_validator(mode="after")
    def _check_mode_fields(self) -> Task:
        if not self.id:
            raise ValueError("task id must not be empty")
        if self.mode == "induction":
            if not self.hidden:
                raise ValueError("an induction task needs at least one hidden I/O pair")
        elif not self.output:
            raise ValueError(f"a {self.mode} task needs an output")
        expected = content_hash(self)
        if self.metadata.content_hash and self.metadata.content_hash != expected:
            raise ValueError(
                f"task {self.id}: content hash mismatch (stored {self.metadata.content_hash[:12]}..., "
                f"content gives {expected[:12]}...)"
            )
        return self

    @classmethod
    def create(
        cls,
        mode: Mode,
        program: str,
        args: str = "",
        output: str = "",
        *,
        visible: tuple[IOPair, ...] | list[IOPair] = (),
        hidden: tuple[IOPair, ...] | list[IOPair] = (),
        message: str = "",
        id: str | None = None,
        source: str = "unknown",
        step: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Task:
        """A task with its content hash filled in and, unless given, an id derived from it."""
        fields = dict(mode=mode, program=program, args=args, output=output,
                      visible=tuple(visible), hidden=tuple(hidden), message=message)
        digest = _digest(fields)
        meta = TaskMetadata(source=source, step=step, content_hash=digest, extra=extra or {})
        return cls(id=id or f"{mode[:3]}-{digest[:16]}", metadata=meta, **fields)

    @property
    def pairs(self) -> tuple[IOPair, ...]:
        """All I/O pairs: visible then hidden (induction), or the one pair (otherwise)."""
        if self.mode == "induction":
            return self.visible + self.hidden
        return (IOPair(args=self.args, output=self.output),)


def gold_answer(task: Task) -> str:
    """What a solver should give: the output (deduction), the input (abduction), the program."""
    return {"deduction": task.output, "abduction": task.args, "induction": task.program}[task.mode]


def _digest(fields: dict[str, Any]) -> str:
    payload = {
        "mode": fields["mode"],
        "program": fields["program"],
        "args": fields["args"],
        "output": fields["output"],
        "visible": [[p.args, p.output] for p in fields["visible"]],
        "hidden": [[p.args, p.output] for p in fields["hidden"]],
        "message": fields["message"],
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_hash(task: Task) -> str:
    """The sha256 of what a task asks and answers (not its id or metadata)."""
    return _digest(dict(task))
