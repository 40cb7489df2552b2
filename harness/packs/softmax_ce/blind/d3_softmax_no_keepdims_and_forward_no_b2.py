"""MISTAKE: two slips — softmax divides by e.sum(axis=1) without keepdims (broadcasts across columns), and forward leaves out b2 in Z2.

NumPy only: no torch, no autograd. The prompt is in README.md beside this file.

Conventions (the spec checks each one):
  * rows are samples: Z (logits) and X are (N, C) and (N, D); labels is (N,) of ints in 0..C-1;
  * params is a dict: "W1" (D, H), "b1" (H,), "W2" (H, C), "b2" (C,), sizes taken from the arrays;
  * the network is  Z1 = X @ W1 + b1,  A1 = relu(Z1),  Z2 = A1 @ W2 + b2  (Z2: the logits);
  * the loss is the MEAN cross-entropy over the batch, and gradients are of that mean;
  * softmax and cross_entropy are numerically stable (logits of +-1000 give finite, correct answers);
  * no function modifies the arrays it is given (build new ones).

Run `pytest katas/04_softmax_ce` to be graded.
"""

from __future__ import annotations

import numpy as np


# --- Task 04.1: softmax ------------------------------------------------------------------------
def softmax(Z: np.ndarray) -> np.ndarray:
    """Z (N, C) logits -> P (N, C): P[i, j] = exp(Z[i, j]) / sum_k exp(Z[i, k]), row by row.

    Must stay finite and correct for logits as large as +-1000.
    """
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1)


# --- Task 04.2: cross-entropy ------------------------------------------------------------------
def cross_entropy(Z: np.ndarray, labels: np.ndarray) -> float:
    """Mean over the batch of -log softmax(Z)[i, labels[i]]; Z (N, C) logits, labels (N,) ints.

    Must stay finite and correct when the true class's probability underflows to 0 in float64.
    """
    N = Z.shape[0]
    total = 0.0
    for i in range(N):
        row_max = np.max(Z[i])
        log_sum = row_max + np.log(np.sum(np.exp(Z[i] - row_max)))
        total += log_sum - Z[i, labels[i]]
    return float(total / N)


# --- Task 04.3: gradient of the loss w.r.t. the logits -----------------------------------------
def softmax_ce_grad(Z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """dL/dZ (N, C), where L = cross_entropy(Z, labels) is the mean over the batch."""
    N, C = Z.shape
    P = softmax(Z)
    grad = np.zeros((N, C))
    for i in range(N):
        for j in range(C):
            indicator = 1.0 if j == labels[i] else 0.0
            grad[i, j] = (P[i, j] - indicator) / N
    return grad


# --- Task 04.4: the classifier -----------------------------------------------------------------
def init_params(D: int, H: int, C: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random initial weights drawn from `rng`: {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}.

    The same rng seed must give the same params, and the H hidden units must not start identical.
    """
    W1 = rng.standard_normal((D, H)) * np.sqrt(2.0 / D)
    W2 = rng.standard_normal((H, C)) * np.sqrt(2.0 / H)
    return {"W1": W1, "b1": np.zeros(H), "W2": W2, "b2": np.zeros(C)}


def forward(X: np.ndarray, params: dict) -> tuple[np.ndarray, dict]:
    """X (N, D) -> (Z2, cache): the logits Z2 = relu(X @ W1 + b1) @ W2 + b2, shape (N, C).

    cache holds whatever backward() needs (for example Z1, A1, Z2).
    """
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    Z1 = np.dot(X, W1) + b1
    A1 = np.where(Z1 > 0, Z1, 0.0)
    Z2 = np.dot(A1, W2)
    cache = {"Z1": Z1, "A1": A1, "Z2": Z2}
    return Z2, cache


def backward(X: np.ndarray, labels: np.ndarray, params: dict, cache: dict) -> dict[str, np.ndarray]:
    """Gradients of the mean cross-entropy: {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}.

    cache is what forward(X, params) returned; labels is (N,) ints.
    """
    N = X.shape[0]
    dZ2 = softmax_ce_grad(cache["Z2"], labels)
    dW2 = np.zeros_like(params["W2"])
    dW1 = np.zeros_like(params["W1"])
    db2 = np.zeros_like(params["b2"])
    db1 = np.zeros_like(params["b1"])
    for i in range(N):
        dW2 += np.outer(cache["A1"][i], dZ2[i])
        db2 += dZ2[i]
        dz1 = (params["W2"] @ dZ2[i]) * (cache["Z1"][i] > 0)
        dW1 += np.outer(X[i], dz1)
        db1 += dz1
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


# --- Task 04.5: training -----------------------------------------------------------------------
def train(
    X: np.ndarray, labels: np.ndarray, *, hidden: int = 32, epochs: int = 1000, lr: float = 1.0, seed: int = 0
) -> tuple[dict, list[float]]:
    """Full-batch gradient descent from init_params(D, hidden, C, np.random.default_rng(seed)).

    D = X.shape[1], C = labels.max() + 1. Each epoch: forward, record the loss, backward, then
    params <- params - lr * grads. Returns (trained params, list of the `epochs` losses, each
    taken before that epoch's update).
    """
    D = X.shape[1]
    C = labels.max() + 1
    rng = np.random.default_rng(seed)
    params = init_params(D, hidden, C, rng)
    losses = []
    for epoch in range(epochs):
        logits, cache = forward(X, params)
        loss = cross_entropy(logits, labels)
        losses.append(loss)
        grads = backward(X, labels, params, cache)
        for name in params:
            params[name] = params[name] - lr * grads[name]
    return params, losses
