"""The benchmark harness (``azr bench``) and the solvers it scores.

=====================  =====================================================
``harness``            :func:`run_bench`: prompts, completions cache, scores, pass@k, reports
``solvers``            :func:`make_solver`: ``python:``, ``hf:``, ``openai:``, ``vllm:``
=====================  =====================================================
"""

from azr_env.bench.harness import compare, markdown_table, pass_at_k, run_bench, summarise, write_outputs
from azr_env.bench.solvers import Solver, SolverError, make_solver

__all__ = ["Solver", "SolverError", "compare", "make_solver", "markdown_table", "pass_at_k", "run_bench",
           "summarise", "write_outputs"]
