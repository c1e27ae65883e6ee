"""veRL: ``compute_score`` for its custom reward-function hook, and a batched form.

Write the data with ``azr tasks export FILE --format verl -o train.parquet`` (or
:func:`azr_env.export.to_verl_parquet`), then point veRL at this module::

    data.train_files=train.parquet
    reward.custom_reward_function.path=pkg://azr_env.integrations.verl
    reward.custom_reward_function.name=compute_score          # per response (naive manager)
    # or name=compute_score_batch with the batch reward manager

``reward.custom_reward_function.reward_kwargs`` may set ``format_rule``, ``reward_scheme``
and ``induction_score``.  Each row's ``reward_model.ground_truth`` is its task as JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from azr_env.export import task_from_json
from azr_env.scoring.rewards import score_completions


def compute_score(data_source: str, solution_str: str, ground_truth: str, extra_info: dict | None = None,
                  format_rule: str = "strict", reward_scheme: str = "azr", induction_score: str = "all",
                  **_: Any) -> float:
    """The reward of one response to the task in ``ground_truth`` (the row's task JSON)."""
    return compute_score_batch([data_source], [solution_str], [ground_truth], [extra_info],
                               format_rule=format_rule, reward_scheme=reward_scheme,
                               induction_score=induction_score)[0]


def compute_score_batch(data_sources: Sequence[str], solution_strs: Sequence[str],
                        ground_truths: Sequence[str],
                        extra_infos: Sequence[dict | None] | None = None, format_rule: str = "strict",
                        reward_scheme: str = "azr", induction_score: str = "all", **_: Any) -> list[float]:
    """Rewards of a batch of responses, verified in one executor batch (veRL's ``batch`` manager)."""
    tasks = [task_from_json(g) for g in ground_truths]
    results = score_completions(tasks, list(solution_strs), format_rule=format_rule,
                                reward_scheme=reward_scheme, induction_score=induction_score)
    return [r.reward for r in results]
