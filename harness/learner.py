"""Loading the learner's file as a module, with errors that point at their code, not at ours."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import linecache
import importlib.util
import os
import sys
import traceback
import unittest
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from _pytest.outcomes import Exit, OutcomeException

from harness import integrity
from harness.checks import KataFailure, NotImplementedYet
from harness.limits import TestTimeout
from harness.registry import shown_path


class LearnerLoadError(Exception):
    """The learner's file is missing, does not parse, or fails while it is imported."""


class MissingName(KataFailure, AttributeError):
    """The learner's module lacks a name the spec uses (an AttributeError too, so hasattr() works)."""


class LearnerModule:
    """The learner's module as the specs see it: a missing name is a clear failure, and a stub's
    NotImplementedError becomes NotImplementedYet."""

    def __init__(self, module: ModuleType, path: Path) -> None:
        self._module = module
        self._path = path

    def __getattr__(self, name: str):
        try:
            value = getattr(self._module, name)
        except AttributeError:
            raise MissingName(f"{shown_path(self._path)} has no {name}: the spec uses {name}, keep the stub's names.") from None
        if not inspect.isfunction(value):
            return value

        @functools.wraps(value)
        def call(*args, **kwargs):
            on_call(name)
            with learner_code():
                return value(*args, **kwargs)

        return call


IMPORTING = "<import>"  # what on_call() is told while the learner's file itself runs


def on_call(name: str) -> None:
    """Called as each learner function is entered; the sandbox replaces it to know where a crash was."""


_current_file: Path | None = None  # the learner file loaded last: the one whose code is running
interrupts_are_the_learners = False  # True in a grading child, where no terminal sends Ctrl-C


@contextlib.contextmanager
def learner_code() -> Iterator[None]:
    """Around every call into the learner's code: the integrity guard, and stubs that fail fast.

    A NotImplementedError becomes NotImplementedYet, which hypothesis does not shrink. LearnerModule
    does this for module-level functions; specs wrap calls into a learner's classes with it.
    """
    try:
        with integrity.guard(_current_file) if _current_file else contextlib.nullcontext():
            yield
    except NotImplementedError as exc:
        raise NotImplementedYet(str(exc)) from exc
    except (OutcomeException, Exit, unittest.SkipTest, KeyboardInterrupt) as exc:
        # pytest.skip(), pytest.exit(), pytest.fail(), a SkipTest or (where no one can press
        # Ctrl-C) a KeyboardInterrupt from the code under test: it may fail a check, never skip or
        # stop one.
        if isinstance(exc, KeyboardInterrupt) and not interrupts_are_the_learners:
            raise
        frames = learner_frames(exc.__traceback__, _current_file) if _current_file else []
        where = f"{frames[-1].name}() raised" if frames else "The code under test raised"
        raise KataFailure(f"{where} {type(exc).__name__} ({exc}): it may not skip or stop the checks.") from None


@dataclass(frozen=True)
class Frame:
    """One traceback entry in the learner's file; `name` is qualified (Value.__add__)."""

    filename: str
    lineno: int
    name: str
    line: str


def learner_frames(tb, path: Path) -> list[Frame]:
    """The frames of a traceback that lie in the learner's file, outermost first."""
    target = os.path.realpath(path)
    frames = []
    for frame, lineno in traceback.walk_tb(tb):
        code = frame.f_code
        if os.path.realpath(code.co_filename) == target:
            line = linecache.getline(code.co_filename, lineno).strip()
            frames.append(Frame(code.co_filename, lineno, code.co_qualname, line))
    return frames


def format_frames(frames: list[Frame]) -> str:
    return "\n".join(f"  {shown_path(f.filename)}:{f.lineno} in {f.name}\n    {f.line}" for f in frames)


def load(path: Path) -> LearnerModule:
    """Import the learner's file under a private module name; LearnerLoadError says what went wrong."""
    path = Path(path).resolve()
    if not path.is_file():
        raise LearnerLoadError(f"There is no file {shown_path(path)} to grade.")
    source = path.read_bytes()
    try:
        code = compile(source, str(path), "exec")
    except (SyntaxError, ValueError) as exc:  # ValueError: null bytes, i.e. not a text file at all
        if getattr(exc, "lineno", None) is None:
            raise LearnerLoadError(f"{shown_path(path)} is not Python source ({exc}).") from None
        caret = " " * max((exc.offset or 1) - 1, 0) + "^"
        raise LearnerLoadError(
            f"{shown_path(path)}, line {exc.lineno}: {exc.msg}\n    {(exc.text or '').rstrip()}\n    {caret}"
        ) from None
    banned = integrity.scan_source(source.decode("utf-8", "replace"), str(path))
    if banned:
        raise LearnerLoadError("\n".join(integrity.message(shown_path(path), *found) for found in banned))
    global _current_file
    _current_file = path
    # A name of our own per file, so two submissions of the same kata never share a module.
    name = f"kata_learner_{path.stem}_{hashlib.sha1(str(path).encode()).hexdigest()[:10]}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look a module up by name
    on_call(IMPORTING)
    try:
        with learner_code():
            exec(code, module.__dict__)
    except BaseException as exc:  # noqa: BLE001 - whatever their file raises, report it as theirs
        sys.modules.pop(name, None)
        if isinstance(exc, KeyboardInterrupt):
            raise
        frames = format_frames(learner_frames(exc.__traceback__, path))
        what = str(exc) if isinstance(exc, (TestTimeout, integrity.IntegrityError)) else f"raised {type(exc).__name__}: {exc}"
        raise LearnerLoadError(f"Importing {shown_path(path)} {what}\n{frames}".rstrip()) from None
    return LearnerModule(module, path)
