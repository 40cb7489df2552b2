"""MISTAKE: off-by-one in forward: the activation is skipped on the last hidden layer (l >= L - 1 treated as linear).

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
    match activation:
        case "sigmoid":
            return 1 / (1 + np.exp(-Z))
        case "tanh":
            return np.tanh(Z)
        case "relu":
            return np.clip(Z, 0, None)
    raise ValueError(activation)


def activation_derivative(Z: np.ndarray, activation: str) -> np.ndarray:
    """d act(Z) / dZ entry by entry, evaluated at the pre-activation Z. Same shape as Z."""
    match activation:
        case "sigmoid":
            s = activate(Z, "sigmoid")
            return s * (1 - s)
        case "tanh":
            return 1 / np.cosh(Z) ** 2
        case "relu":
            return np.heaviside(Z, 0.0)
    raise ValueError(activation)


# --- Task 06.2: forward pass and loss ----------------------------------------------------------
def forward(X: np.ndarray, params: dict[str, np.ndarray], activation: str) -> tuple[np.ndarray, object]:
    """X (N, d0) -> (Y_hat, cache): Y_hat (N, dL) is the linear output of layer L.

    The number of layers L is len(params) // 2. cache holds whatever backward() needs.
    """
    L = len(params) // 2
    inputs = []
    A = X
    for l in range(1, L + 1):
        inputs.append(A)
        Z = A @ params[f"W{l}"] + params[f"b{l}"]
        A = Z if l >= L - 1 else activate(Z, activation)
    return A, (inputs, A)


def mse_loss(Y_hat: np.ndarray, Y: np.ndarray) -> float:
    """The mean over all entries of (Y_hat - Y)**2; Y_hat and Y are (N, dL)."""
    N, d = Y.shape
    return float(((Y_hat - Y) ** 2).sum() / (N * d))


# --- Task 06.3: backward pass ------------------------------------------------------------------
def backward(
    X: np.ndarray, Y: np.ndarray, params: dict[str, np.ndarray], cache: object, activation: str
) -> dict[str, np.ndarray]:
    """Gradients of mse_loss(forward(X, params)[0], Y): same keys and shapes as params.

    cache is what forward(X, params, activation) returned.
    """
    inputs, Y_hat = cache
    L = len(inputs)
    grad = 2 * (Y_hat - Y) / np.prod(Y.shape)     # dLoss/dZ_L
    grads = {}
    for l in range(L, 0, -1):
        A_prev = inputs[l - 1]
        grads[f"W{l}"] = A_prev.T @ grad
        grads[f"b{l}"] = grad.sum(axis=0)
        if l > 1:
            Z_prev = inputs[l - 2] @ params[f"W{l-1}"] + params[f"b{l-1}"]
            grad = (grad @ params[f"W{l}"].T) * activation_derivative(Z_prev, activation)
    return grads


# --- Task 06.4: gradient norms per layer -------------------------------------------------------
def layer_grad_norms(grads: dict[str, np.ndarray]) -> np.ndarray:
    """(L,): the Frobenius norm of grads["Wl"] for l = 1 .. L, in layer order.

    grads has the keys "W1", "b1", ..., "WL", "bL" (as backward() returns them).
    """
    L = sum(1 for k in grads if k[0] == "W")
    return np.array([np.linalg.norm(grads[f"W{l}"].ravel()) for l in range(1, L + 1)])


# --- Task 06.5: dead ReLU units ----------------------------------------------------------------
def dead_relu_fraction(X: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
    """(L-1,): for each hidden layer l = 1 .. L-1 of a ReLU network, the fraction of its units
    that are dead on the batch X (pre-activation <= 0 on every row), a number in [0, 1].
    """
    L = len(params) // 2
    A = X
    fractions = np.zeros(L - 1)
    for l in range(1, L):
        Z = A @ params[f"W{l}"] + params[f"b{l}"]
        alive = (Z > 0).any(axis=0)
        fractions[l - 1] = 1.0 - alive.mean()
        A = np.maximum(Z, 0)
    return fractions


# --- Task 06.6: initialisation -----------------------------------------------------------------
def init_params(widths: list[int], activation: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Fresh params for widths [d0, ..., dL], every random number drawn from rng.

    Weights: mean 0, variance by the standard rule for the activation (Glorot/Xavier for sigmoid
    and tanh, He/Kaiming for ReLU); biases 0.
    """
    params: dict[str, np.ndarray] = {}
    for l in range(1, len(widths)):
        n_in, n_out = widths[l - 1], widths[l]
        var = 2 / n_in if activation == "relu" else 2 / (n_in + n_out)
        W = rng.normal(size=(n_in, n_out)) * var ** 0.5
        params[f"W{l}"] = W
        params[f"b{l}"] = np.zeros_like(W[0])
    return params
