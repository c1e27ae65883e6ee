"""Checks before a run: what would otherwise fail minutes in (no GPU, no weights, a missing
package, a run folder in use) fails in seconds, before the model loads."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

import torch

from azr_env.models import embedded_model_path

from .config import TrainConfig


def preflight(cfg: TrainConfig) -> None:
    """Check in seconds what would otherwise fail minutes into a run: the GPU and packages the
    config asks for, and the model's weights on disk (nothing is downloaded during a run)."""
    from importlib.util import find_spec

    problems = []
    if (cfg.backend == "vllm" or cfg.device == "cuda") and not torch.cuda.is_available():
        problems.append(f"this config needs a CUDA GPU (backend {cfg.backend}, device {cfg.device}) "
                        "and torch sees none; agents/configs/smollm2-cpu.yaml runs on CPU")
    for wanted, module, install in ((cfg.backend == "vllm", "vllm", "pip install 'azr-env[vllm]'"),
                                    (cfg.lora, "peft", "pip install peft"),
                                    (cfg.wandb, "wandb", "pip install wandb"),
                                    (cfg.ray_address is not None, "ray", "pip install 'azr-env[ray]'")):
        if wanted and find_spec(module) is None:
            problems.append(f"this config needs {module}: {install}")
    if cfg.model == "embedded":
        try:
            embedded_model_path()
        except RuntimeError as exc:
            problems.append(str(exc))
    elif not Path(cfg.model).is_dir():
        from huggingface_hub import try_to_load_from_cache

        if not isinstance(try_to_load_from_cache(cfg.model, "config.json"), str):
            problems.append(
                f"model {cfg.model!r} is neither a local folder nor in the Hugging Face cache, and a run "
                f"downloads nothing: fetch it first (huggingface-cli download {cfg.model} --local-dir "
                "models/NAME) and set model: to that folder"
            )
    if problems:
        raise ValueError("; ".join(problems))


def lock_run_folder(out: Path) -> IO[str]:
    """Hold ``out/.lock`` for the run's life: a second ``azr train`` into the same folder stops
    at once instead of interleaving checkpoints and metrics (the lock dies with the process)."""
    import fcntl

    fh = (out / ".lock").open("a+", encoding="utf-8")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        holder = fh.read().strip() or "?"
        fh.close()
        raise FileExistsError(f"{out} is in use by another azr train (pid {holder}): wait for it to "
                              "finish or pick another --out") from None
    fh.truncate(0)
    fh.write(f"{os.getpid()}\n")
    fh.flush()
    return fh


