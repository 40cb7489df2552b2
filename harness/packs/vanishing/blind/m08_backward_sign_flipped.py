"""MISTAKE: backward starts from 2 (Y - Y_hat) / (N dL), the sign of the loss gradient flipped.

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


def _sigmoid(Z: np.ndarray) -> np.ndarray:
    # split by sign so exp never sees a large positive argument
    out = np.empty_like(Z, dtype=float)
    pos = Z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-Z[pos]))
    ez = np.exp(Z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


# --- Task 06.1: activations --------------------------------------------------------------------
def activate(Z: np.ndarray, activation: str) -> np.ndarray:
    """act(Z) entry by entry, for activation "sigmoid", "tanh" or "relu". Same shape as Z."""
    if activation == "sigmoid":
        return _sigmoid(Z)
    if activation == "tanh":
        return np.tanh(Z)
    if activation == "relu":
        return np.where(Z > 0, Z, 0.0)
    raise ValueError(activation)


def activation_derivative(Z: np.ndarray, activation: str) -> np.ndarray:
    """d act(Z) / dZ entry by entry, evaluated at the pre-activation Z. Same shape as Z."""
    if activation == "sigmoid":
        s = _sigmoid(Z)
        return s * (1 - s)
    if activation == "tanh":
        t = np.tanh(Z)
        return 1 - t * t
    if activation == "relu":
        return np.where(Z > 0, 1.0, 0.0)
    raise ValueError(activation)


# --- Task 06.2: forward pass and loss ----------------------------------------------------------
def forward(X: np.ndarray, params: dict[str, np.ndarray], activation: str) -> tuple[np.ndarray, object]:
    """X (N, d0) -> (Y_hat, cache): Y_hat (N, dL) is the linear output of layer L.

    The number of layers L is len(params) // 2. cache holds whatever backward() needs.
    """
    L = len(params) // 2
    cache = []  # one (A_prev, Z) pair per layer
    A = X
    for l in range(1, L + 1):
        Z = A @ params["W" + str(l)] + params["b" + str(l)]
        cache.append((A, Z))
        A = activate(Z, activation) if l != L else Z
    return A, cache


def mse_loss(Y_hat: np.ndarray, Y: np.ndarray) -> float:
    """The mean over all entries of (Y_hat - Y)**2; Y_hat and Y are (N, dL)."""
    diff = Y_hat - Y
    return float(np.sum(diff * diff) / diff.size)


# --- Task 06.3: backward pass ------------------------------------------------------------------
def backward(
    X: np.ndarray, Y: np.ndarray, params: dict[str, np.ndarray], cache: object, activation: str
) -> dict[str, np.ndarray]:
    """Gradients of mse_loss(forward(X, params)[0], Y): same keys and shapes as params.

    cache is what forward(X, params, activation) returned.
    """
    L = len(params) // 2
    N, dL = Y.shape
    grads = {k: np.zeros_like(v, dtype=float) for k, v in params.items()}
    for i in range(N):
        delta = 2.0 * (Y[i] - cache[-1][1][i]) / (N * dL)   # dLoss/dZ_L for sample i
        for l in range(L, 0, -1):
            a_prev, z = cache[l - 1]
            grads["W" + str(l)] += np.outer(a_prev[i], delta)
            grads["b" + str(l)] += delta
            if l > 1:
                delta = (params["W" + str(l)] @ delta) * activation_derivative(cache[l - 2][1][i], activation)
    return grads


# --- Task 06.4: gradient norms per layer -------------------------------------------------------
def layer_grad_norms(grads: dict[str, np.ndarray]) -> np.ndarray:
    """(L,): the Frobenius norm of grads["Wl"] for l = 1 .. L, in layer order.

    grads has the keys "W1", "b1", ..., "WL", "bL" (as backward() returns them).
    """
    norms = []
    l = 1
    while "W" + str(l) in grads:
        norms.append(np.sqrt(np.sum(grads["W" + str(l)] ** 2)))
        l += 1
    return np.array(norms)


# --- Task 06.5: dead ReLU units ----------------------------------------------------------------
def dead_relu_fraction(X: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
    """(L-1,): for each hidden layer l = 1 .. L-1 of a ReLU network, the fraction of its units
    that are dead on the batch X (pre-activation <= 0 on every row), a number in [0, 1].
    """
    _, cache = forward(X, params, "relu")
    fractions = []
    for _, Z in cache[:-1]:
        n_units = Z.shape[1]
        dead = 0
        for j in range(n_units):
            if np.all(Z[:, j] <= 0):
                dead += 1
        fractions.append(dead / n_units)
    return np.array(fractions, dtype=float)


# --- Task 06.6: initialisation -----------------------------------------------------------------
def init_params(widths: list[int], activation: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Fresh params for widths [d0, ..., dL], every random number drawn from rng.

    Weights: mean 0, variance by the standard rule for the activation (Glorot/Xavier for sigmoid
    and tanh, He/Kaiming for ReLU); biases 0.
    """
    params = {}
    for l, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:]), start=1):
        if activation == "relu":
            limit = np.sqrt(6.0 / n_in)            # He uniform: var = limit^2 / 3 = 2 / n_in
        else:
            limit = np.sqrt(6.0 / (n_in + n_out))  # Glorot uniform: var = 2 / (n_in + n_out)
        params["W" + str(l)] = rng.uniform(-limit, limit, size=(n_in, n_out))
        params["b" + str(l)] = np.zeros(n_out)
    return params
