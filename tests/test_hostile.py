"""Hostile submissions, graded on the real paths: what a cheating or malicious file earns, and what it harms.

Every hostile submission here is an honest part (code a learner could hand in: here the reference
with backward() unfinished, worth 7 of 20) plus an attack, and the rule for each is the same:

  * it earns EXACTLY what its honest part earns, check by check (no point more, none less);
  * honest classmates graded beside it earn what they earn alone;
  * nothing it started is alive after the grade (every leftover process it starts carries a unique
    marker in its argv, looked for in /proc while the grade runs and after it).

The attack classes: forged results (writing to every file descriptor, pickles), introspection
(frames, sys.modules, torch by every spelling, the grader's files on disk), patching (numpy, lying
arrays and floats), batch classmates (a detached process that kills, overwrites submissions and the
batch's outputs), the plain `pytest katas/02_backprop --impl DIR` path (os._exit, hangs a Python
alarm cannot stop, 20 MB of prints), and smaller faults (a BOM, bytes Python refuses, a folder or a
link where the file should be, a lowered recursion limit).

The attack code lives in tests/hostile/ (not test modules: read here as text and appended to the
honest part, with the paths it aims at planted as literals). Paths of this clone are computed here,
never assumed. The slow paths (plain pytest, `kata batch`, `kata draw`, `kata grade`) run as real
subprocesses started together in the background when the module starts, while the in-process
sandbox cases run; each of their tests then waits for its own.

A hole found here is kept as a failing assertion of the correct behaviour: never skipped or xfailed.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
import os
import pickle
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import solution_source

from harness.grading import registry
from harness.jail import spawn
from harness.grading.registry import shown_path
from harness.grading.results import KataResult, Status, TestResult
from harness.grading.sandbox import Limits, Sandbox

ROOT = registry.REPO_ROOT  # this clone's root, wherever it is: planted into the attacks as a literal
HOSTILE = Path(__file__).parent / "hostile"
KATA = registry.get("02_backprop")
GRAPH = registry.get("03_graph")
KATA_EXE = str(Path(sys.executable).with_name("kata"))
TORCH_SITE = str(Path(importlib.util.find_spec("torch").origin).parent.parent)

REFERENCE = solution_source(KATA.id)
BACKWARD = "    n = X.shape[0]\n"
MODULE = "EPS = 1e-12"
UNFINISHED = '    raise NotImplementedError("backward() is not implemented yet (Task 02.4)")\n'
assert REFERENCE.count(BACKWARD) == 1 and REFERENCE.count(MODULE) == 1, "the reference changed: update the anchors"
# The honest part of most hostile submissions: all correct but backward(), which is not written yet
# (so train() fails too). Worth init_params 3 + forward 2 + bce_loss 2 = 7 of 20.
HONEST = REFERENCE.replace(BACKWARD, UNFINISHED + BACKWARD)
HONEST_POINTS = 7
BUGGY = REFERENCE.replace("dZ2 = (A2 - y) / n", "dZ2 = A2 - y")  # an honest classmate's mistake: the missing 1/N
assert len({REFERENCE, HONEST, BUGGY}) == 3

RUN_TIMEOUT_S = 240  # a subprocess past this is killed (with its process group) and the test fails
BOUNDED_S = 120  # what "finishes in bounded time" means for the hanging submission
GRACE_S = 3.0  # time given to the reaper before a leftover process counts as having survived
MAX_RSS = 1.5 * 2**30


# --- building submissions --------------------------------------------------------------------------
def snippet(name: str, **planted) -> str:
    """tests/hostile/<name> with each __KEY__ token replaced by the literal of planted[key]."""
    text = (HOSTILE / name).read_text()
    for key, value in planted.items():
        token = f"__{key.upper()}__"
        assert token in text, f"{name} has no {token}"
        text = text.replace(token, repr(value))
    left = sorted(set(re.findall(r"\b__[A-Z][A-Z_]*__\b", text)))
    assert not left, f"{name}: nothing planted for {left}"
    return text


def compose(*parts: str) -> str:
    return "\n\n".join(part.rstrip("\n") for part in parts) + "\n"


def marker() -> str:
    return f"kata-hostile-{uuid.uuid4().hex}"


def leave_behind(mark: str, **config) -> str:
    """Code that, at import, leaves a detached saboteur running with `mark` in its argv (tests/hostile/saboteur.py)."""
    return snippet("detach.py", saboteur=(HOSTILE / "saboteur.py").read_text(), marker=mark, config=config)


def write_submission(root: Path, source: str | bytes, kata: registry.Kata = KATA) -> Path:
    """root laid out like katas/, holding `source` as the kata's file; returns root."""
    target = kata.learner_file(root)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source if isinstance(source, bytes) else source.encode())
    return root


# --- processes left behind -------------------------------------------------------------------------
def _state(pid: str) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def carrying(mark: str) -> list[int]:
    """Live processes (not zombies) whose argv holds `mark`."""
    needle, found = mark.encode(), []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmdline and _state(entry) not in (None, "Z", "X"):
            found.append(int(entry))
    return found


