"""The chart of `kata history --plot`: each kata's score against its attempts, with what happened between.

One row per kata. Along x, the kata's grades in order (attempt 1, 2, ...), never the clock: a week
away and a busy evening take the same room, and "what changed after the hint" reads left to right.
Between attempts, at the place they happened: hints (orange triangles), solutions viewed (grey
diamonds) and resets (a dashed line). The attempts graded in a mock interview sit in a shaded band
with the session's number, and are drawn as stars. All of it is read from the progress store
(harness/practice/store.py: grades, events, sessions). matplotlib is the `plots` extra.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path

from harness.grading import registry
from harness.practice.store import Grade, Store

# Events between attempts: how each is drawn (matplotlib marker, colour) and named in the legend.
EVENT_STYLE = {"hint": ("v", "#f08c00", "hint"), "solution": ("D", "#868e96", "solution viewed")}
PASS, FAIL, MOCK_BAND = "#2b8a3e", "#e03131", "#e5dbff"


@dataclass(frozen=True)
class KataHistory:
    """One kata's row of the chart: its grades in order, and where each event falls between them."""

    kata_id: str
    grades: tuple[Grade, ...]
    events: tuple[tuple[float, str], ...]  # (x, kind): after attempt k is x = k + 0.5
    mocks: tuple[tuple[int, float, float], ...]  # (session number, first x, last x) of a mock's attempts


def histories(store: Store, kata_id: str | None = None) -> list[KataHistory]:
    """Every kata with a grade or an event (or only `kata_id`), in registry order."""
    ids = [kata_id] if kata_id is not None else [k.id for k in registry.katas()]
    numbers = {s["id"]: n for n, s in enumerate(store.sessions("mock"), start=1)}  # mock #1, #2, ... as `kata history` lists them
    rows = []
    for kid in ids:
        grades = tuple(store.grades(kid))
        times = [g.at for g in grades]
        events = tuple(
            (bisect_right(times, at) + 0.5, kind) for kind in (*EVENT_STYLE, "reset") for at, _ in store.events(kid, kind)
        )  # fmt: skip
        mocks = []
        for session_id in sorted({g.session_id for g in grades if g.source == "mock" and g.session_id is not None}):
            xs = [i + 1 for i, g in enumerate(grades) if g.session_id == session_id and g.source == "mock"]
            mocks.append((numbers.get(session_id, 0), min(xs) - 0.5, max(xs) + 0.5))
        if grades or events:
            rows.append(KataHistory(kid, grades, events, tuple(mocks)))
    return rows


def history_figure(rows: list[KataHistory]):
    """The matplotlib Figure of the rows, one Axes each (the caller closes it)."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    fig, axes = plt.subplots(max(len(rows), 1), 1, figsize=(9, 1.2 + 2.1 * max(len(rows), 1)), squeeze=False, layout="constrained")
    fig.suptitle("Kata scores, attempt by attempt")
    if not rows:
        axes[0, 0].axis("off")
        axes[0, 0].text(0.5, 0.5, "No grades yet: `kata grade` or `kata watch` records them.", ha="center", va="center")
        return fig
    for ax, row in zip(axes[:, 0], rows):
        _draw_row(ax, row)
    legend = [
        Line2D([], [], color="#1864ab", marker="o", label="score (filled green: passed)"),
        Line2D([], [], color="#1864ab", marker="*", markersize=11, linestyle="none", label="graded in a mock interview"),
        *(Line2D([], [], marker=m, color=c, linestyle="none", label=name) for m, c, name in EVENT_STYLE.values()),
        Line2D([], [], color="#495057", linestyle="--", label="reset"),
    ]  # fmt: skip
    fig.legend(handles=legend, loc="outside lower center", ncols=5, fontsize=8, frameon=False)
    return fig


def _draw_row(ax, row: KataHistory) -> None:
    from matplotlib.ticker import MaxNLocator

    xs = list(range(1, len(row.grades) + 1))
    scores = [100 * g.score / g.max_score if g.max_score else 0.0 for g in row.grades]
    for number, start, end in row.mocks:
        ax.axvspan(start, end, color=MOCK_BAND, zorder=0, gid="mock")
        ax.text((start + end) / 2, 2, f"mock #{number}", ha="center", va="bottom", fontsize=8, color="#5f3dc4", zorder=1)
    ax.plot(xs, scores, color="#1864ab", lw=1.5, zorder=2, gid="score")
    for x, score, grade in zip(xs, scores, row.grades):
        passed = grade.status == "pass"
        ax.plot(x, score, marker="*" if grade.source == "mock" else "o", markersize=11 if grade.source == "mock" else 6, zorder=3,
                markerfacecolor=PASS if passed else "white", markeredgecolor=PASS if passed else FAIL, linestyle="none",
                gid=f"attempt-{grade.status}")  # fmt: skip
    stacked: dict[tuple[float, str], int] = {}
    for x, kind in row.events:
        if kind == "reset":
            ax.axvline(x, color="#495057", linestyle="--", lw=1, zorder=1, gid="reset")
            continue
        marker, colour, _ = EVENT_STYLE[kind]
        level = stacked[(x, kind)] = stacked.get((x, kind), -1) + 1  # a second hint in the same gap goes below the first
        ax.plot(x, 112 - 9 * level - (0 if kind == "hint" else 4.5), marker=marker, color=colour, markersize=7, linestyle="none",
                zorder=4, clip_on=False, gid=kind)  # fmt: skip
    ax.set_title(row.kata_id, loc="left", fontsize=10)
    ax.set_ylim(-5, 118)
    ax.set_yticks([0, 50, 100])
    ax.set_ylabel("score (%)")
    ax.set_xlim(0, max(len(row.grades), 1) + 1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("attempt (each grade of this kata, in order)", fontsize=8)
    ax.grid(alpha=0.3)


def plot_history(store: Store, out: Path, kata_id: str | None = None) -> Path:
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no window, works without a display
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise SystemExit("kata history --plot needs matplotlib: pip install 'backprop-katas[plots]'") from exc
    fig = history_figure(histories(store, kata_id))
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
