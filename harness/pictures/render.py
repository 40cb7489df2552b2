"""Drawing panels of boxes and arrows, with Graphviz's dot or with networkx + matplotlib, as PNG and SVG.

A Panel is what draw.py reads from a graph: boxes (a few lines each, coloured by kind, red when
wrong), arrows with a label of coloured lines (the chain rule on each edge), and labelled groups of
boxes (the inner and the outer function). Both renderers draw the same things with the same colours,
so the two kinds of picture read alike; the panels are stacked, the first on top, laid out left to
right so that columns line up. Graphviz is used when `dot` is on PATH; matplotlib and networkx are
imported only when they draw.
"""

from __future__ import annotations

import html
import math
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from harness.grading.registry import shown_path
from harness.pictures import DrawError
from harness.pictures.dot import quote

RENDERERS = ("auto", "graphviz", "matplotlib")
# Fill colours by kind of box.
COLOURS = {"input": "#cfe2ff", "constant": "#e9ecef", "op": "#fff3bf", "root": "#ffd8a8", "torch": "#d3f9d8", "wrong": "#ffc9c9"}
# Text colours of an arrow's lines, as CS231n colours its circuits: values forward in green, gradients back in blue.
TONES = {"forward": "#2b8a3e", "local": "#212529", "backward": "#1864ab", "wrong": "#e03131", "note": "#868e96"}
RED, INK, FAINT = "#e03131", "#343a40", "#adb5bd"


@dataclass(frozen=True)
class Box:
    """One node of a panel: a few lines of text, coloured by kind; red when a number in it is wrong."""

    key: str
    lines: tuple[str, ...]
    kind: str  # a key of COLOURS
    wrong: bool = False
    dashed: bool = False  # not where it should be (a node trace() missed)
    first_wrong: bool = False  # the first wrong node going back from the root: a thick red frame


@dataclass(frozen=True)
class Arrow:
    """An edge, drawn from tail to head, with its label's lines as (text, tone)."""

    tail: str
    head: str
    label: tuple[tuple[str, str], ...] = ()
    style: str = "plain"  # plain; missed (the graph has it, trace() does not: dashed); wrong (trace() has it, the graph does not: red, dashed)
    first_wrong: bool = False  # the first wrong edge going back from the root: thick red


@dataclass(frozen=True)
class Group:
    """Boxes drawn inside one labelled frame: the inner function, the outer function."""

    title: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Panel:
    """One graph to draw: its boxes (inputs first), arrows (input -> loss) and groups."""

    title: str
    caption: str
    boxes: tuple[Box, ...]
    arrows: tuple[Arrow, ...]
    groups: tuple[Group, ...] = ()


def _colour(arrow: Arrow) -> str:
    return RED if arrow.first_wrong or arrow.style == "wrong" else FAINT if arrow.style == "missed" else INK


# --- Graphviz ----------------------------------------------------------------------------------
def to_dot(panels: list[Panel]) -> str:
    """DOT for the panels, one cluster each, the first on top, all laid out left to right."""
    lines = ["digraph kata_03_graph {", "  rankdir=LR; newrank=true; nodesep=0.35; ranksep=0.6;",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
             '  edge [fontname="Helvetica", fontsize=9];']  # fmt: skip
    # newrank lines the panels' columns up; in a left-to-right layout dot stacks clusters from the
    # bottom up in the order they are written, so the first panel is written last.
    for i, panel in reversed(list(enumerate(panels))):
        title = _dot_text(f"{panel.title}\n{panel.caption}\n" if panel.caption else f"{panel.title}\n", newline=r"\l")
        lines += [f"  subgraph cluster_{i} {{", f"    label={title}; labeljust=l; fontname=Helvetica; fontsize=12;"]
        grouped = {key: j for j, group in enumerate(panel.groups) for key in group.keys}
        for j, group in enumerate(panel.groups):
            lines += [f"    subgraph cluster_{i}_{j} {{",
                      f'      label={quote(group.title)}; style="rounded,dashed"; color="#868e96"; fontcolor="#495057"; fontsize=10;']  # fmt: skip
            lines += [f"      {_dot_box(i, box)}" for box in panel.boxes if grouped.get(box.key) == j]
            lines.append("    }")
        lines += [f"    {_dot_box(i, box)}" for box in panel.boxes if box.key not in grouped]
        lines += [f"    {_dot_arrow(i, arrow)}" for arrow in panel.arrows]
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines)


