"""What every solver is: a batched callable ``solve(prompts) -> completions``, and its error."""

from __future__ import annotations

from collections.abc import Callable

Solver = Callable[[list[str]], list[str]]


class SolverError(RuntimeError):
    """A solver cannot be built, or cannot answer (bad spec, missing extra, server error)."""
