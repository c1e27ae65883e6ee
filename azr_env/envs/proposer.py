"""What the three proposer envs share: references, parsing, validation, learnability.

A proposal goes through four phases, each batched over every proposal of a step so that the
vector env makes one executor call and one solver call per phase (:func:`evaluate`):

1. parse: the ```` ```python ```` and ```` ```input ```` blocks (induction: N ```` ```input ````
   blocks and a ```` ```message ```` block), banned imports, the entry point ``f``;
2. validate: :meth:`Executor.validate_batch` (syntax, policy, timeout, determinism,
   canonical output); for induction every input must run on the buffer's program;
3. solve: the new task's solver prompt, built exactly as the solver env builds it, goes
   ``n_samples`` times to ``solver(prompts) -> answers``; answers are scored by the same
   verifier as the solver envs;
4. reward: ``1 - solve_rate`` strictly between 0 and 1, else ``extreme_reward`` (paper: 0;
   AZR's code: -0.5); -1 for an invalid or badly formatted proposal; plus the optional
   intrinsic terms.  Valid proposals join the buffer (all, or only learnable ones).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium.error import ResetNeeded
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from azr_env.envs.prompts import BANNED_IMPORTS, PROMPT_FORMATS, chat_messages, proposer_prompt, solver_prompt
from azr_env.envs.solver import MAX_TEXT, UnicodeText, default_executor
from azr_env.envs.vector import reset_envs, same_step_infos
from azr_env.executor import BaseExecutor, NotALiteral, Program, parse_args
from azr_env.executor.values import parse_ast
from azr_env.scoring.learnability import learnability, solve_rates
from azr_env.scoring.parsing import FORMAT_RULES, answer_region, code_blocks
from azr_env.scoring.proposer_rewards import IntrinsicRewardConfig, intrinsic_rewards, type_signature
from azr_env.scoring.verify import Verifier, gold_value
from azr_env.tasks.buffer import TaskBuffer
from azr_env.tasks.task import IOPair, Mode, Task

Solver = Callable[[list[str]], list[str]]
ADD_POLICIES = ("all", "learnable", "none")


@dataclass
class _Outcome:
    """One proposal's way through the phases."""

    env: ProposerEnv
    program: str | None = None
    inputs: tuple[str, ...] = ()
    message: str = ""
    reason: str | None = None
    format_ok: bool = True
    task: Task | None = None
    output_type: str | None = None
    scores: list[float] = field(default_factory=list)


