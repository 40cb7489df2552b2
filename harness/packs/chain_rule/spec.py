"""Hidden spec for kata 01_chain_rule: numbers are checked against torch autograd in float64,
symbolic answers are proven equal with sympy.

Each test is one property, so partial credit is possible; the `learner` fixture is the learner's
module. Tolerances and input ranges, with their reasons, are in harness/grading/tolerances.py. sympy is
imported inside the symbolic tests only, so the numeric ones never wait for it. A failure that
matches a mistake of harness/packs/chain_rule/catalog.toml names it (harness/packs/chain_rule/diagnoses.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

from harness.grading import tolerances as tol
from harness.grading.checks import Diagnose, KataFailure, describe, example_on_failure, expect_close, expect_elementwise, safely
from harness.packs.chain_rule import diagnoses as diagnose
from harness.grading.learner import format_frames
from harness.packs.chain_rule import oracle
from harness.grading.strategies import Composition, Points, compositions, floats_in, points

# Concrete (outer, inner) pairs substituted into the learner's d/dx f(g(x)).
CONCRETE_PAIRS = [
    (oracle.ELEMENTARY[outer], oracle.ELEMENTARY[inner])
    for outer, inner in [("sin", "square"), ("exp", "cos"), ("cube", "tanh"), ("sigmoid", "sin")]
]
# Where symbolic answers are evaluated: the points a failure shows, and those their diagnoses compare.
SYMBOLIC_POINTS = np.array(tol.SYMBOLIC_POINTS)


def call(learner, name: str, *args):
    """learner.<name>(*args), with a TypeError the diagnoses recognise (math.sin on an array, ^ for a
    power, np.cos on a sympy expression) explained instead of bare."""
    try:
        return getattr(learner, name)(*(np.copy(a) if isinstance(a, np.ndarray) else a for a in args))
    except TypeError as exc:
        x = args[0] if args else None
        found = diagnose.scalar_only(exc, x) if args else diagnose.numpy_on_symbols(exc)
        if found is None:
            raise
        frames = format_frames(getattr(exc, "frames", []))
        given = f" for an array x of shape {x.shape}" if isinstance(x, np.ndarray) else f" for x = {x!r}" if args else ""
        # What to use instead is the diagnosis' to say: it is named whenever this failure is raised.
        raise KataFailure(f"{name}({'x' if args else ''}) raised TypeError{given}: {exc}\n{frames}", found) from None


def expect_derivative(got, expected, x, *, what: str, diagnose: Diagnose) -> None:
    """got must match torch's derivative at x; `diagnose()` names the likely mistake when it recognises one."""
    at = x if isinstance(x, np.ndarray) else None  # an array's worst points are shown with their x
    expect_close(got, expected, what=what, rtol=tol.CHAIN_RTOL, atol=tol.CHAIN_ATOL, diagnose=diagnose, at=at)


def check_numeric(learner, name: str, fn, x: float | np.ndarray) -> None:
    what = f"{name}({x!r})" if isinstance(x, float) else f"{name}(x)"
    expected = oracle.derivative(fn, x)
    got = expect_elementwise(call(learner, name, x), x, what=what)
    expect_derivative(got, expected, x, what=what, diagnose=lambda: diagnose.numeric(learner, name, x))


# --- Task 01.1: d/dx (x**3 + 2*x) ----------------------------------------------------------------
@given(x=floats_in(tol.CUBIC_RANGE))
def test_cubic_grad_on_floats(learner, x):
    check_numeric(learner, "cubic_grad", oracle.cubic, x)


@given(p=points(tol.CUBIC_RANGE))
def test_cubic_grad_on_arrays(learner, p: Points):
    with example_on_failure(p):
        check_numeric(learner, "cubic_grad", oracle.cubic, p.x)


# --- Task 01.2: d/dx sin(x**2 + 1) ---------------------------------------------------------------
@given(x=floats_in(tol.SIN_SQUARE_RANGE))
def test_sin_square_grad_on_floats(learner, x):
    check_numeric(learner, "sin_square_grad", oracle.sin_square, x)


