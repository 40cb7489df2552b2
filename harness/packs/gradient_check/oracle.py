"""Kata 05_gradient_check's oracle: the true gradients, by torch autograd in float64.

The learner's numerical gradient is judged against these, within the error a centered difference is
allowed (functions.Smooth.allowed_error); the planted network's true gradients say which parameter
its backward pass gets wrong, and by how much.
"""

from __future__ import annotations

import numpy as np
import torch

from harness.packs.gradient_check.functions import Smooth
from harness.packs.gradient_check.network import Network

TORCH_PHI = {"sin": torch.sin, "cos": torch.cos, "tanh": torch.tanh}


def smooth_grad(f: Smooth, x: np.ndarray) -> np.ndarray:
    """df/dx at x, shaped like x."""
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    u = torch.tensor(f.A) @ t.reshape(-1) + torch.tensor(f.b)
    value = sum(float(c) * TORCH_PHI[kind](u[j]) for j, (c, kind) in enumerate(zip(f.c, f.kinds)))
    value.backward()
    return t.grad.numpy()


def relative_error(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """|a - b| / max(|a|, |b|) entry by entry, 0 where both are 0: the definition the prompt gives."""
    a, b = torch.as_tensor(np.asarray(a, dtype=np.float64)), torch.as_tensor(np.asarray(b, dtype=np.float64))
    scale = torch.maximum(a.abs(), b.abs())
    return torch.where(scale > 0, (a - b).abs() / torch.where(scale > 0, scale, 1.0), 0.0).numpy()


def network_grads(network: Network, params: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """The gradients of network.loss at params (the network's own by default), by autograd."""
    tensors = {name: torch.tensor(value, requires_grad=True) for name, value in (params or network.params).items()}
    A = torch.tensor(network.X)
    for l in range(1, network.layers + 1):
        Z = A @ tensors[f"W{l}"] + tensors[f"b{l}"]
        A = torch.relu(Z) if l < network.layers else Z
    loss = ((A - torch.tensor(network.Y)) ** 2).sum() / (2 * len(network.X))
    loss.backward()
    return {name: t.grad.numpy() for name, t in tensors.items()}
