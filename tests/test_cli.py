"""The `kata` command end to end: real subprocesses, what the user reads and the exit status.

Grading runs from the repo root on submissions made in tmp_path (`--impl`). The commands that work on
the learner's own files in katas/ (the board, reset, solution, history of real grades) run in a
throwaway copy of the repo instead, with the same `kata` executable importing the copy's harness
(PYTHONPATH), so no test ever touches the files in the repo's katas/. The progress database is
always in tmp_path (KATA_DB); NO_COLOR=1 and stdin is not a terminal.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import KATA_EXE, ROOT, kata, make_clone, solution_source

from harness.grading import registry

KATA = registry.get("02_backprop")
IDS = [k.id for k in registry.katas()]

REFERENCE = solution_source(KATA.id)
BUGGY = REFERENCE.replace("dZ2 = (A2 - y) / n", "dZ2 = A2 - y")  # the missing 1/N
CRASHING = REFERENCE.replace("    n = X.shape[0]\n", "    import os\n    os._exit(3)\n    n = X.shape[0]\n")
SYNTAX_ERROR = REFERENCE.replace("    dW2 = A1.T @ dZ2", "    dW2 = A1.T @@ dZ2")
assert len({REFERENCE, BUGGY, CRASHING, SYNTAX_ERROR}) == 4, "a replacement no longer matches the reference"


def grades_in(db: Path) -> list[tuple[str, str, str]]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as con:
        return con.execute("SELECT kata_id, source, status FROM grades ORDER BY id").fetchall()


@pytest.fixture
def impl(tmp_path):
    """impl(source) -> a submission folder laid out like katas/, holding 02_backprop's file."""

    def write(source: str) -> Path:
        root = tmp_path / "submission"
        target = KATA.learner_file(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source)
        return root

    return write


def headline(stdout: str) -> str:
    """The first verdict line, after the header that says where learner code ran."""
    lines = stdout.splitlines()
    assert lines[0].startswith("Learner code ran in: "), lines[0]
    return lines[1]


# --- kata grade ----------------------------------------------------------------------------------
def test_grade_a_correct_submission_passes_and_is_not_recorded(impl, db):
    root = impl(REFERENCE)
    result = kata("grade", KATA.id, "--impl", str(root), db=db)
    assert result.returncode == 0, result.stdout + result.stderr
    shown = str(KATA.learner_file(root))
    assert re.fullmatch(rf"PASS  02_backprop  (\d+)/\1  {re.escape(shown)}  \(\d+\.\d\d s\)", headline(result.stdout))
    assert re.search(r"^Total (\d+)/\1: 1 of 1 katas pass\.$", result.stdout, flags=re.M)
    assert " x " not in result.stdout and "Traceback" not in result.stdout + result.stderr
    assert grades_in(db) == []  # --impl grades are not recorded


def test_grade_a_buggy_submission_fails_in_the_learners_words(impl, db):
    result = kata("grade", KATA.id, "--impl", str(impl(BUGGY)), db=db)
    assert result.returncode == 1
    out = result.stdout
    match = re.match(r"FAIL  02_backprop  (\d+)/(\d+)  ", headline(out))
    assert match and 0 < int(match[1]) < int(match[2])
    assert "\n  x test_backward_matches_torch[W2]: backward()['W2'] disagrees with torch in " in out  # one line per check
    assert "\ntest_backward_matches_torch[W2]:\n  Likely mistake: Every gradient is exactly N times torch's (N = batch size)." in out
    assert out.count("Smallest failing example") == 1  # the shared example of the four gradients and leaves-unchanged, once
    assert "Smallest failing example (the same for 5 failing checks):\n  N = " in out  # the gradients and leaves-unchanged
    # backward() is wrong, so its leaves-arguments-unchanged check does not count either.
    assert out.endswith("7 of 15 checks pass, score 7/20. First to fix: test_backward_matches_torch[W1].\nTotal 7/20: 0 of 1 katas pass.\n")
    assert "test_forward_matches_torch" not in out  # the forward pass is right: not listed
    assert "Traceback" not in out and "site-packages" not in out
    assert re.search(r"^Total \d+/\d+: 0 of 1 katas pass\.$", out, flags=re.M)


