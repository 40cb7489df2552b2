"""Kata 03's learner graph as a circuit of the chain rule, held against torch's numbers (a Panel to render).

Each node shows its op, value and gradient; each edge the value passed forward, its local gradient
(formula and number) and upstream x local, the share of the gradient it sends back: the chain rule,
edge by edge, in the manner of CS231n's circuit diagrams. The comparisons are the spec's own
(harness/packs/graph/spec.py builds the expression with the learner's Value; the pack's oracle gives
torch's values, gradients and local gradients): a node whose value or gradient disagrees is red with
both numbers, a wrong local gradient is red on its edge, and going back from the root the way
backward() does, the first thing that goes wrong is marked. The nodes and edges are the learner's
trace()'s as given; what it missed of the .inputs graph is dashed. When the root is a function of one
operand (sin(u)), the inner and the outer function are labelled groups.
"""

from __future__ import annotations

import math
import textwrap
from collections import Counter, defaultdict
from dataclasses import dataclass

from harness.grading import tolerances as tol
from harness.grading.text import visible
from harness.pictures.expr import operand, written
from harness.pictures.render import Arrow, Box, Group, Panel

UNARY = ("neg", "sin", "exp", "log", "tanh", "relu", "sigmoid")
CAPTION_WIDTH = 110  # characters: a caption's line is wrapped to the width of a picture of 4 columns
LEGEND = "On each arrow: the value passed forward (green); the local gradient; upstream x local = the share sent back (blue)."


def number(value) -> float | None:
    """A finite float, or None for anything else the learner's code left there (None, a string, nan)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _f(value: float | None) -> str:
    return "?" if value is None else f"{value:.4f}"


def _grad_close(a: float | None, b: float) -> bool:
    return a is not None and math.isclose(a, b, rel_tol=tol.GRAPH_GRAD_RTOL, abs_tol=tol.GRAPH_GRAD_ATOL)


def _value_close(a: float | None, b: float) -> bool:
    return a is not None and math.isclose(a, b, rel_tol=tol.GRAPH_VALUE_RTOL, abs_tol=tol.GRAPH_VALUE_ATOL)


NAME_WIDTH = 28  # characters: a node named by its source text (sin(x) * x + sin(x) * x + ...) is cut to this


def short(name: str) -> str:
    """A node's name as a picture shows it: cut short, so that a long expression keeps its boxes narrow."""
    return name if len(name) <= NAME_WIDTH else name[: NAME_WIDTH - 1] + "…"


def _count(k: int, what: str) -> str:
    return f"{k} {what}{'s' * (k != 1)}"


def _shown_op(op) -> str:
    """A node's op as the picture shows it: the learner's text, made visible and kept short."""
    text = visible(op if isinstance(op, str) else repr(op)).replace("\n", "\\n")
    return text if len(text) <= 24 else text[:23] + "…"


def local_formula(op: str, inner: str, other: str | None, exponent: float | None) -> str:
    """d outer / d inner as a formula in the nodes' names: `cos(u)` for sin(u), `b` for a * b."""
    x = operand(inner, "+-*u")
    if op == "**":
        if exponent is None:
            return f"n·{x}**(n-1)"
        return f"{exponent:g}·{x}" if exponent == 2 else f"{exponent:g}·{x}**{exponent - 1:g}"
    return {
        "+": "1", "*": operand(other, "+-") if other else "?", "neg": "-1", "sin": f"cos({inner})", "exp": f"exp({inner})", "log": f"1/{x}",
        "tanh": f"1 - tanh({inner})²", "relu": f"[{inner} > 0]", "sigmoid": f"σ({inner})·(1 - σ({inner}))",
    }.get(op, "?")  # fmt: skip


# --- the learner's graph as a circuit --------------------------------------------------------------
@dataclass
class _Edge:
    """An edge of the learner's .inputs graph, as one arrow: the slots of outer.inputs it stands for."""

    inner: object
    outer: object
    slots: tuple[int, ...]  # positions in outer.inputs; several when trace() merged x * x into one edge
    style: str = "plain"


