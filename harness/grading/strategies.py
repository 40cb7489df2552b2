"""Hypothesis strategies for the specs, in one place.

Hypothesis draws only the small things that should shrink (batch size, a seed, how many decimals);
the arrays are filled from np.random.default_rng(seed), which is ~25x cheaper than drawing them
element by element. Shrinking goes toward N = 1 and values with one decimal, so the smallest failing
example can be checked by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from harness.grading import tolerances as tol

seeds = st.integers(min_value=0, max_value=2**32 - 1)
# None keeps full float64 precision; shrinking moves toward 1 decimal.
decimals = st.sampled_from([1, 2, None])


def _fmt(array: np.ndarray) -> str:
    # One line with every digit that matters, so the learner can paste it into Python.
    return f"np.array({array.tolist()})"


@dataclass(frozen=True, repr=False)
class Batch:
    """Kata 02 inputs: a batch X (N, 2), labels y (N, 1) and network params."""

    X: np.ndarray
    y: np.ndarray
    params: dict[str, np.ndarray]

    def copies(self) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Fresh copies for the learner's code, so the drawn example itself stays intact."""
        return self.X.copy(), self.y.copy(), {k: v.copy() for k, v in self.params.items()}

    def __repr__(self) -> str:
        lines = [f"N = {len(self.X)}", f"X = {_fmt(self.X)}", f"y = {_fmt(self.y)}"]
        lines += [f"{name} = {_fmt(value)}" for name, value in self.params.items()]
        return "\n".join(lines)


def _uniform(rng: np.random.Generator, bound: float, shape: tuple[int, ...], places: int | None) -> np.ndarray:
    values = rng.uniform(-bound, bound, size=shape)
    return values if places is None else np.round(values, places)


@st.composite
def batches(draw, max_n: int = 64) -> Batch:
    """A batch and params on the scales in harness/grading/tolerances.py: no sigmoid saturation, no ReLU kink."""
    n = draw(st.integers(min_value=1, max_value=max_n))
    rng = np.random.default_rng(draw(seeds))
    places = draw(decimals)
    X = _uniform(rng, tol.X_RANGE, (n, 2), places)
    params = {
        "W1": _uniform(rng, tol.W1_RANGE, (2, 3), places),
        "b1": _uniform(rng, tol.B1_RANGE, (3,), places),
        "W2": _uniform(rng, tol.W2_RANGE, (3, 1), places),
        "b2": _uniform(rng, tol.B2_RANGE, (1,), places),
    }
    if places is not None:
        # With rounded values Z1 lands on a grid of step 10**-2places; half a step in b1 keeps it off 0.
        params["b1"] = np.round(params["b1"] + 0.5 * 10.0 ** (-2 * places), 2 * places + 1)  # 0.105, not 0.10500000000000001
    assume(np.abs(X @ params["W1"] + params["b1"]).min() > tol.KINK_MARGIN)
    y = rng.integers(0, 2, size=(n, 1)).astype(np.float64)
    return Batch(X=X, y=y, params=params)


@dataclass(frozen=True, repr=False)
class Predictions:
    """Kata 02 loss inputs: probabilities y_hat (N, 1) and labels y (N, 1)."""

    y_hat: np.ndarray
    y: np.ndarray

    def __repr__(self) -> str:
        return f"N = {len(self.y)}\ny_hat = {_fmt(self.y_hat)}\ny = {_fmt(self.y)}"


@st.composite
def predictions(draw, max_n: int = 64) -> Predictions:
    """Probabilities inside tolerances.PROB_RANGE (where every correct loss agrees) and 0/1 labels."""
    n = draw(st.integers(min_value=1, max_value=max_n))
    rng = np.random.default_rng(draw(seeds))
    places = draw(decimals)
    low, high = tol.PROB_RANGE
    y_hat = rng.uniform(low, high, size=(n, 1))
    if places is not None:
        y_hat = np.clip(np.round(y_hat, places), low, high)
    return Predictions(y_hat=y_hat, y=rng.integers(0, 2, size=(n, 1)).astype(np.float64))


