"""The sandbox worker: a warm process that runs jobs one after another, sharing no state.

Started by :mod:`azr_env.executor.executor` (inside bubblewrap when the host allows it) as
``python -I -S -B _worker.py CONFIG_JSON``.  It reads job batches on fd 0 and writes one
result frame per job on the fd named in its config, each a 4-byte big-endian length and a pickle.  Standard
output and error go to /dev/null, so nothing a program prints can pass for a result.

Start-up: import every allowed module, prepare per-module templates, set the rlimits,
drop to an unprivileged uid when running as root without a jail, install the seccomp
filter, freeze the garbage collector's view of the heap, then say hello.

Each job gets a fresh globals dict, a fresh builtins dict (no ``open``/``eval``/...,
guarded ``getattr``/``setattr``/``__import__``), fresh copies of the modules it imports
(so ``math.pi = 3`` changes only its own copy), its own ``random`` state and decimal
context, and a write guard that refuses attribute writes to objects it did not create.
Its garbage is collected, and its finalisers run, inside its own time limit.

This file imports only the standard library (plus pyseccomp, by path) and must not
import ``azr_env``.
"""

from __future__ import annotations

import builtins
import gc
import json
import os
import pickle
import resource
import signal
import struct
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import policy  # noqa: E402
import values  # noqa: E402

sys.path.remove(HERE)

_FRAME = struct.Struct(">I")
JOB_PREFIX = "__azr_job_"


class _JobTimeout(BaseException):
    """Raised by the alarm inside a job.  A program may catch it; the parent then kills."""


# ---------------------------------------------------------------------------------------
# Start-up: modules and their per-job templates
# ---------------------------------------------------------------------------------------
_REMOVED_ATTRS = {
    "string": {"Formatter"},  # Formatter().get_field resolves "0.__globals__"-style paths
    "typing": {"get_type_hints", "ForwardRef"},  # evaluate strings with real builtins
}


def _load_modules() -> dict[str, types.ModuleType]:
    import importlib

    mods = {}
    for name in sorted(policy.ALLOWED_MODULES):
        mods[name] = importlib.import_module(name)
    # Lazily imported pieces of allowed modules, imported now so no job needs the disk.
    for extra in ("encodings.idna", "_strptime"):
        try:
            importlib.import_module(extra)
        except ImportError:
            pass
    return mods


