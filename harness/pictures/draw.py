"""Kata 03's pictures: the learner's graph drawn as a circuit of the chain rule, above the graph torch records.

    kata draw [--expr "x*x + sin(x)"] [--impl DIR] [--out DIR] [--renderer auto|graphviz|matplotlib]

builds an expression (y = sin(x**2 + 1) at x = 2, or the one --expr writes: harness/pictures/expr.py)
with the learner's Value (DIR/03_graph/graph.py, default katas/, run in its jailed process) and with
torch, runs backward on both, and draws two panels, arrows running from the inputs to the loss:

  * yours, as a circuit diagram in the manner of CS231n's notes: each node with its op, value and
    gradient; on each edge the value passed forward, the local gradient (its formula and number) and
    upstream x local, the share of the gradient sent back. Every number is compared with torch's:
    a node whose value or gradient disagrees is red with both numbers, an edge whose local gradient
    disagrees is red, and the first wrong edge going back from the root is marked. The nodes and edges
    are the learner's trace() as it returns them (reversed edges drawn reversed); what trace() misses
    of the .inputs graph is drawn dashed. When the root is a function of one operand (sin(u)), the
    inner and the outer function are drawn as labelled groups.
  * torch's: y.grad_fn and its next_functions for the same expression: the graph autograd walks.

The comparisons are the spec's own (harness/packs/graph/spec.py: the expression built with the
learner's Value, torch's values, gradients and local gradients from the pack's oracle). Rendering,
with Graphviz's dot or with matplotlib, is harness/pictures/render.py.
"""

from __future__ import annotations

import math
import textwrap
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from harness.grading import registry
from harness.grading import tolerances as tol
from harness.grading.checks import NotImplementedYet, describe
from harness.grading.learner import LearnerLoadError, load
from harness.grading.registry import shown_path
from harness.grading.text import visible
from harness.jail.proxy import LearnerDied, LearnerTimeout
from harness.pictures import DrawError
from harness.pictures.expr import ExprError, parse
from harness.pictures.render import Arrow, Box, Group, Panel, render

KATA_ID = "03_graph"
SEED = "x = 2.0; u = x**2 + 1; y = sin(u)"  # the prompt's expression, in --expr's language
DEFAULT_OUT = registry.REPO_ROOT / "graph-drawings"
UNARY = ("neg", "sin", "exp", "log", "tanh", "relu", "sigmoid")
CAPTION_WIDTH = 110  # characters: a caption's line is wrapped to the width of a picture of 4 columns
LEGEND = "On each arrow: the value passed forward (green); the local gradient; upstream x local = the share sent back (blue)."


def _number(value) -> float | None:
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


def _paren(name: str) -> str:
    """The name, in parentheses when an operator outside its own brackets would bind wrongly: (a - b), (-b)."""
    depth, bare = 0, True
    for i, c in enumerate(name):
        depth += {"(": 1, ")": -1}.get(c, 0)
        if depth == 0 and (c in "+* " or c == "-" and not (i == 0 and name[1:].replace(".", "", 1).isdigit())):
            bare = False
    return name if bare else f"({name})"


def _shown_op(op) -> str:
    """A node's op as the picture shows it: the learner's text, made visible and kept short."""
    text = visible(op if isinstance(op, str) else repr(op)).replace("\n", "\\n")
    return text if len(text) <= 24 else text[:23] + "…"


