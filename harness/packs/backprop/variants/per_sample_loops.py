"""Kata 02_backprop written one sample at a time, as on a whiteboard: a correct variant the spec must pass.

Every sample's gradient is accumulated with +=, and the batch mean is taken at the end, so the
rounding differs from the vectorised reference while the math is the same.
"""

from __future__ import annotations

import math

import numpy as np


def init_params(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "W1": rng.standard_normal((2, 3)),
        "b1": np.zeros(3),
        "W2": rng.standard_normal((3, 1)) * math.sqrt(2.0 / 3.0),  # He scaling, for ReLU inputs
        "b2": np.zeros(1),
    }


def _sample_forward(x: np.ndarray, params: dict) -> tuple[list[float], list[float], float, float]:
    z1 = [float(x[0] * params["W1"][0, j] + x[1] * params["W1"][1, j] + params["b1"][j]) for j in range(3)]
    a1 = [max(z, 0.0) for z in z1]
    z2 = sum(a1[j] * params["W2"][j, 0] for j in range(3)) + params["b2"][0]
    return z1, a1, float(z2), 1.0 / (1.0 + math.exp(-z2))


def forward(X: np.ndarray, params: dict) -> tuple[np.ndarray, dict]:
    samples = [_sample_forward(x, params) for x in X]
    A2 = np.array([[s[3]] for s in samples])
    return A2, {"samples": samples}


def bce_loss(y_hat: np.ndarray, y: np.ndarray) -> float:
    total = 0.0
    for p, label in zip(y_hat[:, 0], y[:, 0]):
        p = min(max(float(p), 1e-12), 1.0 - 1e-12)
        total += -math.log(p) if label == 1.0 else -math.log(1.0 - p)
    return total / len(y)


def backward(X: np.ndarray, y: np.ndarray, params: dict, cache: dict) -> dict[str, np.ndarray]:
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    for x, label, (z1, a1, _, a2) in zip(X, y[:, 0], cache["samples"]):
        dz2 = a2 - label  # this sample's dL/dZ2; the 1/N comes once, at the end
        grads["b2"][0] += dz2
        for j in range(3):
            grads["W2"][j, 0] += a1[j] * dz2
            if z1[j] > 0:
                dz1 = dz2 * params["W2"][j, 0]
                grads["b1"][j] += dz1
                grads["W1"][0, j] += x[0] * dz1
                grads["W1"][1, j] += x[1] * dz1
    return {name: g / len(X) for name, g in grads.items()}


def train(
    X: np.ndarray, y: np.ndarray, *, epochs: int = 500, lr: float = 1.0, seed: int = 0
) -> tuple[dict, list[float]]:
    params = init_params(np.random.default_rng(seed))
    losses = []
    for _ in range(epochs):
        y_hat, cache = forward(X, params)
        losses.append(bce_loss(y_hat, y))
        grads = backward(X, y, params, cache)
        params = {name: params[name] - lr * grads[name] for name in params}
    return params, losses
