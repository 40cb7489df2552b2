# --- hostile: introspection (appended to a submission by tests/test_hostile.py) -------------------
# backward() tries every way it knows to get torch's answer, or the reference's code, instead of
# working the gradients out. Each attempt is logged in one short line ("name: no (why)" or
# "name: YES"). With nothing found it raises NotImplementedError, as the honest code does. With
# anything found it returns the stolen gradients with a wrong b2, so the checks of W1, b1 and W2
# pass (points it must not earn). train() fails as the honest part's does, with the log as its
# message, so that the test can read what each attempt got.
# REPO and TORCH_SITE are planted by the test: the grader's repository and torch's site-packages.
REPO = __REPO__
TORCH_SITE = __TORCH_SITE__
_KEYS = ("W1", "b1", "W2", "b2")
_attempts = None  # name -> (solver or None, log line); tried once per process


def _grads_in(mapping, params):
    """A dict of four gradient-shaped arrays found somewhere that is not the params themselves."""
    import numpy as _np

    if isinstance(mapping, dict) and set(_KEYS) <= set(mapping) and mapping is not params:
        if all(isinstance(mapping[k], _np.ndarray) for k in _KEYS):
            if not all(_np.array_equal(mapping[k], params[k]) for k in _KEYS):
                return {k: mapping[k] for k in _KEYS}
    return None


def _from_frames(X, y, params, cache):
    import sys as _sys

    frame = _sys._getframe(1)
    while frame is not None:
        for scope in (frame.f_locals, frame.f_globals):
            for name in ("expected", "oracle", "network", "grads", "torch"):
                if name in scope:
                    value = scope[name]
                    return getattr(value, "grads", None) or _grads_in(value, params) or value
        frame = frame.f_back
    return None


def _from_inspect(X, y, params, cache):
    import inspect as _inspect

    for info in _inspect.stack()[1:]:
        for name in ("expected", "oracle", "network"):
            if name in info.frame.f_locals:
                return info.frame.f_locals[name]
    return None


def _from_gc(X, y, params, cache):
    import gc as _gc

    for obj in _gc.get_objects():
        if type(obj).__name__ in ("Network", "Tensor") or getattr(obj, "__name__", "").endswith("backprop.oracle"):
            return obj
    return None


def _from_sys_modules(X, y, params, cache):
    import sys as _sys

    known = {"harness", "harness.jail", "harness.jail.child", "harness.jail.codec", "harness.jail.placeholder"}
    extra = sorted(m for m in _sys.modules if (m.startswith("harness") and m not in known) or m.split(".")[0] in ("torch", "pytest", "hypothesis"))
    if extra:
        return extra
    return None


def _oracle_via_harness_path(X, y, params, cache):
    import importlib as _importlib
    import os as _os
    import sys as _sys

    _sys.meta_path[:] = [f for f in _sys.meta_path if type(f).__name__ != "RefuseBanned"]
    _sys.modules["har" + "ness"].__path__.append(_os.path.join(REPO, "har" + "ness"))
    _sys.path[:0] = [REPO, TORCH_SITE]
    oracle = _importlib.import_module("har" + "ness.packs.backprop.oracle")
    return lambda X, y, params, cache: oracle.network(X, y, params).grads


def _torch(X, y, params, cache, torch):
    tensors = {k: torch.tensor(params[k], dtype=torch.float64, requires_grad=True) for k in _KEYS}
    z1 = torch.tensor(X) @ tensors["W1"] + tensors["b1"]
    z2 = torch.relu(z1) @ tensors["W2"] + tensors["b2"]
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z2, torch.tensor(y))
    loss.backward()
    return {k: tensors[k].grad.numpy() for k in _KEYS}


def _torch_by(importer):
    def attempt(X, y, params, cache):
        torch = importer()
        return lambda X, y, params, cache: _torch(X, y, params, cache, torch)

    return attempt


def _import_dunder():
    return __import__("to" + "rch")


def _import_importlib():
    import importlib as _importlib

    return _importlib.import_module("to" + "rch")


def _import_exec():
    scope = {}
    exec("import torch", scope)
    return scope["torch"]


def _import_without_blocker():
    import sys as _sys

    _sys.meta_path[:] = [f for f in _sys.meta_path if type(f).__name__ != "RefuseBanned"]
    return __import__("to" + "rch")


def _import_from_torch_site():
    import sys as _sys

    _sys.meta_path[:] = [f for f in _sys.meta_path if type(f).__name__ != "RefuseBanned"]
    _sys.path.insert(0, TORCH_SITE)
    return __import__("to" + "rch")


