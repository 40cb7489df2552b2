"""Kata 03_graph's mistake families, recognised from the numbers (the catalog: harness/packs/graph/catalog.toml).

The spec (harness/packs/graph/spec.py) finds where the learner's graph first disagrees with torch;
these name why, each only when the slip applied to the right computation gives the learner's numbers:

- an op's value or its local gradient as the usual slips write them (VALUE_SLIPS, LOCAL_SLIPS: the
  power rule without lowering the exponent, an operand's own value in a product, tanh' from the input,
  a sign flipped, ...), one family each, whose words say which op and which slip;
- backward()'s walk (WALKS): the nodes in forward order, a trace without a visited set, a recursion
  that pushes each partial sum on at once, only each node's first input, = for +=. Each is simulated on the learner's own graph and local
  gradients; it is named only when it gives every node's grad, not just the one that failed.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from harness.grading import tolerances as tol
from harness.grading.checks import Diagnosis
from harness.grading.diagnosing import known

KATA = "03_graph"


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=tol.GRAPH_GRAD_RTOL, abs_tol=tol.GRAPH_GRAD_ATOL)


# --- an op's value ---------------------------------------------------------------------------------
# op -> (what yours computes, the rule, the value from the input's value x)
VALUE_SLIPS: dict[str, list[tuple[str, str, Callable[[float], float]]]] = {
    "log": [("log10(x)", "log is the natural logarithm, math.log", math.log10), ("log2(x)", "log is the natural logarithm, math.log", math.log2)],
    "sigmoid": [("1 / (1 + e**x)", "sigmoid(x) = 1 / (1 + e**-x), a minus in the exponent", lambda x: 1 / (1 + math.exp(x)))],
    "tanh": [("tan(x)", "tanh is math.tanh, the hyperbolic tangent", math.tan)],
    "sin": [("cos(x)", "sin is math.sin", math.cos)],
    "relu": [("min(x, 0)", "relu(x) = max(x, 0)", lambda x: min(x, 0.0)), ("abs(x)", "relu(x) = max(x, 0)", abs)],
}


def value_slip(op: str, x: float, got: float) -> Diagnosis | None:
    """forward_value: `got`, the learner's value of op at x, is one usual slip's, and only one."""
    found = {(wrong, rule) for wrong, rule, value in VALUE_SLIPS.get(op, []) if close(got, value(x))}
    if len(found) != 1:
        return None
    wrong, rule = found.pop()
    return known(KATA, "forward_value", op=repr(op), wrong=wrong, rule=rule)


# --- an op's local gradient -------------------------------------------------------------------------
# op -> (what yours is, the rule, the local gradient from the inputs' values a, the slot s of the input
# and the exponent n of a **)
LOCAL_SLIPS: dict[str, list[tuple[str, str, Callable]]] = {
    "*": [("the input's own value", "d(a*b)/da = b, the other operand", lambda a, s, n: a[s])],
    "**": [
        ("n*x**n", "d(x**n)/dx = n*x**(n - 1): the exponent drops by one", lambda a, s, n: n * a[0] ** n),
        ("x**(n - 1)", "d(x**n)/dx = n*x**(n - 1): the exponent comes down as a factor", lambda a, s, n: a[0] ** (n - 1)),
        ("n*x", "d(x**n)/dx = n*x**(n - 1), which is n*x for n = 2 only", lambda a, s, n: n * a[0]),
    ],
    "neg": [("+1", "d(-x)/dx = -1", lambda a, s, n: 1.0)],
    "tanh": [
        ("1 - x**2, from the input", "d tanh(x)/dx = 1 - tanh(x)**2, from the output", lambda a, s, n: 1 - a[0] ** 2),
        ("1 - tanh(x), the square dropped", "d tanh(x)/dx = 1 - tanh(x)**2", lambda a, s, n: 1 - math.tanh(a[0])),
    ],
    "sigmoid": [("x*(1 - x), from the input", "d sigmoid(x)/dx = s*(1 - s) with s = sigmoid(x), the output", lambda a, s, n: a[0] * (1 - a[0]))],
    "relu": [("1 where x < 0 too", "relu's slope is 1 where x > 0 and 0 where x < 0", lambda a, s, n: 1.0)],
    "exp": [("x*e**(x - 1), the power rule", "d(e**x)/dx = e**x: the power rule is for a constant exponent, not a constant base", lambda a, s, n: a[0] * math.exp(a[0] - 1))],
    "sin": [("-cos(x)", "d sin(x)/dx = +cos(x)", lambda a, s, n: -math.cos(a[0]))],
    "log": [("-1/x", "d log(x)/dx = 1/x", lambda a, s, n: -1 / a[0])],
}


def local_slip(op: str, inputs: list[float], slot: int, exponent: float | None, local_got: float, local_want: float) -> Diagnosis | None:
    """local_gradient: the learner's local gradient of op (for the input in `slot`) is one usual slip's,
    or, failing those, the right one with its sign flipped."""
    if close(local_got, local_want):
        return None
    found = {
        (wrong, rule)
        for wrong, rule, local in LOCAL_SLIPS.get(op, [])
        if (op != "**" or exponent is not None) and close(local_got, local(inputs, slot, exponent))
    }
    if not found and close(local_got, -local_want):
        found = {("the right one with its sign flipped", "check the sign of the op's derivative")}
    if len(found) != 1:
        return None
    wrong, rule = found.pop()
    return known(KATA, "local_gradient", op=repr(op), wrong=wrong, rule=rule)


def local_grads_short(outer, inner) -> Diagnosis | None:
    """local_grads_short: outer holds fewer local gradients than inputs, and inner is past their end."""
    inputs, locals_ = list(outer.inputs), list(outer.local_grads)
    slots = [j for j, i in enumerate(inputs) if i is inner]
    if len(locals_) < len(inputs) and slots and min(slots) >= len(locals_):
        return known(KATA, "local_grads_short", op=repr(outer.op), inputs=str(len(inputs)), locals=str(len(locals_)))
    return None


# --- backward()'s walk ------------------------------------------------------------------------------
def _post_order(root, *, visited: bool) -> list:
    """The nodes in DFS post-order from the root; without `visited`, a reused node once per path to it."""
    nodes, seen = [], set()

    def visit(node) -> None:
        if visited and id(node) in seen:
            return
        seen.add(id(node))
        for inner in node.inputs:
            visit(inner)
        nodes.append(node)

    visit(root)
    return nodes


def _pass_back(order: list, grads: dict[int, float], edges: dict[int, list]) -> dict[int, float]:
    for node in order:
        for inner, local in edges[id(node)]:
            grads[id(inner)] += local * grads[id(node)]
    return grads


def _forward_order(root, nodes: list, edges: dict[int, list]) -> dict[int, float]:
    return _pass_back(nodes, {id(n): float(n is root) for n in nodes}, edges)


def _no_visited_set(root, nodes: list, edges: dict[int, list]) -> dict[int, float]:
    return _pass_back(list(reversed(_post_order(root, visited=False))), {id(n): float(n is root) for n in nodes}, edges)


def _pushed_at_once(root, nodes: list, edges: dict[int, list]) -> dict[int, float]:
    """Each node's running total pushed on as soon as one share arrives: partial sums re-sent through diamonds."""
    grads = {id(n): float(n is root) for n in nodes}

    def push(node, upstream: float) -> None:
        for inner, local in edges[id(node)]:
            grads[id(inner)] += local * upstream
            push(inner, grads[id(inner)])

    push(root, 1.0)
    return grads


