"""A correct answer written another way: a list cache, per-sample outer products in backward, a
stable np.where sigmoid, 1/cosh**2, a boolean ReLU mask with >=, LeCun-normal for sigmoid and tanh
and uniform He for ReLU."""

import numpy as np

ACTIVATIONS = ("sigmoid", "tanh", "relu")


def activate(Z, activation):
    if activation == "sigmoid":
        e = np.exp(-np.abs(Z))
        return np.where(Z >= 0, 1 / (1 + e), e / (1 + e))
    if activation == "tanh":
        return (np.exp(Z) - np.exp(-Z)) / (np.exp(Z) + np.exp(-Z))
    return np.where(Z > 0, Z, 0.0)


def activation_derivative(Z, activation):
    if activation == "sigmoid":
        return np.exp(-Z) / (1 + np.exp(-Z)) ** 2
    if activation == "tanh":
        return 1 / np.cosh(Z) ** 2
    return Z >= 0


def forward(X, params, activation):
    layers = []
    A = X
    L = len(params) // 2
    for l in range(1, L + 1):
        Z = np.dot(A, params["W%d" % l]) + params["b%d" % l]
        layers.append((A, Z))
        A = Z if l == L else activate(Z, activation)
    return A, layers


def mse_loss(Y_hat, Y):
    diff = Y_hat - Y
    return float((diff * diff).sum() / diff.size)


def backward(X, Y, params, cache, activation):
    L = len(cache)
    Y_hat = cache[-1][1]
    grads = {}
    delta = 2 * (Y_hat - Y) / (Y.shape[0] * Y.shape[1])
    for l in range(L, 0, -1):
        A_prev, _ = cache[l - 1]
        dW = np.zeros_like(params["W%d" % l])
        for i in range(len(X)):
            dW += np.outer(A_prev[i], delta[i])
        grads["W%d" % l] = dW
        grads["b%d" % l] = np.sum(delta, axis=0)
        if l > 1:
            delta = np.dot(delta, params["W%d" % l].T) * activation_derivative(cache[l - 2][1], activation)
    return grads


def layer_grad_norms(grads):
    L = sum(1 for k in grads if k.startswith("W"))
    return np.array([np.sqrt((grads["W%d" % l] ** 2).sum()) for l in range(1, L + 1)])


def dead_relu_fraction(X, params):
    _, cache = forward(X, params, "relu")
    out = []
    for _, Z in cache[:-1]:
        out.append(np.sum(Z.max(axis=0) <= 0) / Z.shape[1])
    return np.array(out)


def init_params(widths, activation, rng):
    params = {}
    for l in range(1, len(widths)):
        n_in, n_out = widths[l - 1], widths[l]
        if activation == "relu":
            bound = np.sqrt(6.0 / n_in)
            params["W%d" % l] = rng.uniform(-bound, bound, size=(n_in, n_out))
        else:
            params["W%d" % l] = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
        params["b%d" % l] = np.zeros(n_out)
    return params