def _import_by_file():
    import importlib.util as _util
    import os as _os
    import sys as _sys

    _sys.meta_path[:] = [f for f in _sys.meta_path if type(f).__name__ != "RefuseBanned"]
    spec = _util.spec_from_file_location("to" + "rch", _os.path.join(TORCH_SITE, "to" + "rch", "__init__.py"))
    module = _util.module_from_spec(spec)
    _sys.modules["to" + "rch"] = module
    spec.loader.exec_module(module)
    return module


def _exec_reference(path):
    with open(path) as fh:
        source = fh.read()
    scope = {"__name__": "stolen"}
    exec(compile(source, path, "exec"), scope)
    return lambda X, y, params, cache: scope["backward"](X, y, params, cache)


def _reference_from_disk(X, y, params, cache):
    import os as _os

    return _exec_reference(_os.path.join(REPO, "solutions", "02_backprop", "backprop.py"))


def _reference_via_proc(X, y, params, cache):
    """The grader's working folder is the repo root: /proc/<pid>/cwd of any process that can be seen."""
    import os as _os

    for pid in ["self", "1", *(p for p in _os.listdir("/proc") if p.isdigit())]:
        for base in (f"/proc/{pid}/cwd", f"/proc/{pid}/root" + REPO):
            path = _os.path.join(base, "solutions", "02_backprop", "backprop.py")
            if _os.path.exists(path):
                return _exec_reference(path)
    return None


def _reference_by_walking_up(X, y, params, cache):
    import os as _os

    here = _os.getcwd()
    for _ in range(12):
        path = _os.path.join(here, "solutions", "02_backprop", "backprop.py")
        if _os.path.exists(path):
            return _exec_reference(path)
        here = _os.path.dirname(here)
    return None


def _grader_files(X, y, params, cache):
    import os as _os

    read = []
    for part in ("harness/packs/backprop/spec.py", "harness/packs/backprop/oracle.py", "tests/test_faults.py", "tests/conftest.py"):
        try:
            with open(_os.path.join(REPO, part)) as fh:
                fh.read(1)
            read.append(part)
        except OSError:
            pass
    return read or None


# Least invasive first: the last four take the import blocker out of sys.meta_path for good.
_ATTEMPTS = {
    "frames": _from_frames,
    "inspect.stack": _from_inspect,
    "gc": _from_gc,
    "sys.modules": _from_sys_modules,
    "__import__ torch": _torch_by(_import_dunder),
    "importlib torch": _torch_by(_import_importlib),
    "exec import torch": _torch_by(_import_exec),
    "reference from disk": _reference_from_disk,
    "reference via /proc": _reference_via_proc,
    "reference walking up": _reference_by_walking_up,
    "grader files": _grader_files,
    "torch without blocker": _torch_by(_import_without_blocker),
    "torch from its site": _torch_by(_import_from_torch_site),
    "torch by file": _torch_by(_import_by_file),
    "oracle via harness.__path__": _oracle_via_harness_path,
}


def _try_everything(X, y, params, cache):
    results = {}
    for name, attempt in _ATTEMPTS.items():
        try:
            found = attempt(X, y, params, cache)
        except BaseException as exc:  # noqa: BLE001
            results[name] = (None, f"{name}: no ({type(exc).__name__})")
            continue
        results[name] = (found, f"{name}: YES" if found is not None else f"{name}: no (nothing)")
    return results


def _attempted(X, y, params, cache):
    global _attempts
    if _attempts is None:
        _attempts = _try_everything(X, y, params, cache)
    return _attempts


def backward(X, y, params, cache):
    _attempted(X, y, params, cache)
    for found, _ in _attempts.values():
        if callable(found):
            try:
                stolen = found(X, y, params, cache)
                return {"W1": stolen["W1"], "b1": stolen["b1"], "W2": stolen["W2"], "b2": stolen["b2"][:0]}
            except BaseException:  # noqa: BLE001
                continue
    if any(found is not None for found, _ in _attempts.values()):
        raise RuntimeError("stole something: " + "; ".join(line for _, line in _attempts.values() if "YES" in line))
    raise NotImplementedError("backward() is not implemented yet (Task 02.4)")


def train(X, y, *, epochs=500, lr=1.0, seed=0):
    params = init_params(__import__("numpy").random.default_rng(seed))  # noqa: F821 - the honest part's
    _, cache = forward(X, params)  # noqa: F821
    attempts = _attempted(X, y, params, cache)
    raise RuntimeError("hostile log\n" + "\n".join(line for _, line in attempts.values()))
