"""Kata 03's pictures: the learner's graph of y = sin(x**2 + 1) above the graph torch records for it.

    python -m harness.draw [--impl DIR] [--out DIR] [--renderer auto|graphviz|matplotlib]

builds y = sin(x**2 + 1) at x = 2 with the learner's Value (from DIR/03_graph/graph.py, default
katas/), runs y.backward(), and draws two panels with the same conventions, arrows running from the
input to the loss and every node showing its value and gradient:

  * yours: the learner's nodes, walked here through .inputs, so the picture is of the Values
    themselves (their trace() and to_dot() are not needed; a missing backward() only hides grads);
  * torch's: y.grad_fn and its next_functions for the same expression: the graph autograd walks.

Graphviz's `dot` draws them when it is on PATH; otherwise networkx lays the nodes out in layers and
matplotlib draws them (both imported only then). Either way the output is a PNG and an SVG.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from harness import registry
from harness.dot import quote
from harness.learner import LearnerLoadError, NotImplementedYet, learner_code, learner_frames, load, shown_path

KATA_ID = "03_graph"
SEED_X = 2.0
DEFAULT_OUT = registry.REPO_ROOT / "graph-drawings"
RENDERERS = ("auto", "graphviz", "matplotlib")
# Fill colours by kind of node, shared by both renderers so the two kinds of picture read alike.
COLOURS = {"input": "#cfe2ff", "constant": "#e9ecef", "op": "#fff3bf", "root": "#ffd8a8", "torch": "#d3f9d8"}


class DrawError(Exception):
    """The graph cannot be drawn; the message says why, in the learner's terms."""


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


def torch_panel(root, names: dict[str, object]) -> Panel:
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
    caption = (
        "y.grad_fn and its next_functions, drawn input -> loss (autograd stores them loss -> input);"
        " numbers such as the 1 in x**2 + 1 are not nodes"
    )
    return Panel("torch's autograd graph", caption, tuple(boxes), arrows)


def seed_panels(module, path: Path) -> list[Panel]:
    """Both panels for y = sin(x**2 + 1) at x = SEED_X: the learner's (`module`, loaded from `path`) and torch's."""
    import torch

    try:
        with learner_code():
            x = module.Value(SEED_X, label="x")
            x_sq = x**2
            x_sq.label = "x**2"
            u = x_sq + 1
            u.label = "u"
            y = u.sin()
            y.label = "y"
    except NotImplementedYet as exc:
        raise DrawError(f"Your Value cannot build y = sin(x**2 + 1) yet: {_stub(exc, path)}. Write the ops (Task 03.1), then draw again.") from None
    grads, note = True, ""
    try:
        with learner_code():
            y.backward()
    except NotImplementedYet as exc:
        grads, note = False, f"grads not shown: {_stub(exc, path)}"
    caption = "inner function u = x**2 + 1, outer function y = sin(u)" + (f"; {note}" if note else "")
    tx = torch.tensor(SEED_X, dtype=torch.float64, requires_grad=True)
    t_sq = tx**2
    t_u = t_sq + 1
    t_y = torch.sin(t_u)
    for t in (t_sq, t_u, t_y):
        t.retain_grad()  # torch keeps .grad for leaves only, unless asked
    t_y.backward()
    return [
        value_panel(y, grads=grads, caption=caption),
        torch_panel(t_y, {"x": tx, "x**2": t_sq, "u": t_u, "y": t_y}),
    ]


def _stub(exc: NotImplementedYet, path: Path) -> str:
    frames = learner_frames(exc.__cause__.__traceback__, path)
    where = f"{frames[-1].name}() in {shown_path(path)} (line {frames[-1].lineno})" if frames else "a stub"
    return f"{where} is not implemented yet"


# --- Graphviz ----------------------------------------------------------------------------------
def to_dot(panels: list[Panel]) -> str:
    """DOT for the panels, one cluster each, laid out left to right."""
    lines = ["digraph kata_03_graph {", "  rankdir=LR; newrank=true; nodesep=0.3; ranksep=0.5;",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];']  # fmt: skip
    for i, panel in enumerate(panels):
        label = rf"{panel.title}\n{panel.caption}" if panel.caption else panel.title
        lines += [f"  subgraph cluster_{i} {{", f"    label={quote(label)}; fontname=Helvetica; fontsize=12; labeljust=l;"]
        for box in panel.boxes:
            text = quote(r"\n".join(box.lines))  # DOT's \n: a line break inside the label
            lines.append(f'    p{i}_{box.key} [label={text}, fillcolor="{COLOURS[box.kind]}"];')
        lines += [f"    p{i}_{a} -> p{i}_{b};" for a, b in panel.arrows]
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines)


