"""Loaders for code benchmarks as induction tasks: HumanEval+, MBPP+ (evalplus) and HumanEval.

Each benchmark problem becomes one **induction** task: the solver sees some input/output
pairs of the reference solution and the problem statement (``message``), writes a
program ``f``, and is scored on hidden inputs it never saw.  These benchmarks do not store
expected outputs: they are computed here by running the canonical solution in the sandbox
(one executor batch per file), as evalplus itself does.  Task ids are the benchmarks' own
(``HumanEval/0``, ``Mbpp/2``).

Program convention
------------------
Our executor calls a function named ``f``; the benchmarks name theirs (``has_close_elements``).
The gold program keeps the original code and entry point and adds a thin wrapper::

    <prompt><canonical_solution>


    def f(*args):
        return has_close_elements(*args)

HumanEval/106's entry point is already called ``f``: no wrapper.  ``Mbpp/120`` gets
``import math`` in front (its text uses ``math.isclose`` without importing it).  The
message is the task text (HumanEval: the entry function's docstring; MBPP: the prompt's
text) and a line asking for a function named ``f`` that takes the same arguments.

Departures from the canonical solutions, each listed as data with its reason:

* :data:`CANONICAL_OVERRIDES`: two solutions use what the sandbox refuses (HumanEval/160
  calls ``eval``, Mbpp/596 imports ``sys``) and are replaced by code giving the same outputs
  on every benchmark input.
* :data:`OUTPUT_TRANSFORMS` (MBPP+, from evalplus's special oracles): the three tasks
  whose ground truth evalplus takes as ``output is not None`` return that bool; the eight
  it compares as sets return a set; Mbpp/88 returns a dict instead of a ``Counter``.

Inputs and scoring
------------------
* evalplus (:func:`load_evalplus`): every ``base_input`` (the original tests' inputs) is a
  visible pair, shown to the solver; every base **and** plus input is a hidden pair, and an
  answer is scored on all of them, so a task's pass is evalplus's ``plus`` pass (and a pass
  of the first ``n_base`` hidden inputs, its ``base`` pass).  ``hidden_cap`` keeps only that
  many plus inputs (sampled with ``random.Random(seed + stable hash of the task id)``, kept
  in file order): an explicit option for training speed, never the default, recorded in the
  task set (``extra["scored"]``).  Each task carries evalplus's comparison rule
  (``extra["compare"] == "evalplus"``, see :mod:`azr_env.compare`), its tolerance, and a
  time limit per hidden input as evalplus computes it (the larger of 1 s and 4x the
  canonical solution's time on that input).
* HumanEval (:func:`load_humaneval`): the literal arguments of the ``candidate(...)``
  calls in each task's ``test`` code, first half visible, the rest hidden (at least one
  hidden).  161 of the 164 tasks load, 160 of them with at least 2 pairs
  (:data:`HUMANEVAL_COVERAGE`); HumanEval/32, /38 and /50 test only on inputs built in a
  loop from ``random`` and are skipped.  A test comparing ``abs(candidate(...) - x) < tol``
  gives the task ``atol = tol`` (HumanEval/2 and /4).  Compared with Python's ``==``.

``args`` is ``", ".join(source(a) for a in inputs)`` with ``source`` = ``repr`` except for
the values whose ``repr`` is not Python source (``float('inf')``, complex numbers with
``-0.0`` or non-finite parts; set elements are sorted so the text never depends on the
hash seed).  JSON turns tuples into lists: MBPP+ inputs are put back the way evalplus does
before calling (:data:`MBPP_RESTORE`, from evalplus's ``mbpp_deserialize_inputs``);
evalplus does no such thing for HumanEval+.

Dropped inputs
--------------
An input is dropped only when the canonical solution cannot give its output here: it fails
in the sandbox (``error``, ``timeout``, ``memory``), or its output is larger than the
executor returns (``output_too_large``: five Mbpp/255 inputs, whose outputs are 25 MB to
1 GB of text; evalplus compares those inside the solution's process, which our sandbox
never lets a gold output into), or the input cannot be written as a literal
(``unwritable``).  Optional ``max_chars`` / ``max_seconds`` drop long or slow inputs too,
for training sets.  The count per task is ``metadata.extra["dropped_inputs"]`` and the
reasons ``metadata.extra["dropped_reasons"]``; a task left with no hidden pair is skipped
and named, with the reason, in the task set's ``extra["skipped"]``.
"""

