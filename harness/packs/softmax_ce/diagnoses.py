"""Kata 04_softmax_ce's mistakes, recognised from the numbers (the catalog: catalog.toml beside this file).

Each diagnosis re-runs the learner's function on the failing example and on fixed probes, predicts
from torch's values what each catalog mistake would return on those same inputs, and names the one
mistake that matches on all of them (harness/grading/diagnosing.py). Stability slips are told apart
by where the learner's numbers break: right on plain logits, wrong once every row moves by the same
1000 (no max subtracted), or only once rows move by different amounts (one max for the whole batch),
or only when a row's logits are hundreds apart (the log of a probability that underflowed).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.grading import tolerances as tol
from harness.grading.checks import Diagnosis
from harness.grading.diagnosing import AnyOf, identify, known, matches, quietly
from harness.grading.strategies import Classifier, Logits, row_shifts
from harness.packs.softmax_ce import oracle

KATA = "04_softmax_ce"
PARAMS = oracle.PARAM_NAMES
# The small numbers learners add to a probability, or clip it to, before its log.
EPSILONS = (1e-7, 1e-8, 1e-9, 1e-10, 1e-12, 1e-15, 1e-16, 1e-20, 1e-30, 1e-50, 1e-100, 1e-300, np.finfo(float).eps, np.finfo(float).tiny)


# --- the loss head: softmax, cross_entropy, softmax_ce_grad ------------------------------------
@dataclass(frozen=True)
class HeadProbes:
    """One batch of plain logits, and the same moved to where stability matters."""

    plain: Logits
    uniform: tuple[Logits, Logits]  # every row + 1000, every row - 1000
    mixed: Logits  # each row by its own +-1000
    spread: Logits  # logits hundreds apart (no shift): a probability underflows to 0


@functools.cache
def head_probes() -> HeadProbes:
    """N = 8 rows over C = 3 classes (N != C, every class a label), on the spec's plain logit range."""
    rng = np.random.default_rng(tol.SOFTMAX_PROBE_SEED)
    n, c = tol.SOFTMAX_PROBE_N, tol.SOFTMAX_PROBE_SHAPE[2]
    Z = rng.uniform(-3.0, 3.0, size=(n, c))
    labels = np.arange(n) % c
    # Far apart: each true class 300-500 below logits up to 500, so its probability is at most
    # e**-300 and, in most rows, below e**-745: 0.0 in float64.
    spread = rng.uniform(0.0, tol.CE_SPREAD[1], size=(n, c))
    spread[np.arange(n), labels] = -rng.uniform(300.0, tol.CE_SPREAD[1], size=n)

    def at(values: np.ndarray) -> Logits:
        return Logits(Z=values, labels=labels)

    return HeadProbes(
        plain=at(Z),
        uniform=(at(Z + tol.SOFTMAX_SHIFT), at(Z - tol.SOFTMAX_SHIFT)),
        mixed=at(Z + row_shifts(rng, n)),
        spread=at(spread),
    )


def _onehot(labels: np.ndarray, c: int, offset: int = 0) -> np.ndarray:
    """One row per label with a 1 in column labels + offset (wrapping, as NumPy's index -1 does)."""
    out = np.zeros((len(labels), c))
    out[np.arange(len(labels)), (labels + offset) % c] = 1.0
    return out


def _column_softmax(Z: np.ndarray) -> np.ndarray:
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def _wrong_axis_softmaxes(Z: np.ndarray) -> list[np.ndarray]:
    """softmax normalised over the wrong axis: down each column, over the whole batch, or (when
    N == C, where the shapes let it through) by the row sums broadcast along the columns; with each
    shift a learner may have used first (a shift only cancels along the axis it was taken over)."""
    forms = []
    for shift in (Z.max(axis=1, keepdims=True), Z.max(axis=0, keepdims=True), Z.max(), 0.0):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            E = np.exp(Z - shift)
            forms += [E / E.sum(axis=0, keepdims=True), E / E.sum()]
            if Z.shape[0] == Z.shape[1]:
                forms.append(E / E.sum(axis=1)[None, :])
    return [form for form in forms if np.isfinite(form).all()]


