"""Benchmark: what the boundary between the grader and the learner's jailed process costs.

Times, on the reference solutions: starting a learner process and loading the file (fresh,
started ahead as watch mode and pytest do, and forked from `kata batch`'s zygote), one request
round trip (an attribute read, a call with arrays, an operator on kata 03's Value), and a whole
grade of each kata in this process with
runner.grade, of which the requests are a part. Prints the figures; asserts nothing.

    python benchmarks/boundary_cost.py [--repeat 500]
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

from harness.grading import registry  # noqa: E402
from harness.grading import runner  # noqa: E402
from harness.jail import proxy, spawn, zygote  # noqa: E402
from harness.grading.learner import load  # noqa: E402


def timed(action, repeat: int) -> float:
    """Median seconds of one action over `repeat` runs."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=500)
    args = parser.parse_args()
    print(f"learner code runs in: {spawn.isolation().describe()}")

    kata = registry.get("02_backprop")
    backprop = kata.solution_path

    def load_backprop():
        return load(backprop, callables=kata.callables)

    fresh = timed(lambda: load_backprop().process.close(), 10)

    def ahead():
        proxy.prestart()
        time.sleep(0.5)  # what a save gives it: the process boots while the learner types
        start = time.perf_counter()
        module = load_backprop()
        elapsed = time.perf_counter() - start
        module.process.close()
        return elapsed

    started_ahead = statistics.median(ahead() for _ in range(10))
    print(f"start a learner process and load the file: fresh {fresh * 1e3:.1f} ms, started ahead {started_ahead * 1e3:.1f} ms")
    with zygote.running() as forking:  # `kata batch`'s way, where the grader is root with bubblewrap
        if forking:
            forked = timed(lambda: load_backprop().process.close(), 10)
            print(f"  forked from a batch's zygote (harness/jail/zygote.py): {forked * 1e3:.1f} ms")

    learner = load_backprop()
    process = learner.process.numeric
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 2)), (rng.random((64, 1)) > 0.5).astype(float)
    params = learner.init_params(np.random.default_rng(0))
    _, cache = learner.forward(X, params)
    forward, backward = learner.forward, learner.backward
    rows = [
        ("read a module attribute", lambda: process.request("getattr", process.module_remote, "forward", what="reading forward")),
        ("forward(X (64, 2), params)", lambda: forward(X, params)),
        ("backward(X, y, params, cache)", lambda: backward(X, y, params, cache)),
    ]
    for what, action in rows:
        print(f"  {what:<34} {timed(action, args.repeat) * 1e6:8.0f} us per request")
    learner.process.close()

    graph = load(registry.get("03_graph").solution_path, callables=registry.get("03_graph").callables)
    a, b = graph.Value(0.5), graph.Value(-1.5)
    for what, action in [("Value + Value", lambda: a + b), ("read .data", lambda: a.data)]:
        print(f"  {what:<34} {timed(action, args.repeat) * 1e6:8.0f} us per request")
    graph.process.close()

    for kata in registry.katas():
        runner.grade(kata.id, ROOT / "solutions")  # first-call costs paid
        seconds = timed(lambda k=kata: runner.grade(k.id, ROOT / "solutions"), 3)
        print(f"runner.grade({kata.id}) on the reference, in this process: {seconds:.2f} s")


if __name__ == "__main__":
    main()
