"""Verifying solver answers: literals on canonical values, programs in the sandbox.

* deduction: the answer must be a *literal* (parsed here by :func:`parse_literal`, a small
  walker over the syntax tree that evaluates nothing) equal to the gold output.  An answer
  that calls ``f`` or computes (``sorted([3, 1, 2])``) is wrong, as in CRUXEval-O.
* abduction: ``f(<answer>)`` runs in the sandbox; correct when its value equals the gold.
* induction: the candidate program runs in the sandbox on every hidden input; its score is
  the fraction of hidden outputs it reproduces, and it is correct when it gets them all.
"""

from __future__ import annotations

import ast
import functools
import math
from dataclasses import dataclass
from typing import Any

from .executor import Executor, Job, canonical_repr, values_equal
from .tasks import Task

MAX_LITERAL_CHARS = 1_000_000
_MAX_DEPTH = 100
_NAMES = {"None": None, "True": True, "False": False, "nan": math.nan, "inf": math.inf}
_FLOAT_WORDS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf, "infinity": math.inf,
                "-infinity": -math.inf}


class NotALiteral(ValueError):
    """The text is not a Python literal (or is too large or deep to read)."""


def parse_literal(text: str) -> Any:
    """A canonical value from literal source text, evaluating nothing.

    Accepts what ``ast.literal_eval`` does plus the forms canonical reprs use: ``nan``,
    ``inf``, ``set()``, ``frozenset({...})``, ``float('nan')``.
    """
    if not isinstance(text, str):
        raise NotALiteral("not text")
    if len(text) > MAX_LITERAL_CHARS:
        raise NotALiteral(f"longer than {MAX_LITERAL_CHARS} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        raise NotALiteral(f"not valid Python: {type(exc).__name__}") from None
    try:
        return _literal(tree.body, 0)
    except RecursionError:
        raise NotALiteral("nested too deeply") from None


def _literal(node: ast.AST, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise NotALiteral("nested too deeply")
    d = depth + 1
    if isinstance(node, ast.Constant):
        if node.value is Ellipsis:
            raise NotALiteral("... is not a value")
        return node.value
    if isinstance(node, ast.Tuple):
        return tuple(_literal(e, d) for e in node.elts)
    if isinstance(node, ast.List):
        return [_literal(e, d) for e in node.elts]
    if isinstance(node, ast.Set):
        return {_hashable(_literal(e, d)) for e in node.elts}
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise NotALiteral("dict unpacking is not a literal")
        pairs = zip(node.keys, node.values, strict=True)
        return {_hashable(_literal(k, d)): _literal(v, d) for k, v in pairs}
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _literal(node.operand, d)
        if type(value) not in (int, float, complex):
            raise NotALiteral("sign on a non-number")
        return -value if isinstance(node.op, ast.USub) else +value
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        left, right = _literal(node.left, d), _literal(node.right, d)
        if type(left) in (int, float) and type(right) is complex:
            return left + right if isinstance(node.op, ast.Add) else left - right
        raise NotALiteral("arithmetic is not a literal (only complex numbers like 1+2j)")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        name, args = node.func.id, node.args
        if name in ("set", "frozenset") and len(args) <= 1:
            items = _literal(args[0], d) if args else ()
            if type(items) not in (list, tuple, set, frozenset):
                raise NotALiteral(f"{name}() of a non-collection")
            items = [_hashable(x) for x in items]
            return set(items) if name == "set" else frozenset(items)
        if name == "float" and len(args) == 1 and isinstance(args[0], ast.Constant):
            word = args[0].value
            if isinstance(word, str) and word.strip().lower() in _FLOAT_WORDS:
                return _FLOAT_WORDS[word.strip().lower()]
    raise NotALiteral(f"{type(node).__name__} is not a literal")


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        raise NotALiteral("unhashable element in a set or dict key") from None
    return value


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
    """Checks answers against tasks; batches every sandbox run into one executor call."""

    def __init__(self, executor: Executor | None) -> None:
        self._executor = executor

    def verify_batch(self, tasks: list[Task], answers: list[str]) -> list[Verdict]:
        """One verdict per (task, answer) pair."""
        verdicts: list[Verdict | None] = [None] * len(tasks)
        jobs: list[Job] = []
        owners: list[tuple[int, str, float]] = []  # (which answer, which gold output, tolerance)
        for i, (task, answer) in enumerate(zip(tasks, answers, strict=True)):
            if task.mode == "deduction":
                verdicts[i] = self._deduction(task, answer)
            elif task.mode == "abduction":
                jobs.append(Job(task.program, answer))
                owners.append((i, task.output, task_atol(task)))
            else:
                for pair in task.hidden:
                    jobs.append(Job(answer, pair.args))
                    owners.append((i, pair.output, task_atol(task)))
        if jobs:
            if self._executor is None:
                raise RuntimeError("abduction and induction need an executor")
            results = self._executor.run_batch(jobs)
            per_answer: dict[int, list[tuple[Any, str, float]]] = {}
            for (i, gold, atol), result in zip(owners, results, strict=True):
                per_answer.setdefault(i, []).append((result, gold, atol))
            for i, runs in per_answer.items():
                verdicts[i] = self._from_runs(runs)
        return verdicts  # type: ignore[return-value]

    def _deduction(self, task: Task, answer: str) -> Verdict:
        try:
            value = parse_literal(answer)
        except NotALiteral as exc:
            return Verdict(False, 0.0, "not_a_literal", f"the answer is not a literal: {exc}")
        if matches_gold(value, task.output, task_atol(task)):
            return Verdict(True, 1.0, "ok", output=answer)
        return Verdict(False, 0.0, "wrong", "the predicted output differs from the program's", answer)

    def _from_runs(self, runs: list[tuple[Any, str, float]]) -> Verdict:
        passed = 0
        first_problem: Verdict | None = None
        for result, gold, atol in runs:
            # The worker's canonical repr equal to the gold text is the common, cheap case.
            if result.ok and (result.output == gold or matches_gold(result.value, gold, atol)):
                passed += 1
            elif first_problem is None:
                if result.ok:
                    first_problem = Verdict(False, 0.0, "wrong", f"gave {result.output[:200]}, expected "
                                            f"{gold[:200]}", result.output)
                else:
                    first_problem = Verdict(False, 0.0, str(result.status), result.error)
        score = passed / len(runs)
        if first_problem is None:
            return Verdict(True, 1.0, "ok", output=runs[0][0].output)
        return Verdict(False, score, first_problem.status, first_problem.error, first_problem.output)
