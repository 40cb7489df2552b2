
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
GRAPH_GRAD_RTOL = 1e-7
GRAPH_GRAD_ATOL = 1e-9

# Random expressions: inputs in tenths on [-GRAPH_INPUT_RANGE, GRAPH_INPUT_RANGE], so a failing
# example can be worked by hand. An op is only drawn where every correct answer is unambiguous:
#   * every node stays within |v| <= GRAPH_VALUE_MAX (exp cannot overflow; local gradients <= ~25);
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
