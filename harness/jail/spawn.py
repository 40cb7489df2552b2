"""Starting the learner's process in a jail, and ending it with everything it started.

Two isolation levels, the strongest the machine allows (KATA_JAIL=process forces the weaker one):
  * bubblewrap: its own PID, network, IPC and mount namespaces. It sees Python, numpy, msgpack,
    this package's jail/ folder and a private working folder with a copy of the one file it grades;
    not the repository, the specs, the references, other learners or /etc. The autodiff libraries
    are not there at all, nor sympy and mpmath, except in the process for a kata's symbolic tasks
    (harness/jail/proxy.py): elsewhere `import sympy` gives a placeholder (harness/jail/placeholder.py).
    When the grader is root, the process drops to a uid of its own.
  * process: a plain child process in a session of its own, with the same hard limits and the same
    import refusal and placeholder; the filesystem is not hidden (install bubblewrap:
    `apt-get install bubblewrap`), so code that takes the jail's finders off sys.meta_path can reach
    whatever the machine has installed.
Either way the codec of harness/jail/codec.py is the only way in or out, and at the end the whole
process tree dies: the PID namespace with bubblewrap, the session and the learner's uid without.
Where the machine lets the grader make cgroups, each learner process gets one (harness/jail/cgroup.py):
a memory limit on all it starts, and a CPU share of its own.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib.util
import itertools
import os
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from harness.jail import cgroup
from harness.jail.zygote import OFF, ZYGOTE_ENV, ZygoteChild

JAIL_PACKAGE = Path(__file__).resolve().parent  # harness/jail: all of the grader the child may see
ENV_LEVEL = "KATA_JAIL"
BUBBLEWRAP, PROCESS = "bubblewrap", "process"
# What a learner's code may import besides the standard library: numpy (and its bundled libraries)
# and msgpack for the codec; in the process for a kata's symbolic tasks only, sympy (and mpmath, which it needs).
LIBRARIES = ("numpy", "numpy.libs", "msgpack")
SYMPY_LIBRARIES = ("sympy", "mpmath")
FIRST_UID = 200_000  # dedicated uids, one per learner process, far above any real account's
# Without a memory cgroup, what bounds a learner process's memory is its address space times its
# processes: a few, so that the product stays a few GiB (kata code needs one process, and no threads).
PROCESSES_WITHOUT_CGROUP = 4
_started = itertools.count()


def _next_uid() -> int:
    """A uid no other live grader uses: derived from this process's pid (unique among live processes;
    graders forked from one server share everything else), then a counter within it."""
    return FIRST_UID + os.getpid() * 8 + next(_started) % 8


@dataclass(frozen=True)
class JailLimits:
    """Hard resource limits of the learner's process (setrlimit; a process cannot raise its own)."""

    address_space: int = 4 * 2**30
    cpu_seconds: int = 300
    file_size: int = 16 * 2**20
    open_files: int = 64
    processes: int = 64  # only with a uid of its own: RLIMIT_NPROC counts every process of the uid
    output_cap: int = 64 * 2**10  # of prints kept for the learner to read
    scratch_bytes: int = 64 * 2**20  # the jail's /tmp (bubblewrap only), in memory: a cgroup counts it in `memory`
    # All the learner process's processes together, /tmp included: its cgroup's limit. A learner process
    # holds ~70 MiB (Python, numpy, sympy); a batch holds one per grade running, `--workers` of them.
    memory: int = 2**30

    def without_cgroup(self) -> JailLimits:
        """The hard limits that bound memory where no cgroup does: address space x processes."""
        return replace(self, address_space=min(self.address_space, self.memory),
                       processes=min(self.processes, PROCESSES_WITHOUT_CGROUP))  # fmt: skip


