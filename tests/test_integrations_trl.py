"""TRL's own GRPOTrainer trains the embedded model on our reward function, on CPU, and the
rewards it logs are the ones our envs pay for the same completions (slow: about a minute)."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

import azr_env  # noqa: F401  (registers the env ids)
from azr_env.export import task_from_json

pytest.importorskip("trl")
pytest.importorskip("datasets")


def test_grpo_trainer_logs_the_envs_rewards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs the TRL example of docs/integrations.md as written (its output folder moved to
    tmp_path), recording what the reward function was given and paid."""
    import azr_env.integrations.trl as azr_trl
    from tests.test_integrations import docs_blocks

    calls: list[dict[str, Any]] = []
    made = azr_trl.reward_function

    def recording(**options: Any) -> Any:
        score = made(**options)

        def azr_reward(prompts: list, completions: list, **kwargs: Any) -> list[float]:
            rewards = score(prompts, completions, **kwargs)
            calls.append({"completions": list(completions), "task": list(kwargs["task"]), "rewards": rewards,
                          "options": options})
            return rewards

        return azr_reward

    monkeypatch.setattr(azr_trl, "reward_function", recording)
    block = docs_blocks()[0].replace('"runs/trl"', repr(str(tmp_path)))
    scope: dict[str, Any] = {}
    exec(compile(block, "integrations.md", "exec"), scope)
    trainer = scope["trainer"]

    assert len(calls) == 2  # one reward call per training step
    # TRL averages what it logs over each logging window (one window per logged row; a run
    # this short may log both steps in one row): each row's mean is its calls' mean.
    logged = [row for row in trainer.state.log_history if "rewards/azr_reward/mean" in row]
    assert logged and len(calls) % len(logged) == 0
    per_row = len(calls) // len(logged)
    for k, row in enumerate(logged):
        window = calls[k * per_row:(k + 1) * per_row]
        mean = statistics.fmean(statistics.fmean(c["rewards"]) for c in window)
        assert row["rewards/azr_reward/mean"] == pytest.approx(mean, abs=1e-6)
        assert "azr/format_error" in row and "azr/correct" in row
    for call in calls:  # every completion TRL generated is paid what env.step pays
        for text, completion, reward in zip(call["task"], call["completions"], call["rewards"], strict=True):
            task = task_from_json(text)
            env = gym.make(f"AZR-{task.mode.capitalize()}-v0", tasks=[task], **call["options"])
            env.reset(options={"task_id": task.id})
            assert env.step(completion)[1] == reward
