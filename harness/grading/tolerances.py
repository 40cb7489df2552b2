"""Every tolerance and input range the specs use, each with the reason it is what it is.

All comparisons are against PyTorch autograd in float64, whose own rounding error is ~1e-16
relative; the slack below is for the different-but-correct ways a learner may write the same math.
"""

# Forward values: a learner may write sigmoid as 1/(1+exp(-z)), exp(z)/(1+exp(z)) or a stable
# np.where form; they agree to a few ulps, so a near-float64 tolerance is fair.
FORWARD_RTOL = 1e-9
FORWARD_ATOL = 1e-12

# Loss: learners keep log() finite with an eps up to 1e-7 (Keras' default). Clipped into [eps, 1 - eps],
# the loss equals the exact one on the probabilities the spec draws (PROB_RANGE); added inside the log,
# log(p + eps), it moves each term by up to eps / p, at most LOSS_EPS / PROB_RANGE[0] = 1e-5 (1.67e-7
# measured at p = 0.6). Half again that is still 1e-3 of the smallest real mistake (a summed loss is off
# by at least the loss itself, >= 0.01 here; log10 for log by a factor 2.3).
LOSS_EPS = 1e-7
LOSS_RTOL = 1e-9
LOSS_ATOL = 1.5 * LOSS_EPS / 0.01

# Gradients: the unsimplified chain dL/dA2 * dA2/dZ2 divides by A2 (1 - A2), which loses up to
# ~1e-12 relative accuracy when the sigmoid is near saturation at |Z2| <= Z2_MAX. 1e-7 leaves a wide
# margin for that and is still far below any real mistake (the smallest, a missing 1/N at N=2, is 50%).
GRAD_RTOL = 1e-7
GRAD_ATOL = 1e-10

# Input ranges for kata 02, chosen so that no valid answer is pushed into float trouble:
# |X| <= 1.5, |W1|, |b1| <= 1 give |Z1| <= 4; |W2| <= 0.75, |b2| <= 1 give |Z2| <= 10, where the
# sigmoid stays at least 4.5e-5 away from 0 and 1, so clipped and log1p losses agree with torch.
X_RANGE = 1.5
W1_RANGE = 1.0
B1_RANGE = 1.0
W2_RANGE = 0.75
B2_RANGE = 1.0
Z2_MAX = 10.0

# Saturation: backward() is also checked on a batch whose output unit saturates, Z2 = SATURATED_Z2 on
# every row. Past Z2 ~ 36.7 the sigmoid is exactly 1.0 in float64, so 1 - A2 = 0: an answer that
# divides by A2 (1 - A2) (the unsimplified chain dL/dA2 * dA2/dZ2) gets inf * 0 = nan there, or 0 if it
# clips, where the loss's gradient (A2 - y)/N is 1/N for a label 0. 40 is past that edge with room,
# and far from where exp overflows (709), so every way of writing the sigmoid gives exactly 1.0.
SATURATED_Z2 = 40.0

# Values are drawn with few decimals when hypothesis shrinks a failure, so the smallest failing
# example can be checked by hand. The ReLU kink: entries of Z1 closer to 0 than this are redrawn,
# so `>` versus `>=` in the ReLU mask never decides a verdict.
KINK_MARGIN = 1e-6

# bce_loss is compared with torch on probabilities in this range (away from 0 and 1, where clipped
# losses legitimately differ); exact 0 and 1 are tested separately for finiteness. LOSS_ATOL above
# divides by its lower end.
PROB_RANGE = (0.01, 0.99)

# Training on the XOR-like quadrants: the reference reaches 100% on 3 of seeds 0-4 (a 3-unit ReLU
# net can get stuck with a dead unit on the others), so the spec asks for the best of 5 seeds.
TRAIN_EPOCHS = 500
TRAIN_LR = 1.0
TRAIN_SEEDS = (0, 1, 2, 3, 4)
TRAIN_MIN_ACCURACY = 0.9

# --- Kata 01_chain_rule ---
# Every correct way to write these derivatives (3*x*x or 3*x**2, sech**2 or 1 - tanh**2, math.cos
# under np.vectorize, a sympy expression evaluated in high precision) agrees with torch to within
# 3e-13 relative on the ranges below: 1e-10 leaves a margin of over 100x and is still far below any
# real mistake (a forgotten inner derivative is off by O(1)). Where the derivative crosses 0 (x = 0
# for sin(x**2 + 1), 3x + 1 = 0 for the tanh) relative error means nothing; the absolute rounding
# there is ~1e-15, and at most ~1e-14 for compositions such as sin(x**3).
CHAIN_RTOL = 1e-10
CHAIN_ATOL = 1e-12