def test_what_the_code_printed_is_shown_under_its_failure_capped(impl, db):
    printing = BUGGY.replace("    dZ2 = A2 - y", "    print('dZ2 is', A2 - y)\n    dZ2 = A2 - y")
    assert printing != BUGGY
    out = kata("grade", KATA.id, "--impl", str(impl(printing)), db=db).stdout
    block = out.split("test_backward_matches_torch[W1]:\n", 1)[1].split("\ntest_", 1)[0]
    assert "  Your output (its last lines):\n" in block
    printed = [line for line in block.splitlines() if line.strip().startswith("dZ2 is")]
    assert 0 < len(printed) <= 15  # hypothesis ran it many times: the last lines only, said so
    assert "characters before]" in block


def test_each_likely_mistake_is_said_once_per_check(impl, db):
    result = kata("grade", KATA.id, "--impl", str(impl(BUGGY)), db=db)
    blocks = re.split(r"^test_\S+:$", result.stdout, flags=re.M)[1:]  # each failing check's details
    assert len(blocks) == 6, result.stdout  # the two checks that wait on another (it agrees with torch) add no block of their own
    for block in blocks:
        assert block.count("Likely mistake:") == 1, block


def test_grade_a_crashing_submission_is_an_error_with_its_cause(impl, db):
    result = kata("grade", KATA.id, "--impl", str(impl(CRASHING)), db=db)
    assert result.returncode == 1
    out = result.stdout
    assert headline(out).startswith("ERROR 02_backprop  ")
    cause = "Grading stopped in backward(): your code exited the interpreter (exit status 3: os._exit()?)."
    # Each check that calls backward() is an error that says so; the learner's process is started
    # again for the next check, so the checks that never reach backward() keep their points.
    # The checks that failed the very same way share one line.
    assert re.search(r"^  x test_backward_matches_torch\[W1\], .* and \d more: " + re.escape(cause), out, flags=re.M), out
    assert "Not run" not in out
    assert "test_forward_matches_torch" not in out  # graded, and passed
    assert re.search(r"^Total \d+/\d+: 0 of 1 katas pass\.$", out, flags=re.M)  # the command itself survived
    assert "Traceback" not in out + result.stderr


def test_grade_json_has_the_documented_fields(impl, db):
    result = kata("grade", KATA.id, "--impl", str(impl(BUGGY)), "--format", "json", db=db)
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert document["version"] == 1
    (entry,) = document["katas"]
    assert {"id", "file", "status", "score", "max_score", "error", "duration_s", "tests"} <= entry.keys()
    assert (entry["id"], entry["status"], entry["error"]) == ("02_backprop", "fail", None)
    assert entry["file"] == str(KATA.learner_file(impl(BUGGY)))
    assert (document["score"], document["max_score"]) == (entry["score"], entry["max_score"])
    assert 0 < entry["score"] < entry["max_score"]
    tests = {t["name"]: t for t in entry["tests"]}
    for test in entry["tests"]:
        assert {"name", "status", "score", "max_score", "message", "diagnosis"} <= test.keys()
        assert test["status"] in ("pass", "fail", "error")
        assert (test["status"] == "pass") == (test["message"] is None) == (test["score"] == test["max_score"])
    assert entry["score"] == sum(t["score"] for t in entry["tests"])
    assert entry["max_score"] == sum(t["max_score"] for t in entry["tests"])
    w2 = tests["test_backward_matches_torch[W2]"]
    assert w2["status"] == "fail" and w2["score"] == 0 and w2["max_score"] == KATA.weight("test_backward_matches_torch")
    assert w2["message"].startswith("backward()['W2'] disagrees with torch in ")
    assert w2["diagnosis"].startswith("Every gradient is exactly N times torch's")
    assert tests["test_forward_matches_torch"]["status"] == "pass"


def test_grade_gradescope_written_with_out(impl, db, tmp_path):
    target = tmp_path / "results.json"
    result = kata("grade", KATA.id, "--impl", str(impl(BUGGY)), "--format", "gradescope", "--out", str(target), db=db)
    assert result.returncode == 1
    assert result.stdout == ""  # the document went to the file
    assert f"wrote {target}" in result.stderr
    document = json.loads(target.read_text())
    assert isinstance(document["score"], float) and document["tests"]
    for test in document["tests"]:
        assert {"name", "score", "max_score", "output", "visibility"} <= test.keys()
        assert test["name"].startswith("02_backprop: test_") and test["visibility"] == "visible"
    assert document["score"] == sum(t["score"] for t in document["tests"])
    assert document["score"] < sum(t["max_score"] for t in document["tests"])
    w2 = next(t for t in document["tests"] if t["name"] == "02_backprop: test_backward_matches_torch[W2]")
    assert w2["score"] == 0 and w2["output"].startswith("backward()['W2'] disagrees with torch in ")
    assert w2["output"].count("Likely mistake:") == 1, w2["output"]


