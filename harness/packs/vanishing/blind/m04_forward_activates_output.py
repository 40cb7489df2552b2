"""MISTAKE: forward applies the activation to the output layer too, so Y_hat = act(ZL) instead of the linear ZL.

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
    if activation == "relu":
        return np.maximum(Z, 0)
    if activation == "tanh":
        return np.tanh(Z)
    if activation == "sigmoid":
        return np.exp(-np.logaddexp(0, -Z))
    raise KeyError(activation)


def activation_derivative(Z: np.ndarray, activation: str) -> np.ndarray:
    """d act(Z) / dZ entry by entry, evaluated at the pre-activation Z. Same shape as Z."""
    a = activate(Z, activation)
    if activation == "relu":
        return np.greater(Z, 0).astype(Z.dtype)
    if activation == "tanh":
        return 1.0 - np.square(a)
    if activation == "sigmoid":
        return a * (1.0 - a)
    raise KeyError(activation)


# --- Task 06.2: forward pass and loss ----------------------------------------------------------
def forward(X: np.ndarray, params: dict[str, np.ndarray], activation: str) -> tuple[np.ndarray, object]:
    """X (N, d0) -> (Y_hat, cache): Y_hat (N, dL) is the linear output of layer L.

    The number of layers L is len(params) // 2. cache holds whatever backward() needs.
    """
    n_layers = len(params) // 2
    Ws = [params[f"W{i}"] for i in range(1, n_layers + 1)]
    bs = [params[f"b{i}"] for i in range(1, n_layers + 1)]
    a, pre, post = X, [], [X]
    for i, (W, b) in enumerate(zip(Ws, bs)):
        z = np.matmul(a, W) + b
        pre.append(z)
        a = activate(z, activation)
        post.append(a)
    return a, {"pre": pre, "post": post}


def mse_loss(Y_hat: np.ndarray, Y: np.ndarray) -> float:
    """The mean over all entries of (Y_hat - Y)**2; Y_hat and Y are (N, dL)."""
    r = (Y_hat - Y).ravel()
    return float(r @ r / r.size)


# --- Task 06.3: backward pass ------------------------------------------------------------------
def backward(
    X: np.ndarray, Y: np.ndarray, params: dict[str, np.ndarray], cache: object, activation: str
) -> dict[str, np.ndarray]:
    """Gradients of mse_loss(forward(X, params)[0], Y): same keys and shapes as params.

    cache is what forward(X, params, activation) returned.
    """
    pre, post = cache["pre"], cache["post"]
    n_layers = len(pre)
    delta = (post[-1] - Y) * (2.0 / Y.size)
    grads = {}
    for i in reversed(range(n_layers)):
        W = params[f"W{i + 1}"]
        grads[f"W{i + 1}"] = np.matmul(post[i].T, delta)
        grads[f"b{i + 1}"] = np.sum(delta, axis=0)
        if i > 0:
            delta = np.matmul(delta, W.T) * activation_derivative(pre[i - 1], activation)
    return grads


# --- Task 06.4: gradient norms per layer -------------------------------------------------------
def layer_grad_norms(grads: dict[str, np.ndarray]) -> np.ndarray:
    """(L,): the Frobenius norm of grads["Wl"] for l = 1 .. L, in layer order.

    grads has the keys "W1", "b1", ..., "WL", "bL" (as backward() returns them).
    """
    n_layers = len(grads) // 2
    return np.sqrt(np.array([np.sum(np.square(grads[f"W{i}"])) for i in range(1, n_layers + 1)]))


# --- Task 06.5: dead ReLU units ----------------------------------------------------------------
def dead_relu_fraction(X: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
    """(L-1,): for each hidden layer l = 1 .. L-1 of a ReLU network, the fraction of its units
    that are dead on the batch X (pre-activation <= 0 on every row), a number in [0, 1].
    """
    _, cache = forward(X, params, "relu")
    out = []
    for z in cache["pre"][:-1]:
        dead = np.max(z, axis=0) <= 0
        out.append(dead.sum() / z.shape[1])
    return np.asarray(out, dtype=float)


# --- Task 06.6: initialisation -----------------------------------------------------------------
def init_params(widths: list[int], activation: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Fresh params for widths [d0, ..., dL], every random number drawn from rng.

    Weights: mean 0, variance by the standard rule for the activation (Glorot/Xavier for sigmoid
    and tanh, He/Kaiming for ReLU); biases 0.
    """
    params = {}
    for i in range(len(widths) - 1):
        fan_in, fan_out = widths[i], widths[i + 1]
        if activation == "relu":
            W = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))
        else:
            bound = np.sqrt(6.0 / (fan_in + fan_out))
            W = rng.uniform(-bound, bound, size=(fan_in, fan_out))
        params[f"W{i + 1}"] = W
        params[f"b{i + 1}"] = np.zeros(fan_out)
    return params