@given(p=points(tol.SIN_SQUARE_RANGE))
def test_sin_square_grad_on_arrays(learner, p: Points):
    with example_on_failure(p):
        check_numeric(learner, "sin_square_grad", oracle.sin_square, p.x)


# --- Task 01.3: d/dx tanh(3*x + 1)**2 ------------------------------------------------------------
@given(x=floats_in(tol.NESTED_RANGE))
def test_nested_grad_on_floats(learner, x):
    check_numeric(learner, "nested_grad", oracle.nested, x)


@given(p=points(tol.NESTED_RANGE))
def test_nested_grad_on_arrays(learner, p: Points):
    with example_on_failure(p):
        check_numeric(learner, "nested_grad", oracle.nested, p.x)


# --- Tasks 01.1-01.3, by hand: exact past float64 -------------------------------------------------
def extended_points(name: str) -> np.ndarray:
    low, high = diagnose.RANGES[name]
    return np.arange(np.ceil(low / tol.EXTENDED_STEP) * tol.EXTENDED_STEP, high + 1e-9, tol.EXTENDED_STEP).astype(np.longdouble)


@pytest.mark.parametrize("name", ["cubic_grad", "sin_square_grad", "nested_grad"])
def test_exact_in_extended_precision(learner, name):
    x = extended_points(name)
    x64 = x.astype(np.float64)  # the grid's binary fractions are exact in float64 too
    # Only a right answer earns this point: None, or anything else that is no derivative, has no
    # digits to lose, and an answer that turns the points into float64 is still judged (below).
    what = f"{name}(x) on np.longdouble points (this check counts once it agrees with torch)"
    got = expect_elementwise(call(learner, name, x), x, what=what)
    expect_derivative(got, oracle.derivative(diagnose.FUNCTIONS[name], x64), x64, what=what, diagnose=lambda: diagnose.numeric(learner, name, x64))
    # Exact to the precision the answer computes in: 19 digits if it kept np.longdouble (where the
    # machine has more than float64), float64's own otherwise (tolerances.py).
    extended = got.dtype == np.longdouble and np.finfo(np.longdouble).eps < np.finfo(np.float64).eps
    limit, where = (tol.EXTENDED_TOL, "(19 digits)") if extended else (tol.EXTENDED_TOL_FLOAT64, f"but computed in {got.dtype},")
    want = oracle.extended_derivative(name, x)
    error = np.abs(got.astype(np.longdouble) - want)
    bad = ~(error <= limit * (1 + np.abs(want)))
    if bad.any():
        worst = int(np.argmax(np.where(bad, np.nan_to_num(error, nan=np.inf), 0)))
        raise KataFailure(
            f"{name}(x) on np.longdouble points {where} is off from the exact derivative by up to {float(np.nanmax(error)):.3g}"
            f" (at x = {float(x[worst]):g}: yours {float(got[worst])!r}, exact {float(want[worst])!r}), where a formula worked out"
            f" by hand keeps the digits it computes with (to {limit:g} of 1 + |derivative|): is it an approximation?",
            # A slip of the task's families, or a difference stencil too fine for float64 to show.
            diagnose.numeric(learner, name, x64) or safely(lambda: diagnose.finite_difference(got, diagnose.FUNCTIONS[name], x64, exact=want)),
        )


# --- Task 01.4: compose_grad ----------------------------------------------------------------------
def handed(name: str, function):
    """A function handed to compose_grad, which says so when it is given something other than x values
    (`f_grad(g)`), rather than NumPy's "loop of ufunc does not support argument 0 of type function"."""

    def checked(t):
        if isinstance(t, bool) or not isinstance(t, (int, float, np.ndarray, np.generic)):
            given = "a function, not values of x" if callable(t) else describe(t)
            raise TypeError(f"{name}() takes x values (a number or an array), but it was given {given}")
        return function(t)

    return checked


