"""Everything a sandboxed program can touch: its builtins, imports, guards, clock and random.

This file is never imported.  The zygote (``_zygote.py``) reads it and ``exec``s it into a
fresh dictionary that holds only what the zygote injects (the names listed under
``Injected`` below) and a small ``__builtins__``: no module object, none of the zygote's
own functions or state.  So every function and class defined here, and so every object a
program is handed, has a ``__globals__`` that leads nowhere: not to the zygote, its
configuration or its pipes.  (The source policy and the guards below keep programs from
reading ``__globals__`` at all; this is the layer behind them.)

One :class:`World` is made per run (one call of ``f`` on one input): fresh builtins,
fresh copies of the modules the program imports, its own ``random`` state seeded the same
way every time, and a frozen clock.  Within one zygote every run therefore sees the same
clock, the same random numbers and the same string-hash seed; the second-opinion zygote of
``validate`` sees other ones, so a program that depends on any of them is caught there and
can never behave one way when validated and another when scored.
"""

# Injected by the zygote (stdlib objects and plain data; see _zygote.py):
#   TEMPLATES      module name -> {attribute: value | Sub | Copy | ("random-method", name)}
#   SHARED_IDS     ids of every object in TEMPLATES (never writable by a job)
#   POLICY         the source policy's name sets and the dunder pattern
#   INTERNAL       modules stdlib C code imports at call time (``_strptime``), by name
#   SAFE_BUILTINS  the builtins a job gets (name -> object)
#   ModuleType, FunctionType, copy_copy, RealRandom, real_time, real_build_class
#   formatter_parser, formatter_field_name_split, update_wrapper, WRAPPER_ASSIGNMENTS,
#   WRAPPER_UPDATES, iskeyword, ForwardRef, real_abc_register, real_deepcopy
# Set per zygote by configure():
#   CLOCK, RANDOM_SEED

CLOCK = 0.0
RANDOM_SEED = 0
JOB_NAME = "__azr_program__"
"""The ``__name__`` of every program's globals: its classes and functions carry it as their
``__module__``, which is how the guards tell what the program made.  One process runs one
program, so one name serves."""


class Sub:
    """Template marker: this attribute is an allowed module; substitute the job's copy."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


class Copy:
    """Template marker: a mutable object; give each job its own copy."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj


# ---------------------------------------------------------------------------------------
# Attribute names
# ---------------------------------------------------------------------------------------
def is_dunder(name):
    return POLICY["dunder"].match(name) is not None  # noqa: F821


def attribute_allowed(name):
    if name in POLICY["forbidden_attrs"]:  # noqa: F821
        return False
    return not is_dunder(name) or name in POLICY["safe_dunder_attrs"]  # noqa: F821


def check_attr_name(name, private_ok=True):
    """Refuse attribute names the policy refuses (and, where asked, private or format)."""
    if type(name) is not str:
        raise TypeError("attribute name must be a str")
    for part in name.split("."):
        if not attribute_allowed(part):
            raise AttributeError(f"attribute '{part}' is not allowed in the sandbox")
        if not private_ok and (part.startswith("_") or part in POLICY["guarded_reads"]):  # noqa: F821
            raise AttributeError(f"attribute '{part}' is not allowed here in the sandbox")
    return name


def check_format_string(fmt, depth=0):
    """Refuse format fields that walk to private or dunder attributes ("{0.__globals__}")."""
    for _, field, spec, _ in formatter_parser(fmt):  # noqa: F821
        if field is not None:
            _, rest = formatter_field_name_split(field)  # noqa: F821
            for is_attr, key in rest:
                if is_attr and (key.startswith("_") or not attribute_allowed(key)):
                    raise ValueError(f"format field '{field}' reaches attribute '{key}': not allowed")
        if spec and depth < 3:
            check_format_string(spec, depth + 1)


def checked_format(method):
    """``str.format``/``format_map`` as an unbound function that checks its template."""

    def checked(text, *args, **kwargs):
        if isinstance(text, str):
            check_format_string(text)
        return method(text, *args, **kwargs)

    return checked


UNBOUND_FORMAT = {"format": checked_format(str.format), "format_map": checked_format(str.format_map)}
STR_FORMAT_METHODS = (str.format, str.format_map)


