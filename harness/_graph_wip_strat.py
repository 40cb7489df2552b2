from dataclasses import dataclass
from hypothesis import strategies as st
# WIP-HEADER-END

# --- Kata 03_graph ---
# A random expression is a small "recipe" (inputs, then steps such as `v2 = x0 * x1`) that the spec
# builds twice: with the learner's Value and with torch (harness/oracles/graph.py). Hypothesis shrinks
# the recipe itself: fewer steps, earlier operands, the first op in each list, inputs toward 0.0.
import math  # noqa: E402 - this section is appended; its imports stay with it

from harness._graph_wip_tol import (  # noqa: E402
    GRAPH_INPUT_RANGE,
    GRAPH_KINK_MARGIN,
    GRAPH_MAX_INPUTS,
    GRAPH_MAX_STEPS,
    GRAPH_POSITIVE_MIN,
    GRAPH_VALUE_MAX,
)

GRAPH_CONSTANTS = (2.0, 1.0, -1.5, 0.5)  # the numbers in `x + 2.0`, `3 * x`, ...
GRAPH_EXPONENTS = (2.0, 3.0, -1.0, 0.5)
_BINARY = ("*", "+", "-")
_UNARY = ("neg", "sin", "exp", "log", "tanh", "relu", "sigmoid")
# Plain-float versions of the ops, to keep each drawn step where its value is safe (tolerances.py).
_FLOAT_OPS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "**": lambda a, b: a**b,
    "neg": lambda a: -a,
    "sin": math.sin,
    "exp": math.exp,
    "log": math.log,
    "tanh": math.tanh,
    "relu": lambda a: max(a, 0.0),
    "sigmoid": lambda a: 1.0 / (1.0 + math.exp(-a)),
}


@dataclass(frozen=True)
class Instr:
    """One step of an expression: `op` applied to `args`; an int arg is an earlier node, a float a number."""

    op: str
    args: tuple[int | float, ...]


@dataclass(frozen=True, repr=False)
class Expression:
    """Kata 03: inputs, then steps; node k is input k or step k - len(inputs), and the last node is the root.

    `names` holds one variable name per node; the spec labels the learner's nodes with them.
    """

    inputs: tuple[float, ...]
    steps: tuple[Instr, ...]
    names: tuple[str, ...]

    def instr(self, node: int) -> Instr | None:
        """The step that computes `node`, or None for an input."""
        return self.steps[node - len(self.inputs)] if node >= len(self.inputs) else None

    def code(self, node: int) -> str:
        """The line of Python that makes `node`: `x0 = Value(0.5, label="x0")` or `v2 = x0 * x1`."""
        name, instr = self.names[node], self.instr(node)
        if instr is None:
            return f'{name} = Value({self.inputs[node]!r}, label="{name}")'
        args = [self.names[a] if type(a) is int else repr(a) for a in instr.args]
        if instr.op in _BINARY or instr.op == "**":
            return f"{name} = {args[0]} {instr.op} {args[1]}"
        return f"{name} = -{args[0]}" if instr.op == "neg" else f"{name} = {args[0]}.{instr.op}()"

    def __repr__(self) -> str:
        return "\n".join(f"    {self.code(k)}" for k in range(len(self.names)))


def expression(inputs: dict[str, float], steps: dict[str, tuple]) -> Expression:
    """A fixed expression written by name: expression({"x": 3.0}, {"y": ("*", "x", "x")})."""
    names = (*inputs, *steps)
    index = {name: k for k, name in enumerate(names)}
    return Expression(
        inputs=tuple(float(v) for v in inputs.values()),
        steps=tuple(Instr(op, tuple(index[a] if isinstance(a, str) else float(a) for a in args)) for op, *args in steps.values()),
        names=names,
    )


def _safe(op: str, args: tuple[float, ...]) -> bool:
    """Whether a step is far from every domain edge, pole and kink, and its value stays small."""
    a = args[0]
    if (op == "log" or op == "**" and args[1] not in (2.0, 3.0)) and a < GRAPH_POSITIVE_MIN:
        return False  # also keeps a ** 0.5 real: Python gives a complex number for a < 0
    if op == "relu" and abs(a) < GRAPH_KINK_MARGIN:
        return False
    if op == "exp" and a > math.log(GRAPH_VALUE_MAX):
        return False  # checked before computing: exp(10) would be fine, exp(1e3) overflows
    return abs(_FLOAT_OPS[op](*args)) <= GRAPH_VALUE_MAX


graph_inputs = st.integers(min_value=-int(GRAPH_INPUT_RANGE * 10), max_value=int(GRAPH_INPUT_RANGE * 10)).map(lambda k: k / 10)
_OPS = (*_BINARY, "**", *_UNARY)  # shrinking moves toward the first: x0 * x0
# One step's choices, each a plain integer that never depends on the nodes drawn before it: which
# operands (taken modulo the nodes so far), which op and form (the first safe one from there), which
# number. So shrinking can delete a step or zero its choices and the other steps still make sense.
_step_choices = st.tuples(
    st.integers(min_value=0, max_value=63),
    st.integers(min_value=0, max_value=63),
    st.sampled_from(range(len(_OPS))),  # sampled_from: uniform while generating, unlike integers()
    st.sampled_from(range(3)),
    st.sampled_from(range(len(GRAPH_CONSTANTS))),
    st.sampled_from(range(len(GRAPH_EXPONENTS))),
)


def _step(values: list[float], choices: tuple[int, ...]) -> Instr:
    """The step `choices` pick: the first safe op from the chosen one on, in its first safe form
    (for **, its first safe exponent)."""
    a_raw, b_raw, op_raw, form_raw, c_raw, p_raw = choices
    a, b, c = a_raw % len(values), b_raw % len(values), GRAPH_CONSTANTS[c_raw]
    exponents = GRAPH_EXPONENTS[p_raw:] + GRAPH_EXPONENTS[:p_raw]
    for i in range(len(_OPS)):
        op = _OPS[(op_raw + i) % len(_OPS)]
        forms = [(a, b), (a, c), (c, a)] if op in _BINARY else [(a, p) for p in exponents] if op == "**" else [(a,)]
        for j in range(len(forms)):
            args = forms[(form_raw + j) % len(forms)]
            if _safe(op, tuple(values[x] if type(x) is int else x for x in args)):
                return Instr(op, args)
    raise AssertionError("unreachable: neg and sin are safe everywhere")


@st.composite
def expressions(draw, max_inputs: int = GRAPH_MAX_INPUTS, max_steps: int = GRAPH_MAX_STEPS) -> Expression:
    """A random expression of + - * ** and the unary ops, reusing nodes freely (diamonds, x*x)."""
    values = draw(st.lists(graph_inputs, min_size=1, max_size=max_inputs))
    n_inputs = len(values)
    steps: list[Instr] = []
    for choices in draw(st.lists(_step_choices, min_size=1, max_size=max_steps)):
        instr = _step(values, choices)
        values.append(_FLOAT_OPS[instr.op](*(values[x] if type(x) is int else x for x in instr.args)))
        steps.append(instr)
    used = {a for instr in steps for a in instr.args if type(a) is int}
    for node in range(len(values) - 1):
        if node not in used:  # add it into the root, so that every node's gradient is tested
            steps.append(Instr("+", (len(values) - 1, node)))
            values.append(values[-1] + values[node])
    names = (*(f"x{i}" for i in range(n_inputs)), *(f"v{k}" for k in range(n_inputs, len(values) - 1)), "y")
    return Expression(inputs=tuple(values[:n_inputs]), steps=tuple(steps), names=names)
