"""The proposer's learnability reward (AZR paper, eq. 4).

A proposed task is worth proposing when the current solver sometimes solves it:
``r = 1 - solve_rate`` when ``0 < solve_rate < 1``, and ``extreme_reward`` (0 in the paper;
AZR's code pays -0.5) when the task is always or never solved.
"""

from __future__ import annotations

from collections.abc import Sequence

from azr_env.scoring.parsing import FormatRule, extract_answer
from azr_env.scoring.verify import Verifier
from azr_env.tasks.task import Task


def learnability(solve_rate: float, extreme_reward: float = 0.0) -> float:
    """``1 - solve_rate`` strictly between 0 and 1, else ``extreme_reward``."""
    if not 0.0 <= solve_rate <= 1.0:
        raise ValueError(f"solve_rate must be in [0, 1], got {solve_rate!r}")
    return 1.0 - solve_rate if 0.0 < solve_rate < 1.0 else extreme_reward


def solve_rates(
    tasks: Sequence[Task],
    answers: Sequence[Sequence[str]],
    verifier: Verifier,
    format_rule: FormatRule = "strict",
) -> list[list[float]]:
    """Per task, 1.0 or 0.0 for each solver answer, scored exactly as the solver envs do.

    All answers of all tasks are verified in one batch.  A badly formatted answer counts
    as unsolved; induction counts as solved only when every hidden pair passes.
    """
    flat_tasks, flat_answers, owners = [], [], []
    scores: list[list[float]] = [[0.0] * len(a) for a in answers]
    for i, (task, task_answers) in enumerate(zip(tasks, answers, strict=True)):
        for j, answer in enumerate(task_answers):
            parsed = extract_answer(answer, task.mode, format_rule)
            if parsed.format_ok and parsed.answer is not None:
                flat_tasks.append(task)
                flat_answers.append(parsed.answer)
                owners.append((i, j))
    for (i, j), verdict in zip(owners, verifier.verify_batch(flat_tasks, flat_answers), strict=True):
        scores[i][j] = 1.0 if verdict.correct else 0.0
    return scores
