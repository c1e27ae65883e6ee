"""Gold answers re-checked: each task's program run on every input it holds, and its outputs
compared with the ones the task set says, under the set's own equality rule."""

from __future__ import annotations

from collections.abc import Iterable

from azr_env.executor import BaseExecutor, Executor, Program
from azr_env.scoring.compare import Comparator, task_rule
from azr_env.tasks.task import Task
from azr_env.tasks.taskset import VerifyReport, is_literal_args


def gold_job(task: Task) -> Program:
    """The task's program on every input it holds, as one sandbox job: how its gold
    outputs are computed and re-checked.

    Inputs are data (literals) unless a dataset wrote them as expressions (12 CRUXEval
    inputs such as ``range(100, 120)``): those are evaluated, in the program's own process
    and under the source policy, as the dataset's own evaluator does.
    """
    inputs = tuple(pair.args for pair in task.pairs)
    output = "strict" if task_rule(task) == "strict" else "lenient"
    evaluate = not all(is_literal_args(a) for a in inputs)
    return Program(task.program, inputs, evaluate_args=evaluate, output=output)


def verify_gold(tasks: Iterable[Task], executor: BaseExecutor | None = None) -> VerifyReport:
    """Re-run every gold answer in the sandbox; report the tasks whose answers no longer hold.

    Each task's program runs on every input it holds (one pair for deduction and abduction,
    all visible and hidden pairs for induction), in one executor batch; ``executor=None``
    starts one for the call.
    """
    tasks = list(tasks)
    own = executor is None
    ex = Executor() if own else executor
    try:
        results = ex.run_programs([gold_job(task) for task in tasks])
    finally:
        if own:
            ex.close()
    failures: dict[str, str] = {}
    for task, runs in zip(tasks, results, strict=True):
        compare = Comparator(task)
        for pair, result in zip(task.pairs, runs, strict=True):
            if not result.ok:
                failures[task.id] = f"{result.status}: {result.error}"
            elif not compare.output(result.output, pair.output, pair.args):
                failures[task.id] = f"gives {result.output[:120]}, the set says {pair.output[:120]}"
            if task.id in failures:
                break
    return VerifyReport(len(tasks), tuple(failures.items()))
