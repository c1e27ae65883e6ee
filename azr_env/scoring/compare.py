"""How an answer's value is compared with the gold: the rule of the task's source.

A task says which rule in ``metadata.extra["compare"]``:

* ``strict`` (self-play, and any task that says nothing): :func:`values_equal` with exact
  types: ``True`` is not ``1``, ``1`` is not ``1.0``; nan equals nan; floats within the
  task's ``atol``.
* ``python_eq`` (CRUXEval, HumanEval): Python's ``==`` on the two values, as those
  benchmarks' own checkers do (``1 == 1.0 == True``, ``nan != nan``); within ``atol`` when
  the task has one (HumanEval's ``abs(candidate(...) - x) < tol``).
* ``evalplus`` (HumanEval+, MBPP+): evalplus 0.3.1's check, input by input: ``==``, then
  its special oracles by entry point (``are_equivalent`` accepts anything, ``sum_div``
  also accepts 0, ``surface_Area`` and ``digit_distance_nums`` also accept their oracles'
  values, eight MBPP tasks compare as sets, three only check ``is not None``; ``find_zero``,
  HumanEval/32, fails every solution in evalplus 0.3.1, see :meth:`Comparator._evalplus`),
  then for floats ``numpy.allclose`` with rtol 1e-7 and the task's ``atol``, or 1e-6 once
  an expected output has been a float or a list of floats (evalplus keeps that tolerance
  for the inputs after it).

The values compared are data: what the sandbox returned, converted as the rule's
``==`` would see it (:func:`output_mode`), read back by a parser that evaluates nothing.
Nothing here runs a program's code.
"""

from __future__ import annotations

import functools
import json
import math
import re
from typing import Any

from azr_env.executor.values import NotALiteral, parse_args, parse_literal, values_equal
from azr_env.tasks.task import Task

RULES = ("strict", "python_eq", "evalplus")

# evalplus/eval/_special_oracle.py (evalplus 0.3.1): MBPP tasks checked by a special oracle.
EVALPLUS_NOT_NONE = frozenset({"check_str", "text_match_three", "text_starta_endb"})
EVALPLUS_SET_EQ = frozenset({"similar_elements", "find_char_long", "common_in_nested_lists", "extract_singly",
                             "larg_nnum", "intersection_array", "find_dissimilar", "Diff"})
EVALPLUS_TIMEOUT_PER_TASK_S = 60.0
"""evalplus stops checking a solution after min(60 s, the sum of its inputs' limits) + 1 s."""


def task_rule(task: Task) -> str:
    rule = task.metadata.extra.get("compare", "strict")
    return rule if rule in RULES else "strict"


def task_atol(task: Task) -> float:
    """A task's float tolerance: ``metadata.extra["atol"]``, else 0."""
    atol = task.metadata.extra.get("atol", 0.0)
    return float(atol) if isinstance(atol, (int, float)) and not isinstance(atol, bool) and atol > 0 else 0.0


def output_mode(task: Task) -> str:
    """How the sandbox turns the answer's return value into data for this task's rule."""
    rule = task_rule(task)
    if rule == "strict":
        return "strict"
    if rule == "evalplus" and task.metadata.extra.get("dataset") == "mbpp":
        entry = task.metadata.extra.get("entry_point")
        if entry == "are_equivalent":
            return "any"
        if entry in EVALPLUS_NOT_NONE:
            return "not_none"
        if entry in EVALPLUS_SET_EQ:
            return "set"
    return "lenient"


def time_limits(task: Task) -> tuple[float, ...] | None:
    """Per hidden input, the limit the source's checker gives it (evalplus: the larger of
    1 s and 4x the reference solution's time), when the task set recorded them."""
    limits = task.metadata.extra.get("time_limits")
    if isinstance(limits, list) and len(limits) == len(task.hidden):
        return tuple(float(x) for x in limits)
    return None


def budget(task: Task, default: float | None) -> float | None:
    """How long one answer's runs may take together."""
    limits = time_limits(task)
    if limits is not None and task_rule(task) == "evalplus":
        return min(EVALPLUS_TIMEOUT_PER_TASK_S, sum(limits)) + 1.0
    return default


# ---------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------
class _Unreadable:
    """A text this process cannot read back (an int past Python's digit limit)."""

    def __init__(self, text: str) -> None:
        self.text = text


READ_MAX_CHARS = 64 * 2**20
READ_MAX_NODES = 8 * 2**20
"""The largest output text compared by value here (an executor's outputs are bounded by
its own ``max_output_chars`` / ``max_output_items``; evalplus sets use 16 MiB, 4 Mi)."""
_CACHED_CHARS = 100_000  # a longer gold is read again when needed, not kept in memory twice


