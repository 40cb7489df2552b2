"""Oracle for kata 06_vanishing_gradients: an L-layer MLP and its mean squared error in torch
(float64), with autograd's gradients.

Specs compare learners' numbers with these, never with the reference solution. Inputs are copied
into fresh tensors, so nothing a learner's code does to its arrays can change the expected values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from harness.grading import tolerances as tol

ACTIVATIONS = ("sigmoid", "tanh", "relu")
TORCH_ACTIVATIONS = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}


def _tensor(array, requires_grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.array(array, dtype=np.float64), dtype=torch.float64, requires_grad=requires_grad)


def _frozen(tensor: torch.Tensor) -> np.ndarray:
    """A read-only copy: an expected value must not be changeable by whoever holds it."""
    array = tensor.detach().numpy().copy()
    array.setflags(write=False)
    return array


def n_layers(params: dict[str, np.ndarray]) -> int:
    return len(params) // 2


def param_names(layers: int) -> tuple[str, ...]:
    return tuple(name for l in range(1, layers + 1) for name in (f"W{l}", f"b{l}"))


@dataclass(frozen=True)
class Network:
    """Every intermediate of the MLP (Z[l-1] and A[l-1] are layer l's; A has A0 = X in front), the loss,
    its gradients, and dZ: the loss's gradient at each pre-activation (diagnoses build mistaken backward
    passes from them)."""

    Z: tuple[np.ndarray, ...]
    A: tuple[np.ndarray, ...]
    Y_hat: np.ndarray
    loss: float
    grads: dict[str, np.ndarray]
    dZ: tuple[np.ndarray, ...]

    @property
    def norms(self) -> np.ndarray:
        return np.array([np.linalg.norm(self.grads[f"W{l}"]) for l in range(1, len(self.Z) + 1)])


def network(X: np.ndarray, Y: np.ndarray, params: dict[str, np.ndarray], activation: str) -> Network:
    """Forward and backward pass by torch autograd; the last layer is linear."""
    layers = n_layers(params)
    p = {name: _tensor(params[name], requires_grad=True) for name in param_names(layers)}
    act = TORCH_ACTIVATIONS[activation]
    A, As, Zs = _tensor(X), [_tensor(X)], []
    for l in range(1, layers + 1):
        Z = A @ p[f"W{l}"] + p[f"b{l}"]
        Z.retain_grad()
        A = act(Z) if l < layers else Z
        Zs.append(Z)
        As.append(A)
    loss = F.mse_loss(A, _tensor(Y))  # the mean over all N * dL entries
    loss.backward()
    return Network(
        Z=tuple(_frozen(z) for z in Zs),
        A=tuple(_frozen(a) for a in As),
        Y_hat=_frozen(A),
        loss=loss.item(),
        grads={name: _frozen(p[name].grad) for name in p},
        dZ=tuple(_frozen(z.grad) for z in Zs),
    )


def activation(Z: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """act(Z) and its derivative at Z, entry by entry, by autograd (a sum's gradient is the diagonal)."""
    z = _tensor(Z, requires_grad=True)
    out = TORCH_ACTIVATIONS[name](z)
    out.sum().backward()
    return _frozen(out), _frozen(z.grad)


def mse(Y_hat: np.ndarray, Y: np.ndarray) -> float:
    return F.mse_loss(_tensor(Y_hat), _tensor(Y)).item()


def dead_fraction(X: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
    """Per hidden layer of the ReLU network, the fraction of units whose pre-activation is <= 0 on every row."""
    net = network(X, np.zeros((len(X), params[f"W{n_layers(params)}"].shape[1])), params, "relu")
    return np.array([(Z <= 0).all(axis=0).mean() for Z in net.Z[:-1]], dtype=np.float64)


# --- initialisation --------------------------------------------------------------------------------
RULES = {"sigmoid": "Glorot (Xavier)", "tanh": "Glorot (Xavier)", "relu": "He (Kaiming)"}


def rule_variance(activation: str, fan_in: int, fan_out: int) -> float:
    """The weight variance of the standard rule: He's 2 / fan_in for ReLU, Glorot's 2 / (fan_in + fan_out) otherwise."""
    return 2.0 / fan_in if activation == "relu" else 2.0 / (fan_in + fan_out)


def init_batch(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The batch of the prompt's claim: INIT_N rows of N(0, 1) inputs and targets for INIT_WIDTHS."""
    rng = np.random.default_rng(10_000 + seed)  # apart from the seeds init_params is given
    return rng.normal(size=(tol.INIT_N, tol.INIT_WIDTHS[0])), rng.normal(size=(tol.INIT_N, tol.INIT_WIDTHS[-1]))


def unit_normal_stack(seed: int) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The claim's batch and a stack of INIT_WIDTHS with N(0, 1) weights and zero biases."""
    rng = np.random.default_rng(seed)
    widths = tol.INIT_WIDTHS
    params = {}
    for l, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:]), start=1):
        params[f"W{l}"] = rng.normal(size=(fan_in, fan_out))
        params[f"b{l}"] = np.zeros(fan_out)
    return (*init_batch(seed), params)
