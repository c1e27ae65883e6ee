"""Canonical values: what a sandboxed program may return, how it crosses back, how two compare.

A canonical value is made only of builtin data, each of its exact type (no subclasses):
None, bool, int, float, complex, str, bytes, list, tuple, dict, set and frozenset,
nested up to ``MAX_DEPTH`` levels.  Inside the sandbox :func:`canonical_text` checks a
return value and writes its text; only that text crosses to the caller, which reads it
back with :func:`parse_literal`, a bounded parser that evaluates nothing.  So an object
with a custom ``__eq__`` or ``__repr__`` can never reach the caller or fake a match, and
nothing a program made is ever touched outside its own process.

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

Literals (:func:`parse_literal`, :func:`parse_args`)
---------------------------------------------------
What ``ast.literal_eval`` accepts, plus the spellings canonical texts use (``nan``,
``inf``, ``nanj``, ``set()``, ``frozenset({...})``, ``float('nan')``, ``complex(a, b)``),
and nothing else: no names, calls, operators (but the ``1+2j`` of complex numbers),
attributes or comprehensions.  Answers that are values (deduction outputs, abduction
inputs) are read this way, so an answer is data and never runs.

This module imports only the standard library: the sandbox loads it by path.
"""

from __future__ import annotations

import ast
import math
import threading
from itertools import compress, repeat
from operator import is_
from typing import Any

MAX_DEPTH = 100
"""Deepest nesting accepted in a value (a list inside a list ... counts one per level)."""
MAX_LITERAL_CHARS = 1_000_000
"""Longest text :func:`parse_literal` reads by default."""
MAX_LITERAL_NODES = 200_000
"""Most syntax nodes :func:`parse_literal` reads by default."""

_SCALARS = (type(None), bool, int, float, complex, str, bytes)
_CONTAINERS = (list, tuple, dict, set, frozenset)
_FLAT = frozenset({type(None), bool, float, complex})  # scalars whose size is fixed
_NUMBERS = _FLAT | {int}