# --- Kata 01_chain_rule ---
from typing import TYPE_CHECKING  # noqa: E402 - this section is appended; the import stays with it

if TYPE_CHECKING:
    from harness.packs.chain_rule.oracle import Elementary

# 1-D and 2-D arrays, so that "an array of the same shape out" means more than a vector.
shapes = st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=2).map(tuple)


def floats_in(bounds: tuple[float, float]) -> st.SearchStrategy[float]:
    """Python floats in [low, high]; they shrink toward 0 and short decimals, easy to check by hand."""
    low, high = bounds
    return st.floats(min_value=low, max_value=high)


def _array_in(draw, bounds: tuple[float, float]) -> np.ndarray:
    rng = np.random.default_rng(draw(seeds))
    shape, places = draw(shapes), draw(decimals)
    low, high = bounds
    x = rng.uniform(low, high, size=shape)
    return x if places is None else np.clip(np.round(x, places), low, high)


@dataclass(frozen=True, repr=False)
class Points:
    """Kata 01 inputs: an array x where an elementwise derivative is evaluated."""

    x: np.ndarray

    def __repr__(self) -> str:
        return f"x = {_fmt(self.x)}"


@st.composite
def points(draw, bounds: tuple[float, float]) -> Points:
    """An array of shape (n,) or (n, m), n, m <= 4, with entries in bounds."""
    return Points(_array_in(draw, bounds))


@dataclass(frozen=True, repr=False)
class Composition:
    """Kata 01 compose_grad inputs: an outer function f, an inner function g and points x."""

    f: Elementary
    g: Elementary
    x: np.ndarray

    def __repr__(self) -> str:
        return "\n".join([
            f"f(t) = {self.f.text('t')},  f_grad(t) = {self.f.grad_text('t')}",
            f"g(x) = {self.g.text('x')},  g_grad(x) = {self.g.grad_text('x')}",
            f"x = {_fmt(self.x)}",
        ])


@st.composite
def compositions(draw, functions: dict[str, Elementary], bounds: tuple[float, float]) -> Composition:
    """An outer and an inner function from `functions` (the same one may be drawn twice), and points."""
    names = list(functions)
    f, g = draw(st.sampled_from(names)), draw(st.sampled_from(names))
    return Composition(functions[f], functions[g], _array_in(draw, bounds))


# --- Kata 03_graph ---
# A random expression is a small "recipe" (inputs, then steps such as `v2 = x0 * x1`) that the spec
# builds twice: with the learner's Value and with torch (harness/packs/graph/oracle.py). Hypothesis shrinks
# the recipe itself: fewer steps, earlier operands, the first op in each list, inputs toward 0.0.
import math  # noqa: E402 - this section is appended; its imports stay with it

GRAPH_CONSTANTS = (2.0, 1.0, -1.5, 0.5)  # the numbers in `x + 2.0`, `-1.5 * x`, ...
GRAPH_EXPONENTS = (2.0, 3.0, -1.0, 0.5)
_GRAPH_BINARY = ("*", "+", "-")
_GRAPH_UNARY = ("neg", "sin", "exp", "log", "tanh", "relu", "sigmoid")
# Plain-float versions of the ops, to keep each drawn step where its value is safe (tolerances.py).
_GRAPH_FLOAT_OPS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "**": lambda a, b: a**b,
    "neg": lambda a: -a,
    "sin": math.sin,
    "exp": math.exp,
    "log": math.log,
    "tanh": math.tanh,
    "relu": lambda a: max(a, 0.0),
    "sigmoid": lambda a: 1.0 / (1.0 + math.exp(-a)),
}


@dataclass(frozen=True)
class Instr:
    """One step of an expression: `op` applied to `args`; an int arg is an earlier node, a float a number."""

    op: str
    args: tuple[int | float, ...]


