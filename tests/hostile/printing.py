# --- hostile: 20 MB of output per call (appended to a submission by tests/test_hostile.py) --------
# forward() is the reference's (correct) but prints 20 MB each call; backward() writes 20 MB past
# sys.stdout (to file descriptor 1, to sys.__stdout__ and to /proc/self/fd/2), then raises
# NotImplementedError as the honest code does.
_forward_honest = forward  # noqa: F821 - the reference's, defined above this snippet
_TWENTY_MB = 20 * 2**20


def forward(X, params):
    print("y" * _TWENTY_MB)
    return _forward_honest(X, params)


def backward(X, y, params, cache):
    import os as _os
    import sys as _sys

    chunk = b"z" * 2**20
    for _ in range(20):
        try:
            _os.write(1, chunk)
        except OSError:
            break
    try:
        _sys.__stdout__.write("z" * _TWENTY_MB)
        _sys.__stdout__.flush()
    except (OSError, ValueError):
        pass
    try:
        with open("/proc/self/fd/2", "w") as fh:
            fh.write("z" * _TWENTY_MB)
    except OSError:
        pass
    raise NotImplementedError("backward() is not implemented yet (Task 02.4)")
