"""The sandbox's fork server: one warm template, one fresh child process per program.

Started by :mod:`azr_env.executor.executor` (inside bubblewrap when the host allows it) as
``python -I -S -B _zygote.py CONFIG_JSON``.  Start-up: import every allowed module, build
the per-module templates, load ``_jobspace.py`` into a namespace of its own, prepare the
seccomp filter, freeze the garbage collector's view of the heap, say hello.  The zygote
never runs a program itself and never holds one: it only forks.

For each child the zygote makes two pipes, forks, and passes the caller the job pipe's
write end and the result pipe's read end over its control socket (``SCM_RIGHTS``); then it
closes its own copies.  The caller writes the job straight to the child and reads its
results straight from it, so no program, input or output of one child ever passes through
the zygote, and a child forked later holds nothing of an earlier one.  The zygote reaps its
children and reports each exit status (so a crash is named by its signal), and kills a
child when the caller asks (a timeout).

A child, before it reads its job: closes every file descriptor but its two pipes, sets its
rlimits (address space, CPU, no files, no processes) and loads the seccomp filter.  Then it
runs one program on each of its inputs in turn (a fresh world per input, see
``_jobspace.py``), writes one result record per input, stops at the first input that is not
``ok``, and exits.  Each process runs code of one program only: a proposal with its
validation runs, one answer with all its test inputs, one gold computation.

This file imports only the standard library (plus pyseccomp, by path) and must not import
``azr_env``.
"""

from __future__ import annotations

import array
import builtins
import fcntl
import gc
import json
import os
import pickle
import resource
import select
import signal
import socket
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import _protocol as proto  # noqa: E402
import policy  # noqa: E402
import values  # noqa: E402

sys.path[:] = [p for p in sys.path if p != HERE]  # also the script's own folder, on Python 3.10


class JobTimeout(BaseException):
    """Raised by the alarm inside a run.  A program may catch it; the run is a timeout all
    the same, and the caller kills the child if it does not stop."""


ALARM = {"armed": False, "fired": False}


def on_alarm(signum, frame):
    if ALARM["armed"]:
        ALARM["fired"] = True
        raise JobTimeout()


# ---------------------------------------------------------------------------------------
# Start-up: modules, templates and the job space
# ---------------------------------------------------------------------------------------
REMOVED_ATTRS = {
    "string": {"Formatter"},  # Formatter().get_field resolves "0.__globals__"-style paths
    "typing": {"get_type_hints", "ForwardRef"},  # evaluate strings with real builtins
    "enum": {"global_enum"},  # writes an enum's members into any module's globals
}

SAFE_BUILTIN_NAMES = (
    "abs all any ascii bin bool bytearray bytes callable chr classmethod complex dict "
    "dir divmod enumerate filter float format frozenset hash hex id int isinstance "
    "issubclass iter len list map max min next object oct ord pow property range repr "
    "reversed round set slice sorted staticmethod str sum super tuple type zip memoryview "
    "aiter anext NotImplemented Ellipsis False True None"
).split()


def load_modules() -> dict[str, types.ModuleType]:
    import importlib

    # hashlib on its built-in implementations (md5, sha1, sha2, sha3, blake2, shake; the
    # same digests): OpenSSL's library and its heap would be in every program's image.
    sys.modules["_hashlib"] = None  # type: ignore[assignment]
    mods = {name: importlib.import_module(name) for name in sorted(policy.ALLOWED_MODULES)}
    mods["datetime"] = pure_datetime()
    # Pieces of allowed modules imported lazily, imported now so that no job needs the disk.
    for extra in ("encodings.idna", "_strptime"):
        try:
            importlib.import_module(extra)
        except ImportError:
            pass
    return mods


def pure_datetime() -> types.ModuleType:
    """The standard library's pure-Python ``datetime`` (``datetime.py`` without its C
    accelerator), whose every clock reading goes through its ``_time`` global.  The C
    classes read the system clock directly (``datetime.datetime.min.now()``), so programs get
    this one, and ``_time`` becomes the frozen clock (see :func:`freeze_datetime`)."""
    import importlib.util

    origin = importlib.util.find_spec("datetime").origin
    module = types.ModuleType("datetime")
    module.__file__ = origin
    saved = sys.modules.get("_datetime")
    sys.modules["_datetime"] = None  # type: ignore[assignment]  # makes "from _datetime import *" fail
    try:
        with open(origin, encoding="utf-8") as fh:
            exec(compile(fh.read(), origin, "exec"), module.__dict__)
    finally:
        if saved is None:
            del sys.modules["_datetime"]
        else:
            sys.modules["_datetime"] = saved
    return module


