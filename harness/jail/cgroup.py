"""A cgroup per learner process: a memory limit on it and everything it starts, and a CPU share of its own.

Hard limits (setrlimit) bound one process: 4 GiB of address space times 64 processes per uid is more
memory than the machine has. A memory cgroup bounds what all of a learner process's processes hold
together, tmpfs pages (its /tmp) included; going over it gets one of them killed by the kernel, the
largest, theirs. The same cgroup in the cpu hierarchy makes the learner one scheduling entity with the
default weight, so 60 busy processes get the CPU of one, whatever sessions they make (autogroup, which
otherwise does this per session, is a kernel option and a learner may start sessions).

Each is a child of the grader's own cgroup, found from what is mounted: cgroup v1 (a hierarchy per
controller: memory.limit_in_bytes, memory.memsw.limit_in_bytes, memory.oom_control) or v2 (one:
memory.max, memory.swap.max, memory.events). Where none can be made (not root, a read-only /sys/fs/cgroup,
a v2 cgroup that holds processes and so cannot give its children controllers), create() says None and
spawn.py bounds memory with lower hard limits instead.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

CONTROLLERS = ("memory", "cpu")
_made = itertools.count()


@dataclass(frozen=True)
class Hierarchy:
    version: int  # 1 or 2
    parent: Path  # the grader's own cgroup in it, where the learners' are made
    controllers: tuple[str, ...]  # of CONTROLLERS, the ones this hierarchy holds


@dataclass
class Cgroup:
    """One learner process's cgroup, a folder in each hierarchy."""

    folders: list[Path]
    version: int
    memory: int

    @property
    def procs(self) -> list[Path]:
        """The files a process joins by writing its pid (0: itself)."""
        return [folder / "cgroup.procs" for folder in self.folders]

    def add(self, pid: int) -> None:
        for procs in self.procs:
            procs.write_text(str(pid))

    def out_of_memory(self) -> bool:
        """Whether the kernel killed one of its processes for going over the limit."""
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        with contextlib.suppress(OSError, ValueError):
            for line in (self.folders[0] / name).read_text().splitlines():
                if line.split()[:1] == ["oom_kill"]:
                    return int(line.split()[1]) > 0
        return False

    def remove(self) -> None:
        """Kill whatever is still in it, then remove it (a cgroup with processes cannot be)."""
        for folder in self.folders:
            for _ in range(200):
                with contextlib.suppress(OSError):
                    pids = [int(p) for p in (folder / "cgroup.procs").read_text().split()]
                    for pid in pids:
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(pid, signal.SIGKILL)
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # processes killed a moment ago are still exiting
                    time.sleep(0.005)


def available() -> bool:
    return bool(_hierarchies())


def create(memory: int) -> Cgroup | None:
    """A new cgroup limited to `memory` bytes (swap included, where swap is counted), or None where the
    machine does not let this grader make one."""
    hierarchies = _hierarchies()
    if not hierarchies:
        return None
    name = f"kata-{os.getpid()}-{next(_made)}"
    folders: list[Path] = []
    try:
        for h in hierarchies:  # memory's first: out_of_memory() reads it
            folder = h.parent / name
            folder.mkdir()
            folders.append(folder)
            if "memory" in h.controllers:
                _limit_memory(h.version, folder, memory)
    except OSError:
        Cgroup(folders, hierarchies[0].version, memory).remove()
        return None
    return Cgroup(folders, hierarchies[0].version, memory)


def _limit_memory(version: int, folder: Path, memory: int) -> None:
    if version == 1:
        (folder / "memory.limit_in_bytes").write_text(str(memory))
        if (folder / "memory.memsw.limit_in_bytes").exists():  # memory + swap: swap must not extend it
            (folder / "memory.memsw.limit_in_bytes").write_text(str(memory))
    else:
        (folder / "memory.max").write_text(str(memory))
        if (folder / "memory.swap.max").exists():
            (folder / "memory.swap.max").write_text("0")


@functools.cache
def _hierarchies() -> tuple[Hierarchy, ...]:
    """Where this grader may make learner cgroups: memory's hierarchy first, then cpu's if it is another.
    Empty when there is no memory controller to use; each proven once by making and removing a cgroup."""
    usable = tuple(h for h in _mounted() if _can_make(h.parent))
    for h in usable:
        _sweep(h.parent)
    return usable if usable and "memory" in usable[0].controllers else ()


def _sweep(parent: Path) -> None:
    """Remove the empty cgroups of graders that are gone: one killed (a sandbox's grading server is, at
    its end) leaves those of the learner processes it had started ahead, which died with it."""
    for folder in parent.glob("kata-*-*"):
        pid = folder.name.split("-")[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            with contextlib.suppress(OSError):  # not empty: not ours to end
                folder.rmdir()


def _can_make(parent: Path) -> bool:
    probe = parent / f"kata-{os.getpid()}-probe"
    try:
        probe.mkdir()
        probe.rmdir()
    except OSError:
        return False
    return True


def _mounted() -> tuple[Hierarchy, ...]:
    """The hierarchies holding CONTROLLERS, each with the grader's own cgroup in it (/proc/self/cgroup)."""
    own: dict[str, str] = {}  # "memory", "cpu" (v1) or "" (v2) -> the path of the grader's cgroup
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, names, path = line.split(":", 2)
            for name in names.split(",") if names else [""]:
                own[name] = path
    v1: dict[str, Path] = {}
    v2: Path | None = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mounts").read_text().splitlines():
            _, point, kind, options = line.split()[:4]
            if kind == "cgroup":
                for name in set(options.split(",")) & set(CONTROLLERS):
                    v1[name] = Path(point)
            elif kind == "cgroup2":
                v2 = Path(point)
    found = []
    for name in CONTROLLERS:
        if name in v1 and name in own:
            parent = v1[name] / own[name].lstrip("/")
            if all(h.parent != parent for h in found):  # controllers mounted together are one hierarchy
                found.append(Hierarchy(1, parent, tuple(n for n in CONTROLLERS if v1.get(n) == v1[name])))
    v2_wanted = [name for name in CONTROLLERS if name not in v1]
    if v2 is not None and "" in own and v2_wanted:
        parent = v2 / own[""].lstrip("/")
        usable = tuple(name for name in v2_wanted if _v2_delegates(parent, name))
        if usable:
            found.append(Hierarchy(2, parent, usable))
    found.sort(key=lambda h: "memory" not in h.controllers)
    return tuple(found)


def _v2_delegates(parent: Path, name: str) -> bool:
    """Whether the grader's v2 cgroup gives its children this controller, enabling it if need be (which
    the kernel refuses while the cgroup itself holds processes, unless it is the root)."""
    control = parent / "cgroup.subtree_control"
    with contextlib.suppress(OSError):
        if name in control.read_text().split():
            return True
        if name in (parent / "cgroup.controllers").read_text().split():
            control.write_text(f"+{name}")
            return True
    return False
