"""Hidden spec for kata 04_softmax_ce: every number is checked against torch in float64 (oracle.py).

Each test is one property, so partial credit is possible; the `learner` fixture is the learner's
module, in its jailed process. Tolerances and input ranges, with their reasons, are in
harness/grading/tolerances.py. A failure that matches a mistake of catalog.toml names it (diagnoses.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis.control import current_build_context

from harness.grading import tolerances as tol
from harness.grading.checks import (
    KataFailure,
    describe,
    example_on_failure,
    expect_a_start_that_trains,
    expect_array,
    expect_close,
    expect_scalar,
    expect_unchanged,
)
from harness.grading.diagnosing import diagnosed
from harness.grading.strategies import Classifier, Logits, classifiers, logits
from harness.grading.verdicts import explain
from harness.jail.proxy import LearnerError
from harness.packs.softmax_ce import diagnoses as diagnose
from harness.packs.softmax_ce import oracle
from harness.packs.softmax_ce.data import spiral

PARAMS = oracle.PARAM_NAMES


def on_final(diagnose):
    """A diagnosis run on the final (shrunk) failing example only: while hypothesis shrinks, each of
    up to hundreds of failing examples would pay for it, inside the check's time limit."""
    return lambda: diagnose() if current_build_context().is_final else None


def shapes(D: int, H: int, C: int) -> dict[str, tuple[int, ...]]:
    return {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}


def check_keys(params, *, what: str) -> dict:
    if not isinstance(params, dict):
        raise KataFailure(f"{what} should be a dict with keys W1, b1, W2, b2, but it is {describe(params)}.")
    if set(params) != set(PARAMS):
        raise KataFailure(f"{what} has keys {sorted(params)}; it should have exactly {sorted(PARAMS)}.")
    return params


def check_params(params, *, what: str, D: int, H: int, C: int) -> dict[str, np.ndarray]:
    params = check_keys(params, what=what)
    return {name: expect_array(params[name], what=f"{what}[{name!r}]", shape=shape) for name, shape in shapes(D, H, C).items()}


# --- Task 04.1: softmax ------------------------------------------------------------------------
def call_softmax(learner, data: Logits, what: str = "softmax(Z)") -> np.ndarray:
    Z, _ = data.copies()
    return expect_array(learner.softmax(Z), what=what, shape=data.Z.shape)


@given(data=logits())
def test_softmax_rows_are_probabilities(learner, data):
    with example_on_failure(data), diagnosed(on_final(lambda: diagnose.softmax(learner, data))):
        P = call_softmax(learner, data)
        if not (P > 0).all():
            raise KataFailure(f"softmax(Z) has an entry {P[P <= 0].min():.6g} <= 0: every probability exp(z) / sum is positive.")
        sums = P.sum(axis=1)
        worst = int(np.argmax(np.abs(sums - 1.0)))
        if abs(sums[worst] - 1.0) > tol.SOFTMAX_RTOL * P.shape[1]:
            raise KataFailure(f"Row {worst} of softmax(Z) sums to {sums[worst]:.10g}: each row (one sample's class probabilities) must sum to 1.")
        # exp is increasing, so a larger logit gets a larger probability within its row.
        for i, (z, p) in enumerate(zip(data.Z, P)):
            order = np.argsort(z, kind="stable")
            rises = np.diff(z[order]) > 0  # equal logits (drawn rounded) get equal probabilities
            if not (np.diff(p[order])[rises] > 0).all():
                raise KataFailure(
                    f"Row {i} of softmax(Z) does not keep the order of its logits: logits {np.round(z[order], 6).tolist()}"
                    f" get probabilities {np.round(p[order], 6).tolist()}. A larger logit must get a larger probability."
                )
        # Positive, summing to 1 and in order holds for any increasing map normalised, exp or not.
        expect_close(
            P, oracle.head(data.Z, data.labels).P, what="softmax(Z) (this check counts once it agrees with torch)",
            rtol=tol.SOFTMAX_RTOL, atol=tol.SOFTMAX_ATOL,
        )  # fmt: skip


@given(data=logits())
def test_softmax_matches_torch(learner, data):
    with example_on_failure(data):
        expect_close(
            call_softmax(learner, data), oracle.head(data.Z, data.labels).P, what="softmax(Z)",
            rtol=tol.SOFTMAX_RTOL, atol=tol.SOFTMAX_ATOL, diagnose=on_final(lambda: diagnose.softmax(learner, data)),
        )  # fmt: skip


@given(data=logits(shifted=True))
def test_softmax_stable_at_1000(learner, data):
    what = "softmax(Z) at logits near +-1000 (each row shifted by its own +1000 or -1000)"
    with example_on_failure(data), diagnosed(on_final(lambda: diagnose.softmax(learner, data))):
        expect_close(
            call_softmax(learner, data, what), oracle.head(data.Z, data.labels).P, what=what,
            rtol=tol.SOFTMAX_RTOL, atol=tol.SOFTMAX_ATOL,
        )  # fmt: skip