def _right(got: Any, expected: Any, rtol: float, atol: float) -> bool:
    return matches(got, expected, rtol=rtol, atol=atol)


def _where_unstable(call, expected, rtol: float, atol: float) -> Diagnosis | None:
    """`call(logits)` is right on the plain probe: name the shift that breaks it, if one does."""
    probes = head_probes()
    if not _right(call(probes.plain), expected(probes.plain), rtol, atol):
        return None
    if not all(_right(call(p), expected(p), rtol, atol) for p in probes.uniform):
        return known(KATA, "no_max")
    if not _right(call(probes.mixed), expected(probes.mixed), rtol, atol):
        return known(KATA, "global_max")
    return None


@quietly
def softmax(learner, data: Logits) -> Diagnosis | None:
    def call(logits: Logits) -> Any:
        return learner.softmax(logits.Z.copy())

    def expected(logits: Logits) -> np.ndarray:
        return oracle.head(logits.Z, logits.labels).P

    unstable = _where_unstable(call, expected, tol.SOFTMAX_RTOL, tol.SOFTMAX_ATOL)
    if unstable:
        return unstable
    cases = [data, head_probes().plain]
    return identify(KATA, [call(c) for c in cases], {"wrong_axis": [[AnyOf(tuple(_wrong_axis_softmaxes(c.Z))) for c in cases]]})


@quietly
def shifted_in_place(before: np.ndarray, after: Any) -> Diagnosis | None:
    """shift_in_place: the caller's Z came back moved by its rows' max (or the batch's): Z -= max."""
    forms = (before - before.max(axis=1, keepdims=True), before - before.max())
    return known(KATA, "shift_in_place") if matches(after, AnyOf(forms), rtol=tol.SOFTMAX_RTOL, atol=tol.SOFTMAX_ATOL) else None


def _picked(logP: np.ndarray, labels: np.ndarray, offset: int = 0) -> np.ndarray:
    """Each row's entry at its label (+ offset, wrapping like NumPy's index -1)."""
    return logP[np.arange(len(labels)), (labels + offset) % logP.shape[1]]


def _loss_mistakes(logits: Logits) -> dict[str, list[float]]:
    """cross_entropy() under each loss mistake, in each form the slip takes."""
    head, n = oracle.head(logits.Z, logits.labels), len(logits.labels)
    p = _picked(head.P, logits.labels)
    with np.errstate(divide="ignore"):  # a probability of 0.0 is what these mistakes meet
        logs_of_p = [np.log(p + eps) for eps in EPSILONS] + [np.log(np.maximum(p, eps)) for eps in EPSILONS]
        column_logP = np.log(_column_softmax(logits.Z))
    return {
        "missing_mean": [head.loss * n],
        "label_off_by_one": [-_picked(head.logP, logits.labels, -1).mean()],
        "wrong_axis": [-_picked(column_logP, logits.labels).mean()],
        "log_of_softmax": [-logs.mean() for logs in logs_of_p],
        "log_base": [head.loss / np.log(10.0), head.loss / np.log(2.0)],
        "mean_over_classes": [head.loss / logits.Z.shape[1]],
        "lse_drops_max": [head.loss - logits.Z.max(axis=1).mean()],
        "label_index_block": [-head.logP[:, logits.labels].mean()],
    }


@quietly
def cross_entropy(learner, data: Logits) -> Diagnosis | None:
    def call(logits: Logits) -> Any:
        return learner.cross_entropy(*logits.copies())

    def expected(logits: Logits) -> float:
        return oracle.head(logits.Z, logits.labels).loss

    unstable = _where_unstable(call, expected, tol.CE_RTOL, tol.CE_ATOL)
    if unstable:
        return unstable
    probes = head_probes()
    if _right(call(probes.plain), expected(probes.plain), tol.CE_RTOL, tol.CE_ATOL):
        # Right wherever no probability underflows: the spread probe has some at 0.0 in float64,
        # where a log taken of the softmax gives inf (or whatever eps it was clipped to).
        got = call(probes.spread)
        clipped = AnyOf(tuple(_loss_mistakes(probes.spread)["log_of_softmax"]))
        if not np.isfinite(float(got)) or matches(got, clipped, rtol=tol.CE_RTOL, atol=tol.CE_ATOL):
            return known(KATA, "log_of_softmax")
        return None
    cases = [data, probes.plain]
    predicted = [_loss_mistakes(c) for c in cases]
    candidates = {mistake: [[AnyOf(tuple(p[mistake])) for p in predicted]] for mistake in predicted[0]}
    return identify(KATA, [call(c) for c in cases], candidates)