def _parse(text: str) -> Any:
    if len(text) > READ_MAX_CHARS:
        return _Unreadable(text)
    if len(text) > 10_000 and text[:1] == "[" and "'" not in text and '"' not in text and "(" not in text:
        # A long list of numbers: with no strings, tuples, sets or calls in it, its text is
        # JSON with the same values (``1`` int, ``1.0`` and ``1e+16`` float), read about 10x
        # faster and in a tenth of the memory.  ``True``, ``nan`` ... are not JSON: the
        # literal reader takes those.
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            pass
    return parse_literal(text, max_chars=READ_MAX_CHARS, max_nodes=READ_MAX_NODES)


def _read(text: str) -> Any:
    try:
        return _parse(text)
    except NotALiteral:
        return _Unreadable(text)


@functools.lru_cache(maxsize=8192)
def _cached_read(output: str) -> Any:
    return _read(output)


def gold_value(output: str) -> Any:
    """The value of a gold output (cached when short: the same task is checked many times)."""
    return _cached_read(output) if len(output) <= _CACHED_CHARS else _read(output)


@functools.lru_cache(maxsize=4096)
def _args_value(args: str) -> tuple:
    try:
        return parse_args(args)[0]
    except NotALiteral:
        return ()


@functools.lru_cache(maxsize=8192)
def _length_slack(gold: str, exact: bool) -> int:
    """How much longer or shorter than ``gold`` the text of an equal value can be.

    Under the strict rule, equal values have the same canonical text but for dict order
    (same length) and the sign of a float zero (``-0.0`` / ``0.0``, one character each).
    Otherwise a number can be written another way (``1`` / ``1.0`` / ``True``, ``1e+16`` /
    ``10000000000000000``, digits within a tolerance): 25 characters each, at most.
    """
    if not exact and len(gold) > _CACHED_CHARS:
        # Without reading megabytes: every number is a leaf, and a text has at most one
        # leaf more than separators (a complex, two numbers, has a "j").
        return 25 * (gold.count(",") + gold.count(":") + gold.count("j") + 1)
    value = gold_value(gold)
    if isinstance(value, _Unreadable):
        return 0
    zeros = numbers = 0
    stack = [value]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind in (int, bool):
            numbers += 1
        elif kind is float:
            numbers += 1
            zeros += node == 0.0
        elif kind is complex:  # (-0+1j) and 1j are equal: a complex zero changes the text by 5
            numbers += 2
            zeros += 6
        elif kind is dict:
            stack.extend(node.keys())
            stack.extend(node.values())
        elif kind in (list, tuple, set, frozenset):
            stack.extend(node)
    return zeros if exact else 25 * numbers


def _could_be_equal(output: str, gold: str, exact: bool) -> bool:
    """A cheap necessary condition, so that a wrong megabyte-long output costs a
    comparison of lengths, not a parse."""
    return abs(len(output) - len(gold)) <= _length_slack(gold, exact)


def matches_gold(value: Any, output: str, atol: float = 0.0) -> bool:
    """Whether a value equals the gold output text under the strict rule."""
    gold = gold_value(output)
    if isinstance(gold, _Unreadable) or isinstance(value, _Unreadable):
        return isinstance(gold, _Unreadable) and isinstance(value, _Unreadable) and gold.text == value.text
    return values_equal(value, gold, atol=atol)


def python_equal(value: Any, gold: Any, atol: float = 0.0) -> bool:
    """Python's ``==`` on two data values (no code of anyone's runs), within ``atol``."""
    if isinstance(gold, _Unreadable) or isinstance(value, _Unreadable):
        return isinstance(gold, _Unreadable) and isinstance(value, _Unreadable) and gold.text == value.text
    try:
        if value == gold:
            return True
        return atol > 0 and values_equal(value, gold, strict_types=False, atol=atol)
    except (TypeError, ValueError, OverflowError, RecursionError):
        return False


