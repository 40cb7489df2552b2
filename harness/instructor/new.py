"""`kata new ID MODULE`: scaffold a kata pack, its prompt and its reference, green under `kata verify`.

The scaffold is a small working kata (the gradient of sum(x**2), checked against torch) so that an
author starts from a pack that passes every lint and then replaces each part: the prompt, the
stub, the reference, the oracle, the spec, the hints, then mistakes and their diagnoses.
"""

from __future__ import annotations

import re
from pathlib import Path

from harness.grading import registry

ID_PATTERN = re.compile(r"\d\d_[a-z][a-z0-9_]*")


class NewKataError(ValueError):
    """The id or module cannot be used; the message says why."""


def files(kata_id: str, module: str) -> dict[Path, str]:
    """Every file of the new kata, by path."""
    pack = registry.PACKS_DIR / module
    fill = {"id": kata_id, "module": module}
    return {
        pack / "__init__.py": f'"""Kata pack {kata_id}: its spec, torch oracle, diagnoses, stub, catalog and variants."""\n',
        pack / "kata.toml": KATA_TOML.format(**fill),
        pack / "spec.py": SPEC.format(**fill),
        pack / "oracle.py": ORACLE.format(**fill),
        pack / "stub" / f"{module}.py": STUB.format(**fill),
        pack / "catalog.toml": CATALOG.format(**fill),
        registry.WORKSPACE / kata_id / "README.md": PROMPT.format(**fill),
        registry.REPO_ROOT / "solutions" / kata_id / f"{module}.py": REFERENCE.format(**fill),
    }


def scaffold(kata_id: str, module: str) -> list[Path]:
    """Write the new kata's files; nothing is overwritten (an existing id, module or file is refused)."""
    if not ID_PATTERN.fullmatch(kata_id):
        raise NewKataError(f"{kata_id!r} is not a kata id: two digits, an underscore, then lower-case words (04_softmax_ce)")
    if not module.isidentifier() or module != module.lower():
        raise NewKataError(f"{module!r} is not a module name: lower-case letters, digits and underscores (softmax_ce)")
    if any(k.id == kata_id for k in registry.katas()):
        raise NewKataError(f"there is a kata {kata_id} already")
    wanted = files(kata_id, module)
    existing = [path for path in wanted if path.exists()] + [registry.PACKS_DIR / module] * (registry.PACKS_DIR / module).exists()
    if existing:
        raise NewKataError(f"{registry.shown_path(existing[0])} exists already: pick another id or module")
    for path, text in wanted.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return list(wanted)


KATA_TOML = '''\
# Kata {id}: its entry in the registry (harness/grading/registry.py reads every pack's kata.toml).
#   id       folder name under katas/ and solutions/; module: the learner's file there, without .py
#   minutes  the time budget an interviewer would give;  hints: a few general ones, in order
#   [task_hints] per stub function: a nudge, the concept, then the shape of the formula (it says
#                it reveals the answer); `kata hint` picks the first failing function's next one
#   [weights]    points per spec test (by function name) for partial credit; unlisted tests weigh 1
#   [diagnoses]  what the learner reads when their numbers match a mistake of catalog.toml, by its id
#   picture  optional: the module `kata draw {id}` calls (see harness/pictures/__init__.py)
#   The pack's optional questions.toml holds the kata's own mock-interview follow-ups ([[question]]).

id = "{id}"
title = "TODO: the question, as an interviewer asks it"
module = "{module}"
minutes = 20
hints = [
    "TODO: the gentlest hint first: what to look at, not what to write.",
]

[task_hints]
grad_sum_of_squares = [
    "TODO: a nudge: what to look at in this function.",
    "TODO: the concept it needs.",
    "This gives the answer away: TODO, the shape of the formula.",
]

[weights]

[diagnoses]
'''

STUB = '''\
"""Kata {id}. The prompt: katas/{id}/README.md. Run `pytest katas/{id}` to grade this file."""

import numpy as np


def grad_sum_of_squares(x: np.ndarray) -> np.ndarray:
    """d/dx sum(x**2), entry by entry. x: (N,) floats; returns (N,)."""
    # TODO: the derivative of each x_i**2
    raise NotImplementedError("grad_sum_of_squares() is not implemented yet")
'''

REFERENCE = '''\
"""Kata {id}: the reference, written to be read after passing."""

import numpy as np


def grad_sum_of_squares(x: np.ndarray) -> np.ndarray:
    """d/dx sum(x**2) = 2x: each x_i appears in one term only."""
    return 2 * x
'''

ORACLE = '''\
"""Kata {id}'s oracle: the same computation in torch, float64, with autograd's gradients."""

import numpy as np
import torch


def grad_sum_of_squares(x: np.ndarray) -> np.ndarray:
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    (t**2).sum().backward()
    return t.grad.numpy()
'''

SPEC = '''\
"""Hidden spec for kata {id}: every number against torch autograd in float64 (oracle.py).

`learner` is the learner's module, in its jailed process (harness/jail/): call it like a module.
"""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from harness.grading.checks import example_on_failure, expect_array, expect_close
from harness.packs.{module} import oracle


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 8))
def test_grad_sum_of_squares_matches_torch(learner, seed, n):
    x = np.random.default_rng(seed).normal(size=n)
    with example_on_failure(x):
        got = expect_array(learner.grad_sum_of_squares(x.copy()), what="grad_sum_of_squares(x)", shape=x.shape)
        expect_close(got, oracle.grad_sum_of_squares(x), what="grad_sum_of_squares(x)", rtol=1e-7, atol=1e-10)
'''

CATALOG = '''\
# Kata {id}: classic mistakes and correct variants, each made from solutions/{id}/{module}.py.
# Format: harness/instructor/catalog.py. Proven by `kata verify {id}`: every mistake fails the spec
# and is named by its id (its words are in kata.toml [diagnoses]); every variant passes unnamed.
#
# [[mistake]]
# id = "forgot_the_two"
# title = "the power rule's factor left out"
# replace = [["return 2 * x", "return x"]]
#
# [[variant]]
# id = "loop"
# title = "one entry at a time"
# file = "loop.py"   # in this pack's variants/
'''

PROMPT = '''\
# {id}: TODO the title

TODO: the question as an interviewer would ask it, with the time budget, the functions to write
(their signatures and shapes) and how to run the checks:

    pytest katas/{id}
'''
