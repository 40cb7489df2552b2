"""Kata 05, a correct variant in CS231n's style: np.nditer probing x in place, a relative error
computed under np.errstate with np.where, and a loss that reads params, whose arrays the numerical
gradient probes in place; a fixed threshold names the bug."""

import numpy as np


def numerical_grad(f, x, h=1e-5):
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        oldval = x[ix]
        x[ix] = oldval + h
        fxph = f(x)
        x[ix] = oldval - h
        fxmh = f(x)
        x[ix] = oldval
        grad[ix] = (fxph - fxmh) / (2 * h)
        it.iternext()
    return grad


def relative_error(a, b):
    num = np.abs(np.asarray(a) - np.asarray(b))
    den = np.maximum(np.abs(a), np.abs(b))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den == 0, 0.0, num / den)
    return float(out) if np.ndim(out) == 0 else out


def grad_check(f, analytic_grad, x):
    analytic = analytic_grad(x)
    numeric = numerical_grad(f, x)
    rel = relative_error(analytic, numeric)
    i = np.unravel_index(rel.argmax(), rel.shape)
    return float(rel[i]), tuple(map(int, i))


def find_wrong_gradient(loss, backward, params):
    grads = backward(params)
    errors = {}
    for name in params:
        # loss(params) sees params[name] move: numerical_grad probes that very array in place.
        errors[name], _ = grad_check(lambda _: loss(params), lambda _, name=name: grads[name], params[name])
    flagged = [name for name, error in errors.items() if error > 1e-5]
    return flagged[0]
