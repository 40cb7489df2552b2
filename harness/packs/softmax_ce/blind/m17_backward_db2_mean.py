"""MISTAKE: backward takes db2 as the mean of dscores over the batch, dividing by N a second time (dscores already carries 1/N).

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


def _logsumexp(Z: np.ndarray) -> np.ndarray:
    """Row-wise log(sum(exp(Z))), shape (N, 1)."""
    c = np.max(Z, axis=1, keepdims=True)
    return c + np.log(np.sum(np.exp(Z - c), axis=1, keepdims=True))


# --- Task 04.1: softmax ------------------------------------------------------------------------
def softmax(Z: np.ndarray) -> np.ndarray:
    """Z (N, C) logits -> P (N, C): P[i, j] = exp(Z[i, j]) / sum_k exp(Z[i, k]), row by row.

    Must stay finite and correct for logits as large as +-1000.
    """
    return np.exp(Z - _logsumexp(Z))


# --- Task 04.2: cross-entropy ------------------------------------------------------------------
def cross_entropy(Z: np.ndarray, labels: np.ndarray) -> float:
    """Mean over the batch of -log softmax(Z)[i, labels[i]]; Z (N, C) logits, labels (N,) ints.

    Must stay finite and correct when the true class's probability underflows to 0 in float64.
    """
    num_examples = Z.shape[0]
    correct_logprobs = _logsumexp(Z)[:, 0] - Z[range(num_examples), labels]
    data_loss = np.sum(correct_logprobs) / num_examples
    return float(data_loss)


# --- Task 04.3: gradient of the loss w.r.t. the logits -----------------------------------------
def softmax_ce_grad(Z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """dL/dZ (N, C), where L = cross_entropy(Z, labels) is the mean over the batch."""
    num_examples = Z.shape[0]
    dscores = softmax(Z).copy()
    dscores[range(num_examples), labels] -= 1
    dscores /= num_examples
    return dscores


# --- Task 04.4: the classifier -----------------------------------------------------------------
def init_params(D: int, H: int, C: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random initial weights drawn from `rng`: {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}.

    The same rng seed must give the same params, and the H hidden units must not start identical.
    """
    W = 0.01 * rng.standard_normal((D, H))
    b = np.zeros((H,))
    W2 = 0.01 * rng.standard_normal((H, C))
    b2 = np.zeros((C,))
    return {"W1": W, "b1": b, "W2": W2, "b2": b2}


def forward(X: np.ndarray, params: dict) -> tuple[np.ndarray, dict]:
    """X (N, D) -> (Z2, cache): the logits Z2 = relu(X @ W1 + b1) @ W2 + b2, shape (N, C).

    cache holds whatever backward() needs (for example Z1, A1, Z2).
    """
    hidden_layer = np.maximum(0, np.dot(X, params["W1"]) + params["b1"])
    scores = np.dot(hidden_layer, params["W2"]) + params["b2"]
    return scores, {"hidden": hidden_layer, "scores": scores}


def backward(X: np.ndarray, labels: np.ndarray, params: dict, cache: dict) -> dict[str, np.ndarray]:
    """Gradients of the mean cross-entropy: {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}.

    cache is what forward(X, params) returned; labels is (N,) ints.
    """
    hidden_layer = cache["hidden"]
    dscores = softmax_ce_grad(cache["scores"], labels)
    dW2 = np.dot(hidden_layer.T, dscores)
    db2 = np.mean(dscores, axis=0)
    dhidden = np.dot(dscores, params["W2"].T)
    dhidden[hidden_layer <= 0] = 0
    dW = np.dot(X.T, dhidden)
    db = np.sum(dhidden, axis=0)
    return {"W1": dW, "b1": db, "W2": dW2, "b2": db2}


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
    K = int(np.max(labels)) + 1
    params = {k: v.copy() for k, v in init_params(D, hidden, K, np.random.default_rng(seed)).items()}
    losses = []
    for i in range(epochs):
        scores, cache = forward(X, params)
        losses.append(cross_entropy(scores, labels))
        grads = backward(X, labels, params, cache)
        params["W1"] += -lr * grads["W1"]
        params["b1"] += -lr * grads["b1"]
        params["W2"] += -lr * grads["W2"]
        params["b2"] += -lr * grads["b2"]
    return params, losses
