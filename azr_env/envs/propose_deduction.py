"""AZR-Propose-Deduction-v0: write a new program and input for deduction solvers."""

from __future__ import annotations

from azr_env.envs.proposer import ProposerEnv, ProposerVectorEnv


class ProposeDeductionEnv(ProposerEnv):
    """
    ## Description
    The deduction proposer of Absolute Zero Reasoner: shown K reference tasks from the
    deduction buffer, the agent writes a new program ``f`` and one input whose output will
    be hard, but not impossible, to predict.  The executor validates it and computes the
    output; valid tasks join the buffer that ``AZR-Deduction-v0`` can draw from
    (``gym.make("AZR-Deduction-v0", tasks=env.unwrapped.buffer)``).  One step per episode.

    ## Action Space
    ``UnicodeText(100000)``: the completion.  Inside the last ``<answer>`` block: the first
    ```` ```python ```` block (the program; if it has no ``f``, its first function is renamed
    ``f``, as AZR does) and the first ```` ```input ```` block (or a ``# Input:`` line).

    ## Observation Space
    ``UnicodeText(200000)``: AZR's proposer prompt with K ``<snippet_i>`` references, each
    with its program, input and output.  ``info["reference_ids"]`` names them.

    ## Rewards
    -1 for a bad format, a banned import, or a program that fails validation (syntax,
    policy, timeout, non-determinism, non-canonical output), with the reason in
    ``info["reason"]``.  Otherwise, with a ``solver``: learnability ``1 - solve_rate`` over
    ``n_samples`` answers when ``0 < solve_rate < 1``, else ``extreme_reward`` (0, the
    paper's rule; -0.5 reproduces AZR's code); without a solver: 0, with the solver prompt
    in ``info["solver_prompt"]`` for an outside loop (see ``azr_env.learnability``).  Plus
    the optional intrinsic terms (``intrinsic=IntrinsicRewardConfig(...)``, off by default).

    ## Starting State
    ``reset()`` draws K references from the buffer with ``self.np_random`` (uniformly, or
    weighted to recent entries with ``reference_strategy="recent"``).  ``options={"step":
    n}`` records the self-play step in the new task's metadata.

    ## Episode End
    Every step terminates; ``truncated`` is always False.

    ## Arguments
    ``gym.make("AZR-Propose-Deduction-v0", buffer=None, solver=None, n_samples=8,
    k_references=6, executor=None, extreme_reward=0.0, add_to_buffer="all",
    reference_strategy="uniform", banned_imports=BANNED_IMPORTS, intrinsic=None,
    prompt_format="r1", format_rule="strict", solver_format_rule="strict")``.
    ``buffer=None`` makes a fresh buffer seeded with the identity program
    (``env.unwrapped.buffer``).  ``solver`` is any batched callable
    ``solve(prompts: list[str]) -> list[str]``.  ``add_to_buffer``: ``"all"`` valid proposals
    (AZR), ``"learnable"`` ones only (``0 < solve_rate < 1``), or ``"none"``.

    ## Vectorized environment
    ``gym.make_vec("AZR-Propose-Deduction-v0", num_envs=N, vectorization_mode="vector_entry_point")``:
    N sub-envs sharing one buffer; one validation batch and one solver call per step.

    ## Example
    >>> import gymnasium as gym
    >>> import azr_env
    >>> env = gym.make("AZR-Propose-Deduction-v0", solver=lambda prompts: ["no idea"] * len(prompts))
    >>> prompt, info = env.reset(seed=0)
    >>> code = "```python\\ndef f(x):\\n    return x[::-1]\\n```"
    >>> proposal = f"plan</think><answer>{code}\\n```input\\n'abc'\\n```</answer>"
    >>> _, reward, terminated, _, info = env.step(proposal)
    >>> info["valid"], info["task"].output, info["solve_rate"], reward
    (True, "'cba'", 0.0, 0.0)
    """

    mode = "deduction"


class ProposeDeductionVectorEnv(ProposerVectorEnv):
    env_class = ProposeDeductionEnv
