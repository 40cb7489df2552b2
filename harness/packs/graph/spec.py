"""Hidden spec for kata 03_graph: the learner's Value graph against torch autograd in float64.

An expression (a seed such as y = sin(x**2 + 1), or one hypothesis draws) is built twice, with the
learner's Value and with torch (harness/packs/graph/oracle.py), and compared node by node: values,
gradients, and each edge's local and upstream gradient. Each test is one property, for partial
credit; `learner` is the learner's module. Tolerances and ranges, with their reasons, are in
harness/grading/tolerances.py; the random expressions come from harness/grading/strategies.py.

The learner's graph is walked here through .inputs, never through their trace(), so that one task's
bug does not hide behind another's. Nodes the expression does not name (the constant in x - 1.0,
the neg node inside a - b) have no torch twin; they are held to the rule explain() states: a node's
gradient is the sum of local_grad x upstream_grad over the edges it feeds. When the numbers are those
of a slip in harness/packs/graph/catalog.toml, the failure names it (a Diagnosis from that catalog):
the structural slips here, the families (an op's value and local gradient, backward()'s walk) in
harness/packs/graph/diagnoses.py.
"""

from __future__ import annotations

import math
import operator
import re
import shutil
import subprocess
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pytest
from hypothesis import given

from harness.grading import tolerances as tol
from harness.grading.checks import Diagnosis, KataFailure, describe, example_on_failure, expect_close, expect_scalar, numbers_apart, safely
from harness.grading.diagnosing import known
from harness.pictures.dot import Dot, DotError, parse as parse_dot
from harness.grading.checks import NotImplementedYet
from harness.packs.graph import diagnoses, oracle
from harness.grading.strategies import Expression, expression, expressions
from harness.jail import spawn

# The learner's op for each op name of an expression, called the way a learner's code would call it.
VALUE_OPS = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "**": operator.pow,
    "neg": operator.neg,
    **{name: operator.methodcaller(name) for name in ("sin", "exp", "log", "tanh", "relu", "sigmoid")},
}
KATA = "03_graph"
OPS = ("+", "-", "*", "**", "neg", "sin", "exp", "log", "tanh", "relu", "sigmoid")

# torch's grad_fn class for each op of the kata; AccumulateGrad is where a leaf (an input) gets its grad.
OP_OF_GRAD_FN = {
    "AddBackward0": "+",
    "MulBackward0": "*",
    "PowBackward0": "**",
    "NegBackward0": "neg",
    "SinBackward0": "sin",
    "AccumulateGrad": "",
}


def seed(x: float) -> Expression:
    """The kata's expression: u = x**2 + 1 is the inner function, y = sin(u) the outer one."""
    return expression({"x": x}, {"x_sq": ("**", "x", 2.0), "u": ("+", "x_sq", 1.0), "y": ("sin", "u")})


SEED_POINTS = (2.0, -0.7)

# Single ops on a = 0.7 and b = -1.3 (a > 0, so log, a ** 0.5 and a ** -1.0 are defined), with numbers
# on either side: a number becomes a constant node, and `2.0 + a` goes through __radd__.
A, B = 0.7, -1.3
FORMS = {
    "+": [("a", "b"), ("a", 2.0), (2.0, "a")],
    "-": [("a", "b"), ("a", 2.0), (2.0, "a")],
    "*": [("a", "b"), ("a", 2.0), (2.0, "a")],
    "**": [("a", 2.0), ("a", 3.0), ("a", -1.0), ("a", 0.5)],
    "neg": [("a",)],
    "sin": [("a",), ("b",)],
    "exp": [("a",), ("b",)],
    "log": [("a",)],
    "tanh": [("a",), ("b",)],
    "relu": [("a",), ("b",)],
    "sigmoid": [("a",), ("b",)],
}


def forms(op: str) -> list[Expression]:
    return [expression({"a": A, "b": B}, {"y": (op, *args)}) for args in FORMS[op]]


# Nodes used more than once: x twice in one op, and diamonds where two paths meet again.
REUSED = [
    expression({"x": 3.0}, {"y": ("*", "x", "x")}),
    expression({"a": 1.5, "b": 0.5}, {"s": ("+", "a", "b"), "d": ("-", "a", "b"), "y": ("*", "s", "d")}),
    expression({"x": 1.2}, {"s": ("sin", "x"), "y": ("*", "x", "s")}),
]


def _num(x: float) -> str:
    return f"{x:.10g}"


# --- the learner's graph, walked through .inputs -------------------------------------------------
class Graph:
    """Every node reachable from the root, inputs first, and every edge, one per entry of .inputs."""

    def __init__(self, root, value_type: type, name) -> None:
        self.nodes: list = []
        self.inputs: dict[int, tuple] = {}
        self.slots: Counter[tuple[int, int]] = Counter()  # (id inner, id outer) -> entries of outer.inputs
        self.users: defaultdict[int, list] = defaultdict(list)  # id inner -> its outer nodes, one per entry
        stack, seen = [(root, False)], set()
        while stack:  # depth first, post-order: a node is appended after all of its inputs
            node, done = stack.pop()
            if done:
                self.nodes.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            inputs = getattr(node, "inputs", None)
            if not isinstance(inputs, (tuple, list)) or not all(isinstance(i, value_type) for i in inputs):
                raise KataFailure(
                    f"{name(node)}.inputs should be a tuple of the Values it was computed from, but it is {describe(inputs)}"
                    f"{'' if not isinstance(inputs, (tuple, list)) else ' holding ' + ', '.join(describe(i) for i in inputs)}."
                )
            self.inputs[id(node)] = tuple(inputs)
            for inner in inputs:
                self.slots[(id(inner), id(node))] += 1
                self.users[id(inner)].append(node)
            stack.append((node, True))
            stack.extend((inner, False) for inner in reversed(inputs))
        self.ids = {id(node) for node in self.nodes}


