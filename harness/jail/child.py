"""The learner's side of the boundary: a process that holds the learner's module and answers requests.

It runs jailed (harness/jail/spawn.py) and imports nothing of the grader but this module and the
codec: no spec, oracle, test name or score is ever in this process. The grader sends requests
(load the file, get an attribute, call a function, apply an operator) as plain data; each reply is
plain data or a handle to an object that stays here. Before the learner's code runs, the limits are
made hard, root's identity is dropped, and the autodiff libraries are refused at import. Where sympy
is absent (every learner process but the one for a kata's symbolic tasks), importing it gives a
placeholder (harness/jail/placeholder.py).

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

import numpy as np  # the codec's already (an array is data), so no cost and no new import for the learner

from harness.jail.codec import Codec, CodecError
from harness.jail.placeholder import Absent, ByHandError, Guard, Placeholder

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
        self.calling = False  # the learner's code is running a request: only then does the alarm interrupt it
        self.learner_recursion_limit = RECURSION_LIMIT
        self.guard = Guard()  # the placeholders' report: in a task, refused

    # --- handles ------------------------------------------------------------------------------
    def to_handle(self, obj) -> list:
        if isinstance(obj, Placeholder):
            raise obj._guard.refuse(obj._root, f"{obj._text} cannot be given back")
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
        except ByHandError as exc:  # a placeholder of sympy's given back
            data = self.codec.dumps(["raised", self.nonce, self._info(exc), []])
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
        signal.signal(signal.SIGALRM, self._expire)  # again each time: the learner's code may have replaced it
        signal.setitimer(signal.ITIMER_REAL, max(self.budget, 0.001), 1.0)
        sys.setrecursionlimit(self.learner_recursion_limit)
        # Every request after the load runs a task: there a placeholder refuses a call with values too.
        self.guard.in_task, self.guard.refusal = handler != self.do_load, None
        try:
            self.calling = True
            try:
                value, mutated = handler(*args)
            finally:
                self.calling = False
            if self.guard.refusal is not None:  # refused, but caught by the learner's code or in a thread of theirs
                raise self.guard.refusal
            return ["ok", self.nonce, value, mutated]
        except BaseException as exc:  # noqa: BLE001 - whatever the learner's code raises is reported as data
            return ["raised", self.nonce, self._info(self.guard.refusal or exc), []]
        finally:
            self.guard.in_task = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, signal.SIG_IGN)  # a refusal's late alarm (Guard.refuse) interrupts nothing here
            # The learner's code may lower the limit for itself; this process's own work keeps the default.
            self.learner_recursion_limit = sys.getrecursionlimit()
            sys.setrecursionlimit(RECURSION_LIMIT)

    def _expire(self, signum, frame):
        """The request's time is up, or a refusal in a thread of the learner's cuts the wait for it short:
        only while the learner's code runs. Rung a moment later (as the reply is being made), it would
        end this process instead of the call."""
        if self.calling:
            raise TestTimeout()

    def do_load(self, path: str, name: str):
        self.path = path
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
                   if type(value) in (list, dict, np.ndarray) or hasattr(value, "__array_interface__")]  # fmt: skip
        value = function(*args, **kwargs)
        mutated = [[key, now] for key, now, before in watched if _snapshot(now) != before]
        return value, mutated

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
    if type(value) is np.ndarray:  # what the grader sends; dtype.str, not str(dtype): numpy's str() is Python, 4 us
        return (value.dtype.str, value.shape, value.tobytes())
    if type(value) is dict:
        return {key: _snapshot(item) for key, item in value.items()}
    if type(value) is list:
        return [_snapshot(item) for item in value]
    if hasattr(value, "__array_interface__") and hasattr(value, "tobytes"):
        return (str(value.dtype), value.shape, value.tobytes())
    return id(value)


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
    sys.meta_path.insert(1, Absent(server.guard, setup.get("absent", {})))
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


