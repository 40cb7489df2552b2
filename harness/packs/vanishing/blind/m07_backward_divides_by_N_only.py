"""MISTAKE: backward's dLoss/dY_hat is 2 (Y_hat - Y) / N, dividing by the batch size but not by the dL outputs.

NumPy only: no torch, no autograd. The prompt is in README.md beside this file.

Conventions (the spec checks each one):
  * widths = [d0, d1, ..., dL]: L layers; layers 1 .. L-1 are hidden and use the activation,
    layer L is linear;
  * params is a dict: "W1" (d0, d1), "b1" (d1,), ..., "WL" (d(L-1), dL), "bL" (dL,);
  * rows are samples: X is (N, d0), Y and Y_hat are (N, dL);
  * Zl = A(l-1) @ Wl + bl with A0 = X;  Al = act(Zl) for l < L;  Y_hat = ZL;
  * the loss is the MEAN over all N * dL entries of (Y_hat - Y)**2, and gradients are of that mean;
  * activation is one of "sigmoid", "tanh", "relu";
  * no function modifies the arrays it is given (build new ones).

Run `pytest katas/06_vanishing_gradients` to be graded.
"""

from __future__ import annotations

import numpy as np

ACTIVATIONS = ("sigmoid", "tanh", "relu")


_ACT = {
    "sigmoid": lambda Z: 1.0 / (1.0 + np.exp(-Z)),
    "tanh": np.tanh,
    "relu": lambda Z: np.maximum(0.0, Z),
}


def _dsigmoid(Z):
    s = 1.0 / (1.0 + np.exp(-Z))
    return s * (1.0 - s)


_DACT = {
    "sigmoid": _dsigmoid,
    "tanh": lambda Z: 1.0 - np.tanh(Z) ** 2,
    "relu": lambda Z: (Z >= 0).astype(np.float64),
}


# --- Task 06.1: activations --------------------------------------------------------------------
def activate(Z: np.ndarray, activation: str) -> np.ndarray:
    """act(Z) entry by entry, for activation "sigmoid", "tanh" or "relu". Same shape as Z."""
    return _ACT[activation](Z)


def activation_derivative(Z: np.ndarray, activation: str) -> np.ndarray:
    """d act(Z) / dZ entry by entry, evaluated at the pre-activation Z. Same shape as Z."""
    return _DACT[activation](Z)


# --- Task 06.2: forward pass and loss ----------------------------------------------------------
def forward(X: np.ndarray, params: dict[str, np.ndarray], activation: str) -> tuple[np.ndarray, object]:
    """X (N, d0) -> (Y_hat, cache): Y_hat (N, dL) is the linear output of layer L.

    The number of layers L is len(params) // 2. cache holds whatever backward() needs.
    """
    L = len(params) // 2
    cache = {"A0": X, "L": L}
    for l in range(1, L + 1):
        Z = np.einsum("ni,io->no", cache[f"A{l-1}"], params[f"W{l}"]) + params[f"b{l}"]
        cache[f"Z{l}"] = Z
        if l < L:
            cache[f"A{l}"] = activate(Z, activation)
    return cache[f"Z{L}"], cache


def mse_loss(Y_hat: np.ndarray, Y: np.ndarray) -> float:
    """The mean over all entries of (Y_hat - Y)**2; Y_hat and Y are (N, dL)."""
    return ((Y_hat - Y) ** 2).mean().item()


# --- Task 06.3: backward pass ------------------------------------------------------------------
def backward(
    X: np.ndarray, Y: np.ndarray, params: dict[str, np.ndarray], cache: object, activation: str
) -> dict[str, np.ndarray]:
    """Gradients of mse_loss(forward(X, params)[0], Y): same keys and shapes as params.

    cache is what forward(X, params, activation) returned.
    """
    L = cache["L"]
    N, dL = Y.shape
    dZ = (2.0 / N) * (cache[f"Z{L}"] - Y)
    grads = {}
    for l in reversed(range(1, L + 1)):
        grads[f"W{l}"] = np.einsum("ni,no->io", cache[f"A{l-1}"], dZ)
        grads[f"b{l}"] = np.einsum("no->o", dZ)
        if l == 1:
            break
        dA = np.einsum("no,io->ni", dZ, params[f"W{l}"])
        dZ = dA * activation_derivative(cache[f"Z{l-1}"], activation)
    return grads


# --- Task 06.4: gradient norms per layer -------------------------------------------------------
def layer_grad_norms(grads: dict[str, np.ndarray]) -> np.ndarray:
    """(L,): the Frobenius norm of grads["Wl"] for l = 1 .. L, in layer order.

    grads has the keys "W1", "b1", ..., "WL", "bL" (as backward() returns them).
    """
    keys = sorted((k for k in grads if k.startswith("W")), key=lambda k: int(k[1:]))
    return np.array([np.sqrt(np.einsum("ij,ij->", grads[k], grads[k])) for k in keys])


# --- Task 06.5: dead ReLU units ----------------------------------------------------------------
def dead_relu_fraction(X: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
    """(L-1,): for each hidden layer l = 1 .. L-1 of a ReLU network, the fraction of its units
    that are dead on the batch X (pre-activation <= 0 on every row), a number in [0, 1].
    """
    _, cache = forward(X, params, "relu")
    L = cache["L"]
    return np.array([(cache[f"Z{l}"] <= 0).all(axis=0).mean() for l in range(1, L)], dtype=np.float64)


# --- Task 06.6: initialisation -----------------------------------------------------------------
def init_params(widths: list[int], activation: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Fresh params for widths [d0, ..., dL], every random number drawn from rng.

    Weights: mean 0, variance by the standard rule for the activation (Glorot/Xavier for sigmoid
    and tanh, He/Kaiming for ReLU); biases 0.
    """
    params = {}
    for l in range(1, len(widths)):
        fan_in, fan_out = widths[l - 1], widths[l]
        gain_var = 2.0 / fan_in if activation == "relu" else 2.0 / (fan_in + fan_out)
        params[f"W{l}"] = rng.standard_normal((fan_in, fan_out)) * np.sqrt(gain_var)
        params[f"b{l}"] = np.zeros((fan_out,))
    return params
