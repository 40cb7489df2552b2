"""`kata draw --expr`: kata 03's expressions written as Python text, read with `ast` (never eval).

    x*x + sin(x)                       one input, x, at its default value 2.0
    a = 1.5; b = 0.5; (a + b) * (a - b)   inputs given values; a diamond
    x = 2; u = x**2 + 1; y = sin(u)    names for the intermediates, which the picture shows

The language is the kata's ops and nothing else: numbers, names, + - * and unary -, ** with a number
as its exponent, and sin exp log tanh relu sigmoid written as functions (`sin(u)`) or as the Value's
methods (`u.sin()`). Statements are separated by `;` (or new lines): `name = number` makes an input,
`name = expression` names an intermediate node, and the last statement is the root. A name used
without a value is an input at the next of DEFAULTS. Anything else is refused with what is wrong and
its column, before any of the learner's code runs.

parse(text) returns the same Expression the spec builds (harness/grading/strategies.py): inputs,
then one step per op, and a name per node (the variable it was assigned to, else its source text).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from harness.grading.strategies import Expression, Instr

FUNCTIONS = ("sin", "exp", "log", "tanh", "relu", "sigmoid")
DEFAULTS = (2.0, 0.5, -1.5, 1.2, -0.3)  # inputs given no value, in order of first use
MAX_STEPS = 30  # a picture with more ops than this is no longer readable
_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*"}
_WHAT_OPS = "kata 03's ops are + - * ** (a number exponent), unary -, and " + ", ".join(FUNCTIONS)


class ExprError(ValueError):
    """The text is not an expression of kata 03's ops; the message names the problem and its column."""


