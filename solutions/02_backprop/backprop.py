"""Reference solution for kata 02_backprop: a 2-3-1 network, forward and backward by hand.

Read this after your own version passes. Every gradient below is one application of the chain
rule: (gradient of the loss w.r.t. a node's output) x (the node's local derivative).
Shapes: N samples, X (N, 2), W1 (2, 3), b1 (3,), W2 (3, 1), b2 (1,), y (N, 1).
"""

from __future__ import annotations

import numpy as np

EPS = 1e-12  # keeps log() finite when a prediction is exactly 0 or 1


def init_params(rng: np.random.Generator) -> dict[str, np.ndarray]:
    # Random weights break the symmetry between hidden units: with equal weights every unit would
    # get the same gradient and stay a copy of the others forever. He scaling suits ReLU.
    return {
        "W1": rng.normal(0.0, np.sqrt(2.0 / 2), size=(2, 3)),
        "b1": np.zeros(3),
        "W2": rng.normal(0.0, np.sqrt(2.0 / 3), size=(3, 1)),
        "b2": np.zeros(1),
    }


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def forward(X: np.ndarray, params: dict) -> tuple[np.ndarray, dict]:
    Z1 = X @ params["W1"] + params["b1"]  # (N, 3) inner function of the hidden layer
    A1 = np.maximum(Z1, 0.0)  # (N, 3) ReLU, the outer function
    Z2 = A1 @ params["W2"] + params["b2"]  # (N, 1)
    A2 = sigmoid(Z2)  # (N, 1) probabilities
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def bce_loss(y_hat: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(y_hat, EPS, 1.0 - EPS)
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)))


def backward(X: np.ndarray, y: np.ndarray, params: dict, cache: dict) -> dict[str, np.ndarray]:
    n = X.shape[0]
    A1, A2, Z1 = cache["A1"], cache["A2"], cache["Z1"]

    # dL/dZ2 = dL/dA2 * dA2/dZ2 = (A2 - y) / (A2 (1 - A2)) * A2 (1 - A2) / N: the sigmoid's
    # derivative cancels the BCE denominator, and the 1/N comes from the mean over the batch.
    dZ2 = (A2 - y) / n  # (N, 1)

    # Z2 = A1 @ W2 + b2: dZ2/dW2 brings in A1, dZ2/db2 is 1 for every row (so sum the rows).
    dW2 = A1.T @ dZ2  # (3, 1)
    db2 = dZ2.sum(axis=0)  # (1,)

    # Back through the second layer to the hidden activations, then through the ReLU, whose
    # local derivative is 1 where Z1 > 0 and 0 elsewhere: a dead unit passes no gradient.
    dA1 = dZ2 @ params["W2"].T  # (N, 3)
    dZ1 = dA1 * (Z1 > 0)  # (N, 3)

    dW1 = X.T @ dZ1  # (2, 3)
    db1 = dZ1.sum(axis=0)  # (3,)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def train(
    X: np.ndarray, y: np.ndarray, *, epochs: int = 500, lr: float = 1.0, seed: int = 0
) -> tuple[dict, list[float]]:
    params = init_params(np.random.default_rng(seed))
    losses = []
    for _ in range(epochs):
        y_hat, cache = forward(X, params)
        losses.append(bce_loss(y_hat, y))  # the loss of the params before this epoch's step
        grads = backward(X, y, params, cache)
        # A new dict each step, so the caller's arrays are never changed in place.
        params = {name: value - lr * grads[name] for name, value in params.items()}
    return params, losses
