"""The learner's side of the boundary: a process that holds the learner's module and answers requests.

It runs jailed (harness/jail/spawn.py) and imports nothing of the grader but this module and the
codec: no spec, oracle, test name or score is ever in this process. The grader sends requests
(load the file, get an attribute, call a function, apply an operator) as plain data; each reply is
plain data or a handle to an object that stays here. Before the learner's code runs, the limits are
made hard, root's identity is dropped, and the autodiff libraries are refused at import.

spawn.py's boot line calls main(read_fd, write_fd). Frames on the wire: a 4-byte big-endian length,
then one msgpack message (harness/jail/codec.py).
"""

from __future__ import annotations

import builtins
import contextlib
import importlib.abc
import io
import linecache
import operator
import os
import resource
import signal
import struct
import sys
import traceback
import types

from harness.jail.codec import Codec, CodecError

HEADER = struct.Struct(">I")
RECURSION_LIMIT = sys.getrecursionlimit()
MESSAGE_CAP = 4000  # characters of an exception's message sent back
OPERATORS = {name: getattr(operator, name) for name in (
    "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "neg", "pos", "abs",
    "lt", "le", "gt", "ge", "eq", "ne", "matmul",
)}  # fmt: skip
LIMITS = {
    "address_space": resource.RLIMIT_AS,
    "cpu_seconds": resource.RLIMIT_CPU,
    "file_size": resource.RLIMIT_FSIZE,
    "open_files": resource.RLIMIT_NOFILE,
    "processes": resource.RLIMIT_NPROC,
}


class TestTimeout(BaseException):
    """The time the grader gave this request ran out (SIGALRM); a BaseException so `except Exception` in
    the learner's code does not swallow it (and if it does, the alarm fires again every second)."""


SYMPY_DIFF = "sympy differentiation"  # a ByHandError's module when a numeric task asked sympy for a derivative


class ByHandError(ImportError):
    """An import of a library a by-hand kata forbids."""

    def __init__(self, module: str, message: str) -> None:
        super().__init__(message)
        self.module = module


class RefuseBanned(importlib.abc.MetaPathFinder):
    """Refuses the autodiff libraries by any spelling of import (import, __import__, importlib)."""

    def __init__(self, banned: list[str]) -> None:
        self.banned = frozenset(banned)

    def find_spec(self, fullname, path=None, target=None):
        root = fullname.partition(".")[0]
        if root in self.banned:
            raise ByHandError(root,
                f"import {fullname}: these katas are by hand, so {root} is not available while your code is graded."
                " Work the derivatives out yourself (plain Python, NumPy, or sympy where the kata asks for it)."
            )
        return None


class CappedWriter(io.TextIOBase):
    """sys.stdout and sys.stderr: the learner's prints go to the capture file until the cap, then are
    counted and dropped (RLIMIT_FSIZE stops writes that bypass this, such as os.write)."""

    def __init__(self, fd: int, cap: list[int]) -> None:
        self.fd, self.cap = fd, cap  # cap is shared by stdout and stderr: [bytes left]

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        data = str(text).encode("utf-8", "replace")
        if self.cap[0] > 0:
            chunk = data[: self.cap[0]]
            self.cap[0] -= len(chunk)
            try:
                os.write(self.fd, chunk)
            except OSError:
                self.cap[0] = 0
        return len(text)


class GraderFunction:
    """A function of the grader's handed to the learner's code (kata 01's f_grad, g, g_grad): calling it
    asks the grader to run it on plain data and waits for the answer."""

    def __init__(self, server: Server, number: int, name: str) -> None:
        self._server, self._number, self.__name__ = server, number, name

    def __call__(self, *args, **kwargs):
        return self._server.callback(self._number, args, kwargs)

    def __repr__(self) -> str:
        return f"<function {self.__name__}>"


