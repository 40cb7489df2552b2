"""Kata 04_softmax_ce: its picture, the spec's fairness margins, and hostile answers that must not score."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from harness.grading import registry
from harness.grading import tolerances as tol
from harness.grading.learner import load
from harness.grading.strategies import Logits
from harness.packs.softmax_ce import oracle, picture
from harness.packs.softmax_ce.data import CLASSES, spiral
from harness.pictures import DrawError
from tests.conftest import solution_source, verdicts

KATA = "04_softmax_ce"


# --- the picture -----------------------------------------------------------------------------
def test_picture_shows_the_learners_regions(submission, tmp_path):
    root = submission(KATA)
    path = registry.get(KATA).learner_file(root)
    module = load(path, callables=registry.get(KATA).callables)
    module.process.start_check(60)
    try:
        shown = picture.regions(module, path)
    finally:
        module.process.close()
    X, labels = spiral()
    assert np.array_equal(shown.X, X) and np.array_equal(shown.labels, labels)
    assert shown.classes.shape == (picture.GRID, picture.GRID) and set(np.unique(shown.classes)) == set(range(CLASSES))
    assert shown.accuracy >= tol.SOFTMAX_TRAIN_MIN_ACCURACY and len(shown.losses) == tol.SOFTMAX_TRAIN_EPOCHS
    # Each training point lies in the region of the class the learner's network gives it: the grid is
    # read at the cell nearest to the point.
    cells = np.abs(shown.axis[None, :] - X[:, :1]).argmin(axis=1), np.abs(shown.axis[None, :] - X[:, 1:]).argmin(axis=1)
    assert (shown.classes[cells[1], cells[0]] == labels).mean() >= 0.95

    fig = picture.figure(shown)
    data_ax, regions_ax, loss_ax = fig.axes[:3]
    assert np.array_equal(regions_ax.images[0].get_array(), shown.classes)
    for ax in (data_ax, regions_ax):
        offsets = np.concatenate([c.get_offsets() for c in ax.collections])
        assert sorted(map(tuple, offsets)) == sorted(map(tuple, X))
    assert np.array_equal(loss_ax.lines[0].get_ydata(), shown.losses)
    assert f"{shown.accuracy:.0%} of the points right" in regions_ax.get_title(loc="left")


def test_draw_writes_png_and_svg(submission, tmp_path):
    written = picture.draw(submission(KATA), tmp_path / "out", seconds=60)
    png, svg = tmp_path / "out" / "decision-regions.png", tmp_path / "out" / "decision-regions.svg"
    assert written == [png, svg]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Your network's decision regions" in svg.read_text()


def test_draw_on_the_stub_says_what_to_write(submission, tmp_path):
    root = submission(KATA, registry.get(KATA).pristine_path.read_text())
    with pytest.raises(DrawError, match=r"train\(\) in .* is not implemented yet.*Tasks 04.4, 04.5"):
        picture.draw(root, tmp_path / "out", seconds=60)


def test_draw_refuses_graphviz(submission, tmp_path):
    with pytest.raises(DrawError, match="matplotlib"):
        picture.draw(submission(KATA), tmp_path, renderer="graphviz")


# --- fairness: the margins the tolerances claim --------------------------------------------------
def _correct_forms(Z: np.ndarray, labels: np.ndarray) -> dict[str, tuple[float, np.ndarray]]:
    """(loss, dL/dZ) as different correct answers write them."""
    n = len(labels)
    m = Z.max(axis=1, keepdims=True)
    logP = Z - m - np.log(np.exp(Z - m).sum(axis=1, keepdims=True))
    P = np.exp(Z - m) / np.exp(Z - m).sum(axis=1, keepdims=True)
    onehot = np.eye(Z.shape[1])[labels]
    jacobian = np.stack([(np.diag(p) - np.outer(p, p)).T @ (-onehot[i] / (n * p)) for i, p in enumerate(P)])
    return {
        "max shift": (float(-logP[np.arange(n), labels].mean()), (P - onehot) / n),
        "logaddexp.reduce, full Jacobian": (float(np.mean(np.logaddexp.reduce(Z, axis=1) - Z[np.arange(n), labels])), jacobian),
        "mean shift, exp(Z - lse)": (
            float(np.mean(np.log(np.exp(Z - Z.mean(axis=1, keepdims=True)).sum(axis=1)) + Z.mean(axis=1) - Z[np.arange(n), labels])),
            (np.exp(logP) - onehot) / n,
        ),
    }


def test_correct_forms_agree_with_torch_far_inside_the_tolerances():
    """Over many draws on the spec's plain range, every correct form is within 1% of each tolerance."""
    rng = np.random.default_rng(0)
    for _ in range(300):
        n, c = rng.integers(1, tol.SOFTMAX_MAX_N + 1), rng.integers(tol.SOFTMAX_CLASSES[0], tol.SOFTMAX_CLASSES[1] + 1)
        data = Logits(Z=rng.uniform(-tol.SOFTMAX_LOGIT_RANGE, tol.SOFTMAX_LOGIT_RANGE, (n, c)), labels=rng.integers(0, c, n))
        head = oracle.head(data.Z, data.labels)
        for form, (loss, dZ) in _correct_forms(data.Z, data.labels).items():
            assert abs(loss - head.loss) <= 0.01 * (tol.CE_ATOL + tol.CE_RTOL * abs(head.loss)), form
            assert (np.abs(dZ - head.dZ) <= 0.01 * (tol.SOFTMAX_GRAD_ATOL + tol.SOFTMAX_GRAD_RTOL * np.abs(head.dZ))).all(), form


