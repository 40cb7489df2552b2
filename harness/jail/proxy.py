"""The grader's side of the boundary: the learner's module as the specs see it, living in another process.

`LearnerProcess` starts the jailed child (spawn.py), loads the learner's file there, and turns every
use of the learner's code into a request: `learner.forward(X, params)` sends X and params as data and
receives the result as data, checked by the codec (codec.py). An object that is not data (a Value, a
function the learner returns) comes back as a `Remote`: reading an attribute, calling it, applying
+ or *, or isinstance() against a learner's class are further requests. Identity holds: the same
learner object is always the same Remote. What the learner's code raised comes back as data too and
is raised here as a `LearnerError` (a subclass of the same builtin type, so `except TypeError`
still works), with the frames of the learner's file, never their traceback objects.

By hand: a kata with symbolic tasks has two such processes (`LearnerProcesses`): its symbolic
functions run in one with sympy, everything else in one where sympy does not exist.

Time: a check's limit is the time its requests spend in the learner's process, not the grader's own
work between them (which a busy machine stretches; plugin.py bounds that apart). A request may run
for what is left of it; the child stops itself with an alarm, and a child that does not answer
within a grace period after that is killed with its whole tree. A child that died (a crash,
os._exit, a kill) is started again for the next test.
"""

from __future__ import annotations

import atexit
import builtins
import contextlib
import os
import secrets
import select
import signal
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from harness.grading import integrity
from harness.grading.checks import KataFailure, NotImplementedYet
from harness.jail import spawn
from harness.jail.codec import MAX_MESSAGE_BYTES, Codec, CodecError, sympy_node

HEADER = struct.Struct(">I")
START_TIMEOUT_S = 30.0  # starting the child: Python and numpy, on a loaded machine
DEFAULT_BUDGET_S = 10.0  # a request outside any test (drawing, a load)
GRACE_S = 2.0  # after its budget, the child's own alarm has this long to report before it is killed
IMPORTING = "<import>"  # the `what` of the request that runs the learner's file itself


class Frame:
    """One frame of a learner's traceback in their file; `name` is qualified (Value.__add__)."""

    __slots__ = ("filename", "lineno", "name", "line")

    def __init__(self, filename: str, lineno: int, name: str, line: str) -> None:
        self.filename, self.lineno, self.name, self.line = filename, lineno, name, line


class LearnerError(Exception):
    """An exception the learner's code raised, brought back as data: its type's name, message and frames."""

    type_name = "Exception"

    def __init__(self, message: str, frames: list[Frame], function: str) -> None:
        Exception.__init__(self, message)
        self.frames, self.function = frames, function


class LearnerTimeout(BaseException):
    """The learner's code ran past the test's time (a BaseException: hypothesis must not shrink on it)."""

    def __init__(self, seconds: float, frames: list[Frame], function: str, killed: bool) -> None:
        super().__init__(f"timed out after {seconds:g} s")
        self.seconds, self.frames, self.function, self.killed = seconds, frames, function, killed


class LearnerDied(BaseException):
    """The learner's process ended while it was running their code (a crash, os._exit, a signal)."""

    def __init__(self, message: str, function: str) -> None:
        super().__init__(message)
        self.function = function


class ByHand(KataFailure):
    """The learner's code imported a library a by-hand kata refuses."""


_ERROR_CLASSES: dict[str, type] = {}


def _error_class(name: str) -> type:
    """LearnerError, made a subclass of the builtin exception of that name when there is one."""
    base = getattr(builtins, name, None)
    if not (isinstance(base, type) and issubclass(base, Exception)):
        return LearnerError
    if name not in _ERROR_CLASSES:
        try:
            _ERROR_CLASSES[name] = type(name, (LearnerError, base), {"type_name": name, "__module__": "builtins"})
        except TypeError:  # a builtin whose layout cannot be mixed in
            _ERROR_CLASSES[name] = type(name, (LearnerError,), {"type_name": name})
    return _ERROR_CLASSES[name]


