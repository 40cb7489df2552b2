"""Kata 03's pictures (harness/pictures/draw.py, render.py): what the panels hold, what each renderer
draws from them (read back from the DOT text, the SVG text and the matplotlib artists), and what a
learner reads. The mistakes are the catalog's (harness/packs/graph/catalog.toml), drawn as a learner
would see them."""

from __future__ import annotations

import re
import shutil
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from matplotlib.colors import to_hex

from harness import cli
from harness.grading import registry
from harness.grading.learner import load
from harness.instructor import catalog
from harness.pictures import draw, render
from harness.pictures.dot import parse

KATA = "03_graph"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# What both pictures of the reference must show: the circuit on each edge, the groups, torch's chain.
SHOWN = ["your Value graph", "y = sin(x**2 + 1) at x = 2", "op sin", "op **", "grad 1.1346", "grad 0.2837",
         "local cos(u) = 0.2837", "local 2·x = 4.0000", "0.2837 × 4.0000 = 1.1346", "x = 2.0000",
         "inner function u = x**2 + 1", "outer function y = sin(u)",
         "torch's autograd graph", "SinBackward0", "AddBackward0", "PowBackward0", "AccumulateGrad"]  # fmt: skip
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def svg_text(path: Path) -> str:
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    return " ".join(t.strip() for t in root.itertext() if t.strip())


def check_pictures(written: list[Path], out: Path) -> None:
    png, svg = out / "graph.png", out / "graph.svg"
    assert png in written and svg in written
    width, height = png_size(png)
    assert width >= 700 and height >= 400 and png.stat().st_size > 20_000  # two panels of boxes, not a blank
    text = svg_text(svg)
    for shown in SHOWN:
        assert shown in text, shown


def mistake(name: str) -> str:
    return catalog.load(KATA).mistake(name).source()


def panels_of(submission, source: str | None = None, expr: str = draw.SEED) -> list[render.Panel]:
    path = registry.get(KATA).learner_file(submission(KATA, source))
    module = load(path, callables=registry.get(KATA).callables)
    try:
        return draw.panels(module, path, expr)
    finally:
        module.process.close()


def by_title(panel: render.Panel) -> tuple[dict[str, render.Box], dict[tuple[str, str], list[render.Arrow]]]:
    """The panel's boxes by their first line that is not a mark, and its arrows by (tail, head) titles."""
    title = {box.key: next(line for line in box.lines if line != "first wrong node") for box in panel.boxes}
    arrows: dict[tuple[str, str], list[render.Arrow]] = {}
    for arrow in panel.arrows:
        arrows.setdefault((title[arrow.tail], title[arrow.head]), []).append(arrow)
    return {title[box.key]: box for box in panel.boxes}, arrows


# --- what the panels hold ---------------------------------------------------------------------------
def test_each_edge_of_the_reference_carries_the_chain_rule(submission):
    mine, torch_graph = panels_of(submission)
    boxes, arrows = by_title(mine)
    assert sorted(arrows) == [("constant", "u"), ("u", "y"), ("x", "x**2"), ("x**2", "u")]
    assert arrows[("x", "x**2")][0].label == (
        ("x = 2.0000", "forward"), ("local 2·x = 4.0000", "local"), ("0.2837 × 4.0000 = 1.1346", "backward"))
    assert arrows[("u", "y")][0].label == (
        ("u = 5.0000", "forward"), ("local cos(u) = 0.2837", "local"), ("1.0000 × 0.2837 = 0.2837", "backward"))
    assert boxes["y"].lines == ("y", "op sin", "data -0.9589", "grad 1.0000") and boxes["y"].kind == "root"
    assert not any(box.wrong for box in mine.boxes) and not any(a.first_wrong or a.style != "plain" for a in mine.arrows)
    inner, outer = mine.groups
    assert inner.title == "inner function u = x**2 + 1" and {boxes[t].key for t in ("x**2", "constant", "u")} == set(inner.keys)
    assert outer.title == "outer function y = sin(u)" and outer.keys == (boxes["y"].key,)
    assert "Drawn from your trace()" in mine.caption and "In red" not in mine.caption
    _, torch_arrows = by_title(torch_graph)
    assert list(torch_arrows) == [("AccumulateGrad", "PowBackward0"), ("PowBackward0", "AddBackward0"), ("AddBackward0", "SinBackward0")]


