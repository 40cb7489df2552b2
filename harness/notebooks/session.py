"""Grading what a Jupyter or IPython session defined: `%load_ext harness`, `%kata ...`, `harness.check(...)`.

    %kata check 02_backprop [forward ...]   grade the session's definitions; the named functions' checks first
    %kata draw 03_graph                     the kata's picture of the session's code, shown inline
    %kata history                           past grades, and their chart inline
    %kata hint 02_backprop (any other `kata` command)   as on the command line

The session's source is its executed cells (IPython's `In`), reduced to their definitions
(harness/notebooks/cells.py), written to a private folder laid out like katas/ and graded there
exactly like a file: in the learner's own jailed process, never in this kernel. The grade is recorded
in the progress store. A Grade shows itself as HTML in Jupyter and as text in a terminal.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import html
import io
import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness.grading import registry
from harness.grading.results import KataResult, Status
from harness.notebooks import cells

STATUS_STYLE = {Status.PASS: ("PASS", "#2b8a3e"), Status.FAIL: ("FAIL", "#c92a2a"), Status.ERROR: ("ERROR", "#c92a2a")}


class SessionError(RuntimeError):
    """Not in an IPython session, or nothing to grade; the message says what to do."""


def _shell():
    try:
        from IPython import get_ipython
    except ImportError:
        get_ipython = None
    shell = get_ipython() if get_ipython else None
    if shell is None:
        raise SessionError("harness.check grades what a Jupyter or IPython session defined; for a file, run `kata grade --impl DIR`.")
    return shell


def session_source(shell) -> cells.Module:
    return cells.from_cells([str(c) for c in shell.user_ns.get("In", [])], definitions_only=True)


@dataclass
class Grade:
    """One grade of the session: shown as HTML in Jupyter, as text in a terminal; .result has it all."""

    result: KataResult
    focus: tuple[str, ...] = ()

    def ordered(self):
        """The checks of the focused functions first (all of them when none matches)."""
        mine = [t for t in self.result.tests if any(name in t.name for name in self.focus)]
        return mine + [t for t in self.result.tests if t not in mine]

    def __repr__(self) -> str:
        from harness.practice import ui

        text = io.StringIO()
        ui.verdict(ui.Console(file=text, width=100, soft_wrap=True, markup=False, color_system=None, force_jupyter=False), self.result)
        return text.getvalue().rstrip()

    def _repr_html_(self) -> str:
        from harness.practice.ui import points

        word, colour = STATUS_STYLE[self.result.status]
        rows = []
        for test in self.ordered():
            mark, style = STATUS_STYLE[test.status]
            lines = (test.message or "").splitlines()
            named = next((line for line in lines if line.startswith("Likely mistake:")), "")
            first = lines[0] if lines else ""
            rest = "\n".join(line for line in lines[1:] if line != named)
            details = f"<details><summary>details</summary><pre>{html.escape(rest)}</pre></details>" if rest else ""
            rows.append(
                f"<tr><td style='color:{style};font-weight:bold'>{mark}</td><td><code>{html.escape(test.name)}</code></td>"
                f"<td>{points(test.score, test.max_score)}</td><td>{html.escape(first)}"
                f"{'<br><b>' + html.escape(named) + '</b>' if named else ''}{details}</td></tr>"
            )
        return (
            f"<div class='kata-grade'><p><b style='color:{colour}'>{word}</b> <b>{html.escape(self.result.kata_id)}</b>"
            f" {points(self.result.score, self.result.max_score)} ({self.result.duration:.2f} s)</p>"
            f"<table><tr><th></th><th>check</th><th>points</th><th>what happened</th></tr>{''.join(rows)}</table></div>"
        )


def check(kata_id: str, *focus: str) -> Grade:
    """Grade the functions and classes this session defined against the kata's spec, and record it."""
    from harness.grading.sandbox import Limits, Sandbox
    from harness.practice.store import Store, StoreError

    kata = _kata(kata_id)
    module = session_source(_shell())
    if not module.source.strip():
        raise SessionError(f"this session has defined nothing yet: run the cells with your {kata.filename} functions first.")
    with tempfile.TemporaryDirectory(prefix="kata-session-") as tmp:
        target = cells.lay_out(module, kata, Path(tmp))
        # The graders work in a folder of their own: hypothesis leaves a .hypothesis/ folder in its
        # working directory, which must not appear beside the learner's notebook.
        with contextlib.chdir(_grading_dir()):
            result = Sandbox(Limits()).grade(kata.id, Path(tmp))
    # The temporary file means nothing to the learner: messages name the session instead.
    shown = lambda text: text.replace(registry.shown_path(target), "your session") if text else text  # noqa: E731
    tests = [dataclasses.replace(t, message=shown(t.message)) for t in result.tests]
    result = KataResult(result.kata_id, f"this session ({kata.filename})", result.status, tests, shown(result.error), result.duration)
    try:
        store = Store()
    except StoreError as exc:  # the grade still shows; only its record is lost, and the learner is told
        print(f"kata: {exc}")
    else:
        try:
            store.record_grade(result, "notebook")
        finally:
            store.close()
    return Grade(result, focus)


def draw(kata_id: str) -> list[Path]:
    """The kata's picture of the session's code (`kata draw`), written to the kata's drawing folder."""
    import importlib

    kata = _kata(kata_id)
    if kata.picture is None:
        raise SessionError(f"kata {kata.id} has no picture")
    module = session_source(_shell())
    with tempfile.TemporaryDirectory(prefix="kata-session-") as tmp:
        cells.lay_out(module, kata, Path(tmp))
        return importlib.import_module(kata.picture).draw(Path(tmp), None, renderer="auto", seconds=10.0)


@functools.cache
def _grading_dir() -> str:
    return tempfile.mkdtemp(prefix="kata-grading-")


def _kata(kata_id: str) -> registry.Kata:
    try:
        return registry.get(kata_id)
    except KeyError as exc:
        raise SessionError(exc.args[0]) from None


def kata_magic(line: str):
    """The `%kata` line magic."""
    from IPython.display import Image, display

    from harness import cli
    from harness.pictures import DrawError

    args = shlex.split(line)
    try:
        if args[:1] == ["check"] and len(args) >= 2:
            return check(args[1], *args[2:])
        if args[:1] == ["draw"]:
            for path in draw(args[1] if len(args) > 1 else "03_graph"):
                if path.suffix == ".png":
                    display(Image(filename=str(path)))
            return None
        if args[:1] == ["history"] and "--plot" not in args:
            with tempfile.TemporaryDirectory(prefix="kata-history-") as tmp:
                chart = Path(tmp) / "history.png"
                cli.main([*args, "--plot", str(chart)])
                if chart.exists():
                    display(Image(filename=str(chart)))
            return None
    except (SessionError, DrawError) as exc:
        print(f"kata: {exc}")
        return None
    cli.main(args)
    return None