def _death(status: int | None, jail: spawn.Jailed) -> str:
    if status is not None and jail.isolation.level == spawn.BUBBLEWRAP and status > 128:
        status = -(status - 128)  # bubblewrap reports its child's signal as 128 + the signal
    if status is not None and status < 0:
        with_name = signal.Signals(-status).name if -status in signal.valid_signals() else f"signal {-status}"
        extra = {"SIGSEGV": " (a crash in native code)", "SIGXCPU": " (its CPU time limit)", "SIGKILL": ""}.get(with_name, "")
        if with_name == "SIGKILL" and jail.out_of_memory:
            extra = f" (its memory limit: your code and the processes it started held more than {spawn.mib(jail.limits.memory)})"
        return f"the interpreter was killed by {with_name}{extra}"
    return f"your code exited the interpreter (exit status {status}: os._exit()?)"


class LearnerProcess:
    """One learner file loaded in a jailed child; started on first use, again after a death."""

    def __init__(
        self, path: Path, source: bytes, module: str, shown: str, *, banned: tuple[str, ...], seconds: float = DEFAULT_BUDGET_S,
        limits: spawn.JailLimits = spawn.JailLimits(), sympy: bool = False,
    ) -> None:  # fmt: skip
        self.path, self.source, self.module, self.shown = path, source, module, shown
        self.sympy = sympy  # the process for a kata's symbolic tasks, the only one where sympy is
        self.banned, self.limits = banned, limits
        self.time_left: float | None = None  # the learner's time left in the running check, set by the plugin
        self.test_seconds = seconds  # a check's time limit, which loading the file gets too
        self._jail: spawn.Jailed | None = None
        self._generation = 0
        self._remotes: dict[int, Remote] = {}
        self._instances: dict[tuple[int, int], bool] = {}  # (object, class) -> isinstance(), asked once
        self._grader_functions: list = []
        self._output_read = 0
        self._load_error: str | None = None
        self._last_output = ""
        self._timed_out: LearnerTimeout | None = None  # the running check's, to report again when its time is gone
        self.codec = Codec(self._to_handle, self._from_handle, sympy_node)
        self.module_remote: Remote | None = None  # the learner's module, once a process holds it

    # --- life -----------------------------------------------------------------------------------
    def start_check(self, seconds: float) -> None:
        """A check begins: its requests together may take `seconds` (0: no limit)."""
        self.test_seconds = seconds
        self.time_left = seconds or 1e9
        self._timed_out = None

    def end_check(self) -> None:
        self.time_left = None

    def ensure(self) -> None:
        if self._load_error is not None:
            raise _LoadFailed(self._load_error)
        if self._jail is not None:
            return
        self._generation += 1
        self._remotes.clear()
        self._instances.clear()
        self._grader_functions.clear()
        self._output_read = 0
        self._jail = _take_started(self.limits, self.banned, self.sympy)
        self._jail.place(self.source, self.module)
        self.module_remote = Remote(self, 0, "module", "", self._generation)
        self._remotes[0] = self.module_remote
        reply = self._receive(time.monotonic() + START_TIMEOUT_S, "starting")
        if not (type(reply) is list and reply[:1] == ["ready"]):
            self.close()
            raise _LoadFailed(f"The grader could not start a process for {self.shown} ({reply!r:.200}).")
        loading = self.time_left is None
        if loading:  # the file's top level gets the time of one check; within a check, it spends the check's
            self.time_left = self.test_seconds
        try:
            self.request("load", f"{self._jail.setup['cwd']}/{self.module}.py", self.module, what=IMPORTING)
        except (LearnerError, LearnerTimeout, LearnerDied, NotImplementedYet, KataFailure) as exc:
            self._load_error = _import_failure(self.shown, exc)
            self.close()
            raise _LoadFailed(self._load_error) from None
        finally:
            if loading:
                self.time_left = None
        if self.sympy:  # what the file's top level printed, the numeric process shows already
            self._output_read = self._jail.output_size()

    @contextlib.contextmanager
    def global_seed(self, seed: int) -> Iterator[None]:
        """np.random's global state in the learner's process seeded, and restored afterwards."""
        self.request("seed", seed, what="seeding np.random")
        try:
            yield
        finally:
            self.request("seed", None, what="seeding np.random")

    def close(self, exited: bool = False) -> int | None:
        jail, self._jail = self._jail, None
        if jail is None:
            return None
        self._last_output = jail.output_text(self._output_read)  # what it printed last, kept for the verdict
        self._output_read = 0
        return jail.end(exited)

    def output(self) -> str:
        """What the learner's code printed since the last call of this (capped in the child)."""
        if self._jail is None:
            text, self._last_output = self._last_output, ""
            return text
        text = self._jail.output_text(self._output_read)
        self._output_read = max(self._output_read + len(text.encode("utf-8", "replace")), self._jail.output_size())
        return text

    # --- requests ---------------------------------------------------------------------------------
    def request(self, op: str, *args: Any, what: str, sync: tuple[list, dict] | None = None) -> Any:
        """Send one request; serve the child's callbacks until its answer; raise what it raised.

        sync: a call's arguments, into which what the learner's code changed in place is copied back.
        """
        if op != "load":
            self.ensure()
        now = time.monotonic()
        budget = self.time_left if self.time_left is not None else DEFAULT_BUDGET_S
        if budget <= 0:
            # Out of time (hypothesis replaying the example that timed out, say): the time-out that
            # used it up is the one to report, with the line it was on.
            raise self._timed_out or LearnerTimeout(self.test_seconds, [], what, killed=False)
        nonce = secrets.randbits(62)
        self._send([op, nonce, *args, budget])
        hard = now + budget + GRACE_S
        try:
            while True:
                reply = self._receive(hard, what)
                if not (type(reply) is list and len(reply) >= 2 and reply[1] == nonce):
                    continue  # not an answer to this request (the learner's code wrote it): ignored
                if reply[0] == "callback" and len(reply) == 5:
                    self._serve_callback(*reply[2:])
                    continue
                break
        finally:
            if self.time_left is not None:
                self.time_left -= time.monotonic() - now
        return self._answer(reply[:1] + reply[2:], what, sync)

    def is_instance(self, obj: Remote, cls: Remote) -> bool:
        """isinstance(obj, cls) in the learner's process, asked once per pair: a walk of kata 03's graph
        asks it of every node again and again (a third of that kata's requests). An object whose
        class the learner's code changes later keeps its first answer; everything read from it is
        still asked, and checked, each time."""
        key = (obj._number, cls._number)
        if key not in self._instances:
            self._instances[key] = bool(self.request("isinstance", obj, cls, what=f"isinstance(..., {cls._name})"))
        return self._instances[key]

    def call(self, target: Remote, args: tuple, kwargs: dict, what: str) -> Any:
        return self.request("call", target, list(args), kwargs, what=what, sync=(list(args), kwargs))

    def _answer(self, reply: Any, what: str, sync: tuple[list, dict] | None) -> Any:
        if type(reply) is list and len(reply) == 3 and reply[0] == "ok" and type(reply[2]) is list:
            for entry in reply[2] if sync else ():
                if type(entry) is list and len(entry) == 2:
                    key, new = entry
                    positional, keywords = sync
                    old = positional[key] if type(key) is int and 0 <= key < len(positional) else keywords.get(key)
                    _sync(old, new)
            return reply[1]
        if type(reply) is list and len(reply) == 3 and reply[0] == "raised" and type(reply[1]) is dict:
            raise self._exception(reply[1], what)
        self.close()
        raise KataFailure(f"The process running {self.shown} sent the grader a malformed answer while running {what}: the grade cannot use it.")

    def _exception(self, info: dict, what: str) -> BaseException:
        frames = [Frame(str(self.path), int(f[0]), str(f[1]), str(f[2])) for f in info.get("frames", [])
                  if type(f) is list and len(f) == 3 and type(f[0]) is int]  # fmt: skip
        name, message = str(info.get("type", "Exception")), str(info.get("message", ""))
        function = frames[0].name if frames else what
        if info.get("by_hand") in spawn.SYMPY_LIBRARIES:  # a use of sympy's placeholder (harness/jail/placeholder.py)
            line = f", line {frames[-1].lineno} (`{frames[-1].line}`)" if frames else ""
            task = f", in {frames[0].name}()" if frames and frames[0].name != "<module>" else "" if frames else f", in {what}()"
            return ByHand(f"{self.shown}{line}{task}: {message}.")
        if info.get("by_hand") and frames:
            module = str(info["by_hand"])
            return ByHand(integrity.message(self.shown, frames[-1].lineno, module, f"import {module}"))
        if name == "NotImplementedError":
            exc = NotImplementedYet(message)
            exc.frames, exc.function = frames, function
            return exc
        if name == "TestTimeout":
            self._timed_out = LearnerTimeout(self.test_seconds, frames, function, killed=False)
            return self._timed_out
        # Anything else, SystemExit and pytest's Skipped included, is what the learner's code raised:
        # it fails the check that called it (it cannot stop or skip anything in this process).
        cls = _error_class(str(info.get("base", "Exception")))
        try:
            exc = cls(message, frames, function)
        except Exception:  # noqa: BLE001 - a builtin with an unusual constructor
            exc = LearnerError(message, frames, function)
        exc.type_name = name
        for note in info.get("notes", []):
            exc.add_note(str(note))
        return exc

    def _serve_callback(self, number: Any, args: Any, kwargs: Any) -> None:
        """The learner's code called a function the grader gave it (kata 01's f_grad, g, g_grad)."""
        try:
            if not (type(number) is int and 0 <= number < len(self._grader_functions) and type(args) is list and type(kwargs) is dict):
                raise TypeError("a malformed call")
            self._send(["ok", self._grader_functions[number](*args, **{str(k): v for k, v in kwargs.items()})])
        except Exception as exc:  # noqa: BLE001 - the learner's arguments may be anything: their error to read
            self._send(["raised", f"{type(exc).__name__}: {exc}"])

    # --- wire ------------------------------------------------------------------------------------
    def _send(self, message: Any) -> None:
        data = self.codec.dumps(message)
        frame = HEADER.pack(len(data)) + data
        try:
            while frame:
                frame = frame[os.write(self._jail.to_child, frame):]
        except OSError:
            pass  # the child is gone: the read that follows says how

    def _receive(self, hard_deadline: float, what: str) -> Any:
        size = HEADER.unpack(self._read(HEADER.size, hard_deadline, what))[0]
        if size > MAX_MESSAGE_BYTES:
            self.close()
            raise KataFailure(f"{what} sent back more than {MAX_MESSAGE_BYTES // 2**20} MiB: the grader does not read that much.")
        try:
            return self.codec.loads(self._read(size, hard_deadline, what))
        except CodecError as exc:
            self.close()
            raise KataFailure(f"{_called(what)} gave back something the grader cannot check: {exc}.") from None

    def _read(self, n: int, hard_deadline: float, what: str) -> bytes:
        chunks = []
        fd = self._jail.from_child
        while n:
            left = hard_deadline - time.monotonic()
            ready = select.select([fd], [], [], max(left, 0))[0] if left > 0 else []
            if not ready:
                self.close()
                self._timed_out = LearnerTimeout(self.test_seconds, [], what, killed=True)
                raise self._timed_out
            chunk = os.read(fd, min(n, 2**20))
            if not chunk:
                jail = self._jail
                status = self.close(exited=True)
                raise LearnerDied(_death(status, jail), what)
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    # --- handles -----------------------------------------------------------------------------------
    def _to_handle(self, obj: Any) -> list | None:
        if isinstance(obj, Remote):
            if obj._generation != self._generation or obj._process is not self:
                raise KataFailure("A value from an earlier run of your code was used after that run ended.")
            return ["learner", obj._number]
        if callable(obj):
            self._grader_functions.append(obj)
            return ["grader", len(self._grader_functions) - 1, getattr(obj, "__name__", "function")]
        return None

    def _from_handle(self, handle: list) -> Any:
        if not (len(handle) == 5 and handle[0] == "learner" and type(handle[1]) is int and all(type(h) is str for h in handle[2:])):
            raise CodecError("a malformed handle")
        number, type_name, kind, name = handle[1:]
        if number not in self._remotes:
            cls = RemoteCallable if kind in ("class", "callable") else Remote
            self._remotes[number] = cls(self, number, type_name, name, self._generation)
        return self._remotes[number]


