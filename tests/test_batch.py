"""`kata batch` and the Gradescope bundle, run as an instructor would: real subprocesses."""

from __future__ import annotations

import csv
import json
import os
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, run, solution_source

from harness.grading import registry

KATA = str(Path(sys.executable).with_name("kata"))
BUGGY = solution_source("02_backprop").replace("dZ2 = (A2 - y) / n", "dZ2 = A2 - y")
CRASHING = solution_source("02_backprop").replace("    n = X.shape[0]", "    import os; os._exit(3)")
REFERENCE = registry.get("02_backprop").solution_path


def learner(folder: Path, name: str, source: str | bytes) -> None:
    target = folder / name / "02_backprop" / "backprop.py"
    target.parent.mkdir(parents=True)
    target.write_bytes(source if isinstance(source, bytes) else source.encode())


def zipped(path: Path, *members: tuple[str, str], link: str | None = None) -> None:
    """A zip of (name, text) files; `link`, if given, a member stored as a symbolic link to the reference."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in members:
            zf.writestr(name, text)
        if link is not None:
            info = zipfile.ZipInfo(link)
            info.external_attr = 0o120777 << 16  # S_IFLNK | rwxrwxrwx, as `zip --symlinks` stores one
            zf.writestr(info, str(REFERENCE))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One batch over a class with every kind of submission; the tests read what it wrote."""
    base = tmp_path_factory.mktemp("batch")
    subs = base / "submissions"
    learner(subs, "alice", solution_source("02_backprop"))
    learner(subs, "bob", BUGGY)
    learner(subs, "carol", CRASHING)
    learner(subs, "dave", b"\x00\x01 not python")
    (subs / "erin").mkdir()  # a submission without the kata's file
    (subs / "frank.zip").write_bytes(b"not a zip")
    zipped(subs / "gina.zip", ("gina-work/02_backprop/backprop.py", solution_source("02_backprop")))  # in one top folder
    # The same name twice, a folder and a zip: two learners.
    learner(subs, "dup", BUGGY)
    zipped(subs / "dup.zip", ("02_backprop/backprop.py", solution_source("02_backprop")))
    # Links to the reference, as a kata file, as a kata folder, as a zip member: refused.
    (subs / "hank" / "02_backprop").mkdir(parents=True)
    os.symlink(REFERENCE, subs / "hank" / "02_backprop" / "backprop.py")
    (subs / "ivy").mkdir()
    os.symlink(REFERENCE.parent, subs / "ivy" / "02_backprop")
    zipped(subs / "jack.zip", ("notes.txt", "mine"), link="02_backprop/backprop.py")
    (subs / "kim" / "02_backprop" / "backprop.py").mkdir(parents=True)  # a folder where the file should be
    learner(subs, "grades.csv", solution_source("02_backprop"))  # a learner named as the class's file
    result = run(KATA, "batch", str(subs), "--katas", "02_backprop", "--out", str(base / "out"),
                 "--test-timeout", "5", env={"KATA_DB": str(base / "db.sqlite3")})  # fmt: skip
    return result, base / "out"


LEARNERS = {"alice", "bob", "carol", "dave", "erin", "frank.zip", "gina.zip", "dup", "dup.zip", "hank", "ivy", "jack.zip", "kim", "grades.csv"}


def csv_rows(out: Path) -> dict[str, dict[str, str]]:
    return {row["learner"]: row for row in csv.DictReader((out / "grades.csv").open())}


def test_batch_finishes_and_shows_every_learner(graded):
    result, _ = graded
    assert result.returncode == 0, result.stderr
    for name in LEARNERS:
        assert name in result.stdout


def test_the_class_csv_has_a_row_per_learner_and_a_column_per_kata(graded):
    _, out = graded
    rows = csv_rows(out)
    assert set(rows) == LEARNERS
    assert rows["alice"]["02_backprop"] == rows["alice"]["max_total"] == rows["gina.zip"]["02_backprop"]
    assert 0 < float(rows["bob"]["02_backprop"]) < float(rows["alice"]["02_backprop"])
    assert "exited the interpreter" in rows["carol"]["errors"] and "backward()" in rows["carol"]["errors"]
    assert "not Python source" in rows["dave"]["errors"]
    assert "no file" in rows["erin"]["errors"]
    assert "not a readable zip" in rows["frank.zip"]["errors"]
    # Every learner is scored out of the same total, whatever went wrong.
    assert len({row["max_total"] for row in rows.values()}) == 1


def test_a_learner_named_as_the_class_file_is_graded_beside_it(graded):
    _, out = graded
    row = csv_rows(out)["grades.csv"]
    assert row["total"] == row["max_total"] != "0"
    assert json.loads((out / "learners" / "grades.csv" / "result.json").read_text())["katas"][0]["status"] == "pass"


def test_a_folder_and_a_zip_of_one_name_are_two_learners(graded):
    _, out = graded
    rows = csv_rows(out)
    assert float(rows["dup"]["02_backprop"]) < float(rows["dup.zip"]["02_backprop"]) == float(rows["dup.zip"]["max_total"])
    assert json.loads((out / "learners" / "dup" / "result.json").read_text()) != json.loads((out / "learners" / "dup.zip" / "result.json").read_text())


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("hank", "hank: 02_backprop/backprop.py is a symbolic link; submit the file itself."),
        ("ivy", "ivy: 02_backprop is a symbolic link; submit the file itself."),
        ("jack.zip", "jack.zip: 02_backprop/backprop.py is a symbolic link; submit the file itself."),
    ],
)
def test_a_symbolic_link_anywhere_refuses_that_submission(graded, name, error):
    _, out = graded
    row = csv_rows(out)[name]
    assert row["total"] == "0" and row["errors"] == f"02_backprop: {error}"
    assert json.loads((out / "learners" / name / "result.json").read_text())["katas"][0]["error"] == error


