"""Kata 04's picture: the decision regions of the learner's trained classifier beside the spiral.

    kata draw 04_softmax_ce [--impl DIR] [--out DIR]

trains the learner's network (DIR/04_softmax_ce/softmax_ce.py, default katas/) on the spec's
three-class spiral with the spec's settings and seed 0, then asks the learner's forward() for the
logits on a grid over the plane and colours each grid point by its arg-max class. Three panels,
written as decision-regions.png and .svg: the data alone, the regions with the data on top (and the
training accuracy), and train()'s losses per epoch. Every number comes from the learner's code in
its jailed process; nothing of theirs is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.grading import registry
from harness.grading import tolerances as tol
from harness.packs.softmax_ce.data import CLASSES, spiral
from harness.pictures import DrawError, learner

KATA_ID = "04_softmax_ce"
DEFAULT_OUT = registry.REPO_ROOT / "softmax-drawings"
NAME = "decision-regions"
SEED = 0
GRID = 200  # points per side of the grid the regions are coloured on
EXTENT = 1.2  # the grid covers [-EXTENT, EXTENT]^2; the spiral lies within radius 1
COLOURS = ("#4263eb", "#f08c00", "#2f9e44")  # one per class, points; regions use them paler


@dataclass(frozen=True)
class Regions:
    """What the picture shows: the data, the learner's class at each grid point, and its losses."""

    X: np.ndarray
    labels: np.ndarray
    axis: np.ndarray  # (GRID,) coordinates of the grid along x and along y
    classes: np.ndarray  # (GRID, GRID): the arg-max class at (axis[col], axis[row])
    accuracy: float  # on the training points, from the learner's own forward()
    losses: np.ndarray


def regions(module, path: Path) -> Regions:
    """Train the learner's network and classify the grid with its forward(), in its process."""
    X, labels = spiral()
    settings = {"hidden": tol.SOFTMAX_TRAIN_HIDDEN, "epochs": tol.SOFTMAX_TRAIN_EPOCHS, "lr": tol.SOFTMAX_TRAIN_LR, "seed": SEED}
    try:
        params, losses = learner.run(lambda: module.train(X.copy(), labels.copy(), **settings), path, "training your network")
        axis = np.linspace(-EXTENT, EXTENT, GRID)
        gx, gy = np.meshgrid(axis, axis)
        grid = np.column_stack([gx.ravel(), gy.ravel()])
        on_grid = learner.run(lambda: module.forward(grid, params)[0], path, "running your forward() on the grid")
        on_data = learner.run(lambda: module.forward(X.copy(), params)[0], path, "running your forward() on the spiral")
    except learner.Unfinished as stub:
        raise DrawError(f"Your network cannot be trained yet: {stub}. The picture needs train() and forward() (Tasks 04.4, 04.5).") from None
    logits = [np.asarray(on_grid, dtype=np.float64), np.asarray(on_data, dtype=np.float64)]
    for got, rows in zip(logits, (len(grid), len(X))):
        if got.shape != (rows, CLASSES) or not np.isfinite(got).all():
            raise DrawError(
                f"forward() with your trained params gave logits of shape {got.shape}{'' if np.isfinite(got).all() else ' with nan or inf'};"
                f" the picture needs finite logits of shape ({rows}, {CLASSES}). `pytest katas/{KATA_ID}` says where it goes wrong."
            )
    return Regions(
        X=X,
        labels=labels,
        axis=axis,
        classes=logits[0].argmax(axis=1).reshape(GRID, GRID),
        accuracy=float((logits[1].argmax(axis=1) == labels).mean()),
        losses=np.asarray(losses, dtype=np.float64).ravel(),
    )


def figure(shown: Regions):
    """The three panels as a matplotlib figure (tests read its artists)."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no window, works without a display
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap, to_rgb

    fig, (data_ax, regions_ax, loss_ax) = plt.subplots(1, 3, figsize=(16, 5.6), dpi=120)
    pale = ListedColormap([tuple(0.6 + 0.4 * c for c in to_rgb(colour)) for colour in COLOURS])
    regions_ax.imshow(shown.classes, origin="lower", extent=(-EXTENT, EXTENT, -EXTENT, EXTENT), cmap=pale, vmin=0, vmax=CLASSES - 1, interpolation="nearest")
    for ax in (data_ax, regions_ax):
        for k in range(CLASSES):
            mine = shown.labels == k
            ax.scatter(shown.X[mine, 0], shown.X[mine, 1], s=14, color=COLOURS[k], edgecolors="white", linewidths=0.4, label=f"class {k}")
        ax.set_xlim(-EXTENT, EXTENT)
        ax.set_ylim(-EXTENT, EXTENT)
        ax.set_aspect("equal")
    data_ax.set_title(f"The data: a three-class spiral, {len(shown.X)} points", loc="left", fontsize=10)
    data_ax.legend(loc="upper right", fontsize=8)
    regions_ax.set_title(
        f"Your network's decision regions: {shown.accuracy:.0%} of the points right\n"
        f"the arg-max of forward()'s logits after train(hidden={tol.SOFTMAX_TRAIN_HIDDEN},\n"
        f"epochs={tol.SOFTMAX_TRAIN_EPOCHS}, lr={tol.SOFTMAX_TRAIN_LR}, seed={SEED})",
        loc="left",
        fontsize=10,
    )
    loss_ax.plot(np.arange(len(shown.losses)), shown.losses, color="#343a40")
    loss_ax.set_title("train()'s losses, one per epoch", loc="left", fontsize=10)
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("mean cross-entropy")
    loss_ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def draw(impl_root: Path | None = None, out_dir: Path | None = None, *, renderer: str = "auto", seconds: float = 10.0) -> list[Path]:
    """Draw the learner's decision regions; the paths written. The learner's code runs in its jailed
    process, for at most `seconds` in all."""
    if renderer not in ("auto", "matplotlib"):
        raise DrawError(f"kata {KATA_ID}'s picture is a plot, drawn with matplotlib: use --renderer auto or matplotlib, not {renderer}.")
    path = registry.get(KATA_ID).learner_file(impl_root)
    module = learner.open_module(KATA_ID, path, seconds)
    try:
        shown = regions(module, path)
    finally:
        module.process.close()
    import matplotlib.pyplot as plt

    fig = figure(shown)
    out = out_dir or DEFAULT_OUT
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in ("png", "svg"):
        target = out / f"{NAME}.{fmt}"
        fig.savefig(target, format=fmt, bbox_inches="tight")  # the three-line title stays in
        written.append(target)
    plt.close(fig)
    return written