class Circuit:
    """The learner's built expression read once (values, grads, local gradients) and held against torch's."""

    def __init__(self, built, ev, *, grads: bool, explain=None) -> None:
        self.built, self.ev, self.grads = built, ev, grads
        graph = built.graph
        self.position = {id(n): i for i, n in enumerate(graph.nodes)}  # topological, inputs first
        self.torch_grad = {id(n): g for n, g in built.torch_grads(ev)} if grads else {}
        self.torch_data = {id(n): ev.values[k] for k, n in enumerate(built.nodes)}
        self.data: dict[int, float | None] = {}
        self.grad: dict[int, float | None] = {}
        self.read(graph.nodes)
        self.locals = {id(n): self._locals(n) for n in graph.nodes}
        self.edges: list[_Edge] = []  # the arrows drawn: set once trace() is read
        if explain is not None and any(v is None for v in self.locals.values()):
            self._locals_from(explain())  # only now that the grads are read: explain() may run backward() again

    def read(self, nodes) -> None:
        """Each node's data and grad, read once from the learner's process."""
        for n in nodes:
            self.data[id(n)] = number(getattr(n, "data", None))
            self.grad[id(n)] = number(getattr(n, "grad", None)) if self.grads else None

    def _locals_from(self, steps: list[tuple[object, object, float | None]] | None) -> None:
        """Where a node has no .local_grads (micrograd's closures keep theirs out of sight), the local
        gradients its explain() steps report: one per edge, or one for a pair of slots holding the same
        node (x * x), which every op of the kata splits equally between them."""
        if steps is None:
            return
        given: defaultdict[tuple[int, int], list] = defaultdict(list)
        for inner, outer, local in steps:
            given[(id(inner), id(outer))].append(local)
        for node in self.built.graph.nodes:
            inputs = self.built.graph.inputs[id(node)]
            if self.locals[id(node)] is not None:
                continue
            found = []
            for s, inner in enumerate(inputs):
                slots, locals_ = [t for t, i in enumerate(inputs) if i is inner], given[(id(inner), id(node))]
                if len(locals_) == len(slots):
                    found.append(locals_[slots.index(s)])
                else:
                    found.append(locals_[0] / len(slots) if len(locals_) == 1 and locals_[0] is not None else None)
            self.locals[id(node)] = tuple(found)

    def _locals(self, node) -> tuple[float | None, ...] | None:
        """node.local_grads (the stub's attribute), one number per entry of .inputs; None if it has none."""
        count = len(self.built.graph.inputs[id(node)])
        got = getattr(node, "local_grads", None) if count else ()
        if not isinstance(got, (tuple, list)) or len(got) != count:
            return None
        return tuple(number(g) for g in got)

    def name(self, node) -> str:
        k = self.built.index(node)
        if k is not None:
            return short(self.built.expr.names[k])
        op, inputs = getattr(node, "op", ""), self.built.graph.inputs.get(id(node), ())
        if op == "neg" and len(inputs) == 1:  # the -b inside a - b
            return f"-{operand(self.name(inputs[0]), '+-')}"
        return f"{self.data.get(id(node)) or 0:g}" if op == "" else _shown_op(op)

    def grad_of(self, node) -> str:
        name = self.name(node)
        return f"{name}.grad" if name.isidentifier() else f"the grad of {name}"

    def want_grad(self, node) -> tuple[float | None, str]:
        """What the node's grad should be, and whose word that is: torch's, or for a node torch has no
        twin of (the neg inside a - b) the sum of the shares the learner's own edges send back to it."""
        if id(node) in self.torch_grad:
            return self.torch_grad[id(node)], "torch"
        shares = [self.share(e) for e in self.edges if e.inner is node]
        if not self.grads or not shares or None in shares:
            return None, ""
        return sum(shares), "shares add to"

    def wrong_grad(self, node) -> bool:
        want, _ = self.want_grad(node)
        return want is not None and not _grad_close(self.grad[id(node)], want)

    def wrong_data(self, node) -> bool:
        want = self.torch_data.get(id(node))
        return want is not None and not _value_close(self.data[id(node)], want)

    def box(self, node, key: str, *, root, note: str = "", first: bool = False) -> Box:
        op = getattr(node, "op", "")
        kind = "root" if node is root else "op" if op else "input" if self.built.index(node) is not None else "constant"
        lines = [self.name(node) if kind != "constant" else "constant", f"op {_shown_op(op)}" if op else ""]
        data, grad = self.data.get(id(node)), self.grad.get(id(node))
        lines.append(f"data {_f(data)}" + (f" ✗ torch {_f(self.torch_data[id(node)])}" if self.wrong_data(node) else ""))
        if not self.grads:
            lines.append("grad ?")
        else:
            want, whose = self.want_grad(node)
            lines.append(f"grad {_f(grad)}" + (f" ✗ {whose} {_f(want)}" if self.wrong_grad(node) else ""))
        wrong = self.wrong_data(node) or self.wrong_grad(node)
        lines.insert(0, "first wrong node" if first else "")
        return Box(key, tuple(line for line in (*lines, note) if line), kind, wrong=wrong, dashed=bool(note), first_wrong=first)

    def local(self, edge: _Edge) -> tuple[float | None, float | None]:
        """The edge's local gradient, the learner's and torch's (summed over its slots); None where unknown."""
        inner, outer = edge.inner, edge.outer
        mine = self.locals[id(outer)]
        got = None if mine is None or any(mine[s] is None for s in edge.slots) else sum(mine[s] for s in edge.slots)
        positions = [s for s, i in enumerate(self.built.graph.inputs[id(outer)]) if i is inner]
        partials = self.built.torch_partials(inner, outer, self.ev)
        want = None
        if partials is not None and len(partials) == len(positions):
            want = sum(partials[positions.index(s)] for s in edge.slots)
        return got, want

    def label(self, edge: _Edge) -> tuple[tuple[str, str], ...]:
        inner, outer = edge.inner, edge.outer
        inputs = self.built.graph.inputs[id(outer)]
        others = [self.name(i) for s, i in enumerate(inputs) if s not in edge.slots]
        k = self.built.index(outer)
        instr = self.built.expr.instr(k) if k is not None else None
        exponent = instr.args[1] if instr is not None and instr.op == "**" else None
        formula = local_formula(getattr(outer, "op", ""), self.name(inner), others[0] if others else self.name(inner), exponent)
        if len(edge.slots) > 1:
            formula = f"{len(edge.slots)} × {formula}"
        got, want = self.local(edge)
        lines = [(f"{self.name(inner)} = {_f(self.data[id(inner)])}", "forward")]
        if got is not None and want is not None and not _grad_close(got, want):
            lines.append((f"local {formula}: yours {_f(got)} ✗ torch {_f(want)}", "wrong"))
        else:
            lines.append((f"local {formula} = {_f(got)}", "local"))
        upstream = self.grad[id(outer)]
        if self.grads and upstream is not None and got is not None:
            lines.append((f"{_f(upstream)} × {_f(got)} = {_f(upstream * got)}", "backward"))
        return tuple(lines)

    def share(self, edge: _Edge) -> float | None:
        """upstream x local: what the edge sends back to its inner node."""
        upstream, (local, _) = self.grad[id(edge.outer)], self.local(edge)
        return None if upstream is None or local is None else upstream * local

    def first_fault(self) -> tuple[_Edge | None, object | None, str] | None:
        """Going back from the root the way backward() does, node by node, the first thing that goes wrong:
        (edge, None, why) for an edge whose local gradient or share is wrong, or (None, node, why) for a
        node whose gradient is not the sum of the right shares it was sent; None when nothing is wrong."""
        root, name, graph = self.built.root, self.name, self.built.graph
        # Backward's order, but inputs and constants last: they pass nothing on, and a wrong gradient
        # is clearer on the op that made it (x**2 -> u) than on a number beside it (1 -> u).
        order = sorted(reversed(graph.nodes), key=lambda n: not graph.inputs[id(n)])
        for node in order:
            mine = _f(self.grad[id(node)])
            if self.wrong_grad(node):
                if node is root:
                    itself = f"d{name(root)}/d{name(root)}" if name(root).isidentifier() else "the root's gradient with respect to itself"
                    return None, node, f"{self.grad_of(root)} is {mine}, but {itself} = 1 is where the chain rule starts"
                into = sorted((e for e in self.edges if e.inner is node), key=lambda e: (-self.position[id(e.outer)], e.slots))
                shares = [self.share(e) for e in into]
                want, whose = self.want_grad(node)
                torch = f" (torch's: {_f(want)})" if whose == "torch" else ""
                if len(into) == 1:
                    return into[0], None, f"it sends back {_f(shares[0])}{torch}, but {self.grad_of(node)} is {mine}"
                total = "?" if None in shares else _f(sum(shares))
                return None, node, (
                    f"{self.grad_of(node)} is {mine}, but the {len(into)} shares sent back to it add up to"
                    f" {' + '.join(_f(v) for v in shares)} = {total}{torch}: a node's gradient is the sum of its shares"
                )  # fmt: skip
            for edge in sorted((e for e in self.edges if e.outer is node), key=lambda e: e.slots):
                got, want = self.local(edge)
                if got is not None and want is not None and not _grad_close(got, want):
                    return edge, None, f"its local gradient is {_f(got)}, torch's {_f(want)}"
        return None