class _Sub:
    """Template marker: this attribute is an allowed module; substitute the job's copy."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class _Copy:
    """Template marker: a mutable object; give each job its own copy."""

    __slots__ = ("obj",)

    def __init__(self, obj: object) -> None:
        self.obj = obj


def _build_templates(mods: dict[str, types.ModuleType]) -> dict[str, dict]:
    import copy
    import decimal
    import random

    by_id = {id(m): n for n, m in mods.items()}
    templates: dict[str, dict] = {}
    for name, mod in mods.items():
        tpl = {}
        removed = _REMOVED_ATTRS.get(name, set())
        for key, val in vars(mod).items():
            if key.startswith("_") or key in removed:
                continue
            if isinstance(val, types.ModuleType):
                if id(val) in by_id:
                    tpl[key] = _Sub(by_id[id(val)])
                continue  # e.g. typing.sys, dataclasses.builtins: not reachable
            if type(val) in (list, dict, set, bytearray) or isinstance(val, decimal.Context):
                tpl[key] = _Copy(val)
                continue
            tpl[key] = val
        for sub in mods:  # collections.abc is reachable as collections.abc
            if sub.startswith(name + ".") and "." not in sub[len(name) + 1 :]:
                tpl[sub[len(name) + 1 :]] = _Sub(sub)
        templates[name] = tpl
    # random: module-level functions are bound methods of one shared Random instance.
    rnd = templates["random"]
    shared = random._inst  # type: ignore[attr-defined]
    for key, val in list(rnd.items()):
        if getattr(val, "__self__", None) is shared:
            rnd[key] = ("random-method", val.__name__)
    # operator: attrgetter/methodcaller take attribute names as strings.
    templates["operator"]["attrgetter"] = _safe_attrgetter
    templates["operator"]["methodcaller"] = _safe_methodcaller
    del copy
    return templates


def _check_attr_name(name: object, private_ok: bool = True) -> str:
    """Refuse attribute names the policy refuses (and, where asked, private or format)."""
    if type(name) is not str:
        raise TypeError("attribute name must be a str")
    for part in name.split("."):
        if not policy.attribute_allowed(part):
            raise AttributeError(f"attribute '{part}' is not allowed in the sandbox")
        if not private_ok and (part.startswith("_") or part in policy.GUARDED_READS):
            raise AttributeError(f"attribute '{part}' is not allowed here in the sandbox")
    return name


def _safe_attrgetter(*names):
    import operator

    return operator.attrgetter(*[_check_attr_name(n, private_ok=False) for n in names])


def _safe_methodcaller(name, /, *args, **kwargs):
    import operator

    if "." in _check_attr_name(name, private_ok=False):
        raise AttributeError("method name must not contain '.'")
    return operator.methodcaller(name, *args, **kwargs)


# ---------------------------------------------------------------------------------------
# Builtins
# ---------------------------------------------------------------------------------------
_SAFE_BUILTIN_NAMES = (
    "abs all any ascii bin bool bytearray bytes callable chr classmethod complex dict "
    "dir divmod enumerate filter float format frozenset hash hex id int isinstance "
    "issubclass iter len list map max min next object oct ord pow property range repr "
    "reversed round set slice sorted staticmethod str sum super tuple type zip memoryview "
    "aiter anext NotImplemented Ellipsis False True None"
).split()

_real_getattr = builtins.getattr
_real_hasattr = builtins.hasattr
_real_setattr = builtins.setattr
_real_delattr = builtins.delattr


def _print(*args, **kwargs) -> None:
    """print() is accepted and discarded: output is never read."""


def _base_builtins() -> dict:
    base = {name: getattr(builtins, name) for name in _SAFE_BUILTIN_NAMES}
    for name, val in vars(builtins).items():
        if isinstance(val, type) and issubclass(val, BaseException) and not name.startswith("_"):
            base[name] = val
    base["print"] = _print
    base["__build_class__"] = builtins.__build_class__
    return base


# ---------------------------------------------------------------------------------------
# One job's world
# ---------------------------------------------------------------------------------------
class _Job:
    """Everything one job may touch: its builtins, module copies and write guard."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.copies: dict[str, types.ModuleType] = {}
        self.copy_ids: set[int] = set()
        self.random = None
        b = dict(BASE_BUILTINS)
        b["__import__"] = self.import_
        b[policy.WRITE_GUARD] = self.write_guard
        b[policy.READ_GUARD] = self.read_guard
        b["getattr"] = self.getattr
        b["hasattr"] = self.hasattr
        b["setattr"] = self.setattr
        b["delattr"] = self.delattr
        self.builtins = b

    def module(self, name: str) -> types.ModuleType:
        mod = self.copies.get(name)
        if mod is not None:
            return mod
        import copy
        import random

        mod = types.ModuleType(name)
        self.copies[name] = mod
        self.copy_ids.add(id(mod))
        ns = mod.__dict__
        for key, val in TEMPLATES[name].items():
            kind = type(val)
            if kind is _Sub:
                val = self.module(val.name)
            elif kind is _Copy:
                val = copy.copy(val.obj)
            elif kind is tuple and val and val[0] == "random-method":
                if self.random is None:
                    self.random = random.Random()
                val = getattr(self.random, val[1])
            ns[key] = val
        return mod

    def import_(self, name, globals=None, locals=None, fromlist=(), level=0):
        if level or type(name) is not str or not policy.module_allowed(name):
            raise ImportError(f"import of module '{name}' is not allowed in the sandbox")
        mod = self.module(name)
        if fromlist:
            return mod
        return self.module(name.partition(".")[0])

    def owns(self, obj: object) -> bool:
        """Whether the job may write attributes of ``obj`` and read its private ones.

        Yes for its module copies, the classes and functions it defined, and instances
        it can have made itself; no for shared classes, functions, modules, module-level
        singletons, and instances of classes from modules that cache and hand the same
        object to every job (``typing.List[int]``, ``re.I | re.M``, enum members).
        """
        if id(obj) in self.copy_ids:
            return True
        kind = type(obj)
        if issubclass(kind, type) or kind is types.FunctionType:
            return _real_getattr(obj, "__module__", None) == self.name
        if kind in _NEVER_OWNED or id(obj) in SHARED_IDS:
            return False
        return _real_getattr(kind, "__module__", None) not in _CACHING_MODULES

    def write_guard(self, obj):
        if not self.owns(obj):
            raise PermissionError(
                f"the sandbox does not allow changing attributes of {values._type_name(obj)} "
                "objects the program did not create"
            )
        return obj

    def read_guard(self, obj, name: str):
        """``obj._private`` and ``obj.format`` as compiled by the policy."""
        if name in policy.GUARDED_READS:
            attr = _real_getattr(obj, name)
            if obj is str:
                return _UNBOUND_FORMAT[name]
            if isinstance(obj, str):
                return _bound_format(obj, name)
            return attr
        if not self.owns(obj):
            raise AttributeError(
                f"private attribute '{name}' of {values._type_name(obj)} objects is not accessible "
                "in the sandbox"
            )
        return _real_getattr(obj, name)

    def getattr(self, obj, name, *default):
        _check_attr_name(name)
        if name.startswith("_") or name in policy.GUARDED_READS:
            try:
                return self.read_guard(obj, name)
            except AttributeError:
                if default:
                    return default[0]
                raise
        return _real_getattr(obj, name, *default)

    def hasattr(self, obj, name):
        try:
            self.getattr(obj, name)
        except AttributeError:
            return False
        return True

    def setattr(self, obj, name, value):
        if policy.is_dunder(_check_attr_name(name)):
            raise AttributeError(f"assignment to attribute '{name}' is not allowed")
        _real_setattr(self.write_guard(obj), name, value)

    def delattr(self, obj, name):
        if policy.is_dunder(_check_attr_name(name)):
            raise AttributeError(f"deleting attribute '{name}' is not allowed")
        _real_delattr(self.write_guard(obj), name)