class Watch:
    """Polls /proc while a grade runs: which processes carrying the marker were ever seen."""

    def __init__(self, mark: str) -> None:
        self.mark, self.seen = mark, set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.seen.update(carrying(self.mark))
            self._stop.wait(0.05)

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def survivors(mark: str, grace: float = GRACE_S) -> list[int]:
    """The processes carrying `mark` still alive `grace` seconds from now (at once if none is); each
    is killed before returning, so a hole never leaves them running."""
    deadline = time.monotonic() + grace
    alive = carrying(mark)
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = carrying(mark)
    for pid in alive:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return alive


# --- what a grade earned ---------------------------------------------------------------------------
def passed(result: KataResult) -> dict[str, bool]:
    return {t.name: t.status is Status.PASS for t in result.tests}


def messages(result: KataResult) -> dict[str, str]:
    return {t.name: t.message or "" for t in result.tests}


def differences(result: KataResult, honest: KataResult) -> tuple[list[str], list[str]]:
    """(checks passed that the honest part fails, checks failed that the honest part passes)."""
    got, want = passed(result), passed(honest)
    assert set(got) == set(want), f"checks differ: {sorted(set(got) ^ set(want))}\nerror: {result.error}"
    return [n for n in got if got[n] and not want[n]], [n for n in got if want[n] and not got[n]]


def assert_earns_exactly(result: KataResult, honest: KataResult, what: str) -> None:
    extra, lost = differences(result, honest)
    said = messages(result)
    assert not extra, f"{what} earned checks its honest part fails: {extra}\n" + "\n---\n".join(f"{n}: {said[n]}" for n in extra)
    assert not lost, f"{what} lost checks its honest part passes: {lost}\n" + "\n---\n".join(f"{n}: {said[n][:1500]}" for n in lost)
    assert result.score == honest.score and result.max_score == honest.max_score
    assert result.status is not Status.PASS


def assert_earns_at_most(result: KataResult, honest: KataResult, what: str) -> None:
    extra, _ = differences(result, honest)
    said = messages(result)
    assert not extra, f"{what} earned checks its honest counterpart fails: {extra}\n" + "\n---\n".join(f"{n}: {said[n]}" for n in extra)
    assert result.score <= honest.score and result.max_score == honest.max_score


# What a learner never reads unless the grader itself went wrong: a traceback (Python's or pytest's,
# whose lines start with "E   " and name the harness' files), or a grading process that died.
HARNESS_TROUBLE = re.compile(
    r"Traceback \(most recent call last\)|INTERNALERROR|the grader was killed|the grader exited"
    r"|^E {3,}\S|(?:harness|_pytest|site-packages)/\S+\.py:\d+",
    flags=re.M,
)


def assert_grader_unharmed(result: KataResult) -> None:
    """The grade ran to its end on the grader's side: no harness traceback, no dead grading process."""
    for name, text in [("error", result.error or ""), *messages(result).items()]:
        trouble = HARNESS_TROUBLE.search(text)
        assert trouble is None, f"the grader itself was in trouble in {name} ({trouble.group(0)!r}):\n{text[:3000]}"


def by_result_json(path: Path) -> KataResult:
    """A KataResult read back from our JSON format (kata grade --format json, a batch's result.json)."""
    kata = json.loads(path.read_text())["katas"][0]
    tests = [TestResult(t["name"], Status(t["status"]), t["message"], t["score"], t["max_score"]) for t in kata["tests"]]
    return KataResult(kata["id"], kata["file"], Status(kata["status"]), tests, kata["error"], kata.get("duration_s", 0.0))


# --- subprocesses, measured ------------------------------------------------------------------------
@dataclass
class Finished:
    args: list[str]
    returncode: int
    output: str  # stdout and stderr together, as a learner reads them in a terminal
    duration: float
    max_rss: int  # bytes: the largest process of the tree (wait4's rusage: the child and what it reaped)
    timed_out: bool
    seen: set[int]  # processes carrying the run's marker seen while it ran

    def describe(self) -> str:
        return f"`{' '.join(self.args[-6:])}`: exit {self.returncode} after {self.duration:.1f} s, max RSS {self.max_rss / 2**20:.0f} MiB"


def run_measured(args: list[str], *, env: dict | None = None, mark: str | None = None, timeout: float = RUN_TIMEOUT_S) -> Finished:
    """Run a command from the repo root as a learner would (no terminal), in a process group of its
    own; its exit status, output, duration and the peak RSS of its process tree."""
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    with tempfile.TemporaryFile() as out, Watch(mark or marker()) as watch:
        start = time.monotonic()
        process = subprocess.Popen(args, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                   env=full_env, start_new_session=True)  # fmt: skip
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        duration = time.monotonic() - start
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
    return Finished(args, process.returncode, output, duration, usage.ru_maxrss * 1024, killed.is_set(), watch.seen)


def plain_pytest(impl: Path, *extra: str, mark: str | None = None) -> Finished:
    return run_measured([sys.executable, "-m", "pytest", "katas/02_backprop", "--impl", str(impl), "-q", *extra], mark=mark)


