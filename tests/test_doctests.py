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
