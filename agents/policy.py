"""The policy: one causal LM that proposes and solves, its sampling and its log-probabilities."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import torch

from azr_env.models import load_model, load_tokenizer, model_source, render_chat

from .config import TrainConfig


@dataclass
class Sample:
    """One generated response, with the token ids the update needs."""

    prompt_ids: list[int]
    response_ids: list[int]
    text: str


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


class Policy:
    """A transformers model and tokenizer, as the agent uses them."""

    def __init__(self, cfg: TrainConfig) -> None:
        from transformers import LlamaConfig, LlamaForCausalLM

        self.cfg = cfg
        self.device = resolve_device(cfg.device)
        dtype = torch.float32
        if cfg.dtype == "bfloat16" or (cfg.dtype == "auto" and self.device.type == "cuda"):
            dtype = torch.bfloat16
        if cfg.random_init:
            self.tokenizer = load_tokenizer(cfg.model)
            torch.manual_seed(cfg.seed)
            config = LlamaConfig(
                vocab_size=len(self.tokenizer),
                hidden_size=cfg.random_hidden_size,
                intermediate_size=2 * cfg.random_hidden_size,
                num_hidden_layers=cfg.random_layers,
                num_attention_heads=4,
                num_key_value_heads=4,
                max_position_embeddings=8192,
                tie_word_embeddings=True,
                bos_token_id=self.tokenizer.bos_token_id,
                eos_token_id=self.tokenizer.eos_token_id,
                pad_token_id=self.tokenizer.pad_token_id,
            )
            self.model = LlamaForCausalLM(config)
        else:
            self.model, self.tokenizer = load_model(cfg.model)
        self.model.to(device=self.device, dtype=dtype)
        if cfg.lora:
            from peft import LoraConfig, get_peft_model

            self.model = get_peft_model(
                self.model, LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, task_type="CAUSAL_LM")
            )
        self.model.generation_config.pad_token_id = self.tokenizer.pad_token_id
        self.vllm = None
        if cfg.backend == "vllm":
            self.vllm = VLLMBackend(cfg, model_source(cfg.model)[0])

    # ------------------------------------------------------------------ sampling
    def render(self, prompt: str) -> str:
        """The text the model sees: AZR's raw R1 prompt as it is, or a chat-formatted task."""
        if not self.cfg.chat_template:
            return prompt
        return render_chat(self.tokenizer, prompt)

    @torch.no_grad()
    def generate(self, prompts: list[str], seed: int, batch_size: int = 8) -> list[Sample]:
        """Sample one response per prompt (temperature from the config; seeded per call)."""
        if self.vllm is not None:
            return self.vllm.generate([self.render(p) for p in prompts], seed)
        self.model.eval()
        gen = torch.Generator(device="cpu").manual_seed(seed)
        samples: list[Sample] = []
        eos = self.tokenizer.eos_token_id
        pad = self.tokenizer.pad_token_id
        for start in range(0, len(prompts), batch_size):
            texts = [self.render(p) for p in prompts[start : start + batch_size]]
            batch = self.tokenizer(texts, return_tensors="pt", padding=True).to(self.device)
            torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
            out = self.model.generate(
                **batch,
                max_new_tokens=self.cfg.max_new_tokens,
                do_sample=True,  # never greedy (the config requires temperature > 0)
                temperature=self.cfg.temperature,
                top_p=None,
                top_k=None,
            )
            width = batch["input_ids"].shape[1]
            for row, mask in zip(out, batch["attention_mask"], strict=True):
                prompt_ids = row[:width][mask.bool()].tolist()
                response = row[width:].tolist()
                if eos in response:
                    response = response[: response.index(eos) + 1]  # keep the eos: it ends the answer
                elif pad in response and pad != eos:
                    response = response[: response.index(pad)]
                text = self.tokenizer.decode(response, skip_special_tokens=True)
                samples.append(Sample(prompt_ids, response or [eos], text))
        return samples

    def sampler(self, seed_fn) -> Any:
        """A batched ``solve(prompts) -> texts`` for the proposer envs (learnability samples)."""

        def solve(prompts: list[str]) -> list[str]:
            return [s.text for s in self.generate(prompts, seed_fn())]

        return solve

    # ------------------------------------------------------------------ training
    def response_logprobs(
        self, samples: list[Sample], model: torch.nn.Module | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Log-probabilities and entropies of the response tokens of a micro-batch (with gradients).

        Sequences (prompt + response) are left-padded to one length, so every response ends at
        the last position and only the last ``max response + 1`` logits are computed.  The
        outputs are ``[b, m]`` with each row's response right-aligned, and the mask that says
        which entries are response tokens.
        """
        from .trrpp import token_logprobs_and_entropy

        pad = self.tokenizer.pad_token_id
        lengths = [len(s.prompt_ids) + len(s.response_ids) for s in samples]
        width, m = max(lengths), max(len(s.response_ids) for s in samples)
        ids = torch.full((len(samples), width), pad, dtype=torch.long)
        attention = torch.zeros((len(samples), width), dtype=torch.long)
        mask = torch.zeros((len(samples), m))
        for i, (s, length) in enumerate(zip(samples, lengths, strict=True)):
            ids[i, width - length :] = torch.tensor(s.prompt_ids + s.response_ids)
            attention[i, width - length :] = 1
            mask[i, m - len(s.response_ids) :] = 1.0
        ids, attention = ids.to(self.device), attention.to(self.device)
        positions = (attention.cumsum(-1) - 1).clamp(min=0)
        logits = (model or self.model)(
            input_ids=ids, attention_mask=attention, position_ids=positions, logits_to_keep=m + 1
        ).logits[:, :-1]
        logprobs, entropy = token_logprobs_and_entropy(logits, ids[:, -m:])
        return logprobs, entropy, mask.to(self.device)

    def train_mode(self) -> contextlib.AbstractContextManager:
        self.model.train()
        return contextlib.nullcontext()


class VLLMBackend:
    """Generation with vLLM on a GPU; the trainer pushes updated weights after every step.

    Untested in CI (no GPU there): the training loop, loss and checkpoints are the same as
    with the transformers backend, and only generation and :meth:`sync` go through vLLM.
    """

    def __init__(self, cfg: TrainConfig, source: str) -> None:
        try:
            from vllm import LLM
        except ImportError:
            raise ImportError("backend 'vllm' needs vllm and a GPU: pip install 'azr-env[vllm]'") from None
        import os

        # The engine must live in this process for ``sync`` to reach its model (vLLM's V1 engine
        # otherwise runs in a child process).
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        self.cfg = cfg
        self.llm = LLM(
            model=source,
            dtype="bfloat16",
            gpu_memory_utilization=cfg.vllm_gpu_memory_utilization,
            enable_prefix_caching=True,
            seed=cfg.seed,
        )

    def generate(self, texts: list[str], seed: int) -> list[Sample]:
        from vllm import SamplingParams

        params = SamplingParams(
            temperature=self.cfg.temperature, max_tokens=self.cfg.max_new_tokens, seed=seed
        )
        outputs = self.llm.generate(texts, params, use_tqdm=False)
        return [
            Sample(list(o.prompt_token_ids), list(o.outputs[0].token_ids) or [0], o.outputs[0].text)
            for o in outputs
        ]

    def sync(self, model: torch.nn.Module) -> None:
        """Load the trainer's current weights into the vLLM engine (LoRA: merged first)."""
        if hasattr(model, "merge_and_unload"):
            import copy

            model = copy.deepcopy(model).merge_and_unload()
        weights = ((name, tensor.detach()) for name, tensor in model.state_dict().items())
        engine_model(self.llm).load_weights(weights)


# Where vLLM keeps the model object, newest layout first: an internal path that has moved
# between releases (V1 in-process, V0 with worker wrappers, older V0).
ENGINE_MODEL_PATHS = (
    "llm_engine.model_executor.driver_worker.worker.model_runner.model",
    "llm_engine.engine_core.engine_core.model_executor.driver_worker.worker.model_runner.model",
    "llm_engine.model_executor.driver_worker.model_runner.model",
)


def engine_model(llm: Any) -> Any:
    """The model inside a vLLM ``LLM`` (tensor parallel 1), whichever release's layout it has."""
    for path in ENGINE_MODEL_PATHS:
        found = llm
        for name in path.split("."):
            found = getattr(found, name, None)
            if found is None:
                break
        if found is not None and hasattr(found, "load_weights"):
            return found
    raise RuntimeError(
        "cannot reach the model inside this vLLM engine to sync weights (tried "
        + ", ".join(ENGINE_MODEL_PATHS)
        + "); run with VLLM_ENABLE_V1_MULTIPROCESSING=0 and tensor parallel 1, or use backend: hf"
    )
