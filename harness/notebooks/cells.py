"""From notebook cells to the one Python file the grader takes: the same file, the same jail, the same spec.

A notebook's code cells are exported in order, each under a `# --- cell N` line so that a traceback's
line leads back to its cell. What only IPython understands is left out, each with a note the learner
reads: a cell magic (`%%time`) drops its cell, a line magic (`%matplotlib`) or a shell escape (`!pip`)
its line (replaced by `pass`, so an indented block stays valid). So are the lines that call the
harness itself (`import harness`, `harness.check(...)`): the learner's process has no harness.

From a live session (`%kata check`, `harness.check`) only the definitions are kept: imports,
functions, classes and assignments, in the order they ran, so that the last definition of a name
wins as it does in the session, while exploratory calls (a print, a plot, a training run) are not
replayed in the grader.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from harness.grading import registry
from harness.grading.text import visible

MAGIC = re.compile(r"^(\s*)([%!])")
LINE_BREAK = re.compile(r"\r\n|\r|\n")  # Python's own, not str.splitlines' (which also breaks at U+2028, \x0c, ...)
MAX_NOTEBOOK_BYTES = 2**26  # 64 MiB: outputs (plots) make a notebook far bigger than its code
DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)


class NotebookError(ValueError):
    """A notebook that cannot be read; the message names the file and the problem."""


@dataclass
class Module:
    """The file made from the cells, and what was left out of it, in the learner's words."""

    source: str = ""
    notes: list[str] = field(default_factory=list)


def from_cells(cells: list[str], *, definitions_only: bool = False) -> Module:
    module = Module()
    parts, futures = [], []
    for number, cell in enumerate(cells, 1):
        text = _without_magics(cell, number, module.notes)
        if text is None or not text.strip():
            continue
        text = _without_harness(text, number, module.notes, definitions_only, futures)
        if text.strip():
            parts.append(f"# --- cell {number}\n{text.rstrip()}\n")
    header = "".join(f"# left out: {note}\n" for note in module.notes)  # travels with the file (batch, Gradescope)
    # A cell's `from __future__ import ...` must open the file: each is moved there, once.
    module.source = "".join(dict.fromkeys(futures)) + header + "\n".join(parts)
    return module


def _without_magics(cell: str, number: int, notes: list[str]) -> str | None:
    if cell.lstrip().startswith("%%"):
        notes.append(f"cell {number}: a cell magic ({visible(_lines(cell.lstrip())[0])}); the cell is left out")
        return None
    lines = []
    for line_number, line in enumerate(_lines(cell), 1):
        match = MAGIC.match(line)
        if match:
            kind = "a line magic" if match[2] == "%" else "a shell escape"
            notes.append(f"cell {number}, line {line_number}: {kind} ({visible(line.strip())}) is left out")
            line = f"{match[1]}pass"
        lines.append(line)
    return "\n".join(lines)


