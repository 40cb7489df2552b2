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
from harness.packs.gradient_check.network import Handed, Plant, draw_network

KATA = "05_gradient_check"
DEFAULT_H = 1e-5  # the stub's
STOP_SEED = 4  # the network _stops_at_first_flag() tries


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


def _by_probes(case: SmoothCase, f: Smooth, got) -> Diagnosis | None:
    """A slip the probes of f show: their dtype, which entries they move, by how much."""
    x = case.x
    if any(probe.dtype != np.float64 for probe in f.probes):
        return known(KATA, "float32")
    moved_sets = [set(np.flatnonzero(moves(p, x)).tolist()) for p in f.probes]
    if f.probes and not any(moved_sets) and isinstance(got, np.ndarray) and not got.any():
        return known(KATA, "probe_never_reaches_f")
    if any(len(m) > 1 for m in moved_sets):
        everything = set(range(x.size))
        rows = _rows(x) if x.ndim > 1 and x[0].size > 1 else []
        if rows and x.shape[0] > 1 and all(not m or m in rows for m in moved_sets):
            return known(KATA, "first_axis_only")
        if x.size > 1 and not (x.ndim > 1 and x.shape[0] == 1) and all(not m or m == everything for m in moved_sets):
            return known(KATA, "all_entries_at_once")
        return None
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


def _predicted(f: Smooth, x: np.ndarray, h: float, allowed: float) -> list[tuple[str, np.ndarray, float]]:
    """(mistake, what numerical_grad returns under it, how far a correct spelling of it may be)."""
    centered = _simulated(f, x, h, restore=True, order=(1, -1))
    forms = [("forward_difference", _simulated(f, x, h, restore=True, order=(1, -1), one_sided=s), allowed) for s in (1, -1)]
    forms += [("not_restored", _simulated(f, x, h, restore=False, order=order), allowed) for order in ((1, -1), (-1, 1))]
    # The centered difference, scaled: / h for / 2h, `/ 2 * h` (times h / 2 for over 2h), f_minus - f_plus.
    scaled = {"divided_by_h": 2.0, "precedence_2h": h * h, "difference_reversed": -1.0}
    return forms + [(mistake, k * centered, abs(k) * allowed) for mistake, k in scaled.items()]


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
    found = _by_probes(case, again, got)
    if found is not None:
        return found
    if isinstance(got, np.ndarray) and got.shape == case.x.shape and _aliased(got, case, again):
        return known(KATA, "probes_share_x")
    steps = _steps(again, case.x)
    h = case.h if case.h is not None else (float(np.median(steps)) if steps else DEFAULT_H)
    allowed = case.f.allowed_error(case.x, h)
    if isinstance(got, np.ndarray) and got.shape == case.x.shape:
        found = {m for m, predicted, atol in _predicted(case.f, case.x, h, allowed) if matches(got, predicted, rtol=1e-6, atol=atol)}
        if len(found) == 1:
            return known(KATA, found.pop())
    drifted = moves(x_after, case.x)
    if not np.array_equal(x_after, case.x) and not drifted.any():
        return known(KATA, "restore_by_arithmetic")  # x came back off by rounding only: x + h - 2h + h
    return None


# --- relative_error ------------------------------------------------------------------------------
# A fixed pair: magnitudes that differ, signs that differ, both-zero and one-zero entries.
# Where both are nonzero, the smaller is sometimes a and sometimes b (so min(|a|, |b|), |a| and |b|
# all differ), and some are negative.
PROBE_A = np.array([2.0, -0.25, 0.0, 3.0, 0.0, 1.0, 0.5])
PROBE_B = np.array([1.0, 0.5, 0.0, -1.0, 4.0, 1.0, -2.0])