def test_a_wrong_local_gradient_is_red_at_once(submission):
    mine, _ = panels_of(submission, mistake("value_as_derivative"))
    boxes, arrows = by_title(mine)
    (sin_edge,) = arrows[("u", "y")]
    assert sin_edge.first_wrong and sin_edge.label[0] == ("first wrong edge", "wrong")
    assert ("local cos(u): yours -0.9589 ✗ torch 0.2837", "wrong") in sin_edge.label
    assert boxes["x"].wrong and "grad -3.8357 ✗ torch 1.1346" in boxes["x"].lines
    assert not boxes["y"].wrong  # dy/dy = 1 still: the first wrong thing is the edge below it
    assert [a for edge in arrows.values() for a in edge if a.first_wrong] == [sin_edge]
    assert "First wrong edge going back from y: u -> y: its local gradient is -0.9589, torch's 0.2837." in mine.caption


def test_a_node_that_keeps_one_share_is_the_first_wrong_node_with_its_sum(submission):
    mine, _ = panels_of(submission, mistake("assigned_grad"), "x*x + sin(x)")
    boxes, arrows = by_title(mine)
    assert boxes["x"].first_wrong and boxes["x"].lines[0] == "first wrong node"
    assert "grad 2.0000 ✗ torch 3.5839" in boxes["x"].lines
    assert len(arrows[("x", "x*x")]) == 2  # one arrow per entry of (x*x).inputs
    assert "x.grad is 2.0000, but the 3 shares sent back to it add up to -0.4161 + 2.0000 + 2.0000 = 3.5839 (torch's: 3.5839)" in mine.caption.replace("\n    ", " ")


def test_a_node_torch_has_no_twin_of_is_held_to_the_sum_of_its_shares(submission):
    mine, _ = panels_of(submission, mistake("missing_upstream"), "a = 1.5; b = 0.5; (a + b) * (a - b)")
    boxes, arrows = by_title(mine)
    assert "grad 1.0000 ✗ shares add to 2.0000" in boxes["-b"].lines  # the -b inside a - b = a + (-b)
    (edge,) = arrows[("-b", "a - b")]
    assert edge.first_wrong and ("2.0000 × 1.0000 = 2.0000", "backward") in edge.label


def test_reversed_trace_edges_are_drawn_as_given_and_the_real_ones_dashed(submission):
    mine, _ = panels_of(submission, mistake("reversed_edges"))
    _, arrows = by_title(mine)
    (reversed_edge,) = arrows[("y", "u")]
    assert reversed_edge.style == "wrong" and reversed_edge.label == (("trace() gives (y, u): reversed, u is an input of y", "wrong"),)
    (missed,) = arrows[("u", "y")]
    assert missed.style == "missed" and missed.label[-1] == ("missed by trace()", "note")
    assert sum(a.style == "wrong" for a in mine.arrows) == sum(a.style == "missed" for a in mine.arrows) == 4
    caption = mine.caption.replace("\n    ", " ")
    assert "In red, dashed: 4 edges of trace()'s not in the graph as its .inputs make it (inner, outer)." in caption
    assert "Dashed: what trace() missed of the graph its .inputs make: 4 edges." in caption


@pytest.mark.parametrize("variant", [v.id for v in catalog.load(KATA).variants])
@pytest.mark.parametrize("expr", [draw.SEED, "x*x + sin(x)", "a = 1.5; b = 0.5; (a + b) * (a - b)"])
def test_a_correct_answer_written_differently_has_nothing_red(submission, variant, expr):
    # closures: no .local_grads (explain() gives them) and grads that accumulate; explain_loop: one merged edge for x * x.
    source = next(v for v in catalog.load(KATA).variants if v.id == variant).source()
    mine, _ = panels_of(submission, source, expr)
    assert not any(box.wrong for box in mine.boxes) and not any(a.first_wrong or a.style != "plain" for a in mine.arrows)
    assert all(tone != "wrong" and "?" not in text for a in mine.arrows for text, tone in a.label), mine.arrows
    assert "In red" not in mine.caption and "unknown" not in mine.caption


