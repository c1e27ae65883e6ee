"""Shared fixtures: the benchmark data in ../shared/data and a warm executor."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("AZR_SHARED_DATA", ROOT.parent / "shared" / "data"))


def data_file(name: str) -> Path:
    """A file from the shared benchmark data; skipped locally if absent, an error in CI."""
    path = DATA_DIR / name
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"benchmark data missing in CI: {path}")
        pytest.skip(f"benchmark data not found: {path} (set AZR_SHARED_DATA)")
    return path


@pytest.fixture(scope="session")
def cruxeval_rows() -> list[dict]:
    with data_file("cruxeval.jsonl").open() as fh:
        return [json.loads(line) for line in fh]


@pytest.fixture(scope="session")
def executor():
    """One warm executor per test process (xdist worker); tests must not close it."""
    from azr_env.executor import Executor

    with Executor(workers=2, timeout_s=2.0, memory_mb=512) as ex:
        yield ex
