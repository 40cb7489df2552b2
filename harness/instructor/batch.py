"""`kata batch`: grade a folder of submissions, one learner per subfolder (or .zip), in isolation.

Every kata of every submission is graded in its own forked child of one warm server (torch, numpy,
hypothesis imported once, every reference graded once), `workers` at a time, so the cost grows with
the grading work, not with one interpreter start per learner. A broken submission (a crash, a hang,
garbage, a missing kata, a bad zip) gets its own error entry; it never stops the batch.

A learner is named by their entry in the folder, as it is spelled there: `alice/` is "alice" and
`alice.zip` is "alice.zip", so two entries are always two learners, and a name never depends on the
other entries. A submission holding a symbolic link anywhere (a folder's, or a zip member stored as
a link) is refused, that learner only: grading never follows a link out of the submission.

Written to OUT: learners/<learner>/results.json (Gradescope), .../junit.xml, .../result.json (our
JSON, as `kata grade --format json`), and grades.csv (one row per learner, a column per kata). The
learners' folders are apart from the class's files, so no learner's name (`grades.csv/`) can take
the place of one.
"""

from __future__ import annotations

import csv
import functools
import os
import shutil
import stat
import tempfile
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from harness.instructor import formats
from harness.notebooks import cells
from harness.grading import registry
from harness.grading.results import KataResult, Status, TestResult
from harness.grading.sandbox import Limits, Sandbox
from harness.jail import zygote

PER_SUBMISSION = {"gradescope": "results.json", "junit": "junit.xml", "json": "result.json"}
BATCH_FORMATS = ("csv", *PER_SUBMISSION)
LEARNERS = "learners"  # OUT/learners/<learner>/: each learner's files
MAX_UNZIPPED_BYTES = 50 * 2**20  # a submission is a few small .py files; anything bigger is refused


class SubmissionError(Exception):
    """A submission that cannot be laid out for grading; the message says why."""


@dataclass
class Graded:
    learner: str
    results: list[KataResult]
    error: str | None = None

    @property
    def score(self) -> float:
        return sum(r.score for r in self.results)

    @property
    def max_score(self) -> float:
        return sum(r.max_score for r in self.results)


def submissions(folder: Path) -> list[Path]:
    """Each subfolder or .zip file of `folder`, sorted by name; hidden entries are skipped."""
    if not folder.is_dir():
        raise SubmissionError(f"{folder}: no such folder of submissions")
    return sorted(p for p in folder.iterdir() if not p.name.startswith(".") and (p.is_dir() or p.suffix == ".zip"))


def links(root: Path) -> list[str]:
    """The symbolic links anywhere under `root`, relative to it; os.walk never enters a linked folder."""
    found = [Path(here, name) for here, dirs, files in os.walk(root) for name in dirs + files]
    return sorted(p.relative_to(root).as_posix() for p in found if p.is_symlink())


def refused_links(paths: list[str]) -> str:
    """What a learner reads about the links found in their submission (`kata batch`, run_autograder)."""
    if len(paths) == 1:
        return f"{paths[0]} is a symbolic link; submit the file itself."
    return f"{', '.join(paths)} are symbolic links; submit the files themselves."


def _refuse_links(name: str, paths: list[str]) -> None:
    if paths:
        raise SubmissionError(f"{name}: {refused_links(paths)}")


def _unzip(archive: Path, into: Path) -> Path:
    """Extract safely (no links, no paths outside `into`, bounded size); the folder holding the kata folders."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if sum(m.file_size for m in members) > MAX_UNZIPPED_BYTES:
                raise SubmissionError(f"{archive.name} unpacks to more than {MAX_UNZIPPED_BYTES // 2**20} MiB")
            # A link is stored with its unix mode in the top half of external_attr; extractall would
            # write it as a file holding the link's target, so it is refused here, as in a folder.
            _refuse_links(archive.name, [m.filename for m in members if stat.S_ISLNK(m.external_attr >> 16)])
            for member in members:
                target = (into / member.filename).resolve()
                if not target.is_relative_to(into.resolve()):
                    raise SubmissionError(f"{archive.name} holds a path outside its folder: {member.filename}")
            zf.extractall(into)
    except zipfile.BadZipFile as exc:
        raise SubmissionError(f"{archive.name} is not a readable zip file ({exc})") from None
    ids = {k.id for k in registry.katas()}
    if not any((into / i).is_dir() for i in ids):
        inner = [p for p in into.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))]
        if len(inner) == 1:  # zipped as one top folder holding the kata folders
            return inner[0]
    return into


def _layout(entry: Path, staging: Path) -> Path:
    """The folder holding a submission's kata folders: the folder itself, or the zip unpacked into `staging`."""
    if entry.is_dir():
        _refuse_links(entry.name, links(entry))
        return entry
    return _unzip(entry, staging)


