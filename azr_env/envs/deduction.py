"""AZR-Deduction-v0: given a program and an input, predict the output."""

from __future__ import annotations

from azr_env.envs.solver import SolverEnv


class DeductionEnv(SolverEnv):
    """
    ## Description
    The deduction task of Absolute Zero Reasoner (Zhao et al. 2025): the agent reads a
    Python program ``f`` and an input, and predicts ``f(input)``.  One step per episode.

    ## Action Space
    ``UnicodeText(100000)``: the agent's completion, e.g.
    ``"...</think> <answer>```output\\n[1, 2]\\n```</answer>"``, with or without the leading
    ``<think>`` that the prompt opened.  The answer is the last ```` ```output ```` block
    inside the last ``<answer>`` block (AZR's fallbacks apply).  It must be a literal:
    an answer that calls ``f`` or computes (``sorted([2, 1])``) is wrong.

    ## Observation Space
    ``UnicodeText(100000)``: the prompt.  ``prompt_format="r1"`` gives AZR's raw R1
    template ending in ``Assistant: <think>``; ``"chat"`` gives the user message, with
    the system + user messages in ``info["messages"]``.

    ## Rewards
    ``reward_scheme="azr"``: 1.0 correct, -0.5 wrong, -1.0 bad format.  ``"binary"``: 1 / 0.
    Equality is on canonical values (exact types; set and dict order ignored; nan == nan).

    ## Starting State
    ``reset()`` draws a task with ``self.np_random`` (same seed, same task), or takes
    ``options={"task_id": ...}``.

    ## Episode End
    Every step terminates (``terminated=True``); ``truncated`` is always False.

    ## Arguments
    ``gym.make("AZR-Deduction-v0", tasks=None, executor=None, reward_scheme="azr",
    prompt_format="r1", format_rule="strict")``.  ``tasks``: a TaskSet, a live TaskBuffer
    or any iterable of deduction tasks; by default the bundled seed set.  ``format_rule``:
    ``"strict"`` (AZR's ``<think>...</think><answer>...</answer>``), ``"fenced"`` (the answer
    in a ```` ```output ```` block, no tags needed) or ``"lenient"`` (see ``azr_env.parsing``).
    ``executor`` is not used by deduction (no code runs), and accepted for symmetry.

    ## Vectorized environment
    ``gym.make_vec("AZR-Deduction-v0", num_envs=64, vectorization_mode="vector_entry_point")``
    scores all actions in one batch and resets finished sub-envs in the same step.

    ## Example
    >>> import gymnasium as gym
    >>> import azr_env
    >>> env = gym.make("AZR-Deduction-v0")
    >>> prompt, info = env.reset(seed=0)
    >>> gold = env.unwrapped.task.output
    >>> _, reward, terminated, _, info = env.step(f"</think><answer>```output\\n{gold}\\n```</answer>")
    >>> reward, terminated, info["correct"]
    (1.0, True, True)
    """

    mode = "deduction"
