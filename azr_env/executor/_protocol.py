"""The wire formats between the caller, the zygote and the sandboxed children.

Three channels, each one way, each with a bounded frame size:

* **caller -> child** (the child's job pipe): one :data:`LENGTH` prefix and a pickle of the
  job.  The caller is trusted; the child is a fresh fork that has run nothing yet.
* **child -> caller** (the child's result pipe): fixed-size :data:`HEADER` records, each
  followed by ``length`` bytes of UTF-8 text.  The caller trusts nothing here: kinds,
  statuses and indices are checked, lengths are bounded before anything is read, and the
  only payload is text (a canonical output, or an error message) that the caller parses
  with a non-evaluating parser when it needs the value.
* **caller <-> zygote** (a ``SOCK_SEQPACKET`` socket): short messages, and the child's two
  pipe ends passed with ``SCM_RIGHTS``.

This module imports only the standard library: the sandbox loads it by path.
"""

from __future__ import annotations

import struct

LENGTH = struct.Struct(">I")

# child -> caller records: kind, status, input index, duration (s), text length
HEADER = struct.Struct(">BBIdI")
STARTED, RESULT, DONE = 1, 2, 3

# Status codes on the wire (the caller maps them to its Status enum).
STATUS_CODES = ("ok", "error", "timeout", "memory", "rejected", "unsupported_value",
                "output_too_large", "nondeterministic")
CODE = {name: i for i, name in enumerate(STATUS_CODES)}

MAX_ERROR_CHARS = 2000
"""Error messages are cut to this many characters in the child."""

# caller <-> zygote messages: one tag byte, then a struct.
FORK = b"F"  # caller asks for one more idle child
KILL = b"K"  # caller asks the zygote to kill a child: + CHILD
QUIT = b"Q"
HELLO = b"H"  # zygote is ready: + JSON
BORN = b"C"  # a new idle child: + CHILD, with [job write end, result read end] as SCM_RIGHTS
EXITED = b"X"  # a child was reaped: + EXIT
CHILD = struct.Struct(">II")  # child id, pid (in the jail's PID namespace)
EXIT = struct.Struct(">Ii")  # child id, raw wait status
MAX_CONTROL = 4096