def test_grade_junit_written_with_out(impl, db, tmp_path):
    target = tmp_path / "junit.xml"
    result = kata("grade", KATA.id, "--impl", str(impl(CRASHING)), "--format", "junit", "--out", str(target), db=db)
    assert result.returncode == 1
    assert f"wrote {target}" in result.stderr
    (suite,) = ET.parse(target).getroot().iter("testsuite")
    cases = suite.findall("testcase")
    assert suite.get("name") == "02_backprop" and int(suite.get("tests")) == len(cases) > 0
    errors = [c for c in cases if c.find("error") is not None]
    assert int(suite.get("errors")) == len(errors) > 0 and int(suite.get("failures")) == 0
    passed = {c.get("name") for c in cases if not list(c)}
    assert "test_forward_matches_torch" in passed
    for case in errors:
        assert case.get("name").startswith(("test_backward", "test_train"))
        error = case.find("error")
        assert error.get("message") == error.text.splitlines()[0]
        assert "your code exited the interpreter (exit status 3: os._exit()?)" in error.text


def test_grade_an_unknown_kata_names_the_valid_ones(db):
    result = kata("grade", "02_backprob", db=db)
    assert result.returncode == 2
    assert result.stderr.strip() == f"kata: no kata '02_backprob'; the katas are: {', '.join(IDS)}"
    assert result.stdout == ""


def test_grade_impl_of_a_missing_folder_is_a_usage_error(db, tmp_path):
    missing = tmp_path / "no-such-folder"
    result = kata("grade", KATA.id, "--impl", str(missing), db=db)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"kata: --impl {missing}: no such folder (it should be laid out like katas/: <kata id>/<module>.py, or be a .ipynb notebook)"
    )
    assert "Traceback" not in result.stderr


def test_grade_impl_without_the_kata_file_says_which_file(db, tmp_path):
    (tmp_path / "empty").mkdir()
    result = kata("grade", KATA.id, "--impl", str(tmp_path / "empty"), db=db)
    assert result.returncode == 1
    assert headline(result.stdout).startswith("ERROR 02_backprop  0/")
    assert f"There is no file {tmp_path / 'empty' / KATA.id / KATA.filename} to grade." in result.stdout


def test_a_syntax_error_in_the_learners_file_shows_the_relative_path_line_and_caret(clone):
    clone.learner_file().parent.mkdir(parents=True, exist_ok=True)
    clone.learner_file().write_text(SYNTAX_ERROR)
    result = clone("grade", KATA.id)
    assert result.returncode == 1
    line = next(n for n, text in enumerate(SYNTAX_ERROR.splitlines(), 1) if "@@" in text)
    lines = result.stdout.splitlines()
    assert headline(result.stdout).startswith("ERROR 02_backprop  0/")
    # Every check fails the same way: one line for them all, then the line and the caret once.
    (first,) = [n for n, text in enumerate(lines) if text.endswith(f" and 12 more: katas/02_backprop/backprop.py, line {line}: invalid syntax")]
    assert lines[first + 1] == "test_init_params_keys_and_shapes:"
    code, caret = lines[first + 2], lines[first + 3]
    assert code.strip() == "dW2 = A1.T @@ dZ2  # (3, 1)"
    assert caret.strip() == "^" and code[caret.index("^")] == "@"