# --- Task 04.2: cross-entropy ------------------------------------------------------------------
def check_cross_entropy(learner, data: Logits, what: str) -> None:
    with example_on_failure(data), diagnosed(on_final(lambda: diagnose.cross_entropy(learner, data))):
        loss = expect_scalar(learner.cross_entropy(*data.copies()), what=what)
        expect_close(loss, oracle.head(data.Z, data.labels).loss, what=what, rtol=tol.CE_RTOL, atol=tol.CE_ATOL)


@given(data=logits())
def test_cross_entropy_matches_torch(learner, data):
    check_cross_entropy(learner, data, "cross_entropy(Z, labels)")


@given(data=logits(shifted=True, spread=True))
def test_cross_entropy_stable_far_apart(learner, data):
    check_cross_entropy(learner, data, "cross_entropy(Z, labels) with logits hundreds apart (near +-1000)")


# --- Task 04.3: dL/dZ --------------------------------------------------------------------------
def check_grad(learner, data: Logits, what: str) -> None:
    with example_on_failure(data), diagnosed(on_final(lambda: diagnose.grad(learner, data))):
        dZ = expect_array(learner.softmax_ce_grad(*data.copies()), what=what, shape=data.Z.shape)
        expect_close(dZ, oracle.head(data.Z, data.labels).dZ, what=what, rtol=tol.SOFTMAX_GRAD_RTOL, atol=tol.SOFTMAX_GRAD_ATOL)


@given(data=logits())
def test_softmax_ce_grad_matches_torch(learner, data):
    check_grad(learner, data, "softmax_ce_grad(Z, labels)")


@given(data=logits(shifted=True))
def test_softmax_ce_grad_stable_at_1000(learner, data):
    check_grad(learner, data, "softmax_ce_grad(Z, labels) at logits near +-1000")


@given(data=logits(shifted=True))
def test_loss_head_leaves_arguments_unchanged(learner, data):
    # Only code that computes the right thing earns this point: a function returning zeros changes nothing.
    expected = oracle.head(data.Z, data.labels)
    with example_on_failure(data):
        for func, right, rtol, atol, named in (
            ("softmax", expected.P, tol.SOFTMAX_RTOL, tol.SOFTMAX_ATOL, diagnose.softmax),
            ("cross_entropy", expected.loss, tol.CE_RTOL, tol.CE_ATOL, diagnose.cross_entropy),
            ("softmax_ce_grad", expected.dZ, tol.SOFTMAX_GRAD_RTOL, tol.SOFTMAX_GRAD_ATOL, diagnose.grad),
        ):
            Z, labels = data.copies()
            got = getattr(learner, func)(*((Z,) if func == "softmax" else (Z, labels)))
            with diagnosed(lambda: diagnose.shifted_in_place(data.Z, Z)):
                expect_unchanged({"Z": data.Z, "labels": data.labels}, {"Z": Z, "labels": labels}, func=f"{func}()")
            what = f"{func}() (this check counts once it agrees with torch at logits near +-1000)"
            with diagnosed(on_final(lambda: named(learner, data))):
                got = expect_scalar(got, what=what) if func == "cross_entropy" else expect_array(got, what=what, shape=data.Z.shape)
                expect_close(got, right, what=what, rtol=rtol, atol=atol)


# --- Task 04.4: the classifier -----------------------------------------------------------------
SIZES = ((3, 5, 4), (2, 7, 3))  # (D, H, C): two, so that sizes come from the arguments


def test_init_params_keys_and_shapes(learner):
    for D, H, C in SIZES:
        what = f"init_params({D}, {H}, {C}, rng)"
        params = check_params(learner.init_params(D, H, C, np.random.default_rng(0)), what=what, D=D, H=H, C=C)
        # Arrays of the right shapes alone are no initialisation; but W2 = 0 beside a random W1 is one (the
        # hidden units differ, and W2 gets a gradient at once), as kata 02 accepts it too.
        if (params["W1"] == params["W1"].flat[0]).all():
            raise KataFailure(f"{what}['W1'] is {params['W1'].flat[0]:g} everywhere: draw the weights at random from rng.", diagnose.init(learner))


