"""The integrations (TRL, veRL, ``azr serve``) pay exactly what the envs pay: same parsing,
same verifier, same reward rule, forged answers refused alike."""

from __future__ import annotations

import json
import socket
import statistics
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gymnasium as gym
import pytest

import azr_env  # noqa: F401  (registers the env ids)
from azr_env import export
from azr_env.executor import Executor
from azr_env.integrations import verl as azr_verl
from azr_env.integrations.trl import reward_function, status_counts
from azr_env.scoring.rewards import score_completions
from azr_env.tasks.seeds import seed_tasks
from azr_env.tasks.task import Task, gold_answer
from azr_env.tasks.taskset import TaskSet


def per_mode(tasks: tuple[Task, ...]) -> list[TaskSet]:
    """One task set per mode (seed ids repeat across modes, and a set's ids are unique):
    a mixed dataset is their records concatenated, as with ``datasets.concatenate_datasets``."""
    sets = {}
    for task in tasks:
        sets.setdefault(task.mode, {})[task.id] = task
    return [TaskSet(list(found.values()), name=mode) for mode, found in sets.items()]


ENV_IDS = {"deduction": "AZR-Deduction-v0", "abduction": "AZR-Abduction-v0", "induction": "AZR-Induction-v0"}


def wrap(answer: str) -> str:
    return f"<think>working</think><answer>{answer}</answer>"


def cases() -> list[tuple[Task, str]]:
    """(task, completion) pairs of every kind: right, wrong, forged, unformatted, odd."""
    ded, abd, ind = (list(seed_tasks(m))[:2] for m in ("deduction", "abduction", "induction"))
    out: list[tuple[Task, str]] = []
    for task in ded:
        out += [(task, wrap(task.output)), (task, wrap("'surely not'")),
                (task, wrap(f"{task.output!r} or True")), (task, wrap("f() if False else (True)")),
                (task, wrap("sorted([3, 1, 2])")), (task, task.output)]
    for task in abd:
        gold = task.output
        out += [(task, wrap(task.args)), (task, wrap("'nope', 'nope'")),
                (task, wrap(f"(chr := lambda c: {gold!r}) and 'a'")),
                (task, wrap(f"next(n for n in range(10**6) if f(n) == {gold})")),
                (task, wrap("setattr(hashlib, 'sha256', lambda *a: 0) or 'x'")),
                (task, wrap("TABLE.update(z=7) or 'z'")), (task, "")]
    for task in ind:
        out += [(task, wrap(f"```python\n{task.program}\n```")),
                (task, wrap("```python\ndef f(*a):\n    return None\n```")),
                (task, wrap("```python\ndef f(*a):\n    while True:\n        pass\n```")),
                (task, wrap("```python\ndef f(*a):\n    return globals()['GOLD']\n```")),
                (task, wrap("```python\nimport os\ndef f(*a):\n    return os.listdir('/')\n```"))]
    return out


@pytest.fixture(scope="module")
def ex() -> Iterator[Executor]:
    with Executor(workers=2, timeout_s=1.0, memory_mb=512) as executor:
        yield executor


@pytest.fixture(scope="module")
def env_verdicts(ex: Executor) -> list[tuple[float, str]]:
    """What ``env.step`` pays for each case: the reference every integration must match."""
    found = []
    for task, completion in cases():
        env = gym.make(ENV_IDS[task.mode], tasks=[task], executor=ex)
        env.reset(options={"task_id": task.id})
        _, reward, _, _, info = env.step(completion)
        found.append((reward, info["status"]))
    return found


def test_the_cases_cover_right_wrong_and_forged(env_verdicts: list[tuple[float, str]]) -> None:
    statuses = {status for _, status in env_verdicts}
    assert {"ok", "wrong", "format_error", "not_a_literal", "timeout"} <= statuses
    rewards = [r for r, _ in env_verdicts]
    # Exactly the gold answers (2 per mode) are paid 1.0: every forgery fails.
    assert rewards.count(1.0) == 6


def test_score_completions_is_the_envs_rule(ex: Executor, env_verdicts: list[tuple[float, str]]) -> None:
    tasks, completions = zip(*cases(), strict=True)
    scored = score_completions(list(tasks), list(completions), executor=ex)
    assert [(s.reward, s.status) for s in scored] == env_verdicts


