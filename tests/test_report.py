"""The failure report under a verdict (harness/practice/ui.py report): fitted to a terminal, summary last."""

from __future__ import annotations

from harness.grading.results import KataResult, Status, TestResult
from harness.practice import ui

EXAMPLE = "Smallest failing example:\nN = 2\nX = np.array([[0.4, -0.7], [-1.4, -1.5]])\ny = np.array([[0.0], [1.0]])"


def failing(n: int) -> KataResult:
    tests = [TestResult(f"test_{i}", Status.FAIL, f"check {i} disagrees with torch {'at length ' * 12}\n  max abs error {i}\n\n{EXAMPLE}", 0.0, 1.0)
             for i in range(n)]  # fmt: skip
    return KataResult("02_backprop", "f.py", Status.FAIL, [TestResult("test_ok", Status.PASS, None, 1.0, 1.0), *tests])


def rows_of(lines: list[str], width: int) -> int:
    return sum(max(1, -(-len(line) // width)) for line in lines)


def test_a_long_report_fits_the_rows_it_is_given_wrapped_lines_counted_and_ends_with_the_summary():
    lines = ui.report(failing(30), rows=20, width=60)
    assert rows_of(lines, 60) <= 20
    assert lines[-1] == "1 of 31 checks pass, score 1/31. First to fix: test_0."
    assert any("more failing checks (`kata grade 02_backprop` shows them all)" in line for line in lines)
    assert "First failure, test_0:" in lines
    assert sum(line.startswith("Smallest failing example (the same for 30 failing checks)") for line in lines) == 1


def test_without_rows_every_different_failure_has_its_details_and_the_shared_example_once():
    lines = ui.report(failing(3))
    assert [line for line in lines if line.startswith("test_")] == ["test_0:", "test_1:", "test_2:"]
    assert lines.count("Smallest failing example (the same for 3 failing checks):") == 1
