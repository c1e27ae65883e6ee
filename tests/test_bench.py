"""The benchmark harness: pass@k, scoring through the envs, resumable runs, outputs, the CLI."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from azr_env.bench import harness as bench
from azr_env.envs.prompts import solver_prompt
from azr_env.export import gold_answer, task_records, to_jsonl
from azr_env.tasks.cruxeval import load_cruxeval
from azr_env.tasks.taskset import TaskSet

from .conftest import data_file

TAG = {"deduction": "output", "abduction": "input", "induction": "python"}


def wrap(task, text: str) -> str:
    return f"thinking</think><answer>```{TAG[task.mode]}\n{text}\n```</answer>"


class OracleSolver:
    """Knows the gold answer for each prompt; is right on the samples `right(task_index, k)` says."""

    def __init__(self, taskset: TaskSet, right=lambda i, k: True, crash_after: int | None = None) -> None:
        self.by_prompt = {solver_prompt(t): (i, t) for i, t in enumerate(taskset)}
        self.right = right
        self.seen: dict[str, int] = {}
        self.calls = 0
        self.crash_after = crash_after

    def __call__(self, prompts: list[str]) -> list[str]:
        self.calls += 1
        if self.crash_after is not None and self.calls > self.crash_after:
            raise RuntimeError("killed mid-run")
        out = []
        for p in prompts:
            i, task = self.by_prompt[p]
            k = self.seen.get(p, 0)
            self.seen[p] = k + 1
            if self.right(i, k):
                out.append(wrap(task, gold_answer(task)))
            else:
                out.append("no tags at all" if k % 3 == 2 else wrap(task, "None"))
        return out


@pytest.fixture(scope="module")
def crux20():
    full = load_cruxeval(data_file("cruxeval.jsonl"), "deduction")
    return TaskSet(list(full)[:20], "cruxeval-o-20", "1")


def test_pass_at_k_matches_hand_computed_values() -> None:
    assert bench.pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert bench.pass_at_k(10, 3, 5) == pytest.approx(1 - 21 / 252)  # C(7,5) / C(10,5)
    assert bench.pass_at_k(10, 3, 10) == 1.0 and bench.pass_at_k(5, 0, 5) == 0.0
    assert bench.pass_at_k(4, 1, 2) == pytest.approx(0.5)  # 1 - C(3,2)/C(4,2) = 1 - 3/6
    assert bench.pass_at_k(1, 1, 1) == 1.0
    with pytest.raises(ValueError):
        bench.pass_at_k(3, 4, 1)
    with pytest.raises(ValueError):
        bench.pass_at_k(3, 1, 5)


def test_scores_through_the_envs_with_exact_metrics(tmp_path, crux20, executor) -> None:
    # Task i is right on its first (i % 4) samples out of 4.
    solver = OracleSolver(crux20, right=lambda i, k: k < i % 4)
    results = bench.run_bench(
        crux20,
        solver,
        tmp_path,
        n_samples=4,
        batch_size=7,
        executor=executor,
        progress=False,
        solver_name="oracle",
    )
    m = results["modes"]["deduction"]
    expected_c = [i % 4 for i in range(20)]
    assert m["accuracy"] == pytest.approx(sum(expected_c) / 80)
    assert m["pass@1"] == pytest.approx(sum(c / 4 for c in expected_c) / 20)
    assert "pass@5" not in m and "pass@10" not in m  # n = 4 < k
    wrong = [4 - c for c in expected_c]
    format_errors = sum(1 for w in wrong for k in range(4 - w, 4) if k % 3 == 2)
    assert m["format_error_rate"] == pytest.approx(format_errors / 80)
    task0 = results["tasks"]["sample_0"]
    assert task0["correct"] == 0 and task0["pass@1"] == 0.0
    assert results["tasks"]["sample_3"]["pass@1"] == pytest.approx(0.75)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["modes"]["deduction"]["accuracy"] == m["accuracy"]
    assert "| deduction | 20 |" in (tmp_path / "results.md").read_text()
    assert (tmp_path / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_killed_run_resumes_to_the_same_numbers(tmp_path, crux20, executor) -> None:
    def right(i, k):
        return (i + k) % 3 == 0

    full = bench.run_bench(
        crux20,
        OracleSolver(crux20, right),
        tmp_path / "full",
        n_samples=3,
        batch_size=8,
        executor=executor,
        progress=False,
    )
    crashing = OracleSolver(crux20, right, crash_after=3)
    with pytest.raises(RuntimeError, match="killed mid-run"):
        bench.run_bench(
            crux20,
            crashing,
            tmp_path / "resumed",
            n_samples=3,
            batch_size=8,
            executor=executor,
            progress=False,
        )
    cached = (tmp_path / "resumed" / bench.COMPLETIONS).read_text().splitlines()
    assert len(cached) == 1 + 3 * 8  # the header and three batches, kept
    with (tmp_path / "resumed" / bench.COMPLETIONS).open("a") as fh:
        fh.write('{"task_id": "sample_9", "sam')  # a line torn by the kill
    resumed_solver = OracleSolver(crux20, right)
    # The restarted solver must continue the same sample sequence for the rows it is asked for.
    for line in cached[1:]:
        row = json.loads(line)
        p = solver_prompt(crux20.get(row["task_id"]))
        resumed_solver.seen[p] = max(resumed_solver.seen.get(p, 0), row["sample"] + 1)
    resumed = bench.run_bench(
        crux20,
        resumed_solver,
        tmp_path / "resumed",
        n_samples=3,
        batch_size=8,
        executor=executor,
        progress=False,
    )
    assert resumed["modes"] == full["modes"] and resumed["tasks"] == full["tasks"]
    assert resumed_solver.calls == math.ceil(60 / 8) - 3  # only the missing batches were asked for
    assert resumed["completions"] == {"reused": 24, "generated": 36}
    assert full["completions"] == {"reused": 0, "generated": 60}


def test_a_cache_from_another_run_is_refused(tmp_path, crux20, executor) -> None:
    bench.run_bench(crux20, OracleSolver(crux20), tmp_path, n_samples=1, executor=executor, progress=False)
    with pytest.raises(ValueError, match="different run") as refused:
        bench.run_bench(
            crux20, OracleSolver(crux20), tmp_path, n_samples=2, executor=executor, progress=False
        )
    assert "n_samples=1 there, 2 now" in str(refused.value)  # which setting differs, and how
    assert "seed=" not in str(refused.value)  # and only that one


def test_a_solver_returning_the_wrong_count_is_a_clear_error(tmp_path, crux20, executor) -> None:
    with pytest.raises(ValueError, match="one completion per prompt"):
        bench.run_bench(crux20, lambda prompts: ["x"], tmp_path, executor=executor, progress=False)


def test_compare_reports_mode_and_task_differences(tmp_path, crux20, executor) -> None:
    a = bench.run_bench(
        crux20, OracleSolver(crux20, lambda i, k: i < 10), tmp_path / "a", executor=executor, progress=False
    )
    b = bench.run_bench(
        crux20, OracleSolver(crux20, lambda i, k: i < 15), tmp_path / "b", executor=executor, progress=False
    )
    diff = bench.compare(a, b)
    assert diff["modes"]["deduction"]["accuracy"]["delta"] == pytest.approx(0.25)
    assert sorted(diff["tasks"]) == sorted(f"sample_{i}" for i in range(10, 15))
    assert diff["warnings"] == []


def test_compare_puts_the_largest_changes_first_and_warns_when_the_sets_differ(
    tmp_path, crux20, executor
) -> None:
    first12 = TaskSet(list(crux20)[:12], "cruxeval-o-12", "1")
    a = bench.run_bench(crux20, OracleSolver(crux20, lambda i, k: i % 2 == 0 or i == 11), tmp_path / "a",
                        n_samples=2, executor=executor, progress=False)
    b = bench.run_bench(first12, OracleSolver(first12, lambda i, k: i % 2 == 1 and (i != 11 or k == 0)),
                        tmp_path / "b", n_samples=2, executor=executor, progress=False)
    diff = bench.compare(a, b)
    deltas = [abs(v["delta"]) for v in diff["tasks"].values()]
    assert deltas == sorted(deltas, reverse=True) and deltas[-1] == pytest.approx(0.5)  # sample_11
    ones = [t for t, v in diff["tasks"].items() if abs(v["delta"]) == 1.0]
    assert ones == [f"sample_{i}" for i in range(11)]  # ties in natural order: 2 before 10
    assert len(diff["only_in"]["a"]) == 8 and diff["only_in"]["b"] == []
    assert any("task sets differ: 8 tasks only in A" in w for w in diff["warnings"])
    assert any(w.startswith("taskset differs") for w in diff["warnings"])


def test_export_has_a_prompt_column_per_mode(tmp_path, crux20) -> None:
    rows = task_records(crux20)
    assert rows[0]["prompt"] == solver_prompt(crux20[0]) and rows[0]["answer"] == crux20[0].output
    chat = task_records(crux20, "chat")
    assert chat[0]["prompt"][0]["role"] == "system" and chat[0]["prompt"][1]["role"] == "user"
    path = to_jsonl(crux20, tmp_path / "x.jsonl")
    assert [json.loads(line)["id"] for line in path.read_text().splitlines()] == crux20.ids


def azr(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "azr_env.cli", *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )


def test_tasks_cli_convert_verify_show_and_tamper(tmp_path) -> None:
    out = tmp_path / "crux-i.jsonl"
    done = azr(
        "tasks",
        "convert",
        "cruxeval",
        str(data_file("cruxeval.jsonl")),
        "--mode",
        "abduction",
        "-o",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    assert TaskSet.load(out).name == "cruxeval-i" and len(TaskSet.load(out)) == 800
    done = azr("tasks", "verify", str(out))
    assert done.returncode == 0 and "800/800 tasks verified" in done.stdout
    done = azr("tasks", "show", str(out), "--limit", "3")
    assert done.returncode == 0 and "sample_0" in done.stdout and "sample_3" not in done.stdout
    lines = out.read_text().splitlines(keepends=True)
    row = json.loads(lines[5])
    row["output"] = "'tampered'"
    out.write_text("".join(lines[:5] + [json.dumps(row) + "\n"] + lines[6:]))
    for command in (("tasks", "verify", str(out)), ("tasks", "show", str(out))):
        done = azr(*command)
        assert done.returncode == 2 and "sha256" in done.stderr and "Traceback" not in done.stderr
    done = azr("tasks", "convert", "nosuch", "x", "-o", str(tmp_path / "y.jsonl"))
    assert done.returncode == 2 and "unknown source" in done.stderr


SOLVER_FILE = '''
import re

def gold(prompts):
    """Answers every seed deduction prompt by running nothing: it echoes a fixed literal."""
    return ["x</think><answer>```output\\n0\\n```</answer>" for _ in prompts]
'''


def test_bench_cli_with_a_python_solver_and_compare(tmp_path) -> None:
    solver_file = tmp_path / "my_solver.py"
    solver_file.write_text(SOLVER_FILE)
    spec = f"python:{solver_file}:gold"
    done = azr(
        "bench", "seed:deduction", "--solver", spec, "--limit", "12", "-n", "2", "--out", str(tmp_path / "r1")
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((tmp_path / "r1" / "results.json").read_text())
    assert set(results["modes"]["deduction"]) >= {"accuracy", "pass@1", "format_error_rate"}
    assert results["modes"]["deduction"]["format_error_rate"] == 0.0
    done = azr("bench", "compare", str(tmp_path / "r1"), str(tmp_path / "r1"))
    assert done.returncode == 0 and "0 tasks changed" in done.stdout
    done = azr("bench", "seed:deduction", "--solver", "nosuch:thing", "--out", str(tmp_path / "r2"))
    assert done.returncode == 2 and "cannot build solver" in done.stderr and "Traceback" not in done.stderr


def test_bench_cli_refuses_bad_numbers_and_reports_an_unreachable_server(tmp_path) -> None:
    for flag, value in (("--limit", "-3"), ("--temperature", "-0.5"), ("-n", "0"), ("--batch-size", "0")):
        done = azr("bench", "seed:deduction", "--solver", "python:builtins:list", flag, value,
                   "--out", str(tmp_path / "r"))
        assert done.returncode == 2 and flag in done.stderr and "Traceback" not in done.stderr, done.stderr
    done = azr("bench", "seed:deduction", "--solver", "openai:m", "--base-url", "http://127.0.0.1:9/v1",
               "--limit", "1", "--out", str(tmp_path / "o"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "cannot reach http://127.0.0.1:9/v1" in done.stderr and "run the same command again" in done.stderr


def test_a_solver_named_by_a_relative_or_an_absolute_path_resumes_the_same_run(tmp_path) -> None:
    (tmp_path / "my_solver.py").write_text(SOLVER_FILE)
    args = ("bench", "seed:deduction", "--limit", "3", "--out", str(tmp_path / "r"))
    first = azr(*args, "--solver", "python:my_solver.py:gold", cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    again = azr(*args, "--solver", f"python:{tmp_path / 'my_solver.py'}:gold")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "resumed: 3 completions reused" in again.stdout