def kata_cli(*args: str, db: Path, mark: str | None = None, env: dict | None = None) -> Finished:
    return run_measured([KATA_EXE, *args], env={"KATA_DB": str(db), **(env or {})}, mark=mark)


# --- fixtures ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sandbox():
    """One warm grader for the in-process cases, as `kata grade` makes it (its shards grade at once)."""
    box = Sandbox(Limits(test_s=10, kata_s=120))
    yield box
    box.close()


@pytest.fixture(scope="module")
def solo(sandbox, tmp_path_factory):
    """solo(name, source) -> the grade of an honest submission on its own (cached): the baseline
    each hostile submission and each classmate is compared with."""
    cache: dict[str, KataResult] = {}
    base = tmp_path_factory.mktemp("solo")

    def grade(name: str, source: str) -> KataResult:
        if name not in cache:
            result = sandbox.grade(KATA.id, write_submission(base / name, source))
            assert_grader_unharmed(result)
            cache[name] = result
        return cache[name]

    reference = grade("reference", REFERENCE)
    assert reference.status is Status.PASS and reference.score == reference.max_score > 0, reference.error
    honest = grade("honest", HONEST)
    assert honest.score == HONEST_POINTS, messages(honest)
    return grade


@pytest.fixture
def grade_hostile(sandbox, tmp_path):
    """grade_hostile(source, mark) -> (result, processes carrying mark seen during the grade, survivors)."""

    def grade(source: str | bytes, mark: str | None = None, name: str = "hostile") -> tuple[KataResult, set[int], list[int]]:
        root = write_submission(tmp_path / name, source)
        with Watch(mark or marker()) as watch:
            result = sandbox.grade(KATA.id, root)
        left = survivors(mark) if mark else []
        return result, watch.seen, left

    return grade