def _dot_box(i: int, box: Box) -> str:
    style = "rounded,filled" + (",dashed" if box.dashed else "")
    colour = f', color="{RED}", penwidth={4 if box.first_wrong else 2}' if box.wrong else ""
    fill = COLOURS["wrong" if box.wrong else box.kind]
    return f'p{i}_{box.key} [label={_dot_text(chr(10).join(box.lines))}, style="{style}", fillcolor="{fill}"{colour}];'


def _dot_arrow(i: int, arrow: Arrow) -> str:
    attrs = [f'color="{_colour(arrow)}"']
    if arrow.label:
        rows = "<br/>".join(f'<font color="{TONES[tone]}">{html.escape(text)}</font>' for text, tone in arrow.label)
        attrs.append(f"label=<{rows}>")
    if arrow.style != "plain":
        attrs.append("style=dashed")
    if arrow.first_wrong:
        attrs.append("penwidth=2.5")
    return f"p{i}_{arrow.tail} -> p{i}_{arrow.head} [{', '.join(attrs)}];"


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
def layout(panel: Panel) -> tuple[dict[str, tuple[float, float]], list[list[tuple[float, float]]]]:
    """Where each box goes, and the points each arrow runs through: a layered left-to-right layout.

    Columns by longest path from the inputs (an input or a number just before its first use, as dot
    puts it). An arrow that spans several columns gets a waypoint in each column it crosses, which
    takes a row like a box does, so the arrow runs between the boxes rather than through them. Rows
    are ordered by the barycentre of their neighbours, sweeping left and right, to uncross arrows.
    An arrow against the flow (a reversed edge of trace()) is laid out as if it ran the right way.
    """
    import networkx as nx

    pairs = [(a.tail, a.head) for a in panel.arrows]
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(box.key for box in panel.boxes)
    graph.add_edges_from(pairs)
    if not nx.is_directed_acyclic_graph(graph):  # a reversed edge closes a cycle: lay out without it
        graph.remove_edges_from([(a.tail, a.head) for a in panel.arrows if a.style == "wrong"])
    column = {key: c for c, keys in enumerate(nx.topological_generations(graph)) for key in keys}
    for key in reversed(list(nx.topological_sort(graph))):
        if graph.in_degree(key) == 0 and graph.out_degree(key) > 0:
            column[key] = min(column[s] for s in graph.successors(key)) - 1
    layered, chains = nx.DiGraph(), []
    layered.add_nodes_from(graph.nodes)
    for i, (a, b) in enumerate(pairs):
        step = 1 if column[a] <= column[b] else -1  # -1: a reversed edge, drawn from right to left
        chain = [a, *((i, c) for c in range(column[a] + step, column[b], step)), b]  # (arrow, column): a waypoint
        column.update({point: point[1] for point in chain[1:-1]})
        ordered = chain if step == 1 else chain[::-1]
        layered.add_edges_from(zip(ordered, ordered[1:]))
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


# Inches: a row holds a box of 4-5 lines.
ROW_IN = 1.5
# Inches per character of a box's text (9.5 pt) and of an arrow's label (8 pt), in DejaVu Sans.
BOX_CHAR_IN, LABEL_CHAR_IN = 0.075, 0.062


def column_width(panels: list[Panel]) -> float:
    """Inches from one column to the next: half a box on each side, and the widest label between them."""
    box = max((len(line) for panel in panels for b in panel.boxes for line in b.lines), default=0)
    label = max((len(text) for panel in panels for a in panel.arrows for text, _ in a.label), default=0)
    return max(2.3, BOX_CHAR_IN * box + LABEL_CHAR_IN * label + 0.5)


