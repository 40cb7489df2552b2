"""Data safety of the progress store (harness/practice/store.py) and of `kata reset` (harness/practice/workspace.py).

The learner's history and code are never lost: concurrent writers, a writer killed mid-write, a
corrupted file, a file from a newer harness, and resets in quick succession. A store that cannot be
used or written says so in one line, and never moves a healthy file aside: a path that is a folder,
a device or an unwritable place; a read-only database; a full disk.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from harness import cli
from harness.grading import registry
from harness.practice import workspace
from harness.practice import store as store_module
from harness.grading import results
from harness.grading.results import KataResult, Status
from harness.practice.store import SCHEMA_VERSION, Store, StoreError

KATA = registry.get("02_backprop")

# A writer in its own interpreter: waits for "go" on stdin (so several start at the same moment),
# then commits `count` events (count < 0: forever) and prints each index only after its commit returned.
# The short pause between commits is a learner's pace, and it gives the other writer a turn: SQLite's
# busy handler backs off in sleeps, so a writer in a tight loop would finish before the other starts.
WRITER = """
import sys
import time
from harness.practice.store import Store

path, label, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = Store(path)
print("ready", flush=True)
assert sys.stdin.readline().strip() == "go"
i = 0
while count < 0 or i < count:
    store.record_event("02_backprop", "hint", f"{label}:{i}")
    print(i, flush=True)
    i += 1
    time.sleep(0.002)
store.close()
"""


def start_writer(db: Path, label: str, count: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), label, str(count)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout.readline().strip() == "ready", process.stderr.read()
    return process


def details(db: Path) -> list[str]:
    """Every event's detail, in commit order, read with plain sqlite3 (not through the code under test)."""
    with sqlite3.connect(db) as con:
        return [row[0] for row in con.execute("SELECT detail FROM events ORDER BY id")]


def a_result(score: float) -> KataResult:
    tests = [results.TestResult("test_a", Status.PASS, None, score, 1.0), results.TestResult("test_b", Status.FAIL, "wrong", 0.0, 1.0)]
    return KataResult("02_backprop", "katas/02_backprop/backprop.py", Status.FAIL, tests, None, 0.5)


# --- concurrent writers ----------------------------------------------------------------------------
def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    db = tmp_path / "progress.sqlite3"  # does not exist yet: both also race to create the schema
    writers = {label: start_writer(db, label, 200) for label in ("A", "B")}
    for process in writers.values():
        process.stdin.write("go\n")
        process.stdin.flush()
    for label, process in writers.items():
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, f"writer {label} failed:\n{err}"
        assert out.split() == [str(i) for i in range(200)]

    rows = details(db)
    assert len(rows) == 400
    for label in ("A", "B"):
        assert [r for r in rows if r.startswith(f"{label}:")] == [f"{label}:{i}" for i in range(200)]
    # The writers really ran at the same time: their commits interleave.
    labels = [r[0] for r in rows]
    switches = sum(a != b for a, b in zip(labels, labels[1:]))
    assert switches > 1, "the two writers did not overlap, so this test proved nothing"

    store = Store(db)
    try:
        assert store.notice is None
        assert len(store.events("02_backprop", "hint")) == 400
    finally:
        store.close()


def test_a_writer_killed_mid_loop_leaves_every_committed_record(tmp_path):
    db = tmp_path / "progress.sqlite3"
    Store(db).close()
    writer = start_writer(db, "K", -1)
    writer.stdin.write("go\n")
    writer.stdin.flush()
    committed = []
    while len(committed) < 150:
        line = writer.stdout.readline()
        assert line, writer.stderr.read()
        committed.append(int(line))
    os.kill(writer.pid, signal.SIGKILL)
    rest, _ = writer.communicate(timeout=30)
    committed += [int(n) for n in rest.split()]
    assert writer.returncode == -signal.SIGKILL

    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = Store(db)
    try:
        assert store.notice is None  # a killed writer is not a corrupted file
        kept = [detail for _, detail in store.events("02_backprop", "hint")]
        # Everything printed was committed first; at most the one in flight may be there unprinted.
        assert kept[: len(committed)] == [f"K:{i}" for i in committed]
        assert len(kept) - len(committed) in (0, 1)
        # And the file still takes writes.
        store.record_grade(a_result(1.0), "grade")
        assert [(g.status, g.score, g.max_score) for g in store.grades()] == [("fail", 1.0, 2.0)]
    finally:
        store.close()


