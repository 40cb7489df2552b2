"""sympy in a learner process that has no sympy: a placeholder module whose every use builds nothing.

Only a kata's symbolic tasks run where sympy is (their own process, harness/jail/proxy.py); every
other learner process has no sympy or mpmath on its filesystem (harness/jail/spawn.py), and in it
`import sympy`, by any spelling, gives a placeholder module instead (Absent, a finder the child puts
ahead of the path finder on sys.meta_path). So a file whose top level builds sympy expressions for its symbolic answers
still loads there: an attribute, a call, arithmetic, a comparison or an index of a placeholder is
another placeholder, and `symbols("x y")` is a tuple of two. What would turn one into a value raises
ByHandError instead, anywhere: a number, an array, a truth value, text, a length, an iteration. So
does calling one with anything but names and placeholders while the grader runs a task (not while
the file loads): a lambdified derivative called with numbers. The grader refuses a placeholder a
task gives back (harness/jail/child.py: Server.to_handle).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import re
import signal
import threading
import types

REFUSAL = "{root} is not available to the numeric tasks, so {what}: work the derivative out by hand with NumPy (sympy is for the symbolic tasks)"


class ByHandError(ImportError):
    """A use of a library a by-hand kata forbids: an import of an autodiff library, or a value from a placeholder."""

    def __init__(self, module: str, message: str) -> None:
        super().__init__(message)
        self.module = module


class Guard:
    """What the placeholders of one process report to: whether a task is running, and the first refusal
    during it (kept: the learner's code may catch the raise, or make it in a thread of its own)."""

    def __init__(self) -> None:
        self.in_task = False
        self.refusal: ByHandError | None = None

    def refuse(self, root: str, what: str) -> ByHandError:
        error = ByHandError(root, REFUSAL.format(root=root, what=what))
        if self.in_task:
            self.refusal = self.refusal or error
            if threading.current_thread() is not threading.main_thread():
                # The task may be waiting for this thread's answer, which will never come: its alarm
                # (harness/jail/child.py: Server._expire) ends the wait now, and again while it is swallowed.
                signal.setitimer(signal.ITIMER_REAL, 0.001, 0.1)
        return error


def _values(args) -> bool:
    """Anything among the arguments (inside lists, tuples and dicts too) other than names and placeholders."""
    for arg in args:
        if isinstance(arg, (list, tuple)):
            if _values(arg):
                return True
        elif isinstance(arg, dict):
            if _values(arg.values()):
                return True
        elif not isinstance(arg, (str, Placeholder)):
            return True
    return False


class Placeholder:
    """One name of an absent library, or what was built from it: every use is another placeholder."""

    __slots__ = ("_guard", "_root", "_text", "_named")

    def __init__(self, guard: Guard, root: str, text: str, named: bool = False) -> None:
        for slot, value in zip(Placeholder.__slots__, (guard, root, text, named)):
            object.__setattr__(self, slot, value)

    def _next(self) -> Placeholder:
        """What an operation on this one makes, as messages call it."""
        return Placeholder(self._guard, self._root, f"a {self._root} expression")

    def _refused(self, what: str):
        raise self._guard.refuse(self._root, f"{self._text} {what}")

    def __getattr__(self, name: str) -> Placeholder:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # probes (copy, pickle, NumPy's array interface) find nothing
        if self._named:  # sympy.polys.densetools.dup_diff
            return Placeholder(self._guard, self._root, f"{self._text}.{name}", named=True)
        return self._next()

    def __setattr__(self, name: str, value) -> None:
        pass

    def __setitem__(self, key, value) -> None:
        pass

    def __getitem__(self, key) -> Placeholder:
        return self._next()

    def __call__(self, *args, **kwargs):
        if self._guard.in_task and _values([args, kwargs]):
            self._refused("cannot be called with values")
        if self._text.rpartition(".")[2] in ("symbols", "var") and args and isinstance(args[0], str):
            names = _symbol_names(args[0])  # sympy gives a tuple for several names, a range or a trailing comma
            if names is not None and (len(names) != 1 or ":" in args[0] or args[0].rstrip().endswith(",")):
                return tuple(self._next() for _ in names)
        return Placeholder(self._guard, self._root, f"what {self._text}() made" if self._named else self._text)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if self._guard.in_task:
            self._refused(f"cannot go into NumPy's {ufunc.__name__}")
        return self._next()

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        self._refused("has no text")

    def __array__(self, *args, **kwargs):
        self._refused("cannot become an array")

    def __float__(self):
        self._refused("cannot become a float")

    def __complex__(self):
        self._refused("cannot become a complex number")

    def __int__(self):
        self._refused("cannot become an int")

    def __index__(self):
        self._refused("cannot be an index")

    def __bool__(self):
        self._refused("has no truth value")

    def __len__(self):
        self._refused("has no length")

    def __iter__(self):
        self._refused("has no items")

    def __contains__(self, item):
        self._refused("holds nothing")

    def __round__(self, *args):
        self._refused("cannot be rounded")

    def __format__(self, spec):
        self._refused("has no text")

    __str__ = __repr__
    __bytes__ = __trunc__ = __floor__ = __ceil__ = __int__


def _operator(self, *others) -> Placeholder:
    return self._next()


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor", "lshift", "rshift", "divmod"):
    setattr(Placeholder, f"__{_name}__", _operator)
    setattr(Placeholder, f"__r{_name}__", _operator)
for _name in ("lt", "le", "gt", "ge", "eq", "ne", "neg", "pos", "abs", "invert"):
    setattr(Placeholder, f"__{_name}__", _operator)


def _symbol_names(text: str) -> list[str] | None:
    """The names sympy.symbols() makes of `text` ("x y", "x, y", "x0:3", "a:c"), or None if unsure."""
    names = []
    for part in re.split(r"[\s,]+", text.strip()):
        if not part:
            continue
        ranged = re.fullmatch(r"([A-Za-z_]\w*?)?(\d*):(\d+)", part)
        letters = re.fullmatch(r"([a-z]):([a-z])", part)
        if ranged:
            names += [f"{ranged[1] or ''}{i}" for i in range(int(ranged[2] or 0), int(ranged[3]))]
        elif letters:
            names += [chr(c) for c in range(ord(letters[1]), ord(letters[2]) + 1)]
        elif re.fullmatch(r"[A-Za-z_]\w*", part):
            names.append(part)
        else:
            return None
    return names


class PlaceholderModule(types.ModuleType):
    """An absent library, or one of its submodules: a package whose every name is a placeholder."""

    def __init__(self, name: str, guard: Guard, names: list[str]) -> None:
        super().__init__(name)
        self.__path__ = []  # a package: `import sympy.polys.densetools` finds placeholders too
        self.__all__ = list(names)  # `from sympy import *`: sympy's own names, which the grader sent
        self._guard = guard

    def __getattr__(self, name: str) -> Placeholder:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return Placeholder(self._guard, self.__name__.partition(".")[0], f"{self.__name__}.{name}", named=True)


class Absent(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Gives a placeholder module for the libraries absent from this process, by any spelling of import."""

    def __init__(self, guard: Guard, absent: dict[str, list[str]]) -> None:
        self.guard, self.absent = guard, absent  # root -> its names for `from ... import *`

    def find_spec(self, fullname, path=None, target=None):
        root = fullname.partition(".")[0]
        if root not in self.absent:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        return PlaceholderModule(spec.name, self.guard, self.absent.get(spec.name, []))

    def exec_module(self, module) -> None:
        pass
