"""Shared helpers for the project's own tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from harness.grading import registry

ROOT = registry.REPO_ROOT
# Every command the tests start (kata, pytest katas/<id>) records into a throwaway history, never the user's.
os.environ.setdefault("KATA_DB", os.path.join(tempfile.mkdtemp(prefix="kata-tests-"), "progress.sqlite3"))


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


# --- the `kata` command as a learner runs it ----------------------------------------------------
KATA_EXE = str(Path(sys.executable).with_name("kata"))


def kata(*args: str, db: Path, cwd: Path = ROOT, env: dict | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    """`kata ARGS` as a learner runs it in a pipe: no terminal on stdin or stdout."""
    full_env = {**os.environ, "NO_COLOR": "1", "KATA_DB": str(db), **(env or {})}
    return subprocess.run([KATA_EXE, *args], cwd=cwd, env=full_env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "state" / "progress.sqlite3"


class Clone:
    """A throwaway copy of the repo as a fresh clone has it, and `kata` run inside it."""

    def __init__(self, root: Path, db: Path) -> None:
        self.root, self.db = root, db
        self.env = {"PYTHONPATH": str(root)}

    def learner_file(self, kata: registry.Kata | None = None) -> Path:
        kata = kata or registry.get("02_backprop")
        return self.root / "katas" / kata.id / kata.filename

    def __call__(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return kata(*args, db=self.db, cwd=self.root, env=self.env, **kwargs)


@pytest.fixture
def clone(tmp_path, db) -> Clone:
    return make_clone(tmp_path / "repo", db)


def make_clone(root: Path, db: Path) -> Clone:
    """The repo's harness, solutions and prompts copied to `root`, with `kata` run there against `db`."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("harness", "solutions"):
        shutil.copytree(ROOT / folder, root / folder, ignore=ignore)
    for name in ("pyproject.toml", "conftest.py"):
        shutil.copy(ROOT / name, root / name)
    for prompt in (ROOT / "katas").glob("*/README.md"):  # the prompts; the learner files are not copied
        (root / prompt.parent.relative_to(ROOT)).mkdir(parents=True, exist_ok=True)
        shutil.copy(prompt, root / prompt.relative_to(ROOT))
    copy = Clone(root, db)
    probe = subprocess.run([sys.executable, "-c", "import harness.grading.registry as r; print(r.REPO_ROOT)"], cwd=root,
                           env={**os.environ, **copy.env}, capture_output=True, text=True, check=True)  # fmt: skip
    assert probe.stdout.strip() == str(root), "the copy's harness is not the one imported"
    return copy
