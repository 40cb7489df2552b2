"""A correct kata 03 submission written like micrograd: a backward closure per op, a recursive
topological sort, grads that accumulate across backward() calls, and an explain() that computes its
own upstream gradients. Its DOT draws each op as a node of its own, as micrograd's draw_dot does.
"""

import math
from dataclasses import dataclass


class Value:
    def __init__(self, data, label="", _children=(), _op=""):
        self.data = data
        self.grad = 0.0
        self.label = label
        self.inputs = tuple(_children)
        self.op = _op
        self._backward = lambda: None
        self._local = ()  # what explain() reports; the closures below do the work

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, _children=(self, other), _op="+")
        out._local = (1.0, 1.0)

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, _children=(self, other), _op="*")
        out._local = (other.data, self.data)

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, other):
        assert isinstance(other, (int, float))
        out = Value(self.data**other, _children=(self,), _op="**")
        out._local = (other * self.data ** (other - 1),)

        def _backward():
            self.grad += other * self.data ** (other - 1) * out.grad

        out._backward = _backward
        return out

    def __neg__(self):
        return self._unary(-self.data, "neg", -1.0)

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def _unary(self, data, op, local):
        out = Value(data, _children=(self,), _op=op)
        out._local = (local,)

        def _backward():
            self.grad += local * out.grad

        out._backward = _backward
        return out

    def sin(self):
        return self._unary(math.sin(self.data), "sin", math.cos(self.data))

    def exp(self):
        return self._unary(math.exp(self.data), "exp", math.exp(self.data))

    def log(self):
        return self._unary(math.log(self.data), "log", 1 / self.data)

    def tanh(self):
        e = math.exp(2 * self.data)
        t = (e - 1) / (e + 1)
        return self._unary(t, "tanh", 1 - t**2)

    def relu(self):
        return self._unary(0 if self.data < 0 else self.data, "relu", float(self.data >= 0))

    def sigmoid(self):
        s = math.exp(self.data) / (1 + math.exp(self.data))
        return self._unary(s, "sigmoid", s * (1 - s))

    def backward(self):
        topo, visited = [], set()

        def build_topo(v):
            if v not in visited:
                visited.add(v)
                for child in v.inputs:
                    build_topo(child)
                topo.append(v)

        build_topo(self)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()


@dataclass(frozen=True)
class Step:
    inner: Value
    outer: Value
    local_grad: float
    upstream_grad: float


def trace(root):
    nodes, edges, visited = [], [], set()

    def build(v):
        if v not in visited:
            visited.add(v)
            for child in v.inputs:
                edges.append((child, v))
                build(child)
            nodes.append(v)

    build(root)
    return nodes, edges


def explain(root):
    nodes, _ = trace(root)
    grads = {root: 1.0}
    steps = []
    for node in reversed(nodes):
        for child, local in zip(node.inputs, node._local):
            steps.append(Step(child, node, local, grads[node]))
            grads[child] = grads.get(child, 0.0) + local * grads[node]
    return steps


def to_dot(root):
    nodes, edges = trace(root)
    out = ["digraph G {", "  rankdir=LR;"]
    for n in nodes:
        uid = str(id(n))
        out.append(f'  "{uid}" [shape=record, label="{{ {n.label} | data {n.data:.4f} | grad {n.grad:.4f} }}"];')
        if n.op:
            out.append(f'  "{uid}{n.op}" [label="{n.op}"];')
            out.append(f'  "{uid}{n.op}" -> "{uid}";')
    for child, parent in edges:
        out.append(f'  "{id(child)}" -> "{id(parent)}{parent.op}";')
    out.append("}")
    return "\n".join(out)
