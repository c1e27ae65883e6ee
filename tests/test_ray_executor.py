"""The Ray backend on a real local Ray cluster: a head and a second node (two raylets on this
machine), no mocks.  It must give the local executor's results (CRUXEval, the adversarial
suite), lose no job when an actor dies, report a job it cannot run, and let a timeout on one
node stall nobody else; the envs, `azr bench --ray` and `azr train --ray` use it as they use
the local one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import gymnasium as gym
import pytest

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # the cluster's processes inherit it: no reporting home
ray = pytest.importorskip("ray")

from azr_env.executor import Executor, Program, RayExecutor, Status  # noqa: E402
from azr_env.scoring.gold import gold_job, verify_gold  # noqa: E402
from azr_env.tasks.cruxeval import load_cruxeval  # noqa: E402
from tests import test_adversarial as adv  # noqa: E402
from tests.conftest import data_file  # noqa: E402

# One xdist worker runs the whole module: one cluster, started once.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ray")]

TIMEOUT_S = 2.0
SLOW = "def f(x):\n    s = 0\n    for i in range(3_000_000):\n        s += i\n    return x * 2"
LOOP = "def f(x):\n    while True:\n        pass"
DOUBLE = "def f(x):\n    return x * 2"


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    from ray.cluster_utils import Cluster

    head = {"num_cpus": 1, "include_dashboard": False, "object_store_memory": 80 * 2**20}
    cluster = Cluster(initialize_head=True, head_node_args=head)
    cluster.add_node(num_cpus=1, object_store_memory=80 * 2**20)
    ray.init(address=cluster.address, log_to_driver=False)
    yield cluster
    ray.shutdown()
    cluster.shutdown()


def ray_executor(cluster, **kwargs) -> RayExecutor:
    """One single-worker actor per node, reserving no CPU (so executors can share the nodes)."""
    settings = {"timeout_s": TIMEOUT_S, "memory_mb": 512, "workers_per_actor": 1, "num_cpus_per_actor": 0}
    return RayExecutor(cluster.address, **{**settings, **kwargs})


@pytest.fixture(scope="module")
def ray_ex(cluster) -> Iterator[RayExecutor]:
    with ray_executor(cluster) as ex:
        yield ex


@pytest.fixture(scope="module")
def local_ex() -> Iterator[Executor]:
    with Executor(workers=2, timeout_s=TIMEOUT_S, memory_mb=512) as ex:
        yield ex


@pytest.fixture(scope="module")
def crux_tasks() -> list:
    return list(load_cruxeval(data_file("cruxeval.jsonl"), "abduction"))


def outcome(results: list[list], with_error: bool = True) -> list[list[tuple]]:
    return [[(r.status, r.output, r.error if with_error else None) for r in rs] for rs in results]


def busy_actor(ex: RayExecutor, within_s: float = 60.0):
    """An actor that is running a shard now (polled: the batch runs in another thread)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        busy = [a for a in ex.actors if a.busy]
        if busy:
            return busy[0]
        time.sleep(0.005)
    raise AssertionError("no actor became busy")


def run_in_thread(ex: RayExecutor, programs: list[Program]) -> tuple[threading.Thread, dict]:
    done: dict = {}
    thread = threading.Thread(target=lambda: done.update(results=ex.run_programs(programs)), daemon=True)
    thread.start()
    return thread, done


# ---------------------------------------------------------------------------------------
# The same results as the local executor
# ---------------------------------------------------------------------------------------
def test_one_actor_per_node_with_every_isolation_layer(ray_ex: RayExecutor, local_ex: Executor) -> None:
    assert len({a.node_id for a in ray_ex.actors}) == 2 and ray_ex.workers == 2
    remote, local = ray_ex.isolation, local_ex.isolation
    layers = ("process", "namespaces", "seccomp", "rlimits", "policy")
    assert [getattr(remote, n) for n in layers] == [getattr(local, n) for n in layers]
    assert "on 2 Ray actors" in str(remote)


def test_cruxeval_gives_the_local_results(ray_ex: RayExecutor, local_ex: Executor, crux_tasks: list) -> None:
    programs = [gold_job(task) for task in crux_tasks]
    remote = ray_ex.run_programs(programs)
    assert outcome(remote) == outcome(local_ex.run_programs(programs))
    assert sum(r[0].ok for r in remote) == 800
    report = ray_ex.last_batch
    assert report.programs == 800 and len(report.shards_per_actor) == 2  # both nodes did work
    assert verify_gold(crux_tasks, ray_ex).failures == ()
    first = programs[:120]  # validation: two runs with other seeds and clocks, on one actor
    assert outcome(ray_ex.validate_programs(first)) == outcome(local_ex.validate_programs(first))


