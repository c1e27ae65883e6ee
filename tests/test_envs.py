"""The solver environments: Gymnasium contract, fidelity on CRUXEval, rewards, garbage."""

from __future__ import annotations

import random
import subprocess
import sys
import time

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import azr_env  # noqa: F401  (registers the ids)
from azr_env.envs import UnicodeText
from azr_env.tasks.cruxeval import load_cruxeval
from azr_env.tasks.task import IOPair, Task, gold_answer
from azr_env.tasks.taskset import TaskSet

from .conftest import data_file

SOLVER_IDS = ["AZR-Deduction-v0", "AZR-Abduction-v0", "AZR-Induction-v0"]
TAG = {"deduction": "output", "abduction": "input", "induction": "python"}


def answer(mode: str, text: str, think: str = "I traced the program.") -> str:
    return f"{think}</think>\n<answer>\n```{TAG[mode]}\n{text}\n```\n</answer>"


gold = gold_answer


@pytest.fixture(scope="module")
def crux_o():
    return load_cruxeval(data_file("cruxeval.jsonl"), "deduction")


@pytest.fixture(scope="module")
def crux_i():
    return load_cruxeval(data_file("cruxeval.jsonl"), "abduction")


# ----------------------------------------------------------------------------- registry
def test_every_registered_azr_env_passes_check_env(executor) -> None:
    ids = [env_id for env_id in gym.registry if env_id.startswith("AZR-")]
    assert set(SOLVER_IDS) <= set(ids)
    for env_id in ids:
        env = gym.make(env_id, executor=executor)
        check_env(env.unwrapped, skip_render_check=True)
        env.close()


