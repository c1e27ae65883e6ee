"""What every executor shares: the jobs, programs and results that cross its boundary, and
its public API (:class:`BaseExecutor`), served here by the local :class:`~.executor.Executor`
and across a Ray cluster by :class:`~.ray_executor.RayExecutor`."""

from __future__ import annotations

import abc
import enum
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .jail import Isolation
from .values import OUTPUT_MODES, NotALiteral, parse_literal

MAX_TIMEOUT_S = 24 * 3600.0


class Status(str, enum.Enum):
    """How a run ended."""

    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    MEMORY = "memory"
    REJECTED = "rejected"
    UNSUPPORTED_VALUE = "unsupported_value"
    OUTPUT_TOO_LARGE = "output_too_large"
    NONDETERMINISTIC = "nondeterministic"
    NOT_RUN = "not_run"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Job:
    """One call: a program defining ``f``, and the argument list to call it with.

    ``args`` is the text of an argument list of literals (``"[1, 2], 'a', k=3"``), read in
    the sandbox by a parser that evaluates nothing: it is data, never code.  With
    ``evaluate_args=True`` it is instead evaluated as Python, in the program's own process
    and namespace (for trusted dataset inputs such as CRUXEval's ``range(100, 120)``).
    """

    program: str
    args: str
    evaluate_args: bool = False


@dataclass(frozen=True)
class Program:
    """A program and the inputs to call its ``f`` on: one trust domain.

    The program runs in a fresh sandboxed process of its own, which runs nothing else: its
    module code once, then ``f`` on each input in order (as an evaluator runs a solution:
    what one call leaves in the program's globals, the next sees).  With
    ``stop_on_failure`` (the default) the
    first input that is not ``ok`` ends the program's runs and the rest are ``not_run``;
    without it every input runs (for computing a dataset's gold outputs).  ``budget_s``
    bounds the runs of one process together; each run is also bound by its entry in
    ``time_limits``, else by the executor's ``timeout_s``.  ``output`` says how a return
    value becomes data (:data:`~azr_env.executor.values.OUTPUT_MODES`: ``strict`` for
    self-play, ``lenient`` for the ``==`` of an official evaluator, ...).
    ``evaluate_args`` as for :class:`Job`.
    """

    source: str
    inputs: tuple[str, ...]
    evaluate_args: bool = False
    budget_s: float | None = None
    stop_on_failure: bool = True
    output: str = "strict"
    time_limits: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.inputs, str):
            raise TypeError("inputs must be a sequence of argument-list texts, not one string")
        object.__setattr__(self, "inputs", tuple(self.inputs))
        if self.time_limits is not None:
            object.__setattr__(self, "time_limits", tuple(self.time_limits))


@dataclass(frozen=True)
class Result:
    """What one run gave.

    ``output`` is the canonical text of the return value (``ok`` only); :attr:`value` is
    that value, read from the text by a parser that evaluates nothing.  ``error`` says why
    otherwise.
    """

    status: Status
    output: str | None = None
    error: str | None = None
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    @functools.cached_property
    def value(self) -> Any:
        """The returned value (None unless ``ok``).  Raises ValueError for the rare output
        that cannot be read back here (an int longer than this interpreter reads)."""
        if self.output is None:
            return None
        try:
            return parse_literal(self.output)
        except NotALiteral as exc:
            raise ValueError(f"the output cannot be read back as a value: {exc}") from None