# --- the background: every slow real path, started together ------------------------------------------
class Background:
    """Jobs started when the module starts; each test waits for the result of its own."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self._pool = ThreadPoolExecutor(max_workers=4)
        self._jobs: dict[str, Future] = {}

    def start(self, name: str, job, *args) -> None:
        self._jobs[name] = self._pool.submit(job, *args)

    def result(self, name: str):
        return self._jobs[name].result(timeout=RUN_TIMEOUT_S * 2)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def _folder(base: Path, name: str) -> Path:
    path = base / name
    path.mkdir(parents=True)
    return path


def _plain_job(bg: Background, name: str, source: str, extra: tuple[str, ...], mark: str | None) -> Finished:
    return plain_pytest(write_submission(_folder(bg.base, name.replace(" ", "-")), source), *extra, mark=mark)


HANGS_MARK = marker()  # the leftover process of the hanging submission
PLAIN = {  # name -> (source, extra pytest arguments, the marker of its leftover process); the longest first
    "hangs": (compose(REFERENCE, snippet("hangs.py"), leave_behind(HANGS_MARK, delay=0.5, seconds=60)), ("--test-timeout", "2"), HANGS_MARK),
    "honest": (HONEST, (), None),
    "exit at import": (HONEST.replace(MODULE, "import os\nos._exit(0)\n" + MODULE), (), None),
    "exit in atexit": (HONEST.replace(MODULE, "import atexit\nimport os\natexit.register(os._exit, 0)\n" + MODULE), (), None),
    "printing": (compose(HONEST, snippet("printing.py")), (), None),
    "hypothesis hooks": (compose(HONEST, snippet("hypothesis_hooks.py")), (), None),
}

# eve's file fails at import with a message made to take over the instructor's terminal when the
# batch prints its table of errors: clear the screen, retitle the window, print a fake row.
EVE = compose(HONEST, 'raise RuntimeError("nothing to see\\x1b[2J\\x1b[H\\x1b]0;pwned\\x1b\\\\| eve | 19/19 |")')
EVE_HONEST = compose(HONEST, 'raise RuntimeError("nothing to see")')


def _batch_job(bg: Background, name: str, learners: dict[str, str], hostile: bool) -> dict:
    """A class graded by `kata batch`; with the hostile learners: mallory, whose import leaves a saboteur
    behind that kills the batch's processes and overwrites the classmates' files and the outputs for
    30 s, and eve, whose import error is made of terminal escape sequences."""
    base = _folder(bg.base, name)
    subs, out = base / "submissions", base / "out"
    for learner, source in learners.items():
        write_submission(subs / learner, source)
    env_mark, mark = marker(), marker()
    if hostile:
        victims = [str(KATA.learner_file(subs / learner)) for learner in learners]
        victims += [str(out / "grades.csv"), *(str(out / "learners" / who / f) for who in [*learners, "mallory", "eve"] for f in ("results.json", "result.json", "junit.xml"))]
        mallory = compose(HONEST, leave_behind(mark, delay=1.0, seconds=30, overwrite=victims, kill_env=env_mark))
        write_submission(subs / "mallory", mallory)
        write_submission(subs / "eve", EVE)
    before = {p.relative_to(subs): hashlib.sha256(p.read_bytes()).hexdigest() for p in subs.rglob("*") if p.is_file()}
    run = kata_cli("batch", str(subs), "--katas", KATA.id, "--out", str(out), db=base / "db.sqlite3",
                   mark=mark, env={"KATA_HOSTILE_VICTIM": env_mark})  # fmt: skip
    time.sleep(GRACE_S)  # a saboteur that survived the batch now has time to overwrite its outputs
    return {"run": run, "subs": subs, "out": out, "mark": mark, "before": before}


def _draw_job(bg: Background) -> dict:
    base = _folder(bg.base, "draw")
    out = base / "drawings"
    mark = marker()
    victims = [str(out / f"graph.{ext}") for ext in ("png", "svg", "dot")]
    source = compose(solution_source(GRAPH.id), leave_behind(mark, delay=0.5, seconds=30, overwrite=victims))
    write_submission(base / "impl", source, GRAPH)
    run = kata_cli("draw", "--impl", str(base / "impl"), "--out", str(out), db=base / "db.sqlite3", mark=mark)
    time.sleep(GRACE_S)
    return {"run": run, "out": out, "mark": mark}


def _grade_cli_job(bg: Background, name: str, source: bytes) -> Finished:
    impl = write_submission(_folder(bg.base, name), source)
    return kata_cli("grade", KATA.id, "--impl", str(impl), "--format", "json", db=bg.base / name / "db.sqlite3")


# Which background jobs each test reads: only those of the selected tests are started (`-k` stays quick).
NEEDED_BY = {
    "test_plain_pytest_honest_baseline": ["honest"],
    "test_hypothesis_hooks_in_the_file_cannot_skip_the_examples": ["hypothesis hooks"],
    "test_plain_pytest_os_exit_at_import_is_no_pass": ["exit at import"],
    "test_plain_pytest_os_exit_in_atexit_is_no_pass": ["exit in atexit"],
    "test_plain_pytest_hangs_no_alarm_can_stop_end_in_bounded_time_naming_the_function": ["hangs"],
    "test_plain_pytest_20_mb_of_prints_per_call_stay_out_of_the_grader": ["honest", "printing"],
    "test_a_batch_of_honest_learners_grades_each_as_if_alone": ["batch control"],
    "test_a_saboteur_in_a_batch_harms_no_classmate_and_does_not_survive": ["batch"],
    "test_a_learners_error_message_cannot_drive_the_instructors_terminal": ["batch"],
    "test_kata_draw_of_a_graph_that_leaves_a_saboteur_draws_and_leaves_nothing": ["draw"],
    "test_a_reference_saved_with_a_utf8_bom_gets_full_marks": ["grade bom"],
    "test_bytes_python_refuses_get_pythons_own_message_and_nothing": ["grade undecodable"],
}


@pytest.fixture(scope="module", autouse=True)
def background(request, tmp_path_factory):
    selected = {item.originalname for item in request.session.items if item.module is request.module}
    wanted = {job for test, jobs in NEEDED_BY.items() if test in selected for job in jobs}
    bg = Background(tmp_path_factory.mktemp("background"))
    for name, (source, extra, mark) in PLAIN.items():
        if name in wanted:
            bg.start(name, _plain_job, bg, name, source, extra, mark)
    starts = {
        "batch": (_batch_job, bg, "batch", {"alice": REFERENCE, "bob": BUGGY}, True),
        "batch control": (_batch_job, bg, "batch-control", {"alice": REFERENCE, "bob": BUGGY}, False),
        "draw": (_draw_job, bg),
        "grade bom": (_grade_cli_job, bg, "grade-bom", b"\xef\xbb\xbf" + REFERENCE.encode()),
        "grade undecodable": (_grade_cli_job, bg, "grade-undecodable", b"\xff\xfe garbage"),
    }
    for name, (job, *args) in starts.items():
        if name in wanted:
            bg.start(name, job, *args)
    yield bg
    bg.close()


def test_isolation_in_force_is_reported():
    """Not an attack: the level every case below ran under, for whoever reads the log."""
    iso = spawn.isolation()
    print(f"\nlearner code runs in: {iso.describe()}")
    assert iso.level in (spawn.BUBBLEWRAP, spawn.PROCESS)


# === 1. forged results =================================================================================
def test_forged_and_pickled_messages_on_every_fd_earn_nothing(solo, grade_hostile, tmp_path):
    honest = solo("honest", HONEST)
    touched = tmp_path / "unpickled-on-the-grader-side"

    class Touch:  # unpickling this opens (creates) `touched`: proof that a pickle was loaded
        def __reduce__(self):
            return (open, (str(touched), "w"))

    full_marks = KataResult(KATA.id, "x", Status.PASS, [TestResult(t.name, Status.PASS, None, t.max_score, t.max_score) for t in honest.tests], None, 0.1)
    mark = marker()
    source = compose(
        HONEST,
        snippet("forge.py", pickled_result=pickle.dumps(("done", full_marks)), pickled_touch=pickle.dumps(Touch()), touched=str(touched)),
        leave_behind(mark, delay=0.5, seconds=30),
    )
    result, seen, left = grade_hostile(source, mark)
    assert not touched.exists(), "a pickle written by the learner's code was loaded on the grader's side"
    assert_grader_unharmed(result)
    assert_earns_exactly(result, honest, "writing forged frames and pickles to every fd")
    for name, message in messages(result).items():
        if name.startswith("test_backward"):  # the grader read the forgery as what it is: not an answer
            assert message.startswith("backward() gave back something the grader cannot check"), message[:500]
    assert seen, "the leftover process never started: the case tested nothing"
    assert not left, f"processes {left} started by the learner's code outlived the grade"


def test_well_formed_replies_out_of_turn_earn_no_more_than_returning_that_value(solo, grade_hostile):
    """50 framed ["ok", None, []] replies in the pipe, then NotImplementedError: no more than `return None`."""
    returns_none = solo("backward returns None", REFERENCE.replace(BACKWARD, "    return None\n" + BACKWARD))
    result, _, _ = grade_hostile(compose(HONEST, snippet("forge_replies.py")))
    assert result.max_score == returns_none.max_score and len(result.tests) == len(returns_none.tests)
    assert_earns_at_most(result, returns_none, "forged replies out of turn")
    assert_grader_unharmed(result)  # a surplus reply is a malformed answer, never the answer to a later request


def test_hypothesis_hooks_in_the_file_cannot_skip_the_examples(solo, grade_hostile, background):
    """hypothesis takes a test's first argument, the learner's module, for its `self` and asks it for
    an executor: the module answers only the stub's names, so every example still runs."""
    honest = solo("honest", HONEST)
    result, _, _ = grade_hostile(compose(HONEST, snippet("hypothesis_hooks.py")))
    assert_grader_unharmed(result)
    assert_earns_exactly(result, honest, "hypothesis's executor hooks")
    run = background.result("hypothesis hooks")  # and on the plain pytest path
    print(f"\n{run.describe()}")
    assert run.returncode == 1 and _summary(run) == f"7 of 15 checks pass, score {HONEST_POINTS}/20.", run.output[-3000:]


