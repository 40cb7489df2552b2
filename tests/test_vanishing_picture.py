"""Kata 06's picture (harness/packs/vanishing/picture.py): the numbers it plots, the files it writes,
what a learner reads when part of their code is missing, and the TensorBoard scalars."""

from __future__ import annotations

import builtins
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from harness import cli
from harness.grading import registry
from harness.grading import tolerances as tol
from harness.grading.learner import load
from harness.packs.vanishing import oracle, picture
from harness.pictures import DrawError

KATA = "06_vanishing_gradients"
LAYERS = len(tol.INIT_WIDTHS) - 1


def svg_text(path: Path) -> str:
    root = ET.parse(path).getroot()
    return " ".join(t.strip() for t in root.itertext() if t.strip())


def curves_of(root: Path) -> list[picture.Curve]:
    path = registry.get(KATA).learner_file(root)
    module = load(path, callables=registry.get(KATA).callables)
    module.process.start_check(60)
    try:
        return picture.curves(module, path)
    finally:
        module.process.close()


def test_the_reference_curves_lie_on_torchs_and_show_the_claims(submission):
    found = {(c.activation, c.init): c for c in curves_of(submission(KATA))}
    assert set(found) == {(a, i) for a in oracle.ACTIVATIONS for i in picture.INITS}
    for curve in found.values():
        assert curve.yours is not None and curve.torch.shape == (LAYERS,)
        np.testing.assert_allclose(curve.yours, curve.torch, rtol=1e-9)

    def spread(key):
        return found[key].torch.max() / found[key].torch.min()

    sigmoid = found[("sigmoid", "N(0, 1)")].torch
    assert sigmoid[0] < tol.VANISH_RATIO * sigmoid.max()  # N(0, 1) sigmoid: the first layers starve
    assert spread(("tanh", "your init")) < tol.INIT_BAND < spread(("tanh", "N(0, 1)"))
    assert spread(("relu", "your init")) < tol.INIT_BAND


def test_the_figure_plots_those_numbers_on_a_log_scale(submission):
    found = curves_of(submission(KATA))
    fig = picture.figure(found)
    try:
        for ax, activation in zip(fig.axes, oracle.ACTIVATIONS):
            assert ax.get_yscale() == "log" and ax.get_title() == activation
            lines = {line.get_label(): line for line in ax.get_lines()}
            for curve in (c for c in found if c.activation == activation):
                mine = lines[f"{curve.init}: yours"]
                torch_line = next(line for label, line in lines.items() if label.startswith(f"{curve.init}: torch"))
                np.testing.assert_array_equal(mine.get_xdata(), np.arange(1, LAYERS + 1))
                np.testing.assert_array_equal(mine.get_ydata(), curve.yours)
                np.testing.assert_array_equal(torch_line.get_ydata(), curve.torch)
                assert torch_line.get_linestyle() == "--"
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_kata_draw_writes_png_and_svg(submission, tmp_path):
    out = tmp_path / "out"
    assert cli.main(["draw", KATA, "--impl", str(submission(KATA)), "--out", str(out)]) == 0
    assert (out / "gradient-flow.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = svg_text(out / "gradient-flow.svg")
    for shown in ["sigmoid", "tanh", "relu", "N(0, 1): yours", "your init: torch (largest / smallest", "norm of dLoss/dW (log scale)"]:
        assert shown in text, shown


def test_the_stub_gets_torchs_lines_and_says_what_is_missing(submission, tmp_path):
    stub = (registry.PACKS_DIR / "vanishing" / "stub" / "vanishing.py").read_text()
    written = picture.draw(submission(KATA, stub), tmp_path)
    text = svg_text(next(p for p in written if p.suffix == ".svg"))
    assert "N(0, 1): torch (largest / smallest" in text and "N(0, 1): yours" not in text
    assert "N(0, 1), yours: forward() in " in text and "is not implemented yet" in text
    assert "your init, yours: init_params() in " in text


def test_a_crash_in_the_learners_backward_is_a_draw_error(submission, tmp_path):
    source = registry.get(KATA).solution_path.read_text() + "\n\ndef backward(X, Y, params, cache, activation):\n    return 1 / 0\n"
    with pytest.raises(DrawError) as raised:
        picture.draw(submission(KATA, source), tmp_path)
    assert "ZeroDivisionError" in str(raised.value) and "computing your gradient norms" in str(raised.value)


def test_tensorboard_gets_the_same_numbers(submission, tmp_path):
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    found = curves_of(submission(KATA))
    runs = picture.write_tensorboard(found, tmp_path / "tb")
    assert sorted(run.name for run in runs) == ["unit-normal_torch", "unit-normal_yours", "your-init_torch", "your-init_yours"]
    events = EventAccumulator(str(tmp_path / "tb" / "your-init_yours"))
    events.Reload()
    for curve in (c for c in found if c.init == "your init"):
        scalars = events.Scalars(f"grad_norm/{curve.activation}")
        assert [s.step for s in scalars] == list(range(1, LAYERS + 1))
        np.testing.assert_allclose([s.value for s in scalars], curve.yours, rtol=1e-6)  # stored as float32


def test_tensorboard_missing_says_how_to_install(submission, tmp_path, monkeypatch, capsys):
    real_import = builtins.__import__

    def without_tensorboard(name, *args, **kwargs):
        if name == "tensorboard" or name.startswith("tensorboard."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_tensorboard)
    out = tmp_path / "out"
    assert cli.main(["draw", KATA, "--impl", str(submission(KATA)), "--out", str(out), "--tensorboard", str(tmp_path / "tb")]) == 1
    assert "--tensorboard needs the tensorboard package, which is not installed: pip install 'backprop-katas[tensorboard]'" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "tb").exists()  # said before any work


def test_only_pictures_that_take_it_get_tensorboard(submission, tmp_path, capsys):
    assert cli.main(["draw", "03_graph", "--impl", str(submission("03_graph")), "--tensorboard", str(tmp_path / "tb")]) == 2
    assert "kata 03_graph's picture has no --tensorboard" in capsys.readouterr().err
