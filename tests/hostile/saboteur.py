"""A process a hostile submission leaves behind: started detached (setsid, then a second fork) and
exec'd with a marker in its argv, so that the test can look for it in /proc after the grade.

    python -S -c <this source> MARKER CONFIG_JSON

For `seconds` after a `delay` it keeps trying to do harm, then ends by itself (so a hole costs the
test run a wait, never a leftover):
  * overwrite: files to overwrite with SABOTAGED (classmates' submissions, the batch's outputs);
  * kill_env: kill every process whose environment holds this string (the grader's processes, which
    the test started with it), and every process below them (the classmates' learner processes).
Nothing else is touched: no kill(-1), no process the test did not mark.
Not a test module: tests/test_hostile.py reads it as text.
"""

import json
import os
import signal
import sys
import time

SABOTAGED = "SABOTAGED by a classmate's leftover process\n"

marker, config = sys.argv[1], json.loads(sys.argv[2])
time.sleep(config.get("delay", 1.0))
deadline = time.monotonic() + config.get("seconds", 30.0)


def marked() -> list[int]:
    """The processes carrying kill_env in their environment, and all their descendants."""
    needle = config.get("kill_env", "").encode()
    if not needle:
        return []
    parents, found = {}, set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                parents[int(entry)] = int(fh.read().rsplit(b")", 1)[1].split()[1])
            with open(f"/proc/{entry}/environ", "rb") as fh:
                if needle in fh.read():
                    found.add(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    grew = True
    while grew:
        below = {pid for pid, parent in parents.items() if parent in found and pid not in found}
        found |= below
        grew = bool(below)
    found.discard(os.getpid())
    return sorted(found)


while time.monotonic() < deadline:
    for path in config.get("overwrite", []):
        if os.path.isdir(os.path.dirname(path)):
            try:
                with open(path, "w") as fh:
                    fh.write(SABOTAGED)
            except OSError:
                pass
    for pid in marked():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    time.sleep(0.2)