def test_a_folder_where_the_file_should_be_is_one_sentence(graded):
    _, out = graded
    error = csv_rows(out)["kim"]["errors"]
    assert error.endswith("kim/02_backprop/backprop.py is a folder, but it should be your Python file."), error


def test_per_learner_files_in_three_formats(graded):
    _, out = graded
    gradescope = json.loads((out / "learners" / "bob" / "results.json").read_text())
    assert gradescope["score"] > 0
    for test in gradescope["tests"]:
        assert set(test) >= {"name", "score", "max_score", "output", "visibility"}
    failing = [t for t in gradescope["tests"] if t["score"] < t["max_score"]]
    assert any("disagrees with torch" in t["output"] for t in failing)
    ours = json.loads((out / "learners" / "bob" / "result.json").read_text())
    assert ours["katas"][0]["id"] == "02_backprop" and ours["katas"][0]["status"] == "fail"
    suite = ET.parse(out / "learners" / "carol" / "junit.xml").getroot().find("testsuite")
    assert int(suite.get("errors")) >= 1


def bundle(folder: Path, *katas: str) -> Path:
    """The bundle `kata gradescope-package` writes (every kata unless named)."""
    path = folder / "autograder.zip"
    made = run(KATA, "gradescope-package", *(("--katas", ",".join(katas)) if katas else ()), "--out", str(path))
    assert made.returncode == 0, made.stderr
    return path


def test_gradescope_bundle_leaves_every_answer_out(tmp_path):
    with zipfile.ZipFile(bundle(tmp_path)) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    assert {"setup.sh", "run_autograder", "source/harness/packs/backprop/kata.toml"} <= set(files)
    assert not [name for name in files if "variants" in name or "solutions" in name or name.endswith("catalog.toml")]
    answers = sorted((ROOT / "solutions").rglob("*.py")) + sorted((ROOT / "harness" / "packs").glob("*/variants/*.py"))
    assert answers and not [p for p in answers if p.read_bytes() in set(files.values())]


def autograde(tmp_path: Path, upload) -> dict:
    """run_autograder on a fake /autograder tree; `upload(submission folder)` lays out the student's files."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle(tmp_path, "02_backprop")) as zf:
        zf.extractall(root)
    (root / "submission").mkdir()
    upload(root / "submission")
    graded = run("bash", str(root / "run_autograder"), env={"AUTOGRADER_ROOT": str(root), "KATA_PYTHON": sys.executable})
    assert graded.returncode == 0, graded.stdout + graded.stderr
    return json.loads((root / "results" / "results.json").read_text())


def test_gradescope_bundle_grades_a_fake_autograder_tree(tmp_path):
    # uploaded as a bare file, not in its kata folder
    results = autograde(tmp_path, lambda submission: (submission / "backprop.py").write_text(BUGGY))
    assert 0 < results["score"] < sum(t["max_score"] for t in results["tests"])
    assert any("disagrees with torch" in t["output"] for t in results["tests"])
    assert "output" not in results


def _link_file(submission: Path) -> None:
    (submission / "02_backprop").mkdir()
    os.symlink(REFERENCE, submission / "02_backprop" / "backprop.py")
    (submission / "notes.txt").symlink_to("/etc/passwd")


def _link_folder(submission: Path) -> None:
    os.symlink(REFERENCE.parent, submission / "02_backprop")


@pytest.mark.parametrize(
    ("upload", "output"),
    [
        (_link_file, "02_backprop/backprop.py, notes.txt are symbolic links; submit the files themselves."),
        (_link_folder, "02_backprop is a symbolic link; submit the file itself."),
    ],
    ids=["file", "folder"],
)
def test_gradescope_bundle_copies_no_link_and_says_so(tmp_path, upload, output):
    results = autograde(tmp_path, upload)
    assert results["score"] == 0 and results["output"] == output
    assert all(t["output"].startswith("There is no file ") for t in results["tests"])  # the reference was not copied


def test_gradescope_bundle_grades_a_notebook_submission(tmp_path):
    import nbformat.v4 as nbf

    def upload(submission: Path) -> None:
        cells = [nbf.new_code_cell("%matplotlib inline"), nbf.new_code_cell(BUGGY), nbf.new_code_cell("!pip list")]
        (submission / "backprop.ipynb").write_text(nbf.writes(nbf.new_notebook(cells=cells)))

    results = autograde(tmp_path, upload)
    assert 0 < results["score"] < sum(t["max_score"] for t in results["tests"])
    assert any("disagrees with torch" in t["output"] for t in results["tests"])
    assert results["output"].splitlines() == [
        "Left out of your notebook: backprop.ipynb: cell 1, line 1: a line magic (%matplotlib inline) is left out",
        "Left out of your notebook: backprop.ipynb: cell 3, line 1: a shell escape (!pip list) is left out",
    ]
