"""Kata 03's pictures (harness/pictures/draw.py): both renderers, what the panels hold, and what a learner reads."""

from __future__ import annotations

import shutil
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness import cli
from harness.pictures import draw
from harness.grading import registry
from harness.pictures.dot import parse
from harness.grading.learner import load

KATA = "03_graph"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# What both pictures of the reference must show: each panel's ops and the gradients at x = 2.
SHOWN = ["your Value graph", "inner function u = x**2 + 1", "op sin", "op **", "grad 1.1346", "grad 0.2837",
         "torch's autograd graph", "SinBackward0", "AddBackward0", "PowBackward0", "AccumulateGrad"]  # fmt: skip


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


def test_matplotlib_draws_both_graphs_of_the_reference(submission, tmp_path):
    out = tmp_path / "pictures"
    written = draw.draw(submission(KATA), out, renderer="matplotlib")
    assert sorted(p.name for p in written) == ["graph.png", "graph.svg"]
    check_pictures(written, out)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_graphviz_draws_both_graphs_of_the_reference(submission, tmp_path):
    out = tmp_path / "pictures"
    written = draw.draw(submission(KATA), out, renderer="graphviz")
    check_pictures(written, out)
    dot = parse((out / "graph.dot").read_text())
    assert dot.directed and len(dot.edges) == 4 + 3  # x -> x**2 -> u <- 1, u -> y; and torch's chain of 4


def test_without_graphviz_auto_falls_back_to_matplotlib(submission, tmp_path, monkeypatch):
    monkeypatch.setattr(draw.shutil, "which", lambda name: None)
    written = draw.draw(submission(KATA), tmp_path, renderer="auto")
    assert sorted(p.name for p in written) == ["graph.png", "graph.svg"]
    with pytest.raises(draw.DrawError, match="Graphviz's dot is not on PATH"):
        draw.draw(submission(KATA), tmp_path, renderer="graphviz")


def test_both_panels_point_from_the_input_to_the_loss(submission):
    root = submission(KATA)
    mine, torch_graph = draw.seed_panels(load(registry.get(KATA).learner_file(root)), registry.get(KATA).learner_file(root))
    title = {box.key: box.lines[0] for panel in (mine, torch_graph) for box in panel.boxes}
    assert sorted((title[a], title[b]) for a, b in mine.arrows) == [("constant", "u"), ("u", "y"), ("x", "x**2"), ("x**2", "u")]
    assert [(title[a], title[b]) for a, b in torch_graph.arrows] == [
        ("AccumulateGrad", "PowBackward0"), ("PowBackward0", "AddBackward0"), ("AddBackward0", "SinBackward0"),
    ]  # fmt: skip
    assert [box.lines for box in mine.boxes if box.kind == "root"] == [("y", "op sin", "data -0.9589", "grad 1.0000")]


def test_x_times_x_draws_two_arrows(submission):
    module = load(registry.get(KATA).learner_file(submission(KATA)))
    x = module.Value(3.0, label="x")
    y = x * x
    y.backward()
    panel = draw.value_panel(y)
    assert len(panel.arrows) == 2 and len(set(panel.arrows)) == 1  # one per entry of y.inputs
    assert ("x", "data 3.0000", "grad 6.0000") in [box.lines for box in panel.boxes]


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
    assert "grad 1.1346" in text  # torch's panel still has its gradients


def test_a_crash_in_the_learners_op_shows_their_line(submission, tmp_path):
    source = registry.get(KATA).solution_path.read_text() + "\n\nValue.sin = lambda self: self.data.sin()\n"
    with pytest.raises(draw.DrawError) as raised:
        draw.draw(submission(KATA, source), tmp_path)
    message = str(raised.value)
    assert message.startswith("While building y = sin(x**2 + 1) with your Value: <lambda>() raised AttributeError: 'float' object has no attribute 'sin'")
    assert "Value.sin = lambda self: self.data.sin()" in message