def render_graphviz(panels: list[Panel], out_dir: Path, name: str) -> list[Path]:
    dot_file = out_dir / f"{name}.dot"
    dot_file.write_text(to_dot(panels))
    written = [dot_file]
    for fmt in ("png", "svg"):
        target = out_dir / f"{name}.{fmt}"
        run = subprocess.run(["dot", f"-T{fmt}", "-o", str(target), str(dot_file)], capture_output=True, text=True, timeout=60)
        if run.returncode != 0:
            raise DrawError(f"Graphviz's dot failed on {shown_path(dot_file)}: {run.stderr.strip()}")
        written.append(target)
    return written


# --- matplotlib --------------------------------------------------------------------------------
def _layout(panel: Panel) -> dict[str, tuple[float, float]]:
    """Left to right by longest path from the inputs; within a layer, near the nodes feeding it."""
    import networkx as nx

    graph = nx.MultiDiGraph()
    graph.add_nodes_from(box.key for box in panel.boxes)
    graph.add_edges_from(panel.arrows)
    pos: dict[str, tuple[float, float]] = {}
    for layer, keys in enumerate(nx.topological_generations(graph)):
        def barycentre(key: str) -> float:
            ys = [pos[p][1] for p in graph.predecessors(key)]
            return sum(ys) / len(ys) if ys else 0.0

        keys = sorted(keys, key=barycentre, reverse=True)
        for i, key in enumerate(keys):
            pos[key] = (float(layer), (len(keys) - 1) / 2 - i)
    return pos


def render_matplotlib(panels: list[Panel], out_dir: Path, name: str) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layouts = [_layout(panel) for panel in panels]
    width = max(max(x for x, _ in pos.values()) for pos in layouts) + 1
    heights = [max(y for _, y in pos.values()) - min(y for _, y in pos.values()) + 1 for pos in layouts]
    with plt.rc_context({"svg.fonttype": "none", "font.family": "DejaVu Sans"}):  # text stays text in the SVG
        fig, axes = plt.subplots(len(panels), 1, figsize=(2.4 * width + 0.6, sum(1.35 * h + 1.0 for h in heights)), gridspec_kw={"height_ratios": [h + 0.8 for h in heights]})
        for ax, panel, pos in zip(axes if len(panels) > 1 else [axes], panels, layouts):
            _draw_panel(ax, panel, pos, width)
        fig.tight_layout()
        written = []
        for fmt in ("png", "svg"):
            target = out_dir / f"{name}.{fmt}"
            fig.savefig(target, format=fmt, dpi=150)
            written.append(target)
        plt.close(fig)
    return written


def _draw_panel(ax, panel: Panel, pos: dict[str, tuple[float, float]], width: float) -> None:
    ys = [y for _, y in pos.values()]
    ax.set_xlim(-0.55, width - 0.45)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    ax.axis("off")
    ax.set_title(f"{panel.title}\n{panel.caption}" if panel.caption else panel.title, loc="left", fontsize=10)
    texts = {}
    for box in panel.boxes:
        x, y = pos[box.key]
        texts[box.key] = ax.text(
            x, y, "\n".join(box.lines), ha="center", va="center", fontsize=8.5, zorder=3,
            bbox={"boxstyle": "round,pad=0.45", "facecolor": COLOURS[box.kind], "edgecolor": "#495057"},
        )  # fmt: skip
    seen: dict[tuple[str, str], int] = {}
    for a, b in panel.arrows:
        n = seen[(a, b)] = seen.get((a, b), 0) + 1
        bend = 0.0 if panel.arrows.count((a, b)) == 1 else (0.25 if n % 2 else -0.25)  # x * x: two arrows, bent apart
        ax.annotate(
            "", xy=pos[b], xytext=pos[a], zorder=2,
            arrowprops={"arrowstyle": "-|>", "color": "#343a40", "lw": 1.2, "mutation_scale": 14, "shrinkA": 2, "shrinkB": 2,
                        "patchA": texts[a].get_bbox_patch(), "patchB": texts[b].get_bbox_patch(), "connectionstyle": f"arc3,rad={bend}"},
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


def draw(impl_root: Path | None = None, out_dir: Path | None = None, *, renderer: str = "auto") -> list[Path]:
    """Draw the learner's graph of y = sin(x**2 + 1) and torch's; the paths written."""
    path = registry.get(KATA_ID).learner_file(impl_root)
    try:
        module = load(path)
    except LearnerLoadError as exc:
        raise DrawError(str(exc)) from None
    return render(seed_panels(module, path), out_dir or DEFAULT_OUT, renderer=renderer)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.draw", description=__doc__.split("\n\n")[0])
    parser.add_argument("--impl", metavar="DIR", type=Path, help="draw DIR/03_graph/graph.py (default: katas/)")
    parser.add_argument("--out", metavar="DIR", type=Path, help=f"where to write the pictures (default: {shown_path(DEFAULT_OUT)}/)")
    parser.add_argument("--renderer", choices=RENDERERS, default="auto", help="auto: Graphviz when installed, else matplotlib")
    args = parser.parse_args(argv)
    try:
        written = draw(args.impl, args.out, renderer=args.renderer)
    except DrawError as exc:
        print(exc, file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {shown_path(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