def test_a_grade_is_stored_whole(tmp_path):
    store = Store(tmp_path / "progress.sqlite3")
    try:
        store.record_grade(a_result(1.0), "watch", session_id=None)
        (grade,) = store.grades("02_backprop")
        assert (grade.kata_id, grade.source, grade.status, grade.score, grade.max_score) == ("02_backprop", "watch", "fail", 1.0, 2.0)
        assert store.grades("01_chain_rule") == []
        with sqlite3.connect(store.path) as con:
            stored = json.loads(con.execute("SELECT result FROM grades").fetchone()[0])
        assert [t["message"] for t in stored["tests"]] == [None, "wrong"]
    finally:
        store.close()


# --- damaged or foreign files --------------------------------------------------------------------
def test_a_corrupted_file_is_moved_aside_with_a_notice_and_a_fresh_one_works(tmp_path):
    db = tmp_path / "progress.sqlite3"
    garbage = os.urandom(8192)
    db.write_bytes(garbage)

    store = Store(db)
    try:
        asides = sorted(p for p in tmp_path.glob("progress.sqlite3.corrupt-*") if not p.name.endswith(("-wal", "-shm")))
        assert len(asides) == 1
        aside = asides[0]
        assert aside.read_bytes() == garbage  # kept byte for byte
        assert store.notice is not None
        assert str(db) in store.notice and str(aside) in store.notice
        assert "Nothing was deleted" in store.notice
        store.record_event("02_backprop", "hint", "1")
        assert [d for _, d in store.events("02_backprop", "hint")] == ["1"]
    finally:
        store.close()
    again = Store(db)  # the fresh file is a good one: no second notice
    try:
        assert again.notice is None
        assert [d for _, d in again.events("02_backprop", "hint")] == ["1"]
    finally:
        again.close()


def test_a_damaged_database_with_a_valid_header_is_moved_aside_too(tmp_path):
    db = tmp_path / "progress.sqlite3"
    store = Store(db)
    for i in range(300):
        store.record_event("02_backprop", "hint", "x" * 200 + str(i))
    store.close()
    with sqlite3.connect(db) as con:  # fold the WAL back into the main file, then damage its pages
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db.read_bytes())
    assert data.startswith(b"SQLite format 3\x00") and len(data) > 8192
    data[4096:] = os.urandom(len(data) - 4096)  # page 1 (header and schema) intact, the rest garbage
    db.write_bytes(bytes(data))

    store = Store(db)
    try:
        (aside,) = (p for p in tmp_path.glob("progress.sqlite3.corrupt-*") if not p.name.endswith(("-wal", "-shm")))
        assert aside.read_bytes() == bytes(data)
        assert str(aside) in store.notice
        assert store.grades() == [] and store.events("02_backprop", "hint") == []
    finally:
        store.close()


def test_two_corrupted_files_in_the_same_second_keep_both_copies(tmp_path, monkeypatch):
    """A second corruption moved aside in the same second must not overwrite the first copy."""
    monkeypatch.setattr(store_module.time, "strftime", lambda fmt, *args: "20250101-120000")
    db = tmp_path / "progress.sqlite3"
    first, second = b"first damaged file " * 100, b"second damaged file " * 100
    db.write_bytes(first)
    Store(db).close()
    db.write_bytes(second)
    Store(db).close()
    kept = sorted(p.read_bytes() for p in tmp_path.glob("progress.sqlite3.corrupt-*"))
    assert kept == sorted([first, second]), "a moved-aside progress file was overwritten"


def test_moving_a_corrupted_file_aside_keeps_its_write_ahead_log(tmp_path):
    """The -wal file may hold the latest commits: "Nothing was deleted" must hold for it too."""
    db = tmp_path / "progress.sqlite3"
    db.write_bytes(b"not a database " * 100)
    wal = b"the last commits of the damaged database " * 50
    Path(f"{db}-wal").write_bytes(wal)
    store = Store(db)
    store.close()
    kept = [p for p in tmp_path.iterdir() if p.is_file() and p.read_bytes() == wal]
    assert kept, f"the -wal file of the damaged database was deleted; the folder holds {sorted(p.name for p in tmp_path.iterdir())}"


