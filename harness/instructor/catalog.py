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

A pack may also hold a blind corpus, blind.toml with its files in blind/: learner answers written
from the prompt and stub alone by someone who never read the spec, the catalog or the reference. It
measures whether the grader generalises past the catalog it was built on. Same format, every entry a
`file` (in blind/), and each mistake lists the catalog ids that name it rightly (none: no catalog name
fits, and any name shown for it is a wrong one):

    [[mistake]]
    id = "adds_instead_of_multiplying"
    title = "compose_grad returns f'(g(x)) + g'(x)"
    file = "compose_add.py"
    names = ["chain_sum"]

Catalogs, corpora and variants are answers (or answers with one slip): they serve `kata verify` from a
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
BLIND_FILE, BLIND = "blind.toml", "blind"  # the corpus written from the prompt alone, same places
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
    names: tuple[str, ...] = ()  # mistakes: the diagnosis ids that name it rightly (a catalog mistake: its own id)
    corpus: str = CATALOG_FILE  # the file it comes from: CATALOG_FILE or BLIND_FILE

    @property
    def where(self) -> str:
        return f"{self.kata_id}/{self.corpus}: [[{self.kind}]] {self.id!r}" if self.corpus == BLIND_FILE else f"{self.kata_id}.toml: [[{self.kind}]] {self.id!r}"

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


def blind_path(kata_id: str) -> Path:
    return registry.get(kata_id).pack / BLIND_FILE


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
    return Entry(kata_id, kind, raw["id"], raw["title"], diagnosis, tuple(map(tuple, pairs)), file, (raw["id"],) * (kind == MISTAKE))


def _blind_entry(kata_id: str, kind: str, raw: dict, index: int, known: set[str]) -> Entry:
    where = f"{kata_id}/{BLIND_FILE}: [[{kind}]] #{index + 1}"
    missing = {"id", "title", "file"} - raw.keys()
    if missing:
        raise CatalogError(f"{where} is missing {', '.join(sorted(missing))} (a blind entry is a whole file, in {BLIND}/)")
    names = raw.get("names", [])
    if kind == MISTAKE and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        raise CatalogError(f"{where} ({raw['id']!r}): `names` must be a list of catalog mistake ids")
    unknown = sorted(set(names) - known)
    if unknown:
        raise CatalogError(f"{where} ({raw['id']!r}) names {', '.join(unknown)}, which the catalog does not have")
    kata = registry.get(kata_id)
    return Entry(kata_id, kind, raw["id"], raw["title"], None, (), kata.pack / BLIND / raw["file"], tuple(names), BLIND_FILE)


def _parse(kata_id: str, name: str, make) -> Catalog:
    """The entries of one toml file of the pack, each built by make(kind, raw, index); ids unique."""
    with (registry.get(kata_id).pack / name).open("rb") as fh:
        data = tomllib.load(fh)
    entries = {kind: tuple(make(kind, raw, i) for i, raw in enumerate(data.get(kind, []))) for kind in (MISTAKE, VARIANT)}
    ids = [entry.id for kind_entries in entries.values() for entry in kind_entries]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CatalogError(f"{kata_id}/{name}: duplicate id {', '.join(duplicates)}")
    return Catalog(kata_id, entries[MISTAKE], entries[VARIANT])


@cache
def load(kata_id: str) -> Catalog:
    """The kata's catalog, checked for shape (not yet against the spec: that is harness/instructor/verify.py)."""
    result = _parse(kata_id, CATALOG_FILE, lambda kind, raw, i: _entry(kata_id, kind, raw, i))
    unused = sorted(set(registry.get(kata_id).diagnoses) - {entry.id for entry in result.mistakes})
    if unused:
        raise CatalogError(f"{kata_id}: kata.toml [diagnoses] has words for no mistake of the catalog: {', '.join(unused)}")
    return result


@cache
def load_blind(kata_id: str) -> Catalog | None:
    """The kata's blind corpus, or None when it has none."""
    if not blind_path(kata_id).is_file():
        return None
    known = {m.id for m in load(kata_id).mistakes}
    return _parse(kata_id, BLIND_FILE, lambda kind, raw, i: _blind_entry(kata_id, kind, raw, i, known))
