"""Kata 05_gradient_check's mistakes, recognised from the numbers (the catalog: harness/packs/gradient_check/catalog.toml).

Two kinds of evidence, both numbers the learner's code produced, never its source:
  * what it returned, matched against what each catalog mistake would return on the same input
    (harness/grading/diagnosing.py's `identify`), computed here from the same f;
  * where it called f: every call of the spec's f is recorded (functions.Smooth.probes), so the
    probes show the step used, the entries moved at once, and whether x came back.
A name is given only when one mistake alone fits.
"""

from __future__ import annotations

import numpy as np

from harness.grading import tolerances as tol
from harness.grading.checks import Diagnosis
from harness.grading.diagnosing import identify, known, matches, quietly
from harness.grading.strategies import SmoothCase
from harness.packs.gradient_check import oracle
from harness.packs.gradient_check.functions import Smooth, moves
from harness.packs.gradient_check.network import Handed

KATA = "05_gradient_check"
DEFAULT_H = 1e-5  # the stub's


# --- numerical_grad: the probes ------------------------------------------------------------------
def _rows(x: np.ndarray) -> list[set[int]]:
    """The flat indices of each x[i]: what `x[i] += h` moves when x has more than one axis."""
    return [set(range(i * x[0].size, (i + 1) * x[0].size)) for i in range(x.shape[0])]


def _steps(f: Smooth, x: np.ndarray) -> list[float] | None:
    """The step of every probe that moved one entry, if every probe moved at most one."""
    steps = []
    for probe in f.probes:
        moved = np.flatnonzero(moves(probe, x))
        if len(moved) > 1:
            return None
        steps += [abs(float((probe - x).flat[moved[0]]))] if len(moved) else []
    return steps


def _by_probes(case: SmoothCase, f: Smooth) -> Diagnosis | None:
    x = case.x
    moved_sets = [set(np.flatnonzero(moves(p, x)).tolist()) for p in f.probes]
    if any(len(m) > 1 for m in moved_sets):
        rows = _rows(x) if x.ndim > 1 and x[0].size > 1 else []
        return known(KATA, "first_axis_only") if rows and all(not m or m in rows for m in moved_sets) else None
    steps = _steps(f, x)
    if not steps:
        return None
    if max(steps) <= 1e-9:
        return known(KATA, "h_too_small")
    if min(steps) >= 1e-2:
        return known(KATA, "h_too_large")
    if case.h is not None and not all(case.h / 2 * (1 - tol.STEP_SLACK) <= s <= 2 * case.h * (1 + tol.STEP_SLACK) for s in steps):
        return known(KATA, "h_ignored")
    return None


def _simulated(f: Smooth, x: np.ndarray, h: float, *, restore: bool, order: tuple[int, int], one_sided: int = 0) -> np.ndarray:
    """The reference's loop, with the slips a catalog mistake makes: the entry not restored (left at
    its last probe), the probes in another order, or one probe at x itself (one_sided = +1: forward,
    -1: backward difference)."""
    x = x.copy()
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        saved = x[index]
        values = {}
        for sign in order:
            x[index] = saved + sign * h if sign != -one_sided else saved
            values[sign] = f.value(x)
        if restore:
            x[index] = saved
        grad[index] = (values[1] - values[-1]) / (h if one_sided else 2 * h)
    return grad


def _predicted(f: Smooth, x: np.ndarray, h: float) -> dict[str, list[list[np.ndarray]]]:
    return {
        "forward_difference": [[_simulated(f, x, h, restore=True, order=(1, -1), one_sided=s)] for s in (1, -1)],
        "not_restored": [[_simulated(f, x, h, restore=False, order=order)] for order in ((1, -1), (-1, 1))],
    }


def _aliased(got: np.ndarray, case: SmoothCase, f: Smooth) -> bool:
    """Both probes of each entry saw one and the same x: x_plus and x_minus are the same array."""
    if not (np.all(got == 0) and f.probes):
        return False
    seen: dict[int, set] = {}
    for probe in f.probes:
        moved = moves(probe, case.x)
        for i in np.flatnonzero(moved):
            seen.setdefault(int(i), set()).add(float(moved.flat[i]))
    return len(seen) == case.x.size and all(len(s) == 1 for s in seen.values())


@quietly
def numerical(learner, case: SmoothCase) -> Diagnosis | None:
    """numerical_grad()'s slip, from its probes of f and its numbers, on the failing case run again."""
    x_after = case.x.copy()
    again = case.f.fresh()
    got = learner.numerical_grad(again, x_after) if case.h is None else learner.numerical_grad(again, x_after, case.h)
    found = _by_probes(case, again)
    if found is not None:
        return found
    if isinstance(got, np.ndarray) and got.shape == case.x.shape and _aliased(got, case, again):
        return known(KATA, "probes_share_x")
    steps = _steps(again, case.x)
    h = case.h if case.h is not None else (float(np.median(steps)) if steps else DEFAULT_H)
    allowed = case.f.allowed_error(case.x, h)
    predicted = _predicted(case.f, case.x, h)
    observed_ok = isinstance(got, np.ndarray) and got.shape == case.x.shape
    if observed_ok:
        found = [m for m, forms in predicted.items() if any(matches(got, form[0], rtol=0, atol=allowed) for form in forms)]
        if len(found) == 1:
            return known(KATA, found[0])
    drifted = moves(x_after, case.x)
    if not np.array_equal(x_after, case.x) and not drifted.any():
        return known(KATA, "restore_by_arithmetic")  # x came back off by rounding only: x + h - 2h + h
    return None


# --- relative_error ------------------------------------------------------------------------------
# A fixed pair: magnitudes that differ, signs that differ, both-zero and one-zero entries.
PROBE_A = np.array([2.0, -0.5, 0.0, 3.0, 0.0, 1.0])
PROBE_B = np.array([1.0, 0.25, 0.0, -1.0, 4.0, 1.0])