def adversarial_programs() -> list[Program]:
    """The adversarial suite's attacks, each as the program it runs (tests/test_adversarial.py)."""
    programs = [Program(adv.prog(source), ("7",)) for source in adv.BYPASSES.values()]
    for poison, probe, _ in adv.POISONS.values():
        programs += [Program(probe, ("",)), Program(poison, ("",)), Program(probe, ("",))]
    programs += [Program(source, ("",)) for source, _ in adv.HUGE_VALUES.values()]
    programs += [Program(source, ("0", "1", "2")) for source in adv.STALLERS.values()]
    return programs


def test_the_adversarial_suite_gives_the_local_results(ray_ex: RayExecutor, local_ex: Executor) -> None:
    programs = adversarial_programs()
    remote = ray_ex.run_programs(programs)  # error texts may hold addresses: status and output compared
    assert outcome(remote, False) == outcome(local_ex.run_programs(programs), False)
    assert not any(rs[0].ok and rs[0].value == 7 for rs in remote[: len(adv.BYPASSES)])


def test_every_node_hashes_and_lays_out_memory_the_same(ray_ex: RayExecutor) -> None:
    """What the gaming test below found: two zygotes (here, on two nodes) hashed strings and
    placed objects differently, so samples of one task split by the node that ran them."""
    probe = "def f():\n    return [hash('azr-sample'), id([]) >> 12, repr(object())]"
    results = ray_ex.run_programs([Program(probe, ("",)) for _ in range(8)])
    assert len(ray_ex.last_batch.shards_per_actor) == 2  # both nodes ran some
    assert len({r[0].output for r in results}) == 1, [r[0].output for r in results]


@pytest.mark.parametrize("name", list(adv.GAMING))
def test_a_proposal_cannot_split_identical_samples_on_ray(ray_ex: RayExecutor, name: str) -> None:
    """The suite's gaming proposals (counters, ids, hashes, clocks, randomness) differ from run
    to run by design, so their outputs are not compared: the suite's own check runs instead."""
    env = gym.make("AZR-Propose-Abduction-v0", executor=ray_ex, solver=adv.gold_solver, n_samples=8,
                   banned_imports=())
    env.reset(seed=0)
    _, reward, _, _, info = env.step(adv.proposal(adv.GAMING[name], "5"))
    assert not info["valid"] or info["solve_rate"] in (0.0, 1.0), (name, info["accuracies"], reward)


def test_forged_records_are_refused_on_every_node(cluster) -> None:
    """The source policy off, the OS layers only, as in the suite's forgery tests."""
    programs = [Program(adv.FORGE + source, ("1", "2")) for source in adv.FORGERIES.values()]
    with pytest.warns(RuntimeWarning, match="DEGRADED"):
        remote_ex = ray_executor(cluster, policy=False)
    with remote_ex, pytest.warns(RuntimeWarning, match="DEGRADED"), \
            Executor(workers=2, timeout_s=TIMEOUT_S, memory_mb=512, policy=False) as local:
        remote = remote_ex.run_programs(programs)
        assert outcome(remote, with_error=False) == outcome(local.run_programs(programs), with_error=False)
    assert all(r.output != "'forged'" for rs in remote for r in rs)
    assert not any(rs[0].ok for rs in remote)


# ---------------------------------------------------------------------------------------
# Faults: every job gets a result, never a hang
# ---------------------------------------------------------------------------------------
def test_an_actor_killed_mid_batch_loses_no_job(ray_ex: RayExecutor) -> None:
    programs = [Program(SLOW, (str(i),)) for i in range(16)]
    thread, done = run_in_thread(ray_ex, programs)
    victim = busy_actor(ray_ex)
    os.kill(victim.pid, signal.SIGKILL)  # as the OOM killer would
    thread.join(timeout=300)
    assert not thread.is_alive(), "the batch hung after its actor died"
    assert [(r[0].status, r[0].value) for r in done["results"]] == [(Status.OK, 2 * i) for i in range(16)]
    report = ray_ex.last_batch
    assert report.actor_deaths == 1 and report.rerun_programs >= 1 and report.lost_programs == 0, report
    # The dead actor was replaced on its node.  The replacement starts while the batch goes on
    # and joins the pool at a later batch once it has said hello (the batch may end first), so
    # run small batches until it has joined or the executor's own start deadline has passed.
    deadline = time.monotonic() + ray_ex.start_timeout_s
    while len(ray_ex.actors) < 2 and time.monotonic() < deadline:
        assert ray_ex.run(DOUBLE, "21").value == 42
    assert victim.pid not in {a.pid for a in ray_ex.actors} and len(ray_ex.actors) == 2
    assert victim.node_id in {a.node_id for a in ray_ex.actors}
    assert ray_ex.run(DOUBLE, "21").value == 42