@given(c=compositions(oracle.ELEMENTARY, tol.COMPOSE_RANGE))
def test_compose_grad_matches_torch(learner, c: Composition):
    with example_on_failure(c):
        f_grad, g, g_grad = handed("f_grad", c.f.numpy_grad()), handed("g", c.g.numpy()), handed("g_grad", c.g.numpy_grad())
        h = learner.compose_grad(f_grad, g, g_grad)
        if not callable(h):
            raise KataFailure(
                "compose_grad(f_grad, g, g_grad) should return a function of x (a def inside it, or a lambda),"
                f" but it returned {describe(h)}.",
                diagnose.not_a_function(),
            )
        what = f"compose_grad(f_grad, g, g_grad)(x), the derivative of {c.f.text(c.g.text('x'))},"
        got = expect_elementwise(h(c.x.copy()), c.x, what=what)
        expected = oracle.composition_derivative(c.f, c.g, c.x)
        expect_derivative(got, expected, c.x, what=what, diagnose=lambda: diagnose.compose(learner, c))


# --- Task 01.5: symbolic, with sympy --------------------------------------------------------------
def symbolic_answer(value, *, what: str):
    """The learner's sympy expression, with their x and their f, g (whatever assumptions) made ours."""
    import sympy
    from sympy.core.function import AppliedUndef

    if isinstance(value, str):
        raise KataFailure(
            f"{what} is the string {value!r}: return a sympy expression, built from sympy.Symbol('x')"
            " (or turned from text into one by sympy.sympify), not text."
        )
    if not isinstance(value, sympy.Expr):
        raise KataFailure(f"{what} should be a sympy expression, but it is {describe(value)}.")
    x = sympy.Symbol("x")
    value = value.xreplace({s: x for s in value.free_symbols if s.name == "x"})
    functions = {a.func for a in value.atoms(AppliedUndef)}
    return value.subs({fn: sympy.Function(fn.__name__) for fn in functions})


def shown(expr, limit: int = 300) -> str:
    """A learner's expression as sympy prints it, cut to `limit` characters: it may be huge, or hold an
    integer Python refuses to print (over 4300 digits, once sympy has multiplied the learner's factors)."""
    try:
        text = str(expr)
    except ValueError:
        return "an expression holding an integer of more than 4300 digits"
    return text if len(text) <= limit else f"{text[: limit - 60]} ... {text[-50:]}"


def proven_zero(difference) -> bool:
    """sympy shows that `difference` is 0."""
    import sympy

    if difference.expand() == 0:  # most forms, at once
        return True
    # simplify() for the rest; trig identities written with exp(I*...) cancel once in exponentials.
    return sympy.simplify(difference) == 0 or sympy.simplify(difference.rewrite(sympy.exp)) == 0


def value_at(expr, x, point: float) -> complex:
    """expr at x = point, or nan where sympy gives no number (at a pole, say)."""
    try:
        # Complex, not float: a correct form written with exp(I*...) keeps an imaginary part of ~1e-23.
        return complex(expr.evalf(subs={x: point}))
    except (ArithmeticError, TypeError, ValueError):
        return complex("nan")


def real_values(expr, x) -> np.ndarray:
    """expr at each of SYMBOLIC_POINTS: nan where it is not a finite real number there."""
    values = np.array([value_at(expr, x, point) for point in SYMBOLIC_POINTS])
    real = np.isfinite(values) & (np.abs(values.imag) <= tol.CHAIN_ATOL + tol.CHAIN_RTOL * np.abs(values))
    return np.where(real, values.real, np.nan)


def sin_square_answer(learner):
    import sympy

    what = "sin_square_grad_symbolic()"
    expr = symbolic_answer(call(learner, "sin_square_grad_symbolic"), what=what)
    x = sympy.Symbol("x")
    others = expr.free_symbols - {x}
    if others:
        raise KataFailure(f"{what} is {shown(expr)}: it contains {', '.join(sorted(map(str, others)))}, but should depend on x only.")
    if expr.has(sympy.Derivative):
        raise KataFailure(
            f"{what} is {shown(expr)}: it still holds an unevaluated Derivative.",
            safely(lambda: diagnose.unevaluated(real_values(expr.doit(), x), SYMBOLIC_POINTS)),
        )
    return x, expr


