"""Kata 06_vanishing_gradients: the reference, written to be read after passing.

Backward through a deep stack, each hidden layer multiplies the gradient by its weights and by its
activation's local slope. Sigmoid's slope is at most 1/4 and near 0 once it saturates, so those
factors shrink the gradient layer after layer; a ReLU's slope is 0 or 1, so a unit that is off on the
whole batch passes nothing back. A good init keeps each layer's factor near 1.
"""

from __future__ import annotations

import numpy as np

ACTIVATIONS = ("sigmoid", "tanh", "relu")


# --- Task 06.1: activations --------------------------------------------------------------------
def activate(Z: np.ndarray, activation: str) -> np.ndarray:
    if activation == "sigmoid":
        return 1.0 / (1.0 + np.exp(-Z))
    if activation == "tanh":
        return np.tanh(Z)
    if activation == "relu":
        return np.maximum(Z, 0.0)
    raise ValueError(f"unknown activation {activation!r}")


def activation_derivative(Z: np.ndarray, activation: str) -> np.ndarray:
    """The slope at Z. sigmoid' = s (1 - s) peaks at 1/4; tanh' = 1 - tanh^2 peaks at 1; both vanish
    as |Z| grows. ReLU's is 1 where Z > 0, else 0."""
    if activation == "sigmoid":
        s = activate(Z, "sigmoid")
        return s * (1.0 - s)
    if activation == "tanh":
        return 1.0 - np.tanh(Z) ** 2
    if activation == "relu":
        return (Z > 0).astype(np.float64)
    raise ValueError(f"unknown activation {activation!r}")


# --- Task 06.2: forward pass and loss ----------------------------------------------------------
def forward(X: np.ndarray, params: dict[str, np.ndarray], activation: str) -> tuple[np.ndarray, dict]:
    n_layers = len(params) // 2
    A, cache = X, {"A0": X}
    for l in range(1, n_layers + 1):
        Z = A @ params[f"W{l}"] + params[f"b{l}"]
        A = activate(Z, activation) if l < n_layers else Z  # the output layer is linear
        cache[f"Z{l}"], cache[f"A{l}"] = Z, A
    return A, cache


def mse_loss(Y_hat: np.ndarray, Y: np.ndarray) -> float:
    return float(np.mean((Y_hat - Y) ** 2))


# --- Task 06.3: backward pass ------------------------------------------------------------------
def backward(X: np.ndarray, Y: np.ndarray, params: dict[str, np.ndarray], cache: dict, activation: str) -> dict[str, np.ndarray]:
    n_layers = len(params) // 2
    dZ = 2.0 * (cache[f"A{n_layers}"] - Y) / Y.size  # the mean runs over all N * dL entries
    grads = {}
    for l in range(n_layers, 0, -1):
        grads[f"W{l}"] = cache[f"A{l - 1}"].T @ dZ
        grads[f"b{l}"] = dZ.sum(axis=0)
        if l > 1:
            # Each hidden layer scales the gradient by its weights and its activation's slope.
            dZ = (dZ @ params[f"W{l}"].T) * activation_derivative(cache[f"Z{l - 1}"], activation)
    return grads


# --- Task 06.4: gradient norms per layer -------------------------------------------------------
def layer_grad_norms(grads: dict[str, np.ndarray]) -> np.ndarray:
    # By layer number, not by sorted key: "W10" sorts before "W2".
    return np.array([np.linalg.norm(grads[f"W{l}"]) for l in range(1, len(grads) // 2 + 1)])


# --- Task 06.5: dead ReLU units ----------------------------------------------------------------
def dead_relu_fraction(X: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
    _, cache = forward(X, params, "relu")
    hidden = range(1, len(params) // 2)
    return np.array([(cache[f"Z{l}"] <= 0).all(axis=0).mean() for l in hidden], dtype=np.float64)


# --- Task 06.6: initialisation -----------------------------------------------------------------
def init_params(widths: list[int], activation: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """He for ReLU (it zeroes half its inputs, so twice the variance); Glorot for sigmoid and tanh,
    which keeps the variance of both the signal and the gradient near constant around 0."""
    params = {}
    for l, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:]), start=1):
        variance = 2.0 / fan_in if activation == "relu" else 2.0 / (fan_in + fan_out)
        params[f"W{l}"] = rng.normal(0.0, np.sqrt(variance), size=(fan_in, fan_out))
        params[f"b{l}"] = np.zeros(fan_out)
    return params
