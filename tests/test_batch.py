"""`kata batch` and the Gradescope bundle, run as an instructor would: real subprocesses."""

from __future__ import annotations

import csv
import json
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from conftest import run, solution_source

KATA = str(Path(sys.executable).with_name("kata"))
BUGGY = solution_source("02_backprop").replace("dZ2 = (A2 - y) / n", "dZ2 = A2 - y")
CRASHING = solution_source("02_backprop").replace("    n = X.shape[0]", "    import os; os._exit(3)")


def learner(folder: Path, name: str, source: str | bytes) -> None:
    target = folder / name / "02_backprop" / "backprop.py"
    target.parent.mkdir(parents=True)
    target.write_bytes(source if isinstance(source, bytes) else source.encode())


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
    with zipfile.ZipFile(subs / "gina.zip", "w") as zf:  # zipped inside one top folder
        zf.writestr("gina-work/02_backprop/backprop.py", solution_source("02_backprop"))
    result = run(KATA, "batch", str(subs), "--katas", "02_backprop", "--out", str(base / "out"),
                 "--test-timeout", "5", env={"KATA_DB": str(base / "db.sqlite3")})  # fmt: skip
    return result, base / "out"


def test_batch_finishes_and_shows_every_learner(graded):
    result, _ = graded
    assert result.returncode == 0, result.stderr
    for name in ("alice", "bob", "carol", "dave", "erin", "frank", "gina"):
        assert name in result.stdout


def test_the_class_csv_has_a_row_per_learner_and_a_column_per_kata(graded):
    _, out = graded
    rows = {row["learner"]: row for row in csv.DictReader((out / "grades.csv").open())}
    assert set(rows) == {"alice", "bob", "carol", "dave", "erin", "frank", "gina"}
    assert rows["alice"]["02_backprop"] == rows["alice"]["max_total"] == rows["gina"]["02_backprop"]
    assert 0 < float(rows["bob"]["02_backprop"]) < float(rows["alice"]["02_backprop"])
    assert "exited the interpreter" in rows["carol"]["errors"] and "backward()" in rows["carol"]["errors"]
    assert "not Python source" in rows["dave"]["errors"]
    assert "no file" in rows["erin"]["errors"]
    assert "not a readable zip" in rows["frank"]["errors"]
    # Every learner is scored out of the same total, whatever went wrong.
    assert len({row["max_total"] for row in rows.values()}) == 1


def test_per_learner_files_in_three_formats(graded):
    _, out = graded
    gradescope = json.loads((out / "bob" / "results.json").read_text())
    assert gradescope["score"] > 0
    for test in gradescope["tests"]:
        assert set(test) >= {"name", "score", "max_score", "output", "visibility"}
    failing = [t for t in gradescope["tests"] if t["score"] < t["max_score"]]
    assert any("disagrees with torch" in t["output"] for t in failing)
    ours = json.loads((out / "bob" / "result.json").read_text())
    assert ours["katas"][0]["id"] == "02_backprop" and ours["katas"][0]["status"] == "fail"
    suite = ET.parse(out / "carol" / "junit.xml").getroot().find("testsuite")
    assert int(suite.get("errors")) >= 1


def test_gradescope_bundle_grades_a_fake_autograder_tree(tmp_path):
    bundle = tmp_path / "autograder.zip"
    made = run(KATA, "gradescope-package", "--katas", "02_backprop", "--out", str(bundle))
    assert made.returncode == 0, made.stderr
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
        assert {"setup.sh", "run_autograder"} <= set(names)
        assert not any(n.startswith("source/solutions/") for n in names)
        zf.extractall(root)
        (root / "run_autograder").chmod(0o755)
    submission = root / "submission"
    submission.mkdir()
    (submission / "backprop.py").write_text(BUGGY)  # uploaded as a bare file, not in its kata folder
    graded = run("bash", str(root / "run_autograder"), env={"AUTOGRADER_ROOT": str(root), "KATA_PYTHON": sys.executable})
    assert graded.returncode == 0, graded.stdout + graded.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert 0 < results["score"] < sum(t["max_score"] for t in results["tests"])
    assert any("disagrees with torch" in t["output"] for t in results["tests"])