# By hand, not by differences: each numeric answer is also run on np.longdouble points (80-bit,
# 19 digits, where the machine has it) and compared with sympy's derivative evaluated at 40 digits,
# within EXTENDED_TOL * (1 + |derivative|). Hand-written forms keep the precision they are given:
# 3*x*x, np.polyval, 1 - tanh**2, 1/cosh**2, sinh/cosh**3 are within 6e-19 of the truth on the grids
# (EXTENDED_STEP over each range), and one with a float64 constant in it (np.cos(1) in
# cos(x**2)cos(1) - sin(x**2)sin(1)) within 1.8e-16. A finite difference cannot be that close: its
# step's error and its rounding (eps/h) leave 2e-13 or more for a central one whatever h, 5.8e-15 for
# a 5-point stencil at h = 1e-4 or 1e-5. 1e-15 sits between, 5.6x from the first.
EXTENDED_TOL = 1e-15
# An answer that leaves extended precision (math.cos under np.vectorize, an np.asarray(x, float)) is
# held to float64's own share of that: hand-written forms computed in float64 are within 2.9e-15 of
# the truth on the grids (1 - tanh**2 at 9.6e-16, tanh and sech written with exp at 2.8e-15), while
# a finite difference in float64 is 1e-13 or more away whatever h (7-point: 1e-13 at h = 1e-3;
# 5-point: 7.7e-13; central: 4.6e-11). 2e-14 sits between, 7x from the first and 5x from the second.
# (A 5- or 7-point stencil is exact on the cubic, in either precision: nothing but rounding tells it.)
EXTENDED_TOL_FLOAT64 = 2e-14
EXTENDED_STEP = 0.125  # binary fractions: exact points in every precision

# Input ranges for kata 01. cubic_grad and sin_square_grad have no cancellation anywhere; the ranges
# only keep the numbers readable. For tanh(3x + 1)**2, 3x + 1 stays in [-4, 4], where
# 1 - tanh**2 >= 1.3e-3: beyond that the tanh saturates, and the spelling of sech**2 alone
# (not the chain rule) moves the answer by up to 4e-8 relative.
CUBIC_RANGE = (-5.0, 5.0)
SIN_SQUARE_RANGE = (-3.0, 3.0)
NESTED_RANGE = (-5.0 / 3.0, 1.0)
# compose_grad's f(g(x)) for f, g among sin, cos, exp, tanh, sigmoid, x**2, x**3 (harness/packs/<module>/oracle.py
# chain_rule.py): on |x| <= 2 every composition stays below ~4e4 and every derivative finite.
COMPOSE_RANGE = (-2.0, 2.0)
# sin_square_grad_symbolic() is evaluated at these x (step 0.5 over SIN_SQUARE_RANGE, 0 included), so
# a failure names points that can be checked by hand.
SYMBOLIC_POINTS = tuple(-3.0 + 0.5 * i for i in range(13))

# --- Diagnoses (harness/packs/<module>/diagnoses.py) ---
# A mistake is named when the learner's numbers equal what that mistake would produce on the same
# inputs. Both sides compute the same (wrong) math, one from the learner's cache and one from torch's
# intermediates, so they differ by rounding only, exactly as a correct answer differs from torch: the
# gradient tolerance serves, with its margin for the unsimplified chain. A looser one would let a
# prediction that happens to lie near the learner's numbers match, and a wrong name is worse than none.
DIAGNOSIS_RTOL = GRAD_RTOL
DIAGNOSIS_ATOL = GRAD_ATOL
# Kata 02's probe: a fixed batch every diagnosis also runs, besides the failing example, which
# hypothesis shrinks toward N = 1, where many mistakes coincide (a missing 1/N is invisible, and a
# mask may hide nothing). N = 8 rows with both labels, every hidden unit active on some rows and off
# on others, tell them apart; the seed is fixed so diagnoses are as deterministic as grades.
PROBE_N = 8
PROBE_SEED = 20240601

# --- Kata 03_graph ---
# Nodes' values (forward): every correct op agrees with torch to a few ulps (sigmoid as 1/(1+exp(-x))
# or exp(x)/(1+exp(x)), tanh from math.tanh or from exp, x**0.5 or math.sqrt). Through at most ~10
# ops whose local gradients stay below ~25 (see the ranges below), those ulps grow to ~1e-13.
GRAPH_VALUE_RTOL = 1e-9
GRAPH_VALUE_ATOL = 1e-10

