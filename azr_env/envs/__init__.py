"""The solver environments (one per AZR mode) and their vectorised form."""

from .abduction import AbductionEnv
from .deduction import DeductionEnv
from .induction import InductionEnv
from .solver import SolverEnv, TaskSource, UnicodeText, default_executor
from .vector import AbductionVectorEnv, DeductionVectorEnv, InductionVectorEnv, SolverVectorEnv

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
