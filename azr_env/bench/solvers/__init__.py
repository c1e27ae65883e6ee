"""Solvers: batched callables ``solve(prompts: list[str]) -> list[str]`` that envs can call.

One completion per prompt, in prompt order.  The proposer envs take one as ``solver=`` to
estimate learnability, and ``azr bench`` scores one on a task set.  :func:`make_solver`
builds one from a spec string:

* ``python:module:function`` or ``python:path/to/file.py:function``: your own function
  (:class:`PythonSolver`);
* ``hf:PATH_OR_NAME`` (``hf:embedded`` for the embedded SmolLM2-135M-Instruct): a local
  transformers model (:class:`TransformersSolver`; ``pip install 'azr-env[train]'``);
* ``openai:MODEL``: any OpenAI-compatible server (OpenAI, vLLM's or llama.cpp's server,
  Ollama, ...), standard library only (:class:`OpenAISolver`);
* ``vllm:MODEL``: vLLM's offline engine on a GPU (:class:`VLLMSolver`;
  ``pip install 'azr-env[vllm]'``).

One module per backend; torch, transformers and vllm are imported only when their solver
is built.  Loading models and rendering chat prompts is :mod:`azr_env.models`' job.
"""

from __future__ import annotations

from typing import Any

from azr_env.bench.solvers.base import Solver, SolverError
from azr_env.bench.solvers.hf import TransformersSolver
from azr_env.bench.solvers.openai import OpenAISolver
from azr_env.bench.solvers.python import PythonSolver
from azr_env.bench.solvers.vllm import VLLMSolver

SCHEMES = ("python", "hf", "openai", "vllm")
_OPTIONS = {
    "hf": {"temperature", "max_new_tokens", "seed", "chat", "batch_size", "device"},
    "openai": {"temperature", "max_tokens", "seed", "chat", "base_url", "api_key", "api_key_env",
               "concurrency", "retries", "timeout_s", "backoff_s", "on_error", "extra_body"},
    "vllm": {"temperature", "max_tokens", "seed", "chat", "engine_kwargs"},
    "python": set(),
}
_KNOWN_OPTIONS = set().union(*_OPTIONS.values()) | {"max_tokens", "max_new_tokens"}


def make_solver(spec: str, **options: Any) -> Solver:
    """A solver from a spec string: ``python:...``, ``hf:...``, ``openai:MODEL`` or ``vllm:MODEL``.

    ``options`` are the solver settings; each solver takes the ones it knows and ignores the
    rest, and ``None`` means "the solver's default", so a command line can pass them all:
    ``temperature``, ``max_tokens`` (or its alias ``max_new_tokens``), ``seed``, ``chat``;
    ``base_url``, ``api_key``, ``api_key_env``, ``concurrency``, ``retries``, ``timeout_s``,
    ``backoff_s``, ``on_error``, ``extra_body`` (openai); ``batch_size``, ``device`` (hf);
    ``engine_kwargs`` (a dict for ``vllm.LLM``).  ``python:`` solvers take none.

    >>> make_solver("python:builtins:list")([])
    []
    """
    unknown = sorted(set(options) - _KNOWN_OPTIONS)
    if unknown:
        raise SolverError(f"unknown solver option(s): {', '.join(unknown)}")
    scheme, sep, rest = spec.partition(":")
    if not sep or scheme not in SCHEMES:
        raise SolverError(
            f"unknown solver {spec!r}: expected one of python:module:function, python:file.py:function, "
            "hf:PATH_OR_NAME (hf:embedded), openai:MODEL, vllm:MODEL"
        )
    if not rest:
        raise SolverError(f"solver spec {spec!r} names no {'target' if scheme == 'python' else 'model'}")
    opts = {k: v for k, v in options.items() if v is not None}
    tokens = {opts.pop(k) for k in ("max_tokens", "max_new_tokens") if k in opts}
    if len(tokens) > 1:
        raise SolverError(f"max_tokens and max_new_tokens disagree: {sorted(tokens)}")
    if tokens:
        opts["max_new_tokens" if scheme == "hf" else "max_tokens"] = tokens.pop()
    kwargs = {k: v for k, v in opts.items() if k in _OPTIONS[scheme]}
    if scheme == "python":
        return PythonSolver(rest)
    if scheme == "hf":
        try:
            return TransformersSolver(rest, **kwargs)
        except ImportError as exc:
            raise SolverError(
                f"hf solvers need torch and transformers: pip install 'azr-env[train]' ({exc})"
            ) from exc
    if scheme == "openai":
        return OpenAISolver(rest, **kwargs)
    engine_kwargs = kwargs.pop("engine_kwargs", {})
    return VLLMSolver(rest, **kwargs, **engine_kwargs)