from __future__ import annotations

import ast
import gzip
import hashlib
import inspect
import json
import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azr_env.executor import BaseExecutor, Executor, Program
from azr_env.tasks.task import IOPair, Task
from azr_env.tasks.taskset import TaskSet, TaskSetError

__all__ = [
    "CANONICAL_OVERRIDES",
    "MBPP_RESTORE",
    "OUTPUT_TRANSFORMS",
    "gold_program",
    "load_evalplus",
    "value_source",
]

EVALPLUS_LIMITS = {"max_output_chars": 16 * 2**20, "max_output_items": 4 * 2**20, "memory_mb": 4096,
                   "timeout_s": 20.0}
"""The executor the evalplus loaders start when given none, and the one to score these sets
with: outputs up to 16 MiB (HumanEval/15's are 6.9 MB), evalplus's 4 GiB of memory."""

MIN_TIME_LIMIT_S = 1.0
TIME_LIMIT_FACTOR = 4.0
"""evalplus 0.3.1's per-input time limit: max(1 s, 4x the canonical solution's time)."""

_EVALPLUS = {
    # which: (task id prefix, metadata.source, task-set name, version, license, task-set source)
    "humaneval": ("HumanEval/", "humanevalplus", "humanevalplus", "0.1.10", "Apache-2.0",
                  "evalplus/humanevalplus_release v0.1.10"),
    "mbpp": ("Mbpp/", "mbppplus", "mbppplus", "0.2.0", "Apache-2.0 (MBPP data: CC-BY-4.0)",
             "evalplus/mbppplus_release v0.2.0"),
}
_SOURCE_KEY = {"humaneval": "humanevalplus", "mbpp": "mbppplus"}

# Extra source put in front of a task's program (the task's own text forgets an import).
_PRELUDE = {"Mbpp/120": "import math\n"}

CANONICAL_OVERRIDES: dict[str, str] = {
    # The original builds "2+3*4" and calls eval(), which the sandbox refuses.  This
    # gives eval's value for every operator list the task allows (+ - * // ** on
    # non-negative ints; checked against eval on all 452 HumanEval+ inputs): powers
    # first, right to left; then * and //, then + and -, left to right.
    "HumanEval/160": """
    values, ops = [operand[-1]], []
    for op, x in zip(reversed(operator), reversed(operand[:-1])):
        if op == "**":
            values[-1] = x ** values[-1]
        else:
            values.append(x)
            ops.append(op)
    values.reverse()
    ops.reverse()
    terms, signs = [values[0]], []
    for op, x in zip(ops, values[1:]):
        if op == "*":
            terms[-1] = terms[-1] * x
        elif op == "//":
            terms[-1] = terms[-1] // x
        else:
            terms.append(x)
            signs.append(op)
    result = terms[0]
    for op, x in zip(signs, terms[1:]):
        result = result + x if op == "+" else result - x
    return result
""",
    # The original returns sys.getsizeof(t); the sandbox refuses "import sys".  On 64-bit
    # CPython 3.8+ a tuple's size is 40 bytes plus 8 per item (checked against
    # sys.getsizeof on every MBPP+ input, all of them tuples).
    "Mbpp/596": """
def tuple_size(tuple_list):
  return 40 + 8 * len(tuple_list)
""",
}
"""Canonical solutions replaced because the sandbox refuses what the original uses (the
same outputs, without it); :func:`load_evalplus` and :func:`load_humaneval` use them."""

