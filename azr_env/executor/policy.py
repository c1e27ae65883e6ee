"""The source policy: which Python a sandboxed program may contain.

This is the first of the executor's layers (the OS jail and the resource limits stand
behind it).  It works on the syntax tree, before anything runs:

* imports only from :data:`ALLOWED_MODULES` (absolute imports; ``from x import *`` is fine);
* no reference to the names in :data:`FORBIDDEN_NAMES` (``eval``, ``exec``, ``open``,
  ``__import__``, ``globals`` ...), nor to any other dunder name except ``__name__``;
* no dunder attribute outside :data:`SAFE_DUNDER_ATTRS` (so no ``__globals__``,
  ``__subclasses__``, ``__builtins__`` chains), no frame, code or generator internals
  (:data:`FORBIDDEN_ATTRS`), and no assignment to any dunder attribute.

What it accepts: any number of functions and classes (with ``__init__`` and other dunder
methods), nested functions, recursion, comprehensions, lambdas, generators, ``match``.
It also rewrites every attribute assignment ``obj.x = v`` (and ``del obj.x``) into
``__azr_write__(obj).x = v`` so that the worker can refuse writes to objects the job did
not create (``math.pi = 3`` on a shared module, ``collections.Counter.x = ...``), and every
read of a private attribute (``obj._x``) or of ``str.format``/``format_map`` into
``__azr_read__(obj, name)``, so that private state of shared objects stays out of reach
and format fields cannot walk dunder attributes.

We do not use RestrictedPython's default policy: it rejects 11 of the 800 CRUXEval
programs (augmented item assignment such as ``d[k] += 1``) and wraps every attribute
read, subscript and loop in a Python-level guard call, which costs on every operation.

This module imports only the standard library: the sandbox worker loads it by path.
"""

from __future__ import annotations

import ast
import dis
import re
import types

ALLOWED_MODULES = frozenset(
    {
        "__future__", "array", "base64", "bisect", "cmath", "collections",
        "collections.abc", "copy", "dataclasses", "datetime", "decimal", "enum",
        "fractions", "functools", "hashlib", "heapq", "itertools", "json", "math",
        "numbers", "operator", "random", "re", "statistics", "string", "struct",
        "textwrap", "time", "typing", "unicodedata",
    }
)
"""Standard-library modules a program may import.  ``random`` and ``time`` are allowed so
that programs using them run; :meth:`Executor.validate_batch` rejects them as
non-deterministic (each job gets its own ``random`` state, so nothing leaks)."""

FORBIDDEN_NAMES = frozenset(
    {
        "__import__", "__builtins__", "__loader__", "__spec__", "__file__", "__build_class__",
        "breakpoint", "compile", "eval", "exec", "globals", "locals", "open", "vars",
    }
)
"""Builtins a program may not use.  A program may still bind these names itself (a
parameter called ``input`` or ``open``): the sandbox's builtins do not hold them, so a
use that does not refer to the program's own binding fails with NameError."""

SAFE_DUNDER_ATTRS = frozenset(
    {
        "__init__", "__new__", "__post_init__", "__name__", "__qualname__", "__doc__",
        "__class__", "__slots__", "__match_args__", "__call__", "__len__", "__iter__",
        "__next__", "__reversed__", "__contains__", "__getitem__", "__setitem__",
        "__delitem__", "__missing__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__",
        "__ge__", "__hash__", "__bool__", "__repr__", "__str__", "__format__", "__int__",
        "__float__", "__complex__", "__index__", "__abs__", "__neg__", "__pos__",
        "__invert__", "__round__", "__floor__", "__ceil__", "__trunc__", "__enter__",
        "__exit__", "__add__", "__radd__", "__iadd__", "__sub__", "__rsub__", "__isub__",
        "__mul__", "__rmul__", "__imul__", "__matmul__", "__truediv__", "__rtruediv__",
        "__itruediv__", "__floordiv__", "__rfloordiv__", "__ifloordiv__", "__mod__",
        "__rmod__", "__imod__", "__divmod__", "__rdivmod__", "__pow__", "__rpow__",
        "__ipow__", "__lshift__", "__rlshift__", "__rshift__", "__rrshift__", "__and__",
        "__rand__", "__iand__", "__or__", "__ror__", "__ior__", "__xor__", "__rxor__",
        "__ixor__",
    }
)
"""Dunder attributes a program may read (protocol methods and names); all others,
``__globals__``, ``__subclasses__``, ``__dict__``, ``__self__``, ``__setattr__`` ..., are
refused."""

