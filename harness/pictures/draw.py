"""Kata 03's pictures: the learner's graph of y = sin(x**2 + 1) above the graph torch records for it.

    kata draw [--impl DIR] [--out DIR] [--renderer auto|graphviz|matplotlib]

builds y = sin(x**2 + 1) at x = 2 with the learner's Value (from DIR/03_graph/graph.py, default
katas/), runs y.backward(), and draws two panels with the same conventions, arrows running from the
input to the loss and every node showing its value and gradient:

  * yours: the learner's nodes, walked here through .inputs, so the picture is of the Values
    themselves (their trace() and to_dot() are not needed; a missing backward() only hides grads);
  * torch's: y.grad_fn and its next_functions for the same expression: the graph autograd walks.

Graphviz's `dot` draws them when it is on PATH; otherwise networkx lays the nodes out in layers and
matplotlib draws them (both imported only then). Either way the output is a PNG and an SVG. The
panels are stacked, the learner's on top, so that the columns (x, x**2, u, y) line up.

From code, draw(impl_root, out_dir) does the above; render([value_panel(root)], out_dir) draws the
graph under any Value.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from harness.grading import registry
from harness.pictures import DrawError
from harness.pictures.dot import quote
from harness.grading.checks import NotImplementedYet
from harness.jail.proxy import LearnerDied, LearnerTimeout
from harness.grading.learner import LearnerLoadError, load
from harness.grading.registry import shown_path

KATA_ID = "03_graph"
SEED_X = 2.0
DEFAULT_OUT = registry.REPO_ROOT / "graph-drawings"
RENDERERS = ("auto", "graphviz", "matplotlib")
# Fill colours by kind of node, shared by both renderers so the two kinds of picture read alike.
COLOURS = {"input": "#cfe2ff", "constant": "#e9ecef", "op": "#fff3bf", "root": "#ffd8a8", "torch": "#d3f9d8"}


@dataclass(frozen=True)
class Box:
    """One node of a panel: a title and a few lines of text, coloured by kind."""

    key: str
    lines: tuple[str, ...]
    kind: str  # a key of COLOURS


@dataclass(frozen=True)
class Panel:
    """One graph to draw: its boxes (inputs first) and arrows (input -> loss, one per edge)."""

    title: str
    caption: str
    boxes: tuple[Box, ...]
    arrows: tuple[tuple[str, str], ...]


# --- what to draw ------------------------------------------------------------------------------
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


def value_panel(root, *, grads: bool = True, caption: str = "") -> Panel:
    """A panel of the learner's Value graph under `root`, walked through .inputs."""
    nodes = _walk(root, lambda n: tuple(n.inputs))
    boxes, keys = [], {id(n): f"v{i}" for i, n in enumerate(nodes)}
    for node in nodes:
        kind = "root" if node is root else "op" if node.op else "input" if node.label else "constant"
        name = node.label or ("constant" if not node.op else "")
        lines = [line for line in (name, f"op {node.op}" if node.op else "") if line]
        lines += [f"data {node.data:.4f}", f"grad {node.grad:.4f}" if grads else "grad ?"]
        boxes.append(Box(keys[id(node)], tuple(lines), kind))
    arrows = tuple((keys[id(inner)], keys[id(node)]) for node in nodes for inner in node.inputs)
    return Panel("your Value graph", caption, tuple(boxes), arrows)


def torch_panel(root, names: dict[str, object], *, caption: str = "") -> Panel:
    """A panel of the graph autograd records under the tensor `root`: its grad_fn and next_functions.

    `names` maps names to the tensors of the expression (retain_grad() on the intermediates), so
    each grad_fn shows the value and gradient of the tensor it produced.
    """
    by_fn = {id(t.grad_fn): (name, t) for name, t in names.items() if t.grad_fn is not None}
    by_leaf = {id(t): (name, t) for name, t in names.items() if t.grad_fn is None}
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
    arrows = tuple((keys[id(f)], keys[id(fn)]) for fn in fns for f, _ in fn.next_functions if f is not None)
    return Panel("torch's autograd graph", caption, tuple(boxes), arrows)


def seed_panels(module, path: Path) -> list[Panel]:
    """Both panels for y = sin(x**2 + 1) at x = SEED_X: the learner's (`module`, loaded from `path`) and torch's."""
    import torch

    def build():
        x = module.Value(SEED_X, label="x")
        x_sq = x**2
        u = x_sq + 1
        y = u.sin()
        x_sq.label, u.label, y.label = "x**2", "u", "y"
        return y

    try:
        y = _learner_call(build, path, "building y = sin(x**2 + 1) with your Value")
    except _Stub as stub:
        raise DrawError(f"Your Value cannot build y = sin(x**2 + 1) yet: {stub}. Write the ops (Task 03.1), then draw again.") from None
    caption, grads = "inner function u = x**2 + 1, outer function y = sin(u)", True
    try:
        _learner_call(y.backward, path, "running y.backward()")
    except _Stub as stub:
        caption, grads = f"{caption}\ngrads not shown: {stub}", False
    tx = torch.tensor(SEED_X, dtype=torch.float64, requires_grad=True)
    t_sq = tx**2
    t_u = t_sq + 1
    t_y = torch.sin(t_u)
    for t in (t_sq, t_u, t_y):
        t.retain_grad()  # torch keeps .grad for leaves only, unless asked
    t_y.backward()
    mine = _learner_call(lambda: value_panel(y, grads=grads, caption=caption), path, "reading your graph")
    theirs = torch_panel(
        t_y,
        {"x": tx, "x**2": t_sq, "u": t_u, "y": t_y},
        caption="y.grad_fn and its next_functions, drawn input -> loss (autograd stores them loss -> input).\n"
        "A number such as the 1 in x**2 + 1 is no node of torch's graph.",
    )
    return [mine, theirs]


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