def test_trl_reward_function_matches_the_envs(ex: Executor, env_verdicts: list[tuple[float, str]]) -> None:
    tasks, completions = zip(*cases(), strict=True)
    rows = [row for ts in per_mode(tasks) for row in export.task_records(ts, prompt_format="chat")]
    by_id = {(row["mode"], row["id"]): row for row in rows}
    logged: dict[str, float] = {}
    reward = reward_function(executor=ex)
    conversational = [[{"role": "assistant", "content": c}] for c in completions]
    rewards = reward(prompts=[by_id[t.mode, t.id]["prompt"] for t in tasks], completions=conversational,
                     task=[by_id[t.mode, t.id]["task"] for t in tasks], mode=[t.mode for t in tasks],
                     log_metric=logged.__setitem__, trainer_state=None)
    assert rewards == [r for r, _ in env_verdicts]
    plain = reward(prompts=[""] * len(tasks), completions=list(completions),
                   task=[by_id[t.mode, t.id]["task"] for t in tasks])
    assert plain == rewards
    statuses = [s for _, s in env_verdicts]
    assert logged["azr/correct"] == statuses.count("ok")
    assert logged["azr/format_error"] == statuses.count("format_error")
    assert logged["azr/timeout"] == statuses.count("timeout")
    assert sum(logged.values()) == len(statuses)


def test_trl_reward_function_options_and_missing_column(ex: Executor) -> None:
    task = list(seed_tasks("deduction"))[0]
    row = export.task_records(TaskSet([task], name="one"))[0]
    binary = reward_function(reward_scheme="binary", executor=ex)
    assert binary([""], [wrap("'wrong'")], task=[row["task"]]) == [0.0]
    fenced = reward_function(format_rule="fenced", executor=ex)
    assert fenced([""], [f"```output\n{task.output}\n```"], task=[row["task"]]) == [1.0]
    with pytest.raises(ValueError, match="task' column"):
        binary([""], ["x"])
    with pytest.raises(ValueError, match="format_rule"):
        reward_function(format_rule="loose")
    assert status_counts([]) == {"correct": 0, "wrong": 0, "format_error": 0, "timeout": 0, "other": 0}


def test_verl_compute_score_matches_the_envs(ex: Executor, env_verdicts: list[tuple[float, str]]) -> None:
    tasks, completions = zip(*cases(), strict=True)
    rows = {(r["extra_info"]["mode"], r["extra_info"]["task_id"]): r
            for ts in per_mode(tasks) for r in export.verl_records(ts)}
    truths = [rows[t.mode, t.id]["reward_model"]["ground_truth"] for t in tasks]
    sources = [rows[t.mode, t.id]["data_source"] for t in tasks]
    batch = azr_verl.compute_score_batch(sources, list(completions), truths, [None] * len(tasks))
    assert batch == [r for r, _ in env_verdicts]
    one = [azr_verl.compute_score(s, c, g)
           for s, c, g in zip(sources[:8], completions[:8], truths[:8], strict=True)]
    assert one == batch[:8]


def test_verl_rows_follow_verls_schema(tmp_path: Path) -> None:
    """The columns veRL's dataset and reward managers read, with the types they expect."""
    pq = pytest.importorskip("pyarrow.parquet")
    path = export.to_verl_parquet(seed_tasks("abduction"), tmp_path / "train.parquet", split="test")
    table = pq.read_table(path).to_pylist()
    assert len(table) == len(seed_tasks("abduction"))
    row = table[0]
    assert set(row) == {"data_source", "prompt", "ability", "reward_model", "extra_info"}
    assert [m["role"] for m in row["prompt"]] == ["user"] or row["prompt"][-1]["role"] == "user"
    assert row["reward_model"]["style"] == "rule"
    task = export.task_from_json(row["reward_model"]["ground_truth"])
    assert task == list(seed_tasks("abduction"))[0]
    assert row["extra_info"]["split"] == "test" and row["extra_info"]["answer"] == gold_answer(task)
    assert not list(tmp_path.glob(".*.tmp")), "a temporary file was left behind"


def test_verl_loads_our_data_and_reward_function(tmp_path: Path) -> None:
    """veRL's own RLHFDataset reads the parquet, and its own custom-reward loader calls
    compute_score (veRL is installed in the dev environment with --no-deps; see Makefile)."""
    pytest.importorskip("verl.utils.dataset.rl_dataset", exc_type=ImportError)
    from omegaconf import OmegaConf
    from verl.trainer.ppo.reward import get_custom_reward_fn
    from verl.utils.dataset.rl_dataset import RLHFDataset

    from azr_env.models import load_tokenizer

    path = export.to_verl_parquet(seed_tasks("deduction"), tmp_path / "train.parquet")
    config = OmegaConf.create({"max_prompt_length": 4096, "filter_overlong_prompts": False,
                               "cache_dir": str(tmp_path / "cache"), "return_raw_chat": True})
    dataset = RLHFDataset(data_files=[str(path)], tokenizer=load_tokenizer("embedded"), config=config)
    item = dataset[0]
    assert item["data_source"].startswith("azr_env/") and "ground_truth" in item["reward_model"]
    fn = get_custom_reward_fn(OmegaConf.create({"reward": {"custom_reward_function": {
        "path": "pkg://azr_env.integrations.verl", "name": "compute_score",
        "reward_kwargs": {"format_rule": "fenced"}}}}))
    gold = export.task_from_json(item["reward_model"]["ground_truth"]).output
    assert fn(item["data_source"], f"```output\n{gold}\n```", item["reward_model"]["ground_truth"],
              item.get("extra_info")) == 1.0
    assert fn(item["data_source"], "```output\n'wrong'\n```", item["reward_model"]["ground_truth"]) == -0.5


