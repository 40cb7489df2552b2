"""Proving each kata's catalog (harness/packs/<module>/catalog.toml): every mistake is caught and named, every variant passes.

Each entry of harness/packs/<module>/catalog.toml (the format is in harness/instructor/catalog.py) is turned
into a complete implementation, written into a temporary folder laid out like katas/, and graded in
this process by runner.grade, exactly as a learner's file is. A mistake must
  (a) fail the kata (be "killed"),
  (b) be named by its own id on at least one failing test, and
  (c) be named by no other catalog id on any test: that would be a misdiagnosis;
a variant, a correct answer written differently, must pass every test, so nothing names it.
The pack's blind corpus (answers written from the prompt alone) is graded the same way and printed
beside it: a mistake there must fail and be named by none but the names it lists; one left unnamed
is counted in its diagnosis rate, since no catalog is complete.

    kata verify [KATA_ID ...]      every kata when none is given
    kata verify -v 02_backprop     also list each mistake's failing tests

first checks each kata's registry promises (lint: files, hints, a failing stub, a passing
reference), then prints a table per catalog with its kill rate and diagnosis rate; exits 1 if
anything fails. It runs from a checkout only: the references and the variants (solutions/) are not
in the installed package.
"""

from __future__ import annotations

import ast

import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness.instructor import catalog
from harness.grading import registry, runner
from harness.grading.results import KataResult, Status, TestResult


@dataclass(frozen=True)
class Outcome:
    """What grading one catalog entry gave, and whether that is what the entry promises."""

    entry: catalog.Entry
    result: KataResult | None  # None when the entry could not even be built (see error)
    error: str | None = None  # a catalog error, or why the kata could not be graded

    @property
    def status(self) -> Status | None:
        return self.result.status if self.result is not None else None

    @property
    def failing(self) -> list[TestResult]:
        return [t for t in self.result.tests if t.status is not Status.PASS] if self.result is not None else []

    @property
    def named(self) -> dict[str, str]:
        """Test name -> the mistake id its failure named."""
        return {t.name: t.mistake for t in self.failing if t.mistake is not None}

    @property
    def killed(self) -> bool:
        return self.status is not None and self.status is not Status.PASS

    @property
    def diagnosed(self) -> bool:
        return bool(set(self.entry.names) & set(self.named.values()))

    @property
    def misdiagnoses(self) -> list[str]:
        """The names a failure showed that do not name this mistake: a wrong name."""
        return sorted(set(self.named.values()) - set(self.entry.names))

    @property
    def problem(self) -> str | None:
        """Why this entry breaks its promise, or None when it keeps it."""
        if self.error is not None:
            return self.error
        if self.entry.kind == catalog.VARIANT:
            if self.status is not Status.PASS:
                return f"the variant fails {', '.join(t.name for t in self.failing)}"
            return None
        if not self.killed:
            return "the mutant survives: every test passes"
        if self.misdiagnoses:
            wrong = ", ".join(f"{test} names {m}" for test, m in self.named.items() if m in self.misdiagnoses)
            return f"misdiagnosed: {wrong}"
        if not self.diagnosed and self.entry.corpus == catalog.CATALOG_FILE:
            return "killed, but no failing test names it"
        return None  # a blind mistake left unnamed is counted in the rates, not a broken promise

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_entry(entry: catalog.Entry) -> Outcome:
    """Grade one entry's implementation with the kata's spec."""
    kata = registry.get(entry.kata_id)
    try:
        source = entry.source()
    except catalog.CatalogError as exc:
        return Outcome(entry, None, error=str(exc))
    with tempfile.TemporaryDirectory(prefix=f"verify-{entry.id}-") as tmp:
        target = kata.learner_file(Path(tmp))
        target.parent.mkdir(parents=True)
        target.write_text(source)
        result = runner.grade(entry.kata_id, Path(tmp))
    error = f"could not be graded: {result.error}" if result.status is Status.ERROR else None
    return Outcome(entry, result, error)


def verify(kata_id: str) -> list[Outcome]:
    """Every mistake and variant of the kata's catalog, graded."""
    return [verify_entry(entry) for entry in catalog.load(kata_id).entries]


def verify_blind(kata_id: str) -> list[Outcome]:
    """Every answer of the kata's blind corpus, graded; none when it has no corpus."""
    corpus = catalog.load_blind(kata_id)
    return [verify_entry(entry) for entry in corpus.entries] if corpus else []


@dataclass(frozen=True)
class Rates:
    """A kata's counts: mistakes killed, mistakes named rightly and by nothing else, named wrongly, variants passing."""

    mistakes: int
    killed: int
    diagnosed: int
    misnamed: int
    variants: int
    variants_passing: int

    @classmethod
    def of(cls, outcomes: list[Outcome]) -> Rates:
        mistakes = [o for o in outcomes if o.entry.kind == catalog.MISTAKE]
        variants = [o for o in outcomes if o.entry.kind == catalog.VARIANT]
        return cls(
            len(mistakes),
            sum(o.killed for o in mistakes),
            sum(o.killed and o.diagnosed and not o.misdiagnoses for o in mistakes),
            sum(bool(o.misdiagnoses) for o in mistakes),
            len(variants),
            sum(o.status is Status.PASS for o in variants),
        )


def _percent(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.0%})" if whole else "0/0"


