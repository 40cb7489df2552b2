"""Kata 06_vanishing_gradients in the rest of the harness: the mock's questions and stub, a class
batch, the Gradescope bundle, and a reference that passes and a stub that fails as not implemented
(the spec itself is proven by `kata verify 06_vanishing_gradients`, see tests/test_catalog.py)."""

from __future__ import annotations

import csv
import sys
import tomllib
import zipfile
from pathlib import Path

from conftest import run, solution_source

from harness.grading import registry
from harness.instructor import gradescope
from harness.practice import mock, mock_session

ID = "06_vanishing_gradients"
KATA = registry.get(ID)
KATA_EXE = str(Path(sys.executable).with_name("kata"))


def test_its_own_questions_come_first_in_a_mock(tmp_path):
    own = [q["id"] for q in tomllib.loads(KATA.questions_path.read_text())["question"]]
    assert own == ["sigmoid_saturates", "relu_dies", "what_init_changes"]
    assert [q["id"] for q in mock.questions([ID])][:3] == own
    session = mock_session.create(tmp_path / "s", [ID], minutes=40, seed=0, questions=3)
    assert session.file(ID).read_text() == KATA.pristine_path.read_text()


def test_a_batch_grades_the_class(tmp_path):
    subs = tmp_path / "submissions"
    for name, source in (("ada", solution_source(ID)), ("bea", KATA.pristine_path.read_text()),
                         ("cy", solution_source(ID).replace("return 1.0 - np.tanh(Z) ** 2", "return 1.0 / np.cosh(Z)"))):  # fmt: skip
        target = subs / name / ID / KATA.filename
        target.parent.mkdir(parents=True)
        target.write_text(source)
    result = run(KATA_EXE, "batch", str(subs), "--katas", ID, "--out", str(tmp_path / "out"), "--workers", "1")
    assert result.returncode in (0, 1), result.stderr
    rows = {row["learner"]: row for row in csv.DictReader((tmp_path / "out" / "grades.csv").open())}
    assert float(rows["ada"][ID]) == float(rows["ada"]["max_total"]) == 30
    assert float(rows["bea"][ID]) == 0
    assert 0 < float(rows["cy"][ID]) < 30


def test_the_gradescope_bundle_carries_the_pack_but_no_answer(tmp_path):
    with zipfile.ZipFile(gradescope.build([ID], tmp_path / "autograder.zip")) as zf:
        names = set(zf.namelist())
    pack = "source/harness/packs/vanishing/"
    for part in ("spec.py", "oracle.py", "diagnoses.py", "kata.toml", "picture.py", "questions.toml", "stub/vanishing.py"):
        assert pack + part in names, part
    assert not any(n.startswith((pack + "blind", pack + "variants", pack + "catalog")) for n in names)
    assert not any(n.startswith("source/solutions/") for n in names)
