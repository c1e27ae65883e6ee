"""Tasks: the task model, task sets and their files, the buffers self-play grows, every
benchmark loader, and the bundled seed programs.

    from azr_env.tasks import Task, TaskSet, load_cruxeval, load_evalplus, seed_tasks

=====================  =====================================================
``task``               :class:`Task`, :class:`IOPair`: one task of one mode
``taskset``            :class:`TaskSet`: versioned, hashed task-set files
``buffer``             :class:`TaskBuffer`: the growing buffers of self-play
``cruxeval``           :func:`load_cruxeval` (CRUXEval-O and -I)
``evalplus``           :func:`load_evalplus` (HumanEval+, MBPP+)
``humaneval``          :func:`load_humaneval`
``seeds``              :func:`seed_tasks`, the bundled seed programs and their generator
``downloads``          official files, sha256-pinned, fetched once when there is a network
=====================  =====================================================
"""

from azr_env.tasks.buffer import TaskBuffer
from azr_env.tasks.cruxeval import load_cruxeval
from azr_env.tasks.evalplus import EVALPLUS_LIMITS, load_evalplus
from azr_env.tasks.humaneval import load_humaneval
from azr_env.tasks.seeds import load_seed_programs, seed_tasks
from azr_env.tasks.task import MODES, IOPair, Mode, Task, TaskMetadata
from azr_env.tasks.taskset import TaskSet, TaskSetError, VerifyReport

__all__ = ["EVALPLUS_LIMITS", "MODES", "IOPair", "Mode", "Task", "TaskBuffer", "TaskMetadata", "TaskSet",
           "TaskSetError", "VerifyReport", "load_cruxeval", "load_evalplus", "load_humaneval",
           "load_seed_programs", "seed_tasks"]
