"""pytest plugin: `pytest katas/<id>` grades the learner's file for that kata with its hidden spec.

A folder named after a registered kata (under katas/ or solutions/, or named on the command line)
is collected as that kata: its one test module is the hidden spec harness/packs/<module>/spec.py,
and the spec's `learner` fixture is the learner's module from `--impl DIR/<id>/<module>.py` (default:
the folder's own parent, so `pytest katas/02_backprop` grades katas/02_backprop/backprop.py).
This pytest process is the trusted side: it never imports the learner's file. The fixture starts a
jailed child that holds it (harness/jail/), and every use of the learner's code is a request to that
child through the proxy. Failures are reported in plain words (harness/grading/verdicts.py), with what the
learner's code printed.
"""

from __future__ import annotations

import contextlib
import importlib
import random
import signal
import threading
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from harness.grading import profiles, registry
from harness.practice import workspace
from harness.jail import proxy, spawn
from harness.jail.proxy import LearnerDied, LearnerTimeout
from harness.grading.learner import LearnerModule, load
from harness.grading.registry import shown_path
from harness.grading.text import visible
from harness.grading.checks import GraderTimeout
from harness.grading.results import KataResult, Status, TestResult
from harness.grading.runner import keep, status_of
from harness.grading.verdicts import diagnosis, explain

IMPL_HELP = "grade DIR/<kata id>/<module>.py instead of the kata folder's own file (DIR is laid out like katas/)"
SHARD_HELP = "run only every K-th spec test starting at the I-th (0-based), for grading on several cores"
TIMEOUT_HELP = "seconds each spec test may run before it fails as timed out (default %(default)s; 0: no limit)"
EXPLAIN_HELP = "with a likely mistake, also say why it is wrong and the way to fix it (teach, don't spoil: off by default)"
TEST_TIMEOUT_S = 10.0

profiles.use_default()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kata", "kata grading")
    group.addoption("--impl", metavar="DIR", default=None, help=IMPL_HELP)
    group.addoption("--kata-shard", metavar="I/K", default=None, help=SHARD_HELP)
    group.addoption("--test-timeout", metavar="S", type=float, default=TEST_TIMEOUT_S, help=TIMEOUT_HELP)
    group.addoption("--explain", action="store_true", default=False, help=EXPLAIN_HELP)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep this shard's share of the spec tests (--kata-shard I/K), balanced by expected cost."""
    for n, item in enumerate(items):
        item.spec_index = n  # the spec's own order, to put shards' results back together
    shard = config.getoption("kata_shard")
    if shard is None:
        return
    index, count = (int(part) for part in shard.split("/"))
    # A hypothesis test runs its property 20 times and costs several plain tests: deal the tests
    # out heaviest first, each to the lightest shard so far (deterministic: ties go by position).
    cost = [1.0 if getattr(getattr(item, "obj", None), "is_hypothesis_test", False) else 0.3 for item in items]
    loads, mine = [0.0] * count, set()
    for n in sorted(range(len(items)), key=lambda n: (-cost[n], n)):
        target = min(range(count), key=lambda k: (loads[k], k))
        loads[target] += cost[n]
        if target == index:
            mine.add(n)
    items[:] = [item for n, item in enumerate(items) if n in mine]


@pytest.hookimpl(trylast=True)  # after hypothesis' own pytest_configure has loaded --hypothesis-profile
def pytest_configure(config: pytest.Config) -> None:
    """A summary per session; in the practice profile, a fresh seed per run, said, so any failure can be replayed."""
    from hypothesis import core, settings

    config.pluginmanager.register(Summary(config), f"kata-summary-{id(config)}")
    graded = _graded_katas(config)
    if graded:  # Python and numpy start in the learner's jail while this process imports torch
        proxy.prestart(symbolic=any(kata.symbolic for kata in graded))
    if settings.get_current_profile_name() == profiles.PRACTICE and core.global_force_seed is None:
        core.global_force_seed = random.SystemRandom().randrange(2**32)


def pytest_report_header(config: pytest.Config) -> str | None:
    from hypothesis import core, settings

    name = settings.get_current_profile_name()
    if name == profiles.PRACTICE:
        seed = core.global_force_seed
        profile = f"hypothesis profile: practice, seed {seed} (replay a failure with --hypothesis-profile practice --hypothesis-seed {seed})"
    else:
        profile = f"hypothesis profile: {name}" if name != profiles.GRADING else None
    if not _graded_katas(config):
        return profile
    return [line for line in (profile, f"learner code runs in: {spawn.isolation().describe()}") if line]


def _graded_katas(config: pytest.Config) -> list[registry.Kata]:
    named = {part for arg in config.args for part in Path(arg.split("::")[0]).parts}
    return [kata for kata in registry.katas() if kata.id in named]


