"""Kata 05, a correct variant: a fourth-order centered stencil (probes at +-h and +-2h, error of
order h**4) over np.ndenumerate, a relative error with a floor in the denominator, and the worst
parameter found by sorting."""

import numpy as np


def numerical_grad(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for index, value in np.ndenumerate(x):

        def at(step):
            probe = x.copy()
            probe[index] = value + step
            return f(probe)

        grad[index] = (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)
    return grad


def relative_error(a, b):
    diff = np.abs(np.subtract(a, b))
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-300)
    return diff / scale if isinstance(diff, np.ndarray) else float(diff / scale)


def grad_check(f, analytic_grad, x):
    errors = relative_error(analytic_grad(x.copy()), numerical_grad(f, x))
    flat = int(np.argmax(errors))
    return float(errors.flat[flat]), np.unravel_index(flat, x.shape)


def find_wrong_gradient(loss, backward, params):
    scores = []
    for name in params:
        f = lambda w, name=name: loss({**params, name: w})  # noqa: E731
        g = lambda w, name=name: backward({**params, name: w})[name]  # noqa: E731
        scores.append((grad_check(f, g, params[name])[0], name))
    return sorted(scores)[-1][1]
