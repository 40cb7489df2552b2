"""Where a learner stands on each kata: the board's rows, computed from files and the store."""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace

from harness.practice import workspace
from harness.grading.registry import shown_path
from harness.grading.registry import Kata
from harness.grading.results import KataResult, Status
from harness.practice.store import Store

NOT_STARTED, FAILING, PASSING, BROKEN = "not started", "failing", "passing", "error"


@dataclass(frozen=True)
class Standing:
    kata: Kata
    state: str
    score: float | None
    max_score: float | None
    best_time_s: float | None
    hints_used: int
    next_step: str


def first_task(kata: Kata) -> str:
    """The first function (or class) the stub asks for, from its source."""
    tree = ast.parse(kata.pristine_path.read_text())
    tasks = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    if not tasks:
        return kata.filename
    return f"class {tasks[0].name}" if isinstance(tasks[0], ast.ClassDef) else f"{tasks[0].name}()"


def best_time(store: Store, kata: Kata) -> float | None:
    """The best time to pass: from the start of an attempt (the learner's file made from the stub,
    or a reset) to the first passing grade after it; a mock's time to its first green counts too.
    None when no attempt has both a known start and a pass."""
    starts = sorted(at for kind in ("start", "reset") for at, _ in store.events(kata.id, kind, practice=True))
    passes = [g.at for g in store.grades(kata.id) if g.status == Status.PASS.value and g.session_id is None]
    times = []
    for start, following in zip(starts, [*starts[1:], float("inf")]):
        first_pass = next((at for at in passes if start <= at < following), None)
        if first_pass is not None:
            times.append(first_pass - start)
    for session in store.sessions("mock"):
        green = session["data"].get("katas", {}).get(kata.id, {}).get("time_to_green_s")
        if green is not None:
            times.append(green)
    return min(times) if times else None


def standing(store: Store, kata: Kata, result: KataResult | None) -> Standing:
    """Standing from a fresh grade (None when the file is still the pristine stub)."""
    hints = len(store.events(kata.id, "hint", practice=True))  # a mock's hints are the mock's
    if result is None or workspace.is_pristine(kata):
        step = f"open {shown_path(kata.learner_file())} and start with {first_task(kata)}; `kata watch {kata.id}` re-grades on save"
        return Standing(kata, NOT_STARTED, None, None, best_time(store, kata), hints, step)
    if result.status is Status.PASS:
        state, step = PASSING, f"done: compare with the reference, `kata solution {kata.id}`"
    else:
        state = BROKEN if result.status is Status.ERROR else FAILING
        failing = next((t for t in result.tests if t.status is not Status.PASS and t.message), None)
        message = failing.message if failing else (result.error or "see `kata grade`")
        step = message.splitlines()[0]
    return Standing(kata, state, result.score, result.max_score, best_time(store, kata), hints, step)


def onward(standings: list[Standing]) -> list[Standing]:
    """The board's rows, each passing kata pointing on to the next kata that does not pass yet."""
    rows = []
    for n, s in enumerate(standings):
        if s.state == PASSING:
            later = [t for t in standings[n + 1 :] + standings[:n] if t.state != PASSING]
            step = (f"passed; next: {later[0].kata.id} (`kata watch {later[0].kata.id}`)" if later
                    else "every kata passes: try a timed interview, `kata mock`")  # fmt: skip
            s = replace(s, next_step=f"{step}; `kata solution {s.kata.id}` shows the reference")
        rows.append(s)
    return rows
