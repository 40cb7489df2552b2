"""Hidden spec for kata 05_gradient_check: numerical gradients against torch autograd in float64.

The learner's functions get callables from here: f, analytic_grad, loss and backward run in this
process, called back through the jail (harness/jail/proxy.py) with plain arrays, which they check
and record; the learner's code never gets more than their return values. A numerical gradient is
judged within the error a centered difference is allowed at its step (functions.Smooth.allowed_error;
constants and reasons in harness/grading/tolerances.py). Failures that match a mistake of
catalog.toml name it (diagnoses.py).
"""

from __future__ import annotations

import numbers

import numpy as np
from hypothesis import example, given, note
from hypothesis import strategies as st
from hypothesis.control import current_build_context

from harness.grading import tolerances as tol
from harness.grading.checks import (
    KataFailure,
    describe,
    example_on_failure,
    expect_array,
    expect_close,
    expect_scalar,
    expect_unchanged,
)
from harness.grading.diagnosing import diagnosed
from harness.grading.strategies import (
    GC_MULTI_AXIS,
    PlantedCase,
    SmoothCase,
    WrongGradient,
    checkable_cases,
    planted_networks,
    smooth_cases,
    wrong_gradients,
)
from harness.packs.gradient_check import diagnoses as diagnose
from harness.packs.gradient_check import oracle
from harness.packs.gradient_check.functions import moves
from harness.packs.gradient_check.network import Handed, Plant, draw_network


class Shown(str):
    """An example that is already text: shown as it is, not quoted."""

    def __repr__(self) -> str:
        return str(self)


def called(case: SmoothCase) -> str:
    """The call as a message names it: numerical_grad(f, x) or numerical_grad(f, x, 1e-05)."""
    return "numerical_grad(f, x)" if case.h is None else f"numerical_grad(f, x, {case.h:g})"


def call_numerical_grad(learner, case: SmoothCase, f) -> tuple[np.ndarray, np.ndarray]:
    """(the learner's numerical gradient, the x they were given, as it is afterwards)."""
    x = case.x.copy()
    got = learner.numerical_grad(f, x) if case.h is None else learner.numerical_grad(f, x, case.h)
    return expect_array(got, what=called(case), shape=x.shape), x


# --- Task 05.1: the numerical gradient ---------------------------------------------------------
def _expect_near_torch(learner, case: SmoothCase, steps: tuple[float, ...]) -> None:
    f = case.f.fresh()
    with diagnosed(lambda: diagnose.numerical(learner, case)):
        got, _ = call_numerical_grad(learner, case, f)
    _expect_close_to_torch(learner, case, got, steps)


def _expect_close_to_torch(learner, case: SmoothCase, got: np.ndarray, steps: tuple[float, ...], after: str = "") -> None:
    """The learner's numerical gradient against torch's, within a centered difference's own error."""
    allowed = max(case.f.allowed_error(case.x, h) for h in steps)
    try:
        expect_close(
            got, oracle.smooth_grad(case.f, case.x), rtol=0.0, atol=allowed, what=called(case) + after,
            diagnose=lambda: diagnose.numerical(learner, case),
        )  # fmt: skip
    except KataFailure as failure:
        at = " to ".join(f"{h:g}" for h in steps)
        raise KataFailure(
            f"{failure}\n  (the tolerance is a centered difference's own error at h = {at} on this f:"
            " truncation h**2/6 |f'''| plus rounding ~eps |f| / h)",
            failure.diagnosis,
        ) from None


@given(case=smooth_cases())
def test_numerical_grad_matches_torch(learner, case: SmoothCase):
    with example_on_failure(case):
        _expect_near_torch(learner, case, (case.h,))


@given(case=smooth_cases(steps=None))
def test_numerical_grad_default_step(learner, case: SmoothCase):
    with example_on_failure(case):
        _expect_near_torch(learner, case, tol.DEFAULT_STEP_FAIR)


