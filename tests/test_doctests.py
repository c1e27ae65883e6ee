"""The examples in the env docstrings (Gymnasium style) run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "azr_env.envs.deduction", "azr_env.envs.abduction", "azr_env.envs.induction",
    "azr_env.envs.propose_deduction", "azr_env.envs.propose_abduction", "azr_env.envs.propose_induction",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_readme_python_blocks_run(capsys: pytest.CaptureFixture[str]) -> None:
    """Every ```python block in the README runs as shown (the executor block prints what its
    comments say)."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```$", readme, re.S | re.M)
    assert len(blocks) >= 2
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "__readme__"})
    printed = capsys.readouterr().out.splitlines()
    assert "ok [1, 2, 3] [1, 2, 3]" in printed and "nondeterministic" in printed