# evalplus/eval/_special_oracle.py (evalplus v0.3.1): MBPP_OUTPUT_NOT_NONE_TASKS, whose
# ground truth evalplus itself takes as ``output is not None`` (they return re.Match
# objects, which are not data): the gold ``f`` returns that bool.  (The set-compared tasks
# and Mbpp/88's Counter need nothing here: the comparison rule and the sandbox's lenient
# conversion see them as evalplus's ``==`` does.)
OUTPUT_TRANSFORMS: dict[str, str] = dict.fromkeys(["check_str", "text_match_three", "text_starta_endb"],
                                                 "{} is not None")
"""MBPP+ entry point -> expression the gold ``f`` returns around the original's result."""


# ---------------------------------------------------------------------------------------
# MBPP+ tuple restoration
# ---------------------------------------------------------------------------------------
def _all_tuples(value: Any) -> Any:
    return tuple(_all_tuples(x) for x in value) if isinstance(value, list) else value


_RESTORERS: dict[str, Callable[[list], Any]] = {
    "args_tuples": lambda inp: [tuple(a) for a in inp],
    "args_items_tuples": lambda inp: [[tuple(x) for x in a] for a in inp],
    "arg0_items_tuples": lambda inp: [[tuple(x) for x in inp[0]]] + [inp[1]],
    "arg1_tuple": lambda inp: [inp[0]] + [tuple(inp[1])],
    # Non-empty lists become sets, empty ones {} (a dict), exactly as evalplus does.
    "arg0_items_sets": lambda inp: [[set(x) if isinstance(x, list) and len(x) else {} for x in inp[0]]],
    "float_complex": lambda inp: (float(inp[0]), complex(inp[1])),
    "arg0_tuple": lambda inp: [tuple(inp[0])] + [inp[1]],
    "args_items_tuples_then_args_tuples": lambda inp: [tuple(tuple(x) for x in a) for a in inp],
    "arg0_list_items_tuples_then_args_tuples": lambda inp: [
        tuple(a) for a in [[tuple(x) if isinstance(x, list) else x for x in inp[0]]]
    ],
    "arg0_tuple_3": lambda inp: [tuple(inp[0])] + [inp[1], inp[2]],
    "arg0_dict_values_tuples": lambda inp: [{k: tuple(v) for k, v in inp[0].items()}] + inp[1:],
    "complex": lambda inp: [complex(inp[0])],
    "all_tuples": _all_tuples,
}

MBPP_RESTORE: dict[int, str] = {
    # Reproduces evalplus's ``mbpp_deserialize_inputs`` (evalplus/data/mbpp.py, evalplus
    # v0.3.1, MBPP_PLUS_VERSION = "v0.2.0"), which evalplus applies to ``base_input`` and
    # ``plus_input`` of these MBPP+ task numbers before calling the function.  The names
    # are those of :data:`_RESTORERS`; some numbers are no longer in v0.2.0 (kept as-is).
    **dict.fromkeys([2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596,
                     616, 630, 726, 740, 744, 809], "args_tuples"),
    **dict.fromkeys([63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780],
                    "args_items_tuples"),
    **dict.fromkeys([75, 413, 444, 753], "arg0_items_tuples"),
    **dict.fromkeys([106, 750], "arg1_tuple"),
    115: "arg0_items_sets",
    124: "float_complex",
    **dict.fromkeys([250, 405, 446, 617, 720, 763, 808], "arg0_tuple"),
    **dict.fromkeys([259, 401, 445], "args_items_tuples_then_args_tuples"),
    278: "arg0_list_items_tuples_then_args_tuples",
    307: "arg0_tuple_3",
    722: "arg0_dict_values_tuples",
    252: "complex",
    **dict.fromkeys([580, 615, 791], "all_tuples"),
}
"""MBPP+ task number -> how its JSON inputs are turned back into what the function expects."""