@dataclass(frozen=True)
class Isolation:
    level: str
    own_uid: bool  # the grader is root, so each learner process runs as a uid of its own
    cgroups: bool  # each learner process gets a cgroup: a memory limit and a CPU share of its own

    def describe(self, limits: JailLimits = JailLimits()) -> str:
        uid = ", a uid of its own" if self.own_uid else ""
        if self.level == BUBBLEWRAP:
            return (
                f"bubblewrap jail (own PID, network and mount namespaces{uid}; sees only Python's libraries"
                f" and a copy of the file it grades; hard limits; {self.memory(limits)})"
            )
        return (
            f"process isolation (own session{uid}; hard limits; {self.memory(limits)}; the filesystem is not hidden:"
            " install bubblewrap for a jail)"
        )

    def memory(self, limits: JailLimits) -> str:
        """What bounds the memory of a learner process and all it starts."""
        if self.cgroups:
            return f"memory: {mib(limits.memory)} per learner process, in a cgroup with its own CPU share"
        bounded = limits.without_cgroup()
        if self.own_uid:
            return f"memory: no cgroup here, {mib(bounded.address_space)} of address space x {bounded.processes} processes"
        return f"memory: no cgroup here, {mib(bounded.address_space)} of address space per process, processes not counted"


def mib(size: int) -> str:
    return f"{size / 2**30:g} GiB" if size >= 2**30 else f"{size / 2**20:g} MiB"


@functools.cache
def isolation() -> Isolation:
    """The isolation level in force here, found once per process."""
    wanted = os.environ.get(ENV_LEVEL, "").strip().lower()
    level = PROCESS if wanted == PROCESS else BUBBLEWRAP if _bubblewrap_works() else PROCESS
    # In the bubblewrap jail the libraries are mounted where any uid can read them; without it the
    # learner's uid must be able to run this interpreter and its libraries where they are.
    own_uid = os.geteuid() == 0 and (level == BUBBLEWRAP or _uid_can_run_python())
    return Isolation(level, own_uid, cgroups=cgroup.available())


def _bubblewrap_works() -> bool:
    if shutil.which("bwrap") is None:
        return False
    try:
        run = subprocess.run(
            ["bwrap", "--unshare-pid", "--unshare-net", "--die-with-parent", "--ro-bind", "/", "/", "true"],
            capture_output=True, timeout=10,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return False
    return run.returncode == 0


def _uid_can_run_python() -> bool:
    """Python, numpy and msgpack start under an unprivileged uid (not so when they live under /root)."""
    folder = Path(tempfile.mkdtemp(prefix="kata-jail-"))
    os.chmod(folder, 0o755)
    try:
        _lay_out_libraries(folder / "lib")
        code = f"import sys; sys.path[:0] = [{str(folder / 'lib' / 'site')!r}]; import numpy, msgpack"
        run = subprocess.run([str(_python()), "-I", "-S", "-c", code], user=FIRST_UID - 1, group=FIRST_UID - 1,
                             extra_groups=[], capture_output=True, timeout=60, cwd="/")  # fmt: skip
        return run.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@functools.cache
def _library_dirs(sympy: bool = False) -> dict[str, Path]:
    """name -> folder of each library the learner may import (found without importing it)."""
    found = {}
    for name in LIBRARIES + (SYMPY_LIBRARIES if sympy else ()):
        if name == "numpy.libs":
            continue
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            found[name] = Path(next(iter(spec.submodule_search_locations)))
    if "numpy" in found and (found["numpy"].parent / "numpy.libs").is_dir():
        found["numpy.libs"] = found["numpy"].parent / "numpy.libs"
    return found


@functools.cache
def sympy_names() -> list[str]:
    """sympy's __all__, read from its source without importing it (~0.2 s): what `from sympy import *`
    binds where sympy is a placeholder."""
    spec = importlib.util.find_spec("sympy")
    if spec is None or spec.origin is None:
        return []
    for node in ast.parse(Path(spec.origin).read_bytes()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return [str(name) for name in ast.literal_eval(node.value)]
    return []


def _python() -> Path:
    """The interpreter itself, not a virtual environment's link to it (the venv's site is not for the learner)."""
    return Path(os.path.realpath(getattr(sys, "_base_executable", sys.executable)))


@functools.cache
def _site_dirs() -> tuple[str, ...]:
    """Every site-packages of the base interpreter and the system: hidden in the jail, torch may be there."""
    dirs = {sysconfig.get_path("purelib", vars={"base": sys.base_prefix}), sysconfig.get_path("platlib", vars={"platbase": sys.base_prefix})}
    for pattern in ("/usr/lib/python3*/dist-packages", "/usr/local/lib/python3*/dist-packages", "/usr/local/lib/python3*/site-packages", "/usr/lib/python3*/site-packages"):
        dirs.update(str(p) for p in Path("/").glob(pattern.lstrip("/")))
    return tuple(sorted(d for d in dirs if d and os.path.isdir(d)))


@dataclass
class Jailed:
    """A running learner process: its pipes, its private folder, and how to end it."""

    process: subprocess.Popen | ZygoteChild
    to_child: int
    from_child: int
    folder: Path
    work: Path  # the private folder the process sees as its working folder
    output: Path
    uid: int | None
    isolation: Isolation
    setup: dict  # the first message the child reads: its limits, uid and the imports it refuses
    limits: JailLimits  # as asked for (the setup's may be lower: without a cgroup)
    cgroup: cgroup.Cgroup | None
    out_of_memory: bool = False  # once ended: the kernel killed one of its processes at the memory limit

    def place(self, source: bytes, module: str) -> None:
        """The learner's file, as checked, as <module>.py in the private folder: the only file of theirs it sees."""
        target = self.work / f"{module}.py"
        target.write_bytes(source)
        if self.uid is not None:
            os.chown(target, self.uid, self.uid)

    def output_text(self, start: int = 0) -> str:
        """What it printed from byte `start` on, at most the cap (os.write past sys.stdout can write more)."""
        with contextlib.suppress(OSError), self.output.open("rb") as fh:
            fh.seek(start)
            return fh.read(self.limits.output_cap).decode("utf-8", "replace")
        return ""

    def output_size(self) -> int:
        with contextlib.suppress(OSError):
            return self.output.stat().st_size
        return 0

    def end(self, exited: bool = False) -> int | None:
        """Kill the process and everything it started; its exit status (negative: a signal).
        exited: it closed its pipe, so its own status is moments away: wait for that before the kill."""
        if exited:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=1)
        for fd in (self.to_child, self.from_child):
            with contextlib.suppress(OSError):
                os.close(fd)
        if not isinstance(self.process, ZygoteChild):  # a zygote's fork has a pid of its namespace, not ours
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)  # bwrap and, without it, the learner's session
        if self.uid is not None:
            kill_uid(self.uid)  # whatever left the session with setsid(); a zygote's fork and all it started
        status = self.process.wait()
        if self.cgroup is not None:
            self.out_of_memory = self.cgroup.out_of_memory()
            self.cgroup.remove()
        shutil.rmtree(self.folder, ignore_errors=True)
        shutil.rmtree(self.work, ignore_errors=True)
        return status


