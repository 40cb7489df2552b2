"""Oracle for kata 01_chain_rule: derivatives by torch autograd (float64), and the symbolic truth by sympy.

The numeric tests import this module on every run, so sympy is imported only inside the functions
that need it: it costs a noticeable fraction of a second, and only the symbolic tests use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch


def derivative(fn: Callable[[torch.Tensor], torch.Tensor], x: float | np.ndarray) -> float | np.ndarray:
    """d/dx fn(x) at x (a float, or an array entry by entry), by torch autograd in float64."""
    t = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    # fn acts entry by entry, so the gradient of the sum holds each entry's own derivative.
    fn(t).sum().backward()
    return t.grad.numpy() if isinstance(x, np.ndarray) else t.grad.item()


def higher_derivatives(fn: Callable[[torch.Tensor], torch.Tensor], x: np.ndarray, orders: int) -> list[np.ndarray]:
    """The 1st to `orders`-th derivatives of fn at the points x, by autograd through autograd: what a
    finite difference's error is made of (a one-sided one's is h/2 times the 2nd, a central one's
    h**2/6 times the 3rd)."""
    t = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    out, result = fn(t), []
    for _ in range(orders):
        (out,) = torch.autograd.grad(out.sum(), t, create_graph=True)
        result.append(out.detach().numpy().copy())
    return result


def cubic(t: torch.Tensor) -> torch.Tensor:
    return t**3 + 2 * t


def sin_square(t: torch.Tensor) -> torch.Tensor:
    return torch.sin(t**2 + 1)


def nested(t: torch.Tensor) -> torch.Tensor:
    return torch.tanh(3 * t + 1) ** 2


# The numeric tasks' functions as sympy writes them, for the extended-precision truth below.
SYMPY_FUNCTIONS = {
    "cubic_grad": lambda x, sympy: x**3 + 2 * x,
    "sin_square_grad": lambda x, sympy: sympy.sin(x**2 + 1),
    "nested_grad": lambda x, sympy: sympy.tanh(3 * x + 1) ** 2,
}


def extended_derivative(name: str, x: np.ndarray) -> np.ndarray:
    """The derivative the numeric task `name` asks for, at points x exact in float64, by sympy's
    diff evaluated with mpmath at 40 digits and rounded to np.longdouble: truth past float64, where
    torch stops."""
    import mpmath
    import sympy

    s = sympy.Symbol("x")
    derivative = sympy.lambdify(s, sympy.diff(SYMPY_FUNCTIONS[name](s, sympy), s), "mpmath")
    with mpmath.workdps(40):
        return np.array([np.longdouble(mpmath.nstr(derivative(mpmath.mpf(float(v))), 30)) for v in x], dtype=np.longdouble)


@dataclass(frozen=True)
class Elementary:
    """A function compose_grad is tested with, and its derivative written out by hand.

    `value` and `grad` take (t, lib) with lib one of numpy, torch or sympy, so the one formula
    serves the learner (numpy), the oracle (torch) and the symbolic checks (sympy).
    `formula` and `grad_formula` are how messages write them, with {0} for the argument.
    """

    formula: str
    grad_formula: str
    value: Callable
    grad: Callable

    def text(self, arg: str) -> str:
        return _apply(self.formula, arg)

    def grad_text(self, arg: str) -> str:
        return _apply(self.grad_formula, arg)

    def numpy(self) -> Callable:
        return lambda t: self.value(t, np)

    def numpy_grad(self) -> Callable:
        return lambda t: self.grad(t, np)


def _apply(formula: str, arg: str) -> str:
    # `{0}**2` of x**3 needs parentheses, `sin({0})` of it does not.
    bare = "({0})" in formula or re.fullmatch(r"\w+(\(.*\))?", arg)
    return formula.format(arg if bare else f"({arg})")


def _sigmoid(t, lib):
    return 1 / (1 + lib.exp(-t))


# The functions compose_grad is tested with, in one place; simpler ones first, so a failure
# shrinks toward them. Ranges where their compositions stay well-conditioned: harness/grading/tolerances.py.
ELEMENTARY: dict[str, Elementary] = {
    "sin": Elementary("sin({0})", "cos({0})", lambda t, lib: lib.sin(t), lambda t, lib: lib.cos(t)),
    "square": Elementary("{0}**2", "2*{0}", lambda t, lib: t**2, lambda t, lib: 2 * t),
    "exp": Elementary("exp({0})", "exp({0})", lambda t, lib: lib.exp(t), lambda t, lib: lib.exp(t)),
    "cos": Elementary("cos({0})", "-sin({0})", lambda t, lib: lib.cos(t), lambda t, lib: -lib.sin(t)),
    "cube": Elementary("{0}**3", "3*{0}**2", lambda t, lib: t**3, lambda t, lib: 3 * t**2),
    "tanh": Elementary("tanh({0})", "1 - tanh({0})**2", lambda t, lib: lib.tanh(t), lambda t, lib: 1 - lib.tanh(t) ** 2),
    "sigmoid": Elementary(
        "sigmoid({0})",
        "sigmoid({0})*(1 - sigmoid({0}))",
        _sigmoid,
        lambda t, lib: _sigmoid(t, lib) * (1 - _sigmoid(t, lib)),
    ),
}


def composition_derivative(f: Elementary, g: Elementary, x: np.ndarray) -> np.ndarray:
    """d/dx f(g(x)) entry by entry, by torch autograd: the truth compose_grad is graded against."""
    return derivative(lambda t: f.value(g.value(t, torch), torch), x)


def sin_square_symbolic():
    """(x, d/dx sin(x**2 + 1)) by sympy, with x = sympy.Symbol("x")."""
    import sympy

    x = sympy.Symbol("x")
    return x, sympy.diff(sympy.sin(x**2 + 1), x)


def concrete_derivative(f: Elementary, g: Elementary):
    """(x, d/dx f(g(x))) by sympy for two concrete functions, with x = sympy.Symbol("x")."""
    import sympy

    x = sympy.Symbol("x")
    return x, sympy.diff(f.value(g.value(x, sympy), sympy), x)