def freeze_datetime(module: types.ModuleType, space: dict) -> None:
    frozen = space["FROZEN_TIME"]
    module._time = types.SimpleNamespace(  # type: ignore[attr-defined]
        time=frozen["time"], localtime=frozen["localtime"], gmtime=frozen["gmtime"],
        strftime=frozen["strftime"], struct_time=time.struct_time)


def safe_builtins() -> dict:
    base = {name: getattr(builtins, name) for name in SAFE_BUILTIN_NAMES}
    for name, val in vars(builtins).items():
        if isinstance(val, type) and issubclass(val, BaseException) and not name.startswith("_"):
            base[name] = val
    base["__build_class__"] = builtins.__build_class__
    return base


def load_jobspace() -> dict:
    """Exec ``_jobspace.py`` into a namespace holding only what it is given."""
    import _string
    import abc
    import copy
    import functools
    import keyword
    import random
    import re
    import typing

    minimal = safe_builtins()
    minimal.update(getattr=getattr, setattr=setattr, hasattr=hasattr, delattr=delattr)
    ns = {
        "__builtins__": minimal,
        "__name__": "azr_sandbox",
        "POLICY": {
            "dunder": re.compile(r"__[A-Za-z0-9]\w*__\Z"),
            "safe_dunder_attrs": policy.SAFE_DUNDER_ATTRS,
            "forbidden_attrs": policy.FORBIDDEN_ATTRS,
            "guarded_reads": policy.GUARDED_READS,
            "allowed_modules": policy.ALLOWED_MODULES,
            "write_guard": policy.WRITE_GUARD,
            "read_guard": policy.READ_GUARD,
        },
        "SAFE_BUILTINS": safe_builtins(),
        "INTERNAL": {"_strptime": sys.modules["_strptime"]} if "_strptime" in sys.modules else {},
        "ModuleType": types.ModuleType,
        "FunctionType": types.FunctionType,
        "copy_copy": copy.copy,
        "RealRandom": random.Random,
        "real_build_class": builtins.__build_class__,
        "real_time": types.SimpleNamespace(localtime=time.localtime, gmtime=time.gmtime, ctime=time.ctime,
                                           asctime=time.asctime, strftime=time.strftime),
        "formatter_parser": _string.formatter_parser,
        "formatter_field_name_split": _string.formatter_field_name_split,
        "update_wrapper": functools.update_wrapper,
        "WRAPPER_ASSIGNMENTS": tuple(functools.WRAPPER_ASSIGNMENTS),
        "WRAPPER_UPDATES": tuple(functools.WRAPPER_UPDATES),
        "iskeyword": keyword.iskeyword,
        "ForwardRef": typing.ForwardRef,
        "real_abc_register": abc.ABCMeta.register,
        "real_deepcopy": copy.deepcopy,
    }
    path = os.path.join(HERE, "_jobspace.py")
    with open(path, encoding="utf-8") as fh:
        exec(compile(fh.read(), path, "exec"), ns)
    return ns


def build_templates(mods: dict[str, types.ModuleType], space: dict) -> dict[str, dict]:
    """Per allowed module, the public attributes each job's copy of it starts with."""
    import decimal
    import random

    sub, copy_marker = space["Sub"], space["Copy"]
    by_id = {id(m): n for n, m in mods.items()}
    templates: dict[str, dict] = {}
    for name, mod in mods.items():
        tpl = {}
        removed = REMOVED_ATTRS.get(name, set())
        for key, val in vars(mod).items():
            if key.startswith("_") or key in removed:
                continue
            if isinstance(val, types.ModuleType):
                if id(val) in by_id:
                    tpl[key] = sub(by_id[id(val)])
                continue  # e.g. typing.sys, dataclasses.builtins: not reachable
            if type(val) in (list, dict, set, bytearray) or isinstance(val, decimal.Context):
                tpl[key] = copy_marker(val)
                continue
            tpl[key] = val
        for child in mods:  # collections.abc is reachable as collections.abc
            if child.startswith(name + ".") and "." not in child[len(name) + 1 :]:
                tpl[child[len(name) + 1 :]] = sub(child)
        templates[name] = tpl
    # random: module-level functions are bound methods of one shared Random instance.
    rnd = templates["random"]
    shared = random._inst  # type: ignore[attr-defined]
    for key, val in list(rnd.items()):
        if getattr(val, "__self__", None) is shared:
            rnd[key] = ("random-method", val.__name__)
    return templates