def _grad_mistakes(logits: Logits) -> dict[str, np.ndarray | AnyOf]:
    """dL/dZ under each gradient mistake: what softmax_ce_grad() (or backward()'s dZ2) would be."""
    head, labels = oracle.head(logits.Z, logits.labels), logits.labels
    n, c = logits.Z.shape
    onehot = _onehot(labels, c)
    return {
        "missing_mean": head.dZ * n,
        "label_off_by_one": (head.P - _onehot(labels, c, -1)) / n,
        "sign_flipped": -head.dZ,
        "jacobian_diagonal_only": onehot * (head.P - 1.0) / n,
        "labels_as_floats": (head.P - labels[:, None]) / n,
        "onehot_missing": head.P / n,
        "mean_over_classes": head.dZ / c,
        "wrong_axis": AnyOf(tuple((P - onehot) / n for P in _wrong_axis_softmaxes(logits.Z))),
    }


# Mistakes that change every gradient they list (a slip at dL/dZ2 reaches all four, a wrong ReLU
# derivative both W1 and b1): each must be as predicted, never right, or a slip in one bias alone
# (bias_mean, bias_before_mask) could take their name.
STRICT = frozenset((
    "missing_mean", "label_off_by_one", "sign_flipped", "jacobian_diagonal_only", "labels_as_floats", "onehot_missing",
    "wrong_axis", "mean_over_classes", "mean_twice", "relu_mask_missing", "relu_mask_from_grad", "relu_mask_times_activation",
))  # fmt: skip


@quietly
def grad(learner, data: Logits) -> Diagnosis | None:
    def call(logits: Logits) -> Any:
        return learner.softmax_ce_grad(*logits.copies())

    def expected(logits: Logits) -> np.ndarray:
        return oracle.head(logits.Z, logits.labels).dZ

    rtol, atol = tol.SOFTMAX_GRAD_RTOL, tol.SOFTMAX_GRAD_ATOL
    unstable = _where_unstable(call, expected, rtol, atol)
    if unstable:
        return unstable
    cases = [data, head_probes().plain]
    predicted = [_grad_mistakes(c) for c in cases]
    return identify(KATA, [call(c) for c in cases], {mistake: [[p[mistake] for p in predicted]] for mistake in predicted[0]})


# --- the classifier: init_params, forward, backward, train -------------------------------------
@dataclass(frozen=True)
class Case:
    """One input the learner's network is re-run on, with torch's values for it."""

    batch: Classifier
    net: oracle.Network

    @classmethod
    def of(cls, batch: Classifier) -> Case:
        return cls(batch, oracle.network(batch.X, batch.labels, batch.params))

    @property
    def n(self) -> int:
        return len(self.batch.X)


@functools.cache
def probe() -> Case:
    """A fixed D -> H -> C batch: every class a label, every hidden unit on for some rows and off for
    others, and off the ReLU kink."""
    rng = np.random.default_rng(tol.SOFTMAX_PROBE_SEED)
    n, (d, h, c) = tol.SOFTMAX_PROBE_N, tol.SOFTMAX_PROBE_SHAPE
    bound = tol.CLASSIFIER_RANGE
    while True:
        X = rng.uniform(-tol.X_RANGE, tol.X_RANGE, size=(n, d))
        params = {name: rng.uniform(-bound, bound, size=shape) for name, shape in (("W1", (d, h)), ("b1", (h,)), ("W2", (h, c)), ("b2", (c,)))}
        Z1 = X @ params["W1"] + params["b1"]
        if (Z1 > 0).any(axis=0).all() and (Z1 < 0).any(axis=0).all() and np.abs(Z1).min() > tol.KINK_MARGIN:
            return Case.of(Classifier(X=X, labels=np.arange(n) % c, params=params))


