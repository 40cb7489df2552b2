"""MISTAKE: backward evaluates the activation derivative at the post-activation A(l-1) instead of the pre-activation Z(l-1).

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


# --- Task 06.1: activations --------------------------------------------------------------------
def activate(Z: np.ndarray, activation: str) -> np.ndarray:
    """act(Z) entry by entry, for activation "sigmoid", "tanh" or "relu". Same shape as Z."""
    if activation == "sigmoid":
        return 1.0 / (1.0 + np.exp(-Z))
    elif activation == "tanh":
        return np.tanh(Z)
    elif activation == "relu":
        return np.maximum(Z, 0.0)
    raise ValueError(f"unknown activation {activation!r}")


def activation_derivative(Z: np.ndarray, activation: str) -> np.ndarray:
    """d act(Z) / dZ entry by entry, evaluated at the pre-activation Z. Same shape as Z."""
    if activation == "sigmoid":
        s = activate(Z, "sigmoid")
        return s * (1.0 - s)
    elif activation == "tanh":
        return 1.0 - np.tanh(Z) ** 2
    elif activation == "relu":
        return (Z > 0).astype(float)
    raise ValueError(f"unknown activation {activation!r}")


# --- Task 06.2: forward pass and loss ----------------------------------------------------------
def forward(X: np.ndarray, params: dict[str, np.ndarray], activation: str) -> tuple[np.ndarray, object]:
    """X (N, d0) -> (Y_hat, cache): Y_hat (N, dL) is the linear output of layer L.

    The number of layers L is len(params) // 2. cache holds whatever backward() needs.
    """
    L = len(params) // 2
    As = [X]
    Zs = []
    A = X
    for l in range(1, L + 1):
        Z = A @ params[f"W{l}"] + params[f"b{l}"]
        Zs.append(Z)
        if l < L:
            A = activate(Z, activation)
            As.append(A)
    return Zs[-1], {"Z": Zs, "A": As}


def mse_loss(Y_hat: np.ndarray, Y: np.ndarray) -> float:
    """The mean over all entries of (Y_hat - Y)**2; Y_hat and Y are (N, dL)."""
    return float(np.mean((Y_hat - Y) ** 2))


# --- Task 06.3: backward pass ------------------------------------------------------------------
def backward(
    X: np.ndarray, Y: np.ndarray, params: dict[str, np.ndarray], cache: object, activation: str
) -> dict[str, np.ndarray]:
    """Gradients of mse_loss(forward(X, params)[0], Y): same keys and shapes as params.

    cache is what forward(X, params, activation) returned.
    """
    L = len(params) // 2
    Zs, As = cache["Z"], cache["A"]
    Y_hat = Zs[-1]
    dZ = 2.0 * (Y_hat - Y) / Y_hat.size
    grads = {}
    for l in range(L, 0, -1):
        A_prev = As[l - 1]
        grads[f"W{l}"] = A_prev.T @ dZ
        grads[f"b{l}"] = dZ.sum(axis=0)
        if l > 1:
            dA_prev = dZ @ params[f"W{l}"].T
            dZ = dA_prev * activation_derivative(As[l - 1], activation)
    return grads


# --- Task 06.4: gradient norms per layer -------------------------------------------------------
def layer_grad_norms(grads: dict[str, np.ndarray]) -> np.ndarray:
    """(L,): the Frobenius norm of grads["Wl"] for l = 1 .. L, in layer order.

    grads has the keys "W1", "b1", ..., "WL", "bL" (as backward() returns them).
    """
    L = len(grads) // 2
    return np.array([np.linalg.norm(grads[f"W{l}"]) for l in range(1, L + 1)])


# --- Task 06.5: dead ReLU units ----------------------------------------------------------------
def dead_relu_fraction(X: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
    """(L-1,): for each hidden layer l = 1 .. L-1 of a ReLU network, the fraction of its units
    that are dead on the batch X (pre-activation <= 0 on every row), a number in [0, 1].
    """
    _, cache = forward(X, params, "relu")
    Zs = cache["Z"][:-1]
    return np.array([np.mean(np.all(Z <= 0, axis=0)) for Z in Zs], dtype=float)


# --- Task 06.6: initialisation -----------------------------------------------------------------
def init_params(widths: list[int], activation: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Fresh params for widths [d0, ..., dL], every random number drawn from rng.

    Weights: mean 0, variance by the standard rule for the activation (Glorot/Xavier for sigmoid
    and tanh, He/Kaiming for ReLU); biases 0.
    """
    params = {}
    for l in range(1, len(widths)):
        fan_in, fan_out = widths[l - 1], widths[l]
        if activation == "relu":
            std = np.sqrt(2.0 / fan_in)
        else:
            std = np.sqrt(2.0 / (fan_in + fan_out))
        params[f"W{l}"] = rng.normal(0.0, std, size=(fan_in, fan_out))
        params[f"b{l}"] = np.zeros(fan_out)
    return params