FORBIDDEN_ATTRS = frozenset(
    {
        "gi_frame", "gi_code", "gi_yieldfrom", "gi_running", "gi_suspended",
        "cr_frame", "cr_code", "cr_await", "cr_origin", "cr_running",
        "ag_frame", "ag_code", "ag_await", "ag_running",
        "f_back", "f_builtins", "f_code", "f_globals", "f_locals", "f_trace",
        "tb_frame", "tb_next", "co_code", "co_consts", "co_names",
    }
)
"""Frame, code and generator internals: the introspection chains out of a sandbox."""

WRITE_GUARD = "__azr_write__"
READ_GUARD = "__azr_read__"
GUARDED_READS = frozenset({"format", "format_map"})
"""Attribute reads always routed through the read guard (besides every ``_private`` one)."""
_DUNDER = re.compile(r"__[A-Za-z0-9]\w*__\Z")
_ALLOWED_DUNDER_NAMES = frozenset({"__name__", "__class__", "__doc__"})
# Dunder names a class body may bind: protocol methods given by assignment, __slots__ ...
_CLASS_BODY_DUNDERS = SAFE_DUNDER_ATTRS


class PolicyViolation(Exception):
    """A program breaks the source policy.  ``str()`` names the construct and the line."""

    def __init__(self, message: str, lineno: int | None = None) -> None:
        self.reason = message
        self.lineno = lineno
        super().__init__(f"line {lineno}: {message}" if lineno else message)


def is_dunder(name: str) -> bool:
    return _DUNDER.match(name) is not None


def attribute_allowed(name: str) -> bool:
    """Whether reading attribute ``name`` is allowed (also used by the sandbox ``getattr``)."""
    if name in FORBIDDEN_ATTRS:
        return False
    return not is_dunder(name) or name in SAFE_DUNDER_ATTRS


def module_allowed(name: str) -> bool:
    return name in ALLOWED_MODULES


class _Checker(ast.NodeTransformer):
    """Raises on the first violation; rewrites attribute stores behind the write guard."""

    def __init__(self, tree: ast.AST) -> None:
        self.bound = _bound_names(tree)

    def visit_Import(self, node: ast.Import) -> ast.AST:
        for alias in node.names:
            self._check_module(alias.name, node)
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        if node.level:
            raise PolicyViolation("relative imports are not allowed", node.lineno)
        self._check_module(node.module or "", node)
        return node

    def _check_module(self, name: str, node: ast.stmt) -> None:
        if module_allowed(name):
            return
        parent = name.split(".")[0]
        hint = "" if module_allowed(parent) else f" (allowed: {', '.join(sorted(ALLOWED_MODULES))})"
        raise PolicyViolation(f"import of module '{name}' is not allowed{hint}", node.lineno)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        name = node.id
        if name in FORBIDDEN_NAMES and (name not in self.bound or is_dunder(name)):
            raise PolicyViolation(f"name '{name}' is not allowed", node.lineno)
        if is_dunder(name) and name not in _ALLOWED_DUNDER_NAMES:
            if not (isinstance(node.ctx, ast.Store) and name in _CLASS_BODY_DUNDERS):
                raise PolicyViolation(f"name '{name}' is not allowed", node.lineno)
        return node

    def visit_MatchClass(self, node: ast.MatchClass) -> ast.AST:
        # A class pattern reads attributes by name inside the interpreter, past the guards:
        # ``case object(__globals__=g)`` names them directly, and a positional sub-pattern
        # reads the names in the class's ``__match_args__``, which a program can set to
        # anything (and make ``isinstance`` accept any object, even rebind ``int``).  So
        # keyword names must be public and unguarded, and there are no positional ones.
        for name in node.kwd_attrs:
            if name.startswith("_") or name in GUARDED_READS or not attribute_allowed(name):
                raise PolicyViolation(f"class pattern reads attribute '{name}': not allowed", node.lineno)
        if node.patterns:
            raise PolicyViolation("positional sub-patterns in a class pattern are not allowed (the class "
                                  "decides what they read); name the attributes: C(x=..., y=...)",
                                  node.lineno)
        self.generic_visit(node)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        name = node.attr
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            if is_dunder(name):
                raise PolicyViolation(f"assignment to attribute '{name}' is not allowed", node.lineno)
            self.generic_visit(node)
            guarded = ast.Call(ast.Name(WRITE_GUARD, ast.Load()), [node.value], [])
            return ast.copy_location(ast.Attribute(guarded, name, node.ctx), node)
        if not attribute_allowed(name):
            raise PolicyViolation(f"attribute '{name}' is not allowed", node.lineno)
        self.generic_visit(node)
        if (name.startswith("_") and not is_dunder(name)) or name in GUARDED_READS:
            # Private attributes are read only where the program defined them; str.format
            # and format_map get a version that refuses "{0.__globals__}"-style fields.
            # (Dunders are checked above: only protocol methods and names are allowed.)
            call = ast.Call(ast.Name(READ_GUARD, ast.Load()), [node.value, ast.Constant(name)], [])
            return ast.copy_location(call, node)
        return node


