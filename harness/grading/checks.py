"""Checks the specs use on learners' return values; each failure is a sentence for the learner.

A check names what it looked at (`what`, e.g. "backward()['W1']"), what was expected and what came
back. Comparisons are strict: the shape must match exactly, so a wrong shape never passes by
broadcasting.
"""

from __future__ import annotations

import numbers
import reprlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import currently_in_test_context, note
from hypothesis.control import current_build_context


@dataclass(frozen=True)
class Diagnosis:
    """A known mistake recognised from the numbers: the catalog's id and what to tell the learner."""

    id: str
    text: str


class NotImplementedYet(BaseException):
    """A learner function raised NotImplementedError; its __cause__ is that error.

    A BaseException on purpose: hypothesis shrinks on Exceptions, which for a stub that always
    raises is seconds of work for nothing; this one passes through it at once.
    """


class GraderTimeout(BaseException):
    """The grader's own work on one check ran long (sympy simplifying a huge expression the learner's
    code returned); a BaseException, like a learner's time-out, so hypothesis does not shrink on it."""


class KataFailure(AssertionError):
    """A graded check failed; str(self) is written for the learner, not for a developer.

    The first line says what is wrong and where; the lines after it hold the numbers. `diagnosis`
    names the likely mistake, only when a known signature matched.
    """

    def __init__(self, message: str, diagnosis: Diagnosis | None = None) -> None:
        super().__init__(message)
        self.diagnosis = diagnosis


Diagnose = Callable[[], "Diagnosis | None"]


def safely(diagnose: Diagnose | None) -> Diagnosis | None:
    """Run a diagnosis; one that breaks, or meets unfinished learner code, names nothing and never
    changes or hides the verdict."""
    if diagnose is None or _searching():
        return None
    try:
        return diagnose()
    except (Exception, NotImplementedYet):  # noqa: BLE001
        return None


def _searching() -> bool:
    """True while hypothesis is still finding and shrinking the failing example it will report: only
    its final run's failure reaches the learner, so naming the mistake of every other is wasted work
    (re-running the learner's code for each candidate slip: over half of a failing grade)."""
    return currently_in_test_context() and not getattr(current_build_context(), "is_final", True)


def describe(value: Any) -> str:
    """A short phrase for what a value is: 'None', 'a list of length 3', 'an int64 array of shape (3,)'."""
    if value is None:
        return "None"
    return _with_article(_what(value))