def _relative_forms(a: np.ndarray, b: np.ndarray) -> dict[str, list[np.ndarray]]:
    """relative_error(a, b) under each mistake, in each form it takes (on entries where a and b are
    both nonzero: what each form does at a zero is judged by the zeros check, on its own)."""

    def guarded(numerator, denominator):
        return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator != 0)

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    diff = np.abs(a - b)
    scale = np.maximum(np.abs(a), np.abs(b))
    signed = np.maximum(a, b)
    return {
        "relative_sum_denominator": [guarded(diff, np.abs(a) + np.abs(b))],
        "relative_one_sided": [guarded(diff, np.abs(a)), guarded(diff, np.abs(b))],
        "relative_min_denominator": [guarded(diff, np.minimum(np.abs(a), np.abs(b)))],
        "relative_global_scale": [guarded(diff, np.full(diff.shape, scale.max() if scale.size else 0.0))],
        "relative_no_abs": [guarded(a - b, scale), guarded(b - a, scale), guarded(diff, signed), guarded(a - b, signed)],
    }


@quietly
def relative(learner, a, b) -> Diagnosis | None:
    """relative_error()'s slip: its numbers on the failing pair and on a fixed probe pair."""
    probe = learner.relative_error(PROBE_A.copy(), PROBE_B.copy())
    both_zero = (PROBE_A == 0) & (PROBE_B == 0)
    if isinstance(probe, np.ndarray) and probe.shape == PROBE_A.shape:
        right = matches(probe[~both_zero], oracle.relative_error(PROBE_A, PROBE_B)[~both_zero])
        if right and np.isnan(probe[both_zero]).all():
            return known(KATA, "relative_no_guard")
        if right and (probe[both_zero] == 1).all():
            return known(KATA, "relative_zero_as_one")
    here = learner.relative_error(np.copy(a), np.copy(b))
    if isinstance(a, np.ndarray) and isinstance(here, (float, np.floating)) and isinstance(probe, (float, np.floating)):
        if matches(here, oracle.relative_error(a, b).max()) and matches(probe, oracle.relative_error(PROBE_A, PROBE_B).max()):
            return known(KATA, "relative_max_only")
        return None
    # Judged where a and b are both nonzero: what a form does at a zero varies with how it is guarded.
    full = (np.asarray(a) != 0) & (np.asarray(b) != 0)
    nonzero = (PROBE_A != 0) & (PROBE_B != 0)
    if not (np.shape(here) == np.shape(a) and np.shape(probe) == PROBE_A.shape):
        return None
    observed = [np.asarray(here, dtype=np.float64)[full], np.asarray(probe, dtype=np.float64)[nonzero]]
    forms_here, forms_probe = _relative_forms(a, b), _relative_forms(PROBE_A, PROBE_B)
    candidates = {m: [(here_form[full], probe_form[nonzero]) for here_form, probe_form in zip(forms_here[m], forms_probe[m])] for m in forms_probe}
    return identify(KATA, observed, candidates)


# --- grad_check ----------------------------------------------------------------------------------
def flat_index(index, x: np.ndarray) -> Diagnosis | None:
    """One int where x has several axes (bare, or alone in a tuple): argmax's flat position, not yet
    an index per axis."""
    if isinstance(index, (tuple, list)) and len(index) == 1:
        index = index[0]
    if x.ndim > 1 and isinstance(index, (int, np.integer)) and not isinstance(index, bool) and 0 <= index < x.size:
        return known(KATA, "flat_index")
    return None