# Gradients: 1 - tanh(v)**2 and s(1 - s) lose up to ~3e-8 relative where |v| is near GRAPH_VALUE_MAX
# (the tanh is within 1e-8 of 1 there), and a gradient is a product of such factors, summed in
# whatever order the learner's topological sort gives. 1e-7 relative is safe for that and far below
# any real mistake: a lost share in x*x is off by 50%, sin for cos or a missing upstream factor by O(1).
# Measured over 3000 random expressions and three different correct implementations: the worst error
# was 3e-6 of the value tolerance and 3e-7 of the gradient tolerance (tests/test_graph_spec.py
# keeps checking the margin).
GRAPH_GRAD_RTOL = 1e-7
GRAPH_GRAD_ATOL = 1e-9

# Random expressions: inputs in tenths on [-GRAPH_INPUT_RANGE, GRAPH_INPUT_RANGE], so a failing
# example can be worked by hand. An op is only drawn where every correct answer is unambiguous:
#   * every node stays within |v| <= GRAPH_VALUE_MAX (so no exp overflows, and local gradients stay <= 25);
#   * log, x**-1 and x**0.5 only at v >= GRAPH_POSITIVE_MIN, away from their poles;
#   * relu only at |v| >= GRAPH_KINK_MARGIN, so `>` versus `>=` at 0 never decides a verdict (the
#     margin dwarfs rounding: v is exact to ~1e-15 wherever it is tested).
GRAPH_INPUT_RANGE = 2.0
GRAPH_VALUE_MAX = 10.0
GRAPH_POSITIVE_MIN = 0.2
GRAPH_KINK_MARGIN = 0.05
# Up to 3 inputs and 6 drawn steps (each may reuse any earlier node: diamonds such as x*x or
# (a+b)*(a-b)); the nodes the root does not use yet are then added into it, so every node counts.
GRAPH_MAX_INPUTS = 3
GRAPH_MAX_STEPS = 6

# to_dot() is graded on the seed expression at x = GRAPH_DOT_X, where no two nodes have a value and a
# grad within 0.05 of each other's, so a number shown with 2 decimals (-0.96 for -0.9589) still
# says which node it belongs to.
GRAPH_DOT_X = 2.0
GRAPH_DOT_LABEL_ATOL = 0.006
# A node's label shows its data and grad, maybe its name, op, exponent or local gradients: a handful
# of numbers. One with more is not read as any node's: a grid of every number (-3.00 ... 7.00) would
# otherwise "show" every node's data and grad without a number computed.
GRAPH_DOT_LABEL_MAX_NUMBERS = 8

# --- Kata 05_gradient_check ---
# A numerical gradient is judged against torch's exact one within the error a centered difference is
# allowed at the step h it was given: truncation h^2/6 |f'''| plus rounding ~eps |f| / h, both bounded
# in closed form for the spec's smooth functions (harness/packs/gradient_check/functions.py), times this
# safety factor. Every correct spelling (np.ndindex, np.nditer, flat indices, a copy per probe) stays
# within a quarter of the bound (tests/test_gradient_check_spec.py measures it); a forward difference
# is off by h/2 |f''|, 10^2 to 10^5 times more than the bound at the steps drawn.
NUMERICAL_SAFETY = 4.0
# The steps h the spec passes: every one a centered difference handles well in float64.
NUMERICAL_STEPS = (1e-7, 1e-6, 1e-5, 1e-4, 1e-3)
# Without an h the stub's default (1e-5) is used; fair to any default from 1e-7 to 1e-4, the check
# allows the larger of the two bounds, which still catches 1e-10 (cancellation) and 1e-2 (truncation).
DEFAULT_STEP_FAIR = (1e-7, 1e-4)
# Each probe of f must move one entry by a step between h/2 (a centered difference on x +- h/2) and
# 2h (a 5-point stencil's outer probes); relative slack for the rounding of x_i + h.
STEP_SLACK = 1e-6
# Smooth test functions f(x) = sum_j c_j phi_j(A_j @ x + b_j) on arrays of up to 12 entries.
SMOOTH_MAX_SIZE = 12
SMOOTH_X_RANGE = 2.0
SMOOTH_A_RANGE = 1.5
SMOOTH_B_RANGE = 1.0
SMOOTH_C_RANGE = (0.2, 1.0)  # |c_j|, each term's weight, with a random sign
# relative_error is compared with the definition on magnitudes in [0.05, 20]: an additive guard
# (|a - b| / (max + 1e-8)) moves it by at most 2e-7 relative there, so 1e-6 is fair to it, and still
# far below any other formula (|a| + |b| in the denominator is off by up to 2x).
RELATIVE_RTOL = 1e-6
RELATIVE_ATOL = 1e-12
RELATIVE_MAGNITUDES = (0.05, 20.0)
# grad_check with a correct analytic gradient: on f drawn with every |df/dx_i| >= GRAD_CHECK_FLOOR,
# the default step's error (~1e-10) makes a relative error below ~1e-8; the check asks for 1e-6.
GRAD_CHECK_FLOOR = 0.05
GRAD_CHECK_SMALL = 1e-6
# With a wrong analytic gradient the worst relative error is compared with torch's to this (the
# numerical gradient's own error moves it by ~1e-8), and the index must be exactly the planted one.
GRAD_CHECK_RTOL = 1e-5
# The planted network (harness/packs/gradient_check/network.py): batches of 4 to 8, every hidden
# pre-activation at least NET_KINK_MARGIN from the ReLU's kink (a probe of h <= 1e-3 moves one by at
# most ~5e-3, so no correct check crosses a kink), every true gradient entry at least NET_GRAD_FLOOR
# in size (so a correct gradient's relative error stays below ~1e-7 at h = 1e-5; an exact 0, from a
# dead unit or a zero weight, would turn the rounding noise of a higher-order stencil into a relative
# error of 1), and the planted bug off by a relative error of at least PLANT_MIN_ERROR somewhere.
NET_N = (4, 8)
NET_X_RANGE = 1.5
NET_W_RANGE = 1.0
NET_B_RANGE = 0.5
NET_Y_RANGE = 1.0
NET_KINK_MARGIN = 0.02
NET_GRAD_FLOOR = 1e-3
PLANT_MIN_ERROR = 0.1

