"""AZR-Induction-v0: given I/O pairs and a message, write the program."""

from __future__ import annotations

from azr_env.envs.solver import SolverEnv


class InductionEnv(SolverEnv):
    """
    ## Description
    The induction task of Absolute Zero Reasoner: the agent sees some input/output pairs
    of a hidden program and a message hinting at it, and writes a program ``f``.  It is
    scored on hidden pairs it never saw (AZR shows the first half of the pairs and hides
    the second).  One step per episode.

    ## Action Space
    ``UnicodeText(100000)``: the completion.  The answer is the last ```` ```python ````
    block inside the last ``<answer>`` block.

    ## Observation Space
    ``UnicodeText(100000)``: the prompt with the visible pairs and the message.

    ## Rewards
    The candidate program runs in the sandbox (same policy as proposed programs) on every
    hidden input.  ``induction_score="all"`` (AZR's default): correct only when every
    hidden output matches; ``"fraction"``: the fraction matched.  ``reward_scheme="azr"``:
    the score when positive, -0.5 for zero, -1.0 for bad format; ``"binary"``: the score.

    ## Starting State
    ``reset()`` draws a task with ``self.np_random``, or takes ``options={"task_id": ...}``.

    ## Episode End
    Every step terminates; ``truncated`` is always False.

    ## Arguments
    ``gym.make("AZR-Induction-v0", tasks=None, executor=None, reward_scheme="azr",
    prompt_format="r1", format_rule="strict", induction_score="all")``.

    ## Vectorized environment
    ``gym.make_vec("AZR-Induction-v0", num_envs=64, vectorization_mode="vector_entry_point")``
    runs every (answer, hidden input) pair of the batch in one executor call.

    ## Example
    >>> import gymnasium as gym
    >>> import azr_env
    >>> env = gym.make("AZR-Induction-v0")
    >>> prompt, info = env.reset(seed=0)
    >>> program = env.unwrapped.task.program
    >>> env.step(f"</think><answer>```python\\n{program}\\n```</answer>")[1]
    1.0
    """

    mode = "induction"
