"""Hidden spec for kata 02_backprop: every number is checked against torch autograd in float64.

Each test is one property, so partial credit is possible; the `learner` fixture is the learner's
module. Tolerances and input ranges, with their reasons, are in harness/grading/tolerances.py. A failure that
matches a mistake of harness/packs/backprop/catalog.toml names it (harness/packs/backprop/diagnoses.py).
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given, note
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
from harness.packs.backprop import diagnoses as diagnose
from harness.grading.diagnosing import diagnosed
from harness.packs.backprop import oracle
from harness.grading.strategies import Batch, batches, predictions

SHAPES = {"W1": (2, 3), "b1": (3,), "W2": (3, 1), "b2": (1,)}


def call_forward(learner, batch: Batch) -> tuple[np.ndarray, object]:
    X, _, params = batch.copies()
    result = learner.forward(X, params)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise KataFailure(f"forward() should return a pair (A2, cache), but it returned {describe(result)}.")
    y_hat, cache = result
    return expect_array(y_hat, what="forward()'s A2", shape=(len(batch.X), 1)), cache


def check_keys(params, *, what: str) -> dict:
    if not isinstance(params, dict):
        raise KataFailure(f"{what} should be a dict with keys W1, b1, W2, b2, but it is {describe(params)}.")
    if set(params) != set(SHAPES):
        raise KataFailure(f"{what} has keys {sorted(params)}; it should have exactly {sorted(SHAPES)}.")
    return params


def check_params(params, *, what: str) -> dict[str, np.ndarray]:
    params = check_keys(params, what=what)
    return {name: expect_array(params[name], what=f"{what}[{name!r}]", shape=shape) for name, shape in SHAPES.items()}


@contextmanager
def cache_on_failure(cache, expected: oracle.Network):
    """On the final failing example, say which intermediate in the learner's cache goes wrong first."""
    try:
        yield
    except KataFailure:
        where = diagnose.first_wrong_intermediate(cache, expected) if current_build_context().is_final else None
        if where:
            note(where)
        raise


# --- Task 02.1: initialise ---------------------------------------------------------------------
def test_init_params_keys_and_shapes(learner):
    check_params(learner.init_params(np.random.default_rng(0)), what="init_params()")


def test_init_params_is_seeded(learner):
    first = check_params(learner.init_params(np.random.default_rng(123)), what="init_params()")
    again = check_params(learner.init_params(np.random.default_rng(123)), what="init_params()")
    other = check_params(learner.init_params(np.random.default_rng(321)), what="init_params()")
    for name in SHAPES:
        if not np.array_equal(first[name], again[name]):
            raise KataFailure(
                f"init_params() gave different {name} for two generators with the same seed:"
                " draw every random number from the rng argument (not np.random.* directly).",
                diagnose.init(learner),
            )
    if all(np.array_equal(first[name], other[name]) for name in SHAPES):
        raise KataFailure(
            "init_params() gave the same params for seeds 123 and 321: draw them from the rng argument.",
            diagnose.init(learner),
        )


def test_init_params_breaks_symmetry(learner):
    W1 = check_params(learner.init_params(np.random.default_rng(0)), what="init_params()")["W1"]
    for i in range(3):
        for j in range(i + 1, 3):
            if np.array_equal(W1[:, i], W1[:, j]):
                raise KataFailure(
                    f"init_params() starts hidden units {i} and {j} with identical weights (W1[:, {i}] == W1[:, {j}]):"
                    " they get identical gradients and stay copies of each other forever. Draw W1 at random.",
                    diagnose.init(learner),
                )


# --- Task 02.2: forward pass -------------------------------------------------------------------
# Partial credit for the output's form, short of torch's numbers (test_forward_matches_torch's
# job): a forward pass with a slip in it (a bias left out, no ReLU) still earns it. But a constant
# in (0, 1) has that form without being a forward pass, so the output must also move where torch's
# does: from row to row of X, and when the params change. Anything computed from both passes, a
# near miss as much as a sigmoid of some other mix of X and params: telling those apart is what
# agreeing with torch is for.
def moves_where_torch_does(got: np.ndarray, other: np.ndarray, want: np.ndarray, want_other: np.ndarray) -> str | None:
    """What of X and the params forward()'s A2 ignores, judged by torch's A2 moving (by more than
    rounding) where the learner's stays bit for bit the same."""
    if np.ptp(want) > tol.FORWARD_ATOL and np.ptp(got) == 0:
        return "is the same for every row of X, where torch's differs from row to row: compute it from X"
    if np.abs(want_other - want).max() > tol.FORWARD_ATOL and np.array_equal(other, got):
        return "stays the same when every param is doubled, where torch's changes: compute it from the params"
    return None


