"""`kata draw --expr` (harness/pictures/expr.py): kata 03's expressions read with ast, and what a bad one is told."""

from __future__ import annotations

import pytest

from harness.grading.strategies import Instr
from harness.pictures.expr import DEFAULTS, MAX_STEPS, ExprError, operand, parse, written


def test_the_seed_names_its_intermediates_and_keeps_numbers_as_numbers():
    expr = parse("x = 2.0; u = x**2 + 1; y = sin(u)")
    assert expr.names == ("x", "x**2", "u", "y")
    assert expr.inputs == (2.0,)
    assert expr.steps == (Instr("**", (0, 2.0)), Instr("+", (1, 1.0)), Instr("sin", (2,)))


def test_a_name_without_a_value_is_an_input_at_its_default():
    expr = parse("x*x + sin(x)")
    assert expr.inputs == (DEFAULTS[0],) and expr.names == ("x", "x*x", "sin(x)", "x*x + sin(x)")
    assert expr.steps == (Instr("*", (0, 0)), Instr("sin", (0,)), Instr("+", (1, 2)))  # x*x reuses x in both slots


def test_a_diamond_reuses_its_inputs():
    expr = parse("a = 1.5; b = 0.5; (a + b) * (a - b)")
    assert expr.inputs == (1.5, 0.5)
    assert expr.steps == (Instr("+", (0, 1)), Instr("-", (0, 1)), Instr("*", (2, 3)))


def test_an_input_first_met_after_some_ops_comes_first_in_the_expression():
    expr = parse("sin(x) * z")
    assert expr.names == ("x", "z", "sin(x)", "sin(x) * z") and expr.inputs == DEFAULTS[:2]
    assert expr.steps == (Instr("sin", (0,)), Instr("*", (2, 1)))


def test_methods_negatives_and_numbers_on_either_side():
    expr = parse("x = 0.5; 2 * x.tanh() - x ** -1 + -x")
    assert [s.op for s in expr.steps] == ["tanh", "*", "**", "-", "neg", "+"]
    assert Instr("*", (2.0, 1)) in expr.steps and Instr("**", (0, -1.0)) in expr.steps


def test_an_alias_does_not_rename_the_node_it_names():
    expr = parse("x = 1.0; u = x * 3; v = u; sin(v)")
    assert expr.names == ("x", "u", "sin(v)")


# (text, the column the message names, words it must hold)
REFUSED = [
    ("x*x + cos(x)", 7, "cos is not an op of kata 03"),
    ("x / 2", 3, "/ is not an op of kata 03"),
    ("(x + 1) // 2", 9, "// is not an op"),
    ("x ** y", 6, "the exponent must be a number"),
    ("2 * 3 + x", 1, "both sides are numbers"),
    ("sin(x, x)", 1, "sin takes one operand"),
    ("x +", 4, "not Python syntax"),
    ("3", 1, "the expression is the number 3"),
    ("x < 2", 1, "a comparison is not part of the language"),
    ("x[0] * 2", 1, "indexing is not part of the language"),
    ("'a' * x", 1, "'a' is not a number"),
    ("sin = 2; sin(x)", 1, "sin is one of the ops"),
    ("sin * x", 1, "sin is an op: call it"),
    ("__import__('os').system('ls')", 1, "system is not an op of kata 03"),
    ("exp(2) * x", 1, "exp of a number needs no graph"),
]


@pytest.mark.parametrize("text, column, words", REFUSED)
def test_a_bad_expression_is_refused_with_the_problem_and_its_column(text, column, words):
    with pytest.raises(ExprError) as raised:
        parse(text)
    first, shown, caret = str(raised.value).splitlines()
    assert first.startswith(f"--expr, column {column}: ") and words in first
    assert shown == f"    {text}" and caret == "    " + " " * (column - 1) + "^"  # the caret under the column


def test_expressions_without_an_op_or_a_root_last_are_refused():
    for text, words in [("", "--expr is empty"), ("x = 2", "has no op"), ("y = sin(x); z = x * 2; y", "the last statement should be the expression")]:
        with pytest.raises(ExprError, match=words):
            parse(text)


def test_several_lines_name_the_line_too():
    with pytest.raises(ExprError) as raised:
        parse("x = 1\ny = x % 2")
    assert str(raised.value).startswith("--expr, line 2, column 7: % is not an op of kata 03")


def test_too_many_inputs_or_ops_are_refused():
    with pytest.raises(ExprError, match=f"would be input number {len(DEFAULTS) + 1}"):
        parse(" + ".join(f"x{i}" for i in range(len(DEFAULTS) + 1)))
    with pytest.raises(ExprError, match=f"more than {MAX_STEPS} ops"):
        parse(" + ".join(["x"] * (MAX_STEPS + 2)))


def test_a_node_is_written_back_with_the_parentheses_it_needs():
    expr = parse("a = 1.5; b = 0.5; s = a - (b + a); p = (s * -a) ** 2; q = -(a + b); log(p - q)")
    assert [written(expr, k) for k in range(len(expr.names))] == [
        "a", "b", "b + a", "s = a - (b + a)", "-a", "s * -a", "p = (s * -a)**2", "a + b", "q = -(a + b)", "p - q", "log(p - q)"]
    assert operand("x**2", "+-") == "x**2" and operand("x**2", "+-*u") == "(x**2)" and operand("-x", "+-*u") == "(-x)"
