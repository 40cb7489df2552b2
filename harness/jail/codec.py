"""Plain data across the boundary between the grader and the learner's process: msgpack, never pickle.

Both sides use this module. What may cross:
  * None, bool, int, float, str, bytes, list, dict (msgpack's own types); tuples stay tuples;
  * NumPy arrays and scalars of numeric dtypes, as dtype + shape + bytes; a decoded array is a
    fresh, writable base ndarray whose shape is checked against its bytes (no subclass, no view);
  * complex numbers, ints past 64 bits, NumPy Generators (their bit generator's state);
  * sympy expressions, as a tree of node names that the grader rebuilds from a whitelist of sympy
    classes (never sympify or eval of text);
  * handles: an object that cannot be sent as data (a learner's Value, a function) stays where it
    lives and is sent as a number; the other side gets a proxy whose uses are further calls.
Anything else is a CodecError, on either side: a malformed message is a failure, never code run.
"""

from __future__ import annotations

import math
import sys
from typing import Any, Callable

import msgpack
import numpy as np

NDARRAY, NPSCALAR, TUPLE, HANDLE, BIGINT, COMPLEX, GENERATOR, SYMPY = range(1, 9)
NUMERIC_KINDS = "biufc"  # bool, signed, unsigned, float, complex: no objects, strings or records
MAX_MESSAGE_BYTES = 64 * 2**20  # far above any kata's answer; a learner's process may not make the grader hold more
# ... nor make it build more than this many lists, dicts and extension values from one message: each is
# one byte on the wire and ~60 in Python (an array is one, however large: its data is bytes).
MAX_MESSAGE_OBJECTS = 1_000_000


class CodecError(ValueError):
    """A value that may not cross the boundary, or a message that is not well-formed."""


def _dtype(text: Any) -> np.dtype:
    known = _DTYPES.get(text) if type(text) is str else None
    if known is not None:
        return known
    try:
        dtype = np.dtype(text) if isinstance(text, str) else None
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in NUMERIC_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise CodecError(f"an array dtype that is not numeric: {text!r}")
    if len(_DTYPES) < 64:
        _DTYPES[text] = dtype
    return dtype


_DTYPES: dict[str, np.dtype] = {}  # dtype text -> the numeric dtype it was checked to be: np.dtype() is slow


def _array(dtype_text: Any, shape: Any, data: Any) -> np.ndarray:
    dtype = _dtype(dtype_text)
    if not (isinstance(shape, list) and len(shape) <= 32 and all(type(n) is int and n >= 0 for n in shape)):
        raise CodecError(f"an array shape that is not a list of sizes: {shape!r}")
    if not isinstance(data, bytes) or len(data) != math.prod(shape) * dtype.itemsize:
        raise CodecError(f"an array of shape {tuple(shape)} and dtype {dtype} whose data has the wrong length")
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


