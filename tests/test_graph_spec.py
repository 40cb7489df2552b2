"""Kata 03_graph's hidden spec, graded in-process on submissions: what passes, and what a learner reads.

Wrong submissions are the reference with one method or function redefined after it (a later def, or
`Value.method = ...`, replaces the reference's), so each test shows which checks a mistake costs and
which it leaves standing, and what the learner reads. harness/packs/graph/catalog.toml holds the same
slips as data (tests/test_catalog.py proves each is named); its correct variants are used here too.
"""

from __future__ import annotations

import re
import textwrap

import pytest
from conftest import failures, solution_source, verdicts
from hypothesis import HealthCheck, given, settings

from harness.instructor import catalog
from harness.grading import registry
from harness.grading import tolerances as tol
from harness.grading.text import split_diagnosis
from harness.pictures.dot import DotError, parse
from harness.grading.learner import load
from harness.packs.graph import oracle
from harness.packs.graph import spec as spec_graph
from harness.grading.strategies import expressions

KATA = "03_graph"
VARIANTS = registry.get(KATA).pack / catalog.VARIANTS
OPS = spec_graph.OPS
ALL_CHECKS = {
    *(f"test_forward_op[{op}]" for op in OPS),
    "test_seed_graph_matches_torch_grad_fn",
    "test_values_match_torch",
    *(f"test_local_gradient[{op}]" for op in OPS),
    "test_backward_seed_expression[2.0]",
    "test_backward_seed_expression[-0.7]",
    "test_backward_accumulates_reused_nodes",
    "test_grads_match_torch",
    "test_trace_seed_expression",
    "test_trace_is_topological",
    "test_explain_seed_expression",
    "test_explain_matches_torch",
    "test_to_dot_is_a_digraph",
    "test_to_dot_labels_and_arrows",
}


def grade(submission, source: str) -> dict[str, str | None]:
    return verdicts(KATA, submission(KATA, source), ALL_CHECKS)


def diagnosis(mistake: str) -> str:
    """A mistake as a failure names it: what the numbers show (why it is wrong comes with --explain)."""
    return split_diagnosis(catalog.load(KATA).mistake(mistake).diagnosis)[0]


def overriding(code: str) -> str:
    """The reference solution with some of its methods or functions redefined by `code`."""
    return solution_source(KATA) + "\n\n" + textwrap.dedent(code)


# --- what passes ---------------------------------------------------------------------------------
def test_the_reference_passes_every_check(submission):
    assert failures(grade(submission, solution_source(KATA))) == {}


@pytest.mark.parametrize("variant", ["closures", "explain_loop"])
def test_correct_variants_written_differently_pass(submission, variant):
    # closures: micrograd's backward closures, a recursive sort, grads that accumulate, tanh from exp,
    #   op nodes of their own in the DOT. explain_loop: backward() replays explain()'s steps, an
    #   iterative sort, one merged edge (local gradient 2x) for x * x, HTML labels in a strict digraph.
    assert failures(grade(submission, (VARIANTS / f"{variant}.py").read_text())) == {}


# --- what fails, and what the learner reads --------------------------------------------------------
def test_the_pristine_stub_fails_every_check_as_not_implemented(submission):
    failed = failures(grade(submission, registry.get(KATA).pristine_path.read_text()))
    assert set(failed) == ALL_CHECKS
    for name, message in failed.items():
        assert re.fullmatch(r"[\w.]+\(\) is not implemented yet: write it in \S+graph.py \(line \d+ raises NotImplementedError\)\.", message), (name, message)
    # Each op's checks stop at that op's own stub (a - b waits on -b first).
    assert failed["test_forward_op[sin]"].startswith("Value.sin() is not implemented yet")
    assert failed["test_forward_op[-]"].startswith("Value.__neg__() is not implemented yet")


