"""`kata mock`: a timed mock interview, lived in the terminal.

Prompts first, then a live countdown with each kata re-graded on every save (warm forked grader,
deterministic profile); `h` shows a hint (it costs a point), `e` ends early. At time-up the files
are frozen and that snapshot is graded; then the conceptual questions, each answered, compared with
the model answer and self-rated; then a Markdown and HTML report in the session folder and an entry
in the history. Every step is saved as it happens (harness/practice/mock_session.py), so `--resume` picks
up after Ctrl-C, a closed terminal or a crash.
"""

from __future__ import annotations

import contextlib
import os
import queue
import select
import signal
import sys
import termios
import threading
import time
import tomllib
import tty
from pathlib import Path

from rich.console import Console, Group
from rich.live import Live
from rich.markdown import Markdown
from rich.table import Table
from rich.text import Text

from harness.practice import hints, mock_report
from harness.grading import registry
from harness.grading.registry import shown_path
from harness.practice.mock_session import HINT_PENALTY, Answer, Session, create, freeze, keep_version, latest_unfinished, pick_katas, prompt, start_clock
from harness.grading.results import KataResult, Status
from harness.grading.sandbox import Sandbox
from harness.practice.store import Store
from harness.practice.watch import signature

SESSIONS_DIR = registry.REPO_ROOT / "mock-sessions"
QUESTIONS_FILE = Path(__file__).with_name("questions.toml")
TICK_S = 0.1


def questions(kata_ids: list[str] = ()) -> list[dict]:
    """The follow-ups for a session: each kata's own (its pack's questions.toml) first, then the general ones."""
    files = [registry.get(k).questions_path for k in kata_ids] + [QUESTIONS_FILE]
    bank = []
    for path in files:
        if path.exists():
            with path.open("rb") as fh:
                bank += tomllib.load(fh)["question"]
    return bank


class Keys:
    """Single key presses from the terminal (cbreak mode) while the clock runs.

    Only on a terminal: when stdin is a pipe, everything in it is the answers to the questions.
    """

    def __init__(self) -> None:
        self.queue: queue.Queue[str] = queue.Queue()
        self._stop = threading.Event()
        self._fd = sys.stdin.fileno() if sys.stdin and not sys.stdin.closed and sys.stdin.isatty() else None
        self._saved = None
        if self._fd is None:
            return
        self._saved = termios.tcgetattr(self._fd)
        tty.setcbreak(self._fd)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._fd], [], [], 0.1)
            if ready:
                char = os.read(self._fd, 1).decode(errors="replace")
                if not char:
                    return
                self.queue.put(char.lower())

    def close(self) -> None:
        if self._fd is None:
            return
        self._stop.set()
        self._thread.join(1)
        termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)


