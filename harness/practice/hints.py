"""Hints aimed at what is failing: the first failing task's next hint, gentlest first.

A kata's [task_hints] give each stub function (or class) its own hints: a nudge, the concept, then
the shape of the formula, which says that it reveals the answer. A failing check belongs to the task
its message names first (`backward()['W1'] disagrees...`, `Value.sin() is not implemented yet`),
else to the task its test is named after (test_trace_is_topological); the first failing task is the
earliest in the stub's order. With nothing failing that names a task, the kata's general hints are
given in order.

Counts are kept per task and apart for practice and for each mock interview, so a hint bought in a
mock never uses up a practice one. In a mock (spoilers off) the hint that reveals the answer is not
given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.grading.registry import Kata
from harness.grading.results import KataResult, Status

GENERAL = ""  # the task of the kata's general hints
_IDENTIFIER = re.compile(r"[A-Za-z_][\w.]*")


@dataclass(frozen=True)
class Hint:
    task: str  # GENERAL or a key of the kata's task_hints
    number: int  # 1-based, within the task's hints
    total: int  # hints this task has (in this mode)
    text: str | None  # None when every hint of the task has been given

    def about(self, kata: Kata) -> str:
        return f"for {self.task} in {kata.id}" if self.task else f"for {kata.id}"

    def heading(self, kata: Kata) -> str:
        return f"Hint {self.number} of {self.total} {self.about(kata)}"


def task_of(kata: Kata, name: str, message: str | None) -> str | None:
    """The task a failing check belongs to: the first task its message names, else its test's name."""
    keys = kata.task_hints
    first_line = (message or "").split("\n", 1)[0]
    for token in _IDENTIFIER.findall(first_line):
        # `Value.backward` is backward's, `Value.__pow__` is Value's: the innermost part that is a task.
        found = next((part for part in reversed(token.split(".")) if part in keys), None)
        if found:
            return found
    test = "_" + name.split("[", 1)[0].removeprefix("test_") + "_"
    named = [key for key in keys if f"_{key}_" in test]
    return max(named, key=len) if named else None


def failing_task(kata: Kata, result: KataResult | None) -> str | None:
    """The earliest task (in the stub's order) that a failing check belongs to."""
    if result is None:
        return None
    failing = {task_of(kata, t.name, t.message or result.error) for t in result.tests if t.status is not Status.PASS}
    if not result.tests and result.error:  # the file could not be graded at all (a syntax error, say)
        failing.add(task_of(kata, "", result.error))
    return next((key for key in kata.task_hints if key in failing), None)


def hints_for(kata: Kata, task: str, *, spoilers: bool = True) -> tuple[str, ...]:
    """A task's hints; without spoilers (a mock interview), not the last one, which reveals the answer."""
    if task == GENERAL:
        return kata.hints
    hints = kata.task_hints[task]
    return hints if spoilers or len(hints) < 2 else hints[:-1]


def next_hint(kata: Kata, task: str | None, used: dict[str, int], *, spoilers: bool = True) -> Hint:
    """The next hint for `task` (None: the general ones), given how many of each task's were used."""
    task = task or GENERAL
    hints = hints_for(kata, task, spoilers=spoilers)
    number = used.get(task, 0) + 1
    return Hint(task, number, len(hints), hints[number - 1] if number <= len(hints) else None)


def counts(details: list[str]) -> dict[str, int]:
    """Hints used per task, from the recorded events' details (a task name; a bare number is an old
    record of a general hint)."""
    used: dict[str, int] = {}
    for detail in details:
        task = GENERAL if detail.isdigit() else detail
        used[task] = used.get(task, 0) + 1
    return used