@dataclass(frozen=True, repr=False)
class Expression:
    """Kata 03: inputs, then steps; node k is input k or step k - len(inputs), and the last node is the root.

    `names` holds one variable name per node; the spec labels the learner's nodes with them, and the
    repr is the Python that builds the expression, to paste into a session.
    """

    inputs: tuple[float, ...]
    steps: tuple[Instr, ...]
    names: tuple[str, ...]

    def instr(self, node: int) -> Instr | None:
        """The step that computes `node`, or None for an input."""
        return self.steps[node - len(self.inputs)] if node >= len(self.inputs) else None

    def code(self, node: int) -> str:
        """The line of Python that makes `node`: `x0 = Value(0.5, label="x0")` or `v2 = x0 * x1`."""
        name, instr = self.names[node], self.instr(node)
        if instr is None:
            return f'{name} = Value({self.inputs[node]!r}, label="{name}")'
        args = [self.names[a] if type(a) is int else repr(a) for a in instr.args]
        if instr.op in _GRAPH_BINARY or instr.op == "**":
            return f"{name} = {args[0]} {instr.op} {args[1]}"
        return f"{name} = -{args[0]}" if instr.op == "neg" else f"{name} = {args[0]}.{instr.op}()"

    def __repr__(self) -> str:
        return "\n".join(f"    {self.code(k)}" for k in range(len(self.names)))


def expression(inputs: dict[str, float], steps: dict[str, tuple]) -> Expression:
    """A fixed expression written by name: expression({"x": 3.0}, {"y": ("*", "x", "x")})."""
    names = (*inputs, *steps)
    index = {name: k for k, name in enumerate(names)}
    return Expression(
        inputs=tuple(float(v) for v in inputs.values()),
        steps=tuple(Instr(op, tuple(index[a] if isinstance(a, str) else float(a) for a in args)) for op, *args in steps.values()),
        names=names,
    )


def _graph_safe(op: str, args: tuple[float, ...]) -> bool:
    """Whether a step is far from every domain edge, pole and kink, and its value stays small."""
    a = args[0]
    if (op == "log" or op == "**" and args[1] not in (2.0, 3.0)) and a < tol.GRAPH_POSITIVE_MIN:
        return False  # also keeps a ** 0.5 real: Python gives a complex number for a < 0
    if op == "relu" and abs(a) < tol.GRAPH_KINK_MARGIN:
        return False
    return abs(_GRAPH_FLOAT_OPS[op](*args)) <= tol.GRAPH_VALUE_MAX


graph_inputs = st.integers(min_value=-int(tol.GRAPH_INPUT_RANGE * 10), max_value=int(tol.GRAPH_INPUT_RANGE * 10)).map(lambda k: k / 10)
_GRAPH_OPS = (*_GRAPH_BINARY, "**", *_GRAPH_UNARY)  # shrinking moves toward the first: x0 * x0
# One step's choices, each a plain integer that never depends on the nodes drawn before it: which
# operands (taken modulo the nodes so far), which op and form (the first safe one from there), which
# number. So shrinking can delete a step or zero its choices and the other steps still make sense.
_graph_step_choices = st.tuples(
    st.integers(min_value=0, max_value=63),
    st.integers(min_value=0, max_value=63),
    st.sampled_from(range(len(_GRAPH_OPS))),  # sampled_from: uniform while generating, unlike integers()
    st.sampled_from(range(3)),
    st.sampled_from(range(len(GRAPH_CONSTANTS))),
    st.sampled_from(range(len(GRAPH_EXPONENTS))),
)


def _graph_step(values: list[float], choices: tuple[int, ...]) -> Instr:
    """The step `choices` pick: the first safe op from the chosen one on, in its first safe form
    (for **, its first safe exponent)."""
    a_raw, b_raw, op_raw, form_raw, c_raw, p_raw = choices
    a, b, c = a_raw % len(values), b_raw % len(values), GRAPH_CONSTANTS[c_raw]
    exponents = GRAPH_EXPONENTS[p_raw:] + GRAPH_EXPONENTS[:p_raw]
    for i in range(len(_GRAPH_OPS)):
        op = _GRAPH_OPS[(op_raw + i) % len(_GRAPH_OPS)]
        forms = [(a, b), (a, c), (c, a)] if op in _GRAPH_BINARY else [(a, p) for p in exponents] if op == "**" else [(a,)]
        for j in range(len(forms)):
            args = forms[(form_raw + j) % len(forms)]
            if _graph_safe(op, tuple(values[x] if type(x) is int else x for x in args)):
                return Instr(op, args)
    raise AssertionError("unreachable: neg and sin are safe everywhere")


