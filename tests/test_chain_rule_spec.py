"""Kata 01_chain_rule's hidden spec, graded in-process on submissions: what passes, and what a learner reads.

Wrong submissions are the reference with one or two functions redefined (a later def replaces an
earlier one), so each test shows exactly which checks a mistake costs and which it leaves standing.
harness/packs/chain_rule/catalog.toml holds the classic slips as data (tests/test_catalog.py proves each
is named); here, what a learner reads for some of them, and that a slip it does not list gets no name.
"""

from __future__ import annotations

import re
import textwrap

import numpy as np
import pytest
import torch
from conftest import failures, solution_source, verdicts

from harness.instructor import catalog
from harness.grading import registry
from harness.grading import tolerances as tol
from harness.grading.text import split_diagnosis
from harness.packs.chain_rule import oracle

KATA = "01_chain_rule"
ALL_CHECKS = {
    "test_cubic_grad_on_floats",
    "test_cubic_grad_on_arrays",
    "test_sin_square_grad_on_floats",
    "test_sin_square_grad_on_arrays",
    "test_nested_grad_on_floats",
    "test_nested_grad_on_arrays",
    *(f"test_exact_in_extended_precision[{name}]" for name in ("cubic_grad", "sin_square_grad", "nested_grad")),
    "test_compose_grad_matches_torch",
    "test_sin_square_grad_symbolic_values",
    "test_sin_square_grad_symbolic_is_exact",
    "test_chain_rule_symbolic_is_outer_times_inner",
    "test_chain_rule_symbolic_with_concrete_functions",
}


def grade(submission, source: str) -> dict[str, str | None]:
    return verdicts(KATA, submission(KATA, source), ALL_CHECKS)


def diagnosis(mistake: str) -> str:
    """The likely-mistake line a failure shows: what the numbers show, not yet why (that is --explain)."""
    return "Likely mistake: " + split_diagnosis(catalog.load(KATA).mistake(mistake).diagnosis)[0]


def wrong_everywhere(name: str) -> set[str]:
    """The checks a numeric task fails when its formula is wrong: floats, arrays and extended precision."""
    return {f"test_{name}_on_floats", f"test_{name}_on_arrays", f"test_exact_in_extended_precision[{name}]"}


def overriding(code: str) -> str:
    """The reference solution with some of its functions redefined by `code`."""
    return solution_source(KATA) + "\n\n" + textwrap.dedent(code)


# --- what passes ---------------------------------------------------------------------------------
def test_the_reference_passes_every_check(submission):
    assert failures(grade(submission, solution_source(KATA))) == {}


def test_vectorized_math_sech_and_complex_exponential_forms_pass(submission):
    different = overriding(
        """
        import math
        import sympy

        cubic_grad = np.vectorize(lambda v: 3 * v * v + 2)  # a float in gives a 0-d array out
        sin_square_grad = np.vectorize(lambda v: 2 * v * math.cos(v * v + 1))

        def nested_grad(x):
            u = 3 * x + 1
            return 6 * np.sinh(u) / np.cosh(u) ** 3

        def compose_grad(f_grad, g, g_grad):
            def h(x):
                inner_value = g(x)
                return g_grad(x) * f_grad(inner_value)
            return h

        def sin_square_grad_symbolic():
            x = sympy.Symbol("x", real=True)
            return x * (sympy.exp(sympy.I * (x**2 + 1.0)) + sympy.exp(-sympy.I * (x**2 + 1)))

        def chain_rule_symbolic():
            x, t = sympy.Symbol("x", real=True), sympy.Symbol("t")
            f, g = sympy.Function("f", real=True), sympy.Function("g")
            return sympy.Subs(sympy.Derivative(f(t), t), t, g(x)) * sympy.diff(g(x), x)
        """
    )
    assert failures(grade(submission, different)) == {}


def test_expanded_forms_and_sympy_diff_pass(submission):
    different = overriding(
        """
        def cubic_grad(x):
            return 2 + x * 3 * x

        def sin_square_grad(x):
            return 2 * x * (np.cos(x**2) * np.cos(1) - np.sin(x**2) * np.sin(1))

        def nested_grad(x):
            return 2 * (3 - 3 * np.tanh(3 * x + 1) ** 2) * np.tanh(3 * x + 1)

        def compose_grad(f_grad, g, g_grad):
            return lambda x: f_grad(g(x)) * g_grad(x)

        def sin_square_grad_symbolic():
            import sympy
            x = sympy.Symbol("x")
            return sympy.diff(sympy.sin(x**2 + 1), x)

        def chain_rule_symbolic():
            import sympy
            x, f, g = sympy.Symbol("x"), sympy.Function("f"), sympy.Function("g")
            return sympy.diff(f(g(x)), x)
        """
    )
    assert failures(grade(submission, different)) == {}


