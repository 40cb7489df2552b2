"""Shared helpers for the project's own tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.grading import registry

ROOT = registry.REPO_ROOT


def run(*args: str, cwd: Path = ROOT, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a command as a learner would, from the repo root, capturing what they would read."""
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=full_env)


def run_pytest(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return run(sys.executable, "-m", "pytest", *args, **kwargs)


@pytest.fixture
def submission(tmp_path: Path):
    """A submission folder laid out like katas/; `submission(kata_id, source)` writes one file."""

    def write(kata_id: str, source: str | None = None) -> Path:
        kata = registry.get(kata_id)
        target = tmp_path / kata.id / kata.filename
        target.parent.mkdir(parents=True, exist_ok=True)
        if source is None:
            shutil.copy(kata.solution_path, target)
        else:
            target.write_text(source)
        return tmp_path

    return write


def solution_source(kata_id: str) -> str:
    return registry.get(kata_id).solution_path.read_text()


def verdicts(kata_id: str, root: Path, checks: set[str]) -> dict[str, str | None]:
    """Grade in-process: {check name: None if it passes, else the message the learner reads}.
    Every one of `checks`, and nothing else, must have a result."""
    from harness.grading import runner
    from harness.grading.results import Status

    result = runner.grade(kata_id, root)
    assert {t.name for t in result.tests} == checks, result.error
    return {t.name: (None if t.status is Status.PASS else t.message) for t in result.tests}


def failures(graded: dict[str, str | None]) -> dict[str, str]:
    return {name: message for name, message in graded.items() if message is not None}
