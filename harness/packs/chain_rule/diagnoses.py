"""Kata 01_chain_rule's mistakes, recognised from the numbers (the catalog: harness/packs/chain_rule/catalog.toml).

Each catalog mistake computes some formula in place of the derivative (cos(x**2 + 1) for a forgotten
inner derivative, f_grad(x) * g_grad(x) for an outer derivative taken at x). A diagnosis evaluates
the learner's answer on the failing input and on a fixed probe, evaluates each mistake's formula on
the same inputs, and names the one mistake that gives the learner's numbers on both (see
harness/grading/diagnosing.py). The failing input alone is not enough: hypothesis shrinks it toward
0 and 1, where slips coincide (3*x**2 and x**2 + 2 are both 3 at x = 1). A symbolic answer is
evaluated at fixed points instead, with its undefined f and g made concrete.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from harness.grading import tolerances as tol
from harness.grading.checks import Diagnosis
from harness.grading.diagnosing import identify, known, quietly
from harness.packs.chain_rule import oracle
from harness.grading.strategies import Composition

KATA = "01_chain_rule"


def _tanh(x):  # v = tanh(u), u = 3x + 1: the middle layer of nested_grad
    return np.tanh(3 * x + 1)


# What each slip computes for d/dx sin(x**2 + 1): sin_square_grad and sin_square_grad_symbolic share them.
SIN_SQUARE: dict[str, Callable] = {
    "inner_forgotten": lambda x: np.cos(x**2 + 1),
    "outer_at_x": lambda x: np.cos(x) * 2 * x,
    "inner_derivative_inside": lambda x: np.cos(2 * x),
    "sin_derivative_sign": lambda x: -np.cos(x**2 + 1) * 2 * x,
}

# The numeric tasks: for each function, what each of its slips computes; then the range it is graded on.
NUMERIC: dict[str, dict[str, Callable]] = {
    "cubic_grad": {
        "linear_term_dropped": lambda x: 3 * x**2,
        "power_rule_coefficient": lambda x: x**2 + 2,
    },
    "sin_square_grad": SIN_SQUARE,
    "nested_grad": {
        "nested_missing_inner": lambda x: 2 * _tanh(x) * (1 - _tanh(x) ** 2),
        "nested_missing_middle": lambda x: 6 * _tanh(x),
        "nested_missing_outer": lambda x: 3 * (1 - _tanh(x) ** 2),
    },
}
RANGES = {"cubic_grad": tol.CUBIC_RANGE, "sin_square_grad": tol.SIN_SQUARE_RANGE, "nested_grad": tol.NESTED_RANGE}

# compose_grad's slips, as functions of what it is given (f_grad, g, g_grad) and the point x.
COMPOSE: dict[str, Callable] = {
    "compose_inner_forgotten": lambda f_grad, g, g_grad, x: f_grad(g(x)),
    "compose_outer_at_x": lambda f_grad, g, g_grad, x: f_grad(x) * g_grad(x),
    "compose_inner_grad_at_inner": lambda f_grad, g, g_grad, x: f_grad(g(x)) * g_grad(g(x)),
}

# chain_rule_symbolic's slips, once f and g are the concrete functions F and G, at the points x.
CHAIN: dict[str, Callable] = {
    "chain_inner_times_inner": lambda F, G, x: G.grad(x, np) ** 2,
    "chain_outer_at_x": lambda F, G, x: F.grad(x, np) * G.grad(x, np),
}

# The numeric probes: 9 evenly spaced points over each graded range (x = 0 among them where the range
# holds it): every two slips above disagree at several of them. Symbolic answers have no failing
# input: the spec evaluates them at fixed points, which serve as the probe.
PROBE_POINTS = 9


def probe(bounds: tuple[float, float]) -> np.ndarray:
    return np.linspace(*bounds, PROBE_POINTS)


PROBE_COMPOSITION = Composition(oracle.ELEMENTARY["sin"], oracle.ELEMENTARY["exp"], probe(tol.COMPOSE_RANGE))


def _named(observed: Sequence[Any], inputs: Sequence[Any], formulas: dict[str, Callable]) -> Diagnosis | None:
    """The one slip whose formula, evaluated on `inputs`, gives the `observed` values."""
    return identify(KATA, observed, {mistake: [[formula(*x) for x in inputs]] for mistake, formula in formulas.items()})


def _copy(x: float | np.ndarray) -> float | np.ndarray:
    return x.copy() if isinstance(x, np.ndarray) else x


# --- the diagnoses the spec calls ----------------------------------------------------------------
@quietly
def numeric(learner, name: str, x: float | np.ndarray) -> Diagnosis | None:
    """The slip behind learner.<name>(x) disagreeing with torch, re-run on x and on the probe."""
    inputs = [(x,), (probe(RANGES[name]),)]
    function = getattr(learner, name)
    return _named([function(_copy(v)) for (v,) in inputs], inputs, NUMERIC[name])


def scalar_only(error: TypeError, x: float | np.ndarray) -> Diagnosis | None:
    """math_on_arrays: NumPy refused to turn the array x into the one number math.cos (or float()) takes."""
    return known(KATA, "math_on_arrays") if isinstance(x, np.ndarray) and "Python scalar" in str(error) else None


def not_a_function() -> Diagnosis:
    """compose_not_a_function: what compose_grad giving back anything not callable (a value, None) is."""
    return known(KATA, "compose_not_a_function")


@quietly
def compose(learner, c: Composition) -> Diagnosis | None:
    """The slip behind compose_grad(f_grad, g, g_grad)(x) disagreeing with torch, on c and on the probe."""
    cases = [c, PROBE_COMPOSITION]
    given = [(case.f.numpy_grad(), case.g.numpy(), case.g.numpy_grad()) for case in cases]
    observed = [learner.compose_grad(*args)(case.x.copy()) for args, case in zip(given, cases)]
    return _named(observed, [(*args, case.x) for args, case in zip(given, cases)], COMPOSE)


def sin_square_symbolic(values: np.ndarray, at: np.ndarray) -> Diagnosis | None:
    """The slip behind a symbolic d/dx sin(x**2 + 1) whose values at the points `at` are `values`."""
    return _named([values], [(at,)], SIN_SQUARE)


def unevaluated(values: np.ndarray, at: np.ndarray) -> Diagnosis | None:
    """symbolic_unevaluated: an answer holding a Derivative whose `values` once worked out (.doit())
    are torch's derivative at the points `at`: only the evaluation is missing."""
    return identify(KATA, [values], {"symbolic_unevaluated": [[oracle.derivative(oracle.sin_square, at)]]})


def chain_rule(
    pairs: Sequence[tuple[oracle.Elementary, oracle.Elementary]], values: Sequence[np.ndarray], at: np.ndarray
) -> Diagnosis | None:
    """The slip behind chain_rule_symbolic(), whose d/dx f(g(x)) with F for f and G for g is values[i]
    at the points `at`, for each (F, G) = pairs[i]."""
    return _named(values, [(F, G, at) for F, G in pairs], CHAIN)