def guard_format(attr, name):
    """What ``obj.format`` gives a job: checked whenever it is ``str.format`` in some form.

    Covers ``s.format``, ``str.format``, ``S.format`` for a ``str`` subclass ``S``, and a
    ``super(S, s).format`` proxy, all of which reach the same builtin method.
    """
    if attr is str.format or attr is str.format_map:
        return UNBOUND_FORMAT[name]
    owner = getattr(attr, "__self__", None)
    if isinstance(owner, str) and getattr(attr, "__name__", None) == name:
        method = UNBOUND_FORMAT[name]

        def bound(*args, **kwargs):
            return method(owner, *args, **kwargs)

        return bound
    return attr


# ---------------------------------------------------------------------------------------
# operator.attrgetter / methodcaller: classes of ours, whose every use is checked
# ---------------------------------------------------------------------------------------
class attrgetter:  # noqa: N801 - the name operator gives it
    """``operator.attrgetter`` that reads through the sandbox's ``getattr``."""

    __slots__ = ("_names",)

    def __init__(self, attr, *attrs):
        names = (attr, *attrs)
        for name in names:
            check_attr_name(name, private_ok=False)
        self._names = names

    def __call__(self, obj):
        values = []
        for name in self._names:
            value = obj
            for part in check_attr_name(name, private_ok=False).split("."):
                value = getattr(value, part)
            values.append(value)
        return values[0] if len(values) == 1 else tuple(values)

    def __repr__(self):
        return f"operator.attrgetter({', '.join(map(repr, self._names))})"


class methodcaller:  # noqa: N801 - the name operator gives it
    """``operator.methodcaller`` that reads through the sandbox's ``getattr``."""

    __slots__ = ("_name", "_args", "_kwargs")

    def __init__(self, name, /, *args, **kwargs):
        if "." in check_attr_name(name, private_ok=False):
            raise AttributeError("method name must not contain '.'")
        self._name, self._args, self._kwargs = name, args, kwargs

    def __call__(self, obj):
        return getattr(obj, check_attr_name(self._name, private_ok=False))(*self._args, **self._kwargs)

    def __repr__(self):
        return f"operator.methodcaller({self._name!r})"


def checked_update_wrapper(wrapper, wrapped, assigned=None, updated=None):
    """``functools.update_wrapper`` limited to its default attribute lists (it reads and
    writes attributes by name)."""
    assigned = WRAPPER_ASSIGNMENTS if assigned is None else tuple(assigned)  # noqa: F821
    updated = WRAPPER_UPDATES if updated is None else tuple(updated)  # noqa: F821
    if not (set(assigned) <= set(WRAPPER_ASSIGNMENTS) and set(updated) <= set(WRAPPER_UPDATES)):  # noqa: F821
        raise AttributeError("update_wrapper copies only its default attributes in the sandbox")
    return update_wrapper(wrapper, wrapped, assigned, updated)  # noqa: F821


def checked_wraps(wrapped, assigned=None, updated=None):
    def decorator(wrapper):
        return checked_update_wrapper(wrapper, wrapped, assigned, updated)

    return decorator


# ---------------------------------------------------------------------------------------
# A frozen clock and seeded randomness
# ---------------------------------------------------------------------------------------
def clock():
    return CLOCK


def clock_ns():
    return int(CLOCK * 1e9)


def clock_gettime(clk_id):
    return CLOCK


def clock_gettime_ns(clk_id):
    return int(CLOCK * 1e9)


def localtime(secs=None):
    return real_time.localtime(CLOCK if secs is None else secs)  # noqa: F821


def gmtime(secs=None):
    return real_time.gmtime(CLOCK if secs is None else secs)  # noqa: F821


def ctime(secs=None):
    return real_time.ctime(CLOCK if secs is None else secs)  # noqa: F821


def asctime(t=None):
    return real_time.asctime(localtime() if t is None else t)  # noqa: F821


def strftime(format, t=None):  # noqa: A002 - the stdlib's parameter name
    return real_time.strftime(format, localtime() if t is None else t)  # noqa: F821