# --- Graphviz ----------------------------------------------------------------------------------
def to_dot(panels: list[Panel]) -> str:
    """DOT for the panels, one cluster each, the first on top, all laid out left to right."""
    lines = ["digraph kata_03_graph {", "  rankdir=LR; newrank=true; nodesep=0.3; ranksep=0.5;",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];']  # fmt: skip
    # newrank lines the panels' columns up; in a left-to-right layout dot stacks clusters from the
    # bottom up in the order they are written, so the first panel is written last.
    for i, panel in reversed(list(enumerate(panels))):
        title = _dot_text(f"{panel.title}\n{panel.caption}\n" if panel.caption else f"{panel.title}\n", newline=r"\l")
        lines += [f"  subgraph cluster_{i} {{", f"    label={title}; labeljust=l; fontname=Helvetica; fontsize=12;"]
        for box in panel.boxes:
            label = _dot_text("\n".join(box.lines))
            lines.append(f'    p{i}_{box.key} [label={label}, fillcolor="{COLOURS[box.kind]}"];')
        lines += [f"    p{i}_{a} -> p{i}_{b};" for a, b in panel.arrows]
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines)


def _dot_text(text: str, newline: str = r"\n") -> str:
    """A DOT string; each line break is written \\n (centred line) or \\l (left-justified line)."""
    return quote(text).replace("\n", newline)


def render_graphviz(panels: list[Panel], out_dir: Path, name: str) -> list[Path]:
    dot_file = out_dir / f"{name}.dot"
    dot_file.write_text(to_dot(panels))
    written = [dot_file]
    for fmt in ("png", "svg"):
        target = out_dir / f"{name}.{fmt}"
        resolution = ["-Gdpi=150"] if fmt == "png" else []  # as sharp as the matplotlib PNG
        run = subprocess.run(["dot", f"-T{fmt}", *resolution, "-o", str(target), str(dot_file)], capture_output=True, text=True, timeout=60)
        if run.returncode != 0:
            raise DrawError(f"Graphviz's dot failed on {shown_path(dot_file)}: {run.stderr.strip()}")
        written.append(target)
    return written


# --- matplotlib --------------------------------------------------------------------------------
def _layout(panel: Panel) -> tuple[dict[str, tuple[float, float]], list[list[tuple[float, float]]]]:
    """Where each box goes, and the points each arrow runs through: a layered left-to-right layout.

    Columns by longest path from the inputs (an input or a number just before its first use, as dot
    puts it). An arrow that spans several columns gets a waypoint in each column it crosses, which
    takes a row like a box does, so the arrow runs between the boxes rather than through them. Rows
    are ordered by the barycentre of their neighbours, sweeping left and right, to uncross arrows.
    """
    import networkx as nx

    graph = nx.MultiDiGraph()
    graph.add_nodes_from(box.key for box in panel.boxes)
    graph.add_edges_from(panel.arrows)
    column = {key: c for c, keys in enumerate(nx.topological_generations(graph)) for key in keys}
    for key in reversed(list(nx.topological_sort(graph))):
        if graph.in_degree(key) == 0 and graph.out_degree(key) > 0:
            column[key] = min(column[s] for s in graph.successors(key)) - 1
    layered, chains = nx.DiGraph(), []
    layered.add_nodes_from(graph.nodes)
    for i, (a, b) in enumerate(panel.arrows):
        chain = [a, *((i, c) for c in range(column[a] + 1, column[b])), b]  # (arrow, column): a waypoint
        column.update({point: point[1] for point in chain[1:-1]})
        layered.add_edges_from(zip(chain, chain[1:]))
        chains.append(chain)
    rows = [[key for key in layered.nodes if column[key] == c] for c in range(max(column.values()) + 1)]
    for sweep in range(4):
        forward = sweep % 2 == 0
        for c in range(1, len(rows)) if forward else range(len(rows) - 2, -1, -1):
            rank = {key: r for r, key in enumerate(rows[c - 1 if forward else c + 1])}
            neighbours = layered.predecessors if forward else layered.successors

            def barycentre(key, r: int) -> float:
                ranks = [rank[n] for n in neighbours(key) if n in rank]
                return sum(ranks) / len(ranks) if ranks else r  # no neighbour there: keep its place

            rows[c] = [key for _, key in sorted(((barycentre(key, r), r), key) for r, key in enumerate(rows[c]))]
    pos = {key: (float(c), (len(row) - 1) / 2 - r) for c, row in enumerate(rows) for r, key in enumerate(row)}
    return {box.key: pos[box.key] for box in panel.boxes}, [[pos[key] for key in chain] for chain in chains]


