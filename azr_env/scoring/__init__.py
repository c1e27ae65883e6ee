"""Scoring: from a completion to a reward, with nothing taken on trust.

=====================  =====================================================
``parsing``            the answer inside a completion (AZR's strict format, fenced, lenient)
``verify``             :class:`Verifier`: answers checked as data, programs run in the sandbox
``compare``            each benchmark's own equality rule (strict, Python ``==``, evalplus)
``learnability``       the proposer's reward: ``1 - solve rate``, 0 at the extremes
``proposer_rewards``   optional intrinsic rewards (AST distance, complexity, novelty)
``gold``               :func:`verify_gold`: a task set's gold answers re-run and re-checked
=====================  =====================================================
"""

from azr_env.scoring.learnability import learnability, solve_rates
from azr_env.scoring.parsing import Parsed, extract_answer
from azr_env.scoring.verify import Verdict, Verifier

__all__ = ["Parsed", "Verdict", "Verifier", "extract_answer", "learnability", "solve_rates"]
