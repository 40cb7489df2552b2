"""Kata 03's pictures: the learner's graph drawn as a circuit of the chain rule, above the graph torch records.

    kata draw [--expr "x*x + sin(x)"] [--impl DIR] [--out DIR] [--renderer auto|graphviz|matplotlib]

builds an expression (y = sin(x**2 + 1) at x = 2, or the one --expr writes: harness/pictures/expr.py)
with the learner's Value (DIR/03_graph/graph.py, default katas/, run in its jailed process) and with
torch, runs backward on both, and draws two panels, arrows running from the inputs to the loss:

  * yours, as a circuit of the chain rule (harness/pictures/circuit.py): on each edge the value
    passed forward, the local gradient and upstream x local; every number held against torch's,
    what disagrees in red, the first wrong edge or node going back from the root marked; drawn from
    the learner's trace() as given; the inner and the outer function grouped;
  * torch's: y.grad_fn and its next_functions for the same expression: the graph autograd walks.

The learner's code runs only in its jailed process (harness/grading/learner.py); a stub or a crash
there is a sentence naming their function and line. Rendering, with Graphviz's dot or with
matplotlib, is harness/pictures/render.py.
"""

from __future__ import annotations

import math
from pathlib import Path

from harness.grading import registry
from harness.grading import tolerances as tol
from harness.grading.checks import describe
from harness.pictures import DrawError, learner
from harness.pictures.circuit import number, short, value_panel
from harness.pictures.expr import ExprError, parse, written
from harness.pictures.render import Arrow, Box, Panel, render

KATA_ID = "03_graph"
SEED = "x = 2.0; u = x**2 + 1; y = sin(u)"  # the prompt's expression, in --expr's language
DEFAULT_OUT = registry.REPO_ROOT / "graph-drawings"


def torch_panel(root, named: list[tuple[str, object]], *, caption: str = "") -> Panel:
    """A panel of the graph autograd records under the tensor `root`: its grad_fn and next_functions.

    `named` pairs names with the tensors of the expression (retain_grad() on the intermediates), so
    each grad_fn shows the value and gradient of the tensor it produced.
    """
    by_fn = {id(t.grad_fn): (name, t) for name, t in named if t.grad_fn is not None}
    by_leaf = {id(t): (name, t) for name, t in named if t.grad_fn is None}
    fns = _walk(root.grad_fn, lambda fn: tuple(f for f, _ in fn.next_functions if f is not None))
    keys = {id(fn): f"t{i}" for i, fn in enumerate(fns)}
    boxes = []
    for fn in fns:
        kind = type(fn).__name__
        name, tensor = by_leaf[id(fn.variable)] if kind == "AccumulateGrad" else by_fn.get(id(fn), ("", None))
        lines = [kind, f"{short(name)} (leaf)" if kind == "AccumulateGrad" else short(name)]
        if tensor is not None:
            lines += [f"data {tensor.item():.4f}", f"grad {tensor.grad.item():.4f}"]
        boxes.append(Box(keys[id(fn)], tuple(line for line in lines if line), "root" if fn is root.grad_fn else "torch"))
    # next_functions point from a result back to what it was computed from: reversed, input -> loss.
    arrows = tuple(Arrow(keys[id(f)], keys[id(fn)]) for fn in fns for f, _ in fn.next_functions if f is not None)
    return Panel("torch's autograd graph", caption, tuple(boxes), arrows)


def _walk(root, inputs_of) -> list:
    """Every node reachable from `root`, each after the nodes it is computed from."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((inner, False) for inner in reversed(inputs_of(node)))
    return order


def torch_tensors(expr) -> list:
    """The expression in torch float64, numbers kept as numbers (as a learner writes x**2 + 1), backward run."""
    import torch

    from harness.packs.graph.oracle import OPS

    nodes = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in expr.inputs]
    for instr in expr.steps:
        out = OPS[instr.op](*(nodes[a] if type(a) is int else a for a in instr.args))
        out.retain_grad()  # torch keeps .grad for leaves only, unless asked
        nodes.append(out)
    nodes[-1].backward()
    return nodes


# --- the learner's side ------------------------------------------------------------------------
def _traced(module, root, path: Path):
    """trace(root) as (nodes, edges) when it returns that shape; else None, and why, for the caption."""
    try:
        result = learner.run(lambda: module.trace(root), path, "running trace()")
    except learner.Unfinished as stub:
        return None, f"Drawn from .inputs: {stub}."
    except DrawError as exc:
        return None, f"Drawn from .inputs: {str(exc).splitlines()[0]}"
    value = module.Value
    if (
        isinstance(result, (tuple, list)) and len(result) == 2 and isinstance(result[0], (tuple, list)) and isinstance(result[1], (tuple, list))
        and all(isinstance(n, value) for n in result[0])
        and all(isinstance(e, (tuple, list)) and len(e) == 2 and all(isinstance(n, value) for n in e) for e in result[1])
    ):  # fmt: skip
        return (list(result[0]), [tuple(e) for e in result[1]]), "Drawn from your trace(): its nodes, and its edges as given."
    return None, f"Drawn from .inputs: trace() returned {describe(result)}, not (nodes, edges)."


def _explained(module, root, path: Path) -> list[tuple[object, object, float | None]] | None:
    """explain(root)'s steps as (inner, outer, local_grad), or None when it has none to give."""
    try:
        steps = learner.run(lambda: module.explain(root), path, "running explain()")
    except (learner.Unfinished, DrawError):
        return None
    if not isinstance(steps, (tuple, list)):
        return None
    rows = [(getattr(s, "inner", None), getattr(s, "outer", None), number(getattr(s, "local_grad", None))) for s in steps]
    return rows if all(isinstance(i, module.Value) and isinstance(o, module.Value) for i, o, _ in rows) else None


