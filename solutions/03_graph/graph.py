"""Reference solution for kata 03_graph: a scalar reverse-mode autograd, like micrograd's, that can explain itself.

Read this after your own version passes. Each op computes its value (forward) and, right under it,
the local gradient of its output with respect to each input. backward() is then one loop: the
chain rule, (gradient arriving from above) x (local gradient), summed over every use of a node.
For y = sin(x**2 + 1): the inner function is u = x**2 + 1, the outer one sin(u), so
dy/dx = cos(u) * 2x: the outer function's derivative at the inner value, times the inner's derivative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


class Value:
    """A scalar node of the graph: its value, its gradient, and the op and inputs that made it."""

    def __init__(
        self,
        data: float,
        label: str = "",
        inputs: tuple[Value, ...] = (),
        op: str = "",
        local_grads: tuple[float, ...] = (),
    ) -> None:
        self.data = float(data)
        self.grad = 0.0
        self.label = label
        self.inputs = tuple(inputs)
        self.op = op
        self.local_grads = tuple(local_grads)  # d self / d inputs[i]: one per input, set by the op

    def __repr__(self) -> str:
        return f"Value({self.data:.6g}, grad={self.grad:.6g}, label={self.label!r}, op={self.op!r})"

    # --- ops: each builds its output node with the local gradients the chain rule will need -------
    def __add__(self, other: Value | float) -> Value:
        other = _as_value(other)
        # d(a + b)/da = d(a + b)/db = 1: a sum passes the gradient through unchanged to both.
        return Value(self.data + other.data, inputs=(self, other), op="+", local_grads=(1.0, 1.0))

    def __mul__(self, other: Value | float) -> Value:
        other = _as_value(other)
        # d(a * b)/da = b and d(a * b)/db = a: each factor's gradient is scaled by the other factor.
        # In x * x both inputs are x; each slot gets its own local gradient x, and backward adds them.
        return Value(self.data * other.data, inputs=(self, other), op="*", local_grads=(other.data, self.data))

    def __pow__(self, exponent: float) -> Value:
        # d(x ** n)/dx = n * x ** (n - 1). The exponent is a number, not a node: no gradient for it.
        return Value(self.data**exponent, inputs=(self,), op="**", local_grads=(exponent * self.data ** (exponent - 1),))

    def __neg__(self) -> Value:
        return Value(-self.data, inputs=(self,), op="neg", local_grads=(-1.0,))

    # Numbers on the left and subtraction reuse the ops above: a - b is a + (-b).
    def __radd__(self, other: float) -> Value:
        return self + other

    def __rmul__(self, other: float) -> Value:
        return self * other

    def __sub__(self, other: Value | float) -> Value:
        return self + (-other)

    def __rsub__(self, other: float) -> Value:
        return (-self) + other

    def sin(self) -> Value:
        # The outer function of y = sin(u): its local gradient cos(u) is taken at the inner value u.
        return Value(math.sin(self.data), inputs=(self,), op="sin", local_grads=(math.cos(self.data),))

    def exp(self) -> Value:
        e = math.exp(self.data)
        return Value(e, inputs=(self,), op="exp", local_grads=(e,))  # exp is its own derivative

    def log(self) -> Value:
        return Value(math.log(self.data), inputs=(self,), op="log", local_grads=(1.0 / self.data,))

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        return Value(t, inputs=(self,), op="tanh", local_grads=(1.0 - t * t,))  # from the output: no second tanh

    def relu(self) -> Value:
        # The gradient passes where the input was positive and stops where it was not.
        return Value(max(self.data, 0.0), inputs=(self,), op="relu", local_grads=(float(self.data > 0),))

    def sigmoid(self) -> Value:
        s = 1.0 / (1.0 + math.exp(-self.data))
        return Value(s, inputs=(self,), op="sigmoid", local_grads=(s * (1.0 - s),))

    # --- backward -----------------------------------------------------------------------------
    def backward(self) -> None:
        nodes, _ = trace(self)
        for node in nodes:
            node.grad = 0.0  # start from zero, so that explain() can run backward() on any graph
        self.grad = 1.0  # dy/dy
        # Reverse topological order: every node that uses `node` has passed its share back before
        # `node` passes its own gradient on to its inputs, so node.grad is complete when it is used.
        for node in reversed(nodes):
            for inner, local in zip(node.inputs, node.local_grads):
                # Chain rule: dy/d(inner) gets dy/d(node) x d(node)/d(inner), one share per use.
                # += not =: a node used twice (x * x, or a diamond) sums the shares of both uses.
                inner.grad += local * node.grad


def _as_value(x: Value | float) -> Value:
    """A number met in an op becomes a constant input node (op "")."""
    return x if isinstance(x, Value) else Value(x)


@dataclass(frozen=True)
class Step:
    """One edge as backward() uses it: inner -> outer, with the two factors of the chain rule."""

    inner: Value
    outer: Value
    local_grad: float
    upstream_grad: float


def trace(root: Value) -> tuple[list[Value], list[tuple[Value, Value]]]:
    nodes: list[Value] = []
    visited: set[int] = set()  # ids: a node reused in a diamond is listed once

    def visit(node: Value) -> None:
        if id(node) in visited:
            return
        visited.add(id(node))
        for inner in node.inputs:
            visit(inner)
        nodes.append(node)  # post-order: after everything it is computed from

    visit(root)
    # One edge per entry of .inputs, so x * x has two edges from x: one per share of its gradient.
    edges = [(inner, node) for node in nodes for inner in node.inputs]
    return nodes, edges


def explain(root: Value) -> list[Step]:
    root.backward()  # fills every node's grad: the upstream gradient of the edges leaving it
    nodes, _ = trace(root)
    return [
        Step(inner=inner, outer=node, local_grad=local, upstream_grad=node.grad)
        for node in reversed(nodes)  # the order backward() uses the edges in
        for inner, local in zip(node.inputs, node.local_grads)
    ]


def to_dot(root: Value) -> str:
    nodes, _ = trace(root)
    ids = {id(node): f"n{i}" for i, node in enumerate(nodes)}
    lines = ["digraph {", "  rankdir=LR;", "  node [shape=record];"]
    for node in nodes:
        fields = [_record_text(f) for f in (node.label, node.op) if f] + [f"data {node.data:.4f}", f"grad {node.grad:.4f}"]
        lines.append(f'  {ids[id(node)]} [label="{{ {" | ".join(fields)} }}"];')
    # One arrow per entry of .inputs, from inner to outer: the way the values flow, input to loss.
    lines += [f"  {ids[id(inner)]} -> {ids[id(node)]};" for node in nodes for inner in node.inputs]
    lines.append("}")
    return "\n".join(lines)


def _record_text(text: str) -> str:
    # In a record label { } | < > lay out the fields, and " ends the string: escape them.
    return "".join("\\" + c if c in '{}|<>"' else c for c in text)