class Codec:
    """Encodes and decodes one side's messages.

    `to_handle(obj)` is asked for a handle number for an object that is not data (None: refuse it);
    `from_handle(number, info)` turns a handle received from the other side into this side's object;
    `sympy_node(name, args)` (the grader's side only) rebuilds a sympy node from its whitelist.
    """

    def __init__(
        self,
        to_handle: Callable[[Any], list | None],
        from_handle: Callable[[list], Any],
        sympy_node: Callable[[str, list], Any] | None = None,
    ) -> None:
        self.to_handle, self.from_handle, self.sympy_node = to_handle, from_handle, sympy_node

    # --- encoding ---------------------------------------------------------------------------
    def dumps(self, value: Any) -> bytes:
        return msgpack.packb(value, default=self._default, strict_types=True, use_bin_type=True)

    def _pack(self, code: int, value: Any) -> msgpack.ExtType:
        return msgpack.ExtType(code, self.dumps(value))

    def _default(self, obj: Any) -> Any:
        # strict_types: subclasses (an ndarray subclass, a bool-like int) come here, not through as data.
        kind = type(obj)
        if kind is tuple:
            return self._pack(TUPLE, list(obj))
        if kind is int:  # past 64 bits
            return self._pack(BIGINT, str(obj))
        if kind is complex:
            return self._pack(COMPLEX, [obj.real, obj.imag])
        if kind is np.ndarray and obj.dtype.kind in NUMERIC_KINDS and obj.dtype.fields is None:
            return self._pack(NDARRAY, [obj.dtype.str, list(obj.shape), np.ascontiguousarray(obj).tobytes()])
        if isinstance(obj, np.generic) and obj.dtype.kind in NUMERIC_KINDS:
            return self._pack(NPSCALAR, [obj.dtype.str, obj.tobytes()])
        if kind is np.random.Generator:
            return self._pack(GENERATOR, obj.bit_generator.state)
        if _is_sympy(obj):
            return self._pack(SYMPY, _sympy_tree(obj))
        handle = self.to_handle(obj)
        if handle is None:
            raise CodecError(f"a {kind.__module__}.{kind.__qualname__} cannot be sent")
        return self._pack(HANDLE, handle)

    # --- decoding ---------------------------------------------------------------------------
    def loads(self, data: bytes) -> Any:
        self._budget = MAX_MESSAGE_OBJECTS
        return self._loads(data)

    def _loads(self, data: bytes) -> Any:
        try:
            return msgpack.unpackb(data, ext_hook=self._ext, list_hook=self._counted, object_hook=self._counted,
                                   strict_map_key=False, raw=False, use_list=True,
                                   max_array_len=MAX_MESSAGE_OBJECTS, max_map_len=MAX_MESSAGE_OBJECTS)  # fmt: skip
        except CodecError:
            raise
        except (ValueError, TypeError, msgpack.UnpackException, RecursionError) as exc:
            raise CodecError(f"a malformed message ({type(exc).__name__}: {exc})") from None

    def _counted(self, value: Any) -> Any:
        self._budget -= 1
        if self._budget < 0:
            raise CodecError(f"a message of more than {MAX_MESSAGE_OBJECTS:,} lists, dicts and values")
        return value

    def _ext(self, code: int, data: bytes) -> Any:
        value = self._counted(self._loads(data))
        if code == TUPLE and type(value) is list:
            return tuple(value)
        if code == NDARRAY and type(value) is list and len(value) == 3:
            return _array(*value)
        if code == NPSCALAR and type(value) is list and len(value) == 2:
            return _array(value[0], [], value[1])[()]
        if code == BIGINT and type(value) is str and value.lstrip("-").isdigit() and len(value) < 5000:
            return int(value)
        if code == COMPLEX and type(value) is list and len(value) == 2 and all(type(v) is float for v in value):
            return complex(*value)
        if code == GENERATOR and type(value) is dict:
            return _generator(value)
        if code == HANDLE and type(value) is list:
            return self.from_handle(value)
        if code == SYMPY and self.sympy_node is not None:
            return _sympy_build(value, self.sympy_node)
        raise CodecError(f"an unexpected value of kind {code}")


def _generator(state: dict) -> np.random.Generator:
    name = state.get("bit_generator")
    if name not in ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937"):
        raise CodecError(f"a random generator of unknown kind {name!r}")
    bit_generator = getattr(np.random, name)()
    try:
        bit_generator.state = state
    except (ValueError, TypeError, KeyError) as exc:
        raise CodecError(f"a random generator state that does not fit ({exc})") from None
    return np.random.Generator(bit_generator)


# --- sympy: trees of node names ------------------------------------------------------------------
def _is_sympy(obj: Any) -> bool:
    # Never imported here: if the learner's code has no sympy, nothing is. Where sympy is absent, its
    # module is a placeholder (harness/jail/placeholder.py), whose Basic is no class.
    basic = getattr(sys.modules.get("sympy"), "Basic", None)
    return isinstance(basic, type) and isinstance(obj, basic)


def _sympy_tree(expr: Any) -> list:
    """[node name, *fields]; leaves carry their numbers or names, inner nodes their arguments."""
    import sympy
    from sympy.core.function import AppliedUndef

    if isinstance(expr, sympy.Symbol):
        return ["Dummy" if isinstance(expr, sympy.Dummy) else "Symbol", expr.name]
    if isinstance(expr, sympy.Integer):
        return ["Integer", int(expr)]
    if isinstance(expr, sympy.Rational):
        return ["Rational", int(expr.p), int(expr.q)]
    if isinstance(expr, sympy.Float):
        return ["Float", list(expr._mpf_), expr._prec]
    if isinstance(expr, AppliedUndef):
        return ["Undef", expr.func.__name__, [_sympy_tree(a) for a in expr.args]]
    return [type(expr).__name__, [_sympy_tree(a) for a in expr.args]]