class ValueRejected(Exception):
    """A value is not canonical (``kind`` is ``"unsupported"`` or ``"too_large"``)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


BIG_INT_BITS = 14_000
"""An int this long (about 4,200 decimal digits) is written in hexadecimal (``0x...``):
writing decimal digits takes time quadratic in their number, hexadecimal digits linear."""


def inspect_value(value: Any, max_items: int, max_chars: int) -> bool:
    """Check that ``value`` is canonical and within bounds; return whether its text needs
    more than ``repr`` (it holds a set, or a big int).

    ``max_items`` bounds the number of nodes (a shared sub-list counts each time it is
    reached, so sharing cannot hide size), ``max_chars`` the total length of the strings,
    bytes and digits inside it.  Raises :class:`ValueRejected`.  Only exact-type checks and
    builtin iteration are used, so no user code runs while a value is inspected.
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
            bits = node.bit_length()
            chars += int(bits * 0.30103) + 2
            if chars > max_chars:
                raise ValueRejected("too_large", f"value is longer than {max_chars} characters")
            has_set = has_set or bits > BIG_INT_BITS
            continue
        if kind in _SCALARS:
            continue
        if kind not in _CONTAINERS:
            raise ValueRejected(
                "unsupported",
                f"return value contains a {type_name(node)}; only builtin data "
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
            kinds = set(map(type, node)) if len(node) > 32 else None
            if kinds is not None and kinds <= _NUMBERS:  # many numbers: checked at C speed
                items += len(node)
                if int in kinds:
                    ints = compress(node, map(is_, map(type, node), repeat(int)))
                    bits = list(map(int.bit_length, ints))
                    chars += int(sum(bits) * 0.30103) + 2 * len(bits)
                    has_set = has_set or max(bits) > BIG_INT_BITS
            else:  # scalars counted here, the rest pushed (the limits are checked after)
                for item in node:
                    item_kind = type(item)
                    if item_kind in _FLAT:
                        items += 1
                    elif item_kind is int:
                        items += 1
                        bits = item.bit_length()
                        chars += int(bits * 0.30103) + 2
                        has_set = has_set or bits > BIG_INT_BITS
                    else:
                        stack.append((item, depth + 1))
            if items > max_items:
                raise ValueRejected("too_large", f"value has more than {max_items} elements")
            if chars > max_chars:
                raise ValueRejected("too_large", f"value is longer than {max_chars} characters")
    return has_set


def type_name(node: Any) -> str:
    """``list``, ``collections.Counter``: what a value is, for messages."""
    kind = type(node)
    module = getattr(kind, "__module__", "builtins")
    name = getattr(kind, "__qualname__", "object")
    return name if module == "builtins" else f"{module}.{name}"


def canonical_repr(value: Any, has_set: bool = True) -> str:
    """The canonical text of a canonical value: Python's repr, with set elements sorted and
    big ints in hexadecimal (``has_set=False`` says there are neither: plain ``repr``)."""
    if not has_set:
        return repr(value)
    return _repr_sorted_sets(value)


def canonical_text(value: Any, max_items: int, max_chars: int) -> str:
    """Check ``value`` (:func:`inspect_value`) and return its canonical text.

    Raises :class:`ValueRejected`.  The sandbox calls this with the garbage collector off,
    so no finaliser of the program's can run between the check and the text.
    """
    has_set = inspect_value(value, max_items, max_chars)
    text = canonical_repr(value, has_set)
    if len(text) > max_chars:
        raise ValueRejected("too_large", f"output is longer than {max_chars} characters")
    return text


OUTPUT_MODES = ("strict", "lenient", "set", "not_none", "any")
"""How a returned value becomes data (:func:`as_data`): the strict rule of self-play, or
the conversions an official evaluator's ``==`` implies."""

_BASES = (bool, int, float, complex, str, bytes, list, tuple, dict, set, frozenset)
_MRO = type.__dict__["__mro__"]
_CLASS_DICT = type.__dict__["__dict__"]
_REAL, _IMAG = complex.__dict__["real"], complex.__dict__["imag"]
_TO_BASE = {  # the exact value of an instance of a subclass, by the base type's own methods
    int: int.__int__, float: float.__float__, str: str.__str__,
    bytes: lambda b: bytes.__add__(b, b""),
    complex: lambda c: complex(_REAL.__get__(c), _IMAG.__get__(c)),
}


def as_data(value: Any, mode: str, max_items: int = 100_000) -> Any:
    """``value`` as the data an evaluator compares, by ``mode``:

    * ``strict``: unchanged (only builtin data of exact types is accepted later);
    * ``lenient``: instances of subclasses of builtin data whose ``==`` is their base
      type's (``collections.Counter``, ``OrderedDict``, ``defaultdict``, a namedtuple,
      an ``IntEnum`` member, a ``str`` subclass) become that base type, as ``==`` would
      see them; a subclass with an ``__eq__`` of its own stays, and is refused;
    * ``set``: a list or tuple stays; anything else iterable becomes ``set(value)``
      (an evaluator comparing ``set(out) == set(expected)``); then ``lenient``;
    * ``not_none``: a bool stays, anything else becomes ``value is not None``;
    * ``any``: ``None`` (the evaluator accepts every value).

    Runs in the sandbox, inside the run's time limit (``set`` iterates the program's own
    iterator); the conversion itself calls the base types' methods, never the program's.
    """
    value = _by_mode(value, mode)
    if mode == "strict":
        return value
    try:
        inspect_value(value, max_items, 1 << 62)
        return value
    except ValueRejected:
        return _to_builtin(value, 0, [max_items])


def output_text(value: Any, mode: str, max_items: int, max_chars: int) -> str:
    """The canonical text of ``as_data(value, mode)``, the value checked once when it is
    builtin data already (the common case: a megabyte output is walked once, not twice).
    Raises :class:`ValueRejected`; called with the garbage collector off, as
    :func:`canonical_text` is."""
    value = _by_mode(value, mode)
    try:
        return canonical_text(value, max_items, max_chars)
    except ValueRejected as exc:
        if mode == "strict" or exc.kind != "unsupported":
            raise
    return canonical_text(_to_builtin(value, 0, [max_items]), max_items, max_chars)


def _by_mode(value: Any, mode: str) -> Any:
    if mode == "strict" or mode == "lenient":
        return value
    if mode == "any":
        return None
    if mode == "not_none":
        return value if type(value) is bool else value is not None
    if mode == "set":
        return value if isinstance(value, (list, tuple)) else set(value)
    raise ValueError(f"unknown output mode {mode!r}")


_STDLIB_EQUALS_BASE = frozenset({"collections.Counter", "collections.OrderedDict"})
"""Standard-library subclasses whose own ``__eq__`` equals their base type's against it."""


def _base_of(node: Any) -> type | None:
    """The builtin data type a value of a subclass converts to, or None."""
    kind = type(node)
    mro = _MRO.__get__(kind)
    base = next((b for b in mro if b in _BASES), None)
    if base is None or base is bool:
        return None
    if f"{kind.__module__}.{kind.__qualname__}" in _STDLIB_EQUALS_BASE:
        return base
    for cls in mro:  # whose __eq__ runs? the first class in the MRO that defines one
        if "__eq__" in _CLASS_DICT.__get__(cls):
            return base if cls is base else None
    return None


def _to_builtin(node: Any, depth: int, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        return node  # left as it is: inspect_value reports the size
    kind = type(node)
    if kind not in _BASES:
        base = _base_of(node)
        if base is None:
            return node
        if base in _TO_BASE:
            return _TO_BASE[base](node)
        kind = base
    d = depth + 1
    if kind is list:
        return [_to_builtin(x, d, budget) for x in list.__iter__(node)]
    if kind is tuple:
        return tuple(_to_builtin(x, d, budget) for x in tuple.__iter__(node))
    if kind is dict:
        return {_to_builtin(k, d, budget): _to_builtin(v, d, budget) for k, v in dict.items(node)}
    if kind is set:
        return {_to_builtin(x, d, budget) for x in set.__iter__(node)}
    if kind is frozenset:
        return frozenset(_to_builtin(x, d, budget) for x in frozenset.__iter__(node))
    return node


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
    if kind is int and node.bit_length() > BIG_INT_BITS:
        return hex(node)
    return repr(node)


# ---------------------------------------------------------------------------------------
# Reading literals back: a bounded parser that evaluates nothing
# ---------------------------------------------------------------------------------------
class NotALiteral(ValueError):
    """The text is not a literal (or is too large or too deep to read)."""


_NAMES = {"None": None, "True": True, "False": False, "nan": math.nan, "inf": math.inf,
          "nanj": complex(0.0, math.nan), "infj": complex(0.0, math.inf)}
_FLOAT_WORDS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf, "+inf": math.inf,
                "infinity": math.inf, "-infinity": -math.inf, "+infinity": math.inf, "-nan": math.nan}
_REAL = (int, float)


class _Reader:
    """Walks the syntax tree of a literal, counting nodes and depth."""

    def __init__(self, max_nodes: int) -> None:
        self.left = max_nodes

    def value(self, node: ast.AST, depth: int) -> Any:
        self.left -= 1
        if self.left < 0:
            raise NotALiteral("too many elements")
        if depth > MAX_DEPTH:
            raise NotALiteral("nested too deeply")
        d = depth + 1
        kind = type(node)
        if kind is ast.Constant:
            if node.value is Ellipsis:
                raise NotALiteral("... is not a value")
            return node.value
        if kind is ast.List:
            return [self.value(e, d) for e in node.elts]
        if kind is ast.Tuple:
            return tuple(self.value(e, d) for e in node.elts)
        if kind is ast.Set:
            return {_hashable(self.value(e, d)) for e in node.elts}
        if kind is ast.Dict:
            if any(k is None for k in node.keys):
                raise NotALiteral("dict unpacking is not a literal")
            return {_hashable(self.value(k, d)): self.value(v, d)
                    for k, v in zip(node.keys, node.values, strict=True)}
        if kind is ast.Name and node.id in _NAMES:
            return _NAMES[node.id]
        if kind is ast.UnaryOp and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.value(node.operand, d)
            if type(operand) not in (int, float, complex):
                raise NotALiteral("a sign on something that is not a number")
            return -operand if isinstance(node.op, ast.USub) else +operand
        if kind is ast.BinOp and isinstance(node.op, (ast.Add, ast.Sub)):
            left, right = self.value(node.left, d), self.value(node.right, d)
            if type(left) in _REAL and type(right) is complex:  # 1+2j
                return left + right if isinstance(node.op, ast.Add) else left - right
            raise NotALiteral("arithmetic is not a literal (only complex numbers such as 1+2j)")
        if kind is ast.Call and type(node.func) is ast.Name and not node.keywords:
            return self.call(node.func.id, node.args, d)
        raise NotALiteral(f"{kind.__name__} is not a literal")

    def call(self, name: str, args: list[ast.expr], depth: int) -> Any:
        """The few calls canonical texts and dataset inputs spell values with."""
        if name in ("set", "frozenset") and len(args) <= 1:
            items = self.value(args[0], depth) if args else ()
            if type(items) not in (list, tuple, set, frozenset):
                raise NotALiteral(f"{name}() of something that is not a collection")
            items = [_hashable(x) for x in items]
            return set(items) if name == "set" else frozenset(items)
        if name == "float" and len(args) == 1 and type(args[0]) is ast.Constant:
            word = args[0].value
            if isinstance(word, str) and word.strip().lower() in _FLOAT_WORDS:
                return _FLOAT_WORDS[word.strip().lower()]
        if name == "complex" and len(args) == 2:
            real, imag = self.value(args[0], depth), self.value(args[1], depth)
            if type(real) in _REAL and type(imag) in _REAL:
                return complex(real, imag)
        raise NotALiteral(f"{name}(...) is not a literal")


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        raise NotALiteral("unhashable element in a set or dict key") from None
    return value


# CPython 3.11 keeps the AST builder's recursion depth in per-interpreter state: two threads
# parsing at once (a garbage collection in one lets the other run) fail with "SystemError: AST
# constructor recursion depth mismatch".  `azr serve` met it under load; 8 threads parsing
# answers meet it in 2 s.  Every parse in the caller's process goes through this lock.
_AST_LOCK = threading.Lock()


def parse_ast(source: str, mode: str = "exec", filename: str = "<unknown>") -> ast.AST:
    """``ast.parse``, safe to call from several threads at once."""
    with _AST_LOCK:
        return ast.parse(source, filename=filename, mode=mode)


def _tree(source: str, max_chars: int, what: str) -> ast.expr:
    if not isinstance(source, str):
        raise NotALiteral(f"{what} is not text")
    if len(source) > max_chars:
        raise NotALiteral(f"{what} is longer than {max_chars} characters")
    try:
        return parse_ast(source, mode="eval").body  # type: ignore[attr-defined]
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        raise NotALiteral(f"{what} is not valid Python ({type(exc).__name__})") from None


def parse_literal(text: str, *, max_chars: int = MAX_LITERAL_CHARS,
                  max_nodes: int = MAX_LITERAL_NODES) -> Any:
    """The value of a literal text, evaluating nothing.  Raises :class:`NotALiteral`."""
    node = _tree(text.strip() if isinstance(text, str) else text, max_chars, "the text")
    try:
        return _Reader(max_nodes).value(node, 0)
    except RecursionError:
        raise NotALiteral("nested too deeply") from None
    except (ArithmeticError, ValueError, TypeError) as exc:  # 10**400 + 1j: no float holds it
        raise NotALiteral(f"not a value this reader holds ({type(exc).__name__})") from None


def parse_args(text: str, *, max_chars: int = MAX_LITERAL_CHARS,
               max_nodes: int = MAX_LITERAL_NODES) -> tuple[tuple, dict[str, Any]]:
    """Positional and keyword values of an argument-list text such as ``"[1, 2], 'a', k=3"``.

    The text must be exactly the inside of one call ``f(...)`` (so ``"0) or ('x'"`` is
    refused) with a literal for every argument; ``*``/``**`` unpacking is refused.
    Raises :class:`NotALiteral`.
    """
    if (isinstance(text, str) and ")" not in text and "=" not in text and "..." not in text
            and len(text) <= max_chars and text.count("[") + text.count("{") < MAX_DEPTH):
        # Fast path, for the common input: positional literals only.  With no ")" the text
        # cannot close the tuple early, so literal_eval reads exactly its elements; with
        # fewer brackets than MAX_DEPTH nothing in it is nested deeper.
        try:
            return ast.literal_eval(f"({text},)"), {}
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError, ArithmeticError):
            pass  # nan, set(), an empty list, a comment ...: the full reader decides
    call = _tree(f"f(\n{text}\n)" if isinstance(text, str) else text, max_chars + 4, "the input")
    if not (type(call) is ast.Call and type(call.func) is ast.Name and call.func.id == "f"):
        raise NotALiteral("the input must be a plain argument list")
    reader = _Reader(max_nodes)
    try:
        args = []
        for node in call.args:
            if type(node) is ast.Starred:
                raise NotALiteral("* unpacking is not a literal")
            args.append(reader.value(node, 0))
        kwargs = {}
        for keyword in call.keywords:
            if keyword.arg is None:
                raise NotALiteral("** unpacking is not a literal")
            if keyword.arg in kwargs:
                raise NotALiteral(f"keyword argument {keyword.arg!r} repeated")
            kwargs[keyword.arg] = reader.value(keyword.value, 0)
    except RecursionError:
        raise NotALiteral("nested too deeply") from None
    except (ArithmeticError, ValueError, TypeError) as exc:
        raise NotALiteral(f"not a value this reader holds ({type(exc).__name__})") from None
    return tuple(args), kwargs


def canonical_args(text: str, *, max_chars: int = MAX_LITERAL_CHARS) -> str:
    """The canonical text of an argument list of literals: one spelling per value.

    ``"0x5"``, ``"5"`` and ``"(5)"`` all give ``"5"``.  A program is handed this text, never
    the answer as written, so nothing about the spelling (not even how much memory reading
    it took) can reach the program.  Raises :class:`NotALiteral`.
    """
    args, kwargs = parse_args(text, max_chars=max_chars)
    parts = [canonical_repr(a) for a in args] + [f"{k}={canonical_repr(v)}" for k, v in kwargs.items()]
    return ", ".join(parts)


# ---------------------------------------------------------------------------------------
# Equality
# ---------------------------------------------------------------------------------------
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
