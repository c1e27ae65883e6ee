"""evalplus's own verdicts on candidate solutions, in a process of their own.

    python tests/evalplus_oracle.py PAYLOAD.json OUT.json

PAYLOAD holds evalplus rows (as in HumanEvalPlus / MbppPlus jsonl) each with a list of
candidate solutions (``candidates``: full code defining the entry point).  For each, this
runs what ``evalplus.evaluate`` does: the ground truth with ``evalplus.gen.util.trusted_exec``
(reference times recorded), then ``evalplus.eval.untrusted_check`` on the base inputs and on
the plus inputs, with evalplus's default time limits and ``fast_check``.  MBPP+ inputs are
restored by evalplus's own ``mbpp_deserialize_inputs``.  OUT gets ``{task_id: [[base, plus],
...]}`` with evalplus's statuses (``pass``, ``fail``, ``timeout``).

A separate process, so that evalplus forks a small interpreter (not the test runner), and so
that importing evalplus never touches the test runner.
"""

from __future__ import annotations

import importlib
import json
import sys
import types
from pathlib import Path


def load_mbpp_deserializer():
    """``evalplus.data.mbpp.mbpp_deserialize_inputs`` without ``evalplus.data.__init__``,
    which imports the heavy ``datasets`` package to fetch data we already have."""
    import evalplus

    package = types.ModuleType("evalplus.data")
    package.__path__ = [str(Path(evalplus.__file__).parent / "data")]
    sys.modules["evalplus.data"] = package
    return importlib.import_module("evalplus.data.mbpp").mbpp_deserialize_inputs


def main() -> None:
    from evalplus.eval import untrusted_check
    from evalplus.eval._special_oracle import MBPP_OUTPUT_NOT_NONE_TASKS
    from evalplus.gen.util import trusted_exec

    payload = json.loads(Path(sys.argv[1]).read_text())
    dataset = payload["dataset"]
    deserialize = load_mbpp_deserializer() if dataset == "mbpp" else (lambda task_id, inputs: inputs)
    verdicts = {}
    for row in payload["tasks"]:
        entry = row["entry_point"]
        code = row["prompt"] + row["canonical_solution"]
        inputs = {key: deserialize(row["task_id"], row[f"{key}_input"]) for key in ("base", "plus")}
        expected, times = {}, {}
        for key in ("base", "plus"):
            expected[key], times[key] = trusted_exec(code, inputs[key], entry, record_time=True,
                                                     output_not_none=entry in MBPP_OUTPUT_NOT_NONE_TASKS)
        rows = []
        for candidate in row["candidates"]:
            rows.append([untrusted_check(dataset, candidate, inputs[key], entry, expected[key], row["atol"],
                                         times[key], fast_check=True)[0] for key in ("base", "plus")])
        verdicts[row["task_id"]] = rows
    Path(sys.argv[2]).write_text(json.dumps(verdicts))


if __name__ == "__main__":
    main()
