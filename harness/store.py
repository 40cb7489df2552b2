"""Progress and history in SQLite: grades, hints, solutions viewed, mock sessions.

One file per user (platformdirs' data dir; KATA_DB or --db overrides it). The schema is versioned
with PRAGMA user_version; every write is one transaction; WAL mode and a busy timeout let two
commands write at once without losing a record. A file that is not a readable database is never
reset silently: it is moved aside, the user is told where, and a new one is started.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from harness.results import KataResult

SCHEMA_VERSION = 1
APP_NAME = "backprop-katas"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS grades (
    id INTEGER PRIMARY KEY,
    kata_id TEXT NOT NULL,
    at REAL NOT NULL,
    source TEXT NOT NULL,          -- grade | watch | mock | batch
    status TEXT NOT NULL,          -- pass | fail | error
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    file TEXT NOT NULL,
    session_id INTEGER,
    result TEXT NOT NULL           -- the KataResult as JSON
);
CREATE INDEX IF NOT EXISTS grades_by_kata ON grades (kata_id, at);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    kata_id TEXT NOT NULL,
    at REAL NOT NULL,
    kind TEXT NOT NULL,            -- hint | solution | reset
    detail TEXT NOT NULL DEFAULT '',
    session_id INTEGER
);
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,            -- mock
    started REAL NOT NULL,
    ended REAL,
    data TEXT NOT NULL DEFAULT '{}'
);
"""


class StoreError(RuntimeError):
    """The progress file cannot be used; the message says what happened to it and what to do."""


def default_path() -> Path:
    override = os.environ.get("KATA_DB")
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir(APP_NAME)) / "progress.sqlite3"


@dataclass(frozen=True)
class Grade:
    kata_id: str
    at: float
    source: str
    status: str
    score: float
    max_score: float
    session_id: int | None


class Store:
    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.notice: str | None = None  # set when a corrupted file was moved aside
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            aside = self._aside_path
            self.path.rename(aside)
            for suffix in ("-wal", "-shm"):  # copied beside it already; the originals belong to the damaged file
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            self.notice = (
                f"Your progress file {self.path} could not be read ({exc}). It was kept as {aside};"
                " a new one was started. Nothing was deleted."
            )
            self._db = self._open()

    def _aside(self) -> Path:
        """A name for a corrupted file that no earlier one holds."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside, n = self.path.with_name(f"{self.path.name}.corrupt-{stamp}"), 1
        while aside.exists():
            aside, n = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}"), n + 1
        return aside

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout = 30000")
            db.execute("PRAGMA journal_mode = WAL")
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("integrity check failed")
            version = db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError:
            # Copy the journal aside while this connection still holds it: closing the last
            # connection may delete the -wal file, and it may hold the last writes.
            self._aside_path = self._aside()
            for suffix in ("-wal", "-shm"):
                journal = Path(f"{self.path}{suffix}")
                if journal.exists():
                    shutil.copy2(journal, f"{self._aside_path}{suffix}")
            db.close()
            raise
        if version > SCHEMA_VERSION:
            db.close()
            raise StoreError(
                f"{self.path} was written by a newer version of the harness (schema {version} > {SCHEMA_VERSION});"
                " update the harness, or point KATA_DB at another file."
            )
        if version < SCHEMA_VERSION:
            # One script, one transaction: a second process racing to create it waits, then finds it done.
            db.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
        return db

    @staticmethod
    @contextmanager
    def _transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        # BEGIN IMMEDIATE takes the write lock up front, so concurrent writers queue instead of failing.
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    @property
    def backups_dir(self) -> Path:
        """Where learners' files are copied before anything replaces them; beside the database."""
        return self.path.parent / "backups"

    def close(self) -> None:
        self._db.close()

    # --- writes ---------------------------------------------------------------------------------
    def record_grade(self, result: KataResult, source: str, session_id: int | None = None) -> None:
        with self._transaction(self._db) as db:
            db.execute(
                "INSERT INTO grades (kata_id, at, source, status, score, max_score, file, session_id, result)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    result.kata_id, time.time(), source, result.status.value, result.score, result.max_score,
                    result.file, session_id, json.dumps(result.to_dict()),
                ),
            )  # fmt: skip

    def record_event(self, kata_id: str, kind: str, detail: str = "", session_id: int | None = None) -> None:
        with self._transaction(self._db) as db:
            db.execute(
                "INSERT INTO events (kata_id, at, kind, detail, session_id) VALUES (?, ?, ?, ?, ?)",
                (kata_id, time.time(), kind, detail, session_id),
            )

    def start_session(self, kind: str, data: dict) -> int:
        with self._transaction(self._db) as db:
            cursor = db.execute(
                "INSERT INTO sessions (kind, started, data) VALUES (?, ?, ?)", (kind, time.time(), json.dumps(data))
            )
            return int(cursor.lastrowid)

    def update_session(self, session_id: int, data: dict, ended: bool = False) -> None:
        with self._transaction(self._db) as db:
            db.execute(
                "UPDATE sessions SET data = ?, ended = CASE WHEN ? THEN ? ELSE ended END WHERE id = ?",
                (json.dumps(data), ended, time.time(), session_id),
            )

    # --- reads ----------------------------------------------------------------------------------
    def grades(self, kata_id: str | None = None) -> list[Grade]:
        query = "SELECT kata_id, at, source, status, score, max_score, session_id FROM grades"
        args: tuple = ()
        if kata_id is not None:
            query, args = query + " WHERE kata_id = ?", (kata_id,)
        return [Grade(*row) for row in self._db.execute(query + " ORDER BY at, id", args)]

    def events(self, kata_id: str, kind: str, session_id: int | None = None) -> list[tuple[float, str]]:
        query = "SELECT at, detail FROM events WHERE kata_id = ? AND kind = ?"
        args: tuple = (kata_id, kind)
        if session_id is not None:
            query, args = query + " AND session_id = ?", (*args, session_id)
        return list(self._db.execute(query + " ORDER BY at, id", args))

    def sessions(self, kind: str | None = None) -> list[dict]:
        query = "SELECT id, kind, started, ended, data FROM sessions"
        args: tuple = ()
        if kind is not None:
            query, args = query + " WHERE kind = ?", (kind,)
        rows = self._db.execute(query + " ORDER BY started, id", args)
        return [dict(id=r[0], kind=r[1], started=r[2], ended=r[3], data=json.loads(r[4])) for r in rows]
