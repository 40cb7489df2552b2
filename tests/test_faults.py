"""Grading you can trust: hostile and broken submissions of kata 02_backprop, graded in the sandbox.

Every submission is the reference solution with one fault put in by a string replacement. For each
fault: the status and the words a learner reads, the results of the checks that ran before the
fault are kept (the forward pass stays passed), and a check without a result is never a pass.

FAULTS (name -> submission source) is also what benchmarks/fault_cases.py times.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from conftest import solution_source

from harness.grading import registry, runner
from harness.grading.registry import shown_path
from harness.grading.results import KataResult, Status
from harness.grading.sandbox import Limits, Sandbox

KATA = registry.get("02_backprop")
LIMITS = Limits(test_s=1, kata_s=8)  # the swallowed-timeout case waits out the whole kata limit

REFERENCE = solution_source(KATA.id)
# Anchors in the reference: the first line of backward()'s body, of forward()'s body, its return.
BACKWARD = "    n = X.shape[0]\n"
FORWARD = '    Z1 = X @ params["W1"] + params["b1"]'
RETURN = '    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}'
MODULE = "EPS = 1e-12"
IMPORTS = "import numpy as np\n"


def replaced(old: str, new: str) -> str:
    assert REFERENCE.count(old) == 1, f"the reference no longer holds {old!r} once"
    return REFERENCE.replace(old, new)


def before(anchor: str, code: str) -> str:
    return replaced(anchor, code + anchor)


# What the learner's code starts is named LEFTOVER_NAME (its comm, which threads and forks inherit),
# so that the test finds it among every process on the machine, whatever pid namespace it is in.
LEFTOVER_NAME = f"kl{os.getpid()}"[:15]
LEFTOVER = """\
    import os
    import time
    try:
        fd = os.open("/tmp/NAME.pid", os.O_CREAT | os.O_EXCL | os.O_WRONLY)  # once per learner process
    except FileExistsError:
        fd = None
    if fd is not None:
        with open("/proc/self/task/%d/comm" % __import__("threading").get_native_id(), "w") as comm:
            comm.write("NAME")
{start}
""".replace("NAME", LEFTOVER_NAME)

FAULTS: dict[str, str] = {
    # The interpreter dies.
    "segfault in backward": before(BACKWARD, "    import ctypes\n    ctypes.string_at(0)\n"),
    "os._exit in backward": before(BACKWARD, "    import os\n    os._exit(3)\n"),
    "SIGKILL in backward": before(BACKWARD, "    import os\n    os.kill(os.getpid(), 9)\n"),
    "os._exit at import": before(MODULE, "import os\nos._exit(0)\n"),
    # Exceptions a test run must not mistake for its own control flow.
    "sys.exit in forward": before(FORWARD, "    import sys\n    sys.exit(4)\n"),
    "KeyboardInterrupt in backward": before(BACKWARD, "    raise KeyboardInterrupt\n"),
    "pytest.skip in backward": before(BACKWARD, "    import pytest\n    pytest.skip('not today')\n"),
    "pytest.exit in backward": before(BACKWARD, "    import pytest\n    pytest.exit('bye', returncode=0)\n"),
    "unittest.SkipTest in backward": before(BACKWARD, "    import unittest\n    raise unittest.SkipTest('not today')\n"),
    # Resources.
    "MemoryError in backward": before(BACKWARD, "    scratch = np.ones(2**30)  # 8 GiB\n"),
    "infinite loop in backward": before(BACKWARD, "    while True:\n        pass\n"),
    "timeout swallowed in backward": before(
        BACKWARD, "    while True:\n        try:\n            while True:\n                pass\n        except:\n            pass\n"
    ),
    "infinite loop at import": before(MODULE, "while True:\n    pass\n"),
    "endless epochs in train": replaced("    for _ in range(epochs):\n", "    while True:\n"),
    # The file cannot be loaded.
    "syntax error": replaced("    dW2 = A1.T @ dZ2", "    dW2 = A1.T @@ dZ2"),
    "import error": replaced(IMPORTS, IMPORTS + "import numpyy\n"),
    "import torch": replaced(IMPORTS, IMPORTS + "import torch\n"),
    # Autodiff smuggled in at run time, where the source check cannot see it.
    "__import__ torch in backward": before(BACKWARD, '    torch = __import__("to" + "rch")\n'),
    "importlib torch in backward": before(BACKWARD, '    import importlib\n    torch = importlib.import_module("to" + "rch")\n'),
    # Leftovers: what the learner's code starts must not outlive the grade (each writes a pid file
    # beside the submission once, and ends by itself after 30 s if nothing stops it).
    "thread left running by backward": before(BACKWARD, LEFTOVER.format(start="""\
        import threading
        threading.Thread(target=time.sleep, args=(30,)).start()  # not a daemon: blocks the exit
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)""")),
    "process forked by backward": before(BACKWARD, LEFTOVER.format(start="""\
        if os.fork() == 0:
            os.write(fd, str(os.getpid()).encode())
            time.sleep(30)
            os._exit(0)
        os.close(fd)""")),
    # Wrong return values.
    "backward returns None": replaced(RETURN, "    return None"),
    "backward returns a list": replaced(RETURN, "    return [dW1, db1, dW2, db2]"),
    "backward W1 wrong shape": replaced(RETURN, '    return {"W1": dW1.T, "b1": db1, "W2": dW2, "b2": db2}'),
    "backward W1 int dtype": replaced(RETURN, '    return {"W1": dW1.astype(int), "b1": db1, "W2": dW2, "b2": db2}'),
    "backward W1 NaN": replaced(RETURN, '    return {"W1": dW1 * np.nan, "b1": db1, "W2": dW2, "b2": db2}'),
    "backward mutates params": replaced(RETURN, '    params["W1"] -= 0.1 * dW1  # a step taken in place\n' + RETURN),
}


def line_of(source: str, text: str) -> int:
    """The 1-based number of the first line of `source` that contains `text`."""
    return next(n for n, line in enumerate(source.splitlines(), 1) if text in line)


# --- fixtures ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    """One warm grading server for the whole module."""
    return Sandbox(LIMITS)


@pytest.fixture(scope="module")
def reference(sandbox) -> KataResult:
    """The reference graded in the same sandbox: every check, all passing (also warms the server)."""
    result = sandbox.grade(KATA.id, KATA.solution_path.parent.parent)
    assert result.status is Status.PASS, result.error
    assert result.score == result.max_score > 0
    return result


@pytest.fixture
def grade(sandbox, reference, submission):
    """grade(case) -> (result, the learner file's path as shown, the submission's source)."""

    def run(case: str) -> tuple[KataResult, str, str]:
        source = FAULTS[case]
        root = submission(KATA.id, source)
        result = sandbox.grade(KATA.id, root)
        check_no_missing_pass(result, reference)
        return result, shown_path(KATA.learner_file(root)), source

    return run


def check_no_missing_pass(result: KataResult, reference: KataResult) -> None:
    """Every spec check has a result, and a fault never grades as a pass."""
    missing = [t.name for t in reference.tests if t.name not in {r.name for r in result.tests}]
    assert not missing, (
        f"graded {result.status.value} {result.score:g}/{result.max_score:g}, but these checks have no result: {missing}"
    )
    assert [t.name for t in result.tests] == [t.name for t in reference.tests]
    assert result.max_score == reference.max_score
    assert result.status is not Status.PASS
    assert result.score < result.max_score
    for test in result.tests:
        assert (test.status is Status.PASS) == (test.score == test.max_score > 0), test
        if test.status is not Status.PASS:
            assert test.message, f"{test.name} is not passed but says nothing"


def by_name(result: KataResult) -> dict:
    return {t.name: t for t in result.tests}


def uses_backward(name: str) -> bool:
    return name.startswith(("test_backward", "test_train"))


def check_before_backward_kept(result: KataResult) -> None:
    """The checks that never reach backward() ran before the fault: they keep their full points."""
    kept = [t for t in result.tests if not uses_backward(t.name)]
    assert {t.name for t in kept} >= {"test_forward_matches_torch", "test_forward_shape_and_range", "test_bce_loss_matches_torch"}
    for test in kept:
        assert test.status is Status.PASS and test.score == test.max_score, (test.name, test.message)


# --- the interpreter dies --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "case, cause",
    [
        ("segfault in backward", "the interpreter was killed by SIGSEGV (a crash in native code)."),
        ("os._exit in backward", "your code exited the interpreter (exit status 3: os._exit()?)."),
        ("SIGKILL in backward", "the interpreter was killed by SIGKILL."),
    ],
)
def test_a_dead_interpreter_is_an_error_that_says_why_and_where(grade, case, cause):
    """The check whose call died is an error that says how; the learner's process is started again
    for the next check, so every check gets its own verdict and none is left "not run"."""
    result, _, _ = grade(case)
    assert result.status is Status.ERROR
    check_before_backward_kept(result)
    assert result.error == f"Grading stopped in backward(): {cause}"
    for test in result.tests:
        if uses_backward(test.name):
            called = "train" if test.name.startswith("test_train") else "backward"  # train() dies in its own call
            assert test.status is Status.ERROR and test.score == 0
            assert test.message == f"Grading stopped in {called}(): {cause}", test.message


def test_os_exit_while_importing_the_file_is_an_error(grade):
    result, _, _ = grade("os._exit at import")
    assert result.status is Status.ERROR
    assert result.score == 0
    assert all(t.status is Status.ERROR for t in result.tests)
    assert result.error.endswith("stopped: your code exited the interpreter (exit status 0: os._exit()?).")


# --- exceptions that are not the learner's to raise -------------------------------------------------
def test_sys_exit_in_forward_fails_the_checks_that_call_forward(grade):
    result, shown, source = grade("sys.exit in forward")
    assert result.status is Status.FAIL
    tests = by_name(result)
    for name in ("test_init_params_keys_and_shapes", "test_bce_loss_matches_torch", "test_bce_loss_finite_at_0_and_1"):
        assert tests[name].status is Status.PASS
    forward = tests["test_forward_matches_torch"]
    assert forward.status is Status.FAIL
    assert forward.message.splitlines()[:3] == [
        "forward() raised SystemExit: 4",
        f"  {shown}:{line_of(source, 'sys.exit(4)')} in forward",
        "    sys.exit(4)",
    ]
    assert "Smallest failing example:" in forward.message
    assert tests["test_train_learns_xor"].message.startswith("train() raised SystemExit: 4")


@pytest.mark.parametrize(
    "case",
    ["KeyboardInterrupt in backward", "pytest.skip in backward", "pytest.exit in backward", "unittest.SkipTest in backward"],
)
def test_learner_code_cannot_skip_or_stop_the_checks(grade, case):
    """Raising the test runner's own control-flow exceptions must not turn unrun checks into a pass."""
    result, _, _ = grade(case)  # every check has a result, none of the backward ones a pass
    check_before_backward_kept(result)
    for test in result.tests:
        if uses_backward(test.name):
            assert test.status is not Status.PASS and test.score == 0
            assert "in backward" in test.message, test.message  # said, or shown in the frames of train()