def test_init_params_is_seeded(learner):
    D, H, C = SIZES[0]

    def draw(seed: int) -> dict[str, np.ndarray]:
        return check_params(learner.init_params(D, H, C, np.random.default_rng(seed)), what="init_params()", D=D, H=H, C=C)

    first, again, other = draw(123), draw(123), draw(321)
    for name in PARAMS:
        if not np.array_equal(first[name], again[name]):
            raise KataFailure(
                f"init_params() gave different {name} for two generators with the same seed:"
                " draw every random number from the rng argument (not np.random.* directly).",
                diagnose.init(learner),
            )
    if all(np.array_equal(first[name], other[name]) for name in PARAMS):
        raise KataFailure("init_params() gave the same params for seeds 123 and 321: draw them from the rng argument.", diagnose.init(learner))


def test_init_params_breaks_symmetry(learner):
    D, H, C = SIZES[0]
    W1 = check_params(learner.init_params(D, H, C, np.random.default_rng(0)), what="init_params()", D=D, H=H, C=C)["W1"]
    for i in range(H):
        for j in range(i + 1, H):
            if np.array_equal(W1[:, i], W1[:, j]):
                raise KataFailure(
                    f"init_params() starts hidden units {i} and {j} with identical weights (W1[:, {i}] == W1[:, {j}]):"
                    " they get identical gradients and stay copies of each other forever. Draw W1 at random.",
                    diagnose.init(learner),
                )


def call_forward(learner, batch: Classifier) -> tuple[np.ndarray, object]:
    X, _, params = batch.copies()
    result = learner.forward(X, params)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise KataFailure(f"forward() should return a pair (Z2, cache), but it returned {describe(result)}.")
    Z2, cache = result
    return expect_array(Z2, what="forward()'s Z2", shape=(len(batch.X), batch.params["b2"].shape[0])), cache


@given(batch=classifiers())
def test_forward_matches_torch(learner, batch):
    with example_on_failure(batch), diagnosed(on_final(lambda: diagnose.forward(learner, batch))):
        Z2, _ = call_forward(learner, batch)
        expected = oracle.network(batch.X, batch.labels, batch.params).Z2
        expect_close(Z2, expected, what="forward()'s logits Z2", rtol=tol.FORWARD_RTOL, atol=tol.FORWARD_ATOL)


@pytest.mark.parametrize("name", PARAMS)
@given(batch=classifiers())
def test_backward_matches_torch(learner, name, batch):
    with example_on_failure(batch):
        expected = oracle.network(batch.X, batch.labels, batch.params)
        _, cache = call_forward(learner, batch)
        X, labels, params = batch.copies()
        # Only this test's gradient must have its shape: a transposed dW1 costs the W1 check alone.
        grads = check_keys(learner.backward(X, labels, params, cache), what="backward()")
        with diagnosed(on_final(lambda: diagnose.backward(learner, batch, name))):
            grad = expect_array(grads[name], what=f"backward()[{name!r}]", shape=batch.params[name].shape)
            expect_close(grad, expected.grads[name], what=f"backward()[{name!r}]", rtol=tol.GRAD_RTOL, atol=tol.GRAD_ATOL)


@given(batch=classifiers(max_n=8))
def test_forward_backward_leave_arguments_unchanged(learner, batch):
    # Only a forward and backward that agree with torch earn this point: returning zeros changes nothing.
    expected = oracle.network(batch.X, batch.labels, batch.params)
    with example_on_failure(batch):
        X, labels, params = batch.copies()
        Z2, cache = learner.forward(X, params)
        expect_unchanged({"X": batch.X, **batch.params}, {"X": X, **params}, func="forward()")
        grads = check_keys(learner.backward(X, labels, params, cache), what="backward()")
        before = {"X": batch.X, "labels": batch.labels, **batch.params}
        expect_unchanged(before, {"X": X, "labels": labels, **params}, func="backward()")
        after = "(this check counts once it agrees with torch)"
        with diagnosed(on_final(lambda: diagnose.forward(learner, batch))):
            Z2 = expect_array(Z2, what=f"forward()'s Z2 {after}", shape=expected.Z2.shape)
            expect_close(Z2, expected.Z2, what=f"forward()'s Z2 {after}", rtol=tol.FORWARD_RTOL, atol=tol.FORWARD_ATOL)
        for name in PARAMS:
            with diagnosed(on_final(lambda: diagnose.backward(learner, batch, name))):
                grad = expect_array(grads[name], what=f"backward()[{name!r}] {after}", shape=batch.params[name].shape)
                expect_close(grad, expected.grads[name], what=f"backward()[{name!r}] {after}", rtol=tol.GRAD_RTOL, atol=tol.GRAD_ATOL)