def _restore(task_id: str, inputs: list) -> list:
    """A task's argument lists (one per call) with the tuples JSON lost put back."""
    if not task_id.startswith("Mbpp/"):
        return inputs  # evalplus leaves HumanEval+ inputs as JSON gives them
    kind = MBPP_RESTORE.get(int(task_id.split("/", 1)[1]))
    return [_RESTORERS[kind](inp) for inp in inputs] if kind else inputs


# ---------------------------------------------------------------------------------------
# Values to source text
# ---------------------------------------------------------------------------------------
def value_source(value: Any) -> str:
    """Python source text that evaluates to ``value``: ``repr`` where it is source.

    ``nan`` and ``inf`` become ``float('nan')`` / ``float('inf')``; a complex number whose
    ``repr`` would not read back exactly (``-0.0`` parts, non-finite parts) becomes
    ``complex(re, im)``.  Raises ValueError for types other than builtin data.
    """
    kind = type(value)
    if value is None or kind in (bool, int, str, bytes):
        return repr(value)
    if kind is float:
        if math.isnan(value):
            return "float('nan')"
        if math.isinf(value):
            return "float('inf')" if value > 0 else "float('-inf')"
        return repr(value)
    if kind is complex:
        text = repr(value)
        try:
            back = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            back = None
        if isinstance(back, complex) and repr(back) == text:
            return text
        return f"complex({value_source(value.real)}, {value_source(value.imag)})"
    if kind is list:
        return "[" + ", ".join(value_source(x) for x in value) + "]"
    if kind is tuple:
        inner = ", ".join(value_source(x) for x in value)
        return "(" + inner + ("," if len(value) == 1 else "") + ")"
    if kind is dict:
        return "{" + ", ".join(f"{value_source(k)}: {value_source(v)}" for k, v in value.items()) + "}"
    if kind in (set, frozenset):
        if not value:
            return f"{kind.__name__}()"
        inner = "{" + ", ".join(sorted(value_source(x) for x in value)) + "}"  # stable order
        return inner if kind is set else f"frozenset({inner})"
    raise ValueError(f"cannot write a {kind.__name__} as source")


def _args_source(inputs: Any) -> str:
    return ", ".join(value_source(a) for a in inputs)


# ---------------------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------------------
def _read_jsonl(path: Path, what: str) -> list[tuple[int, dict]]:
    """(line number, object) for each non-blank line; TaskSetError naming the bad line."""
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz" or raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        text = raw.decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile) as exc:
        raise TaskSetError(f"cannot read {what} file {path}: {exc}") from None
    rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TaskSetError(f"{path}:{lineno}: not JSON ({exc})") from None
        if not isinstance(row, dict):
            raise TaskSetError(f"{path}:{lineno}: not a {what} row (a JSON object is expected)")
        rows.append((lineno, row))
    if not rows:
        raise TaskSetError(f"{path}: no {what} rows")
    return rows


def _need(path: Path, lineno: int, row: dict, what: str, keys: dict[str, type | tuple[type, ...]],
          seen: set[str]) -> None:
    """Check a row's fields (and that its task id is new); TaskSetError naming the line."""
    for key, kind in keys.items():
        if key not in row:
            raise TaskSetError(f"{path}:{lineno}: not a {what} row: field {key!r} is missing")
        if not isinstance(row[key], kind) or isinstance(row[key], bool):
            raise TaskSetError(f"{path}:{lineno}: not a {what} row: field {key!r} has the wrong type "
                               f"({type(row[key]).__name__})")
    if row["task_id"] in seen:
        raise TaskSetError(f"{path}:{lineno}: task id {row['task_id']!r} appears twice")
    seen.add(row["task_id"])