@dataclass
class Built:
    """An expression built with the learner's Value: one Value per expression node, and its graph."""

    expr: Expression
    nodes: list
    where: dict[int, tuple[int, int | None]]  # id of an unnamed node -> (step it was made in, its number's slot)
    learner: object  # the learner's module: diagnoses ask its trace() how it orders the nodes
    graph: Graph = field(init=False)

    @property
    def root(self):
        return self.nodes[-1]

    def index(self, node) -> int | None:
        """The node's place in the expression, or None for a node the expression does not name."""
        return next((k for k, n in enumerate(self.nodes) if n is node), None)

    def name(self, node) -> str:
        k = self.index(node)
        if k is not None:
            return self.expr.names[k]
        step, slot = self.where.get(id(node), (None, None))
        op, data = getattr(node, "op", "?"), getattr(node, "data", "?")
        what = f"the constant {data!r}" if op == "" else f"the {op!r} node"
        return what if step is None else f"{what} in `{self.expr.code(step)}`"

    def shown(self, node) -> str:
        """The node's name, with the line that makes it when it is a named step: v2 (`v2 = x0 * x1`)."""
        k = self.index(node)
        return f"{self.name(node)} (`{self.expr.code(k)}`)" if k is not None and self.expr.instr(k) else self.name(node)

    def attr(self, node, attribute: str) -> str:
        """`x.grad`, or `the grad of the constant 1.0 in ...` for a node without a short name."""
        name = self.name(node)
        return f"{name}.{attribute}" if name.isidentifier() else f"the {attribute} of {name}"

    def where_used(self, node) -> str:
        """Where a node is: the line that makes it (`v2 = x0 * x1`), or its description."""
        k = self.index(node)
        return f"`{self.expr.code(k)}`" if k is not None and self.expr.instr(k) else self.name(node)

    def torch_partials(self, inner, outer, ev: oracle.Evaluation) -> list[float] | None:
        """torch's d outer / d inner for each entry of outer's arguments that is inner; None if torch has no twin."""
        k = self.index(outer)
        instr = self.expr.instr(k) if k is not None else None
        if instr is None or instr.op == "-":  # a - b is the learner's own a + (-b): no direct twin in torch
            return None
        j = self.index(inner)
        if j is not None:
            slots = [s for s, a in enumerate(instr.args) if type(a) is int and a == j]
        else:
            step, slot = self.where.get(id(inner), (None, None))
            slots = [slot] if step == k and slot is not None else []
        return [ev.partials[k][s] for s in slots] or None

    def torch_grads(self, ev: oracle.Evaluation) -> list[tuple[object, float]]:
        """(node, torch's grad) for every node torch has: the named ones from the root back, then the constants."""
        by_id = {id(n): n for n in self.graph.nodes}
        named = [(self.nodes[k], ev.grads[k]) for k in reversed(range(len(self.nodes)))]
        constants = [(by_id[i], ev.constant_grads[(step, slot)]) for i, (step, slot) in self.where.items() if slot is not None and i in by_id]
        return named + constants


def deriv(top: str, bottom: str) -> str:
    return f"d{top}/d{bottom}" if top.isidentifier() and bottom.isidentifier() else f"the derivative of {top} with respect to {bottom}"


def _apply(op: str, args: list, code: str):
    try:
        return VALUE_OPS[op](*args)
    except (TypeError, AttributeError) as exc:
        if getattr(exc, "frames", None):
            raise  # raised inside the learner's code: the verdict shows their line
        raise KataFailure(
            f"`{code}` raised {type(exc).__name__}: {exc}. Keep the stub's methods (__radd__, __rmul__, __rsub__ too):"
            " a number may stand on either side of + - *, and becomes a constant node."
        ) from None


def build(learner, expr: Expression) -> Built:
    """Build `expr` with the learner's Value, labelling each node with its name in the expression."""
    value_type = learner.Value
    nodes: list = []
    where: dict[int, tuple[int, int | None]] = {}
    for name, value in zip(expr.names, expr.inputs):
        nodes.append(value_type(value, label=name))
    for k, instr in enumerate(expr.steps, start=len(expr.inputs)):
        out = _apply(instr.op, [nodes[a] if type(a) is int else a for a in instr.args], expr.code(k))
        if not isinstance(out, value_type):
            raise KataFailure(f"`{expr.code(k)}` gave {describe(out)}: every op should return a new Value.")
        try:
            out.label = expr.names[k]
        except AttributeError:
            raise KataFailure(f"`{expr.code(k)}`: its .label cannot be set; keep label a plain attribute, as the stub's __init__ has it.") from None
        nodes.append(out)
        _claim(out, k, instr, nodes, where)
    built = Built(expr, nodes, where, learner)
    built.graph = Graph(nodes[-1], value_type, built.name)  # after Built: its messages name nodes
    return built


