"""Progress and history in SQLite: grades, hints, solutions viewed, mock sessions.

One file per user (platformdirs' data dir; KATA_DB or --db overrides it). The schema is versioned
with PRAGMA user_version; every write is one transaction; WAL mode and a busy timeout let two
commands write at once without losing a record. A file that is not a SQLite database is never
reset silently: it is moved aside, the user is told where, and a new one is started. A healthy file
that cannot be written (read-only, locked, disk full) is never moved: it is read as it is, and each
write that fails is reported in one line while the command goes on. A path that cannot hold a
database at all (a folder, a device, an unwritable place) is refused with one sentence saying why.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from harness.grading.results import KataResult

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


class _NotADatabase(sqlite3.DatabaseError):
    """PRAGMA quick_check found damage that SQLite itself did not raise."""


# The only failures that mean "this file is not (or no longer) a database". Everything else (read-only,
# cannot open, locked, disk full, I/O error) says nothing about the file's contents.
_DAMAGED = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
# The failures of a write that mean the file cannot take it now; any other error is a bug and is raised.
_UNWRITABLE = {sqlite3.SQLITE_READONLY, sqlite3.SQLITE_FULL, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED,
               sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM}  # fmt: skip


def _damaged(exc: sqlite3.DatabaseError) -> bool:
    return isinstance(exc, _NotADatabase) or getattr(exc, "sqlite_errorcode", None) in _DAMAGED


def _cannot(path: Path, problem: object) -> StoreError:
    return StoreError(f"Cannot use {path} as the progress database: {problem}; set KATA_DB (or --db) to a file you can write.")


def _unusable(path: Path) -> str | None:
    """Why `path` cannot hold a database, in words, or None. SQLite's own errors here ("unable to open
    database file", "disk I/O error") do not say why, and on /dev/null it would write /dev/null-journal."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        return f"it cannot be looked up ({exc.strerror})"
    if mode is not None and stat.S_ISDIR(mode):
        return "it is a directory"
    if mode is not None and not stat.S_ISREG(mode):
        return "it is not a regular file"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"its folder {path.parent} cannot be created ({exc.strerror})"
    try:
        with path.open("rb" if mode is not None else "ab"):  # "ab" creates it; an empty file is a new database to SQLite
            pass
    except OSError as exc:
        return f"it cannot be {'read' if mode is not None else 'created'} ({exc.strerror})"
    return None


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr)


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
    def __init__(self, path: Path | None = None, warn: Callable[[str], None] = _to_stderr) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.notice: str | None = None  # set when a corrupted file was moved aside
        self.warn = warn  # told, in one line, of each write that could not be saved
        problem = _unusable(self.path)
        if problem:
            raise _cannot(self.path, problem)
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            if not _damaged(exc):  # the file is fine; it only cannot be written
                self._db = self._open_read_only(exc)
                return
            try:  # _open has moved it aside: start a new one
                self._db = self._open()
            except sqlite3.DatabaseError as again:
                raise _cannot(self.path, again) from None

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
                raise _NotADatabase("integrity check failed")
            version = self._version(db)
        except sqlite3.DatabaseError as exc:
            if _damaged(exc):
                self._move_aside(db, exc)
            db.close()
            raise
        if version < SCHEMA_VERSION:
            # One script, one transaction: a second process racing to create it waits, then finds it done.
            db.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
        return db

    def _move_aside(self, db: sqlite3.Connection, exc: sqlite3.DatabaseError) -> None:
        """Keep a damaged file, and its journal, under a new name; nothing is deleted."""
        aside = self._aside()
        try:
            # Copy the journal while this connection still holds it: closing the last connection may
            # delete the -wal file, and it may hold the last writes.
            for suffix in ("-wal", "-shm"):
                journal = Path(f"{self.path}{suffix}")
                if journal.exists():
                    shutil.copy2(journal, f"{aside}{suffix}")
            db.close()
            self.path.rename(aside)
        except OSError as err:
            db.close()
            raise _cannot(self.path, f"it is not a readable database ({exc}) and cannot be moved aside ({err.strerror})") from None
        for suffix in ("-wal", "-shm"):  # copied beside it already; the originals belong to the damaged file
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self.notice = (
            f"Your progress file {self.path} could not be read ({exc}). It was kept as {aside};"
            " a new one was started. Nothing was deleted."
        )

    def _open_read_only(self, why: sqlite3.DatabaseError) -> sqlite3.Connection:
        """A healthy file we cannot write (read-only file or folder, lock, full disk): read it as it is."""
        # immutable=1: SQLite then needs no -shm file beside it, which a read-only folder would refuse.
        # (Commits still only in a -wal file are not seen; this view is for reading history, never writing.)
        try:
            db = sqlite3.connect(f"{self.path.resolve().as_uri()}?immutable=1", uri=True, isolation_level=None)
            version = self._version(db)
        except sqlite3.DatabaseError:
            raise _cannot(self.path, why) from None
        if version < SCHEMA_VERSION:  # new or empty: there is nothing to read, and no tables to read it from
            db.close()
            raise _cannot(self.path, why)
        return db

    def _version(self, db: sqlite3.Connection) -> int:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            db.close()
            raise StoreError(
                f"{self.path} was written by a newer version of the harness (schema {version} > {SCHEMA_VERSION});"
                " update the harness, or point KATA_DB at another file."
            )
        return version

    @contextmanager
    def _write(self, what: str) -> Iterator[sqlite3.Connection]:
        """One transaction. If the file cannot take it (read-only, locked, disk full), the command goes on
        and `warn` says what was not saved: a grade is still worth showing when it cannot be recorded."""
        db = self._db
        try:
            # BEGIN IMMEDIATE takes the write lock up front, so concurrent writers queue instead of failing.
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # SQLite has already rolled back after some errors, e.g. a full disk
                    db.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF not in _UNWRITABLE:  # extended codes, e.g. SQLITE_READONLY_DIRECTORY
                raise
            self.warn(f"Not saved to your history: {what}; {self.path} cannot be written ({exc}).")

    def close(self) -> None:
        self._db.close()

    # --- writes: each returns normally when it could not be saved (see _write) ---------------------
    def record_grade(self, result: KataResult, source: str, session_id: int | None = None) -> None:
        self.record_grades([result], source, session_id)

    def record_grades(self, results: list[KataResult], source: str, session_id: int | None = None) -> None:
        """Several grades in one transaction, so a store that cannot take them says so once."""
        what = f"the grade of {results[0].kata_id}" if len(results) == 1 else f"{len(results)} grades"
        with self._write(what) as db:
            db.executemany(
                "INSERT INTO grades (kata_id, at, source, status, score, max_score, file, session_id, result)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(r.kata_id, time.time(), source, r.status.value, r.score, r.max_score, r.file, session_id,
                  json.dumps(r.to_dict())) for r in results],
            )  # fmt: skip

    def record_event(self, kata_id: str, kind: str, detail: str = "", session_id: int | None = None) -> None:
        with self._write(f"the {kind} of {kata_id}") as db:
            db.execute(
                "INSERT INTO events (kata_id, at, kind, detail, session_id) VALUES (?, ?, ?, ?, ?)",
                (kata_id, time.time(), kind, detail, session_id),
            )

    def start_session(self, kind: str, data: dict) -> int | None:
        """The new session's id; None when it could not be saved (grades then go in without one)."""
        with self._write(f"the start of the {kind} session") as db:
            cursor = db.execute(
                "INSERT INTO sessions (kind, started, data) VALUES (?, ?, ?)", (kind, time.time(), json.dumps(data))
            )
            return int(cursor.lastrowid)
        return None

    def update_session(self, session_id: int | None, data: dict, ended: bool = False) -> None:
        with self._write("the session's progress") as db:
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

    def events(self, kata_id: str, kind: str, session_id: int | None = None, *, practice: bool = False) -> list[tuple[float, str]]:
        """(time, detail) of each event; of one session, or with practice=True of none (not in a mock)."""
        query = "SELECT at, detail FROM events WHERE kata_id = ? AND kind = ?"
        args: tuple = (kata_id, kind)
        if session_id is not None:
            query, args = query + " AND session_id = ?", (*args, session_id)
        elif practice:
            query += " AND session_id IS NULL"
        return list(self._db.execute(query + " ORDER BY at, id", args))

    def last_result(self, kata_id: str, sources: tuple[str, ...]) -> tuple[float, KataResult] | None:
        """When the newest grade of a kata from one of `sources` was made, and that grade."""
        marks = ", ".join("?" * len(sources))
        row = self._db.execute(
            f"SELECT at, result FROM grades WHERE kata_id = ? AND source IN ({marks}) ORDER BY at DESC, id DESC LIMIT 1",
            (kata_id, *sources),
        ).fetchone()
        return (row[0], KataResult.from_dict(json.loads(row[1]))) if row else None

    def sessions(self, kind: str | None = None) -> list[dict]:
        query = "SELECT id, kind, started, ended, data FROM sessions"
        args: tuple = ()
        if kind is not None:
            query, args = query + " WHERE kind = ?", (kind,)
        rows = self._db.execute(query + " ORDER BY started, id", args)
        return [dict(id=r[0], kind=r[1], started=r[2], ended=r[3], data=json.loads(r[4])) for r in rows]
