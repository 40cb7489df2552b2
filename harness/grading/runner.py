"""Grading a kata file in this process: pytest.main on the hidden spec, results collected as data.

This is the one way the CLI, watch mode, mock interviews and batch grading run a spec; they call it
in a child process so that learner code can never take the caller down with it.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.grading import registry
from harness.grading.registry import shown_path
from harness.grading.results import KataResult, Status, TestResult


def keep(tests: dict[str, TestResult], kata: registry.Kata, report: pytest.TestReport) -> None:
    """Put what one phase of a spec test reported into `tests` (by test name), as a TestResult."""
    name = report.nodeid.rsplit("::", 1)[-1]
    weight = kata.weight(name)
    if report.failed:
        message = report.longrepr if isinstance(report.longrepr, str) else str(report.longrepr)
        found = dict(report.user_properties)
        status = Status.ERROR if report.when == "setup" or found.get("status") == "error" else Status.FAIL
        tests[name] = TestResult(name, status, message, 0.0, weight, report.duration, found.get("diagnosis"), found.get("mistake"))
    elif report.when == "call" and report.passed:
        tests[name] = TestResult(name, Status.PASS, None, weight, weight, report.duration)
    elif report.skipped and name not in tests:
        # Nothing in a spec skips: a skip came from the learner's code (pytest.skip, SkipTest).
        message = "Skipped, which a check may not be: the code under test asked pytest to skip it."
        tests[name] = TestResult(name, Status.FAIL, message, 0.0, weight, report.duration)


def status_of(tests: list[TestResult], collect_error: str | None = None) -> tuple[Status, str | None]:
    """A kata's status and error from its checks' results."""
    if collect_error or not tests:
        return Status.ERROR, collect_error or "the spec collected no tests"
    if any(t.status is Status.ERROR for t in tests):
        return Status.ERROR, next(t.message for t in tests if t.status is Status.ERROR)
    return (Status.PASS if all(t.status is Status.PASS for t in tests) else Status.FAIL), None


class _Collector:
    """A pytest plugin that keeps each test's outcome and learner-facing message."""

    def __init__(self, kata: registry.Kata, on_event: Callable[[str, object], None] | None) -> None:
        self.kata = kata
        self.tests: dict[str, TestResult] = {}
        self.collect_error: str | None = None
        self.on_event = on_event or (lambda kind, payload: None)
        self.collected: list[str] = []

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        order = {item.nodeid.rsplit("::", 1)[-1]: getattr(item, "spec_index", n) for n, item in enumerate(session.items)}
        self.collected = list(order)
        self.on_event("collected", order)  # name -> position in the spec, for merging shards

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.on_event("start", nodeid.rsplit("::", 1)[-1])

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        name = nodeid.rsplit("::", 1)[-1]
        if name in self.tests:
            self.on_event("test", self.tests[name])

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        keep(self.tests, self.kata, report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collect_error = str(report.longrepr)


def grade(
    kata_id: str,
    impl_root: Path | None = None,
    pytest_args: tuple[str, ...] = (),
    on_event: Callable[[str, object], None] | None = None,
) -> KataResult:
    """Grade `impl_root/<kata_id>/<module>.py` (default: katas/) with the kata's hidden spec.

    on_event("start", test_name) and on_event("test", TestResult) report progress as it happens,
    so a caller in another process keeps every finished result even if this process dies.
    """
    kata = registry.get(kata_id)
    root = Path(impl_root).resolve() if impl_root is not None else registry.REPO_ROOT / "katas"
    collector = _Collector(kata, on_event)
    args = [
        str(registry.REPO_ROOT / "katas" / kata.id),
        f"--impl={root}",
        "--noconftest",  # the grader needs none, and no file of a submission's may run here
        "--rootdir", str(registry.REPO_ROOT),
        "-c", str(registry.REPO_ROOT / "pyproject.toml"),
        # No terminal, no faulthandler (a crash in learner code is reported by the sandbox, not
        # dumped raw), and no logging or warnings capture per test (nobody reads them here; ~5% of
        # a grade). pyproject's addopts already turn off the unraisable-exception plugin.
        "-p", "no:terminal", "-p", "no:faulthandler", "-p", "no:logging", "-p", "no:warnings",
        *pytest_args,
    ]  # fmt: skip
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        pytest.main(args, plugins=[collector])
    # Every collected check has a result; one that never reported (the session was stopped) is an
    # error, never a pass.
    stopped = "Not run: grading stopped before this check (the code under test stopped the session)."
    tests = [collector.tests.get(name) or TestResult(name, Status.ERROR, stopped, 0.0, kata.weight(name))
             for name in collector.collected] or list(collector.tests.values())  # fmt: skip
    status, error = status_of(tests, collector.collect_error)
    return KataResult(kata.id, shown_path(kata.learner_file(root)), status, tests, error, time.perf_counter() - start)
