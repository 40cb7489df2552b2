"""Kata 01_chain_rule: derivatives of composed functions, by hand, numerically and symbolically.

No torch, no autograd, no finite differences: work each derivative out with the chain rule.
The prompt is in README.md beside this file.

Conventions (the spec checks each one):
  * the numeric functions (Tasks 01.1-01.4) take a float or a NumPy array and work entry by entry:
    a float in gives a float out, an array in gives an array of the same shape out;
  * so use NumPy's functions (np.sin, np.cos, np.tanh), which work on both; math.sin does not take arrays;
  * the symbolic functions (Task 01.5) return sympy expressions in x = sympy.Symbol("x"). They import
    sympy inside themselves: only they run where sympy exists; the numeric tasks run where it does not.

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
    # TODO: differentiate term by term.
    raise NotImplementedError("cubic_grad() is not implemented yet (Task 01.1)")


# --- Task 01.2: one function inside another ----------------------------------------------------
def sin_square_grad(x: FloatOrArray) -> FloatOrArray:
    """d/dx sin(x**2 + 1), entry by entry."""
    # TODO: the outer function is sin(u), the inner one is u = x**2 + 1.
    raise NotImplementedError("sin_square_grad() is not implemented yet (Task 01.2)")


# --- Task 01.3: three nested functions ---------------------------------------------------------
def nested_grad(x: FloatOrArray) -> FloatOrArray:
    """d/dx tanh(3*x + 1)**2, entry by entry."""
    # TODO: name the three layers (u = 3*x + 1, v = tanh(u), y = v**2) and multiply their derivatives.
    raise NotImplementedError("nested_grad() is not implemented yet (Task 01.3)")


# --- Task 01.4: the chain rule as a function ---------------------------------------------------
def compose_grad(
    f_grad: Callable[[FloatOrArray], FloatOrArray],
    g: Callable[[FloatOrArray], FloatOrArray],
    g_grad: Callable[[FloatOrArray], FloatOrArray],
) -> Callable[[FloatOrArray], FloatOrArray]:
    """The function x -> d/dx f(g(x)), given f's derivative f_grad, and g with its derivative g_grad.

    f_grad, g and g_grad take a float or an array (entry by entry); so must the function returned.
    """
    # TODO: return a function of x (a def inside this one, or a lambda), not a value.
    raise NotImplementedError("compose_grad() is not implemented yet (Task 01.4)")


# --- Task 01.5: symbolic, with sympy -----------------------------------------------------------
def sin_square_grad_symbolic() -> sympy.Expr:
    """d/dx sin(x**2 + 1) as an exact sympy expression in x = sympy.Symbol("x")."""
    import sympy

    x = sympy.Symbol("x")
    # TODO: build the derivative from x, sympy.sin, sympy.cos, ...
    raise NotImplementedError("sin_square_grad_symbolic() is not implemented yet (Task 01.5)")


def chain_rule_symbolic() -> sympy.Expr:
    """d/dx f(g(x)) for undefined f and g, as (derivative of the outer) * (derivative of the inner)."""
    import sympy

    x, f, g = sympy.Symbol("x"), sympy.Function("f"), sympy.Function("g")
    # TODO: the outer derivative is taken with respect to g(x); the inner one with respect to x.
    raise NotImplementedError("chain_rule_symbolic() is not implemented yet (Task 01.5)")
