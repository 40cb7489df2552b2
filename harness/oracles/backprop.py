"""Oracle for kata 02_backprop: the 2-3-1 network and its BCE loss in torch (float64), by autograd.

Specs compare learners' numbers with these, never with the reference solutions. Inputs are copied
into fresh tensors, so nothing a learner's code does to its arrays can change the expected values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

PARAM_NAMES = ("W1", "b1", "W2", "b2")


def _tensor(array, requires_grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.array(array, dtype=np.float64), dtype=torch.float64, requires_grad=requires_grad)


@dataclass(frozen=True)
class Network:
    """Kata 02: every intermediate of the 2-3-1 network, the mean BCE loss and its gradients.

    dZ1, dA1 and dZ2 are the loss's gradients at the intermediates: harness/diagnoses/backprop.py
    builds what a mistaken backward pass would return from them.
    """

    Z1: np.ndarray
    A1: np.ndarray
    Z2: np.ndarray
    A2: np.ndarray
    loss: float
    grads: dict[str, np.ndarray]
    dZ1: np.ndarray
    dA1: np.ndarray
    dZ2: np.ndarray


def network(X: np.ndarray, y: np.ndarray, params: dict[str, np.ndarray]) -> Network:
    """Forward and backward pass of kata 02's network, by torch autograd."""
    p = {name: _tensor(params[name], requires_grad=True) for name in PARAM_NAMES}
    Z1 = _tensor(X) @ p["W1"] + p["b1"]
    A1 = torch.relu(Z1)
    Z2 = A1 @ p["W2"] + p["b2"]
    A2 = torch.sigmoid(Z2)
    loss = F.binary_cross_entropy(A2, _tensor(y))  # mean over the batch
    for node in (Z1, A1, Z2):
        node.retain_grad()
    loss.backward()
    return Network(
        Z1=Z1.detach().numpy(),
        A1=A1.detach().numpy(),
        Z2=Z2.detach().numpy(),
        A2=A2.detach().numpy(),
        loss=loss.item(),
        grads={name: p[name].grad.numpy() for name in PARAM_NAMES},
        dZ1=Z1.grad.numpy(),
        dA1=A1.grad.numpy(),
        dZ2=Z2.grad.numpy(),
    )


def bce(y_hat: np.ndarray, y: np.ndarray) -> float:
    """Mean binary cross-entropy, as torch computes it."""
    return F.binary_cross_entropy(_tensor(y_hat), _tensor(y)).item()