def _bound_names(tree: ast.AST) -> set[str]:
    """Every name the program binds anywhere (assignments, parameters, defs, imports)."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).partition(".")[0])
    return bound


def check_program(source: str, filename: str = "<program>") -> ast.Module:
    """Parse ``source``, enforce the policy and return the tree to compile.

    Raises :class:`SyntaxError` or :class:`PolicyViolation`.
    """
    tree = ast.parse(source, filename=filename, mode="exec")
    tree = _Checker(tree).visit(tree)
    return ast.fix_missing_locations(tree)


# ---------------------------------------------------------------------------------------
# Fast path: most programs need no rewriting and hold nothing suspicious.  Their code
# objects say so directly (every global, attribute and imported name a program uses is in
# some co_names), which is far cheaper than walking the syntax tree in Python.
# ---------------------------------------------------------------------------------------
_SLOW_OPS = bytes(
    dis.opmap[name]
    # MATCH_CLASS: a class pattern's attribute names are constants, not co_names.
    for name in ("STORE_ATTR", "DELETE_ATTR", "IMPORT_NAME", "IMPORT_FROM", "IMPORT_STAR", "MATCH_CLASS")
    if name in dis.opmap
)


def _name_is_plain(name: str) -> bool:
    if name in FORBIDDEN_NAMES or name in FORBIDDEN_ATTRS or name in GUARDED_READS:
        return False
    if is_dunder(name):
        return name in SAFE_DUNDER_ATTRS and name in _ALLOWED_DUNDER_NAMES
    return not name.startswith("_") or name == "_"  # a private attribute needs the guard


_SLOW_OP_SET = frozenset(_SLOW_OPS)
_PLAIN_NAMES: set[str] = set()  # names already found plain (a cache: most names recur)


def _code_is_plain(code: types.CodeType) -> bool:
    """No imports, no attribute writes, no name the policy would look at twice."""
    stack = [code]
    while stack:
        co = stack.pop()
        # Wordcode: every even byte is an opcode (inline caches are opcode 0).
        if not _SLOW_OP_SET.isdisjoint(co.co_code[::2]):
            return False
        if not _PLAIN_NAMES.issuperset(co.co_names):
            for name in co.co_names:
                if not _name_is_plain(name):
                    return False
                if len(_PLAIN_NAMES) < 100_000:
                    _PLAIN_NAMES.add(name)
        stack.extend(c for c in co.co_consts if type(c) is types.CodeType)
    return True


def compile_program(source: str, filename: str = "<program>") -> types.CodeType:
    """Policy-check and compile a program: straight from source when its code is plain,
    else through :func:`check_program` (which also rewrites attribute writes).

    Raises :class:`SyntaxError` or :class:`PolicyViolation`.
    """
    code = compile(source, filename, "exec", dont_inherit=True)
    if _code_is_plain(code):
        return code
    return compile(check_program(source, filename), filename, "exec", dont_inherit=True)


def compile_call(args: str, function: str = "f") -> types.CodeType:
    """Policy-check and compile the call ``f(<args>)`` (see :func:`check_call`)."""
    source = f"{function}(\n{args}\n)"
    if ")" in args:  # only a ")" in args can close the call early: check the shape
        call = ast.parse(source, filename="<args>", mode="eval").body
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == function):
            raise PolicyViolation("args must be a plain argument list for f(...)")
    code = compile(source, "<args>", "eval", dont_inherit=True)
    if _code_is_plain(code):
        return code
    return compile(check_call(args, function), "<args>", "eval", dont_inherit=True)


def check_call(args: str, function: str = "f") -> ast.Expression:
    """The tree of the call ``f(<args>)``, where ``args`` is an argument-list source text.

    Refuses anything that is not exactly one call of ``f`` (an ``args`` such as
    ``"0) or ('forged'"`` would otherwise change what is evaluated).
    """
    tree = ast.parse(f"{function}(\n{args}\n)", filename="<args>", mode="eval")
    call = tree.body
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id == function
    ):
        raise PolicyViolation("args must be a plain argument list for f(...)")
    ast.increment_lineno(tree, -1)  # line numbers of the args text itself
    tree = _Checker(tree).visit(tree)
    return ast.fix_missing_locations(tree)
