# --- hostile: code that will not stop (appended to a submission by tests/test_hostile.py) ---------
# Each function hangs in a way a Python-level alarm cannot end; forward() is the honest part (the
# reference's, correct). The test runs this through plain `pytest katas/02_backprop --impl DIR`.
import signal as _signal
import threading as _threading
import time as _time


def init_params(rng):
    # The alarm the learner's process uses to stop a request, ignored (and blocked), then a loop.
    _signal.signal(_signal.SIGALRM, _signal.SIG_IGN)
    _signal.pthread_sigmask(_signal.SIG_BLOCK, {_signal.SIGALRM})
    while True:
        pass


def bce_loss(y_hat, y):
    # A loop in C: no bytecode runs, so no Python signal handler can run until it returns (days).
    return float(sum(range(10**12)))


class _Stubborn:
    def __del__(self):
        # An exception raised in __del__ is printed and dropped: the alarm's exception included.
        while True:
            try:
                _time.sleep(0.05)
            except BaseException:  # noqa: BLE001
                pass


def backward(X, y, params, cache):
    stubborn = _Stubborn()
    del stubborn  # __del__ runs here, and never returns
    raise NotImplementedError("backward() is not implemented yet (Task 02.4)")


def train(X, y, *, epochs=500, lr=1.0, seed=0):
    # A thread that is not a daemon and never ends: it must not keep anything waiting.
    _threading.Thread(target=lambda: _time.sleep(10**6), daemon=False).start()
    raise NotImplementedError("train() is not implemented yet (Task 02.5)")
