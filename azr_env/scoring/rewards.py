"""From completions to rewards: the one rule the envs and every integration share.

A solver completion is read (:func:`read_completion`: its type, its length, then the
answer inside it by the format rule), checked by :class:`~azr_env.scoring.verify.Verifier`
(values as data, programs in the sandbox, a whole batch in one executor call), and paid by
:func:`solver_reward`.  ``env.step``, the vector envs, the TRL and veRL reward functions and
``azr serve`` all go through these three functions, so a forged answer fails the same way
everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from azr_env.executor import BaseExecutor, default_executor
from azr_env.scoring.parsing import FORMAT_RULES, Parsed, extract_answer
from azr_env.scoring.verify import Verdict, Verifier
from azr_env.tasks.task import Task

REWARD_SCHEMES: tuple[str, ...] = ("azr", "binary")
INDUCTION_SCORES: tuple[str, ...] = ("all", "fraction")
MAX_COMPLETION_CHARS = 100_000
"""The longest completion read; a longer one is a format error (the envs' action space)."""


@dataclass(frozen=True)
class Scored:
    """One completion's reward and the finding behind it."""

    reward: float
    status: str
    """``ok`` (correct), ``format_error``, ``wrong``, ``not_a_literal``, or the executor's
    status for the answer's run (``timeout``, ``error``, ``memory`` ...)."""
    correct: bool
    score: float
    format_ok: bool
    answer: str | None
    error: str | None = None
    first_failure: int | None = None
    """Induction: the first hidden input the answer failed (None: none, or not run)."""


def check_options(format_rule: str, reward_scheme: str, induction_score: str = "all") -> None:
    """Raise ValueError naming the allowed values of a bad option."""
    if format_rule not in FORMAT_RULES:
        raise ValueError(f"format_rule must be one of {FORMAT_RULES}, got {format_rule!r}")
    if reward_scheme not in REWARD_SCHEMES:
        raise ValueError(f"reward_scheme must be one of {REWARD_SCHEMES}, got {reward_scheme!r}")
    if induction_score not in INDUCTION_SCORES:
        raise ValueError(f"induction_score must be one of {INDUCTION_SCORES}, got {induction_score!r}")


def read_completion(text: Any, mode: str, format_rule: str,
                    max_chars: int = MAX_COMPLETION_CHARS) -> Parsed:
    """The answer in a completion, or why there is none (never raises on bad input)."""
    if not isinstance(text, str):
        return Parsed(False, None, f"the completion must be a str, got {type(text).__name__}")
    if len(text) > max_chars:
        return Parsed(False, None, f"the completion is longer than {max_chars} characters")
    return extract_answer(text, mode, format_rule)  # type: ignore[arg-type]


def solver_reward(format_ok: bool, verdict: Verdict | None, reward_scheme: str = "azr",
                  induction_score: str = "all") -> float:
    """AZR: 1 correct, -0.5 wrong, -1 bad format.  Binary: 1 / 0.  With
    ``induction_score="fraction"`` a partly right program earns the fraction it passed."""
    if not format_ok or verdict is None:
        return -1.0 if reward_scheme == "azr" else 0.0
    score = verdict.score if induction_score == "fraction" else float(verdict.correct)
    if reward_scheme == "binary":
        return score
    return score if score > 0 else -0.5


def scored(parsed: Parsed, verdict: Verdict | None, reward_scheme: str, induction_score: str) -> Scored:
    """The :class:`Scored` of one read completion and its verdict (None: not checked)."""
    reward = solver_reward(parsed.format_ok, verdict, reward_scheme, induction_score)
    if verdict is None:
        return Scored(reward, "format_error", False, 0.0, False, parsed.answer, parsed.reason)
    return Scored(reward, verdict.status, verdict.correct, verdict.score, True, parsed.answer,
                  verdict.error, verdict.first_failure)


def score_completions(
    tasks: Sequence[Task],
    completions: Sequence[Any],
    *,
    format_rule: str = "strict",
    reward_scheme: str = "azr",
    induction_score: str = "all",
    executor: BaseExecutor | None = None,
) -> list[Scored]:
    """Score solver completions, one per task, in order, verifying them in one batch.

    ``executor=None`` uses the process-wide :func:`~azr_env.executor.default_executor`
    (started only if an abduction or induction answer needs to run).
    """
    check_options(format_rule, reward_scheme, induction_score)
    if len(tasks) != len(completions):
        raise ValueError(f"got {len(completions)} completions for {len(tasks)} tasks")
    parsed = [read_completion(text, task.mode, format_rule)
              for task, text in zip(tasks, completions, strict=True)]
    needs_sandbox = any(p.format_ok and t.mode != "deduction" for t, p in zip(tasks, parsed, strict=True))
    verifier = Verifier(executor or (default_executor() if needs_sandbox else None))
    verdicts = verify_parsed(tasks, parsed, verifier)
    return [scored(p, v, reward_scheme, induction_score) for p, v in zip(parsed, verdicts, strict=True)]


def verify_parsed(
    tasks: Sequence[Task], parsed: Sequence[Parsed], verifier: Verifier
) -> list[Verdict | None]:
    """The verdict on each well-formatted answer, all checked in one batch; None where the
    format failed (nothing runs for those)."""
    to_check = [i for i, p in enumerate(parsed) if p.format_ok]
    verdicts: list[Verdict | None] = [None] * len(parsed)
    if to_check:
        found = verifier.verify_batch([tasks[i] for i in to_check],
                                      [parsed[i].answer for i in to_check])  # type: ignore[misc]
        for i, verdict in zip(to_check, found, strict=True):
            verdicts[i] = verdict
    return verdicts
