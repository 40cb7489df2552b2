"""A correct variant: every function one sample at a time, with Python loops and the math module;
the loss's log-sum-exp is m + log(sum(exp(z - m))); the network row by row, gradients accumulated
with +=."""

import math

import numpy as np


def _softmax_row(z):
    m = max(z)
    exps = [math.exp(v - m) for v in z]
    total = sum(exps)
    return [e / total for e in exps]


def softmax(Z):
    return np.array([_softmax_row(list(row)) for row in Z], dtype=float)


def cross_entropy(Z, labels):
    total = 0.0
    for row, y in zip(Z, labels):
        m = max(row)
        lse = m + math.log(sum(math.exp(v - m) for v in row))
        total += lse - row[int(y)]
    return total / len(Z)


def softmax_ce_grad(Z, labels):
    N, C = Z.shape
    dZ = np.zeros((N, C))
    for i in range(N):
        p = _softmax_row(list(Z[i]))
        for j in range(C):
            dZ[i, j] = (p[j] - (1.0 if j == labels[i] else 0.0)) / N
    return dZ


def init_params(D, H, C, rng):
    return {
        "W1": rng.normal(size=(D, H)) * math.sqrt(1.0 / D),
        "b1": np.zeros(H),
        "W2": rng.normal(size=(H, C)) * math.sqrt(1.0 / H),
        "b2": np.zeros(C),
    }


def forward(X, params):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    Z1 = np.zeros((X.shape[0], W1.shape[1]))
    Z2 = np.zeros((X.shape[0], W2.shape[1]))
    for i in range(X.shape[0]):  # one sample at a time
        Z1[i] = X[i] @ W1 + b1
        Z2[i] = np.maximum(Z1[i], 0.0) @ W2 + b2
    return Z2, {"Z1": Z1, "Z2": Z2}


def backward(X, labels, params, cache):
    W2 = params["W2"]
    Z1 = cache["Z1"]
    dZ2 = softmax_ce_grad(cache["Z2"], labels)
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    for i in range(X.shape[0]):
        a1 = np.maximum(Z1[i], 0.0)
        grads["W2"] += np.outer(a1, dZ2[i])
        grads["b2"] += dZ2[i]
        dz1 = (W2 @ dZ2[i]) * (Z1[i] > 0)
        grads["W1"] += np.outer(X[i], dz1)
        grads["b1"] += dz1
    return grads


def train(X, labels, *, hidden=32, epochs=1000, lr=1.0, seed=0):
    params = init_params(X.shape[1], hidden, int(max(labels)) + 1, np.random.default_rng(seed))
    losses = []
    for _ in range(epochs):
        Z2, cache = forward(X, params)
        losses.append(cross_entropy(Z2, labels))
        grads = backward(X, labels, params, cache)
        params = {k: v - lr * grads[k] for k, v in params.items()}
    return params, losses