# ---------------------------------------------------------------------------------------
# Programs and messages
# ---------------------------------------------------------------------------------------
def gold_program(task_id: str, prompt: str, canonical_solution: str, entry_point: str) -> str:
    """The reference program under our convention: the original code plus ``def f`` calling it.

    Applies :data:`CANONICAL_OVERRIDES` and, for MBPP+ tasks, :data:`OUTPUT_TRANSFORMS`.
    """
    body = CANONICAL_OVERRIDES.get(task_id, canonical_solution)
    source = (_PRELUDE.get(task_id, "") + prompt + body).rstrip()
    if entry_point == "f":  # HumanEval/106
        return source + "\n"
    transform = OUTPUT_TRANSFORMS.get(entry_point, "{}") if task_id.startswith("Mbpp/") else "{}"
    call = transform.format(f"{entry_point}(*args)")
    return f"{source}\n\n\ndef f(*args):\n    return {call}\n"


def _function_doc(prompt: str, entry_point: str) -> str | None:
    """The entry function's docstring (or its first string statement) in a HumanEval prompt."""
    try:
        tree = ast.parse(prompt + "\n    pass\n")
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == entry_point:
            for stmt in node.body:  # HumanEval/115 has "import math" before its docstring
                if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) \
                        and isinstance(stmt.value.value, str):
                    return inspect.cleandoc(stmt.value.value)
    return None


def _message(text: str, entry_point: str) -> str:
    if entry_point == "f":
        return f"{text.strip()}\n\nWrite this as a Python function named `f`."
    return (f"{text.strip()}\n\nWrite this as a Python function named `f` "
            f"(the task calls it `{entry_point}`); it gets the same arguments.")


def _humaneval_message(prompt: str, entry_point: str) -> str:
    return _message(_function_doc(prompt, entry_point) or prompt, entry_point)



def _mbpp_message(prompt: str, entry_point: str) -> str:
    try:
        text = ast.get_docstring(ast.parse(prompt)) or prompt
    except SyntaxError:
        text = prompt
    return _message(text, entry_point)


# ---------------------------------------------------------------------------------------
# Building tasks
# ---------------------------------------------------------------------------------------
@dataclass
class _Draft:
    """One task before its outputs are known."""

    task_id: str
    program: str
    message: str
    source: str
    visible: list[str]
    hidden: list[str]
    hidden_from: str
    extra: dict[str, Any] = field(default_factory=dict)
    unwritable: int = 0  # inputs that could not even be written as source


