"""Batched solver envs: N sub-envs whose actions are verified in one executor call.

``gym.make_vec(id, num_envs=N, vectorization_mode="vector_entry_point")`` builds one of
these.  Every episode is a single step, so sub-envs reset in the same step that ends
them (``AutoresetMode.SAME_STEP``): ``step`` returns the next prompts, and the prompt
just answered is in ``infos["final_obs"]`` with its info in ``infos["final_info"]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from azr_env.envs.abduction import AbductionEnv
from azr_env.envs.deduction import DeductionEnv
from azr_env.envs.induction import InductionEnv
from azr_env.envs.solver import SolverEnv, default_executor
from azr_env.executor import BaseExecutor
from azr_env.scoring.rewards import verify_parsed


def batch_infos(infos: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-env info dicts in Gymnasium's vector layout: ``key`` -> array, ``_key`` -> mask.

    Gives what ``VectorEnv._add_info`` builds one env at a time, in one pass per key.
    """
    n = len(infos)
    keys: dict[str, None] = {}
    for info in infos:
        keys.update(dict.fromkeys(info))
    out: dict[str, Any] = {}
    for key in keys:
        mask = np.array([key in info for info in infos], dtype=np.bool_)
        values = [info.get(key) for info in infos]
        present = [v for v, m in zip(values, mask, strict=True) if m]
        kinds = {type(v) for v in present}
        if len(kinds) == 1 and kinds <= {bool, int, float}:
            kind = kinds.pop()
            array = np.zeros(n, dtype=kind)
            array[mask] = present
        elif present and all(isinstance(v, dict) for v in present):
            array = batch_infos([v if isinstance(v, dict) else {} for v in values])
        else:
            array = np.empty(n, dtype=object)
            for i, value in enumerate(values):  # element-wise: a list value must stay one object
                array[i] = value
        out[key] = array
        out[f"_{key}"] = mask
    return out


def reset_envs(envs: list[Any], seed: int | list[int | None] | None,
               options: dict[str, Any] | None) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Reset every sub-env: an int seed gives sub-env i the seed ``seed + i``, as Gymnasium does."""
    if seed is None or isinstance(seed, int):
        seeds = [None if seed is None else seed + i for i in range(len(envs))]
    else:
        seeds = list(seed)
        if len(seeds) != len(envs):
            raise ValueError(f"got {len(seeds)} seeds for {len(envs)} envs")
    pairs = [env.reset(seed=s, options=options) for env, s in zip(envs, seeds, strict=True)]
    return tuple(p[0] for p in pairs), batch_infos([p[1] for p in pairs])


def same_step_infos(infos: list[dict[str, Any]], final_obs: list[str],
                    final_infos: list[dict[str, Any]]) -> dict[str, Any]:
    """The infos of a SAME_STEP autoreset: the new episodes' infos, plus every finished
    episode's last observation and info under ``final_obs`` / ``final_info``."""
    batched = batch_infos(infos)
    everyone = np.ones(len(infos), dtype=np.bool_)
    batched.update(final_obs=np.array(final_obs, dtype=object), _final_obs=everyone,
                   final_info=batch_infos(final_infos), _final_info=everyone.copy())
    return batched


class SolverVectorEnv(VectorEnv):
    """N copies of one solver env sharing tasks and executor; one verification per step."""

    env_class: type[SolverEnv] = DeductionEnv
    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(self, num_envs: int = 1, executor: BaseExecutor | None = None, **kwargs: Any) -> None:
        if not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
        kwargs.pop("max_episode_steps", None)  # every episode is one step
        self.envs = [self.env_class(executor=executor, **kwargs) for _ in range(num_envs)]
        if executor is None and self.envs[0].mode != "deduction":
            default_executor()  # start the process-wide executor now, not in the first step
        self.num_envs = num_envs
        self.single_observation_space = self.envs[0].observation_space
        self.single_action_space = self.envs[0].action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.render_mode = None

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[tuple[str, ...], dict[str, Any]]:
        return reset_envs(self.envs, seed, options)

    def step(self, actions: Any) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray, dict]:
        actions = list(actions)
        if len(actions) != self.num_envs:
            raise ValueError(f"got {len(actions)} actions for {self.num_envs} envs")
        parsed = [env.read_action(action) for env, action in zip(self.envs, actions, strict=True)]
        tasks = [env.task for env in self.envs]
        verdicts = verify_parsed(tasks, parsed, self.envs[0].verifier())  # type: ignore[arg-type]
        observations, final_obs, final_infos, infos = [], [], [], []
        rewards = np.zeros(self.num_envs, dtype=np.float64)
        for i, env in enumerate(self.envs):
            answered, rewards[i], _, _, final_info = env.finish(parsed[i], verdicts[i])
            obs, info = env.reset()
            observations.append(obs)
            final_obs.append(answered)
            final_infos.append(final_info)
            infos.append(info)
        batched = same_step_infos(infos, final_obs, final_infos)
        terminations = np.ones(self.num_envs, dtype=np.bool_)
        truncations = np.zeros(self.num_envs, dtype=np.bool_)
        return tuple(observations), rewards, terminations, truncations, batched

    def close_extras(self, **kwargs: Any) -> None:
        for env in self.envs:
            env.close()


class DeductionVectorEnv(SolverVectorEnv):
    env_class = DeductionEnv


class AbductionVectorEnv(SolverVectorEnv):
    env_class = AbductionEnv


class InductionVectorEnv(SolverVectorEnv):
    env_class = InductionEnv
