"""One jail for a whole `kata batch`: the learner processes are forks of a zygote, not new interpreters.

A learner process started in its own bubblewrap jail spends most of its start on Python and numpy
(~80-140 ms of CPU); a batch starts one per learner and kata, on the same cores that grade. Within a
batch (the grader is root, bubblewrap works) one bubblewrap jail, set up like a learner's, holds a
zygote (harness/jail/child.py: zygote) with numpy and the codec loaded; each learner process is a fork
of it that becomes that learner's process as a new one would: its own session, its setup message,
its own uid, its hard limits, its cgroup (the grader moves it there before it runs the learner's code),
the same import refusals and placeholders (the zygote has no sympy: a process for a kata's symbolic
tasks is a jail of its own).

What it shares with classmates, and what it does not: the PID namespace (a classmate's processes are
visible in /proc, but belong to another uid, which may not signal them) and the read-only view of
Python and its libraries. Each fork has a mount namespace of its own, made while it is still root
(the zygote's one capability beyond changing uid, CAP_SYS_ADMIN, goes with root): its own /tmp, in
memory and as small as a fresh jail's, which ends with it. /kata is read-only, as in a fresh jail;
the learner's folder in it, /kata/<uid>, is its uid's alone (0700), and /kata itself cannot be listed.
The grader asks for a fork over a socket in a root-only folder.

    with zygote.running(limits):   # KATA_ZYGOTE is set meanwhile: spawn.start() forks from it
        ...
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from harness.jail.child import STATUS  # the zygote's answers: a fork's pid, then its exit status

CREDENTIALS = struct.Struct("iII")  # struct ucred: pid, uid, gid

ZYGOTE_ENV = "KATA_ZYGOTE"  # the path of the zygote's socket, while a batch runs; "off": no zygote
OFF = "off"
READY_S = 30.0


class ZygoteChild:
    """A learner process forked by the zygote, standing in for subprocess.Popen: its pid is the zygote's
    namespace's (never signalled from here: the process dies by its uid), its status arrives on the
    connection that asked for it. host_pid: the same process as this grader sees it, to put in a cgroup."""

    def __init__(self, conn: socket.socket, pid: int, host_pid: int) -> None:
        self.conn, self.pid, self.host_pid = conn, pid, host_pid
        self.returncode: int | None = None

    @classmethod
    def fork(cls, socket_path: str, folder: str, fds: tuple[int, int, int]) -> ZygoteChild:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # The fork itself sends its pid; the kernel attaches its credentials, the pid as seen from here.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        conn.connect(socket_path)
        socket.send_fds(conn, [folder.encode()], list(fds))
        data, ancillary, _, _ = conn.recvmsg(STATUS.size, socket.CMSG_SPACE(CREDENTIALS.size))
        credentials = [d for level, kind, d in ancillary if (level, kind) == (socket.SOL_SOCKET, socket.SCM_CREDENTIALS)]
        if len(data) != STATUS.size or not credentials:
            conn.close()
            raise ConnectionError("the zygote did not fork a learner process")
        return cls(conn, STATUS.unpack(data)[0], CREDENTIALS.unpack(credentials[0])[0])

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self.conn], [], [], 0)[0]:
            self._read_status()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self.conn], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired("learner process", timeout)
            self._read_status()
        return self.returncode

    def _read_status(self) -> None:
        try:
            data = _read_exactly(self.conn, STATUS.size)
            self.returncode = STATUS.unpack(data)[0]
        except OSError:  # the zygote itself is gone: so is the fork (it dies with its parent)
            self.returncode = -signal.SIGKILL
        self.conn.close()


def _read_exactly(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the zygote closed the connection")
        data += chunk
    return data


@contextlib.contextmanager
def running(limits=None) -> Iterator[str | None]:
    """Start a zygote for the duration of the block and point KATA_ZYGOTE at it; a no-op (None) where
    it cannot help: without bubblewrap, or when the grader is not root (no uid per learner)."""
    from harness.jail import cgroup, spawn

    iso = spawn.isolation()
    if iso.level != spawn.BUBBLEWRAP or not iso.own_uid or os.environ.get(ZYGOTE_ENV):  # off, or one runs already
        yield None
        return
    root = Path(tempfile.mkdtemp(prefix="kata-zygote-"))
    os.chmod(root, 0o711)
    (root / "work").mkdir(mode=0o711)
    (root / "ctl").mkdir(mode=0o700)
    os.chmod(root / "work", 0o711)  # the learners' uids pass through to their own folder; none lists it
    socket_path = root / "ctl" / "zygote.sock"
    limits = limits or spawn.JailLimits()
    boot = (f"import sys; sys.path[:0] = [{str(spawn.JAILED_LIB)!r}, {str(spawn.JAILED_SITE)!r}];"
            f" from harness.jail.child import zygote; zygote('/ctl/zygote.sock', {limits.scratch_bytes})")  # fmt: skip
    # The grader writes each learner's file into work/; the jail only reads it.
    mounts = ["--ro-bind", str(root / "work"), "/kata", "--bind", str(root / "ctl"), "/ctl"]
    command = spawn._bubblewrap(mounts, True, limits, boot, caps=("CAP_SYS_ADMIN",))
    group = cgroup.create(limits.memory) if iso.cgroups else None  # the zygote's own; each fork moves to its own
    if group is not None:
        command = spawn.joining(group, command)
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, env=spawn.learner_env("/kata"), start_new_session=True)
    try:
        deadline = time.monotonic() + READY_S
        while not socket_path.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the batch's zygote did not start (exit status {process.poll()})")
            time.sleep(0.01)
        os.environ[ZYGOTE_ENV] = str(socket_path)
        yield str(socket_path)
    finally:
        os.environ.pop(ZYGOTE_ENV, None)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        if group is not None:
            group.remove()
        shutil.rmtree(root, ignore_errors=True)
