"""`kata batch`'s zygote (harness/jail/zygote.py): learner processes forked from one jail, each as
confined as a learner process of its own. Where the zygote cannot run (no bubblewrap, not root) the
batch starts each learner process as before, and that is checked instead."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from harness.grading.learner import load
from harness.jail import spawn, zygote

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
            modules.append(load(tmp_path / name / "probes.py"))
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
