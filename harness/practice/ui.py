"""What the `kata` command shows: the board, verdicts and history, drawn with rich.

Colour and live progress only on a terminal; rich drops colour by itself when stdout is not a
terminal or NO_COLOR is set, and then we also drop the box-drawing borders.

Nothing we print is rich markup: learners' messages, output, file and folder names, and our hints
("clip y_hat into [eps, 1 - eps]") are full of square brackets. Styles come from Text objects only,
so learner text here is always a Text (safe on any console), and our consoles parse no markup at all
(so every plain print elsewhere, e.g. a hint or a path, is literal too).
"""

from __future__ import annotations

import datetime as dt
import os
import sys

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.practice.progress import BROKEN, FAILING, NOT_STARTED, PASSING, Standing
from harness.grading.results import KataResult, Status, TestResult
from harness.grading.text import split_diagnosis, visible

STATE_STYLE = {NOT_STARTED: "dim", FAILING: "yellow", PASSING: "green", BROKEN: "red"}
STATUS_MARK = {Status.PASS: ("PASS", "green"), Status.FAIL: ("FAIL", "yellow"), Status.ERROR: ("ERROR", "red")}


def console(stderr: bool = False) -> Console:
    # Off a terminal, lines are never hard-wrapped (logs and pipes get each message whole) and
    # tables get room (COLUMNS, else 140) rather than rich's 80 columns.
    tty = sys.stdout.isatty()
    width = None if tty else int(os.environ.get("COLUMNS") or 140)
    return Console(stderr=stderr, highlight=False, soft_wrap=not tty, width=width, markup=False)


def warning(out: Console, message: str) -> None:
    out.print(Text(message, style="yellow"))


def fancy(out: Console) -> bool:
    return out.is_terminal and not os.environ.get("NO_COLOR")


def _box(out: Console):
    return box.ROUNDED if fancy(out) else box.ASCII2


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}:{secs:02d}" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}"


def points(score: float | None, max_score: float | None) -> str:
    return "-" if score is None else f"{score:g}/{max_score:g}"


def board(out: Console, standings: list[Standing]) -> None:
    table = Table(box=_box(out), title="Your katas", title_justify="left", expand=False)
    for column in ("kata", "status", "score", "time to pass", "hints", "next"):
        table.add_column(column, overflow="fold", max_width=70 if column == "next" else None)
    for s in standings:
        table.add_row(
            s.kata.id,
            Text(s.state, style=STATE_STYLE[s.state]),
            points(s.score, s.max_score),
            duration(s.best_time_s),
            str(s.hints_used),
            Text(s.next_step),  # often the first line of a learner's failure
        )
    out.print(table)
    passed = sum(s.state == PASSING for s in standings)
    out.print(f"{passed} of {len(standings)} katas pass. `kata grade ID` for details, `kata hint ID` for a hint.")
    out.print("time to pass: your best, from making the kata's file (or a reset) to its first pass.", style="dim")


EXAMPLE = "Smallest failing example:"


def _parts(message: str) -> tuple[str, str | None]:
    """A failure's message as (what failed and by how much, the smallest failing example or None)."""
    blocks = message.split("\n\n")
    example = next((b for b in blocks if b.startswith(EXAMPLE)), None)
    return "\n\n".join(b for b in blocks if b is not example), example


def verdict(out: Console, result: KataResult, *, details: bool = True, why: bool = False, rows: int | None = None) -> None:
    """One kata's grade: a headline; one line per failing check; the details of the first failure
    (of every different one when rows is None); a failing example shared by several checks once;
    the summary last. rows: fit in that many lines (watch), cutting the details, never the summary.
    why: a likely mistake's explanation too, which messages leave out."""
    mark, style = STATUS_MARK[result.status]
    out.print(
        Text.assemble((f"{mark:<5} ", f"bold {style}"), (result.kata_id, "bold"),
                      f"  {points(result.score, result.max_score)}  {visible(result.file)}  ({result.duration:.2f} s)")
    )  # fmt: skip
    if not details:
        return
    fitted = {} if rows is None else {"rows": rows - 1, "width": out.width}
    for line in report(result, why=why, cross="✘" if fancy(out) else "x", **fitted):
        out.print(Text(line, style=style if line.startswith(("  ✘", "  x ")) else ""))