def kill_uid(uid: int) -> None:
    """SIGKILL every process of `uid` until none is left (a fork racing the kill is caught next round)."""
    for _ in range(50):
        alive = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    if entry.stat().st_uid == uid:
                        alive.append(int(entry.name))
        if not alive:
            return
        for pid in alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def start(*, limits: JailLimits, banned: tuple[str, ...], sympy: bool = False) -> Jailed:
    """Start a learner process with an empty private folder; it waits for its setup message, then for
    the file (Jailed.place) and a load request. Started ahead, it is ready when the file is saved.
    sympy: the process for a kata's symbolic tasks, where sympy is; elsewhere it is a placeholder.
    Within `kata batch` (KATA_ZYGOTE set), the process is a fork of the batch's zygote, which has no
    sympy: a process with sympy is a jail of its own."""
    iso = isolation()
    uid = _next_uid() if iso.own_uid else None
    folder = Path(tempfile.mkdtemp(prefix="kata-jail-"))
    zygote = os.environ.get(ZYGOTE_ENV, OFF) if iso.level == BUBBLEWRAP and uid is not None and not sympy else OFF
    zygote = None if zygote == OFF else zygote
    work = Path(zygote).parent.parent / "work" / str(uid) if zygote else folder / "work"
    work.mkdir()
    output = folder / "output"
    out_fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    if uid is not None:
        os.chmod(folder, 0o711)  # the learner's uid may pass through to its work folder, not list or read the rest
        os.chown(work, uid, uid)
        os.chmod(work, 0o700)
    request_r, request_w = os.pipe()
    reply_r, reply_w = os.pipe()
    group = cgroup.create(limits.memory) if iso.cgroups else None
    if zygote:
        cwd = f"/kata/{uid}"
        try:
            process = ZygoteChild.fork(zygote, cwd, (request_r, reply_w, out_fd))
        except BaseException:
            _forget(group)
            raise
        finally:
            for fd in (request_r, reply_w, out_fd):
                os.close(fd)
        if group is not None:  # the fork waits for its setup: nothing of the learner's has run yet
            try:
                group.add(process.host_pid)
            except OSError:  # then hard limits bound it, as where there are no cgroups
                group = _forget(group)
        return Jailed(process, request_w, reply_r, folder, work, output, uid, iso, _setup(limits, group, uid, banned, cwd, sympy), limits, group)
    if iso.level == BUBBLEWRAP:
        command, cwd = _bubblewrap_command(work, request_r, reply_w, uid, limits, sympy), "/kata"
        if group is not None:
            command = joining(group, command)
    else:
        _lay_out_libraries(folder / "lib", sympy)
        command, cwd = _boot_command(folder / "lib", request_r, reply_w), str(work)
    env = learner_env(cwd)
    user = {"user": uid, "group": uid, "extra_groups": []} if uid is not None and iso.level == PROCESS else {}
    try:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=out_fd, stderr=out_fd, pass_fds=(request_r, reply_w),
            env=env, cwd=str(work) if iso.level == PROCESS else None, start_new_session=True, close_fds=True, **user,
        )  # fmt: skip
    except BaseException:
        _forget(group)
        raise
    finally:
        for fd in (request_r, reply_w, out_fd):
            os.close(fd)
    if group is not None and iso.level == PROCESS:  # one process, waiting for its setup: it has started nothing
        group.add(process.pid)
    return Jailed(process, request_w, reply_r, folder, work, output, uid, iso, _setup(limits, group, uid, banned, cwd, sympy), limits, group)