def harden_stdlib(mods: dict[str, types.ModuleType], space: dict) -> None:
    """Close paths by which a job could reach code generation or shared mutable state.

    ``dataclasses`` field names must be plain identifiers; ``typing.get_type_hints`` reads
    no string annotation and a ``ForwardRef`` compiles nothing (a code object a program
    could reach would run past the policy); ``copy`` applies no state to a shared object;
    public mutable containers held by classes of allowed modules (textwrap's translation
    table) become read-only; ``ABCMeta.register`` takes only the program's own classes.
    """
    import abc
    import copy
    import dataclasses
    import typing

    get_field = getattr(dataclasses, "_get_field", None)
    if get_field is None:  # an unknown Python: rather no dataclasses than an open door
        del mods["dataclasses"]
        space["TEMPLATES"].pop("dataclasses", None)
    else:
        dataclasses._get_field = space["make_checked_get_field"](get_field)
    typing.get_type_hints = space["get_type_hints"]
    typing.ForwardRef.__init__ = space["make_uncompiled_forward_ref"](typing.ForwardRef.__init__)
    abc.ABCMeta.register = space["guarded_abc_register"]
    copy._reconstruct = space["make_guarded_reconstruct"](copy._reconstruct)
    frozen = {dict: types.MappingProxyType, list: tuple, set: frozenset, bytearray: bytes}
    for mod in mods.values():
        for val in list(vars(mod).values()):
            if not isinstance(val, type):
                continue
            for key, attr in list(vars(val).items()):
                if not key.startswith("_") and type(attr) in frozen:
                    try:
                        type.__setattr__(val, key, frozen[type(attr)](attr))
                    except TypeError:
                        pass  # a C type: immutable already


# ---------------------------------------------------------------------------------------
# Limits: rlimits and seccomp (both applied in each child, before it reads its job)
# ---------------------------------------------------------------------------------------
DENIED_SYSCALLS = (
    "socket socketpair connect bind listen accept accept4 "
    "clone3 execve execveat rt_sigqueueinfo rt_tgsigqueueinfo pidfd_open pidfd_send_signal "
    "pidfd_getfd ptrace process_vm_readv process_vm_writev mount umount2 pivot_root chroot setns "
    "unshare keyctl add_key request_key bpf perf_event_open userfaultfd io_uring_setup "
    "io_uring_enter io_uring_register personality reboot kexec_load kexec_file_load "
    "init_module finit_module delete_module swapon swapoff acct settimeofday clock_settime "
    "adjtimex clock_adjtime sethostname setdomainname iopl ioperm quotactl "
    "name_to_handle_at open_by_handle_at open_tree move_mount fsopen fsconfig fsmount "
    "fspick openat2 mknod mknodat mkdir mkdirat rmdir unlink unlinkat rename renameat "
    "renameat2 link linkat symlink symlinkat chmod fchmod fchmodat chown fchown lchown "
    "fchownat truncate ftruncate creat memfd_create setuid setgid setreuid setregid "
    "setresuid setresgid setgroups capset "
    # State that would outlive one child or reach a sibling: System V IPC, POSIX message
    # queues; and the OS's entropy, so that nothing in a child is random.
    "shmget shmat shmdt shmctl msgget msgsnd msgrcv msgctl semget semop semtimedop semctl "
    "mq_open mq_unlink mq_timedsend mq_timedreceive mq_notify mq_getsetattr getrandom "
    # Metadata, locks and watches on shared files: channels between concurrent children.
    "setxattr lsetxattr fsetxattr removexattr lremovexattr fremovexattr utime utimes "
    "utimensat futimesat flock inotify_init inotify_init1 inotify_add_watch fanotify_init "
    "fanotify_mark "
    # Other processes' scheduling: a child could starve its siblings.
    "setpriority sched_setaffinity sched_setscheduler sched_setparam sched_setattr ioprio_set "
    "migrate_pages move_pages process_madvise kcmp "
    # The page cache's state of shared files (which pages are cached): a channel.
    "fadvise64 readahead preadv2 pwritev2 cachestat"
).split()
"""Refused to the zygote and so to every child (filters are inherited across fork)."""

O_ASYNC = 0o20000