@dataclass(frozen=True)
class _Node:
    """An operand while parsing: a node of the expression, ("input", i) or ("step", j), or a plain number.

    Inputs go first in an Expression, and a name first used after some ops is a new input: so a node's
    index is known only at the end, from its key."""

    key: tuple[str, int] | None = None
    number: float | None = None


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines() or [""]
        self.inputs: list[float] = []
        self.input_names: list[str] = []
        self.steps: list[tuple[str, tuple]] = []  # (op, args): an arg is a node's key or a number
        self.step_names: list[str] = []
        self.scope: dict[str, tuple[str, int]] = {}  # variable -> node key

    def fail(self, node: ast.AST, problem: str) -> ExprError:
        return _error(self.lines, node.lineno, node.col_offset, problem)

    def statement(self, stmt: ast.stmt) -> tuple[str, int]:
        """Read one statement; the key of the node it leaves (the root so far)."""
        if isinstance(stmt, ast.Expr):
            return self.node(stmt.value, "the expression")
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            name = stmt.targets[0].id
            if name in FUNCTIONS:
                raise self.fail(stmt.targets[0], f"{name} is one of the ops; give the variable another name")
            operand = self.operand(stmt.value)
            if operand.number is not None:  # `x = 2.0`: an input
                self.scope[name] = self.add_input(name, operand.number)
            else:
                if operand.key not in self.scope.values():  # `u = x**2 + 1` names the node it made; `v = u` only aliases u
                    self.step_names[operand.key[1]] = name
                self.scope[name] = operand.key
            return self.scope[name]
        raise self.fail(stmt, "write `name = ...` or an expression; statements are separated by ';'")

    def add_input(self, name: str, value: float) -> tuple[str, int]:
        self.inputs.append(value)
        self.input_names.append(name)
        return ("input", len(self.inputs) - 1)

    def add_step(self, node: ast.AST, op: str, args: tuple[_Node, ...]) -> _Node:
        if len(self.steps) == MAX_STEPS:
            raise self.fail(node, f"more than {MAX_STEPS} ops: draw a smaller expression")
        self.steps.append((op, tuple(a.key if a.key is not None else a.number for a in args)))
        self.step_names.append(ast.get_source_segment(self.text, node) or op)
        return _Node(key=("step", len(self.steps) - 1))

    def expression(self) -> Expression:
        def index(key: tuple[str, int]) -> int:
            return key[1] if key[0] == "input" else len(self.inputs) + key[1]

        steps = tuple(Instr(op, tuple(index(a) if isinstance(a, tuple) else a for a in args)) for op, args in self.steps)
        return Expression(inputs=tuple(self.inputs), steps=steps, names=(*self.input_names, *self.step_names))

    def node(self, tree: ast.AST, what: str) -> tuple[str, int]:
        operand = self.operand(tree)
        if operand.number is not None:
            raise self.fail(tree, f"{what} is the number {operand.number:g}: it needs a variable, such as x")
        return operand.key

    def operand(self, tree: ast.AST) -> _Node:
        if isinstance(tree, ast.Constant):
            if type(tree.value) not in (int, float):
                raise self.fail(tree, f"{tree.value!r} is not a number")
            return _Node(number=float(tree.value))
        if isinstance(tree, ast.Name):
            if tree.id in FUNCTIONS:
                raise self.fail(tree, f"{tree.id} is an op: call it, as in {tree.id}(x)")
            if tree.id not in self.scope:
                if len(self.inputs) == len(DEFAULTS):
                    raise self.fail(tree, f"{tree.id} would be input number {len(DEFAULTS) + 1}: give it a value first ({tree.id} = 1.0; ...)")
                self.scope[tree.id] = self.add_input(tree.id, DEFAULTS[len(self.inputs)])
            return _Node(key=self.scope[tree.id])
        if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, (ast.USub, ast.UAdd)):
            inner = self.operand(tree.operand)
            if isinstance(tree.op, ast.UAdd):
                return inner
            return _Node(number=-inner.number) if inner.number is not None else self.add_step(tree, "neg", (inner,))
        if isinstance(tree, ast.BinOp):
            return self.binary(tree)
        if isinstance(tree, ast.Call):
            return self.call(tree)
        raise self.fail(tree, f"{_describe(tree)} is not part of the language: {_WHAT_OPS}")

    def binary(self, tree: ast.BinOp) -> _Node:
        left, right = self.operand(tree.left), self.operand(tree.right)
        if isinstance(tree.op, ast.Pow):
            if right.number is None:
                raise self.fail(tree.right, "the exponent must be a number (x ** 3): in kata 03 it is a plain number, not a node")
            if left.number is not None:
                raise self.fail(tree, "a number raised to a power needs no graph: write its value, or put a variable in the base")
            return self.add_step(tree, "**", (left, right))
        op = _BINARY.get(type(tree.op))
        if op is None:
            line, col, symbol = self.operator(tree)
            hint = "; divide as a * b ** -1" if isinstance(tree.op, ast.Div) else ""
            raise _error(self.lines, line, col, f"{symbol} is not an op of kata 03 ({_WHAT_OPS}){hint}")
        if left.number is not None and right.number is not None:
            raise self.fail(tree, "both sides are numbers: write the result as one number, or use a variable")
        return self.add_step(tree, op, (left, right))

    def operator(self, tree: ast.BinOp) -> tuple[int, int, str]:
        """The line, column and text of a binary operator: what follows the left operand and its ')'."""
        line, col = tree.left.end_lineno, tree.left.end_col_offset
        text = self.lines[line - 1]
        while col < len(text) and text[col] in " )":
            col += 1
        end = col
        while end < len(text) and text[end] in "/%@<>&|^*":
            end += 1
        return line, col, text[col:end] or "this operator"

    def call(self, tree: ast.Call) -> _Node:
        if isinstance(tree.func, ast.Name):  # sin(u)
            name, args = tree.func.id, tree.args
        elif isinstance(tree.func, ast.Attribute):  # u.sin()
            name, args = tree.func.attr, [tree.func.value, *tree.args]
        else:
            raise self.fail(tree, f"only the ops can be called: {', '.join(FUNCTIONS)}")
        if name not in FUNCTIONS:
            raise self.fail(tree, f"{name} is not an op of kata 03 (its functions are {', '.join(FUNCTIONS)})")
        if len(args) != 1 or tree.keywords:
            raise self.fail(tree, f"{name} takes one operand: {name}(u) or u.{name}()")
        inner = self.operand(args[0])
        if inner.number is not None:
            raise self.fail(tree, f"{name} of a number needs no graph: put a variable inside, as in {name}(x)")
        return self.add_step(tree, name, (inner,))