# --- Kata 06_vanishing_gradients ---
# Networks of 1 to 14 layers (deep enough that "W10" sorts before "W2"), widths 1 to 8, batches of 1
# to 16 rows: small, so a check stays fast, and deep, so that vanishing shows.
MLP_MAX_LAYERS = 14
MLP_MAX_WIDTH = 8
MLP_MAX_N = 16
# layer_grad_norms is checked on networks of 10 layers or more, where layers sorted by key name
# (W1, W10, W2, ...) come out of order.
MLP_DEEP_LAYERS = 10
# Weights uniform on +-1.5 / sqrt(fan_in) (variance 0.75 / fan_in), biases on +-0.5, inputs on
# +-X_RANGE: every pre-activation stays below ~5 in size, where sigmoid and tanh are far from float
# saturation, and a 14-layer stack still carries gradients well above float64's floor.
MLP_WEIGHT_SCALE = 1.5
MLP_BIAS_RANGE = 0.5
# Gradients through a deep sigmoid stack shrink by up to ~1e-8 from the last layer to the first, so an
# absolute tolerance fixed in advance would either swallow a first layer's whole gradient or fail
# a correct answer's rounding. Each gradient array is compared with GRAD_RTOL relative, plus an
# absolute slack of MLP_GRAD_ATOL_SHARE times its own largest entry (torch's): the rounding of a
# matrix product is relative to the size of the terms it sums, never to a lucky near-zero entry.
MLP_GRAD_ATOL_SHARE = 1e-9
# The bias shift that makes dead ReLU units common in dead_relu_fraction's check (with +-0.5 around
# it, about a third of the units are off on a whole batch of a few rows).
MLP_DEAD_SHIFT = -0.6
# init_params: the claim of the prompt. A stack of 12 hidden layers of width 32, 16 inputs, 1 output,
# a batch of 16 rows of N(0, 1) inputs and targets. With Glorot (tanh) or He (ReLU) weights the
# largest per-layer gradient norm measured 2 to 12 times the smallest over 20 seeds; N(0, 1) weights
# on tanh give ~350. The band of 100 leaves a wide margin for every standard rule (normal or uniform,
# Glorot, LeCun or He) and still fails N(0, 1) or a constant scale such as 0.01.
INIT_WIDTHS = (16, *(32,) * 12, 1)
INIT_N = 16
INIT_BAND = 100.0
INIT_SEEDS = (0, 1, 2)
# The weight variance of the rule for each activation, checked on square 64 x 64 layers (where
# Glorot's 2 / (fan_in + fan_out) and LeCun's 1 / fan_in agree): a sample variance of 4096 draws is
# within ~5% of its own variance, and a truncated normal keeps ~77% of it, so the check allows 30%.
INIT_VARIANCE_WIDTH = 64
INIT_VARIANCE_SLACK = 0.3
# The vanishing claim: a sigmoid stack of 12 hidden layers with N(0, 1) weights (the shape of
# INIT_WIDTHS) shows its first layer's gradient norm at most 1/20 of its largest, on seed VANISH_SEED
# (measured: about 1/140 of it; torch's numbers too, of course: the check is the learner's).
VANISH_SEED = 0
VANISH_RATIO = 0.05
# activate and activation_derivative are compared on |Z| <= 6: sigmoid stays 2.5e-3 away from 0 and
# 1 there, and 1 - tanh(Z)**2 (>= 2.4e-5) loses at most ~1e-11 relative to cancellation, far inside
# GRAD_RTOL; every correct spelling (sech**2, exp forms, s * (1 - s)) agrees with torch.
ACT_RANGE = (-6.0, 6.0)

