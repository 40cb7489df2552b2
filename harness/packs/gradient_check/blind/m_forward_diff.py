"""MISTAKE: numerical_grad uses a one-sided forward difference (f(x+h) - f(x)) / h instead of the centered one.

Kata 05_gradient_check: a numerical gradient check, then a planted backprop bug found with it.

NumPy only: no torch, no autograd. The prompt is in README.md beside this file.

Conventions (the spec checks each one):
  * f(x) takes a float64 array shaped like x (any shape) and returns a float;
  * gradients are arrays shaped like what they are the gradient of;
  * relative_error(a, b) = |a - b| / max(|a|, |b|), entry by entry, and 0 where a and b are both 0;
  * no function modifies the arrays it is given: x comes back exactly as it was, bit for bit.

Run `pytest katas/05_gradient_check` to be graded.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

FloatOrArray = float | np.ndarray


# --- Task 05.1: the numerical gradient ---------------------------------------------------------
def numerical_grad(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """The gradient of f at x by centered differences: a new float array of x's shape.

    Each entry: nudge that entry alone by +h and by -h, and see how f changes. x: any shape.
    x must come back bit for bit as it was given, and each call of f sees only one entry moved.
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    f0 = f(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        f_plus = f(x)
        x[idx] = old
        grad[idx] = (f_plus - f0) / h
    return grad


# --- Task 05.2: comparing two gradients --------------------------------------------------------
def relative_error(a: FloatOrArray, b: FloatOrArray) -> FloatOrArray:
    """|a - b| / max(|a|, |b|), entry by entry; 0 where a and b are both exactly 0.

    Floats in, a float out; arrays in (same shape), an array of that shape out. Never nan or inf.
    """
    a_arr = np.asarray(a, dtype=np.float64)
    b_arr = np.asarray(b, dtype=np.float64)
    num = np.abs(a_arr - b_arr)
    den = np.maximum(np.abs(a_arr), np.abs(b_arr))
    safe = np.where(den == 0, 1.0, den)
    err = np.where(den == 0, 0.0, num / safe)
    if err.ndim == 0:
        return float(err)
    return err


# --- Task 05.3: the gradient check -------------------------------------------------------------
def grad_check(
    f: Callable[[np.ndarray], float], analytic_grad: Callable[[np.ndarray], np.ndarray], x: np.ndarray
) -> tuple[float, tuple[int, ...]]:
    """(worst_error, worst_index): the largest relative error between analytic_grad(x) and the
    numerical gradient of f at x, and where it is (a tuple, one int per axis of x: x[worst_index]).
    """
    num = numerical_grad(f, x)
    ana = np.asarray(analytic_grad(x), dtype=np.float64)
    err = np.asarray(relative_error(ana, num))
    flat = int(np.argmax(err))
    idx = tuple(int(i) for i in np.unravel_index(flat, err.shape))
    return float(err[idx]), idx


# --- Task 05.4: find the planted bug -----------------------------------------------------------
def find_wrong_gradient(
    loss: Callable[[dict[str, np.ndarray]], float],
    backward: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]],
    params: dict[str, np.ndarray],
) -> str:
    """The key of params whose gradient backward(params) gets wrong (exactly one is wrong).

    loss(params) is the network's loss (a float); backward(params) its gradients, a dict with
    params' keys and shapes. Use your gradient check, one parameter at a time.
    """
    grads = backward({k: v.copy() for k, v in params.items()})
    worst = {}
    for name in params:
        def loss_of(w, name=name):
            trial = dict(params)
            trial[name] = w
            return loss(trial)
        err, _ = grad_check(loss_of, lambda w, name=name: grads[name], params[name].copy())
        worst[name] = err
    return max(worst, key=worst.get)