@quietly
def grad_check(learner, f: Smooth, x: np.ndarray, analytic: np.ndarray) -> Diagnosis | None:
    """grad_check()'s slip: its (worst_error, flat worst index) against each mistake's, computed from
    torch's gradient in place of the numerical one (they differ by ~1e-9: far inside the tolerance).
    When the learner's numerical_grad is itself wrong here, that is the slip to name."""
    case = SmoothCase(f, x, None)
    own = learner.numerical_grad(f.fresh(), x.copy())
    if not matches(own, oracle.smooth_grad(f, x), rtol=0, atol=max(f.allowed_error(x, h) for h in tol.DEFAULT_STEP_FAIR)):
        return numerical.__wrapped__(learner, case)
    result = learner.grad_check(f.fresh(), lambda z: analytic.copy(), x.copy())
    worst, index = result
    index = np.ravel_multi_index(tuple(int(i) for i in np.atleast_1d(index)), x.shape) if not isinstance(index, (int, np.integer)) else int(index)
    true = oracle.smooth_grad(f, x)
    absolute = np.abs(analytic - true)
    relative = oracle.relative_error(analytic, true)
    norm = np.linalg.norm(analytic - true) / max(np.linalg.norm(analytic), np.linalg.norm(true))
    candidates = {
        # the worst absolute difference, reported as such or as the relative error there
        "absolute_error": [(absolute.max(), np.argmax(absolute)), (relative.flat[np.argmax(absolute)], np.argmax(absolute))],
        "mean_error": [(relative.mean(), i) for i in range(x.size)],
        "norm_ratio": [(norm, i) for i in range(x.size)],
    }
    # A slip of the learner's relative_error shows in grad_check too: its forms are candidates then only.
    nonzero = (PROBE_A != 0) & (PROBE_B != 0)
    own = np.asarray(learner.relative_error(PROBE_A.copy(), PROBE_B.copy()), dtype=np.float64)
    if not (own.shape == PROBE_A.shape and matches(own[nonzero], oracle.relative_error(PROBE_A, PROBE_B)[nonzero])):
        for mistake, forms in _relative_forms(analytic, true).items():
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


def _probes_reach_f(learner) -> bool:
    """The learner's numerical_grad calls f with entries of x moved (on a small fixed f)."""
    f = Smooth((2,), ("sin",), np.array([1.0]), np.array([[0.5, -0.3]]), np.array([0.1]))
    learner.numerical_grad(f, np.array([0.2, 0.4]))
    return any(moves(probe, np.array([0.2, 0.4])).any() for probe in f.probes)


def _stops_at_first_flag(learner) -> bool:
    """On a network with the bug in W1, the first key, find_wrong_gradient() probes W1 alone: it
    returns at the first gradient its check flags (rather than going through a fixed list of names)."""
    plant = Plant("sign", "W1")
    handed = Handed(draw_network(np.random.default_rng(STOP_SEED), 3, 6, plant), plant)
    params = handed.network.params
    learner.find_wrong_gradient(handed.loss, handed.backward, {k: v.copy() for k, v in params.items()})
    return {k for call in handed.calls for k in params if not np.array_equal(call[k], params[k])} == {"W1"}


def mutated_params(before: dict[str, np.ndarray], after: dict) -> Diagnosis | None:
    """find_wrong_gradient() gave params back changed: a probe was left in it."""
    return None if all(k in after and np.array_equal(after[k], v) for k, v in before.items()) else known(KATA, "params_left_probed")


@quietly
def find(learner, case, handed: Handed, named: str) -> Diagnosis | None:
    """find_wrong_gradient() named a right gradient: its probes never moved a parameter, or its own
    check (right on this network) was read with the wrong rule."""
    originals, plant = handed.network.params, case.plant.name
    probed = {k for call in handed.calls for k in originals if not np.array_equal(call[k], originals[k])}
    if not _probes_reach_f(learner):
        return None  # numerical_grad itself never moves x: its own checks say so
    if handed.calls and not probed:
        return known(KATA, "loss_ignores_probe")
    keys = list(originals)
    stopped = probed == set(keys[: keys.index(named) + 1])  # probed up to the name, then stopped: a threshold's doing
    if probed and plant not in probed and not (stopped and _stops_at_first_flag(learner)):
        return known(KATA, "unchecked_parameters")
    errors = _learners_errors(learner, handed)
    right = [name for name in errors if name != plant]
    if not (errors[plant] >= tol.PLANT_MIN_ERROR / 2 and all(errors[n] < tol.GRAD_CHECK_SMALL for n in right)):
        return None  # their check itself does not tell the bug apart: grad_check's own test says why
    before = keys[: keys.index(named)]
    fits = []
    if errors[named] == min(errors.values()):
        fits.append("smallest_error")
    if all(errors[k] < errors[named] for k in before):
        fits.append("threshold_too_tight")
    return known(KATA, fits[0]) if len(fits) == 1 else None
