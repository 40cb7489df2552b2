"""Hidden spec for kata 06_vanishing_gradients: every number against torch autograd in float64 (oracle.py).

Each test is one property, so partial credit is possible; the `learner` fixture is the learner's
module, in its jailed process (harness/jail/). Tolerances and input ranges, with their reasons, are in
harness/grading/tolerances.py (the MLP_*, INIT_* and VANISH_* entries). A failure that matches a
mistake of harness/packs/vanishing/catalog.toml names it (harness/packs/vanishing/diagnoses.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from harness.grading import tolerances as tol
from harness.grading.checks import KataFailure, describe, example_on_failure, expect_array, expect_close, expect_scalar, expect_unchanged
from harness.grading.diagnosing import diagnosed, matches
from harness.grading.strategies import Mlp, Points, mlps, points
from harness.packs.vanishing import diagnoses as diagnose
from harness.packs.vanishing import oracle

ACTIVATIONS = oracle.ACTIVATIONS


def as_floats(value):
    """A 0/1 mask of bools or ints is a fine derivative for ReLU: read it as floats."""
    if isinstance(value, np.ndarray) and (value.dtype == bool or np.issubdtype(value.dtype, np.integer)):
        return value.astype(np.float64)
    return value


def grad_atol(expected: np.ndarray) -> float:
    """The absolute slack for one gradient array: a share of its own largest entry (see tolerances)."""
    return tol.MLP_GRAD_ATOL_SHARE * float(np.abs(expected).max(initial=0.0)) + 1e-300


def call_forward(learner, mlp: Mlp, activation: str) -> tuple[np.ndarray, object]:
    X, _, params = mlp.copies()
    result = learner.forward(X, params, activation)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise KataFailure(f"forward(X, params, {activation!r}) should return a pair (Y_hat, cache), but it returned {describe(result)}.")
    Y_hat, cache = result
    return expect_array(Y_hat, what=f"forward(X, params, {activation!r})'s Y_hat", shape=mlp.Y.shape), cache


def snapshot(value):
    """A copy of the arrays in a cache of dicts, lists and tuples (anything else is kept as it is)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: snapshot(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(snapshot(v) for v in value)
    return value


def changed_in(before, after, where: str = "") -> str | None:
    """Where `after` differs from its deep copy `before` (a path such as ['A3'] or [2][1]), or None."""
    if isinstance(before, np.ndarray):
        same = isinstance(after, np.ndarray) and before.shape == after.shape and np.array_equal(before, after, equal_nan=before.dtype.kind == "f")
        return None if same else where
    if isinstance(before, dict):
        if not isinstance(after, dict) or before.keys() != after.keys():
            return where
        return next((w for k in before if (w := changed_in(before[k], after[k], f"{where}[{k!r}]")) is not None), None)
    if isinstance(before, (list, tuple)):
        if type(after) is not type(before) or len(before) != len(after):
            return where
        return next((w for i, (b, a) in enumerate(zip(before, after)) if (w := changed_in(b, a, f"{where}[{i}]")) is not None), None)
    return None


def check_grads(grads, names: tuple[str, ...], *, what: str) -> dict:
    if not isinstance(grads, dict):
        raise KataFailure(f"{what} should be a dict with keys {', '.join(names)}, but it is {describe(grads)}.")
    if set(grads) != set(names):
        raise KataFailure(f"{what} has keys {sorted(grads)}; it should have exactly the keys of params: {', '.join(names)}.")
    return grads


# --- Task 06.1: activations --------------------------------------------------------------------
@pytest.mark.parametrize("activation", ACTIVATIONS)
@given(data=points(tol.ACT_RANGE))
def test_activate_matches_torch(learner, activation, data: Points):
    with example_on_failure(data):
        expected, _ = oracle.activation(data.x, activation)
        what = f"activate(Z, {activation!r})"
        with diagnosed(lambda: diagnose.activate(learner, data.x, activation)):
            got = expect_array(learner.activate(data.x.copy(), activation), what=what, shape=data.x.shape)
        expect_close(got, expected, what=what, rtol=tol.FORWARD_RTOL, atol=tol.FORWARD_ATOL, at=data.x,
                     diagnose=lambda: diagnose.activate(learner, data.x, activation))  # fmt: skip


@pytest.mark.parametrize("activation", ACTIVATIONS)
@given(data=points(tol.ACT_RANGE))
def test_activation_derivative_matches_torch(learner, activation, data: Points):
    if activation == "relu":
        assume(np.abs(data.x).min() > tol.KINK_MARGIN)  # `>` or `>=` at the kink are both right
    with example_on_failure(data):
        _, expected = oracle.activation(data.x, activation)
        what = f"activation_derivative(Z, {activation!r})"
        with diagnosed(lambda: diagnose.derivative(learner, data.x, activation)):
            got = expect_array(as_floats(learner.activation_derivative(data.x.copy(), activation)), what=what, shape=data.x.shape)
        expect_close(got, expected, what=what, rtol=tol.GRAD_RTOL, atol=tol.GRAD_ATOL, at=data.x,
                     diagnose=lambda: diagnose.derivative(learner, data.x, activation))  # fmt: skip


# --- Task 06.2: forward pass and loss ----------------------------------------------------------
@pytest.mark.parametrize("activation", ACTIVATIONS)
@given(mlp=mlps())
def test_forward_matches_torch(learner, activation, mlp: Mlp):
    with example_on_failure(mlp):
        expected = oracle.network(mlp.X, mlp.Y, mlp.params, activation)
        with diagnosed(lambda: diagnose.forward(learner, mlp, activation)):
            Y_hat, _ = call_forward(learner, mlp, activation)
        expect_close(Y_hat, expected.Y_hat, what=f"forward(X, params, {activation!r})'s Y_hat", rtol=tol.FORWARD_RTOL, atol=tol.FORWARD_ATOL,
                     diagnose=lambda: diagnose.forward(learner, mlp, activation))  # fmt: skip


@given(mlp=mlps(max_layers=1))
def test_mse_loss_matches_torch(learner, mlp: Mlp):
    Y_hat = mlp.X @ mlp.params["W1"]  # any (N, dL) array will do
    with example_on_failure(mlp):
        loss = expect_scalar(learner.mse_loss(Y_hat.copy(), mlp.Y.copy()), what="mse_loss(Y_hat, Y)")
        expect_close(loss, oracle.mse(Y_hat, mlp.Y), what="mse_loss(Y_hat, Y)", rtol=tol.LOSS_RTOL, atol=tol.LOSS_ATOL,
                     diagnose=lambda: diagnose.loss(learner, Y_hat, mlp.Y))  # fmt: skip


# --- Task 06.3: backward pass ------------------------------------------------------------------
@pytest.mark.parametrize("activation", ACTIVATIONS)
@given(mlp=mlps())
def test_backward_matches_torch(learner, activation, mlp: Mlp):
    with example_on_failure(mlp):
        expected = oracle.network(mlp.X, mlp.Y, mlp.params, activation)
        _, cache = call_forward(learner, mlp, activation)
        X, Y, params = mlp.copies()
        grads = check_grads(learner.backward(X, Y, params, cache, activation), tuple(mlp.params), what=f"backward(..., {activation!r})")

        def diagnosis():
            return diagnose.backward(learner, mlp, activation)

        layers = oracle.n_layers(mlp.params)
        # From the output back to the input, the order backward computes them: the first wrong one is where it goes wrong.
        for name in [n for l in range(layers, 0, -1) for n in (f"W{l}", f"b{l}")]:
            what = f"backward(..., {activation!r})[{name!r}] (layer {name[1:]} of {layers})"
            with diagnosed(diagnosis):
                grad = expect_array(grads[name], what=what, shape=mlp.params[name].shape)
            want = expected.grads[name]
            expect_close(grad, want, what=what, rtol=tol.GRAD_RTOL, atol=grad_atol(want), diagnose=diagnosis)


@given(mlp=mlps(max_layers=4))
def test_forward_and_backward_leave_arguments_unchanged(learner, mlp: Mlp):
    """Only of a working pass: code that does nothing leaves everything unchanged, and scores nothing for it."""
    with example_on_failure(mlp):
        expected = oracle.network(mlp.X, mlp.Y, mlp.params, "tanh")
        X, Y, params = mlp.copies()
        Y_hat, cache = learner.forward(X, params, "tanh")
        expect_unchanged({"X": mlp.X, **mlp.params}, {"X": X, **params}, func="forward()")
        before = snapshot(cache)
        grads = check_grads(learner.backward(X, Y, params, cache, "tanh"), tuple(mlp.params), what="backward(..., 'tanh')")
        expect_unchanged({"X": mlp.X, "Y": mlp.Y, **mlp.params}, {"X": X, "Y": Y, **params}, func="backward()")
        changed = changed_in(before, cache)  # in-place changes in the learner's process are copied back to `cache`
        if changed is not None:
            raise KataFailure(
                f"backward() changed the cache forward() gave it, at cache{changed} (for example with `-=`, `*=` or `out=`):"
                " the caller still needs forward()'s values, Y_hat included. Build new arrays instead.",
                diagnose.known(diagnose.KATA, "backward_mutates_cache"),
            )
        right = tol.FORWARD_RTOL, tol.FORWARD_ATOL
        if not (matches(Y_hat, expected.Y_hat, rtol=right[0], atol=right[1])
                and all(matches(grads[k], v, rtol=tol.GRAD_RTOL, atol=grad_atol(v)) for k, v in expected.grads.items())):  # fmt: skip
            raise KataFailure(
                "forward() and backward() leave their arguments as they were, but this counts once they agree with torch (see their own checks).",
                diagnose.backward(learner, mlp, "tanh"),
            )


# --- Task 06.4: gradient norms per layer -------------------------------------------------------
@given(mlp=mlps(min_layers=tol.MLP_DEEP_LAYERS), activation=st.sampled_from(ACTIVATIONS))
def test_layer_grad_norms_match_torch(learner, mlp: Mlp, activation: str):
    expected = oracle.network(mlp.X, mlp.Y, mlp.params, activation)
    grads = {name: np.array(value) for name, value in expected.grads.items()}  # torch's, so only the norms are tested
    layers = oracle.n_layers(mlp.params)
    with example_on_failure(mlp):
        what = f"layer_grad_norms(grads) of a {layers}-layer network ({activation}; index 0 is layer 1)"
        with diagnosed(lambda: diagnose.norms(learner, expected)):
            got = expect_array(learner.layer_grad_norms(grads), what=what, shape=(layers,))
        expect_close(got, expected.norms, what=what, rtol=tol.GRAD_RTOL, atol=grad_atol(expected.norms),
                     diagnose=lambda: diagnose.norms(learner, expected))  # fmt: skip


def test_your_numbers_show_sigmoid_vanishing(learner):
    """The claim, in the learner's own numbers: a deep N(0, 1) sigmoid stack starves its first layers."""
    X, Y, params = oracle.unit_normal_stack(tol.VANISH_SEED)
    layers = oracle.n_layers(params)
    where = f"the {layers}-layer sigmoid stack of widths {list(tol.INIT_WIDTHS)} with N(0, 1) weights"
    expected = oracle.network(X, Y, params, "sigmoid").norms
    with diagnosed(lambda: diagnose.claim(learner, X, Y, params)):
        Y_hat, cache = learner.forward(X.copy(), {k: v.copy() for k, v in params.items()}, "sigmoid")
        grads = learner.backward(X.copy(), Y.copy(), {k: v.copy() for k, v in params.items()}, cache, "sigmoid")
        got = expect_array(learner.layer_grad_norms(check_grads(grads, tuple(params), what="backward(..., 'sigmoid')")),
                           what="layer_grad_norms(backward(...))", shape=(layers,))  # fmt: skip
        expect_close(got, expected, what=f"your per-layer gradient norms (index 0 is layer 1) on {where}", rtol=tol.GRAD_RTOL, atol=grad_atol(expected))
    if not got[0] <= tol.VANISH_RATIO * got.max():
        raise KataFailure(f"On {where}, your first layer's gradient norm is {got[0]:.3g}, not below {tol.VANISH_RATIO} of the largest ({got.max():.3g}).")


# --- Task 06.5: dead ReLU units ----------------------------------------------------------------
@given(mlp=mlps(min_layers=2, bias_shift=tol.MLP_DEAD_SHIFT))
def test_dead_relu_fraction_matches_torch(learner, mlp: Mlp):
    with example_on_failure(mlp):
        expected = oracle.dead_fraction(mlp.X, mlp.params)
        X, _, params = mlp.copies()
        what = "dead_relu_fraction(X, params)"
        with diagnosed(lambda: diagnose.dead(learner, mlp)):
            got = expect_array(as_floats(learner.dead_relu_fraction(X, params)), what=what, shape=expected.shape)
        expect_close(got, expected, what=what, rtol=tol.FORWARD_RTOL, atol=tol.FORWARD_ATOL, diagnose=lambda: diagnose.dead(learner, mlp))


# --- Task 06.6: initialisation -----------------------------------------------------------------
SMALL_WIDTHS = [3, 5, 4, 2]


def call_init(learner, widths, activation: str, seed: int) -> dict[str, np.ndarray]:
    params = learner.init_params(list(widths), activation, np.random.default_rng(seed))
    what = f"init_params({list(widths)}, {activation!r}, rng)"
    names = oracle.param_names(len(widths) - 1)
    check_grads(params, names, what=what)
    shapes = {f"W{l}": (a, b) for l, (a, b) in enumerate(zip(widths[:-1], widths[1:]), start=1)}
    shapes |= {f"b{l}": (b,) for l, b in enumerate(widths[1:], start=1)}
    return {name: expect_array(params[name], what=f"{what}[{name!r}]", shape=shapes[name]) for name in names}


def seeded_init(learner, widths, activation: str, seed: int) -> dict[str, np.ndarray]:
    """init_params' params, after checking what every other init check builds on: the same seed gives
    the same params, another seed others, and no two units of a layer start identical."""
    first, again = (call_init(learner, widths, activation, seed) for _ in range(2))
    if any(not np.array_equal(first[k], again[k]) for k in first):
        raise KataFailure(
            f"init_params(..., {activation!r}, rng) gave different params for two generators with the same seed:"
            " draw every random number from the rng argument (not np.random.* directly).",
            diagnose.init_rng(learner, activation),
        )
    if all(np.array_equal(first[k], v) for k, v in call_init(learner, widths, activation, seed + 1).items()):
        raise KataFailure(
            f"init_params(..., {activation!r}, rng) gave the same params for seeds {seed} and {seed + 1}: draw them from the rng argument.",
            diagnose.init_constant(learner, activation),
        )
    for l in range(1, len(widths)):
        W = first[f"W{l}"]
        for i in range(W.shape[1]):
            for j in range(i + 1, W.shape[1]):
                if np.array_equal(W[:, i], W[:, j]):
                    raise KataFailure(
                        f"init_params(..., {activation!r}, rng) starts units {i} and {j} of layer {l} with identical weights"
                        f" (W{l}[:, {i}] == W{l}[:, {j}]): they get identical gradients and stay copies of each other. Draw the weights at random.",
                        diagnose.init_constant(learner, activation),
                    )
    return first


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_init_params_is_seeded_and_breaks_symmetry(learner, activation):
    seeded_init(learner, SMALL_WIDTHS, activation, 123)


def test_init_params_variance_by_activation_and_zero_biases(learner):
    width = tol.INIT_VARIANCE_WIDTH
    for activation in ACTIVATIONS:
        params = seeded_init(learner, [width] * 3, activation, 0)
        W, rule = params["W2"], oracle.rule_variance(activation, width, width)
        mean, variance = float(W.mean()), float(W.var())
        what = f"init_params([{width}, {width}, {width}], {activation!r}, rng)'s W2"
        if abs(mean) > 0.1 * np.sqrt(variance):  # 6 standard errors of the mean of 4096 draws
            raise KataFailure(f"{what} has mean {mean:.3g}: draw the weights around 0 (a mean of 0).")
        if abs(variance / rule - 1) > tol.INIT_VARIANCE_SLACK:
            raise KataFailure(
                f"{what} has variance {variance:.3g} ({variance / rule:.3g} times {rule:.3g}, the variance of the {oracle.RULES[activation]} rule"
                f" for a layer of fan-in {width} and fan-out {width}); it should be within {tol.INIT_VARIANCE_SLACK:.0%} of it.",
                diagnose.init_scale(activation, variance / rule),
            )
        for l in (1, 2):
            if np.any(params[f"b{l}"] != 0):
                raise KataFailure(
                    f"init_params(..., {activation!r}, rng)'s b{l} is not all zeros (e.g. {params[f'b{l}'][params[f'b{l}'] != 0][0]:.3g}).",
                    diagnose.known(diagnose.KATA, "random_biases"),
                )


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_init_params_keeps_norms_in_band(learner, activation):
    for seed in tol.INIT_SEEDS:
        params = seeded_init(learner, tol.INIT_WIDTHS, activation, seed)
        X, Y = oracle.init_batch(seed)
        norms = oracle.network(X, Y, params, activation).norms  # torch's gradients of the learner's init
        if not norms.min() > 0 or norms.max() / norms.min() > tol.INIT_BAND:
            ratio = f"{norms.max() / norms.min():.3g} times" if norms.min() > 0 else "infinitely many times"
            raise KataFailure(
                f"With init_params(widths, {activation!r}, default_rng({seed})) on the {len(tol.INIT_WIDTHS) - 1}-layer stack of widths"
                f" {list(tol.INIT_WIDTHS)}, the largest per-layer gradient norm (torch's) is {ratio} the smallest, more than {tol.INIT_BAND:g}.\n"
                f"  per-layer norms, layer 1 first: {', '.join(f'{n:.2g}' for n in norms)}",
                diagnose.init_band(learner, activation),
            )