def _stable_hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def _finish(drafts: list[_Draft], executor: BaseExecutor | None, split: Callable[[list[IOPair]], int], *,
            max_chars: int | None = None, max_seconds: float | None = None,
            time_limit_factor: float | None = None) -> tuple[list[Task], dict[str, str]]:
    """Tasks from drafts, with outputs from one sandbox batch; and the skipped ids, why.

    Each draft's program runs once on every distinct input it holds (visible and hidden).
    With a ``time_limit_factor`` (evalplus), each hidden pair gets evalplus's time limit
    and the task counts its base inputs (``n_base``: the hidden pairs that are visible too).
    """
    evalplus = time_limit_factor is not None
    fits = (lambda a: True) if max_chars is None else (lambda a: len(a) <= max_chars)
    inputs = [tuple(dict.fromkeys(a for a in (*d.visible, *d.hidden) if fits(a))) for d in drafts]
    programs = [Program(d.program, ins, stop_on_failure=False, output="lenient")
                for d, ins in zip(drafts, inputs, strict=True)]
    if executor is not None:
        outcomes = executor.run_programs(programs)
    else:
        with Executor(**EVALPLUS_LIMITS) as ex:
            outcomes = ex.run_programs(programs)
    tasks: list[Task] = []
    skipped: dict[str, str] = {}
    for d, ins, runs in zip(drafts, inputs, outcomes, strict=True):
        result_of = dict(zip(ins, runs, strict=True))
        reasons: Counter[str] = Counter({"unwritable": d.unwritable} if d.unwritable else {})
        errors: list[str] = []
        usable: dict[str, tuple[str, float]] = {}  # args -> (output, seconds)
        for args in dict.fromkeys((*d.visible, *d.hidden)):
            result = result_of.get(args)
            if result is None:
                reasons["too_long"] += 1
            elif not result.ok:
                reasons[str(result.status)] += 1
                errors.append(f"{result.status}: {result.error}")
            elif max_chars is not None and len(args) + len(result.output or "") > max_chars:
                reasons["too_long"] += 1
            elif max_seconds is not None and result.duration_s > max_seconds:
                reasons["slow"] += 1
            else:
                usable[args] = (result.output or "", result.duration_s)
        visible = [IOPair(args=a, output=usable[a][0]) for a in d.visible if a in usable]
        hidden = [IOPair(args=a, output=usable[a][0]) for a in d.hidden if a in usable]
        hidden_from = d.hidden_from
        if not hidden and not evalplus:  # nothing left to hide: hide the end of the visible pairs
            k = split(visible)
            visible, hidden = visible[:k], visible[k:]
        if not hidden:
            why = errors[0] if errors else ", ".join(reasons) or "no inputs"
            skipped[d.task_id] = f"no input gives a usable output ({why[:300]})"
            continue
        extra = dict(d.extra, hidden_from=hidden_from, dropped_inputs=sum(reasons.values()))
        if reasons:
            extra["dropped_reasons"] = dict(sorted(reasons.items()))
        if evalplus:
            base = set(d.visible)
            extra["n_base"] = sum(pair.args in base for pair in hidden)
            extra["time_limits"] = [round(max(MIN_TIME_LIMIT_S, time_limit_factor * usable[p.args][1]), 3)
                                    for p in hidden]
        tasks.append(Task.create("induction", d.program, visible=visible, hidden=hidden,
                                 message=d.message, id=d.task_id, source=d.source, extra=extra))
    return tasks, skipped


