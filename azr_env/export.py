"""Task sets as training data for other libraries: JSONL, parquet, Hugging Face ``datasets``.

Each record has a ``prompt`` column for its task's mode (the exact solver-env prompt: a string
in the R1 raw form, or a list of chat messages with ``prompt_format="chat"``, TRL's
conversational form), the gold ``answer``, the task's fields, and the whole task as JSON in
``task`` (a task-set file's row), from which :mod:`azr_env.integrations` score completions.
:func:`verl_records` writes the schema veRL's ``RLHFDataset`` reads.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from azr_env._io import atomic_write_text
from azr_env.envs.prompts import chat_messages, solver_prompt
from azr_env.tasks.task import Task, gold_answer
from azr_env.tasks.taskset import TaskSet


def task_records(taskset: TaskSet, prompt_format: str = "r1") -> list[dict[str, Any]]:
    rows = []
    for task in taskset:
        prompt: Any = solver_prompt(task, "chat" if prompt_format == "chat" else "r1")
        if prompt_format == "chat":
            prompt = chat_messages(prompt)
        rows.append({
            "id": task.id, "mode": task.mode, "prompt": prompt, "answer": gold_answer(task),
            "program": task.program, "args": task.args, "output": task.output,
            "visible": [[p.args, p.output] for p in task.visible],
            "hidden": [[p.args, p.output] for p in task.hidden],
            "message": task.message, "source": task.metadata.source,
            "task": task.model_dump_json(),
        })
    return rows


def task_from_json(text: str | bytes | Task) -> Task:
    """The task of a record's ``task`` column (a task-set file's row); a Task passes through.

    Raises ValueError (pydantic's ValidationError) on anything that is not a valid task.
    """
    if isinstance(text, Task):
        return text
    if not isinstance(text, (str, bytes)):
        raise ValueError(f"a task must be given as JSON text, not {type(text).__name__}")
    return Task.model_validate_json(text)


def verl_records(taskset: TaskSet, split: str = "train",
                 data_source: str | None = None) -> list[dict[str, Any]]:
    """Rows in the schema veRL's ``RLHFDataset`` and reward managers read.

    ``data_source`` (default ``azr_env/<set name>``), ``prompt`` (chat messages),
    ``ability`` (``code``), ``reward_model`` (``{"style": "rule", "ground_truth": <task
    JSON>}``, what :func:`azr_env.integrations.verl.compute_score` rebuilds the task from) and
    ``extra_info`` (split, index, task id, mode, gold answer).
    """
    source = data_source or f"azr_env/{taskset.name}"
    return [{
        "data_source": source,
        "prompt": chat_messages(solver_prompt(task, "chat")),
        "ability": "code",
        "reward_model": {"style": "rule", "ground_truth": task.model_dump_json()},
        "extra_info": {"split": split, "index": i, "task_id": task.id, "mode": task.mode,
                       "answer": gold_answer(task)},
    } for i, task in enumerate(taskset)]


def to_jsonl(taskset: TaskSet, path: str | os.PathLike[str], prompt_format: str = "r1") -> Path:
    rows = task_records(taskset, prompt_format)
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return Path(path)


def to_hf_dataset(taskset: TaskSet, prompt_format: str = "r1") -> Any:
    """A ``datasets.Dataset`` (``pip install datasets``)."""
    try:
        import datasets
    except ImportError:
        raise ImportError("to_hf_dataset needs the `datasets` package: pip install datasets") from None
    return datasets.Dataset.from_list(task_records(taskset, prompt_format))


def to_parquet(taskset: TaskSet, path: str | os.PathLike[str], prompt_format: str = "r1") -> Path:
    """A parquet file (``pip install pyarrow``), written atomically."""
    return _write_parquet(task_records(taskset, prompt_format), path)


def to_verl_parquet(taskset: TaskSet, path: str | os.PathLike[str], split: str = "train",
                    data_source: str | None = None) -> Path:
    """:func:`verl_records` as a parquet file (``pip install pyarrow``), written atomically."""
    return _write_parquet(verl_records(taskset, split, data_source), path)


def _write_parquet(rows: list[dict[str, Any]], path: str | os.PathLike[str]) -> Path:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError("parquet export needs pyarrow: pip install pyarrow") from None
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        pq.write_table(pa.Table.from_pylist(rows), tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