_NEVER_OWNED = (types.ModuleType, types.BuiltinFunctionType, types.MethodType)
_CACHING_MODULES = frozenset({"typing", "re", "enum", "abc", "collections.abc", "numbers"})


def _check_format_string(fmt: str, depth: int = 0) -> None:
    """Refuse format fields that walk to attributes the policy refuses ("{0.__globals__}")."""
    import _string

    for _, field, spec, _ in _string.formatter_parser(fmt):
        if field is not None:
            _, rest = _string.formatter_field_name_split(field)
            for is_attr, key in rest:
                if is_attr and (key.startswith("_") or not policy.attribute_allowed(key)):
                    raise ValueError(f"format field '{field}' reaches attribute '{key}': not allowed")
        if spec and depth < 3:
            _check_format_string(spec, depth + 1)


def _bound_format(text: str, name: str):
    method = getattr(str, name)

    def checked(*args, **kwargs):
        _check_format_string(text)
        return method(text, *args, **kwargs)

    return checked


def _unbound_format(name: str):
    method = getattr(str, name)

    def checked(text, *args, **kwargs):
        if isinstance(text, str):
            _check_format_string(text)
        return method(text, *args, **kwargs)

    return checked


_UNBOUND_FORMAT = {name: _unbound_format(name) for name in policy.GUARDED_READS}


def _harden_stdlib(mods: dict[str, types.ModuleType]) -> None:
    """Close paths by which a job could reach code generation or shared mutable state.

    * ``dataclasses`` writes field names into the source of the methods it generates and
      ``exec``s it; a name such as ``"x,__import__('os')..."`` (set through ``type()``'s
      namespace) would run unchecked.  Field names must be plain identifiers.
    * ``typing.get_type_hints`` (used by ``functools.singledispatch``) evaluates string
      annotations; in the sandbox only non-string annotations are read.
    * Public mutable containers held by classes of allowed modules (textwrap's translation
      table) become read-only, since a class is shared by every job.
    """
    import dataclasses
    import keyword
    import typing

    get_field = getattr(dataclasses, "_get_field", None)
    if get_field is None:  # an unknown Python: rather no dataclasses than an open door
        del mods["dataclasses"]
        TEMPLATES.pop("dataclasses", None)
    else:
        def checked_get_field(cls, a_name, *rest, **kwargs):
            if not (isinstance(a_name, str) and a_name.isidentifier() and not keyword.iskeyword(a_name)
                    and not policy.is_dunder(a_name)):
                raise TypeError(f"dataclass field name {a_name!r} is not a plain identifier")
            return get_field(cls, a_name, *rest, **kwargs)

        dataclasses._get_field = checked_get_field

    def get_type_hints(obj, globalns=None, localns=None, include_extras=False):
        hints = dict(getattr(obj, "__annotations__", None) or {})
        for key, value in hints.items():
            if isinstance(value, (str, typing.ForwardRef)):
                raise TypeError(f"string annotations are not evaluated in the sandbox ({key!r})")
        return hints

    typing.get_type_hints = get_type_hints
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