def test_assigning_a_grad_instead_of_adding_is_named(submission):
    source = overriding(
        """
        def backward(self):
            nodes, _ = trace(self)
            for node in nodes:
                node.grad = 0.0
            self.grad = 1.0
            for node in reversed(nodes):
                for inner, local in zip(node.inputs, node.local_grads):
                    inner.grad = local * node.grad

        Value.backward = backward
        """
    )
    failed = failures(grade(submission, source))
    # A chain without a reused node is unaffected: the seed expression and every single op pass.
    assert "test_backward_seed_expression[2.0]" not in failed and "test_local_gradient[sin]" not in failed
    assert {"test_backward_accumulates_reused_nodes", "test_grads_match_torch"} <= set(failed)
    assert failed["test_backward_accumulates_reused_nodes"].splitlines()[:3] == [
        "After y.backward(), x.grad is 3, but torch gives 6 (error 3).",
        "Likely mistake: " + diagnosis("assigned_grad"),
        "x is used 2 times (twice in `y = x * x`): its gradient is the sum of one share per use, each the local gradient"
        " of that edge times the gradient arriving at its outer node. The nodes after x agree with torch.",
    ]
    assert failed["test_backward_accumulates_reused_nodes"].endswith('The expression:\n    x = Value(3.0, label="x")\n    y = x * x')
    random = failed["test_grads_match_torch"]
    assert "Likely mistake: " + diagnosis("assigned_grad") in random
    assert random.endswith('Smallest failing example:\n    x0 = Value(0.1, label="x0")\n    y = x0 * x0')


def test_sin_as_its_own_derivative_is_named(submission):
    source = overriding(
        """
        def sin(self):
            return Value(math.sin(self.data), inputs=(self,), op="sin", local_grads=(math.sin(self.data),))

        Value.sin = sin
        """
    )
    failed = failures(grade(submission, source))
    assert "test_forward_op[sin]" not in failed and "test_local_gradient[exp]" not in failed
    assert failed["test_local_gradient[sin]"].splitlines() == [
        "After y.backward(), a.grad is 0.6442176872, but torch gives 0.7648421873 (error 0.121).",
        "Likely mistake: " + diagnosis("value_as_derivative"),
        "The nodes after it agree with torch, so the gradient goes wrong on the edge a -> y (`y = a.sin()`):"
        " it should be the local gradient dy/da times y.grad, the gradient arriving from above.",
    ]
    # On the seed expression the outer function's edge is the first to disagree, going back from y.
    assert failed["test_backward_seed_expression[2.0]"].startswith("After y.backward(), u.grad is -0.9589242747, but torch gives 0.2836621855")
    assert failed["test_explain_seed_expression"] == "explain()'s local_grad for u -> y (`y = u.sin()`) is -0.9589242747, but torch gives dy/du = 0.2836621855."


def test_a_forgotten_upstream_gradient_is_named(submission):
    source = overriding(
        """
        def backward(self):
            nodes, _ = trace(self)
            self.grad = 1.0
            for node in reversed(nodes):
                for inner, local in zip(node.inputs, node.local_grads):
                    inner.grad += local  # the local gradient alone: no chain

        Value.backward = backward
        """
    )
    failed = failures(grade(submission, source))
    assert "test_local_gradient[sin]" not in failed  # one op: the upstream gradient is 1 anyway
    assert failed["test_backward_seed_expression[2.0]"].splitlines()[:2] == [
        "After y.backward(), x_sq.grad is 1, but torch gives 0.2836621855 (error 0.716).",
        "Likely mistake: " + diagnosis("missing_upstream"),
    ]
    assert failed["test_explain_seed_expression"].startswith("explain()[3] (x -> x_sq) has upstream_grad 1, but dy/dx_sq is 0.2836621855 (torch's x_sq.grad)")


def test_a_trace_from_the_root_down_is_told_to_reverse(submission):
    source = overriding(
        """
        _trace = trace

        def trace(root):
            nodes, edges = _trace(root)
            return nodes[::-1], edges
        """
    )
    failed = failures(grade(submission, source))
    assert failed["test_trace_seed_expression"] == (
        "trace() lists y before its input u: the order runs from the inputs to the root, each node after everything it is computed from.\n"
        "Likely mistake: " + diagnosis("reversed_order")
    )
    assert failed["test_trace_is_topological"].endswith('Smallest failing example:\n    x0 = Value(0.0, label="x0")\n    y = x0 * x0')
    assert "test_forward_op[+]" not in failed and "test_to_dot_is_a_digraph" not in failed
    # explain() walks trace()'s order backwards, so its steps come out inputs first: the cause is named.
    assert "Likely mistake: " + diagnosis("reversed_order") in failed["test_explain_seed_expression"]