class Interrupted(Exception):
    pass


def test_an_interrupted_batch_leaves_the_executor_usable(ray_ex: RayExecutor) -> None:
    """Ctrl-C (here a timer's exception) in the middle of a batch: the next batch still runs."""
    def interrupt(signum, frame):
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        with pytest.raises(Exception) as caught:  # raised inside Ray's wait, it may come wrapped
            ray_ex.run_programs([Program(SLOW, (str(i),)) for i in range(16)])
        chain, error = [], caught.value
        while error is not None:
            chain.append(type(error))
            error = error.__cause__ or error.__context__
        assert Interrupted in chain, chain
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert not any(a.busy for a in ray_ex.actors)
    assert [r[0].value for r in ray_ex.run_programs([Program(DOUBLE, (str(i),)) for i in range(6)])] == \
        [0, 2, 4, 6, 8, 10]


def test_a_job_lost_too_often_gets_a_clear_error(cluster) -> None:
    with ray_executor(cluster, max_attempts=1) as ex:
        programs = [Program(SLOW, (str(i),)) for i in range(16)]
        thread, done = run_in_thread(ex, programs)
        os.kill(busy_actor(ex).pid, signal.SIGKILL)
        thread.join(timeout=300)
        assert not thread.is_alive(), "the batch hung after its actor died"
        results = [r[0] for r in done["results"]]
        lost = [r for r in results if not r.ok]
        assert lost and len(lost) == ex.last_batch.lost_programs
        assert all(r.status is Status.ERROR and r.error.startswith("lost: the Ray actor") for r in lost)
        assert all(r.value == 2 * i for i, r in enumerate(results) if r.ok)


def test_a_timeout_on_one_node_does_not_stall_the_other(cluster) -> None:
    """A program that loops holds its actor for the whole limit; the other node takes every
    other shard meanwhile (an actor holds one shard at a time, so none waits behind it)."""
    with ray_executor(cluster, timeout_s=8.0) as ex:
        programs = [Program(LOOP, ("1",))] + [Program(DOUBLE, (str(i),)) for i in range(31)]
        results = ex.run_programs(programs)
        report = ex.last_batch
    assert results[0][0].status is Status.TIMEOUT
    assert [r[0].value for r in results[1:]] == [2 * i for i in range(31)]
    assert sorted(report.shards_per_actor.values()) == [1, report.shards - 1], report


def test_an_address_where_no_cluster_listens_is_one_clear_line(tmp_path) -> None:
    """ray.init retries such an address for minutes; the CLI says so in seconds."""
    done = azr("bench", "seed:abduction", "--solver", "python:builtins:list", "--limit", "1",
               "--out", str(tmp_path / "r"), "--ray", "127.0.0.1:9")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "no Ray cluster answers at 127.0.0.1:9" in done.stderr


def test_a_malformed_reply_from_an_actor_is_not_believed() -> None:
    """The caller rebuilds results only from well-formed replies (the right count, known status
    codes, text within the output limit); anything else fails those programs with an error."""
    from azr_env.executor.base import Result
    from azr_env.executor.ray_executor import _pack, _unpack

    good = [Result(Status.OK, "1", None, 0.1), Result(Status.TIMEOUT, None, "timed out", 2.0)]
    packed = _pack(good)
    assert _unpack(packed, 2, 10) == good
    for bad in (packed[:3], (packed[0], ["1"], packed[2], packed[3]), (b"\x63\x00", *packed[1:]),
                (packed[0], ["x" * 11, None], packed[2], packed[3]), (packed[0], [1, None], *packed[2:]),
                (packed[0], packed[1], packed[2], ["0", 1.0]), "junk", None):
        assert _unpack(bad, 2, 10) is None, bad


def test_bad_arguments_fail_before_anything_starts() -> None:
    for kwargs in ({"timeout_s": -1}, {"memory_mb": 8}, {"jail": "maybe"}, {"max_attempts": 0},
                   {"workers_per_actor": 0}, {"num_cpus_per_actor": -1}):
        with pytest.raises(ValueError):
            RayExecutor(**kwargs)
    with pytest.raises(TypeError, match="cannot be pickled"):
        import pickle

        pickle.dumps(RayExecutor.__new__(RayExecutor))


# ---------------------------------------------------------------------------------------
# The envs, `azr bench` and `azr train` take it
# ---------------------------------------------------------------------------------------
def answers_for(tasks: list) -> list[str]:
    """Gold inputs for even tasks, a wrong one for odd: rewards of both kinds."""
    return [adv.completion("abduction", t.pairs[0].args if i % 2 == 0 else "'no such input'")
            for i, t in enumerate(tasks)]