class LearnerProcesses:
    """The processes that hold one learner file: one, and for a kata with symbolic tasks a second, with
    sympy, that runs only those (no other learner process has sympy: harness/jail/placeholder.py).
    Each name of the learner's module is read from the process that runs it, and what that gives back
    stays tied to it. A check's time, its output and the end cover both."""

    def __init__(self, numeric: LearnerProcess, symbolic: LearnerProcess | None = None, symbolic_names: tuple[str, ...] = ()) -> None:
        self.numeric, self.symbolic, self.symbolic_names = numeric, symbolic, frozenset(symbolic_names)
        self.all = [p for p in (numeric, symbolic) if p is not None]

    def for_name(self, name: str) -> LearnerProcess:
        return self.symbolic if self.symbolic is not None and name in self.symbolic_names else self.numeric

    def ensure(self) -> None:
        """Load the file in the numeric process; _LoadFailed if it fails, unless the symbolic tasks'
        process loads it (its top level may use sympy where only that one has it): then only the
        numeric tasks fail, each with the reason. Otherwise the symbolic process loads on first use."""
        try:
            self.numeric.ensure()
        except _LoadFailed:
            if self.symbolic is None:
                raise
            self.symbolic.ensure()

    def start_check(self, seconds: float) -> None:
        for process in self.all:
            process.start_check(seconds)

    def end_check(self) -> None:
        for process in self.all:
            process.end_check()

    def output(self) -> str:
        return "".join(process.output() for process in self.all)

    def global_seed(self, seed: int):
        return self.numeric.global_seed(seed)

    def close(self) -> None:
        for process in self.all:
            process.close()