def render_matplotlib(panels: list[Panel], out_dir: Path, name: str) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layouts = [_layout(panel) for panel in panels]
    points = [[xy for path in paths for xy in path] for _, paths in layouts]
    columns = max(max(x for x, _ in pts) for pts in points) + 1
    rows = [max(y for _, y in pts) - min(y for _, y in pts) + 1 for pts in points]
    heights = [1.25 * r + 1.0 for r in rows]  # inches: a box of 4 lines, plus the panel's title
    with plt.rc_context({"svg.fonttype": "none", "font.family": "DejaVu Sans"}):  # text stays text in the SVG
        fig, axes = plt.subplots(
            len(panels), 1, figsize=(2.3 * columns + 0.4, sum(heights)), gridspec_kw={"height_ratios": heights}, squeeze=False, layout="constrained"
        )
        for ax, panel, (pos, paths) in zip(axes[:, 0], panels, layouts):
            _draw_panel(ax, panel, pos, paths, columns)
        written = []
        for fmt in ("png", "svg"):
            target = out_dir / f"{name}.{fmt}"
            fig.savefig(target, format=fmt, dpi=150)
            written.append(target)
        plt.close(fig)
    return written


def _draw_panel(ax, panel: Panel, pos: dict[str, tuple[float, float]], paths: list[list[tuple[float, float]]], columns: float) -> None:
    ys = [y for path in paths for _, y in path] or [y for _, y in pos.values()]
    ax.set_xlim(-0.5, columns - 0.5)
    ax.set_ylim(min(ys) - 0.55, max(ys) + 0.55)
    ax.axis("off")
    ax.set_title(f"{panel.title}\n{panel.caption}" if panel.caption else panel.title, loc="left", fontsize=10)
    texts = {}
    for box in panel.boxes:
        x, y = pos[box.key]
        texts[box.key] = ax.text(
            x, y, "\n".join(box.lines), ha="center", va="center", fontsize=9.5, zorder=3,
            bbox={"boxstyle": "round,pad=0.45", "facecolor": COLOURS[box.kind], "edgecolor": "#495057"},
        )  # fmt: skip
    drawn: Counter[tuple[str, str]] = Counter()
    for (a, b), path in zip(panel.arrows, paths):
        drawn[(a, b)] += 1
        # Two arrows between the same boxes (x * x) bend apart, one above and one below.
        bend = 0.0 if panel.arrows.count((a, b)) == 1 else 0.3 * (-1) ** drawn[(a, b)]
        for i, (start, end) in enumerate(zip(path, path[1:])):
            first, last = i == 0, i == len(path) - 2
            # Above the boxes, cut at each box's edge (which a box knows only once it is drawn).
            ax.annotate(
                "", xy=end, xytext=start, zorder=4,
                arrowprops={"arrowstyle": "-|>" if last else "-", "color": "#343a40", "lw": 1.2, "mutation_scale": 14,
                            "shrinkA": 2 if first else 0, "shrinkB": 2 if last else 0, "connectionstyle": f"arc3,rad={bend}",
                            "patchA": texts[a].get_bbox_patch() if first else None, "patchB": texts[b].get_bbox_patch() if last else None},
            )  # fmt: skip


# --- entry points ------------------------------------------------------------------------------
def render(panels: list[Panel], out_dir: Path, *, name: str = "graph", renderer: str = "auto") -> list[Path]:
    """Write the panels as name.png and name.svg in out_dir (plus name.dot with Graphviz)."""
    if renderer not in RENDERERS:
        raise ValueError(f"renderer must be one of {', '.join(RENDERERS)}, not {renderer!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    use_dot = renderer == "graphviz" or renderer == "auto" and shutil.which("dot") is not None
    if use_dot and shutil.which("dot") is None:
        raise DrawError("Graphviz's dot is not on PATH: install Graphviz, or use --renderer matplotlib.")
    if use_dot:
        return render_graphviz(panels, out_dir, name)
    return render_matplotlib(panels, out_dir, name)


def draw(impl_root: Path | None = None, out_dir: Path | None = None, *, renderer: str = "auto", seconds: float = 10.0) -> list[Path]:
    """Draw the learner's graph of y = sin(x**2 + 1) and torch's; the paths written. The learner's Value
    runs in its jailed process, for at most `seconds` in all."""
    path = registry.get(KATA_ID).learner_file(impl_root)
    try:
        module = load(path)
    except LearnerLoadError as exc:
        raise DrawError(str(exc)) from None
    module.process.start_check(seconds)
    try:
        panels = seed_panels(module, path)
    finally:
        module.process.close()
    return render(panels, out_dir or DEFAULT_OUT, renderer=renderer)