def test_edges_written_outer_to_inner_are_named(submission):
    source = overriding(
        """
        _trace = trace

        def trace(root):
            nodes, edges = _trace(root)
            return nodes, [(outer, inner) for inner, outer in edges]
        """
    )
    failed = failures(grade(submission, source))
    assert failed["test_trace_seed_expression"] == (
        "trace()'s edges have (x_sq, x), which points the wrong way: x is an input of x_sq.\n"
        "Likely mistake: " + diagnosis("reversed_edges")
    )
    assert set(failed) == {"test_trace_seed_expression", "test_trace_is_topological"}  # backward() walks nodes, not edges


def test_explain_in_forward_order_is_named(submission):
    source = overriding(
        """
        _explain = explain

        def explain(root):
            return _explain(root)[::-1]
        """
    )
    failed = failures(grade(submission, source))
    assert set(failed) == {"test_explain_seed_expression", "test_explain_matches_torch"}
    assert failed["test_explain_seed_expression"].splitlines()[:2] == [
        "explain()[0] (x -> x_sq) passes x_sq's gradient on, but explain()[2] (x_sq -> u) only adds its share to x_sq later."
        " List the steps the way backward() takes them: from the root back to the inputs, so that every share reaches a node"
        " before it passes its gradient on.",
        "Likely mistake: " + diagnosis("explain_forward_order"),
    ]


def test_a_dot_that_is_not_a_digraph_is_explained(submission):
    source = overriding(
        """
        _to_dot = to_dot

        def to_dot(root):
            return _to_dot(root).replace("digraph {", "graph {").replace("->", "--")
        """
    )
    failed = failures(grade(submission, source))
    assert set(failed) == {"test_to_dot_is_a_digraph", "test_to_dot_labels_and_arrows"}
    assert failed["test_to_dot_is_a_digraph"] == "to_dot() writes an undirected `graph`; write a `digraph`, so that its arrows (->) have a direction."


def test_graphviz_reads_no_file_the_learners_dot_names(submission):
    """dot runs on the learner's text: image= paths must not tell which of the grader's files exist.
    Two probes, a file that exists and one that does not, in either order: the same words."""
    there, missing = str(registry.get(KATA).solution_path), "/nonexistent/kata/graph.py"

    def told(first: str, second: str) -> str:
        source = overriding(
            f"""
            _to_dot = to_dot

            def to_dot(root):
                probes = '  p0 [shape=box image="{first}"];\\n  p1 [shape=box image="{second}"];\\n  p0 -> p1 [label=<<b>>];\\n'
                return _to_dot(root).replace("digraph {{", "digraph {{\\n" + probes, 1)
            """
        )
        message = failures(grade(submission, source))["test_to_dot_is_a_digraph"]
        assert message.startswith("Graphviz's dot rejects to_dot()'s text:"), message
        return message.replace(there, "PATH").replace(missing, "PATH")

    assert told(there, missing) == told(missing, there)


def test_a_dot_without_grads_in_its_labels_is_explained(submission):
    source = overriding(
        """
        def to_dot(root):
            nodes, edges = trace(root)
            lines = [f'  n{id(n)} [label="{n.label} {n.op} {n.data:.4f}"];' for n in nodes]
            lines += [f"  n{id(a)} -> n{id(b)};" for a, b in edges]
            return "digraph {\\n" + "\\n".join(lines) + "\\n}"
        """
    )
    failed = failures(grade(submission, source))
    assert set(failed) == {"test_to_dot_labels_and_arrows"}
    assert failed["test_to_dot_labels_and_arrows"].startswith(
        "For y = sin(x**2 + 1) at x = 2, after y.backward(), no node of to_dot()'s graph shows x's data 2.0000 and grad 1.1346 (torch's)."
    )