def _edges(circuit: Circuit, traced) -> tuple[list[_Edge], list[tuple[object, object, str]]]:
    """The arrows to draw: trace()'s edges that are edges of the graph, then what it missed (dashed);
    and trace()'s edges that are not (reversed, or between nodes that are not input and user), with why."""
    graph, name = circuit.built.graph, circuit.name
    slots_of: defaultdict[tuple[int, int], list[int]] = defaultdict(list)
    by_id = {id(n): n for n in graph.nodes}
    for node in graph.nodes:
        for s, inner in enumerate(graph.inputs[id(node)]):
            slots_of[(id(inner), id(node))].append(s)
    if traced is None:
        return [_Edge(by_id[a], by_id[b], (s,)) for (a, b), slots in slots_of.items() for s in slots], []
    given = Counter((id(a), id(b)) for a, b in traced)
    edges, strays, used = [], [], Counter()
    for a, b in traced:
        pair = (id(a), id(b))
        slots = slots_of.get(pair)
        if slots is None:
            why = f"trace() gives ({name(a)}, {name(b)}): " + (
                f"reversed, {name(b)} is an input of {name(a)}" if (id(b), id(a)) in slots_of else f"{name(a)} is not an input of {name(b)}"
            )
            strays.append((a, b, why))
        elif given[pair] == 1 and len(slots) > 1:  # one edge for x * x, whose local gradient is 2x: accepted
            edges.append(_Edge(a, b, tuple(slots)))
            used[pair] = len(slots)
        elif used[pair] < len(slots):
            edges.append(_Edge(a, b, (slots[used[pair]],)))
            used[pair] += 1
        else:
            strays.append((a, b, f"trace() gives ({name(a)}, {name(b)}) {given[pair]} times; {name(b)}.inputs holds {name(a)} {len(slots)}"))
    for pair, slots in slots_of.items():
        edges += [_Edge(by_id[pair[0]], by_id[pair[1]], (s,), "missed") for s in slots[used[pair] :]]
    return edges, strays


