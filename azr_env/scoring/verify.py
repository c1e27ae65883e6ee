"""Verifying solver answers: values are data, programs run in the sandbox.

* deduction: the answer must be a *literal* (read here by :func:`parse_literal`, a parser
  that evaluates nothing) equal to the gold output.  An answer that calls ``f`` or
  computes (``sorted([3, 1, 2])``, ``<wrong> or True``) is wrong: nothing in it ever runs.
* abduction: the answer must be an argument list of literals (:func:`parse_args`); the
  task's program then runs on those values in a fresh sandboxed process, and the answer is
  correct when the output equals the gold.  The answer is data: it cannot name, shadow or
  call anything in the program's namespace.
* induction: the candidate program runs in a fresh sandboxed process of its own on every
  hidden input, within one time budget, stopping at its first failing run; the gold
  outputs never enter that process.  Its score is the fraction of hidden outputs it
  reproduces, and it is correct when it reproduces them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from azr_env.executor import BaseExecutor, Program
from azr_env.executor.values import NotALiteral, canonical_args, parse_args, parse_literal
from azr_env.scoring.compare import (
    Comparator,
    budget,
    gold_value,
    matches_gold,
    output_mode,
    task_atol,
    time_limits,
)
from azr_env.tasks.task import Task

__all__ = ["NotALiteral", "Verdict", "Verifier", "gold_value", "matches_gold", "parse_args", "parse_literal",
           "task_atol"]

MAX_ANSWER_CHARS = 100_000
"""The longest value answer read (an action is at most this long anyway)."""


@dataclass(frozen=True)
class Verdict:
    """The verifier's finding on one answer."""

    correct: bool
    score: float
    status: str
    """``ok``, ``wrong``, ``not_a_literal``, or the executor's status (``error``, ``timeout`` ...)."""
    error: str | None = None
    output: str | None = None
    """What the answer produced (abduction: f(answer); induction: first failing output)."""
    first_failure: int | None = None
    """Induction: the index of the first hidden input the answer did not pass (None: all passed)."""


class Verifier:
    """Checks answers against tasks; every sandbox run of a batch goes in one executor call.

    ``budget_s`` bounds all the runs of one induction answer together (default: the
    executor's ``timeout_s``, or the task's own budget when its source sets one), so that
    one step of an env ends within about that long.  Outputs are compared by the rule of
    each task's source (:mod:`azr_env.compare`).
    """

    def __init__(self, executor: BaseExecutor | None, budget_s: float | None = None) -> None:
        self._executor = executor
        self._budget_s = budget_s

    def verify_batch(self, tasks: list[Task], answers: list[str]) -> list[Verdict]:
        """One verdict per (task, answer) pair."""
        verdicts: list[Verdict | None] = [None] * len(tasks)
        programs: list[Program] = []
        owners: list[tuple[int, Task]] = []
        for i, (task, answer) in enumerate(zip(tasks, answers, strict=True)):
            if not isinstance(answer, str):
                verdicts[i] = Verdict(False, 0.0, "not_a_literal", "the answer is not text")
            elif task.mode == "deduction":
                verdicts[i] = self._deduction(task, answer)
            elif task.mode == "abduction":
                try:  # the program gets one spelling per value, whatever the answer's was
                    args = canonical_args(answer, max_chars=MAX_ANSWER_CHARS)
                except NotALiteral as exc:
                    reason = f"the answer is not literal data: {exc}"
                    verdicts[i] = Verdict(False, 0.0, "not_a_literal", reason)
                    continue
                programs.append(Program(task.program, (args,), output=output_mode(task)))
                owners.append((i, task))
            else:
                inputs = tuple(pair.args for pair in task.hidden)
                programs.append(Program(answer, inputs, budget_s=budget(task, self._budget()),
                                        output=output_mode(task), time_limits=time_limits(task)))
                owners.append((i, task))
        if programs:
            if self._executor is None:
                raise RuntimeError("abduction and induction need an executor")
            # Every run of a program on an input gives the same result (the sandbox gives
            # each run the same world), so identical answers to a task run once.
            unique = list(dict.fromkeys(programs))
            outcome = dict(zip(unique, self._executor.run_programs(unique), strict=True))
            for (i, task), program in zip(owners, programs, strict=True):
                verdicts[i] = self._from_runs(task, outcome[program])
        return verdicts  # type: ignore[return-value]

    def _budget(self) -> float | None:
        if self._budget_s is not None:
            return self._budget_s
        return self._executor.timeout_s if self._executor is not None else None

    def _deduction(self, task: Task, answer: str) -> Verdict:
        try:
            value = parse_literal(answer, max_chars=MAX_ANSWER_CHARS)
        except NotALiteral as exc:
            return Verdict(False, 0.0, "not_a_literal", f"the answer is not a literal: {exc}")
        if Comparator(task).literal(value, task.output):
            return Verdict(True, 1.0, "ok", output=answer)
        return Verdict(False, 0.0, "wrong", "the predicted output differs from the program's", answer)

    def _from_runs(self, task: Task, results: list[Any]) -> Verdict:
        if task.mode == "abduction":
            pairs = [(task.output, task.args)]
        else:
            pairs = [(p.output, p.args) for p in task.hidden]
        compare = Comparator(task)
        passed = 0
        first: int | None = None
        problem: Verdict | None = None
        for index, (result, (gold, args)) in enumerate(zip(results, pairs, strict=True)):
            if result.ok and compare.output(result.output, gold, args):
                passed += 1
                continue
            if first is None:
                first = index
                if result.ok:
                    reason = f"gave {result.output[:200]}, expected {gold[:200]}"
                    problem = Verdict(False, 0.0, "wrong", reason, result.output)
                else:
                    problem = Verdict(False, 0.0, str(result.status), result.error)
        if problem is None:
            return Verdict(True, 1.0, "ok", output=results[0].output)
        return Verdict(False, passed / len(results), problem.status, problem.error, problem.output, first)
