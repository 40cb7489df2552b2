# --- hostile: well-formed replies, out of turn (appended to a submission by tests/test_hostile.py) -
# backward() finds its own reply pipe in /proc/self/cmdline (the boot line ends `main(R, W)`) and
# writes 50 perfectly framed `["ok", None, []]` replies into it before raising NotImplementedError:
# the grader reads one as backward()'s answer and the rest as the answers of the requests after it.
# Whatever that earns, it is no more than `return None` earns honestly.
def backward(X, y, params, cache):
    import os as _os
    import re as _re
    import struct as _struct

    import msgpack as _msgpack

    with open("/proc/self/cmdline", "rb") as fh:
        found = _re.search(rb"main\((\d+), (\d+)\)", fh.read())
    if found:
        body = _msgpack.packb(["ok", None, []])
        try:
            _os.write(int(found.group(2)), (_struct.pack(">I", len(body)) + body) * 50)
        except OSError:
            pass
    raise NotImplementedError("backward() is not implemented yet (Task 02.4)")