@given(case=smooth_cases(shapes=GC_MULTI_AXIS))
def test_numerical_grad_probes_one_entry_and_restores_x(learner, case: SmoothCase):
    with example_on_failure(case):
        f = case.f.fresh()
        with diagnosed(lambda: diagnose.numerical(learner, case)):
            got, x_after = call_numerical_grad(learner, case, f)
            low = next((probe.dtype for probe in f.probes if probe.dtype != np.float64), None)
            if low is not None:
                raise KataFailure(
                    f"{called(case)} called f with a {low} array: x is float64, and a gradient check"
                    f" needs all of it (in {low}, x[i] + h is rounded by a sizeable part of h)."
                )
            for probe in f.probes:
                moved = np.flatnonzero(moves(probe, case.x))
                if len(moved) > 1:
                    where = ", ".join(f"{_at(int(i), x_after.shape)} by {probe.flat[i] - case.x.flat[i]:.3g}" for i in moved[:4])
                    raise KataFailure(
                        f"{called(case)} called f with {len(moved)} entries of x moved at once ({where}"
                        f"{', ...' if len(moved) > 4 else ''}): each probe moves one entry, the one being differentiated,"
                        " and every other entry is where the caller put it."
                    )
                step = abs(probe.flat[moved[0]] - case.x.flat[moved[0]]) if len(moved) else None
                if step is not None and not case.h / 2 * (1 - tol.STEP_SLACK) <= step <= 2 * case.h * (1 + tol.STEP_SLACK):
                    raise KataFailure(
                        f"{called(case)} probed entry {_at(int(moved[0]), x_after.shape)} with a step of"
                        f" {step:.3g}: the step is the h it was given, {case.h:g}."
                    )
            probed = {int(i) for probe in f.probes for i in np.flatnonzero(moves(probe, case.x))}
            if len(probed) < case.x.size:
                missed = min(set(range(case.x.size)) - probed)
                raise KataFailure(
                    f"{called(case)} never called f with entry {_at(missed, x_after.shape)} of x moved"
                    f" ({case.x.size - len(probed)} of {case.x.size} entries never probed): each entry's derivative"
                    " comes from probing f on both sides of it."
                )
            if not np.array_equal(x_after, case.x):
                diff = np.abs(x_after - case.x)
                worst = int(np.argmax(diff))
                raise KataFailure(
                    f"{called(case)} gave x back changed: entry {_at(worst, x_after.shape)} was"
                    f" {case.x.flat[worst]!r} and is now {x_after.flat[worst]!r} ({int((diff > 0).sum())} of {diff.size}"
                    " entries changed). The caller's x must come back bit for bit as it was."
                )
        # Probing every entry and putting x back is also what a loop that computes nothing does.
        steps = tol.DEFAULT_STEP_FAIR if case.h is None else (case.h,)
        _expect_close_to_torch(learner, case, got, steps, after=" (this check counts once it agrees with torch)")


def _at(flat: int, shape: tuple[int, ...]) -> str:
    return str(tuple(int(i) for i in np.unravel_index(flat, shape)))


