"""The `kata` command: the board, grading, watch mode, hints, reset, solutions and history.

    kata                      the board: every kata graded now, and what to do next
    kata grade [ID ...]       grade with partial credit (--format text|json|gradescope|junit)
    kata watch [ID]           re-grade on every save
    kata hint ID              the next hint
    kata reset ID | --all     restore the pristine stub (the learner's file is backed up first)
    kata solution ID          the reference beside the learner's file, as a diff
    kata history              past grades and sessions (--plot FILE.png for a chart)
    kata draw                 kata 03: your computational graph beside torch's, as PNG and SVG
    kata mock                 a timed mock interview (--minutes, --katas, --questions, --resume)
    kata batch DIR            grade a class's submissions (CSV, Gradescope JSON, JUnit XML, our JSON)
    kata gradescope-package   the autograder zip for Gradescope
    kata verify               for maintainers: every stub fails, every reference passes, every catalogued mistake is named
"""

from __future__ import annotations

import argparse
import difflib
import io
import os
import sys
import time
from pathlib import Path

from harness.instructor import formats
from harness.practice import progress, ui, workspace
from harness.grading import registry
from harness.grading.registry import shown_path
from harness.grading.results import KataResult, Status
from harness.jail import spawn
from harness.grading.sandbox import Limits, Sandbox
from harness.practice.store import Store, StoreError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input from the user; the message names the problem."""


def _kata(kata_id: str) -> registry.Kata:
    try:
        return registry.get(kata_id)
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None


def _ensure(katas: list[registry.Kata], store: Store) -> None:
    """The learner's files, made from the stubs the first time; a file deleted since is said, not remade."""
    for kata in katas:
        try:
            workspace.ensure(kata, store)
        except workspace.MissingFile as exc:
            ui.warning(ui.console(stderr=True), f"kata: {exc}")


def _impl(value: str | None) -> Path | None:
    if value is None:
        return None
    root = Path(value).resolve()
    if not root.is_dir():
        raise UsageError(f"--impl {value}: no such folder (it should be laid out like katas/: <kata id>/<module>.py, or be a .ipynb notebook)")
    return root


def _notebook_impl(args, out) -> tuple[list[registry.Kata], Path] | None:
    """`--impl NOTEBOOK.ipynb`: its code cells exported as the kata's file in a temporary folder."""
    import tempfile

    from harness.notebooks import cells

    path = Path(args.impl)
    try:
        _, metadata = cells.read(path)
    except cells.NotebookError as exc:
        raise UsageError(str(exc)) from None
    katas = [_kata(i) for i in args.ids] if args.ids else [k for k in [cells.kata_of(path, metadata)] if k]
    if len(katas) != 1:
        raise UsageError(f"--impl {args.impl}: name the kata it answers (`kata grade 02_backprop --impl {args.impl}`)")
    root = Path(tempfile.mkdtemp(prefix="kata-notebook-"))
    for note in cells.export(path, katas[0], root).notes:
        ui.warning(out, f"{path.name}: {note}")
    return katas, root


def _limits(args) -> Limits:
    return Limits(test_s=args.test_timeout, kata_s=args.kata_timeout)


def _grade_all(katas: list[registry.Kata], root: Path | None, limits: Limits, out) -> list[KataResult]:
    """Grade each kata in its own forked child, with a progress bar on a terminal."""
    sandbox = Sandbox(limits)
    if not ui.fancy(out):
        return [sandbox.grade(k.id, root) for k in katas]
    from rich.progress import Progress

    results = []
    with Progress(console=out, transient=True) as bar:
        task = bar.add_task("grading", total=len(katas))
        for kata in katas:
            bar.update(task, description=f"grading {kata.id}")
            results.append(sandbox.grade(kata.id, root))
            bar.advance(task)
    return results


# --- commands ------------------------------------------------------------------------------------
def cmd_list(args, store: Store, out) -> int:
    katas = list(registry.katas())
    _ensure(katas, store)
    started = [k for k in katas if not workspace.is_pristine(k)]
    results = {r.kata_id: r for r in _grade_all(started, None, _limits(args), out)}
    store.record_grades(list(results.values()), "grade")
    ui.board(out, progress.onward([progress.standing(store, k, results.get(k.id)) for k in katas]))
    return EXIT_OK


