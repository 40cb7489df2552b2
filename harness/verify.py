"""Proving each kata's catalog (harness/catalog/): every mistake is caught and named, every variant passes.

Each entry of harness/catalog/<kata id>.toml (the format is in harness/catalog/__init__.py) is turned
into a complete implementation, written into a temporary folder laid out like katas/, and graded in
this process by runner.grade, exactly as a learner's file is. A mistake must
  (a) fail the kata (be "killed"),
  (b) be named by its own id on at least one failing test, and
  (c) be named by no other catalog id on any test: that would be a misdiagnosis;
a variant, a correct answer written differently, must pass every test, so nothing names it.

    python -m harness.verify [KATA_ID ...]      every kata with a catalog when none is given
    python -m harness.verify -v 02_backprop     also list each mistake's failing tests

prints a table per kata with its kill rate and diagnosis rate, and exits 1 if any entry fails.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness import catalog, registry, runner
from harness.results import KataResult, Status, TestResult


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
        return self.entry.id in self.named.values()

    @property
    def misdiagnoses(self) -> list[str]:
        """Other catalog mistakes that a failure named."""
        others = {m.id for m in catalog.load(self.entry.kata_id).mistakes} - {self.entry.id}
        return sorted(others & set(self.named.values()))

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
        if not self.diagnosed:
            return "killed, but no failing test names it"
        return None

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


@dataclass(frozen=True)
class Rates:
    mistakes: int
    killed: int
    diagnosed: int
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
            len(variants),
            sum(o.status is Status.PASS for o in variants),
        )


def _percent(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.0%})" if whole else "0/0"


def report(kata_id: str, outcomes: list[Outcome], *, verbose: bool = False) -> str:
    """The table `python -m harness.verify` prints for one kata."""
    width = max([len(o.entry.id) for o in outcomes] + [8])
    lines = [f"{kata_id}", f"  {'entry':<{width}}  {'kind':<7}  {'killed?':<7}  {'diagnosed as':<44}  ok"]
    for o in outcomes:
        if o.entry.kind == catalog.VARIANT:
            killed = "passes" if o.status is Status.PASS else "FAILS"
        else:
            killed = "yes" if o.killed else "NO"
        names = sorted(set(o.named.values()))
        as_ = f"{', '.join(names)} ({len(o.named)} of {len(o.failing)} failing)" if names else "-"
        lines.append(f"  {o.entry.id:<{width}}  {o.entry.kind:<7}  {killed:<7}  {as_:<44}  {'ok' if o.ok else 'FAIL: ' + o.problem}")
        if verbose and o.failing:
            lines += [f"  {'':<{width}}    {t.name}: {t.mistake or '-'}" for t in o.failing]
    rates = Rates.of(outcomes)
    lines.append(
        f"  kill rate {_percent(rates.killed, rates.mistakes)}, diagnosis rate {_percent(rates.diagnosed, rates.mistakes)},"
        f" variants passing {_percent(rates.variants_passing, rates.variants)}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("katas", nargs="*", metavar="KATA_ID", help="katas to verify (default: every kata with a catalog)")
    parser.add_argument("-v", "--verbose", action="store_true", help="list each entry's failing tests and what they named")
    args = parser.parse_args(argv)
    with_catalog = catalog.kata_ids()
    unknown = [k for k in args.katas if k not in with_catalog]
    if unknown:
        parser.error(f"no catalog for {', '.join(unknown)}; katas with one: {', '.join(with_catalog) or 'none'}")
    all_ok = True
    for kata_id in args.katas or with_catalog:
        outcomes = verify(kata_id)
        print(report(kata_id, outcomes, verbose=args.verbose), flush=True)
        all_ok &= all(o.ok for o in outcomes)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
