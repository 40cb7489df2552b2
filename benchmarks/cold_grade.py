"""Benchmark: a cold `pytest katas/02_backprop --impl solutions` against the imports it cannot avoid.

Prints, measured in the same run and interleaved so machine noise hits both alike: the median wall
time of the cold grade, of `python -c "import torch, numpy, hypothesis, pytest"`, and their ratio
(goal: <= 1.3, i.e. grading adds under a third on top of the imports).

    python benchmarks/cold_grade.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRADE = [sys.executable, "-m", "pytest", "katas/02_backprop", "--impl", "solutions", "-q"]
IMPORTS = [sys.executable, "-c", "import torch, numpy, hypothesis, pytest"]


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    timed(IMPORTS)  # the first run of anything reads files from disk; don't count it
    grade, imports = [], []
    for _ in range(args.runs):
        grade.append(timed(GRADE))
        imports.append(timed(IMPORTS))
    g, i = statistics.median(grade), statistics.median(imports)
    print(f"cold `pytest katas/02_backprop --impl solutions`: median {g:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in grade)})")
    print(f"`python -c \"import torch, numpy, hypothesis, pytest\"`: median {i:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in imports)})")
    print(f"ratio {g / i:.2f}  (goal <= 1.30)")


if __name__ == "__main__":
    main()
