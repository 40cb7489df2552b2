"""Preloaded once by the grading server (harness/grading/sandbox.py), so every forked grade starts warm.

Importing torch, numpy, hypothesis, pytest, sympy and the specs costs ~3-4 s; a child forked from a
process that already holds them starts grading in milliseconds.
"""

import gc
import importlib

import hypothesis  # noqa: F401
import numpy  # noqa: F401
import pytest  # noqa: F401
import sympy  # noqa: F401  (kata 01's symbolic tests)
import torch

from harness.grading import plugin, registry
from harness.grading import runner  # noqa: F401

# Forked children must not inherit a running OpenMP pool (a fork-after-threads deadlock); the
# specs' tensors are tiny, so one thread is also the fastest.
torch.set_num_threads(1)

for _kata in registry.katas():
    importlib.import_module(_kata.spec_module)

# Everything above is now shared with every forked child. Freezing it keeps the garbage collector
# from walking (and so copying, page by page) those objects in each child: ~25% off a grade.
gc.freeze()
