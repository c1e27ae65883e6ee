"""``azr serve``: a reward service over HTTP, for trainers in other processes or languages.

``GET /health``
    200 ``{"status": "ok", "isolation": ...}`` once the sandbox is up.
``POST /v1/score``
    ``{"tasks": [<task JSON, a task-set file row>], "completions": [str], "format_rule":
    "strict", "reward_scheme": "azr", "induction_score": "all"}`` ->
    ``{"rewards": [float], "statuses": [str], "reasons": [str | null]}``, in order.  The
    envs' own rule (:func:`azr_env.scoring.rewards.score_completions`), one executor batch per
    request.
``POST /v1/validate``
    ``{"mode": "deduction", "completions": [str], "format_rule": "strict"}`` (or ``"modes"``,
    one per completion) -> ``{"valid": [bool], "reasons": [...], "tasks": [<task JSON> | null]}``:
    proposer completions parsed and validated as the proposer envs do.

Requests are bounded (``max_body_bytes``, ``max_items``); a malformed one gets a 400 naming
what is wrong, an oversized one a 413, and neither touches the others in flight.  Scoring
runs in the server's thread pool, so several requests are served at once.
"""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from azr_env.envs.propose_abduction import ProposeAbductionEnv
from azr_env.envs.propose_deduction import ProposeDeductionEnv
from azr_env.envs.propose_induction import ProposeInductionEnv
from azr_env.envs.proposer import ProposerEnv, evaluate
from azr_env.executor import BaseExecutor, Executor
from azr_env.scoring.parsing import FORMAT_RULES
from azr_env.scoring.rewards import INDUCTION_SCORES, REWARD_SCHEMES, score_completions
from azr_env.tasks.task import Task

MAX_BODY_BYTES = 16 * 2**20
MAX_ITEMS = 4096
PROPOSERS: dict[str, type[ProposerEnv]] = {
    "deduction": ProposeDeductionEnv, "abduction": ProposeAbductionEnv, "induction": ProposeInductionEnv}
Mode = Literal["deduction", "abduction", "induction"]


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tasks: list[dict[str, Any]] = Field(max_length=MAX_ITEMS)
    completions: list[str] = Field(max_length=MAX_ITEMS)
    format_rule: Literal[FORMAT_RULES] = "strict"  # type: ignore[valid-type]
    reward_scheme: Literal[REWARD_SCHEMES] = "azr"  # type: ignore[valid-type]
    induction_score: Literal[INDUCTION_SCORES] = "all"  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _same_length(self) -> ScoreRequest:
        if len(self.tasks) != len(self.completions):
            raise ValueError(f"got {len(self.completions)} completions for {len(self.tasks)} tasks")
        return self


class ValidateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    completions: list[str] = Field(max_length=MAX_ITEMS)
    mode: Mode | None = None
    modes: list[Mode] | None = None
    format_rule: Literal[FORMAT_RULES] = "strict"  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _one_mode_each(self) -> ValidateRequest:
        if (self.mode is None) == (self.modes is None):
            raise ValueError("give either 'mode' (one for all) or 'modes' (one per completion)")
        if self.modes is not None and len(self.modes) != len(self.completions):
            raise ValueError(f"got {len(self.modes)} modes for {len(self.completions)} completions")
        return self


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes gets 413 before it is read whole."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            if declared.isdigit() and int(declared) <= _DRAIN_FACTOR * self.limit:
                await _drain(receive)  # read and drop it: the client hears 413, not a reset
            await _reply(send, 413, f"the request body is over {self.limit} bytes")
            return
        seen = 0

        async def bounded_receive() -> dict:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, bounded_receive, send)
        except _TooLarge:
            await _reply(send, 413, f"the request body is over {self.limit} bytes")


class _TooLarge(Exception):
    pass


_DRAIN_FACTOR = 4  # bodies up to 4x the limit are drained before the 413; larger ones are cut off


async def _drain(receive: Any) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body"):
            return


async def _reply(send: Any, status: int, error: str) -> None:
    body = json.dumps({"error": error}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _first_error(exc: ValidationError | RequestValidationError) -> str:
    err = exc.errors()[0]
    if err.get("type") == "json_invalid":
        return f"the body is not valid JSON ({err.get('ctx', {}).get('error', 'decode error')})"
    where = ".".join(str(x) for x in err.get("loc", ()) if x != "body") or "request"
    return f"{where}: {err.get('msg')}"


def create_app(executor: BaseExecutor | None = None, *, max_body_bytes: int = MAX_BODY_BYTES) -> FastAPI:
    """The service as an ASGI app.  It owns ``executor`` only when it starts one itself."""
    state: dict[str, Any] = {"executor": executor}

    @asynccontextmanager
    async def lifespan(_: FastAPI):  # type: ignore[no-untyped-def]
        owned = state["executor"] is None
        if owned:
            state["executor"] = Executor()
        try:
            yield
        finally:
            if owned:
                state["executor"].close()

    app = FastAPI(title="azr-env reward service", lifespan=lifespan)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": _first_error(exc)}, status_code=400)

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "isolation": str(state["executor"].isolation)}

    @app.post("/v1/score", response_model=None)
    def score(request: ScoreRequest) -> dict[str, Any] | JSONResponse:
        tasks = []
        for i, row in enumerate(request.tasks):
            try:
                tasks.append(Task.model_validate(row))
            except ValidationError as exc:
                return JSONResponse({"error": f"tasks[{i}]: {_first_error(exc)}"}, status_code=400)
        results = score_completions(tasks, request.completions, format_rule=request.format_rule,
                                    reward_scheme=request.reward_scheme,
                                    induction_score=request.induction_score, executor=state["executor"])
        return {"rewards": [r.reward for r in results], "statuses": [r.status for r in results],
                "reasons": [r.error for r in results]}

    @app.post("/v1/validate")
    def validate(request: ValidateRequest) -> dict[str, Any]:
        modes = request.modes or [request.mode] * len(request.completions)
        envs = []
        for mode in modes:
            env = PROPOSERS[mode](executor=state["executor"], add_to_buffer="none",  # type: ignore[index]
                                  format_rule=request.format_rule)
            env.reset(seed=0)
            envs.append(env)
        found = [info for _, info in evaluate(envs, request.completions)] if envs else []
        return {"valid": [info["valid"] for info in found], "reasons": [info["reason"] for info in found],
                "tasks": [None if info["task"] is None else json.loads(info["task"].model_dump_json())
                          for info in found]}

    app.add_middleware(BodyLimit, limit=max_body_bytes)
    return app


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int | None = None,
          max_body_bytes: int = MAX_BODY_BYTES, timeout_s: float = 5.0) -> None:
    """Run the service until SIGINT or SIGTERM; requests in flight finish first."""
    import uvicorn

    executor = Executor(workers=workers, timeout_s=timeout_s)
    try:
        uvicorn.run(create_app(executor, max_body_bytes=max_body_bytes), host=host, port=port,
                    log_level="warning", timeout_graceful_shutdown=30)
    finally:
        executor.close()
