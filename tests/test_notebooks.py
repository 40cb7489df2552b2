"""Practice in Jupyter (harness/notebooks/): `kata notebook`'s notebooks run in a real Jupyter kernel
(nbclient), cells exported for `kata grade --impl NB.ipynb` and `kata batch`, what is left out and why."""

from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from conftest import solution_source
from nbclient import NotebookClient

from harness import cli
from harness.grading import registry
from harness.grading.text import split_diagnosis
from harness.instructor import batch, catalog
from harness.notebooks import build, cells

KATA = registry.get("02_backprop")


def pasted(nb, source: str):
    """The notebook with each task cell replaced by the same functions taken from `source`, as a
    learner pastes their answers in; the module-level lines of `source` go in the first code cell."""
    tree = ast.parse(source)
    segments = {n.name: ast.get_source_segment(source, n) for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    header = [ast.get_source_segment(source, n) for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    helpers = [seg for name, seg in segments.items() if name not in KATA.callables]
    code = [c for c in nb.cells if c.cell_type == "code" and not c.source.startswith("%")]
    code[0].source = "\n".join(header[1:] + helpers)  # header[0] is the module docstring
    for cell in code[1:]:
        cell.source = "\n\n".join(segments[name] for name in build.defined(cell.source))
    return nb


def run(nb, tmp_path: Path):
    """Execute every cell in a real Jupyter kernel, with the progress store in tmp_path."""
    os.environ["KATA_DB"] = str(tmp_path / "db.sqlite3")
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    return nb


def html_outputs(nb) -> list[str]:
    return [o["data"]["text/html"] for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if "text/html" in o.get("data", {})]


@pytest.fixture
def notebook(tmp_path, monkeypatch):
    monkeypatch.setenv("KATA_DB", str(tmp_path / "db.sqlite3"))
    assert cli.main(["notebook", KATA.id, "--out", str(tmp_path)]) == 0
    return nbformat.read(tmp_path / f"{KATA.id}.ipynb", as_version=4)


def test_the_notebook_holds_the_prompt_the_tasks_and_a_check_after_each(notebook):
    sources = [c.source for c in notebook.cells]
    assert notebook.cells[0].cell_type == "markdown" and sources[0] == KATA.prompt_path.read_text()
    assert "%load_ext harness" in sources
    checks = [s for s in sources if s.startswith("%kata check")]
    assert checks == [f"%kata check {KATA.id} {name}" for name in ("init_params", "forward", "bce_loss", "backward", "train")]
    assert notebook.metadata["kata"] == {"id": KATA.id, "module": KATA.module}


def test_an_existing_notebook_is_kept_as_a_backup(notebook, tmp_path, capsys):
    path = tmp_path / f"{KATA.id}.ipynb"
    path.write_text(path.read_text().replace("%load_ext harness", "%load_ext harness  # my edit"))
    before = path.read_text()
    assert cli.main(["notebook", KATA.id, "--out", str(tmp_path)]) == 0
    (backup,) = tmp_path.glob("*.ipynb.bak")
    assert backup.read_text() == before and f"kept as {backup}" in capsys.readouterr().out


def test_the_reference_pasted_into_the_cells_passes_in_a_real_kernel(notebook, tmp_path):
    done = run(pasted(notebook, solution_source(KATA.id)), tmp_path)
    outputs = html_outputs(done)
    assert len(outputs) == 5, outputs
    # Each check grades what the session has defined so far: the tasks still stubs fail, so the points grow.
    assert [re.search(r"</b> (\d+)/20", html)[1] for html in outputs] == ["3", "5", "7", "17", "20"]
    assert "<b style='color:#2b8a3e'>PASS</b> <b>02_backprop</b> 20/20" in outputs[-1]
    rows = re.findall(r"font-weight:bold'>(\w+)</td><td><code>([\w\[\]]+)</code>", outputs[0])
    assert rows[:3] == [("PASS", "test_init_params_keys_and_shapes"), ("PASS", "test_init_params_is_seeded"), ("PASS", "test_init_params_breaks_symmetry")]
    assert not (tmp_path / ".hypothesis").exists()  # nothing of the grader's left beside the notebook


def test_a_classic_mistake_is_named_in_the_html(notebook, tmp_path):
    mistake = catalog.load(KATA.id).mistake("batch_mean")
    done = run(pasted(notebook, mistake.source()), tmp_path)
    last = html_outputs(done)[-1]
    assert "FAIL</b> <b>02_backprop</b>" in last
    assert f"<b>Likely mistake: {split_diagnosis(mistake.diagnosis)[0]}" in last.replace("&#x27;", "'")  # what, not yet why
    # The backward task's own checks come first in its check cell.
    backward = html_outputs(done)[3]
    assert backward.index("test_backward_matches_torch") < backward.index("test_init_params")


def test_magics_shell_escapes_and_the_harness_are_left_out_with_a_note():
    module = cells.from_cells(["%%time\nx = 1", "%matplotlib inline\nimport numpy as np\n!pip install nothing", "import harness\nharness.check('02_backprop')\ny = 2"])
    assert module.notes == [
        "cell 1: a cell magic (%%time); the cell is left out",
        "cell 2, line 1: a line magic (%matplotlib inline) is left out",
        "cell 2, line 3: a shell escape (!pip install nothing) is left out",
        "cell 3, line 1: `import harness` uses the harness, which your graded file cannot; left out",
        "cell 3, line 2: `harness.check('02_backprop')` uses the harness, which your graded file cannot; left out",
    ]
    compile(module.source, "exported.py", "exec")  # still valid Python
    assert "import numpy as np" in module.source and "y = 2" in module.source and "x = 1" not in module.source


def test_a_note_shows_control_characters_as_escapes_and_lines_break_where_python_breaks_them():
    module = cells.from_cells(["%matplotlib inline \x1b[2J\x1b]0;title\x07\nx = 'a\u2028b'\ny = 1"])
    assert module.notes == ["cell 1, line 1: a line magic (%matplotlib inline \\x1b[2J\\x1b]0;title\\x07) is left out"]
    namespace = {}
    exec(compile(module.source, "exported.py", "exec"), namespace)
    assert namespace["x"] == "a\u2028b" and namespace["y"] == 1


BROKEN = {
    "truncated": ('{"cells": [', "is not a readable notebook (JSONDecodeError"),
    "a_number_as_a_cell": ('{"cells": [1]}', "is not a notebook: its cell 1 is not a cell"),
    "a_number_as_source": ('{"cells": [{"cell_type": "code", "source": 5}]}', "is not a notebook: the source of its cell 1 is not text"),
    "nested_deep": ("[" * 100_000 + "]" * 100_000, "is not a readable notebook (RecursionError"),
    "no_cells": ('{"metadata": {}}', "is not a notebook: it has no list of cells"),
}


@pytest.mark.parametrize("name", BROKEN)
def test_a_broken_notebook_is_one_sentence(tmp_path, name):
    text, says = BROKEN[name]
    (tmp_path / "nb.ipynb").write_text(text)
    with pytest.raises(cells.NotebookError, match=re.escape(says)):
        cells.read(tmp_path / "nb.ipynb")


def test_a_notebook_of_gigabytes_is_one_sentence_and_never_read(tmp_path):
    with (tmp_path / "nb.ipynb").open("wb") as fh:
        fh.truncate(6 * 2**30)  # sparse: no disk taken, 6 GiB to whoever reads it
    with pytest.raises(cells.NotebookError, match=re.escape("is 6,442,450,944 bytes: more than the 67,108,864 a notebook may be")):
        cells.read(tmp_path / "nb.ipynb")


def test_broken_notebooks_in_a_batch_leave_the_class_graded(tmp_path):
    subs = tmp_path / "subs"
    for name, (text, _) in BROKEN.items():
        (subs / name).mkdir(parents=True)
        (subs / name / f"{KATA.id}.ipynb").write_text(text)
    (subs / "good" / KATA.id).mkdir(parents=True)
    (subs / "good" / KATA.id / KATA.filename).write_text(solution_source(KATA.id))
    graded = {g.learner: g for g in batch.grade_all(subs, [KATA], workers=2)}
    for name, (_, says) in BROKEN.items():
        assert says in graded[name].error and graded[name].score == 0
    assert graded["good"].score == graded["good"].max_score == 20


def test_a_session_keeps_its_definitions_in_the_order_they_ran():
    history = ["", "import numpy as np", "def f(x):\n    return 1", "print(f(2))\nparams = train()", "def f(x):\n    return 2", "def broken(:"]
    source = cells.from_cells(history, definitions_only=True).source
    assert "print" not in source and "broken" not in source and "params = train()" in source
    namespace = {}
    exec(compile(source.replace("params = train()", ""), "s", "exec"), namespace)
    assert namespace["f"](0) == 2


def test_kata_grade_takes_a_notebook(notebook, tmp_path, capsys):
    path = tmp_path / "mine.ipynb"
    nbformat.write(pasted(notebook, solution_source(KATA.id)), path)
    assert cli.main(["grade", KATA.id, "--impl", str(path), "--format", "json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)["katas"]
    assert (result["id"], result["status"], result["score"]) == (KATA.id, "pass", 20)
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code" and not c.source.startswith("%"))
    first.source = "%matplotlib inline\n" + first.source
    nb.metadata["kata"] = {"id": KATA.id}
    nbformat.write(nb, path)
    assert cli.main(["grade", "--impl", str(path)]) == 0  # the kata read from the notebook's metadata
    assert "a line magic (%matplotlib inline) is left out" in capsys.readouterr().err


def test_batch_grades_a_notebook_submission(notebook, tmp_path):
    learner = tmp_path / "subs" / "ada"
    learner.mkdir(parents=True)
    nbformat.write(pasted(notebook, solution_source(KATA.id)), learner / f"{KATA.id}.ipynb")
    (graded,) = batch.grade_all(tmp_path / "subs", [KATA], workers=1)
    assert graded.results[0].score == graded.results[0].max_score == 20


def test_the_ipython_terminal_shows_the_text_form(tmp_path):
    import sys

    import pexpect

    ipython = str(Path(sys.executable).with_name("ipython"))
    env = {**os.environ, "KATA_DB": str(tmp_path / "db.sqlite3"), "TERM": "dumb"}
    child = pexpect.spawn(ipython, ["--simple-prompt", "--no-autoindent", "--colors=NoColor"], cwd=str(tmp_path), env=env, encoding="utf-8", timeout=120)
    try:
        child.expect(r"In \[1\]: ")
        child.sendline("%load_ext harness")
        child.expect(r"In \[2\]: ")
        child.sendline("import numpy as np")
        child.expect(r"In \[3\]: ")
        child.sendline("def cubic_grad(x): return 3 * x**2 + 2")
        child.expect(r"In \[4\]: ")
        child.sendline("%kata check 01_chain_rule cubic_grad")
        child.expect(r"In \[5\]: ")
        shown = child.before
    finally:
        child.terminate(force=True)
    assert "FAIL  01_chain_rule" in shown and "this session (chain_rule.py)" in shown, shown
    # cubic_grad's two checks pass, and its half point in extended precision
    assert "FAIL  01_chain_rule  2.5/13.5" in shown and "test_cubic_grad" not in shown
    assert "your session has no sin_square_grad: the spec uses sin_square_grad" in shown
    assert "<table" not in shown
