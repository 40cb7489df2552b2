"""Per-test time limit inside the grading process (SIGALRM), and a memory cap for grading children.

The timeout is a BaseException on purpose: hypothesis treats Exceptions as failures worth
shrinking, which for an infinite loop would mean one more full time-out per shrink step. If the
learner's code swallows it (a bare `except:`), the timer fires again every second.
"""

from __future__ import annotations

import resource
import signal
from collections.abc import Iterator
from contextlib import contextmanager

REFIRE_S = 1.0
MEMORY_HEADROOM_BYTES = 4 * 2**30  # per grading child, on top of what the warm server already maps


class TestTimeout(BaseException):
    """The learner's code ran past the per-test limit."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, seconds: float) -> None:
        super().__init__(f"timed out after {seconds:g} s")
        self.seconds = seconds


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    if not seconds:
        yield
        return

    def expire(signum, frame):
        raise TestTimeout(seconds)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds, REFIRE_S)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def cap_memory(headroom: int = MEMORY_HEADROOM_BYTES) -> None:
    """Make a runaway allocation a MemoryError in this process instead of the machine's OOM killer."""
    with open("/proc/self/statm") as statm:
        mapped = int(statm.read().split()[0]) * resource.getpagesize()
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = mapped + headroom
    resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