class ProposerEnv(gym.Env[str, str]):
    """Base of the three proposer envs; see their docstrings for the contract."""

    mode: ClassVar[Mode]
    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(
        self,
        buffer: TaskBuffer | None = None,
        solver: Solver | None = None,
        n_samples: int = 8,
        k_references: int = 6,
        executor: BaseExecutor | None = None,
        extreme_reward: float = 0.0,
        add_to_buffer: str = "all",
        n_inputs: int = 10,
        n_visible: int | None = None,
        reference_strategy: str = "uniform",
        banned_imports: Sequence[str] = BANNED_IMPORTS,
        intrinsic: IntrinsicRewardConfig | dict | None = None,
        prompt_format: str = "r1",
        format_rule: str = "strict",
        solver_format_rule: str = "strict",
        render_mode: str | None = None,
    ) -> None:
        if buffer is None:
            buffer = TaskBuffer(self.mode)
        if not isinstance(buffer, TaskBuffer):
            raise TypeError(f"buffer must be a TaskBuffer, not {type(buffer).__name__}")
        if buffer.mode != self.mode:
            raise ValueError(f"a {buffer.mode} buffer cannot feed the {self.mode} proposer")
        if solver is not None and not callable(solver):
            raise TypeError("solver must be a callable solve(prompts: list[str]) -> list[str]")
        for name, value, low in (("n_samples", n_samples, 1), ("k_references", k_references, 1),
                                 ("n_inputs", n_inputs, 2)):
            if not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        if n_visible is not None and not (isinstance(n_visible, int) and 1 <= n_visible < n_inputs):
            raise ValueError(f"n_visible must be between 1 and n_inputs - 1, got {n_visible!r}")
        if add_to_buffer not in ADD_POLICIES:
            raise ValueError(f"add_to_buffer must be one of {ADD_POLICIES}, got {add_to_buffer!r}")
        if reference_strategy not in ("uniform", "recent"):
            raise ValueError(f"reference_strategy must be 'uniform' or 'recent', got {reference_strategy!r}")
        if prompt_format not in PROMPT_FORMATS:
            raise ValueError(f"prompt_format must be one of {PROMPT_FORMATS}, got {prompt_format!r}")
        if format_rule not in FORMAT_RULES or solver_format_rule not in FORMAT_RULES:
            raise ValueError(f"format rules must be one of {FORMAT_RULES}")
        if executor is not None and not isinstance(executor, BaseExecutor):
            raise TypeError("executor must be an azr_env.executor Executor or RayExecutor, "
                            f"not {type(executor).__name__}")
        self.buffer = buffer
        self.solver = solver
        self.n_samples = n_samples
        self.k_references = k_references
        self._executor = executor
        self.extreme_reward = float(extreme_reward)
        self.add_to_buffer = add_to_buffer
        self.n_inputs = n_inputs
        self.n_visible = n_inputs // 2 if n_visible is None else n_visible
        self.reference_strategy = reference_strategy
        self.banned_imports = frozenset(banned_imports)
        self.intrinsic = IntrinsicRewardConfig.model_validate(intrinsic or {})
        self.prompt_format = prompt_format
        self.format_rule = format_rule
        self.solver_format_rule = solver_format_rule
        self.render_mode = render_mode
        self.observation_space = UnicodeText(MAX_TEXT * 2)
        self.action_space = UnicodeText(MAX_TEXT)
        self.references: list[Task] = []
        self.creation_step: int | None = None
        self._prompt = ""
        self._done = True

    # ------------------------------------------------------------------ Gymnasium API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict]:
        super().reset(seed=seed)
        options = options or {}
        k = 1 if self.mode == "induction" else self.k_references
        self.references = self.buffer.sample(k, self.np_random, self.reference_strategy)  # type: ignore[arg-type]
        if not self.references:
            raise ValueError(f"the {self.mode} buffer is empty: nothing to show the proposer")
        self.creation_step = options.get("step")
        self._prompt = proposer_prompt(self.mode, self.references, self.prompt_format,  # type: ignore[arg-type]
                                       tuple(sorted(self.banned_imports)), self.n_inputs)
        self._done = False
        return self._prompt, self._reset_info()

    def step(self, action: str) -> tuple[str, float, bool, bool, dict]:
        reward, info = evaluate([self], [action])[0]
        return self._prompt, reward, True, False, info

    def render(self) -> str | None:
        return self._prompt if self.render_mode == "ansi" else None

    # ------------------------------------------------------------------ pieces
    def executor(self) -> BaseExecutor:
        # The shared default is looked up, never stored: the env stays picklable.
        return self._executor or default_executor()

    def _reset_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"mode": self.mode, "reference_ids": [t.id for t in self.references]}
        if self.prompt_format == "chat":
            info["messages"] = chat_messages(self._prompt)
        return info

    def parse(self, action: Any) -> _Outcome:
        """Phase 1: read the proposal out of the completion."""
        if self._done:
            raise ResetNeeded("call reset() before step(); each episode is a single step")
        self._done = True
        out = _Outcome(env=self)
        if not isinstance(action, str):
            return _invalid(out, f"the action must be a str, got {type(action).__name__}", format_error=True)
        if len(action) > self.action_space.max_length:
            limit = self.action_space.max_length
            return _invalid(out, f"the action is longer than the action space's {limit} characters",
                            format_error=True)
        region = answer_region(action, self.format_rule)  # type: ignore[arg-type]
        if not region.format_ok or region.answer is None:
            return _invalid(out, region.reason or "bad format", format_error=True)
        text = region.answer
        if self.mode == "induction":
            inputs = code_blocks(text, "input")
            if len(inputs) < self.n_inputs:
                reason = f"{len(inputs)} ```input blocks, {self.n_inputs} needed"
                return _invalid(out, reason, format_error=True)
            message = _message(text)
            if not message:
                return _invalid(out, "no ```message block", format_error=True)
            program = self.references[0].program
            if _reveals(message, program):
                return _invalid(out, "the message reveals the code")
            out.program, out.inputs, out.message = program, tuple(inputs[-self.n_inputs :]), message
            return out
        programs = code_blocks(text, "python") or code_blocks(text, "")
        if not programs:
            return _invalid(out, "no ```python block", format_error=True)
        inputs = code_blocks(text, "input")
        if not inputs:
            line = re.search(r"^[ \t]*#[ \t]*Input[ \t]*:[ \t]*(.+)$", text, re.M | re.I)
            if line is None:
                return _invalid(out, "no ```input block", format_error=True)
            inputs = [line.group(1)]
        program, problem = _entry_point_f(programs[0])
        if problem:
            return _invalid(out, problem)
        banned = _banned_import(program, self.banned_imports)
        if banned:
            return _invalid(out, f"banned import '{banned}'")
        out.program, out.inputs = program, (inputs[0],)
        return out

    def make_task(self, out: _Outcome, outputs: list[str]) -> Task:
        """Phase 2's product: the validated task."""
        if self.mode == "induction":
            pairs = [IOPair(args=a, output=o) for a, o in zip(out.inputs, outputs, strict=True)]
            return Task.create("induction", out.program or "", visible=pairs[: self.n_visible],
                               hidden=pairs[self.n_visible :], message=out.message, source="selfplay",
                               step=self.creation_step)
        return Task.create(self.mode, out.program or "", out.inputs[0], outputs[0], source="selfplay",
                           step=self.creation_step)


