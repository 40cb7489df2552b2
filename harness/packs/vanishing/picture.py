"""Kata 06's picture: how the gradient flows back through a deep stack, layer by layer.

    kata draw 06_vanishing_gradients [--impl DIR] [--out DIR] [--tensorboard DIR]

On the prompt's stack (tolerances.INIT_WIDTHS: 12 hidden layers of width 32, one batch of 16 rows),
for each activation and for two initialisations (N(0, 1) weights, and the learner's init_params), it
plots the norm of dLoss/dW per layer on a log scale: the learner's numbers (their forward, backward
and layer_grad_norms, run in their jailed process) as solid lines with dots, torch's on the same
params as dashed lines beneath. A line that falls towards layer 1 is a gradient vanishing; the
learner's line lying on torch's says their backward pass is right. Written as PNG and SVG by
matplotlib (the `plots` extra); with --tensorboard DIR, the same numbers also go to DIR as
TensorBoard scalars (the `tensorboard` extra), one run per activation, init and source, the layer
as the step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.grading import registry
from harness.grading import tolerances as tol
from harness.packs.vanishing import oracle
from harness.pictures import DrawError, learner

KATA_ID = "06_vanishing_gradients"
DEFAULT_OUT = registry.REPO_ROOT / "gradient-flow"
NAME = "gradient-flow"
INITS = ("N(0, 1)", "your init")
RUN_NAMES = {"N(0, 1)": "unit-normal", "your init": "your-init"}  # TensorBoard run folders
COLOURS = {"N(0, 1)": "#d9480f", "your init": "#1971c2"}
TENSORBOARD_HINT = "pip install 'backprop-katas[tensorboard]' (or pip install tensorboard)"


@dataclass(frozen=True)
class Curve:
    """The per-layer gradient norms (layer 1 first) of one activation and init: torch's, and the
    learner's when their code could compute them (else why not)."""

    activation: str
    init: str
    torch: np.ndarray
    yours: np.ndarray | None
    missing: str = ""


class _Unavailable(Exception):
    """The learner's code cannot give this curve yet; str(self) says why, in their terms."""


def _norms(module, path: Path, X: np.ndarray, Y: np.ndarray, params: dict, activation: str) -> np.ndarray:
    def run():
        copy = {k: v.copy() for k, v in params.items()}
        _, cache = module.forward(X.copy(), copy, activation)
        grads = module.backward(X.copy(), Y.copy(), copy, cache, activation)
        return module.layer_grad_norms(grads)

    norms = learner.run(run, path, f"computing your gradient norms ({activation})")
    layers = len(tol.INIT_WIDTHS) - 1
    if not (isinstance(norms, np.ndarray) and norms.shape == (layers,) and np.isfinite(norms).all()):
        raise _Unavailable(f"layer_grad_norms() gave {norms!r:.60}, not {layers} finite numbers")
    return norms.astype(np.float64)


def _your_init(module, path: Path, activation: str) -> dict[str, np.ndarray]:
    params = learner.run(lambda: module.init_params(list(tol.INIT_WIDTHS), activation, np.random.default_rng(0)), path,
                           f"running your init_params ({activation})")  # fmt: skip
    names = oracle.param_names(len(tol.INIT_WIDTHS) - 1)
    if not (isinstance(params, dict) and set(params) == set(names)):
        raise _Unavailable(f"init_params() does not return the keys {names[0]} .. {names[-1]}")
    try:
        return {name: np.asarray(params[name], dtype=np.float64) for name in names}
    except (TypeError, ValueError):
        raise _Unavailable("init_params() returns values that are not arrays of numbers") from None


def curves(module, path: Path) -> list[Curve]:
    """Every (activation, init) curve, torch's always, the learner's where their code gets there."""
    X, Y, unit_normal = oracle.unit_normal_stack(tol.VANISH_SEED)
    found = []
    for activation in oracle.ACTIVATIONS:
        for init in INITS:
            try:
                params = unit_normal if init == "N(0, 1)" else _your_init(module, path, activation)
            except (learner.Unfinished, _Unavailable) as why:
                found.append(Curve(activation, init, np.array([]), None, str(why)))
                continue
            expected = oracle.network(X, Y, params, activation).norms
            try:
                found.append(Curve(activation, init, expected, _norms(module, path, X, Y, params, activation)))
            except (learner.Unfinished, _Unavailable) as why:
                found.append(Curve(activation, init, expected, None, str(why)))
    return found


# --- matplotlib --------------------------------------------------------------------------------
STYLE = {"svg.fonttype": "none", "font.family": "DejaVu Sans"}  # text stays text in the SVG


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise DrawError("kata draw 06_vanishing_gradients needs matplotlib: pip install 'backprop-katas[plots]'") from None
    matplotlib.use("Agg")  # files only: no window, works without a display
    import matplotlib.pyplot as plt

    return plt


