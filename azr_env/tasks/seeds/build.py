"""Building the bundled seed file: validate every generated program in the sandbox.

    python -m azr_env.tasks.seeds.build [PATH]

rewrites ``azr_env/tasks/seeds/seed_programs_v1.jsonl`` (byte-identical from run to run).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azr_env._io import atomic_write_bytes
from azr_env.tasks.seeds import (
    GENERATOR,
    LICENSE,
    MANIFEST_NAME,
    MAX_ATTEMPTS,
    MAX_OUTPUT_CHARS,
    MIN_DISTINCT_OUTPUTS,
    SEED,
    VERSION,
    bundled_path,
)
from azr_env.tasks.seeds.families import generate_specs


@dataclass
class BuildReport:
    """What a generation run did: what it kept, what it dropped, and how long it took."""

    count: int = 0
    families: int = 0
    candidates: int = 0
    jobs: int = 0
    batches: int = 0
    seconds: float = 0.0
    max_job_s: float = 0.0
    slowest: str = ""
    redrawn: dict[str, list[str]] = field(default_factory=dict)
    dropped: dict[str, list[str]] = field(default_factory=dict)
    path: str | None = None
    sha256: str = ""

    def summary(self) -> str:
        lines = [
            f"{self.count} programs in {self.families} families "
            f"({self.candidates} candidates, {len(self.redrawn)} redrawn, {len(self.dropped)} dropped)",
            f"{self.jobs} validation jobs in {self.batches} batches, {self.seconds:.2f} s; "
            f"slowest job {self.max_job_s * 1000:.1f} ms ({self.slowest})",
        ]
        for name, reasons in sorted(self.dropped.items()):
            lines.append(f"  dropped {name}: {reasons[-1]}")
        if self.path:
            lines.append(f"wrote {self.path} (sha256 {self.sha256})")
        return "\n".join(lines)


def _rejection(name: str, results: Sequence[Any]) -> str | None:
    """Why ten validation results disqualify a program (None when they don't).

    A timeout, a memory failure or a sandbox worker that died is not a property of the
    program alone, so it raises instead: the build would otherwise depend on the machine.
    """
    for i, result in enumerate(results):
        broken_worker = "the sandbox worker" in (result.error or "")
        if str(result.status) in ("timeout", "memory") or broken_worker:
            raise RuntimeError(f"seed program {name}, input {i}: {result.status}: {result.error}")
        if not result.ok:
            return f"input {i}: {result.status}: {result.error}"
        if len(result.output) >= MAX_OUTPUT_CHARS:
            return f"input {i}: output repr has {len(result.output)} characters"
    distinct = len({r.output for r in results})
    if distinct < MIN_DISTINCT_OUTPUTS:
        return f"only {distinct} distinct outputs"
    return None


def generate_rows(executor: Any = None, *, seed: int = SEED) -> tuple[list[dict], BuildReport]:
    """Generate, validate and select the seed programs; returns the rows and a report.

    ``executor`` is an :class:`~azr_env.executor.Executor` to use (left open); by default
    a temporary one is started.  The first batch validates every candidate; later batches
    hold only the programs that failed, each with a fresh draw of arguments.
    """
    from azr_env.executor import Executor

    if executor is None:
        with Executor(workers=None, timeout_s=5.0) as ex:
            return generate_rows(ex, seed=seed)
    from azr_env.executor import Program

    started = time.perf_counter()
    specs = generate_specs(seed)
    report = BuildReport(candidates=len(specs))
    chosen: dict[int, dict] = {}
    pending = list(range(len(specs)))
    for attempt in range(MAX_ATTEMPTS):
        if not pending:
            break
        plan = [(i, specs[i].inputs(attempt, seed)) for i in pending]
        programs = [Program(specs[i].program, tuple(inputs)) for i, inputs in plan]
        results = executor.validate_programs(programs)
        report.jobs += sum(len(p.inputs) for p in programs)
        report.batches += 1
        failed = []
        for (i, inputs), batch in zip(plan, results, strict=True):
            spec = specs[i]
            for result in batch:
                if result.duration_s > report.max_job_s:
                    report.max_job_s, report.slowest = result.duration_s, spec.name
            reason = _rejection(spec.name, batch)
            if reason is None:
                chosen[i] = {
                    "name": spec.name,
                    "family": spec.family,
                    "program": spec.program,
                    "inputs": inputs,
                    "outputs": [r.output for r in batch],
                    "message": spec.message,
                }
            else:
                report.redrawn.setdefault(spec.name, []).append(f"attempt {attempt}: {reason}")
                failed.append(i)
        pending = failed
    for i in pending:
        report.dropped[specs[i].name] = report.redrawn.pop(specs[i].name)
    rows = [chosen[i] for i in sorted(chosen)]
    report.count = len(rows)
    report.families = len({row["family"] for row in rows})
    report.seconds = time.perf_counter() - started
    return rows, report


def serialize_rows(rows: Sequence[dict]) -> bytes:
    """The bytes of a seed file: the manifest line, then one sorted-key JSON line per row."""
    body = "".join(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n" for row in rows)
    data = body.encode("utf-8")
    manifest = {
        "manifest": {
            "name": MANIFEST_NAME,
            "version": VERSION,
            "count": len(rows),
            "sha256": hashlib.sha256(data).hexdigest(),
            "generator": GENERATOR,
            "license": LICENSE,
        }
    }
    return (json.dumps(manifest, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8") + data


def build(path: str | os.PathLike[str] | None = None, *, executor: Any = None,
          seed: int = SEED) -> BuildReport:
    """Generate and validate the seed programs and write them, atomically, to ``path``.

    ``path`` defaults to the bundled file next to this module
    (``azr_env/data/seed_programs_v1.jsonl``).  Running it twice gives identical bytes.
    """
    rows, report = generate_rows(executor, seed=seed)
    data = serialize_rows(rows)
    target = Path(path) if path is not None else bundled_path()
    atomic_write_bytes(target, data)
    report.path = str(target)
    report.sha256 = json.loads(data.partition(b"\n")[0])["manifest"]["sha256"]
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m azr_env.tasks.seeds.build [PATH]``: rebuild the seed file and print the report."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    report = build(args[0] if args else None)
    print(report.summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
