"""MISTAKE: sin_square_grad uses a central finite difference instead of the chain rule by hand.

No torch, no autograd, no finite differences: work each derivative out with the chain rule.
The prompt is in README.md beside this file.

Conventions (the spec checks each one):
  * the numeric functions (Tasks 01.1-01.4) take a float or a NumPy array and work entry by entry:
    a float in gives a float out, an array in gives an array of the same shape out;
  * so use NumPy's functions (np.sin, np.cos, np.tanh), which work on both; math.sin does not take arrays;
  * the symbolic functions (Task 01.5) return sympy expressions in x = sympy.Symbol("x"). They import
    sympy inside themselves: it is slow to import, and the numeric tasks are graded without it.

Run `pytest katas/01_chain_rule` to be graded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import sympy

FloatOrArray = float | np.ndarray


# --- Task 01.1: a polynomial -------------------------------------------------------------------
def cubic_grad(x: FloatOrArray) -> FloatOrArray:
    """d/dx (x**3 + 2*x), entry by entry."""
    return 3 * x**2 + 2


# --- Task 01.2: one function inside another ----------------------------------------------------
def sin_square_grad(x: FloatOrArray) -> FloatOrArray:
    """d/dx sin(x**2 + 1), entry by entry."""
    h = 1e-5
    return (np.sin((x + h) ** 2 + 1) - np.sin((x - h) ** 2 + 1)) / (2 * h)


# --- Task 01.3: three nested functions ---------------------------------------------------------
def nested_grad(x: FloatOrArray) -> FloatOrArray:
    """d/dx tanh(3*x + 1)**2, entry by entry."""
    u = 3 * x + 1
    v = np.tanh(u)
    # y = v**2: dy/dv = 2v, dv/du = 1 - tanh(u)**2, du/dx = 3
    return 2 * v * (1 - v**2) * 3


# --- Task 01.4: the chain rule as a function ---------------------------------------------------
def compose_grad(
    f_grad: Callable[[FloatOrArray], FloatOrArray],
    g: Callable[[FloatOrArray], FloatOrArray],
    g_grad: Callable[[FloatOrArray], FloatOrArray],
) -> Callable[[FloatOrArray], FloatOrArray]:
    """The function x -> d/dx f(g(x)), given f's derivative f_grad, and g with its derivative g_grad.

    f_grad, g and g_grad take a float or an array (entry by entry); so must the function returned.
    """
    return lambda x: f_grad(g(x)) * g_grad(x)


# --- Task 01.5: symbolic, with sympy -----------------------------------------------------------
def sin_square_grad_symbolic() -> sympy.Expr:
    """d/dx sin(x**2 + 1) as an exact sympy expression in x = sympy.Symbol("x")."""
    import sympy

    x = sympy.Symbol("x")
    return sympy.cos(x**2 + 1) * 2 * x


def chain_rule_symbolic() -> sympy.Expr:
    """d/dx f(g(x)) for undefined f and g, as (derivative of the outer) * (derivative of the inner)."""
    import sympy

    x, f, g = sympy.Symbol("x"), sympy.Function("f"), sympy.Function("g")
    return sympy.Derivative(f(g(x)), g(x)) * sympy.Derivative(g(x), x)
