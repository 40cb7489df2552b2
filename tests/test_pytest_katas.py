"""`pytest katas/...` as a learner runs it: real subprocesses from the repo root."""

from __future__ import annotations

import re

from conftest import run_pytest, solution_source

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


def test_plain_pytest_at_the_root_does_not_grade_the_katas():
    result = run_pytest("--collect-only", "-q")
    assert result.returncode == 0
    assert "katas/" not in result.stdout and "tests/" in result.stdout