# --- resources ---------------------------------------------------------------------------------
def test_a_huge_allocation_is_a_memory_error_not_the_oom_killer(grade):
    result, shown, source = grade("MemoryError in backward")
    assert result.status is Status.FAIL
    check_before_backward_kept(result)
    line = line_of(source, "np.ones(2**30)")
    for name, test in by_name(result).items():
        if name.startswith("test_backward"):
            first, where, code = test.message.splitlines()[:3]
            assert first.startswith("backward() raised MemoryError: Unable to allocate 8.00 GiB")
            assert (where, code.strip()) == (f"  {shown}:{line} in backward", "scratch = np.ones(2**30)  # 8 GiB")


def test_an_infinite_loop_times_out_per_check_and_names_the_line(grade):
    result, shown, source = grade("infinite loop in backward")
    assert result.status is Status.FAIL
    check_before_backward_kept(result)
    loop = line_of(source, "while True:")
    expected = f"timed out after 1 s in backward() ({shown} line {loop}: `while True:`): an infinite loop?"
    # train() calls backward(): its check names train(), at its own line, then where inside it was.
    call = "grads = backward(X, y, params, cache)"
    in_train = f"timed out after 1 s in train() ({shown} line {line_of(source, call)}: `{call}`), inside backward() (line {loop}): an infinite loop?"
    for test in result.tests:
        if uses_backward(test.name):
            assert test.status is Status.FAIL and test.message == (in_train if test.name.startswith("test_train") else expected)