def _forget(group: cgroup.Cgroup | None) -> None:
    if group is not None:
        group.remove()


def _setup(limits: JailLimits, group: cgroup.Cgroup | None, uid: int | None, banned: tuple[str, ...], cwd: str, sympy: bool) -> dict:
    """The child's first message. Its hard limits are lower where no cgroup bounds its memory; sympy
    and mpmath are placeholders (harness/jail/placeholder.py) but in the process for symbolic tasks."""
    in_force = limits if group is not None else limits.without_cgroup()
    rlimits = {k: v for k, v in asdict(in_force).items() if k not in ("output_cap", "scratch_bytes", "memory") and (k != "processes" or uid is not None)}
    absent = {} if sympy else {"sympy": sympy_names(), "mpmath": []}
    return {"limits": rlimits, "uid": uid, "banned": list(banned), "output_cap": limits.output_cap, "cwd": cwd, "absent": absent}


def joining(group: cgroup.Cgroup, command: list[str]) -> list[str]:
    """The command, run by a shell that first puts itself in the cgroup: bubblewrap forks at once, and
    what it forks must be born inside."""
    procs = " ".join(shlex.quote(str(p)) for p in group.procs)
    return ["/bin/sh", "-c", f'for procs in {procs}; do echo 0 > "$procs" || exit 125; done; exec "$@"', "sh", *command]


def learner_env(cwd: str) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin", "HOME": cwd, "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
        # One thread each: RLIMIT_NPROC counts threads, and the learner's arrays are tiny.
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        # What the machine sets for OpenBLAS (a core type it must not guess wrong) is the learner's numpy's too.
        **{k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_") and k != "OPENBLAS_NUM_THREADS"},
    }  # fmt: skip


def _lay_out_libraries(lib: Path, sympy: bool = False) -> None:
    """lib/harness/jail (the child and the codec) and lib/site/<library>, as links: what the child imports
    without bubblewrap. Inside bubblewrap the same places are bind mounts of the real folders."""
    (lib / "harness").mkdir(parents=True)
    (lib / "harness" / "__init__.py").write_text("")
    (lib / "harness" / "jail").symlink_to(JAIL_PACKAGE)
    (lib / "site").mkdir()
    for name, path in _library_dirs(sympy).items():
        (lib / "site" / name).symlink_to(path)
    os.chmod(lib, 0o755)


