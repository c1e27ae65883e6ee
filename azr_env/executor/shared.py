"""The process-wide executor that envs, scoring and integrations use unless given one."""

from __future__ import annotations

import os
import threading
from typing import Any

from .executor import Executor

_shared: dict[str, Any] = {"executor": None, "pid": None}
_shared_lock = threading.Lock()


def default_executor() -> Executor:
    """The process-wide executor (started on first use; a forked child gets its own)."""
    with _shared_lock:
        executor = _shared["executor"]
        if executor is None or executor._closed or _shared["pid"] != os.getpid():
            executor = Executor()
            _shared.update(executor=executor, pid=os.getpid())
        return executor