def test_a_loop_that_calls_other_functions_is_named_by_the_function_the_check_called(grade):
    """train()'s endless loop spends its time in forward(), bce_loss() and backward(): the time-out is train()'s."""
    result, shown, source = grade("endless epochs in train")
    loop = range(line_of(source, "while True:"), line_of(source, "params = {name: value") + 1)
    trains = [t for t in result.tests if t.name.startswith("test_train")]
    assert trains and all(t.status is Status.FAIL for t in trains)
    for test in trains:
        match = re.fullmatch(rf"timed out after 1 s in train\(\) \({re.escape(shown)} line (\d+): `[^`]+`\)(, inside \w+\(\) \(line \d+\))?: an infinite loop\?", test.message)
        assert match and int(match[1]) in loop, test.message


def test_a_swallowed_timeout_is_stopped_by_the_kata_limit(grade):
    """A loop that swallows every alarm is ended from outside: its process when a check's time and a
    grace period are up, and the whole grade at the kata's limit."""
    result, _, _ = grade("timeout swallowed in backward")
    assert result.status is Status.ERROR
    check_before_backward_kept(result)
    for test in result.tests:
        if uses_backward(test.name):
            assert test.status is Status.ERROR and test.score == 0
            assert (
                test.message.startswith("timed out after 1 s in ") and "did not stop when asked, so its process was ended" in test.message
                or test.message.endswith("timed out after 8 s (the limit for a whole kata).")
            ), test.message