class BaseExecutor(abc.ABC):
    """The executor API: the envs, scoring, the bench harness and the agent use only this.

    A subclass runs :class:`Program` objects (one trust domain each: one fresh sandboxed
    process runs the program on all its inputs) and returns one :class:`Result` per input,
    in order.  It has ``workers`` (programs at a time) and ``timeout_s`` (the limit of one run).
    """

    workers: int
    timeout_s: float

    @property
    @abc.abstractmethod
    def isolation(self) -> Isolation:
        """The isolation layers in force."""

    @abc.abstractmethod
    def run_programs(self, programs: Iterable[Program]) -> list[list[Result]]:
        """Run programs, each in a process of its own on all its inputs; results in order."""

    @abc.abstractmethod
    def validate_programs(self, programs: Iterable[Program]) -> list[list[Result]]:
        """Like :meth:`run_programs`, and also reject what a task must not be (see
        :meth:`Executor.validate_programs <azr_env.executor.Executor.validate_programs>`)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Stop every sandbox process.  Safe to call twice; the executor cannot be used after."""

    def run(self, program: str, args: str, evaluate_args: bool = False) -> Result:
        """Run one job."""
        return self.run_batch([Job(program, args, evaluate_args)])[0]

    def run_batch(self, jobs: Iterable[Job]) -> list[Result]:
        """Run jobs, each in a process of its own; one Result per job, in order."""
        return [r[0] for r in self.run_programs(_job_programs(jobs))]

    def run_program(self, source: str, inputs: Sequence[str], *, evaluate_args: bool = False,
                    budget_s: float | None = None) -> list[Result]:
        """Run one program on each of its inputs (one process); one Result per input."""
        return self.run_programs([Program(source, tuple(inputs), evaluate_args, budget_s)])[0]

    def validate_batch(self, jobs: Iterable[Job]) -> list[Result]:
        """Like :meth:`run_batch`, and also reject non-deterministic programs (see
        :meth:`validate_programs`)."""
        return [r[0] for r in self.validate_programs(_job_programs(jobs))]

    def __enter__(self) -> BaseExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __copy__(self) -> BaseExecutor:
        return self  # a set of processes is shared, never duplicated

    def __deepcopy__(self, memo: dict) -> BaseExecutor:
        return self  # e.g. gymnasium deep-copies an env spec's kwargs in env.spec.make()


def _job_programs(jobs: Iterable[Job]) -> list[Program]:
    return [Program(j.program, (j.args,), j.evaluate_args) for j in as_jobs(jobs)]


def check_int(name: str, value: Any, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")


def check_seconds(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_TIMEOUT_S:
        raise ValueError(f"{name} must be a number of seconds in (0, {MAX_TIMEOUT_S:g}], got {value!r}")


def check_limits(*, timeout_s: Any, start_timeout_s: Any, memory_mb: Any, max_output_chars: Any,
                 max_output_items: Any, spare_children: Any, jail: Any, policy: Any) -> None:
    """Raise ValueError or TypeError for a sandbox limit an executor cannot take."""
    check_seconds("timeout_s", timeout_s)
    check_seconds("start_timeout_s", start_timeout_s)
    check_int("memory_mb", memory_mb, 64)
    check_int("max_output_chars", max_output_chars, 1)
    check_int("max_output_items", max_output_items, 1)
    if spare_children is not None:
        check_int("spare_children", spare_children, 1)
    if jail not in ("auto", "required", "off"):
        raise ValueError(f"jail must be 'auto', 'required' or 'off', got {jail!r}")
    if not isinstance(policy, bool):
        raise TypeError(f"policy must be a bool, got {type(policy).__name__}")


def as_jobs(jobs: Iterable[Job]) -> list[Job]:
    if isinstance(jobs, (str, bytes)):
        raise TypeError("jobs must be an iterable of Job, not a string")
    out = list(jobs)
    for i, job in enumerate(out):
        if not isinstance(job, Job):
            raise TypeError(f"jobs[{i}] is {type(job).__name__}, not Job")
        if not isinstance(job.program, str) or not isinstance(job.args, str):
            raise TypeError(f"jobs[{i}]: program and args must be str")
    return out


def as_programs(programs: Iterable[Program]) -> list[Program]:
    if isinstance(programs, (str, bytes)):
        raise TypeError("programs must be an iterable of Program, not a string")
    out = list(programs)
    for i, program in enumerate(out):
        if not isinstance(program, Program):
            raise TypeError(f"programs[{i}] is {type(program).__name__}, not Program")
        if not isinstance(program.source, str) or not all(isinstance(a, str) for a in program.inputs):
            raise TypeError(f"programs[{i}]: source and inputs must be str")
        if program.budget_s is not None:
            check_seconds(f"programs[{i}].budget_s", program.budget_s)
        if program.output not in OUTPUT_MODES:
            raise ValueError(f"programs[{i}].output must be one of {OUTPUT_MODES}, got {program.output!r}")
        if program.time_limits is not None:
            if len(program.time_limits) != len(program.inputs):
                raise ValueError(f"programs[{i}].time_limits must give one limit per input")
            for limit in program.time_limits:
                check_seconds(f"programs[{i}].time_limits", limit)
    return out