def _guarded_abc_register(cls, subclass):
    """ABCMeta.register on a shared ABC would change isinstance() for later jobs."""
    if _real_getattr(cls, "__module__", None) != CURRENT["job"]:
        raise TypeError("registering classes with a shared ABC is not allowed in the sandbox")
    return _ORIGINAL_ABC_REGISTER(cls, subclass)


# ---------------------------------------------------------------------------------------
# Running jobs
# ---------------------------------------------------------------------------------------
CURRENT = {"job": "", "armed": False, "fired": False, "promoted": False}
_PROGRAM_CACHE: dict[str, object] = {}
_CALL_CACHE: dict[str, object] = {}
_CACHE_LIMIT = 512


def _on_alarm(signum, frame):
    if CURRENT["armed"]:
        CURRENT["fired"] = True
        raise _JobTimeout()


def _compiled(cache: dict, key: str, build):
    """Compile once per distinct source; cache the code or the error."""
    entry = cache.get(key)
    if entry is None:
        try:
            entry = build(key)
        except SyntaxError as exc:
            where = f" (line {exc.lineno})" if exc.lineno else ""
            entry = ("error", f"SyntaxError: {exc.msg}{where}")
        except policy.PolicyViolation as exc:
            entry = ("rejected", str(exc))
        except (ValueError, TypeError, OverflowError, MemoryError, RecursionError) as exc:
            # ast/compile raise these for null bytes, huge literals, deep nesting.
            entry = ("error", f"{type(exc).__name__}: {exc}")
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[key] = entry
    return entry


def _build_program(src: str):
    if CONFIG["policy"]:
        return policy.compile_program(src)
    return compile(src, "<program>", "exec")


def _build_call(args: str):
    if CONFIG["policy"]:
        return policy.compile_call(args)
    return compile(f"f(\n{args}\n)", "<args>", "eval")


def _describe(exc: BaseException) -> str:
    name = type(exc).__name__
    try:
        msg = str(exc)
    except BaseException:  # a program's exception with a broken __str__
        msg = "<unprintable message>"
    text = f"{name}: {msg}" if msg else name
    return text if len(text) <= 2000 else text[:2000] + "..."


def run_job(counter: int, program: str, args: str, calls: int):
    """Run one job; returns (status, output, value, error, recycle)."""
    job = _Job(f"{JOB_PREFIX}{counter}__")
    CURRENT["job"] = job.name
    CURRENT["fired"] = False
    limits = CONFIG
    status, output, value, error, recycle = "error", None, None, None, False
    g: dict = {}
    results: list = []
    CURRENT["promoted"] = False
    try:
        CURRENT["armed"] = True
        signal.setitimer(signal.ITIMER_REAL, limits["timeout_s"])
        prog = _compiled(_PROGRAM_CACHE, program, _build_program)
        call = _compiled(_CALL_CACHE, args, _build_call)
        bad = prog if type(prog) is tuple else call if type(call) is tuple else None
        if bad is not None:
            status, error = bad
        else:
            g = {"__builtins__": job.builtins if limits["policy"] else builtins.__dict__,
                 "__name__": job.name}
            gc.enable()
            exec(prog, g)
            if not callable(g.get("f")):
                raise NameError("the program does not define a function f")
            for _ in range(calls):
                results.append(eval(call, g))
            status = "ok"
    except _JobTimeout:
        status, error = "timeout", f"timed out after {limits['timeout_s']} s"
    except MemoryError:
        status, error, recycle = "memory", f"out of memory (limit {limits['memory_mb']} MB)", True
    except BaseException as exc:  # the program's own errors, SystemExit and friends
        status, error = "error", _describe(exc)
    try:
        if status == "ok":
            status, output, value, error = _canonical(results)
        results.clear()
        g.clear()
        gc.disable()  # our own collection below must not count as the job's
        _collect_job_garbage()
    except _JobTimeout:
        status, output, value, error = "timeout", None, None, f"timed out after {limits['timeout_s']} s"
    except MemoryError:
        status, output, value, error, recycle = "memory", None, None, "out of memory", True
    except BaseException as exc:
        status, output, value, error = "error", None, None, _describe(exc)
    finally:
        CURRENT["armed"] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        gc.disable()
    if CURRENT["fired"] and status != "timeout":
        # The program caught the alarm and went on: its result does not count.
        status, output, value, error = "timeout", None, None, f"timed out after {limits['timeout_s']} s"
    if job.copies:
        _reset_shared_state()
    return status, output, value, error, recycle