CHILD_DENIED_SYSCALLS = (
    "clone fork vfork kill tkill tgkill sendto sendmsg sendmmsg recvfrom recvmsg recvmmsg "
    "wait4 waitid setpgid setsid"
).split()
"""Refused to children on top: what the zygote and the template need (forking, killing,
reaping, their sockets).  A child is the parent of the template made after it, and must
have no power over it: no signal, no trace, no wait.  A small filter of its own, because
attaching a filter compiles it in the kernel, and a child is forked for every program."""


class SeccompProgram:
    """A compiled seccomp filter that a process attaches with two ``prctl`` calls.

    libseccomp compiles its rules to BPF on every load; the zygote compiles each filter
    once and attaches the BPF directly.
    """

    def __init__(self, bpf: bytes) -> None:
        import ctypes

        class SockFprog(ctypes.Structure):
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

        self._libc = ctypes.CDLL(None, use_errno=True)
        self._code = ctypes.create_string_buffer(bpf, len(bpf))
        self._prog = SockFprog(len(bpf) // 8, ctypes.addressof(self._code))
        self._ref = ctypes.byref(self._prog)

    def load(self) -> None:
        if self._libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
            raise OSError("PR_SET_NO_NEW_PRIVS failed")
        if self._libc.prctl(22, 2, self._ref, 0, 0) != 0:  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER
            raise OSError("PR_SET_SECCOMP failed")


def build_seccomp_filters(path: str | None) -> tuple[SeccompProgram, SeccompProgram] | None:
    """The zygote's filter and the children's extra one, compiled once (None without
    pyseccomp or libseccomp).

    They are compiled in a throwaway child: pyseccomp brings ``ctypes.util``, and with it
    ``subprocess``, ``shutil``, the compression modules and libseccomp, none of which a job
    needs.  Kept out of the zygote, they are not in the image that every program's process
    is forked from, copied at each fork and unmapped at each exit (about 40 mappings)."""
    if not path:
        return None
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_fd)
            filters = _compile_seccomp_filters(path)
            with os.fdopen(write_fd, "wb") as sink:
                for bpf in filters or ():
                    sink.write(len(bpf).to_bytes(4, "big") + bpf)
            os._exit(0)
        except BaseException:
            os._exit(1)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as source:
        data = source.read()
    _, status = os.waitpid(pid, 0)
    programs = []
    while len(data) >= 4:
        size = int.from_bytes(data[:4], "big")
        programs.append(SeccompProgram(data[4:4 + size]))
        data = data[4 + size:]
    if os.waitstatus_to_exitcode(status) != 0 or len(programs) != 2:
        return None
    return programs[0], programs[1]


def _compile_seccomp_filters(path: str) -> tuple[bytes, bytes] | None:
    """BPF of the zygote's filter and the children's one, compiled by libseccomp."""
    sys.path.insert(0, path)
    try:
        import errno

        import pyseccomp as seccomp
    except Exception:
        return None
    finally:
        sys.path.remove(path)

    def compiled(names: list[str], refuse_writes: bool) -> bytes:
        filt = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        for name in names:
            try:
                filt.add_rule(seccomp.ERRNO(errno.EPERM), name)
            except Exception:
                pass  # not a syscall on this architecture
        if refuse_writes:
            # open/openat for writing or creating: refused even where the filesystem is not
            # read-only (no jail).  Pipes already open are unaffected.
            for flag in (os.O_WRONLY, os.O_RDWR, os.O_CREAT, os.O_TRUNC, os.O_APPEND):
                refuse = seccomp.ERRNO(errno.EACCES)
                filt.add_rule(refuse, "openat", seccomp.Arg(2, seccomp.MASKED_EQ, flag, flag))
                filt.add_rule(refuse, "open", seccomp.Arg(1, seccomp.MASKED_EQ, flag, flag))
            # File locks, leases and change notices (fcntl commands): shared-file channels.
            # F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK/SETLK/SETLKW, F_SETLEASE, F_NOTIFY
            for command in (5, 6, 7, 36, 37, 38, 1024, 1026):
                filt.add_rule(seccomp.ERRNO(errno.EPERM), "fcntl", seccomp.Arg(1, seccomp.EQ, command))
            # Resource limits of any process but itself (a sibling's memory limit, say).
            filt.add_rule(seccomp.ERRNO(errno.EPERM), "prlimit64", seccomp.Arg(0, seccomp.NE, 0))
            # Signals by proxy: a file's owner gets SIGIO (or any signal F_SETSIG names)
            # when it is ready, so owning and async I/O are refused: F_SETOWN, F_SETSIG,
            # F_SETOWN_EX, O_ASYNC through F_SETFL; FIOSETOWN, SIOCSPGRP, FIOASYNC ioctls.
            for command in (8, 10, 15):
                filt.add_rule(seccomp.ERRNO(errno.EPERM), "fcntl", seccomp.Arg(1, seccomp.EQ, command))
            filt.add_rule(seccomp.ERRNO(errno.EPERM), "fcntl", seccomp.Arg(1, seccomp.EQ, 4),
                          seccomp.Arg(2, seccomp.MASKED_EQ, O_ASYNC, O_ASYNC))
            for request in (0x8901, 0x8902, 0x5452):
                filt.add_rule(seccomp.ERRNO(errno.EPERM), "ioctl", seccomp.Arg(1, seccomp.EQ, request))
        else:
            # A child is its template's parent: no subreaping, no death signal for it.
            for option in (1, 36):  # PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER
                filt.add_rule(seccomp.ERRNO(errno.EPERM), "prctl", seccomp.Arg(0, seccomp.EQ, option))
        read_fd, write_fd = os.pipe()
        with os.fdopen(write_fd, "wb") as sink:
            filt.export_bpf(sink)
        with os.fdopen(read_fd, "rb") as source:
            bpf = source.read()
        if not bpf or len(bpf) % 8:
            raise OSError("libseccomp exported no filter")
        return bpf

    try:
        return compiled(DENIED_SYSCALLS, True), compiled(CHILD_DENIED_SYSCALLS, False)
    except Exception:
        return None


