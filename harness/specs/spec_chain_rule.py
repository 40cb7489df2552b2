"""Hidden spec for kata 01_chain_rule: numbers are checked against torch autograd in float64,
symbolic answers are proven equal with sympy.

Each test is one property, so partial credit is possible; the `learner` fixture is the learner's
module. Tolerances and input ranges, with their reasons, are in harness/tolerances.py. sympy is
imported inside the symbolic tests only, so the numeric ones never wait for it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given

from harness import tolerances as tol
from harness.checks import KataFailure, describe, example_on_failure, expect_close, expect_close_at, expect_elementwise
from harness.learner import format_frames, learner_frames
from harness.oracles import chain_rule as oracle
from harness.strategies import Composition, Points, compositions, floats_in, points


def _tanh(x):  # the middle layer of nested_grad
    return np.tanh(3 * x + 1)


# Wrong answers seen often enough to name: (the formula, its value, what to tell the learner).
MISTAKES = {
    "cubic_grad": [
        ("3*x**2", lambda x: 3 * x**2, "the derivative of 2*x is 2, it does not vanish."),
    ],
    "sin_square_grad": [
        ("cos(x**2 + 1)", lambda x: np.cos(x**2 + 1),
         "that is the outer derivative alone: multiply it by the inner derivative, d/dx (x**2 + 1) = 2*x."),
        ("cos(2*x)", lambda x: np.cos(2 * x),
         "the inner derivative 2*x is a factor outside the cos, which stays at the inner value x**2 + 1."),
    ],
    "nested_grad": [
        ("2*tanh(3*x + 1)*(1 - tanh(3*x + 1)**2)", lambda x: 2 * _tanh(x) * (1 - _tanh(x) ** 2),
         "the innermost link is missing: d/dx (3*x + 1) = 3."),
        ("6*tanh(3*x + 1)", lambda x: 6 * _tanh(x),
         "the middle link is missing: d/du tanh(u) = 1 - tanh(u)**2."),
        ("3*(1 - tanh(3*x + 1)**2)", lambda x: 3 * (1 - _tanh(x) ** 2),
         "the outer link is missing: d/dv v**2 = 2*v, with v = tanh(3*x + 1)."),
    ],
}  # fmt: skip

# Concrete (outer, inner) pairs substituted into the learner's d/dx f(g(x)).
CONCRETE_PAIRS = [("sin", "square"), ("exp", "cos"), ("cube", "tanh"), ("sigmoid", "sin")]


def call(learner, name: str, x: float | np.ndarray):
    """learner.<name>(x), with math.sin and friends on an array explained instead of a bare TypeError."""
    try:
        return getattr(learner, name)(np.copy(x) if isinstance(x, np.ndarray) else x)
    except TypeError as exc:
        if not (isinstance(x, np.ndarray) and "Python scalar" in str(exc)):
            raise
        frames = format_frames(learner_frames(exc.__traceback__, Path(learner.__file__)))
        raise KataFailure(
            f"{name}(x) raised TypeError for an array x of shape {x.shape}: {exc}\n{frames}\n"
            "math.sin, math.cos, math.exp and float() take one number; np.sin, np.cos, np.exp, np.tanh"
            " work entry by entry on arrays (and on single floats too): use those."
        ) from None


def expect_derivative(got, expected, x, *, what: str, mistakes) -> None:
    """got must match torch's derivative at x; a failure names the likely mistake when it recognises one."""
    try:
        if isinstance(x, np.ndarray):
            expect_close_at(x, got, expected, what=what, rtol=tol.CHAIN_RTOL, atol=tol.CHAIN_ATOL)
        else:
            expect_close(got, expected, what=what, rtol=tol.CHAIN_RTOL, atol=tol.CHAIN_ATOL)
    except KataFailure as failure:
        for formula, value, advice in mistakes:
            if np.allclose(got, value(x), rtol=tol.CHAIN_RTOL, atol=tol.CHAIN_ATOL):
                raise KataFailure(f"{failure}\nLikely mistake: yours equals {formula}; {advice}") from None
        raise


def check_numeric(learner, name: str, fn, x: float | np.ndarray) -> None:
    what = f"{name}({x!r})" if isinstance(x, float) else f"{name}(x)"
    expected = oracle.derivative(fn, x)
    got = expect_elementwise(call(learner, name, x), x, what=what)
    expect_derivative(got, expected, x, what=what, mistakes=MISTAKES[name])


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