SYMPY_LEAVES = ("Symbol", "Dummy", "Integer", "Rational", "Float")


def _sympy_build(tree: Any, node: Callable[[str, list], Any]) -> Any:
    """The grader's side: leaves as they are, "Undef" as [its name, its arguments], others as [arguments]."""
    if not (type(tree) is list and tree and type(tree[0]) is str):
        raise CodecError("a malformed sympy expression")
    name, *fields = tree
    if name not in SYMPY_LEAVES:
        if not (fields and type(fields[-1]) is list):
            raise CodecError(f"a malformed sympy {name} node")
        fields = [*fields[:-1], [_sympy_build(a, node) for a in fields[-1]]]
    return node(name, fields)


# The sympy classes a learner's answer may be built from; anything else is refused, not evaluated.
SYMPY_OPERATIONS = (  # rebuilt exactly as sent: evaluate=False
    "Add Mul Pow Derivative Abs sign Heaviside Max Min exp log sin cos tan cot sec csc asin acos atan acot"
    " sinh cosh tanh coth asinh acosh atanh"
).split()
SYMPY_CONTAINERS = "Tuple Subs Piecewise ExprCondPair StrictGreaterThan StrictLessThan GreaterThan LessThan Equality Unequality".split()
SYMPY_SINGLETONS = (
    "Pi Exp1 ImaginaryUnit Half One Zero NegativeOne Infinity NegativeInfinity ComplexInfinity NaN BooleanTrue BooleanFalse"
).split()


def sympy_node(name: str, fields: list) -> Any:
    """Rebuild one node of a learner's sympy expression, from the whitelist only (grader's side)."""
    import sympy
    from sympy.functions.elementary.piecewise import ExprCondPair

    args = fields[-1] if fields else None
    try:
        if name in ("Symbol", "Dummy") and len(fields) == 1 and type(fields[0]) is str:
            return getattr(sympy, name)(fields[0])
        if name == "Integer" and len(fields) == 1 and type(fields[0]) is int:
            return sympy.Integer(fields[0])
        if name == "Rational" and len(fields) == 2 and all(type(f) is int for f in fields) and fields[1] != 0:
            return sympy.Rational(*fields)
        if name == "Float" and len(fields) == 2 and type(fields[0]) is list and len(fields[0]) == 4 and type(fields[1]) is int:
            sign, man, exp, bc = fields[0]
            if all(type(v) is int for v in (sign, man, exp, bc)) and sign in (0, 1) and 0 < fields[1] < 10_000:
                # Bounded as a float's is, give or take: a mantissa of a million bits or an exponent of
                # 2**31 would have the grader's simplify() work with numbers of that size.
                if not (man.bit_length() == bc <= 10_000 and abs(exp) <= 100_000):
                    raise CodecError("a sympy Float of more than 10,000 bits or beyond 2**100000, which no answer needs")
                return sympy.Float._new((sign, man, exp, bc), fields[1])
        if name == "Undef" and len(fields) == 2 and type(fields[0]) is str and fields[0].isidentifier():
            return sympy.Function(fields[0])(*args)
        if len(fields) == 1 and name in SYMPY_SINGLETONS and not args:
            return getattr(sympy.S, name)
        if len(fields) == 1 and name in SYMPY_CONTAINERS:
            return (ExprCondPair if name == "ExprCondPair" else getattr(sympy, name))(*args)
        if len(fields) == 1 and name in SYMPY_OPERATIONS:
            return getattr(sympy, name)(*args, evaluate=False)
    except (TypeError, ValueError, AttributeError, ArithmeticError) as exc:
        raise CodecError(f"a sympy {name} that cannot be rebuilt ({exc})") from None
    raise CodecError(f"a sympy {name} node, which is not among the expressions a kata's answer is made of")
