"""Running the learner's code for a picture: loaded as a grade loads it, and a stub, a crash or a
time-out told the way a check tells it."""

from __future__ import annotations

from pathlib import Path

from harness.grading import registry
from harness.grading.checks import NotImplementedYet
from harness.grading.learner import LearnerLoadError, LearnerModule, load
from harness.grading.registry import shown_path
from harness.jail.proxy import LearnerDied, LearnerTimeout
from harness.pictures import DrawError


class Unfinished(Exception):
    """The learner's code reached a stub; str(self) says which function, and where. A picture may
    draw what it can without that part."""


def open_module(kata_id: str, path: Path, seconds: float) -> LearnerModule:
    """The kata's learner file at `path` in its jailed process, the stub's names readable, its code
    given `seconds` in all; a file that cannot load is a DrawError. The caller closes its process."""
    try:
        module = load(path, callables=registry.get(kata_id).callables)
    except LearnerLoadError as exc:
        raise DrawError(str(exc)) from None
    module.process.start_check(seconds)
    return module


def run(step, path: Path, doing: str):
    """step() as the learner's code runs (in its jailed process): a stub raises Unfinished; a crash,
    a time-out or a death a DrawError that says, while `doing`, what a failed check would."""
    from harness.grading.verdicts import explain

    try:
        return step()
    except NotImplementedYet as exc:
        frames = getattr(exc, "frames", [])
        where = f"{frames[-1].name}() in {shown_path(path)} (line {frames[-1].lineno})" if frames else "a function"
        raise Unfinished(f"{where} is not implemented yet") from None
    except (Exception, LearnerTimeout, LearnerDied) as exc:  # noqa: BLE001 - whatever their code raises is theirs to read
        told = explain(exc, path)
        if told is None:
            raise
        raise DrawError(f"While {doing}: {told}") from None
