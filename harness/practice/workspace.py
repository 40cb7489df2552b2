"""The learner's files in katas/: created from the pristine stubs when missing, reset with a backup.

The pristine stubs live in harness/packs/<module>/stub/ and nowhere else; katas/<id>/<module>.py is the learner's
own copy (ignored by the project's git), so updating the harness never touches their work, and
nothing here replaces a learner's file without first copying it somewhere safe.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from harness.grading import registry
from harness.grading.registry import WORKSPACE, Kata, shown_path
from harness.practice.store import Store


# Where a learner's file is copied before anything replaces it: beside their files (git ignores it),
# whatever database KATA_DB names.
BACKUPS_DIR = WORKSPACE / ".backups"
# The katas whose file this folder has made, an id a line. The progress store is one per user and
# shared by every clone: a second clone's files were never made, not deleted, so the folder keeps its own.
MADE = WORKSPACE / ".made"


class MissingFile(Exception):
    """The learner's file was there once and is gone: it is never recreated behind their back."""


def ensure(kata: Kata, store: Store) -> bool:
    """Copy the pristine stub into katas/ if the learner's file was never made; True when it did.
    A file made before and now missing (deleted, moved) is MissingFile: `kata reset` makes it again."""
    target = kata.learner_file()
    if target.exists():
        return False
    if kata.id in _made():
        raise MissingFile(f"{shown_path(target)} is missing (deleted or moved?): nothing was recreated."
                          f" `kata reset {kata.id}` starts over from the stub.")  # fmt: skip
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(kata.pristine_path, target)
    with MADE.open("a") as fh:
        fh.write(f"{kata.id}\n")
    store.record_event(kata.id, "start")  # the attempt's start: `time to pass` counts from here
    return True


def _made() -> set[str]:
    if not MADE.exists():  # a folder from before the list was kept: the files it holds were made here
        MADE.parent.mkdir(parents=True, exist_ok=True)
        MADE.write_text("".join(f"{k.id}\n" for k in registry.katas() if k.learner_file().exists()))
    return set(MADE.read_text().split())


def is_pristine(kata: Kata, root: Path | None = None) -> bool:
    """The file is the stub as it was given (a missing file is not: grading it says it is missing)."""
    path = kata.learner_file(root)
    return path.exists() and path.read_bytes() == kata.pristine_path.read_bytes()


def backup(kata: Kata, backups_dir: Path, root: Path | None = None) -> Path | None:
    """Copy the learner's file into backups_dir/<timestamp>/<id>/; None when there is nothing to keep."""
    source = kata.learner_file(root)
    if not source.exists() or is_pristine(kata, root):
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