@given(batch=batches())
def test_forward_shape_and_range(learner, batch):
    with example_on_failure(batch), diagnosed(lambda: diagnose.forward(learner, batch)):
        y_hat, _ = call_forward(learner, batch)
        if not ((y_hat > 0) & (y_hat < 1)).all():
            raise KataFailure(f"forward()'s A2 has values outside (0, 1), e.g. {y_hat[(y_hat <= 0) | (y_hat >= 1)][0]}: the output must be a sigmoid.")
        doubled = Batch(X=batch.X, y=batch.y, params={name: 2 * value for name, value in batch.params.items()})
        other, _ = call_forward(learner, doubled)
        wants = (oracle.network(b.X, b.y, b.params).A2 for b in (batch, doubled))
        ignored = moves_where_torch_does(y_hat, other, *wants)
        if ignored:
            raise KataFailure(f"forward()'s A2 {ignored} (a value in (0, 1) alone is not a forward pass).")


@given(batch=batches())
def test_forward_matches_torch(learner, batch):
    with example_on_failure(batch):
        expected = oracle.network(batch.X, batch.y, batch.params)
        y_hat, cache = call_forward(learner, batch)
        with cache_on_failure(cache, expected):
            expect_close(
                y_hat, expected.A2, what="forward()'s A2", rtol=tol.FORWARD_RTOL, atol=tol.FORWARD_ATOL,
                diagnose=lambda: diagnose.forward(learner, batch),
            )  # fmt: skip


# --- Task 02.3: loss ---------------------------------------------------------------------------
@given(data=predictions())
def test_bce_loss_matches_torch(learner, data):
    with example_on_failure(data):
        expected = oracle.bce(data.y_hat, data.y)
        with diagnosed(lambda: diagnose.loss(learner, data.y_hat, data.y)):
            loss = expect_scalar(learner.bce_loss(data.y_hat.copy(), data.y.copy()), what="bce_loss()")
        expect_close(
            loss, expected, what="bce_loss()", rtol=tol.LOSS_RTOL, atol=tol.LOSS_ATOL,
            diagnose=lambda: diagnose.loss(learner, data.y_hat, data.y),
        )  # fmt: skip