# --- hints and the board -------------------------------------------------------------------------
def board_row(stdout: str, kata_id: str) -> list[str]:
    """The cells of a kata's row on the board (its first line, when cells wrap)."""
    line = next(line for line in stdout.splitlines() if re.match(rf"\|\s*{kata_id}\s*\|", line))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_hints_aim_at_the_first_failing_function_gentlest_first(clone):
    """Before a line is written, hints are for the first task; once backward() fails alone, for backward()."""
    first = clone("hint", KATA.id)
    assert first.returncode == 0, first.stderr
    task = next(iter(KATA.task_hints))
    assert first.stdout == f"Hint 1 of 3 for {task} in {KATA.id}:\n  {KATA.task_hints[task][0]}\n"

    clone.learner_file().write_text(BUGGY)  # everything right but backward()'s missing 1/N
    hints = [clone("hint", "02") for _ in range(4)]  # a unique prefix names the kata
    assert [h.returncode for h in hints] == [0] * 4
    for number, hint in enumerate(hints[:3], 1):
        assert hint.stdout == f"Hint {number} of 3 for backward in {KATA.id}:\n  {KATA.task_hints['backward'][number - 1]}\n"
    assert hints[2].stdout.split("\n  ")[1].startswith("This gives the answer away")  # said before it does
    assert hints[3].stdout.startswith(f"All 3 hints for backward in {KATA.id} are already shown:\n  1. {KATA.task_hints['backward'][0]}")
    with sqlite3.connect(clone.db) as con:
        details = [row[0] for row in con.execute("SELECT detail FROM events WHERE kind = 'hint' ORDER BY id")]
        graded = con.execute("SELECT count(*) FROM grades").fetchone()[0]
    assert details == [task, "backward", "backward", "backward"]
    assert graded == 1  # graded once for the first hint on the new file; the others reuse that grade

    board = clone()
    assert board.returncode == 0, board.stdout + board.stderr
    assert board_row(board.stdout, KATA.id)[4] == "4"
    other = next(k for k in registry.katas() if k.id != KATA.id)
    assert board_row(board.stdout, other.id)[4] == "0"
    assert "Traceback" not in board.stdout + board.stderr


def test_the_board_times_an_attempt_from_its_start_and_points_on_after_a_pass(clone):
    first = clone()  # a fresh clone: every file made from its stub, each attempt's start recorded
    assert first.returncode == 0, first.stderr
    assert board_row(first.stdout, KATA.id)[1:4] == ["not started", "-", "-"]
    assert "time to pass: your best, from making the kata's file (or a reset) to its first pass." in first.stdout
    time.sleep(1.1)
    clone.learner_file().write_text(REFERENCE)
    board = clone()
    row = board_row(board.stdout, KATA.id)
    assert row[1:3] == ["passing", "20/20"]
    assert re.fullmatch(r"0:0[1-9]|0:[1-5]\d", row[3]), row  # from the file's start to this pass, not 0:00
    assert row[5].startswith("passed; next: 03_graph"), row  # the next kata that does not pass
    assert board_row(board.stdout, "01_chain_rule")[3] == "-"


def test_a_second_clone_gets_its_own_stubs(clone, tmp_path):
    """The progress store is one per user: a file made in one clone is not 'missing' in another."""
    assert clone("grade", "02").returncode == 1  # makes the first clone's file from the stub
    second = make_clone(tmp_path / "second", clone.db)
    again = second("grade", "02")
    assert "missing" not in again.stderr, again.stderr
    assert second.learner_file().read_bytes() == KATA.pristine_path.read_bytes()


def test_a_deleted_kata_file_is_said_missing_not_recreated(clone):
    assert clone("grade", "02").returncode == 1  # makes the file from the stub (and fails)
    clone.learner_file().unlink()
    again = clone("grade", "02")
    assert again.returncode == 1
    assert "kata: katas/02_backprop/backprop.py is missing (deleted or moved?): nothing was recreated. `kata reset 02_backprop` starts over from the stub." in again.stderr
    assert "There is no file katas/02_backprop/backprop.py to grade." in again.stdout
    assert not clone.learner_file().exists()
    assert clone("reset", "02").returncode == 0 and clone.learner_file().exists()


def test_a_hint_with_square_brackets_prints_them(clone):
    """rich would read `[eps, 1 - eps]` as markup and drop it; every string reaches the screen as written."""
    clone.learner_file().parent.mkdir(parents=True, exist_ok=True)
    naive = REFERENCE.replace("p = np.clip(y_hat, EPS, 1.0 - EPS)", "p = y_hat")
    assert naive != REFERENCE
    clone.learner_file().write_text(naive)
    shown = [clone("hint", KATA.id).stdout for _ in range(2)]
    concept = KATA.task_hints["bce_loss"][1]
    assert "[eps, 1 - eps]" in concept
    assert shown[1] == f"Hint 2 of 3 for bce_loss in {KATA.id}:\n  {concept}\n"