class Server:
    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.read_fd, self.write_fd = read_fd, write_fd
        self.objects: list = [None]  # handle number -> object; 0 is the learner's module
        self.numbers: dict[int, int] = {}  # id(object) -> handle number (objects stay alive in the list)
        self.codec = Codec(self.to_handle, self.from_handle)
        self.path = ""
        self.budget = 0.0
        self.nonce = 0
        self.learner_recursion_limit = RECURSION_LIMIT
        self.symbolic: frozenset[str] = frozenset()  # the learner's functions that may differentiate with sympy
        self.numeric_call = False  # a call into any other function is running

    # --- handles ------------------------------------------------------------------------------
    def to_handle(self, obj) -> list:
        number = self.numbers.get(id(obj))
        if number is None:
            number = self.numbers[id(obj)] = len(self.objects)
            self.objects.append(obj)
        kind = "class" if isinstance(obj, type) else "callable" if callable(obj) else "object"
        name = getattr(obj, "__qualname__", None) if kind != "object" else None
        return ["learner", number, f"{type(obj).__module__}.{type(obj).__qualname__}", kind, str(name or "")]

    def from_handle(self, handle: list):
        side, number = handle[0], handle[1]
        if side == "learner" and type(number) is int and 0 <= number < len(self.objects):
            return self.objects[number]
        if side == "grader" and type(number) is int:
            return GraderFunction(self, number, str(handle[2]) if len(handle) > 2 else "function")
        raise CodecError(f"an unknown handle {handle!r}")

    # --- wire -----------------------------------------------------------------------------------
    def send(self, message) -> None:
        try:
            data = self.codec.dumps(message)
        except Exception as exc:  # noqa: BLE001 - whatever the value was, the grader gets a sentence
            info = self._info_text("CannotSend", f"gave back a value that cannot be sent to the grader ({type(exc).__name__}: {_safe_str(exc)[:200]})")
            data = self.codec.dumps(["raised", self.nonce, info, []])
        frame = HEADER.pack(len(data)) + data
        while frame:
            frame = frame[os.write(self.write_fd, frame):]

    def receive(self):
        size = HEADER.unpack(self._read(HEADER.size))[0]
        return self.codec.loads(self._read(size))

    def _read(self, n: int) -> bytes:
        chunks = []
        while n:
            chunk = os.read(self.read_fd, n)
            if not chunk:
                os._exit(0)  # the grader is gone: so is this process
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def callback(self, number: int, args: tuple, kwargs: dict):
        self.send(["callback", self.nonce, number, list(args), kwargs])
        reply = self.receive()
        if reply[0] == "ok":
            return reply[1]
        raise RuntimeError(f"the function you were given raised: {reply[1]}")

    # --- requests -------------------------------------------------------------------------------
    def serve(self) -> None:
        """Each request is [op, nonce, *arguments, seconds]; its answer carries the same nonce, so an
        answer the learner's code wrote into the pipe itself answers no request of the grader's."""
        while True:
            op, self.nonce, *args = self.receive()
            self.budget = float(args.pop())
            handler = getattr(self, f"do_{op}", None)
            if handler is None:
                self.send(["raised", self.nonce, self._info_text("ProtocolError", f"unknown request {op!r}"), []])
                continue
            self.send(self._run(handler, args))

    def _run(self, handler, args) -> list:
        """handler(*args) under the request's time budget; its value, or what it raised, as a reply."""
        signal.signal(signal.SIGALRM, _expire)  # again each time: the learner's code may have replaced it
        signal.setitimer(signal.ITIMER_REAL, max(self.budget, 0.001), 1.0)
        sys.setrecursionlimit(self.learner_recursion_limit)
        try:
            value, mutated = handler(*args)
            return ["ok", self.nonce, value, mutated]
        except BaseException as exc:  # noqa: BLE001 - whatever the learner's code raises is reported as data
            return ["raised", self.nonce, self._info(exc), []]
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            # The learner's code may lower the limit for itself; this process's own work keeps the default.
            self.learner_recursion_limit = sys.getrecursionlimit()
            sys.setrecursionlimit(RECURSION_LIMIT)

    def do_load(self, path: str, name: str, symbolic: list):
        self.path, self.symbolic = path, frozenset(symbolic)
        with open(path, "rb") as fh:
            source = fh.read()
        code = compile(source, path, "exec")  # compile() of bytes honours a UTF-8 BOM and a coding line
        module = types.ModuleType(name)
        module.__file__ = path
        sys.modules[name] = module  # dataclasses look their module up by name
        self.objects[0] = module
        exec(code, module.__dict__)
        return None, []

    def do_getattr(self, target, name: str):
        return getattr(target, name), []

    def do_setattr(self, target, name: str, value):
        setattr(target, name, value)
        return None, []

    def do_seed(self, seed):
        """Seed np.random's global state (a diagnosis probing for code that draws from it), or with
        None put back the state it had before."""
        import numpy

        if seed is None:
            numpy.random.set_state(self.saved_rng_state)
        else:
            self.saved_rng_state = numpy.random.get_state()
            numpy.random.seed(seed)
        return None, []

    def do_isinstance(self, obj, cls):
        return isinstance(obj, cls), []

    def do_op(self, name: str, operands: list):
        return OPERATORS[name](*operands), []

    def do_call(self, function, args: list, kwargs: dict):
        # Arguments are the learner's to change in place, as a caller's would be: what changed goes back.
        watched = [(key, value, _snapshot(value)) for key, value in [*enumerate(args), *kwargs.items()]
                   if type(value) in (list, dict) or hasattr(value, "__array_interface__")]  # fmt: skip
        self.numeric_call = str(getattr(function, "__qualname__", "")).split(".")[0] not in self.symbolic
        if self.numeric_call and "sympy" in sys.modules:
            self._refuse_sympy_differentiation()
        try:
            value = function(*args, **kwargs)
        finally:
            self.numeric_call = False
        mutated = [[key, now] for key, now, before in watched if _snapshot(now) != before]
        return value, mutated

    def _refuse_sympy_differentiation(self) -> None:
        """In a numeric task, sympy may build expressions but not differentiate them for the learner:
        every route (sympy.diff, expr.diff, Derivative(...).doit()) ends in an evaluated Derivative."""
        from sympy.core.function import Derivative

        if getattr(Derivative.__new__, "kata_guard", False):
            return
        original, server = Derivative.__new__, self

        def guarded(cls, expr, *variables, **kwargs):
            if server.numeric_call and kwargs.get("evaluate", False):
                raise ByHandError(SYMPY_DIFF, "sympy differentiates here, in a numeric task that is by hand")
            return original(cls, expr, *variables, **kwargs)

        guarded.kata_guard = True
        Derivative.__new__ = guarded

    # --- what went wrong, as data -----------------------------------------------------------------
    def _info(self, exc: BaseException) -> dict:
        frames = [
            [lineno, frame.f_code.co_qualname, (linecache.getline(self.path, lineno) or "").strip()]
            for frame, lineno in traceback.walk_tb(exc.__traceback__)
            if self.path and frame.f_code.co_filename == self.path
        ]
        message = _safe_str(exc)
        if isinstance(exc, RecursionError) and sys.getrecursionlimit() < RECURSION_LIMIT:
            message += f" (your code lowered the recursion limit to {sys.getrecursionlimit()} with sys.setrecursionlimit)"
        if isinstance(exc, SyntaxError) and exc.lineno:
            frames = [[exc.lineno, "<module>", (exc.text or "").rstrip()]]
        kind = type(exc)
        base = next(k for k in kind.__mro__ if k.__module__ == "builtins")
        # A library's private exception class (numpy's _ArrayMemoryError) by the builtin it is, which
        # is what the learner can look up; every other class by its own name.
        return {
            "type": base.__qualname__ if kind.__qualname__.startswith("_") else kind.__qualname__,
            "base": base.__qualname__,
            "message": message[:MESSAGE_CAP],
            "frames": frames,
            "notes": [_safe_str(n)[:MESSAGE_CAP] for n in (getattr(exc, "__notes__", None) or [])][:5] if isinstance(getattr(exc, "__notes__", None), list) else [],
            "by_hand": exc.module if isinstance(exc, ByHandError) else "",
        }

    @staticmethod
    def _info_text(kind: str, message: str) -> dict:
        return {"type": kind, "base": "Exception", "message": message, "frames": [], "notes": [], "by_hand": ""}


