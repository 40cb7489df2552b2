"""Kata 06_vanishing_gradients' mistakes, recognised from the numbers (the catalog: harness/packs/vanishing/catalog.toml).

Each diagnosis re-runs the learner's function on the failing example and on a fixed probe network,
predicts from torch's values what each catalog mistake would return on those same inputs, and names
the one mistake that matches on both (see harness/grading/diagnosing.py). A wrong forward pass is
named before the backward pass built on it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from harness.grading import tolerances as tol
from harness.grading.checks import Diagnosis
from harness.grading.diagnosing import identify, known, matches, quietly
from harness.grading.strategies import Mlp, mlp_params, off_the_kink
from harness.packs.vanishing import oracle

KATA = "06_vanishing_gradients"


def _sigmoid(Z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-Z))


ACT = {"sigmoid": _sigmoid, "tanh": np.tanh, "relu": lambda Z: np.maximum(Z, 0.0)}
SLOPE = {"sigmoid": lambda Z: _sigmoid(Z) * (1 - _sigmoid(Z)), "tanh": lambda Z: 1 - np.tanh(Z) ** 2, "relu": lambda Z: (Z > 0) * 1.0}
# activate's slips, by activation: what each returns for Z.
ACT_SLIPS = {"sigmoid": {"sigmoid_sign": lambda Z: _sigmoid(-Z)}, "tanh": {}, "relu": {"relu_max_over_axis": lambda Z: Z.max(axis=0)}}
# activation_derivative's slips, by activation: what each returns at Z. The slope at act(Z) is left
# out: in backward it is slope_at_activation's numbers, told apart by re-running the derivative.
SLOPE_SLIPS = {
    "sigmoid": {"slope_of_output_formula": lambda Z: Z * (1 - Z)},  # s (1 - s) applied to Z itself
    "tanh": {"slope_of_output_formula": lambda Z: 1 - Z**2, "tanh_sech_unsquared": lambda Z: 1 / np.cosh(Z),
             "tanh_slope_unsquared": lambda Z: 1 - np.tanh(Z)},
    "relu": {"relu_slope_is_relu": lambda Z: np.maximum(Z, 0.0)},
}


@functools.cache
def probe(*, dead: bool = False) -> Mlp:
    """A fixed network of 4 layers and 2 outputs, N = 6 rows, off the ReLU kink (seeded, so diagnoses
    are as deterministic as grades). With dead=True, biases shifted so that ReLU units are dead in
    some layers and only partly off in others, on more than one row."""
    rng = np.random.default_rng(tol.PROBE_SEED)
    widths = [3, 5, 4, 6, 2]
    while True:
        X = rng.uniform(-tol.X_RANGE, tol.X_RANGE, size=(6, widths[0]))
        params = mlp_params(rng, widths, bias_shift=tol.MLP_DEAD_SHIFT if dead else 0.0)
        if not off_the_kink(X, params):
            continue
        fractions = oracle.dead_fraction(X, params)
        net = oracle.network(X, np.zeros((6, 2)), params, "relu")
        partly_off = [((Z <= 0).any(axis=0) & (Z > 0).any(axis=0)).any() for Z in net.Z[:-1]]
        if not dead or ((fractions > 0).any() and (fractions < 1).all() and all(partly_off)):
            return Mlp(X=X, Y=rng.uniform(-1, 1, size=(6, widths[-1])), params=params)


# --- what each mistake would compute -------------------------------------------------------------
def _forward(mlp: Mlp, activation: str, *, activated: int = -1, bias: bool = True, act: Callable | None = None) -> np.ndarray:
    """Y_hat with the activation on the first L + `activated` layers (-1: the hidden ones, as it should
    be; 0: the output too; -2: the last hidden one left linear), or without biases, or with `act` for
    the activation."""
    A, layers = mlp.X, oracle.n_layers(mlp.params)
    act = act or ACT[activation]
    for l in range(1, layers + 1):
        Z = A @ mlp.params[f"W{l}"] + (mlp.params[f"b{l}"] if bias else 0.0)
        A = act(Z) if l <= layers + activated else Z
    return A


# How a bias gradient is taken from dZ (N, units): summed over the rows, as it should be, or a slip.
BIAS_SLIPS = {
    "sum": lambda dZ: dZ.sum(axis=0),
    "bias_mean": lambda dZ: dZ.mean(axis=0),
    "bias_sum_wrong_axis": lambda dZ: dZ.sum(axis=1),
    "bias_not_summed": lambda dZ: dZ,
}


def _backprop(net: oracle.Network, params: dict, activation: str, *, slope: Callable | None = None, scale: float = 1.0,
              output_slope: bool = False, at_output: bool = False, weight_input: str = "A", bias: str = "sum",
              transpose: bool = False) -> dict[str, np.ndarray]:  # fmt: skip
    """The gradients a backward pass computes from torch's intermediates, with one slip switched on:
    scale on dLoss/dY_hat, a wrong slope function, the slope applied to the linear output layer, the
    slope evaluated at the activation's output, the pre-activation Z as a weight's input, biases
    averaged, weight gradients transposed."""
    slope = slope or SLOPE[activation]
    layers = oracle.n_layers(params)
    dZ = net.dZ[-1] * scale
    if output_slope:
        dZ = dZ * slope(net.Z[-1])
    grads = {}
    for l in range(layers, 0, -1):
        inputs = net.A[l - 1] if weight_input == "A" or l == 1 else net.Z[l - 2]
        dW = inputs.T @ dZ
        grads[f"W{l}"] = dW.T if transpose else dW
        grads[f"b{l}"] = BIAS_SLIPS[bias](dZ)
        if l > 1:
            dZ = (dZ @ params[f"W{l}"].T) * slope(net.A[l - 1] if at_output else net.Z[l - 2])
    return grads


def _mistaken_grads(mlp: Mlp, activation: str) -> dict[str, dict[str, np.ndarray]]:
    net, params = oracle.network(mlp.X, mlp.Y, mlp.params, activation), mlp.params
    entries = mlp.Y.size

    def run(**slip):
        return _backprop(net, params, activation, **slip)

    found = {
        "backward_loss_sum": run(scale=entries),
        "backward_mean_over_rows": run(scale=mlp.Y.shape[1]),
        "backward_missing_two": run(scale=0.5),
        "sign_flipped": run(scale=-1.0),
        "output_layer_slope": run(output_slope=True),
        "z_as_layer_input": run(weight_input="Z"),
        **{slip: run(bias=slip) for slip in BIAS_SLIPS if slip != "sum"},
        "transposed_weight_grad": run(transpose=True),
    }
    if activation != "relu":  # ReLU's slope is the same read from Z or from A
        found["slope_at_activation"] = run(at_output=True)
    found |= {slip: run(slope=slope) for slip, slope in SLOPE_SLIPS[activation].items()}
    return found


# --- the diagnoses the spec calls ----------------------------------------------------------------
def _cases(mlp: Mlp, probe_mlp: Mlp | None = None) -> list[Mlp]:
    return [mlp, probe_mlp or probe()]


@quietly
def activate(learner, Z: np.ndarray, activation: str) -> Diagnosis | None:
    points = (Z, np.linspace(-4.0, 4.0, 18).reshape(2, 9) + 0.125)
    observed = [learner.activate(z.copy(), activation) for z in points]
    return identify(KATA, observed, {slip: [[wrong(z) for z in points]] for slip, wrong in ACT_SLIPS[activation].items()})


@quietly
def derivative(learner, Z: np.ndarray, activation: str) -> Diagnosis | None:
    points = (Z, np.linspace(-3.0, 3.0, 7) + 0.25)
    observed = [np.asarray(learner.activation_derivative(z.copy(), activation), dtype=np.float64) for z in points]
    candidates = {slip: [[slope(z) for z in points]] for slip, slope in SLOPE_SLIPS[activation].items()}
    if activation != "relu":
        candidates["slope_of_activation_twice"] = [[SLOPE[activation](ACT[activation](z)) for z in points]]
    return identify(KATA, observed, candidates)


def _learner_forward(learner, mlp: Mlp, activation: str):
    X, _, params = mlp.copies()
    Y_hat, cache = learner.forward(X, params, activation)  # not a pair: a ValueError, and no diagnosis
    return Y_hat, cache


ACT_PROBE = np.linspace(-4.0, 4.0, 9) + 0.125


def _activate_is_right(learner, activation: str) -> bool:
    got = learner.activate(ACT_PROBE.copy(), activation)
    return matches(got, ACT[activation](ACT_PROBE), rtol=tol.FORWARD_RTOL, atol=tol.FORWARD_ATOL)


@quietly
def forward(learner, mlp: Mlp, activation: str) -> Diagnosis | None:
    """The forward slips, on both networks; or activate()'s slip, when forward() computes exactly
    what the network gives with that wrong activation."""
    cases = _cases(mlp)
    observed = [_learner_forward(learner, case, activation)[0] for case in cases]
    if not _activate_is_right(learner, activation):
        found = activate(learner, ACT_PROBE, activation)
        wrong = found and ACT_SLIPS[activation][found.id]
        return identify(KATA, observed, {found.id: [[_forward(case, activation, act=wrong) for case in cases]]}) if wrong else None
    return identify(KATA, observed, {
        "output_activated": [[_forward(case, activation, activated=0) for case in cases]],
        "last_hidden_linear": [[_forward(case, activation, activated=-2) for case in cases]],
        "forward_no_bias": [[_forward(case, activation, bias=False) for case in cases]],
    })  # fmt: skip


@quietly
def loss(learner, Y_hat: np.ndarray, Y: np.ndarray) -> Diagnosis | None:
    probe_mlp = probe()
    cases = [(Y_hat, Y), (oracle.network(probe_mlp.X, probe_mlp.Y, probe_mlp.params, "tanh").Y_hat, probe_mlp.Y)]
    observed = [learner.mse_loss(p.copy(), t.copy()) for p, t in cases]
    squares = [(p - t) ** 2 for p, t in cases]
    return identify(KATA, observed, {
        "mse_sum": [[s.sum() for s in squares]],
        "mse_half": [[0.5 * s.mean() for s in squares]],
        "mse_mean_over_rows": [[s.sum(axis=1).mean() for s in squares]],
    })  # fmt: skip


@quietly
def backward(learner, mlp: Mlp, activation: str) -> Diagnosis | None:
    """The mistake behind wrong gradients: one that explains every gradient of both networks."""
    cases = _cases(mlp)
    observed, candidates = [], {}
    for case in cases:
        Y_hat, cache = _learner_forward(learner, case, activation)
        expected = oracle.network(case.X, case.Y, case.params, activation)
        if not matches(Y_hat, expected.Y_hat, rtol=tol.FORWARD_RTOL, atol=tol.FORWARD_ATOL):
            return forward(learner, mlp, activation)
        X, Y, params = case.copies()
        grads = learner.backward(X, Y, params, cache, activation)
        observed += [grads[name] for name in case.params]
        for mistake, predicted in _mistaken_grads(case, activation).items():
            candidates.setdefault(mistake, [[]])[0].extend(predicted[name] for name in case.params)
    found = identify(KATA, observed, candidates)
    if found and found.id == "slope_at_activation":
        # The slope at act(Z) is what a backward pass gets from a right derivative given A, and from
        # a derivative that applies the activation itself given Z: that derivative is the one to mend.
        return derivative(learner, np.linspace(-3.0, 3.0, 7), activation) or found
    return found


@quietly
def claim(learner, X: np.ndarray, Y: np.ndarray, params: dict) -> Diagnosis | None:
    """Why the learner's numbers on the deep N(0, 1) sigmoid stack are not torch's: forward or
    backward (on the probe, where they are told apart), else layer_grad_norms."""
    case = probe()
    found = backward(learner, case, "sigmoid")
    if found is not None:
        return found
    return norms(learner, oracle.network(X, Y, params, "sigmoid"))


@quietly
def norms(learner, expected: oracle.Network) -> Diagnosis | None:
    """layer_grad_norms on the failing network and on the deep N(0, 1) sigmoid stack, from torch's grads."""
    X, Y, params = oracle.unit_normal_stack(tol.VANISH_SEED)
    nets = [expected, oracle.network(X, Y, params, "sigmoid")]
    observed = [learner.layer_grad_norms({k: np.array(v) for k, v in net.grads.items()}) for net in nets]

    def by_key_order(net: oracle.Network) -> np.ndarray:
        return np.array([np.linalg.norm(net.grads[name]) for name in sorted(net.grads) if name.startswith("W")])

    def with_bias(net: oracle.Network) -> np.ndarray:
        return np.array([np.sqrt(np.sum(net.grads[f"W{l}"] ** 2) + np.sum(net.grads[f"b{l}"] ** 2)) for l in range(1, len(net.Z) + 1)])

    return identify(KATA, observed, {
        "norms_sorted_keys": [[by_key_order(net) for net in nets]],
        "norms_reversed": [[net.norms[::-1] for net in nets]],
        "norms_squared": [[net.norms**2 for net in nets]],
        "norms_with_bias": [[with_bias(net) for net in nets]],
        "norms_spectral": [[np.array([np.linalg.norm(net.grads[f"W{l}"], 2) for l in range(1, len(net.Z) + 1)]) for net in nets]],
    })  # fmt: skip