def _claim(out, k: int, instr, nodes: list, where: dict) -> None:
    """Record the unnamed nodes step k made (constants, the neg in a - b), and which number each constant is."""
    named = {id(n) for n in nodes}
    inputs = getattr(out, "inputs", ())
    numbers = [s for s, a in enumerate(instr.args) if type(a) is not int] if instr.op in ("+", "*") else []
    fresh = [i for i in inputs if id(i) not in named and id(i) not in where] if isinstance(inputs, (tuple, list)) else []
    if len(numbers) == 1 and len(fresh) == 1 and getattr(fresh[0], "op", None) == "":
        where[id(fresh[0])] = (k, numbers[0])
    stack = list(fresh)
    while stack:
        node = stack.pop()
        if id(node) in named or id(node) in where:
            continue
        where[id(node)] = (k, None)
        more = getattr(node, "inputs", ())
        stack.extend(more if isinstance(more, (tuple, list)) else ())


# --- checks shared by the seed, fixed and random expressions -------------------------------------
def check_values(built: Built, ev: oracle.Evaluation) -> None:
    for k, node in enumerate(built.nodes):
        what = f"{built.expr.names[k]}.data"
        got = expect_scalar(node.data, what=what)
        if built.expr.instr(k):
            what += f" (from `{built.expr.code(k)}`)"
        instr = built.expr.instr(k)
        single = instr is not None and len(instr.args) == 1 and type(instr.args[0]) is int
        diagnose = (lambda: diagnoses.value_slip(instr.op, ev.values[instr.args[0]], got)) if single else None
        expect_close(got, ev.values[k], what=what, rtol=tol.GRAPH_VALUE_RTOL, atol=tol.GRAPH_VALUE_ATOL, diagnose=diagnose)


def check_structure(built: Built) -> None:
    """A one-step expression y = op(args): y's op, and inputs that are the operands (numbers as constants)."""
    k = len(built.nodes) - 1
    instr, code, y = built.expr.instr(k), built.expr.code(k), built.root
    operands = [built.nodes[a] for a in instr.args if type(a) is int]
    if instr.op == "-":  # a - b is a + (-b): only ask that a and b are in y's graph
        missing = [built.name(n) for n in operands if id(n) not in built.graph.ids]
        if missing:
            raise KataFailure(f"`{code}` should be built from {' and '.join(map(built.name, operands))}, but {missing[0]} is not in its graph.")
        return
    if y.op != instr.op:
        raise KataFailure(f"`{code}` should have op {instr.op!r}, but y.op is {y.op!r}.")
    numbers = [a for a in instr.args if type(a) is not int and instr.op != "**"]
    inputs = list(built.graph.inputs[id(y)])
    for node in operands:  # by identity: a learner's Value may define == as an op
        if not any(i is node for i in inputs):
            break
        del inputs[next(j for j, i in enumerate(inputs) if i is node)]
    else:
        if len(inputs) == len(numbers) and all(i.op == "" and not i.inputs and i.data == c for i, c in zip(inputs, numbers)):
            return
    expected = [built.name(n) for n in operands] + [f"Value({c!r})" for c in numbers]
    inputs_all = built.graph.inputs[id(y)]
    got = [built.name(i) if built.index(i) is not None else f"Value({i.data!r}, op={i.op!r})" for i in inputs_all]
    why = {
        "**": " The exponent is a plain number, not a node: x ** 3 has inputs (x,).",
        "+": " A number becomes a constant input node: Value(2.0), op ''.",
        "*": " A number becomes a constant input node: Value(2.0), op ''.",
    }.get(instr.op, "")
    # A number left out of the inputs: only the operands that are nodes are there.
    dropped = numbers and len(got) == len(operands) and all(any(i is n for i in inputs_all) for n in operands)
    raise KataFailure(
        f"`{code}` should give y.inputs = ({', '.join(expected)}) in some order, but it is ({', '.join(got)}).{why}",
        known(KATA, "number_not_a_node") if dropped else None,
    )


def check_grads(built: Built, ev: oracle.Evaluation) -> None:
    """After root.backward(), every node torch has carries torch's grad; the first one wrong going back is named."""
    built.root.backward()
    for node, want in built.torch_grads(ev):
        got = expect_scalar(node.grad, what=built.attr(node, "grad"))
        if not math.isclose(got, want, rel_tol=tol.GRAPH_GRAD_RTOL, abs_tol=tol.GRAPH_GRAD_ATOL):
            raise _wrong_grad(built, ev, node, got, want)


# Ops whose value is not their derivative: taking one for the other is the value_as_derivative slip.
NOT_OWN_DERIVATIVE = {"sin", "log", "tanh", "sigmoid", "relu"}


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=tol.GRAPH_GRAD_RTOL, abs_tol=tol.GRAPH_GRAD_ATOL)