def test_local_gradients_nobody_reports_are_shown_unknown_never_red(submission):
    source = registry.get(KATA).solution_path.read_text().replace("local_grads", "partials")
    source += "\n\ndef explain(root):\n    raise NotImplementedError\n"
    mine, _ = panels_of(submission, source)
    _, arrows = by_title(mine)
    assert arrows[("u", "y")][0].label == (("u = 5.0000", "forward"), ("local cos(u) = ?", "local"))
    assert not any(box.wrong for box in mine.boxes) and not any(a.first_wrong for a in mine.arrows)
    assert "Local gradients shown ? are unknown: your Value keeps no local_grads" in mine.caption.replace("\n    ", " ")


def test_a_trace_with_a_stranger_and_a_node_twice_still_draws_every_arrow_end(submission):
    source = registry.get(KATA).solution_path.read_text() + (
        "\n\n_trace = trace\n\n\ndef trace(root):\n    nodes, edges = _trace(root)\n    stranger = Value(7.0)\n"
        "    return nodes + nodes[:1], edges + [(stranger, root)]\n"
    )
    mine, _ = panels_of(submission, source)
    (stranger,) = [box for box in mine.boxes if box.lines[-1] == "not in y's graph"]
    assert len(mine.boxes) == 6 and stranger.dashed and "data 7.0000" in stranger.lines
    (stray,) = [a for a in mine.arrows if a.tail == stranger.key]
    assert stray.style == "wrong" and stray.label == (("trace() gives (7, y): 7 is not an input of y", "wrong"),)


def test_without_trace_the_graph_is_drawn_from_inputs(submission):
    source = registry.get(KATA).solution_path.read_text() + "\n\ndef trace(root):\n    raise NotImplementedError\n"
    mine, _ = panels_of(submission, source)
    assert "Drawn from .inputs: trace() in " in mine.caption and "is not implemented yet" in mine.caption
    assert len(mine.arrows) == 4 and all(a.style == "plain" for a in mine.arrows)


def test_x_times_x_draws_two_arrows_each_with_its_share(submission):
    mine, torch_graph = panels_of(submission, None, "x = 3.0; y = x * x")
    boxes, arrows = by_title(mine)
    assert [a.label for a in arrows[("x", "y")]] == [(("x = 3.0000", "forward"), ("local x = 3.0000", "local"), ("1.0000 × 3.0000 = 3.0000", "backward"))] * 2
    assert boxes["x"].lines == ("x", "data 3.0000", "grad 6.0000")
    assert len(torch_graph.arrows) == 2 and mine.groups == ()  # the root * has two operands: no inner and outer function


# --- what the renderers draw from them ------------------------------------------------------------
@needs_dot
def test_graphviz_draws_the_circuit_and_the_groups(submission, tmp_path):
    written = draw.draw(submission(KATA), tmp_path, renderer="graphviz")
    check_pictures(written, tmp_path)
    text = (tmp_path / "graph.dot").read_text()
    dot = parse(text)
    assert dot.directed and len(dot.edges) == 4 + 3  # x -> x**2 -> u <- 1, u -> y; and torch's chain of 4
    assert re.search(r'subgraph cluster_0_0 \{\s*label="inner function u = x\*\*2 \+ 1"', text)
    assert '<font color="#1864ab">0.2837 × 4.0000 = 1.1346</font>' in text


@needs_dot
def test_graphviz_draws_the_mistake_in_red(submission, tmp_path):
    draw.draw(submission(KATA, mistake("value_as_derivative")), tmp_path, renderer="graphviz")
    ns = {"svg": "http://www.w3.org/2000/svg"}
    svg = ET.parse(tmp_path / "graph.svg").getroot()
    groups = {g.findtext("svg:title", namespaces=ns): g for g in svg.iter("{http://www.w3.org/2000/svg}g")}
    dot = parse((tmp_path / "graph.dot").read_text())
    key = {label.split("\\n")[0]: node for node, attrs in dot.nodes.items() if (label := attrs.get("label"))}
    x_box = groups[key["x"]]
    assert x_box.find("svg:path", ns).get("stroke") == render.RED and "grad -3.8357 ✗ torch 1.1346" in svg_text_of(x_box)
    edge = groups[f"{key['u']}->{key['y']}"]
    assert edge.find("svg:path", ns).get("stroke") == render.RED and edge.find("svg:path", ns).get("stroke-width") == "2.5"
    assert "first wrong edge" in svg_text_of(edge) and "local cos(u): yours -0.9589 ✗ torch 0.2837" in svg_text_of(edge)