def _last_third(pairs: list) -> int:
    """How many pairs stay visible when the last third (at least one) is hidden."""
    return len(pairs) - max(1, len(pairs) // 3) if pairs else 0


def _write_inputs(task_id: str, raw: list) -> tuple[list[str], int]:
    """Source texts of a task's argument lists (restored, deduplicated), and how many failed."""
    texts: list[str] = []
    failed = 0
    for inputs in _restore(task_id, raw):
        try:
            texts.append(_args_source(inputs))
        except (ValueError, TypeError):  # e.g. an int too long to print
            failed += 1
    return list(dict.fromkeys(texts)), failed


def load_evalplus(
    path: str | Path | None = None,
    *,
    which: str | None = None,
    hidden_cap: int | None = None,
    executor: BaseExecutor | None = None,
    seed: int = 0,
    max_chars: int | None = None,
    max_seconds: float | None = None,
    time_limit_factor: float = TIME_LIMIT_FACTOR,
) -> TaskSet:
    """HumanEval+ (v0.1.10) or MBPP+ (v0.2.0) as induction tasks, evalplus ids kept.

    ``path`` is a local ``HumanEvalPlus.jsonl.gz`` / ``MbppPlus.jsonl.gz`` (or ``.jsonl``);
    which benchmark it is comes from the task ids.  Without a path, ``which``
    (``"humaneval"`` or ``"mbpp"``) picks the official file, downloaded once
    (:func:`azr_env.downloads.fetch`).  Visible pairs are the ``base_input``; an answer is
    scored on every base and plus input, with evalplus's comparison rule and time limits,
    unless ``hidden_cap`` keeps only that many plus inputs (sampled deterministically from
    ``seed``; for training speed).  Outputs come from the canonical solution, run in
    ``executor`` (one with :data:`EVALPLUS_LIMITS`, closed after, when None; a smaller one
    drops the inputs whose outputs it cannot return).  Each hidden input's time limit is
    the larger of 1 s and ``time_limit_factor`` times the canonical solution's time on it
    (evalplus's ``--gt-time-limit-factor``; raise it on a slow or loaded machine).  See the
    module docstring.
    """
    if which is not None and which not in _EVALPLUS:
        raise ValueError(f"which must be 'humaneval' or 'mbpp', got {which!r}")
    if hidden_cap is not None and (not isinstance(hidden_cap, int) or hidden_cap < 1):
        raise ValueError(f"hidden_cap must be None or a positive int, got {hidden_cap!r}")
    if path is None:
        if which is None:
            raise ValueError("give a path, or which='humaneval' / 'mbpp' to download the official file")
        from azr_env.tasks.downloads import fetch_source

        path = fetch_source(_SOURCE_KEY[which])
    path = Path(path)
    rows = _read_jsonl(path, "evalplus")
    keys = {"task_id": str, "prompt": str, "entry_point": str, "canonical_solution": str,
            "base_input": list, "plus_input": (list, dict), "atol": (int, float)}
    detected, seen = None, set()
    for lineno, row in rows:
        _need(path, lineno, row, "evalplus", keys, seen)
        kind = next((k for k, spec in _EVALPLUS.items() if row["task_id"].startswith(spec[0])), None)
        if kind is None:
            raise TaskSetError(f"{path}:{lineno}: task id {row['task_id']!r} is neither HumanEval/ nor Mbpp/")
        if detected not in (None, kind):
            raise TaskSetError(f"{path}:{lineno}: {row['task_id']!r} mixes benchmarks in one file")
        detected = kind
        plus = row["plus_input"] if isinstance(row["plus_input"], list) else []
        if not all(isinstance(x, list) for x in (*row["base_input"], *plus)):
            raise TaskSetError(f"{path}:{lineno}: inputs must be lists of argument lists")
    assert detected is not None
    if which is not None and which != detected:
        raise TaskSetError(f"{path}: which={which!r}, but the file holds {detected} tasks")
    _, source, name, version, license, origin = _EVALPLUS[detected]

    drafts = []
    for lineno, row in rows:
        task_id = row["task_id"]
        try:
            base, bad_base = _write_inputs(task_id, row["base_input"])
            plus, bad_plus = _write_inputs(task_id, row["plus_input"] or [])
        except (TypeError, ValueError, IndexError, KeyError, AttributeError) as exc:
            raise TaskSetError(f"{path}:{lineno}: {task_id}: inputs do not fit the task ({exc})") from None
        seen = set(base)
        plus = [a for a in plus if a not in seen]
        if hidden_cap is not None and len(plus) > hidden_cap:
            rng = random.Random(seed + _stable_hash(task_id))
            plus = [plus[i] for i in sorted(rng.sample(range(len(plus)), hidden_cap))]
        visible, hidden, hidden_from = base, base + plus, "base_input+plus_input"
        extra: dict[str, Any] = {"entry_point": row["entry_point"], "compare": "evalplus",
                                 "dataset": detected}
        if row["atol"] > 0:
            extra["atol"] = float(row["atol"])
        program = gold_program(task_id, row["prompt"], row["canonical_solution"], row["entry_point"])
        message = (_humaneval_message if detected == "humaneval" else _mbpp_message)(
            row["prompt"], row["entry_point"])
        drafts.append(_Draft(task_id, program, message, source, visible, hidden, hidden_from, extra,
                             bad_base + bad_plus))
    tasks, skipped = _finish(drafts, executor, _last_third, max_chars=max_chars, max_seconds=max_seconds,
                             time_limit_factor=time_limit_factor)
    if hidden_cap is not None:
        scored = f"every base input and at most {hidden_cap} plus inputs per task"
    elif max_chars is not None or max_seconds is not None:
        scored = "base and plus inputs, less those dropped by max_chars / max_seconds"
    else:
        scored = "every base and plus input"
    return TaskSet(tasks, name, version, source=origin, license=license,
                   extra={"hidden_cap": hidden_cap, "seed": seed, "skipped": skipped, "scored": scored,
                          "compare": "evalplus 0.3.1"})