def _snapshot(value):
    """What a container argument holds, cheaply comparable: arrays by their bytes, containers by parts."""
    if type(value) is dict:
        return {key: _snapshot(item) for key, item in value.items()}
    if type(value) is list:
        return [_snapshot(item) for item in value]
    if hasattr(value, "__array_interface__") and hasattr(value, "tobytes"):
        return (str(value.dtype), value.shape, value.tobytes())
    return id(value)


def _expire(signum, frame):
    raise TestTimeout()


def _safe_str(value) -> str:
    """str() of a learner's object, which may itself misbehave."""
    try:
        return str(value)
    except BaseException as exc:  # noqa: BLE001
        return f"<str() of it raised {type(exc).__name__}>"


def confine(setup: dict) -> None:
    """Hard limits, no root, no autodiff: all before the learner's code runs, none of it undoable."""
    for name, value in setup.get("limits", {}).items():
        try:
            resource.setrlimit(LIMITS[name], (value, value))
        except (OSError, ValueError):  # a limit this OS will not lower this way (RLIMIT_AS on macOS): the others hold
            pass
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an over-long write fails; it does not kill
    uid = setup.get("uid")
    if uid is not None and os.getuid() == 0:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    _die_with_grader()
    sys.meta_path.insert(0, RefuseBanned(setup.get("banned", [])))
    cap = [int(setup.get("output_cap", 64 * 1024))]
    sys.stdout = CappedWriter(1, cap)
    sys.stderr = CappedWriter(2, cap)
    sys.stdin = io.StringIO()
    os.chdir(setup.get("cwd", "/"))
    builtins.input = lambda *a: ""  # nobody at a keyboard here


def _die_with_grader() -> None:
    """SIGKILL this process when the grader's process ends (bubblewrap does this too; without it this
    is what ends an orphan). Set after the uid change, which would clear it."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def main(read_fd: int, write_fd: int) -> None:
    server = Server(read_fd, write_fd)
    setup = server.receive()
    confine(setup)
    server.send(["ready", os.getuid()])
    server.serve()


