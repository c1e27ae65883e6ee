"""``hf:PATH_OR_NAME``: a local transformers model (``pip install 'azr-env[train]'``)."""

from __future__ import annotations

from azr_env.models import load_model, render_chat


class TransformersSolver:
    """A local causal LM as a batched solver (transformers ``generate``).

    Args:
        model: a model folder or hub name, or ``"embedded"`` for SmolLM2-135M-Instruct.
        temperature: sampling temperature; 0 means greedy.  Learnability estimates must
            sample (AZR samples at 1.0).
        max_new_tokens: generation budget per answer.
        chat: apply the tokenizer's chat template (:func:`solver_messages`: the R1 instruction once,
            as system or inside a raw R1 prompt); otherwise the raw prompt (base models).
        batch_size: prompts per ``generate`` call.
        seed: torch seed set before each call, for reproducible sampling.
    """

    def __init__(self, model: str = "embedded", *, temperature: float = 1.0, max_new_tokens: int = 256,
                 chat: bool = True, batch_size: int = 8, seed: int | None = 0,
                 device: str | None = None) -> None:
        import torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        loaded, self.tokenizer = load_model(model)
        self.model = loaded.to(self.device).eval()
        self.temperature = temperature
        self.max_new_tokens = max_new_tokens
        self.chat = chat
        self.batch_size = batch_size
        self.seed = seed
        self._torch = torch

    def _render(self, prompt: str) -> str:
        return render_chat(self.tokenizer, prompt) if self.chat else prompt

    def __call__(self, prompts: list[str]) -> list[str]:
        if not prompts:
            return []
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
