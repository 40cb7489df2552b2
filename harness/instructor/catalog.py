"""Catalogs of classic mistakes and of correct variants, one per kata pack: harness/packs/<module>/catalog.toml.

A catalog is data, not copies of files: each entry says how to turn the kata's reference solution
(solutions/<kata id>/<module>.py) into another complete implementation.

    [[mistake]]                     # a realistic slip: the spec must fail it AND name it
    id = "batch_mean"               # the Diagnosis id the kata's diagnoses report for it
    title = "gradients not averaged over the batch"
    replace = [["dZ2 = (A2 - y) / n", "dZ2 = A2 - y"]]      # (old, new) pairs, applied in order

    [[variant]]                     # a correct answer written differently: it must pass, unnamed
    id = "per_sample_loops"
    title = "forward, loss and backward one sample at a time"
    file = "per_sample_loops.py"    # instead of replace: a whole file, the pack's variants/<file>

Every entry has `id`, `title` and exactly one of `replace` (each `old` must occur exactly once in
the text it is applied to, so an edit of the reference cannot silently change what an entry means)
or `file`. What the learner reads when a mistake is named (one or two sentences naming the slip)
is its `diagnosis`, kept in the pack's kata.toml [diagnoses] under the same id: the grader needs
the words, never how to make the mistake. Ids are unique within a catalog. verify.py proves every
entry against the spec and that every mistake has its words.

Catalogs and variants are answers (or answers with one slip): they serve `kata verify` from a
checkout and travel in neither the wheel nor the Gradescope bundle (pyproject.toml's package-data
and gradescope.py leave them out).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from harness.grading import registry

CATALOG_FILE, VARIANTS = "catalog.toml", "variants"  # in each pack, in a checkout only (see above)
MISTAKE, VARIANT = "mistake", "variant"


class CatalogError(ValueError):
    """A catalog is malformed, or an entry no longer applies to the reference; the message names it."""


@dataclass(frozen=True)
class Entry:
    """One mistake or variant: how to make it from the reference."""

    kata_id: str
    kind: str  # MISTAKE or VARIANT
    id: str
    title: str
    diagnosis: str | None  # mistakes only
    replace: tuple[tuple[str, str], ...] = ()
    file: Path | None = None

    @property
    def where(self) -> str:
        return f"{self.kata_id}.toml: [[{self.kind}]] {self.id!r}"

    def source(self) -> str:
        """The complete implementation this entry describes."""
        if self.file is not None:
            if not self.file.is_file():
                raise CatalogError(f"{self.where}: there is no file {self.file}")
            return self.file.read_text()
        text = registry.get(self.kata_id).solution_path.read_text()
        for old, new in self.replace:
            count = text.count(old)
            if count != 1:
                raise CatalogError(f"{self.where}: {old!r} occurs {count} times in the reference, not exactly once.")
            text = text.replace(old, new)
        return text


@dataclass(frozen=True)
class Catalog:
    kata_id: str
    mistakes: tuple[Entry, ...]
    variants: tuple[Entry, ...]

    @property
    def entries(self) -> tuple[Entry, ...]:
        return self.mistakes + self.variants

    def mistake(self, mistake_id: str) -> Entry:
        for entry in self.mistakes:
            if entry.id == mistake_id:
                return entry
        raise KeyError(f"{self.kata_id}.toml has no mistake {mistake_id!r}")


def path(kata_id: str) -> Path:
    return registry.get(kata_id).pack / CATALOG_FILE


def kata_ids() -> list[str]:
    """The katas that have a catalog, in registry order."""
    return [kata.id for kata in registry.katas() if path(kata.id).is_file()]


def _entry(kata_id: str, kind: str, raw: dict, index: int) -> Entry:
    where = f"{kata_id}.toml: [[{kind}]] #{index + 1}"
    required = {"id", "title"}
    missing = required - raw.keys()
    if missing:
        raise CatalogError(f"{where} is missing {', '.join(sorted(missing))}")
    if ("replace" in raw) == ("file" in raw):
        raise CatalogError(f"{where} ({raw['id']!r}) needs exactly one of `replace` and `file`")
    pairs = raw.get("replace", [])
    well_formed = all(isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) for s in p) for p in pairs)
    if "replace" in raw and not (pairs and well_formed):
        raise CatalogError(f"{where} ({raw['id']!r}): `replace` must be a non-empty list of [old, new] strings")
    # Checked by source(), not here: the grader loads the catalog for its diagnoses where no variant is installed.
    kata = registry.get(kata_id)
    file = kata.pack / VARIANTS / raw["file"] if "file" in raw else None
    diagnosis = kata.diagnoses.get(raw["id"]) if kind == MISTAKE else None
    if kind == MISTAKE and diagnosis is None:
        raise CatalogError(f"{where} ({raw['id']!r}) has no words for the learner: add it to {kata.module}/kata.toml [diagnoses]")
    return Entry(kata_id, kind, raw["id"], raw["title"], diagnosis, tuple(map(tuple, pairs)), file)


@cache
def load(kata_id: str) -> Catalog:
    """The kata's catalog, checked for shape (not yet against the spec: that is harness/instructor/verify.py)."""
    with path(kata_id).open("rb") as fh:
        data = tomllib.load(fh)
    entries = {kind: tuple(_entry(kata_id, kind, raw, i) for i, raw in enumerate(data.get(kind, []))) for kind in (MISTAKE, VARIANT)}
    ids = [entry.id for kind_entries in entries.values() for entry in kind_entries]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CatalogError(f"{kata_id}.toml: duplicate id {', '.join(duplicates)}")
    unused = sorted(set(registry.get(kata_id).diagnoses) - {entry.id for entry in entries[MISTAKE]})
    if unused:
        raise CatalogError(f"{kata_id}: kata.toml [diagnoses] has words for no mistake of the catalog: {', '.join(unused)}")
    return Catalog(kata_id, entries[MISTAKE], entries[VARIANT])