def local_formula(op: str, inner: str, other: str | None, exponent: float | None) -> str:
    """d outer / d inner as a formula in the nodes' names: `cos(u)` for sin(u), `b` for a * b."""
    x = _paren(inner)
    if op == "**":
        if exponent is None:
            return f"n·{x}**(n-1)"
        return f"{exponent:g}·{x}" if exponent == 2 else f"{exponent:g}·{x}**{exponent - 1:g}"
    return {
        "+": "1", "*": _paren(other) if other else "?", "neg": "-1", "sin": f"cos({inner})", "exp": f"exp({inner})", "log": f"1/{x}",
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
        self.data = {id(n): _number(n.data) for n in graph.nodes}
        self.grad = {id(n): _number(n.grad) if grads else None for n in graph.nodes}
        self.locals = {id(n): self._locals(n) for n in graph.nodes}
        self.edges: list[_Edge] = []  # the arrows drawn: set once trace() is read
        if explain is not None and any(v is None for v in self.locals.values()):
            self._locals_from(explain())  # only now that the grads are read: explain() may run backward() again

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
        return tuple(_number(g) for g in got)

    def name(self, node) -> str:
        k = self.built.index(node)
        if k is not None:
            return self.built.expr.names[k]
        op, inputs = getattr(node, "op", ""), self.built.graph.inputs.get(id(node), ())
        if op == "neg" and len(inputs) == 1:  # the -b inside a - b
            return f"-{_paren(self.name(inputs[0]))}"
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
                    return None, node, f"{self.grad_of(root)} is {mine}, but d{name(root)}/d{name(root)} = 1 is where the chain rule starts"
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
    defined = built.expr.code(k) if k is not None and built.expr.names[k].isidentifier() else circuit.name(inner)
    return (
        Group(f"inner function {defined}", tuple(keys[id(m)] for m in members if id(m) in keys)),
        Group(f"outer function {circuit.name(root)} = {root.op}({circuit.name(inner)})", (keys[id(root)],)),
    )


def value_panel(built, ev, traced, *, grads: bool = True, caption: str = "", explain=None) -> Panel:
    """The learner's graph as a circuit: trace()'s nodes and edges (`traced`, or None to draw .inputs).
    explain(): the learner's explain() steps as (inner, outer, local_grad), for a Value without .local_grads."""
    circuit = Circuit(built, ev, grads=grads, explain=explain)
    graph, root = built.graph, built.root
    nodes = list(graph.nodes)
    if traced is not None:
        traced_nodes, traced_edges = traced
        in_trace = {id(n) for n in traced_nodes}
        nodes = [n for n in traced_nodes if id(n) in circuit.position] + [n for n in graph.nodes if id(n) not in in_trace]
    else:
        traced_edges, in_trace = None, {id(n) for n in graph.nodes}
    keys = {id(n): f"v{i}" for i, n in enumerate(nodes)}
    edges, strays = _edges(circuit, traced_edges)
    circuit.edges = edges
    fault = circuit.first_fault()
    first, first_node, why = fault if fault is not None else (None, None, "")
    boxes = [circuit.box(n, keys[id(n)], root=root, note="" if id(n) in in_trace else "missed by trace()", first=n is first_node) for n in nodes]
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
        lines.append(f"In red: {len(wrong)} node{'s' * (len(wrong) > 1)} whose value or gradient is wrong (yours ✗ torch's, or the sum of the shares sent back to it).")
    if strays:
        lines.append(f"In red, dashed: {len(strays)} of trace()'s edges are not edges of the graph (inner, outer), as its .inputs have them.")
    missed = sum(e.style == "missed" for e in edges) + sum(b.dashed for b in boxes)
    if missed:
        lines.append(f"Dashed: what trace() missed of the graph its .inputs make ({missed} edges and nodes).")
    if first is not None:
        lines.append(f"First wrong edge going back from {circuit.name(root)}: {circuit.name(first.inner)} -> {circuit.name(first.outer)}: {why}.")
    if first_node is not None:
        lines.append(f"First wrong node going back from {circuit.name(root)}: {why}.")
    caption = "\n".join(textwrap.fill(line, CAPTION_WIDTH, subsequent_indent="    ") for text in lines if text for line in text.splitlines())
    return Panel("your Value graph", caption, tuple(boxes), tuple(arrows), _groups(circuit, keys))


def torch_panel(root, named: list[tuple[str, object]], *, caption: str = "") -> Panel:
    """A panel of the graph autograd records under the tensor `root`: its grad_fn and next_functions.

    `named` pairs names with the tensors of the expression (retain_grad() on the intermediates), so
    each grad_fn shows the value and gradient of the tensor it produced.
    """
    by_fn = {id(t.grad_fn): (name, t) for name, t in named if t.grad_fn is not None}
    by_leaf = {id(t): (name, t) for name, t in named if t.grad_fn is None}
    fns = _walk(root.grad_fn, lambda fn: tuple(f for f, _ in fn.next_functions if f is not None))
    keys = {id(fn): f"t{i}" for i, fn in enumerate(fns)}
    boxes = []
    for fn in fns:
        kind = type(fn).__name__
        name, tensor = by_leaf[id(fn.variable)] if kind == "AccumulateGrad" else by_fn.get(id(fn), ("", None))
        lines = [kind, f"{name} (leaf)" if kind == "AccumulateGrad" else name]
        if tensor is not None:
            lines += [f"data {tensor.item():.4f}", f"grad {tensor.grad.item():.4f}"]
        boxes.append(Box(keys[id(fn)], tuple(line for line in lines if line), "root" if fn is root.grad_fn else "torch"))
    # next_functions point from a result back to what it was computed from: reversed, input -> loss.
    arrows = tuple(Arrow(keys[id(f)], keys[id(fn)]) for fn in fns for f, _ in fn.next_functions if f is not None)
    return Panel("torch's autograd graph", caption, tuple(boxes), arrows)


def _walk(root, inputs_of) -> list:
    """Every node reachable from `root`, each after the nodes it is computed from."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((inner, False) for inner in reversed(inputs_of(node)))
    return order


def torch_tensors(expr) -> list:
    """The expression in torch float64, numbers kept as numbers (as a learner writes x**2 + 1), backward run."""
    import torch

    from harness.packs.graph.oracle import OPS

    nodes = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in expr.inputs]
    for instr in expr.steps:
        out = OPS[instr.op](*(nodes[a] if type(a) is int else a for a in instr.args))
        out.retain_grad()  # torch keeps .grad for leaves only, unless asked
        nodes.append(out)
    nodes[-1].backward()
    return nodes


# --- the learner's side ------------------------------------------------------------------------
class _Stub(Exception):
    """The learner's code reached a stub; str(self) says which function, and where."""


def _learner_call(step, path: Path, doing: str):
    """step() as the learner's code runs (in its jailed process): a stub raises _Stub, a crash, a
    time-out or a death a DrawError that says it the way a failed check would."""
    from harness.grading.verdicts import explain

    try:
        return step()
    except NotImplementedYet as exc:
        frames = getattr(exc, "frames", [])
        raise _Stub(f"{frames[-1].name}() in {shown_path(path)} (line {frames[-1].lineno}) is not implemented yet" if frames else "a stub") from None
    except (Exception, LearnerTimeout, LearnerDied) as exc:  # noqa: BLE001 - whatever their code raises is theirs to read
        told = explain(exc, path)
        if told is None:
            raise
        raise DrawError(f"While {doing}: {told}") from None


def _traced(module, root, path: Path):
    """trace(root) as (nodes, edges) when it returns that shape; else None, and why, for the caption."""
    try:
        result = _learner_call(lambda: module.trace(root), path, "running trace()")
    except _Stub as stub:
        return None, f"Drawn from .inputs: {stub}."
    except DrawError as exc:
        return None, f"Drawn from .inputs: {str(exc).splitlines()[0]}"
    value = module.Value
    if (
        isinstance(result, (tuple, list)) and len(result) == 2 and isinstance(result[0], (tuple, list)) and isinstance(result[1], (tuple, list))
        and all(isinstance(n, value) for n in result[0])
        and all(isinstance(e, (tuple, list)) and len(e) == 2 and all(isinstance(n, value) for n in e) for e in result[1])
    ):  # fmt: skip
        return (list(result[0]), [tuple(e) for e in result[1]]), "Drawn from your trace(): its nodes, and its edges as given."
    return None, f"Drawn from .inputs: trace() returned {describe(result)}, not (nodes, edges)."


def _explained(module, root, path: Path) -> list[tuple[object, object, float | None]] | None:
    """explain(root)'s steps as (inner, outer, local_grad), or None when it has none to give."""
    try:
        steps = _learner_call(lambda: module.explain(root), path, "running explain()")
    except (_Stub, DrawError):
        return None
    if not isinstance(steps, (tuple, list)):
        return None
    rows = [(getattr(s, "inner", None), getattr(s, "outer", None), _number(getattr(s, "local_grad", None))) for s in steps]
    return rows if all(isinstance(i, module.Value) and isinstance(o, module.Value) for i, o, _ in rows) else None


def panels(module, path: Path, text: str = SEED) -> list[Panel]:
    """Both panels for the expression `text` (--expr's language): the learner's (`module`, loaded from `path`) and torch's."""
    from harness.packs.graph import oracle
    from harness.packs.graph.spec import build

    try:
        expr = parse(text)
    except ExprError as exc:
        raise DrawError(str(exc)) from None
    ev = oracle.evaluate(expr)
    for k, value in enumerate(ev.values):
        if not math.isfinite(value):
            where = ", ".join(f"{n} = {v:g}" for n, v in zip(expr.names, expr.inputs))
            raise DrawError(f"`{expr.code(k)}` is {value} at {where}: choose inputs where every op is defined (log and ** 0.5 need positive numbers).")
    shown = "y = sin(x**2 + 1)" if text == SEED else text if expr.names[-1].isidentifier() else expr.names[-1]
    try:
        built = _learner_call(lambda: build(module, expr), path, f"building {shown} with your Value")
    except _Stub as stub:
        raise DrawError(f"Your Value cannot build {shown} yet: {stub}. Write the ops (Task 03.1), then draw again.") from None
    root = expr.names[-1]
    at = ", ".join(f"{n} = {v:g}" for n, v in zip(expr.names, expr.inputs))
    caption, grads = f"{shown} at {at}", True
    try:
        _learner_call(built.root.backward, path, f"running {root}.backward()")
    except _Stub as stub:
        caption, grads = f"{caption}\ngrads not shown: {stub}", False
    traced, how = _traced(module, built.root, path)
    explain = lambda: _explained(module, built.root, path)  # noqa: E731 - called only if .local_grads is missing
    mine = _learner_call(lambda: value_panel(built, ev, traced, grads=grads, caption=f"{caption}\n{how}", explain=explain), path, "reading your graph")
    tensors = torch_tensors(expr)
    theirs = torch_panel(
        tensors[-1], list(zip(expr.names, tensors)),
        caption="y.grad_fn and its next_functions, drawn input -> loss (autograd stores them loss -> input).\n"
        "A number such as the 1 in x**2 + 1 is no node of torch's graph.",
    )  # fmt: skip
    return [mine, theirs]


def draw(impl_root: Path | None = None, out_dir: Path | None = None, *, renderer: str = "auto", seconds: float = 10.0,
         expr: str | None = None) -> list[Path]:  # fmt: skip
    """Draw the learner's graph of y = sin(x**2 + 1) (or of `expr`) and torch's; the paths written. The
    learner's Value runs in its jailed process, for at most `seconds` in all."""
    if expr is not None:
        try:
            parse(expr)  # refused before the learner's process starts
        except ExprError as exc:
            raise DrawError(str(exc)) from None
    path = registry.get(KATA_ID).learner_file(impl_root)
    try:
        module = load(path)
    except LearnerLoadError as exc:
        raise DrawError(str(exc)) from None
    module.process.start_check(seconds)
    try:
        drawn = panels(module, path, SEED if expr is None else expr)
    finally:
        module.process.close()
    return render(drawn, out_dir or DEFAULT_OUT, renderer=renderer)


if __name__ == "__main__":  # the stub's docstring points here: the same as `kata draw`
    import sys

    from harness import cli

    sys.exit(cli.main(["draw", *sys.argv[1:]]))
