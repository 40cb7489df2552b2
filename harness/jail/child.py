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

import _imp
import _thread
import builtins
import collections
import contextlib
import functools
import importlib.abc
import importlib.machinery
import io
import linecache
import operator
import os
import resource
import signal
import struct
import sys
import sysconfig
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
DERIVED_CODE = "code made from a derivative"  # ... when it ran code other than its own and NumPy's after sympy differentiated
JAIL_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
SYMPY_DIR = os.sep + "sympy" + os.sep  # in the file name of sympy's code, wherever the jail mounts it
# Where sympy works a derivative out: each function's own rule (fdiff), the sum, product, power and chain
# rules (_eval_derivative...), Taylor coefficients (series), limits (of a difference quotient), and in
# sympy.polys the power rule on coefficient lists (diff, dup_diff, ...). Not an unevaluated Derivative,
# nor its finite-difference approximations, which the spec grades as the approximations they are.
DERIVATIVE_CODE = frozenset({
    "fdiff", "_eval_derivative", "_eval_derivative_n_times", "_dispatch_eval_derivative_n_times",
    "_eval_partial_derivative", "_eval_derivative_matrix_lines", "idiff",
    "taylor_term", "series", "nseries", "lseries", "aseries", "_eval_nseries", "fps", "limit", "gruntz",
    "dup_diff", "dmp_diff", "dmp_diff_in", "dmp_diff_eval_in", "gf_diff",
})  # fmt: skip
POLYS_DIFF = frozenset({"diff", "_diff"})  # in sympy/polys/: Poly.diff, PolyElement.diff, DMP.diff, ...
# What runs out of the profile hook's sight: a process, a subinterpreter (audit events), a thread (no
# audit event before Python 3.13: the hook sees the learner's code call _thread's C function instead).
UNWATCHABLE = frozenset({"os.fork", "os.exec", "os.posix_spawn", "os.spawn", "os.system", "subprocess.Popen", "cpython.PyInterpreterState_New"})
THREAD_STARTS = frozenset({_thread.start_new_thread, _thread.start_new})


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