def operand(name: str, looser: str) -> str:
    """A node's name written as an operand: in parentheses when it holds, outside its own brackets, an
    operator that binds less tightly than where it goes (`looser`: some of "+", "-", "*", and "u" for
    a leading minus). So (a - b) * c, but x**2 * c; (-x)**2, but -x * c."""
    depth = 0
    for i, c in enumerate(name):
        depth += {"(": 1, ")": -1}.get(c, 0)
        if depth == 0 and ("u" if c == "-" and i == 0 else c) in looser:
            return f"({name})"
    return name


def written(expr: Expression, node: int) -> str:
    """Node `node` of `expr` as --expr would write it: an input or an unnamed node by its name (its
    source text), a named one as `u = x**2 + 1`, each operand by its name."""
    name, instr = expr.names[node], expr.instr(node)
    if instr is None or not name.isidentifier():
        return name
    args = [expr.names[a] if type(a) is int else f"{a:g}" for a in instr.args]
    if instr.op == "**":
        form = f"{operand(args[0], '+-*u')}**{args[1]}"
    elif instr.op in ("+", "-", "*"):
        left = operand(args[0], "+-" if instr.op == "*" else "")
        form = f"{left} {instr.op} {operand(args[1], '' if instr.op == '+' else '+-')}"
    else:
        form = f"-{operand(args[0], '+-')}" if instr.op == "neg" else f"{instr.op}({args[0]})"
    return f"{name} = {form}"


def _describe(tree: ast.AST) -> str:
    kinds = {ast.Compare: "a comparison", ast.BoolOp: "and/or", ast.Subscript: "indexing", ast.Attribute: "an attribute",
             ast.Lambda: "a lambda", ast.IfExp: "if/else", ast.Tuple: "a tuple", ast.List: "a list"}  # fmt: skip
    return kinds.get(type(tree), type(tree).__name__)


def _error(lines: list[str], lineno: int, col_offset: int, problem: str) -> ExprError:
    """The message: where (column, and line when there are several), the problem, and a caret under it."""
    where = f"column {col_offset + 1}" if len(lines) == 1 else f"line {lineno}, column {col_offset + 1}"
    return ExprError(f"--expr, {where}: {problem}.\n    {lines[lineno - 1]}\n    {' ' * col_offset}^")


def parse(text: str) -> Expression:
    """The Expression `text` writes; ExprError names the problem and its column."""
    text = text.strip()
    if not text:
        raise ExprError(f"--expr is empty: write an expression such as x*x + sin(x) ({_WHAT_OPS}).")
    try:
        module = ast.parse(text, mode="exec")
    except SyntaxError as exc:
        lines = text.splitlines() or [""]
        raise _error(lines, exc.lineno or 1, max((exc.offset or 1) - 1, 0), f"this is not Python syntax ({exc.msg})") from None
    reader = _Reader(text)
    root = None
    for stmt in module.body:
        root = reader.statement(stmt)
    if not reader.steps:
        raise ExprError(f"--expr {text!r} has no op: write at least one ({_WHAT_OPS}).")
    # The root is the last node of an Expression: the last statement must leave the last op.
    if root != ("step", len(reader.steps) - 1):
        raise ExprError("--expr: the last statement should be the expression to draw (its root), after every op it uses.")
    return reader.expression()
