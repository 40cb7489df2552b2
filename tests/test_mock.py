"""`kata mock` end to end in a real terminal (a pty driven by pexpect), with a fast clock."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pexpect
from conftest import ROOT, solution_source

from harness.practice import mock_session
from harness.grading import registry

KATA = str(Path(sys.executable).with_name("kata"))
BROKEN = "def init_params(rng):\n    raise RuntimeError('edited after the deadline')\n"


def start(tmp_path: Path, *args: str, columns: int = 160) -> pexpect.spawn:
    env = {**os.environ, "KATA_DB": str(tmp_path / "db.sqlite3"), "COLUMNS": str(columns), "LINES": "50"}
    return pexpect.spawn(KATA, ["mock", "--dir", str(tmp_path / "sessions"), *args], cwd=str(ROOT), env=env,
                         encoding="utf-8", timeout=90, dimensions=(50, columns))  # fmt: skip


def session_folder(tmp_path: Path) -> Path:
    (folder,) = (tmp_path / "sessions").iterdir()
    return folder


def answer(child: pexpect.spawn, text: str, rating: str) -> None:
    child.expect("Type your answer")
    child.sendline(text)
    child.sendline("")
    child.expect("Rate your answer")
    child.sendline(rating)


def test_a_whole_session_in_a_terminal(tmp_path):
    child = start(tmp_path, "--minutes", "0.3", "--katas", "02_backprop", "--questions", "2")
    child.expect("The clock is running")
    prompt = child.before
    # The prompt in interview context: no practice commands, no free hints, no reference; the session's own grade command.
    assert "## In this interview" in prompt or "In this interview" in prompt
    assert "pytest katas/" not in prompt and "kata hint" not in prompt and "solutions/" not in prompt
    assert "--impl" in prompt
    folder = session_folder(tmp_path)
    assert "kata hint" not in (folder / "02_backprop" / "README.md").read_text()
    stub = folder / "02_backprop" / "backprop.py"
    assert stub.read_text() == registry.get("02_backprop").pristine_path.read_text()
    child.expect("fail")  # the stub, graded at the start
    child.send("h")  # a hint, which costs a point
    child.expect(r"Hint 1 of 2 for init_params in 02_backprop \(-1 point\)")
    stub.write_text(solution_source("02_backprop"))
    child.expect("pass")
    child.expect("Time is up", timeout=60)
    child.expect("Files frozen")
    stub.write_text(BROKEN)  # after the deadline: must not count
    child.expect("Type your answer")
    child.sendline("The chain rule composes the derivatives of the layers.")
    child.sendline("    d/dx f(g(x)) = f'(g(x)) * g'(x)")  # a second line, indented: kept as typed
    child.sendline("")
    child.expect("Rate your answer")
    child.sendline("2")
    answer(child, "Backprop multiplies local gradients by upstream ones, output to input.", "1")
    child.expect("Report:")
    child.expect(pexpect.EOF)
    report = (folder / "report.md").read_text()
    assert "**Total: 19/20**" in report  # 20 for the code, minus 1 for the hint
    assert "| 02_backprop | 19/20 |" in report and "| never |" not in report
    assert "Every check passed at the deadline." in report
    assert "The chain rule composes the derivatives of the layers." in report
    assert "**Self-rating:** 2/2" in report and "**Self-rating:** 1/2" in report
    assert "**Self-ratings: 3/4 over 2 rated questions.**" in report
    assert "The chain rule composes the derivatives of the layers.\n    d/dx f(g(x)) = f'(g(x)) * g'(x)\n" in report
    assert "Failures seen during the session, in order:\n\n- `init_params() is not implemented yet" in report
    assert "Your code at the deadline, as a diff against the stub:" in report and "\n+def sigmoid(" in report
    assert "Why is the chain rule essential in neural networks?" in report
    html = (folder / "report.html").read_text()
    assert "<strong>Total: 19/20</strong>" in html and "Backprop multiplies local gradients" in html
    # The practice file in katas/ was never touched, and the session is in the history.
    history = pexpect.run(f"{KATA} history", cwd=str(ROOT), env={**os.environ, "KATA_DB": str(tmp_path / "db.sqlite3"), "NO_COLOR": "1"}, encoding="utf-8")
    assert "Mock interviews" in history and "19/20" in history


def test_an_interrupted_session_resumes(tmp_path):
    child = start(tmp_path, "--minutes", "0.25", "--katas", "02_backprop", "--questions", "1")
    child.expect("The clock is running")
    child.expect("fail")
    child.sendcontrol("c")
    child.expect("Session saved")
    child.expect(pexpect.EOF)
    folder = session_folder(tmp_path)
    assert mock_session.Session.load(folder).phase == "coding"
    (folder / "02_backprop" / "backprop.py").write_text(solution_source("02_backprop"))
    resumed = start(tmp_path, "--resume")
    resumed.expect("Resuming the mock interview")
    resumed.expect("Files frozen", timeout=60)
    answer(resumed, "Because networks are compositions.", "2")
    resumed.expect("Report:")
    resumed.expect(pexpect.EOF)
    report = (folder / "report.md").read_text()
    assert "**Total: 20/20**" in report


def test_after_a_crash_past_the_deadline_the_last_version_before_it_is_graded(tmp_path):
    """The file changed after the deadline while nothing was running: the kept version counts."""
    folder = tmp_path / "sessions" / "s"
    session = mock_session.create(folder, ["02_backprop"], minutes=0.01, seed=0, questions=0)
    mock_session.start_clock(session)
    stub = session.file("02_backprop")
    stub.write_text(solution_source("02_backprop"))
    mock_session.keep_version(session, "02_backprop")  # what the grader keeps on every save
    time.sleep(1)  # the deadline (0.6 s) passes while "the terminal was closed"
    stub.write_text(BROKEN)
    snapshot = mock_session.freeze(session)
    graded = registry.get("02_backprop").learner_file(snapshot).read_text()
    assert graded == solution_source("02_backprop")
    assert any("changed after the deadline" in note for note in session.notes)
    shutil.rmtree(folder)


def test_bad_arguments_are_refused_with_a_reason(tmp_path):
    out = pexpect.run(f"{KATA} mock --minutes 0", cwd=str(ROOT), env={**os.environ, "KATA_DB": str(tmp_path / "db")}, encoding="utf-8", withexitstatus=True)
    assert out[1] == 2 and "--minutes" in out[0]
    out = pexpect.run(f"{KATA} mock --katas 99_nope", cwd=str(ROOT), env={**os.environ, "KATA_DB": str(tmp_path / "db")}, encoding="utf-8", withexitstatus=True)
    assert out[1] == 2 and "99_nope" in out[0] and "02_backprop" in out[0]


def test_a_katas_own_questions_come_before_the_general_ones(tmp_path, monkeypatch):
    from harness.practice import mock

    own = tmp_path / "questions.toml"
    own.write_text('[[question]]\nid = "own"\nquestion = "Why subtract the max?"\nanswer = "Overflow."\n')
    monkeypatch.setattr(registry.Kata, "questions_path", property(lambda kata: own if kata.id == "02_backprop" else tmp_path / "none.toml"))
    general = [q["id"] for q in mock.questions()]
    assert [q["id"] for q in mock.questions(["01_chain_rule", "02_backprop"])] == ["own", *general]
    assert [q["id"] for q in mock.questions(["01_chain_rule"])] == general


def test_a_new_mock_says_where_an_unfinished_one_is(tmp_path):
    earlier = mock_session.create(tmp_path / "sessions" / "20260101-090000", ["02_backprop"], minutes=30, seed=0, questions=0)
    child = start(tmp_path, "--minutes", "1", "--katas", "02_backprop", columns=400)  # the warning on one line
    child.expect(f"An unfinished mock interview is in {earlier.path}: `kata mock --resume` continues it. This starts a new one.")
    child.expect("The clock is running")
    child.expect("fail")
    child.sendcontrol("c")
    child.expect("Session saved")
    child.expect(pexpect.EOF)
    assert mock_session.Session.load(earlier.path).phase == "coding"  # untouched


def test_a_save_during_a_grade_cancels_it(tmp_path):
    """An endless train() saved, then the fix at once: the endless version's grade is dropped, never shown."""
    child = start(tmp_path, "--minutes", "1", "--katas", "02_backprop", "--questions", "0")
    child.expect("The clock is running")
    child.expect("fail")  # the stub, graded at the start
    stub = session_folder(tmp_path) / "02_backprop" / "backprop.py"
    reference = solution_source("02_backprop")
    stub.write_text(reference.replace("    for _ in range(epochs):\n", "    while True:\n"))  # 10 s per train() check
    time.sleep(1.5)  # its grade is running
    stub.write_text(reference)
    child.expect("pass", timeout=60)
    assert "timed out" not in child.before
    child.send("e")
    child.expect("Report:")
    child.expect(pexpect.EOF)
    state = mock_session.Session.load(session_folder(tmp_path)).state["02_backprop"]
    assert state.status == "pass" and not any("timed out" in seen for seen in state.seen)