def test_an_infinite_loop_at_import_times_out_loading_the_file(grade):
    result, shown, source = grade("infinite loop at import")
    assert result.status is Status.ERROR
    assert result.score == 0
    expected = f"Importing {shown} timed out after 1 s\n  {shown}:{line_of(source, 'while True:')} in <module>\n    while True:"
    assert result.error == expected
    assert all(t.status is Status.ERROR and t.message == expected for t in result.tests)


# --- the file cannot be loaded --------------------------------------------------------------------
def test_a_syntax_error_shows_file_line_and_caret(grade):
    result, shown, source = grade("syntax error")
    assert result.status is Status.ERROR and result.score == 0
    line = line_of(source, "@@")
    first, code, caret = result.error.splitlines()
    assert first == f"{shown}, line {line}: invalid syntax"
    assert code == "    " + source.splitlines()[line - 1].rstrip()
    assert caret.strip() == "^" and code[caret.index("^")] == "@"
    assert all(t.status is Status.ERROR and t.message == result.error for t in result.tests)


def test_an_import_error_names_the_module_and_the_line(grade):
    result, shown, source = grade("import error")
    assert result.status is Status.ERROR and result.score == 0
    assert result.error.splitlines() == [
        f"Importing {shown} raised ModuleNotFoundError: No module named 'numpyy'",
        f"  {shown}:{line_of(source, 'import numpyy')} in <module>",
        "    import numpyy",
    ]
    assert all(t.message == result.error for t in result.tests)


def test_import_torch_is_refused_naming_the_line(grade):
    result, shown, source = grade("import torch")
    assert result.status is Status.ERROR and result.score == 0
    message = result.error
    assert message.startswith(f"{shown}, line {line_of(source, 'import torch')}: `import torch` uses torch. "), message
    assert "by hand" in message and message.endswith("not with torch.")
    assert "\n" not in message and "Traceback" not in message
    assert all(t.message == message for t in result.tests)


@pytest.mark.parametrize("case, code", [
    ("__import__ torch in backward", '__import__("to" + "rch")'),
    ("importlib torch in backward", 'importlib.import_module("to" + "rch")'),
])  # fmt: skip
def test_torch_imported_at_run_time_is_caught_by_the_guard(grade, case, code):
    result, _, source = grade(case)
    check_before_backward_kept(result)
    line = line_of(source, code)
    for test in result.tests:
        if uses_backward(test.name):
            assert test.status is not Status.PASS
            assert f"line {line}: `import torch` uses torch. " in test.message, test.message
            assert "by hand" in test.message
            assert Path(KATA.filename).name in test.message


# --- leftovers --------------------------------------------------------------------------------------
def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended, it only waits to be reaped


def leftovers() -> set[str]:
    """Every task (process or thread) on the machine named LEFTOVER_NAME and still running."""
    found = set()
    for comm in Path("/proc").glob("[0-9]*/task/[0-9]*/comm"):
        try:
            if comm.read_text().strip() == LEFTOVER_NAME and alive(int(comm.parent.name)):
                found.add(comm.parent.name)
        except (OSError, ValueError):
            pass
    return found


