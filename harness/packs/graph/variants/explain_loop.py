"""A correct kata 03 submission built the other way round: explain() does the chain rule and
backward() only replays its steps. An iterative topological sort, one edge per (inner, outer) pair
(x * x has one edge whose local gradient is 2x), and a DOT with HTML labels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


class Value:
    def __init__(self, data, label="", inputs=(), op="", local_grads=()):
        self.data = float(data)
        self.grad = 0.0
        self.label = label
        self.inputs = tuple(inputs)
        self.op = op
        self.local_grads = tuple(local_grads)

    def _make(self, data, op, inputs, local_grads):
        return Value(data, inputs=inputs, op=op, local_grads=local_grads)

    def __add__(self, other):
        other = _as_value(other)
        return self._make(self.data + other.data, "+", (self, other), (1.0, 1.0))

    def __mul__(self, other):
        other = _as_value(other)
        return self._make(self.data * other.data, "*", (self, other), (other.data, self.data))

    def __pow__(self, n):
        return self._make(self.data**n, "**", (self,), (n * self.data ** (n - 1),))

    def __neg__(self):
        return self._make(-self.data, "neg", (self,), (-1.0,))

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return (-self) + other

    def sin(self):
        return self._make(math.sin(self.data), "sin", (self,), (math.cos(self.data),))

    def exp(self):
        e = math.exp(self.data)
        return self._make(e, "exp", (self,), (e,))

    def log(self):
        return self._make(math.log(self.data), "log", (self,), (1.0 / self.data,))

    def tanh(self):
        t = math.tanh(self.data)
        return self._make(t, "tanh", (self,), (1.0 / math.cosh(self.data) ** 2,))

    def relu(self):
        return self._make(self.data if self.data > 0 else 0.0, "relu", (self,), (1.0 if self.data > 0 else 0.0,))

    def sigmoid(self):
        s = 0.5 * (1.0 + math.tanh(0.5 * self.data))
        return self._make(s, "sigmoid", (self,), (s - s * s,))

    def backward(self):
        self.grad = 1.0
        for step in explain(self):
            step.inner.grad += step.local_grad * step.upstream_grad


def _as_value(x):
    return x if isinstance(x, Value) else Value(x)


@dataclass(frozen=True)
class Step:
    inner: Value
    outer: Value
    local_grad: float
    upstream_grad: float


def trace(root):
    order, state, stack = [], {}, [root]
    while stack:
        node = stack[-1]
        if state.get(id(node)) is None:
            state[id(node)] = "open"
            stack.extend(i for i in node.inputs if id(i) not in state)
        else:
            stack.pop()
            if state[id(node)] == "open":
                state[id(node)] = "done"
                order.append(node)
    edges = {}
    for node in order:
        for inner in node.inputs:
            edges[(id(inner), id(node))] = (inner, node)
    return order, list(edges.values())


def explain(root):
    nodes, _ = trace(root)
    grad = {id(root): 1.0}
    steps = []
    for node in reversed(nodes):
        local = {}
        for inner, g in zip(node.inputs, node.local_grads):
            local[id(inner)] = (inner, local.get(id(inner), (None, 0.0))[1] + g)
        for inner, g in local.values():
            steps.append(Step(inner, node, g, grad.get(id(node), 0.0)))
            grad[id(inner)] = grad.get(id(inner), 0.0) + g * grad.get(id(node), 0.0)
    return steps


def to_dot(root):
    nodes, edges = trace(root)
    name = {id(n): f"node{i}" for i, n in enumerate(nodes)}
    lines = ["// y = sin(x**2 + 1)", "strict digraph graph_of_y {", "  node [shape=box];"]
    for n in nodes:
        head = f"<b>{n.label}</b> " if n.label else ""
        lines.append(f"  {name[id(n)]} [label=<{head}{n.op or 'leaf'}<br/>value={n.data:.3f}<br/>grad={n.grad:.3f}>]")
    for inner, outer in edges:
        lines.append(f"  {name[id(inner)]} -> {name[id(outer)]}")
    lines.append("}")
    return "\n".join(lines)
