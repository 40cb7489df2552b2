"""`kata batch`'s zygote (harness/jail/zygote.py): learner processes forked from one jail, each as
confined as a learner process of its own. Where the zygote cannot run (no bubblewrap, not root) the
batch starts each learner process as before, and that is checked instead."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from conftest import solution_source
from harness.grading import registry
from harness.grading.learner import load
from harness.instructor import batch
from harness.jail import spawn, zygote
from harness.jail.proxy import LearnerDied

PROBES = textwrap.dedent(
    """
    import os, socket, numpy

    def probe(other_folder, other_pid):
        seen = {"uid": os.getuid(), "cwd": os.getcwd(), "numpy": numpy.__version__}
        for name, attempt in {
            "list /kata": lambda: os.listdir("/kata"),
            "read a classmate's file": lambda: open(other_folder + "/probes.py").read(),
            "reach the zygote": lambda: socket.socket(socket.AF_UNIX).connect("/ctl/zygote.sock"),
            "signal a classmate": lambda: os.kill(other_pid, 0),
        }.items():
            try:
                attempt()
                seen[name] = "allowed"
            except OSError as exc:
                seen[name] = type(exc).__name__
        return seen
    """
)


def test_a_batch_learner_is_a_fork_of_the_zygote_and_sees_only_its_own(tmp_path):
    with zygote.running() as socket_path:
        if socket_path is None:  # no bubblewrap or not root: a batch starts each learner process as before
            iso = spawn.isolation()
            assert iso.level != spawn.BUBBLEWRAP or not iso.own_uid
            assert zygote.ZYGOTE_ENV not in os.environ
            return
        assert os.environ[zygote.ZYGOTE_ENV] == socket_path
        modules = []
        for name in ("ada", "bob"):
            (tmp_path / name).mkdir()
            (tmp_path / name / "probes.py").write_text(PROBES)
            modules.append(load(tmp_path / name / "probes.py", callables=frozenset({"probe"})))
        ada, bob = modules
        assert all(isinstance(m.process.numeric._jail.process, zygote.ZygoteChild) for m in modules)
        bob_seen = bob.probe("/kata/0", 1)  # its own view first: where it lives, as whom
        seen = ada.probe(bob_seen["cwd"], bob.process.numeric._jail.process.pid)
        assert seen["uid"] != bob_seen["uid"] and seen["uid"] >= spawn.FIRST_UID
        assert seen["cwd"] == f"/kata/{seen['uid']}"
        assert {k: v for k, v in seen.items() if k not in ("uid", "cwd", "numpy")} == {
            "list /kata": "PermissionError",
            "read a classmate's file": "PermissionError",
            "reach the zygote": "PermissionError",
            "signal a classmate": "PermissionError",
        }
        uids = [m.process.numeric._jail.uid for m in modules]
        for m in modules:
            m.process.close()
        alive = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _uid(p) in uids]
        assert alive == []
    assert zygote.ZYGOTE_ENV not in os.environ


def _uid(proc: Path) -> int | None:
    try:
        return proc.stat().st_uid
    except OSError:
        return None


HOARD = textwrap.dedent(
    """
    import errno, os, numpy

    def fill(folder, mib):
        \"\"\"Files of 8 MiB (one file is capped at 16) in `folder` up to `mib`: what stopped it, and how far.\"\"\"
        block = b"x" * 2**20
        written = 0
        try:
            while written < mib:
                with open(f"{folder}/fill-{written}.bin", "wb") as fh:
                    for _ in range(8):
                        fh.write(block)
                        fh.flush()
                        written += 1
        except OSError as exc:
            return written, errno.errorcode[exc.errno]
        return written, None

    def tmp_files():
        return sorted(os.listdir("/tmp"))

    def hold(mib):
        return float(numpy.ones(mib * 2**17).sum())  # touched: resident

    def cgroups():
        return {line.split(":")[1]: line.split(":")[2] for line in open("/proc/self/cgroup").read().split()}
    """
)


def _classmates(tmp_path: Path, limits: spawn.JailLimits):
    modules = []
    for name in ("ada", "bob"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "hoard.py").write_text(HOARD)
        modules.append(load(tmp_path / name / "hoard.py", callables=frozenset({"fill", "tmp_files", "hold", "cgroups"}), limits=limits))
    return modules


def test_a_batch_learner_writes_nothing_to_disk_and_has_a_small_tmp_of_its_own(tmp_path):
    """The red team's disk attack: 200 MiB of files in the learner's folder reached the grader's disk."""
    limits = spawn.JailLimits()
    with zygote.running(limits) as socket_path:
        if socket_path is None:
            return  # checked by the first test: no zygote here
        ada, bob = _classmates(tmp_path, limits)
        assert ada.fill(".", 200) == (0, "EROFS")  # its folder is read-only, as in a fresh jail
        written, stopped = ada.fill("/tmp", 200)
        assert stopped == "ENOSPC" and written <= limits.scratch_bytes // 2**20
        assert bob.tmp_files() == []  # not ada's /tmp
        assert bob.fill("/tmp", 8) == (8, None)  # nor sharing its space
        assert bob.tmp_files() == ["fill-0.bin"] and len(ada.tmp_files()) > 1
        works = [m.process.numeric._jail.work for m in (ada, bob)]
        for m in (ada, bob):
            m.process.close()
        assert not any(w.exists() for w in works)


