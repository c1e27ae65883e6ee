"""Optional intrinsic rewards for the proposer: diversity and complexity of its programs.

AZR (appendix D.4) can add to the proposer's learnability reward a few *intrinsic* terms,
its ``generation_reward_config``: how different a new program is from reference programs
(syntax-tree edit distance), how unusual its output type is, and how complex it is
(cyclomatic complexity, Halstead volume).  Each term has a coefficient and a cap and the
terms are combined by sum or product.  All are off by default.

Everything here is pure Python over :mod:`ast`; nothing is executed.  A program that does
not parse gets the documented "unparseable" value of each measure instead of an error.

* :func:`ast_edit_distance` / :func:`mean_ast_distance`: normalised Levenshtein distance
  between the pre-order sequences of syntax-tree node types.
* :func:`answer_type_novelty` and :func:`type_signature`: how rare an output's type is.
* :func:`cyclomatic_complexity` and :func:`halstead`: classic code-complexity measures.
* :class:`IntrinsicRewardConfig` and :func:`intrinsic_rewards`: the weighted, capped terms.
"""

from __future__ import annotations

import ast
import functools
import math
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "HALSTEAD_KEYWORD_NODES",
    "MAX_AST_NODES",
    "TYPE_SIGNATURE_DEPTH",
    "IntrinsicRewardConfig",
    "answer_type_novelty",
    "ast_edit_distance",
    "cyclomatic_complexity",
    "halstead",
    "intrinsic_rewards",
    "mean_ast_distance",
    "type_signature",
]

#: Node-type sequences are truncated to this many nodes before the edit distance.
MAX_AST_NODES = 2000
#: Nesting depth of :func:`type_signature`: at most this many levels of brackets.
TYPE_SIGNATURE_DEPTH = 3
_PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError)


