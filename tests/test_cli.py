"""The `azr` command line: `azr exec` prints a result or a clear error."""

from __future__ import annotations

import json
import subprocess
import sys


def azr(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "azr_env.cli", *args], capture_output=True, text=True,
                          timeout=120)


def test_exec_prints_the_output(tmp_path) -> None:
    program = tmp_path / "p.py"
    program.write_text("def f(xs, k):\n    return sorted(xs)[:k]\n")
    done = azr("exec", str(program), "--args", "[3, 1, 2], 2")
    assert done.returncode == 0 and done.stdout.strip() == "[1, 2]"
    done = azr("exec", str(program), "--args", "[3, 1, 2], 2", "--json", "--validate")
    assert json.loads(done.stdout)["status"] == "ok" and json.loads(done.stdout)["output"] == "[1, 2]"


def test_exec_reports_failures_clearly(tmp_path) -> None:
    program = tmp_path / "p.py"
    program.write_text("import os\ndef f():\n    return os.getcwd()\n")
    done = azr("exec", str(program))
    assert done.returncode == 1 and "rejected" in done.stderr and "os" in done.stderr
    assert "Traceback" not in done.stderr
    program.write_text("def f(x):\n    return 1 / x\n")
    done = azr("exec", str(program), "--args", "0")
    assert done.returncode == 1 and "ZeroDivisionError" in done.stderr
    done = azr("exec", str(tmp_path / "missing.py"))
    assert done.returncode == 2 and "no such file" in done.stderr and "Traceback" not in done.stderr
    (tmp_path / "bin.py").write_bytes(b"\xff\xfe\x00junk")
    done = azr("exec", str(tmp_path / "bin.py"))
    assert done.returncode == 2 and "UTF-8" in done.stderr and "Traceback" not in done.stderr
    done = azr("exec", str(program), "--timeout", "-1")
    assert done.returncode == 2 and "timeout_s" in done.stderr and "Traceback" not in done.stderr
