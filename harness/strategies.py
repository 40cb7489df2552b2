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

from harness import tolerances as tol

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
    """A batch and params on the scales in harness/tolerances.py: no sigmoid saturation, no ReLU kink."""
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
        params["b1"] = params["b1"] + 0.5 * 10.0 ** (-2 * places)
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
    from harness.oracles.chain_rule import Elementary

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
