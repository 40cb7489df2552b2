"""The kata registry: every kata pack's `kata.toml` parsed into a `Kata`, and every path derived from it.

A kata pack is one folder, harness/packs/<module>/, named after the learner's module:
  kata.toml     the registry entry (id, title, module, minutes, hints, task_hints, weights, diagnosis
                texts, and which functions are symbolic: in all others sympy may not differentiate)
                hints: a few short general ones; [task_hints]: per stub function (or class), a nudge,
                the concept, then the shape of the formula (which says it reveals the answer)
  spec.py       the hidden pytest + hypothesis spec;  oracle.py  the same computation in torch
  diagnoses.py  naming mistakes from the numbers (a kata may keep them in its spec instead)
  stub/<module>.py  the pristine stub, copied to katas/<id>/ for the learner
  catalog.toml, variants/  classic mistakes and correct variants, for `kata verify` (checkout only)
  questions.toml  optional: the kata's own conceptual follow-ups ([[question]] id, question, answer),
                asked in a mock that includes the kata before the general ones
kata.toml's optional `picture` names the module that `kata draw ID` calls: draw(impl_root, out_dir,
*, renderer, seconds) -> the files written, raising harness.pictures.DrawError in the learner's terms.
The prompt is katas/<id>/README.md and the reference solutions/<id>/<module>.py.
"""

from __future__ import annotations

import ast
import os
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
PACKS_DIR = REPO_ROOT / "harness" / "packs"
PACK_FILE = "kata.toml"
WORKSPACE = REPO_ROOT / "katas"  # the learner's files; the prompts (README.md) live beside them


@dataclass(frozen=True)
class Kata:
    """One kata as its pack's kata.toml declares it."""

    id: str
    title: str
    module: str
    minutes: int
    hints: tuple[str, ...]
    task_hints: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)  # stub name -> its hints, gentlest first
    weights: dict[str, float] = field(default_factory=dict, hash=False)
    diagnoses: dict[str, str] = field(default_factory=dict, hash=False)  # mistake id -> what the learner reads
    symbolic: tuple[str, ...] = ()  # the functions that may differentiate with sympy; in the others it is refused
    picture: str | None = None  # the module `kata draw ID` calls, if the kata has a picture

    @property
    def pack(self) -> Path:
        return PACKS_DIR / self.module

    @property
    def spec_module(self) -> str:
        return f"harness.packs.{self.module}.spec"

    @property
    def filename(self) -> str:
        return f"{self.module}.py"

    @property
    def questions_path(self) -> Path:
        return self.pack / "questions.toml"

    @property
    def spec_path(self) -> Path:
        return self.pack / "spec.py"

    def learner_file(self, root: Path | None = None) -> Path:
        """The learner's file for this kata under a folder laid out like katas/ (default: katas/)."""
        return (root if root is not None else WORKSPACE) / self.id / self.filename

    @property
    def pristine_path(self) -> Path:
        """The untouched stub, copied into katas/ when missing and by `kata reset`."""
        return self.pack / "stub" / self.filename

    @property
    def callables(self) -> frozenset[str]:
        """The functions and classes the stub defines at its top level: what the spec will call."""
        return _defined(self.pristine_path)

    @property
    def solution_path(self) -> Path:
        return REPO_ROOT / "solutions" / self.id / self.filename

    @property
    def prompt_path(self) -> Path:
        return WORKSPACE / self.id / "README.md"

    def weight(self, test_name: str) -> float:
        """Points for one spec test; parametrized cases share their function's weight."""
        return self.weights.get(test_name.split("[", 1)[0], 1.0)


class RegistryError(ValueError):
    """A pack's kata.toml is malformed; the message names the file and the field."""


@cache
def katas() -> tuple[Kata, ...]:
    """All katas, ordered by id (the ids begin with their number)."""
    result = [_kata(path) for path in sorted(PACKS_DIR.glob(f"*/{PACK_FILE}"))]
    ids = [k.id for k in result]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise RegistryError(f"{PACKS_DIR}: two packs declare kata id {', '.join(sorted(duplicates))}")
    return tuple(sorted(result, key=lambda k: k.id))


def _kata(path: Path) -> Kata:
    where = shown_path(path)
    try:
        with path.open("rb") as fh:
            entry = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{where}: {exc}") from None
    missing = {"id", "title", "module", "minutes", "hints"} - entry.keys()
    if missing:
        raise RegistryError(f"{where} is missing {', '.join(sorted(missing))}")
    if entry["module"] != path.parent.name:
        raise RegistryError(f"{where}: module = {entry['module']!r}, but the pack's folder is {path.parent.name!r}")
    return Kata(
        id=entry["id"],
        title=entry["title"],
        module=entry["module"],
        minutes=int(entry["minutes"]),
        hints=tuple(entry["hints"]),
        task_hints={str(k): tuple(v) for k, v in entry.get("task_hints", {}).items()},
        weights={k: float(v) for k, v in entry.get("weights", {}).items()},
        diagnoses={str(k): str(v) for k, v in entry.get("diagnoses", {}).items()},
        symbolic=tuple(entry.get("symbolic", ())),
        picture=entry.get("picture"),
    )


def get(kata_id: str) -> Kata:
    """The kata with this id, or the one kata whose id starts with it (`02` is 02_backprop);
    a KeyError that lists the valid ids otherwise."""
    every = katas()
    for kata in every:
        if kata.id == kata_id:
            return kata
    matches = [k for k in every if kata_id and k.id.startswith(kata_id)]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(k.id for k in every)
    if matches:
        raise KeyError(f"{kata_id!r} could be {' or '.join(k.id for k in matches)}; the katas are: {known}")
    raise KeyError(f"no kata {kata_id!r}; the katas are: {known}")


@cache
def _defined(stub: Path) -> frozenset[str]:
    tree = ast.parse(stub.read_text(), str(stub))
    return frozenset(n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)))


def shown_path(path: Path | str) -> str:
    """A path as the learner should read it: relative to the current folder or the repo when inside.
    Links are not followed: a message about a link names the link, not where it points."""
    path = Path(os.path.abspath(path))
    for base in (Path.cwd(), REPO_ROOT):
        try:
            return str(path.relative_to(base))
        except ValueError:
            continue
    return str(path)