def _groups(circuit: Circuit, keys: dict[int, str]) -> tuple[Group, ...]:
    """The inner and the outer function, when the root is a function of one operand computed from the inputs."""
    built, root = circuit.built, circuit.built.root
    inputs = built.graph.inputs[id(root)]
    if getattr(root, "op", "") not in UNARY or len(inputs) != 1 or not built.graph.inputs[id(inputs[0])]:
        return ()
    inner = inputs[0]
    members, stack = [], [inner]
    while stack:  # everything the inner node is computed from, but the expression's inputs
        node = stack.pop()
        if id(node) in {id(m) for m in members} or (not built.graph.inputs[id(node)] and built.index(node) is not None):
            continue
        members.append(node)
        stack.extend(built.graph.inputs[id(node)])
    k = built.index(inner)
    defined = written(built.expr, k) if k is not None else circuit.name(inner)
    return (
        Group(f"inner function {defined}", tuple(keys[id(m)] for m in members if id(m) in keys)),
        Group(f"outer function {circuit.name(root)} = {root.op}({circuit.name(inner)})", (keys[id(root)],)),
    )


def value_panel(built, ev, traced, *, grads: bool = True, caption: str = "", explain=None) -> Panel:
    """The learner's graph as a circuit: trace()'s nodes and edges (`traced`, or None to draw .inputs).
    explain(): the learner's explain() steps as (inner, outer, local_grad), for a Value without .local_grads."""
    circuit = Circuit(built, ev, grads=grads, explain=explain)
    graph, root = built.graph, built.root
    traced_nodes, traced_edges = traced if traced is not None else (graph.nodes, None)
    in_trace = {id(n) for n in traced_nodes}
    # trace()'s nodes first, each once, then what it missed, then nodes its edges name that are in
    # neither (a Value it made itself): every end of every arrow has a box.
    nodes = list({id(n): n for n in [*traced_nodes, *graph.nodes, *(n for edge in traced_edges or () for n in edge)]}.values())
    circuit.read([n for n in nodes if id(n) not in circuit.data])
    keys = {id(n): f"v{i}" for i, n in enumerate(nodes)}
    edges, strays = _edges(circuit, traced_edges)
    circuit.edges = edges
    fault = circuit.first_fault()
    first, first_node, why = fault if fault is not None else (None, None, "")

    def note(node) -> str:
        return "" if id(node) in in_trace and id(node) in circuit.position else "missed by trace()" if id(node) in circuit.position else f"not in {circuit.name(root)}'s graph"

    boxes = [circuit.box(n, keys[id(n)], root=root, note=note(n), first=n is first_node) for n in nodes]
    arrows = [
        Arrow(keys[id(e.inner)], keys[id(e.outer)], (("first wrong edge", "wrong"),) * (e is first) + circuit.label(e)
              + (("missed by trace()", "note"),) * (e.style == "missed"), style=e.style, first_wrong=e is first)
        for e in edges
    ] + [Arrow(keys[id(a)], keys[id(b)], ((why, "wrong"),), style="wrong") for a, b, why in strays]  # fmt: skip
    lines = [caption, LEGEND]
    if any(locals_ is None or None in locals_ for locals_ in circuit.locals.values()):
        lines.append("Local gradients shown ? are unknown: your Value keeps no local_grads (the stub's attribute) and explain() gave none.")
    wrong = [b for b in boxes if b.wrong]
    if wrong:
        lines.append(f"In red: {_count(len(wrong), 'node')} whose value or gradient is wrong (yours ✗ torch's, or the sum of the shares sent back to it).")
    if strays:
        lines.append(f"In red, dashed: {_count(len(strays), 'edge')} of trace()'s not in the graph as its .inputs make it (inner, outer).")
    missed_edges, missed_nodes = sum(e.style == "missed" for e in edges), sum(note(n) == "missed by trace()" for n in nodes)
    if missed_edges or missed_nodes:
        missed = " and ".join(_count(k, what) for k, what in ((missed_edges, "edge"), (missed_nodes, "node")) if k)
        lines.append(f"Dashed: what trace() missed of the graph its .inputs make: {missed}.")
    if first is not None:
        lines.append(f"First wrong edge going back from {circuit.name(root)}: {circuit.name(first.inner)} -> {circuit.name(first.outer)}: {why}.")
    if first_node is not None:
        lines.append(f"First wrong node going back from {circuit.name(root)}: {why}.")
    caption = "\n".join(textwrap.fill(line, CAPTION_WIDTH, subsequent_indent="    ") for text in lines if text for line in text.splitlines())
    return Panel("your Value graph", caption, tuple(boxes), tuple(arrows), _groups(circuit, keys))
