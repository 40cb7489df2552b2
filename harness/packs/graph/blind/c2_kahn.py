"""CORRECT: Kahn's algorithm both ways: trace from the leaves by in-degree, backward from the root by consumer count.

A tiny scalar reverse-mode autograd, the same kind of graph torch records when you call y.backward():
every Value remembers the op and the inputs it was computed from, so the gradient can flow back
from y to x. Plain Python (math), no torch. The prompt is in README.md beside this file.

Conventions (the spec checks each one):
  * .op is "" for inputs and constants, else one of
    "+", "*", "**", "neg", "sin", "exp", "log", "tanh", "relu", "sigmoid";
  * .inputs holds the Values a node was computed from, one entry per operand: x * y has inputs (x, y),
    x * x has (x, x), x.sin() has (x,) and x ** 3 has (x,) (the exponent is a plain number, not a node);
  * a plain number met in + or * becomes a constant input node, Value(number) with op "";
  * a - b is a + (-b): ops "+" and "neg", no op of its own (given below, with numbers on the left);
  * an edge (inner, outer) runs from a node's input to the node, the way values flow:
    x -> x**2 -> u -> y, arrows from the input to the loss;
  * one edge per entry of .inputs, so x * x has two edges x -> x*x, each with local gradient x, and
    x.grad adds up both shares: 2x. (One edge per pair whose local gradient is already 2x passes too.)
  * backward() and explain() are each called on a freshly built graph.

Run `pytest katas/03_graph` to be graded, and `python -m harness.pictures.draw` to see your graph beside torch's.
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
        self.grad = 0.0  # d root / d self, filled in by root.backward()
        self.label = label
        self.inputs = tuple(inputs)
        self.op = op
        # d self / d inputs[i], one per input, worked out by the op that makes this node. The chain
        # rule needs nothing else: backward() and explain() multiply them by the gradient from above.
        self.local_grads = tuple(local_grads)

    def __repr__(self) -> str:
        return f"Value({self.data:.6g}, grad={self.grad:.6g}, label={self.label!r}, op={self.op!r})"

    # --- Task 03.1: ops -----------------------------------------------------------------------
    # Each op returns a new Value: its data (forward), op, inputs and local_grads, for example
    #     Value(self.data * other.data, inputs=(self, other), op="*", local_grads=(..., ...))
    def __add__(self, other: Value | float) -> Value:
        """a + b, op "+"; d(a + b)/da = 1 and d(a + b)/db = 1. A number `other` becomes _as_value(other)."""
        other = _as_value(other)
        return Value(self.data + other.data, inputs=(self, other), op="+", local_grads=(1.0, 1.0))

    def __mul__(self, other: Value | float) -> Value:
        """a * b, op "*"; d(a * b)/da = b and d(a * b)/db = a."""
        other = _as_value(other)
        return Value(self.data * other.data, inputs=(self, other), op="*", local_grads=(other.data, self.data))

    def __pow__(self, exponent: float) -> Value:
        """x ** n for a plain number n, op "**", inputs (x,); d(x ** n)/dx = n x ** (n - 1)."""
        n = exponent
        return Value(self.data**n, inputs=(self,), op="**", local_grads=(n * self.data ** (n - 1),))

    def __neg__(self) -> Value:
        """-x, op "neg"; d(-x)/dx = -1."""
        return Value(-self.data, inputs=(self,), op="neg", local_grads=(-1.0,))

    # Given: numbers on the left, and subtraction as a + (-b), reuse the four ops above.
    def __radd__(self, other: float) -> Value:
        return self + other

    def __rmul__(self, other: float) -> Value:
        return self * other

    def __sub__(self, other: Value | float) -> Value:
        return self + (-other)

    def __rsub__(self, other: float) -> Value:
        return (-self) + other

    def sin(self) -> Value:
        """sin(x), op "sin"; d sin(x)/dx = cos(x)."""
        return Value(math.sin(self.data), inputs=(self,), op="sin", local_grads=(math.cos(self.data),))

    def exp(self) -> Value:
        """e ** x, op "exp"; d e**x/dx = e**x."""
        e = math.exp(self.data)
        return Value(e, inputs=(self,), op="exp", local_grads=(e,))

    def log(self) -> Value:
        """Natural log, op "log", for x > 0; d log(x)/dx = 1/x."""
        return Value(math.log(self.data), inputs=(self,), op="log", local_grads=(1.0 / self.data,))

    def tanh(self) -> Value:
        """tanh(x), op "tanh"; d tanh(x)/dx = 1 - tanh(x)**2."""
        t = math.tanh(self.data)
        return Value(t, inputs=(self,), op="tanh", local_grads=(1.0 - t * t,))

    def relu(self) -> Value:
        """max(x, 0), op "relu"; the derivative is 1 for x > 0 and 0 for x < 0 (never graded at 0)."""
        x = self.data
        return Value(x if x > 0 else 0.0, inputs=(self,), op="relu", local_grads=(1.0 if x > 0 else 0.0,))

    def sigmoid(self) -> Value:
        """1 / (1 + e ** -x), op "sigmoid"; d sigmoid(x)/dx = sigmoid(x) (1 - sigmoid(x))."""
        s = 1.0 / (1.0 + math.exp(-self.data))
        return Value(s, inputs=(self,), op="sigmoid", local_grads=(s * (1.0 - s),))

    # --- Task 03.2: backward ------------------------------------------------------------------
    def backward(self) -> None:
        """Set self.grad = 1 and every node's .grad in self's graph to d self / d node.

        Chain rule, one edge at a time: inner.grad += local gradient x outer.grad. An edge may only
        pass outer.grad on once every node computed from `outer` has added its share to it: walk
        the nodes in reverse topological order (trace(), Task 03.3, gives that order).
        """
        nodes, edges = trace(self)
        # a node may pass its grad on only once all of its consumers have added their share
        pending = {id(n): 0 for n in nodes}
        for inner, _outer in edges:
            pending[id(inner)] += 1
        self.grad = 1.0
        queue = [self]
        while queue:
            node = queue.pop(0)
            for inner, local in zip(node.inputs, node.local_grads):
                inner.grad += local * node.grad
                pending[id(inner)] -= 1
                if pending[id(inner)] == 0:
                    queue.append(inner)


def _as_value(x: Value | float) -> Value:
    """A number met in an op becomes a constant input node (op ""); a Value stays as it is."""
    return x if isinstance(x, Value) else Value(x)


@dataclass(frozen=True)
class Step:
    """One edge as backward() uses it: inner -> outer, with the two factors of the chain rule.

    inner.grad = sum of local_grad * upstream_grad over every step where inner is the inner node.
    """

    inner: Value  # the input: the inner function, e.g. u in y = sin(u)
    outer: Value  # the node computed from it: the outer function, e.g. y
    local_grad: float  # d outer / d inner, e.g. cos(u)
    upstream_grad: float  # d root / d outer: the gradient arriving at outer from above


# --- Task 03.3: trace ----------------------------------------------------------------------------
def trace(root: Value) -> tuple[list[Value], list[tuple[Value, Value]]]:
    """(nodes, edges) of root's graph: every node once, in topological order from the inputs to the
    root (each node after all of its inputs; the root last), and every edge (inner, outer), one per
    entry of outer.inputs.
    """
    # collect every node reachable from the root
    found: dict[int, Value] = {}
    stack = [root]
    while stack:
        v = stack.pop()
        if id(v) not in found:
            found[id(v)] = v
            stack.extend(v.inputs)
    # Kahn: in-degree = number of input edges; consumers per node
    indeg = {k: len(v.inputs) for k, v in found.items()}
    consumers: dict[int, list[Value]] = {k: [] for k in found}
    for v in found.values():
        for inp in v.inputs:
            consumers[id(inp)].append(v)
    ready = [v for k, v in found.items() if indeg[k] == 0]
    nodes: list[Value] = []
    while ready:
        v = ready.pop(0)
        nodes.append(v)
        for c in consumers[id(v)]:
            indeg[id(c)] -= 1
            if indeg[id(c)] == 0:
                ready.append(c)
    edges = []
    for outer in nodes:
        for inner in outer.inputs:
            edges.append((inner, outer))
    return nodes, edges


# --- Task 03.4: explain --------------------------------------------------------------------------
def explain(root: Value) -> list[Step]:
    """One Step per edge, in the order backward uses them: from the root back to the inputs.

    upstream_grad is d root / d outer, complete by the time the step is taken. explain() may run
    root.backward() itself and read each node's .grad, or compute the gradients on its own.
    """
    root.backward()
    nodes, _ = trace(root)
    out = []
    for i in range(len(nodes) - 1, -1, -1):
        node = nodes[i]
        for k in range(len(node.inputs)):
            out.append(Step(node.inputs[k], node, node.local_grads[k], node.grad))
    return out


# --- Task 03.5: to_dot ---------------------------------------------------------------------------
def to_dot(root: Value) -> str:
    """Graphviz DOT text: `digraph { ... }` with one node per Value, labelled with its label (if any),
    op, data and grad (2 decimals or more), and one arrow `inner -> outer` per edge.

    It shows the grads as they are: call root.backward() first. Render it with `dot -Tpng`.
    """
    nodes, edges = trace(root)
    name = {id(n): f"n{i}" for i, n in enumerate(nodes)}
    lines = ["digraph G {", "  rankdir=LR;"]
    for n in nodes:
        text = " | ".join(p for p in (n.label, n.op or "input", f"data {n.data:.4f}", f"grad {n.grad:.4f}") if p)
        lines.append(f'  {name[id(n)]} [shape=box, label="{text}"];')
    for inner, outer in edges:
        lines.append(f"  {name[id(inner)]} -> {name[id(outer)]};")
    lines.append("}")
    return "\n".join(lines)
