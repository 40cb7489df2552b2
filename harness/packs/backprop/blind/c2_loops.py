"""CORRECT: per-sample Python loops accumulating gradients, log1p loss, > mask.

NumPy only: no torch, no autograd. The prompt is in README.md beside this file.

Conventions (the spec checks each one):
  * rows are samples: X is (N, 2), y and the predictions are (N, 1) with labels 0.0 or 1.0;
  * params is a dict: "W1" (2, 3), "b1" (3,), "W2" (3, 1), "b2" (1,);
  * the network is  Z1 = X @ W1 + b1,  A1 = relu(Z1),  Z2 = A1 @ W2 + b2,  A2 = sigmoid(Z2);
  * the loss is the MEAN binary cross-entropy over the batch, and gradients are of that mean;
  * no function modifies the arrays it is given (build new ones).

Run `pytest katas/02_backprop` to be graded.
"""

from __future__ import annotations

import numpy as np


# --- Task 02.1: initialise ---------------------------------------------------------------------
def init_params(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random initial weights drawn from `rng`: {"W1": (2, 3), "b1": (3,), "W2": (3, 1), "b2": (1,)}.

    The same rng seed must give the same params, and the 3 hidden units must not start identical.
    """
    W1 = rng.normal(0.0, 1.0, size=(2, 3))
    b1 = np.zeros(3)
    W2 = rng.normal(0.0, 1.0, size=(3, 1))
    b2 = np.zeros(1)
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


# --- Task 02.2: forward pass -------------------------------------------------------------------
def forward(X: np.ndarray, params: dict) -> tuple[np.ndarray, dict]:
    """X (N, 2) -> (A2, cache): A2 = sigmoid(relu(X @ W1 + b1) @ W2 + b2), shape (N, 1), in (0, 1).

    cache holds whatever backward() needs (for example Z1, A1, Z2, A2).
    """
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    N = X.shape[0]
    Z1 = np.zeros((N, 3)); A1 = np.zeros((N, 3)); Z2 = np.zeros((N, 1)); A2 = np.zeros((N, 1))
    for n in range(N):
        for j in range(3):
            Z1[n, j] = X[n, 0] * W1[0, j] + X[n, 1] * W1[1, j] + b1[j]
            A1[n, j] = Z1[n, j] if Z1[n, j] > 0 else 0.0
        Z2[n, 0] = sum(A1[n, j] * W2[j, 0] for j in range(3)) + b2[0]
        A2[n, 0] = 1.0 / (1.0 + np.exp(-Z2[n, 0]))
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


# --- Task 02.3: loss ---------------------------------------------------------------------------
def bce_loss(y_hat: np.ndarray, y: np.ndarray) -> float:
    """Mean binary cross-entropy  -mean(y log(y_hat) + (1 - y) log(1 - y_hat)); y_hat, y are (N, 1).

    Must return a finite float even when y_hat is exactly 0 or 1.
    """
    p = np.clip(y_hat, 1e-15, 1 - 1e-15)
    per_sample = -(y * np.log(p) + (1 - y) * np.log1p(-p))
    return float(per_sample.mean())


# --- Task 02.4: backward pass ------------------------------------------------------------------
def backward(X: np.ndarray, y: np.ndarray, params: dict, cache: dict) -> dict[str, np.ndarray]:
    """Gradients of the mean loss: {"W1": (2, 3), "b1": (3,), "W2": (3, 1), "b2": (1,)}.

    cache is what forward(X, params) returned. Apply the chain rule from the loss back to W1.
    """
    W2 = params["W2"]
    N = X.shape[0]
    dW1 = np.zeros((2, 3)); db1 = np.zeros(3); dW2 = np.zeros((3, 1)); db2 = np.zeros(1)
    for n in range(N):
        dz2 = (cache["A2"][n, 0] - y[n, 0]) / N
        db2[0] += dz2
        for j in range(3):
            dW2[j, 0] += cache["A1"][n, j] * dz2
            dz1 = dz2 * W2[j, 0] if cache["Z1"][n, j] > 0 else 0.0
            db1[j] += dz1
            for i in range(2):
                dW1[i, j] += X[n, i] * dz1
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


# --- Task 02.5: training -----------------------------------------------------------------------
def train(
    X: np.ndarray, y: np.ndarray, *, epochs: int = 500, lr: float = 1.0, seed: int = 0
) -> tuple[dict, list[float]]:
    """Full-batch gradient descent from init_params(np.random.default_rng(seed)).

    Each epoch: forward, record the loss, backward, then params <- params - lr * grads.
    Returns (trained params, list of the `epochs` losses, each taken before that epoch's update).
    """
    rng = np.random.default_rng(seed)
    params = init_params(rng)
    losses = []
    for epoch in range(epochs):
        A2, cache = forward(X, params)
        loss = bce_loss(A2, y)
        losses.append(loss)
        g = backward(X, y, params, cache)
        new = {}
        for name, value in params.items():
            new[name] = value - lr * g[name]
        params = new
    return params, losses