def test_bce_loss_finite_at_0_and_1(learner):
    y_hat = np.array([[0.0], [1.0], [0.0], [1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    with diagnosed(lambda: diagnose.loss_at_edges(learner, y_hat, y)):  # a copy: the diagnosis re-runs on these
        loss = expect_scalar(learner.bce_loss(y_hat.copy(), y.copy()), what="bce_loss(y_hat=[0, 1, 0, 1], y=[0, 1, 1, 0])")
    if loss <= 0:
        raise KataFailure(f"bce_loss() is {loss} for confidently wrong predictions; it must be positive (and large).")
    perfect = expect_scalar(learner.bce_loss(y_hat[:2], y[:2]), what="bce_loss(y_hat=[0, 1], y=[0, 1])")
    if not abs(perfect) < 1e-3:  # an eps added inside the log makes it -1e-15 or so: (almost) 0 either way
        raise KataFailure(f"bce_loss() is {perfect} for perfect predictions y_hat == y; it should be (almost) 0.")
    # Positive when wrong and 0 when right is also the error rate's form: the point is a cross-entropy's.
    inside = np.array([[0.2], [0.9], [0.6], [0.3]])
    what = "bce_loss(y_hat=[0.2, 0.9, 0.6, 0.3], y=[0, 1, 1, 0]) (this check counts once it agrees with torch)"
    with diagnosed(lambda: diagnose.loss(learner, inside, y)):
        loss = expect_scalar(learner.bce_loss(inside.copy(), y.copy()), what=what)
        expect_close(loss, oracle.bce(inside, y), what=what, rtol=tol.LOSS_RTOL, atol=tol.LOSS_ATOL)


# --- Task 02.4: backward pass ------------------------------------------------------------------
@pytest.mark.parametrize("name", list(SHAPES))
@given(batch=batches())
def test_backward_matches_torch(learner, name, batch):
    with example_on_failure(batch):
        expected = oracle.network(batch.X, batch.y, batch.params)
        _, cache = call_forward(learner, batch)
        X, y, params = batch.copies()
        # Only this test's gradient must have its shape: a transposed dW1 costs the W1 check alone.
        grads = check_keys(learner.backward(X, y, params, cache), what="backward()")

        def diagnosis():
            return diagnose.backward(learner, batch, name)

        with diagnosed(diagnosis):
            grad = expect_array(grads[name], what=f"backward()[{name!r}]", shape=SHAPES[name])
        expect_close(
            grad, expected.grads[name], what=f"backward()[{name!r}]", rtol=tol.GRAD_RTOL, atol=tol.GRAD_ATOL,
            diagnose=diagnosis,
        )  # fmt: skip


# Every row saturates: Z2 is within 1 of SATURATED_Z2, where the sigmoid is exactly 1.0 in float64
# (tolerances.py), and the Z1 are at least 0.1 from the ReLU's kink. Labels 0 and 1 both: a label 0
# is where the gradient, (A2 - y)/N = 1/N, must survive.
SATURATED = Batch(
    X=np.array([[1.0, 0.5], [-1.0, 0.3], [0.8, -0.6], [-0.5, -1.0]]),
    y=np.array([[0.0], [1.0], [0.0], [1.0]]),
    params={
        "W1": np.array([[1.0, -1.0, 0.5], [0.5, 1.0, -1.0]]),
        "b1": np.array([0.1, 0.1, 0.1]),
        "W2": np.array([[0.5], [-0.3], [0.2]]),
        "b2": np.array([tol.SATURATED_Z2]),
    },
)


def test_backward_stays_right_when_the_output_saturates(learner):
    expected = oracle.saturated(SATURATED.X, SATURATED.y, SATURATED.params)
    _, cache = call_forward(learner, SATURATED)
    X, y, params = SATURATED.copies()
    grads = check_keys(learner.backward(X, y, params, cache), what="backward()")
    try:
        for name in SHAPES:
            with diagnosed(lambda: diagnose.saturation(learner, SATURATED, name)):  # noqa: B023 - run at once, in the loop
                what = f"backward()[{name!r}] where the output saturates (A2 is exactly 1.0: Z2 near {tol.SATURATED_Z2:g})"
                grad = expect_array(grads[name], what=what, shape=SHAPES[name])
                expect_close(grad, expected.grads[name], what=what, rtol=tol.GRAD_RTOL, atol=tol.GRAD_ATOL)
    except KataFailure as failure:
        failure.add_note(f"The batch:\n{SATURATED!r}")
        raise


@given(batch=batches(max_n=8))
def test_backward_leaves_arguments_unchanged(learner, batch):
    # Only a forward and backward that agree with torch earn this point: returning {} changes nothing.
    expected = oracle.network(batch.X, batch.y, batch.params)
    with example_on_failure(batch):
        X, y, params = batch.copies()
        y_hat, cache = learner.forward(X, params)
        with diagnosed(diagnose.changed_in_place):
            expect_unchanged({"X": batch.X, **batch.params}, {"X": X, **params}, func="forward()")
        # The cache is an argument of backward() too: forward()'s A2 is often the very array in it.
        given = {f"cache[{k!r}]": v.copy() for k, v in cache.items() if isinstance(v, np.ndarray)} if isinstance(cache, dict) else {}
        grads = learner.backward(X, y, params, cache)
        with diagnosed(diagnose.changed_in_place):
            expect_unchanged({"X": batch.X, "y": batch.y, **batch.params}, {"X": X, "y": y, **params}, func="backward()")
            expect_unchanged(given, {f"cache[{k!r}]": v for k, v in cache.items()} if given else {}, func="backward()")
        after = "(this check counts once it agrees with torch)"
        with diagnosed(lambda: diagnose.forward(learner, batch)):
            y_hat = expect_array(y_hat, what=f"forward()'s A2 {after}", shape=expected.A2.shape)
            expect_close(y_hat, expected.A2, what=f"forward()'s A2 {after}", rtol=tol.FORWARD_RTOL, atol=tol.FORWARD_ATOL)
        grads = check_keys(grads, what=f"backward() {after}")
        for name in SHAPES:
            with diagnosed(lambda: diagnose.backward(learner, batch, name)):  # noqa: B023 - run at once, in the loop
                grad = expect_array(grads[name], what=f"backward()[{name!r}] {after}", shape=SHAPES[name])
                expect_close(grad, expected.grads[name], what=f"backward()[{name!r}] {after}", rtol=tol.GRAD_RTOL, atol=tol.GRAD_ATOL)


# --- Task 02.5: training -----------------------------------------------------------------------
def quadrants(n: int = 160, seed: int = 2024) -> tuple[np.ndarray, np.ndarray]:
    """XOR-like data, not linearly separable: label 1 where x1 and x2 have the same sign."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(4 * n, 2))
    X = X[np.abs(X).min(axis=1) > 0.1][:n]  # a margin around the axes
    return X, (X[:, 0] * X[:, 1] > 0).astype(np.float64)[:, None]


def call_train(learner, X, y, *, after: str = "", **kwargs) -> tuple[dict[str, np.ndarray], np.ndarray]:
    result = learner.train(X.copy(), y.copy(), **kwargs)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise KataFailure(f"train(){after} should return a pair (params, losses), but it returned {describe(result)}.")
    params, losses = result
    params = check_params(params, what=f"train()'s params{after}")
    if not isinstance(losses, (list, tuple, np.ndarray)) or len(losses) != kwargs["epochs"]:
        raise KataFailure(f"train(epochs={kwargs['epochs']}){after} should return one loss per epoch, but its losses are {describe(losses)}.")
    return params, np.array([expect_scalar(v, what=f"train()'s losses[{i}]") for i, v in enumerate(losses)])


# Two epochs on a small batch: short enough to follow step by step, long enough to see each loss.
STEP_N, STEP_LR, STEP_SEED = 12, 0.1, 7


def diagnose_train(learner):
    """The mistake behind a train() failure, found on the two-epoch setting of the step test."""
    X, y = quadrants(n=STEP_N)
    return diagnose.train(learner, X, y, lr=STEP_LR, seed=STEP_SEED)


def expect_gradient_descent(learner, after: str = "") -> None:
    """train(epochs=2) takes two steps of full-batch gradient descent from the learner's own
    init_params(seed), each by torch's gradients; `after` follows each `what`, for a check that
    counts only once this holds."""
    X, y = quadrants(n=STEP_N)
    lr, seed = STEP_LR, STEP_SEED
    with diagnosed(lambda: diagnose_train(learner)):  # train() first: an unwritten one is told as such
        got_params, got_losses = call_train(learner, X, y, epochs=2, lr=lr, seed=seed, after=after)
    params = check_params(learner.init_params(np.random.default_rng(seed)), what=f"init_params(){after}")
    start = params
    expected_losses = []
    for _ in range(2):  # two steps of full-batch gradient descent, by torch
        step = oracle.network(X, y, params)
        expected_losses.append(step.loss)
        params = {name: params[name] - lr * step.grads[name] for name in SHAPES}
    expect_a_start_that_trains(start, params, what=f"init_params(np.random.default_rng({seed})){after}")
    with diagnosed(lambda: diagnose_train(learner)):
        expect_close(got_losses, np.array(expected_losses), what=f"train(epochs=2)'s losses (each taken before that epoch's update){after}", rtol=tol.LOSS_RTOL, atol=tol.LOSS_ATOL)
        for name in SHAPES:
            expect_close(got_params[name], params[name], what=f"train(epochs=2, lr={lr})'s {name}{after}", rtol=tol.GRAD_RTOL, atol=tol.GRAD_ATOL)


def test_train_one_step_is_gradient_descent(learner):
    expect_gradient_descent(learner)


def test_train_learns_xor(learner):
    # Only params that gradient descent found earn this: the data are public, so weights picked by
    # hand or trained elsewhere (random search, torch at home) would score on accuracy alone.
    expect_gradient_descent(learner, after=" (the XOR check counts once train() is gradient descent)")
    X, y = quadrants()
    with diagnosed(lambda: diagnose_train(learner)):
        accuracies = []
        for seed in tol.TRAIN_SEEDS:
            params, losses = call_train(learner, X, y, epochs=tol.TRAIN_EPOCHS, lr=tol.TRAIN_LR, seed=seed)
            if not losses[-1] < losses[0]:
                raise KataFailure(f"train(seed={seed}) did not lower the loss: {losses[0]:.4g} at the start, {losses[-1]:.4g} at the end.")
            # Accuracy from torch's forward pass on the trained params, not from the learner's.
            accuracy = float(((oracle.network(X, y, params).A2 > 0.5) == (y > 0.5)).mean())
            if accuracy >= tol.TRAIN_MIN_ACCURACY:
                return
            accuracies.append(f"seed {seed}: {accuracy:.0%}")
        raise KataFailure(
            f"After {tol.TRAIN_EPOCHS} epochs at lr={tol.TRAIN_LR}, no seed reached {tol.TRAIN_MIN_ACCURACY:.0%} accuracy"
            f" on the XOR-like quadrants ({', '.join(accuracies)})."
        )
