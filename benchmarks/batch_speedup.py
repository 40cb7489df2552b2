"""Benchmark: `kata batch` on 100 submissions against one cold `pytest` per submission.

Makes 100 submissions of kata 02_backprop in a temp folder (a mix: correct, a missing 1/N, a
missing ReLU mask, a transposed gradient), grades them all with `kata batch --katas 02_backprop`,
and in the same run grades a sample of them with one cold `pytest katas/02_backprop --impl SUB`
each. Prints both and the speed-up per submission (goal: at least 10x). Where the batch forks its
learner processes from a zygote (root and bubblewrap: harness/jail/zygote.py), it is also run once
without it (KATA_ZYGOTE=off), for the ratio between the two. Asserts nothing.

    python benchmarks/batch_speedup.py [--submissions 100] [--sample 4]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = (ROOT / "solutions" / "02_backprop" / "backprop.py").read_text()
SLIPS = [
    None,
    ("dZ2 = (A2 - y) / n", "dZ2 = A2 - y"),
    ("dZ1 = dA1 * (Z1 > 0)", "dZ1 = dA1"),
    ("dW1 = X.T @ dZ1", "dW1 = (X.T @ dZ1).T"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, default=100)
    parser.add_argument("--sample", type=int, default=4)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kata-batch-bench-"))
    subs = work / "submissions"
    for n in range(args.submissions):
        slip = SLIPS[n % len(SLIPS)]
        source = REFERENCE if slip is None else REFERENCE.replace(*slip)
        target = subs / f"learner{n:03d}" / "02_backprop" / "backprop.py"
        target.parent.mkdir(parents=True)
        target.write_text(source)
    env = {**os.environ, "KATA_DB": str(work / "progress.sqlite3"), "NO_COLOR": "1"}
    kata = str(Path(sys.executable).with_name("kata"))

    def batch(extra_env: dict) -> tuple[float, int]:
        start = time.perf_counter()
        subprocess.run([kata, "batch", str(subs), "--katas", "02_backprop", "--out", str(work / "out")],
                       cwd=ROOT, env={**env, **extra_env}, check=True, capture_output=True)  # fmt: skip
        return time.perf_counter() - start, len((work / "out" / "grades.csv").read_text().splitlines()[1:])

    batch_s, rows = batch({})
    without_s = batch({"KATA_ZYGOTE": "off"})[0] if os.geteuid() == 0 else None

    cold = []
    for n in range(args.sample):
        sub = subs / f"learner{n:03d}"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pytest", "katas/02_backprop", "--impl", str(sub), "-q"],
                       cwd=ROOT, env=env, capture_output=True)  # fmt: skip
        cold.append(time.perf_counter() - start)
    shutil.rmtree(work, ignore_errors=True)

    per_sub = batch_s / args.submissions
    cold_median = statistics.median(cold)
    print(f"kata batch: {args.submissions} submissions ({rows} graded) in {batch_s:.1f} s, {per_sub:.3f} s per submission")
    if without_s is not None:
        print(f"  without the zygote: {without_s:.1f} s, {without_s / args.submissions:.3f} s per submission ({without_s / batch_s:.2f}x the time)")
    print(f"cold pytest per submission: median {cold_median:.2f} s over {len(cold)} ({', '.join(f'{c:.2f}' for c in cold)})")
    print(f"speed-up per submission: {cold_median / per_sub:.1f}x  (goal >= 10x)")


if __name__ == "__main__":
    main()
