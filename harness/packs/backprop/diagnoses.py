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
from harness.grading.diagnosing import Slip, identify, known, matches, quietly, together
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
    X, p, net = case.batch.X, case.batch.params, case.net

    def without(*biases: str) -> np.ndarray:
        params = {**p, **{b: np.zeros_like(p[b]) for b in biases}}
        return oracle.network(X, case.batch.y, params).A2

    def sigmoid(z: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-z))

    return {
        "forward_no_bias": [without("b1"), without("b2"), without("b1", "b2")],
        "no_sigmoid": [net.Z2],
        "sigmoid_sign": [1 - net.A2],
        "relu_skipped": [sigmoid(net.Z1 @ p["W2"] + p["b2"])],
        "max_for_maximum": [sigmoid(net.Z1.max(axis=0) @ p["W2"] + p["b2"])],
    }


# backward() as slots, each filled by the right step or a slip: dL/dZ2 (shared by every gradient),
# the ReLU's mask (shared by W1 and b1), and each gradient's own last step. A slip's name is the
# slot's choice, so one slip keeps its name whatever another slot holds.
def _output_slots(case: Case) -> dict[str | None, np.ndarray]:
    """dL/dZ2, right (None) or under each slip that changes it."""
    net, n = case.net, case.n
    return {
        None: net.dZ2,
        "batch_mean": net.dZ2 * n,
        "n_from_features": net.dZ2 * n / case.batch.X.shape[1],
        "sign_flipped": -net.dZ2,
        "sigmoid_derivative_twice": net.dZ2 * net.A2 * (1 - net.A2),
        "sigmoid_derivative_missing": net.dZ2 / (net.A2 * (1 - net.A2)),
    }


def _mask_slots(case: Case, dA1: np.ndarray) -> dict[str | None, np.ndarray]:
    """The ReLU's local derivative as each slip takes it, given the gradient dA1 arriving at it."""
    Z1 = case.net.Z1
    return {
        None: Z1 > 0,
        "relu_mask_missing": np.ones_like(Z1),
        "relu_mask_from_grad": dA1 > 0,
        "relu_mask_inverted": Z1 < 0,
        "relu_mask_as_values": case.net.A1,
    }


def _weight_slots(inputs: np.ndarray, upstream: np.ndarray, pre_activation: np.ndarray | None = None) -> dict[str | None, np.ndarray]:
    """A weight's gradient from its layer's input and the upstream dZ: right, or as each slip makes it."""
    right = inputs.T @ upstream
    slots = {None: right, "transposed_weight_grad": right.T}
    if right.shape[1] > 1:  # for a column such as dW2 a reshape of the transpose is the right array
        slots["reshape_for_transpose"] = right.T.reshape(right.shape)
    if pre_activation is not None:
        slots["z1_in_dw2"] = pre_activation.T @ upstream
    return slots


def _bias_slots(upstream: np.ndarray) -> dict[str | None, np.ndarray]:
    return {
        None: upstream.sum(axis=0),
        "bias_not_summed": upstream,
        "bias_sum_wrong_axis": upstream.sum(axis=1),
        "bias_mean": upstream.mean(axis=0),
        "bias_keepdims": upstream.sum(axis=0, keepdims=True),
    }


def _slotted_grads(case: Case, output: str | None, mask: str | None) -> dict[str, dict[str | None, np.ndarray]]:
    """For one choice of dL/dZ2 and of the mask: each gradient under each choice of its own last step."""
    dZ2 = _output_slots(case)[output]
    dA1 = dZ2 @ case.batch.params["W2"].T
    dZ1 = dA1 * _mask_slots(case, dA1)[mask]
    return {
        "W2": _weight_slots(case.net.A1, dZ2, case.net.Z1),
        "b2": _bias_slots(dZ2),
        "W1": _weight_slots(case.batch.X, dZ1),
        "b1": _bias_slots(dZ1),
    }


def _descent(batch: Batch, lr: float, frozen: tuple[str, ...] = ()) -> list[tuple[dict[str, np.ndarray], oracle.Network]]:
    """Torch's (params, network) before each of two full-batch steps of size lr, and after them;
    the `frozen` params are never stepped."""
    params, history = batch.params, []
    for _ in range(3):
        net = oracle.network(batch.X, batch.y, params)
        history.append((params, net))
        params = {name: params[name] - (0 if name in frozen else lr) * net.grads[name] for name in PARAMS}
    return history


# train()'s params that a loop may leave out of its update: one of them, the biases or the weights.
FROZEN = [(name,) for name in PARAMS] + [("b1", "b2"), ("W1", "W2")]


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


