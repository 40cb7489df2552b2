"""Kata 02_backprop's mistakes, recognised from the numbers (the catalog: harness/packs/backprop/catalog.toml).

Each diagnosis re-runs the learner's functions on the failing example and on a fixed probe batch,
predicts from torch's values what each catalog mistake would return on those same inputs, and names
the one mistake that matches on both (see harness/grading/diagnosing.py). A wrong forward pass is
named before anything computed from it, since backward() gets forward()'s cache and train() uses both.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.grading import tolerances as tol
from harness.grading.checks import Diagnosis
from harness.grading.diagnosing import AnyOf, identify, known, matches, quietly
from harness.packs.backprop import oracle
from harness.grading.strategies import Batch

KATA = "02_backprop"
PARAMS = oracle.PARAM_NAMES
INTERMEDIATES = ("Z1", "A1", "Z2", "A2")


@dataclass(frozen=True)
class Case:
    """One input the learner's code is re-run on, with torch's values for it."""

    batch: Batch
    net: oracle.Network

    @classmethod
    def of(cls, batch: Batch) -> Case:
        return cls(batch, oracle.network(batch.X, batch.y, batch.params))

    @property
    def n(self) -> int:
        return len(self.batch.X)


@functools.cache
def probe() -> Case:
    """The fixed probe batch of tolerances.PROBE_*, on the spec's input ranges and off the ReLU kink."""
    rng = np.random.default_rng(tol.PROBE_SEED)
    bounds = {"W1": (tol.W1_RANGE, (2, 3)), "b1": (tol.B1_RANGE, (3,)), "W2": (tol.W2_RANGE, (3, 1)), "b2": (tol.B2_RANGE, (1,))}
    while True:
        X = rng.uniform(-tol.X_RANGE, tol.X_RANGE, size=(tol.PROBE_N, 2))
        params = {name: rng.uniform(-bound, bound, size=shape) for name, (bound, shape) in bounds.items()}
        y = rng.integers(0, 2, size=(tol.PROBE_N, 1)).astype(np.float64)
        Z1 = X @ params["W1"] + params["b1"]
        mixed = (Z1 > 0).any(axis=0).all() and (Z1 < 0).any(axis=0).all() and 0 < y.sum() < tol.PROBE_N
        if mixed and np.abs(Z1).min() > tol.KINK_MARGIN:
            return Case.of(Batch(X=X, y=y, params=params))


def _forward(learner, case: Case) -> tuple[Any, Any]:
    X, _, params = case.batch.copies()
    A2, cache = learner.forward(X, params)  # not a pair: a ValueError, and no diagnosis
    return A2, cache


def _forward_is_right(A2: Any, case: Case) -> bool:
    return matches(A2, case.net.A2, rtol=tol.FORWARD_RTOL, atol=tol.FORWARD_ATOL)


# --- what each mistake would compute -------------------------------------------------------------
def _mistaken_outputs(case: Case) -> dict[str, list[np.ndarray]]:
    """forward()'s A2 under each forward mistake, in each form the slip takes."""

    def without(*biases: str) -> np.ndarray:
        params = {**case.batch.params, **{b: np.zeros_like(case.batch.params[b]) for b in biases}}
        return oracle.network(case.batch.X, case.batch.y, params).A2

    return {"forward_no_bias": [without("b1"), without("b2"), without("b1", "b2")], "no_sigmoid": [case.net.Z2]}


def _through_hidden(case: Case, dZ1: np.ndarray) -> dict[str, np.ndarray]:
    return {"W1": case.batch.X.T @ dZ1, "b1": dZ1.sum(axis=0)}


def _from_output(case: Case, dZ2: np.ndarray) -> dict[str, np.ndarray]:
    """Every gradient, correctly propagated from a (mistaken) dL/dZ2."""
    dZ1 = (dZ2 @ case.batch.params["W2"].T) * (case.net.Z1 > 0)
    return {"W2": case.net.A1.T @ dZ2, "b2": dZ2.sum(axis=0), **_through_hidden(case, dZ1)}


