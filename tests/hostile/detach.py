# --- hostile: leave a process behind (appended to a submission by tests/test_hostile.py) ---------
# A double fork with setsid() in between: the grandchild is in a session of its own, its parent has
# exited, and it execs the saboteur (tests/hostile/saboteur.py) with a marker in its argv.
def _leave_a_process_behind():
    import json as _json
    import os as _os
    import sys as _sys

    try:
        first = _os.fork()
    except OSError:
        return
    if first == 0:
        try:
            _os.setsid()
            if _os.fork() == 0:
                _os.execv(_sys.executable, [_sys.executable, "-S", "-c", __SABOTEUR__, __MARKER__, _json.dumps(__CONFIG__)])
        except BaseException:
            pass
        _os._exit(0)
    _os.waitpid(first, 0)


_leave_a_process_behind()