def render_matplotlib(panels: list[Panel], out_dir: Path, name: str) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = figure(panels)
    written = []
    for fmt in ("png", "svg"):
        target = out_dir / f"{name}.{fmt}"
        with plt.rc_context({"svg.fonttype": "none"}):  # text stays text in the SVG
            fig.savefig(target, format=fmt, dpi=150)
        written.append(target)
    plt.close(fig)
    return written


def figure(panels: list[Panel]):
    """The matplotlib Figure of the panels, one Axes each, stacked (the caller closes it)."""
    import matplotlib.pyplot as plt

    layouts = [layout(panel) for panel in panels]
    points = [[xy for path in paths for xy in path] or list(pos.values()) for pos, paths in layouts]
    columns = max(max(x for x, _ in pts) for pts in points) + 1
    rows = [max(y for _, y in pts) - min(y for _, y in pts) + 1 for pts in points]
    captions = [panel.caption.count("\n") + 2 for panel in panels]
    heights = [ROW_IN * r + 0.6 + 0.2 * c for r, c in zip(rows, captions)]  # the boxes, plus the title and caption
    width = column_width(panels)
    with plt.rc_context({"font.family": "DejaVu Sans"}):
        fig, axes = plt.subplots(
            len(panels), 1, figsize=(width * columns + 0.4, sum(heights)), gridspec_kw={"height_ratios": heights},
            squeeze=False, layout="constrained",
        )  # fmt: skip
        for ax, panel, (pos, paths), r in zip(axes[:, 0], panels, layouts, rows):
            _draw_panel(ax, panel, pos, paths, columns, (72 * width, 72 * ROW_IN * r / (r + 0.2)))
    return fig


def _draw_panel(ax, panel: Panel, pos: dict[str, tuple[float, float]], paths: list[list[tuple[float, float]]], columns: float,
                per_unit: tuple[float, float]) -> None:  # fmt: skip
    """One panel; per_unit: points per data unit along x and y, to set the arrows' labels along them."""
    from matplotlib.patches import FancyBboxPatch

    ys = [y for path in paths for _, y in path] or [y for _, y in pos.values()]
    ax.set_xlim(-0.5, columns - 0.5)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    ax.axis("off")
    ax.set_title(f"{panel.title}\n{panel.caption}" if panel.caption else panel.title, loc="left", fontsize=10)
    texts = {}
    for box in panel.boxes:
        x, y = pos[box.key]
        texts[box.key] = ax.text(
            x, y, "\n".join(box.lines), ha="center", va="center", fontsize=9.5, zorder=3, gid=f"box-{box.key}",
            bbox={"boxstyle": "round,pad=0.45", "facecolor": COLOURS["wrong" if box.wrong else box.kind],
                  "edgecolor": RED if box.wrong else "#495057", "linewidth": 3.5 if box.first_wrong else 2 if box.wrong else 1,
                  "linestyle": "--" if box.dashed else "-"},
        )  # fmt: skip
    for group in panel.groups:
        # A frame around the group's boxes, from their centres: the widest box's half width (from its
        # text, in columns) and a little more on either side, and 0.36 rows above and below.
        xs, gy = [pos[k][0] for k in group.keys], [pos[k][1] for k in group.keys]
        chars = max(len(line) for box in panel.boxes if box.key in group.keys for line in box.lines)
        half = (BOX_CHAR_IN * chars / 2 + 0.25) * 72 / per_unit[0]
        x0, y0 = min(xs) - half, min(gy) - 0.36
        ax.add_patch(FancyBboxPatch((x0, y0), max(xs) - min(xs) + 2 * half, max(gy) - min(gy) + 0.72, boxstyle="round,pad=0.02",
                                    facecolor="none", edgecolor="#868e96", linestyle="--", zorder=1, gid="group"))  # fmt: skip
        ax.text(x0 + 0.02, y0 + max(gy) - min(gy) + 0.74, group.title, fontsize=8.5, color="#495057", va="bottom", zorder=2)
    drawn: Counter[frozenset[str]] = Counter()
    pairs = [(a.tail, a.head) for a in panel.arrows]
    labelled: set[tuple[tuple[str, str], tuple]] = set()
    for arrow, path in zip(panel.arrows, paths):
        pair = (arrow.tail, arrow.head)
        between = frozenset(pair)
        drawn[between] += 1
        # Arrows between the same two boxes (x * x; an edge and its reverse from trace()) bend apart:
        # the k-th to one side, the next to the other. rad > 0 bends to the right of the arrow's own
        # direction, so an arrow drawn the other way takes the opposite sign to bend to the same side.
        twins = [p for p in pairs if frozenset(p) == between]
        side = (-1) ** drawn[between] * (1 if pair == twins[0] else -1)
        bend = 0.0 if len(twins) == 1 else 0.3 * side
        colour = _colour(arrow)
        for i, (start, end) in enumerate(zip(path, path[1:])):
            first, last = i == 0, i == len(path) - 2
            # Above the boxes, cut at each box's edge (which a box knows only once it is drawn).
            ax.annotate(
                "", xy=end, xytext=start, zorder=4, gid=f"arrow-{arrow.tail}-{arrow.head}",
                arrowprops={"arrowstyle": "-|>" if last else "-", "color": colour, "lw": 2.6 if arrow.first_wrong else 1.2,
                            "linestyle": "--" if arrow.style != "plain" else "-", "mutation_scale": 14,
                            "shrinkA": 2 if first else 0, "shrinkB": 2 if last else 0, "connectionstyle": f"arc3,rad={bend}",
                            "patchA": texts[arrow.tail].get_bbox_patch() if first else None,
                            "patchB": texts[arrow.head].get_bbox_patch() if last else None},
            )  # fmt: skip
        if arrow.label and (pair, arrow.label) not in labelled:  # the second arrow of x * x says the same: said once, for both
            labelled.add((pair, arrow.label))
            same = sum(1 for a in panel.arrows if (a.tail, a.head) == pair and a.label == arrow.label)
            label = arrow.label + ((f"(each of the {same} arrows)", "note"),) * (same > 1)
            _draw_label(ax, label, path, bend, per_unit)