@st.composite
def expressions(draw, max_inputs: int = tol.GRAPH_MAX_INPUTS, max_steps: int = tol.GRAPH_MAX_STEPS) -> Expression:
    """A random expression of + - * ** and the unary ops, reusing nodes freely (diamonds, x*x)."""
    values = draw(st.lists(graph_inputs, min_size=1, max_size=max_inputs))
    n_inputs = len(values)
    steps: list[Instr] = []
    for choices in draw(st.lists(_graph_step_choices, min_size=1, max_size=max_steps)):
        instr = _graph_step(values, choices)
        values.append(_GRAPH_FLOAT_OPS[instr.op](*(values[x] if type(x) is int else x for x in instr.args)))
        steps.append(instr)
    used = {a for instr in steps for a in instr.args if type(a) is int}
    for node in range(len(values) - 1):
        if node not in used:  # add it into the root, so that every node's gradient is tested
            steps.append(Instr("+", (len(values) - 1, node)))
            values.append(values[-1] + values[node])
    names = (*(f"x{i}" for i in range(n_inputs)), *(f"v{k}" for k in range(n_inputs, len(values) - 1)), "y")
    return Expression(inputs=tuple(values[:n_inputs]), steps=tuple(steps), names=names)


# --- Kata 05_gradient_check ---
# Smooth functions f of arrays of every rank up to 3 (harness/packs/gradient_check/functions.py), and
# small ReLU networks with one bug planted in their backward pass (network.py). Shapes shrink toward
# the first in the list; values toward one decimal.
from harness.packs.gradient_check import network as gc_network  # noqa: E402 - this section is appended
from harness.packs.gradient_check.functions import PHI, Smooth  # noqa: E402

GC_SHAPES = ((3,), (2, 3), (2, 2, 3), (1,), (5,), (12,), (4, 1), (3, 4), (1, 3), (2, 1, 2), (3, 2, 2))
GC_MULTI_AXIS = tuple(shape for shape in GC_SHAPES if len(shape) > 1 and min(shape) > 1)


def _rounded(values: np.ndarray, places: int | None) -> np.ndarray:
    return values if places is None else np.round(values, places)


@dataclass(frozen=True, repr=False)
class SmoothCase:
    """Kata 05 inputs: a smooth f, a point x and a step h (None: the learner's default)."""

    f: Smooth
    x: np.ndarray
    h: float | None

    def __repr__(self) -> str:
        return "\n".join([repr(self.f), f"x = {_fmt(self.x)}"] + ([f"h = {self.h!r}"] if self.h is not None else []))


def _smooth(draw, shape: tuple[int, ...], rng: np.random.Generator, places: int | None) -> Smooth:
    k = draw(st.integers(min_value=1, max_value=3))
    kinds = tuple(draw(st.sampled_from(sorted(PHI))) for _ in range(k))
    size = int(np.prod(shape))
    c = _rounded(rng.uniform(*tol.SMOOTH_C_RANGE, size=k) * rng.choice([-1.0, 1.0], size=k), places)  # never 0
    A = _rounded(rng.uniform(-tol.SMOOTH_A_RANGE, tol.SMOOTH_A_RANGE, size=(k, size)), places)
    b = _rounded(rng.uniform(-tol.SMOOTH_B_RANGE, tol.SMOOTH_B_RANGE, size=k), places)
    return Smooth(shape, kinds, c, A, b)


@st.composite
def smooth_cases(draw, shapes: tuple[tuple[int, ...], ...] = GC_SHAPES, steps: tuple[float, ...] | None = tol.NUMERICAL_STEPS) -> SmoothCase:
    """f, x of one of `shapes`, and h from `steps` (None: no h, the learner's default)."""
    shape = draw(st.sampled_from(shapes))
    rng, places = np.random.default_rng(draw(seeds)), draw(decimals)
    f = _smooth(draw, shape, rng, places)
    x = _rounded(rng.uniform(-tol.SMOOTH_X_RANGE, tol.SMOOTH_X_RANGE, size=shape), places)
    return SmoothCase(f, x, draw(st.sampled_from(steps)) if steps else None)


