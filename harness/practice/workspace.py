"""The learner's files in katas/: created from the pristine stubs when missing, reset with a backup.

The pristine stubs live in harness/packs/<module>/stub/ and nowhere else; katas/<id>/<module>.py is the learner's
own copy (ignored by the project's git), so updating the harness never touches their work, and
nothing here replaces a learner's file without first copying it somewhere safe.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from harness.grading.registry import Kata


def ensure(kata: Kata) -> bool:
    """Copy the pristine stub into katas/ if the learner's file is missing; True when it did."""
    target = kata.learner_file()
    if target.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(kata.pristine_path, target)
    return True


def is_pristine(kata: Kata, root: Path | None = None) -> bool:
    path = kata.learner_file(root)
    return not path.exists() or path.read_bytes() == kata.pristine_path.read_bytes()


def backup(kata: Kata, backups_dir: Path, root: Path | None = None) -> Path | None:
    """Copy the learner's file into backups_dir/<timestamp>/<id>/; None when there is nothing to keep."""
    source = kata.learner_file(root)
    if is_pristine(kata, root):
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = backups_dir / stamp / kata.id / kata.filename
    n = 1
    while target.exists():  # two resets within a second keep both copies
        target = backups_dir / f"{stamp}-{n}" / kata.id / kata.filename
        n += 1
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)
    return target


def reset(kata: Kata, backups_dir: Path, root: Path | None = None) -> Path | None:
    """Back the learner's file up, then restore the pristine stub; returns the backup's path."""
    saved = backup(kata, backups_dir, root)
    target = kata.learner_file(root)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".py.kata-tmp")
    shutil.copyfile(kata.pristine_path, tmp)
    tmp.replace(target)  # atomic: the file is either the learner's or the stub, never half of one
    return saved
