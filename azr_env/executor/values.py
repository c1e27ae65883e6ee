"""Canonical values: what a sandboxed program may return, and how two are compared.

A canonical value is made only of builtin data, each of its exact type (no subclasses):
None, bool, int, float, complex, str, bytes, list, tuple, dict, set and frozenset,
nested up to ``MAX_DEPTH`` levels.  The sandbox checks a return value with
:func:`inspect_value` before anything leaves it, so an object with a custom ``__eq__``
or ``__repr__`` can never reach the caller or fake a match.

Equality rule (:func:`values_equal`)
------------------------------------
* Types must match exactly by default: ``True`` is not ``1`` and ``1`` is not ``1.0``.
  The solver is asked for the output's ``repr``; ``1.0`` and ``1`` are different
  answers to "what does ``f`` return", and the stricter rule is the one that cannot
  reward a lucky coercion.  ``strict_types=False`` gives Python's numeric equality
  (``1 == 1.0 == True``), which is what CRUXEval's own scorer uses.
* Floats compare with ``==`` except that nan equals nan (so ``-0.0 == 0.0``); ``atol``
  adds an absolute tolerance for floats (and complex parts) inside sequences and dict
  values, as evalplus does for its float tasks.
* Set and dict order never matters.  (The canonical *repr* keeps dict insertion order,
  as Python prints it, and sorts set elements, so that it does not depend on the
  string-hash seed.)

This module imports only the standard library: the sandbox worker loads it by path.
"""

from __future__ import annotations

import math
from typing import Any

MAX_DEPTH = 100
"""Deepest nesting accepted in a value (a list inside a list ... counts one per level)."""

_SCALARS = (type(None), bool, int, float, complex, str, bytes)
_CONTAINERS = (list, tuple, dict, set, frozenset)


class ValueRejected(Exception):
    """A value is not canonical (``kind`` is ``"unsupported"`` or ``"too_large"``)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def inspect_value(value: Any, max_items: int, max_chars: int) -> bool:
    """Check that ``value`` is canonical and within bounds; return whether it holds a set.

    ``max_items`` bounds the number of nodes, ``max_chars`` the total length of the
    strings and bytes inside it (and so, roughly, of its repr).  Raises
    :class:`ValueRejected`.  Only exact-type checks and builtin iteration are used, so no
    user code runs while a value is inspected.
    """
    has_set = False
    items = 0
    chars = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        items += 1
        if items > max_items:
            raise ValueRejected("too_large", f"value has more than {max_items} elements")
        kind = type(node)
        if kind is str or kind is bytes:
            chars += len(node)
            if chars > max_chars:
                raise ValueRejected("too_large", f"value is longer than {max_chars} characters")
            continue
        if kind is int:
            # Decimal digits of an int, without printing it (printing is quadratic).
            chars += int(node.bit_length() * 0.30103) + 2
            if chars > max_chars:
                raise ValueRejected("too_large", f"value is longer than {max_chars} characters")
            continue
        if kind in _SCALARS:
            continue
        if kind not in _CONTAINERS:
            raise ValueRejected(
                "unsupported",
                f"return value contains a {_type_name(node)}; only builtin data "
                "(None, bool, int, float, complex, str, bytes, list, tuple, dict, set, "
                "frozenset) is accepted",
            )
        if depth >= MAX_DEPTH:
            raise ValueRejected("too_large", f"value is nested deeper than {MAX_DEPTH} levels")
        if kind is dict:
            for key, item in node.items():
                stack.append((key, depth + 1))
                stack.append((item, depth + 1))
        else:
            if kind is set or kind is frozenset:
                has_set = True
            for item in node:
                stack.append((item, depth + 1))
    return has_set


def _type_name(node: Any) -> str:
    kind = type(node)
    module = getattr(kind, "__module__", "builtins")
    name = getattr(kind, "__qualname__", "object")
    return name if module == "builtins" else f"{module}.{name}"


def canonical_repr(value: Any, has_set: bool = True) -> str:
    """The canonical text of a canonical value: Python's repr, with set elements sorted."""
    if not has_set:
        return repr(value)
    return _repr_sorted_sets(value)


def _repr_sorted_sets(node: Any) -> str:
    kind = type(node)
    if kind is list:
        return "[" + ", ".join(_repr_sorted_sets(x) for x in node) + "]"
    if kind is tuple:
        inner = ", ".join(_repr_sorted_sets(x) for x in node)
        return "(" + inner + ("," if len(node) == 1 else "") + ")"
    if kind is dict:
        return "{" + ", ".join(
            f"{_repr_sorted_sets(k)}: {_repr_sorted_sets(v)}" for k, v in node.items()
        ) + "}"
    if kind is set or kind is frozenset:
        parts = sorted(_repr_sorted_sets(x) for x in node)
        if kind is set:
            return "{" + ", ".join(parts) + "}" if parts else "set()"
        return "frozenset({" + ", ".join(parts) + "})" if parts else "frozenset()"
    return repr(node)


def values_equal(a: Any, b: Any, *, strict_types: bool = True, atol: float = 0.0) -> bool:
    """Whether two canonical values are equal under the rule in this module's docstring."""
    if atol == 0.0:
        return _key(a, strict_types) == _key(b, strict_types)
    return _close(a, b, strict_types, atol)


_NAN = ("nan",)


def _key(node: Any, strict: bool) -> Any:
    """A hashable image of a value in which equal values, and only those, are equal."""
    kind = type(node)
    if kind is float:
        return ("f" if strict else "n", _NAN if node != node else node)
    if kind is int or kind is bool:
        return ("i" if kind is int else "b", node) if strict else ("n", node)
    if kind is complex:
        re_, im = node.real, node.imag
        return ("c", _NAN if re_ != re_ else re_, _NAN if im != im else im)
    if kind is list or kind is tuple:
        return ("l" if kind is list else "t", tuple(_key(x, strict) for x in node))
    if kind is set or kind is frozenset:
        tag = ("s" if kind is set else "F") if strict else "S"
        return (tag, frozenset(_key(x, strict) for x in node))
    if kind is dict:
        return ("d", frozenset((_key(k, strict), _key(v, strict)) for k, v in node.items()))
    return (kind.__name__, node)


def _close(a: Any, b: Any, strict: bool, atol: float) -> bool:
    ka, kb = type(a), type(b)
    numeric = (int, float) if not strict else ()
    if ka is float or kb is float:
        if ka is not kb and not (ka in numeric and kb in numeric):
            return False
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return abs(a - b) <= atol
    if ka is complex and kb is complex:
        return _close(a.real, b.real, strict, atol) and _close(a.imag, b.imag, strict, atol)
    if (ka is list or ka is tuple) and (kb is list or kb is tuple):
        if ka is not kb or len(a) != len(b):
            return False
        return all(_close(x, y, strict, atol) for x, y in zip(a, b, strict=True))
    if ka is dict and kb is dict:
        if len(a) != len(b):
            return False
        kb_map = {_key(k, strict): v for k, v in b.items()}
        for k, v in a.items():
            other = kb_map.get(_key(k, strict), _MISSING)
            if other is _MISSING or not _close(v, other, strict, atol):
                return False
        return True
    return _key(a, strict) == _key(b, strict)


_MISSING = object()
