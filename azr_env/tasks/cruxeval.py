"""CRUXEval (800 programs) as deduction (CRUXEval-O) or abduction (CRUXEval-I) tasks."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import ValidationError

from azr_env.tasks.task import Mode, Task
from azr_env.tasks.taskset import TaskSet, TaskSetError

# ---------------------------------------------------------------------------------------
# Loaders
# ---------------------------------------------------------------------------------------
CRUXEVAL_LITERAL_INPUTS = {
    "sample_152": "'AAAAAAAAAAAAAAAAAAAA'",
    "sample_239": "'0 t 1cos ', 'st 0\\t\\n  '",
    "sample_258": "[1, 2, 7, 9], 3, 3, 2",
    "sample_378": "{'did': 0}, 'u'",
    "sample_459": "['b', 'vzjmc', 'f', 'ae', '0'], {}",
    "sample_694": "{'e': 1, 'd': 2, 'c': 3}",
    "sample_720": "['bfreratrrbdbzagbretaredtroefcoiqrrneaosf'], 'n'",
    "sample_760": "{'f': 1, 'h': 2, 'j': 3, 'k': 4}",
    "sample_770": "'$78', '$'",
}
"""CRUXEval inputs written as expressions (``''.join(['A'] * 20)``, ``dict(e=1, d=2)``),
as the literal values they evaluate to (each checked against the sandbox by the tests).
An abduction answer must be data, so CRUXEval-I's gold inputs are these literals.  Three
more inputs have no literal form: two lambdas (``sample_344``, ``sample_364``) and a
``range`` (``sample_522``); their gold input stays the expression, which as an answer is
wrong here (and right under CRUXEval's own evaluator, which evaluates answers)."""


def load_cruxeval(path: str | os.PathLike[str] | None = None, mode: Mode = "deduction") -> TaskSet:
    """CRUXEval as deduction (CRUXEval-O) or abduction (CRUXEval-I) tasks, ids kept.

    ``path`` is the ``cruxeval.jsonl`` of facebookresearch/cruxeval (800 rows with
    ``code``, ``input``, ``output``, ``id``).  Without a path, the official file is
    downloaded (sha256 pinned) and cached, when there is a network.  Abduction tasks take
    the literal form of the nine inputs the dataset writes as expressions
    (:data:`CRUXEVAL_LITERAL_INPUTS`); the original is kept in ``metadata.extra["input"]``.
    """
    if mode not in ("deduction", "abduction"):
        raise ValueError(f"CRUXEval has deduction and abduction tasks, not {mode!r}")
    if path is None:
        from azr_env.tasks.downloads import fetch_source

        path = fetch_source("cruxeval")
    path = Path(path)
    tasks = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskSetError(f"cannot read CRUXEval file {path}: {exc}") from None
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            args, extra = row["input"], None
            if mode == "abduction" and row["id"] in CRUXEVAL_LITERAL_INPUTS:
                args, extra = CRUXEVAL_LITERAL_INPUTS[row["id"]], {"input": row["input"]}
            extra = {"compare": "python_eq", **(extra or {})}  # CRUXEval's own checker: Python's ==
            tasks.append(Task.create(mode, row["code"], args, row["output"], id=row["id"],
                                     source="cruxeval", extra=extra))
        except (json.JSONDecodeError, KeyError, TypeError, ValidationError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
            raise TaskSetError(f"{path}:{lineno}: not a CRUXEval row ({reason})") from None
    name = "cruxeval-o" if mode == "deduction" else "cruxeval-i"
    return TaskSet(tasks, name, "1", source="facebookresearch/cruxeval", license="MIT")
