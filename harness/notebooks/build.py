"""`kata notebook [ID ...] [--out DIR]`: a practice notebook per kata.

The prompt as Markdown, `%load_ext harness`, then the stub as code cells, one per task banner at the
top level (`# --- Task 02.3: loss`), each followed by a check cell: `%kata check 02_backprop bce_loss`
grades everything the session defined, in the learner's jailed process like any grade, and shows the
checks of that task first. An existing notebook is never overwritten without a backup beside it.
"""

from __future__ import annotations

import ast
import re
import time
from pathlib import Path

from harness.grading import registry

DEFAULT_OUT = registry.REPO_ROOT / "notebooks"
BANNER = re.compile(r"^# --- Task ", re.MULTILINE)  # top-level banners only: kata 03's class stays whole


def chunks(stub: str) -> list[str]:
    """The stub cut before each top-level task banner: the preamble (docstring, imports), then each task."""
    starts = [0] + [m.start() for m in BANNER.finditer(stub)]
    return [stub[a:b].strip("\n") + "\n" for a, b in zip(starts, starts[1:] + [len(stub)]) if stub[a:b].strip()]


def defined(chunk: str) -> list[str]:
    try:
        tree = ast.parse(chunk)
    except SyntaxError:
        return []
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]


def notebook(kata: registry.Kata):
    import nbformat.v4 as nbf

    cells = [
        nbf.new_markdown_cell(kata.prompt_path.read_text()),
        nbf.new_markdown_cell(
            "Fill in each task's cell and run the check cell after it: it grades every function this"
            " session has defined, exactly as `kata grade` grades a file, and shows that task's checks first."
            f" `%kata hint {kata.id}` gives a hint; `%kata history` your past grades."
        ),
        nbf.new_code_cell("%load_ext harness"),
    ]
    for chunk in chunks(kata.pristine_path.read_text()):
        names = defined(chunk)
        cells.append(nbf.new_code_cell(chunk.rstrip("\n")))
        if names:
            cells.append(nbf.new_code_cell(f"%kata check {kata.id} {' '.join(names)}"))
    nb = nbf.new_notebook(cells=cells)
    nb.metadata["kata"] = {"id": kata.id, "module": kata.module}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def write(katas: list[registry.Kata], out: Path | None = None) -> list[tuple[Path, Path | None]]:
    """Each kata's notebook as out/<id>.ipynb; (path, backup) pairs, backup None when nothing was there."""
    import nbformat

    out = out or DEFAULT_OUT
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kata in katas:
        path = out / f"{kata.id}.ipynb"
        backup = None
        if path.exists():
            stamp, n = time.strftime("%Y%m%d-%H%M%S"), 1
            backup = path.with_name(f"{path.stem}.{stamp}.ipynb.bak")
            while backup.exists():  # two in the same second: never one backup over another
                n += 1
                backup = path.with_name(f"{path.stem}.{stamp}-{n}.ipynb.bak")
            path.rename(backup)
        nbformat.write(notebook(kata), path)
        written.append((path, backup))
    return written