FROZEN_TIME = {
    "time": clock, "monotonic": clock, "perf_counter": clock, "process_time": clock, "thread_time": clock,
    "time_ns": clock_ns, "monotonic_ns": clock_ns, "perf_counter_ns": clock_ns,
    "process_time_ns": clock_ns, "thread_time_ns": clock_ns, "clock_gettime": clock_gettime,
    "clock_gettime_ns": clock_gettime_ns, "localtime": localtime, "gmtime": gmtime, "ctime": ctime,
    "asctime": asctime, "strftime": strftime,
}
TIME_KEEP = frozenset({"sleep", "mktime", "strptime", "struct_time", "get_clock_info", "timezone",
                       "altzone", "daylight", "tzname", "CLOCK_REALTIME", "CLOCK_MONOTONIC",
                       "CLOCK_PROCESS_CPUTIME_ID", "CLOCK_THREAD_CPUTIME_ID"})


class Random(RealRandom):  # noqa: F821
    """``random.Random`` whose default seed is the zygote's, never the OS's entropy."""

    def seed(self, a=None, version=2):
        super().seed(RANDOM_SEED if a is None else a, version)


def configure(clock_value, random_seed):
    """Fix this zygote's clock and random seed (called once, before any job)."""
    global CLOCK, RANDOM_SEED
    CLOCK, RANDOM_SEED = float(clock_value), int(random_seed)
    time_tpl = TEMPLATES.get("time")  # noqa: F821
    if time_tpl is not None:
        for key in list(time_tpl):
            if key not in TIME_KEEP:
                del time_tpl[key]
        time_tpl.update(FROZEN_TIME)
    random_tpl = TEMPLATES.get("random")  # noqa: F821
    if random_tpl is not None:
        random_tpl["Random"] = Random
        random_tpl.pop("SystemRandom", None)
    operator_tpl = TEMPLATES.get("operator")  # noqa: F821
    if operator_tpl is not None:
        operator_tpl["attrgetter"] = attrgetter
        operator_tpl["methodcaller"] = methodcaller
    copy_tpl = TEMPLATES.get("copy")  # noqa: F821
    if copy_tpl is not None:
        copy_tpl["deepcopy"] = deepcopy_without_memo
    functools_tpl = TEMPLATES.get("functools")  # noqa: F821
    if functools_tpl is not None:
        functools_tpl["update_wrapper"] = checked_update_wrapper
        functools_tpl["wraps"] = checked_wraps
    for value in (attrgetter, methodcaller, Random, checked_update_wrapper, checked_wraps,
                  deepcopy_without_memo, *FROZEN_TIME.values()):
        SHARED_IDS.add(id(value))  # noqa: F821


def make_checked_get_field(get_field):
    """``dataclasses`` writes field names into the source of the methods it generates and
    ``exec``s it; a name such as ``"x,__import__('os')..."`` (set through ``type()``'s
    namespace) would run unchecked.  Field names must be plain identifiers."""

    def checked_get_field(cls, a_name, *rest, **kwargs):
        if not (isinstance(a_name, str) and a_name.isidentifier() and not iskeyword(a_name)  # noqa: F821
                and not is_dunder(a_name)):
            raise TypeError(f"dataclass field name {a_name!r} is not a plain identifier")
        return get_field(cls, a_name, *rest, **kwargs)

    return checked_get_field


def make_uncompiled_forward_ref(init):
    """``typing.ForwardRef.__init__`` that compiles nothing: ``typing.List['...']`` would
    otherwise compile any text into a code object, which a program that reached it could
    turn into a function the policy never saw."""

    def uncompiled_init(self, arg, *args, **kwargs):
        init(self, "None", *args, **kwargs)
        self.__forward_arg__ = arg
        self.__forward_code__ = None

    return uncompiled_init


def make_guarded_reconstruct(reconstruct):
    """``copy._reconstruct`` that applies no state to a shared object: a program's
    ``__reduce_ex__`` may name any callable to rebuild from (a stdlib class, say), and the
    state would then be written into it with the real ``setattr``."""

    def guarded_reconstruct(x, memo, func, args, state=None, listiter=None, dictiter=None, **kwargs):
        if state is None and listiter is None and dictiter is None:
            return reconstruct(x, memo, func, args, **kwargs)

        def rebuilt(*rebuilt_args):
            y = func(*rebuilt_args)
            if isinstance(y, NEVER_OWNED) or id(y) in SHARED_IDS or (  # noqa: F821
                    isinstance(y, type) and not is_program_class(y)):
                raise TypeError("copy: the sandbox applies no state to an object the program did not make")
            return y

        return reconstruct(x, memo, rebuilt, args, state, listiter, dictiter, **kwargs)

    return guarded_reconstruct


