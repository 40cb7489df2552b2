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

    dZ1, dA1 and dZ2 are the loss's gradients at the intermediates: harness/packs/backprop/diagnoses.py
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


# Grading is derandomized, so every grade meets the same examples: the warm grading server fills
# this memo once (harness/grading/warm_run.py) and each forked grade reads it instead of running torch again.
_memo: dict[bytes, Network] = {}
MEMO_LIMIT = 20_000


def _key(*arrays: np.ndarray) -> bytes:
    parts = [np.ascontiguousarray(a, dtype=np.float64) for a in arrays]
    return b"|".join(repr(a.shape).encode() + a.tobytes() for a in parts)


def network(X: np.ndarray, y: np.ndarray, params: dict[str, np.ndarray]) -> Network:
    """Forward and backward pass of kata 02's network, by torch autograd (memoized, read-only)."""
    key = _key(X, y, *(params[name] for name in PARAM_NAMES))
    found = _memo.get(key)
    if found is None:
        found = _network(X, y, params)
        if len(_memo) < MEMO_LIMIT:
            _memo[key] = found
    return found


def saturated(X: np.ndarray, y: np.ndarray, params: dict[str, np.ndarray]) -> Network:
    """The network where its output saturates: the loss written on the logits Z2, whose gradient
    sigmoid(Z2) - y stays exact where the sigmoid rounds to 1.0. BCE on the probabilities (as
    network() computes it, like the learner) loses it there: torch clamps its log and its gradient
    dies with the A2 (1 - A2) = 0 factor."""
    return _network(X, y, params, on_logits=True)


def _network(X: np.ndarray, y: np.ndarray, params: dict[str, np.ndarray], *, on_logits: bool = False) -> Network:
    p = {name: _tensor(params[name], requires_grad=True) for name in PARAM_NAMES}
    Z1 = _tensor(X) @ p["W1"] + p["b1"]
    A1 = torch.relu(Z1)
    Z2 = A1 @ p["W2"] + p["b2"]
    A2 = torch.sigmoid(Z2)
    # the mean over the batch
    loss = F.binary_cross_entropy_with_logits(Z2, _tensor(y)) if on_logits else F.binary_cross_entropy(A2, _tensor(y))
    for node in (Z1, A1, Z2):
        node.retain_grad()
    loss.backward()
    return Network(
        Z1=_frozen(Z1.detach()),
        A1=_frozen(A1.detach()),
        Z2=_frozen(Z2.detach()),
        A2=_frozen(A2.detach()),
        loss=loss.item(),
        grads={name: _frozen(p[name].grad) for name in PARAM_NAMES},
        dZ1=_frozen(Z1.grad),
        dA1=_frozen(A1.grad),
        dZ2=_frozen(Z2.grad),
    )


def _frozen(tensor: torch.Tensor) -> np.ndarray:
    """A read-only copy: a memoized expected value must not be changeable by whoever holds it."""
    array = tensor.numpy().copy()
    array.setflags(write=False)
    return array


def bce(y_hat: np.ndarray, y: np.ndarray) -> float:
    """Mean binary cross-entropy, as torch computes it."""
    return F.binary_cross_entropy(_tensor(y_hat), _tensor(y)).item()