def test_a_batch_learner_over_its_memory_limit_is_killed_and_told_and_a_classmate_is_not(tmp_path):
    """The red team's memory attack: nothing bounded a learner's processes together. Here 400 MiB
    against a limit of 256 MiB (a cgroup per learner process), or, without cgroups, lower hard limits."""
    limits = spawn.JailLimits(memory=256 * 2**20)
    iso = spawn.isolation()
    with zygote.running(limits) as socket_path:
        ada, bob = _classmates(tmp_path, limits)
        if iso.cgroups:
            assert ada.cgroups() != bob.cgroups()  # each its own memory limit and CPU share
        try:
            ada.hold(400)
            raise AssertionError("400 MiB held under a limit of 256 MiB")
        except LearnerDied as exc:
            assert "memory limit" in str(exc) or not iso.cgroups, exc
        except MemoryError:  # without a cgroup: the address space it may have is the limit
            assert not iso.cgroups
        assert bob.hold(100) == 100 * 2**17
        if socket_path is not None:
            assert isinstance(bob.process.numeric._jail.process, zygote.ZygoteChild)
        for m in (ada, bob):
            m.process.close()


def test_without_a_cgroup_memory_is_bounded_by_address_space_times_processes():
    limits = spawn.JailLimits(memory=2**30)
    setup = spawn._setup(limits, None, 200_001, (), "/kata", sympy=False)
    assert setup["limits"]["address_space"] * setup["limits"]["processes"] <= 4 * limits.memory
    assert "memory" not in setup["limits"]


def test_a_batch_classmate_of_a_disk_filler_scores_full_marks(tmp_path):
    """The disk attack through `kata batch` itself: the filler's writes fail, and both are graded."""
    kata = registry.get("02_backprop")
    reference = solution_source(kata.id)
    filler = reference + textwrap.dedent(
        """
        def _fill():
            block = b"x" * (8 * 2**20)
            for folder in (".", "/tmp"):
                for n in range(25):  # 200 MiB
                    try:
                        with open(f"{folder}/fill-{n}.bin", "wb") as fh:
                            fh.write(block)
                    except OSError as exc:
                        print("stopped:", folder, exc)
                        break

        _fill()
        """
    )
    for name, source in (("a_filler", filler), ("b_honest", reference)):
        folder = tmp_path / "subs" / name / kata.id
        folder.mkdir(parents=True)
        (folder / f"{kata.module}.py").write_text(source)
    graded = {g.learner: g.results[0] for g in batch.grade_all(tmp_path / "subs", [kata], workers=2)}
    assert graded["b_honest"].score == graded["b_honest"].max_score > 0, graded["b_honest"].error
    assert graded["a_filler"].score == graded["a_filler"].max_score, graded["a_filler"].error