def deepcopy_without_memo(x, memo=None, _nil=None):
    """``copy.deepcopy`` with a memo of its own: the one it is given would keep every
    original it copied (state dicts included) for the caller to read."""
    return real_deepcopy(x)  # noqa: F821


def get_type_hints(obj, globalns=None, localns=None, include_extras=False):
    """``typing.get_type_hints`` (used by ``functools.singledispatch``) evaluates string
    annotations with real builtins; in the sandbox only non-string annotations are read."""
    hints = dict(getattr(obj, "__annotations__", None) or {})
    for key, value in hints.items():
        if isinstance(value, (str, ForwardRef)):  # noqa: F821
            raise TypeError(f"string annotations are not evaluated in the sandbox ({key!r})")
    return hints


def print_nothing(*args, **kwargs):
    """print() is accepted and discarded: output is never read."""


# ---------------------------------------------------------------------------------------
# One run's world
# ---------------------------------------------------------------------------------------
# ---------------------------------------------------------------------------------------
# What the program made: classes by its class statements, functions by its def and lambda
# ---------------------------------------------------------------------------------------
PROGRAM_CLASSES = {}  # id -> class, kept alive so that an id is never reused
PROGRAM_FILES = frozenset({"<program>", "<args>"})


def build_class(func, name, *bases, **kwargs):
    """The ``__build_class__`` a program gets: records every class its class statements
    make.  A class's ``__module__`` says the same, but standard-library code can set it
    (``functools.update_wrapper``, ``copy``): this record cannot be forged."""
    cls = real_build_class(func, name, *bases, **kwargs)  # noqa: F821
    PROGRAM_CLASSES[id(cls)] = cls
    return cls


def is_program_class(cls):
    return PROGRAM_CLASSES.get(id(cls)) is cls


def is_program_function(fn):
    return type(fn) is FunctionType and fn.__code__.co_filename in PROGRAM_FILES  # noqa: F821


def guarded_abc_register(cls, subclass):
    """ABCMeta.register: only the program's own classes into its own ABCs (a shared ABC
    would change isinstance() for the standard library; a foreign class in an ABC of its
    own would make isinstance() lie about objects the program did not make)."""
    if not (is_program_class(cls) and is_program_class(subclass)):
        raise TypeError("registering this class is not allowed in the sandbox: only the program's own "
                        "classes, with its own ABCs")
    return real_abc_register(cls, subclass)  # noqa: F821


NEVER_OWNED = (ModuleType, type(len), type(print_nothing.__get__(0)), type)  # noqa: F821
CACHING_MODULES = frozenset({"typing", "re", "enum", "abc", "collections.abc", "numbers", "dataclasses"})
"""Modules whose objects a program may not write attributes of, even ones made for it:
shared, cached singletons, and ``dataclasses.Field`` (its name is pasted into generated
code when a subclass is processed)."""
OURS = frozenset({attrgetter, methodcaller, Random})
"""Classes of this file whose instances a program holds: never writable by it."""


NAMEDTUPLE_API = frozenset({"_asdict", "_replace", "_make", "_fields", "_field_defaults"})
"""Underscore names that are documented public API (``collections.namedtuple``)."""


def private_readable(obj, name, copy_ids):
    """A private attribute is readable only where the program defined it: in a class of
    its own, or on an instance of one.  Never one inherited from a standard-library class
    (``ForwardRef._evaluate`` through a subclass, ``Enum._convert_``)."""
    if id(obj) in copy_ids or name in NAMEDTUPLE_API:
        return True
    if isinstance(obj, type):
        classes = obj.__mro__
    else:
        kind = type(obj)
        if is_program_class(kind):
            instance_dict = getattr(obj, "__dict__", None)
            if type(instance_dict) is dict and name in instance_dict:
                return True
        classes = kind.__mro__
    for cls in classes:
        if name in cls.__dict__:
            return is_program_class(cls)
    return False