# Learner processes started ahead of need (watch mode's next grade, a cold pytest while torch imports):
# Python and numpy are up and the limits set; each waits for its file. One grader, one learner file
# (and for a kata with symbolic tasks, a second process for those, with sympy).
_started: list[spawn.Jailed] = []


def prestart(limits: spawn.JailLimits = spawn.JailLimits(), banned: tuple[str, ...] = integrity.BANNED, *, symbolic: bool = False) -> None:
    """Have the learner processes started for the next LearnerProcesses with these limits to take;
    symbolic: the kata has symbolic tasks, so the process with sympy too."""
    for sympy in (False, True) if symbolic else (False,):
        if any(jail.limits == limits and _has_sympy(jail) == sympy for jail in _started):
            continue
        if not _started:
            atexit.register(end_started)
        _started.append(_launch(limits, banned, sympy))


def end_started() -> None:
    """End the learner processes started ahead and not taken."""
    while _started:
        _started.pop().end()


def _has_sympy(jail: spawn.Jailed) -> bool:
    return "sympy" not in jail.setup["absent"]


def _launch(limits: spawn.JailLimits, banned: tuple[str, ...], sympy: bool) -> spawn.Jailed:
    jail = spawn.start(limits=limits, banned=banned, sympy=sympy)
    data = _SETUP_CODEC.dumps(jail.setup)
    os.write(jail.to_child, HEADER.pack(len(data)) + data)  # ~10 KB with sympy's names: the empty pipe takes it whole
    return jail