# --- Task 04.5: training -----------------------------------------------------------------------
def call_train(learner, X, labels, *, hidden: int, epochs: int, lr: float, seed: int, after: str = "") -> tuple[dict[str, np.ndarray], np.ndarray]:
    try:
        result = learner.train(X.copy(), labels.copy(), hidden=hidden, epochs=epochs, lr=lr, seed=seed)
    except LearnerError as exc:
        # Told as a crash always is, but a failure, so that the mistake behind it can be named
        # (a network one class short crashes at the top label).
        raise KataFailure(explain(exc, learner.file)) from None
    if not (isinstance(result, tuple) and len(result) == 2):
        raise KataFailure(f"train(){after} should return a pair (params, losses), but it returned {describe(result)}.")
    params, losses = result
    params = check_params(params, what=f"train()'s params{after}", D=X.shape[1], H=hidden, C=int(labels.max()) + 1)
    if not isinstance(losses, (list, tuple, np.ndarray)) or len(losses) != epochs:
        raise KataFailure(f"train(epochs={epochs}){after} should return one loss per epoch, but its losses are {describe(losses)}.")
    return params, np.array([expect_scalar(v, what=f"train()'s losses[{i}]") for i, v in enumerate(losses)])


# Two epochs on a small spiral: short enough to follow step by step, long enough to see each loss.
STEP = {"per_class": 4, "hidden": 5, "lr": 0.5, "seed": 7}


def diagnose_train(learner):
    """The mistake behind a train() failure, found on the two-epoch setting of the step test."""
    X, labels = spiral(STEP["per_class"])
    return diagnose.train(learner, X, labels, hidden=STEP["hidden"], lr=STEP["lr"], seed=STEP["seed"])


def expect_gradient_descent(learner, after: str = "") -> None:
    """train(epochs=2) takes two steps of full-batch gradient descent from the learner's own
    init_params(seed), each by torch's gradients; `after` follows each `what`, for a check that
    counts only once this holds."""
    X, labels = spiral(STEP["per_class"])
    hidden, lr, seed = STEP["hidden"], STEP["lr"], STEP["seed"]
    sizes = {"D": X.shape[1], "H": hidden, "C": int(labels.max()) + 1}
    with diagnosed(lambda: diagnose_train(learner)):  # train() first: an unwritten one is told as such
        got_params, got_losses = call_train(learner, X, labels, hidden=hidden, epochs=2, lr=lr, seed=seed, after=after)
    params = check_params(learner.init_params(*sizes.values(), np.random.default_rng(seed)), what=f"init_params(){after}", **sizes)
    start = params
    expected_losses = []
    for _ in range(2):  # two steps of full-batch gradient descent, by torch
        step = oracle.network(X, labels, params)
        expected_losses.append(step.loss)
        params = {name: params[name] - lr * step.grads[name] for name in PARAMS}
    expect_a_start_that_trains(start, params, what=f"init_params(np.random.default_rng({seed})){after}")
    with diagnosed(lambda: diagnose_train(learner)):
        what = f"train(epochs=2)'s losses (each taken before that epoch's update){after}"
        expect_close(got_losses, np.array(expected_losses), what=what, rtol=tol.GRAD_RTOL, atol=tol.GRAD_ATOL)
        for name in PARAMS:
            expect_close(got_params[name], params[name], what=f"train(epochs=2, lr={lr})'s {name}{after}", rtol=tol.GRAD_RTOL, atol=tol.GRAD_ATOL)


def test_train_two_epochs_are_gradient_descent(learner):
    expect_gradient_descent(learner)


def test_train_learns_spiral(learner):
    # Only params that gradient descent found earn this: the spiral is public, so weights trained
    # elsewhere (torch at home, pasted in) would score on accuracy alone.
    expect_gradient_descent(learner, after=" (the spiral check counts once train() is gradient descent)")
    X, labels = spiral()
    hidden, epochs, lr = tol.SOFTMAX_TRAIN_HIDDEN, tol.SOFTMAX_TRAIN_EPOCHS, tol.SOFTMAX_TRAIN_LR
    with diagnosed(lambda: diagnose_train(learner)):
        accuracies = []
        for seed in tol.SOFTMAX_TRAIN_SEEDS:
            params, losses = call_train(learner, X, labels, hidden=hidden, epochs=epochs, lr=lr, seed=seed)
            if not losses[-1] < losses[0]:
                raise KataFailure(f"train(seed={seed}) did not lower the loss: {losses[0]:.4g} at the start, {losses[-1]:.4g} at the end.")
            # Accuracy from torch's forward pass on the trained params, not from the learner's.
            accuracy = float((oracle.network(X, labels, params).Z2.argmax(axis=1) == labels).mean())
            if accuracy >= tol.SOFTMAX_TRAIN_MIN_ACCURACY:
                return
            accuracies.append(f"seed {seed}: {accuracy:.0%}")
        raise KataFailure(
            f"After {epochs} epochs at lr={lr} with {hidden} hidden units, no seed reached"
            f" {tol.SOFTMAX_TRAIN_MIN_ACCURACY:.0%} accuracy on the three-class spiral ({', '.join(accuracies)})."
        )
