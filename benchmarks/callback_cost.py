"""Benchmark: what kata 05's callbacks cost (the learner's code calling f, loss and backward, which live in the grader).

Kata 05 hands the learner's functions callables from the grader (f, analytic_grad, loss,
backward): each call from the learner's jailed process is a round trip back to the grader. Times,
on the reference solution: one callback, numerical_grad on x of 1, 12 and 48 entries (2 calls of f
per entry), grad_check on 12 entries, and find_wrong_gradient on a 3-layer planted network (the
spec's largest); then one grade of kata 05 with runner.grade. Prints the figures; asserts nothing.

    python benchmarks/callback_cost.py [--repeat 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from harness.grading import registry, runner  # noqa: E402
from harness.grading.learner import load  # noqa: E402
from harness.jail import spawn  # noqa: E402
from harness.packs.gradient_check import oracle  # noqa: E402
from harness.packs.gradient_check.functions import Smooth  # noqa: E402
from harness.packs.gradient_check.network import Handed, Plant, draw_network  # noqa: E402

KATA = "05_gradient_check"


def timed(action, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def smooth(size: int) -> tuple[Smooth, np.ndarray]:
    rng = np.random.default_rng(size)
    f = Smooth((size,), ("sin", "tanh"), np.array([0.7, -0.4]), rng.uniform(-1.5, 1.5, size=(2, size)), np.array([0.1, 0.2]))
    return f, rng.uniform(-2, 2, size=size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    print(f"learner code runs in: {spawn.isolation().describe()}")
    module = load(registry.get(KATA).solution_path, callables=registry.get(KATA).callables)
    try:
        for size in (1, 12, 48):
            f, x = smooth(size)
            seconds = timed(lambda: module.numerical_grad(f.fresh(), x.copy()), args.repeat)
            print(f"numerical_grad, {size:>2} entries ({2 * size:>2} callbacks): {seconds * 1e3:6.2f} ms,"
                  f" {seconds / (2 * size) * 1e6:5.0f} us per callback")  # fmt: skip
        f, x = smooth(12)
        seconds = timed(lambda: module.grad_check(f.fresh(), lambda z: oracle.smooth_grad(f, z), x.copy()), args.repeat)
        print(f"grad_check, 12 entries: {seconds * 1e3:.2f} ms")
        plant = Plant("sign", "b3")
        network = draw_network(np.random.default_rng(0), 3, 8, plant)
        calls = []

        def find():
            handed = Handed(network, plant)
            module.find_wrong_gradient(handed.loss, handed.backward, {k: v.copy() for k, v in network.params.items()})
            calls.append(len(handed.calls))

        seconds = timed(find, args.repeat)
        print(f"find_wrong_gradient, 3 layers ({calls[-1]} callbacks with the params dict): {seconds * 1e3:.2f} ms,"
              f" {seconds / calls[-1] * 1e6:.0f} us per callback")  # fmt: skip
    finally:
        module.process.close()
    start = time.perf_counter()
    result = runner.grade(KATA, ROOT / "solutions")
    print(f"one grade of {KATA} in this process (20 examples per check, 8 checks): {time.perf_counter() - start:.2f} s,"
          f" {result.score:g}/{result.max_score:g}")  # fmt: skip


if __name__ == "__main__":
    main()