# --- what fails, and what the learner reads --------------------------------------------------------
NUMERIC_CHECKS = {name for name in ALL_CHECKS if "symbolic" not in name}
NO_SYMPY = "sympy is not available to the numeric tasks, so "
BY_HAND = ": work the derivative out by hand with NumPy (sympy is for the symbolic tasks)."


def test_sympy_is_not_there_for_a_numeric_task(submission):
    """By hand means by hand: the numeric tasks run where sympy does not exist, so sympy.diff and .diff()
    in cubic_grad and nested_grad answer nothing, naming the line, while the symbolic tasks may use them
    (above). So does a hand-written expression lambdified in sin_square_grad: it was fair while sympy ran
    beside the numeric tasks, and is not now that they run without it."""
    by_sympy = overriding(
        """
        def cubic_grad(x):
            import sympy
            t = sympy.Symbol("t")
            return sympy.lambdify(t, sympy.diff(t**3 + 2 * t, t), "numpy")(x)

        def nested_grad(x):
            import sympy
            t = sympy.Symbol("t")
            return sympy.lambdify(t, (sympy.tanh(3 * t + 1) ** 2).diff(t), "numpy")(x)

        def sin_square_grad(x):
            import sympy
            t = sympy.Symbol("t")
            return sympy.lambdify(t, 2 * t * sympy.cos(t**2 + 1), "numpy")(x)
        """
    )
    failed = failures(grade(submission, by_sympy))
    assert set(failed) == {check for name in ("cubic_grad", "nested_grad", "sin_square_grad") for check in wrong_everywhere(name)}
    for name, message in failed.items():
        task = next(task for task in ("cubic_grad", "nested_grad", "sin_square_grad") if task in name)
        assert f"(`return sympy.lambdify(t, " in message and f"in {task}(): {NO_SYMPY}what sympy.lambdify() made cannot be called with values{BY_HAND}" in message, message


# Derivatives taken with sympy at the file's top level, then carried into a numeric task: by lambdify,
# by eval of their text, by code compiled under a borrowed file name, past a refusal (swallowed, in a
# thread). Where the numeric tasks run, sympy is a placeholder: the derivative is never worked out, and
# whatever would turn it into a value (a call with numbers, float(), str()) is refused, in the task or at
# the top level (then every numeric task fails with that line, and the symbolic ones still pass).
TOP_LEVEL_DIFF = """
import sympy as _sp
_t = _sp.Symbol("t")
_D = _sp.diff(_t**3 + 2 * _t, _t)
"""
CARRIED = {
    "lambdify": "_f = _sp.lambdify(_t, _D, 'numpy')\ndef cubic_grad(x):\n    return _f(x)\n",
    "eval of its text": "_f = eval('lambda t: ' + str(_D), {})\ndef cubic_grad(x):\n    return _f(x)\n",
    "subs inside the task": "def cubic_grad(x):\n    return np.vectorize(lambda v: float(_D.subs(_t, v)))(x) if np.ndim(x) else float(_D.subs(_t, x))\n",
    "code under the file's own name": "exec(compile('def cubic_grad(x):\\n    return ' + str(_D).replace('t', 'x'), __file__, 'exec'))\n",
    "code under a library's name": "import os\nexec(compile('def cubic_grad(x):\\n    return ' + str(_D).replace('t', 'x'), os.__file__, 'exec'))\n",
    "a swallowed refusal": "_f = _sp.lambdify(_t, _D, 'numpy')\ndef cubic_grad(x):\n    try:\n        return _f(x)\n    except BaseException:\n        return _f(x)\n",
    "a profile hook switched off": "import sys\n_f = _sp.lambdify(_t, _D, 'numpy')\ndef cubic_grad(x):\n    sys.setprofile(None)\n    return _f(x)\n",
    "a thread": "import threading\n_f = _sp.lambdify(_t, _D, 'numpy')\ndef cubic_grad(x):\n    out = []\n    th = threading.Thread(target=lambda: out.append(_f(x)))\n    th.start(); th.join()\n    return out[0]\n",
    "a raw _thread": "import _thread, time\n_f = _sp.lambdify(_t, _D, 'numpy')\ndef cubic_grad(x):\n    out = []\n    _thread.start_new_thread(lambda: out.append(_f(x)), ())\n    while not out:\n        time.sleep(0.001)\n    return out[0]\n",
    "code under NumPy's name": "exec(compile('def cubic_grad(x):\\n    return ' + str(_D).replace('t', 'x'), np.__file__, 'exec'))\n",
    "code under a frozen module's name": "exec(compile('def cubic_grad(x):\\n    return ' + str(_D).replace('t', 'x'), '<frozen os>', 'exec'))\n",
    "code run by importlib's own frame": (
        "import os, importlib._bootstrap as _boot\n"
        "_boot._call_with_frames_removed(exec, compile('def cubic_grad(x):\\n    return ' + str(_D).replace('t', 'x'), os.__file__, 'exec'), globals())\n"
    ),
    "a bytecode file imported under NumPy's name": (
        "import importlib.machinery, importlib.util, marshal, tempfile\n"
        "_pyc = tempfile.mkdtemp() + '/derived.pyc'\n"
        "with open(_pyc, 'wb') as _fh:\n"
        "    _fh.write(importlib.util.MAGIC_NUMBER + bytes(12) + marshal.dumps(compile('def cubic_grad(x):\\n    return ' + str(_D).replace('t', 'x'), np.__file__, 'exec')))\n"
        "_spec = importlib.util.spec_from_loader('derived', importlib.machinery.SourcelessFileLoader('derived', _pyc))\n"
        "_module = importlib.util.module_from_spec(_spec)\n_spec.loader.exec_module(_module)\ncubic_grad = _module.cubic_grad\n"
    ),
    "a numeric task named as a symbolic one": "_f = _sp.lambdify(_t, _D, 'numpy')\ndef cubic_grad(x):\n    return _f(x)\ncubic_grad.__qualname__ = 'chain_rule_symbolic'\n",
    "the real sympy imported past the placeholder": (
        "import sys\nsys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != 'Absent']\nsys.modules.pop('sympy')\n"
        "import sympy as _real\n_f = _real.lambdify(_t, _real.diff(_real.Symbol('t')**3 + 2 * _real.Symbol('t')), 'numpy')\n"
        "def cubic_grad(x):\n    return _f(x)\n"
    ),
}


