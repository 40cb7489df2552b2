"""The katas are "by hand": the learner's code may not use autodiff, nor reach into the grader.

Two layers: a source check here before the file runs (imports of banned modules, named with their
line), and the learner's process itself, where these modules cannot be imported by any spelling
(harness/jail/child.py refuses them before the learner's code runs; in the bubblewrap jail they are
not even on its filesystem).
"""

from __future__ import annotations

import ast

# Autodiff libraries, and the grader itself (its oracle is not the learner's to call or change).
BANNED = ("torch", "jax", "jaxlib", "tensorflow", "autograd", "mxnet", "paddle", "functorch", "harness")


def _banned(module: str | None) -> str | None:
    root = (module or "").split(".")[0]
    return root if root in BANNED else None


def scan_source(source: str | bytes, filename: str) -> list[tuple[int, str, str]]:
    """(line, module, source line) for every import of a banned module in the file."""
    lines = (source.decode("utf-8-sig", "replace") if isinstance(source, bytes) else source).splitlines()
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        elif isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
            called = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            if called in ("__import__", "import_module") and node.args and isinstance(node.args[0], ast.Constant):
                names = [str(node.args[0].value)]
        for name in names:
            if _banned(name):
                found.append((node.lineno, _banned(name), lines[node.lineno - 1].strip()))
    return found


def message(path: str, line: int, module: str, text: str) -> str:
    return (
        f"{path}, line {line}: `{text}` uses {module}. These katas are by hand: work the derivatives"
        f" out yourself (in plain Python, NumPy, or sympy where the kata asks for it), not with {module}."
    )
