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

from ..executor import Executor
from .abduction import AbductionEnv
from .deduction import DeductionEnv
from .induction import InductionEnv
from .solver import SolverEnv


class SolverVectorEnv(VectorEnv):
    """N copies of one solver env sharing tasks and executor; one verification per step."""

    env_class: type[SolverEnv] = DeductionEnv
    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(self, num_envs: int = 1, executor: Executor | None = None, **kwargs: Any) -> None:
        if not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
        kwargs.pop("max_episode_steps", None)  # every episode is one step
        self.envs = [self.env_class(executor=executor, **kwargs) for _ in range(num_envs)]
        if num_envs > 1 and self.envs[0].mode != "deduction":
            shared = self.envs[0].verifier()._executor  # start the shared executor once
            for env in self.envs:
                env._executor = shared
        self.num_envs = num_envs
        self.single_observation_space = self.envs[0].observation_space
        self.single_action_space = self.envs[0].action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.render_mode = None

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[tuple[str, ...], dict[str, Any]]:
        if seed is None or isinstance(seed, int):
            seeds = [None if seed is None else seed + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"got {len(seeds)} seeds for {self.num_envs} envs")
        observations, infos = [], {}
        for i, (env, env_seed) in enumerate(zip(self.envs, seeds, strict=True)):
            obs, info = env.reset(seed=env_seed, options=options)
            observations.append(obs)
            infos = self._add_info(infos, info, i)
        return tuple(observations), infos

    def step(self, actions: Any) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray, dict]:
        actions = list(actions)
        if len(actions) != self.num_envs:
            raise ValueError(f"got {len(actions)} actions for {self.num_envs} envs")
        parsed = [env.read_action(action) for env, action in zip(self.envs, actions, strict=True)]
        to_check = [i for i, p in enumerate(parsed) if p.format_ok]
        verdicts: list[Any] = [None] * self.num_envs
        if to_check:
            found = self.envs[0].verifier().verify_batch(
                [self.envs[i].task for i in to_check], [parsed[i].answer for i in to_check]
            )
            for i, verdict in zip(to_check, found, strict=True):
                verdicts[i] = verdict
        observations = []
        rewards = np.zeros(self.num_envs, dtype=np.float64)
        infos: dict[str, Any] = {}
        for i, env in enumerate(self.envs):
            final_obs, reward, _, _, info = env.finish(parsed[i], verdicts[i])
            obs, reset_info = env.reset()
            reset_info.update(final_obs=final_obs, final_info=info)
            observations.append(obs)
            rewards[i] = reward
            infos = self._add_info(infos, reset_info, i)
        terminations = np.ones(self.num_envs, dtype=np.bool_)
        truncations = np.zeros(self.num_envs, dtype=np.bool_)
        return tuple(observations), rewards, terminations, truncations, infos

    def close_extras(self, **kwargs: Any) -> None:
        for env in self.envs:
            env.close()


class DeductionVectorEnv(SolverVectorEnv):
    env_class = DeductionEnv


class AbductionVectorEnv(SolverVectorEnv):
    env_class = AbductionEnv


class InductionVectorEnv(SolverVectorEnv):
    env_class = InductionEnv