def assert_by_hand(failed: dict[str, str], task: str) -> None:
    """The task scores nothing, nor does any other numeric task that fails, and each says why: by hand."""
    assert wrong_everywhere(task) <= set(failed) <= NUMERIC_CHECKS, failed
    for message in failed.values():
        assert NO_SYMPY in message and message.splitlines()[0].endswith(BY_HAND), message


@pytest.mark.parametrize("route", CARRIED)
def test_a_derivative_sympy_took_elsewhere_cannot_answer_a_numeric_task(submission, route):
    source = overriding(TOP_LEVEL_DIFF + CARRIED[route])
    if route == "the real sympy imported past the placeholder":
        # There is no real sympy where the numeric tasks run: the file does not load there at all.
        failed = failures(grade(submission, source))
        assert set(failed) == NUMERIC_CHECKS and all("No module named 'sympy'" in m for m in failed.values()), failed
        return
    assert_by_hand(failures(grade(submission, source)), "cubic_grad")


def test_a_thread_left_running_beside_the_numeric_tasks_answers_nothing(submission):
    """A worker thread, started by the top level, that calls the lambdified derivative for the task and
    swallows each refusal to keep serving: refused there all the same, and the task waiting for its
    answer is told at once, not when its time runs out."""
    worker = (
        "import queue, threading\n_f = _sp.lambdify(_t, _D, 'numpy')\n_asked, _told = queue.Queue(), queue.Queue()\n"
        "def _serve():\n    while True:\n        x = _asked.get()\n        try:\n            _told.put(_f(x))\n"
        "        except BaseException:\n            pass\n"
        "threading.Thread(target=_serve, daemon=True).start()\n"
        "def cubic_grad(x):\n    _asked.put(x)\n    return _told.get()\n"
    )
    assert_by_hand(failures(grade(submission, overriding(TOP_LEVEL_DIFF + worker))), "cubic_grad")


def test_the_jail_reached_by_frame_introspection_gives_sympy_back_to_no_task(submission):
    """sys._getframe(0).f_back reaches the jail's own objects (its Server, the placeholders' guard) and may
    change them: nothing there turns sympy back on, because the numeric tasks' process has none."""
    walker = (
        "import sys\n_f = _sp.lambdify(_t, _D, 'numpy')\n"
        "def cubic_grad(x):\n    frame = sys._getframe(0).f_back\n    while frame is not None:\n"
        "        for value in list(frame.f_locals.values()):\n            guard = getattr(value, 'guard', None)\n"
        "            if guard is not None:\n                guard.in_task, guard.refusal = False, None\n"
        "        frame = frame.f_back\n    return _f(x)\n"
    )
    assert_by_hand(failures(grade(submission, overriding(TOP_LEVEL_DIFF + walker))), "cubic_grad")


