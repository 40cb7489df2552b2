"""MISTAKE: grad_check reports the norm ratio ||a-n|| / max(||a||, ||n||) as worst_error instead of the largest entry-wise relative error.

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
    x = np.asarray(x, dtype=float)
    grad = np.zeros_like(x)
    for i in range(x.size):
        x_plus = x.copy()
        x_plus.flat[i] += h
        x_minus = x.copy()
        x_minus.flat[i] -= h
        grad.flat[i] = (f(x_plus) - f(x_minus)) / (2 * h)
    return grad


# --- Task 05.2: comparing two gradients --------------------------------------------------------
def relative_error(a: FloatOrArray, b: FloatOrArray) -> FloatOrArray:
    """|a - b| / max(|a|, |b|), entry by entry; 0 where a and b are both exactly 0.

    Floats in, a float out; arrays in (same shape), an array of that shape out. Never nan or inf.
    """
    if np.isscalar(a) and np.isscalar(b):
        m = max(abs(a), abs(b))
        return 0.0 if m == 0 else float(abs(a - b) / m)
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.abs(a - b) / np.maximum(np.abs(a), np.abs(b))
    return np.nan_to_num(r, nan=0.0)  # 0/0 -> 0: both exactly zero


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
    idx = tuple(int(i) for i in np.unravel_index(np.argmax(err), err.shape))
    # one number for the whole gradient: the classic norm-ratio check
    worst = np.linalg.norm(ana - num) / max(np.linalg.norm(ana), np.linalg.norm(num))
    return float(worst), idx


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
    analytic = backward({k: np.array(v, copy=True) for k, v in params.items()})
    best_key, best_err = None, -1.0
    for key in params.keys():
        others = {k: v for k, v in params.items() if k != key}
        num = numerical_grad(lambda w: loss({**others, key: w}), params[key].copy(), h=1e-6)
        ana = analytic[key]
        err = np.linalg.norm(ana - num) / max(np.linalg.norm(ana), np.linalg.norm(num), 1e-12)
        if err > best_err:
            best_key, best_err = key, err
    return best_key