def cmd_grade(args, store: Store, out) -> int:
    if args.impl and args.impl.endswith(".ipynb"):
        katas, root = _notebook_impl(args, ui.console(stderr=True))
    else:
        katas = [_kata(i) for i in args.ids] if args.ids else list(registry.katas())
        root = _impl(args.impl)
    if root is None:
        _ensure(katas, store)
    # A document on stdout (json, gradescope, junit) keeps stdout to itself: progress goes to stderr.
    on_screen = args.format == "text" and args.out is None
    results = _grade_all(katas, root, _limits(args), out if on_screen else ui.console(stderr=True))
    if root is None:
        store.record_grades(results, "grade")
    if args.format == "text":
        text = io.StringIO()
        text_out = out if on_screen else ui.Console(file=text, width=120, soft_wrap=True, markup=False)
        text_out.print(f"Learner code ran in: {spawn.isolation().describe()} (see `kata doctor`).", markup=False, style="dim")
        for result in results:
            ui.verdict(text_out, result, why=args.explain)
        passed = sum(r.status is Status.PASS for r in results)
        total = ui.points(sum(r.score for r in results), sum(r.max_score for r in results))
        text_out.print(f"Total {total}: {passed} of {len(results)} katas pass.")
        document = text.getvalue()
    else:
        document = formats.WRITERS[args.format](results) + "\n"
    if args.out is not None:
        Path(args.out).write_text(document)
        ui.console(stderr=True).print(f"wrote {args.out}")
    elif not on_screen:
        sys.stdout.write(document)
    return EXIT_OK if all(r.status is Status.PASS for r in results) else EXIT_FAILED


def _default_watch_target(store: Store) -> registry.Kata:
    """The first kata that is started but not passing, else the first not started, else the first."""
    katas = list(registry.katas())
    last = {g.kata_id: g.status for g in store.grades()}
    for kata in katas:
        if not workspace.is_pristine(kata) and last.get(kata.id) != Status.PASS.value:
            return kata
    return next((k for k in katas if workspace.is_pristine(k)), katas[0])


def cmd_watch(args, store: Store, out) -> int:
    kata = _kata(args.id) if args.id else _default_watch_target(store)
    root = _impl(args.impl)
    if root is None:
        _ensure([kata], store)
    sandbox = Sandbox(_limits(args), warm_run=[kata.id])  # slower to start, then every save is graded warm
    sandbox.warm_up(kata.id)
    banner = f"Watching {shown_path(kata.learner_file(root))}: save it to re-grade. Ctrl-C to stop."
    out.print(banner)
    shown: list[KataResult] = []  # the verdict on screen, stale once a save lands

    def grading() -> None:
        stamp = time.strftime("%H:%M:%S")
        if not ui.fancy(out):
            out.print(f"[{stamp}] saved: grading...")
            out.file.flush()
            return
        out.clear()
        out.print(banner)
        out.print(ui.Text(f"[{stamp}] grading...", style="bold cyan"))
        if shown:
            out.print(ui.Text("Stale, from before your last save:", style="dim"))
            ui.verdict(out, shown[-1], details=False)

    def show(result: KataResult) -> None:
        shown[:] = [result]
        if ui.fancy(out):
            out.clear()
            out.print(banner)
        out.print(f"[{time.strftime('%H:%M:%S')}] ", end="")
        # On a terminal the report fits the window (header, checks, first failure, summary last).
        ui.verdict(out, result, why=args.explain, rows=max(out.height - 1, 12) if ui.fancy(out) else None)
        out.file.flush()
        if root is None:
            store.record_grade(result, "watch")

    from harness.practice.watch import watch

    try:
        watch(kata, sandbox, show, root, on_grading=grading)
    except KeyboardInterrupt:
        out.print("\nStopped watching.")
    finally:
        sandbox.close()
    return EXIT_OK


PRACTICE_SOURCES = ("grade", "watch", "pytest")  # the grades of the learner's own files in katas/


def _current_result(kata: registry.Kata, store: Store, out) -> KataResult | None:
    """The grade of the learner's file as it is now: the last one recorded if the file has not
    changed since, else a new one (recorded). None while there is no file or only the pristine stub."""
    path = kata.learner_file()
    if not path.exists() or workspace.is_pristine(kata):
        return None
    last = store.last_result(kata.id, PRACTICE_SOURCES)
    if last is not None and last[0] >= path.stat().st_mtime:
        return last[1]
    result = _grade_all([kata], None, Limits(), out)[0]
    store.record_grade(result, "grade")
    return result


