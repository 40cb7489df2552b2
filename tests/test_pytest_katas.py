"""`pytest katas/...` as a learner runs it: real subprocesses from the repo root."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys

from conftest import run, run_pytest, solution_source

from harness.grading import registry

KATA_IDS = [kata.id for kata in registry.katas()]


def test_every_spec_passes_on_the_solutions():
    result = run_pytest("katas", "--impl", "solutions")
    assert result.returncode == 0, result.stdout[-3000:]
    for kata_id in KATA_IDS:
        assert f"grading solutions/{kata_id}/" in result.stdout
    assert re.search(r"\d+ passed", result.stdout) and "failed" not in result.stdout.splitlines()[-1]


def test_every_spec_fails_on_the_pristine_stubs_with_not_implemented(submission):
    # The pristine stubs, copied aside: the katas/ folder is the learner's and may hold their work.
    for kata in registry.katas():
        root = submission(kata.id, kata.pristine_path.read_text())
    result = run_pytest("katas", "--impl", str(root), "-rN")
    assert result.returncode == 1
    out = result.stdout
    failures = re.findall(r"^_{3,} (test_\S+) _{3,}$\n(.*)$", out, flags=re.M)
    collected = int(re.search(r"collected (\d+) items", out).group(1))
    assert len(failures) == collected > 0
    for name, first_line in failures:
        assert "is not implemented yet" in first_line, (name, first_line)
    assert "Traceback" not in out and "site-packages" not in out
    assert f"{collected} failed" in out.splitlines()[-1]


def test_impl_grades_a_submission_folder(submission):
    root = submission("02_backprop")
    result = run_pytest("katas/02_backprop", "--impl", str(root))
    assert result.returncode == 0, result.stdout[-3000:]
    assert str(root / "02_backprop" / "backprop.py") in result.stdout


def test_a_kata_folder_given_directly_grades_its_own_file():
    result = run_pytest("solutions/02_backprop")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "grading solutions/02_backprop/backprop.py" in result.stdout


def test_a_wrong_answer_fails_and_says_where(submission):
    wrong = solution_source("02_backprop").replace("dZ2 = (A2 - y) / n", "dZ2 = A2 - y")
    root = submission("02_backprop", wrong)
    result = run_pytest("katas/02_backprop", "--impl", str(root), "-rN")
    assert result.returncode == 1
    assert "backward()['W2'] disagrees with torch" in result.stdout
    assert "Smallest failing example:" in result.stdout
    assert "Traceback" not in result.stdout
    # The forward pass and the loss are still right: partial credit.
    assert "test_forward_matches_torch" not in result.stdout.split("FAILURES")[1]


def test_plain_pytest_at_the_root_collects_the_katas_and_pytest_tests_the_projects_tests():
    plain = run_pytest("--collect-only", "-q")
    assert plain.returncode == 0, plain.stdout[-2000:]
    assert all(f"katas/{kata_id}/" in plain.stdout for kata_id in KATA_IDS) and "tests/" not in plain.stdout
    own = run_pytest("tests", "--collect-only", "-q")
    assert own.returncode == 0 and "tests/test_pytest_katas.py" in own.stdout and "katas/" not in own.stdout


def pytest_in(clone, *args: str) -> subprocess.CompletedProcess:
    return run(sys.executable, "-m", "pytest", *args, cwd=clone.root, env={**clone.env, "KATA_DB": str(clone.db)})


def test_plain_pytest_grades_every_kata_and_records_the_grades(clone):
    """A fresh clone: plain pytest makes each learner file from its stub, grades it, and the history has it."""
    result = pytest_in(clone)
    assert result.returncode == 1  # the stubs fail
    for kata in registry.katas():
        assert clone.learner_file(kata).read_bytes() == kata.pristine_path.read_bytes()
        assert f"kata {kata.id}" in result.stdout
    assert "0 of 15 checks pass, score 0/20." in result.stdout
    with sqlite3.connect(clone.db) as con:
        recorded = con.execute("SELECT kata_id, source, status FROM grades ORDER BY kata_id").fetchall()
    assert recorded == [(kata_id, "pytest", "fail") for kata_id in KATA_IDS]


def test_a_k_selection_says_how_many_checks_ran_and_is_not_recorded(clone):
    target = clone.learner_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(solution_source("02_backprop"))
    result = pytest_in(clone, "katas/02_backprop", "-k", "backward")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "6 of 15 checks ran (the others were deselected): 6 of them pass, score 10/10 for those." in result.stdout
    assert "Those pass; `pytest katas/02_backprop` runs every check." in result.stdout
    assert "All checks pass" not in result.stdout
    assert not clone.db.exists() or sqlite3.connect(clone.db).execute("SELECT count(*) FROM grades").fetchone()[0] == 0

    whole = pytest_in(clone, "katas/02_backprop")
    assert whole.returncode == 0 and "15 of 15 checks pass, score 20/20." in whole.stdout
    with sqlite3.connect(clone.db) as con:
        assert con.execute("SELECT kata_id, source, status, score FROM grades").fetchall() == [("02_backprop", "pytest", "pass", 20.0)]