def test_the_envs_pay_the_same_rewards(ray_ex: RayExecutor, local_ex: Executor, crux_tasks: list) -> None:
    tasks = crux_tasks[:8]
    paid = {}
    for name, ex in (("ray", ray_ex), ("local", local_ex)):
        env = gym.make("AZR-Abduction-v0", tasks=tasks, executor=ex)
        rewards = []
        for task, answer in zip(tasks, answers_for(tasks), strict=True):
            env.reset(seed=0, options={"task_id": task.id})
            rewards.append(env.step(answer)[1])
        vec = gym.make_vec("AZR-Abduction-v0", num_envs=4, vectorization_mode="vector_entry_point",
                           tasks=tasks, executor=ex)
        vec.reset(seed=1)
        vec_rewards = vec.step(answers_for(tasks)[:4])[1].tolist()
        proposer = gym.make("AZR-Propose-Abduction-v0", executor=ex, solver=adv.gold_solver, n_samples=4)
        proposer.reset(seed=0)
        _, reward, _, _, info = proposer.step(adv.proposal("def f(x):\n    return x + 1", "4"))
        paid[name] = (rewards, vec_rewards, reward, info["valid"], info["solve_rate"])
    assert paid["ray"] == paid["local"]
    assert 1.0 in paid["ray"][0] and min(paid["ray"][0]) < 1.0


def azr(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "azr_env.cli", *args], capture_output=True, text=True,
                          timeout=600)


def test_azr_bench_ray_gives_the_local_numbers(cluster, tmp_path, crux_tasks: list) -> None:
    crux = tmp_path / "crux-i.jsonl"
    assert azr("tasks", "convert", "cruxeval", str(data_file("cruxeval.jsonl")), "--mode", "abduction",
               "-o", str(crux)).returncode == 0
    gold = {t.program: t.pairs[0].args for t in crux_tasks}
    (tmp_path / "half_gold.py").write_text(
        f"import json\nGOLD = json.loads({json.dumps(json.dumps(gold))})\n"
        "def solve(prompts):\n"
        "    out = []\n"
        "    for i, p in enumerate(prompts):\n"
        "        args = next((a for code, a in GOLD.items() if code in p), None)\n"
        "        guess = args if i % 3 else '1'\n"
        "        out.append('x</think><answer>```input\\n' + str(guess) + '\\n```</answer>')\n"
        "    return out\n")
    solver = f"python:{tmp_path / 'half_gold.py'}:solve"
    local = azr("bench", str(crux), "--solver", solver, "--out", str(tmp_path / "local"))
    assert local.returncode == 0, local.stderr[-2000:]
    remote = azr("bench", str(crux), "--solver", solver, "--out", str(tmp_path / "ray"),
                 "--ray", cluster.address)
    assert remote.returncode == 0, remote.stderr[-2000:]
    numbers = [json.loads((tmp_path / run / "results.json").read_text()) for run in ("local", "ray")]
    for results in numbers:
        results.pop("date")
    assert numbers[0] == numbers[1]
    assert 0.3 < numbers[0]["modes"]["abduction"]["accuracy"] < 1.0  # right and wrong answers both scored


def test_azr_train_ray_gives_the_local_run(cluster, tmp_path) -> None:
    pytest.importorskip("transformers")
    from azr_agents.train import train

    from tests.test_train import stable, tiny

    local = train(tiny(tmp_path, "local", steps=1))
    remote = train(tiny(tmp_path, "ray", steps=1, ray_address=cluster.address))
    assert [stable(r) for r in remote] == [stable(r) for r in local]


def test_a_node_that_leaves_mid_batch_loses_no_job(cluster) -> None:
    """Last in the module, as it takes the second node away for good: its raylet and every
    worker on it are killed while that node's actor runs a shard."""
    worker = next(iter(cluster.worker_nodes))
    with ray_executor(cluster) as ex:
        thread, done = run_in_thread(ex, [Program(SLOW, (str(i),)) for i in range(16)])
        deadline = time.monotonic() + 60
        while not any(a.busy and a.node_id == worker.node_id for a in ex.actors):
            assert time.monotonic() < deadline, "the second node's actor never got a shard"
            time.sleep(0.005)
        cluster.remove_node(worker, allow_graceful=False)
        thread.join(timeout=300)
        assert not thread.is_alive(), "the batch hung after a node left"
        assert [(r[0].status, r[0].value) for r in done["results"]] == [(Status.OK, 2 * i) for i in range(16)]
        assert ex.last_batch.actor_deaths >= 1 and ex.last_batch.lost_programs == 0, ex.last_batch
        assert worker.node_id not in {a.node_id for a in ex.actors}
        assert ex.run(DOUBLE, "4").value == 8