def _wrong_grad(built: Built, ev: oracle.Evaluation, node, got: float, want: float) -> KataFailure:
    """Why a node's grad disagrees with torch when every node after it agrees, and the likely mistake."""
    root, name = built.name(built.root), built.name(node)
    if node is built.root:
        return KataFailure(
            f"After {root}.backward(), {root}.grad is {_num(got)}, but it should be 1: d{root}/d{root} = 1 is where the chain rule starts.",
            known(KATA, "no_seed") if _close(got, 0.0) else None,
        )
    yours, theirs = numbers_apart(got, want)
    head = f"After {root}.backward(), {built.attr(node, 'grad')} is {yours}, but torch gives {theirs} (error {abs(got - want):.3g})."
    users = built.graph.users[id(node)]
    if not users:
        return KataFailure(f"{head}\n{name} is not in {root}'s graph: no chain of .inputs leads from {root} to it.")
    distinct = list({id(u): u for u in users}.values())
    diagnosis = safely(lambda: _grad_mistake(built, ev, node, got, distinct))  # it re-reads learner Values: never a verdict of its own
    if len(users) == 1:
        outer = built.name(users[0])
        should = (
            f"the local gradient d{outer}/d{name} times {outer}.grad, the gradient arriving from above"
            if outer.isidentifier() and name.isidentifier()
            else f"that edge's local gradient times the gradient arriving at {outer}"
        )
        why = f"The nodes after it agree with torch, so the gradient goes wrong on the edge {name} -> {built.shown(users[0])}: it should be {should}."
    else:
        counts = Counter(id(u) for u in users)
        places = ", ".join(f"{ {1: 'once', 2: 'twice'}.get(counts[id(u)], f'{counts[id(u)]} times')} in {built.where_used(u)}" for u in distinct)
        why = (
            f"{name} is used {len(users)} times ({places}): its gradient is the sum of one share per use, each the local gradient"
            f" of that edge times the gradient arriving at its outer node. The nodes after {name} agree with torch."
        )
    return KataFailure(f"{head}\n{why}", diagnosis)


# A second graph for the walks that one graph cannot tell apart (x * x with = or with its first input
# only): a and b each feed two nodes, one of them twice removed (a diamond).
WALK_PROBE = expression({"a": 0.7, "b": -1.3}, {"s": ("+", "a", "b"), "p": ("*", "a", "s"), "y": ("*", "p", "b")})


def _walks(built: Built) -> list[str]:
    """What backward() left in the graph's grads: no seed at the root, or the walks of diagnoses.WALKS
    that give them, here and (when several do) on WALK_PROBE too. A walk from the inputs up over a
    trace() that lists the root first is trace()'s slip, not backward()'s."""
    if _close(built.root.grad, 0.0):
        return ["no_seed"]
    walks = diagnoses.walks_matching(built.root, built.graph.nodes)
    if len(walks) > 1:
        probe = build(built.learner, WALK_PROBE)
        probe.root.backward()
        walks = [w for w in walks if w in diagnoses.walks_matching(probe.root, probe.graph.nodes)]
    return ["reversed_order"] if walks == ["backward_order"] and _trace_starts_at_root(built.learner, built.root) else walks


def _walk_mistake(built: Built) -> Diagnosis | None:
    walks = _walks(built)
    return known(KATA, walks[0]) if len(walks) == 1 else None


def _grad_mistake(built: Built, ev: oracle.Evaluation, node, got: float, users: list) -> Diagnosis | None:
    """The catalog's slip whose numbers `got` is, when torch can check every one of the node's uses."""
    grads = {id(n): g for n, g in built.torch_grads(ev)}
    partials = [built.torch_partials(node, u, ev) if id(u) in grads else None for u in users]
    walks = _walks(built)
    if walks:  # one names it; several fit the same grads, and the shares below could only guess between them
        return known(KATA, walks[0]) if len(walks) == 1 else None
    if _close(got, 0.0):  # 0 is also what an unreached node has: from a user whose local gradients stop short?
        return next((found for u in users if (found := diagnoses.local_grads_short(u, node)) is not None), None)
    if any(p is None for p in partials):
        return None
    local = sum(sum(p) for p in partials)
    if _close(got, local) and not all(_close(grads[id(u)], 1.0) for u in users):
        return known(KATA, "missing_upstream")
    shares = [p * grads[id(u)] for u, ps in zip(users, partials) for p in ps]  # what each use passes back
    if len(shares) > 1 and any(_close(got, share) for share in shares):
        return known(KATA, "assigned_grad")
    outer = users[0] if len(users) == 1 else None
    if outer is not None and outer.op in NOT_OWN_DERIVATIVE and not _close(grads[id(outer)], 0.0):
        if _close(got / grads[id(outer)], outer.data) and not _close(local, outer.data):
            return known(KATA, "value_as_derivative")
    if outer is not None and len(partials[0]) == 1 and not _close(grads[id(outer)], 0.0):
        k = built.index(outer)
        instr = built.expr.instr(k) if k is not None else None
        exponent = instr.args[1] if instr is not None and instr.op == "**" else None
        slot = next(j for j, i in enumerate(outer.inputs) if i is node)
        return diagnoses.local_slip(outer.op, [i.data for i in outer.inputs], slot, exponent, got / grads[id(outer)], local)
    return None