def _note_collection(phase: str, info: dict) -> None:
    """gc callback: remember that a collection of generation 1 or 2 ran during the job."""
    if phase == "stop" and info["generation"] >= 1:
        CURRENT["promoted"] = True


def _collect_job_garbage() -> None:
    """Collect the job's cyclic garbage (and run its finalisers) inside its time limit.

    Collecting generations 0 and 1 is enough unless a collection during the job promoted
    some of its objects to generation 2; a full collection costs more (it also clears
    free lists), so it runs only then.
    """
    gc.collect(2 if CURRENT["promoted"] else 1)


def _canonical(results: list):
    texts = []
    for result in results:
        try:
            has_set = values.inspect_value(result, CONFIG["max_output_items"], CONFIG["max_output_chars"])
        except values.ValueRejected as exc:
            status = "unsupported_value" if exc.kind == "unsupported" else "output_too_large"
            return status, None, None, str(exc)
        text = values.canonical_repr(result, has_set)
        if len(text) > CONFIG["max_output_chars"]:
            limit = CONFIG["max_output_chars"]
            return "output_too_large", None, None, f"output is longer than {limit} characters"
        texts.append(text)
    if any(t != texts[0] for t in texts[1:]):
        return "nondeterministic", None, None, (
            f"two calls with the same input returned different outputs: {texts[0][:200]} != {texts[1][:200]}"
        )
    return "ok", texts[0], results[0], None


def _reset_shared_state() -> None:
    import decimal

    decimal.setcontext(PRISTINE_DECIMAL.copy())


# ---------------------------------------------------------------------------------------
# Process set-up
# ---------------------------------------------------------------------------------------
def _set_limits() -> None:
    mb = CONFIG["memory_mb"]
    wanted = {
        resource.RLIMIT_AS: mb * 2**20,
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_FSIZE: 16 * 2**20,
        resource.RLIMIT_NOFILE: 64,
        resource.RLIMIT_NPROC: 0,
    }
    for res, lim in wanted.items():
        try:
            resource.setrlimit(res, (lim, lim))
        except (ValueError, OSError):
            pass
    # CPU: a lifetime cap as the hard limit; each job lowers the soft limit (see _cpu_guard).
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (CONFIG["cpu_lifetime_s"], CONFIG["cpu_lifetime_s"] + 5))
    except (ValueError, OSError):
        pass