def set_child_limits(memory_mb: int) -> None:
    wanted = {
        resource.RLIMIT_AS: memory_mb * 2**20,
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_FSIZE: 0,
        resource.RLIMIT_NOFILE: 16,
        resource.RLIMIT_NPROC: 0,
    }
    for res, lim in wanted.items():
        try:
            resource.setrlimit(res, (lim, lim))
        except (ValueError, OSError):
            pass


def set_cpu_limit(seconds: float) -> None:
    """A CPU-time backstop for the whole job, behind the caller's wall-clock kill."""
    soft = int(seconds) + 2
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 5))
    except (ValueError, OSError):
        pass


def drop_root() -> bool:
    """Without a jail, never run programs as root."""
    if os.getuid() != 0:
        return False
    try:
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
        return True
    except OSError:
        return False


# ---------------------------------------------------------------------------------------
# A child: one program, run on each of its inputs
# ---------------------------------------------------------------------------------------
JOB_FD, RESULT_FD = 3, 4
F_SETPIPE_SZ = 1031


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


OUTBOX = {"records": [], "size": 0, "since": 0.0}
FLUSH_AFTER_S = 0.001  # a record waits at most about this long (the caller's grace is 0.5 s)


def emit(kind: int, status: str = "ok", index: int = 0, duration: float = 0.0, text: str = "",
         flush: bool = True) -> None:
    """Write a record; results of fast runs are sent together, about once a millisecond,
    so that the caller is not woken once per run."""
    data = text.encode("utf-8", "backslashreplace")
    OUTBOX["records"].append(proto.HEADER.pack(kind, proto.CODE[status], index, duration, len(data)) + data)
    OUTBOX["size"] += len(data) + proto.HEADER.size
    now = time.monotonic()
    if flush or OUTBOX["size"] > 1 << 16 or now - OUTBOX["since"] >= FLUSH_AFTER_S:
        write_all(RESULT_FD, b"".join(OUTBOX["records"]))
        OUTBOX["records"].clear()
        OUTBOX["size"] = 0
        OUTBOX["since"] = now


def read_exact(fd: int, n: int) -> bytes:
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def describe(exc: BaseException) -> str:
    name = type(exc).__name__
    try:
        msg = str(exc)
    except BaseException:  # a program's exception with a broken __str__
        msg = "<unprintable message>"
    text = f"{name}: {msg}" if msg else name
    return text if len(text) <= proto.MAX_ERROR_CHARS else text[: proto.MAX_ERROR_CHARS] + "..."


def compile_program(source: str, use_policy: bool):
    """The program's code object, or (status, message) when it cannot run."""
    try:
        return policy.compile_program(source) if use_policy else compile(source, "<program>", "exec")
    except SyntaxError as exc:
        where = f" (line {exc.lineno})" if exc.lineno else ""
        return "error", f"SyntaxError: {exc.msg}{where}"
    except policy.PolicyViolation as exc:
        return "rejected", str(exc)
    except (ValueError, TypeError, OverflowError, MemoryError, RecursionError) as exc:
        # ast/compile raise these for null bytes, huge literals, deep nesting.
        return "error", f"{type(exc).__name__}: {exc}"