@quietly
def dead(learner, mlp: Mlp) -> Diagnosis | None:
    cases = _cases(mlp, probe(dead=True))
    observed = [learner.dead_relu_fraction(*case.copies()[::2]) for case in cases]
    offs = [[Z <= 0 for Z in oracle.network(case.X, case.Y, case.params, "relu").Z] for case in cases]

    def per_layer(count: Callable, hidden_only: bool = True) -> list[np.ndarray]:
        return [np.array([count(off) for off in (layers[:-1] if hidden_only else layers)], dtype=float) for layers in offs]

    return identify(KATA, observed, {
        "dead_on_any_row": [per_layer(lambda off: off.any(axis=0).mean())],
        "dead_rows_and_units": [per_layer(lambda off: off.mean())],
        "dead_count": [per_layer(lambda off: off.all(axis=0).sum())],
        "dead_alive_fraction": [per_layer(lambda off: 1 - off.all(axis=0).mean())],
        "dead_output_layer_too": [per_layer(lambda off: off.all(axis=0).mean(), hidden_only=False)],
    })  # fmt: skip


@quietly
def init_rng(learner, activation: str) -> Diagnosis | None:
    """global_rng: one seed gives two different draws, yet a seeded np.random makes them equal."""
    reseeded = []
    for _ in range(2):
        with learner.process.global_seed(0):  # in the learner's process, where their code draws
            reseeded.append(learner.init_params([3, 5, 4, 2], activation, np.random.default_rng(123)))
    same = all(np.array_equal(reseeded[0][k], reseeded[1][k]) for k in reseeded[0])
    return known(KATA, "global_rng") if same else None


