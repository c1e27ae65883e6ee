"""The solver environments (one per AZR mode) and their vectorised form."""

from azr_env.envs.abduction import AbductionEnv
from azr_env.envs.deduction import DeductionEnv
from azr_env.envs.induction import InductionEnv
from azr_env.envs.solver import SolverEnv, TaskSource, UnicodeText, default_executor
from azr_env.envs.vector import AbductionVectorEnv, DeductionVectorEnv, InductionVectorEnv, SolverVectorEnv

__all__ = [
    "AbductionEnv",
    "AbductionVectorEnv",
    "DeductionEnv",
    "DeductionVectorEnv",
    "InductionEnv",
    "InductionVectorEnv",
    "SolverEnv",
    "SolverVectorEnv",
    "TaskSource",
    "UnicodeText",
    "default_executor",
]