def check_edges(built: Built, pairs: list[tuple], *, what: str) -> None:
    """`pairs` (inner, outer) are the graph's edges: each once per entry of outer.inputs, or once per pair."""
    name, counts = built.name, Counter()
    for inner, outer in pairs:
        key = (id(inner), id(outer))
        if key not in built.graph.slots:
            if (id(outer), id(inner)) in built.graph.slots:
                raise KataFailure(
                    f"{what} have ({name(inner)}, {name(outer)}), which points the wrong way: {name(outer)} is an input of {name(inner)}.",
                    known(KATA, "reversed_edges"),
                )
            raise KataFailure(f"{what} have ({name(inner)}, {name(outer)}), but {name(inner)} is not an input of {name(outer)}.")
        counts[key] += 1
    by_id = {id(n): n for n in built.graph.nodes}
    for (inner_id, outer_id), slots in built.graph.slots.items():
        inner, outer, got = name(by_id[inner_id]), name(by_id[outer_id]), counts[(inner_id, outer_id)]
        if got == 0:
            raise KataFailure(f"{what} leave out the edge ({inner}, {outer}): {inner} is an input of {built.shown(by_id[outer_id])}.")
        if got not in (1, slots):
            raise KataFailure(
                f"{what} have {got} edges ({inner}, {outer}), but {outer}.inputs holds {inner} {slots} times:"
                f" give one edge per entry of {outer}.inputs (or exactly one for the pair)."
            )


def check_trace(learner, built: Built) -> None:
    result = learner.trace(built.root)
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise KataFailure(f"trace() should return a pair (nodes, edges), but it returned {describe(result)}.")
    nodes, edges = result
    value_type, name = learner.Value, built.name
    if not isinstance(nodes, (list, tuple)) or not all(isinstance(n, value_type) for n in nodes):
        raise KataFailure(f"trace()'s nodes should be a list of Values, but they are {describe(nodes)}.")
    position: dict[int, int] = {}
    for i, node in enumerate(nodes):
        if id(node) in position:
            raise KataFailure(
                f"trace()'s nodes list {name(node)} twice (at {position[id(node)]} and {i}): each node once, even one used twice.",
                known(KATA, "no_visited_set"),
            )
        if id(node) not in built.graph.ids:
            raise KataFailure(f"trace()'s nodes include {name(node)}, which is not in {name(built.root)}'s graph.")
        position[id(node)] = i
    for node in built.graph.nodes:
        if id(node) not in position:
            raise KataFailure(f"trace()'s nodes leave out {name(node)}: list every node {name(built.root)} is computed from, inputs and constants too.")
    for node in nodes:
        for inner in built.graph.inputs[id(node)]:
            if position[id(inner)] > position[id(node)]:
                backwards = known(KATA, "reversed_order") if nodes[0] is built.root else None
                raise KataFailure(
                    f"trace() lists {name(node)} before its input {name(inner)}: the order runs from the inputs to the root,"
                    " each node after everything it is computed from.",
                    backwards,
                )
    if not isinstance(edges, (list, tuple)):
        raise KataFailure(f"trace()'s edges should be a list of pairs (inner, outer), but they are {describe(edges)}.")
    for edge in edges:
        if not (isinstance(edge, (tuple, list)) and len(edge) == 2 and all(isinstance(n, value_type) for n in edge)):
            raise KataFailure(f"trace()'s edges should be pairs (inner, outer) of Values, but one is {describe(edge)}.")
    check_edges(built, list(edges), what="trace()'s edges")


def _trace_starts_at_root(learner, root) -> bool:
    try:
        nodes = learner.trace(root)[0]
        return bool(nodes) and nodes[0] is root
    except (Exception, NotImplementedYet):  # noqa: BLE001 - only a hint for a diagnosis: never a verdict of its own
        return False