BOOT = "import sys; sys.path[:0] = [{lib!r}, {site!r}]; from harness.jail.child import main; main({r}, {w})"
JAILED_LIB, JAILED_SITE = Path("/opt/kata/lib"), Path("/opt/kata/site")  # where the jail sees them


def _boot_command(lib: Path, r: int, w: int) -> list[str]:
    return [str(_python()), "-I", "-S", "-B", "-c", BOOT.format(lib=str(lib), site=str(lib / "site"), r=r, w=w)]


def _bubblewrap_command(work: Path, r: int, w: int, uid: int | None, limits: JailLimits, sympy: bool) -> list[str]:
    boot = BOOT.format(lib=str(JAILED_LIB), site=str(JAILED_SITE), r=r, w=w)
    mounts = ["--ro-bind", str(work), "/kata"]  # the one file, read-only
    return _bubblewrap(mounts, uid is not None, limits, boot, sympy)


def _bubblewrap(mounts: list[str], setuid: bool, limits: JailLimits, boot: str, sympy: bool = False, caps: tuple[str, ...] = ()) -> list[str]:
    """sympy: mount sympy and mpmath (the process for symbolic tasks). caps: more capabilities its own
    code needs (the zygote's: to mount), dropped with root."""
    python = _python()
    prefix = Path(sys.base_prefix).resolve()
    inside = JAILED_LIB.parent
    args = [
        "bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
        "--die-with-parent", "--new-session",
        "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
        "--symlink", "usr/bin", "/bin",
    ]  # fmt: skip
    if not prefix.is_relative_to("/usr"):
        args += ["--ro-bind", str(prefix), str(prefix)]
    for site in _site_dirs():
        args += ["--tmpfs", site]
    args += ["--ro-bind", str(JAIL_PACKAGE), str(inside / "lib/harness/jail")]
    args += ["--ro-bind", str(JAIL_PACKAGE.parent / "__init__.py"), str(inside / "lib/harness/__init__.py")]
    for name, path in _library_dirs(sympy).items():
        args += ["--ro-bind", str(path), str(inside / "site" / name)]
    # /kata holds the learner's folder; scratch space is a small /tmp in memory, so a loop that
    # writes files fills 64 MiB of its own, not the grader's disk.
    args += [*mounts, "--proc", "/proc", "--dev", "/dev"]
    args += ["--perms", "1777", "--size", str(limits.scratch_bytes), "--tmpfs", "/tmp"]
    args += ["--cap-drop", "ALL"]
    if setuid:  # only to drop root for the learner's uid, before any of their code runs
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    for cap in caps:
        args += ["--cap-add", cap]
    return [*_open_parents(args), str(python), "-I", "-S", "-B", "-c", boot]


def _open_parents(args: list[str]) -> list[str]:
    """Make the folders bubblewrap creates on the way to each mount point traversable (0755): it
    creates them with the grader's umask, and the learner's uid must walk through them."""
    targets = [args[i + 2] for i, a in enumerate(args) if a in ("--ro-bind", "--bind")]
    parents = sorted({str(p) for t in targets for p in Path(t).parents if str(p) != "/"}, key=lambda p: p.count("/"))
    dirs = [x for p in parents for x in ("--perms", "0755", "--dir", p)]
    first = args.index("--ro-bind")
    return [*args[:first], *dirs, *args[first:]]


def sealed(command: list[str]) -> tuple[list[str], dict[str, str]]:
    """A tool the grader runs on a learner's text (Graphviz on kata 03's to_dot()), as (command, env):
    with bubblewrap it sees /usr and nothing of the machine, the network or the grader's processes;
    without, Graphviz's own safe mode (SERVER_NAME set) reads no file the text names."""
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "SERVER_NAME": "kata", "GV_FILE_PATH": "/nonexistent"}
    if isolation().level != BUBBLEWRAP:
        return command, env
    jail = [
        "bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
        "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
        "--symlink", "usr/bin", "/bin", "--ro-bind-try", "/etc/fonts", "/etc/fonts", "--dev", "/dev",
        "--tmpfs", "/tmp", "--chdir", "/tmp",
    ]  # fmt: skip
    return [*jail, *command], env