def svg_text_of(element) -> str:
    return " ".join(t.strip() for t in element.itertext() if t.strip())


def test_matplotlib_draws_both_graphs_of_the_reference(submission, tmp_path):
    written = draw.draw(submission(KATA), tmp_path, renderer="matplotlib")
    assert sorted(p.name for p in written) == ["graph.png", "graph.svg"]
    check_pictures(written, tmp_path)


def test_matplotlib_draws_the_mistake_in_red(submission):
    import matplotlib.pyplot as plt

    panels = panels_of(submission, mistake("value_as_derivative"))
    fig = render.figure(panels)
    try:
        ax = fig.axes[0]
        boxes, _ = by_title(panels[0])
        texts = {t.get_gid(): t for t in ax.texts}
        x_box = texts[f"box-{boxes['x'].key}"]
        assert "grad -3.8357 ✗ torch 1.1346" in x_box.get_text()
        assert to_hex(x_box.get_bbox_patch().get_edgecolor()) == render.RED
        assert to_hex(texts[f"box-{boxes['y'].key}"].get_bbox_patch().get_edgecolor()) != render.RED
        first = [t for t in ax.texts if t.get_gid() == f"arrow-{boxes['u'].key}-{boxes['y'].key}"]
        assert first and all(to_hex(t.arrow_patch.get_edgecolor()) == render.RED and t.arrow_patch.get_linewidth() == 2.6 for t in first)
        shown = {(t.get_text(), to_hex(t.get_color())) for t in ax.texts}
        assert ("local cos(u): yours -0.9589 ✗ torch 0.2837", render.TONES["wrong"]) in shown
        assert ("0.2837 × 4.0000 = 1.1346", render.TONES["backward"]) not in shown  # its upstream is wrong: -0.9589
        assert ("-0.9589 × 4.0000 = -3.8357", render.TONES["backward"]) in shown
        assert [p.get_gid() for p in ax.patches if p.get_gid() == "group"] == ["group", "group"]
    finally:
        plt.close(fig)


def test_without_graphviz_auto_falls_back_to_matplotlib(submission, tmp_path, monkeypatch):
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    written = draw.draw(submission(KATA), tmp_path, renderer="auto")
    assert sorted(p.name for p in written) == ["graph.png", "graph.svg"]
    with pytest.raises(draw.DrawError, match="Graphviz's dot is not on PATH"):
        draw.draw(submission(KATA), tmp_path, renderer="graphviz")