def check_explain(learner, built: Built, ev: oracle.Evaluation) -> None:
    steps = learner.explain(built.root)
    if not isinstance(steps, (list, tuple)):
        raise KataFailure(f"explain() should return a list of Steps, but it returned {describe(steps)}.")
    rows = []
    for i, step in enumerate(steps):
        fields = [getattr(step, f, None) for f in ("inner", "outer", "local_grad", "upstream_grad")]
        if not all(isinstance(n, learner.Value) for n in fields[:2]):
            raise KataFailure(f"explain()[{i}] is {describe(step)}: every item should be a Step(inner, outer, local_grad, upstream_grad).")
        local, upstream = (expect_scalar(v, what=f"explain()[{i}].{f}") for v, f in zip(fields[2:], ("local_grad", "upstream_grad")))
        rows.append((*fields[:2], local, upstream))
    check_edges(built, [(inner, outer) for inner, outer, _, _ in rows], what="explain()'s steps")
    name = built.name
    last_in = {id(inner): i for i, (inner, *_) in enumerate(rows)}
    for i, (inner, outer, _, _) in enumerate(rows):
        j = last_in.get(id(outer), -1)
        if j > i:
            upward = rows[-1][1] is built.root and rows[0][1] is not built.root
            # Steps from the inputs up are often trace()'s order read the wrong way round: name the cause.
            cause = "reversed_order" if _trace_starts_at_root(learner, built.root) else "explain_forward_order"
            raise KataFailure(
                f"explain()[{i}] ({name(inner)} -> {name(outer)}) passes {name(outer)}'s gradient on, but explain()[{j}]"
                f" ({name(rows[j][0])} -> {name(rows[j][1])}) only adds its share to {name(outer)} later. List the steps the way"
                " backward() takes them: from the root back to the inputs, so that every share reaches a node before it passes its gradient on.",
                known(KATA, cause) if upward else None,
            )
    # d root / d node: torch's where torch has the node, else what the learner's own steps add up to.
    shares: defaultdict[int, float] = defaultdict(float)
    for inner, _, local, upstream in rows:
        shares[id(inner)] += local * upstream
    expected = {id(node): grad for node, grad in built.torch_grads(ev)}
    root, checked = built.root, set()
    for i, (inner, outer, _, upstream) in enumerate(rows):
        pair = (id(inner), id(outer))
        partials = built.torch_partials(inner, outer, ev)
        if partials is not None and pair not in checked:
            checked.add(pair)
            local_want = sum(partials)
            local_got = sum(r[2] for r in rows if (id(r[0]), id(r[1])) == pair)
            if not math.isclose(local_got, local_want, rel_tol=tol.GRAPH_GRAD_RTOL, abs_tol=tol.GRAPH_GRAD_ATOL):
                several = built.graph.slots[pair] > 1
                above = 1.0 if outer is root else expected.get(id(outer))
                times = above is not None and not _close(above, 1.0) and _close(local_got, local_want * above)
                raise KataFailure(
                    f"explain()'s local_grad for {name(inner)} -> {built.shown(outer)} is {_num(local_got)}{' in all' if several else ''},"
                    f" but torch gives {deriv(name(outer), name(inner))} = {_num(local_want)}"
                    f"{' (both uses of ' + name(inner) + ' together)' if several else ''}.",
                    known(KATA, "explain_local_times_upstream") if times else None,
                )
        want = 1.0 if outer is root else expected.get(id(outer), shares[id(outer)])
        if not math.isclose(upstream, want, rel_tol=tol.GRAPH_GRAD_RTOL, abs_tol=tol.GRAPH_GRAD_ATOL):
            source = "torch's" if id(outer) in expected else "the sum of local_grad x upstream_grad over your steps out of it:"
            raise KataFailure(
                f"explain()[{i}] ({name(inner)} -> {name(outer)}) has upstream_grad {_num(upstream)}, but {deriv(name(root), name(outer))}"
                f" is {_num(want)} ({source} {built.attr(outer, 'grad')}): the upstream gradient is the gradient arriving at the outer node.",
                known(KATA, "upstream_from_inner")
                if id(inner) in expected and not _close(upstream, 0.0) and _close(upstream, expected[id(inner)])
                else safely(lambda: _walk_mistake(built)),  # the grads explain()'s backward() left: its steps only copy them
            )
    for node_id, want in expected.items():
        if node_id in built.graph.ids and node_id != id(root) and not math.isclose(
            shares[node_id], want, rel_tol=tol.GRAPH_GRAD_RTOL, abs_tol=tol.GRAPH_GRAD_ATOL
        ):
            node = next(n for n in built.graph.nodes if id(n) == node_id)
            raise KataFailure(
                f"explain()'s steps out of {name(node)} add up (local_grad x upstream_grad) to {_num(shares[node_id])},"
                f" but torch's {built.attr(node, 'grad')} is {_num(want)}: a node's gradient is the sum over the steps where it is the inner node."
            )


# --- Task 03.1: ops ----------------------------------------------------------------------------
@pytest.mark.parametrize("op", OPS)
def test_forward_op(learner, op):
    for expr in forms(op):
        built = build(learner, expr)
        check_values(built, oracle.evaluate(expr))
        check_structure(built)


def test_seed_graph_matches_torch_grad_fn(learner):
    expr = seed(SEED_POINTS[0])
    built, chain = build(learner, expr), oracle.evaluate(expr).chain
    x, path = built.nodes[0], [built.root]
    while path[-1] is not x:  # from y back to x, through the one input that leads to x
        nxt = next((i for i in built.graph.inputs[id(path[-1])] if i is x or i.inputs), None)
        if nxt is None:
            break
        path.append(nxt)
    ours = " -> ".join(f"{built.name(n)} ({n.op or 'input'})" for n in path)
    theirs = [OP_OF_GRAD_FN[name] for name in chain]
    if [n.op for n in path] != theirs:
        raise KataFailure(
            f"For y = sin(x**2 + 1), your graph from y back to x runs {ours}, but torch's y.grad_fn chain is"
            f" {' -> '.join(chain)}: {' -> '.join(op or 'input' for op in theirs)}."
            " The outer function sin comes last (nearest y), then the + and the ** of the inner function x**2 + 1."
        )


@given(expr=expressions())
def test_values_match_torch(learner, expr):
    with example_on_failure(expr):
        check_values(build(learner, expr), oracle.evaluate(expr))


