"""The katas are "by hand": the learner's code may not use autodiff, nor reach into the grader.

Two layers: a source check before the file is imported (imports of banned modules, with the line),
and a guard while the learner's code runs, which refuses those imports when the importing code is
the learner's file (catching `__import__("to" + "rch")` and importlib tricks the source check
cannot see).
"""

from __future__ import annotations

import ast
import builtins
import importlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from harness.registry import shown_path

# Autodiff libraries, and the grader itself (its oracle is not the learner's to call or change).
BANNED = ("torch", "jax", "jaxlib", "tensorflow", "autograd", "mxnet", "paddle", "functorch", "harness")


class IntegrityError(ImportError):
    """The learner's code uses something a by-hand kata forbids; the message names the line."""


def _banned(module: str | None) -> str | None:
    root = (module or "").split(".")[0]
    return root if root in BANNED else None


def scan_source(source: str, filename: str) -> list[tuple[int, str, str]]:
    """(line, module, source line) for every import of a banned module in the file."""
    lines = source.splitlines()
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


@contextmanager
def guard(learner_file: Path) -> Iterator[None]:
    """While active, imports of banned modules made from the learner's file raise IntegrityError."""
    target = os.path.realpath(learner_file)
    real_import, real_import_module = builtins.__import__, importlib.import_module

    def from_learner(depth: int) -> int | None:
        frame = sys._getframe(depth)
        while frame is not None:
            if os.path.realpath(frame.f_code.co_filename) == target:
                return frame.f_lineno
            if frame.f_code.co_filename.startswith("<frozen importlib"):
                frame = frame.f_back
                continue
            return None
        return None

    def check(name: str, depth: int) -> None:
        banned = _banned(name)
        line = from_learner(depth) if banned else None
        if line is not None:
            raise IntegrityError(message(shown_path(learner_file), line, banned, f"import {name}"))

    # Depth 3 from from_learner(): past check() and the guarded function, to the code importing.
    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0:
            check(name, 3)
        return real_import(name, globals, locals, fromlist, level)

    def guarded_import_module(name, package=None):
        check(name, 3)
        return real_import_module(name, package)

    builtins.__import__, importlib.import_module = guarded_import, guarded_import_module
    try:
        yield
    finally:
        builtins.__import__, importlib.import_module = real_import, real_import_module


# The grader's own modules and torch's functional ops, which the oracles call: if the learner's code
# swaps any of them out (through sys.modules, say), the verdict can no longer be trusted. (All of
# torch and numpy would be ~3000 names to compare after every check, ~10% of a grade.)
WATCHED_PREFIXES = ("harness.",)
WATCHED_MODULES = ("harness", "torch.nn.functional")


def fingerprint() -> dict[tuple[str, str], int]:
    """(module, attribute) -> identity, for the functions, classes and modules of every watched
    module loaded now (plain data such as caches may change as grading runs)."""
    names = [n for n in list(sys.modules) if n in WATCHED_MODULES or n.startswith(WATCHED_PREFIXES)]
    return {(n, attr): id(value) for n in names if sys.modules.get(n) is not None
            for attr, value in list(vars(sys.modules[n]).items()) if callable(value) or isinstance(value, ModuleType)}  # fmt: skip


def tampered(before: dict[tuple[str, str], int]) -> list[str]:
    """The watched attributes that were replaced or removed since `before` was taken."""
    missing = object()
    return sorted(
        f"{module}.{attr}"
        for (module, attr), ident in before.items()
        if id(vars(sys.modules.get(module, sys)).get(attr, missing)) != ident
    )
