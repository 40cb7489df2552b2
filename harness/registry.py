"""The kata registry: `katas.toml` parsed into `Kata` records, and every path derived from them."""

from __future__ import annotations

import ast
import os
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
REGISTRY_FILE = Path(__file__).with_name("katas.toml")
SPECS_DIR = Path(__file__).with_name("specs")
STUBS_DIR = Path(__file__).with_name("stubs")
WORKSPACE = REPO_ROOT / "katas"  # the learner's files; the prompts (README.md) live beside them


@dataclass(frozen=True)
class Kata:
    """One kata as declared in katas.toml."""

    id: str
    title: str
    module: str
    minutes: int
    hints: tuple[str, ...]
    weights: dict[str, float] = field(default_factory=dict, hash=False)

    @property
    def filename(self) -> str:
        return f"{self.module}.py"

    @property
    def spec_path(self) -> Path:
        return SPECS_DIR / f"spec_{self.module}.py"

    def learner_file(self, root: Path | None = None) -> Path:
        """The learner's file for this kata under a folder laid out like katas/ (default: katas/)."""
        return (root if root is not None else WORKSPACE) / self.id / self.filename

    @property
    def pristine_path(self) -> Path:
        """The untouched stub, copied into katas/ when missing and by `kata reset`."""
        return STUBS_DIR / self.id / self.filename

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
    """katas.toml is malformed; the message names the entry and the field."""


@cache
def katas() -> tuple[Kata, ...]:
    """All katas, in registry order."""
    with REGISTRY_FILE.open("rb") as fh:
        data = tomllib.load(fh)
    entries = data.get("kata", [])
    result = []
    for index, entry in enumerate(entries):
        where = f"{REGISTRY_FILE.name}: [[kata]] #{index + 1}"
        missing = {"id", "title", "module", "minutes", "hints"} - entry.keys()
        if missing:
            raise RegistryError(f"{where} is missing {', '.join(sorted(missing))}")
        result.append(
            Kata(
                id=entry["id"],
                title=entry["title"],
                module=entry["module"],
                minutes=int(entry["minutes"]),
                hints=tuple(entry["hints"]),
                weights={k: float(v) for k, v in entry.get("weights", {}).items()},
            )
        )
    ids = [k.id for k in result]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise RegistryError(f"{REGISTRY_FILE.name}: duplicate kata id {', '.join(sorted(duplicates))}")
    return tuple(result)


def get(kata_id: str) -> Kata:
    """The kata with this id; a KeyError that lists the valid ids otherwise."""
    for kata in katas():
        if kata.id == kata_id:
            return kata
    raise KeyError(f"no kata {kata_id!r}; the katas are: {', '.join(k.id for k in katas())}")


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
