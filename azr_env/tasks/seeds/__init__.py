"""The bundled seed programs: procedurally generated, validated tasks written for this project.

AZR's self-play starts from a small set of seed programs.  This package *generates* that
set, deterministically, from hand-written program families (templates with parameters:
a shift ``k``, a base ``b``, a window size, a separator ...).  Nothing here is copied from
a benchmark.

Each family (:mod:`.families`) is a function ``(rng) -> list[Variant]``; a variant is one program (a source
defining ``f``), a natural-language hint (``message``) and a generator of argument tuples.
:func:`.build.build` draws ten distinct argument lists per program, runs every call through the
sandboxed :class:`~azr_env.executor.Executor` with :meth:`~azr_env.executor.Executor.validate_batch`
(so non-deterministic programs are refused) and keeps a program only when all ten calls
are ``ok``, every output repr is shorter than :data:`MAX_OUTPUT_CHARS` and at least
:data:`MIN_DISTINCT_OUTPUTS` of the ten outputs differ.  A program that fails gets fresh
arguments (up to :data:`MAX_ATTEMPTS` draws, each from its own fixed seed) before it is
dropped, so the result never depends on timing or on the machine.

The file (``azr_env/tasks/seeds/seed_programs_v1.jsonl``) is a manifest line followed by one JSON
object per program::

    {"manifest": {"name": "azr-seed-programs", "version": "1", "count": N, "sha256": ...,
                  "generator": "azr_env.tasks.seeds.build", "license": "MIT"}}
    {"family": ..., "inputs": [10 x str], "message": ..., "name": ..., "outputs": [10 x str],
     "program": ...}

``sha256`` is the digest of every byte after the manifest line.  Rebuild with
``python -m azr_env.tasks.seeds.build`` (the output is byte-identical from run to run), read with
:func:`load_seed_programs`.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

from azr_env.tasks.task import MODES, IOPair, Mode, Task
from azr_env.tasks.taskset import TaskSet

SEED = 20240517
"""The generator's master seed; every random draw derives from it and a fixed label."""

FILE_NAME = "seed_programs_v1.jsonl"
MANIFEST_NAME = "azr-seed-programs"
VERSION = "1"
GENERATOR = "azr_env.tasks.seeds.build"
LICENSE = "MIT"
N_INPUTS = 10
"""Inputs (argument lists) per program."""
MIN_DISTINCT_OUTPUTS = 5
"""A program whose ten outputs hold fewer distinct values than this is redrawn or dropped."""
MAX_OUTPUT_CHARS = 300
"""Every output repr must be shorter than this."""
MAX_INPUT_CHARS = 300
"""Every argument-list text must be shorter than this."""
MAX_ATTEMPTS = 4
"""How many independent draws of arguments a program gets before it is dropped."""
ROW_KEYS = frozenset({"name", "family", "program", "inputs", "outputs", "message"})
MANIFEST_KEYS = frozenset({"name", "version", "count", "sha256", "generator", "license"})


def bundled_path() -> Path:
    """Where the bundled seed file lives in a source checkout (next to this module)."""
    return Path(__file__).resolve().parent / FILE_NAME


def load_seed_programs(path: str | os.PathLike[str] | None = None) -> list[dict]:
    """Read and check a seed file (by default the bundled one); returns its rows.

    Raises :class:`ValueError` when the manifest is missing or malformed, when the
    content does not match the manifest's sha256 or count, or when a line is not a
    well-formed row (the message names the line).
    """
    if path is None:
        where = f"azr_env/data/{FILE_NAME}"
        data = resources.files("azr_env.tasks.seeds").joinpath(FILE_NAME).read_bytes()
    else:
        where = str(path)
        data = Path(path).read_bytes()
    return parse_seed_file(data, where)


