"""The learner's file as the specs see it: checked here, run in a jailed process (harness/jail/).

The grader never imports the learner's file. It reads it as text (does it parse? does it import an
autodiff library?) and hands a copy to a child process (harness/jail/spawn.py); `load` returns a
`LearnerModule` whose attributes are the child's, reached through the proxy of harness/jail/proxy.py.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from harness.grading import integrity
from harness.grading.checks import KataFailure, describe
from harness.jail.proxy import Frame, LearnerProcess, LearnerProcesses, _LoadFailed
from harness.jail.spawn import JailLimits
from harness.grading.registry import shown_path

# A kata's answer is a few kilobytes; a megabyte is far past any honest one and still cheap to parse.
MAX_SOURCE_BYTES = 2**20


class LearnerLoadError(Exception):
    """The learner's file is missing, does not parse, or fails while it is imported."""


class MissingName(KataFailure, AttributeError):
    """The learner's module lacks a name the spec uses (an AttributeError too, so hasattr() works)."""


class LearnerModule:
    """The learner's module: attribute reads go to the jailed child that runs the name (a symbolic
    task's process, or the other one); a missing name is a clear failure.

    Only the names the stub defines (`callables`) are read from it. Any other name is missing here,
    whatever the learner's file defines: hypothesis takes a test's first argument for its `self` and
    asks it for `execute_example`, `setup_example` and `teardown_example`, so a file that defined an
    `execute_example` running nothing would pass every property without being tried once."""

    def __init__(self, processes: LearnerProcesses, path: Path, callables: frozenset[str]) -> None:
        self._processes, self._path, self._callables = processes, path, callables
        # The stub's functions and classes, once read, for the life of the learner's process: half of
        # a check's round trips were `learner.forward` before each call. name -> (the module it came from, it)
        self._known: dict[str, tuple[object, object]] = {}

    @property
    def process(self) -> LearnerProcesses:
        return self._processes

    @property
    def file(self) -> Path:
        return self._path

    def __getattr__(self, name: str):
        if name not in self._callables:
            raise AttributeError(f"{name}: the grader reads only the stub's names from {shown_path(self._path)}")
        process = self._processes.for_name(name)
        try:
            process.ensure()
        except _LoadFailed as exc:
            raise LearnerLoadError(str(exc)) from None
        known = self._known.get(name)
        if known is not None and known[0] is process.module_remote:
            return known[1]
        try:
            value = process.request("getattr", process.module_remote, name, what=f"reading {name}")
        except AttributeError:
            raise MissingName(f"{shown_path(self._path)} has no {name}: the spec uses {name}, keep the stub's names.") from None
        if not callable(value):
            raise KataFailure(
                f"{shown_path(self._path)} defines {name} as {describe(value)}, but the spec calls it:"
                f" keep the stub's `def {name}(...)` (or `class {name}`)."
            )
        self._known[name] = (process.module_remote, value)
        return value


def format_frames(frames: list[Frame]) -> str:
    return "\n".join(f"  {shown_path(f.filename)}:{f.lineno} in {f.name}\n    {f.line}" for f in frames)


def check_file(path: Path) -> bytes:
    """The learner's source, if it is a regular file of Python the grader may run; else LearnerLoadError."""
    shown = shown_path(path)
    for link in (path, path.parent):  # the file, or its kata folder linked to someone else's (solutions/)
        if link.is_symlink():
            what = "file" if link == path else "kata folder"
            raise LearnerLoadError(f"{shown_path(link)} is a symbolic link: grade the {what} itself, not a link to it.")
    if path.is_dir():
        raise LearnerLoadError(f"{shown} is a folder, but it should be your Python file.")
    if not path.is_file():
        raise LearnerLoadError(f"There is no file {shown} to grade.")
    size = path.stat().st_size
    if size > MAX_SOURCE_BYTES:  # asked before reading: a sparse file of gigabytes takes no disk at all
        raise LearnerLoadError(
            f"{shown} is {size:,} bytes: a kata's file is a few kilobytes, and the grader reads at most {MAX_SOURCE_BYTES:,}."
        )
    with path.open("rb") as fh:
        source = fh.read(MAX_SOURCE_BYTES + 1)  # it may have grown since the stat
    if len(source) > MAX_SOURCE_BYTES:
        raise LearnerLoadError(f"{shown} grew past {MAX_SOURCE_BYTES:,} bytes while it was being read.")
    try:
        compile(source, str(path), "exec", dont_inherit=True)  # parsed, never run, here
    except (SyntaxError, ValueError) as exc:  # ValueError: null bytes, i.e. not a text file at all
        if getattr(exc, "lineno", None) is None:
            raise LearnerLoadError(f"{shown} is not Python source ({exc}).") from None
        caret = " " * max((exc.offset or 1) - 1, 0) + "^"
        raise LearnerLoadError(f"{shown}, line {exc.lineno}: {exc.msg}\n    {(exc.text or '').rstrip()}\n    {caret}") from None
    banned = integrity.scan_source(source, str(path))
    if banned:
        raise LearnerLoadError("\n".join(integrity.message(shown, *found) for found in banned))
    return source


def load(
    path: Path, *, callables: frozenset[str], symbolic: tuple[str, ...] = (), seconds: float = 10.0,
    limits: JailLimits = JailLimits(),
) -> LearnerModule:
    """Check the learner's file and import it in a jailed child; LearnerLoadError says what went wrong.
    callables: the names the caller reads, each a function or class (the stub's: kata.callables); a
      learner's `forward = None` is then a sentence, not our TypeError;
    symbolic: the functions that may use sympy: they run in a process of their own, the only one with sympy;
    seconds: the time limit of one check, which the file's top level gets too."""
    path = Path(path).absolute()
    source = check_file(path)  # what is run is what was checked, even if the file is saved again meanwhile
    # A name of our own per file, so that the learner's module never shadows one of the libraries.
    module = f"kata_{path.stem}_{hashlib.sha1(str(path).encode()).hexdigest()[:8]}"
    def process(sympy: bool) -> LearnerProcess:
        return LearnerProcess(path, source, module, shown_path(path), banned=integrity.BANNED, seconds=seconds, limits=limits, sympy=sympy)

    processes = LearnerProcesses(process(False), process(True) if symbolic else None, symbolic)
    try:
        processes.ensure()
    except _LoadFailed as exc:
        raise LearnerLoadError(str(exc)) from None
    return LearnerModule(processes, path, callables)
