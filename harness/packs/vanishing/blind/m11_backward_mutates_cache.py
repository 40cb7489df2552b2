"""MISTAKE: backward builds dLoss/dY_hat in place on the cached Y_hat (dZ = cache['Y_hat']; dZ -= Y; ...), overwriting the cache and the Y_hat forward returned.

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
        return np.exp(-np.logaddexp(0.0, -Z))
    if activation == "tanh":
        return np.tanh(Z)
    if activation == "relu":
        return Z * (Z > 0)
    raise ValueError(f"activation must be one of {ACTIVATIONS}")


def _derivative_from_output(A: np.ndarray, activation: str) -> np.ndarray:
    """The same local derivative, written in terms of the activation's output A = act(Z)."""
    if activation == "sigmoid":
        return A * (1.0 - A)
    if activation == "tanh":
        return 1.0 - A * A
    return (A > 0).astype(float)


def activation_derivative(Z: np.ndarray, activation: str) -> np.ndarray:
    """d act(Z) / dZ entry by entry, evaluated at the pre-activation Z. Same shape as Z."""
    return _derivative_from_output(activate(Z, activation), activation)


def _linear_forward(A_prev, W, b):
    return A_prev @ W + b


def _linear_backward(dZ, A_prev, W):
    dW = A_prev.T @ dZ
    db = dZ.sum(axis=0)
    dA_prev = dZ @ W.T
    return dW, db, dA_prev


# --- Task 06.2: forward pass and loss ----------------------------------------------------------
def forward(X: np.ndarray, params: dict[str, np.ndarray], activation: str) -> tuple[np.ndarray, object]:
    """X (N, d0) -> (Y_hat, cache): Y_hat (N, dL) is the linear output of layer L.

    The number of layers L is len(params) // 2. cache holds whatever backward() needs.
    """
    L = len(params) // 2
    activations = [X]
    A = X
    for l in range(1, L):
        A = activate(_linear_forward(A, params[f"W{l}"], params[f"b{l}"]), activation)
        activations.append(A)
    Y_hat = _linear_forward(A, params[f"W{L}"], params[f"b{L}"])
    return Y_hat, {"activations": activations, "Y_hat": Y_hat}


def mse_loss(Y_hat: np.ndarray, Y: np.ndarray) -> float:
    """The mean over all entries of (Y_hat - Y)**2; Y_hat and Y are (N, dL)."""
    return float(np.mean(np.square(Y_hat - Y)))


# --- Task 06.3: backward pass ------------------------------------------------------------------
def backward(
    X: np.ndarray, Y: np.ndarray, params: dict[str, np.ndarray], cache: object, activation: str
) -> dict[str, np.ndarray]:
    """Gradients of mse_loss(forward(X, params)[0], Y): same keys and shapes as params.

    cache is what forward(X, params, activation) returned.
    """
    L = len(params) // 2
    acts = cache["activations"]
    dZ = cache["Y_hat"]
    dZ -= Y
    dZ *= 2.0 / Y.size
    grads = {}
    for l in range(L, 0, -1):
        dW, db, dA_prev = _linear_backward(dZ, acts[l - 1], params[f"W{l}"])
        grads[f"W{l}"] = dW
        grads[f"b{l}"] = db
        if l > 1:
            dZ = dA_prev * _derivative_from_output(acts[l - 1], activation)
    return grads


# --- Task 06.4: gradient norms per layer -------------------------------------------------------
def layer_grad_norms(grads: dict[str, np.ndarray]) -> np.ndarray:
    """(L,): the Frobenius norm of grads["Wl"] for l = 1 .. L, in layer order.

    grads has the keys "W1", "b1", ..., "WL", "bL" (as backward() returns them).
    """
    L = len(grads) // 2
    out = np.zeros(L)
    for l in range(1, L + 1):
        out[l - 1] = np.linalg.norm(grads[f"W{l}"], "fro")
    return out


# --- Task 06.5: dead ReLU units ----------------------------------------------------------------
def dead_relu_fraction(X: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
    """(L-1,): for each hidden layer l = 1 .. L-1 of a ReLU network, the fraction of its units
    that are dead on the batch X (pre-activation <= 0 on every row), a number in [0, 1].
    """
    _, cache = forward(X, params, "relu")
    hidden = cache["activations"][1:]
    # relu(Z) == 0 exactly when Z <= 0
    return np.array([np.mean(np.all(A == 0, axis=0)) for A in hidden], dtype=float)


# --- Task 06.6: initialisation -----------------------------------------------------------------
def init_params(widths: list[int], activation: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Fresh params for widths [d0, ..., dL], every random number drawn from rng.

    Weights: mean 0, variance by the standard rule for the activation (Glorot/Xavier for sigmoid
    and tanh, He/Kaiming for ReLU); biases 0.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(activation)
    params = {}
    for l in range(1, len(widths)):
        fan_in, fan_out = widths[l - 1], widths[l]
        if activation == "relu":
            scale = np.sqrt(2.0 / fan_in)
        else:
            scale = np.sqrt(1.0 / ((fan_in + fan_out) / 2.0))
        params[f"W{l}"] = rng.normal(loc=0.0, scale=scale, size=(fan_in, fan_out))
        params[f"b{l}"] = np.zeros(fan_out)
    return params