def changed_in_place() -> Diagnosis:
    """changed_in_place: what an argument changed in place (a check measured it) most often comes from."""
    return known(KATA, "changed_in_place")


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
            "bce_sign": [[-e for e in expected]],
            "loss_kept_an_axis": [[np.array([e]) for e in expected]],
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
    """The slips behind a wrong gradient for `name`: the choices of backward()'s slots (dL/dZ2, the
    mask, the gradient's own last step) that give the learner's gradient on the failing example and
    on the probe. The choices of the shared slots must explain the other gradients too: each one is
    right, or as the same dL/dZ2 and mask with a slip of its own make it. Only when no choice explains
    all four may one gradient that nothing explains stand aside (a slip the families do not hold, in
    that gradient's own step); a gradient some other choice explains still rules these out. Two or
    more unexplained say the slip is upstream, shared (every gradient / N, say), and nothing is named."""
    cases = [Case.of(batch), probe()]
    observed = []
    for case in cases:
        A2, cache = _forward(learner, case)
        if not _forward_is_right(A2, case):
            return forward(learner, batch)
        X, y, params = case.batch.copies()
        grads = learner.backward(X, y, params, cache)
        observed.append({param: grads[param] for param in PARAMS})
    shared = [(output, mask) for output in _output_slots(cases[0]) for mask in _mask_slots(cases[0], cases[0].net.dA1)]
    # explained[(output, mask)][param]: the own-step choices that give the learner's param on every case.
    explained = {}
    for output, mask in shared:
        predicted = [_slotted_grads(case, output, mask) for case in cases]
        explained[output, mask] = {
            param: [own for own in predicted[0][param] if all(matches(got[param], p[param][own]) for got, p in zip(observed, predicted))]
            for param in PARAMS
        }
    anywhere = {param: any(choices[param] for choices in explained.values()) for param in PARAMS}
    whole = [key for key, choices in explained.items() if all(choices.values())]
    aside = [param for param in PARAMS if not anywhere[param]]
    allowed = whole or [
        key for key, choices in explained.items() if len(aside) == 1 and all(choices[param] or param in aside for param in PARAMS if param != name)
    ]
    readings = {
        tuple(slip for slip in (output, mask if name in ("W1", "b1") else None, own) if slip is not None)
        for output, mask in allowed
        for own in explained[output, mask][name]
    }
    if len(readings) != 1 or not (slips := readings.pop()):
        return None
    return together([known(KATA, slip) for slip in slips])


@quietly
def saturation(learner, batch: Batch, name: str) -> Diagnosis | None:
    """unsimplified_chain: backward() is right on the probe, where nothing saturates, yet on `batch`,
    where A2 is exactly 1.0, its gradients are not finite (inf * 0) or all 0 (a clipped A2 (1 - A2)).
    When it is wrong on the probe too, the slip is not saturation's: backward()'s diagnosis for `name`."""
    case = probe()
    A2, cache = _forward(learner, case)
    grads = learner.backward(*case.batch.copies(), cache)
    if not (_forward_is_right(A2, case) and all(matches(grads[p], case.net.grads[p]) for p in PARAMS)):
        return backward(learner, case.batch, name)
    _, cache = learner.forward(batch.X.copy(), {k: v.copy() for k, v in batch.params.items()})
    grads = learner.backward(*batch.copies(), cache)
    arrays = [np.asarray(grads[p], dtype=np.float64) for p in PARAMS]
    broken = any(not np.isfinite(a).all() for a in arrays) or all((a == 0).all() for a in arrays)
    return known(KATA, "unsimplified_chain") if broken else None


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
    # The learner's own bce_loss, right on the probe, given its arguments the other way round.
    swapped = [learner.bce_loss(y.copy(), net.A2.copy()) for _, net in descent[:2]]
    candidates = {
        "gradient_ascent": [_trained(ascent[2][0], [net.loss for _, net in ascent[:2]])],
        "loss_after_update": [_trained(descent[2][0], [net.loss for _, net in descent[1:]])],
        "loss_arguments_swapped": [_trained(descent[2][0], swapped)],
    }
    for frozen in FROZEN:
        steps = _descent(batch, lr, frozen)
        candidates[Slip.of("params_not_updated", which=" and ".join(frozen))] = [_trained(steps[2][0], [net.loss for _, net in steps[:2]])]
    found = identify(KATA, observed, candidates)
    # With its parts and steps right, what keeps train() from learning is where it starts.
    return found or init(learner)
