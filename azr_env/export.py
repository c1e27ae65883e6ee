"""Task sets as training data for other libraries: JSONL, parquet, Hugging Face ``datasets``.

Each record has a ``prompt`` column for its task's mode (the exact solver-env prompt: a string
in the R1 raw form, or a list of chat messages with ``prompt_format="chat"``, TRL's
conversational form), the gold ``answer``, and the task's fields, so that TRL and veRL users can
train on a task set directly and score with the envs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from azr_env._io import atomic_write_text
from azr_env.envs.prompts import chat_messages, solver_prompt
from azr_env.tasks.task import gold_answer
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
        })
    return rows


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
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError("to_parquet needs pyarrow: pip install pyarrow") from None
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    pq.write_table(pa.Table.from_pylist(task_records(taskset, prompt_format)), tmp)
    os.replace(tmp, target)
    return target