def report(result: KataResult, *, why: bool = False, cross: str = "x", rows: int | None = None, width: int = 0) -> list[str]:
    """The lines under a verdict's headline (see verdict); with rows, fitted to rows of `width` columns."""
    failing = [t for t in result.tests if t.status is not Status.PASS]
    if not failing:
        return [_indent(result.error)] if result.error else []
    messages = {t.name: (explained(t) if why else t.message) or result.error or "failed" for t in failing}
    # One line per failing check; checks failing with the very same message (a stub, a file that
    # does not parse) share theirs.
    groups: dict[str, list[str]] = {}
    for t in failing:
        groups.setdefault(messages[t.name], []).append(t.name)
    checks = [f"  {cross} {', '.join(names[:3])}{f' and {len(names) - 3} more' if len(names) > 3 else ''}: {message.splitlines()[0]}"
              for message, names in groups.items()]  # fmt: skip
    # The details of each different failure (the first only when rows are counted), each example once.
    blocks, examples, first = [], {}, True
    for t in failing:
        body, example = _parts(messages[t.name])
        if example is not None:
            examples.setdefault(example, []).append(t.name)
        rest = body.split("\n", 1)[1] if "\n" in body else ""
        if (first or rows is None) and (rest or example) and all(rest != b[1] for b in blocks):
            blocks.append((t.name, rest))
            first = False
    detail_lines = []
    for name, rest in blocks:
        first_of_many = rows is not None and name == failing[0].name and len(failing) > 1
        detail_lines.append(f"First failure, {name}:" if first_of_many else f"{name}:")
        detail_lines += [_indent(line) for line in rest.splitlines() if line.strip()]
    example_lines = []
    for example, names in examples.items():
        shared = f" (the same for {len(names)} failing checks)" if len(names) > 1 else ""
        head, _, body = example.partition("\n")
        example_lines += [f"{head[:-1]}{shared}:"] + [_indent(line) for line in body.splitlines()]
        if rows is not None:
            break  # the first failure's
    passed = len(result.tests) - len(failing)
    tail = []
    if not why and any(t.diagnosis for t in failing):
        tail.append(f"`--explain` says why a likely mistake is wrong; `kata hint {result.kata_id}` gives a hint.")
    tail.append(f"{passed} of {len(result.tests)} checks pass, score {points(result.score, result.max_score)}."
                f" First to fix: {failing[0].name}.")  # fmt: skip
    if rows is not None:

        def height(line: str) -> int:  # the rows a line takes once the terminal wraps it
            return max(1, -(-len(line) // width)) if width else 1

        room = rows - sum(map(height, tail))
        checks = _cut(checks, max(3, room // 3), height, "failing checks", result.kata_id)
        room -= sum(map(height, checks))
        example_lines = _cut(example_lines, max(3, room // 3), height, "lines of the example", result.kata_id)
        detail_lines = _cut(detail_lines, room - sum(map(height, example_lines)), height, "lines", result.kata_id)
    return checks + detail_lines + example_lines + tail


def _cut(lines: list[str], room: int, height, what: str, kata_id: str) -> list[str]:
    """The first lines that fit in `room` rows, and a last one that says how many more there are."""
    if sum(map(height, lines)) <= room:
        return lines
    kept, used = [], 1  # a row for the "more" line
    for line in lines:
        if used + height(line) > room:
            break
        kept.append(line)
        used += height(line)
    return kept + [f"  ... {len(lines) - len(kept)} more {what} (`kata grade {kata_id}` shows them all)"]


def explained(test: TestResult) -> str | None:
    """A failure's message with its likely mistake told in full: why it is wrong and the way out."""
    if not (test.message and test.diagnosis):
        return test.message
    symptom = split_diagnosis(test.diagnosis)[0]
    return test.message.replace(f"Likely mistake: {symptom}", f"Likely mistake: {test.diagnosis}", 1)


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def history_table(out: Console, rows: list[tuple[float, str, str, str, str]], title: str) -> None:
    table = Table(box=_box(out), title=title, title_justify="left")
    for column in ("when", "kata", "source", "status", "score"):
        table.add_column(column)
    for at, kata_id, source, status, score in rows:
        table.add_row(dt.datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M"), *map(Text, (kata_id, source, status, score)))
    out.print(table)


def batch_table(out: Console, graded, katas) -> None:
    """One row per learner: each kata's score, the total, and the first error if any."""
    table = Table(box=_box(out), title="Batch results", title_justify="left")
    table.add_column("learner")
    for kata in katas:
        table.add_column(kata.id)
    table.add_column("total")
    table.add_column("errors", overflow="fold", max_width=60)
    for g in graded:
        by_id = {r.kata_id: r for r in g.results}
        cells = []
        for kata in katas:
            r = by_id[kata.id]
            _, style = STATUS_MARK[r.status]
            cells.append(Text(points(r.score, r.max_score), style=style))
        errors = [f"{r.kata_id}: {(r.error or '').splitlines()[0]}" for r in g.results if r.status is Status.ERROR and r.error]
        table.add_row(Text(visible(g.learner)), *cells, points(g.score, g.max_score), Text(visible(errors[0]) if errors else ""))
    out.print(table)
