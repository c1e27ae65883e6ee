"""AZR-Abduction-v0: given a program and an output, find an input that produces it."""

from __future__ import annotations

from azr_env.envs.solver import SolverEnv


class AbductionEnv(SolverEnv):
    """
    ## Description
    The abduction task of Absolute Zero Reasoner: the agent reads a Python program ``f``
    and an output, and gives any input with ``f(input) == output``.  One step per episode.

    ## Action Space
    ``UnicodeText(100000)``: the completion.  The answer is the last ```` ```input ````
    block inside the last ``<answer>`` block (AZR's fallbacks apply): the source of an
    argument list, such as ``'abc', [1, 2]``.

    ## Observation Space
    ``UnicodeText(100000)``: the prompt (``prompt_format="r1"`` or ``"chat"``).

    ## Rewards
    ``f(<answer>)`` runs in the sandboxed executor; the answer is correct when its
    canonical value equals the gold output.  ``reward_scheme="azr"``: 1.0 correct, -0.5
    wrong (or the program failed on that input), -1.0 bad format; ``"binary"``: 1 / 0.

    ## Starting State
    ``reset()`` draws a task with ``self.np_random``, or takes ``options={"task_id": ...}``.

    ## Episode End
    Every step terminates; ``truncated`` is always False.

    ## Arguments
    ``gym.make("AZR-Abduction-v0", tasks=None, executor=None, reward_scheme="azr",
    prompt_format="r1", format_rule="strict")``.  ``executor``: an
    ``azr_env.executor.Executor`` or ``RayExecutor``; by default one shared by all envs of
    the process.

    ## Vectorized environment
    ``gym.make_vec("AZR-Abduction-v0", num_envs=64, vectorization_mode="vector_entry_point")``
    runs all N answers in one executor batch.

    ## Example
    >>> import gymnasium as gym
    >>> import azr_env
    >>> env = gym.make("AZR-Abduction-v0")
    >>> prompt, info = env.reset(seed=0)
    >>> args = env.unwrapped.task.args
    >>> env.step(f"</think><answer>```input\\n{args}\\n```</answer>")[1]
    1.0
    """

    mode = "abduction"