@dataclass(frozen=True, repr=False)
class WrongGradient:
    """Kata 05 grad_check inputs: f, x, and an analytic gradient wrong at one or more entries."""

    f: Smooth
    x: np.ndarray
    grad: np.ndarray  # the wrong analytic gradient, returned whatever x it is called at
    worst: tuple[int, ...]  # the entry with the largest relative error

    def __repr__(self) -> str:
        return "\n".join([repr(self.f), f"x = {_fmt(self.x)}", f"analytic_grad = lambda x: {_fmt(self.grad)}"])


@st.composite
def checkable_cases(draw, true_grad) -> SmoothCase:
    """f and x (no h) with every |df/dx_i| >= GRAD_CHECK_FLOOR, where a relative error means something:
    x is redrawn from the same rng until so. true_grad(f, x) gives torch's gradient."""
    case = draw(smooth_cases(steps=None))
    rng = np.random.default_rng(draw(seeds))
    x = case.x
    for _ in range(50):
        if np.abs(true_grad(case.f, x)).min() >= tol.GRAD_CHECK_FLOOR:
            return SmoothCase(case.f, x, None)
        x = np.round(rng.uniform(-tol.SMOOTH_X_RANGE, tol.SMOOTH_X_RANGE, size=x.shape), 2)
    assume(False)
    raise AssertionError("unreachable")


@st.composite
def wrong_gradients(draw, true_grad) -> WrongGradient:
    """A checkable f and x, and torch's gradient spoiled at 1 to 3 entries: the worst (relative error
    2 or 1.5: negated, or -0.5 times) at the smallest of them in size; with 2 or more, a decoy at the
    largest, times -3 (relative error 4/3, but the largest absolute difference: 4 |g| >= 2 |g_worst|);
    with 3, a small slip in between (times 1.25, relative error 0.2)."""
    case = draw(checkable_cases(true_grad))
    grad = true_grad(case.f, case.x)
    rng = np.random.default_rng(draw(seeds))
    count = min(draw(st.integers(min_value=1, max_value=3)), grad.size)
    chosen = rng.choice(grad.size, size=count, replace=False)
    chosen = chosen[np.argsort(np.abs(grad.flat[chosen]))]  # smallest |g| first
    factors = [draw(st.sampled_from((-1.0, -0.5)))] + ([-3.0] if count > 1 else []) + ([1.25] if count > 2 else [])
    wrong = grad.copy()
    for flat, factor in zip((chosen[0], *chosen[::-1][: count - 1]), factors):
        wrong.flat[flat] *= factor
    return WrongGradient(case.f, case.x, wrong, tuple(int(i) for i in np.unravel_index(int(chosen[0]), grad.shape)))


@dataclass(frozen=True, repr=False)
class PlantedCase:
    """Kata 05 find_wrong_gradient inputs: a network and the bug planted in its backward pass."""

    network: gc_network.Network
    plant: gc_network.Plant

    def __repr__(self) -> str:
        return f"{self.network!r}\nplanted: {self.plant}"


@st.composite
def planted_networks(draw) -> PlantedCase:
    """A 2- or 3-layer network and a bug (family, parameter) planted in its backward pass, drawn
    where a check is fair and the bug shows (network.draw_network)."""
    layers = draw(st.sampled_from((2, 3)))
    family = draw(st.sampled_from(gc_network.FAMILIES))
    name = draw(st.sampled_from(gc_network.plantable(family, layers)))
    factor = draw(st.sampled_from((2.0, 0.5))) if family == "scale" else 1.0
    n = draw(st.integers(min_value=tol.NET_N[0], max_value=tol.NET_N[1]))
    rng, places = np.random.default_rng(draw(seeds)), draw(decimals)
    plant = gc_network.Plant(family, name, factor)
    network = gc_network.draw_network(rng, layers, n, plant, places)
    assume(network is not None)
    return PlantedCase(network, plant)

