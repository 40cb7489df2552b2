"""MISTAKE: numerical_grad divides the centered difference by h instead of 2h (gradient twice too big).

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
    x_work = np.array(x, dtype=np.float64, copy=True)
    grad = np.empty_like(x_work)
    it = np.nditer(x_work, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        i = it.multi_index
        orig = x_work[i]
        x_work[i] = orig + h
        fp = f(x_work)
        x_work[i] = orig - h
        fm = f(x_work)
        x_work[i] = orig
        grad[i] = (fp - fm) / h
        it.iternext()
    return grad


# --- Task 05.2: comparing two gradients --------------------------------------------------------
def relative_error(a: FloatOrArray, b: FloatOrArray) -> FloatOrArray:
    """|a - b| / max(|a|, |b|), entry by entry; 0 where a and b are both exactly 0.

    Floats in, a float out; arrays in (same shape), an array of that shape out. Never nan or inf.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    denom = np.maximum(np.abs(a), np.abs(b))
    out = np.divide(np.abs(a - b), denom, out=np.zeros(np.broadcast(a, b).shape), where=denom > 0)
    return out if out.ndim else float(out)


# --- Task 05.3: the gradient check -------------------------------------------------------------
def grad_check(
    f: Callable[[np.ndarray], float], analytic_grad: Callable[[np.ndarray], np.ndarray], x: np.ndarray
) -> tuple[float, tuple[int, ...]]:
    """(worst_error, worst_index): the largest relative error between analytic_grad(x) and the
    numerical gradient of f at x, and where it is (a tuple, one int per axis of x: x[worst_index]).
    """
    ana = np.asarray(analytic_grad(x.copy()), dtype=np.float64)
    num = numerical_grad(f, x)
    worst, where = -1.0, None
    for idx in np.ndindex(x.shape):
        e = relative_error(float(ana[idx]), float(num[idx]))
        if e > worst:
            worst, where = e, idx
    return float(worst), tuple(int(i) for i in where)


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