# --- what a learner reads -----------------------------------------------------------------------
def test_expr_draws_any_expression_of_the_kata(submission, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["draw", "--impl", str(submission(KATA)), "--out", str(out), "--renderer", "matplotlib"]
    assert cli.main([*args, "--expr", "a = 1.5; b = 0.5; (a + b) * (a - b)"]) == 0
    text = svg_text(out / "graph.svg")
    assert "(a + b) * (a - b) at a = 1.5, b = 0.5" in text and "MulBackward0" in text and "local (a - b) = 1.0000" in text


def test_a_bad_expression_is_refused_before_the_learners_code_runs(tmp_path, capsys):
    # No learner file at all: the expression is read first, so its problem is what the learner reads.
    assert cli.main(["draw", "--impl", str(tmp_path), "--out", str(tmp_path / "out"), "--expr", "x*x + cos(x)"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("kata draw: --expr, column 7: cos is not an op of kata 03")
    assert not (tmp_path / "out").exists()


def test_an_expression_undefined_at_its_inputs_says_which_op(submission, tmp_path):
    with pytest.raises(draw.DrawError, match=r"`log\(x\)` is nan at x = -1: choose inputs where every op is defined"):
        draw.draw(submission(KATA), tmp_path, expr="x = -1; log(x)")
    # At relu's kink `>` and `>=` are both right: no picture calls one of them wrong.
    with pytest.raises(draw.DrawError, match=r"`relu\(x \* 2\)` is at relu's kink at x = 0"):
        draw.draw(submission(KATA), tmp_path, expr="x = 0; relu(x * 2)")


def test_the_stub_is_refused_with_what_to_write_first(tmp_path, capsys):
    kata = registry.get(KATA)
    stub = tmp_path / KATA / kata.filename
    stub.parent.mkdir()
    shutil.copy(kata.pristine_path, stub)
    assert cli.main(["draw", "--impl", str(tmp_path), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("kata draw: Your Value cannot build y = sin(x**2 + 1) yet: Value.__pow__() in ")
    assert "is not implemented yet. Write the ops (Task 03.1), then draw again." in err
    assert not (tmp_path / "out").exists()


def test_draw_takes_the_kata_id_and_refuses_a_kata_without_a_picture(submission, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["draw", KATA, "--impl", str(submission(KATA)), "--out", str(out), "--renderer", "matplotlib"]) == 0
    assert (out / "graph.png").exists()
    without = next(k for k in registry.katas() if k.picture is None)
    assert cli.main(["draw", without.id]) == 2
    assert f"kata {without.id} has no picture; `kata draw` draws 03_graph" in capsys.readouterr().err


def test_ops_without_backward_are_drawn_without_grads(submission, tmp_path, capsys):
    source = registry.get(KATA).solution_path.read_text() + "\n\ndef _no_backward(self):\n    raise NotImplementedError\n\n\nValue.backward = _no_backward\n"
    assert cli.main(["draw", "--impl", str(submission(KATA, source)), "--out", str(tmp_path / "out"), "--renderer", "matplotlib"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("graph.svg")
    text = svg_text(tmp_path / "out" / "graph.svg")
    assert "grad ?" in text and "grads not shown: _no_backward() in " in text
    assert "local cos(u) = 0.2837" in text  # the local gradients are the ops': still on the edges
    assert "grad 1.1346" in text  # torch's panel still has its gradients


def test_a_crash_in_the_learners_op_shows_their_line(submission, tmp_path):
    source = registry.get(KATA).solution_path.read_text() + "\n\nValue.sin = lambda self: self.data.sin()\n"
    with pytest.raises(draw.DrawError) as raised:
        draw.draw(submission(KATA, source), tmp_path)
    message = str(raised.value)
    assert message.startswith("While building y = sin(x**2 + 1) with your Value: <lambda>() raised AttributeError: 'float' object has no attribute 'sin'")
    assert "Value.sin = lambda self: self.data.sin()" in message


def test_a_learners_op_text_is_shown_visible_and_short(submission):
    source = registry.get(KATA).solution_path.read_text().replace('op="sin"', 'op="\\x1b[2J" * 100')
    mine, _ = panels_of(submission, source)
    boxes, _ = by_title(mine)
    assert boxes["y"].lines[1] == "op " + ("\\x1b[2J" * 4)[:23] + "…"


def test_a_long_expression_keeps_its_boxes_narrow(submission):
    from harness.pictures.circuit import NAME_WIDTH

    mine, torch_graph = panels_of(submission, None, "x = 0.7; " + " + ".join(["sin(x) * x"] * 4))
    titles = [box.lines[0] for box in mine.boxes] + [box.lines[1] for box in torch_graph.boxes]
    assert max(map(len, titles)) == NAME_WIDTH and "sin(x) * x + sin(x) * x + s…" in titles


def test_a_root_whose_grad_is_not_one_is_the_first_wrong_node(submission):
    source = registry.get(KATA).solution_path.read_text().replace("self.grad = 1.0  # dy/dy", "self.grad = 2.0")
    mine, _ = panels_of(submission, source)
    boxes, _ = by_title(mine)
    assert boxes["y"].first_wrong and "grad 2.0000 ✗ torch 1.0000" in boxes["y"].lines
    assert "First wrong node going back from y: y.grad is 2.0000, but dy/dy = 1 is where the chain rule starts." in mine.caption