# --- Kata 06_vanishing_gradients ---
@dataclass(frozen=True, repr=False)
class Mlp:
    """Kata 06 inputs: a batch X (N, d0), targets Y (N, dL) and the params of an MLP of widths [d0, ..., dL]."""

    X: np.ndarray
    Y: np.ndarray
    params: dict[str, np.ndarray]

    @property
    def widths(self) -> list[int]:
        return [self.X.shape[1]] + [self.params[f"b{l}"].shape[0] for l in range(1, len(self.params) // 2 + 1)]

    def copies(self) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Fresh copies for the learner's code, so the drawn example itself stays intact."""
        return self.X.copy(), self.Y.copy(), {k: v.copy() for k, v in self.params.items()}

    def __repr__(self) -> str:
        lines = [f"widths = {self.widths}", f"N = {len(self.X)}", f"X = {_fmt(self.X)}", f"Y = {_fmt(self.Y)}"]
        lines += [f"{name} = {_fmt(value)}" for name, value in self.params.items()]
        return "\n".join(lines)


def mlp_params(rng: np.random.Generator, widths: list[int], *, bias_shift: float = 0.0, places: int | None = None) -> dict[str, np.ndarray]:
    """Weights uniform on +-MLP_WEIGHT_SCALE / sqrt(fan_in), rounded to `places`; biases uniform on
    +-MLP_BIAS_RANGE moved by bias_shift, never rounded: a rounded network puts pre-activations on a
    grid that holds 0, the ReLU kink, while a full-precision bias keeps them off it."""
    params = {}
    for l, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:]), start=1):
        params[f"W{l}"] = _uniform(rng, tol.MLP_WEIGHT_SCALE / np.sqrt(fan_in), (fan_in, fan_out), places)
        params[f"b{l}"] = _uniform(rng, tol.MLP_BIAS_RANGE, (fan_out,), None) + bias_shift
    return params


def off_the_kink(X: np.ndarray, params: dict[str, np.ndarray]) -> bool:
    """Every hidden pre-activation of the ReLU network is at least KINK_MARGIN away from 0."""
    A, layers = X, len(params) // 2
    for l in range(1, layers):
        Z = A @ params[f"W{l}"] + params[f"b{l}"]
        if Z.size and np.abs(Z).min() <= tol.KINK_MARGIN:
            return False
        A = np.maximum(Z, 0.0)
    return True


@st.composite
def mlps(draw, *, min_layers: int = 1, max_layers: int = tol.MLP_MAX_LAYERS, max_width: int = tol.MLP_MAX_WIDTH,
         max_n: int = tol.MLP_MAX_N, bias_shift: float = 0.0) -> Mlp:  # fmt: skip
    """An MLP, a batch and targets, all on the scales of harness/grading/tolerances.py (MLP_*), with
    every hidden pre-activation off the ReLU kink (so one draw serves all three activations)."""
    layers = draw(st.integers(min_value=min_layers, max_value=max_layers))
    widths = draw(st.lists(st.integers(min_value=1, max_value=max_width), min_size=layers + 1, max_size=layers + 1))
    n = draw(st.integers(min_value=1, max_value=max_n))
    rng = np.random.default_rng(draw(seeds))
    places = draw(decimals)
    X = _uniform(rng, tol.X_RANGE, (n, widths[0]), places)
    params = mlp_params(rng, widths, bias_shift=bias_shift, places=places)
    assume(off_the_kink(X, params))
    Y = _uniform(rng, tol.X_RANGE, (n, widths[-1]), places)
    return Mlp(X=X, Y=Y, params=params)


# --- Kata 04_softmax_ce ---
@dataclass(frozen=True, repr=False)
class Logits:
    """Kata 04 loss-head inputs: logits Z (N, C) and integer labels (N,)."""

    Z: np.ndarray
    labels: np.ndarray

    def copies(self) -> tuple[np.ndarray, np.ndarray]:
        return self.Z.copy(), self.labels.copy()

    def __repr__(self) -> str:
        return f"N, C = {self.Z.shape}\nZ = {_fmt(self.Z)}\nlabels = {_fmt(self.labels)}"