class Interview:
    def __init__(self, session: Session, store: Store, out: Console, sandbox: Sandbox) -> None:
        self.session, self.store, self.out, self.sandbox = session, store, out, sandbox
        self.last_hint: str | None = None
        self.results: queue.Queue[tuple[str, KataResult | None]] = queue.Queue()
        self.grading: str | None = None
        self.last_results: dict[str, KataResult] = {}  # each kata's newest grade, for aiming hints

    # --- coding ------------------------------------------------------------------------------------
    def code(self) -> None:
        s = self.session
        seen: dict[str, object] = {}
        pending: list[str] = list(s.katas)  # grade each once at the start, then on every save
        keys = Keys()
        # A live countdown on a terminal; elsewhere (pipes, logs) one line per event.
        live = Live(self.view(), console=self.out, refresh_per_second=4) if self.out.is_terminal else None
        try:
            with live or contextlib.nullcontext():
                while s.remaining_s() > 0:
                    if self.handle_keys(keys):
                        s.ended_early = True
                        break
                    for kata_id in s.katas:
                        current = signature(s.file(kata_id))
                        if seen.get(kata_id, current) != current and kata_id not in pending:
                            pending.append(kata_id)
                        seen[kata_id] = current
                    self.collect_results()
                    if self.grading is None and pending:
                        self.start_grade(pending.pop(0))
                    if live is not None:
                        live.update(self.view())
                    time.sleep(TICK_S)
            self.out.print("Time is up." if not s.ended_early else "Ended early.")
        finally:
            keys.close()

    def handle_keys(self, keys: Keys) -> bool:
        """True when the learner asked to end now."""
        while not keys.queue.empty():
            key = keys.queue.get()
            if key == "e":
                return True
            if key == "h":
                self.hint()
        return False

    def hint(self) -> None:
        """The next hint for the first kata not passing, aimed at its first failing task; it costs a
        point. Spoilers off: the hint that reveals the answer is not given in an interview."""
        s = self.session
        current = next((k for k in s.katas if s.state[k].status != "pass"), s.katas[0])
        kata, state = registry.get(current), s.state[current]
        last = self.last_results.get(current)
        task = hints.failing_task(kata, last) if last is not None else next(iter(kata.task_hints), None)
        hint = hints.next_hint(kata, task, state.hints_by_task, spoilers=False)
        if hint.text is None:
            self.last_hint = f"No more hints {hint.about(kata)} in an interview."
        else:
            state.hints += 1
            state.hints_by_task[hint.task] = hint.number
            self.store.record_event(current, "hint", hint.task, s.store_id)
            self.last_hint = f"{hint.heading(kata)} (-{HINT_PENALTY:g} point): {hint.text}"
            s.save()
        if not self.out.is_terminal:
            self.out.print(self.last_hint)

    def start_grade(self, kata_id: str) -> None:
        self.grading = kata_id
        path = self.session.file(kata_id)
        if path.exists():
            keep_version(self.session, kata_id)

        graded = signature(path)

        def work() -> None:  # a save meanwhile cancels this grade: the newer file is graded next
            self.results.put((kata_id, self.sandbox.grade(kata_id, self.session.path, cancelled=lambda: signature(path) != graded)))

        threading.Thread(target=work, daemon=True).start()

    def collect_results(self) -> None:
        while not self.results.empty():
            kata_id, result = self.results.get()
            self.grading = None
            if result is None:  # cancelled by a newer save, which code() has queued
                continue
            self.apply(result, regrade=True)
            self.store.record_grade(result, "mock", self.session.store_id)
            if not self.out.is_terminal:
                state = self.session.state[kata_id]
                self.out.print(f"[{self.clock()} left] {kata_id}: {state.status.upper()} {state.score:g}/{state.max_score:g}")

    def apply(self, result: KataResult, *, regrade: bool) -> None:
        s = self.session
        state = s.state[result.kata_id]
        self.last_results[result.kata_id] = result
        state.status, state.score, state.max_score = result.status.value, result.score, result.max_score
        if regrade:
            state.regrades += 1
            if result.status is Status.PASS and state.first_green_s is None:
                state.first_green_s = time.time() - s.started
        failures = []
        for test in result.tests:
            if test.status is not Status.PASS and test.message:
                if test.message not in failures:  # it carries the "Likely mistake" line, if any
                    failures.append(test.message)
        state.failures = failures[:3] if failures else ([result.error] if result.error else [])
        for failure in state.failures:
            if failure.splitlines()[0] not in state.seen:
                state.seen.append(failure.splitlines()[0])
        s.save()

    def clock(self) -> str:
        minutes, secs = divmod(int(self.session.remaining_s()), 60)
        return f"{minutes:02d}:{secs:02d}"

    def view(self) -> Group:
        s = self.session
        table = Table(title=f"Mock interview: {self.clock()} left", title_justify="left")
        for column in ("kata", "file", "status", "score", "re-grades", "hints"):
            table.add_column(column)
        for kata_id in s.katas:
            st = s.state[kata_id]
            status = "grading..." if self.grading == kata_id else st.status
            style = {"pass": "green", "fail": "yellow", "error": "red"}.get(st.status, "dim")
            table.add_row(kata_id, shown_path(s.file(kata_id)), Text(status, style=style),
                          f"{s.score(kata_id):g}/{st.max_score:g}", str(st.regrades), str(st.hints))  # fmt: skip
        lines = [table, Text("Save a file to re-grade it.  h: a hint (costs a point)   e: end now", style="dim")]
        failing = next((s.state[k] for k in s.katas if s.state[k].failures and s.state[k].status != "pass"), None)
        if failing:
            lines.append(Text(f"{failing.id}: {failing.failures[0].splitlines()[0]}"))
        if self.last_hint:
            lines.append(Text(self.last_hint, style="cyan"))
        return Group(*lines)

    # --- deadline --------------------------------------------------------------------------------
    def grade_snapshot(self) -> None:
        s = self.session
        snapshot = freeze(s)
        self.out.print(f"Files frozen in {shown_path(snapshot)}; grading them.")
        for kata_id in s.katas:
            result = self.sandbox.grade(kata_id, snapshot)
            self.apply(result, regrade=False)
            self.store.record_grade(result, "mock", s.store_id)
            self.out.print(f"  {kata_id}: {result.status.value.upper()} {s.score(kata_id):g}/{result.max_score:g}")
        s.phase = "questions"
        s.save()

    # --- questions -------------------------------------------------------------------------------
    def ask(self) -> None:
        s = self.session
        bank = questions(s.katas)[: s.questions]
        for item in bank[len(s.answers):]:
            self.out.print(Text(f"\nQuestion {len(s.answers) + 1} of {len(bank)}: {item['question']}", style="bold"))
            self.out.print("Type your answer; an empty line ends it.")
            lines = []
            while True:
                line = _input("> ")
                if line is None or not line.strip():
                    break
                lines.append(line)
            answer = Answer(item["id"], item["question"], "\n".join(lines), item["answer"].strip())
            self.out.print(Text("Model answer:", style="bold"))
            self.out.print(answer.model_answer)
            while True:
                rating = _input("Rate your answer: 0 (missed it), 1 (partly), 2 (nailed it): ")
                if rating is None:
                    break
                if rating.strip() in ("0", "1", "2"):
                    answer.rating = int(rating)
                    break
                self.out.print("Please type 0, 1 or 2.")
            s.answers.append(answer)
            s.save()
        s.phase = "done"
        s.save()


