"""Kata 05's picture (`kata draw 05_gradient_check`): the learner's gradient check at work, PNG and SVG.

Two panels, from the learner's own functions run in their jailed process (harness/grading/learner.py):
  * left: the error of their numerical_grad against torch's exact gradient, for steps h from 1e-13
    to 1e-1, on a fixed smooth f, beside a centered and a forward difference computed here: the
    V of truncation (falling with h) against rounding (rising as h shrinks), and where 1e-5 sits;
  * right: their grad_check's worst relative error for each parameter of a fixed network whose
    backward pass has one planted bug, on a log scale: a correct gradient near 1e-9, the bug near 1.
matplotlib draws both (the `plots` extra); the renderer option has no other choice here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.grading import registry
from harness.grading.checks import NotImplementedYet
from harness.jail.proxy import LearnerDied, LearnerError, LearnerTimeout
from harness.packs.gradient_check import oracle
from harness.packs.gradient_check.functions import Smooth
from harness.packs.gradient_check.network import Handed, Plant, draw_network
from harness.pictures import DrawError, learner

KATA_ID = "05_gradient_check"
DEFAULT_OUT = registry.REPO_ROOT / "gradient-check-drawings"
STEPS = np.logspace(-13, -1, 25)
# A fixed f of a 3-vector, curved enough that a forward difference's error shows at every step.
F = Smooth((3,), ("sin", "tanh"), np.array([0.8, -0.6]), np.array([[1.2, -0.7, 0.4], [0.5, 1.1, -0.9]]), np.array([0.3, -0.2]))
X = np.array([0.4, -1.1, 0.7])
PLANT = Plant("transpose", "W2")
NETWORK_SEED = 5


def _difference(x: np.ndarray, h: float, *, centered: bool) -> np.ndarray:
    grad = np.zeros(x.shape)
    for i in range(x.size):
        plus, minus = x.copy(), x.copy()
        plus[i] += h
        minus[i] -= h if centered else 0.0
        grad[i] = (F.value(plus) - F.value(minus)) / ((2 if centered else 1) * h)
    return grad


def step_curves(module) -> dict[str, list[float]]:
    """Max abs error against torch at each of STEPS: the learner's, a centered and a forward difference."""
    true = oracle.smooth_grad(F, X)
    curves = {"yours": [], "centered": [], "forward": []}
    for h in STEPS:
        got = np.asarray(module.numerical_grad(F.fresh(), X.copy(), float(h)), dtype=np.float64)
        curves["yours"].append(float(np.abs(got - true).max()) if got.shape == X.shape else float("nan"))
        curves["centered"].append(float(np.abs(_difference(X, h, centered=True) - true).max()))
        curves["forward"].append(float(np.abs(_difference(X, h, centered=False) - true).max()))
    return curves


def check_errors(module) -> dict[str, float]:
    """The learner's grad_check worst error for each parameter of the fixed planted network."""
    network = draw_network(np.random.default_rng(NETWORK_SEED), 2, 6, PLANT)
    handed, params, errors = Handed(network, PLANT), network.params, {}
    for name in params:

        def loss_of(value, name=name):
            return handed.loss({**params, name: value})

        def grad_of(value, name=name):
            return handed.backward({**params, name: value})[name]

        errors[name] = float(module.grad_check(loss_of, grad_of, params[name].copy())[0])
    return errors


def _learner_numbers(path: Path, seconds: float) -> tuple[dict[str, list[float]], dict[str, float] | None, str]:
    module = learner.open_module(KATA_ID, path, seconds)
    try:
        curves = step_curves(module)
        try:
            return curves, check_errors(module), ""
        except NotImplementedYet:
            return curves, None, "grad_check() is not written yet"
    except NotImplementedYet:
        raise DrawError(f"numerical_grad() is not implemented yet: write it in {registry.shown_path(path)}, then draw.") from None
    except (LearnerError, LearnerTimeout, LearnerDied) as exc:
        raise DrawError(f"Your code stopped while being drawn ({getattr(exc, 'function', '')}): {exc}") from None
    finally:
        module.process.close()


def render(curves: dict[str, list[float]], errors: dict[str, float] | None, note: str, out_dir: Path) -> list[Path]:
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no window, works without a display
        import matplotlib.pyplot as plt
    except ImportError:
        raise DrawError("kata draw 05_gradient_check needs matplotlib: pip install 'backprop-katas[plots]'") from None
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8), dpi=120)
    styles = {"yours": dict(color="#d9480f", marker="o", lw=2), "centered": dict(color="#1c7ed6", ls="--"), "forward": dict(color="#868e96", ls=":")}
    labels = {"yours": "your numerical_grad", "centered": "centered difference", "forward": "forward difference"}
    for key, values in curves.items():
        left.loglog(STEPS, np.maximum(values, 1e-17), label=labels[key], **styles[key])
    left.axvline(1e-5, color="#2b8a3e", lw=1)
    left.text(1e-5, 0.02, " h = 1e-5", color="#2b8a3e", transform=left.get_xaxis_transform())
    left.set_xlabel("step h")
    left.set_ylabel("max |numerical - torch|")
    left.set_title("Error of the numerical gradient by step h:\nrounding (small h) against truncation (large h)")
    left.legend(loc="upper center")
    left.grid(alpha=0.3, which="both")
    if errors is None:
        right.text(0.5, 0.5, note, ha="center", va="center", transform=right.transAxes)
        right.set_axis_off()
    else:
        names = list(errors)
        colours = ["#e03131" if name == PLANT.name else "#4dabf7" for name in names]
        right.bar(names, np.maximum([errors[n] for n in names], 1e-17), color=colours, log=True, zorder=2)
        right.axhspan(1e-7, 1e-2, color="#fff3bf", alpha=0.6, zorder=0, label="between a correct check (~1e-7) and a bug (1e-2)")
        right.set_ylabel("your grad_check's worst relative error")
        right.set_title(f"Your grad_check on a network whose backward has a bug\n(planted: {PLANT})")
        right.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "gradient_check.png", out_dir / "gradient_check.svg"]
    for path in written:
        fig.savefig(path)
    plt.close(fig)
    return written


def draw(impl_root: Path | None = None, out_dir: Path | None = None, *, renderer: str = "auto", seconds: float = 10.0) -> list[Path]:
    """Draw the learner's numerical-gradient error by step and their checks of a planted network; the paths written."""
    if renderer == "graphviz":
        raise DrawError("kata 05's picture is a chart, drawn with matplotlib: use --renderer matplotlib (or auto).")
    curves, errors, note = _learner_numbers(registry.get(KATA_ID).learner_file(impl_root), seconds)
    return render(curves, errors, note, out_dir or DEFAULT_OUT)
