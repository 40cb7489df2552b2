"""CORRECT: np.einsum for every product, >= at the ReLU kink, clip 1e-7, He-scaled init.

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
    return {
        "W1": rng.standard_normal((2, 3)) * np.sqrt(2.0 / 2),
        "b1": np.zeros(3),
        "W2": rng.standard_normal((3, 1)) * np.sqrt(2.0 / 3),
        "b2": np.zeros(1),
    }


# --- Task 02.2: forward pass -------------------------------------------------------------------
def forward(X: np.ndarray, params: dict) -> tuple[np.ndarray, dict]:
    """X (N, 2) -> (A2, cache): A2 = sigmoid(relu(X @ W1 + b1) @ W2 + b2), shape (N, 1), in (0, 1).

    cache holds whatever backward() needs (for example Z1, A1, Z2, A2).
    """
    Z1 = np.einsum("ni,ij->nj", X, params["W1"]) + params["b1"]
    A1 = np.where(Z1 >= 0, Z1, 0.0)
    Z2 = np.einsum("nj,jk->nk", A1, params["W2"]) + params["b2"]
    A2 = 1 / (1 + np.exp(-Z2))
    return A2, dict(Z1=Z1, A1=A1, Z2=Z2, A2=A2)


# --- Task 02.3: loss ---------------------------------------------------------------------------
def bce_loss(y_hat: np.ndarray, y: np.ndarray) -> float:
    """Mean binary cross-entropy  -mean(y log(y_hat) + (1 - y) log(1 - y_hat)); y_hat, y are (N, 1).

    Must return a finite float even when y_hat is exactly 0 or 1.
    """
    y_hat = np.clip(y_hat, 1e-7, 1 - 1e-7)
    return float(np.mean(-y * np.log(y_hat) - (1 - y) * np.log(1 - y_hat)))


# --- Task 02.4: backward pass ------------------------------------------------------------------
def backward(X: np.ndarray, y: np.ndarray, params: dict, cache: dict) -> dict[str, np.ndarray]:
    """Gradients of the mean loss: {"W1": (2, 3), "b1": (3,), "W2": (3, 1), "b2": (1,)}.

    cache is what forward(X, params) returned. Apply the chain rule from the loss back to W1.
    """
    n = len(X)
    dZ2 = (cache["A2"] - y) / n
    dW2 = np.einsum("nj,nk->jk", cache["A1"], dZ2)
    db2 = np.einsum("nk->k", dZ2)
    dA1 = np.einsum("nk,jk->nj", dZ2, params["W2"])
    dZ1 = dA1 * (cache["Z1"] >= 0)
    dW1 = np.einsum("ni,nj->ij", X, dZ1)
    db1 = np.einsum("nj->j", dZ1)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


# --- Task 02.5: training -----------------------------------------------------------------------
def train(
    X: np.ndarray, y: np.ndarray, *, epochs: int = 500, lr: float = 1.0, seed: int = 0
) -> tuple[dict, list[float]]:
    """Full-batch gradient descent from init_params(np.random.default_rng(seed)).

    Each epoch: forward, record the loss, backward, then params <- params - lr * grads.
    Returns (trained params, list of the `epochs` losses, each taken before that epoch's update).
    """
    params = init_params(np.random.default_rng(seed))
    losses = []
    for _ in range(epochs):
        y_hat, cache = forward(X, params)
        losses.append(bce_loss(y_hat, y))
        grads = backward(X, y, params, cache)
        params = {k: params[k] - lr * grads[k] for k in params}
    return params, losses