def _relative_forms(a: np.ndarray, b: np.ndarray) -> dict[str, list[np.ndarray]]:
    def guarded(numerator, denominator):
        return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    diff = np.abs(a - b)
    scale = np.maximum(np.abs(a), np.abs(b))
    return {
        "relative_sum_denominator": [guarded(diff, np.abs(a) + np.abs(b))],
        "relative_one_sided": [guarded(diff, np.abs(a)), guarded(diff, np.abs(b))],
        "relative_no_abs": [guarded(a - b, scale), guarded(b - a, scale)],
        "relative_max_only": [np.asarray(oracle.relative_error(a, b).max())] if a.ndim else [],
    }


@quietly
def relative(learner, a, b) -> Diagnosis | None:
    """relative_error()'s slip: its numbers on the failing pair and on a fixed probe pair."""
    probe = learner.relative_error(PROBE_A.copy(), PROBE_B.copy())
    if isinstance(probe, np.ndarray) and probe.shape == PROBE_A.shape:
        both_zero = (PROBE_A == 0) & (PROBE_B == 0)
        if np.isnan(probe[both_zero]).all() and matches(probe[~both_zero], oracle.relative_error(PROBE_A, PROBE_B)[~both_zero]):
            return known(KATA, "relative_no_guard")
    observed = [learner.relative_error(np.copy(a), np.copy(b)), probe]
    forms_here, forms_probe = _relative_forms(a, b), _relative_forms(PROBE_A, PROBE_B)
    candidates = {m: [(here, there) for here, there in zip(forms_here[m], forms_probe[m])] for m in forms_probe}
    if not isinstance(a, np.ndarray):  # floats: the forms of a 0-d pair, and the probe pair's
        candidates["relative_max_only"] = [(oracle.relative_error(a, b), forms_probe["relative_max_only"][0])]
    return identify(KATA, observed, candidates)


# --- grad_check ----------------------------------------------------------------------------------
def flat_index(index, x: np.ndarray) -> Diagnosis | None:
    """An int where x has several axes: argmax's flat position, not yet an index per axis."""
    if x.ndim > 1 and isinstance(index, (int, np.integer)) and not isinstance(index, bool) and 0 <= index < x.size:
        return known(KATA, "flat_index")
    return None


@quietly
def grad_check(learner, f: Smooth, x: np.ndarray, analytic: np.ndarray) -> Diagnosis | None:
    """grad_check()'s slip: its (worst_error, flat worst index) against each mistake's, computed from
    torch's gradient in place of the numerical one (they differ by ~1e-9: far inside the tolerance)."""
    result = learner.grad_check(f.fresh(), lambda z: analytic.copy(), x.copy())
    worst, index = result
    index = np.ravel_multi_index(tuple(int(i) for i in np.atleast_1d(index)), x.shape) if not isinstance(index, (int, np.integer)) else int(index)
    true = oracle.smooth_grad(f, x)
    absolute = np.abs(analytic - true)
    relative = oracle.relative_error(analytic, true)
    candidates = {
        "absolute_error": [(absolute.max(), np.argmax(absolute))],
        "mean_error": [(relative.mean(), i) for i in range(x.size)],
    }
    for mistake, forms in _relative_forms(analytic, true).items():
        if mistake != "relative_max_only":
            candidates[mistake] = [(form.max(), np.argmax(form)) for form in forms]
    return identify(KATA, [float(worst), float(index)], candidates)


# --- find_wrong_gradient -------------------------------------------------------------------------
def _learners_errors(learner, handed: Handed) -> dict[str, float]:
    """The learner's own grad_check on each parameter of the planted network."""
    params = handed.network.params
    errors = {}
    for name in params:
        fresh = Handed(handed.network, handed.plant)

        def loss_of(value, name=name, fresh=fresh):
            return fresh.loss({**params, name: value})

        def grad_of(value, name=name, fresh=fresh):
            return fresh.backward({**params, name: value})[name]

        errors[name] = float(learner.grad_check(loss_of, grad_of, params[name].copy())[0])
    return errors


def learners_checks(learner, network, plant) -> str:
    """A line per parameter: what the learner's grad_check says about backward()'s gradient of it."""
    try:
        errors = _learners_errors(learner, Handed(network, plant))
    except Exception:  # noqa: BLE001 - their grad_check fails on its own: that test says how
        return ""
    lines = [f"  {name:<4} {error:.3g}{'   <- the planted bug' if name == plant.name else ''}" for name, error in errors.items()]
    return "Your grad_check on each parameter of this network (worst relative error):\n" + "\n".join(lines)


@quietly
def find(learner, case, handed: Handed, named: str) -> Diagnosis | None:
    """find_wrong_gradient() named a right gradient: its probes never moved a parameter, or its own
    check (right on this network) was read with the wrong rule."""
    originals = handed.network.params
    if handed.calls and all(all(np.array_equal(call[k], originals[k]) for k in originals) for call in handed.calls):
        return known(KATA, "loss_ignores_probe")
    errors = _learners_errors(learner, handed)
    plant = case.plant.name
    right = [name for name in errors if name != plant]
    if not (errors[plant] >= tol.PLANT_MIN_ERROR / 2 and all(errors[n] < tol.GRAD_CHECK_SMALL for n in right)):
        return None  # their check itself does not tell the bug apart: grad_check's own test says why
    keys = list(errors)
    before = keys[: keys.index(named)]
    fits = []
    if errors[named] == min(errors.values()):
        fits.append("smallest_error")
    if all(errors[k] < errors[named] for k in before):
        fits.append("threshold_too_tight")
    return known(KATA, fits[0]) if len(fits) == 1 else None
