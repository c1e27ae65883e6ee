"""The bundled seed programs: integrity, policy, reproducibility and the generator itself."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

from azr_env.executor import Executor, Job, check_program
from azr_env.executor.policy import check_call
from azr_env.tasks import seeds
from azr_env.tasks.seeds import build as seed_build
from azr_env.tasks.seeds import families as seed_families

BUNDLED = Path(seeds.__file__).resolve().parent / seeds.FILE_NAME
CODE_MARKERS = ("def ", "lambda", "import ", "==", "[i]", "()", "):", "range(", ".append", " = ", "f(")


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return seeds.load_seed_programs()


def test_bundled_file_loads_and_its_hash_checks(rows: list[dict]) -> None:
    data = BUNDLED.read_bytes()
    head, _, body = data.partition(b"\n")
    manifest = json.loads(head)["manifest"]
    assert manifest == {
        "name": "azr-seed-programs",
        "version": "1",
        "count": len(rows),
        "sha256": hashlib.sha256(body).hexdigest(),
        "generator": "azr_env.tasks.seeds.build",
        "license": "MIT",
    }
    assert body.count(b"\n") == len(rows)
    assert seeds.load_seed_programs(BUNDLED) == rows


def test_counts_families_and_row_shape(rows: list[dict]) -> None:
    families = Counter(row["family"] for row in rows)
    assert len(rows) >= 240
    assert len(families) >= 40
    assert min(families.values()) >= 3
    assert len({row["name"] for row in rows}) == len(rows)
    assert len({row["program"] for row in rows}) == len(rows)
    for row in rows:
        assert set(row) == {"name", "family", "program", "inputs", "outputs", "message"}
        assert len(row["inputs"]) == len(row["outputs"]) == seeds.N_INPUTS
        assert len(set(row["inputs"])) == seeds.N_INPUTS, row["name"]
        assert len(set(row["outputs"])) >= seeds.MIN_DISTINCT_OUTPUTS, row["name"]
        assert all(len(out) < seeds.MAX_OUTPUT_CHARS for out in row["outputs"]), row["name"]


def test_messages_are_hints_not_code(rows: list[dict]) -> None:
    for row in rows:
        message = row["message"]
        assert 15 <= len(message) <= 300, row["name"]
        assert message[0].isupper() and message.endswith("."), row["name"]
        assert not any(marker in message for marker in CODE_MARKERS), (row["name"], message)


def test_every_program_and_input_passes_the_policy(rows: list[dict]) -> None:
    for row in rows:
        check_program(row["program"])
        for args in row["inputs"]:
            check_call(args)


def test_outputs_reproduce_in_the_executor(rows: list[dict], executor: Executor) -> None:
    jobs = [Job(row["program"], args) for row in rows for args in row["inputs"]]
    results = executor.run_batch(jobs)
    expected = [out for row in rows for out in row["outputs"]]
    mismatches = [
        (job.program.splitlines()[0], job.args, res.status, res.output or res.error, want)
        for job, res, want in zip(jobs, results, expected, strict=True)
        if res.output != want
    ]
    assert not mismatches, mismatches[:5]


def test_regenerating_gives_the_rows_of_the_file(rows: list[dict], executor: Executor) -> None:
    regenerated, report = seed_build.generate_rows(executor)
    assert report.count == len(rows) and not report.dropped
    assert regenerated == rows
    assert seed_build.serialize_rows(regenerated) == BUNDLED.read_bytes()


def test_candidate_generation_is_deterministic_and_runs_nothing() -> None:
    first = seed_families.generate_specs()
    second = seed_families.generate_specs()
    assert [(s.name, s.family, s.program, s.message) for s in first] == [
        (s.name, s.family, s.program, s.message) for s in second
    ]
    assert [s.inputs(0) for s in first[:40]] == [s.inputs(0) for s in second[:40]]
    assert first[0].inputs(0) != first[0].inputs(1)  # a redraw really draws afresh
    assert seed_families.families() == list(dict.fromkeys(s.family for s in first))


def test_build_writes_the_same_bytes_atomically(tmp_path: Path, executor: Executor) -> None:
    target = tmp_path / "out" / "seeds.jsonl"
    report = seed_build.build(target, executor=executor)
    assert target.read_bytes() == BUNDLED.read_bytes()
    assert report.path == str(target) and report.count > 0
    assert [p.name for p in target.parent.iterdir()] == ["seeds.jsonl"]  # no temporary file left


def test_a_corrupted_copy_is_refused(tmp_path: Path) -> None:
    data = bytearray(BUNDLED.read_bytes())
    offset = data.index(b'"outputs": [', len(data) // 2) + len(b'"outputs": [') + 2
    data[offset] = ord("7") if data[offset] != ord("7") else ord("8")
    copy = tmp_path / "corrupted.jsonl"
    copy.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="sha256 mismatch"):
        seeds.load_seed_programs(copy)


def _write_with_manifest(path: Path, body: bytes, count: int) -> None:
    manifest = {"manifest": {"name": seeds.MANIFEST_NAME, "version": seeds.VERSION, "count": count,
                             "sha256": hashlib.sha256(body).hexdigest(), "generator": seeds.GENERATOR,
                             "license": seeds.LICENSE}}
    path.write_bytes(json.dumps(manifest).encode() + b"\n" + body)


def test_malformed_lines_are_reported_by_line_number(tmp_path: Path, rows: list[dict]) -> None:
    good = json.dumps(rows[0], sort_keys=True).encode() + b"\n"
    path = tmp_path / "bad.jsonl"
    _write_with_manifest(path, good + b'{"name": \n', 2)
    with pytest.raises(ValueError, match=r"line 3: not valid JSON"):
        seeds.load_seed_programs(path)
    broken = dict(rows[1], inputs=rows[1]["inputs"][:3])
    _write_with_manifest(path, good + json.dumps(broken).encode() + b"\n", 2)
    with pytest.raises(ValueError, match=r"line 3: 'inputs' must be a list of 10 strings"):
        seeds.load_seed_programs(path)
    _write_with_manifest(path, good + good, 2)
    with pytest.raises(ValueError, match=r"line 3: duplicate name"):
        seeds.load_seed_programs(path)


def test_manifest_problems_are_refused(tmp_path: Path, rows: list[dict]) -> None:
    good = json.dumps(rows[0], sort_keys=True).encode() + b"\n"
    path = tmp_path / "seeds.jsonl"
    _write_with_manifest(path, good, 2)
    with pytest.raises(ValueError, match="count mismatch"):
        seeds.load_seed_programs(path)
    path.write_bytes(b'{"not": "a manifest"}\n' + good)
    with pytest.raises(ValueError, match="line 1: malformed manifest"):
        seeds.load_seed_programs(path)
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="line 1"):
        seeds.load_seed_programs(path)