# --- hostile answers -----------------------------------------------------------------------------
HOSTILE = {
    "zeros": "    return np.zeros_like(Z)\n",
    "a constant": "    return np.full(Z.shape, 1.0 / Z.shape[1])\n",
    "random": "    return np.random.default_rng().dirichlet(np.ones(Z.shape[1]), size=Z.shape[0])\n",
    "the input": "    return Z\n",
    # Positive, rows summing to 1, the logits' order kept: every property of a softmax but its numbers.
    "a rescaling without exp": "    S = Z - Z.min(axis=1, keepdims=True) + 1.0\n    return S / S.sum(axis=1, keepdims=True)\n",
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_answers_score_nothing(submission, kind):
    """Every head function and the network answer with the oracle's shapes but not its numbers."""
    body = HOSTILE[kind]
    source = f'''
import numpy as np

def softmax(Z):
{body}
def cross_entropy(Z, labels):
    return float(softmax(Z).sum() * 0.0 + (0.0 if "{kind}" == "zeros" else 1.0))

def softmax_ce_grad(Z, labels):
    return softmax(Z)

def init_params(D, H, C, rng):
    return {{"W1": np.zeros((D, H)), "b1": np.zeros(H), "W2": np.zeros((H, C)), "b2": np.zeros(C)}}

def forward(X, params):
    Z = np.zeros((X.shape[0], params["b2"].shape[0]))
    return softmax(Z + X[:, :1]), {{}}

def backward(X, labels, params, cache):
    return {{name: softmax(np.zeros_like(value).reshape(1, -1) + 1.0).reshape(value.shape) for name, value in params.items()}}

def train(X, labels, *, hidden=32, epochs=1000, lr=1.0, seed=0):
    return init_params(X.shape[1], hidden, int(labels.max()) + 1, np.random.default_rng(seed)), [1.0] * epochs
'''
    graded = verdicts(KATA, submission(KATA, source), _checks())
    passing = sorted(name for name, message in graded.items() if message is None)
    assert not passing, f"{kind}: {passing} pass"


@functools.cache
def _checks() -> set[str]:
    """Every check's name, from a grade of the reference."""
    from harness.grading import runner

    return {t.name for t in runner.grade(KATA, registry.get(KATA).solution_path.parents[1]).tests}


def test_the_reference_passes_every_check():
    graded = verdicts(KATA, registry.get(KATA).solution_path.parents[1], _checks())
    assert all(message is None for message in graded.values()), graded


def test_a_classic_slip_is_named(submission):
    wrong = solution_source(KATA).replace("return dZ / n", "return dZ")
    graded = verdicts(KATA, submission(KATA, wrong), _checks())
    message = graded["test_softmax_ce_grad_matches_torch"]
    assert message is not None and "softmax_ce_grad(Z, labels) disagrees with torch" in message
    assert "Likely mistake: It is exactly N times torch's" in message, message


def test_weights_trained_elsewhere_earn_no_training_points(submission):
    """The red team's attack (/work/redteam k04_offline_torch): train() returns weights trained at home
    on the public spiral (there with torch; here with the reference, which is as good) and a made-up
    falling loss. Every other function stubbed, it once scored the spiral's 2 points; beside a right
    rest it still loses the training checks, which count only for gradient descent run here."""
    from harness.grading import runner

    reference = load(registry.get(KATA).solution_path, callables=registry.get(KATA).callables)
    reference.process.start_check(60)
    try:
        X, labels = spiral()
        params, _ = reference.train(X, labels, hidden=tol.SOFTMAX_TRAIN_HIDDEN, epochs=tol.SOFTMAX_TRAIN_EPOCHS, lr=tol.SOFTMAX_TRAIN_LR, seed=0)
    finally:
        reference.process.close()
    pasted = f"""
import numpy as np

_P = {{k: np.array(v) for k, v in {({k: v.tolist() for k, v in params.items()})!r}.items()}}

def train(X, labels, *, hidden=32, epochs=1000, lr=1.0, seed=0):
    return {{k: v.copy() for k, v in _P.items()}}, list(np.linspace(1.1, 0.1, epochs))
"""
    stubbed = "\n".join(f"def {name}(*args): raise NotImplementedError" for name in ("softmax", "cross_entropy", "softmax_ce_grad", "init_params", "forward", "backward"))
    assert runner.grade(KATA, submission(KATA, stubbed + "\n" + pasted)).score == 0
    graded = verdicts(KATA, submission(KATA, solution_source(KATA) + "\n" + pasted), _checks())
    failed = {name: message for name, message in graded.items() if message is not None}
    assert set(failed) == {"test_train_two_epochs_are_gradient_descent", "test_train_learns_spiral"}
    assert "(the spiral check counts once train() is gradient descent)" in failed["test_train_learns_spiral"]
    assert runner.grade(KATA, submission(KATA, solution_source(KATA) + "\n" + pasted)).score == 25 - 1 - 2


# --- the kata in a mock interview ------------------------------------------------------------------
def test_a_mock_with_the_kata_asks_its_own_questions_first(tmp_path):
    from harness.practice import mock, mock_session

    assert mock_session.pick_katas(45, 0, [KATA]) == [KATA]
    mock_session.create(tmp_path / "session", [KATA], 45, 0, 3)
    stub = registry.get(KATA).learner_file(tmp_path / "session")
    assert stub.read_text() == registry.get(KATA).pristine_path.read_text() and stub.with_name("README.md").is_file()
    own = ["softmax_ce_gradient", "subtract_the_max", "log_sum_exp", "why_not_mse_for_classification"]
    assert [q["id"] for q in mock.questions([KATA])][: len(own)] == own


def test_a_dead_start_cannot_stand_in_for_gradient_descent(submission):
    """Red team, round 4: every hidden unit dead at the learner's own start (b1 = -100) makes torch's two
    steps a softmax of b2 alone, which needs no backprop; any longer run returned weights from
    elsewhere and earned the spiral. Both training checks now fail on the start, by name."""
    source = solution_source(KATA) + '''

def init_params(D, H, C, rng):
    return {"W1": rng.normal(size=(D, H)), "b1": np.full(H, -100.0), "W2": rng.normal(size=(H, C)), "b2": np.zeros(C)}


def train(X, labels, *, hidden=32, epochs=1000, lr=1.0, seed=0):
    C = int(labels.max()) + 1
    params, Y, losses = init_params(X.shape[1], hidden, C, np.random.default_rng(seed)), np.eye(C)[labels], []
    for _ in range(epochs):  # the logits are b2 on every row
        b = params["b2"]
        p = np.exp(b - b.max()) / np.exp(b - b.max()).sum()
        losses.append(float(-np.mean(np.log(p[labels]))))
        params = {**params, "b2": b - lr * (p - Y.mean(0))}
    return params, losses
'''
    graded = verdicts(KATA, submission(KATA, source), _checks())
    for check in ("test_train_two_epochs_are_gradient_descent", "test_train_learns_spiral"):
        assert graded[check] is not None and graded[check].startswith("init_params(np.random.default_rng(7))"), graded[check]
        assert "no gradient reaches them" in graded[check]


def test_a_zero_W2_beside_a_random_W1_is_an_initialisation(submission):
    """A fresh learner's answer (written from the prompt alone) lost a point for it: the hidden units
    differ by W1, and W2 gets its gradient at once. Kata 02 accepts it as well."""
    source = solution_source(KATA).replace('"W2": rng.normal(0.0, np.sqrt(2.0 / H), size=(H, C)),', '"W2": np.zeros((H, C)),')
    assert source != solution_source(KATA)
    graded = verdicts(KATA, submission(KATA, source), _checks())
    assert all(message is None for message in graded.values()), {k: v for k, v in graded.items() if v}