def row_shifts(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 1) shifts of +-SOFTMAX_SHIFT, alternating row by row (from a random sign), so any batch of
    two rows or more has both: overflow above, and underflow to 0 / 0 below."""
    first = rng.choice([-1.0, 1.0])
    return (first * tol.SOFTMAX_SHIFT * (-1.0) ** np.arange(n))[:, None]


@st.composite
def logits(draw, *, shifted: bool = False, spread: bool = False) -> Logits:
    """Logits in [-SOFTMAX_LOGIT_RANGE, SOFTMAX_LOGIT_RANGE] (or, with `spread`, a range drawn from
    CE_SPREAD, and every other row's true class CE_GAP below the row's best), each row moved by its
    own +-SOFTMAX_SHIFT when `shifted`; labels drawn uniformly."""
    n = draw(st.integers(min_value=1, max_value=tol.SOFTMAX_MAX_N))
    c = draw(st.integers(*tol.SOFTMAX_CLASSES))
    bound = float(draw(st.integers(*map(int, tol.CE_SPREAD)))) if spread else tol.SOFTMAX_LOGIT_RANGE
    rng = np.random.default_rng(draw(seeds))
    places = draw(decimals)
    Z = _uniform(rng, bound, (n, c), places)
    labels = rng.integers(0, c, size=n)
    if spread:  # rows 0, 2, 4, ...: a true class whose probability is 0.0 in float64, whatever shrinks
        rows = np.arange(0, n, 2)
        gaps = _uniform(rng, 1.0, (len(rows),), places) * (tol.CE_GAP[1] - tol.CE_GAP[0]) / 2 + sum(tol.CE_GAP) / 2
        Z[rows, labels[rows]] = -np.inf  # the gap is measured from the best of the other classes
        Z[rows, labels[rows]] = Z[rows].max(axis=1) - gaps
    if shifted:
        Z = Z + row_shifts(rng, n)
    return Logits(Z=Z, labels=labels)


@dataclass(frozen=True, repr=False)
class Classifier:
    """Kata 04 network inputs: X (N, D), integer labels (N,) and params of a D -> H -> C network."""

    X: np.ndarray
    labels: np.ndarray
    params: dict[str, np.ndarray]

    def copies(self) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        return self.X.copy(), self.labels.copy(), {k: v.copy() for k, v in self.params.items()}

    def __repr__(self) -> str:
        lines = [f"N, D = {self.X.shape}", f"X = {_fmt(self.X)}", f"labels = {_fmt(self.labels)}"]
        return "\n".join(lines + [f"{name} = {_fmt(value)}" for name, value in self.params.items()])


@st.composite
def classifiers(draw, max_n: int = tol.CLASSIFIER_MAX_N) -> Classifier:
    """A batch and params of a D -> H -> C network, off the ReLU kink (as kata 02's batches())."""
    n = draw(st.integers(min_value=1, max_value=max_n))
    d, h, c = draw(st.integers(*tol.CLASSIFIER_D)), draw(st.integers(*tol.CLASSIFIER_H)), draw(st.integers(*tol.CLASSIFIER_C))
    rng = np.random.default_rng(draw(seeds))
    places = draw(decimals)
    bound = tol.CLASSIFIER_RANGE
    X = _uniform(rng, tol.X_RANGE, (n, d), places)
    params = {
        "W1": _uniform(rng, bound, (d, h), places),
        "b1": _uniform(rng, bound, (h,), places),
        "W2": _uniform(rng, bound, (h, c), places),
        "b2": _uniform(rng, bound, (c,), places),
    }
    if places is not None:  # off the grid Z1 lands on, as in batches()
        params["b1"] = np.round(params["b1"] + 0.5 * 10.0 ** (-2 * places), 2 * places + 1)
    assume(np.abs(X @ params["W1"] + params["b1"]).min() > tol.KINK_MARGIN)
    return Classifier(X=X, labels=rng.integers(0, c, size=n), params=params)
