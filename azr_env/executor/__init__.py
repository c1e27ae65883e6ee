"""The sandboxed code executor: runs untrusted programs and returns exact results.

>>> from azr_env.executor import Executor
>>> with Executor(workers=1) as ex:  # doctest: +SKIP
...     ex.run("def f(x):\n    return x * 2", "21").output
'42'

:class:`Executor` runs programs on this machine, :class:`RayExecutor` across a Ray cluster;
both are a :class:`BaseExecutor`, the API everything else uses.
"""

from .base import BaseExecutor, Job, Program, Result, Status
from .executor import Executor, run_batch
from .jail import Isolation
from .policy import ALLOWED_MODULES, PolicyViolation, check_program
from .ray_executor import RayExecutor
from .shared import default_executor
from .values import NotALiteral, canonical_repr, parse_args, parse_literal, values_equal

__all__ = [
    "ALLOWED_MODULES",
    "BaseExecutor",
    "Executor",
    "Isolation",
    "Job",
    "NotALiteral",
    "PolicyViolation",
    "Program",
    "RayExecutor",
    "Result",
    "Status",
    "canonical_repr",
    "check_program",
    "default_executor",
    "parse_args",
    "parse_literal",
    "run_batch",
    "values_equal",
]