def _forward(learner, case: Case) -> tuple[Any, Any]:
    X, _, params = case.batch.copies()
    Z2, cache = learner.forward(X, params)  # not a pair: a ValueError, and no diagnosis
    return Z2, cache


def _forward_is_right(Z2: Any, case: Case) -> bool:
    return _right(Z2, case.net.Z2, tol.FORWARD_RTOL, tol.FORWARD_ATOL)


def _mistaken_outputs(case: Case) -> dict[str, list[np.ndarray]]:
    """forward()'s Z2 under each forward mistake, in each form the slip takes."""
    batch = case.batch

    def without(*biases: str) -> np.ndarray:
        params = {**batch.params, **{b: np.zeros_like(batch.params[b]) for b in biases}}
        return oracle.network(batch.X, batch.labels, params).Z2

    linear = case.net.Z1 @ batch.params["W2"] + batch.params["b2"]
    return {
        "forward_no_bias": [without("b1"), without("b2"), without("b1", "b2")],
        "forward_returns_probabilities": [oracle.head(case.net.Z2, batch.labels).P],
        "forward_no_relu": [linear],
    }


@quietly
def forward(learner, batch: Classifier) -> Diagnosis | None:
    cases = [Case.of(batch), probe()]
    observed = [_forward(learner, case)[0] for case in cases]
    predicted = [_mistaken_outputs(case) for case in cases]
    return identify(KATA, observed, {mistake: list(zip(*(p[mistake] for p in predicted))) for mistake in predicted[0]})


def _through_hidden(case: Case, dZ1: np.ndarray) -> dict[str, np.ndarray]:
    return {"W1": case.batch.X.T @ dZ1, "b1": dZ1.sum(axis=0)}


def _from_output(case: Case, dZ2: np.ndarray) -> dict[str, np.ndarray]:
    """Every gradient, correctly propagated from a (mistaken) dL/dZ2."""
    dZ1 = (dZ2 @ case.batch.params["W2"].T) * (case.net.Z1 > 0)
    return {"W2": case.net.A1.T @ dZ2, "b2": dZ2.sum(axis=0), **_through_hidden(case, dZ1)}


def _mistaken_grads(case: Case) -> dict[str, dict[str, np.ndarray]]:
    """backward()'s gradients under each mistake, for the parameters that mistake changes. A slip in
    dL/dZ2 (softmax_ce_grad's, or the same slip written inline) reaches every parameter."""
    net, grads, n = case.net, case.net.grads, case.n
    at_logits = Logits(Z=np.array(net.Z2), labels=case.batch.labels)
    from_logits = {
        mistake: [_from_output(case, dZ2) for dZ2 in (dZ2s.values if isinstance(dZ2s, AnyOf) else (dZ2s,))]
        for mistake, dZ2s in _grad_mistakes(at_logits).items()
    }
    return {
        **{mistake: {p: AnyOf(tuple(form[p] for form in forms)) for p in PARAMS} for mistake, forms in from_logits.items()},
        "mean_twice": {name: grads[name] / n for name in PARAMS},
        "z1_in_dw2": {"W2": net.Z1.T @ net.dZ2},
        "relu_mask_missing": _through_hidden(case, net.dA1),
        "relu_mask_from_grad": _through_hidden(case, net.dA1 * (net.dA1 > 0)),
        "relu_mask_times_activation": _through_hidden(case, net.dA1 * net.A1),
        "bias_before_mask": {"b1": net.dA1.sum(axis=0)},
        "transposed_weight_grad": {"W1": grads["W1"].T, "W2": grads["W2"].T},
        "bias_not_summed": {"b1": net.dZ1, "b2": net.dZ2},
        "bias_sum_wrong_axis": {"b1": net.dZ1.sum(axis=1), "b2": net.dZ2.sum(axis=1)},
        "bias_mean": {"b1": grads["b1"] / n, "b2": grads["b2"] / n},
    }