# ---------------------------------------------------------------------------------------
# The rules, answer by answer
# ---------------------------------------------------------------------------------------
class Comparator:
    """Compares the outputs of one answer with a task's gold outputs, in order (evalplus's
    float tolerance, once raised, stays raised for the inputs after)."""

    def __init__(self, task: Task) -> None:
        self.rule = task_rule(task)
        self.atol = task_atol(task)
        extra = task.metadata.extra
        self.dataset = extra.get("dataset")
        self.entry = extra.get("entry_point")

    def literal(self, value: Any, gold: str) -> bool:
        """A deduction answer (a literal already read) against the gold output."""
        if self.rule == "strict":
            return matches_gold(value, gold, self.atol)
        return python_equal(value, gold_value(gold), self.atol)

    def output(self, output: str, gold: str, args: str) -> bool:
        """A run's canonical output text against the gold output, for the input ``args``."""
        if self.rule == "strict":
            if output == gold:
                return True
            exact = self.atol == 0
            return _could_be_equal(output, gold, exact) and matches_gold(_read(output), gold, self.atol)
        if self.rule == "python_eq":
            if output == gold and "nan" not in gold:
                return True
            return (_could_be_equal(output, gold, False)
                    and python_equal(_read(output), gold_value(gold), self.atol))
        return self._evalplus(output, gold, args)

    def _evalplus(self, output: str, gold: str, args: str) -> bool:
        if self.dataset == "humaneval" and self.entry == "find_zero":
            # evalplus 0.3.1 checks the root (abs(_poly(*inp, out)) <= atol), then
            # `continue`s past its count of passed inputs: HumanEval/32 fails every solution,
            # the canonical one included.  We give its verdict, so that scores compare.
            return False
        oracle = self._has_oracle()
        if output == gold and "nan" not in gold and not oracle:
            passed = True  # the same text: equal values (no parse of a megabyte gold)
        elif not _could_be_equal(output, gold, False) and not oracle:
            passed = False
        else:
            needs_args = self.entry in ("surface_Area", "digit_distance_nums")  # their oracles read the input
            inp = _args_value(args) if needs_args else ()
            passed = self._evalplus_values(_read(output), gold_value(gold), inp)
        if self.atol == 0 and _gold_is_floats(gold):
            self.atol = 1e-6  # evalplus enforces a tolerance for float outputs, from here on
        return passed

    def _has_oracle(self) -> bool:
        return self.dataset == "mbpp" and self.entry in (
            "are_equivalent", "sum_div", "surface_Area", "digit_distance_nums", *EVALPLUS_SET_EQ,
            *EVALPLUS_NOT_NONE)

    def _evalplus_values(self, out: Any, exp: Any, inp: tuple) -> bool:
        if isinstance(out, _Unreadable) or isinstance(exp, _Unreadable):
            return False
        try:
            exact = out == exp
            if self.dataset == "mbpp":
                if self.entry == "are_equivalent":
                    exact = True
                elif self.entry == "sum_div":
                    exact = exact or out == 0
                elif self.entry == "surface_Area":
                    exact = exact or abs(out - _surface_area(*inp)) <= self.atol
                elif self.entry == "digit_distance_nums":
                    exact = exact or out == _digit_distance_nums(*inp)
                elif self.entry in EVALPLUS_SET_EQ:
                    exact = set(out) == set(exp)
                elif self.entry in EVALPLUS_NOT_NONE:
                    exact = out == exp if isinstance(out, bool) else exp == (out is not None)
            atol = 1e-6 if self.atol == 0 and _is_floats(exp) else self.atol
            if not exact and atol != 0:
                import numpy as np

                if type(out) is not type(exp):
                    return False
                if isinstance(exp, (list, tuple)) and len(out) != len(exp):
                    return False
                return bool(np.allclose(out, exp, rtol=1e-07, atol=atol))
            return bool(exact)
        except Exception:  # what raises in evalplus's check fails the input there too
            return False


_FLOAT = r"-?(?:\d+\.\d+(?:e[+-]\d+)?|\d+e[+-]\d+|inf)|nan"
_FLOATS_TEXT = re.compile(
    rf"{_FLOAT}|\[(?:(?:{_FLOAT}), )*(?:{_FLOAT})\]|\((?:(?:{_FLOAT}), )*(?:{_FLOAT}),?\)")


@functools.lru_cache(maxsize=8192)
def _gold_is_floats(gold: str) -> bool:
    """:func:`_is_floats` of a gold output, read from its canonical text: a float, or a
    non-empty list or tuple of floats (a regular expression, not a parse of megabytes)."""
    return _FLOATS_TEXT.fullmatch(gold) is not None


def _is_floats(x: Any) -> bool:
    """evalplus's ``is_floats``: a float, or a non-empty list or tuple of floats."""
    if isinstance(x, float):
        return True
    if isinstance(x, (list, tuple)) and x:
        return all(isinstance(i, float) for i in x)
    return False


# evalplus/eval/_special_oracle.py (evalplus 0.3.1), the oracles' arithmetic.
def _surface_area(base_edge: Any, height: Any) -> int:
    slant_height = math.sqrt((base_edge / 2) ** 2 + height**2)
    return round(base_edge**2 + 4 * (base_edge * slant_height) / 2)


def _digit_distance_nums(num1: Any, num2: Any) -> int:
    first, second = str(num1), str(num2)
    width = max(len(first), len(second))
    first, second = first.zfill(width), second.zfill(width)
    return sum(abs(int(a) - int(b)) for a, b in zip(first, second, strict=True))
