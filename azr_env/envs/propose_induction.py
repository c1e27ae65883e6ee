"""AZR-Propose-Induction-v0: write inputs and a message for a buffer program."""

from __future__ import annotations

from azr_env.envs.proposer import ProposerEnv, ProposerVectorEnv


class ProposeInductionEnv(ProposerEnv):
    """
    ## Description
    The induction proposer of Absolute Zero Reasoner: shown one program drawn from the
    induction buffer, the agent writes ``n_inputs`` (10) inputs that give diverse outputs
    and a message that hints at the function without revealing it.  Every input must run;
    the first ``n_visible`` (half) of the pairs become the solver's visible examples and
    the rest the hidden ones it is scored on (AZR's split).  One step per episode.

    ## Action Space
    ``UnicodeText(100000)``: at least ``n_inputs`` ```` ```input ```` blocks (the last
    ``n_inputs`` are kept, as AZR does) and a ```` ```message ```` block (``<message>``
    tags and a ``# Message:`` line are also read).  A message that contains the program
    (``def f(`` or one of its lines) is invalid.

    ## Observation Space
    ``UnicodeText(200000)``: AZR's induction proposer prompt with the program and
    ``f(<|YOUR INPUT WILL BE PLUGGED HERE|>)``.

    ## Rewards
    As ``AZR-Propose-Deduction-v0``; solver answers are programs scored on the hidden pairs
    as ``AZR-Induction-v0`` scores them (all must pass).

    ## Starting State
    ``reset()`` draws one program from the buffer with ``self.np_random``.

    ## Episode End
    Every step terminates; ``truncated`` is always False.

    ## Arguments
    Those of ``AZR-Propose-Deduction-v0`` plus ``n_inputs=10`` and ``n_visible=None``
    (half).  ``k_references`` is not used: induction shows one program.

    ## Vectorized environment
    ``gym.make_vec("AZR-Propose-Induction-v0", num_envs=N, vectorization_mode="vector_entry_point")``.

    ## Example
    >>> import gymnasium as gym
    >>> import azr_env
    >>> env = gym.make("AZR-Propose-Induction-v0", n_inputs=4)
    >>> _ = env.reset(seed=0)
    >>> blocks = "".join(f"```input\\n{x}\\n```\\n" for x in ("1", "'a'", "[2]", "None"))
    >>> info = env.step(f"plan</think><answer>{blocks}```message\\nEcho.\\n```</answer>")[4]
    >>> [p.output for p in info["task"].hidden]
    ['[2]', 'None']
    """

    mode = "induction"


class ProposeInductionVectorEnv(ProposerVectorEnv):
    env_class = ProposeInductionEnv
