"""Kata 05_gradient_check's hidden spec and its pieces: what passes, what a learner reads, and the
margins the spec's fairness rests on (the centered difference's error bound, the planted network).

Wrong submissions are the reference with some functions redefined (a later def replaces an earlier
one). harness/packs/gradient_check/catalog.toml holds the classic slips (tests/test_catalog.py proves
each is named); here, the hostile answers that must not score, and the numbers behind the tolerances.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from conftest import failures, solution_source, verdicts
from hypothesis import HealthCheck, given, settings

from harness.grading import tolerances as tol
from harness.grading.strategies import planted_networks, smooth_cases
from harness.grading import registry
from harness.instructor import catalog
from harness.grading.text import split_diagnosis
from harness.packs.gradient_check import oracle
from harness.packs.gradient_check.network import Handed, Network, Plant, draw_network, names

KATA = "05_gradient_check"
ALL_CHECKS = {
    "test_numerical_grad_matches_torch",
    "test_numerical_grad_default_step",
    "test_numerical_grad_probes_one_entry_and_restores_x",
    "test_relative_error_matches_definition",
    "test_relative_error_guards_zeros",
    "test_grad_check_passes_a_correct_gradient",
    "test_grad_check_finds_the_worst_entry",
    "test_find_wrong_gradient_names_the_planted_bug",
}
MANY = settings(max_examples=400, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))


def grade(submission, source: str) -> dict[str, str | None]:
    return verdicts(KATA, submission(KATA, source), ALL_CHECKS)


def overriding(code: str) -> str:
    return solution_source(KATA) + "\n\n" + textwrap.dedent(code)


# --- what passes, and what must not score ----------------------------------------------------------
def test_the_reference_passes_every_check(submission):
    assert failures(grade(submission, solution_source(KATA))) == {}


HOSTILE = {
    "zeros": """
        def numerical_grad(f, x, h=1e-5): return np.zeros_like(x)
        def relative_error(a, b): return np.zeros(np.shape(a)) if np.ndim(a) else 0.0
        def grad_check(f, analytic_grad, x): return 0.0, tuple(0 for _ in x.shape)
        def find_wrong_gradient(loss, backward, params): return "W1"
    """,
    "a constant": """
        def numerical_grad(f, x, h=1e-5): return np.full(x.shape, 0.5)
        def relative_error(a, b): return np.full(np.shape(a), 1e-9) if np.ndim(a) else 1e-9
        def grad_check(f, analytic_grad, x): return 1e-9, tuple(0 for _ in x.shape)
        def find_wrong_gradient(loss, backward, params): return list(params)[-1]
    """,
    "np.random": """
        def numerical_grad(f, x, h=1e-5): return np.random.normal(size=x.shape)
        def relative_error(a, b): return np.random.random(np.shape(a)) if np.ndim(a) else float(np.random.random())
        def grad_check(f, analytic_grad, x): return float(np.random.random()), tuple(int(np.random.randint(n)) for n in x.shape)
        def find_wrong_gradient(loss, backward, params): return list(params)[np.random.randint(len(params))]
    """,
    "the input back": """
        def numerical_grad(f, x, h=1e-5): return x
        def relative_error(a, b): return a
        def grad_check(f, analytic_grad, x):
            f(x), analytic_grad(x)
            return 0.5, tuple(0 for _ in x.shape)
        def find_wrong_gradient(loss, backward, params):
            grads = backward(params)  # the largest gradient, a guess that needs no check
            return max(grads, key=lambda k: np.abs(grads[k]).max())
    """,
    # Red team, round 4: each entry probed on one side and put back, nothing computed. The probes
    # check once passed it: it now counts once the values agree with torch.
    "probes, no differences": """
        def numerical_grad(f, x, h=1e-5):
            for i in np.ndindex(x.shape):
                old = x[i]
                x[i] = old + h
                f(x)
                x[i] = old
            return np.zeros_like(x)
        def relative_error(a, b): return np.zeros(np.shape(a)) if np.ndim(a) else 0.0
        def grad_check(f, analytic_grad, x): return 0.0, tuple(0 for _ in x.shape)
        def find_wrong_gradient(loss, backward, params): return "W1"
    """,
}


@pytest.mark.parametrize("answer", list(HOSTILE))
def test_hostile_answers_score_nothing(submission, answer):
    assert set(failures(grade(submission, overriding(HOSTILE[answer])))) == ALL_CHECKS


def test_calls_of_f_that_move_nothing_are_no_probes(submission):
    # The red team's grad_check (/work/redteam k05_const): f called x.size times at x itself,
    # analytic_grad once, a worst error of 0.0. Counting calls of f, it once passed a correct gradient.
    lazy = """
        def grad_check(f, analytic_grad, x):
            for _ in range(x.size):
                f(x)
            analytic_grad(x)
            return 0.0, (0,) * x.ndim
    """
    from harness.grading import runner

    failed = failures(grade(submission, overriding(lazy)))
    # The reference's find_wrong_gradient() goes through grad_check(), so it fails with it.
    checks = {"test_grad_check_passes_a_correct_gradient", "test_grad_check_finds_the_worst_entry", "test_find_wrong_gradient_names_the_planted_bug"}
    assert set(failed) == checks
    assert failed["test_grad_check_passes_a_correct_gradient"].startswith("grad_check() probed f with one entry of x moved for 0 of x's")
    assert runner.grade(KATA, submission(KATA, overriding(lazy))).score == 12 - 1 - 2 - 3


# --- what a learner reads -------------------------------------------------------------------------
def test_a_forward_difference_is_named_with_the_numbers(submission):
    entry = catalog.load(KATA).mistake("forward_difference")
    message = failures(grade(submission, entry.source()))["test_numerical_grad_matches_torch"]
    first, second = message.splitlines()[:2]
    assert first.startswith("numerical_grad(f, x, ") and "disagrees with torch" in first, message
    assert second == f"Likely mistake: {split_diagnosis(entry.diagnosis)[0]}", message  # the why is --explain's
    assert "def f(x):" in message and "x = np.array(" in message  # the example, ready to paste


def test_f_refuses_what_is_not_an_array_like_x(submission):
    graded = grade(submission, overriding("""
        def numerical_grad(f, x, h=1e-5):
            f(x.tolist())
    """))
    message = graded["test_numerical_grad_matches_torch"]
    assert "f takes a float64 array of shape" in message and "it was given a list" in message, message


def test_naming_the_wrong_parameter_shows_the_learners_own_checks(submission):
    message = failures(grade(submission, catalog.load(KATA).mistake("smallest_error").source()))[
        "test_find_wrong_gradient_names_the_planted_bug"
    ]
    assert "the wrong one is" in message and "Your grad_check on each parameter" in message, message
    assert "<- the planted bug" in message, message


def test_a_slip_outside_the_catalog_gets_no_name(submission):
    graded = grade(submission, overriding("""
        _right = numerical_grad

        def numerical_grad(f, x, h=1e-5):
            return 1.5 * _right(f, x, h)
    """))
    message = graded["test_numerical_grad_matches_torch"]
    assert message is not None and "Likely mistake" not in message, message


# --- the margins behind the tolerances ---------------------------------------------------------------
def _centered(f, x, h):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[i] += h
        minus[i] -= h
        grad[i] = (f(plus) - f(minus)) / (2 * h)
    return grad


def _forward(f, x, h):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        plus = x.copy()
        plus[i] += h
        grad[i] = (f(plus) - f(x)) / h
    return grad


def test_a_centered_difference_stays_well_inside_its_bound_and_a_forward_one_does_not():
    """The bound times NUMERICAL_SAFETY: a correct centered difference uses at most a third of it at
    every step drawn; a forward difference exceeds it on most draws (the spec draws 20)."""
    inside, outside = [], []

    @MANY
    @given(case=smooth_cases())
    def measure(case):
        true, allowed = oracle.smooth_grad(case.f, case.x), case.f.allowed_error(case.x, case.h)
        inside.append(np.abs(_centered(case.f.value, case.x, case.h) - true).max() / allowed)
        outside.append(np.abs(_forward(case.f.value, case.x, case.h) - true).max() > allowed)

    measure()
    assert max(inside) < 1 / 3, max(inside)
    assert np.mean(outside) > 0.5, np.mean(outside)


def test_the_hand_written_backward_is_torchs_and_a_plant_changes_one_gradient():
    @MANY
    @given(case=planted_networks())
    def check(case):
        net = case.network
        true, hand = oracle.network_grads(net), net.backward(net.params)
        planted = net.backward(net.params, case.plant)
        for name in names(net.layers):
            np.testing.assert_allclose(hand[name], true[name], rtol=1e-12, atol=1e-15)
            assert np.array_equal(planted[name], hand[name]) == (name != case.plant.name)
        # Correct gradients check far below any sensible threshold at the stub's default step.
        for name in names(net.layers):
            if name != case.plant.name:

                def loss_of(value, name=name):
                    return net.loss({**net.params, name: value})

                error = oracle.relative_error(_centered(loss_of, net.params[name], 1e-5), true[name]).max()
                assert error < 1e-6, (name, error)

    check()


def test_the_callables_handed_over_check_what_they_are_given():
    rng = np.random.default_rng(0)
    params = {name: rng.normal(size=(3, 3) if name.startswith("W") else 3) for name in names(2)}
    net = Network(rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), params)
    handed = Handed(net, Plant("sign", "b1"))
    with pytest.raises(TypeError, match="takes a dict with the keys"):
        handed.loss([1, 2])
    with pytest.raises(TypeError, match=r"params\['W1'\] must be a float64 array of shape \(3, 3\)"):
        handed.backward({**params, "W1": np.zeros((3, 3), dtype=np.float32)})
    assert handed.loss(params) == net.loss(params)
    np.testing.assert_array_equal(handed.backward(params)["b1"], -net.backward(params)["b1"])
    assert len(handed.calls) == 2


def test_relative_error_oracle_is_the_prompts_definition():
    a, b = np.array([0.0, 0.0, 2.0, -1.0, 3.0]), np.array([0.0, 1.0, 0.0, 1.0, 1.5])
    np.testing.assert_array_equal(oracle.relative_error(a, b), [0.0, 1.0, 1.0, 2.0, 0.5])
    assert tol.RELATIVE_MAGNITUDES[0] > 1e-8 / tol.RELATIVE_RTOL  # an additive guard of 1e-8 passes


# --- the picture (kata draw 05_gradient_check) --------------------------------------------------------
def test_the_picture_draws_the_learners_numbers(submission, tmp_path):
    from harness.grading.learner import load
    from harness.packs.gradient_check import picture

    root = submission(KATA, catalog.load(KATA).mistake("forward_difference").source())
    module = load(root / KATA / "gradient_check.py", callables=registry.get(KATA).callables)
    try:
        curves = picture.step_curves(module)
        errors = picture.check_errors(module)
    finally:
        module.process.close()
    np.testing.assert_allclose(curves["yours"], curves["forward"], rtol=1e-6)  # their curve is the forward one
    assert max(errors, key=errors.get) == picture.PLANT.name and errors[picture.PLANT.name] > 1e-2
    written = picture.render(curves, errors, "", tmp_path)
    svg = (tmp_path / "gradient_check.svg").read_text()
    assert [p.name for p in written] == ["gradient_check.png", "gradient_check.svg"]
    for shown in ("your numerical_grad", "forward difference", "planted: W2", "W1", "b2"):
        assert shown in svg, shown


def test_the_picture_says_what_is_missing(submission, tmp_path):
    from harness.packs.gradient_check import picture
    from harness.pictures import DrawError

    with pytest.raises(DrawError, match=r"numerical_grad\(\) is not implemented yet"):
        picture.draw(submission(KATA, registry.get(KATA).pristine_path.read_text()), tmp_path)


def test_its_mock_questions_are_asked_first():
    from harness.practice import mock

    asked = [q["id"] for q in mock.questions([KATA])]
    assert asked[:3] == ["centered_vs_forward", "relative_not_absolute", "kinks_and_practice"]


def test_the_fixed_networks_the_diagnoses_and_the_picture_use_exist():
    from harness.packs.gradient_check import diagnoses, picture

    assert draw_network(np.random.default_rng(diagnoses.STOP_SEED), 3, 6, Plant("sign", "W1")) is not None
    assert draw_network(np.random.default_rng(picture.NETWORK_SEED), 2, 6, picture.PLANT) is not None