class WatchSympy(importlib.abc.MetaPathFinder):
    """Calls on_loaded() once sympy is imported, before the learner's code can use it: whenever the
    learner's file imports it (at its top level or inside a function), derivatives are watched."""

    def __init__(self, on_loaded) -> None:
        self.on_loaded = on_loaded

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "sympy":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            self.on_loaded()

        spec.loader.exec_module = exec_module
        return spec


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
        # The functions the grader fetched from the learner's module under a symbolic task's name, and
        # under any other (the same function may not be both: it would be a numeric task unwatched).
        self.fetched_symbolic: dict[int, object] = {}
        self.fetched_numeric: dict[int, object] = {}
        # By hand, past sympy.diff + lambdify. Once sympy is loaded, every request's Python calls pass a
        # profile hook (_watch). In a numeric task (every function but the symbolic ones) sympy's own
        # derivative code (DERIVATIVE_CODE) is refused; anywhere else it marks the process differentiated,
        # and from then on a numeric task may run only the learner file's own code and the standard
        # library's, NumPy's and this jail's, each checked to be that file's code (not by its file name):
        # not sympy, not what lambdify, eval or exec made. The learner may not unhook the watch (an audit
        # hook refuses it), and what runs out of its sight (a thread, a process) counts as differentiating.
        self.sympy_seen = False  # sympy's code has run in this process (an exec audit event said so)
        self.sympy_watched = False  # ... and the watch is on for every request since
        self.differentiated = False
        self.numeric = False  # a numeric task's function is running
        self.learner_code: frozenset[types.CodeType] = frozenset()
        self.watching = False
        self.refusal: ByHandError | None = None  # kept: the learner's code may catch the first raise
        # id(code) -> (code, verdict): the code is kept, so its id is not reused for another
        self.derivative_code: dict[int, tuple[types.CodeType, bool]] = {}
        self.trusted_code: dict[int, tuple[types.CodeType, bool]] = {}
        self.library_code: dict[str, frozenset[types.CodeType]] = {}  # file name -> its code as imported

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
        paused = self.watching  # the round trip is the jail's own code, not the learner's
        self._unwatch()
        try:
            self.send(["callback", self.nonce, number, list(args), kwargs])
            reply = self.receive()
        finally:
            if paused:
                self._rewatch()
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
        if self.sympy_seen and not self.sympy_watched:
            # sympy was loaded past WatchSympy (the learner's code took it off sys.meta_path): what it did
            # until now was not watched, so it may have differentiated.
            self.differentiated = self.sympy_watched = True
        if self.sympy_watched and not self.differentiated:  # once it has, only numeric tasks need watching
            self._rewatch()
        try:
            value, mutated = handler(*args)
            return ["ok", self.nonce, value, mutated]
        except BaseException as exc:  # noqa: BLE001 - whatever the learner's code raises is reported as data
            return ["raised", self.nonce, self._info(exc), []]
        finally:
            self._unwatch()
            signal.setitimer(signal.ITIMER_REAL, 0)
            # The learner's code may lower the limit for itself; this process's own work keeps the default.
            self.learner_recursion_limit = sys.getrecursionlimit()
            sys.setrecursionlimit(RECURSION_LIMIT)

    def do_load(self, path: str, name: str, symbolic: list):
        self.path, self.symbolic = path, frozenset(symbolic)
        with open(path, "rb") as fh:
            source = fh.read()
        code = compile(source, path, "exec")  # compile() of bytes honours a UTF-8 BOM and a coding line
        self.learner_code = frozenset(_code_objects(code))
        module = types.ModuleType(name)
        module.__file__ = path
        sys.modules[name] = module  # dataclasses look their module up by name
        self.objects[0] = module
        exec(code, module.__dict__)
        return None, []

    def do_getattr(self, target, name: str):
        value = getattr(target, name)
        if target is self.objects[0]:
            (self.fetched_symbolic if name in self.symbolic else self.fetched_numeric)[id(value)] = value
        return value, []

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
        numeric = id(function) not in self.fetched_symbolic or id(function) in self.fetched_numeric
        if numeric and self.sympy_watched and len(sys._current_frames()) > 1:
            raise ByHandError(DERIVED_CODE, "threads your code started run beside a numeric task, where the grader cannot watch them")
        self.numeric, self.refusal = numeric, None
        if numeric and self.sympy_watched:
            self._rewatch()
        try:
            value = function(*args, **kwargs)
        except BaseException:
            if self.refusal is not None:  # what the refusal made fail (a result missing)
                raise self.refusal from None
            raise
        finally:
            self.numeric = False
        if self.refusal is not None:  # refused, but caught by the learner's code
            raise self.refusal
        mutated = [[key, now] for key, now, before in watched if _snapshot(now) != before]
        return value, mutated

    # --- by hand: the watch (see __init__) ------------------------------------------------------------
    def sympy_loaded(self) -> None:
        """WatchSympy: sympy's import is done; the rest of this request, and every later one, is watched."""
        if len(sys._current_frames()) > 1:
            self.differentiated = True  # a thread already running may use sympy out of the watch's sight
        self.sympy_watched = True
        self._rewatch()

    def _rewatch(self) -> None:
        self.watching = False  # while it is False, the audit hook lets the jail's own sys.setprofile through
        sys.setprofile(self._watch)
        self.watching = True

    def _unwatch(self) -> None:
        self.watching = False
        sys.setprofile(None)

    def _refuse(self, module: str, message: str):
        self.refusal = self.refusal or ByHandError(module, message)
        raise self.refusal

    def _watch(self, frame, event, arg):
        """The profile hook: every Python function entered, once sympy is loaded."""
        if event != "call" or not self.watching:
            if event == "c_call" and self.watching and arg in THREAD_STARTS:
                self._out_of_sight()
            return
        code = frame.f_code
        known = self.derivative_code.get(id(code))
        if known is None or known[0] is not code:
            known = self.derivative_code[id(code)] = (code, _differentiates(code))
        if known[1]:
            if self.numeric:
                self._refuse(SYMPY_DIFF, "sympy differentiates here, in a numeric task that is by hand")
            self.differentiated = True
        elif self.numeric and self.differentiated:
            known = self.trusted_code.get(id(code))
            if known is None or known[0] is not code:
                known = self.trusted_code[id(code)] = (code, self._trusted(code))
            if not known[1]:
                name = code.co_filename
                what = f"code compiled under the name {name}, which is not that file's code," if name == self.path or self._library(name) else name
                self._refuse(DERIVED_CODE, f"{what} runs in a numeric task after your file differentiated with sympy")

    def _out_of_sight(self) -> None:
        """The learner's code starts a thread or a process: refused in a numeric task; anywhere else, what
        it does cannot be watched, so it counts as differentiating."""
        if self.watching and self.numeric:
            self._refuse(DERIVED_CODE, "your code started a thread or a process in a numeric task, where it would not be watched")
        self.differentiated = True

    def _trusted(self, code: types.CodeType) -> bool:
        """The learner file's own code, or a library's (the standard library, NumPy, msgpack, this jail) as
        its import compiled it: equal to it, not merely compiled under its file name."""
        if code in self.learner_code or _is_namedtuple_new(code):
            return True
        return code in self._library(code.co_filename)

    def _library(self, filename: str) -> frozenset[types.CodeType]:
        """Every code object of a library's file, from what its import reads (the frozen modules', its
        cached bytecode or its source); none for any other file name."""
        known = self.library_code.get(filename)
        if known is None:
            known = self.library_code[filename] = self._library_file(filename)
        return known

    def _library_file(self, filename: str) -> frozenset[types.CodeType]:
        if filename.startswith("<frozen "):
            return frozenset(code for name in _imp._frozen_module_names() for code in _code_objects(_imp.get_frozen_object(name))
                             if code.co_filename == filename)  # fmt: skip
        libraries = [sys.modules.get(name) for name in ("msgpack", "numpy")]
        folders = [JAIL_DIR] + [os.path.dirname(m.__file__) + os.sep for m in libraries if getattr(m, "__file__", None)]
        stdlib = tuple(os.path.join(sysconfig.get_paths()[k], "") for k in ("stdlib", "platstdlib"))
        in_stdlib = filename.startswith(stdlib) and "-packages" + os.sep not in filename  # not the packages installed under it
        if not (in_stdlib or filename.startswith(tuple(folders))) or filename == self.path:
            return frozenset()
        try:
            return frozenset(_code_objects(importlib.machinery.SourceFileLoader("library", filename).get_code("library")))
        except (OSError, ImportError, SyntaxError, ValueError):
            return frozenset()

    def audit(self, event: str, args: tuple) -> None:
        """sys.addaudithook: it cannot be removed, so the learner's code cannot switch the watch off."""
        if event == "exec":
            # However it is imported (WatchSympy may be taken off sys.meta_path), sympy's modules run here.
            self.sympy_seen = self.sympy_seen or SYMPY_DIR in getattr(args[0], "co_filename", "")
            return
        if event in UNWATCHABLE:
            self._out_of_sight()
            return
        if self.watching and event in ("sys.setprofile", "sys.settrace"):
            self._refuse(DERIVED_CODE, "your code tried to switch off the grader's watch")

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