def cmd_hint(args, store: Store, out) -> int:
    from harness.practice import hints

    kata = _kata(args.id)
    result = _current_result(kata, store, out)
    if result is not None and result.status is Status.PASS:
        out.print(f"Every check of {kata.id} passes: no hint needed. `kata solution {kata.id}` shows the reference.")
        return EXIT_OK
    task = hints.failing_task(kata, result) if result is not None else next(iter(kata.task_hints), None)
    used = hints.counts([detail for _, detail in store.events(kata.id, "hint", practice=True)])
    hint = hints.next_hint(kata, task, used)
    if hint.text is None:
        given = hints.hints_for(kata, hint.task)
        out.print(f"All {len(given)} hints {hint.about(kata)} are already shown:")
        for number, text in enumerate(given, 1):
            out.print(f"  {number}. {text}")
        return EXIT_OK
    store.record_event(kata.id, "hint", hint.task)
    out.print(f"{hint.heading(kata)}:\n  {hint.text}")
    return EXIT_OK


def cmd_reset(args, store: Store, out) -> int:
    if args.all and args.ids:
        raise UsageError("name the katas to reset or use --all, not both")
    if not (args.all or args.ids):
        raise UsageError("which kata? `kata reset 02_backprop` resets one (your file is backed up first), `kata reset --all` every one")
    katas = list(registry.katas()) if args.all else [_kata(i) for i in args.ids]
    for kata in katas:
        try:
            saved = workspace.reset(kata, workspace.BACKUPS_DIR)
        except OSError as exc:  # e.g. no backups folder can be made in a read-only checkout
            raise UsageError(f"{kata.id} was not reset, your file is untouched: {exc}") from None
        store.record_event(kata.id, "reset", str(saved or ""))
        kept = f"; your previous file is kept at {saved}" if saved else " (it was still the pristine stub)"
        out.print(f"reset {shown_path(kata.learner_file())}{kept}")
    return EXIT_OK