# --- Task 03.2: backward -----------------------------------------------------------------------
@pytest.mark.parametrize("op", OPS)
def test_local_gradient(learner, op):
    for expr in forms(op):
        check_grads(build(learner, expr), oracle.evaluate(expr))


@pytest.mark.parametrize("x", SEED_POINTS)
def test_backward_seed_expression(learner, x):
    expr = seed(x)
    check_grads(build(learner, expr), oracle.evaluate(expr))


def test_backward_accumulates_reused_nodes(learner):
    for expr in REUSED:
        try:
            check_grads(build(learner, expr), oracle.evaluate(expr))
        except KataFailure as failure:
            failure.add_note(f"The expression:\n{expr!r}")
            raise


@given(expr=expressions())
def test_grads_match_torch(learner, expr):
    with example_on_failure(expr):
        check_grads(build(learner, expr), oracle.evaluate(expr))


# --- Task 03.3: trace --------------------------------------------------------------------------
def test_trace_seed_expression(learner):
    check_trace(learner, build(learner, seed(SEED_POINTS[0])))


@given(expr=expressions())
def test_trace_is_topological(learner, expr):
    with example_on_failure(expr):
        check_trace(learner, build(learner, expr))


# --- Task 03.4: explain ------------------------------------------------------------------------
def test_explain_seed_expression(learner):
    expr = seed(SEED_POINTS[0])
    check_explain(learner, build(learner, expr), oracle.evaluate(expr))


@given(expr=expressions())
def test_explain_matches_torch(learner, expr):
    with example_on_failure(expr):
        check_explain(learner, build(learner, expr), oracle.evaluate(expr))


# --- Task 03.5: to_dot -------------------------------------------------------------------------
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


MAX_DOT_CHARACTERS = 100_000  # the seed graph's honest drawing is under 1,000


def dot_of(learner) -> tuple[Built, str, Dot]:
    """to_dot() of the seed expression after backward(), parsed; a failure says why it is not a digraph."""
    built = build(learner, seed(tol.GRAPH_DOT_X))
    built.root.backward()
    text = learner.to_dot(built.root)
    if not isinstance(text, str):
        raise KataFailure(f"to_dot() should return the DOT text as a str, but it returned {describe(text)}.")
    if len(text) > MAX_DOT_CHARACTERS:  # parsing and Graphviz's drawing are the grader's time, not the learner's
        raise KataFailure(
            f"to_dot()'s text is {len(text):,} characters for a graph of {len(built.graph.nodes)} nodes: a few hundred"
            f" are enough, and the grader reads at most {MAX_DOT_CHARACTERS:,}."
        )
    try:
        dot = parse_dot(text)
    except DotError as exc:
        raise KataFailure(f"to_dot()'s text is not valid DOT: {exc}.\n\nIt begins:\n{text[:400]}") from None
    if not dot.directed:
        raise KataFailure("to_dot() writes an undirected `graph`; write a `digraph`, so that its arrows (->) have a direction.")
    if not dot.edges:
        raise KataFailure("to_dot()'s digraph has no edges: draw an arrow `inner -> outer` for every edge.")
    return built, text, dot


def test_to_dot_is_a_digraph(learner):
    _, text, _ = dot_of(learner)
    if shutil.which("dot") is None:
        return  # Graphviz is not installed: the parse above is the whole check
    try:
        command, env = spawn.sealed(["dot", "-Tsvg"])  # the text is the learner's: Graphviz reads no file it names
        # Only whether dot accepts the text matters: its drawing, which a small text can make huge, is not kept.
        run = subprocess.run(command, input=text, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=10, env=env)
    except subprocess.TimeoutExpired:
        raise KataFailure("Graphviz's dot did not finish drawing to_dot()'s text within 10 s.") from None
    if run.returncode != 0:
        raise KataFailure(f"Graphviz's dot rejects to_dot()'s text:\n{run.stderr.strip()[:600]}")


def torch_numbers(built: Built) -> dict[int, tuple[float, float]]:
    """id of each Value -> (data, grad) as torch computes them: what its node in the drawing must show.
    Not the learner's own .data and .grad, which their to_dot() may have changed (a second backward()
    doubles every grad); a node torch has no twin for (the neg inside a - b) keeps the learner's."""
    ev = oracle.evaluate(built.expr)
    grads = {id(node): grad for node, grad in built.torch_grads(ev)}
    return {
        id(node): (ev.values[k] if (k := built.index(node)) is not None else node.data, grads.get(id(node), node.grad))
        for node in built.graph.nodes
    }


def _dot_mistake(nodes: list, numbers: dict[str, list[float]], truth: dict[int, tuple[float, float]]) -> Diagnosis | None:
    """dot_digits: the drawing's labels (those read: `numbers`) show every Value's numbers, but to one decimal only."""
    coarse = lambda a, b: abs(a - b) <= 0.05 + 1e-9  # noqa: E731 - what one decimal shows
    shown = [
        any(coarse(a, data) and coarse(b, grad) for nums in numbers.values() for i, a in enumerate(nums) for j, b in enumerate(nums) if i != j)
        for data, grad in (truth[id(n)] for n in nodes)
    ]
    return known(KATA, "dot_digits") if all(shown) else None