def _parse(source: str) -> ast.Module | None:
    """The module's syntax tree, or None when ``source`` does not parse."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. invalid escape sequences in a candidate
            return ast.parse(source, mode="exec")
    except _PARSE_ERRORS:
        return None


# ---------------------------------------------------------------------------------------
# Diversity: syntax-tree edit distance
# ---------------------------------------------------------------------------------------
def _preorder(tree: ast.AST) -> Iterator[ast.AST]:
    """The nodes under ``tree`` (excluded) in pre-order, iteratively (no recursion limit)."""
    stack = list(reversed(list(ast.iter_child_nodes(tree))))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


@functools.lru_cache(maxsize=1024)
def _node_types(source: str) -> tuple[str, ...] | None:
    """Pre-order node type names of ``source`` (at most :data:`MAX_AST_NODES`), or None.

    The root ``Module`` (always present) and the context nodes ``Load``/``Store``/``Del``
    are left out; identifiers and constants never appear, as only type names are kept.
    """
    tree = _parse(source)
    if tree is None:
        return None
    names: list[str] = []
    for node in _preorder(tree):
        if isinstance(node, ast.expr_context):
            continue
        names.append(type(node).__name__)
        if len(names) >= MAX_AST_NODES:
            break
    return tuple(names)


def _levenshtein(a: Sequence[str], b: Sequence[str]) -> int:
    """Levenshtein distance between two sequences (unit insert, delete and substitute).

    Hyyrö's bit-parallel form of Myers' algorithm, with Python's big integers as the bit
    vectors: one pass over ``b`` with a handful of ``len(a)``-bit operations per element,
    so two 2,000-node sequences take milliseconds rather than seconds.
    """
    # Common prefix and suffix cost nothing; strip them first.
    start = 0
    while start < len(a) and start < len(b) and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    a, b = a[start:end_a], b[start:end_b]
    if not a or not b:
        return len(a) + len(b)
    m = len(a)
    match: dict[str, int] = {}
    for i, item in enumerate(a):
        match[item] = match.get(item, 0) | (1 << i)
    mask = (1 << m) - 1
    last = 1 << (m - 1)
    vp, vn, dist = mask, 0, m
    for item in b:
        x = match.get(item, 0) | vn
        d0 = ((((x & vp) + vp) ^ vp) | x) & mask
        hp = (vn | ~(d0 | vp)) & mask
        hn = vp & d0
        if hp & last:
            dist += 1
        elif hn & last:
            dist -= 1
        hp = ((hp << 1) | 1) & mask
        hn = (hn << 1) & mask
        vp = (hn | ~(d0 | hp)) & mask
        vn = hp & d0
    return dist


def ast_edit_distance(a: str, b: str) -> float:
    """Normalised edit distance in [0, 1] between the syntax trees of two programs.

    Why: AZR's appendix D.4 diversity reward favours programs unlike the reference ones.

    Each program becomes the pre-order sequence of its node type names (no identifiers,
    constants or ``Load``/``Store``/``Del``, so renaming variables or changing literals
    costs nothing), truncated to :data:`MAX_AST_NODES` nodes; the result is the
    Levenshtein distance of the two sequences divided by the longer length (0.0 when both
    are empty).  If either program does not parse the distance is 1.0, whatever the other
    is (even an identical unparseable text): a broken program counts as maximally novel
    here and is expected to be rejected by the validity checks upstream.
    """
    seq_a, seq_b = _node_types(a), _node_types(b)
    if seq_a is None or seq_b is None:
        return 1.0
    longest = max(len(seq_a), len(seq_b))
    if longest == 0:
        return 0.0
    return _levenshtein(seq_a, seq_b) / longest


def mean_ast_distance(program: str, references: Sequence[str]) -> float:
    """Mean :func:`ast_edit_distance` from ``program`` to each reference; 0.0 with none.

    Why: AZR's appendix D.4 diversity reward, measured against reference programs.
    """
    if not references:
        return 0.0
    return math.fsum(ast_edit_distance(program, ref) for ref in references) / len(references)


# ---------------------------------------------------------------------------------------
# Diversity: output types
# ---------------------------------------------------------------------------------------
def answer_type_novelty(output_type: str, reference_types: Sequence[str]) -> float:
    """How rare ``output_type`` is among ``reference_types``: ``1 - count / len(refs)``.

    Why: AZR's appendix D.4 answer-diversity reward favours unusual output types.

    Types are compared as plain strings (e.g. from :func:`type_signature`).  A type not
    among the references scores 1.0; with no references the score is 0.0.
    """
    if not reference_types:
        return 0.0
    count = sum(1 for ref in reference_types if ref == output_type)
    return 1.0 - count / len(reference_types)


def _union(signatures: Iterable[str]) -> str:
    return "|".join(sorted(set(signatures)))


def _signature(value: Any, depth: int) -> str:
    name = "None" if value is None else type(value).__name__
    if depth >= TYPE_SIGNATURE_DEPTH:
        return name
    if isinstance(value, dict):
        if not value:
            return name
        keys = _union(_signature(key, depth + 1) for key in value)
        values = _union(_signature(item, depth + 1) for item in value.values())
        return f"{name}[{keys}, {values}]"
    if isinstance(value, (list, tuple, set, frozenset)):
        if not value:
            return name
        return f"{name}[{_union(_signature(item, depth + 1) for item in value)}]"
    return name


def type_signature(value: Any) -> str:
    """A short structural type name for a canonical value, e.g. ``dict[str, list[float]]``.

    Why: AZR's appendix D.4 answer-diversity reward needs an output's type as a string.

    Scalars give their type name (``None`` for None).  ``list``, ``tuple``, ``set`` and
    ``frozenset`` give ``name[E]`` and ``dict`` gives ``dict[K, V]``, where ``E``, ``K``
    and ``V`` are the sorted distinct element (key, value) signatures joined by ``|``, so
    ``[1, 'a']`` is ``list[int|str]``; tuples are treated like lists (no positional form).
    Empty containers give the bare name (``[]`` is ``list``).  At most
    :data:`TYPE_SIGNATURE_DEPTH` (3) levels of brackets: a container nested deeper gives
    its bare name, so ``[[[[1]]]]`` is ``list[list[list[list]]]``.
    """
    return _signature(value, 0)


# ---------------------------------------------------------------------------------------
# Complexity
# ---------------------------------------------------------------------------------------
_DECISION_NODES = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.IfExp, ast.ExceptHandler, ast.match_case)


def cyclomatic_complexity(program: str) -> int:
    """McCabe complexity of the whole program: 1 + its decision points; 0 if unparseable.

    Why: AZR's appendix D.4 complexity reward favours programs with more branching.

    One number for the whole source, not per function: every function, lambda and class
    body adds its decision points to the single base of 1.  Decision points: each ``if``
    and ``elif`` (``If``), ``for`` / ``async for``, ``while``, conditional expression
    (``IfExp``), ``except`` handler and ``match`` case count 1; each comprehension counts
    1 for its ``for`` plus 1 per ``if``; a boolean operation counts ``len(values) - 1``
    (``a and b or c`` is 2).  ``with``, ``assert``, ``try`` itself and loop ``else``
    blocks count nothing.
    """
    tree = _parse(program)
    if tree is None:
        return 0
    complexity = 1
    for node in ast.walk(tree):
        if isinstance(node, _DECISION_NODES):
            complexity += 1
        elif isinstance(node, ast.comprehension):
            complexity += 1 + len(node.ifs)
        elif isinstance(node, ast.BoolOp):
            complexity += len(node.values) - 1
    return complexity


#: Node types that each count as one occurrence of an operator (named by the type) in
#: :func:`halstead`, on top of the operation nodes' own operators.
HALSTEAD_KEYWORD_NODES = frozenset(
    {
        "FunctionDef", "AsyncFunctionDef", "ClassDef", "Lambda", "Return", "Delete", "Assign",
        "AnnAssign", "For", "AsyncFor", "While", "If", "IfExp", "With", "AsyncWith", "Match",
        "Raise", "Try", "TryStar", "ExceptHandler", "Assert", "Import", "ImportFrom", "Global",
        "Nonlocal", "Break", "Continue", "Pass", "Call", "Subscript", "Attribute", "Slice",
        "Starred", "NamedExpr", "Await", "Yield", "YieldFrom", "ListComp", "SetComp", "DictComp",
        "GeneratorExp", "comprehension",
    }
)  # fmt: skip
_HALSTEAD_KEYS = ("n1", "n2", "N1", "N2", "vocabulary", "length", "volume", "difficulty", "effort")


def halstead(program: str) -> dict[str, float]:
    """Halstead measures of a program, counted on its syntax tree; all zeros if unparseable.

    Why: AZR's appendix D.4 complexity reward can use Halstead volume as program size.

    Counting rule (every node of the tree, each occurrence counted once):

    * operators: the operator of each ``BinOp`` and ``UnaryOp`` (by class: ``Add``,
      ``USub``, ``Not``, ...), each of a ``Compare``'s ``ops``, a ``BoolOp``'s operator
      ``len(values) - 1`` times, an ``AugAssign``'s operator as ``"<op>="`` (``+=`` is
      ``Add=``), and each node whose type is in :data:`HALSTEAD_KEYWORD_NODES` (``def``,
      ``return``, ``if``, ``for``, calls, subscripts, attribute access, assignments...);
    * operands: ``Name`` ids, function argument names, ``def``/``class`` names, attribute
      names, keyword-argument names and ``repr()`` of constants.

    ``n1``/``n2`` are the distinct operators/operands, ``N1``/``N2`` their occurrences;
    vocabulary = n1 + n2, length = N1 + N2, volume = length * log2(vocabulary),
    difficulty = n1 / 2 * N2 / n2, effort = difficulty * volume (0.0 where a division or
    logarithm would be undefined).  Example: ``def f(a, b):\\n    return a + b * 2`` has
    operators ``FunctionDef, Return, Add, Mult`` (n1 = N1 = 4) and operands
    ``f, a, b, a, b, 2`` (n2 = 4, N2 = 6): volume 30, difficulty 3, effort 90.
    """
    tree = _parse(program)
    if tree is None:
        return dict.fromkeys(_HALSTEAD_KEYS, 0.0)
    operators: Counter[str] = Counter()
    operands: Counter[str] = Counter()
    for node in ast.walk(tree):
        kind = type(node).__name__
        if kind in HALSTEAD_KEYWORD_NODES:
            operators[kind] += 1
        if isinstance(node, (ast.BinOp, ast.UnaryOp)):
            operators[type(node.op).__name__] += 1
        elif isinstance(node, ast.BoolOp):
            operators[type(node.op).__name__] += len(node.values) - 1
        elif isinstance(node, ast.Compare):
            operators.update(type(op).__name__ for op in node.ops)
        elif isinstance(node, ast.AugAssign):
            operators[type(node.op).__name__ + "="] += 1
        if isinstance(node, ast.Name):
            operands[node.id] += 1
        elif isinstance(node, ast.Constant):
            operands[repr(node.value)] += 1
        elif isinstance(node, ast.arg):
            operands[node.arg] += 1
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            operands[node.name] += 1
        elif isinstance(node, ast.Attribute):
            operands[node.attr] += 1
        elif isinstance(node, ast.keyword) and node.arg is not None:
            operands[node.arg] += 1
    n1, n2 = len(operators), len(operands)
    big_n1, big_n2 = sum(operators.values()), sum(operands.values())
    vocabulary, length = n1 + n2, big_n1 + big_n2
    volume = length * math.log2(vocabulary) if vocabulary > 0 else 0.0
    difficulty = (n1 / 2) * (big_n2 / n2) if n2 > 0 else 0.0
    values = (n1, n2, big_n1, big_n2, vocabulary, length, volume, difficulty, difficulty * volume)
    return {key: float(value) for key, value in zip(_HALSTEAD_KEYS, values, strict=True)}


# ---------------------------------------------------------------------------------------
# Configuration and combination
# ---------------------------------------------------------------------------------------
def _coef(what: str) -> Any:
    return Field(0.0, allow_inf_nan=False, description=f"Weight of the {what} term; 0 turns it off.")


def _cap(what: str) -> Any:
    return Field(1.0, gt=0, description=f"Upper bound on the raw (scaled) {what} value before weighting.")


class IntrinsicRewardConfig(BaseModel):
    """AZR's ``generation_reward_config``: optional intrinsic proposer rewards (all off).

    Why: AZR's appendix D.4 rewards diversity and complexity of proposed programs.

    Each term's value is ``coef * min(cap, raw)``; a term is enabled when its ``coef`` is
    non-zero (negative coefficients are allowed and act as penalties).  Coefficients and
    scales must be finite, caps and scales positive (an infinite cap means no cap).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    diversity_ast_coef: float = _coef("syntax-tree diversity (mean AST edit distance to references)")
    diversity_ast_cap: float = _cap("mean AST edit distance")
    diversity_answer_type_coef: float = _coef("answer-type diversity (output-type novelty)")
    diversity_answer_type_cap: float = _cap("answer-type novelty")
    complexity_cyclomatic_coef: float = _coef("cyclomatic-complexity")
    complexity_cyclomatic_cap: float = _cap("cyclomatic complexity / scale")
    complexity_cyclomatic_scale: float = Field(
        15.0,
        gt=0,
        allow_inf_nan=False,
        description="Divisor of the cyclomatic complexity (AZR divides by 15).",
    )
    complexity_halstead_coef: float = _coef("Halstead-volume complexity")
    complexity_halstead_cap: float = _cap("Halstead volume / scale")
    complexity_halstead_scale: float = Field(
        1000.0, gt=0, allow_inf_nan=False, description="Divisor of the Halstead volume."
    )
    combine: Literal["sum", "product"] = Field(
        "sum",
        description="'sum' adds the weighted terms; 'product' gives prod(1 + term) - 1 over enabled terms.",
    )

    @property
    def enabled(self) -> bool:
        """True when any term has a non-zero coefficient."""
        return any(
            coef != 0
            for coef in (
                self.diversity_ast_coef,
                self.diversity_answer_type_coef,
                self.complexity_cyclomatic_coef,
                self.complexity_halstead_coef,
            )
        )