def test_a_backward_that_follows_only_the_first_input_is_never_told_to_use_plus_equals(submission):
    source = overriding(
        """
        def backward(self):
            nodes, _ = trace(self)
            for node in nodes:
                node.grad = 0.0
            self.grad = 1.0
            for node in reversed(nodes):
                for inner, local in list(zip(node.inputs, node.local_grads))[:1]:
                    inner.grad += local * node.grad

        Value.backward = backward
        """
    )
    failed = failures(grade(submission, source))
    assert "test_backward_accumulates_reused_nodes" in failed
    for message in failed.values():
        assert diagnosis("assigned_grad") not in message
    # x * x alone cannot tell = from the first input only: a second graph, where it can, decides.
    assert "Likely mistake: " + diagnosis("first_input_only") in failed["test_backward_accumulates_reused_nodes"]


def test_labels_of_every_number_and_arrows_every_way_draw_nothing(submission):
    """Red team, round 4: a label listing every number from -3.00 to 7.00 "showed" each node's data and
    grad, and arrows between every pair of nodes "drew" each edge; with the reference's Value, only
    the drawing's check may fail, each for what it is."""
    grid = overriding(
        """
        import re

        _to_dot = to_dot

        def to_dot(root):
            every = " ".join(f"{k / 100:.2f}" for k in range(-300, 701))
            return re.sub(r'label="[^"]*"', f'label="{every}"', _to_dot(root))
        """
    )
    failed = failures(grade(submission, grid))
    assert set(failed) <= {"test_to_dot_labels_and_arrows", "test_to_dot_is_a_digraph"}  # dot may refuse such a record label
    message = failed["test_to_dot_labels_and_arrows"]
    assert f"(labels with more than {tol.GRAPH_DOT_LABEL_MAX_NUMBERS} numbers are not read:" in message and "Likely mistake" not in message, message
    both_ways = overriding(
        """
        import re

        _to_dot = to_dot

        def to_dot(root):
            text = _to_dot(root)
            names = sorted(set(re.findall(r"^\\s*(n\\d+)\\s*\\[", text, flags=re.M)))
            every = "".join(f"  {a} -> {b};\\n" for a in names for b in names if a != b)
            return text.rstrip().rstrip("}") + every + "}\\n"
        """
    )
    failed = failures(grade(submission, both_ways))
    assert set(failed) == {"test_to_dot_labels_and_arrows"}
    assert failed["test_to_dot_labels_and_arrows"].startswith("to_dot()'s arrows lead both ways between"), failed["test_to_dot_labels_and_arrows"]


def test_a_dot_text_of_megabytes_is_refused_before_graphviz_reads_it(submission):
    source = overriding(
        """
        _to_dot = to_dot

        def to_dot(root):
            return _to_dot(root) + "// " + "x" * 2_000_000
        """
    )
    failed = failures(grade(submission, source))
    assert set(failed) == {"test_to_dot_is_a_digraph", "test_to_dot_labels_and_arrows"}
    assert all(m.startswith("to_dot()'s text is 2,000,3") and "the grader reads at most 100,000" in m for m in failed.values()), failed


def test_a_drawing_is_checked_against_torch_not_against_grads_to_dot_changed(submission):
    source = overriding(
        """
        _to_dot = to_dot

        def to_dot(root):
            root.backward()  # once more: += doubles every grad the drawing then shows
            for node in trace(root)[0]:
                node.grad *= 2
            return _to_dot(root)
        """
    )
    failed = failures(grade(submission, source))
    assert set(failed) == {"test_to_dot_labels_and_arrows"}
    assert "and grad 1.1346 (torch's)" in failed["test_to_dot_labels_and_arrows"]


def test_grading_is_deterministic(submission):
    source = overriding("Value.tanh = lambda self: Value(math.tanh(self.data), inputs=(self,), op='tanh', local_grads=(1.0,))\n")
    first, again = grade(submission, source), grade(submission, source)
    assert first == again
    assert "test_local_gradient[tanh]" in failures(first)


# --- the spec's own parts ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def correct_modules():
    return [load(path, callables=registry.get(KATA).callables) for path in (registry.get(KATA).solution_path, VARIANTS / "closures.py", VARIANTS / "explain_loop.py")]


