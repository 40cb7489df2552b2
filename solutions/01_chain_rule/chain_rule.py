"""Reference solution for kata 01_chain_rule: the chain rule, numerically and symbolically.

Read this after your own version passes. Every derivative below is one pattern: name the layers
from the inside out, then multiply (derivative of the outer, taken at the inner value) x
(derivative of the inner). NumPy's functions work entry by entry, so each numeric answer handles
a float and an array alike.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

FloatOrArray = float | np.ndarray


def cubic_grad(x: FloatOrArray) -> FloatOrArray:
    # No composition yet: the power rule term by term, d/dx x**3 = 3x**2 and d/dx 2x = 2.
    return 3 * x**2 + 2


def sin_square_grad(x: FloatOrArray) -> FloatOrArray:
    u = x**2 + 1  # the inner function
    outer = np.cos(u)  # d/du sin(u), taken at the inner value u, not at x
    inner = 2 * x  # du/dx
    return outer * inner


def nested_grad(x: FloatOrArray) -> FloatOrArray:
    # Three layers, y = v**2 with v = tanh(u) and u = 3x + 1: one factor per layer.
    u = 3 * x + 1
    v = np.tanh(u)
    dy_dv = 2 * v
    dv_du = 1 - v**2  # tanh' written with the tanh already computed, as backprop does
    du_dx = 3
    return dy_dv * dv_du * du_dx


def compose_grad(
    f_grad: Callable[[FloatOrArray], FloatOrArray],
    g: Callable[[FloatOrArray], FloatOrArray],
    g_grad: Callable[[FloatOrArray], FloatOrArray],
) -> Callable[[FloatOrArray], FloatOrArray]:
    # The chain rule itself, for any f and g: a function of x, evaluated only when it is called.
    def grad(x: FloatOrArray) -> FloatOrArray:
        return f_grad(g(x)) * g_grad(x)  # outer derivative at the inner value, times inner derivative

    return grad


def sin_square_grad_symbolic():
    import sympy  # here, not at the top: slow to import, and only the symbolic tasks need it

    x = sympy.Symbol("x")
    # The same product as sin_square_grad: cos at the inner value, times the inner derivative.
    # sympy.diff(sympy.sin(x**2 + 1), x) gives the same expression, and is how to check it.
    return sympy.cos(x**2 + 1) * 2 * x


def chain_rule_symbolic():
    import sympy

    x, f, g = sympy.Symbol("x"), sympy.Function("f"), sympy.Function("g")
    # f' is a derivative with respect to f's own argument, which here is g(x); sympy.diff(f(g(x)), x)
    # writes the same thing, sometimes as Subs(Derivative(f(_xi), _xi), _xi, g(x)).
    outer = sympy.Derivative(f(g(x)), g(x))
    inner = sympy.Derivative(g(x), x)
    return outer * inner