def _error_results(katas: list[registry.Kata], file_root: str, message: str, max_score) -> list[KataResult]:
    """A submission that could not be laid out: every kata an error worth 0 of its full points."""
    return [
        KataResult(k.id, f"{file_root}/{k.id}/{k.filename}", Status.ERROR,
                   [TestResult("grading", Status.ERROR, message, 0.0, max_score(k.id))], message)  # fmt: skip
        for k in katas
    ]


def grade_all(
    folder: Path,
    katas: list[registry.Kata],
    workers: int,
    limits: Limits = Limits(),
    on_done=lambda graded: None,
) -> list[Graded]:
    """Grade every submission in `folder`; `on_done(graded)` is called as each learner finishes.
    Where each learner gets a uid of their own, their processes are forks of one zygote (harness/jail/zygote.py)."""
    with zygote.running():  # before the Sandbox: its grading server inherits KATA_ZYGOTE
        return _grade_all(folder, katas, workers, limits, on_done)


def _grade_all(folder: Path, katas: list[registry.Kata], workers: int, limits: Limits, on_done) -> list[Graded]:
    sandbox = Sandbox(limits, warm_run=[k.id for k in katas], shards=1)

    @functools.cache
    def max_score(kata_id: str) -> float:
        """A kata's full points, from grading its reference; needed only for unreadable submissions."""
        return sandbox.grade(kata_id, registry.REPO_ROOT / "solutions").max_score

    staging = Path(tempfile.mkdtemp(prefix="kata-batch-"))
    lock = threading.Lock()
    done: dict[str, list[KataResult | None]] = {}
    graded: list[Graded] = []
    jobs = []
    try:
        for entry in submissions(folder):
            learner = entry.name  # unique in the folder: `dup/` and `dup.zip` are two learners
            try:
                root = _layout(entry, staging / learner)
                root, _ = cells.with_notebooks_exported(root, staging / f"{learner}.notebooks")  # notes: in the file's header
            except (SubmissionError, cells.NotebookError) as exc:
                g = Graded(learner, _error_results(katas, entry.name, str(exc), max_score), str(exc))
                graded.append(g)
                on_done(g)
                continue
            done[learner] = [None] * len(katas)
            jobs += [(learner, root, n, kata) for n, kata in enumerate(katas)]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(sandbox.grade, kata.id, root): (learner, n) for learner, root, n, kata in jobs}
            for future in as_completed(futures):
                learner, n = futures[future]
                with lock:
                    done[learner][n] = future.result()
                    if all(r is not None for r in done[learner]):
                        g = Graded(learner, done[learner])
                        graded.append(g)
                        on_done(g)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sorted(graded, key=lambda g: g.learner)


def write(graded: list[Graded], katas: list[registry.Kata], out: Path, kinds: list[str]) -> list[Path]:
    """Per-learner files of the chosen kinds, and grades.csv when "csv" is among them."""
    written = []
    for g in graded:
        for kind in kinds:
            if kind in PER_SUBMISSION:
                path = out / LEARNERS / g.learner / PER_SUBMISSION[kind]
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(formats.WRITERS[kind](g.results) + "\n")
                written.append(path)
    if "csv" in kinds:
        path = out / "grades.csv"
        out.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["learner", *(k.id for k in katas), "total", "max_total", "errors"])
            for g in graded:
                by_id = {r.kata_id: r for r in g.results}
                errors = "; ".join(f"{r.kata_id}: {(r.error or '').splitlines()[0]}" for r in g.results if r.status is Status.ERROR and r.error)
                writer.writerow([formats.csv_cell(g.learner), *(f"{by_id[k.id].score:g}" for k in katas), f"{g.score:g}",
                                 f"{g.max_score:g}", formats.csv_cell(errors)])  # fmt: skip
        written.append(path)
    return written