# sympy differentiates without an evaluated Derivative: a polynomial's coefficients, one function's
# own derivative rule, a series coefficient, a limit of the difference quotient. None of it exists
# where the numeric tasks run, at the top level (then lambdify in the task) or inside the task.
WITHOUT_A_DERIVATIVE = {  # route -> (the task, sympy's derivative for it)
    "Poly.diff": ("cubic_grad", "_sp.Poly(_t**3 + 2 * _t, _t).diff(_t).as_expr()"),
    "a polynomial ring's diff": ("cubic_grad", "_sp.ring('t', _sp.ZZ)[0].from_list([1, 0, 2, 0]).diff(0).as_expr(_t)"),
    "the dense polynomials' dup_diff": ("cubic_grad", "_sp.Poly(__import__('sympy.polys.densetools').polys.densetools.dup_diff([1, 0, 2, 0], 1, _sp.ZZ), _t).as_expr()"),
    "a series coefficient": ("cubic_grad", "(_t**3 + 2 * _t).subs(_t, _t + _sp.Symbol('h')).series(_sp.Symbol('h'), 0, 2).removeO().coeff(_sp.Symbol('h'))"),
    "a limit of the difference quotient": ("cubic_grad", "_sp.limit(((_t + _sp.Symbol('h'))**3 + 2 * (_t + _sp.Symbol('h')) - _t**3 - 2 * _t) / _sp.Symbol('h'), _sp.Symbol('h'), 0)"),
    "sin's fdiff": ("sin_square_grad", "_sp.sin(_t**2 + 1).fdiff() * 2 * _t"),
}


@pytest.mark.parametrize("where", ["at the top level", "in the task"])
@pytest.mark.parametrize("route", WITHOUT_A_DERIVATIVE)
def test_sympy_differentiating_without_a_derivative_object_answers_no_numeric_task(submission, route, where):
    task, derivative = WITHOUT_A_DERIVATIVE[route]
    if where == "at the top level":
        derived = f"import sympy as _sp\n_t = _sp.Symbol('t')\n_f = _sp.lambdify(_t, {derivative}, 'numpy')\ndef {task}(x):\n    return _f(x)\n"
    else:
        derived = (
            "import functools\n@functools.cache\ndef _derived():\n    import sympy as _sp\n    _t = _sp.Symbol('t')\n"
            f"    return _sp.lambdify(_t, {derivative}, 'numpy')\ndef {task}(x):\n    return _derived()(x)\n"
        )
    failed = failures(grade(submission, overriding(derived)))
    assert set(failed) == wrong_everywhere(task), failed
    for message in failed.values():  # refused where sympy's code would first be given numbers: that line
        assert f"in {task}(): {NO_SYMPY}" in message and message.splitlines()[0].endswith(f"cannot be called with values{BY_HAND}"), message


def test_sympy_at_the_top_level_for_symbolic_answers_and_numpy_for_numeric_ones_passes(submission):
    fair = overriding(
        """
        import sympy as _sp
        from sympy import *
        _x = _sp.Symbol("x")
        _a, _b = symbols("a b")
        _SYMBOLIC = _sp.diff(_sp.sin(_x**2 + 1), _x)
        _CHAIN = diff(Function("f")(Function("g")(_x)), _x) * _a / _a

        def sin_square_grad_symbolic():
            return _SYMBOLIC

        def chain_rule_symbolic():
            f, g = _sp.Function("f"), _sp.Function("g")
            return _sp.diff(f(g(_x)), _x)
        """
    )
    assert failures(grade(submission, fair)) == {}


def test_a_top_level_that_needs_sympys_answer_fails_the_numeric_tasks_only(submission):
    """A check or a print of a sympy result at the top level cannot run where sympy does not exist."""
    checked = overriding(
        """
        import sympy as _sp
        _x = _sp.Symbol("x")
        assert _sp.simplify(_sp.diff(_sp.sin(_x**2 + 1), _x) - 2 * _x * _sp.cos(_x**2 + 1)) == 0
        """
    )
    failed = failures(grade(submission, checked))
    assert set(failed) == NUMERIC_CHECKS, failed
    line = len(solution_source(KATA).splitlines()) + 6
    for message in failed.values():
        assert message.endswith(
            f"chain_rule.py, line {line} (`assert _sp.simplify(_sp.diff(_sp.sin(_x**2 + 1), _x) - 2 * _x * _sp.cos(_x**2 + 1)) == 0`):"
            f" {NO_SYMPY}a sympy expression has no truth value{BY_HAND}"
        ), message


def test_the_pristine_stub_fails_every_check_as_not_implemented(submission):
    stub = registry.get(KATA).pristine_path.read_text()
    failed = failures(grade(submission, stub))
    assert set(failed) == ALL_CHECKS
    for name, message in failed.items():
        match = re.fullmatch(r"(\w+)\(\) is not implemented yet: write it in \S+chain_rule.py \(line \d+ raises NotImplementedError\)\.", message)
        assert match and match[1] in name, (name, message)  # one line, naming the function the check calls