# === 2. introspection ==================================================================================
def test_introspection_finds_no_answer_no_torch_and_no_grader_file(solo, grade_hostile):
    honest = solo("honest", HONEST)
    mark = marker()
    source = compose(HONEST, snippet("introspect.py", repo=str(ROOT), torch_site=TORCH_SITE), leave_behind(mark, delay=0.5, seconds=30))
    result, seen, left = grade_hostile(source, mark)
    said = "\n".join(messages(result).values())
    log = said[said.index("hostile log") :] if "hostile log" in said else ""
    print(f"\n{log}")
    assert_grader_unharmed(result)
    assert ": YES" not in log, f"learner code reached what it must not:\n{log[:2000]}"
    assert_earns_exactly(result, honest, "introspection")
    for name, message in messages(result).items():
        if name.startswith("test_backward"):
            assert message.startswith("backward() is not implemented yet"), message[:500]
    # Not vacuous: every attempt ran and said why it failed.
    for attempt in ("frames", "inspect.stack", "gc", "sys.modules", "oracle via harness.__path__", "__import__ torch",
                    "importlib torch", "exec import torch", "torch without blocker", "torch from its site", "torch by file",
                    "reference from disk", "reference via /proc", "reference walking up", "grader files"):  # fmt: skip
        assert f"{attempt}: no (" in log, f"no verdict for {attempt!r} in:\n{log[:2000]}"
    assert seen and not left, (seen, left)


# === 3. patching =======================================================================================
# What the lies of tests/hostile/patching.py hold, handed in honestly: plain values, the same numbers.
PATCHING_HONEST = """\
def bce_loss(y_hat, y):
    return 0.5


def backward(X, y, params, cache):
    return {"W1": np.zeros(7), "b1": np.zeros(0), "W2": np.zeros((3, 1)), "b2": np.zeros(1)}


def train(X, y, *, epochs=500, lr=1.0, seed=0):
    raise NotImplementedError("train() is not implemented yet (Task 02.5)")
"""


def test_patched_numpy_and_lying_objects_earn_nothing(solo, grade_hostile):
    honest = solo("patching's honest part", compose(HONEST, PATCHING_HONEST))
    mark = marker()
    result, seen, left = grade_hostile(compose(HONEST, snippet("patching.py"), leave_behind(mark, delay=0.5, seconds=30)), mark)
    assert_grader_unharmed(result)
    assert_earns_exactly(result, honest, "patched numpy and lying objects")
    said = messages(result)
    for key in ("W1", "b1", "W2", "b2"):  # each lie is refused as what it is: not an array
        assert f"backward()['{key}'] should be a NumPy array of shape" in said[f"test_backward_matches_torch[{key}]"], said[f"test_backward_matches_torch[{key}]"]
    assert said["test_bce_loss_matches_torch"].startswith("bce_loss() should be a single float"), said["test_bce_loss_matches_torch"]
    assert seen and not left, (seen, left)


# === 4. batch classmates ===============================================================================
# Each learner of the batches, and the name of the solo grade of the same source.
ALONE = {"alice": "reference", "bob": "buggy", "mallory": "honest", "eve": "eve's honest part"}