# --- Kata 04_softmax_ce ---
# Probabilities and losses: every stable spelling (shift by the row's max, its mean or any constant;
# exp(Z - logsumexp); np.logaddexp.reduce; log-softmax then pick, or logsumexp minus the picked logit)
# agrees with torch to ~1e-13 relative on the ranges below, the worst being a loss of a few hundred
# computed as a difference of logits of ~1000. 1e-9 leaves a wide margin and is far below any real
# mistake (a missing 1/N at N = 2 is 50%, a label off by one changes the loss by O(1)).
SOFTMAX_RTOL = 1e-9
SOFTMAX_ATOL = 1e-12
CE_RTOL = 1e-9
CE_ATOL = 1e-12
# dL/dZ and the network's gradients: the full Jacobian product (diag(P) - P P^T) @ dL/dP divides by
# the true class's probability, down to ~3e-10 at |Z| <= SOFTMAX_LOGIT_RANGE with 6 classes, and
# multiplies it back: ~1e-12 relative. The gradient tolerance of kata 02 serves with a wide margin.
SOFTMAX_GRAD_RTOL = GRAD_RTOL
SOFTMAX_GRAD_ATOL = GRAD_ATOL

# Logits for the plain checks are drawn in [-10, 10]: no probability underflows (the smallest is
# ~e**-20 / 6), so the unsimplified Jacobian form and a softmax without a max shift are exact there,
# and only the stability checks below tell stable code from unstable.
SOFTMAX_LOGIT_RANGE = 10.0
SOFTMAX_MAX_N = 32
SOFTMAX_CLASSES = (2, 6)
# Stability: the same logits with every row moved by its own +1000 or -1000, where np.exp overflows
# to inf (or underflows every entry to 0) unless the row's max is subtracted first. A row's own
# shift, not one for the whole batch: subtracting the batch's max leaves the -1000 rows at 0 / 0.
SOFTMAX_SHIFT = 1000.0
# cross_entropy with logits hundreds apart: the true class's probability can be e**-1000, which is
# 0.0 in float64, so a log taken of the softmax is -inf (or a clipped eps) while the log-sum-exp
# gives the right loss. Spreads in this range, plus the row shifts above.
CE_SPREAD = (100.0, 500.0)
# In every other row the true class sits this far below the row's best logit: its probability,
# e**-800 or less, is 0.0 in float64 (the smallest subnormal is ~e**-745), so every such example
# tells log-sum-exp from log(softmax), and shrinking keeps it failing.
CE_GAP = (800.0, 1000.0)

# The classifier: D inputs, H hidden units and C classes drawn in these ranges; inputs and weights
# on the scales of kata 02 (|X| <= 1.5, |W|, |b| <= 1), off the ReLU kink by KINK_MARGIN.
CLASSIFIER_D = (1, 4)
CLASSIFIER_H = (1, 6)
CLASSIFIER_C = (2, 5)
CLASSIFIER_MAX_N = 32
CLASSIFIER_RANGE = 1.0

# Kata 04's probe (like kata 02's): fixed inputs every diagnosis also runs besides the shrunk failing
# example, N = 8 rows over 3 classes with every class present and every hidden unit on for some rows
# and off for others, so that a missing 1/N, a label off by one or a missing mask show.
SOFTMAX_PROBE_N = 8
SOFTMAX_PROBE_SHAPE = (3, 4, 3)  # D, H, C
SOFTMAX_PROBE_SEED = 20241130

# Training on a three-class spiral (one turn per arm, 60 points per class, seed 2024): the reference
# reaches 100% on seeds 0-4 in ~0.05 s each; an init as small as N(0, 0.01) still reaches 96% on its
# best seed, a linear model ~50%. Best of 5 seeds, like kata 02.
SPIRAL_POINTS_PER_CLASS = 60
SPIRAL_SEED = 2024
SOFTMAX_TRAIN_HIDDEN = 32
SOFTMAX_TRAIN_EPOCHS = 1000
SOFTMAX_TRAIN_LR = 1.0
SOFTMAX_TRAIN_SEEDS = (0, 1, 2, 3, 4)
SOFTMAX_TRAIN_MIN_ACCURACY = 0.9