# --- Task 01.4: compose_grad ----------------------------------------------------------------------
@given(c=compositions(oracle.ELEMENTARY, tol.COMPOSE_RANGE))
def test_compose_grad_matches_torch(learner, c: Composition):
    with example_on_failure(c):
        f_grad, g, g_grad = c.f.numpy_grad(), c.g.numpy(), c.g.numpy_grad()
        h = learner.compose_grad(f_grad, g, g_grad)
        if not callable(h):
            raise KataFailure(
                "compose_grad(f_grad, g, g_grad) should return a function of x (a def inside it, or a lambda),"
                f" but it returned {describe(h)}."
            )
        what = f"compose_grad(f_grad, g, g_grad)(x), the derivative of {c.f.text(c.g.text('x'))},"
        got = expect_elementwise(h(c.x.copy()), c.x, what=what)
        mistakes = [
            ("f_grad(g(x))", lambda x: f_grad(g(x)),
             "the inner derivative is missing: multiply by g_grad(x)."),
            ("f_grad(x) * g_grad(x)", lambda x: f_grad(x) * g_grad(x),
             "the outer derivative is taken at the inner value: f_grad(g(x)), not f_grad(x)."),
        ]  # fmt: skip
        expect_derivative(got, oracle.composition_derivative(c.f, c.g, c.x), c.x, what=what, mistakes=mistakes)


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


def sin_square_answer(learner):
    import sympy

    what = "sin_square_grad_symbolic()"
    expr = symbolic_answer(learner.sin_square_grad_symbolic(), what=what)
    x = sympy.Symbol("x")
    others = expr.free_symbols - {x}
    if others:
        raise KataFailure(f"{what} is {expr}: it contains {', '.join(sorted(map(str, others)))}, but should depend on x only.")
    if expr.has(sympy.Derivative):
        raise KataFailure(f"{what} is {expr}: work the Derivative out (or call .doit() on it) and return the result.")
    return x, expr


def test_sin_square_grad_symbolic_values(learner):
    x, expr = sin_square_answer(learner)
    at = np.array(tol.SYMBOLIC_POINTS)
    got = np.array([value_at(expr, x, point) for point in at])
    for point, value in zip(at, got):
        if not (np.isfinite(value) and abs(value.imag) <= tol.CHAIN_ATOL + tol.CHAIN_RTOL * abs(value)):
            raise KataFailure(
                f"sin_square_grad_symbolic() is {expr}, which at x = {point:g} is {expr.subs(x, point)}, not a finite real number."
            )
    what = f"sin_square_grad_symbolic() = {expr}"
    expected = oracle.derivative(oracle.sin_square, at)
    expect_derivative(got.real, expected, at, what=what, mistakes=MISTAKES["sin_square_grad"])


def test_sin_square_grad_symbolic_is_exact(learner):
    import sympy

    _, expr = sin_square_answer(learner)
    _, truth = oracle.sin_square_symbolic()
    # A float such as the 1.0 in x**2 + 1.0 is exact, but sympy will not cancel it against 1.
    difference = sympy.nsimplify(expr, rational=True) - truth
    if not proven_zero(difference):
        raise KataFailure(
            f"sin_square_grad_symbolic() is {expr}, which is not exactly d/dx sin(x**2 + 1) = {truth}:"
            f" sympy.simplify(yours - that) is {sympy.simplify(difference)}, not 0."
        )


def chain_rule_answer(learner):
    import sympy

    x, f, g = sympy.Symbol("x"), sympy.Function("f"), sympy.Function("g")
    return symbolic_answer(learner.chain_rule_symbolic(), what="chain_rule_symbolic()"), x, f, g


def test_chain_rule_symbolic_is_outer_times_inner(learner):
    import sympy

    expr, x, _, g = chain_rule_answer(learner)
    inner = sympy.Derivative(g(x), x)
    if not (isinstance(expr, sympy.Mul) and inner in expr.args):
        raise KataFailure(
            f"chain_rule_symbolic() is {expr}; write it as a product: the derivative of the outer function f,"
            f" taken at g(x), times the derivative of the inner function, {inner}."
        )


def test_chain_rule_symbolic_with_concrete_functions(learner):
    import sympy

    expr, x, f, g = chain_rule_answer(learner)
    t = sympy.Dummy("t")
    for outer, inner in CONCRETE_PAIRS:
        F, G = oracle.ELEMENTARY[outer], oracle.ELEMENTARY[inner]
        # f first: a derivative with respect to g(x) only makes sense while g is still undefined.
        got = expr.subs(f, sympy.Lambda(t, F.value(t, sympy))).doit()
        got = got.subs(g, sympy.Lambda(t, G.value(t, sympy))).doit()
        _, truth = oracle.concrete_derivative(F, G)
        if not proven_zero(got - truth):
            hint = " In yours f is applied to x itself; f' belongs at the inner value g(x)." if expr.has(f(x)) else ""
            raise KataFailure(
                f"With f(t) = {F.text('t')} and g(x) = {G.text('x')}, chain_rule_symbolic() = {expr}"
                f" becomes {got}, but d/dx {F.text(G.text('x'))} = {truth}.{hint}"
            )
