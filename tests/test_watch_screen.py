"""`kata watch` on a real 40-row terminal (tmux): what the learner's screen shows, save after save.

tmux keeps the screen as a terminal draws it, so these tests read what is visible, not a log.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from conftest import solution_source

from harness.grading import registry

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)")

KATA = registry.get("02_backprop")
KATA_EXE = str(Path(sys.executable).with_name("kata"))
REFERENCE = solution_source(KATA.id)
BUGGY = REFERENCE.replace("dZ2 = (A2 - y) / n", "dZ2 = A2 - y")  # the missing 1/N: four gradients fail
ENDLESS = REFERENCE.replace("    for _ in range(epochs):\n", "    while True:\n")  # train() never returns
ROWS, COLUMNS = 40, 120


class Screen:
    """A command in a detached tmux session of ROWS x COLUMNS."""

    def __init__(self, command: list[str], env: dict[str, str], cwd: Path) -> None:
        self.name = f"kata-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{k}={v}" for k, v in env.items())
        line = f"env -u COLUMNS -u LINES {exports} {' '.join(command)}"  # the pane's own size
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, "-x", str(COLUMNS), "-y", str(ROWS), line],
                       check=True, cwd=cwd)  # fmt: skip

    def text(self) -> str:
        shown = subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True)
        return shown.stdout

    def wait_for(self, *wanted: str, timeout: float = 90, absent: str | None = None) -> str:
        """The screen once it shows every one of `wanted` (failing at once if it ever shows `absent`)."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.text()
            assert absent is None or absent not in screen, screen
            if all(w in screen for w in wanted):
                return screen
            if time.monotonic() > deadline:
                pytest.fail(f"the screen never showed {wanted}; it shows:\n{screen}")
            time.sleep(0.02)

    def close(self) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, "C-c"], check=False)
        time.sleep(0.5)
        subprocess.run(["tmux", "kill-session", "-t", self.name], check=False, capture_output=True)


@pytest.fixture
def watching(tmp_path):
    target = KATA.learner_file(tmp_path / "submission")
    target.parent.mkdir(parents=True)
    target.write_text(REFERENCE)
    env = {"KATA_DB": str(tmp_path / "db.sqlite3"), "TERM": "xterm-256color"}
    # From tmp_path, the file shows as submission/02_backprop/backprop.py: no line wraps.
    screen = Screen([KATA_EXE, "watch", KATA.id, "--impl", "submission", "--test-timeout", "3"], env, tmp_path)
    try:
        yield screen, target
    finally:
        screen.close()


def test_a_save_shows_grading_at_once_marks_the_old_verdict_stale_and_a_newer_save_cancels_the_grade(watching):
    screen, target = watching
    screen.wait_for("PASS  02_backprop  20/20")
    target.write_text(ENDLESS)  # its train() checks would take 3 s each to time out
    shown = screen.wait_for("grading...", "Stale, from before your last save:", "PASS  02_backprop  20/20")
    assert "Watching " in shown
    time.sleep(0.5)  # the endless version is being graded now
    target.write_text(BUGGY)
    # The endless version's verdict is never shown: its grade was cancelled by the newer save.
    screen.wait_for("FAIL  02_backprop", "checks pass, score", absent="timed out")
    assert "timed out" not in screen.text()


def test_a_failure_report_fits_a_40_row_terminal_with_the_summary_last(watching):
    screen, target = watching
    screen.wait_for("PASS  02_backprop  20/20")
    target.write_text(BUGGY)
    shown = screen.wait_for("FAIL  02_backprop", "checks pass, score")
    lines = shown.rstrip("\n").splitlines()
    assert len(lines) <= ROWS
    assert lines[0].startswith("Watching ")  # nothing scrolled away: the header is still on screen
    assert "FAIL  02_backprop  7/20" in lines[1], shown
    assert lines[-1] == "7 of 15 checks pass, score 7/20. First to fix: test_backward_matches_torch[W1]."
    for name in ("W1", "b1", "W2", "b2"):  # one line per failing check
        assert sum(line.startswith(f"  ✘ test_backward_matches_torch[{name}]: ") for line in lines) == 1
    assert "First failure, test_backward_matches_torch[W1]:" in shown
    assert shown.count("Smallest failing example") == 1  # shared by the four, shown once
    assert "Smallest failing example (the same for 5 failing checks):" in shown