def _without_harness(text: str, number: int, notes: list[str], definitions_only: bool, futures: list[str]) -> str:
    """The cell without its top-level statements that use the harness (or, from a session, that are not
    definitions). A cell that does not parse is kept as it is: the grade shows Python's own message."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return "" if definitions_only else text  # a session ran no definition of a cell that did not parse
    lines = _lines(text)
    dropped = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            futures.append(ast.get_source_segment(text, node) + "\n")
            dropped.append(node)
            continue
        uses_harness = any(isinstance(n, ast.Name) and n.id == "harness" or isinstance(n, (ast.Import, ast.ImportFrom)) and _imports_harness(n)
                           for n in ast.walk(node))  # fmt: skip
        if uses_harness and not definitions_only:
            notes.append(f"cell {number}, line {node.lineno}: `{visible(lines[node.lineno - 1].strip())}` uses the harness, which your graded file cannot; left out")
        if uses_harness or (definitions_only and not isinstance(node, DEFINITIONS)):
            dropped.append(node)
    for node in reversed(dropped):
        indent = re.match(r"\s*", lines[node.lineno - 1])[0]
        lines[node.lineno - 1 : node.end_lineno] = [f"{indent}pass"] + [""] * (node.end_lineno - node.lineno)
    return "\n".join(lines)


def _imports_harness(node: ast.Import | ast.ImportFrom) -> bool:
    names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
    return any(name == "harness" or name.startswith("harness.") for name in names)


def _lines(text: str) -> list[str]:
    return LINE_BREAK.split(text)


def read(path: Path) -> tuple[list[str], dict]:
    """A notebook file's code cells (as text) and its metadata; a file that is not a notebook (bad
    JSON, or cells that are not nbformat's) is a NotebookError that names the file and what is wrong."""
    shown = registry.shown_path(path)
    try:
        if (size := path.stat().st_size) > MAX_NOTEBOOK_BYTES:  # asked before reading: a sparse file takes no disk
            raise NotebookError(f"{shown} is {size:,} bytes: more than the {MAX_NOTEBOOK_BYTES:,} a notebook may be")
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise NotebookError(f"{shown} is not a readable notebook ({type(exc).__name__}: {visible(str(exc))[:200]})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookError(f"{shown} is not a notebook: it has no list of cells")
    metadata = data.get("metadata")
    sources = []
    for number, cell in enumerate(data["cells"], 1):
        if not isinstance(cell, dict):
            raise NotebookError(f"{shown} is not a notebook: its cell {number} is not a cell")
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source")
        if isinstance(source, list) and all(isinstance(part, str) for part in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotebookError(f"{shown} is not a notebook: the source of its cell {number} is not text")
        sources.append(source)
    return sources, metadata if isinstance(metadata, dict) else {}


def kata_of(path: Path, metadata: dict) -> registry.Kata | None:
    """The kata a notebook is for: its metadata (notebooks made by `kata notebook`), else its name."""
    wanted = (metadata.get("kata") or {}).get("id") if isinstance(metadata.get("kata"), dict) else None
    for kata in registry.katas():
        if wanted == kata.id or path.stem in (kata.id, kata.module):
            return kata
    return None


def export(path: Path, kata: registry.Kata, into: Path) -> Module:
    """Write the notebook's code as into/<kata id>/<module>.py, laid out like katas/, and return it."""
    cells, _ = read(path)
    module = from_cells(cells)
    lay_out(module, kata, into)
    return module


def lay_out(module: Module, kata: registry.Kata, into: Path) -> Path:
    """The module as into/<kata id>/<module>.py, the layout every grade reads."""
    target = kata.learner_file(into)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(module.source)
    return target


def notebook_submissions(root: Path) -> dict[registry.Kata, Path]:
    """The notebooks a submission folder holds where a kata's .py is missing: <id>/<module>.ipynb,
    <id>/<id>.ipynb, <id>.ipynb or <module>.ipynb."""
    found = {}
    for kata in registry.katas():
        if kata.learner_file(root).is_file():
            continue
        for candidate in (root / kata.id / f"{kata.module}.ipynb", root / kata.id / f"{kata.id}.ipynb",
                          root / f"{kata.id}.ipynb", root / f"{kata.module}.ipynb"):  # fmt: skip
            if candidate.is_file():
                found[kata] = candidate
                break
    return found


def with_notebooks_exported(root: Path, staging: Path) -> tuple[Path, list[str]]:
    """root itself when it holds no notebook; else a copy in staging where each kata's notebook is
    its .py, and the notes on what was left out of each."""
    found = notebook_submissions(root)
    if not found:
        return root, []
    notes = []
    for kata in registry.katas():
        if kata.learner_file(root).is_file():
            target = kata.learner_file(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(kata.learner_file(root).read_bytes())
        elif kata in found:
            module = export(found[kata], kata, staging)
            notes += [f"{found[kata].name}: {note}" for note in module.notes]
    return staging, notes


if __name__ == "__main__":  # Gradescope's run_autograder: python -m harness.notebooks.cells NOTEBOOK KATA_ID STAGE
    import sys

    for note in export(Path(sys.argv[1]), registry.get(sys.argv[2]), Path(sys.argv[3])).notes:
        print(f"{Path(sys.argv[1]).name}: {note}")