def test_a_database_from_a_newer_harness_is_refused_and_left_alone(tmp_path):
    db = tmp_path / "progress.sqlite3"
    Store(db).close()
    with sqlite3.connect(db) as con:
        con.execute("INSERT INTO events (kata_id, at, kind, detail) VALUES ('02_backprop', 1.0, 'hint', 'kept')")
        con.execute("PRAGMA user_version = 99")
    before = db.read_bytes()

    with pytest.raises(StoreError) as excinfo:
        Store(db)
    message = str(excinfo.value)
    assert str(db) in message
    assert f"schema 99 > {SCHEMA_VERSION}" in message
    assert "newer version of the harness" in message and "KATA_DB" in message
    # Not "repaired", not moved aside, not migrated down.
    assert db.read_bytes() == before
    assert list(tmp_path.glob("*.corrupt-*")) == []
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == 99
        assert con.execute("SELECT detail FROM events").fetchall() == [("kept",)]


def kata_cli(db: Path, *args: str, user: int | None = None) -> subprocess.CompletedProcess:
    """`kata --db DB ARGS` in a pipe, as `user` (a uid) when given."""
    ids = {} if user is None else {"user": user, "group": user, "extra_groups": []}
    return subprocess.run(
        [str(Path(sys.executable).with_name("kata")), "--db", str(db), *args], cwd=ROOT, capture_output=True, text=True,
        timeout=120, env={**os.environ, "NO_COLOR": "1"}, stdin=subprocess.DEVNULL, **ids,
    )  # fmt: skip


def test_the_cli_reports_a_newer_database_in_words(tmp_path):
    db = tmp_path / "progress.sqlite3"
    Store(db).close()
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA user_version = 99")
    result = kata_cli(db, "history")
    assert result.returncode == 1
    assert result.stderr.startswith(f"kata: {db} was written by a newer version of the harness (schema 99 > 1)")
    assert "Traceback" not in result.stderr


