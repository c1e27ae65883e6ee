"""AZR-Propose-Abduction-v0: write a new program and input for abduction solvers."""

from __future__ import annotations

from azr_env.envs.proposer import ProposerEnv, ProposerVectorEnv


class ProposeAbductionEnv(ProposerEnv):
    """
    ## Description
    The abduction proposer of Absolute Zero Reasoner: like ``AZR-Propose-Deduction-v0``,
    but the new task will show the solver the program and the output and ask for an input,
    so the prompt asks for an input that is hard to recover from the output.  Valid tasks
    join the abduction buffer.  One step per episode.

    ## Action Space
    ``UnicodeText(100000)``: ```` ```python ```` and ```` ```input ```` blocks in the answer.

    ## Observation Space
    ``UnicodeText(200000)``: AZR's abduction proposer prompt with K references.

    ## Rewards
    As ``AZR-Propose-Deduction-v0``: -1 invalid; learnability ``1 - solve_rate`` (else
    ``extreme_reward``) with a solver, 0 without; plus optional intrinsic terms.  Solver
    answers are scored as ``AZR-Abduction-v0`` scores them: any input that reproduces the
    output counts.

    ## Starting State
    ``reset()`` draws K references from the buffer with ``self.np_random``.

    ## Episode End
    Every step terminates; ``truncated`` is always False.

    ## Arguments
    Those of ``AZR-Propose-Deduction-v0``.

    ## Vectorized environment
    ``gym.make_vec("AZR-Propose-Abduction-v0", num_envs=N, vectorization_mode="vector_entry_point")``.

    ## Example
    >>> import gymnasium as gym
    >>> import azr_env
    >>> env = gym.make("AZR-Propose-Abduction-v0")
    >>> _ = env.reset(seed=0)
    >>> code = "```python\\ndef f(n):\\n    return n * n\\n```"
    >>> proposal = f"plan</think><answer>{code}\\n```input\\n7\\n```</answer>"
    >>> env.step(proposal)[4]["task"].output
    '49'
    """

    mode = "abduction"


class ProposeAbductionVectorEnv(ProposerVectorEnv):
    env_class = ProposeAbductionEnv
