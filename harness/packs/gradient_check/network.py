"""The small ReLU network of Task 05.4, whose hand-written backward pass has one bug planted in it.

Layers l = 1..L (L = 2 or 3): Z_l = A_{l-1} @ W_l + b_l with A_0 = X, A_l = relu(Z_l) below the
top, and the top's Z_L is compared with targets Y by  loss = sum((Z_L - Y)**2) / (2 N).  Every W_l
is WIDTH x WIDTH, so a transposed gradient keeps its parameter's shape: only the numbers give a bug
away. The backward pass is written by hand here (tests/test_gradient_check_spec.py proves it equal
to torch's autograd when nothing is planted); `Plant` changes exactly one parameter's gradient.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from harness.grading import tolerances as tol
from harness.grading.checks import describe
from harness.packs.gradient_check.functions import RECORDED_CALLS

WIDTH = 3
FAMILIES = ("mask", "transpose", "scale", "sign")  # the planted bug's kind; see Plant


@dataclass(frozen=True)
class Plant:
    """One bug in one parameter's gradient.

    mask: the ReLU's mask left out of that hidden parameter's gradient (the gradient flowing on stays right);
    transpose: a weight's gradient transposed; scale: multiplied by `factor`; sign: negated.
    """

    family: str
    name: str
    factor: float = 1.0

    def __str__(self) -> str:
        return {
            "mask": f"{self.name}'s gradient skips the ReLU's mask",
            "transpose": f"{self.name}'s gradient is transposed",
            "scale": f"{self.name}'s gradient is multiplied by {self.factor:g}",
            "sign": f"{self.name}'s gradient has the wrong sign",
        }[self.family]


def names(layers: int) -> list[str]:
    return [f"{kind}{l}" for l in range(1, layers + 1) for kind in ("W", "b")]


def plantable(family: str, layers: int) -> list[str]:
    """The parameters a bug of this family can be planted in."""
    if family == "mask":  # only hidden layers have a ReLU after them
        return [name for name in names(layers) if int(name[1:]) < layers]
    if family == "transpose":
        return [name for name in names(layers) if name.startswith("W")]
    return names(layers)


def _fmt(array: np.ndarray) -> str:
    return f"np.array({array.tolist()})"


@dataclass(frozen=True, repr=False)
class Network:
    """A batch (X, Y) and the network's params; the true gradients come from oracle.network_grads."""

    X: np.ndarray  # (N, WIDTH)
    Y: np.ndarray  # (N, WIDTH)
    params: dict[str, np.ndarray]

    @property
    def layers(self) -> int:
        return len(self.params) // 2

    def forward(self, params: dict[str, np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Zs[l] and As[l] for l = 1..L (index 0: None and X)."""
        Zs, As = [None], [self.X]
        for l in range(1, self.layers + 1):
            Zs.append(As[-1] @ params[f"W{l}"] + params[f"b{l}"])
            As.append(np.maximum(Zs[-1], 0.0) if l < self.layers else Zs[-1])
        return Zs, As

    def loss(self, params: dict[str, np.ndarray]) -> float:
        top = self.forward(params)[0][-1]
        return float(((top - self.Y) ** 2).sum() / (2 * len(self.X)))

    def backward(self, params: dict[str, np.ndarray], plant: Plant | None = None) -> dict[str, np.ndarray]:
        """The gradients of loss() by hand, with `plant`'s bug in one of them."""
        Zs, As = self.forward(params)
        dZ = (Zs[-1] - self.Y) / len(self.X)
        grads, upstream = {}, {}  # upstream[l]: dL/dA_l, before the ReLU's mask
        for l in range(self.layers, 0, -1):
            grads[f"W{l}"], grads[f"b{l}"] = As[l - 1].T @ dZ, dZ.sum(axis=0)
            if l > 1:
                upstream[l - 1] = dZ @ params[f"W{l}"].T
                dZ = upstream[l - 1] * (Zs[l - 1] > 0)
        if plant is not None:
            grads[plant.name] = self._planted(plant, grads[plant.name], upstream, As)
        return {name: grads[name] for name in names(self.layers)}

    @staticmethod
    def _planted(plant: Plant, grad: np.ndarray, upstream: dict, As: list) -> np.ndarray:
        if plant.family == "mask":
            l = int(plant.name[1:])
            return As[l - 1].T @ upstream[l] if plant.name.startswith("W") else upstream[l].sum(axis=0)
        if plant.family == "transpose":
            return grad.T.copy()
        return grad * (plant.factor if plant.family == "scale" else -1.0)

    def hidden(self, params: dict[str, np.ndarray]) -> list[np.ndarray]:
        """The hidden layers' pre-activations Z_1 .. Z_{L-1}, where the ReLU's kinks are."""
        return self.forward(params)[0][1:-1]

    def __repr__(self) -> str:
        lines = [f"X = {_fmt(self.X)}", f"Y = {_fmt(self.Y)}"]
        return "\n".join(lines + [f"{name} = {_fmt(value)}" for name, value in self.params.items()])


def draw_network(rng: np.random.Generator, layers: int, n: int, plant: Plant, places: int | None = None) -> Network | None:
    """A network of `layers` on a batch of n, drawn from rng until it is fair (tolerances.py, NET_*):
    off the ReLU's kinks, every true gradient entry at least NET_GRAD_FLOOR in size, and `plant`
    visible (a relative error of PLANT_MIN_ERROR somewhere). None if 50 draws do not get there."""

    def uniform(bound: float, shape: tuple[int, ...]) -> np.ndarray:
        values = rng.uniform(-bound, bound, size=shape)
        return values if places is None else np.round(values, places)

    for _ in range(50):
        X, Y = uniform(tol.NET_X_RANGE, (n, WIDTH)), uniform(tol.NET_Y_RANGE, (n, WIDTH))
        params = {}
        for l in range(1, layers + 1):
            params[f"W{l}"], params[f"b{l}"] = uniform(tol.NET_W_RANGE, (WIDTH, WIDTH)), uniform(tol.NET_B_RANGE, (WIDTH,))
        network = Network(X, Y, params)
        if min(np.abs(Z).min() for Z in network.hidden(params)) < tol.NET_KINK_MARGIN:
            continue
        grads = network.backward(params)  # tests/test_gradient_check_spec.py proves it torch's
        if min(np.abs(g).min() for g in grads.values()) < tol.NET_GRAD_FLOOR:
            continue
        planted, true = network.backward(params, plant)[plant.name], grads[plant.name]
        if (np.abs(planted - true) > tol.PLANT_MIN_ERROR * np.maximum(np.abs(planted), np.abs(true))).any():
            return network
    return None


@dataclass
class Handed:
    """loss and backward as the learner's find_wrong_gradient() gets them (callbacks into the grader).

    Each checks that it was given a dict like params, and records it: the diagnoses read which
    parameters the learner's probes moved.
    """

    network: Network
    plant: Plant
    calls: list[dict[str, np.ndarray]] = field(default_factory=list)

    def _checked(self, params, what: str) -> dict[str, np.ndarray]:
        shapes = {name: value.shape for name, value in self.network.params.items()}
        if not (type(params) is dict and set(params) == set(shapes)):
            raise TypeError(f"{what} takes a dict with the keys {sorted(shapes)}, like params; it was given {describe(params)}")
        for name, shape in shapes.items():
            value = params[name]
            if not (type(value) is np.ndarray and value.shape == shape and value.dtype == np.float64):
                raise TypeError(f"{what}'s params[{name!r}] must be a float64 array of shape {shape}, like params'; it is {describe(value)}")
        if len(self.calls) < RECORDED_CALLS:
            self.calls.append({name: value.copy() for name, value in params.items()})
        return params

    def loss(self, params) -> float:
        return self.network.loss(self._checked(params, "loss(params)"))

    def backward(self, params) -> dict[str, np.ndarray]:
        return self.network.backward(self._checked(params, "backward(params)"), self.plant)