def guarded(limit_s: float, action, *args) -> tuple[str, str, object]:
    """Run ``action(*args)`` under an alarm of ``limit_s``: (status, text, its value).

    The program's errors, timeouts (even one it catches), memory, values that are not
    data and inputs that are not literals become a status and a message."""
    status, text, value = "error", "", None
    ALARM["fired"] = False
    try:
        ALARM["armed"] = True
        signal.setitimer(signal.ITIMER_REAL, limit_s)
        gc.enable()
        status, text, value = action(*args)
    except JobTimeout:
        status, text = "timeout", f"timed out after {limit_s:g} s"
    except MemoryError:
        status, text = "memory", f"out of memory (limit {CONFIG['memory_mb']} MB)"
    except values.ValueRejected as exc:
        status, text = ("unsupported_value" if exc.kind == "unsupported" else "output_too_large"), str(exc)
    except values.NotALiteral as exc:
        status, text = "rejected", f"the input is not a literal argument list: {exc}"
    except policy.PolicyViolation as exc:
        status, text = "rejected", str(exc)
    except SyntaxError as exc:
        status, text = "rejected", f"the input is not a valid argument list: {exc.msg}"
    except BaseException as exc:  # the program's own errors, SystemExit and friends
        status, text = "error", describe(exc)
    finally:
        ALARM["armed"] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        gc.disable()
    if ALARM["fired"] and status != "timeout":
        status, text, value = "timeout", f"timed out after {limit_s:g} s", None  # it caught the alarm
    return status, text, value


def load_program(job: dict) -> tuple[str, str, object]:
    """Check, compile and run the program's module code once: ("ok", "", its globals)."""
    code = compile_program(job["program"], job["policy"])
    if type(code) is tuple:  # a syntax error, a policy violation ...
        return code[0], code[1], None
    world = SPACE["new_world"]()
    g = {"__builtins__": world if job["policy"] else builtins.__dict__, "__name__": SPACE["JOB_NAME"]}
    exec(code, g)
    if not callable(g.get("f")):
        raise NameError("the program does not define a function f")
    return "ok", "", g


def call_once(g: dict, args: str, job: dict) -> tuple[str, str, object]:
    """Call ``f`` on one input ``job["calls"]`` times: ("ok", canonical text, None)."""
    GARBAGE.clear()  # the previous input's objects (and finalisers) go inside this limit
    results: list = []
    if job["evaluate_args"]:
        call = policy.compile_call(args) if job["policy"] else compile(f"f(\n{args}\n)", "<args>", "eval")
        for _ in range(job["calls"]):
            results.append(eval(call, g))
    else:
        f = g["f"]
        for _ in range(job["calls"]):
            pos, kw = values.parse_args(args)  # fresh values for every call
            results.append(f(*pos, **kw))
    GARBAGE.append(results)
    gc.disable()  # no finaliser of the program's may run between the check and the text
    texts = [values.output_text(r, job["output"], job["max_items"], job["max_chars"]) for r in results]
    if any(t != texts[0] for t in texts[1:]):
        return "nondeterministic", ("two calls with the same input returned different outputs: "
                                    f"{texts[0][:200]} != {texts[1][:200]}"), None
    return "ok", texts[0], None


GARBAGE: list = []  # the last input's results, freed under the next input's limit (never after)


def run_job(job: dict) -> None:
    """The program is loaded once, then ``f`` is called on each input in turn, as an
    evaluator does with a solution: what a call leaves in the program's globals, the next
    call sees (two calls per input, in validation, are how that is caught)."""
    start = time.monotonic()
    budget = job["budget_s"]
    limits = job["time_limits"] or [job["timeout_s"]] * len(job["inputs"])
    set_cpu_limit(min(budget or 1e9, sum(limits) * job["calls"] + 2 * job["timeout_s"]))
    load_start = time.perf_counter()
    status, text, g = guarded(job["timeout_s"], load_program, job)
    failed_to_load = None if status == "ok" else (status, text)
    for index, args in enumerate(job["inputs"]):
        run_start = load_start if index == 0 else time.perf_counter()
        if failed_to_load is not None:
            status, text = failed_to_load
        else:
            limit = limits[index]
            if budget is not None:
                limit = min(limit, budget - (time.monotonic() - start))
            if limit <= 0:
                status, text = "timeout", f"the program's time budget of {budget:g} s is spent"
            else:
                status, text, _ = guarded(limit, call_once, g, args, job)
        emit(proto.RESULT, status, index, time.perf_counter() - run_start, text, flush=status != "ok")
        if status != "ok" and job["stop_on_failure"]:
            break  # fail fast: the caller marks the rest as not run


