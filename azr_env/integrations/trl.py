"""TRL: reward functions for ``GRPOTrainer`` (and any trainer with TRL's reward contract).

>>> from azr_env.integrations.trl import reward_function
>>> reward = reward_function(format_rule="fenced")
>>> reward.__name__
'azr_reward'

The dataset is :func:`azr_env.export.to_hf_dataset` of a task set (any mix of modes); TRL
passes its columns to the function, which reads each row's task from the ``task`` column.
A call scores its whole batch through one executor batch.  With TRL's ``log_metric`` the
per-status counts of each batch are logged as ``azr/correct``, ``azr/wrong``,
``azr/format_error``, ``azr/timeout`` and ``azr/other``.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from azr_env.executor import BaseExecutor
from azr_env.export import task_from_json
from azr_env.scoring.rewards import Scored, check_options, score_completions
from azr_env.tasks.task import Task

LOGGED_STATUSES = ("correct", "wrong", "format_error", "timeout", "other")
_CACHED_TASKS = 4096  # a dataset row comes back num_generations times a step: parse it once


def completion_text(completion: Any) -> Any:
    """The text of a plain completion (a str) or of a conversational one (the last message's
    content, a list of messages); anything else is returned as is, and scores as a format error."""
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict):
        content = completion[-1].get("content")
        if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
            return "".join(p.get("text", "") for p in content if isinstance(p, dict))
        return content
    return completion


def status_counts(results: Sequence[Scored]) -> dict[str, int]:
    """How many results fall under each of :data:`LOGGED_STATUSES`."""
    named = {"ok": "correct", "wrong": "wrong", "format_error": "format_error", "timeout": "timeout"}
    counts = Counter(named.get(r.status, "other") for r in results)
    return {name: counts.get(name, 0) for name in LOGGED_STATUSES}


def reward_function(
    format_rule: str = "strict",
    reward_scheme: str = "azr",
    executor: BaseExecutor | None = None,
    induction_score: str = "all",
) -> Callable[..., list[float]]:
    """One TRL reward function that scores solver completions of any mode.

    ``format_rule``, ``reward_scheme`` and ``induction_score`` mean what they mean for the
    envs; ``executor=None`` uses the process-wide default executor.
    """
    check_options(format_rule, reward_scheme, induction_score)
    tasks: OrderedDict[str, Task] = OrderedDict()

    def task_of(text: Any) -> Task:
        if isinstance(text, str) and text in tasks:
            tasks.move_to_end(text)
            return tasks[text]
        task = task_from_json(text)
        if isinstance(text, str):
            tasks[text] = task
            if len(tasks) > _CACHED_TASKS:
                tasks.popitem(last=False)
        return task

    def azr_reward(prompts: list[Any], completions: list[Any], task: list[str] | None = None,
                   log_metric: Callable[[str, float], None] | None = None, **_: Any) -> list[float]:
        if task is None:
            raise ValueError("azr_reward reads each row's task from a 'task' column: build the dataset "
                             "with azr_env.export.to_hf_dataset (or task_records)")
        results = score_completions(
            [task_of(t) for t in task], [completion_text(c) for c in completions],
            format_rule=format_rule, reward_scheme=reward_scheme, induction_score=induction_score,
            executor=executor)
        if log_metric is not None:
            for name, count in status_counts(results).items():
                log_metric(f"azr/{name}", float(count))
        return [r.reward for r in results]

    azr_reward.__name__ = azr_reward.__qualname__ = "azr_reward"
    return azr_reward