def _take_started(limits: spawn.JailLimits, banned: tuple[str, ...], sympy: bool) -> spawn.Jailed:
    for n, jail in enumerate(_started):
        if (jail.limits == limits and tuple(jail.setup["banned"]) == tuple(banned) and _has_sympy(jail) == sympy
                and jail.process.poll() is None):  # fmt: skip
            return _started.pop(n)
    return _launch(limits, banned, sympy)


_SETUP_CODEC = Codec(lambda obj: None, lambda handle: None)


class _LoadFailed(Exception):
    """Loading the learner's file failed; the message says why (raised as the learner module's LearnerLoadError)."""


def _called(what: str) -> str:
    return "Importing your file" if what == IMPORTING else f"{what}()"


def _import_failure(shown: str, exc: BaseException) -> str:
    if isinstance(exc, KataFailure):
        return str(exc)
    frames = getattr(exc, "frames", [])
    where = "\n".join(f"  {shown}:{f.lineno} in {f.name}\n    {f.line}" for f in frames)
    if isinstance(exc, LearnerTimeout):
        what = str(exc)
    elif isinstance(exc, LearnerDied):
        what = f"stopped: {exc}."
    else:
        what = f"raised {getattr(exc, 'type_name', type(exc).__name__)}: {exc}"
    return f"Importing {shown} {what}\n{where}".rstrip()


