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
) -> None:
    """Grade now, then after every save, until should_stop() is true (or Ctrl-C)."""
    path = kata.learner_file(root)
    seen = None
    while not should_stop():
        current = signature(path)
        if current != seen:
            seen = settled_signature(path)
            on_verdict(sandbox.grade(kata.id, root))
            sandbox.prepare(kata.id, root)  # while the learner reads the verdict
            continue
        time.sleep(POLL_S)