def _cpu_guard(n_jobs: int) -> None:
    """Soft CPU limit for the next jobs: a backstop behind the parent's wall-clock kill."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = used.ru_utime + used.ru_stime
    soft = int(spent + (CONFIG["timeout_s"] + 2) * n_jobs) + 1
    try:
        lifetime = CONFIG["cpu_lifetime_s"]
        resource.setrlimit(resource.RLIMIT_CPU, (min(soft, lifetime), lifetime + 5))
    except (ValueError, OSError):
        pass


_DENIED_SYSCALLS = (
    "socket socketpair connect bind listen accept accept4 sendto sendmsg sendmmsg recvfrom "
    "recvmsg recvmmsg clone clone3 fork vfork execve execveat kill tkill tgkill "
    "rt_sigqueueinfo rt_tgsigqueueinfo pidfd_open pidfd_send_signal pidfd_getfd ptrace "
    "process_vm_readv process_vm_writev mount umount2 pivot_root chroot setns unshare "
    "keyctl add_key request_key bpf perf_event_open userfaultfd io_uring_setup "
    "io_uring_enter io_uring_register personality reboot kexec_load kexec_file_load "
    "init_module finit_module delete_module swapon swapoff acct settimeofday clock_settime "
    "adjtimex clock_adjtime sethostname setdomainname iopl ioperm quotactl "
    "name_to_handle_at open_by_handle_at open_tree move_mount fsopen fsconfig fsmount "
    "fspick openat2 mknod mknodat mkdir mkdirat rmdir unlink unlinkat rename renameat "
    "renameat2 link linkat symlink symlinkat chmod fchmod fchmodat chown fchown lchown "
    "fchownat truncate ftruncate creat memfd_create setuid setgid setreuid setregid "
    "setresuid setresgid setgroups capset"
).split()


def _install_seccomp() -> bool:
    path = CONFIG.get("seccomp_path")
    if not path:
        return False
    sys.path.insert(0, path)
    try:
        import errno

        import pyseccomp as seccomp
    except Exception:
        return False
    finally:
        sys.path.remove(path)
    try:
        filt = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        for name in _DENIED_SYSCALLS:
            try:
                filt.add_rule(seccomp.ERRNO(errno.EPERM), name)
            except Exception:
                pass  # not a syscall on this architecture
        # open/openat for writing or creating: refused even where the filesystem is not
        # read-only (no jail).  Pipes already open are unaffected.
        for flag in (os.O_WRONLY, os.O_RDWR, os.O_CREAT, os.O_TRUNC, os.O_APPEND):
            refuse = seccomp.ERRNO(errno.EACCES)
            filt.add_rule(refuse, "openat", seccomp.Arg(2, seccomp.MASKED_EQ, flag, flag))
            filt.add_rule(refuse, "open", seccomp.Arg(1, seccomp.MASKED_EQ, flag, flag))
        filt.load()
        return True
    except Exception:
        return False


def _drop_root() -> bool:
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


def _read_exact(fd: int, n: int) -> bytes:
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _send(obj) -> None:
    # Protocol 3: explicit memo indices, so the parent can read many frames with one
    # unpickler (protocol 4's implicit MEMOIZE numbering would carry over between frames).
    data = pickle.dumps(obj, protocol=3)
    data = _FRAME.pack(len(data)) + data
    view = memoryview(data)
    while view:
        view = view[os.write(CONFIG["result_fd"], view):]


def main() -> None:
    global CONFIG, TEMPLATES, BASE_BUILTINS, SHARED_IDS, PRISTINE_DECIMAL, _ORIGINAL_ABC_REGISTER
    CONFIG = json.loads(sys.argv[1])
    devnull = os.open(os.devnull, os.O_RDWR)
    if os.environ.get("AZR_WORKER_DEBUG"):
        devnull = os.dup(2)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)

    mods = _load_modules()
    TEMPLATES = _build_templates(mods)
    _harden_stdlib(mods)
    BASE_BUILTINS = _base_builtins()
    SHARED_IDS = frozenset(id(v) for t in TEMPLATES.values() for v in t.values())
    import abc
    import decimal

    PRISTINE_DECIMAL = decimal.Context()
    decimal.setcontext(PRISTINE_DECIMAL.copy())
    _ORIGINAL_ABC_REGISTER = abc.ABCMeta.register
    abc.ABCMeta.register = _guarded_abc_register
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)  # sizes are bounded by inspect_value instead
    signal.signal(signal.SIGALRM, _on_alarm)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)

    _set_limits()
    dropped = _drop_root() if not CONFIG["jailed"] else False
    seccomp_on = _install_seccomp()
    gc.collect()
    gc.freeze()  # the start-up heap is never scanned again: per-job collections stay cheap
    gc.disable()
    gc.callbacks.append(_note_collection)
    _send(("hello", {"pid": os.getpid(), "seccomp": seccomp_on, "uid": os.getuid(),
                     "dropped_root": dropped, "hash_seed": os.environ.get("PYTHONHASHSEED")}))

    counter = 0
    while True:
        try:
            (size,) = _FRAME.unpack(_read_exact(0, 4))
            batch = pickle.loads(_read_exact(0, size))
        except EOFError:
            return
        _cpu_guard(len(batch))
        for job_id, program, args, calls in batch:
            counter += 1
            start = time.perf_counter()
            status, output, value, error, recycle = run_job(counter, program, args, calls)
            duration = time.perf_counter() - start
            try:
                _send((job_id, status, output, value, error, duration, recycle))
            except (pickle.PicklingError, RecursionError, ValueError, TypeError) as exc:
                _send((job_id, "error", None, None, f"result could not be sent: {exc}", duration, True))


CONFIG: dict = {}
TEMPLATES: dict = {}
BASE_BUILTINS: dict = {}
SHARED_IDS: frozenset = frozenset()
PRISTINE_DECIMAL = None
_ORIGINAL_ABC_REGISTER = None

if __name__ == "__main__":
    main()
