"""Checkpoints: written atomically, so a run killed at any moment keeps its last good one.

A checkpoint is a folder ``OUT/checkpoints/step-000N`` with the model (or LoRA adapter)
weights, the optimizer state, the three task buffers, the config and ``meta.json`` (step, RNG
states).  It is written as ``.tmp-step-000N`` and renamed when complete; ``OUT/checkpoints/
latest`` (written atomically after the rename) names the newest.  A kill mid-write leaves a
``.tmp-*`` folder that is ignored and cleaned up by the next save.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from azr_env._io import atomic_write_text
from azr_env.tasks.buffer import TaskBuffer
from azr_env.tasks.task import MODES

if TYPE_CHECKING:  # torch is imported where used: `azr train` finds a run folder before torch loads
    import torch



def rng_state() -> dict[str, Any]:
    import torch

    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}


def set_rng_state(state: dict[str, Any]) -> None:
    import torch

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])


def save(
    root: Path,
    step: int,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    buffers: dict[str, TaskBuffer],
    config: dict[str, Any],
    keep: int = 2,
) -> Path:
    """Write the checkpoint of the state after ``step`` steps; returns its folder."""
    import torch

    folder = root / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(".tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    name = f"step-{step:06d}"
    tmp = folder / f".tmp-{name}"
    tmp.mkdir()
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, tmp / "model.pt")
    torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    for mode, buffer in buffers.items():
        buffer.save(tmp / f"{mode}.jsonl")
    (tmp / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True))
    torch.save(rng_state(), tmp / "rng.pt")
    (tmp / "meta.json").write_text(json.dumps({"step": step}))  # last: marks the folder complete
    final = folder / name
    if final.exists():
        shutil.rmtree(final)
    tmp.rename(final)
    atomic_write_text(folder / "latest", name + "\n")
    for old in sorted(p for p in folder.glob("step-*") if p.is_dir())[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest(root: Path) -> Path | None:
    """The newest complete checkpoint under ``root`` (an output folder or its checkpoints/)."""
    folder = root / "checkpoints" if (root / "checkpoints").is_dir() else root
    pointer = folder / "latest"
    if pointer.exists():
        candidate = folder / pointer.read_text().strip()
        if (candidate / "meta.json").exists():
            return candidate
    complete = sorted(p for p in folder.glob("step-*") if (p / "meta.json").exists())
    return complete[-1] if complete else None


def load(
    path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer
) -> tuple[int, dict[str, TaskBuffer]]:
    """Restore weights, optimizer, RNG states; return the step reached and the buffers."""
    import torch

    meta = json.loads((path / "meta.json").read_text())
    model.load_state_dict(torch.load(path / "model.pt", map_location="cpu"))
    optimizer.load_state_dict(torch.load(path / "optimizer.pt", map_location="cpu"))
    set_rng_state(torch.load(path / "rng.pt", weights_only=False))
    buffers = {mode: TaskBuffer.load(path / f"{mode}.jsonl") for mode in MODES}
    return int(meta["step"]), buffers