def _impl_root(config: pytest.Config) -> Path | None:
    impl = config.getoption("impl")
    return (config.invocation_params.dir / impl).resolve() if impl else None


def _named_on_command_line(config: pytest.Config, path: Path) -> bool:
    base = config.invocation_params.dir
    return any((base / arg.split("::")[0]).resolve() == path for arg in config.args)


def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect a kata folder as its hidden spec; anything else is left to pytest."""
    ids = {kata.id for kata in registry.katas()}
    if path.name not in ids:
        return None
    root = parent.config.rootpath
    if path.parent in (root / "katas", root / "solutions") or _named_on_command_line(parent.config, path):
        return KataDir.from_parent(parent, path=path)
    return None


class KataDir(pytest.Directory):
    """A kata folder; knows which kata it is and which learner file is graded."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.kata = registry.get(self.path.name)
        root = _impl_root(self.config) or self.path.parent
        self.learner_file = self.kata.learner_file(root)
        self.learner: LearnerModule | None = None  # set by the `learner` fixture

    def collect(self):
        if self.path == self.kata.learner_file().parent and not self.kata.learner_file().exists():
            self._make_learner_file()
        yield SpecModule.from_parent(self, path=self.path / self.kata.filename)


    def _make_learner_file(self) -> None:
        """The learner's file from the stub, the first time (workspace.ensure); said on the terminal."""
        from harness.practice.store import Store, StoreError

        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        say = reporter.write_line if reporter is not None else (lambda line: None)
        try:
            store = Store(warn=say)
        except StoreError as exc:
            say(str(exc))
            return
        try:
            if workspace.ensure(self.kata, store):
                say(f"created {shown_path(self.kata.learner_file())} from the pristine stub")
        except workspace.MissingFile as exc:
            say(str(exc))
        finally:
            store.close()


class SpecModule(pytest.Module):
    """The learner's file as a test module whose tests come from the hidden spec."""

    def _getobj(self):
        kata = self.parent.kata
        return importlib.import_module(kata.spec_module)

    def collect(self):
        for item in super().collect():
            _explain_failures(item, self.parent.learner_file)
            yield item


def _explain_failures(item: pytest.Item, learner_file: Path) -> None:
    """Failures of spec tests are told in the learner's words (harness/grading/verdicts.py); pytest's own
    traceback, which costs ~0.2 s per failing test to build, is made only for the harness's bugs."""
    default_call, default_setup = item.repr_failure, item._repr_failure_py
    why = item.config.getoption("explain")

    def told(excinfo) -> str | None:
        text = explain(excinfo.value, learner_file, why=why)
        return visible(text) if text is not None else None  # it quotes what the learner's code raised

    def repr_failure(excinfo, *args, **kwargs):
        return told(excinfo) or default_call(excinfo, *args, **kwargs)

    def repr_setup_failure(excinfo, *args, **kwargs):
        return told(excinfo) or default_setup(excinfo, *args, **kwargs)

    item.repr_failure = repr_failure
    item._repr_failure_py = repr_setup_failure


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """Each spec test's time limit covers all of its requests to the learner's process."""
    kata_dir = item.getparent(KataDir)
    if kata_dir is None or kata_dir.learner is None:
        return (yield)
    process = kata_dir.learner.process
    seconds = item.config.getoption("test_timeout")
    process.start_check(seconds)
    try:
        with grader_time_limit(seconds * 3 + 10 if seconds else 0):
            return (yield)
    finally:
        process.end_check()


@contextlib.contextmanager
def grader_time_limit(seconds: float):
    """A last resort for the grader's own work on a check, whose inputs the learner's code chose; the
    learner's code itself is timed in its own process (harness/jail/). Main thread only (signals)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise GraderTimeout(f"The grader ran past {seconds:g} s checking what your code gave back (a huge expression or array?).")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def learner(request: pytest.FixtureRequest):
    """The learner's module for the kata being graded, held by a jailed child process."""
    kata_dir = request.node.getparent(KataDir)
    if kata_dir is None:
        raise RuntimeError("the `learner` fixture only exists inside a kata folder (pytest katas/<id>)")
    seconds = request.config.getoption("test_timeout") or 1e9
    kata = kata_dir.kata
    kata_dir.learner = load(kata_dir.learner_file, callables=kata.callables, symbolic=kata.symbolic, seconds=seconds)
    yield kata_dir.learner
    kata_dir.learner.process.close()  # the child and everything it started
    kata_dir.learner = None


# The end of what the learner's code printed during a failing check (hypothesis replays the smallest
# failing example last, so its prints are near the end): at most this many lines and characters.
OUTPUT_LINES, OUTPUT_CHARS = 15, 2000