def _batch_verdicts(job: dict, solo, learners: dict[str, str]) -> None:
    run: Finished = job["run"]
    print(f"\n{run.describe()}; saboteur seen: {sorted(run.seen)}")
    assert run.returncode == 0 and not run.timed_out, run.output[-3000:]
    out = job["out"]
    rows = {row["learner"]: row for row in csv.DictReader((out / "grades.csv").open())}
    assert set(rows) == set(learners), rows
    problems = []
    for learner, source in learners.items():
        alone = solo(ALONE[learner], source)
        graded = by_result_json(out / "learners" / learner / "result.json")
        extra, lost = differences(graded, alone)
        if extra or lost or graded.score != alone.score:
            said = messages(graded)
            problems.append(f"{learner}: {graded.score:g} in the batch, {alone.score:g} alone; passes only in the batch {extra}, "
                            f"only alone {lost}:\n" + "\n".join(f"  {n}: {said[n][:300]}" for n in extra + lost))  # fmt: skip
        if float(rows[learner][KATA.id]) != alone.score:
            problems.append(f"{learner}: grades.csv says {rows[learner][KATA.id]}, alone {alone.score:g}")
    for path in out.rglob("*"):
        if path.is_file() and "SABOTAGED" in path.read_text(errors="replace"):
            problems.append(f"{path.relative_to(out)} was overwritten by the saboteur")
    after = {p.relative_to(job["subs"]): hashlib.sha256(p.read_bytes()).hexdigest() for p in job["subs"].rglob("*") if p.is_file()}
    if after != job["before"]:
        problems.append(f"submission files changed during the batch: {sorted(str(k) for k in set(after) | set(job['before']) if after.get(k) != job['before'].get(k))}")
    assert not problems, "\n".join(problems)


def test_a_batch_of_honest_learners_grades_each_as_if_alone(background, solo):
    """The control for the next test: no hostile learner, two workers at once."""
    _batch_verdicts(background.result("batch control"), solo, {"alice": REFERENCE, "bob": BUGGY})


def test_a_saboteur_in_a_batch_harms_no_classmate_and_does_not_survive(background, solo):
    job = background.result("batch")
    run: Finished = job["run"]
    left = survivors(job["mark"], grace=0)  # the job already waited GRACE_S after the batch
    assert run.seen, "mallory's saboteur never started: the case tested nothing"
    assert not left, f"mallory's saboteur {left} outlived the batch"
    _batch_verdicts(job, solo, {"alice": REFERENCE, "bob": BUGGY, "mallory": HONEST, "eve": EVE_HONEST})  # their honest parts


def test_a_learners_error_message_cannot_drive_the_instructors_terminal(background):
    """eve (in the same batch) earns what her honest part earns (checked above); her message must
    also reach the batch's table as text, not as escape sequences for the instructor's terminal."""
    run: Finished = background.result("batch")["run"]
    assert "eve" in run.output and "RuntimeError" in run.output, run.output[-3000:]  # the table folds the message
    assert "\x1b" not in run.output, "eve's escape sequences reached the instructor's terminal:\n" + repr(run.output[-2000:])


def test_kata_draw_of_a_graph_that_leaves_a_saboteur_draws_and_leaves_nothing(background):
    job = background.result("draw")
    run: Finished = job["run"]
    print(f"\n{run.describe()}")
    left = survivors(job["mark"], grace=0)
    assert run.returncode == 0 and not run.timed_out, run.output[-3000:]
    assert run.seen, "the saboteur never started: the case tested nothing"
    assert not left, f"the saboteur {left} outlived `kata draw`"
    for ext in ("png", "svg"):
        drawing = job["out"] / f"graph.{ext}"
        assert drawing.is_file() and b"SABOTAGED" not in drawing.read_bytes(), drawing


# === 5. the plain pytest path ==========================================================================
def _summary(run: Finished) -> str:
    found = re.search(r"^(\d+) of (\d+) checks pass, score ([\d.]+)/([\d.]+)\.$", run.output, flags=re.M)
    assert found, f"no kata summary in the output of {run.describe()}:\n{run.output[-3000:]}"
    return found.group(0)


def _last_line(run: Finished) -> str:
    return run.output.rstrip().splitlines()[-1]


def _failures(run: Finished) -> dict[str, str]:
    """test name -> the first line of its failure, as pytest printed them (printed too, for the log)."""
    found = dict(re.findall(r"^_{3,} (?:ERROR at \w+ of )?(test_\S+) _{3,}$\n(.*)$", run.output, flags=re.M))
    print("\n".join(f"  {name}: {line}" for name, line in found.items()))
    return found


def test_plain_pytest_honest_baseline(background):
    run = background.result("honest")
    print(f"\n{run.describe()}")
    assert run.returncode == 1, run.output[-3000:]
    assert _summary(run) == f"7 of 15 checks pass, score {HONEST_POINTS}/20."


def test_plain_pytest_os_exit_at_import_is_no_pass(background):
    run = background.result("exit at import")
    print(f"\n{run.describe()}")
    assert run.returncode != 0, run.output[-3000:]
    assert run.returncode == 1, run.output[-3000:]
    assert _summary(run) == "0 of 15 checks pass, score 0/20."
    _failures(run)
    assert re.search(r"\b15 (failed|errors?)\b", _last_line(run)), _last_line(run)
    assert "exited the interpreter (exit status 0: os._exit()?)" in run.output, run.output[-3000:]


