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

import functools
from dataclasses import dataclass
from typing import Any

from .executor import Executor, Program, canonical_repr, values_equal
from .executor.values import NotALiteral, parse_args, parse_literal
from .tasks import Task

__all__ = ["NotALiteral", "Verdict", "Verifier", "gold_value", "matches_gold", "parse_args", "parse_literal",
           "task_atol"]

MAX_ANSWER_CHARS = 100_000
"""The longest value answer read (an action is at most this long anyway)."""


class _Unreadable:
    """A gold output this process cannot read back (an int past Python's digit limit)."""

    def __init__(self, text: str) -> None:
        self.text = text


@functools.lru_cache(maxsize=8192)
def gold_value(output: str) -> Any:
    """The value of a gold output (cached: the same task is checked many times)."""
    try:
        return parse_literal(output)
    except NotALiteral:
        return _Unreadable(output)


def matches_gold(value: Any, output: str, atol: float = 0.0) -> bool:
    """Whether a canonical value equals the gold output text (floats within ``atol``)."""
    gold = gold_value(output)
    if isinstance(gold, _Unreadable):
        try:
            return canonical_repr(value) == gold.text
        except ValueError:
            return False
    return values_equal(value, gold, atol=atol)


def task_atol(task: Task) -> float:
    """A task's float tolerance: ``metadata.extra["atol"]`` (evalplus float tasks), else 0."""
    atol = task.metadata.extra.get("atol", 0.0)
    return float(atol) if isinstance(atol, (int, float)) and atol > 0 else 0.0


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


class Verifier:
    """Checks answers against tasks; every sandbox run of a batch goes in one executor call.

    ``budget_s`` bounds all the runs of one induction answer together (default: the
    executor's ``timeout_s``), so that one step of an env ends within about that long.
    """

    def __init__(self, executor: Executor | None, budget_s: float | None = None) -> None:
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
                try:
                    parse_args(answer, max_chars=MAX_ANSWER_CHARS)
                except NotALiteral as exc:
                    reason = f"the answer is not literal data: {exc}"
                    verdicts[i] = Verdict(False, 0.0, "not_a_literal", reason)
                    continue
                programs.append(Program(task.program, (answer,)))
                owners.append((i, task))
            else:
                inputs = tuple(pair.args for pair in task.hidden)
                programs.append(Program(answer, inputs, budget_s=self._budget()))
                owners.append((i, task))
        if programs:
            if self._executor is None:
                raise RuntimeError("abduction and induction need an executor")
            # Every run of a program on an input gives the same result (the sandbox gives
            # each run the same world), so identical answers to a task run once.
            unique = list(dict.fromkeys(programs))
            outcome = dict(zip(unique, self._executor.run_programs(unique), strict=True))
            for (i, task), program in zip(owners, programs, strict=True):
                golds = [task.output] if task.mode == "abduction" else [p.output for p in task.hidden]
                verdicts[i] = self._from_runs(outcome[program], golds, task_atol(task))
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
        if matches_gold(value, task.output, task_atol(task)):
            return Verdict(True, 1.0, "ok", output=answer)
        return Verdict(False, 0.0, "wrong", "the predicted output differs from the program's", answer)

    def _from_runs(self, results: list[Any], golds: list[str], atol: float) -> Verdict:
        passed = 0
        first_problem: Verdict | None = None
        for result, gold in zip(results, golds, strict=True):
            if result.ok and output_matches(result.output, gold, atol):
                passed += 1
            elif first_problem is None:
                if result.ok:
                    first_problem = Verdict(False, 0.0, "wrong", f"gave {result.output[:200]}, expected "
                                            f"{gold[:200]}", result.output)
                else:
                    first_problem = Verdict(False, 0.0, str(result.status), result.error)
        score = passed / len(results)
        if first_problem is None:
            return Verdict(True, 1.0, "ok", output=results[0].output)
        return Verdict(False, score, first_problem.status, first_problem.error, first_problem.output)


def output_matches(output: str, gold: str, atol: float = 0.0) -> bool:
    """Whether a run's canonical output text equals the gold output text (the rule of
    :func:`values_equal`; floats within ``atol``).

    Equal texts are the common, cheap case.  Otherwise the output is read only if its
    length could belong to an equal value (:func:`_length_slack`), so that a wrong
    megabyte-long output costs a comparison of lengths, not a parse.
    """
    if output == gold:
        return True
    if abs(len(output) - len(gold)) > _length_slack(gold, atol):
        return False
    try:
        value = parse_literal(output)
    except NotALiteral:
        return False  # unreadable here (an int past this interpreter's digit limit): texts differ
    return matches_gold(value, gold, atol)


@functools.lru_cache(maxsize=8192)
def _length_slack(gold: str, atol: float) -> int:
    """How much longer or shorter than ``gold`` the text of an equal value can be.

    Under the strict rule, equal values have the same canonical text but for dict order
    (same length) and the sign of a float zero (``-0.0`` / ``0.0``, one character each);
    with a tolerance, each float's digits may differ (at most 25 characters).
    """
    value = gold_value(gold)
    if isinstance(value, _Unreadable):
        return 0
    zeros = floats = 0
    stack = [value]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is float:
            floats += 1
            zeros += node == 0.0
        elif kind is complex:
            floats += 2
            zeros += (node.real == 0.0) + (node.imag == 0.0)
        elif kind is dict:
            stack.extend(node.keys())
            stack.extend(node.values())
        elif kind in (list, tuple, set, frozenset):
            stack.extend(node)
    return 25 * floats if atol > 0 else zeros
