"""The history chart (harness/pictures/plots.py): attempts along x, hints, solutions, resets and mock
interviews marked where they happened, read back from the figure's artists."""

from __future__ import annotations

import itertools
import time
import types

import matplotlib.pyplot as plt
import pytest

from harness import cli
from harness.grading.results import KataResult, Status, TestResult
from harness.pictures import plots
from harness.practice import store as store_module
from harness.practice.store import Store


def result(kata_id: str, passed: bool) -> KataResult:
    test = TestResult("test_x", Status.PASS if passed else Status.FAIL, None, 2.0 if passed else 0.5, 2.0)
    return KataResult(kata_id, f"katas/{kata_id}/x.py", Status.PASS if passed else Status.FAIL, [test], None, 0.1)


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A store whose clock ticks one second per record, so the order of what happened is exact."""
    ticks = itertools.count(1_000_000)
    monkeypatch.setattr(store_module, "time", types.SimpleNamespace(time=lambda: float(next(ticks)), strftime=time.strftime))
    db = Store(tmp_path / "progress.sqlite3")
    kata = "02_backprop"
    db.record_grade(result(kata, False), "grade")
    db.record_grade(result(kata, False), "watch")
    db.record_event(kata, "hint", "1")
    db.record_grade(result(kata, False), "watch")
    db.record_event(kata, "hint", "2")
    db.record_event(kata, "hint", "3")
    db.record_grade(result(kata, True), "watch")
    db.record_event(kata, "solution", "passed")
    db.record_event(kata, "reset", "backup")
    db.record_grade(result(kata, False), "grade")
    session = db.start_session("mock", {"katas": {kata: {}}})
    db.record_grade(result(kata, False), "mock", session)
    db.record_event(kata, "hint", "1", session)
    db.record_grade(result(kata, True), "mock", session)
    db.record_grade(result("01_chain_rule", True), "grade")
    yield db
    db.close()


def test_each_kata_is_a_row_of_attempts_with_its_events_between_them(store):
    rows = plots.histories(store)
    assert [row.kata_id for row in rows] == ["01_chain_rule", "02_backprop"]  # registry order; 03 has no history
    backprop = rows[1]
    assert len(backprop.grades) == 7
    assert sorted(backprop.events) == [(2.5, "hint"), (3.5, "hint"), (3.5, "hint"), (4.5, "reset"), (4.5, "solution"), (6.5, "hint")]
    assert backprop.mocks == ((1, 5.5, 7.5),)
    assert [row.kata_id for row in plots.histories(store, "02_backprop")] == ["02_backprop"]


def test_the_figure_draws_attempts_not_the_clock_and_marks_every_event(store):
    fig = plots.history_figure(plots.histories(store))
    try:
        ax = fig.axes[1]
        assert ax.get_title(loc="left") == "02_backprop"
        lines = {}
        for line in ax.lines:
            lines.setdefault(line.get_gid(), []).append(line)
        (score,) = lines["score"]
        assert list(score.get_xdata()) == [1, 2, 3, 4, 5, 6, 7] and list(score.get_ydata()) == [25, 25, 25, 100, 25, 25, 100]
        assert sorted(x for line in lines["hint"] for x in line.get_xdata()) == [2.5, 3.5, 3.5, 6.5]
        two = sorted(line.get_ydata()[0] for line in lines["hint"] if line.get_xdata()[0] == 3.5)
        assert two[0] < two[1]  # two hints in one gap are stacked, not drawn over each other
        assert [line.get_xdata()[0] for line in lines["solution"]] == [4.5]
        assert [line.get_xdata()[0] for line in lines["reset"]] == [4.5]
        stars = [line.get_xdata()[0] for gid in ("attempt-pass", "attempt-fail") for line in lines[gid] if line.get_marker() == "*"]
        assert sorted(stars) == [6, 7]
        assert [line.get_xdata()[0] for line in lines["attempt-pass"]] == [4, 7]
        (band,) = [p for p in ax.patches if p.get_gid() == "mock"]
        assert (band.get_x(), band.get_x() + band.get_width()) == (5.5, 7.5)
        assert "mock #1" in [t.get_text() for t in ax.texts]
        labels = [t.get_text() for t in fig.legends[0].get_texts()]
        assert labels == ["score (filled green: passed)", "graded in a mock interview", "hint", "solution viewed", "reset"]
    finally:
        plt.close(fig)


def test_kata_history_plot_writes_the_chart(store, tmp_path, capsys):
    out = tmp_path / "chart" / "scores.png"
    assert cli.main(["--db", str(store.path), "history", "--plot", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 20_000
    assert f"wrote {out}" in capsys.readouterr().out


def test_an_empty_history_says_so(tmp_path):
    empty = Store(tmp_path / "empty.sqlite3")
    fig = plots.history_figure(plots.histories(empty))
    try:
        assert [t.get_text() for t in fig.axes[0].texts] == ["No grades yet: `kata grade` or `kata watch` records them."]
    finally:
        plt.close(fig)
        empty.close()