def child_main(birth: socket.socket) -> None:
    """A freshly forked child: make its pipes, announce them, shed everything else, fence
    itself in, run one job, exit."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # its own child is the next template
    job_r, job_w = os.pipe()
    res_r, res_w = os.pipe()
    for fd in (job_r, res_w):  # 1 MiB pipes: a megabyte output crosses in one wake-up, not sixteen
        try:
            fcntl.fcntl(fd, F_SETPIPE_SZ, 1 << 20)
        except OSError:
            pass
    send_control(birth, proto.BORN + proto.CHILD.pack(0, os.getpid()), [job_w, res_r])
    high_job = fcntl.fcntl(job_r, fcntl.F_DUPFD, 100)
    high_res = fcntl.fcntl(res_w, fcntl.F_DUPFD, 100)
    os.dup2(high_job, JOB_FD)
    os.dup2(high_res, RESULT_FD)
    os.closerange(RESULT_FD + 1, 1 << 16)  # the zygote's sockets, the caller's pipe ends: gone
    set_child_limits(CONFIG["memory_mb"])
    seccomp_on = False
    if SECCOMP_ON:
        try:
            CHILD_FILTER.load()
            seccomp_on = True
        except Exception:
            pass
    (size,) = proto.LENGTH.unpack(read_exact(JOB_FD, proto.LENGTH.size))
    job = pickle.loads(read_exact(JOB_FD, size))  # from the caller, which is trusted
    OUTBOX["since"] = time.monotonic()
    emit(proto.STARTED, "ok" if seccomp_on else "error")
    run_job(job)
    emit(proto.DONE)


# ---------------------------------------------------------------------------------------
# The template: every child is forked from the same, never-changing process
# ---------------------------------------------------------------------------------------
def template_main(orders: int, birth: socket.socket) -> None:
    """Make one child per byte read from ``orders``, and nothing else.

    Each order forks this process; the new process goes on as the template and this one
    becomes the child that runs a job.  The fork returns 0 to the new template (a cached
    small int: nothing allocated), no after-fork hook runs (the process has one thread),
    and the loop allocates nothing, so every template, and so every child, starts from
    exactly the memory the first template had.  Addresses a
    program sees (``id()``, ``hash(object())``, default reprs, the order of a set of
    objects) are therefore the same in every run of it, and cannot tell one learnability
    sample from another.  A child's parent is the child made before it; the zygote, a
    subreaper, adopts it when that one exits, and reaps and reports it.
    """
    buffers = [bytearray(1)]
    fork = LIBC.fork  # not os.fork: its after-fork hooks (random's reseed, new locks) would
    while True:  # allocate in each new template and move every later address
        if os.readv(orders, buffers) == 0:
            os._exit(0)
        if fork() != 0:
            try:
                child_main(birth)
            finally:
                os._exit(0)


# ---------------------------------------------------------------------------------------
# The zygote's loop
# ---------------------------------------------------------------------------------------
def send_control(ctl: socket.socket, message: bytes, fds: list[int] | None = None) -> None:
    ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    ctl.sendmsg([message], ancillary)


def receive_births(birth: socket.socket) -> list[tuple[int, list[int]]]:
    """(pid, [job write end, result read end]) of each child announced since last time."""
    born = []
    while True:
        try:
            data, ancdata, _, _ = birth.recvmsg(proto.MAX_CONTROL, socket.CMSG_SPACE(16))
        except (BlockingIOError, InterruptedError):
            return born
        fds = array.array("i")
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
        if data[:1] == proto.BORN and len(data) == 1 + proto.CHILD.size and len(fds) == 2:
            born.append((proto.CHILD.unpack(data[1:])[1], list(fds)))
        else:
            for fd in fds:
                os.close(fd)


def install_seccomp() -> bool:
    """Attach the zygote's filter, and check in a throwaway child that the children's
    attaches too: whether every child will run under both."""
    if FILTERS is None:
        return False
    try:
        FILTERS[0].load()
    except OSError:
        return False
    pid = os.fork()
    if pid == 0:
        try:
            FILTERS[1].load()
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def serve(ctl: socket.socket, birth: socket.socket, birth_child: socket.socket) -> None:
    LIBC.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphaned children come to us
    orders_r, orders_w = os.pipe()
    if os.fork() == 0:
        try:
            ctl.close()
            birth.close()
            os.close(orders_w)
            template_main(orders_r, birth_child)
        finally:
            os._exit(0)
    os.close(orders_r)
    birth_child.close()
    birth.setblocking(False)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    signal.set_wakeup_fd(wake_w)
    children: dict[int, int] = {}  # pid -> child id
    next_id = 0
    while True:
        ready, _, _ = select.select([ctl, birth, wake_r], [], [])
        if wake_r in ready:
            try:
                os.read(wake_r, 4096)
            except BlockingIOError:
                pass
        for pid, fds in receive_births(birth):  # before reaping: a child may already be gone
            next_id += 1
            children[pid] = next_id
            send_control(ctl, proto.BORN + proto.CHILD.pack(next_id, pid), fds)
            for fd in fds:
                os.close(fd)
        while True:  # reap every child that has exited, and say so
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            # An unknown pid died before announcing itself (a child, or the template): the
            # caller's fork is lost, and a caller that gets no child starts a new zygote.
            send_control(ctl, proto.EXITED + proto.EXIT.pack(children.pop(pid, 0), status))
        if ctl not in ready:
            continue
        message = ctl.recv(proto.MAX_CONTROL)
        tag = message[:1]
        if not message or tag == proto.QUIT:
            for pid in children:  # the template exits when the orders pipe closes
                os.kill(pid, signal.SIGKILL)
            return
        if tag == proto.FORK:
            os.write(orders_w, b"F")
        elif tag == proto.KILL and len(message) == 1 + proto.CHILD.size:
            _, pid = proto.CHILD.unpack(message[1:])
            if pid in children:
                os.kill(pid, signal.SIGKILL)


def main() -> None:
    global CONFIG, SPACE, FILTERS, CHILD_FILTER, SECCOMP_ON, LIBC
    CONFIG = json.loads(sys.argv[1])
    import ctypes  # before anything may drop privileges: prctl for the subreaper and seccomp

    LIBC = ctypes.CDLL(None, use_errno=True)
    devnull = os.open(os.devnull, os.O_RDWR)
    if os.environ.get("AZR_WORKER_DEBUG"):
        devnull = os.dup(2)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)
    ctl = socket.socket(fileno=CONFIG["control_fd"])

    # Seed class 1 is the second opinion: shift every small-object size class and the mmap
    # area, so that a program whose output depends on addresses fails validation.
    global LAYOUT_SHIFT
    shift = 3 * CONFIG["random_seed"]
    LAYOUT_SHIFT = [object() for _ in range(shift)] + [float(i) for i in range(shift)]  # 16, 32 bytes
    LAYOUT_SHIFT += [bytes(n) for n in range(1, 513) for _ in range(shift)]  # 48 to 512 bytes
    LAYOUT_SHIFT.append(bytearray(300_000 * CONFIG["random_seed"]))  # the mmap area
    mods = load_modules()
    SPACE = load_jobspace()
    SPACE["TEMPLATES"] = build_templates(mods, SPACE)
    SPACE["SHARED_IDS"] = {id(v) for t in SPACE["TEMPLATES"].values() for v in t.values()}
    SPACE["configure"](CONFIG["clock"], CONFIG["random_seed"])
    freeze_datetime(mods["datetime"], SPACE)
    harden_stdlib(mods, SPACE)
    import decimal

    decimal.setcontext(decimal.Context())
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)  # sizes are bounded by inspect_value instead
    signal.signal(signal.SIGALRM, on_alarm)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    FILTERS = build_seccomp_filters(CONFIG.get("seccomp_path"))
    births = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)  # before seccomp refuses it
    dropped = drop_root() if not CONFIG["jailed"] else False
    SECCOMP_ON = seccomp_on = install_seccomp()
    CHILD_FILTER = FILTERS[1] if FILTERS else None
    gc.collect()
    gc.freeze()  # the start-up heap is never scanned again: children's collections stay cheap
    gc.disable()
    hello = {"pid": os.getpid(), "seccomp": seccomp_on, "uid": os.getuid(), "dropped_root": dropped,
             "hash_seed": os.environ.get("PYTHONHASHSEED")}
    send_control(ctl, proto.HELLO + json.dumps(hello).encode())
    serve(ctl, *births)


CONFIG: dict = {}
LAYOUT_SHIFT: list = []
SPACE: dict = {}
FILTERS = None
CHILD_FILTER = None
SECCOMP_ON = False
LIBC = None

if __name__ == "__main__":
    main()
