"""CORRECT: 1e-12 guard in the softmax denominator, backward works with P - Y and divides by N at each parameter, small random biases.

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


EPS = 1e-12


# --- Task 04.1: softmax ------------------------------------------------------------------------
def softmax(Z: np.ndarray) -> np.ndarray:
    """Z (N, C) logits -> P (N, C): P[i, j] = exp(Z[i, j]) / sum_k exp(Z[i, k]), row by row.

    Must stay finite and correct for logits as large as +-1000.
    """
    z = Z - Z.max(axis=-1)[:, None]
    ez = np.exp(z)
    return ez / (ez.sum(axis=-1)[:, None] + EPS)


# --- Task 04.2: cross-entropy ------------------------------------------------------------------
def cross_entropy(Z: np.ndarray, labels: np.ndarray) -> float:
    """Mean over the batch of -log softmax(Z)[i, labels[i]]; Z (N, C) logits, labels (N,) ints.

    Must stay finite and correct when the true class's probability underflows to 0 in float64.
    """
    z = Z - Z.max(axis=-1)[:, None]
    losses = np.log(np.exp(z).sum(axis=-1)) - z[np.arange(z.shape[0]), labels]
    return float(losses.mean())


def _one_hot(labels: np.ndarray, C: int) -> np.ndarray:
    Y = np.zeros((labels.shape[0], C))
    Y[np.arange(labels.shape[0]), labels] = 1.0
    return Y


# --- Task 04.3: gradient of the loss w.r.t. the logits -----------------------------------------
def softmax_ce_grad(Z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """dL/dZ (N, C), where L = cross_entropy(Z, labels) is the mean over the batch."""
    N, C = Z.shape
    return (softmax(Z) - _one_hot(labels, C)) / N


# --- Task 04.4: the classifier -----------------------------------------------------------------
def init_params(D: int, H: int, C: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random initial weights drawn from `rng`: {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}.

    The same rng seed must give the same params, and the H hidden units must not start identical.
    """
    return {
        "W1": 0.5 * rng.normal(size=(D, H)),
        "b1": 0.01 * rng.normal(size=H),
        "W2": 0.1 * rng.normal(size=(H, C)),
        "b2": np.zeros(C),
    }


def forward(X: np.ndarray, params: dict) -> tuple[np.ndarray, dict]:
    """X (N, D) -> (Z2, cache): the logits Z2 = relu(X @ W1 + b1) @ W2 + b2, shape (N, C).

    cache holds whatever backward() needs (for example Z1, A1, Z2).
    """
    cache = {}
    cache["Z1"] = X @ params["W1"] + params["b1"][None, :]
    cache["A1"] = np.clip(cache["Z1"], 0.0, None)
    cache["Z2"] = cache["A1"] @ params["W2"] + params["b2"][None, :]
    return cache["Z2"], cache


def backward(X: np.ndarray, labels: np.ndarray, params: dict, cache: dict) -> dict[str, np.ndarray]:
    """Gradients of the mean cross-entropy: {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}.

    cache is what forward(X, params) returned; labels is (N,) ints.
    """
    N = X.shape[0]
    C = params["b2"].shape[0]
    delta2 = softmax(cache["Z2"]) - _one_hot(labels, C)  # per-sample gradient of the sum
    delta1 = (delta2 @ params["W2"].T) * (cache["Z1"] > 0).astype(float)
    return {
        "W1": X.T @ delta1 / N,
        "b1": delta1.sum(axis=0) / N,
        "W2": cache["A1"].T @ delta2 / N,
        "b2": delta2.sum(axis=0) / N,
    }


# --- Task 04.5: training -----------------------------------------------------------------------
def train(
    X: np.ndarray, labels: np.ndarray, *, hidden: int = 32, epochs: int = 1000, lr: float = 1.0, seed: int = 0
) -> tuple[dict, list[float]]:
    """Full-batch gradient descent from init_params(D, hidden, C, np.random.default_rng(seed)).

    D = X.shape[1], C = labels.max() + 1. Each epoch: forward, record the loss, backward, then
    params <- params - lr * grads. Returns (trained params, list of the `epochs` losses, each
    taken before that epoch's update).
    """
    C = labels.max() + 1
    params = init_params(X.shape[1], hidden, C, np.random.default_rng(seed))
    losses = []
    epoch = 0
    while epoch < epochs:
        Z2, cache = forward(X, params)
        losses.append(cross_entropy(Z2, labels))
        g = backward(X, labels, params, cache)
        params = {name: params[name] - lr * g[name] for name in ("W1", "b1", "W2", "b2")}
        epoch += 1
    return params, losses