# The weight variance a slip gives, as a multiple of the rule's on a square layer of width INIT_VARIANCE_WIDTH.
def _scale_slips(activation: str) -> dict[str, float]:
    width = tol.INIT_VARIANCE_WIDTH
    rule = oracle.rule_variance(activation, width, width)
    slips = {
        "unit_normal_init": 1.0 / rule,
        "variance_as_std": rule,  # rng.normal(0, variance): the spread squared once more
        "uniform_bound_as_std": 1.0 / 3.0,  # uniform(-s, s) has variance s**2 / 3, not s**2
    }
    if activation == "relu":
        slips["glorot_for_relu"] = 0.5
    else:
        slips["he_for_tanh"] = 2.0
        slips["glorot_missing_two"] = 0.5
    return slips


def init_scale(activation: str, ratio: float) -> Diagnosis | None:
    """The slip whose variance, relative to the rule's, the measured ratio matches (within 15%: a
    sample of 4096 weights is within ~5%, and the slips' ratios lie 1.5x or more apart)."""
    found = [slip for slip, want in _scale_slips(activation).items() if abs(ratio / want - 1) < 0.15]
    return known(KATA, found[0]) if len(found) == 1 else None


def _square_init(learner, activation: str) -> np.ndarray:
    width = tol.INIT_VARIANCE_WIDTH
    return np.asarray(learner.init_params([width] * 3, activation, np.random.default_rng(0))["W2"], dtype=np.float64)


@quietly
def init_constant(learner, activation: str) -> Diagnosis | None:
    """constant_init: every weight of a layer is one and the same number."""
    return known(KATA, "constant_init") if _square_init(learner, activation).std() == 0 else None


@quietly
def init_band(learner, activation: str) -> Diagnosis | None:
    """Why the band broke: a constant, or the variance of a square layer of the learner's init, as init_scale reads it."""
    W = _square_init(learner, activation)
    if W.std() == 0:
        return known(KATA, "constant_init")
    width = tol.INIT_VARIANCE_WIDTH
    return init_scale(activation, float(W.var()) / oracle.rule_variance(activation, width, width))
