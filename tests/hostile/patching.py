# --- hostile: patching and lying objects (appended to a submission by tests/test_hostile.py) -----
# NumPy is patched in this process so that every comparison says "equal" and every value "finite";
# then each function returns an object that pretends to be a right answer around a wrong one:
#   bce_loss: a float subclass holding 0.5 that equals everything and subtracts to 0;
#   backward: W1 an ndarray subclass whose .shape lies (7 zeros claiming (2, 3)), b1 an empty array
#             subclass, W2 an object that equals everything and turns into zeros of shape (3, 1)
#             with __array__, b2 an object exposing __array_interface__ of a float64 (1,) buffer;
#   train:    a dict subclass whose keys() lie, and losses that are a list subclass of the float lie.
# Its honest counterpart (PATCHING_HONEST in the test, graded too) returns the same numbers as plain
# values: bce_loss 0.5; backward zeros(7), zeros(0), zeros((3, 1)), zeros(1); train unfinished.
import numpy as _np

_np.allclose = lambda *a, **k: True
_np.array_equal = lambda *a, **k: True
_np.isclose = lambda a, b, *r, **k: _np.ones(_np.shape(a), dtype=bool)
_np.isfinite = lambda x, *a, **k: _np.ones(_np.shape(x), dtype=bool)
_np.abs = _np.absolute = lambda x, *a, **k: _np.zeros(_np.shape(x))
_np.testing.assert_allclose = lambda *a, **k: None

_SHAPES = {"W1": (2, 3), "b1": (3,), "W2": (3, 1), "b2": (1,)}


class LyingFloat(float):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __lt__ = __le__ = __gt__ = __ge__ = __eq__
    __hash__ = float.__hash__

    def __sub__(self, other):
        return 0.0

    __rsub__ = __sub__

    def __abs__(self):
        return 0.0


class LyingShape(_np.ndarray):
    @property
    def shape(self):
        return _SHAPES["W1"]

    @property
    def size(self):
        return 6


class EmptyArray(_np.ndarray):
    pass


class AlwaysEqual:
    shape, ndim, dtype = (3, 1), 2, _np.dtype("float64")

    def __eq__(self, other):
        return True

    def __array__(self, dtype=None, copy=None):
        return _np.zeros((3, 1))


class Interface:
    def __init__(self):
        self._keep = _np.zeros(1)
        self.__array_interface__ = self._keep.__array_interface__


class LyingDict(dict):
    def keys(self):
        return _SHAPES.keys()

    def __contains__(self, key):
        return True


class LyingList(list):
    def __len__(self):
        return 2


def bce_loss(y_hat, y):
    return LyingFloat(0.5)


def backward(X, y, params, cache):
    return {
        "W1": _np.zeros(7).view(LyingShape),
        "b1": _np.zeros(0).view(EmptyArray),
        "W2": AlwaysEqual(),
        "b2": Interface(),
    }


def train(X, y, *, epochs=500, lr=1.0, seed=0):
    return LyingDict(), LyingList([LyingFloat(0.5)])
