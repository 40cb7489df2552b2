"""`kata doctor`: which isolation is in force for learner code here, shown by trying it.

It starts a learner process exactly as a grade does and runs a probe in it: can it import torch,
read the repository's references or /etc/passwd, connect to a port the grader listens on, see
the grader's processes? Each answer is measured, not assumed.
"""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path

from harness.grading import registry
from harness.jail import spawn
from harness.grading.learner import load

PROBE = '''
import os, socket

def probe(solutions, passwd, port):
    def can(action):
        try:
            action()
            return True
        except BaseException:
            return False

    return {
        "import torch": can(lambda: __import__("to" + "rch")),
        "read solutions/": can(lambda: os.listdir(solutions)),
        "read /etc/passwd": can(lambda: open(passwd).read(1)),
        "connect to the grader's machine (a port it listens on)": can(lambda: socket.create_connection(("127.0.0.1", port), timeout=2).close()),
        "see the grader's processes": len([p for p in os.listdir("/proc") if p.isdigit()]) > 3,
        "run as root": os.getuid() == 0,
    }
'''


def report() -> list[tuple[str, bool]]:
    """(what learner code tried, whether it could) for each probe, from a real learner process."""
    with tempfile.TemporaryDirectory(prefix="kata-doctor-") as folder:
        path = Path(folder) / "probe.py"
        path.write_text(PROBE)
        module = load(path, callables=frozenset({"probe"}))
        # Network: a port this process listens on, on the loopback, which only the host's own
        # processes can reach; no traffic leaves the machine.
        with socket.create_server(("127.0.0.1", 0)) as server:
            try:
                found = module.probe(str(registry.REPO_ROOT / "solutions"), "/etc/passwd", server.getsockname()[1])
            finally:
                module.process.close()
    return list(found.items())


def lines() -> list[str]:
    iso = spawn.isolation()
    out = [f"Learner code runs in: {iso.describe()}."]
    for what, could in report():
        out.append(f"  {'yes' if could else 'no ':<4}learner code can {what}")
    if iso.level == spawn.PROCESS:
        out.append("Install bubblewrap (apt-get install bubblewrap) for a jail: the other rows then become no.")
    return out
