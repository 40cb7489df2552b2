"""Charts for `kata history --plot`: score over time per kata (matplotlib, the `plots` extra)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from harness.practice.store import Grade


def plot_history(grades: list[Grade], out: Path) -> Path:
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no window, works without a display
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise SystemExit("kata history --plot needs matplotlib: pip install 'backprop-katas[plots]'") from exc
    fig, ax = plt.subplots(figsize=(8, 4), dpi=120)
    for kata_id in sorted({g.kata_id for g in grades}):
        mine = [g for g in grades if g.kata_id == kata_id and g.max_score]
        if mine:
            ax.plot([dt.datetime.fromtimestamp(g.at) for g in mine], [100 * g.score / g.max_score for g in mine],
                    marker="o", markersize=3, label=kata_id)  # fmt: skip
    ax.set_ylabel("score (%)")
    ax.set_ylim(-5, 105)
    ax.set_title("Kata scores over time")
    ax.grid(alpha=0.3)
    if grades:
        ax.legend(loc="lower right")
    fig.autofmt_xdate()
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