def test_plain_pytest_os_exit_in_atexit_is_no_pass(background):
    run = background.result("exit in atexit")
    print(f"\n{run.describe()}")
    assert run.returncode == 1, run.output[-3000:]
    assert _summary(run) == f"7 of 15 checks pass, score {HONEST_POINTS}/20."
    _failures(run)
    assert re.search(r"\b8 failed\b", _last_line(run)) and "7 passed" in _last_line(run), _last_line(run)
    assert "backward() is not implemented yet" in run.output


def test_plain_pytest_hangs_no_alarm_can_stop_end_in_bounded_time_naming_the_function(background):
    run = background.result("hangs")
    print(f"\n{run.describe()}; leftover seen: {sorted(run.seen)}")
    assert not run.timed_out and run.duration < BOUNDED_S, run.describe()
    assert run.returncode == 1, run.output[-3000:]
    # forward() is the honest part: its two checks, and nothing else.
    assert _summary(run) == "2 of 15 checks pass, score 2/20.", run.output[-3000:]
    failures = _failures(run)
    expected = {
        "test_init_params_keys_and_shapes": "init_params()",  # SIGALRM ignored and blocked, then a loop
        "test_bce_loss_matches_torch": "bce_loss()",  # a loop in C
        "test_bce_loss_finite_at_0_and_1": "bce_loss()",
        "test_backward_matches_torch[W1]": "backward()",  # a __del__ that swallows the alarm
        "test_backward_leaves_arguments_unchanged": "backward()",
    }
    for test, function in expected.items():
        assert test in failures, f"{test} did not fail:\n{run.output[-3000:]}"
        first = failures[test]
        assert first.startswith("timed out after 2 s in ") and function in first, (test, first)
    assert "train() is not implemented yet" in failures.get("test_train_learns_xor", ""), failures.get("test_train_learns_xor")
    assert run.seen, "the leftover process never started"
    assert not survivors(HANGS_MARK, grace=0), "a process the hanging code started outlived pytest"


def test_plain_pytest_20_mb_of_prints_per_call_stay_out_of_the_grader(background):
    honest, run = background.result("honest"), background.result("printing")
    print(f"\nhonest: {honest.describe()}\nprinting 20 MB per call: {run.describe()}; output {len(run.output)} characters")
    assert run.returncode == 1, run.output[-3000:]
    assert _summary(run) == f"7 of 15 checks pass, score {HONEST_POINTS}/20."
    assert run.max_rss < MAX_RSS, f"the grader grew to {run.max_rss / 2**20:.0f} MiB (honest run: {honest.max_rss / 2**20:.0f} MiB)"
    assert len(run.output) < 2**20, f"the learner's prints reached the terminal: {len(run.output)} characters"
    assert "Your output (its last lines):\n" in run.output, run.output[-3000:]
    assert re.search(r"\[\.\.\. \d+ characters before\]", run.output), run.output[-3000:]


# === 6. smaller faults =================================================================================
def test_a_reference_saved_with_a_utf8_bom_gets_full_marks(solo, grade_hostile, background):
    result, _, _ = grade_hostile(b"\xef\xbb\xbf" + REFERENCE.encode())
    assert result.status is Status.PASS and result.score == result.max_score == solo("reference", REFERENCE).score, messages(result)
    cli = background.result("grade bom")
    print(f"\n{cli.describe()}")
    assert cli.returncode == 0, cli.output[-3000:]
    graded = json.loads(cli.output[cli.output.index("{") :])
    assert graded["score"] == graded["max_score"] == result.max_score


def test_bytes_python_refuses_get_pythons_own_message_and_nothing(grade_hostile, background):
    result, _, _ = grade_hostile(b"\xff\xfe garbage")
    python_says = "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"
    assert result.status is Status.ERROR and result.score == 0
    assert python_says in result.error, result.error
    assert all(t.status is not Status.PASS and t.message == result.error for t in result.tests)
    assert "Traceback" not in result.error
    cli = background.result("grade undecodable")
    print(f"\n{cli.describe()}")
    assert cli.returncode == 1, cli.output[-3000:]
    graded = json.loads(cli.output[cli.output.index("{") :])
    assert graded["score"] == 0 and python_says in graded["katas"][0]["error"]


def _one_sentence_for_every_check(result: KataResult, shown: str, phrase: str) -> None:
    assert result.status is Status.ERROR and result.score == 0, (result.status, result.score, result.error)
    message = result.error or ""
    assert phrase in message and "\n" not in message and message.endswith("."), message
    assert shown in message, f"the message should name the learner's own path {shown!r}: {message!r}"
    assert all(t.message == message and t.score == 0 for t in result.tests)


def test_a_folder_where_the_file_should_be_is_one_clear_sentence(sandbox, tmp_path):
    KATA.learner_file(tmp_path).mkdir(parents=True)
    result = sandbox.grade(KATA.id, tmp_path)
    _one_sentence_for_every_check(result, shown_path(KATA.learner_file(tmp_path)), "is a folder")