def _tail(printed: str) -> str:
    lines = printed.rstrip().splitlines()
    shown = "\n".join(lines[-OUTPUT_LINES:])[-OUTPUT_CHARS:]
    left_out = len(printed.rstrip()) - len(shown)
    return (f"[... {left_out} characters before]\n" if left_out > 0 else "") + visible(shown)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    kata_dir = item.getparent(KataDir)
    if kata_dir is None:
        return report
    printed = kata_dir.learner.process.output() if kata_dir.learner is not None and call.when == "call" else ""
    if report.failed and call.excinfo is not None:
        cause = call.excinfo.value
        while isinstance(cause, BaseExceptionGroup):
            cause = cause.exceptions[0]
        if isinstance(cause, LearnerDied) or (isinstance(cause, LearnerTimeout) and cause.killed):
            report.user_properties.append(("status", "error"))  # the check could not be graded at all
        found = diagnosis(call.excinfo.value)
        if found is not None:
            report.user_properties.append(("mistake", found.id))
            report.user_properties.append(("diagnosis", found.text))
        if printed.strip() and isinstance(report.longrepr, str):
            report.longrepr += f"\n\nYour output (its last lines):\n{_tail(printed)}"
    return report


def pytest_report_collectionfinish(config: pytest.Config, items: list[pytest.Item]) -> list[str]:
    graded = {}
    for item in items:
        kata_dir = item.getparent(KataDir)
        if kata_dir is not None:
            graded[kata_dir.kata.id] = kata_dir.learner_file
    return [f"grading {shown_path(path)} ({kata_id})" for kata_id, path in graded.items()]


class Summary:
    """Per-kata results, closed with a score and the next step, and kept in the learner's history
    when their own file in katas/ was graded in full. One per pytest session (registered in
    pytest_configure), so a grade run with pytest.main inside another session stays separate."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results: dict[str, dict[str, TestResult]] = defaultdict(dict)
        self.selected: Counter[str] = Counter()
        self.deselected: Counter[str] = Counter()  # -k, -m: checks of the kata that did not run
        self.files: dict[str, Path] = {}

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        for item in items:
            kata_dir = item.getparent(KataDir)
            if kata_dir is not None:
                self.deselected[kata_dir.kata.id] += 1

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            kata_dir = item.getparent(KataDir)
            if kata_dir is not None:
                self.selected[kata_dir.kata.id] += 1
                self.files[kata_dir.kata.id] = kata_dir.learner_file

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        kata_id = _kata_of(report.nodeid)
        if kata_id is not None:
            keep(self.results[kata_id], registry.get(kata_id), report)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        for kata_id, by_name in self.results.items():
            kata = registry.get(kata_id)
            tests = list(by_name.values())
            passed = [t for t in tests if t.status is Status.PASS]
            score = f"{sum(t.score for t in tests):g}/{sum(t.max_score for t in tests):g}"
            terminalreporter.section(f"kata {kata_id}", sep="-", bold=True)
            skipped = self.deselected[kata_id]
            if skipped:
                terminalreporter.line(f"{len(tests)} of {len(tests) + skipped} checks ran (the others were deselected):"
                                      f" {len(passed)} of them pass, score {score} for those.")  # fmt: skip
            else:
                terminalreporter.line(f"{len(passed)} of {len(tests)} checks pass, score {score}.")
            failing = [t for t in tests if t.status is not Status.PASS]
            if failing:
                terminalreporter.line(f"First to fix: {failing[0].name}: {(failing[0].message or 'failed').splitlines()[0]}")
            elif skipped:
                terminalreporter.line(f"Those pass; `pytest katas/{kata_id}` runs every check.")
            else:
                terminalreporter.line(f"All checks pass. Compare with the reference: solutions/{kata_id}/{kata.filename}")
            self._record(kata, tests, terminalreporter)

    def _record(self, kata: registry.Kata, tests: list[TestResult], terminalreporter) -> None:
        """Into the history, like `kata grade`: the learner's own file, every check run."""
        complete = not self.deselected[kata.id] and len(tests) == self.selected[kata.id]
        if not complete or self.files.get(kata.id) != kata.learner_file() or self.config.getoption("kata_shard"):
            return
        from harness.practice.store import Store, StoreError

        status, error = status_of(tests)
        duration = sum(t.duration for t in tests)
        try:
            store = Store(warn=terminalreporter.write_line)
        except StoreError as exc:
            terminalreporter.write_line(f"Not saved to your history: {exc}")
            return
        try:
            store.record_grade(KataResult(kata.id, shown_path(kata.learner_file()), status, tests, error, duration), "pytest")
        finally:
            store.close()


def _kata_of(nodeid: str) -> str | None:
    parts = nodeid.split("::")[0].split("/")
    ids = {kata.id for kata in registry.katas()}
    return next((p for p in reversed(parts) if p in ids), None)