def _mistaken_grads(case: Case) -> dict[str, dict[str, np.ndarray]]:
    """backward()'s gradients under each backward mistake, for the parameters that mistake changes."""
    net, grads, n = case.net, case.net.grads, case.n
    return {
        "batch_mean": {name: grads[name] * n for name in PARAMS},
        "sign_flipped": {name: -grads[name] for name in PARAMS},
        "sigmoid_derivative_twice": _from_output(case, net.dZ2 * net.A2 * (1 - net.A2)),
        "z1_in_dw2": {"W2": net.Z1.T @ net.dZ2},
        "relu_mask_missing": _through_hidden(case, net.dA1),
        "relu_mask_from_grad": _through_hidden(case, net.dA1 * (net.dA1 > 0)),
        "transposed_weight_grad": {"W1": grads["W1"].T, "W2": grads["W2"].T},
        "bias_not_summed": {"b1": net.dZ1, "b2": net.dZ2},
        "bias_sum_wrong_axis": {"b1": net.dZ1.sum(axis=1), "b2": net.dZ2.sum(axis=1)},
        "bias_mean": {"b1": grads["b1"] / n, "b2": grads["b2"] / n},
    }


def _descent(batch: Batch, lr: float) -> list[tuple[dict[str, np.ndarray], float]]:
    """Torch's (params, loss) before each of two full-batch steps of size lr, and after them."""
    params, history = batch.params, []
    for _ in range(3):
        net = oracle.network(batch.X, batch.y, params)
        history.append((params, net.loss))
        params = {name: params[name] - lr * net.grads[name] for name in PARAMS}
    return history


def _trained(params: dict[str, Any], losses: Any) -> list[Any]:
    """train()'s result as a list of values to match one by one."""
    return [params[name] for name in PARAMS] + [np.asarray(losses, dtype=np.float64)]


def _same(first: dict, second: dict) -> bool:
    return first.keys() == second.keys() and all(np.array_equal(first[k], second[k]) for k in first)


# --- the diagnoses the spec calls ----------------------------------------------------------------
@quietly
def init(learner) -> Diagnosis | None:
    """global_rng: one seed gives two different draws, yet a seeded np.random makes them equal;
    zero_init: W1 is one constant repeated."""
    first = learner.init_params(np.random.default_rng(123))
    if not _same(first, learner.init_params(np.random.default_rng(123))):
        reseeded = []
        for _ in range(2):
            with learner.process.global_seed(0):  # in the learner's process, where their code draws
                reseeded.append(learner.init_params(np.random.default_rng(123)))
        return known(KATA, "global_rng") if _same(*reseeded) else None
    W1 = np.asarray(first["W1"])
    return known(KATA, "zero_init") if W1.size > 1 and (W1 == W1.flat[0]).all() else None


@quietly
def forward(learner, batch: Batch) -> Diagnosis | None:
    cases = [Case.of(batch), probe()]
    observed = [_forward(learner, case)[0] for case in cases]
    predicted = [_mistaken_outputs(case) for case in cases]
    return identify(KATA, observed, {mistake: list(zip(*(p[mistake] for p in predicted))) for mistake in predicted[0]})


def first_wrong_intermediate(cache: Any, net: oracle.Network) -> str | None:
    """Which of Z1, A1, Z2, A2 in the learner's cache first disagrees with torch, when the cache is a
    dict that uses those names (the contract does not ask for them, so only then)."""
    if not isinstance(cache, dict):
        return None
    for name in INTERMEDIATES:
        if name in cache and not matches(cache[name], getattr(net, name), rtol=tol.FORWARD_RTOL, atol=tol.FORWARD_ATOL):
            got, expected = np.asarray(cache[name], dtype=np.float64), getattr(net, name)
            how = (
                f"max abs error {np.abs(got - expected).max():.3g}"
                if got.shape == expected.shape
                else f"shape {got.shape}, torch's is {expected.shape}"
            )
            return f"In forward()'s cache, {name} is the first of {', '.join(INTERMEDIATES)} to disagree with torch ({how})."
    return None