@quietly
def backward(learner, batch: Classifier, name: str) -> Diagnosis | None:
    """The mistake behind a wrong gradient for `name`. A mistake must explain all four gradients,
    not just this one: the others are right or as it would make them."""
    cases = [Case.of(batch), probe()]
    observed = []
    for case in cases:
        Z2, cache = _forward(learner, case)
        if not _forward_is_right(Z2, case):
            return forward(learner, batch)
        X, labels, params = case.batch.copies()
        grads = learner.backward(X, labels, params, cache)
        observed += [grads[param] for param in PARAMS]
    predicted = [_mistaken_grads(case) for case in cases]
    candidates = {
        mistake: [
            [
                p[mistake][param] if mistake in STRICT and param in p[mistake]
                else AnyOf((case.net.grads[param], p[mistake][param])) if param in p[mistake]
                else case.net.grads[param]
                for case, p in zip(cases, predicted)
                for param in PARAMS
            ]
        ]
        for mistake in predicted[0]
        if name in predicted[0][mistake]
    }
    return identify(KATA, observed, candidates)


def _same(first: dict, second: dict) -> bool:
    return first.keys() == second.keys() and all(np.array_equal(first[k], second[k]) for k in first)


@quietly
def init(learner) -> Diagnosis | None:
    """global_rng: one seed gives two different draws, yet a seeded np.random makes them equal;
    zero_init: W1 is one constant repeated."""
    D, H, C = tol.SOFTMAX_PROBE_SHAPE
    first = learner.init_params(D, H, C, np.random.default_rng(123))
    if not _same(first, learner.init_params(D, H, C, np.random.default_rng(123))):
        reseeded = []
        for _ in range(2):
            with learner.process.global_seed(0):  # in the learner's process, where their code draws
                reseeded.append(learner.init_params(D, H, C, np.random.default_rng(123)))
        return known(KATA, "global_rng") if _same(*reseeded) else None
    W1 = np.asarray(first["W1"])
    return known(KATA, "zero_init") if W1.size > 1 and (W1 == W1.flat[0]).all() else None


def _descent(batch: Classifier, lr: float) -> list[tuple[dict[str, np.ndarray], float]]:
    """Torch's (params, loss) before each of two full-batch steps of size lr, and after them."""
    params, history = batch.params, []
    for _ in range(3):
        net = oracle.network(batch.X, batch.labels, params)
        history.append((params, net.loss))
        params = {name: params[name] - lr * net.grads[name] for name in PARAMS}
    return history


def _trained(params: dict[str, Any], losses: Any) -> list[Any]:
    """train()'s result as a list of values to match one by one."""
    return [params[name] for name in PARAMS] + [np.asarray(losses, dtype=np.float64)]


@quietly
def train(learner, X: np.ndarray, labels: np.ndarray, *, hidden: int, lr: float, seed: int) -> Diagnosis | None:
    """Why two epochs of train() are not two steps of gradient descent, or why training does not
    learn: the first culprit among init_params, forward, cross_entropy, backward and train's loop."""
    D, C = X.shape[1], int(labels.max()) + 1
    untrained, _ = learner.train(X.copy(), labels.copy(), hidden=hidden, epochs=0, lr=lr, seed=seed)
    if np.shape(untrained["W2"]) == (hidden, C - 1):
        return known(KATA, "classes_off_by_one")
    start = learner.init_params(D, hidden, C, np.random.default_rng(seed))
    if not _same(start, learner.init_params(D, hidden, C, np.random.default_rng(seed))):
        return init(learner)
    # The parts on the probe, where every correct answer agrees with torch.
    case = probe()
    Z2, cache = _forward(learner, case)
    if not _forward_is_right(Z2, case):
        return forward(learner, case.batch)
    at_logits = Logits(Z=np.array(case.net.Z2), labels=case.batch.labels)
    if not _right(learner.cross_entropy(*at_logits.copies()), case.net.loss, tol.CE_RTOL, tol.CE_ATOL):
        return cross_entropy(learner, at_logits)
    grads = learner.backward(*case.batch.copies(), cache)
    for name in PARAMS:
        if not _right(grads[name], case.net.grads[name], tol.GRAD_RTOL, tol.GRAD_ATOL):
            return backward(learner, case.batch, name)

    observed = _trained(*learner.train(X.copy(), labels.copy(), hidden=hidden, epochs=2, lr=lr, seed=seed))
    batch = Classifier(X=X, labels=labels, params={name: np.asarray(start[name], dtype=np.float64) for name in PARAMS})
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
