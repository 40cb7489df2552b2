"""Reference solution for kata 04_softmax_ce: softmax cross-entropy by hand, in a D -> H -> C classifier.

Read this after your own version passes. Shapes: N samples, C classes, X (N, D), Z (N, C) logits,
labels (N,) ints, W1 (D, H), b1 (H,), W2 (H, C), b2 (C,).
"""

from __future__ import annotations

import numpy as np


def log_softmax(Z: np.ndarray) -> np.ndarray:
    # softmax is unchanged by a constant added to a row, so shift each row by its max: the largest
    # exponent is then exp(0) = 1 (no overflow), and the sum is at least 1 (its log is finite).
    shifted = Z - Z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(Z: np.ndarray) -> np.ndarray:
    E = np.exp(Z - Z.max(axis=1, keepdims=True))  # (N, C), each row's largest entry is 1
    return E / E.sum(axis=1, keepdims=True)


def cross_entropy(Z: np.ndarray, labels: np.ndarray) -> float:
    # -log P[i, y_i] = logsumexp(Z[i]) - Z[i, y_i], taken from log_softmax rather than np.log(softmax):
    # a probability of e**-1000 is 0.0 in float64, but its log, -1000, is an ordinary number.
    n = Z.shape[0]
    return float(-log_softmax(Z)[np.arange(n), labels].mean())


def softmax_ce_grad(Z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    # dL_i/dZ_ij = P_ij - [j == y_i]: the softmax's Jacobian, diag(P) - P P^T, times dL_i/dP_i, which is
    # -1/P_iy at the true class and 0 elsewhere, collapses to this. The mean over the batch adds 1/N.
    n = Z.shape[0]
    dZ = softmax(Z)  # a new array, so the -= below leaves Z alone
    dZ[np.arange(n), labels] -= 1.0
    return dZ / n


def init_params(D: int, H: int, C: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    # Random weights break the symmetry between hidden units (equal units get equal gradients and
    # stay copies forever); He scaling suits the ReLU. Biases may start at zero.
    return {
        "W1": rng.normal(0.0, np.sqrt(2.0 / D), size=(D, H)),
        "b1": np.zeros(H),
        "W2": rng.normal(0.0, np.sqrt(2.0 / H), size=(H, C)),
        "b2": np.zeros(C),
    }


def forward(X: np.ndarray, params: dict) -> tuple[np.ndarray, dict]:
    Z1 = X @ params["W1"] + params["b1"]  # (N, H)
    A1 = np.maximum(Z1, 0.0)  # (N, H)
    Z2 = A1 @ params["W2"] + params["b2"]  # (N, C) logits: the loss applies the softmax itself
    return Z2, {"Z1": Z1, "A1": A1, "Z2": Z2}


def backward(X: np.ndarray, labels: np.ndarray, params: dict, cache: dict) -> dict[str, np.ndarray]:
    A1, Z1 = cache["A1"], cache["Z1"]
    dZ2 = softmax_ce_grad(cache["Z2"], labels)  # (N, C), already carries the mean's 1/N

    # Z2 = A1 @ W2 + b2: W2's gradient brings in A1; b2 is added to every row, so its gradient sums them.
    dW2 = A1.T @ dZ2  # (H, C)
    db2 = dZ2.sum(axis=0)  # (C,)

    # Back through W2 to the hidden layer, then the ReLU: slope 1 where Z1 > 0, 0 elsewhere.
    dA1 = dZ2 @ params["W2"].T  # (N, H)
    dZ1 = dA1 * (Z1 > 0)  # (N, H)

    dW1 = X.T @ dZ1  # (D, H)
    db1 = dZ1.sum(axis=0)  # (H,)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def train(
    X: np.ndarray, labels: np.ndarray, *, hidden: int = 32, epochs: int = 1000, lr: float = 1.0, seed: int = 0
) -> tuple[dict, list[float]]:
    params = init_params(X.shape[1], hidden, int(labels.max()) + 1, np.random.default_rng(seed))
    losses = []
    for _ in range(epochs):
        Z2, cache = forward(X, params)
        losses.append(cross_entropy(Z2, labels))  # the loss of the params before this epoch's step
        grads = backward(X, labels, params, cache)
        # A new dict each step, so the caller's arrays are never changed in place.
        params = {name: value - lr * grads[name] for name, value in params.items()}
    return params, losses
