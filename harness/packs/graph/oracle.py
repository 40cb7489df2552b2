"""Oracle for kata 03_graph: an expression rebuilt with torch float64 scalars, every gradient by autograd.

An expression (harness/grading/strategies.py: inputs, then steps such as `v2 = x0 * x1`) is built once with
torch. Every node calls retain_grad(), so torch reports d root / d node for the intermediates too,
not only for the leaves. A number in + - * becomes a leaf tensor with requires_grad, like the
learner's constant nodes, so those get a torch gradient to be compared with; an exponent stays a
plain number, as in the kata (x ** 3 has the one input x).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from harness.grading.strategies import Expression

# The torch function for each op name of the kata.
OPS = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "**": operator.pow,
    "neg": operator.neg,
    "sin": torch.sin,
    "exp": torch.exp,
    "log": torch.log,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
}


@dataclass(frozen=True)
class Evaluation:
    """Kata 03: what torch computes for an expression, node by node (inputs first, then the steps)."""

    values: tuple[float, ...]
    grads: tuple[float, ...]  # d root / d node; 0.0 where the root does not depend on the node
    constant_grads: dict[tuple[int, int], float]  # (node, argument slot) of a number in + - *: d root / d it
    partials: tuple[tuple[float | None, ...], ...]  # d node / d argument, per slot (None: an exponent); () for inputs
    chain: tuple[str, ...]  # the grad_fn classes from the root back to input 0: SinBackward0 ... AccumulateGrad


def _leaf(value: float) -> torch.Tensor:
    return torch.tensor(float(value), dtype=torch.float64, requires_grad=True)


def _is_node(arg: int | float) -> bool:
    return type(arg) is int  # an expression's int argument is a node index; a float is a number


def evaluate(expr: Expression) -> Evaluation:
    """Values and gradients of every node of `expr`, by torch autograd (float64)."""
    nodes = [_leaf(v) for v in expr.inputs]
    constants: dict[tuple[int, int], torch.Tensor] = {}
    for k, instr in enumerate(expr.steps, start=len(expr.inputs)):
        args = []
        for slot, arg in enumerate(instr.args):
            if _is_node(arg):
                args.append(nodes[arg])
            elif instr.op == "**":
                args.append(arg)
            else:
                args.append(constants.setdefault((k, slot), _leaf(arg)))
        out = OPS[instr.op](*args)
        out.retain_grad()
        nodes.append(out)
    root = nodes[-1]
    root.backward()
    values = tuple(t.item() for t in nodes)
    return Evaluation(
        values=values,
        grads=tuple(0.0 if t.grad is None else t.grad.item() for t in nodes),
        constant_grads={key: (0.0 if t.grad is None else t.grad.item()) for key, t in constants.items()},
        partials=tuple(() for _ in expr.inputs) + tuple(_partials(instr.op, instr.args, values) for instr in expr.steps),
        chain=_chain(root.grad_fn, nodes[0]) or (),
    )


def _partials(op: str, args: tuple[int | float, ...], values: tuple[float, ...]) -> tuple[float | None, ...]:
    """d out / d argument for each argument slot of one step, each slot its own fresh leaf.

    So in x * x each slot gets x (its own share), not 2x: that is what one edge of the graph carries.
    """
    leaves = [_leaf(values[a]) if _is_node(a) else a if op == "**" else _leaf(a) for a in args]
    tensors = [t for t in leaves if isinstance(t, torch.Tensor)]
    grads = iter(torch.autograd.grad(OPS[op](*leaves), tensors))
    return tuple(next(grads).item() if isinstance(t, torch.Tensor) else None for t in leaves)


def _chain(fn, leaf: torch.Tensor) -> tuple[str, ...] | None:
    """The grad_fn class names on a path from `fn` back to `leaf`'s AccumulateGrad (depth first)."""
    if fn is None:
        return None
    name = type(fn).__name__
    if name == "AccumulateGrad":
        return (name,) if fn.variable is leaf else None
    for next_fn, _ in fn.next_functions:
        rest = _chain(next_fn, leaf)
        if rest is not None:
            return (name, *rest)
    return None
