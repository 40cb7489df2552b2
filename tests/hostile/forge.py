# --- hostile: forged and pickled messages (appended to a submission by tests/test_hostile.py) -----
# backward() writes, to every file descriptor 0-255 it may hold (the pipe to the grader among them):
#   * a frame of bytes msgpack never uses;
#   * a full-marks result pickled the way multiprocessing frames it (a fake "done" for the sandbox);
#   * a pickle whose loading would create __TOUCHED__ on the grader's side, raw and inside msgpack
#     frames (as bytes, and as an extension type the codec does not know);
#   * plain text claiming to be done.
# Then it does what the honest code does: raise NotImplementedError.
def _forged_frames():
    import struct as _struct

    import msgpack as _msgpack

    done, touch = __PICKLED_RESULT__, __PICKLED_TOUCH__
    frames = [
        b"\x00\x00\x00\x10" + b"\xc1" * 16,
        _struct.pack("!i", len(done)) + done,
        _struct.pack(">I", len(touch)) + touch,
    ]
    for payload in (_msgpack.ExtType(42, touch), touch, _msgpack.ExtType(4, done)):
        body = _msgpack.packb(["ok", payload, []], use_bin_type=True)
        frames.append(_struct.pack(">I", len(body)) + body)
    frames.append(b"done: 19/19 passed\n" * 4 + b"\xff" * 64)
    return frames


def backward(X, y, params, cache):
    import os as _os

    frames = _forged_frames()
    for fd in range(256):
        for frame in frames:
            try:
                _os.write(fd, frame)
            except OSError:
                pass
    raise NotImplementedError("backward() is not implemented yet (Task 02.4)")