def _without_docstrings(source: str) -> str:
    """`source` without its docstrings (module, classes, functions); as it is when it does not parse."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    drop = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                drop.update(range(first.lineno, first.end_lineno + 1))
    return "".join(line for n, line in enumerate(source.splitlines(keepends=True), 1) if n not in drop)


def cmd_solution(args, store: Store, out) -> int:
    kata = _kata(args.id)
    passed = any(g.status == Status.PASS.value for g in store.grades(kata.id))
    if not passed and not args.yes:
        if not sys.stdin.isatty():
            raise UsageError(f"you have not passed {kata.id} yet; add --yes to see the reference anyway")
        answer = input(f"You have not passed {kata.id} yet. Show the reference anyway? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            out.print("Not shown. `kata hint` gives a nudge without the whole answer.")
            return EXIT_OK
    store.record_event(kata.id, "solution", "passed" if passed else "not passed")
    mine = kata.learner_file()
    ours = kata.solution_path
    mine_text = mine.read_text() if mine.exists() else ""
    if not args.full:  # docstrings differ between stub and reference everywhere: the code is what to compare
        mine_text, ours_text = _without_docstrings(mine_text), _without_docstrings(ours.read_text())
    else:
        ours_text = ours.read_text()
    diff = difflib.unified_diff(mine_text.splitlines(keepends=True), ours_text.splitlines(keepends=True), shown_path(mine), shown_path(ours))
    text = "".join(diff)
    if ui.fancy(out):
        from rich.syntax import Syntax

        out.print(Syntax(text, "diff", theme="ansi_dark"))
    else:
        out.print(text, markup=False)
    return EXIT_OK


def cmd_history(args, store: Store, out) -> int:
    kata_id = _kata(args.id).id if args.id else None
    grades = store.grades(kata_id)
    rows = [(g.at, g.kata_id, g.source, g.status, ui.points(g.score, g.max_score)) for g in grades[-args.limit :]]
    if not rows:
        out.print("No grades yet: `kata grade` or `kata watch` records them.")
    else:
        ui.history_table(out, rows, f"Last {len(rows)} grades" + (f" of {kata_id}" if kata_id else ""))
    sessions = store.sessions("mock")
    if sessions:
        ui.history_table(
            out,
            [(s["started"], ",".join(s["data"].get("katas", {})), "mock", "done" if s["ended"] else "open",
              ui.points(s["data"].get("score"), s["data"].get("max_score"))) for s in sessions],  # fmt: skip
            "Mock interviews",
        )
    if args.plot:
        from harness.pictures.plots import plot_history

        plot_history(store, Path(args.plot), args.id)
        out.print(f"wrote {args.plot}")
    return EXIT_OK


def cmd_mock(args, store: Store, out) -> int:
    from harness.practice import mock

    if args.minutes <= 0:
        raise UsageError(f"--minutes {args.minutes:g}: the interview needs some time (e.g. --minutes 45)")
    if args.questions < 0:
        raise UsageError("--questions must be 0 or more")
    if args.katas:
        args.katas = ",".join(_kata(i).id for i in args.katas.split(","))
    return mock.run(args, store, out)


def cmd_batch(args, store: Store, out) -> int:
    from harness.instructor import batch

    katas = [_kata(i) for i in args.katas.split(",")] if args.katas else list(registry.katas())
    kinds = args.format.split(",")
    unknown = set(kinds) - set(batch.BATCH_FORMATS)
    if unknown:
        raise UsageError(f"--format {args.format}: unknown {', '.join(sorted(unknown))}; choose from {', '.join(batch.BATCH_FORMATS)}")
    if args.workers < 1:
        raise UsageError("--workers must be 1 or more")
    try:
        found = batch.submissions(Path(args.folder))
    except batch.SubmissionError as exc:
        raise UsageError(str(exc)) from None
    if not found:
        raise UsageError(f"{args.folder} holds no submissions (one subfolder or .zip per learner)")
    out_dir = Path(args.out)
    out.print(f"Grading {len(found)} submissions x {len(katas)} katas with {args.workers} workers...")
    graded = []
    if ui.fancy(out):
        from rich.progress import Progress

        with Progress(console=out, transient=True) as bar:
            task = bar.add_task("grading", total=len(found))
            graded = batch.grade_all(Path(args.folder), katas, args.workers, _limits(args),
                                     on_done=lambda g: bar.advance(task))  # fmt: skip
    else:
        graded = batch.grade_all(Path(args.folder), katas, args.workers, _limits(args))
    written = batch.write(graded, katas, out_dir, kinds)
    ui.batch_table(out, graded, katas)
    out.print(f"wrote {len(written)} files under {shown_path(out_dir)}" + (f", the class CSV {shown_path(out_dir / 'grades.csv')}" if "csv" in kinds else ""))
    return EXIT_OK


def cmd_gradescope_package(args, store: Store, out) -> int:
    from harness.instructor import gradescope

    ids = [_kata(i).id for i in args.katas.split(",")] if args.katas else []
    path = gradescope.build(ids, Path(args.out))
    out.print(f"wrote {shown_path(path)}: upload it as the autograder of a Gradescope programming assignment")
    return EXIT_OK


def cmd_doctor(args, store: Store, out) -> int:
    from harness.practice import doctor

    for line in doctor.lines():
        out.print(line, markup=False, highlight=False)
    return EXIT_OK


def cmd_draw(args, store: Store, out) -> int:
    import importlib
    import inspect

    from harness.pictures import DrawError

    kata = _kata(args.id)
    if kata.picture is None:
        drawn = ", ".join(k.id for k in registry.katas() if k.picture)
        raise UsageError(f"kata {kata.id} has no picture; `kata draw` draws {drawn}")
    root = _impl(args.impl)
    if root is None:
        _ensure([kata], store)
    try:
        picture = importlib.import_module(kata.picture)
        # Options only some pictures take, passed only when given (a picture without it says so).
        given = {"expr": args.expr, "tensorboard": Path(args.tensorboard) if args.tensorboard else None}
        extra = {name: value for name, value in given.items() if value is not None}
        for name in extra:
            if name not in inspect.signature(picture.draw).parameters:
                raise UsageError(f"kata {kata.id}'s picture has no --{name}")
        written = picture.draw(root, Path(args.out) if args.out else None, renderer=args.renderer, seconds=args.test_timeout or 1e9, **extra)
    except DrawError as exc:
        ui.console(stderr=True).print(f"kata draw: {exc}", markup=False)
        return EXIT_FAILED
    for path in written:
        out.print(f"wrote {shown_path(path)}")
    return EXIT_OK


def cmd_notebook(args, store: Store, out) -> int:
    from harness.notebooks import build

    katas = [_kata(i) for i in args.ids] if args.ids else list(registry.katas())
    for path, backup in build.write(katas, Path(args.out) if args.out else None):
        out.print(f"wrote {shown_path(path)}" + (f" (the one there before is kept as {shown_path(backup)})" if backup else ""), markup=False)
    out.print("Open it with `jupyter lab` or `jupyter notebook` (or VS Code); run its check cells to be graded.", markup=False)
    return EXIT_OK


def cmd_new(args, store: Store, out) -> int:
    from harness.instructor import new

    try:
        written = new.scaffold(args.id, args.module)
    except new.NewKataError as exc:
        raise UsageError(str(exc)) from None
    for path in written:
        out.print(f"created {shown_path(path)}", markup=False)
    out.print(f"`kata verify {args.id}` passes now; make each file the kata's own, then add mistakes to the catalog.", markup=False)
    return EXIT_OK


def cmd_verify(args, store: Store, out) -> int:
    from harness.instructor import verify

    ids = [_kata(i).id for i in args.ids]
    ok = verify.run(ids, verbose=args.verbose, out=lambda line: out.print(line, markup=False))
    return EXIT_OK if ok else EXIT_FAILED


# --- parser --------------------------------------------------------------------------------------
def parser() -> argparse.ArgumentParser:
    ids = ", ".join(k.id for k in registry.katas())
    p = argparse.ArgumentParser(
        prog="kata",
        description=f"Practise the chain rule and backprop, graded against PyTorch autograd. Katas: {ids}.",
        epilog="Without a command: the board of every kata, graded now.",
    )
    p.add_argument("--db", metavar="FILE", help="the progress database (default: your user data folder; env KATA_DB)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def limits(cmd):
        cmd.add_argument("--test-timeout", type=float, default=Limits.test_s, metavar="S", help="limit per spec test (default %(default)s s)")
        cmd.add_argument("--kata-timeout", type=float, default=Limits.kata_s, metavar="S", help="limit per kata (default %(default)s s)")

    c = sub.add_parser("list", help="the board (the default command)")
    limits(c)
    c = sub.add_parser("grade", help="grade katas with partial credit; exit 0 only when all pass")
    c.add_argument("ids", nargs="*", metavar="ID", help="katas to grade (default: all)")
    c.add_argument("--impl", metavar="DIR", help="grade DIR/<id>/<module>.py, or a notebook NB.ipynb, instead of katas/ (not recorded)")
    c.add_argument("--format", choices=formats.FORMATS, default="text")
    c.add_argument("--explain", action="store_true", help="with a likely mistake, also say why it is wrong and how to fix it")
    c.add_argument("--out", metavar="FILE", help="write the result here instead of the terminal")
    limits(c)
    c = sub.add_parser("watch", help="re-grade a kata on every save")
    c.add_argument("id", nargs="?", metavar="ID", help="default: the first kata in progress")
    c.add_argument("--impl", metavar="DIR", help="watch DIR/<id>/<module>.py instead of katas/ (not recorded)")
    c.add_argument("--explain", action="store_true", help="with a likely mistake, also say why it is wrong and how to fix it")
    limits(c)
    c = sub.add_parser("hint", help="the next hint for the first function of a kata that fails (recorded)")
    c.add_argument("id", metavar="ID")
    c = sub.add_parser("reset", help="restore pristine stubs; your file is backed up first")
    c.add_argument("ids", nargs="*", metavar="ID")
    c.add_argument("--all", action="store_true", help="reset every kata")
    c = sub.add_parser("solution", help="diff your file against the reference (recorded)")
    c.add_argument("id", metavar="ID")
    c.add_argument("--yes", action="store_true", help="show it even if you have not passed yet")
    c.add_argument("--full", action="store_true", help="docstrings too (by default the diff compares the code)")
    c = sub.add_parser("history", help="past grades and mock interviews")
    c.add_argument("id", nargs="?", metavar="ID")
    c.add_argument("--limit", type=int, default=30, help="rows to show (default %(default)s)")
    c.add_argument("--plot", metavar="FILE.png", help="also draw scores over time into a PNG")
    c = sub.add_parser("mock", help="a timed mock interview: countdown, live grading, questions, report")
    c.add_argument("--minutes", type=float, default=45, help="length of the coding part (default %(default)s)")
    c.add_argument("--katas", metavar="ID,...", help="which katas (default: a random pick that fits the time)")
    c.add_argument("--seed", type=int, help="seed for the random pick")
    c.add_argument("--questions", type=int, default=3, metavar="K", help="conceptual questions after the code (default %(default)s, 0 skips)")
    c.add_argument("--dir", metavar="DIR", help="where session folders go (default: mock-sessions/)")
    c.add_argument("--resume", nargs="?", const=True, metavar="FOLDER", help="continue the last unfinished session (or FOLDER)")
    c = sub.add_parser("draw", help="draw a kata's picture, PNG and SVG (03: your graph beside torch's; 04: decision regions; 05: error by step; 06: gradient flow)")
    c.add_argument("id", nargs="?", default="03_graph", metavar="ID", help="the kata to draw (default %(default)s)")
    c.add_argument("--impl", metavar="DIR", help="draw DIR/<id>/<module>.py instead of katas/")
    c.add_argument("--out", metavar="DIR", help="where to write the pictures (default: the kata's own folder, e.g. graph-drawings/)")
    c.add_argument("--renderer", choices=("auto", "graphviz", "matplotlib"), default="auto",
                   help="auto: Graphviz's dot when installed, else networkx + matplotlib")  # fmt: skip
    c.add_argument("--expr", metavar="TEXT", help='kata 03: draw this expression of the kata\'s ops instead, e.g. "x*x + sin(x)" or "a = 1.5; b = 0.5; (a + b) * (a - b)"')
    c.add_argument("--tensorboard", metavar="DIR", help="kata 06: also write the numbers as TensorBoard scalars into DIR (the tensorboard extra)")
    c.add_argument("--test-timeout", type=float, default=Limits.test_s, metavar="S", help="time limit for your code (default %(default)s s)")
    c = sub.add_parser("notebook", help="a practice notebook per kata: the prompt, the stub's tasks as cells, a check cell after each")
    c.add_argument("ids", nargs="*", metavar="ID", help="katas (default: all)")
    c.add_argument("--out", metavar="DIR", help="where the notebooks go (default: notebooks/)")
    c = sub.add_parser("verify", help="for maintainers: lint the registry and prove every mistake catalog")
    c.add_argument("ids", nargs="*", metavar="ID", help="katas to verify (default: all)")
    c.add_argument("-v", "--verbose", action="store_true", help="list each mistake's failing tests")
    c = sub.add_parser("batch", help="grade a folder of submissions (one subfolder or .zip per learner)")
    c.add_argument("folder", metavar="SUBMISSIONS_DIR")
    c.add_argument("--katas", metavar="ID,...", help="which katas (default: all)")
    c.add_argument("--workers", type=int, default=max(1, min(2, os.cpu_count() or 1)), help="grades at once (default: one per core)")
    c.add_argument("--format", default="csv,json,gradescope,junit", metavar="F,...",
                   help="what to write: csv (the class), json, gradescope, junit (per learner); default all")  # fmt: skip
    c.add_argument("--out", default="batch-results", metavar="DIR", help="where to write (default %(default)s)")
    limits(c)
    sub.add_parser("doctor", help="which isolation learner code runs in here, shown by trying it")
    c = sub.add_parser("new", help="for authors: scaffold a kata pack, its prompt and reference (green under verify)")
    c.add_argument("id", metavar="ID", help="e.g. 04_softmax_ce: the folder name under katas/ and solutions/")
    c.add_argument("module", metavar="MODULE", help="e.g. softmax_ce: the learner's file (MODULE.py) and the pack's folder")
    c = sub.add_parser("gradescope-package", help="write the autograder zip Gradescope runs")
    c.add_argument("--katas", metavar="ID,...", help="which katas (default: all)")
    c.add_argument("--out", default="autograder.zip", metavar="FILE.zip")
    return p


COMMANDS = {
    None: cmd_list, "list": cmd_list, "grade": cmd_grade, "watch": cmd_watch, "hint": cmd_hint,
    "reset": cmd_reset, "solution": cmd_solution, "history": cmd_history, "mock": cmd_mock, "draw": cmd_draw, "notebook": cmd_notebook, "verify": cmd_verify,
    "batch": cmd_batch, "gradescope-package": cmd_gradescope_package, "doctor": cmd_doctor, "new": cmd_new,
}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command is None:
        args.test_timeout, args.kata_timeout = Limits.test_s, Limits.kata_s
    if args.db:
        os.environ["KATA_DB"] = args.db
    out, err = ui.console(), ui.console(stderr=True)
    try:
        store = Store(warn=lambda message: ui.warning(err, f"kata: {message}"))
    except StoreError as exc:
        err.print(f"kata: {exc}")
        return EXIT_FAILED
    if store.notice:
        ui.warning(err, store.notice)
    try:
        return COMMANDS[args.command](args, store, out)
    except UsageError as exc:
        ui.console(stderr=True).print(f"kata: {exc}", markup=False)
        return EXIT_USAGE
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
