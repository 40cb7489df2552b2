"""Kata 02_backprop: forward pass, binary cross-entropy and backward pass of a 2-3-1 network, by hand.

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
    # TODO: draw the weights from rng (e.g. rng.normal) so that the hidden units differ.
    raise NotImplementedError("init_params() is not implemented yet (Task 02.1)")


# --- Task 02.2: forward pass -------------------------------------------------------------------
def forward(X: np.ndarray, params: dict) -> tuple[np.ndarray, dict]:
    """X (N, 2) -> (A2, cache): A2 = sigmoid(relu(X @ W1 + b1) @ W2 + b2), shape (N, 1), in (0, 1).

    cache holds whatever backward() needs (for example Z1, A1, Z2, A2).
    """
    # TODO: compute Z1, A1, Z2, A2 and return A2 with a cache of the intermediates.
    raise NotImplementedError("forward() is not implemented yet (Task 02.2)")


# --- Task 02.3: loss ---------------------------------------------------------------------------
def bce_loss(y_hat: np.ndarray, y: np.ndarray) -> float:
    """Mean binary cross-entropy  -mean(y log(y_hat) + (1 - y) log(1 - y_hat)); y_hat, y are (N, 1).

    Must return a finite float even when y_hat is exactly 0 or 1.
    """
    # TODO: average the per-sample loss; keep log() away from 0.
    raise NotImplementedError("bce_loss() is not implemented yet (Task 02.3)")


# --- Task 02.4: backward pass ------------------------------------------------------------------
def backward(X: np.ndarray, y: np.ndarray, params: dict, cache: dict) -> dict[str, np.ndarray]:
    """Gradients of the mean loss: {"W1": (2, 3), "b1": (3,), "W2": (3, 1), "b2": (1,)}.

    cache is what forward(X, params) returned. Apply the chain rule from the loss back to W1.
    """
    # TODO: dZ2, then dW2 and db2, then back through W2 and the ReLU to dZ1, dW1 and db1.
    raise NotImplementedError("backward() is not implemented yet (Task 02.4)")


# --- Task 02.5: training -----------------------------------------------------------------------
def train(
    X: np.ndarray, y: np.ndarray, *, epochs: int = 500, lr: float = 1.0, seed: int = 0
) -> tuple[dict, list[float]]:
    """Full-batch gradient descent from init_params(np.random.default_rng(seed)).

    Each epoch: forward, record the loss, backward, then params <- params - lr * grads.
    Returns (trained params, list of the `epochs` losses, each taken before that epoch's update).
    """
    # TODO: loop over epochs using the functions above.
    raise NotImplementedError("train() is not implemented yet (Task 02.5)")