def _differentiates(code: types.CodeType) -> bool:
    """sympy's own code that works a derivative out (DERIVATIVE_CODE)."""
    where = code.co_filename
    at = where.rfind(SYMPY_DIR)
    if at < 0:
        return False
    return code.co_name in DERIVATIVE_CODE or (code.co_name in POLYS_DIFF and where.startswith("polys" + os.sep, at + len(SYMPY_DIR)))


def _code_objects(code: types.CodeType):
    """A module's code and every function, class body and comprehension compiled inside it."""
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


@functools.cache
def _namedtuple_new(arguments: int) -> types.CodeType:
    return collections.namedtuple("T", [f"f{i}" for i in range(arguments - 1)]).__new__.__code__


def _is_namedtuple_new(code: types.CodeType) -> bool:
    """The standard library makes each namedtuple's __new__ with eval (NumPy's results, the stdlib's):
    trusted when its code is exactly that, not when it merely carries the file name "<string>"."""
    if code.co_filename != "<string>" or code.co_name != "<lambda>" or not code.co_argcount:
        return False
    made = _namedtuple_new(code.co_argcount)
    return (code.co_code, code.co_names, code.co_consts) == (made.co_code, made.co_names, made.co_consts)


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
    sys.meta_path.insert(1, WatchSympy(server.sympy_loaded))
    sys.addaudithook(server.audit)
    server.send(["ready", os.getuid()])
    server.serve()