@settings(max_examples=150, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
@given(expr=expressions())
def test_correct_implementations_stay_far_inside_the_tolerances(correct_modules, expr):
    # Three correct ways to write the ops (math.tanh, tanh from exp, from cosh; sigmoid three ways)
    # on random expressions: each error is at most 1% of what the spec allows.
    evaluation = oracle.evaluate(expr)
    for module in correct_modules:
        built = spec_graph.build(module, expr)
        built.root.backward()
        for node, want in built.torch_grads(evaluation):
            assert abs(node.grad - want) <= 0.01 * (tol.GRAPH_GRAD_ATOL + tol.GRAPH_GRAD_RTOL * abs(want))
        for k, node in enumerate(built.nodes):
            want = evaluation.values[k]
            assert abs(node.data - want) <= 0.01 * (tol.GRAPH_VALUE_ATOL + tol.GRAPH_VALUE_RTOL * abs(want))


def test_the_oracle_follows_the_seed_expression_through_torch():
    evaluation = oracle.evaluate(spec_graph.seed(2.0))
    assert evaluation.chain == ("SinBackward0", "AddBackward0", "PowBackward0", "AccumulateGrad")
    assert evaluation.values == pytest.approx((2.0, 4.0, 5.0, -0.9589242746631385))
    # dy/dx = cos(x**2 + 1) * 2x; each step's partials are its own edge's local gradients.
    assert evaluation.grads[0] == pytest.approx(0.28366218546322625 * 4.0)
    assert evaluation.partials[1] == (4.0, None)  # d(x**2)/dx = 2x; the exponent is no node
    assert evaluation.partials[2] == (1.0, 1.0)
    assert evaluation.partials[3] == pytest.approx((0.28366218546322625,))  # cos(u)


def test_x_times_x_has_one_partial_per_slot():
    evaluation = oracle.evaluate(spec_graph.REUSED[0])
    assert evaluation.partials[1] == (3.0, 3.0)  # each edge of x * x carries x; x.grad adds them
    assert evaluation.grads[0] == 6.0


@pytest.mark.parametrize(
    ("text", "nodes", "edges"),
    [
        ('strict digraph G { rankdir=LR; node [shape=record]; "x" [label="{ x | data 2.0 }"]; "x" -> y -> z [color=red] }',
         {"x": "{ x | data 2.0 }", "y": "y", "z": "z"}, [("x", "y"), ("y", "z")]),
        ("// comment\ndigraph {\n  /* block */ a:f0 -> {b c}\n  subgraph cluster_0 { label=\"c\"; d }\n  1 -> 2\n}",
         {"a": "a", "b": "b", "c": "c", "d": "d", "1": "1", "2": "2"}, [("a", "b"), ("a", "c"), ("1", "2")]),
        ('digraph { n0 [label=<<b>x</b><br/>data 2.0>]; n0 -> n1 }', {"n0": "<<b>x</b><br/>data 2.0>", "n1": "n1"}, [("n0", "n1")]),
    ],
)  # fmt: skip
def test_the_dot_reader_finds_nodes_labels_and_edges(text, nodes, edges):
    dot = parse(text)
    assert dot.directed
    assert {node: dot.label(node) for node in dot.nodes} == nodes
    assert dot.edges == edges


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("digraph { a -> b ", "line 1: the text ends before the graph is closed with '}'"),
        ("digraph { a -- b }", "line 1: '--' is an undirected edge; a digraph's edges are written '->'"),
        ("digraph {\n a -> }", "line 2: expected a name, a number or a quoted string, found '}'"),
        ("y = sin(x)", "line 1: unexpected character '('"),
        ("x -> y", "line 1: a DOT file starts with 'digraph' (or 'graph'), not 'x'"),
        ('digraph { a [label=<b>x</b] }', "an HTML label opened with '<' is never closed with '>'"),
    ],
)
def test_the_dot_reader_says_where_text_is_not_dot(text, says):
    with pytest.raises(DotError, match=re.escape(says)):
        parse(text)