def _input(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        return None


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def run(args, store: Store, out: Console) -> int:
    base = Path(args.dir).resolve() if args.dir else SESSIONS_DIR
    if args.resume:
        folder = Path(args.resume).resolve() if isinstance(args.resume, str) else latest_unfinished(base)
        if folder is None or not (folder / "session.json").exists():
            out.print(f"No unfinished mock interview to resume in {shown_path(base)}.")
            return 2
        session = Session.load(folder)
        out.print(f"Resuming the mock interview in {shown_path(folder)}.")
    else:
        unfinished = latest_unfinished(base)
        if unfinished is not None:
            out.print(Text(f"An unfinished mock interview is in {shown_path(unfinished)}: `kata mock --resume` continues it."
                           " This starts a new one.", style="yellow"))  # fmt: skip
        seed = args.seed if args.seed is not None else int(time.time())
        katas = pick_katas(args.minutes, seed, args.katas.split(",") if args.katas else None)
        session = create(base / time.strftime("%Y%m%d-%H%M%S"), katas, args.minutes, seed, args.questions)
    for sig in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, _raise_interrupt)
    try:
        return _run(session, store, out)
    except KeyboardInterrupt:
        session.save()
        out.print(f"\nSession saved in {shown_path(session.path)}. `kata mock --resume` continues it"
                  " (the clock keeps running; past the deadline it grades what was there at the deadline).")  # fmt: skip
        return 130


def _run(session: Session, store: Store, out: Console) -> int:
    sandbox = Sandbox(warm_run=list(session.katas))
    if session.phase == "coding":
        if session.started == 0.0:
            out.print(f"Mock interview: {', '.join(session.katas)} in {session.minutes:g} minutes.")
            out.print("Preparing the grader...")
            sandbox.warm_up(session.katas[0])
            for kata_id in session.katas:
                kata = registry.get(kata_id)
                out.rule(f"{kata.id} ({kata.minutes} min budget)")
                text = prompt(kata_id, session.path)
                out.print(Markdown(text) if out.is_terminal else text)
            out.rule()
            start_clock(session)
            session.store_id = store.start_session("mock", session.summary())
            session.save()
            out.print(f"\nThe clock is running: {session.minutes:g} minutes. Your practice files in katas/ are not touched.")
        else:
            sandbox.warm_up(session.katas[0])
        interview = Interview(session, store, out, sandbox)
        if session.remaining_s() > 0:
            interview.code()
        interview.grade_snapshot()
    interview = Interview(session, store, out, sandbox)
    if session.phase == "questions":
        interview.ask()
    md, page = mock_report.write(session)
    store.update_session(session.store_id, session.summary(), ended=True)
    score, max_score = session.total
    out.print(f"\nTotal {score:g}/{max_score:g}. Report: {shown_path(md)} and {shown_path(page)}")
    return 0
