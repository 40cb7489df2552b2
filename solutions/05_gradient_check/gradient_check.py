"""Kata 05_gradient_check: the reference, written to be read after passing.

A gradient check is the test every hand-written backward pass deserves: the definition of the
derivative, evaluated numerically, against the formula you derived. It is slow (two calls of f per
entry), so it runs on small inputs, once, when the backward pass is written or changed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

FloatOrArray = float | np.ndarray


# --- Task 05.1: the numerical gradient ---------------------------------------------------------
def numerical_grad(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Centered differences: (f(x + h e_i) - f(x - h e_i)) / 2h for every index i of x.

    The error is O(h^2) (a one-sided difference is O(h)); too small an h and f's rounding, divided
    by h, takes over. x is probed in place and each entry restored from its saved value, not by
    subtracting h again: x - h + h is not always x in floating point.
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):  # every index of every axis
        saved = x[index]
        x[index] = saved + h
        f_plus = f(x)
        x[index] = saved - h
        f_minus = f(x)
        x[index] = saved
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad


# --- Task 05.2: comparing two gradients --------------------------------------------------------
def relative_error(a: FloatOrArray, b: FloatOrArray) -> FloatOrArray:
    """|a - b| / max(|a|, |b|); 0 where both are 0 (they agree, and 0/0 would be nan).

    Relative, because gradients come in every size: 1e-6 apart is nothing for two values of 1e3
    and everything for two values of 1e-6.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = np.maximum(np.abs(a), np.abs(b))
    error = np.abs(a - b) / np.where(scale > 0, scale, 1.0)  # where scale is 0, so is |a - b|
    return float(error) if error.ndim == 0 else error


# --- Task 05.3: the gradient check -------------------------------------------------------------
def grad_check(
    f: Callable[[np.ndarray], float], analytic_grad: Callable[[np.ndarray], np.ndarray], x: np.ndarray
) -> tuple[float, tuple[int, ...]]:
    """The worst relative error between the analytic and the numerical gradient, and its index."""
    analytic = np.asarray(analytic_grad(x.copy()), dtype=np.float64)
    errors = relative_error(analytic, numerical_grad(f, x.copy()))
    worst = np.unravel_index(np.argmax(errors), errors.shape)  # argmax counts flat: back to one int per axis
    return float(errors[worst]), tuple(int(i) for i in worst)


# --- Task 05.4: find the planted bug -----------------------------------------------------------
def find_wrong_gradient(
    loss: Callable[[dict[str, np.ndarray]], float],
    backward: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]],
    params: dict[str, np.ndarray],
) -> str:
    """Check each parameter on its own: the loss as a function of that one array, the rest held fixed."""
    errors = {}
    for name in params:

        def loss_of(value: np.ndarray, name: str = name) -> float:
            return loss({**params, name: value})

        def grad_of(value: np.ndarray, name: str = name) -> np.ndarray:
            return backward({**params, name: value})[name]

        errors[name], _ = grad_check(loss_of, grad_of, params[name])
    # The wrong gradient is the one that disagrees most; a fixed line (say 1e-4) works too, as long as
    # it sits in the gap between a correct check (~1e-7 or better) and a bug (1e-2 or worse).
    return max(errors, key=errors.get)