def report(title: str, outcomes: list[Outcome], *, verbose: bool = False) -> str:
    """The table `kata verify` prints for one kata's catalog or blind corpus."""
    width = max([len(o.entry.id) for o in outcomes] + [8])
    lines = [title, f"  {'entry':<{width}}  {'kind':<7}  {'killed?':<7}  {'diagnosed as':<44}  ok"]
    for o in outcomes:
        if o.entry.kind == catalog.VARIANT:
            killed = "passes" if o.status is Status.PASS else "FAILS"
        else:
            killed = "yes" if o.killed else "NO"
        names = sorted(set(o.named.values()))
        as_ = f"{', '.join(names)} ({len(o.named)} of {len(o.failing)} failing)" if names else "-"
        ok = ("ok" if o.diagnosed or o.entry.kind == catalog.VARIANT else "ok, unnamed") if o.ok else "FAIL: " + o.problem
        lines.append(f"  {o.entry.id:<{width}}  {o.entry.kind:<7}  {killed:<7}  {as_:<44}  {ok}")
        if verbose and o.failing:
            lines += [f"  {'':<{width}}    {t.name}: {t.mistake or '-'}" for t in o.failing]
    rates = Rates.of(outcomes)
    lines.append(
        f"  kill rate {_percent(rates.killed, rates.mistakes)}, diagnosis rate {_percent(rates.diagnosed, rates.mistakes)},"
        f" named wrongly {rates.misnamed}, variants passing {_percent(rates.variants_passing, rates.variants)}"
    )
    return "\n".join(lines)


def lint(kata: registry.Kata) -> list[str]:
    """A kata pack's promises, rustlings' `dev check` style: its files exist (prompt, stub, reference,
    spec, oracle, catalog), its catalog's mistakes each have their words in kata.toml, it has hints (and [task_hints] name stub functions),
    its stub has a TODO and fails every spec test as "not implemented yet", and its reference passes
    every test. Each problem is a sentence; none means all is well."""
    problems = [f"{label} {path.relative_to(registry.REPO_ROOT)} is missing"
                for label, path in (("prompt", kata.prompt_path), ("stub", kata.pristine_path),
                                    ("reference", kata.solution_path), ("spec", kata.spec_path),
                                    ("oracle", kata.pack / "oracle.py"), ("catalog", catalog.path(kata.id)))
                if not path.exists()]  # fmt: skip
    if problems:
        return problems
    try:
        catalog.load(kata.id)
    except catalog.CatalogError as exc:  # e.g. a mistake without its words in kata.toml [diagnoses]
        problems.append(str(exc))
    if not kata.hints:
        problems.append("the registry gives it no hints")
    stub = kata.pristine_path.read_text()
    named = {n.name for n in ast.walk(ast.parse(stub)) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    for task, hints in kata.task_hints.items():
        if task not in named:
            problems.append(f"[task_hints] {task}: the stub defines no function, method or class of that name")
        elif not hints:
            problems.append(f"[task_hints] {task} has no hints")
    if "TODO" not in stub or "NotImplementedError" not in stub:
        problems.append("the stub should hold a TODO and raise NotImplementedError")
    with tempfile.TemporaryDirectory(prefix=f"verify-{kata.id}-") as tmp:
        target = kata.learner_file(Path(tmp))
        target.parent.mkdir(parents=True)
        target.write_text(stub)
        graded = runner.grade(kata.id, Path(tmp))
    unfinished = [t.name for t in graded.tests if t.status is Status.PASS or "not implemented yet" not in (t.message or "")]
    if not graded.tests or unfinished:
        problems.append(f"the stub should fail every test as not implemented yet: {', '.join(unfinished) or 'no tests ran'}")
    reference = runner.grade(kata.id, registry.REPO_ROOT / "solutions")
    if reference.status is not Status.PASS:
        failing = [t.name for t in reference.tests if t.status is not Status.PASS]
        problems.append(f"the reference fails {', '.join(failing) or reference.error}")
    return problems


def run(kata_ids: list[str], *, verbose: bool = False, out=print) -> bool:
    """Lint each kata and prove its catalog; True when everything holds (`kata verify`)."""
    if not (registry.REPO_ROOT / "solutions").is_dir():  # an installed package: the answers are never shipped
        out(f"kata verify runs from a checkout of the repository only: it grades the references, catalogs and"
            f" variants, which an installed package (here {registry.REPO_ROOT}) does not have.")  # fmt: skip
        return False
    all_ok = True
    with_catalog = catalog.kata_ids()
    for kata_id in kata_ids or [k.id for k in registry.katas()]:
        problems = lint(registry.get(kata_id))
        out(f"{kata_id}: " + ("stub, reference, hints and files ok" if not problems else "PROBLEMS"))
        for problem in problems:
            out(f"  - {problem}")
        all_ok &= not problems
        if kata_id in with_catalog and not problems:
            outcomes = verify(kata_id)
            out(report(kata_id, outcomes, verbose=verbose))
            blind = verify_blind(kata_id)
            if blind:
                out(report(f"{kata_id}: blind corpus, written from the prompt alone ({catalog.BLIND_FILE})", blind, verbose=verbose))
            all_ok &= all(o.ok for o in outcomes + blind)
        else:
            out(f"  catalog not proven: {'see the problems above' if problems else 'there is no ' + str(catalog.path(kata_id))}")
    return all_ok


if __name__ == "__main__":  # `python -m harness.instructor.verify` is `kata verify`
    import sys

    from harness import cli

    sys.exit(cli.main(["verify", *sys.argv[1:]]))