def _invalid(out: _Outcome, reason: str, format_error: bool = False) -> _Outcome:
    out.reason = reason
    out.format_ok = not format_error
    return out


def _message(text: str) -> str:
    blocks = code_blocks(text, "message")
    if blocks:
        return blocks[-1].strip()
    tag = re.search(r"<message>(.*?)</message>", text[-20_000:], re.S)
    if tag:
        return tag.group(1).strip()
    line = re.search(r"^[ \t]*#[ \t]*Message[ \t]*:[ \t]*(.+)$", text, re.M | re.I)
    return line.group(1).strip() if line else ""


def _reveals(message: str, program: str) -> bool:
    """A message that contains the program (or any of its non-trivial lines) gives it away."""
    lines = [ln.strip() for ln in program.splitlines() if len(ln.strip()) > 12]
    return "def f(" in message or any(ln in message for ln in lines)


def _entry_point_f(program: str) -> tuple[str, str | None]:
    """AZR renames the first function to ``f`` when there is no ``f``: so do we (by token)."""
    try:
        tree = parse_ast(program)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return program, f"the program does not parse: {type(exc).__name__}"
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if any(d.name == "f" for d in defs):
        return program, None
    if not defs:
        return program, "the program defines no function"
    old = defs[0].name
    try:
        tokens = [tok._replace(string="f") if tok.type == tokenize.NAME and tok.string == old else tok
                  for tok in tokenize.generate_tokens(io.StringIO(program).readline)]
        return tokenize.untokenize(tokens), None
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return program, "the program could not be tokenised"


def _non_literal_input(inputs: Sequence[str]) -> str | None:
    """Task inputs are data: each must be an argument list of literals, like the answers
    that abduction solvers must give (so every abduction task has a literal answer)."""
    for text in inputs:
        try:
            parse_args(text)
        except NotALiteral as exc:
            return f"an input is not literal data ({exc}): {text[:100]!r}"
    return None