def parse_seed_file(data: bytes, where: str = "<seed file>") -> list[dict]:
    """Check and parse the bytes of a seed file; see :func:`load_seed_programs`."""
    head, newline, body = data.partition(b"\n")
    if not newline:
        raise ValueError(f"{where}: line 1: expected a manifest line ending in a newline")
    try:
        manifest = json.loads(head.decode("utf-8"))["manifest"]
        if not isinstance(manifest, dict):
            raise TypeError("manifest is not an object")
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{where}: line 1: malformed manifest ({type(exc).__name__}: {exc})") from None
    missing = MANIFEST_KEYS - manifest.keys()
    if missing:
        raise ValueError(f"{where}: line 1: manifest lacks {sorted(missing)}")
    if manifest["name"] != MANIFEST_NAME or manifest["version"] != VERSION:
        raise ValueError(
            f"{where}: line 1: not a {MANIFEST_NAME} v{VERSION} file "
            f"(name {manifest['name']!r}, version {manifest['version']!r})"
        )
    digest = hashlib.sha256(body).hexdigest()
    if digest != manifest["sha256"]:
        raise ValueError(
            f"{where}: sha256 mismatch: the manifest says {manifest['sha256']}, the content hashes to "
            f"{digest} (the file is corrupted or was edited by hand; "
            "rebuild with python -m azr_env.tasks.seeds.build)"
        )
    if body and not body.endswith(b"\n"):
        raise ValueError(f"{where}: the last line lacks its newline")
    rows: list[dict] = []
    names: set[str] = set()
    for lineno, line in enumerate(body.split(b"\n")[:-1], start=2):
        try:
            row = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{where}: line {lineno}: not valid JSON ({exc})") from None
        problem = _row_problem(row)
        if problem is None and row["name"] in names:
            problem = f"duplicate name {row['name']!r}"
        if problem is not None:
            raise ValueError(f"{where}: line {lineno}: {problem}")
        names.add(row["name"])
        rows.append(row)
    if len(rows) != manifest["count"]:
        raise ValueError(
            f"{where}: count mismatch: the manifest says {manifest['count']}, found {len(rows)} rows"
        )
    return rows


def _row_problem(row: Any) -> str | None:
    """What is wrong with one parsed row (None when it is well-formed)."""
    if not isinstance(row, dict):
        return f"expected a JSON object, got {type(row).__name__}"
    if row.keys() != ROW_KEYS:
        return f"keys must be exactly {sorted(ROW_KEYS)}, got {sorted(row)}"
    for key in ("name", "family", "program", "message"):
        if not isinstance(row[key], str) or not row[key]:
            return f"{key!r} must be a non-empty string"
    for key in ("inputs", "outputs"):
        value = row[key]
        strings = isinstance(value, list) and all(isinstance(v, str) for v in value)
        if not strings or len(value) != N_INPUTS:
            return f"{key!r} must be a list of {N_INPUTS} strings"
    return None


def seed_tasks(mode: Mode, n_visible: int | None = None) -> TaskSet:
    """The bundled seed set (programs written for this project) as tasks of ``mode``.

    Deduction and abduction use each program's first input; induction uses all ten,
    the first half visible and the second half hidden (AZR's split) unless
    ``n_visible`` says otherwise.
    """
    from azr_env.tasks.seeds import load_seed_programs

    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    tasks = []
    for row in load_seed_programs():
        name = row["name"]
        if mode == "induction":
            pairs = [IOPair(args=a, output=o) for a, o in zip(row["inputs"], row["outputs"], strict=True)]
            k = len(pairs) // 2 if n_visible is None else n_visible
            tasks.append(Task.create(mode, row["program"], visible=pairs[:k], hidden=pairs[k:],
                                     message=row["message"], id=f"seed-{name}", source="seed"))
        else:
            tasks.append(Task.create(mode, row["program"], row["inputs"][0], row["outputs"][0],
                                     id=f"seed-{name}", source="seed"))
    return TaskSet(tasks, f"azr-seed-{mode}", "1", source="azr_env.tasks.seeds", license="MIT")
