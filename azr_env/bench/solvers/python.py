"""``python:module:function``: your own batched function as a solver."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from azr_env.bench.solvers.base import SolverError


class PythonSolver:
    """Your own Python function as a solver: ``python:module:function`` or ``python:file.py:function``.

    The function is imported once (from an importable module, or from a ``.py`` file by
    path) and called with the whole list of prompts; it must return a list (or tuple) of
    strings, one per prompt.  ``function`` may be dotted (``Class.method``, ``obj.attr``).

    Args:
        target: ``"module:function"`` or ``"path/to/file.py:function"``; a leading
            ``"python:"`` is accepted and ignored.
    """

    def __init__(self, target: str) -> None:
        target = target.removeprefix("python:")
        self.spec = f"python:{target}"
        source, sep, name = target.rpartition(":")
        if not sep or not source or not name:
            raise SolverError(
                f"bad solver spec {self.spec!r}: expected python:module:function or python:file.py:function"
            )
        module = self._load(source)
        obj: Any = module
        for part in name.split("."):
            try:
                obj = getattr(obj, part)
            except AttributeError:
                raise SolverError(f"{self.spec}: {source!r} has no attribute {name!r}") from None
        if not callable(obj):
            raise SolverError(f"{self.spec}: {name!r} is a {type(obj).__name__}, not a callable")
        self.function: Callable[..., Any] = obj

    def _load(self, source: str) -> Any:
        if source.endswith(".py") or "/" in source or os.sep in source:
            path = Path(source).expanduser().resolve()
            if not path.is_file():
                raise SolverError(f"{self.spec}: no such file {path}")
            digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
            module_name = f"_azr_solver_{path.stem}_{digest}"
            if module_name in sys.modules:
                return sys.modules[module_name]
            spec = importlib.util.spec_from_file_location(module_name, path)
            if spec is None or spec.loader is None:
                raise SolverError(f"{self.spec}: cannot import {path} as a Python module")
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module  # dataclasses, pickling and the like look it up here
            try:
                spec.loader.exec_module(module)
            except Exception as exc:
                del sys.modules[module_name]
                raise SolverError(
                    f"{self.spec}: importing {path} failed: {type(exc).__name__}: {exc}"
                ) from exc
            return module
        try:
            return importlib.import_module(source)
        except Exception as exc:
            raise SolverError(f"{self.spec}: cannot import {source!r}: {type(exc).__name__}: {exc}") from exc

    def __call__(self, prompts: list[str]) -> list[str]:
        answers = self.function(list(prompts))
        if not isinstance(answers, (list, tuple)):
            raise SolverError(f"{self.spec} returned a {type(answers).__name__}, expected a list of str")
        if len(answers) != len(prompts):
            raise SolverError(
                f"{self.spec} returned {len(answers)} completions for {len(prompts)} prompts "
                "(expected one each)"
            )
        for i, answer in enumerate(answers):
            if not isinstance(answer, str):
                raise SolverError(
                    f"{self.spec} returned a {type(answer).__name__} for prompt {i}, expected str"
                )
        return list(answers)
