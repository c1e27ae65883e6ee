"""``vllm:MODEL``: vLLM's offline engine on a GPU (``pip install 'azr-env[vllm]'``)."""

from __future__ import annotations

from typing import Any

from azr_env.bench.solvers.base import SolverError
from azr_env.models import solver_messages


class VLLMSolver:
    """vLLM's offline engine as a batched solver (``pip install 'azr-env[vllm]'``, needs a GPU).

    Args:
        model: a model folder or hub name.
        temperature, max_tokens: sampling settings.
        seed: the i-th prompt of a call is sampled with seed ``seed + i`` (so repeated prompts
            in one batch differ); ``None`` leaves sampling to the engine's generator.
            ``azr bench`` sets ``seed`` before each batch.
        chat: apply the model's chat template (``LLM.chat``) or use raw prompts (``LLM.generate``).
        **engine_kwargs: passed to ``vllm.LLM`` (``gpu_memory_utilization``, ``max_model_len``,
            ``tensor_parallel_size``, ``dtype``, ...).
    """

    def __init__(self, model: str, *, temperature: float = 0.0, max_tokens: int = 1024, seed: int | None = 0,
                 chat: bool = True, **engine_kwargs: Any) -> None:
        try:
            import vllm
        except ImportError as exc:
            raise SolverError("vllm is not installed: pip install 'azr-env[vllm]' (needs a GPU)") from exc
        self._vllm = vllm
        self.model = model
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.seed = seed
        self.chat = chat
        self.llm = vllm.LLM(model=model, **engine_kwargs)

    def _params(self, n: int) -> list[Any]:
        make = self._vllm.SamplingParams
        seeds = [None] * n if self.seed is None else [self.seed + i for i in range(n)]
        return [make(temperature=self.temperature, max_tokens=self.max_tokens, seed=s) for s in seeds]

    def __call__(self, prompts: list[str]) -> list[str]:
        if not prompts:
            return []
        params = self._params(len(prompts))
        if self.chat:
            conversations = [solver_messages(p) for p in prompts]
            outputs = self.llm.chat(conversations, params, use_tqdm=False)
        else:
            outputs = self.llm.generate(list(prompts), params, use_tqdm=False)
        return [out.outputs[0].text for out in outputs]