# --- Task 05.2: comparing two gradients --------------------------------------------------------
@st.composite
def relative_pairs(draw) -> tuple:
    """(a, b): two floats, or two arrays of one of the kata's shapes, magnitudes in RELATIVE_MAGNITUDES."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = draw(st.sampled_from([(), (3,), (2, 3), (2, 2, 3), (1,)]))
    low, high = np.log(tol.RELATIVE_MAGNITUDES)

    def values():
        return np.round(np.exp(rng.uniform(low, high, size=shape)) * rng.choice([-1.0, 1.0], size=shape), 3)

    a, b = values(), values()
    if shape:
        same = rng.random(size=shape) < 0.2  # some entries equal: their error is 0
        b = np.where(same, a, b)
        return a, b
    return float(a), float(b)


@given(pair=relative_pairs())
def test_relative_error_matches_definition(learner, pair):
    a, b = pair
    with example_on_failure(Shown(f"a = {a!r}\nb = {b!r}")):
        got = learner.relative_error(_copy(a), _copy(b))
        expected = oracle.relative_error(a, b)
        what = "relative_error(a, b)"
        with diagnosed(lambda: diagnose.relative(learner, a, b)):
            got = _expect_like(got, a, what=what)
        expect_close(
            got, expected, what=what, rtol=tol.RELATIVE_RTOL, atol=tol.RELATIVE_ATOL,
            diagnose=lambda: diagnose.relative(learner, a, b),
        )  # fmt: skip


def test_relative_error_guards_zeros(learner):
    a = np.array([0.0, 0.0, 1.5, -0.0, 0.25])
    b = np.array([0.0, -3.0, 0.0, 0.0, 0.25])
    what = "relative_error(a, b) with a = [0, 0, 1.5, -0, 0.25], b = [0, -3, 0, 0, 0.25]"
    with diagnosed(lambda: diagnose.relative(learner, a, b)):
        got = _expect_like(learner.relative_error(a.copy(), b.copy()), a, what=what, finite=False)
        bad = ~np.isfinite(got)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise KataFailure(
                f"{what} is {got.tolist()}: {got[i]} where a = {a[i]:g} and b = {b[i]:g}."
                " Where both are 0 they agree, so their relative error is 0, never 0/0."
            )
        expect_close(got, oracle.relative_error(a, b), what=what, rtol=tol.RELATIVE_RTOL, atol=tol.RELATIVE_ATOL)
        single = expect_scalar(learner.relative_error(0.0, 0.0), what="relative_error(0.0, 0.0)")
        if single != 0.0:
            raise KataFailure(f"relative_error(0.0, 0.0) is {single}, but two zeros agree: it should be 0.")


def _copy(value):
    return value.copy() if isinstance(value, np.ndarray) else value


def _expect_like(got, a, *, what: str, finite: bool = True):
    """A float for a float, an array of a's shape for an array."""
    if not isinstance(a, np.ndarray):
        return expect_scalar(got, what=what)
    if isinstance(got, (numbers.Number, np.generic)):
        raise KataFailure(
            f"{what} is {describe(got)}, but a and b are arrays of shape {a.shape}: give back one relative error"
            " per entry, an array of that shape (grad_check takes the worst of them)."
        )
    if not finite:
        if not (isinstance(got, np.ndarray) and got.shape == a.shape):
            raise KataFailure(f"{what} should be an array of shape {a.shape}, but it is {describe(got)}.")
        return got
    return expect_array(got, what=what, shape=a.shape)


# --- Task 05.3: the gradient check -------------------------------------------------------------
def call_grad_check(learner, f, analytic_grad, x: np.ndarray) -> tuple[float, tuple[int, ...]]:
    given_x = x.copy()
    result = learner.grad_check(f, analytic_grad, given_x)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise KataFailure(f"grad_check(f, analytic_grad, x) should return a pair (worst_error, worst_index), but it returned {describe(result)}.")
    worst_error = expect_scalar(result[0], what="grad_check()'s worst_error")
    index = result[1]
    if x.ndim == 1 and isinstance(index, (numbers.Integral, np.integer)) and not isinstance(index, bool):
        index = (index,)  # x[i] reads the same entry as x[(i,)]
    if not (isinstance(index, (tuple, list)) and len(index) == x.ndim and all(isinstance(i, (numbers.Integral, np.integer)) and not isinstance(i, bool) for i in index)):
        raise KataFailure(
            f"grad_check()'s worst_index is {describe(index)} ({index!r}), but x has shape {x.shape}: it should be a tuple"
            f" of {x.ndim} int{'s' if x.ndim > 1 else ''}, one per axis, so that x[worst_index] is the entry.",
            diagnose.flat_index(index, x),
        )
    index = tuple(int(i) for i in index)
    if not all(-n <= i < n for i, n in zip(index, x.shape)):
        raise KataFailure(f"grad_check()'s worst_index {index} is outside x's shape {x.shape}.")
    expect_unchanged({"x": x}, {"x": given_x}, func="grad_check()")
    return worst_error, tuple(i % n for i, n in zip(index, x.shape))