def owns(obj, copy_ids):
    """Whether a run may write attributes of ``obj``: its module copies, the classes and
    functions the program made, and instances it can have made itself; not shared
    classes, functions, modules, module-level singletons, objects of this file, nor
    instances of classes from modules that cache and hand the same object to every caller
    (``typing.List[int]``, ``re.I | re.M``, enum members)."""
    if id(obj) in copy_ids:
        return True
    kind = type(obj)
    if isinstance(obj, type):
        return is_program_class(obj)
    if kind is FunctionType:  # noqa: F821
        return is_program_function(obj)
    if isinstance(obj, NEVER_OWNED) or id(obj) in SHARED_IDS or kind in OURS:  # noqa: F821
        return False
    return getattr(kind, "__module__", None) not in CACHING_MODULES


def new_world():
    """The builtins of one run: fresh module copies, its own random state, and the guards.

    Everything is held in closures, not in an object: a program that copies one of these
    functions (``copy.deepcopy``) copies a function, and reaches nothing behind it.
    """
    copies = {}
    copy_ids = set()
    rng = []

    def module(name):
        mod = copies.get(name)
        if mod is not None:
            return mod
        mod = ModuleType(name)  # noqa: F821
        copies[name] = mod
        copy_ids.add(id(mod))
        ns = mod.__dict__
        for key, val in TEMPLATES[name].items():  # noqa: F821
            kind = type(val)
            if kind is Sub:
                val = module(val.name)
            elif kind is Copy:
                val = copy_copy(val.obj)  # noqa: F821
            elif kind is tuple and val and val[0] == "random-method":
                if not rng:
                    rng.append(Random(RANDOM_SEED))
                val = getattr(rng[0], val[1])
            ns[key] = val
        return mod

    def import_(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A002
        if type(name) is str and not level and name in INTERNAL:  # noqa: F821
            return INTERNAL[name]  # noqa: F821  # imported from C by a stdlib function
        if level or type(name) is not str or name not in POLICY["allowed_modules"]:  # noqa: F821
            raise ImportError(f"import of module '{name}' is not allowed in the sandbox")
        mod = module(name)
        if fromlist:
            return mod
        return module(name.partition(".")[0])

    def write_guard(obj):
        if not owns(obj, copy_ids):
            raise PermissionError(
                f"the sandbox does not allow changing attributes of {type(obj).__name__} "
                "objects the program did not create"
            )
        return obj

    def read_guard(obj, name):
        """``obj._private`` and ``obj.format`` as compiled by the policy."""
        if name in POLICY["guarded_reads"]:  # noqa: F821
            return guard_format(getattr(obj, name), name)
        if not private_readable(obj, name, copy_ids):
            raise AttributeError(
                f"private attribute '{name}' of {type(obj).__name__} objects is not accessible "
                "in the sandbox"
            )
        return getattr(obj, name)

    def getattr_(obj, name, *default):
        check_attr_name(name)
        try:
            if (name.startswith("_") and not is_dunder(name)) or name in POLICY["guarded_reads"]:  # noqa: F821
                return read_guard(obj, name)
            return getattr(obj, name)
        except AttributeError:
            if default:
                return default[0]
            raise

    def hasattr_(obj, name):
        try:
            getattr_(obj, name)
        except AttributeError:
            return False
        return True

    def setattr_(obj, name, value):
        if is_dunder(check_attr_name(name)):
            raise AttributeError(f"assignment to attribute '{name}' is not allowed")
        setattr(write_guard(obj), name, value)

    def delattr_(obj, name):
        if is_dunder(check_attr_name(name)):
            raise AttributeError(f"deleting attribute '{name}' is not allowed")
        delattr(write_guard(obj), name)

    for function, name in ((import_, "__import__"), (getattr_, "getattr"), (hasattr_, "hasattr"),
                           (setattr_, "setattr"), (delattr_, "delattr")):
        function.__name__ = function.__qualname__ = name
    world = dict(SAFE_BUILTINS)  # noqa: F821
    world.update({
        "print": print_nothing, "__build_class__": build_class, "__import__": import_,
        POLICY["write_guard"]: write_guard, POLICY["read_guard"]: read_guard,  # noqa: F821
        "getattr": getattr_, "hasattr": hasattr_, "setattr": setattr_, "delattr": delattr_,
    })
    return world
