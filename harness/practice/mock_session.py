"""A mock interview's state, kept in its folder as session.json and rewritten after every event.

The folder holds the learner's copies of the stubs (<id>/<module>.py, laid out like katas/), every
graded version of them (versions/), the frozen copy graded at the deadline (snapshot/) and the
reports. Because everything is on disk the moment it happens, Ctrl-C, a closed terminal or a crash
lose nothing: `kata mock --resume` continues from the file.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.grading import registry
from harness.grading.registry import shown_path

STATE_FILE = "session.json"
HINT_PENALTY = 1.0  # points off that kata's score per hint, shown while the clock runs


@dataclass
class KataState:
    id: str
    status: str = "not graded"
    score: float = 0.0
    max_score: float = 0.0
    regrades: int = 0
    hints: int = 0
    hints_by_task: dict[str, int] = field(default_factory=dict)  # hints given per task (harness/practice/hints.py)
    first_green_s: float | None = None
    failures: list[str] = field(default_factory=list)  # learner-facing messages of the last grade
    seen: list[str] = field(default_factory=list)  # every different failure met during the session, first lines


@dataclass
class Answer:
    id: str
    question: str
    answer: str
    model_answer: str
    rating: int | None = None


@dataclass
class Session:
    folder: str
    katas: list[str]
    minutes: float
    seed: int
    questions: int
    started: float
    deadline: float
    store_id: int | None = None
    phase: str = "coding"  # coding -> questions -> done
    ended_early: bool = False
    notes: list[str] = field(default_factory=list)  # what the report should say about how it went
    state: dict[str, KataState] = field(default_factory=dict)
    answers: list[Answer] = field(default_factory=list)

    # --- files -----------------------------------------------------------------------------------
    @property
    def path(self) -> Path:
        return Path(self.folder)

    def file(self, kata_id: str) -> Path:
        return registry.get(kata_id).learner_file(self.path)

    @property
    def snapshot(self) -> Path:
        return self.path / "snapshot"

    def save(self) -> None:
        """Write session.json atomically: a crash mid-write leaves the previous state whole."""
        tmp = self.path / f".{STATE_FILE}.tmp"
        tmp.write_text(json.dumps(asdict(self), indent=2))
        os.replace(tmp, self.path / STATE_FILE)

    @classmethod
    def load(cls, folder: Path) -> Session:
        data = json.loads((folder / STATE_FILE).read_text())
        data["state"] = {k: KataState(**v) for k, v in data["state"].items()}
        data["answers"] = [Answer(**a) for a in data["answers"]]
        return cls(**data)

    # --- derived figures ---------------------------------------------------------------------------
    def score(self, kata_id: str) -> float:
        s = self.state[kata_id]
        return max(0.0, s.score - HINT_PENALTY * s.hints)

    @property
    def total(self) -> tuple[float, float]:
        return sum(self.score(k) for k in self.katas), sum(self.state[k].max_score for k in self.katas)

    def remaining_s(self, now: float | None = None) -> float:
        return max(0.0, self.deadline - (time.time() if now is None else now))

    def summary(self) -> dict:
        """What the store keeps for `kata history` and the board's best times."""
        score, max_score = self.total
        return {
            "folder": self.folder,
            "minutes": self.minutes,
            "score": score,
            "max_score": max_score,
            "phase": self.phase,
            "katas": {
                k: {"score": self.score(k), "max_score": s.max_score, "time_to_green_s": s.first_green_s,
                    "regrades": s.regrades, "hints": s.hints}  # fmt: skip
                for k, s in self.state.items()
            },
            "ratings": [a.rating for a in self.answers],
        }


def pick_katas(minutes: float, seed: int, wanted: list[str] | None) -> list[str]:
    """The named katas, or a random pick from the registry whose time budgets fit in `minutes`."""
    if wanted:
        return [registry.get(k).id for k in wanted]
    katas = list(registry.katas())
    random.Random(seed).shuffle(katas)
    chosen, left = [], minutes
    for kata in katas:
        if kata.minutes <= left:
            chosen.append(kata)
            left -= kata.minutes
    if not chosen:  # nothing fits: the shortest one, against the clock
        chosen = [min(katas, key=lambda k: k.minutes)]
    order = {k.id: n for n, k in enumerate(registry.katas())}
    return sorted((k.id for k in chosen), key=order.get)


RUN_IT = re.compile(r"^## Run it\n.*?(?=^## |\Z)", re.S | re.M)


def prompt(kata_id: str, folder: Path) -> str:
    """The kata's prompt in an interview: its practice section (grading katas/, free hints, the
    reference) replaced by how this session's file is graded."""
    kata = registry.get(kata_id)
    text = RUN_IT.sub("", kata.prompt_path.read_text()).rstrip()
    shown = shown_path(kata.learner_file(folder))
    return (
        f"{text}\n\n## In this interview\nYour file is `{shown}`: each save re-grades it on the countdown"
        f" (`kata grade {kata_id} --impl {shown_path(folder)}` grades it by hand). Press `h` for a hint:"
        " it costs a point.\n"
    )


def create(folder: Path, katas: list[str], minutes: float, seed: int, questions: int) -> Session:
    """A fresh session folder with pristine stubs; the clock starts with start_clock()."""
    folder.mkdir(parents=True, exist_ok=False)
    for kata_id in katas:
        kata = registry.get(kata_id)
        target = kata.learner_file(folder)
        target.parent.mkdir(parents=True)
        shutil.copyfile(kata.pristine_path, target)
        target.with_name("README.md").write_text(prompt(kata_id, folder))
    session = Session(
        folder=str(folder), katas=katas, minutes=minutes, seed=seed, questions=questions,
        started=0.0, deadline=0.0, state={k: KataState(k) for k in katas},
    )  # fmt: skip
    session.save()
    return session


def start_clock(session: Session) -> None:
    session.started = time.time()
    session.deadline = session.started + session.minutes * 60
    session.save()


def keep_version(session: Session, kata_id: str) -> Path:
    """Copy the file as it is now into versions/, named by its modification time."""
    source = session.file(kata_id)
    stamp = source.stat().st_mtime_ns
    target = session.path / "versions" / kata_id / f"{stamp}-{source.name}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    return target


def freeze(session: Session) -> Path:
    """Copy what each file held at the deadline into snapshot/: later edits do not count.

    While the session runs, that is the file as it is now. After a crash, a file changed after the
    deadline is replaced by its last version kept before the deadline (or the stub, if none).
    """
    for kata_id in session.katas:
        kata = registry.get(kata_id)
        source = session.file(kata_id)
        target = kata.learner_file(session.snapshot)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.exists() and source.stat().st_mtime <= session.deadline:
            shutil.copy2(source, target)
            continue
        kept = sorted((session.path / "versions" / kata_id).glob(f"*-{kata.filename}"))
        before = [p for p in kept if int(p.name.split("-", 1)[0]) / 1e9 <= session.deadline]
        shutil.copy2(before[-1] if before else kata.pristine_path, target)
        session.notes.append(
            f"{kata_id}: the file changed after the deadline; graded "
            + ("its last version saved before the deadline." if before else "the stub (no version saved in time).")
        )
    session.save()
    return session.snapshot


def latest_unfinished(base: Path) -> Path | None:
    if not base.is_dir():
        return None
    candidates = [p for p in base.iterdir() if (p / STATE_FILE).exists()]
    for folder in sorted(candidates, key=lambda p: p.name, reverse=True):
        if Session.load(folder).phase != "done":
            return folder
    return None