STATUS = struct.Struct(">i")


def zygote(socket_path: str, scratch_bytes: int) -> None:
    """One jail for a whole batch: Python, numpy and this module loaded once, then a fork per learner
    process (spawn.Zygote). Each request on the socket is a connection carrying three descriptors
    (the request pipe, the reply pipe, the output file) and the learner's folder; the fork becomes that
    learner's process exactly as main() does (its own session, its own /tmp of scratch_bytes, its setup
    message, its uid, its limits). The connection gets the fork's pid from the fork itself (with its
    credentials), and its exit status (as subprocess gives it) from here when it ends."""
    import selectors
    import socket

    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(socket_path)
    os.chmod(socket_path, 0o600)
    server.listen(64)
    server.setblocking(False)
    waiting: dict[int, socket.socket] = {}  # pid -> the connection that asked for it
    # A learner process's end wakes the loop at once (its status is what the grader waits for).
    woken_r, woken_w = os.pipe()
    os.set_blocking(woken_r, False)
    os.set_blocking(woken_w, False)
    signal.set_wakeup_fd(woken_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    events = selectors.DefaultSelector()
    events.register(server, selectors.EVENT_READ)
    events.register(woken_r, selectors.EVENT_READ)
    while True:
        events.select()
        with contextlib.suppress(OSError):
            os.read(woken_r, 4096)
        with contextlib.suppress(BlockingIOError, InterruptedError):
            while True:
                conn, _ = server.accept()
                conn.setblocking(True)
                pid = _fork_learner(conn, scratch_bytes)
                if pid:
                    waiting[pid] = conn
        while waiting:
            with contextlib.suppress(ChildProcessError):
                pid, status = os.waitpid(-1, os.WNOHANG)
                if not pid:
                    break
                conn = waiting.pop(pid, None)
                if conn is not None:
                    with contextlib.suppress(OSError):
                        conn.sendall(STATUS.pack(os.waitstatus_to_exitcode(status)))
                    conn.close()
                continue
            break


def _fork_learner(conn, scratch_bytes: int) -> int:
    """Fork one learner process for the request on conn; its pid here (0 if the request was malformed)."""
    import socket

    try:
        message, fds, _, _ = socket.recv_fds(conn, 4096, 3)
        folder = message.decode()
        if len(fds) != 3 or not folder.startswith("/kata/") or "/" in folder[len("/kata/"):]:
            raise ValueError("a malformed request")
    except (OSError, ValueError, UnicodeDecodeError):
        conn.close()
        return 0
    pid = os.fork()
    if pid:
        for fd in fds:
            os.close(fd)
        return pid
    try:  # the learner's process: nothing of the zygote's stays open in it
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        read_fd, write_fd, output_fd = fds
        conn.sendall(STATUS.pack(os.getpid()))
        os.setsid()
        _own_scratch(scratch_bytes)
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        for name in os.listdir("/proc/self/fd"):  # the socket, classmates' connections, the wake-up pipe
            if int(name) > 2 and int(name) not in (read_fd, write_fd):
                with contextlib.suppress(OSError):
                    os.close(int(name))
        main(read_fd, write_fd)  # confine() enters the folder, as the learner's uid (root here may not)
    except BaseException:  # noqa: BLE001 - a fork that cannot become the learner's process says why, in its output
        traceback.print_exc()
        os._exit(70)
    finally:
        os._exit(0)


CLONE_NEWNS = 0x20000
MS_NOSUID, MS_NODEV, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x4000, 0x40000


def _own_scratch(size: int) -> None:
    """A mount namespace of this process's own, with a /tmp of `size` bytes in memory over the zygote's:
    a classmate's files are not there, and it ends with the last of this learner's processes. The
    zygote's CAP_SYS_ADMIN allows it; confine()'s change of uid then takes it away."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    def check(result: int, what: str) -> None:
        if result != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"{what}: {os.strerror(errno)}")

    check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "making the mounts private")  # none reaches the zygote's
    check(libc.mount(b"tmpfs", b"/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=1777".encode()), "mounting /tmp")


