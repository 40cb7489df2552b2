"""Grading in child processes forked from a warm server that preloaded the heavy imports.

Each grade is fresh forks (multiprocessing's forkserver with harness.grading.warm preloaded, and for
long-lived graders harness.grading.warm_run too). These grading children are the trusted side: they run
pytest, the spec, hypothesis and torch, and never the learner's code, which each of them reaches
only through its own jailed learner process (harness/jail/). A grade may be split into shards, one
child per core, each running every K-th spec test. Children stream each test's result as it
finishes; a grading child that dies or runs past the kata's limit keeps the results it already sent,
and the test it was running becomes an error that says what happened.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import resource
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path

from harness.grading import registry
from harness.grading.registry import shown_path
from harness.grading.results import KataResult, Status, TestResult
from harness.jail.zygote import ZYGOTE_ENV


# The grading child's address space: torch, sympy and the spec take under 1 GiB; a learner's answer
# that would make the grader's own work explode (sympy evaluating 3**(10**9)) fails its check with a
# MemoryError instead of taking the machine.
GRADER_ADDRESS_SPACE = 4 * 2**30
CANCEL_POLL_S = 0.02  # how often a cancellable grade asks whether to stop (a stat() of the learner's file)


@dataclass(frozen=True)
class Limits:
    """Time limits for one grade; the per-test one covers a test's requests to the learner's process."""

    test_s: float = 10.0
    kata_s: float = 60.0


def _child(kata_id: str, impl_root: str | None, limits: Limits, shard: str, conn: Connection, spare: bool, zygote: str | None) -> None:
    from harness.grading import runner
    from harness.jail import proxy

    # The server may have been started under another Sandbox's zygote (one process, several batches):
    # this grade's is the one its Sandbox was made with, or none.
    if zygote is None:
        os.environ.pop(ZYGOTE_ENV, None)
    else:
        os.environ[ZYGOTE_ENV] = zygote

    resource.setrlimit(resource.RLIMIT_AS, (GRADER_ADDRESS_SPACE, GRADER_ADDRESS_SPACE))
    proxy.prestart(symbolic=bool(registry.get(kata_id).symbolic))  # the learner's processes boot while pytest starts and collects the spec
    os.setpgid(0, 0)  # a group of its own: whatever the learner's code forks dies with it (see _reap)

    def send(kind: str, payload: object) -> None:
        conn.send((kind, payload))
        if kind == "collected" and spare:
            # A spare started ahead of the next save: pytest is up and the spec collected; wait for
            # the go. The learner's file is read only after it, so the newest save is graded.
            conn.recv()

    # A crash dump or a stray warning is not the caller's output: the verdict says what happened.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    args = ("--test-timeout", str(limits.test_s), "--kata-shard", shard)
    send("done", runner.grade(kata_id, impl_root, pytest_args=args, on_event=send))
    proxy.end_started()
    conn.close()
    os._exit(0)  # without waiting for threads the learner's code may have left running


def _reap(process: multiprocessing.Process) -> None:
    """End a grading child and every process it started (its process group)."""
    process.join(2)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.join(5)


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name
        return f"the grader was killed by {name}"
    return f"the grader exited (exit status {exitcode})"


@dataclass
class _Shard:
    process: multiprocessing.Process
    receiver: Connection
    finished: list[TestResult] = field(default_factory=list)
    collected: dict[str, int] = field(default_factory=dict)  # this shard's tests -> position in the spec
    running: str | None = None
    outcome: KataResult | None = None
    cause: str | None = None
    spare: bool = False  # started ahead, waiting for "go" after collection

    @property
    def open(self) -> bool:
        return self.outcome is None and self.cause is None


class Sandbox:
    """Grades katas in forked children; create one and reuse it to keep the server warm.

    warm_run: also grade every reference (or those of the katas listed) once in the server (slower
    to start, faster per grade); for watch, mock interviews and batches. shards: children per grade (default: one per core, 2 max).
    prepare() starts the next grade's children ahead, so that a save finds them ready (watch mode).
    """

    def __init__(
        self, limits: Limits = Limits(), *, warm_run: bool | list[str] = False, shards: int | None = None
    ) -> None:
        self.limits = limits
        self.shards = shards or max(1, min(2, os.cpu_count() or 1))
        self._spare: dict[tuple, list[_Shard]] = {}
        self._zygote = os.environ.get(ZYGOTE_ENV)  # `kata batch`'s, when it runs one (harness/jail/zygote.py)
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(["harness.grading.warm", "harness.grading.warm_run"] if warm_run else ["harness.grading.warm"])
        if isinstance(warm_run, list):  # read by harness.grading.warm_run in the server, which this process starts
            os.environ["KATA_WARM_KATAS"] = ",".join(warm_run)

    def close(self) -> None:
        """End the spare children waiting for a next grade."""
        for shards in self._spare.values():
            for s in shards:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(s.process.pid, signal.SIGKILL)
                s.process.join(5)
                s.receiver.close()
        self._spare.clear()

    def warm_up(self, kata_id: str | None = None) -> None:
        """Start the server and wait for its preloading, rather than paying for it on the first grade."""
        self.grade(kata_id or registry.katas()[0].id, registry.REPO_ROOT / "solutions")

    def grade(
        self, kata_id: str, impl_root: Path | None = None, on_test: Callable[[TestResult], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> KataResult | None:
        """The grade; None when cancelled() turned true first (watch: a newer save), its children ended."""
        kata = registry.get(kata_id)
        root = Path(impl_root).resolve() if impl_root is not None else None
        start = time.perf_counter()
        key = (kata_id, root)
        shards = self._spare.pop(key, None) or self._start_all(kata_id, root, spare=False)
        for s in shards:
            if s.spare:
                with contextlib.suppress(OSError):  # a spare that died meanwhile is reported below
                    s.receiver.send("go")
        deadline = start + self.limits.kata_s
        while any(s.open for s in shards):
            by_receiver = {s.receiver: s for s in shards if s.open}
            left = max(0.0, deadline - time.perf_counter())
            ready = wait(list(by_receiver), timeout=min(left, CANCEL_POLL_S) if cancelled else left)
            if cancelled is not None and cancelled():
                for s in shards:
                    s.process.kill()
                    _reap(s.process)
                    s.receiver.close()
                return None
            if not ready and time.perf_counter() < deadline:
                continue
            if not ready:
                for s in by_receiver.values():
                    s.cause = f"timed out after {self.limits.kata_s:g} s (the limit for a whole kata)"
                    s.process.kill()
                break
            for receiver in ready:
                self._receive(by_receiver[receiver], on_test)
        for s in shards:
            _reap(s.process)
            s.receiver.close()
        return self._merge(kata, root, shards, time.perf_counter() - start)

    def prepare(self, kata_id: str, impl_root: Path | None = None) -> None:
        """Start the children for the next grade of this file now: pytest up and the spec collected,
        they wait for grade() to say go. For watch mode, after a verdict is shown."""
        root = Path(impl_root).resolve() if impl_root is not None else None
        if (kata_id, root) not in self._spare:
            self._spare[(kata_id, root)] = self._start_all(kata_id, root, spare=True)

    def _start_all(self, kata_id: str, root: Path | None, *, spare: bool) -> list[_Shard]:
        return [self._start(kata_id, root, f"{i}/{self.shards}", spare) for i in range(self.shards)]

    def _start(self, kata_id: str, root: Path | None, shard: str, spare: bool) -> _Shard:
        here, there = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(
            target=_child, args=(kata_id, str(root) if root else None, self.limits, shard, there, spare, self._zygote), daemon=True
        )
        process.start()
        there.close()
        return _Shard(process, here, spare=spare)

    @staticmethod
    def _receive(shard: _Shard, on_test: Callable[[TestResult], None] | None) -> None:
        try:
            kind, payload = shard.receiver.recv()
        except (EOFError, OSError):
            shard.process.join(5)
            shard.cause = _death(shard.process.exitcode)
            return
        if kind == "collected":
            shard.collected = payload
        elif kind == "start":
            shard.running = payload
        elif kind == "test":
            shard.finished.append(payload)
            shard.running = None
            if on_test:
                on_test(payload)
        elif kind == "done":
            shard.outcome = payload

    def _merge(self, kata: registry.Kata, root: Path | None, shards: list[_Shard], duration: float) -> KataResult:
        """One result in the spec's order; a missing result is never a pass."""
        errors = []
        per_shard = []
        for s in shards:
            if s.outcome is not None:
                per_shard.append(s.outcome.tests)  # runner.grade gives every collected check a result
                if s.outcome.error:
                    errors.append(s.outcome.error)
                continue
            during = f" during {s.running}" if s.running else ""
            message = f"Grading stopped{during}: {s.cause}."
            errors.append(message)
            done = {t.name: t for t in s.finished}
            tests = []
            for name in s.collected or ([s.running] if s.running else []):
                if name in done:
                    tests.append(done[name])
                else:
                    text = message if name == s.running else f"Not run: {message[0].lower()}{message[1:]}"
                    tests.append(TestResult(name, Status.ERROR, text, 0.0, kata.weight(name)))
            per_shard.append(tests)
        order = {name: n for s in shards for name, n in s.collected.items()}
        tests = sorted((t for group in per_shard for t in group), key=lambda t: order.get(t.name, len(order)))
        if errors:
            status = Status.ERROR
        elif all(t.status is Status.PASS for t in tests) and tests:
            status = Status.PASS
        else:
            status = Status.FAIL
        return KataResult(kata.id, shown_path(kata.learner_file(root)), status, tests, errors[0] if errors else None, duration)
