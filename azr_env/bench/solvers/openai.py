"""``openai:MODEL``: any OpenAI-compatible server, with the standard library only."""

from __future__ import annotations

import concurrent.futures
import email.utils
import http.client
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from azr_env.bench.solvers.base import SolverError
from azr_env.models import solver_messages

log = logging.getLogger(__name__)


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
