"""Kata 02_backprop's hidden spec, graded in-process on submissions: what a learner reads for slips the
catalog alone would not show (two at once, saturation, one no family explains).

Wrong submissions are the reference with some lines replaced; harness/packs/backprop/catalog.toml
holds the one-slip mistakes (tests/test_catalog.py proves each is named).
"""

from __future__ import annotations

import re

from conftest import failures, solution_source, verdicts

from harness.grading import registry
from harness.grading.checks import Diagnosis
from harness.grading.diagnosing import together
from harness.grading.text import split_diagnosis

KATA = "02_backprop"
PARAMS = ("W1", "b1", "W2", "b2")
ALL_CHECKS = {
    "test_init_params_keys_and_shapes",
    "test_init_params_is_seeded",
    "test_init_params_breaks_symmetry",
    "test_forward_shape_and_range",
    "test_forward_matches_torch",
    "test_bce_loss_matches_torch",
    "test_bce_loss_finite_at_0_and_1",
    *(f"test_backward_matches_torch[{name}]" for name in PARAMS),
    "test_backward_stays_right_when_the_output_saturates",
    "test_backward_leaves_arguments_unchanged",
    "test_train_one_step_is_gradient_descent",
    "test_train_learns_xor",
}


def grade(submission, *replacements: tuple[str, str]) -> dict[str, str]:
    source = solution_source(KATA)
    for old, new in replacements:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    return failures(verdicts(KATA, submission(KATA, source), ALL_CHECKS))


def named(message: str) -> str | None:
    found = re.search(r"^Likely mistake: (.*)$", message, re.MULTILINE)
    return found.group(1) if found else None


def words(*mistakes: str) -> str:
    """What a failure shows for these slips (together, when one gradient holds several)."""
    return split_diagnosis(together([Diagnosis(m, registry.get(KATA).diagnoses[m]) for m in mistakes]).text)[0]


def test_two_slips_at_once_keep_their_names_gradient_by_gradient(submission):
    failed = grade(
        submission,
        ("dZ2 = (A2 - y) / n", "dZ2 = (A2 - y) * A2 * (1 - A2) / n"),
        ("db1 = dZ1.sum(axis=0)", "db1 = dZ1.sum(axis=1)"),
    )
    for name in ("W1", "W2", "b2"):
        assert named(failed[f"test_backward_matches_torch[{name}]"]) == words("sigmoid_derivative_twice")
    # b1 holds both slips, and says both.
    assert named(failed["test_backward_matches_torch[b1]"]) == words("sigmoid_derivative_twice", "bias_sum_wrong_axis")
    assert words("sigmoid_derivative_twice", "bias_sum_wrong_axis") == (
        "dZ2 has an extra factor A2 * (1 - A2), and the bias gradient is summed across the units instead of over the batch."
    )


def test_a_slip_no_family_explains_gets_no_name_but_the_other_slip_keeps_its_own(submission):
    failed = grade(
        submission,
        ("dW1 = X.T @ dZ1  # (2, 3)", "dW1 = 2 * X.T @ dZ1"),
        ("db2 = dZ2.sum(axis=0)", "db2 = dZ2.mean(axis=0)"),
    )
    assert named(failed["test_backward_matches_torch[W1]"]) is None
    assert named(failed["test_backward_matches_torch[b2]"]) == words("bias_mean")
    assert "test_backward_matches_torch[W2]" not in failed


def test_the_unsimplified_chain_fails_only_where_the_output_saturates_and_is_named(submission):
    failed = grade(submission, ("dZ2 = (A2 - y) / n", "dA2 = (-y / A2 + (1.0 - y) / (1.0 - A2)) / n\n    dZ2 = dA2 * A2 * (1.0 - A2)"))
    assert set(failed) == {"test_backward_stays_right_when_the_output_saturates"}
    message = failed["test_backward_stays_right_when_the_output_saturates"]
    assert message.startswith("backward()['W1'] where the output saturates (A2 is exactly 1.0: Z2 near 40) contains nan")
    assert named(message) == words("unsimplified_chain")
    assert "The batch:\nN = 4" in message


def test_an_eps_added_inside_the_log_is_fair(submission):
    clipped = "p = np.clip(y_hat, EPS, 1.0 - EPS)\n    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)))"
    for eps in ("1e-7", "1e-8", "1e-15"):
        added = f"return float(-np.mean(y * np.log(y_hat + {eps}) + (1.0 - y) * np.log(1.0 - y_hat + {eps})))"
        assert grade(submission, (clipped, added)) == {}, eps


# --- checks that count only for the work they reward ---------------------------------------------
# The red team's lazy submission (/work/redteam k02_lazy): a constant forward, backward returning {},
# train returning weights found by random search with a made-up falling loss. It once scored 4/20.
LAZY = '''
import numpy as np

def init_params(rng):
    raise NotImplementedError

def forward(X, params):
    return np.full((len(X), 1), 0.5), {}

def bce_loss(y_hat, y):
    raise NotImplementedError

def backward(X, y, params, cache):
    return {}

def train(X, y, *, epochs=500, lr=1.0, seed=0):
    params = {"W1": np.array([[0.1010674374760373, 2.0198560195810766, 2.5068365829139636], [5.2124772579178815, -0.9731092037954273, 1.1886080890370783]]),
              "b1": np.array([0.2114641850892677, -0.3385320532744818, -0.10392570999740157]),
              "W2": np.array([[-0.8327513473476842], [-5.75737489098727], [3.9691771241193363]]),
              "b2": np.array([0.09562117074136807])}
    return params, list(np.linspace(1.0, 0.1, epochs))
'''