@quietly
def loss(learner, y_hat: np.ndarray, y: np.ndarray) -> Diagnosis | None:
    cases = [(y_hat, y), (probe().net.A2, probe().batch.y)]
    observed = [learner.bce_loss(p.copy(), t.copy()) for p, t in cases]
    expected = [oracle.bce(p, t) for p, t in cases]
    return identify(
        KATA,
        observed,
        {
            "bce_sum": [[e * len(t) for e, (_, t) in zip(expected, cases)]],
            "log_base": [[e / np.log(base) for e in expected] for base in (10.0, 2.0)],
        },
    )


@quietly
def loss_at_edges(learner, y_hat: np.ndarray, y: np.ndarray) -> Diagnosis | None:
    """naive_bce: not finite where predictions are exactly 0 or 1, yet right inside (0, 1)."""
    at_edges = float(learner.bce_loss(y_hat.copy(), y.copy()))
    inside = learner.bce_loss(probe().net.A2.copy(), probe().batch.y.copy())
    right_inside = matches(inside, probe().net.loss, rtol=tol.LOSS_RTOL, atol=tol.LOSS_ATOL)
    return known(KATA, "naive_bce") if not np.isfinite(at_edges) and right_inside else None


@quietly
def backward(learner, batch: Batch, name: str) -> Diagnosis | None:
    """The mistake behind a wrong gradient for `name`. A mistake must explain all four gradients,
    not just this one: the others are right or as it would make them. A plain rescale such as
    bias_mean's 1/N could otherwise be named for a slip elsewhere that happens to rescale b too."""
    cases = [Case.of(batch), probe()]
    observed = []
    for case in cases:
        A2, cache = _forward(learner, case)
        if not _forward_is_right(A2, case):
            return forward(learner, batch)
        X, y, params = case.batch.copies()
        grads = learner.backward(X, y, params, cache)
        observed += [grads[param] for param in PARAMS]
    predicted = [_mistaken_grads(case) for case in cases]
    candidates = {
        mistake: [
            [
                AnyOf((case.net.grads[param], p[mistake][param])) if param in p[mistake] else case.net.grads[param]
                for case, p in zip(cases, predicted)
                for param in PARAMS
            ]
        ]
        for mistake in predicted[0]
        if name in predicted[0][mistake]
    }
    return identify(KATA, observed, candidates)


@quietly
def train(learner, X: np.ndarray, y: np.ndarray, *, lr: float, seed: int) -> Diagnosis | None:
    """Why two epochs of train(X, y, lr=lr, seed=seed) are not two steps of gradient descent, or why
    training does not learn: the first culprit among init_params, forward, bce_loss, backward and
    train's own loop, since train() builds on all of them."""
    start = learner.init_params(np.random.default_rng(seed))
    if not _same(start, learner.init_params(np.random.default_rng(seed))):
        return init(learner)
    # forward, bce_loss and backward on the probe, where every correct answer agrees with torch: the
    # start params may put Z1 on the ReLU kink (a constant W1 does), and their zero biases would hide
    # a forgotten one.
    case = probe()
    A2, cache = _forward(learner, case)
    if not _forward_is_right(A2, case):
        return forward(learner, case.batch)
    if not matches(learner.bce_loss(case.net.A2.copy(), case.batch.y.copy()), case.net.loss, rtol=tol.LOSS_RTOL, atol=tol.LOSS_ATOL):
        return loss(learner, case.net.A2, case.batch.y)
    grads = learner.backward(*case.batch.copies(), cache)
    for name in PARAMS:
        if not matches(grads[name], case.net.grads[name], rtol=tol.GRAD_RTOL, atol=tol.GRAD_ATOL):
            return backward(learner, case.batch, name)

    observed = _trained(*learner.train(X.copy(), y.copy(), epochs=2, lr=lr, seed=seed))
    batch = Batch(X=X, y=y, params={name: np.asarray(start[name], dtype=np.float64) for name in PARAMS})
    descent, ascent = _descent(batch, lr), _descent(batch, -lr)
    found = identify(
        KATA,
        observed,
        {
            "gradient_ascent": [_trained(ascent[2][0], [value for _, value in ascent[:2]])],
            "loss_after_update": [_trained(descent[2][0], [value for _, value in descent[1:]])],
        },
    )
    # With its parts and steps right, what keeps train() from learning is where it starts.
    return found or init(learner)