def test_make_with_module_prefix_works_without_importing_azr_env() -> None:
    code = (
        "import gymnasium as gym\n"
        "env = gym.make('azr_env:AZR-Deduction-v0')\n"
        "obs, info = env.reset(seed=3)\n"
        "print(info['mode'], obs.endswith('Assistant: <think>'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["deduction", "True"]


@pytest.mark.parametrize("env_id", SOLVER_IDS)
def test_default_tasks_work_offline_and_gold_scores_one(env_id: str, executor) -> None:
    env = gym.make(env_id, executor=executor)
    assert len(env.unwrapped.source) >= 200
    for seed in range(5):
        _, info = env.reset(seed=seed)
        assert "expected" not in info
        task = env.unwrapped.task
        _, reward, terminated, truncated, info = env.step(answer(task.mode, gold(task)))
        assert (reward, terminated, truncated) == (1.0, True, False), info
        assert info["correct"] and info["format_ok"] and info["expected"] == gold(task)


# ----------------------------------------------------------------------------- spaces
def test_spaces_accept_any_unicode_text() -> None:
    space = UnicodeText(50)
    assert space.contains("def f(x):\n    return {'é': x ** 2}  # ✓")
    assert not space.contains("x" * 51) and not space.contains(b"bytes") and not space.contains(None)
    assert space.contains(space.sample())


# ----------------------------------------------------------------------------- fidelity
def test_cruxeval_gold_answers_score_one_in_deduction_and_abduction(crux_o, crux_i, executor) -> None:
    for tasks, env_id in ((crux_o, "AZR-Deduction-v0"), (crux_i, "AZR-Abduction-v0")):
        vec = gym.make_vec(env_id, num_envs=len(tasks), vectorization_mode="vector_entry_point",
                           tasks=tasks, executor=executor)
        vec.reset(seed=0)
        # Point every sub-env at one task, in order, then answer all 800 in one batch.
        for env, task in zip(vec.unwrapped.envs, tasks, strict=True):
            env.reset(options={"task_id": task.id})
        actions = [answer(task.mode, gold(task)) for task in tasks]
        _, rewards, terminated, _, infos = vec.step(actions)
        final = infos["final_info"]
        bad = [(t.id, final["status"][i]) for i, t in enumerate(tasks) if rewards[i] != 1.0]
        # The documented exception: three CRUXEval-I gold inputs (two lambdas, a range)
        # have no literal form, and an answer that is code is wrong here.
        expected = [] if env_id == "AZR-Deduction-v0" else [
            ("sample_344", "not_a_literal"), ("sample_364", "not_a_literal"), ("sample_522", "not_a_literal")]
        assert bad == expected and terminated.all()
        assert len(tasks) == 800


def test_cruxeval_literal_inputs_are_what_the_expressions_evaluate_to(cruxeval_rows, executor) -> None:
    from azr_env.executor import Job, parse_args
    from azr_env.tasks.cruxeval import CRUXEVAL_LITERAL_INPUTS

    rows = {row["id"]: row for row in cruxeval_rows}
    capture = "\n\ndef f(*args, **kwargs):\n    return list(args), kwargs\n"
    jobs = [Job(rows[i]["code"] + capture, rows[i]["input"], evaluate_args=True)
            for i in CRUXEVAL_LITERAL_INPUTS]
    results = executor.run_batch(jobs)
    for (task_id, literal), result in zip(CRUXEVAL_LITERAL_INPUTS.items(), results, strict=True):
        args, kwargs = parse_args(literal)
        assert result.ok and result.value == (list(args), kwargs), task_id


def _perturb_literal(text: str) -> str:
    if text.startswith("'") or text.startswith('"'):
        return text[0] + "Z" + text[1:]
    if text in ("True", "False"):
        return "False" if text == "True" else "True"
    if text.lstrip("-").isdigit():
        return str(int(text) + 1)
    return text + " + [0]" if text.startswith("[") else "None"


def test_cruxeval_perturbed_deduction_answers_are_wrong(crux_o) -> None:
    env = gym.make("AZR-Deduction-v0", tasks=crux_o)
    rng = random.Random(0)
    for task in rng.sample(list(crux_o), 120):
        env.reset(options={"task_id": task.id})
        _, reward, _, _, info = env.step(answer("deduction", _perturb_literal(task.output)))
        assert reward == -0.5 and not info["correct"], (task.id, task.output)
        # Calling f instead of predicting (AZR's in-trainer eval accepted this).
        env.reset(options={"task_id": task.id})
        _, reward, _, _, info = env.step(answer("deduction", f"f({task.args})"))
        assert reward == -0.5 and info["status"] == "not_a_literal"


def test_deduction_type_rule_int_is_not_float_and_list_is_not_tuple() -> None:
    tasks = [Task.create("deduction", "def f(x):\n    return x // 2", "4", "2", id="int"),
             Task.create("deduction", "def f(x):\n    return [x]", "4", "[4]", id="list")]
    env = gym.make("AZR-Deduction-v0", tasks=tasks)
    for task_id, wrong, right in (("int", "2.0", "2"), ("list", "(4,)", "[4]")):
        env.reset(options={"task_id": task_id})
        assert env.step(answer("deduction", wrong))[1] == -0.5
        env.reset(options={"task_id": task_id})
        assert env.step(answer("deduction", right))[1] == 1.0


def test_abduction_accepts_any_input_that_works_and_rejects_wrong_ones(executor) -> None:
    task = Task.create("abduction", "def f(a, b):\n    return sorted(a)[b]", "[3, 1, 2], 0", "1", id="t")
    env = gym.make("AZR-Abduction-v0", tasks=[task], executor=executor)
    for candidate, expected in (("[1], 0", 1.0), ("[9, 1, 5], -3", 1.0), ("[2], 0", -0.5),
                                ("[1], 5", -0.5), ("(1,), 0, 7", -0.5), ("'1', 0", -0.5)):
        env.reset()
        _, reward, _, _, info = env.step(answer("abduction", candidate))
        assert reward == expected, (candidate, info)


def test_cruxeval_abduction_wrong_types_are_wrong(crux_i, executor) -> None:
    env = gym.make("AZR-Abduction-v0", tasks=crux_i, executor=executor)
    env.reset(options={"task_id": "sample_3"})  # f('bcksrut', 'q') == 'bcksrutq'
    assert env.step(answer("abduction", "'bcksrut', 'q'"))[1] == 1.0
    env.reset(options={"task_id": "sample_3"})
    assert env.step(answer("abduction", "['b', 'c'], 'q'"))[1] == -0.5


# ----------------------------------------------------------------------------- induction
def _induction_task() -> Task:
    program = "def f(xs, k):\n    return xs[k:] + xs[:k]"
    args = ["[1, 2, 3], 1", "[4, 5], 0", "'abc', 2", "[], 0", "[1, 2, 3, 4], 3", "'hello', 1"]
    outputs = ["[2, 3, 1]", "[4, 5]", "'cab'", "[]", "[4, 1, 2, 3]", "'elloh'"]
    pairs = [IOPair(args=a, output=o) for a, o in zip(args, outputs, strict=True)]
    return Task.create("induction", program, visible=pairs[:3], hidden=pairs[3:],
                       message="Rotate the sequence left by k.", id="rot")


def test_induction_all_hidden_pairs_must_pass_and_fraction_option(executor) -> None:
    task = _induction_task()
    env = gym.make("AZR-Induction-v0", tasks=[task], executor=executor)
    obs, _ = env.reset()
    assert "Rotate the sequence left by k." in obs and "'elloh'" not in obs  # hidden pairs stay hidden
    assert env.step(answer("induction", "def f(xs, k):\n    return xs[k:] + xs[:k]"))[1] == 1.0
    almost = "def f(xs, k):\n    return xs[k:] + xs[:k] if xs != 'hello' else 'x'"
    env.reset()
    assert env.step(answer("induction", almost))[1] == -0.5
    frac = gym.make("AZR-Induction-v0", tasks=[task], executor=executor, induction_score="fraction")
    frac.reset()
    _, reward, _, _, info = frac.step(answer("induction", almost))
    assert reward == pytest.approx(2 / 3) and info["score"] == pytest.approx(2 / 3)
    env.reset()
    _, reward, _, _, info = env.step(answer("induction", "import os\ndef f(xs, k):\n    return os.sep"))
    assert reward == -0.5 and info["status"] == "rejected"


# ----------------------------------------------------------------------------- rewards, prompts
def test_reward_schemes_and_format_rules() -> None:
    task = Task.create("deduction", "def f():\n    return 1", "", "1", id="one")
    azr = gym.make("AZR-Deduction-v0", tasks=[task])
    binary = gym.make("AZR-Deduction-v0", tasks=[task], reward_scheme="binary")
    lenient = gym.make("AZR-Deduction-v0", tasks=[task], format_rule="lenient")
    fenced = gym.make("AZR-Deduction-v0", tasks=[task], format_rule="fenced")
    cases = [  # action: rewards under strict (azr), binary, lenient, fenced
        (answer("deduction", "1"), 1.0, 1.0, 1.0, 1.0),
        (answer("deduction", "2"), -0.5, 0.0, -0.5, -0.5),
        ("```output\n1\n```", -1.0, 0.0, 1.0, 1.0),
        ("so it gives ```output\n2\n``` I think", -1.0, 0.0, -0.5, -0.5),
        ("<think>x</think><answer>1", -1.0, 0.0, 1.0, -1.0),  # fenced: an open <answer> is no block
        ("the result is 1", -1.0, 0.0, -0.5, -1.0),  # fenced: no block, no answer
        ("```input\n1\n```", -1.0, 0.0, -0.5, -1.0),  # the wrong kind of block
    ]
    for action, *expected in cases:
        got = []
        for env in (azr, binary, lenient, fenced):
            env.reset()
            got.append(env.step(action)[1])
        assert got == expected, action
    azr.reset()
    assert azr.step("<think>" + answer("deduction", "1"))[1] == 1.0  # leading <think> repeated


@pytest.mark.parametrize(
    ("mode", "completion", "expected"),
    [
        ("abduction", "Try ```input\n'a', 2\n``` then", "'a', 2"),
        ("abduction", "```output\n3\n```", None),
        ("induction", "Here:\n```python\ndef f(x):\n    return x\n```", "def f(x):\n    return x"),
        ("induction", "def f(x):\n    return x", None),
        ("induction", "<answer>```python\ndef f(x):\n    return 1\n```</answer>", "def f(x):\n    return 1"),
    ],
)
def test_fenced_rule_reads_the_block_the_prompt_asks_for(mode, completion, expected) -> None:
    from azr_env.scoring.parsing import extract_answer

    parsed = extract_answer(completion, mode, "fenced")
    assert parsed.format_ok == (expected is not None) and parsed.answer == expected


def test_prompts_follow_azr_and_chat_variant(crux_o) -> None:
    env = gym.make("AZR-Deduction-v0", tasks=crux_o)
    obs, info = env.reset(options={"task_id": "sample_0"})
    assert obs.startswith("A conversation between User and Assistant.") and obs.endswith("Assistant: <think>")
    assert "# Task: Deduce the Output of a Python Code Snippet" in obs
    assert "```input\n[1, 1, 3, 1, 3, 1]\n```" in obs
    chat = gym.make("AZR-Deduction-v0", tasks=crux_o, prompt_format="chat")
    obs, info = chat.reset(options={"task_id": "sample_0"})
    assert "A conversation" not in obs and info["messages"][0]["role"] == "system"
    assert info["messages"][1] == {"role": "user", "content": obs}


def test_rejects_wrong_arguments_clearly() -> None:
    with pytest.raises(ValueError, match="reward_scheme"):
        gym.make("AZR-Deduction-v0", reward_scheme="dense")
    with pytest.raises(ValueError, match="abduction task"):
        gym.make("AZR-Deduction-v0", tasks=[Task.create("abduction", "def f():\n    return 1", "", "1")])
    with pytest.raises(TypeError, match="tasks must be"):
        gym.make("AZR-Deduction-v0", tasks=42)
    env = gym.make("AZR-Deduction-v0", tasks=[])
    with pytest.raises(ValueError, match="no deduction tasks"):
        env.reset()


# ----------------------------------------------------------------------------- seeding
def test_same_seed_same_task_and_task_id_selection(crux_i, executor) -> None:
    env = gym.make("AZR-Abduction-v0", tasks=crux_i, executor=executor)
    first = [env.reset(seed=s)[1]["task_id"] for s in range(20)]
    again = [env.reset(seed=s)[1]["task_id"] for s in range(20)]
    assert first == again and len(set(first)) > 10
    env.reset(seed=7)
    seq = [env.reset()[1]["task_id"] for _ in range(5)]
    env.reset(seed=7)
    assert [env.reset()[1]["task_id"] for _ in range(5)] == seq
    assert env.reset(options={"task_id": "sample_42"})[1]["task_id"] == "sample_42"
    with pytest.raises(KeyError):
        env.reset(options={"task_id": "no-such-task"})


# ----------------------------------------------------------------------------- garbage
def test_garbage_actions_never_raise_or_hang(crux_i, executor) -> None:
    env = gym.make("AZR-Abduction-v0", tasks=crux_i, executor=executor)
    rng = np.random.default_rng(0)
    text_noise = [env.action_space.sample() for _ in range(20)]
    garbage = text_noise + [
        "x" * 1_000_000,
        "</think><answer>" * 50_000,
        "</think> <answer>```input\n" + "(" * 100_000 + "\n```</answer>",
        answer("abduction", "__import__('os').system('echo pwned')"),
        answer("abduction", "0) or ('forged'"),
        answer("abduction", "[" * 5000),
        "<think><answer></think></answer><answer>",
        "".join(chr(int(c)) for c in rng.integers(1, 0x10FFFF, 2000) if not 0xD800 <= c < 0xE000),
        None, b"bytes", 12, ["list"],
    ]
    for action in garbage:
        env.reset(seed=1)
        start = time.monotonic()
        _, reward, terminated, _, info = env.step(action)
        assert terminated and reward in (-1.0, -0.5), (str(action)[:80], info)
        assert time.monotonic() - start < 30


def test_deduction_garbage_literals_are_not_literals() -> None:
    task = Task.create("deduction", "def f():\n    return 1", "", "1", id="one")
    env = gym.make("AZR-Deduction-v0", tasks=[task])
    for text in ("__import__('os').system('id')", "[" * 10_000 + "]" * 10_000, "1" * 5000,
                 "{[]: 1}", "lambda: 1", "(lambda: 1)()", "...", "1 if True else 2", "x"):
        env.reset()
        _, reward, _, _, info = env.step(answer("deduction", text))
        assert reward == -0.5 and not info["correct"], text


def test_step_before_reset_is_a_clear_error() -> None:
    env = gym.make("AZR-Deduction-v0").unwrapped
    with pytest.raises(gym.error.ResetNeeded):
        env.step(answer("deduction", "1"))


# ----------------------------------------------------------------------------- vector
def test_vector_env_matches_single_env_and_resets_in_the_same_step(crux_i, executor) -> None:
    n = 16
    vec = gym.make_vec("AZR-Abduction-v0", num_envs=n, vectorization_mode="vector_entry_point",
                       tasks=crux_i, executor=executor)
    obs, infos = vec.reset(seed=11)
    assert isinstance(obs, tuple) and len(obs) == n and vec.observation_space.contains(obs)
    ids = list(infos["task_id"])
    actions = [answer("abduction", crux_i.get(i).args if k % 2 else "0") for k, i in enumerate(ids)]
    next_obs, rewards, terminated, truncated, infos = vec.step(actions)
    single = gym.make("AZR-Abduction-v0", tasks=crux_i, executor=executor)
    expected = []
    for task_id, action in zip(ids, actions, strict=True):
        single.reset(options={"task_id": task_id})
        expected.append(single.step(action)[1])
    assert rewards.tolist() == expected
    assert terminated.all() and not truncated.any()
    assert list(infos["final_obs"]) == list(obs)  # the prompts just answered
    assert list(infos["final_info"]["task_id"]) == ids
    assert len(next_obs) == n and vec.metadata["autoreset_mode"] == gym.vector.AutoresetMode.SAME_STEP


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_sync_and_async_vectorisation_work(mode: str, crux_o) -> None:
    kwargs = {"vector_kwargs": {"shared_memory": False}} if mode == "async" else {}
    vec = gym.make_vec("AZR-Deduction-v0", num_envs=3, vectorization_mode=mode, tasks=crux_o, **kwargs)
    try:
        obs, infos = vec.reset(seed=0)
        tasks = [crux_o.get(i) for i in infos["task_id"]]
        _, rewards, terminated, _, _ = vec.step([answer("deduction", t.output) for t in tasks])
        assert rewards.tolist() == [1.0, 1.0, 1.0] and terminated.all()
    finally:
        vec.close()


# ----------------------------------------------------------------------------- task sets
def test_taskset_round_trip_and_tamper_detection(tmp_path, crux_o) -> None:
    path = crux_o.save(tmp_path / "crux.jsonl")
    loaded = TaskSet.load(path)
    assert loaded.ids == crux_o.ids and loaded.name == "cruxeval-o" and loaded[5] == crux_o[5]
    text = path.read_text()
    path.write_text(text.replace("sample_7\"", "sample_7x\"", 1))
    with pytest.raises(ValueError, match="sha256"):
        TaskSet.load(path)
    lines = text.splitlines(keepends=True)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(lines[0] + lines[1][:50] + "\n")
    with pytest.raises(ValueError):
        TaskSet.load(bad)


def test_task_ids_are_derived_from_content() -> None:
    a = Task.create("deduction", "def f():\n    return 1", "", "1")
    b = Task.create("deduction", "def f():\n    return 1", "", "1")
    c = Task.create("deduction", "def f():\n    return 2", "", "2")
    assert a.id == b.id != c.id and a.metadata.content_hash
    with pytest.raises(ValueError, match="content hash"):
        Task.model_validate({**a.model_dump(), "output": "3"})


@pytest.mark.parametrize("env_id", SOLVER_IDS)
def test_an_env_on_the_shared_executor_pickles_after_a_step(env_id: str) -> None:
    import pickle

    env = gym.make(env_id)  # executor=None: the process-wide one
    env.reset(seed=0)
    env.step("no answer here")
    copy = pickle.loads(pickle.dumps(env))
    prompt, _ = copy.reset(seed=0)
    assert prompt == env.reset(seed=0)[0]
    _, reward, *_ = copy.step(answer(copy.unwrapped.mode, gold(copy.unwrapped.task)))
    assert reward == 1.0


def test_a_dict_of_tasks_is_refused_with_a_clear_error() -> None:
    with pytest.raises(TypeError, match="not a dict"):
        gym.make("AZR-Deduction-v0", tasks={"a": 1})
