"""What the three solver environments share: task drawing, prompting, parsing, rewards.

Each mode has its own small file (``deduction.py``, ``abduction.py``, ``induction.py``)
with the Gymnasium-style docstring; this module is the machinery behind them.  A step is
split in two (:meth:`SolverEnv.read_action`, :meth:`SolverEnv.finish`) so that the vector
env can verify a whole batch of actions in one executor call.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

import gymnasium as gym
from gymnasium.error import ResetNeeded

from azr_env.envs.prompts import PROMPT_FORMATS, chat_messages, solver_prompt
from azr_env.executor import BaseExecutor, default_executor
from azr_env.scoring.parsing import Parsed
from azr_env.scoring.rewards import (
    MAX_COMPLETION_CHARS,
    check_options,
    read_completion,
    solver_reward,
)
from azr_env.scoring.verify import Verdict, Verifier
from azr_env.tasks.seeds import seed_tasks
from azr_env.tasks.task import Mode, Task, gold_answer
from azr_env.tasks.taskset import TaskSet

MAX_TEXT = MAX_COMPLETION_CHARS


class UnicodeText(gym.spaces.Text):
    """A Text space that contains any Unicode string up to ``max_length`` characters.

    Gymnasium's ``Text`` checks every character against a charset (alphanumerics by
    default), which rejects code.  ``sample()`` still draws from printable ASCII.
    """

    def __init__(self, max_length: int = MAX_TEXT, *, min_length: int = 0, seed: int | None = None) -> None:
        super().__init__(max_length, min_length=min_length, charset=string.printable, seed=seed)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    def __repr__(self) -> str:
        return f"UnicodeText({self.min_length}, {self.max_length})"

    def __eq__(self, other: Any) -> bool:
        return (isinstance(other, UnicodeText) and self.min_length == other.min_length
                and self.max_length == other.max_length)


class TaskSource:
    """Adapts what ``tasks=`` accepts: a TaskSet, a live TaskBuffer, or any iterable of tasks.

    Anything with ``len()`` and indexing is read live (a buffer's new tasks are seen at
    the next reset); other iterables are read once.
    """

    def __init__(self, tasks: Any, mode: Mode) -> None:
        if tasks is None:
            tasks = seed_tasks(mode)
        elif isinstance(tasks, Mapping):  # has len() and [], but [0] is a key lookup
            raise TypeError("tasks must be a TaskSet, a TaskBuffer or an iterable of Task, not a "
                            f"{type(tasks).__name__} (pass list(d.values()) for a dict of tasks)")
        elif not (hasattr(tasks, "__len__") and hasattr(tasks, "__getitem__")):
            if not isinstance(tasks, Iterable):
                raise TypeError(f"tasks must be a TaskSet, a TaskBuffer or an iterable of Task, "
                                f"not {type(tasks).__name__}")
            tasks = TaskSet(tasks, name="tasks")
        if isinstance(tasks, (str, bytes)):
            raise TypeError("tasks must be a TaskSet, a TaskBuffer or an iterable of Task, not a string")
        self.tasks: Sequence[Task] = tasks
        self.mode = mode
        if isinstance(tasks, (TaskSet, list, tuple)):
            for task in tasks:
                self._check(task)

    def __len__(self) -> int:
        return len(self.tasks)

    def _check(self, task: Any) -> Task:
        if not isinstance(task, Task):
            raise TypeError(f"expected a Task, got {type(task).__name__}")
        if task.mode != self.mode:
            raise ValueError(f"task {task.id!r} is a {task.mode} task; this env plays {self.mode}")
        return task

    def draw(self, rng: Any) -> Task:
        n = len(self.tasks)
        if n == 0:
            raise ValueError(f"no {self.mode} tasks to draw from")
        # floor(u * n) rather than rng.integers(n): same determinism, a tenth of the cost.
        return self._check(self.tasks[min(int(rng.random() * n), n - 1)])

    def get(self, task_id: str) -> Task:
        getter = getattr(self.tasks, "get", None)
        if callable(getter):
            return self._check(getter(task_id))
        for task in self.tasks:
            if task.id == task_id:
                return self._check(task)
        raise KeyError(f"no task with id {task_id!r}")


class SolverEnv(gym.Env[str, str]):
    """Base of the three solver envs; see their docstrings for the contract."""

    mode: ClassVar[Mode]
    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(
        self,
        tasks: Any = None,
        executor: BaseExecutor | None = None,
        reward_scheme: str = "azr",
        prompt_format: str = "r1",
        format_rule: str = "strict",
        induction_score: str = "all",
        render_mode: str | None = None,
    ) -> None:
        check_options(format_rule, reward_scheme, induction_score)
        if prompt_format not in PROMPT_FORMATS:
            raise ValueError(f"prompt_format must be one of {PROMPT_FORMATS}, got {prompt_format!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        if executor is not None and not isinstance(executor, BaseExecutor):
            raise TypeError("executor must be an azr_env.executor Executor or RayExecutor, "
                            f"not {type(executor).__name__}")
        self.source = TaskSource(tasks, self.mode)
        self._executor = executor
        self.reward_scheme = reward_scheme
        self.prompt_format = prompt_format
        self.format_rule = format_rule
        self.induction_score = induction_score
        self.render_mode = render_mode
        self.observation_space = UnicodeText(MAX_TEXT)
        self.action_space = UnicodeText(MAX_TEXT)
        self.task: Task | None = None
        self._prompt = ""
        self._done = True
        self._last_info: dict[str, Any] = {}

    # ------------------------------------------------------------------ Gymnasium API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict]:
        super().reset(seed=seed)
        task_id = (options or {}).get("task_id")
        self.task = self.source.get(task_id) if task_id is not None else self.source.draw(self.np_random)
        self._prompt = solver_prompt(self.task, self.prompt_format)  # type: ignore[arg-type]
        self._done = False
        self._last_info = self._reset_info()
        return self._prompt, dict(self._last_info)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict]:
        parsed = self.read_action(action)
        verdict = None
        if parsed.format_ok:
            verdict = self.verifier().verify_batch([self.task], [parsed.answer])[0]  # type: ignore[list-item]
        return self.finish(parsed, verdict)

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        text = self._prompt
        if self._done and self._last_info.get("answer") is not None:
            text += f"\n--- answer ({self._last_info['status']}): {self._last_info['answer']}"
        return text

    # ------------------------------------------------------------------ the two halves of a step
    def verifier(self) -> Verifier:
        if self.mode == "deduction":  # literal comparison: no sandbox needed
            return Verifier(self._executor)
        # The shared default is looked up, never stored: the env stays picklable.
        return Verifier(self._executor or default_executor())

    def read_action(self, action: Any) -> Parsed:
        if self.task is None or self._done:
            raise ResetNeeded("call reset() before step(); each episode is a single step")
        return read_completion(action, self.mode, self.format_rule, self.action_space.max_length)

    def finish(self, parsed: Parsed, verdict: Verdict | None) -> tuple[str, float, bool, bool, dict]:
        task = self.task
        assert task is not None
        self._done = True
        info = self._reset_info()
        info.update(format_ok=parsed.format_ok, answer=parsed.answer, expected=self.expected(task))
        if verdict is None:
            info.update(correct=False, score=0.0, status="format_error", error=parsed.reason)
        else:
            info.update(correct=verdict.correct, score=verdict.score, status=verdict.status,
                        error=verdict.error)
            if self.mode == "induction":  # which hidden input failed first (None: none did)
                info["first_failure"] = -1 if verdict.first_failure is None else verdict.first_failure
        reward = self.reward(parsed.format_ok, verdict)
        self._last_info = info
        return self._prompt, reward, True, False, info

    # ------------------------------------------------------------------ pieces
    def reward(self, format_ok: bool, verdict: Verdict | None) -> float:
        """AZR: 1 correct, -0.5 wrong, -1 bad format.  Binary: 1 / 0 (:func:`solver_reward`)."""
        return solver_reward(format_ok, verdict, self.reward_scheme, self.induction_score)

    def expected(self, task: Task) -> str:
        """The gold answer, shown only after the step."""
        return gold_answer(task)

    def _reset_info(self) -> dict[str, Any]:
        assert self.task is not None
        info: dict[str, Any] = {"task_id": self.task.id, "mode": self.mode}
        if self.prompt_format == "chat":
            info["messages"] = chat_messages(self._prompt)
        return info