def test_sin_square_grad_symbolic_values(learner):
    x, expr = sin_square_answer(learner)
    got = real_values(expr, x)
    for point, value in zip(SYMBOLIC_POINTS, got):
        if np.isnan(value):
            raise KataFailure(
                f"sin_square_grad_symbolic() is {shown(expr)}, which at x = {point:g} is {shown(expr.subs(x, point))}, not a finite real number."
            )
    what = f"sin_square_grad_symbolic() = {shown(expr)}"
    expected = oracle.derivative(oracle.sin_square, SYMBOLIC_POINTS)
    expect_derivative(got, expected, SYMBOLIC_POINTS, what=what, diagnose=lambda: diagnose.sin_square_symbolic(got, SYMBOLIC_POINTS))


def test_sin_square_grad_symbolic_is_exact(learner):
    import sympy

    x, expr = sin_square_answer(learner)
    _, truth = oracle.sin_square_symbolic()
    # A float such as the 1.0 in x**2 + 1.0 is exact, but sympy will not cancel it against 1.
    difference = sympy.nsimplify(expr, rational=True) - truth
    if not proven_zero(difference):
        raise KataFailure(
            f"sin_square_grad_symbolic() is {shown(expr)}, which is not exactly d/dx sin(x**2 + 1):"
            f" sympy.simplify(yours - the derivative) is {shown(sympy.simplify(difference))}, not 0.",
            safely(lambda: diagnose.sin_square_symbolic(real_values(expr, x), SYMBOLIC_POINTS)),
        )


def chain_rule_answer(learner):
    import sympy

    x, f, g = sympy.Symbol("x"), sympy.Function("f"), sympy.Function("g")
    return symbolic_answer(call(learner, "chain_rule_symbolic"), what="chain_rule_symbolic()"), x, f, g


def concrete(expr, f, g, F: oracle.Elementary, G: oracle.Elementary):
    """expr with the undefined f and g replaced by the concrete functions F and G."""
    import sympy

    t = sympy.Dummy("t")
    # f first: a derivative with respect to g(x) only makes sense while g is still undefined.
    expr = expr.subs(f, sympy.Lambda(t, F.value(t, sympy))).doit()
    return expr.subs(g, sympy.Lambda(t, G.value(t, sympy))).doit()


def chain_rule_mistake(expr, x, f, g):
    """The catalog's slip that the learner's d/dx f(g(x)) is, judged from its values for every concrete pair."""
    values = [real_values(concrete(expr, f, g, F, G), x) for F, G in CONCRETE_PAIRS]
    return diagnose.chain_rule(CONCRETE_PAIRS, values, SYMBOLIC_POINTS)


def test_chain_rule_symbolic_is_outer_times_inner(learner):
    import sympy

    expr, x, f, g = chain_rule_answer(learner)
    inner = sympy.Derivative(g(x), x)
    if not (isinstance(expr, sympy.Mul) and inner in expr.args):
        raise KataFailure(
            f"chain_rule_symbolic() is {shown(expr)}, which is not a product with the inner function's derivative,"
            f" {inner}, among its factors.",
            safely(lambda: chain_rule_mistake(expr, x, f, g)),
        )


def test_chain_rule_symbolic_with_concrete_functions(learner):
    expr, x, f, g = chain_rule_answer(learner)
    for F, G in CONCRETE_PAIRS:
        got = concrete(expr, f, g, F, G)
        _, truth = oracle.concrete_derivative(F, G)
        if not proven_zero(got - truth):
            raise KataFailure(
                f"With f(t) = {F.text('t')} and g(x) = {G.text('x')}, chain_rule_symbolic() = {shown(expr)}"
                f" becomes {shown(got)}, but d/dx {F.text(G.text('x'))} = {truth}.",
                safely(lambda: chain_rule_mistake(expr, x, f, g)),
            )