# --- reset and solution --------------------------------------------------------------------------
def test_reset_backs_the_learners_file_up_and_prints_where(clone):
    target = clone.learner_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    mine = REFERENCE + "\n# my own notes, an hour of work\n"
    target.write_text(mine)
    result = clone("reset", KATA.id)
    assert result.returncode == 0, result.stderr
    match = re.fullmatch(r"reset katas/02_backprop/backprop\.py; your previous file is kept at (\S+)\n", result.stdout)
    assert match, result.stdout
    backup = Path(match[1])
    assert backup.read_text() == mine
    assert backup.is_relative_to(clone.root / "katas" / ".backups")  # beside the learner's files, wherever the database is
    assert target.read_bytes() == KATA.pristine_path.read_bytes()

    again = clone("reset", KATA.id)  # nothing of the learner's left to keep
    assert again.stdout == "reset katas/02_backprop/backprop.py (it was still the pristine stub)\n"
    assert backup.read_text() == mine


def test_reset_needs_ids_or_all(clone):
    result = clone("reset")
    assert result.returncode == 2
    assert result.stderr.strip() == "kata: which kata? `kata reset 02_backprop` resets one (your file is backed up first), `kata reset --all` every one"
    both = clone("reset", "02", "--all")
    assert both.returncode == 2 and both.stderr.strip() == "kata: name the katas to reset or use --all, not both"


def test_solution_before_passing_refuses_without_a_terminal_and_shows_a_diff_with_yes(clone):
    refused = clone("solution", KATA.id)
    assert refused.returncode == 2
    assert refused.stderr.strip() == f"kata: you have not passed {KATA.id} yet; add --yes to see the reference anyway"
    assert "dZ2 = (A2 - y) / n" not in refused.stdout + refused.stderr

    clone.learner_file().parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(KATA.pristine_path, clone.learner_file())
    shown = clone("solution", KATA.id, "--yes")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[:2] == ["--- katas/02_backprop/backprop.py", "+++ solutions/02_backprop/backprop.py"]
    assert "+    dZ2 = (A2 - y) / n  # (N, 1)" in lines
    assert '-    raise NotImplementedError("backward() is not implemented yet (Task 02.4)")' in lines
    # The code, not the docstrings: the stub's docstring of backward() is the same code's, not a change.
    assert not any(line.startswith(("-", "+")) and '"""' in line for line in lines[2:]), shown.stdout
    full = clone("solution", KATA.id, "--yes", "--full")
    assert any(line.startswith(("-", "+")) and '"""' in line for line in full.stdout.splitlines()[2:])
    with sqlite3.connect(clone.db) as con:
        assert con.execute("SELECT kind, detail FROM events").fetchall() == [("solution", "not passed")] * 2


# --- history -------------------------------------------------------------------------------------
def test_history_shows_the_grades_made_and_plots_them(clone, tmp_path):
    assert clone("history").stdout == "No grades yet: `kata grade` or `kata watch` records them.\n"
    target = clone.learner_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(BUGGY)
    assert clone("grade", KATA.id).returncode == 1
    target.write_text(REFERENCE)
    assert clone("grade", KATA.id).returncode == 0
    assert grades_in(clone.db) == [(KATA.id, "grade", "fail"), (KATA.id, "grade", "pass")]

    history = clone("history")
    assert history.returncode == 0
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in history.stdout.splitlines() if KATA.id in line]
    assert [row[1:4] for row in rows] == [[KATA.id, "grade", "fail"], [KATA.id, "grade", "pass"]]
    fail_score, pass_score = rows[0][4], rows[1][4]
    assert re.fullmatch(r"(\d+)/(\d+)", fail_score) and fail_score != pass_score
    assert re.fullmatch(r"(\d+)/\1", pass_score)
    assert "Last 2 grades" in history.stdout

    plot = tmp_path / "charts" / "scores.png"
    plotted = clone("history", "--plot", str(plot))
    assert plotted.returncode == 0, plotted.stderr
    assert f"wrote {plot}" in plotted.stdout
    data = plot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000

    # After a pass, the reference is shown without asking.
    solution = clone("solution", KATA.id)
    assert solution.returncode == 0 and solution.stderr == ""


