"""Our scores equal the official evaluators' on the same answers (HumanEval+, MBPP+, CRUXEval).

evalplus's own checker (``evalplus.eval.untrusted_check``, the ``evalplus`` package) and
CRUXEval's rule (``assert <output> == <generation>``, as its ``evaluate_score``) score candidate
sets of ours: gold, off by one on a base input and on a plus input, int-valued floats, floats
just inside and just outside the tolerance, a loop on one input, builtin subclasses
(``OrderedDict``, namedtuples, a ``str`` subclass), an object whose ``__eq__`` says yes, and for
CRUXEval answers that are expressions.  The verdicts must be identical, except for the one
deliberate difference: an answer that is an expression, or whose value is an object that runs
its own ``==``, is wrong here (it runs code).
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from azr_env.executor import Executor
from azr_env.scoring.verify import Verifier
from azr_env.tasks.cruxeval import load_cruxeval
from azr_env.tasks.evalplus import EVALPLUS_LIMITS, _restore, load_evalplus, value_source

from .conftest import data_file

pytest.importorskip("evalplus", reason="evalplus is a dev dependency (make test installs it)")

ORACLE = Path(__file__).with_name("evalplus_oracle.py")
TASKS = {
    "humaneval": ["HumanEval/0", "HumanEval/2", "HumanEval/4", "HumanEval/13", "HumanEval/32", "HumanEval/53",
                  "HumanEval/106", "HumanEval/120"],
    "mbpp": ["Mbpp/2", "Mbpp/3", "Mbpp/82", "Mbpp/88", "Mbpp/120", "Mbpp/558", "Mbpp/581", "Mbpp/737",
             "Mbpp/787", "Mbpp/794", "Mbpp/793"],
}
FILES = {"humaneval": "HumanEvalPlus-v0.1.10.jsonl.gz", "mbpp": "MbppPlus-v0.2.0.jsonl.gz"}

HELPERS = '''
import collections

def _bump_(out):
    if isinstance(out, bool):
        return not out
    if isinstance(out, (int, float)):
        return out + 1
    if isinstance(out, str):
        return out + "!"
    if isinstance(out, list):
        return out + [None]
    if isinstance(out, tuple):
        return out + (None,)
    if isinstance(out, dict):
        return {**out, "_extra_": 1}
    return 0 if out is None else None

def _floats_(out):
    if type(out) is int:
        return float(out)
    if type(out) is list and out and all(type(x) is int for x in out):
        return [float(x) for x in out]
    return out

def _nudge_(out, by):
    if type(out) is float:
        return out + by
    if type(out) in (list, tuple) and out and all(type(x) is float for x in out):
        return type(out)(x + by for x in out)
    return out

class _Text_(str):
    pass

def _subclass_(out):
    if type(out) is dict:
        return collections.OrderedDict(out)
    if type(out) is tuple and 0 < len(out) <= 50:
        return collections.namedtuple("T", ["x%d" % i for i in range(len(out))])(*out)
    if type(out) is str:
        return _Text_(out)
    return out

class _Yes_:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False
'''

MUTATIONS = {  # name -> body of the wrapper, around ``out = _impl_(*args)``
    "gold": "",
    "off-by-one-on-a-base-input": "if list(args) == BASE_TARGET:\n        out = _bump_(out)",
    "off-by-one-on-a-plus-input": "if list(args) == PLUS_TARGET:\n        out = _bump_(out)",
    "int-valued-floats": "out = _floats_(out)",
    "float-within-tolerance": "out = _nudge_(out, 4e-7)",
    "float-outside-tolerance": "out = _nudge_(out, 5e-5)",
    "loops-on-a-plus-input": "if list(args) == PLUS_TARGET:\n        while True:\n            pass",
    "builtin-subclasses": "out = _subclass_(out)",
    "object-whose-eq-says-yes": "out = _Yes_()",
}
DELIBERATE = {"object-whose-eq-says-yes"}


def _rows(dataset: str) -> list[dict]:
    with gzip.open(data_file(FILES[dataset]), "rt") as fh:
        rows = {row["task_id"]: row for row in map(json.loads, fh)}
    return [rows[task_id] for task_id in TASKS[dataset]]


def _candidate(row: dict, mutation: str) -> str:
    """The canonical solution, with the entry point wrapped by a mutation."""
    entry = row["entry_point"]
    base = _restore(row["task_id"], row["base_input"])
    plus = _restore(row["task_id"], row["plus_input"]) or base
    target = lambda inputs: "[" + ", ".join(value_source(a) for a in inputs) + "]"  # noqa: E731
    body = MUTATIONS[mutation] or "pass"
    return (f"{row['prompt']}{row['canonical_solution']}\n{HELPERS}\n"
            f"BASE_TARGET = {target(base[0])}\nPLUS_TARGET = {target(plus[len(plus) // 2])}\n"
            f"_impl_ = {entry}\n\ndef {entry}(*args):\n    out = _impl_(*args)\n    {body}\n    return out\n")


def _ours(candidate: str, entry: str) -> str:
    return candidate if entry == "f" else f"{candidate}\n\ndef f(*args):\n    return {entry}(*args)\n"


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["humaneval", "mbpp"])
def test_evalplus_verdicts_equal_evalplus_own_checker(dataset: str, tmp_path: Path) -> None:
    rows = _rows(dataset)
    candidates = {row["task_id"]: [_candidate(row, m) for m in MUTATIONS] for row in rows}
    # evalplus's verdicts, in a process of their own.
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps({"dataset": dataset, "tasks": [
        dict(row, candidates=candidates[row["task_id"]]) for row in rows]}))
    done = subprocess.run([sys.executable, str(ORACLE), str(payload), str(tmp_path / "theirs.json")],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    theirs = json.loads((tmp_path / "theirs.json").read_text())
    # Ours: the task set as `azr tasks convert` makes it (every base and plus input).
    source = tmp_path / "rows.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with Executor(workers=2, **EVALPLUS_LIMITS) as ex:
        tasks = load_evalplus(source, executor=ex)
        assert tasks.extra["skipped"] == {} and tasks.extra["scored"] == "every base and plus input"
        pairs = [(task, _ours(code, task.metadata.extra["entry_point"]))
                 for task in tasks for code in candidates[task.id]]
        verdicts = Verifier(ex).verify_batch([t for t, _ in pairs], [code for _, code in pairs])
    disagreements, deliberate, gold = [], 0, []
    labels = [(m, v) for task in tasks for m, v in zip(MUTATIONS, theirs[task.id], strict=True)]
    for (task, _), verdict, (mutation, (base, plus)) in zip(pairs, verdicts, labels, strict=True):
        if mutation == "gold":
            gold.append(verdict.correct)
        n_base = task.metadata.extra["n_base"]
        ours_base = verdict.correct or (verdict.first_failure is not None and verdict.first_failure >= n_base)
        same = (verdict.correct, ours_base) == (base == "pass" and plus == "pass", base == "pass")
        if not same:
            if mutation in DELIBERATE and not verdict.correct:
                deliberate += 1
                continue
            disagreements.append((task.id, mutation, verdict.status, verdict.error, base, plus))
    assert disagreements == []
    assert deliberate >= len(rows) // 2  # evalplus pays the object whose == says yes; we do not
    # Every canonical solution passes, but HumanEval/32's: evalplus 0.3.1's find_zero oracle
    # checks the root and then skips its count of passed inputs, so it fails every solution.
    assert gold == [task.id != "HumanEval/32" for task in tasks]


# ---------------------------------------------------------------------------------------
# CRUXEval: its evaluate_score rule, `assert <output> == <generation>` run with the program
# ---------------------------------------------------------------------------------------
def cruxeval_official(code: str, inp: str, output: str, generation: str, mode: str) -> bool:
    """CRUXEval's ``evaluate_score`` for one generation (its ``check_correctness`` without
    the subprocess: the generations here are ours)."""
    if mode == "input" and "f(" not in generation:
        return False
    if mode == "output" and f"f({inp})" in generation:
        return False
    try:
        exec(f"{code}\nassert {output} == {generation}", {})
        return True
    except BaseException:
        return False


def _output_candidates(output: str) -> dict[str, str]:
    value = eval(output)
    out = {"gold": output, "wrong": repr([value])}
    if type(value) is int:
        out |= {"int-valued-float": repr(float(value)), "plus-zero": f"{value} + 0"}
        if value in (0, 1):
            out["bool"] = repr(bool(value))
    if type(value) is str and len(value) > 1:
        out["concatenation"] = f"{value[:1]!r} + {value[1:]!r}"
    if type(value) is list:
        out["list-expression"] = f"{output} + []"
        out["tuple-for-list"] = repr(tuple(value))
    out["or-true"] = f"{out['wrong']} or True"
    return out


@pytest.mark.parametrize("mode", ["output", "input"])
def test_cruxeval_verdicts_equal_cruxeval_rule(mode: str, cruxeval_rows: list[dict], executor) -> None:
    tasks = load_cruxeval(data_file("cruxeval.jsonl"), "deduction" if mode == "output" else "abduction")
    rows = cruxeval_rows[:120]
    pairs: list[tuple[str, str, bool]] = []  # (task id, answer, CRUXEval's verdict)
    for row in rows:
        if mode == "output":
            for answer in _output_candidates(row["output"]).values():
                pairs.append((row["id"], answer, cruxeval_official(row["code"], row["input"], row["output"],
                                                                  answer, mode)))
        else:
            answers = [row["input"], f"{row['input']}, 0", "None"]
            for answer in answers:
                pairs.append((row["id"], answer, cruxeval_official(row["code"], row["input"], row["output"],
                                                                  f"f({answer})", mode)))
    verdicts = Verifier(executor).verify_batch([tasks.get(i) for i, _, _ in pairs], [a for _, a, _ in pairs])
    expressions = disagreements = 0
    for (task_id, answer, official), verdict in zip(pairs, verdicts, strict=True):
        if verdict.correct == official:
            continue
        if official and verdict.status == "not_a_literal":  # the deliberate rule: code is not data
            expressions += 1
            continue
        disagreements += 1
        print("DISAGREE", task_id, answer[:80], official, verdict)
    assert disagreements == 0
    assert mode == "input" or expressions > 50  # concatenations, `+ 0`, `or True` ... pass there, not here