@given(case=checkable_cases(oracle.smooth_grad))
def test_grad_check_passes_a_correct_gradient(learner, case: SmoothCase):
    grad = oracle.smooth_grad(case.f, case.x)
    analytic_calls = []

    def analytic_grad(x):
        analytic_calls.append(case.f.checked(x, "analytic_grad"))
        return oracle.smooth_grad(case.f, x)

    with example_on_failure(Shown(f"{case!r}\nanalytic_grad: the exact gradient of f")):
        f = case.f.fresh()
        worst_error, index = call_grad_check(learner, f, analytic_grad, case.x)
        # Probes, not calls: f called at x itself, or with everything moved at once, differentiates
        # nothing, and a check that never looks must not pass for finding nothing wrong.
        probed = {int(moved[0]) for moved in (np.flatnonzero(moves(probe, case.x)) for probe in f.probes) if len(moved) == 1}
        if len(probed) < case.x.size or not analytic_calls:
            raise KataFailure(
                f"grad_check() probed f with one entry of x moved for {len(probed)} of x's {case.x.size} entries and called"
                f" analytic_grad {len(analytic_calls)} times: it compares analytic_grad(x) with a numerical gradient of f,"
                " which moves each entry of x by h in turn, so it needs both."
            )
        if worst_error > tol.GRAD_CHECK_SMALL:
            raise KataFailure(
                f"grad_check() reports a worst relative error of {worst_error:.3g} at {index} for an analytic gradient that"
                f" is exact (torch's): a correct check finds below {tol.GRAD_CHECK_SMALL:g} there, the numerical"
                " gradient's own error.",
                diagnose.grad_check(learner, case.f, case.x, grad),
            )
        if worst_error < 0:
            raise KataFailure(f"grad_check() reports a worst relative error of {worst_error:.3g}: an error is never negative.")


@given(case=wrong_gradients(oracle.smooth_grad))
def test_grad_check_finds_the_worst_entry(learner, case: WrongGradient):
    true = oracle.smooth_grad(case.f, case.x)
    expected = float(oracle.relative_error(case.grad, true)[case.worst])

    def analytic_grad(x):
        case.f.checked(x, "analytic_grad")
        return case.grad.copy()

    with example_on_failure(case):
        worst_error, index = call_grad_check(learner, case.f.fresh(), analytic_grad, case.x)
        mismatch = index != case.worst
        if mismatch or not np.isclose(worst_error, expected, rtol=tol.GRAD_CHECK_RTOL, atol=0):
            rel = oracle.relative_error(case.grad, true)
            where = f"at {index} it is {rel[index]:.3g}" if mismatch else f"yours is {abs(worst_error / expected - 1):.2g} relative off"
            raise KataFailure(
                f"grad_check() returned ({worst_error:.6g}, {index}), but the worst entry is {case.worst}, with relative"
                f" error {expected:.6g} (analytic {case.grad[case.worst]:.6g}, true gradient {true[case.worst]:.6g}): {where}.",
                diagnose.grad_check(learner, case.f, case.x, case.grad),
            )


# --- Task 05.4: find the planted bug -----------------------------------------------------------
def _planted(layers: int, plant: Plant, seed: int) -> PlantedCase:
    return PlantedCase(draw_network(np.random.default_rng(seed), layers, 6, plant, places=1), plant)


# Besides what hypothesis draws, always a 3-layer network with the bug in its top layer: a check
# that goes through a fixed list of names (W1, b1, W2, b2) instead of params' keys misses it.
@example(case=_planted(3, Plant("transpose", "W3"), seed=11))
@example(case=_planted(3, Plant("scale", "b3", 2.0), seed=12))
@given(case=planted_networks())
def test_find_wrong_gradient_names_the_planted_bug(learner, case: PlantedCase):
    net, plant = case.network, case.plant
    handed = Handed(net, plant)
    params = {name: value.copy() for name, value in net.params.items()}
    with example_on_failure(case):
        name = learner.find_wrong_gradient(handed.loss, handed.backward, params)
        with diagnosed(lambda: diagnose.mutated_params(net.params, params)):
            expect_unchanged(net.params, params, func="find_wrong_gradient()")
        if not (isinstance(name, str) and name in net.params):
            raise KataFailure(
                f"find_wrong_gradient() returned {describe(name)} ({name!r}): it should return one key of params,"
                f" one of {list(net.params)}."
            )
        if name != plant.name:
            true = oracle.network_grads(net)
            planted = net.backward(net.params, plant)
            off = float(oracle.relative_error(planted[plant.name], true[plant.name]).max())
            if current_build_context().is_final:
                note(diagnose.learners_checks(learner, net, plant))
            raise KataFailure(
                f"find_wrong_gradient() named {name!r}, but backward() gets {name}'s gradient right (it equals torch's);"
                f" the wrong one is {plant.name!r}, off by a relative error of up to {off:.3g}.",
                diagnose.find(learner, case, handed, name),
            )