# --- paths that cannot hold a database -------------------------------------------------------------
def _bad_paths(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    (tmp_path / "a folder").mkdir()
    (tmp_path / "a file").write_text("")
    return {
        "folder": (tmp_path / "a folder", "it is a directory"),
        "device": (Path("/dev/null"), "it is not a regular file"),
        "under a file": (tmp_path / "a file" / "progress.sqlite3", "it cannot be looked up (Not a directory)"),
        "folder not creatable": (Path("/proc/kata-no-such-folder/progress.sqlite3"),
                                 "its folder /proc/kata-no-such-folder cannot be created (No such file or directory)"),
        "file not creatable": (Path("/proc/progress.sqlite3"), "it cannot be created (No such file or directory)"),
    }  # fmt: skip


@pytest.mark.parametrize("case", ["folder", "device", "under a file", "folder not creatable", "file not creatable"])
def test_a_path_that_cannot_hold_a_database_is_refused_in_one_sentence(tmp_path, case):
    path, problem = _bad_paths(tmp_path)[case]
    dev_journal_before = Path("/dev/null-journal").exists()
    with pytest.raises(StoreError) as excinfo:
        Store(path)
    assert str(excinfo.value) == (
        f"Cannot use {path} as the progress database: {problem}; set KATA_DB (or --db) to a file you can write."
    )
    result = kata_cli(path, "history")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"kata: {excinfo.value}\n"
    # Nothing was made or moved: SQLite on /dev/null used to create /dev/null-journal.
    assert Path("/dev/null-journal").exists() == dev_journal_before
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a file", "a folder"]


@pytest.mark.parametrize(
    "args",
    [[], ["list"], ["grade", "02_backprop"], ["watch"], ["hint", "02_backprop"], ["reset", "--all"], ["solution", "02_backprop"],
     ["history"], ["mock"], ["draw"], ["verify"], ["batch", "submissions"], ["gradescope-package"]],  # fmt: skip
    ids=lambda args: " ".join(args) or "board",
)
def test_every_command_refuses_a_folder_as_database_in_one_line(tmp_path, args):
    result = kata_cli(tmp_path, *args)
    assert result.returncode == 1
    assert result.stderr == f"kata: Cannot use {tmp_path} as the progress database: it is a directory; set KATA_DB (or --db) to a file you can write.\n"
    assert list(tmp_path.iterdir()) == []


# --- a healthy database that cannot be written -----------------------------------------------------
@pytest.fixture
def shared_dir():
    """A folder another user can enter (pytest's tmp_path is private to its owner); made writable again after."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="kata-store-"))
    folder.chmod(0o755)
    yield folder
    folder.chmod(0o755)
    subprocess.run(["rm", "-rf", str(folder)], check=True)


@pytest.mark.parametrize("read_only", ["file", "folder"])
def test_a_read_only_database_is_read_and_never_moved_aside(shared_dir, read_only):
    """chmod does not stop root, so as root the commands run as uid 65534 ("nobody")."""
    db = shared_dir / "progress.sqlite3"
    store = Store(db)
    store.record_grade(a_result(1.0), "grade")
    store.record_event("02_backprop", "hint", "init_params")  # the first task's first hint
    store.close()
    before = db.read_bytes()
    db.chmod(0o444)
    if read_only == "folder":
        shared_dir.chmod(0o555)
    user = 65534 if os.geteuid() == 0 else None

    history = kata_cli(db, "history", user=user)
    assert history.returncode == 0, history.stderr
    assert history.stderr == ""
    (row,) = [line for line in history.stdout.splitlines() if "02_backprop" in line]
    assert "grade" in row and "fail" in row and "1/2" in row

    hint = kata_cli(db, "hint", "02_backprop", user=user)
    assert hint.returncode == 0, hint.stderr
    assert hint.stdout.startswith("Hint 2 of 3 for init_params")  # the recorded hint 1 was read
    assert hint.stderr == (
        f"kata: Not saved to your history: the hint of 02_backprop; {db} cannot be written (attempt to write a readonly database).\n"
    )
    assert db.read_bytes() == before
    assert list(shared_dir.glob("*.corrupt-*")) == []


# --- a full disk ---------------------------------------------------------------------------------
def big_result() -> KataResult:
    """A grade too big to fit in the pages a small database already has."""
    tests = [results.TestResult("test_a", Status.FAIL, "x" * 20_000, 0.0, 1.0)]
    return KataResult("02_backprop", "katas/02_backprop/backprop.py", Status.FAIL, tests, None, 0.5)


def test_a_full_disk_loses_only_the_grade_and_says_so(tmp_path):
    db = tmp_path / "progress.sqlite3"
    warnings: list[str] = []
    store = Store(db, warn=warnings.append)
    try:
        store.record_event("02_backprop", "hint", "1")
        # SQLite's own cap on the file's size: growing past it fails exactly as a full disk does
        # (SQLITE_FULL, "database or disk is full"), and SQLite rolls the transaction back itself.
        pages = store._db.execute("PRAGMA page_count").fetchone()[0]
        store._db.execute(f"PRAGMA max_page_count = {pages}")
        store.record_grade(big_result(), "grade")
        assert warnings == [f"Not saved to your history: the grade of 02_backprop; {db} cannot be written (database or disk is full)."]
        assert store.grades() == []
        assert [d for _, d in store.events("02_backprop", "hint")] == ["1"]

        store._db.execute("PRAGMA max_page_count = 1073741823")  # room again: the connection was left usable
        store.record_grade(big_result(), "grade")
        assert len(store.grades()) == 1 and len(warnings) == 1
    finally:
        store.close()
    again = Store(db)
    assert again.notice is None and list(tmp_path.glob("*.corrupt-*")) == []
    again.close()


@pytest.fixture
def full_disk(tmp_path):
    """A 64 KiB tmpfs holding an open database, then filled to the last byte; skipped where mounting is not allowed."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        db = mount / "progress.sqlite3"
        holder = Store(db)  # keeps its -wal and -shm files in place while the disk fills
        holder.record_event("02_backprop", "hint", "1")
        with contextlib.suppress(OSError), open(mount / "filler", "wb") as fh:
            while True:
                fh.write(bytes(4096))
                fh.flush()
        with pytest.raises(OSError) as excinfo:
            (mount / "probe").write_bytes(bytes(4096))
        assert excinfo.value.errno == errno.ENOSPC
        yield db
        holder.close()
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_grade_on_a_really_full_disk_is_shown_with_a_one_line_warning(full_disk, monkeypatch, capsys):
    monkeypatch.setenv("KATA_DB", str(full_disk))
    monkeypatch.setenv("NO_COLOR", "1")
    # The grading itself is not under test: a verdict as the sandbox returns it; katas/ is not touched.
    monkeypatch.setattr(cli, "_grade_all", lambda katas, root, limits, out: [big_result()])
    monkeypatch.setattr(cli.workspace, "ensure", lambda kata, store: None)
    assert cli.main(["grade", "02_backprop"]) == cli.EXIT_FAILED
    out, err = capsys.readouterr()
    assert "FAIL  02_backprop  0/1  katas/02_backprop/backprop.py" in out
    assert "Total 0/1: 0 of 1 katas pass." in out
    assert err == f"kata: Not saved to your history: the grade of 02_backprop; {full_disk} cannot be written (database or disk is full).\n"


# --- workspace.reset never loses the learner's file ------------------------------------------------
@pytest.fixture
def learner_root(tmp_path):
    """A folder laid out like katas/ with a learner file for 02_backprop that is not the stub."""
    root = tmp_path / "katas"
    target = KATA.learner_file(root)
    target.parent.mkdir(parents=True)
    target.write_text("def forward(X, params):\n    return 'my first attempt'\n")
    return root


def test_reset_backs_the_file_up_then_restores_the_stub(tmp_path, learner_root):
    target = KATA.learner_file(learner_root)
    old = target.read_bytes()
    saved = workspace.reset(KATA, tmp_path / "backups", learner_root)
    assert saved is not None and saved.is_file()
    assert saved.is_relative_to(tmp_path / "backups")
    assert saved.name == KATA.filename and saved.parent.name == KATA.id
    assert saved.read_bytes() == old
    assert target.read_bytes() == KATA.pristine_path.read_bytes()
    assert list(target.parent.glob("*kata-tmp*")) == []  # no temporary file left behind


def test_two_resets_in_the_same_second_keep_both_backups(tmp_path, learner_root, monkeypatch):
    monkeypatch.setattr(workspace.time, "strftime", lambda fmt, *args: "20250101-120000")
    target = KATA.learner_file(learner_root)
    backups = tmp_path / "backups"
    first = target.read_bytes()
    saved_first = workspace.reset(KATA, backups, learner_root)
    target.write_text("def forward(X, params):\n    return 'my second attempt'\n")
    second = target.read_bytes()
    saved_second = workspace.reset(KATA, backups, learner_root)
    assert saved_first != saved_second
    assert saved_first.read_bytes() == first
    assert saved_second.read_bytes() == second
    assert sorted(p.read_bytes() for p in backups.rglob(KATA.filename)) == sorted([first, second])


def test_two_real_resets_in_quick_succession_keep_both_backups(tmp_path, learner_root):
    target = KATA.learner_file(learner_root)
    contents = []
    for attempt in range(3):
        target.write_text(f"# attempt {attempt}\n")
        contents.append(target.read_bytes())
        workspace.reset(KATA, tmp_path / "backups", learner_root)
    assert sorted(p.read_bytes() for p in (tmp_path / "backups").rglob(KATA.filename)) == sorted(contents)


def test_resetting_a_pristine_or_missing_file_makes_no_backup(tmp_path):
    root = tmp_path / "katas"
    backups = tmp_path / "backups"
    assert workspace.reset(KATA, backups, root) is None  # missing: the stub is created
    assert KATA.learner_file(root).read_bytes() == KATA.pristine_path.read_bytes()
    assert workspace.reset(KATA, backups, root) is None  # pristine: nothing of the learner's to keep
    assert not backups.exists()


def test_the_learner_file_is_never_half_written(tmp_path, learner_root, monkeypatch):
    """If copying the stub fails, the learner's file is untouched (and it was backed up first)."""
    target = KATA.learner_file(learner_root)
    old = target.read_bytes()

    real_copyfile = workspace.shutil.copyfile

    def broken_copy(src, dst, *args, **kwargs):
        if not str(dst).endswith("kata-tmp"):
            return real_copyfile(src, dst, *args, **kwargs)
        Path(dst).write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(workspace.shutil, "copyfile", broken_copy)
    with pytest.raises(OSError):
        workspace.reset(KATA, tmp_path / "backups", learner_root)
    assert target.read_bytes() == old
    assert [p.read_bytes() for p in (tmp_path / "backups").rglob(KATA.filename)] == [old]
