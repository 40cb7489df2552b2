"""The smooth test functions f(x) kata 05 hands the learner, and the error a centered difference may make on them.

f(x) = sum_j c[j] * phi_j(A[j] @ x.ravel() + b[j]), each phi_j one of sin, cos, tanh: smooth
everywhere, so a centered difference converges, and its derivatives have closed-form bounds, so the
spec knows how far a correct numerical gradient at step h may be from the truth (see `allowed_error`).
The learner's code calls `Smooth.__call__` through the jail (a callback into this process); it
accepts a float64 array of f's shape and nothing else, and records each argument it was given.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from harness.grading import tolerances as tol
from harness.grading.checks import describe

# phi, and the bound on |phi'''| over the reals: sin''' = -cos, cos''' = sin, and
# tanh''' = -2 (1 - t^2)(1 - 3 t^2) with t = tanh, largest in size at t = 0.
PHI = {"sin": (np.sin, 1.0), "cos": (np.cos, 1.0), "tanh": (np.tanh, 2.0)}
EPS = np.finfo(np.float64).eps
# Calls recorded, at most: a correct numerical gradient of the spec's largest x makes 24, the five-point
# stencil 48; a learner's loop that calls f without end must not grow the grader's memory with it.
RECORDED_CALLS = 10_000


def moves(probe: np.ndarray, x: np.ndarray) -> np.ndarray:
    """probe - x where an entry of x really moved; 0 where it did not, or only by the rounding of
    x + h - h (a few ulps), which a probe of any step from 1e-12 up stands far above."""
    delta = probe - x
    return np.where(np.abs(delta) > 64 * EPS * (1 + np.abs(x)), delta, 0.0)


def _fmt(array: np.ndarray) -> str:
    return f"np.array({array.tolist()})"


@dataclass(frozen=True, repr=False)
class Smooth:
    """f(x) = sum_j c[j] * phi_j(A[j] @ x.ravel() + b[j]) for x of `shape`."""

    shape: tuple[int, ...]
    kinds: tuple[str, ...]
    c: np.ndarray  # (k,)
    A: np.ndarray  # (k, x.size)
    b: np.ndarray  # (k,)
    probes: list[np.ndarray] = field(default_factory=list, compare=False)  # every x f was called with

    def value(self, x: np.ndarray) -> float:
        u = self.A @ x.ravel().astype(np.float64) + self.b
        return float(sum(c * PHI[kind][0](u_j) for c, kind, u_j in zip(self.c, self.kinds, u)))

    def checked(self, x, what: str = "f") -> np.ndarray:
        """x, if it is what the learner's code may pass to f or to analytic_grad: a float array like x.
        (Float32 is taken, and recorded: the spec says what its rounding does to a probe.)"""
        if not (type(x) is np.ndarray and x.shape == self.shape and x.dtype.kind == "f"):
            raise TypeError(f"{what} takes a float64 array of shape {self.shape} (like x); it was given {describe(x)}")
        return x

    def __call__(self, x):
        """f as the learner's code calls it: a float64 array of f's shape in, a float out."""
        self.checked(x)
        if len(self.probes) < RECORDED_CALLS:
            self.probes.append(x.copy())
        return self.value(x)

    def fresh(self) -> Smooth:
        """The same f with an empty record of calls, for one call of the learner's function."""
        return Smooth(self.shape, self.kinds, self.c, self.A, self.b)

    def allowed_error(self, x: np.ndarray, h: float) -> float:
        """How far a correct centered difference with step h may be from the true gradient, at most.

        Truncation: (f(x+h) - f(x-h)) / 2h = f' + h^2/6 f'''(xi), with |f'''| along x_i at most
        sum_j |c_j| |A_ji|^3 max|phi_j'''|. Rounding: each value of f is off by up to delta (below),
        and x_i + h itself is rounded, so the difference quotient is off by up to delta / h plus
        |f'| eps |x_i| / h. Both are bounds, then multiplied by a safety factor (tolerances.py).
        """
        third = (np.abs(self.c)[:, None] * np.abs(self.A) ** 3 * np.array([PHI[k][1] for k in self.kinds])[:, None]).sum(axis=0)
        first = (np.abs(self.c)[:, None] * np.abs(self.A)).sum(axis=0)
        size = x.size
        # A @ x sums `size` products: each u_j is off by ~size eps (|A_j| @ |x| + |b_j|), and phi adds an ulp.
        delta = EPS * float((np.abs(self.c) * (1 + (size + 2) * (np.abs(self.A) @ np.abs(x.ravel()) + np.abs(self.b)))).sum())
        truncation = h**2 / 6 * third
        rounding = (2 * delta + 2 * first * EPS * (np.abs(x.ravel()) + h)) / (2 * h)
        return float(tol.NUMERICAL_SAFETY * (truncation + rounding).max())

    def __repr__(self) -> str:
        terms = " + ".join(f"c[{j}] * np.{kind}(u[{j}])" for j, kind in enumerate(self.kinds))
        return "\n".join([
            f"c = {_fmt(self.c)}",
            f"A = {_fmt(self.A)}",
            f"b = {_fmt(self.b)}",
            "def f(x):",
            "    u = A @ x.ravel() + b",
            f"    return {terms}",
        ])  # fmt: skip

