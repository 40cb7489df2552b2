"""Diagnoses: naming a learner's mistake from the numbers their code computed, never from its source.

Each kata pack has its own (harness/packs/<module>/diagnoses.py). For each mistake in the kata's
catalog (harness/packs/<module>/catalog.toml) it predicts, from torch's values on the same inputs, what the
learner's code would return under that mistake; `identify` names a mistake only when the learner's
numbers match its prediction, and no other mistake's, on every input tried. Otherwise the failure
only says what was measured: a wrong name teaches worse than none.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from harness.grading import registry
from harness.grading import tolerances as tol
from harness.grading.checks import Diagnose, Diagnosis, KataFailure, safely
from harness.grading.text import split_diagnosis

F = TypeVar("F", bound=Callable[..., "Diagnosis | None"])


def known(kata_id: str, mistake_id: str, **details: str) -> Diagnosis:
    """A mistake as the learner reads it: its text from the kata's kata.toml [diagnoses], with the
    {fields} of a family's words (which formula, which factor) filled in from `details`."""
    words = registry.get(kata_id).diagnoses[mistake_id]
    return Diagnosis(mistake_id, words.format(**details) if details else words)


@dataclass(frozen=True)
class Slip:
    """One member of a mistake family: the catalog id that names it, and the details its words are
    filled with (a family's words say "Yours equals {formula}", each member gives its formula)."""

    id: str
    details: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, mistake_id: str, **details: str) -> Slip:
        return cls(mistake_id, tuple(details.items()))

    def diagnosis(self, kata_id: str) -> Diagnosis:
        return known(kata_id, self.id, **dict(self.details))


def together(found: Sequence[Diagnosis]) -> Diagnosis:
    """Several slips in one number (a gradient that two slips both reach), as one diagnosis under the
    first one's id. What each shows comes first, joined, so a failure (which shows a diagnosis up to
    its first clause, harness/grading/text.py) names them all; why, with --explain, after."""
    if len(found) == 1:
        return found[0]
    parts = [split_diagnosis(d.text) for d in found]
    shown = ", and ".join(first.rstrip(".") if i == 0 else _lower(first.rstrip(".")) for i, (first, _) in enumerate(parts))
    return Diagnosis(found[0].id, f"{shown}: " + " ".join(why for _, why in parts if why))


def _lower(text: str) -> str:
    return text[0].lower() + text[1:] if text[1:2].islower() else text


@dataclass(frozen=True)
class AnyOf:
    """A prediction that allows several values: say, right or wrong for a parameter that a mistake
    may or may not have touched."""

    values: tuple[Any, ...]


def matches(got: Any, predicted: Any, *, rtol: float = tol.DIAGNOSIS_RTOL, atol: float = tol.DIAGNOSIS_ATOL) -> bool:
    """`got` is a finite number or array with exactly the shape and (within tolerance) values of
    `predicted`, or of one of the values of an AnyOf."""
    if isinstance(predicted, AnyOf):
        return any(matches(got, value, rtol=rtol, atol=atol) for value in predicted.values)
    if predicted is None or isinstance(got, bool) or not isinstance(got, (np.ndarray, numbers.Real)):
        return False
    got, predicted = np.asarray(got, dtype=np.float64), np.asarray(predicted, dtype=np.float64)
    return got.shape == predicted.shape and bool(np.isfinite(got).all()) and np.allclose(got, predicted, rtol=rtol, atol=atol)


def identify(
    kata_id: str, observed: Sequence[Any], candidates: Mapping[str | Slip, Sequence[Sequence[Any]]]
) -> Diagnosis | None:
    """The one mistake whose prediction matches every value in `observed`, if exactly one does.

    observed[i] is a value the learner's code returned (say on the failing example, then on a
    probe); candidates[mistake] lists that mistake's forms (the ways one slip can be written), each
    a prediction for every observed value. A mistake is a catalog id, or a Slip of a family; when
    two match that read differently, the numbers do not say which it is, and nothing is named.
    """
    found = {
        (mistake if isinstance(mistake, Slip) else Slip(mistake)).diagnosis(kata_id)
        for mistake, forms in candidates.items()
        if any(all(matches(got, want) for got, want in zip(observed, form, strict=True)) for form in forms)
    }
    return found.pop() if len(found) == 1 else None


def quietly(diagnose: F) -> F:
    """A diagnosis re-runs learner code; when that code is unfinished or breaks, it names nothing.

    NotImplementedYet is caught too: a train() written without backward() must keep its own verdict.
    """

    @functools.wraps(diagnose)
    def run(*args, **kwargs):
        return safely(lambda: diagnose(*args, **kwargs))

    return run  # type: ignore[return-value]


@contextmanager
def diagnosed(diagnose: Diagnose) -> Iterator[None]:
    """Attach `diagnose()` to a KataFailure raised inside: for checks without a `diagnose` argument
    (a shape, a NaN, a structural check). A diagnosis that breaks leaves the failure as it was."""
    try:
        yield
    except KataFailure as failure:
        if failure.diagnosis is None:
            failure.diagnosis = quietly(diagnose)()
        raise