def test_a_forgotten_inner_derivative_is_named(submission):
    verdicts = grade(submission, overriding("def sin_square_grad(x):\n    return np.cos(x**2 + 1)\n"))
    failed = failures(verdicts)
    assert set(failed) == wrong_everywhere("sin_square_grad")
    # Shrunk to x = 0, where the answer is 0 and the outer derivative alone is cos(1).
    assert failed["test_sin_square_grad_on_floats"].splitlines() == [
        "sin_square_grad(0.0) is 0.5403023059, but torch gives 0 (error 0.54).",
        diagnosis("inner_forgotten"),
    ]
    # On arrays: the sentence, the likely mistake, the numbers (x, yours, torch's), the smallest example.
    lines = failed["test_sin_square_grad_on_arrays"].splitlines()
    assert re.fullmatch(r"sin_square_grad\(x\) disagrees with torch at \d+ of \d+ points\.", lines[0]), lines[0]
    assert lines[1] == diagnosis("inner_forgotten")
    example = lines.index("Smallest failing example:")
    assert lines.index("    x                yours              torch") < example
    assert lines[example + 1].startswith("x = np.array([")


def test_math_cos_on_an_array_is_told_to_use_np_cos(submission):
    source = overriding(
        """
        import math

        def sin_square_grad(x):
            return 2 * x * math.cos(x**2 + 1)
        """
    )
    failed = failures(grade(submission, source))
    # floats are fine with math.cos; np.longdouble points are an array too
    assert set(failed) == {"test_sin_square_grad_on_arrays", "test_exact_in_extended_precision[sin_square_grad]"}
    message = failed["test_sin_square_grad_on_arrays"]
    assert message.startswith("sin_square_grad(x) raised TypeError for an array x of shape (1,):")
    assert message.splitlines()[1] == diagnosis("math_on_arrays")  # which says: np.sin, np.cos, ... use those
    assert "return 2 * x * math.cos(x**2 + 1)" in message  # their line, so they know where
    assert "Traceback" not in message


def test_one_float_for_a_whole_array_is_refused(submission):
    failed = failures(grade(submission, overriding("def cubic_grad(x):\n    return np.sum(3 * x**2 + 2)\n")))
    # The extended-precision check gives x as an array too: no digits to judge until it is answered entry by entry.
    assert set(failed) == {"test_cubic_grad_on_arrays", "test_exact_in_extended_precision[cubic_grad]"}
    assert "(this check counts once it agrees with torch) is a" in failed["test_exact_in_extended_precision[cubic_grad]"]
    message = failed["test_cubic_grad_on_arrays"]
    assert message.startswith("cubic_grad(x) is a float64")
    assert "but x is an array of shape (1,): return one value per entry of x" in message
    assert "a sum, float() or .item() turns the array into one number" in message


def test_a_missing_link_in_the_nested_chain_is_named(submission):
    source = overriding("def nested_grad(x):\n    return 2 * np.tanh(3 * x + 1) * (1 - np.tanh(3 * x + 1) ** 2)\n")
    failed = failures(grade(submission, source))
    assert set(failed) == wrong_everywhere("nested_grad")
    assert failed["test_nested_grad_on_floats"].startswith("nested_grad(0.0) is 0.6397000084, but torch gives 1.919100025")
    assert failed["test_nested_grad_on_floats"].splitlines()[1] == diagnosis("nested_missing_inner")


def test_compose_grad_with_the_outer_derivative_at_x_is_named(submission):
    source = overriding("def compose_grad(f_grad, g, g_grad):\n    return lambda x: f_grad(x) * g_grad(x)\n")
    failed = failures(grade(submission, source))
    assert set(failed) == {"test_compose_grad_matches_torch"}
    message = failed["test_compose_grad_matches_torch"]
    assert message.startswith("compose_grad(f_grad, g, g_grad)(x), the derivative of ")
    assert "disagrees with torch" in message
    assert message.splitlines()[1] == diagnosis("compose_outer_at_x")
    # The example says which f and g, and what the learner's function was given.
    assert "f(t) = " in message and "f_grad(t) = " in message and "g_grad(x) = " in message


def test_compose_grad_must_return_a_function(submission):
    source = overriding("def compose_grad(f_grad, g, g_grad):\n    def grad(x):\n        return f_grad(g(x)) * g_grad(x)\n")
    failed = failures(grade(submission, source))
    assert failed["test_compose_grad_matches_torch"].splitlines()[:2] == [
        "compose_grad(f_grad, g, g_grad) should return a function of x (a def inside it, or a lambda), but it returned None.",
        diagnosis("compose_not_a_function"),
    ]