def test_a_symlink_where_the_file_should_be_is_one_clear_sentence(sandbox, tmp_path):
    """A link to the reference: followed, it would be full marks for a file the learner never wrote."""
    link = KATA.learner_file(tmp_path)
    link.parent.mkdir(parents=True)
    link.symlink_to(KATA.solution_path)
    result = sandbox.grade(KATA.id, tmp_path)
    _one_sentence_for_every_check(result, shown_path(link.parent) + "/" + KATA.filename, "symbolic link")


def test_a_kata_folder_that_is_a_symlink_to_the_reference_earns_nothing(sandbox, tmp_path):
    """DIR/02_backprop -> solutions/02_backprop: the file itself is no link, but it is the reference's."""
    (tmp_path / KATA.id).symlink_to(KATA.solution_path.parent)
    result = sandbox.grade(KATA.id, tmp_path)
    assert result.score == 0 and result.status is Status.ERROR, (
        f"a kata folder linked to solutions/ graded {result.status.value} {result.score:g}/{result.max_score:g}"
    )
    assert "symbolic link" in (result.error or ""), result.error


def test_a_file_of_gigabytes_is_one_clear_sentence_and_never_read(sandbox, tmp_path):
    """A sparse file: 6 GiB to whoever reads it, no disk at all to whoever makes it."""
    path = KATA.learner_file(tmp_path)
    path.parent.mkdir(parents=True)
    with path.open("wb") as fh:
        fh.truncate(6 * 2**30)
    result = sandbox.grade(KATA.id, tmp_path)
    _one_sentence_for_every_check(result, shown_path(path), "is 6,442,450,944 bytes")


def test_a_number_too_large_for_a_float_is_told_in_a_sentence(grade_hostile):
    source = REFERENCE.replace("    p = np.clip(y_hat, EPS", "    return 10**400\n    p = np.clip(y_hat, EPS")
    result, _, _ = grade_hostile(source)
    said = messages(result)
    assert said["test_bce_loss_matches_torch"].startswith("bce_loss() is an int (1000"), said["test_bce_loss_matches_torch"][:300]
    assert "too large for a float" in said["test_bce_loss_matches_torch"]
    assert not any("Traceback" in message for message in said.values())


def test_a_lowered_recursion_limit_is_named_when_it_causes_a_recursion_error(grade_hostile):
    # bce_loss() recurses 100 deep: fine at Python's default limit, a RecursionError at 50.
    deep = "def _depth(n):\n    return 0.0 if n == 0 else _depth(n - 1)\n\n\n"
    source = REFERENCE.replace(MODULE, "import sys\nsys.setrecursionlimit(50)\n" + MODULE)
    source = source.replace("def bce_loss(", deep + "def bce_loss(").replace("    p = np.clip(", "    _depth(100)\n    p = np.clip(")
    result, _, _ = grade_hostile(source)
    said = messages(result)
    assert result.status is not Status.PASS and result.score < result.max_score
    for name in ("test_bce_loss_matches_torch", "test_bce_loss_finite_at_0_and_1"):
        assert said[name].startswith("bce_loss() raised RecursionError"), said[name][:500]
    failing = {n: m for n, m in said.items() if not passed(result)[n]}
    unnamed = {n: m.splitlines()[0] for n, m in failing.items() if "sys.setrecursionlimit" not in m}
    assert not unnamed, "failures that do not name the lowered limit:\n" + "\n".join(f"  {n}: {m}" for n, m in unnamed.items())


# A conftest.py is pytest's to import wherever it lies on a test path: in a submission, beside the kata
# folders or inside one, it would run in the grader (as root in a batch) and could rewrite every report.
CONFTEST = """
import pathlib
import pytest

pathlib.Path({marker!r}).write_text("ran in the grader")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    report.outcome, report.longrepr = "passed", None


def pytest_configure(config):
    config.pluginmanager.register(__import__(__name__))
"""


def test_a_conftest_in_the_submission_never_runs_in_the_grader(tmp_path):
    ran = tmp_path / "ran-in-grader"
    subs = tmp_path / "subs"
    impl = write_submission(subs / "mallory", HONEST)
    for where in (impl, impl / KATA.id):
        (where / "conftest.py").write_text(CONFTEST.format(marker=str(ran)))
    plain = plain_pytest(impl)
    assert _summary(plain) == f"7 of 15 checks pass, score {HONEST_POINTS}/20.", plain.output[-3000:]
    graded = kata_cli("grade", KATA.id, "--impl", str(impl), db=tmp_path / "db.sqlite3")
    assert f"score {HONEST_POINTS}/20" in graded.output, graded.output[-3000:]
    out = tmp_path / "out"
    kata_cli("batch", str(subs), "--katas", KATA.id, "--out", str(out), db=tmp_path / "db.sqlite3")
    rows = {row["learner"]: row for row in csv.DictReader((out / "grades.csv").open())}
    assert rows["mallory"][KATA.id] == str(HONEST_POINTS)
    assert not ran.exists()