@pytest.mark.parametrize("case", ["thread left running by backward", "process forked by backward"])
def test_nothing_the_learners_code_starts_outlives_the_grade(sandbox, submission, case):
    root = submission(KATA.id, FAULTS[case])
    result = sandbox.grade(KATA.id, root)
    for _ in range(30):  # a moment for the reaper, no more
        if not leftovers():
            break
        time.sleep(0.1)
    assert not leftovers(), f"tasks {leftovers()}, started by the learner's code, are still running after the grade"
    # Starting a thread or a process is no fault in itself: the gradients are still checked.
    tests = by_name(result)
    assert all(tests[f"test_backward_matches_torch[{name}]"].status is Status.PASS for name in ("W1", "b1", "W2", "b2"))


# --- wrong return values -------------------------------------------------------------------------
ALL_FOUR = ("W1", "b1", "W2", "b2")


@pytest.mark.parametrize("case, failing, message", [
    ("backward returns None", ALL_FOUR, "backward() should be a dict with keys W1, b1, W2, b2, but it is None."),
    ("backward returns a list", ALL_FOUR,
     "backward() should be a dict with keys W1, b1, W2, b2, but it is a list of length 4."),
    ("backward W1 wrong shape", ("W1",), "backward()['W1'] has shape (3, 2), but the expected shape is (2, 3)"
                                         " (shapes must match exactly: broadcasting would hide a bug)."),
    ("backward W1 int dtype", ("W1",), "backward()['W1'] has dtype int64; it should hold floats (float64)."),
    ("backward W1 NaN", ("W1",), "backward()['W1'] contains nan at [0, 0]: every entry must be finite."),
])  # fmt: skip
def test_a_wrong_return_value_is_named_in_words(grade, case, failing, message):
    """The check of each gradient fails in words; a fault in W1 alone costs only W1's check."""
    result, _, _ = grade(case)
    assert result.status is Status.FAIL and result.error is None
    check_before_backward_kept(result)
    tests = by_name(result)
    for name in ALL_FOUR:
        test = tests[f"test_backward_matches_torch[{name}]"]
        if name in failing:
            assert test.status is Status.FAIL and test.score == 0
            assert test.message.splitlines()[0] == message
            assert "Smallest failing example:\nN = " in test.message
            assert "Traceback" not in test.message
        else:
            assert test.status is Status.PASS, test.message


def test_mutating_params_in_place_costs_only_that_check(grade):
    result, _, _ = grade("backward mutates params")
    assert result.status is Status.FAIL
    check_before_backward_kept(result)
    tests = by_name(result)
    for name in ("W1", "b1", "W2", "b2"):  # the gradients themselves are right
        assert tests[f"test_backward_matches_torch[{name}]"].status is Status.PASS
    unchanged = tests["test_backward_leaves_arguments_unchanged"]
    assert unchanged.status is Status.FAIL
    assert unchanged.message.splitlines()[0] == (
        "backward() changed its argument W1 in place (for example with `-=`, `+=` or `out=`):"
        " build new arrays instead, the caller still needs the old ones."
    )


# --- determinism ---------------------------------------------------------------------------------
def test_the_same_buggy_file_gets_the_same_verdict_20_times(submission):
    root = submission(KATA.id, replaced("dZ2 = (A2 - y) / n", "dZ2 = A2 - y"))  # the missing 1/N

    def verdict() -> tuple:
        result = runner.grade(KATA.id, root)
        return result.status, result.score, tuple((t.name, t.status, t.message, t.diagnosis) for t in result.tests)

    first = verdict()
    for run in range(2, 21):
        again = verdict()
        if again != first:
            changed = [(a, b) for a, b in zip(first[2], again[2]) if a != b]
            pytest.fail(f"grade {run} differs from grade 1: {first[:2]} vs {again[:2]}; first changed check:\n"
                        f"{changed[0][0] if changed else None}\n---\n{changed[0][1] if changed else None}")
    status, score, tests = first
    assert status is Status.FAIL
    assert score == sum(KATA.weight(name) for name, st, _, _ in tests if st is Status.PASS) > 0
    failing = {name: message for name, st, message, _ in tests if st is not Status.PASS}
    assert "test_backward_matches_torch[W2]" in failing
    assert failing["test_backward_matches_torch[W2]"].startswith("backward()['W2'] disagrees with torch in")
    assert "test_forward_matches_torch" not in failing
