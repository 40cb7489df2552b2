"""What a learner reads when a spec test fails: the exception turned into plain words.

A failure names the function and the file and line in the learner's code; a harness traceback is
shown only when the harness itself is at fault (then it is our bug, and the trace is what we need).
What the learner's code raised arrives from its jailed process as data (harness/jail/proxy.py),
with the frames of their file.
"""

from __future__ import annotations

from pathlib import Path

from harness.grading.checks import Diagnosis, GraderTimeout, KataFailure, NotImplementedYet
from harness.jail.proxy import LearnerDied, LearnerError, LearnerTimeout
from harness.grading.learner import LearnerLoadError, format_frames
from harness.grading.registry import shown_path
from harness.grading.text import split_diagnosis

# Hypothesis' own note repeats the example as a raw repr (with the learner's module object in it),
# for a drawn example and for an @example alike; the spec attaches a readable one instead.
_HYPOTHESIS_HEADERS = ("Falsifying example", "Failing test case", "Failing explicit example")


def _first(exc: BaseException) -> BaseException:
    # Hypothesis raises a group when it found several distinct failures; the first is representative.
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


def _example(exc: BaseException) -> str:
    """Our own notes (the smallest failing example) and hypothesis' replay hints, minus its raw repr."""
    notes = [n for n in getattr(exc, "__notes__", []) if not n.startswith(_HYPOTHESIS_HEADERS)]
    return ("\n\n" + "\n".join(notes)) if notes else ""


def diagnosis(exc: BaseException) -> Diagnosis | None:
    """The known mistake a failure was matched to, if any."""
    exc = _first(exc)
    return exc.diagnosis if isinstance(exc, KataFailure) else None


def explain(exc: BaseException, learner_file: Path, *, why: bool = False) -> str | None:
    """The learner-facing text for `exc`, or None when the fault is the harness's own.
    A likely mistake is named by what the numbers show; why: also why it is wrong and the way out."""
    exc = _first(exc)
    shown = shown_path(learner_file)
    if isinstance(exc, LearnerLoadError):
        return str(exc)
    if isinstance(exc, KataFailure):
        sentence, _, numbers = str(exc).partition("\n")
        if exc.diagnosis is not None:
            sentence += f"\nLikely mistake: {exc.diagnosis.text if why else split_diagnosis(exc.diagnosis.text)[0]}"
        return sentence + (f"\n{numbers}" if numbers else "") + _example(exc)
    if isinstance(exc, NotImplementedYet):
        frames = getattr(exc, "frames", [])
        if not frames:
            return f"Your code is not finished: {exc or 'NotImplementedError'}."
        stub = frames[-1]  # the innermost: train() may be waiting on a stubbed init_params()
        return f"{stub.name}() is not implemented yet: write it in {shown} (line {stub.lineno} raises NotImplementedError)."
    if isinstance(exc, LearnerTimeout):
        if exc.frames:
            # Name the function the check called, at its own line: a loop in train() that calls
            # bce_loss() is train()'s, even when time ran out inside bce_loss().
            called = exc.frames[0]
            # The innermost named function: a comprehension or lambda (train.<locals>.<dictcomp>) is its line's.
            inner = next((f for f in reversed(exc.frames) if not f.name.endswith(">")), called)
            inside = f", inside {inner.name}() (line {inner.lineno})" if inner is not called else ""
            return f"{exc} in {called.name}() ({shown} line {called.lineno}: `{called.line}`){inside}: an infinite loop?"
        stopped = " and did not stop when asked, so its process was ended" if exc.killed else ""
        return f"{exc} in {exc.function}(){stopped}: an infinite loop?"
    if isinstance(exc, GraderTimeout):
        return str(exc)
    if isinstance(exc, LearnerDied):
        return f"Grading stopped in {exc.function}(): {exc}."
    if isinstance(exc, LearnerError):
        func = exc.frames[0].name if exc.frames else exc.function
        return f"{func}() raised {exc.type_name}: {exc}\n{format_frames(exc.frames)}".rstrip() + _example(exc)
    return None