def panels(module, path: Path, text: str = SEED) -> list[Panel]:
    """Both panels for the expression `text` (--expr's language): the learner's (`module`, loaded from `path`) and torch's."""
    from harness.packs.graph import oracle
    from harness.packs.graph.spec import build

    try:
        expr = parse(text)
    except ExprError as exc:
        raise DrawError(str(exc)) from None
    ev = oracle.evaluate(expr)
    where = ", ".join(f"{n} = {v:g}" for n, v in zip(expr.names, expr.inputs))
    for k, value in enumerate(ev.values):
        if not math.isfinite(value):
            raise DrawError(f"`{written(expr, k)}` is {value} at {where}: choose inputs where every op is defined (log and ** 0.5 need positive numbers).")
        instr = expr.instr(k)
        if instr is not None and instr.op == "relu" and abs(ev.values[instr.args[0]]) < tol.GRAPH_KINK_MARGIN:
            # At the kink `>` and `>=` are both right and torch picks one: a picture would call the other wrong.
            raise DrawError(f"`{written(expr, k)}` is at relu's kink at {where}, where its derivative is a convention (0 or 1): choose inputs that keep it away from 0.")
    shown = "y = sin(x**2 + 1)" if text == SEED else text if expr.names[-1].isidentifier() else expr.names[-1]
    try:
        built = learner.run(lambda: build(module, expr), path, f"building {shown} with your Value")
    except learner.Unfinished as stub:
        raise DrawError(f"Your Value cannot build {shown} yet: {stub}. Write the ops (Task 03.1), then draw again.") from None
    root = expr.names[-1]
    at = ", ".join(f"{n} = {v:g}" for n, v in zip(expr.names, expr.inputs))
    caption, grads = f"{shown} at {at}", True
    try:
        learner.run(built.root.backward, path, f"running {root}.backward()")
    except learner.Unfinished as stub:
        caption, grads = f"{caption}\ngrads not shown: {stub}", False
    traced, how = _traced(module, built.root, path)
    explain = lambda: _explained(module, built.root, path)  # noqa: E731 - called only if .local_grads is missing
    mine = learner.run(lambda: value_panel(built, ev, traced, grads=grads, caption=f"{caption}\n{how}", explain=explain), path, "reading your graph")
    tensors = torch_tensors(expr)
    theirs = torch_panel(
        tensors[-1], list(zip(expr.names, tensors)),
        caption="y.grad_fn and its next_functions, drawn input -> loss (autograd stores them loss -> input).\n"
        "A number such as the 1 in x**2 + 1 is no node of torch's graph.",
    )  # fmt: skip
    return [mine, theirs]


def draw(impl_root: Path | None = None, out_dir: Path | None = None, *, renderer: str = "auto", seconds: float = 10.0,
         expr: str | None = None) -> list[Path]:  # fmt: skip
    """Draw the learner's graph of y = sin(x**2 + 1) (or of `expr`) and torch's; the paths written. The
    learner's Value runs in its jailed process, for at most `seconds` in all."""
    if expr is not None:
        try:
            parse(expr)  # refused before the learner's process starts
        except ExprError as exc:
            raise DrawError(str(exc)) from None
    path = registry.get(KATA_ID).learner_file(impl_root)
    module = learner.open_module(KATA_ID, path, seconds)
    try:
        drawn = panels(module, path, SEED if expr is None else expr)
    finally:
        module.process.close()
    return render(drawn, out_dir or DEFAULT_OUT, renderer=renderer)


if __name__ == "__main__":  # the stub's docstring points here: the same as `kata draw`
    import sys

    from harness import cli

    sys.exit(cli.main(["draw", *sys.argv[1:]]))