def _banned_import(program: str, banned: frozenset[str]) -> str | None:
    """The first banned module the program imports, or reaches through a module it imports
    (``statistics.random``): any path component counts."""
    try:
        tree = parse_ast(program)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # the executor reports the syntax error
    modules: set[str] = set()  # names the imports bind to modules
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
            modules.update((a.asname or a.name).partition(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            modules.update(a.asname or a.name for a in node.names)
        for name in names:
            if any(part in banned for part in name.split(".")):
                return name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in banned:
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in modules:
                return f"{root.id}...{node.attr}"
    return None


# ---------------------------------------------------------------------------------------
# The batched phases
# ---------------------------------------------------------------------------------------
def evaluate(envs: Sequence[ProposerEnv], actions: Sequence[Any]) -> list[tuple[float, dict[str, Any]]]:
    """Score one proposal per env; one validation batch and one solver call for all."""
    outcomes = [env.parse(action) for env, action in zip(envs, actions, strict=True)]
    _validate(outcomes)
    _solve(outcomes)
    return [_finish(out) for out in outcomes]


def _validate(outcomes: list[_Outcome]) -> None:
    todo = []
    for out in outcomes:
        if out.reason is not None:
            continue
        problem = _non_literal_input(out.inputs)
        if problem:
            _invalid(out, problem)
        else:
            todo.append(out)
    if not todo:
        return
    programs = [Program(out.program or "", out.inputs) for out in todo]
    for out, mine in zip(todo, todo[0].env.executor().validate_programs(programs), strict=True):
        bad = next((r for r in mine if not r.ok), None)
        if bad is not None:
            which = "an input" if len(mine) > 1 else "the program"
            _invalid(out, f"{which} failed validation: {bad.status}: {bad.error}")
            continue
        out.task = out.env.make_task(out, [r.output for r in mine])
        try:
            out.output_type = type_signature(mine[0].value)
        except ValueError:  # an output this process cannot read back (an int past its digit limit)
            out.output_type = None


def _solve(outcomes: list[_Outcome]) -> None:
    asking = [out for out in outcomes if out.task is not None and out.env.solver is not None]
    if not asking:
        return
    env = asking[0].env
    n = env.n_samples
    prompts = [solver_prompt(out.task, env.prompt_format) for out in asking for _ in range(n)]  # type: ignore[arg-type]
    try:
        answers = env.solver(list(prompts))  # type: ignore[misc]
    except Exception as exc:
        raise RuntimeError(f"the solver raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(answers, (list, tuple)) or len(answers) != len(prompts):
        got = len(answers) if isinstance(answers, (list, tuple)) else type(answers).__name__
        raise ValueError(f"the solver must return one answer per prompt: {len(prompts)} prompts, got {got}")
    grouped = [list(answers[i * n : (i + 1) * n]) for i in range(len(asking))]
    verifier = Verifier(env.executor())
    scores = solve_rates([out.task for out in asking], grouped, verifier, env.solver_format_rule)  # type: ignore[misc]
    for out, task_scores in zip(asking, scores, strict=True):
        out.scores = task_scores


def _finish(out: _Outcome) -> tuple[float, dict[str, Any]]:
    env = out.env
    info: dict[str, Any] = env._reset_info()
    info.update(valid=out.task is not None, reason=out.reason, format_ok=out.format_ok, task=out.task,
                solver_prompt=None, accuracies=[], solve_rate=None, learnability=None, added=False)
    if out.task is None:
        info["reward_terms"] = {"invalid": -1.0}
        return -1.0, info
    task = out.task
    info["solver_prompt"] = solver_prompt(task, env.prompt_format)  # type: ignore[arg-type]
    references = [(ref.program, _output_type(ref)) for ref in env.references]
    extra = intrinsic_rewards(task.program, out.output_type, references, env.intrinsic)
    terms: dict[str, float] = {}
    learnable = True
    if env.solver is not None:
        rate = float(np.mean(out.scores)) if out.scores else 0.0
        terms["learnability"] = learnability(rate, env.extreme_reward)
        learnable = 0.0 < rate < 1.0
        info.update(accuracies=out.scores, solve_rate=rate, learnability=terms["learnability"])
    if env.intrinsic.enabled:
        terms["intrinsic"] = extra["total"]
        info["intrinsic"] = extra
    if env.add_to_buffer == "all" or (env.add_to_buffer == "learnable" and learnable):
        info["added"] = env.buffer.add(task)
    info["reward_terms"] = terms
    return float(sum(terms.values())), info


def _output_type(task: Task) -> str | None:
    if task.mode == "induction" or not task.output:
        return None
    value = gold_value(task.output)
    return type_signature(value)


# ---------------------------------------------------------------------------------------
# The vector env
# ---------------------------------------------------------------------------------------
class ProposerVectorEnv(VectorEnv):
    """N proposer sub-envs sharing one buffer, executor and solver.

    Each step validates all N proposals in one ``validate_batch``, asks the solver once for
    all of their samples, and verifies those answers in one batch.  Sub-envs reset in the
    same step (``AutoresetMode.SAME_STEP``), as in :class:`~azr_env.envs.SolverVectorEnv`.
    """

    env_class: type[ProposerEnv]
    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(self, num_envs: int = 1, buffer: TaskBuffer | None = None,
                 executor: BaseExecutor | None = None, **kwargs: Any) -> None:
        if not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
        kwargs.pop("max_episode_steps", None)
        first = self.env_class(buffer=buffer, executor=executor, **kwargs)
        self.envs = [first] + [self.env_class(buffer=first.buffer, executor=executor, **kwargs)
                               for _ in range(num_envs - 1)]
        self.buffer = first.buffer
        self.num_envs = num_envs
        self.single_observation_space = first.observation_space
        self.single_action_space = first.action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.render_mode = None

    def reset(self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None):
        return reset_envs(self.envs, seed, options)

    def step(self, actions: Any):
        actions = list(actions)
        if len(actions) != self.num_envs:
            raise ValueError(f"got {len(actions)} actions for {self.num_envs} envs")
        answered = [env._prompt for env in self.envs]
        scored = evaluate(self.envs, actions)
        observations, infos = [], []
        for env in self.envs:
            obs, info = env.reset()
            observations.append(obs)
            infos.append(info)
        batched = same_step_infos(infos, answered, [info for _, info in scored])
        rewards = np.array([reward for reward, _ in scored], dtype=np.float64)
        return (tuple(observations), rewards, np.ones(self.num_envs, dtype=np.bool_),
                np.zeros(self.num_envs, dtype=np.bool_), batched)