def _what(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array of shape {value.shape}"
    if isinstance(value, (list, tuple, dict)):
        return f"{type(value).__name__} of length {len(value)}"
    if isinstance(value, (numbers.Number, np.generic)):
        return f"{type(value).__name__} ({reprlib.repr(value)})"  # reprlib: an int of 4000 digits shown short
    if hasattr(type(value), "type_name"):  # an object that stays in the learner's process (harness/jail/proxy.py)
        return str(value.type_name)
    return f"{type(value).__module__}.{type(value).__qualname__}"


def _with_article(phrase: str) -> str:
    vowel = phrase[:1].lower() in "aeio" or (phrase[:1].lower() == "u" and not phrase.startswith("uint"))  # a uint8
    return f"{'an' if vowel else 'a'} {phrase}"


def _index(flat_index: int, shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(flat_index, shape)) + "]" if shape else ""


def expect_array(value: Any, *, what: str, shape: tuple[int, ...]) -> np.ndarray:
    """`value` must be a finite floating-point ndarray of exactly `shape`."""
    if not isinstance(value, np.ndarray):
        raise KataFailure(f"{what} should be a NumPy array of shape {shape}, but it is {describe(value)}.")
    if value.shape != shape:
        raise KataFailure(
            f"{what} has shape {value.shape}, but the expected shape is {shape}"
            " (shapes must match exactly: broadcasting would hide a bug)."
        )
    if not np.issubdtype(value.dtype, np.floating):
        raise KataFailure(f"{what} has dtype {value.dtype}; it should hold floats (float64).")
    bad = ~np.isfinite(value)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise KataFailure(f"{what} contains {value.flat[first]} at {_index(first, shape)}: every entry must be finite.")
    return value


def expect_scalar(value: Any, *, what: str) -> float:
    """`value` must be a finite real number (a Python float, a NumPy scalar or a 0-d array)."""
    if isinstance(value, (bool, np.bool_)) or not (
        isinstance(value, (numbers.Real, np.floating, np.integer)) or (isinstance(value, np.ndarray) and value.ndim == 0)
    ):
        raise KataFailure(f"{what} should be a single float, but it is {describe(value)}.")
    try:
        result = float(value)
    except OverflowError:  # an int past float64's range (Python's ints have no bound)
        raise KataFailure(f"{what} is {describe(value)}, too large for a float.") from None
    if not np.isfinite(result):
        raise KataFailure(f"{what} is {result}: it must be finite.")
    return result


def expect_close(
    got: np.ndarray | float,
    expected: np.ndarray | float,
    *,
    what: str,
    rtol: float,
    atol: float,
    worst: int = 3,
    diagnose: Diagnose | None = None,
    at: np.ndarray | None = None,
) -> None:
    """`got` must equal torch's `expected` within atol + rtol * |expected|, entry by entry.

    On a mismatch, `diagnose()` may name the likely mistake (see harness/packs/<module>/diagnoses.py). `at`: the
    points x a function was evaluated at, shown beside the worst entries instead of their indices.
    """
    got_arr, exp_arr = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    err = np.abs(got_arr - exp_arr)
    bad = err > atol + rtol * np.abs(exp_arr)
    if not bad.any():
        return
    if exp_arr.ndim == 0 and at is None:
        yours, torch_ = numbers_apart(got_arr, exp_arr)
        raise KataFailure(f"{what} is {yours}, but torch gives {torch_} (error {float(err):.3g}).", safely(diagnose))
    where, prep = ("points", "at") if at is not None else ("entries", "in")
    relative = bad & (exp_arr != 0)  # relative error means nothing where torch's value is 0
    rel = f", max rel error {(err[relative] / np.abs(exp_arr[relative])).max():.3g}" if relative.any() else ""
    lines = [
        f"{what} disagrees with torch {prep} {int(bad.sum())} of {bad.size} {where}.",
        f"  max abs error {err.max():.3g}{rel} (tolerance {rtol:g} rel + {atol:g} abs)",
        f"  worst {where}:",
        f"    {'x' if at is not None else 'index':<16} {'yours':<18} torch",
    ]
    for flat in np.argsort(-err, axis=None)[: min(worst, int(bad.sum()))]:
        label = _num(np.asarray(at).flat[flat]) if at is not None else _index(int(flat), exp_arr.shape)
        yours, torch_ = numbers_apart(got_arr.flat[flat], exp_arr.flat[flat])
        lines.append(f"    {label:<16} {yours:<18} {torch_}")
    raise KataFailure("\n".join(lines), safely(diagnose))


def _num(value, digits: int = 10) -> str:
    return f"{float(value) + 0.0:.{digits}g}"  # + 0.0 turns -0.0 into 0.0


def numbers_apart(got, expected) -> tuple[str, str]:
    """Two different numbers as text, each with 10 significant digits, or as many more as it takes
    for the texts to differ too (17 tell any two float64 apart): 1.919100025 against 1.919100025
    would contradict the verdict they come with."""
    for digits in range(10, 18):
        yours, theirs = _num(got, digits), _num(expected, digits)
        if yours != theirs:
            break
    return yours, theirs


def expect_unchanged(before: dict[str, np.ndarray], after: dict[str, Any], *, func: str) -> None:
    """The arrays a function was given must be the same afterwards; `before` holds copies."""
    for name, original in before.items():
        current = after[name]
        if not (isinstance(current, np.ndarray) and current.shape == original.shape and np.array_equal(current, original)):
            raise KataFailure(
                f"{func} changed its argument {name} in place (for example with `-=`, `+=` or `out=`):"
                " build new arrays instead, the caller still needs the old ones."
            )


def expect_a_start_that_trains(start: dict[str, np.ndarray], after_two_steps: dict[str, np.ndarray], *, what: str) -> None:
    """A training check from the learner's own init_params() means something only if gradient descent
    from there moves every parameter: a start with every hidden unit dead (b1 = -100) leaves W1, b1
    and W2 where they are, and "two steps of gradient descent" is then a one-line update of b2, after
    which weights trained elsewhere would score. `after_two_steps`: torch's, from `start`."""
    still = [name for name in start if np.array_equal(start[name], after_two_steps[name])]
    if still:
        raise KataFailure(
            f"{what} is a start from which two steps of gradient descent (torch's) leave {', '.join(still)} exactly where"
            " they are: no gradient reaches them (is every hidden unit dead, ReLU(Z1) = 0 on every row?). Training is"
            " checked from a start that trains: draw the weights at random, as the stub's init_params() says, and keep b1 small."
        )


@contextmanager
def example_on_failure(example: object) -> Iterator[None]:
    """On the final (shrunk) failing example, attach its description to the failure.

    Formatting arrays costs more than grading them, so it happens once, not on every example.
    """
    try:
        yield
    except BaseException:
        context = current_build_context()
        if context.is_final:
            note(f"Smallest failing example:\n{example!r}")
        raise


# --- Kata 01_chain_rule -------------------------------------------------------------------------
def expect_elementwise(value: Any, x: float | np.ndarray, *, what: str) -> float | np.ndarray:
    """An elementwise function's result: a float for a float `x`, a float array of x's shape for an array."""
    if not isinstance(x, np.ndarray):
        return expect_scalar(value, what=what)
    if isinstance(value, (numbers.Number, np.generic)):
        raise KataFailure(
            f"{what} is {describe(value)}, but x is an array of shape {x.shape}: return one value per entry of x,"
            " an array of that same shape. NumPy's operations (np.cos, not math.cos) work entry by entry;"
            " a sum, float() or .item() turns the array into one number."
        )
    return expect_array(value, what=what, shape=x.shape)
