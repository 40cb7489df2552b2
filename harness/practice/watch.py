"""Re-grading a file each time it is saved, in a fresh child forked from a warm server."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from harness.grading.registry import Kata
from harness.grading.results import KataResult
from harness.grading.sandbox import Sandbox

POLL_S = 0.01  # stat() of one file is ~2 µs; polling keeps this free of platform watcher quirks


def signature(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_size


def settled_signature(path: Path) -> tuple[int, int] | None:
    """The file's signature once it stopped changing: editors may write a file in several steps."""
    current = signature(path)
    while True:
        time.sleep(POLL_S)
        again = signature(path)
        if again == current:
            return current
        current = again


def watch(
    kata: Kata,
    sandbox: Sandbox,
    on_verdict: Callable[[KataResult], None],
    root: Path | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    on_grading: Callable[[], None] = lambda: None,
) -> None:
    """Grade now, then after every save, until should_stop() is true (or Ctrl-C).

    on_grading() is told the moment a save lands (the verdict shown is stale from then on). A save
    during a grade cancels it and grades the newer file instead: the learner never waits for a
    verdict on code they have already changed.
    """
    path = kata.learner_file(root)
    seen = None
    while not should_stop():
        if signature(path) == seen:
            time.sleep(POLL_S)
            continue
        seen = settled_signature(path)
        on_grading()
        graded_file = seen
        result = sandbox.grade(kata.id, root, cancelled=lambda: should_stop() or signature(path) != graded_file)
        if result is None:
            continue  # saved again meanwhile: that version is graded next
        on_verdict(result)
        sandbox.prepare(kata.id, root)  # while the learner reads the verdict
