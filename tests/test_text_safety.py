"""Learner text (messages, output, file and folder names) and our hints are shown as they are written.

On screen, rich would read "[red]", "[/nope]" or "[eps, 1 - eps]" as markup: style it, drop it, or
crash with a MarkupError. In a CSV file, a cell starting with = + - @ is a formula to a spreadsheet.
In the mock report's Markdown, a learner's ``` would close the code block around their output.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, solution_source
from rich.console import Console

from harness.instructor import batch, formats
from harness.practice import mock_report, ui
from harness.grading import registry
from harness.grading import results
from harness.practice.mock_session import KataState, Session
from harness.practice.progress import FAILING, Standing
from harness.grading.results import KataResult, Status
from harness.practice.store import Store

KATA = registry.get("02_backprop")
# Each kind of trouble: a closing tag with no opening one (a MarkupError), tags that would vanish,
# and a bracketed phrase that looks like a style ("[eps, 1 - eps]" vanished from a hint).
MARKUP = ["[/nope] closes nothing", "[bold]x[/bold] and [red]red", "clip into [eps, 1 - eps]", "n0 [label=\"x | 1\"];"]


def console() -> Console:
    """A console as rich makes it by default (markup on): the ui functions must be safe on any console."""
    return Console(file=io.StringIO(), width=400, color_system=None)


def shown(out: Console) -> str:
    return out.file.getvalue()


def result_with(text: str) -> KataResult:
    tests = [
        results.TestResult("test_forward", Status.FAIL, f"Expected 1.0, got 2.0.\nYour code printed:\n{text}", 0.0, 1.0),
        results.TestResult("test_backward", Status.ERROR, text, 0.0, 1.0),
    ]
    return KataResult(KATA.id, f"katas/{text}/backprop.py", Status.FAIL, tests, None, 0.1)


@pytest.mark.parametrize("text", MARKUP)
def test_a_verdict_shows_messages_and_file_names_literally(text):
    out = console()
    ui.verdict(out, result_with(text))
    assert f"katas/{text}/backprop.py" in shown(out)
    assert f"\n  {text}\n" in shown(out)  # the printed output, and the whole message of test_backward


@pytest.mark.parametrize("text", MARKUP)
def test_a_verdict_shows_a_grading_error_literally(text):
    out = console()
    ui.verdict(out, KataResult(KATA.id, "katas/02_backprop/backprop.py", Status.ERROR, [], f"Importing raised ValueError: {text}", 0.1))
    assert f"Importing raised ValueError: {text}" in shown(out)


@pytest.mark.parametrize("text", MARKUP)
def test_the_board_shows_the_next_step_literally(text):
    out = console()
    ui.board(out, [Standing(KATA, FAILING, 1.0, 2.0, None, 0, text)])
    assert text in shown(out)


@pytest.mark.parametrize("text", MARKUP)
def test_the_batch_table_shows_learner_names_and_errors_literally(text):
    out = console()
    result = KataResult(KATA.id, "x.py", Status.ERROR, [results.TestResult("grading", Status.ERROR, text, 0.0, 1.0)], text, 0.1)
    ui.batch_table(out, [batch.Graded(text, [result])], [KATA])
    rows = [line for line in shown(out).splitlines() if "0/1" in line]
    assert len(rows) == 1
    assert text in rows[0] and f"{KATA.id}: {text}" in rows[0]


def test_history_rows_are_shown_literally():
    out = console()
    ui.history_table(out, [(0.0, "[red]kata", "[/nope]", "fail", "0/1")], "Last grades")
    assert "[red]kata" in shown(out) and "[/nope]" in shown(out)


def test_every_hint_is_printed_as_written(clone):
    """A task's hints, listed again once every one is used: square brackets in them are kept."""
    kata = registry.get("02_backprop")
    given = kata.task_hints["bce_loss"]
    assert any("[" in h for h in given), "no hint has square brackets any more; this test proves nothing"
    clone.learner_file().parent.mkdir(parents=True, exist_ok=True)
    clone.learner_file().write_text(solution_source(kata.id).replace("p = np.clip(y_hat, EPS, 1.0 - EPS)", "p = y_hat"))
    store = Store(clone.db)
    for _ in given:
        store.record_event(kata.id, "hint", "bce_loss")
    store.close()
    clone.env["COLUMNS"] = "1000"  # no wrapping: each hint on one line
    result = clone("hint", kata.id)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"All {len(given)} hints for bce_loss in {kata.id} are already shown:")
    for n, hint in enumerate(given, 1):
        assert f"  {n}. {hint}\n" in result.stdout


def test_a_store_error_naming_a_bracketed_path_is_printed_literally(tmp_path):
    folder = tmp_path / "[red]progress"
    folder.mkdir()
    result = subprocess.run(
        [str(Path(sys.executable).with_name("kata")), "--db", str(folder), "history"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith(f"kata: Cannot use {folder} as the progress database: it is a directory;")


# --- CSV -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1+1)", "\t=1+1", "\r=1+1"])
def test_a_cell_that_a_spreadsheet_would_run_is_kept_as_text(text):
    assert formats.csv_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["eve", "", "02_backprop: crashed", "1e-3", "'quoted"])
def test_other_cells_are_left_alone(text):
    assert formats.csv_cell(text) == text


def test_grades_csv_neutralises_learner_names_and_errors(tmp_path):
    error = "@SUM(1+1)*cmd|' /C calc'!A0"
    crashed = KataResult(KATA.id, "x.py", Status.ERROR, [results.TestResult("grading", Status.ERROR, error, 0.0, 2.0)], error, 0.1)
    passed = KataResult(KATA.id, "x.py", Status.PASS, [results.TestResult("t", Status.PASS, None, 2.0, 2.0)], None, 0.1)
    graded = [batch.Graded("=cmd|' /C calc'!A0", [crashed]), batch.Graded("@SUM(A1:A9)", [passed]), batch.Graded("eve", [passed])]
    (path,) = batch.write(graded, [KATA], tmp_path, ["csv"])
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows == [
        ["learner", KATA.id, "total", "max_total", "errors"],
        ["'=cmd|' /C calc'!A0", "0", "0", "2", f"{KATA.id}: {error}"],
        ["'@SUM(A1:A9)", "2", "2", "2", ""],
        ["eve", "2", "2", "2", ""],
    ]
    for row in rows[1:]:  # no cell a spreadsheet would evaluate
        assert not any(cell.startswith(formats.FORMULA_STARTS) for cell in row)


# --- the mock report -----------------------------------------------------------------------------
def test_the_mock_reports_code_block_holds_output_with_backticks(tmp_path):
    failure = "Your code printed:\n```\n# Not a heading of the report\n````"
    session = Session(str(tmp_path), [KATA.id], 45, 0, 0, 0.0, 0.0,
                      state={KATA.id: KataState(KATA.id, "fail", 0.0, 2.0, failures=[failure])})  # fmt: skip
    md = mock_report.markdown(session)
    assert f"\n`````\n{failure}\n`````\n" in md  # fenced by one backtick more than the longest run inside
