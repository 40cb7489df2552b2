"""Kata 04_softmax_ce: softmax, cross-entropy and its gradient by hand, in a D -> H -> C classifier.

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
    # TODO: a softmax over each row that cannot overflow.
    raise NotImplementedError("softmax() is not implemented yet (Task 04.1)")


# --- Task 04.2: cross-entropy ------------------------------------------------------------------
def cross_entropy(Z: np.ndarray, labels: np.ndarray) -> float:
    """Mean over the batch of -log softmax(Z)[i, labels[i]]; Z (N, C) logits, labels (N,) ints.

    Must stay finite and correct when the true class's probability underflows to 0 in float64.
    """
    # TODO: the mean negative log-probability of each sample's true class, computed stably.
    raise NotImplementedError("cross_entropy() is not implemented yet (Task 04.2)")


# --- Task 04.3: gradient of the loss w.r.t. the logits -----------------------------------------
def softmax_ce_grad(Z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """dL/dZ (N, C), where L = cross_entropy(Z, labels) is the mean over the batch."""
    # TODO: the chain rule through the mean, the log and the softmax.
    raise NotImplementedError("softmax_ce_grad() is not implemented yet (Task 04.3)")


# --- Task 04.4: the classifier -----------------------------------------------------------------
def init_params(D: int, H: int, C: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random initial weights drawn from `rng`: {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}.

    The same rng seed must give the same params, and the H hidden units must not start identical.
    """
    # TODO: draw the weights from rng so that the hidden units differ.
    raise NotImplementedError("init_params() is not implemented yet (Task 04.4)")


def forward(X: np.ndarray, params: dict) -> tuple[np.ndarray, dict]:
    """X (N, D) -> (Z2, cache): the logits Z2 = relu(X @ W1 + b1) @ W2 + b2, shape (N, C).

    cache holds whatever backward() needs (for example Z1, A1, Z2).
    """
    # TODO: compute Z1, A1, Z2 and return Z2 with a cache of the intermediates.
    raise NotImplementedError("forward() is not implemented yet (Task 04.4)")


def backward(X: np.ndarray, labels: np.ndarray, params: dict, cache: dict) -> dict[str, np.ndarray]:
    """Gradients of the mean cross-entropy: {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}.

    cache is what forward(X, params) returned; labels is (N,) ints.
    """
    # TODO: dZ2 from the loss, then dW2 and db2, then back through W2 and the ReLU to dW1 and db1.
    raise NotImplementedError("backward() is not implemented yet (Task 04.4)")


# --- Task 04.5: training -----------------------------------------------------------------------
def train(
    X: np.ndarray, labels: np.ndarray, *, hidden: int = 32, epochs: int = 1000, lr: float = 1.0, seed: int = 0
) -> tuple[dict, list[float]]:
    """Full-batch gradient descent from init_params(D, hidden, C, np.random.default_rng(seed)).

    D = X.shape[1], C = labels.max() + 1. Each epoch: forward, record the loss, backward, then
    params <- params - lr * grads. Returns (trained params, list of the `epochs` losses, each
    taken before that epoch's update).
    """
    # TODO: loop over epochs using the functions above.
    raise NotImplementedError("train() is not implemented yet (Task 04.5)")