def match_dot_nodes(built: Built, dot: Dot) -> dict[int, str]:
    """Which DOT node draws which Value: one whose label shows the Value's data and its grad (two
    numbers), both torch's.

    A label may fit several Values (y's "data -0.96 grad 1" fits a constant 1 whose grad is -0.96):
    each Value gets its own DOT node, preferring labels that also show the Value's label and op.
    """
    close = lambda a, b: abs(a - b) <= tol.GRAPH_DOT_LABEL_ATOL  # noqa: E731
    found = {d: [float(n) for n in _NUMBER.findall(dot.label(d))] for d in dot.nodes}
    numbers = {d: nums for d, nums in found.items() if len(nums) <= tol.GRAPH_DOT_LABEL_MAX_NUMBERS}  # the labels read
    truth = torch_numbers(built)

    def fits(node, d: str) -> bool:
        nums, (data, grad) = numbers[d], truth[id(node)]
        return any(close(a, data) and close(b, grad) for i, a in enumerate(nums) for j, b in enumerate(nums) if i != j)

    def score(node, d: str) -> int:
        return sum(1 for text in (node.label, node.op) if text and text in dot.label(d))

    nodes = built.graph.nodes
    candidates = [sorted((d for d in numbers if fits(n, d)), key=lambda d, n=n: -score(n, d)) for n in nodes]
    labels = "\n".join(f"  {d}: {dot.label(d)[:200]}{'...' if len(dot.label(d)) > 200 else ''}" for d in dot.nodes)
    crowded = [d for d in dot.nodes if d not in numbers]
    labels += f"\n(labels with more than {tol.GRAPH_DOT_LABEL_MAX_NUMBERS} numbers are not read: {', '.join(crowded[:5])}{', ...' if len(crowded) > 5 else ''})" if crowded else ""
    for node, options in zip(nodes, candidates):
        if not options:
            raise KataFailure(
                f"For y = sin(x**2 + 1) at x = {tol.GRAPH_DOT_X:g}, after y.backward(), no node of to_dot()'s graph shows"
                f" {built.name(node)}'s data {truth[id(node)][0]:.4f} and grad {truth[id(node)][1]:.4f} (torch's). Label each node"
                f" with its data and grad (2 decimals or more), and leave the grads as backward() made them.\nYour labels:\n{labels}",
                _dot_mistake(nodes, numbers, truth),
            )
    best: tuple[int, list[str]] = (-1, [])

    def assign(i: int, taken: list[str], total: int) -> None:
        nonlocal best
        if i == len(nodes):
            best = max(best, (total, list(taken)))
            return
        for d in candidates[i]:
            if d not in taken:
                assign(i + 1, [*taken, d], total + score(nodes[i], d))

    assign(0, [], 0)
    if not best[1]:
        raise KataFailure(
            f"to_dot()'s graph has fewer nodes showing a data and a grad than there are Values ({len(nodes)}): draw each Value once."
            f"\nYour labels:\n{labels}",
            _dot_mistake(nodes, numbers, truth),
        )
    return {id(node): d for node, d in zip(nodes, best[1])}


def test_to_dot_labels_and_arrows(learner):
    built, _, dot = dot_of(learner)
    name = built.name
    drawn = match_dot_nodes(built, dot)
    values = set(drawn.values())
    successors = defaultdict(set)
    for a, b in dot.edges:
        successors[a].add(b)

    def reaches(a: str, b: str) -> bool:
        """An arrow a -> b, or a path through nodes that stand for no Value (micrograd-style op nodes)."""
        frontier, seen = [a], set()
        while frontier:
            for nxt in successors[frontier.pop()]:
                if nxt == b:
                    return True
                if nxt not in values and nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        return False

    by_id = {id(n): n for n in built.graph.nodes}
    for inner_id, outer_id in built.graph.slots:
        inner, outer = by_id[inner_id], by_id[outer_id]
        forward, backward = reaches(drawn[inner_id], drawn[outer_id]), reaches(drawn[outer_id], drawn[inner_id])
        if forward and backward:  # arrows every way would otherwise draw every edge
            raise KataFailure(
                f"to_dot()'s arrows lead both ways between {name(inner)} and {name(outer)} ({drawn[inner_id]} and"
                f" {drawn[outer_id]}): arrows run one way only, inner -> outer, from the input to the loss."
            )
        if forward:
            continue
        if backward:
            raise KataFailure(
                f"to_dot()'s arrow between {name(inner)} and {name(outer)} points from {name(outer)} back to {name(inner)}:"
                f" arrows run inner -> outer ({drawn[inner_id]} -> {drawn[outer_id]}), from the input to the loss, the way the values flow.",
                known(KATA, "reversed_arrows"),
            )
        raise KataFailure(f"to_dot() has no arrow {drawn[inner_id]} -> {drawn[outer_id]} for the edge {name(inner)} -> {name(outer)}.")
    for node in built.graph.nodes:
        beside = [dot.label(p) for p, nexts in successors.items() if drawn[id(node)] in nexts and p not in values]
        if node.op and not any(node.op in text for text in [dot.label(drawn[id(node)]), *beside]):
            raise KataFailure(f"to_dot()'s node for {name(node)} ({dot.label(drawn[id(node)])}) does not show its op {node.op!r}.")