def test_cli_exports_verl_parquet_and_refuses_unknown_formats(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from azr_env.cli import app

    runner = CliRunner()
    out = tmp_path / "rows.parquet"
    result = runner.invoke(app, ["tasks", "export", "seed:induction", "--format", "verl", "-o", str(out)])
    assert result.exit_code == 0, result.output
    pq = pytest.importorskip("pyarrow.parquet")
    assert pq.read_table(out).num_rows == len(seed_tasks("induction"))
    result = runner.invoke(app, ["tasks", "export", "seed:induction", "--format", "csv", "-o", str(out)])
    assert result.exit_code == 2 and "unknown format 'csv'" in result.output
    jsonl = tmp_path / "rows.jsonl"
    assert runner.invoke(app, ["tasks", "export", "seed:deduction", "-o", str(jsonl)]).exit_code == 0
    first = json.loads(jsonl.read_text().splitlines()[0])
    assert export.task_from_json(first["task"]).id == first["id"]


# ---------------------------------------------------------------------------------------
# azr serve, over real loopback HTTP
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(ex: Executor) -> Iterator[str]:
    uvicorn = pytest.importorskip("uvicorn")
    from azr_env.integrations.server import create_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    config = uvicorn.Config(create_app(ex, max_body_bytes=2**20), host="127.0.0.1", port=port,
                            log_level="warning", timeout_graceful_shutdown=10)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if urllib.request.urlopen(url + "/health", timeout=5).status == 200:
                break
        except OSError:
            time.sleep(0.05)
    yield url
    srv.should_exit = True
    thread.join(30)


def post(url: str, body: bytes | dict, timeout: float = 60) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_serve_scores_like_the_envs(server: str, env_verdicts: list[tuple[float, str]]) -> None:
    tasks, completions = zip(*cases(), strict=True)
    status, reply = post(server + "/v1/score", {"tasks": [json.loads(t.model_dump_json()) for t in tasks],
                                                "completions": list(completions)})
    assert status == 200
    assert list(zip(reply["rewards"], reply["statuses"], strict=True)) == env_verdicts
    with urllib.request.urlopen(server + "/health") as health:
        assert json.loads(health.read())["status"] == "ok"


def test_serve_validates_proposals(server: str) -> None:
    good = wrap("```python\ndef f(x):\n    return x + 1\n```\n```input\n3\n```")
    status, reply = post(server + "/v1/validate", {"mode": "deduction", "completions": [good, "nothing", wrap(
        "```python\nimport random\ndef f(x):\n    return random.random()\n```\n```input\n3\n```")]})
    assert status == 200
    assert reply["valid"] == [True, False, False]
    assert Task.model_validate(reply["tasks"][0]).output == "4"
    assert reply["reasons"][0] is None and reply["reasons"][1] and reply["reasons"][2]


BAD_REQUESTS = {
    "not-json": (b"{", 400, "not valid JSON"),
    "missing-field": ({"completions": ["x"]}, 400, "tasks"),
    "lengths-differ": ({"tasks": [], "completions": ["x"]}, 400, "1 completions for 0 tasks"),
    "bad-task": ({"tasks": [{"id": "x"}], "completions": ["x"]}, 400, "tasks[0]"),
    "tampered-task": (None, 400, "content hash mismatch"),
    "bad-option": ({"tasks": [], "completions": [], "format_rule": "loose"}, 400, "format_rule"),
    "completion-not-text": ({"tasks": [], "completions": [3]}, 400, "completions"),
    "extra-field": ({"tasks": [], "completions": [], "admin": True}, 400, "admin"),
    "oversized": (b"[" + b" " * (2**20 + 10) + b"]", 413, "over"),
}


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
def test_serve_refuses_bad_requests_clearly(server: str, name: str) -> None:
    body, code, words = BAD_REQUESTS[name]
    if name == "tampered-task":
        row = json.loads(list(seed_tasks("deduction"))[0].model_dump_json())
        row["output"] = "'forged'"
        body = {"tasks": [row], "completions": [wrap("'forged'")]}
    status, reply = post(server + "/v1/score", body)
    assert status == code, reply
    assert words in reply["error"]


def test_serve_under_load_loses_nothing(server: str, ex: Executor) -> None:
    """1,000 requests of 64 answers from 8 clients, with garbage and oversized requests mixed
    in: every good request gets exactly the envs' rewards, every bad one a 4xx."""
    ded = list(seed_tasks("deduction"))
    abd = list(seed_tasks("abduction"))[:4]
    batches = []
    for i in range(1000):
        tasks = [ded[(i + j) % len(ded)] for j in range(60)] + abd
        answers = [wrap(t.output if (i + j) % 3 else "'no'") for j, t in enumerate(tasks[:60])]
        answers += [wrap(t.args if i % 2 else "'no'") for t in abd]
        batches.append((tasks, answers))
    expected = {}
    for parity in (0, 1, 2, 3, 4, 5):  # the batches repeat with period 6 in what they ask
        tasks, answers = batches[parity]
        expected[parity] = [s.reward for s in score_completions(tasks, answers, executor=ex)]

    def one(i: int) -> tuple[int, float, bool]:
        start = time.perf_counter()
        if i % 50 == 7:
            status, _ = post(server + "/v1/score", b"{garbage")
            return i, time.perf_counter() - start, status == 400
        if i % 50 == 23:
            status, _ = post(server + "/v1/score", b"[" + b"0," * 2**20 + b"0]")
            return i, time.perf_counter() - start, status == 413
        tasks, answers = batches[i]
        status, reply = post(server + "/v1/score", {"tasks": [json.loads(t.model_dump_json()) for t in tasks],
                                                    "completions": answers}, timeout=300)
        ok = status == 200 and reply["rewards"] == expected[i % 6] and len(reply["statuses"]) == 64
        return i, time.perf_counter() - start, ok

    with ThreadPoolExecutor(8) as clients:
        results = list(clients.map(one, range(1000)))
    failed = [i for i, _, ok in results if not ok]
    assert failed == []
    latencies = sorted(t for _, t, _ in results)
    p50, p99 = statistics.median(latencies), latencies[int(0.99 * len(latencies))]
    print(f"\nazr serve load: 1000 requests x 64 answers, 8 clients: "
          f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")


def docs_blocks() -> list[str]:
    """The ```python blocks of docs/integrations.md, in order (TRL, veRL, HTTP client)."""
    import re

    text = (Path(__file__).resolve().parents[1] / "docs" / "integrations.md").read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```$", text, re.S | re.M)


def test_docs_verl_and_http_examples_run(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The veRL and HTTP examples of docs/integrations.md run as shown (the TRL one runs in
    tests/test_integrations_trl.py)."""
    trl_block, verl_block, http_block = docs_blocks()
    assert "GRPOTrainer" in trl_block
    exec(compile(verl_block, "integrations.md", "exec"), {})
    exec(compile(http_block, "integrations.md", "exec"), {"SERVER": server})
    assert "'rewards': [1.0], 'statuses': ['ok']" in capsys.readouterr().out


def test_azr_serve_finishes_requests_in_flight_on_sigterm(tmp_path: Path) -> None:
    """The command as users run it: SIGTERM while a request is being scored lets that request
    finish with its answer, then the server exits."""
    import signal
    import subprocess
    import sys

    pytest.importorskip("uvicorn")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    azr = Path(sys.executable).with_name("azr")
    proc = subprocess.Popen([str(azr), "serve", "--port", str(port), "--workers", "1", "--timeout", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(1200):
            try:
                urllib.request.urlopen(url + "/health", timeout=5)
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                time.sleep(0.05)
        task = list(seed_tasks("induction"))[0]
        looping = wrap("```python\ndef f(*a):\n    while True:\n        pass\n```")
        replies: list[tuple[int, dict]] = []
        client = threading.Thread(target=lambda: replies.append(post(url + "/v1/score", {
            "tasks": [json.loads(task.model_dump_json())], "completions": [looping]})))
        client.start()
        time.sleep(0.3)  # the request is in flight: its answer runs to the 1 s timeout
        proc.send_signal(signal.SIGTERM)
        client.join(60)
        assert replies and replies[0][0] == 200, replies
        assert replies[0][1]["statuses"] == ["timeout"] and replies[0][1]["rewards"] == [-0.5]
        assert proc.wait(60) in (0, -signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