def figure(found: list[Curve]):
    """One panel per activation, the norms per layer on a log scale: for each init, torch's line
    (dashed) and the learner's (solid, dots), or why the learner's is missing in the panel's title."""
    plt = _pyplot()
    layers = np.arange(1, len(tol.INIT_WIDTHS))
    # One y-axis per panel: ReLU with N(0, 1) weights sits ~1e15 above the rest and would flatten them.
    fig, axes = plt.subplots(1, len(oracle.ACTIVATIONS), figsize=(15, 5.4), layout="constrained")
    for ax, activation in zip(axes, oracle.ACTIVATIONS):
        missing = []
        for curve in (c for c in found if c.activation == activation):
            colour = COLOURS[curve.init]
            if curve.torch.size:
                spread = f"{curve.torch.max() / curve.torch.min():.3g}" if curve.torch.min() > 0 else "inf"
                ax.plot(layers, curve.torch, linestyle="--", linewidth=3, alpha=0.4, color=colour,
                        label=f"{curve.init}: torch (largest / smallest {spread})")  # fmt: skip
            if curve.yours is not None:
                ax.plot(layers, curve.yours, marker="o", markersize=4, linewidth=1.2, color=colour, label=f"{curve.init}: yours")
            else:
                missing.append(f"{curve.init}, yours: {curve.missing}")
        ax.set_yscale("log")
        ax.set_title("\n".join([activation, *missing]), fontsize=12 if not missing else 9)
        ax.set_xlabel(f"layer (1 = next to the input, {len(layers)} = the linear output)")
        ax.set_xticks(layers)
        ax.grid(alpha=0.3, which="both")
        ax.legend(loc="best", fontsize=8.5)
    axes[0].set_ylabel("norm of dLoss/dW (log scale)")
    fig.suptitle(
        f"Gradient flow: per-layer gradient norms of a {len(layers)}-layer MLP, widths {list(tol.INIT_WIDTHS)}, batch of {tol.INIT_N},"
        " MSE loss.\nSolid with dots: your numbers; dashed: torch's on the same params. A line falling toward layer 1 is a vanishing gradient.",
        fontsize=11,
    )
    return fig


def render(found: list[Curve], out_dir: Path) -> list[Path]:
    """The figure as PNG and SVG in out_dir."""
    plt = _pyplot()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with plt.rc_context(STYLE):
        fig = figure(found)
        for fmt in ("png", "svg"):
            target = out_dir / f"{NAME}.{fmt}"
            fig.savefig(target, format=fmt, dpi=120)
            written.append(target)
        plt.close(fig)
    return written


# --- TensorBoard -------------------------------------------------------------------------------
def _summary_writer():
    """torch's SummaryWriter, or a DrawError that says how to install the tensorboard extra."""
    try:
        import tensorboard  # noqa: F401 - torch's writer needs it, and says so less plainly
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise DrawError(f"--tensorboard needs the tensorboard package, which is not installed: {TENSORBOARD_HINT}") from None
    return SummaryWriter


def write_tensorboard(found: list[Curve], log_dir: Path) -> list[Path]:
    """The same numbers as TensorBoard scalars: tag grad_norm/<activation>, one run (subfolder) per
    init and source, the layer as the step, so each chart overlays yours and torch's."""
    SummaryWriter = _summary_writer()
    runs = []
    for init in INITS:
        for source in ("torch", "yours"):
            run = log_dir / f"{RUN_NAMES[init]}_{source}"
            with SummaryWriter(log_dir=str(run)) as writer:
                for curve in (c for c in found if c.init == init):
                    values = curve.torch if source == "torch" else curve.yours
                    for layer, value in enumerate(() if values is None else values, start=1):
                        writer.add_scalar(f"grad_norm/{curve.activation}", float(value), global_step=layer)
            runs.append(run)
    return runs


# --- entry point -------------------------------------------------------------------------------
def draw(impl_root: Path | None = None, out_dir: Path | None = None, *, renderer: str = "auto", seconds: float = 10.0,
         tensorboard: Path | None = None) -> list[Path]:  # fmt: skip
    """Draw the per-layer gradient norms, the learner's beside torch's; the paths written. The
    learner's code runs in its jailed process, for at most `seconds` in all."""
    if renderer == "graphviz":
        raise DrawError("kata 06's picture is a chart: matplotlib draws it (--renderer auto or matplotlib).")
    if tensorboard is not None:
        _summary_writer()  # before any work: a missing extra is said at once, and nothing is half written
    path = registry.get(KATA_ID).learner_file(impl_root)
    module = learner.open_module(KATA_ID, path, seconds)
    try:
        found = curves(module, path)
    finally:
        module.process.close()
    written = render(found, out_dir or DEFAULT_OUT)
    if tensorboard is not None:
        written += write_tensorboard(found, Path(tensorboard))
    return written
