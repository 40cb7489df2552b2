"""Kata 05, a correct variant: a copy of x per probe over flat indices, an eps-guarded relative
error, and the parameter with the worst check named (no threshold)."""

import numpy as np


def numerical_grad(f, x, h=1e-5):
    grad = np.empty(x.size)
    for i in range(x.size):
        plus = x.copy().reshape(-1)
        plus[i] += h
        minus = x.copy().reshape(-1)
        minus[i] -= h
        grad[i] = (f(plus.reshape(x.shape)) - f(minus.reshape(x.shape))) / (2 * h)
    return grad.reshape(x.shape)


def relative_error(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    err = np.abs(a - b) / (np.maximum(np.abs(a), np.abs(b)) + 1e-12)
    return err if err.ndim else float(err)


def grad_check(f, analytic_grad, x):
    err = relative_error(analytic_grad(x), numerical_grad(f, x))
    idx = np.unravel_index(np.argmax(err), err.shape)
    return float(err[idx]), tuple(int(i) for i in idx)


def find_wrong_gradient(loss, backward, params):
    worst = {}
    for name, value in params.items():

        def f(v, name=name):
            p = dict(params)
            p[name] = v
            return loss(p)

        def g(v, name=name):
            p = dict(params)
            p[name] = v
            return backward(p)[name]

        worst[name] = grad_check(f, g, value)[0]
    return max(worst, key=worst.get)