def _draw_label(ax, label: tuple[tuple[str, str], ...], path: list[tuple[float, float]], bend: float, per_unit: tuple[float, float]) -> None:
    """An arrow's lines, one Text each in its colour, along the middle of the arrow and on its outer side.

    Where, in points from the chord's middle: matplotlib's arc3 curve is the quadratic Bezier through
    the control point mid + rad * (dy, -dx) (display units), so at t it lies 2t(1 - t) of the way there."""
    middle = len(path) // 2
    (x1, y1), (x2, y2) = path[middle - 1], path[middle]
    dx, dy = (x2 - x1) * per_unit[0], (y2 - y1) * per_unit[1]  # points
    length = math.hypot(dx, dy) or 1.0
    side = 1.0 if bend <= 0 else -1.0  # rad > 0 bends to the right of the arrow: its label goes there too
    out = (-side * dy / length, side * dx / length)  # away from the arrow, on its outer side
    # A little past the middle, toward the head: two arrows that cross in the middle keep their labels apart.
    t = 0.58
    base = ((t - 0.5) * dx + 2 * t * (1 - t) * bend * dy, (t - 0.5) * dy - 2 * t * (1 - t) * bend * dx)  # the curve there
    angle = math.degrees(math.atan2(dy, dx))
    angle = angle - 180 if angle > 90 else angle + 180 if angle < -90 else angle  # never upside down
    up = (-math.sin(math.radians(angle)), math.cos(math.radians(angle)))  # the text's own upward direction
    outward_up = out[0] * up[0] + out[1] * up[1] > 0
    step, count = 10.5, len(label)
    for i, (text, tone) in enumerate(label):
        away = 4 + ((count - 1 - i) if outward_up else i) * step  # the lines read top to bottom either way
        ax.annotate(text, ((x1 + x2) / 2, (y1 + y2) / 2), xytext=(base[0] + away * out[0], base[1] + away * out[1]),
                    textcoords="offset points", ha="center", va="bottom" if outward_up else "top", rotation=angle,
                    rotation_mode="anchor", fontsize=8, color=TONES[tone], zorder=5, fontweight="bold" if tone == "wrong" else "normal",
                    bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})  # fmt: skip


# --- entry point -------------------------------------------------------------------------------
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
