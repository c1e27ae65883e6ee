"""The module paths of azr-env before its package layout (0.1): still importable, with a
DeprecationWarning, so that old code and old pickles (a :class:`TaskBuffer` saved as
``azr_env.buffers.TaskBuffer``) keep working.  Each old module is a view of the new ones."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings
from typing import Any

MOVED: dict[str, tuple[str, ...]] = {
    "azr_env.tasksets": ("azr_env.tasks.taskset", "azr_env.tasks.cruxeval", "azr_env.tasks.seeds"),
    "azr_env.benchmarks_data": ("azr_env.tasks.evalplus", "azr_env.tasks.humaneval"),
    "azr_env.buffers": ("azr_env.tasks.buffer",),
    "azr_env.downloads": ("azr_env.tasks.downloads",),
    "azr_env.seeds": ("azr_env.tasks.seeds", "azr_env.tasks.seeds.build", "azr_env.tasks.seeds.families"),
    "azr_env.parsing": ("azr_env.scoring.parsing",),
    "azr_env.verify": ("azr_env.scoring.verify",),
    "azr_env.compare": ("azr_env.scoring.compare",),
    "azr_env.learnability": ("azr_env.scoring.learnability",),
    "azr_env.proposer_rewards": ("azr_env.scoring.proposer_rewards",),
    "azr_env.prompts": ("azr_env.envs.prompts",),
    "azr_env.solvers": ("azr_env.bench.solvers", "azr_env.bench.solvers.hf", "azr_env.bench.solvers.python",
                        "azr_env.bench.solvers.openai", "azr_env.bench.solvers.vllm", "azr_env.models"),
}


class _OldPath(types.ModuleType):
    """An old module: every attribute is looked up in the modules that hold it now."""

    def __init__(self, name: str, targets: tuple[str, ...]) -> None:
        super().__init__(name, f"Moved: see {', '.join(targets)}.")
        self._targets = targets

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        for target in self._targets:
            module = importlib.import_module(target)
            if hasattr(module, attr):
                return getattr(module, attr)
        moved = ", ".join(self._targets)
        raise AttributeError(f"module {self.__name__!r} (moved to {moved}) has no {attr!r}")


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        return importlib.machinery.ModuleSpec(name, self) if name in MOVED else None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        targets = MOVED[spec.name]
        warnings.warn(f"{spec.name} moved to {targets[0]}; the old path will be removed in 0.3",
                      DeprecationWarning, stacklevel=4)
        return _OldPath(spec.name, targets)

    def exec_module(self, module: types.ModuleType) -> None:
        pass


def install() -> None:
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.append(_Finder())