def test_a_wrong_symbolic_derivative_fails_with_values_and_proof(submission):
    source = overriding(
        """
        def sin_square_grad_symbolic():
            import sympy
            x = sympy.Symbol("x")
            return sympy.cos(x**2 + 1)
        """
    )
    failed = failures(grade(submission, source))
    assert set(failed) == {"test_sin_square_grad_symbolic_values", "test_sin_square_grad_symbolic_is_exact"}
    values = failed["test_sin_square_grad_symbolic_values"].splitlines()
    # The numeric answer's slips, recognised in the symbolic one from its values at the points shown.
    assert values[0] == "sin_square_grad_symbolic() = cos(x**2 + 1) disagrees with torch at 12 of 13 points."
    assert values[1] == diagnosis("inner_forgotten")
    assert "    -3               -0.8390715291      5.034429174" in values  # x, yours, torch's
    assert failed["test_sin_square_grad_symbolic_is_exact"] == (
        "sin_square_grad_symbolic() is cos(x**2 + 1), which is not exactly d/dx sin(x**2 + 1):"
        " sympy.simplify(yours - the derivative) is (1 - 2*x)*cos(x**2 + 1), not 0.\n" + diagnosis("inner_forgotten")
    )


def test_an_expression_too_large_to_print_is_told_in_a_sentence(submission):
    """Two factors the codec lets through multiply, once sympy evaluates, into an integer Python will not print."""
    source = overriding(
        """
        def chain_rule_symbolic():
            import sympy
            return sympy.Mul(sympy.Integer(10**4000), sympy.Integer(10**4000), sympy.Symbol("x"), evaluate=False)
        """
    )
    failed = failures(grade(submission, source))
    assert set(failed) == {"test_chain_rule_symbolic_is_outer_times_inner", "test_chain_rule_symbolic_with_concrete_functions"}
    for message in failed.values():
        assert "an expression holding an integer of more than 4300 digits" in message and "Traceback" not in message, message


@pytest.mark.parametrize(
    ("answer", "check", "says"),
    [
        ("'2*x*cos(x**2 + 1)'", "test_sin_square_grad_symbolic_is_exact", "is the string '2*x*cos(x**2 + 1)': return a sympy expression"),
        ("sympy.Derivative(sympy.sin(x**2 + 1), x)", "test_sin_square_grad_symbolic_is_exact", "it still holds an unevaluated Derivative"),
        ("2 * x * sympy.cos(x**2 + y)", "test_sin_square_grad_symbolic_values", "it contains y, but should depend on x only"),
    ],
)
def test_a_symbolic_answer_that_is_not_an_expression_in_x_is_explained(submission, answer, check, says):
    source = overriding(
        f"""
        def sin_square_grad_symbolic():
            import sympy
            x, y = sympy.symbols("x y")
            return {answer}
        """
    )
    assert says in failures(grade(submission, source))[check]


def test_chain_rule_with_the_outer_derivative_at_x_is_caught_by_substitution(submission):
    source = overriding(
        """
        def chain_rule_symbolic():
            import sympy
            x, f, g = sympy.Symbol("x"), sympy.Function("f"), sympy.Function("g")
            return sympy.Derivative(f(x), x) * sympy.Derivative(g(x), x)
        """
    )
    failed = failures(grade(submission, source))
    assert set(failed) == {"test_chain_rule_symbolic_with_concrete_functions"}  # it is a product with g'(x)
    assert failed["test_chain_rule_symbolic_with_concrete_functions"] == (
        "With f(t) = sin(t) and g(x) = x**2, chain_rule_symbolic() = Derivative(f(x), x)*Derivative(g(x), x)"
        " becomes 2*x*cos(x), but d/dx sin(x**2) = 2*x*cos(x**2).\n" + diagnosis("chain_outer_at_x")
    )


def test_chain_rule_left_unevaluated_is_not_outer_times_inner(submission):
    source = overriding(
        """
        def chain_rule_symbolic():
            import sympy
            x, f, g = sympy.Symbol("x"), sympy.Function("f"), sympy.Function("g")
            return sympy.Derivative(f(g(x)), x)
        """
    )
    failed = failures(grade(submission, source))
    # Its value is right once f and g are known; its form is not the chain rule.
    assert set(failed) == {"test_chain_rule_symbolic_is_outer_times_inner"}
    message = failed["test_chain_rule_symbolic_is_outer_times_inner"]
    assert message.startswith("chain_rule_symbolic() is Derivative(f(g(x)), x), which is not a product with the inner function's derivative")
    assert "Likely mistake" not in message  # its values are right: no slip of the catalog explains it


def test_grading_is_deterministic(submission):
    source = overriding("def compose_grad(f_grad, g, g_grad):\n    return lambda x: f_grad(g(x))\n")
    first, again = grade(submission, source), grade(submission, source)
    assert first == again
    assert diagnosis("compose_inner_forgotten") in first["test_compose_grad_matches_torch"]