def _first_input_only(root, nodes: list, edges: dict[int, list]) -> dict[int, float]:
    return _pass_back(list(reversed(nodes)), {id(n): float(n is root) for n in nodes}, {i: e[:1] for i, e in edges.items()})


def _assigned(root, nodes: list, edges: dict[int, list]) -> dict[int, float]:
    """= for +=: each node keeps the last share that reached it."""
    grads = {id(n): float(n is root) for n in nodes}
    for node in reversed(nodes):
        for inner, local in edges[id(node)]:
            grads[id(inner)] = local * grads[id(node)]
    return grads


WALKS: dict[str, Callable] = {
    "backward_order": _forward_order,
    "no_visited_set": _no_visited_set,
    "pushed_at_once": _pushed_at_once,
    "first_input_only": _first_input_only,
    "assigned_grad": _assigned,
}


def walks_matching(root, nodes: list) -> list[str]:
    """The walks of WALKS that, on the learner's own graph and local gradients, give every node's grad
    as the learner's backward() left it (walks that give the right grads on this graph are left out).
    More than one: the graph cannot tell them apart (x * x with = or with its first input only)."""
    edges = {id(n): list(zip(n.inputs, n.local_grads)) for n in nodes}
    got = {id(n): n.grad for n in nodes}
    right = _pass_back(list(reversed(nodes)), {id(n): float(n is root) for n in nodes}, edges)
    found = []
    for name, walk in WALKS.items():
        grads = walk(root, nodes, edges)
        if any(not close(grads[i], right[i]) for i in got) and all(close(got[i], grads[i]) for i in got):
            found.append(name)
    return found