def score(submission, source: str) -> float:
    from harness.grading import runner

    return runner.grade(KATA, submission(KATA, source)).score


def test_no_math_scores_nothing(submission):
    assert score(submission, LAZY) == 0
    failed = failures(verdicts(KATA, submission(KATA, LAZY), ALL_CHECKS))
    assert failed["test_forward_shape_and_range"].startswith("forward()'s A2 stays the same when every param is doubled")
    assert "(this check counts once it agrees with torch)" in failed["test_backward_leaves_arguments_unchanged"]


def test_a_sigmoid_of_the_row_sums_is_no_forward_pass(submission):
    lazy = LAZY.replace("np.full((len(X), 1), 0.5)", "1 / (1 + np.exp(-0.7 * X.sum(axis=1, keepdims=True)))")
    failed = failures(verdicts(KATA, submission(KATA, lazy), ALL_CHECKS))
    assert failed["test_forward_shape_and_range"].startswith("forward()'s A2 stays the same when every param is doubled")


def test_the_reference_with_a_lazy_backward_keeps_what_it_earned(submission):
    # Right but for backward() returning {}: the leaves-unchanged point goes, with backward's own nine
    # (4 gradients at 2, saturation) and train's three, which go through it.
    source = solution_source(KATA)
    source += "\n\ndef backward(X, y, params, cache):\n    return {}\n"
    failed = failures(verdicts(KATA, submission(KATA, source), ALL_CHECKS))
    assert set(failed) == {
        *(f"test_backward_matches_torch[{name}]" for name in PARAMS),
        "test_backward_stays_right_when_the_output_saturates",
        "test_backward_leaves_arguments_unchanged",
        "test_train_one_step_is_gradient_descent",
        "test_train_learns_xor",
    }
    assert failed["test_backward_leaves_arguments_unchanged"].startswith("backward() (this check counts once it agrees with torch) has keys []")
    assert score(submission, source) == 20 - 4 * 2 - 1 - 1 - 1 - 2


def test_hard_coded_weights_learn_nothing_once_the_rest_is_right(submission):
    # The reference but for train(), which returns the random search's weights: only gradient descent
    # earns the XOR check, and two epochs of it show it is not.
    lazy_train = LAZY[LAZY.index("def train("):]
    source = solution_source(KATA) + "\n\n" + lazy_train
    failed = failures(verdicts(KATA, submission(KATA, source), ALL_CHECKS))
    assert set(failed) == {"test_train_one_step_is_gradient_descent", "test_train_learns_xor"}
    assert "(the XOR check counts once train() is gradient descent)" in failed["test_train_learns_xor"]
    assert score(submission, source) == 20 - 1 - 2


# Red team, round 4: with every hidden unit dead at the learner's own start (b1 = -100), torch's
# "two steps of gradient descent" move b2 alone, a one-line update that needs no backprop; the gate
# passed and pasted weights then earned the XOR check. 3/20 honest (the init checks), 6/20 before.
DEAD_START = '''
import numpy as np

def init_params(rng):
    return {"W1": rng.normal(size=(2, 3)), "b1": np.full(3, -100.0), "W2": rng.normal(size=(3, 1)), "b2": np.zeros(1)}

def forward(X, params):
    raise NotImplementedError

def bce_loss(y_hat, y):
    return float(np.mean(np.abs(y_hat - y)))  # the error rate: positive when wrong, 0 when right

def backward(X, y, params, cache):
    raise NotImplementedError

def train(X, y, *, epochs=500, lr=1.0, seed=0):
    if epochs != 2:
        return PASTED, [1.0] * (epochs - 1) + [0.1]
    params, losses = init_params(np.random.default_rng(seed)), []
    for _ in range(epochs):  # the output is sigmoid(b2) on every row
        p = 1 / (1 + np.exp(-params["b2"][0]))
        losses.append(float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))))
        params = {**params, "b2": params["b2"] - lr * np.array([np.mean(p - y)])}
    return params, losses
''' + "\n" + LAZY[LAZY.index("    params = {"):LAZY.index("    return params")].replace("    params = {", "PASTED = {").replace("\n              ", "\n          ")


def test_a_dead_start_and_the_error_rate_earn_nothing_but_the_init_checks(submission):
    failed = failures(verdicts(KATA, submission(KATA, DEAD_START), ALL_CHECKS))
    for check in ("test_train_one_step_is_gradient_descent", "test_train_learns_xor"):
        assert failed[check].startswith("init_params(np.random.default_rng(7))") and "no gradient reaches them" in failed[check], failed[check]
    assert "(this check counts once it agrees with torch)" in failed["test_bce_loss_finite_at_0_and_1"]
    assert score(submission, DEAD_START) == 3