@pytest.mark.parametrize(
    "code",
    [
        "def sin_square_grad(x):\n    return np.cos(x**2 + 1) * 3 * x\n",  # a 3 from nowhere
        "def nested_grad(x):\n    return 2 * np.tanh(3 * x + 1)\n",  # two links missing at once
        "def compose_grad(f_grad, g, g_grad):\n    return lambda x: f_grad(x)\n",  # two slips at once
        "def sin_square_grad_symbolic():\n    import sympy\n    return sympy.Derivative(sympy.cos(sympy.Symbol('x')), sympy.Symbol('x'))\n",
    ],
    ids=["three_from_nowhere", "two_nested_links", "compose_two_slips", "wrong_derivative_unevaluated"],
)
def test_a_slip_no_catalog_mistake_explains_is_given_no_name(submission, code):
    failed = failures(grade(submission, overriding(code)))
    assert failed and all("Likely mistake" not in message for message in failed.values()), failed


def test_a_family_names_each_slip_with_its_own_formula_whatever_the_other_tasks_do(submission):
    failed = failures(grade(submission, overriding(
        """
        def cubic_grad(x):
            return x**2 + 2

        def sin_square_grad(x):
            return np.cos(x**2 + 1) * x

        def nested_grad(x):
            return np.tanh(3 * x + 1) * (1 - np.tanh(3 * x + 1) ** 2) * 3
        """
    )))  # fmt: skip
    assert set(failed) == {test for name in ("cubic_grad", "sin_square_grad", "nested_grad") for test in wrong_everywhere(name)}
    said = {name: re.search(r"Likely mistake: (.*)", message).group(1) for name, message in failed.items()}
    # What each shows is its own formula and the slip; why, with --explain.
    without_factor = "the power rule without its factor."
    assert said["test_cubic_grad_on_arrays"] == said["test_cubic_grad_on_floats"] == f"Yours equals x**2 + 2, {without_factor}"
    assert said["test_sin_square_grad_on_floats"] == f"Yours equals cos(x**2 + 1) * x, {without_factor}"
    assert said["test_nested_grad_on_arrays"] == f"Yours equals tanh(3*x + 1) * (1 - tanh(3*x + 1)**2) * 3, {without_factor}"
    power_rule = registry.get(KATA).diagnoses["power_rule_coefficient"]
    assert "so the derivative of {power} is {right}, not {wrong}." in power_rule  # filled per task: x**3, x**2, v**2


def test_a_finite_difference_is_named_with_its_kind_and_step(submission):
    failed = failures(grade(submission, overriding(
        """
        def nested_grad(x):
            h = 1e-6
            return (np.tanh(3 * (x + h) + 1) ** 2 - np.tanh(3 * x + 1) ** 2) / h
        """
    )))  # fmt: skip
    assert set(failed) == wrong_everywhere("nested_grad")
    for message in failed.values():
        assert "Likely mistake: Yours is close to the derivative but off by just what a one-sided finite difference with a step of about 1e-06 leaves" in message


@pytest.mark.parametrize(
    ("stencil", "kind", "told"),
    [
        # Off from torch already in float64 (3e-7): the extended check counts only once it agrees.
        ("(np.sin((x + h) ** 2 + 1) - np.sin((x - h) ** 2 + 1)) / (2 * h)", "central",
         "sin_square_grad(x) on np.longdouble points (this check counts once it agrees with torch) disagrees with torch"),
        ("(-np.sin((x + 2 * h) ** 2 + 1) + 8 * np.sin((x + h) ** 2 + 1) - 8 * np.sin((x - h) ** 2 + 1) + np.sin((x - 2 * h) ** 2 + 1)) / (12 * h)", "five-point",
         "sin_square_grad(x) on np.longdouble points (19 digits) is off from the exact derivative by up to"),
    ],
)  # fmt: skip
def test_a_difference_stencil_is_caught_in_extended_precision_and_named(submission, stencil, kind, told):
    failed = failures(grade(submission, overriding(f"def sin_square_grad(x):\n    h = 1e-4\n    return {stencil}\n")))
    message = failed["test_exact_in_extended_precision[sin_square_grad]"]
    assert message.startswith(told)
    assert f"Likely mistake: Yours is close to the derivative but off by just what a {kind} finite difference" in message


def score(submission, source: str) -> float:
    from harness.grading import runner

    return runner.grade(KATA, submission(KATA, source)).score