def intrinsic_rewards(
    program: str,
    output_type: str | None,
    references: Sequence[tuple[str, str | None]],
    config: IntrinsicRewardConfig,
) -> dict[str, float]:
    """The enabled intrinsic terms for one proposed program, and their ``"total"``.

    Why: AZR's appendix D.4 adds these to the proposer's learnability reward.

    ``references`` are ``(program, output_type)`` pairs to measure diversity against (the
    caller decides which: e.g. the other proposals of the batch or the task buffer; leave
    ``program`` itself out).  Each enabled term (``coef != 0``) appears under its key,
    ``diversity_ast``, ``diversity_answer_type``, ``complexity_cyclomatic`` or
    ``complexity_halstead``, as ``coef * min(cap, raw)`` where raw is
    :func:`mean_ast_distance`, :func:`answer_type_novelty` (0.0 when ``output_type`` is
    None; references whose type is None are ignored), cyclomatic complexity / scale and
    Halstead volume / scale.  ``"total"`` is their sum with ``combine="sum"``; with
    ``"product"`` it is ``prod(1 + term) - 1`` over the enabled terms, because a plain
    product would be 0 as soon as any one term is 0.  Nothing enabled: ``{"total": 0.0}``.
    """
    terms: dict[str, float] = {}

    def add(key: str, coef: float, cap: float, raw: Callable[[], float]) -> None:
        if coef != 0:
            terms[key] = coef * min(cap, raw())

    add(
        "diversity_ast",
        config.diversity_ast_coef,
        config.diversity_ast_cap,
        lambda: mean_ast_distance(program, [ref for ref, _ in references]),
    )
    add(
        "diversity_answer_type",
        config.diversity_answer_type_coef,
        config.diversity_answer_type_cap,
        lambda: (
            0.0
            if output_type is None
            else answer_type_novelty(output_type, [t for _, t in references if t is not None])
        ),
    )
    add(
        "complexity_cyclomatic",
        config.complexity_cyclomatic_coef,
        config.complexity_cyclomatic_cap,
        lambda: cyclomatic_complexity(program) / config.complexity_cyclomatic_scale,
    )
    add(
        "complexity_halstead",
        config.complexity_halstead_coef,
        config.complexity_halstead_cap,
        lambda: halstead(program)["volume"] / config.complexity_halstead_scale,
    )
    if not terms:
        return {"total": 0.0}
    if config.combine == "sum":
        total = math.fsum(terms.values())
    else:
        total = math.prod(1.0 + term for term in terms.values()) - 1.0
    return {**terms, "total": total}