def test_a_corrupted_progress_file_is_moved_aside_with_a_notice(db):
    db.parent.mkdir(parents=True)
    db.write_bytes(b"\x00garbage" * 512)
    result = kata("history", db=db)
    assert result.returncode == 0
    (aside,) = db.parent.glob("progress.sqlite3.corrupt-*")
    notice = " ".join(result.stderr.split())
    assert f"Your progress file {db} could not be read" in notice and f"It was kept as {aside}" in notice
    assert aside.read_bytes() == b"\x00garbage" * 512
    assert result.stdout == "No grades yet: `kata grade` or `kata watch` records them.\n"


# --- watch ---------------------------------------------------------------------------------------
VERDICT = re.compile(r"^\[\d\d:\d\d:\d\d\] (PASS|FAIL|ERROR) ")


def test_watch_regrades_on_save(impl, db):
    root = impl(REFERENCE)
    target = KATA.learner_file(root)
    env = {**os.environ, "NO_COLOR": "1", "KATA_DB": str(db)}
    watcher = subprocess.Popen([KATA_EXE, "watch", KATA.id, "--impl", str(root)], cwd=ROOT, env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []
    reader = threading.Thread(target=lambda: [lines.put(line) for line in watcher.stdout], daemon=True)
    reader.start()

    def wait_for(pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no line matching {pattern!r} within {timeout} s; the watcher printed:\n{''.join(seen)}")
            seen.append(line)
            match = re.search(pattern, line)
            if match:
                return match

    try:
        first = wait_for(VERDICT.pattern, 120)
        assert first[1] == "PASS", "".join(seen)
        assert seen[0] == f"Watching {target}: save it to re-grade. Ctrl-C to stop.\n"
        time.sleep(0.1)
        target.write_text(BUGGY)  # a save with a bug in it
        wait_for(r"^\[\d\d:\d\d:\d\d\] saved: grading\.\.\.$", 10)  # said at once, before the verdict
        second = wait_for(VERDICT.pattern, 60)
        assert second[1] == "FAIL", "".join(seen)
        assert re.match(r"\[\d\d:\d\d:\d\d\] FAIL  02_backprop  (\d+)/(\d+)  ", second.string)
        wait_for(r"^  x test_backward_matches_torch\[\w+\]: backward\(\)\['\w+'\] disagrees with torch in ", 10)  # in words
    finally:
        watcher.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            watcher.wait(30)
        except subprocess.TimeoutExpired:
            watcher.kill()
            watcher.wait()
        reader.join(10)
    while not lines.empty():
        seen.append(lines.get())
    err = watcher.stderr.read()
    watcher.stderr.close()
    assert watcher.returncode == 0, err
    assert seen[-1] == "Stopped watching.\n"
    assert "Traceback" not in err
    assert grades_in(db) == []  # --impl: not recorded


# --- kata new ------------------------------------------------------------------------------------
def test_new_scaffolds_a_pack_that_verify_passes_and_pytest_grades(clone):
    """An author's first minute: one command, then a kata that lints, grades its stub as unfinished
    and its reference as passing, and refuses to be made twice."""
    made = clone("new", "99_demo", "demo")
    assert made.returncode == 0, made.stdout + made.stderr
    pack = clone.root / "harness" / "packs" / "demo"
    for path in (pack / "kata.toml", pack / "spec.py", pack / "oracle.py", pack / "stub" / "demo.py", pack / "catalog.toml",
                 clone.root / "katas" / "99_demo" / "README.md", clone.root / "solutions" / "99_demo" / "demo.py"):  # fmt: skip
        assert path.is_file() and f"created {path.relative_to(clone.root)}" in made.stdout, path
    verified = clone("verify", "99_demo")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "99_demo: stub, reference, hints and files ok" in verified.stdout
    graded = subprocess.run([sys.executable, "-m", "pytest", "katas/99_demo", "-q"], cwd=clone.root,
                            env={**os.environ, **clone.env}, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert graded.returncode == 1
    assert "grad_sum_of_squares() is not implemented yet: write it in katas/99_demo/demo.py" in graded.stdout
    again = clone("new", "99_demo", "demo")
    assert again.returncode == 2 and "there is a kata 99_demo already" in again.stderr
    bad = clone("new", "demo", "demo")
    assert bad.returncode == 2 and "'demo' is not a kata id" in bad.stderr