def test_the_extended_precision_check_counts_only_for_a_right_answer(submission):
    # The red team's stub (/work/redteam k01_none): None from every numeric task once earned the three
    # extended-precision checks, 1.5 points, for digits it never had.
    stub = solution_source(KATA).replace("def cubic_grad(", "def _cubic_grad(")  # keep the rest right
    stub += "\n\ndef cubic_grad(x):\n    return None\n"
    failed = failures(grade(submission, stub))
    assert set(failed) == {"test_cubic_grad_on_floats", "test_cubic_grad_on_arrays", "test_exact_in_extended_precision[cubic_grad]"}
    assert "(this check counts once it agrees with torch) should be a NumPy array" in failed["test_exact_in_extended_precision[cubic_grad]"]
    assert score(submission, stub) == 13.5 - 1 - 1 - 0.5


def test_a_difference_computed_in_float64_is_no_exact_answer(submission):
    # A stencil that first turns the points into float64 once left extended precision, and with it the
    # check. A 7-point one at h = 1e-3 agrees with torch in float64, so this check is the one it loses.
    code = overriding(
        """
        def nested_grad(x):
            x, h = np.asarray(x, dtype=np.float64), 1e-3
            f = lambda t: np.tanh(3 * t + 1) ** 2
            return (f(x + 3*h) - 9*f(x + 2*h) + 45*f(x + h) - 45*f(x - h) + 9*f(x - 2*h) - f(x - 3*h)) / (60 * h)
        """
    )
    failed = failures(grade(submission, code))
    assert set(failed) == {"test_exact_in_extended_precision[nested_grad]"}
    assert failed["test_exact_in_extended_precision[nested_grad]"].startswith(
        "nested_grad(x) on np.longdouble points but computed in float64, is off from the exact derivative by up to"
    )
    assert score(submission, code) == 13.5 - 0.5


def test_two_numbers_that_differ_are_printed_with_the_digits_that_show_it(submission):
    # 1 part in 1e9 off: ten significant digits would print both as 1.919100025.
    failed = failures(grade(submission, overriding("def nested_grad(x):\n    t = np.tanh(3 * x + 1)\n    return 6 * t * (1 - t**2) * (1 + 1e-9)\n")))
    found = re.match(r"nested_grad\(0\.0\) is (\S+), but torch gives (\S+) \(error", failed["test_nested_grad_on_floats"])
    assert found and found[1] != found[2] and found[2].startswith("1.919100025"), failed["test_nested_grad_on_floats"]


# --- the oracle's own data -----------------------------------------------------------------------
@pytest.mark.parametrize("name", list(oracle.ELEMENTARY))
def test_the_derivatives_given_to_compose_grad_match_torch_and_sympy(name):
    import sympy

    e = oracle.ELEMENTARY[name]
    x = np.linspace(*tol.COMPOSE_RANGE, 101)
    by_torch = oracle.derivative(lambda t: e.value(t, torch), x)
    np.testing.assert_allclose(e.numpy_grad()(x), by_torch, rtol=1e-13, atol=1e-15)
    s = sympy.Symbol("x")
    assert sympy.simplify(sympy.diff(e.value(s, sympy), s) - e.grad(s, sympy)) == 0


def test_messages_write_compositions_with_the_parentheses_they_need():
    square, cube, sin, tanh = (oracle.ELEMENTARY[n] for n in ("square", "cube", "sin", "tanh"))
    assert square.text(cube.text("x")) == "(x**3)**2"
    assert square.text(sin.text("x")) == "sin(x)**2"
    assert sin.text(cube.text("x")) == "sin(x**3)"
    assert tanh.grad_text(square.text("x")) == "1 - tanh(x**2)**2"
    assert cube.grad_text(square.text("x")) == "3*(x**2)**2"


def test_every_composition_is_within_tolerance_with_a_wide_margin():
    x = np.linspace(*tol.COMPOSE_RANGE, 2001)
    for f in oracle.ELEMENTARY.values():
        for g in oracle.ELEMENTARY.values():
            ours = f.numpy_grad()(g.numpy()(x)) * g.numpy_grad()(x)
            torch_says = oracle.composition_derivative(f, g, x)
            allowed = tol.CHAIN_ATOL + tol.CHAIN_RTOL * np.abs(torch_says)
            assert (np.abs(ours - torch_says) / allowed).max() < 0.1, f.text(g.text("x"))


def test_a_function_passed_where_x_values_belong_is_said_in_words(submission):
    """f_grad(g) instead of f_grad(g(x)): a sentence naming f_grad, not NumPy's ufunc loop error."""
    source = overriding("""
        def compose_grad(f_grad, g, g_grad):
            return lambda x: f_grad(g) * g_grad(x)
    """)
    message = failures(grade(submission, source))["test_compose_grad_matches_torch"]
    assert "f_grad() takes x values (a number or an array), but it was given a function, not values of x" in message
    assert "ufunc" not in message