def _sync(old: Any, new: Any) -> bool:
    """Make the grader's `old` what the learner's code turned its copy into (an in-place change)."""
    if type(old) is np.ndarray and type(new) is np.ndarray and old.shape == new.shape:
        np.copyto(old, new, casting="unsafe")
        return True
    if type(old) is dict and type(new) is dict:
        for key in [k for k in old if k not in new]:
            del old[key]
        for key, value in new.items():
            if not (key in old and _sync(old[key], value)):
                old[key] = value
        return True
    if type(old) is list and type(new) is list:
        if len(old) == len(new):
            for i, value in enumerate(new):
                if not _sync(old[i], value):
                    old[i] = value
        else:
            old[:] = new
        return True
    return False


class Remote:
    """A learner's object that is not data: each use is a request to the process that holds it."""

    __slots__ = ("_process", "_number", "_type", "_name", "_generation", "__weakref__")

    def __init__(self, process: LearnerProcess, number: int, type_name: str, name: str, generation: int) -> None:
        for slot, value in zip(Remote.__slots__, (process, number, type_name, name, generation)):
            object.__setattr__(self, slot, value)

    @property
    def type_name(self) -> str:
        """The object's class as the learner knows it: `Value`, `numpy.ndarray` subclass `EvilArray`, `function`."""
        module, _, name = self._type.rpartition(".")
        return name if module.startswith("kata_") or module == "builtins" else self._type

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # special names are looked up on types, never sent
        return self._process.request("getattr", self, name, what=f"reading .{name} of your {self._type.rsplit('.', 1)[-1]}")

    def __setattr__(self, name: str, value: Any) -> None:
        self._process.request("setattr", self, name, value, what=f"setting .{name}")

    def __repr__(self) -> str:
        return f"<your {self._name or self._type}>"


class RemoteCallable(Remote):
    """A learner's function or class: calling it is a request; isinstance() against a class is one too."""

    __slots__ = ()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._process.call(self, args, kwargs, self._name or "your function")

    def __instancecheck__(self, instance: Any) -> bool:
        if not isinstance(instance, Remote) or instance._process is not self._process:
            return False
        return self._process.is_instance(instance, self)

    @property
    def __name__(self) -> str:  # noqa: A003 - what messages call the function
        return self._name.rsplit(".", 1)[-1]


def _binary(op: str, reflected: bool):
    def apply(self: Remote, other: Any) -> Any:
        operands = [other, self] if reflected else [self, other]
        return self._process.request("op", op, operands, what=f"`{op}` on your {self._type.rsplit('.', 1)[-1]}")

    return apply


for _op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul"):
    setattr(Remote, f"__{_op}__", _binary(_op, reflected=False))
    setattr(Remote, f"__r{_op}__", _binary(_op, reflected=True))
for _op in ("lt", "le", "gt", "ge"):
    setattr(Remote, f"__{_op}__", _binary(_op, reflected=False))
for _op in ("neg", "pos", "abs"):
    setattr(Remote, f"__{_op}__", lambda self, _op=_op: self._process.request("op", _op, [self], what=f"`{_op}` on your value"))
