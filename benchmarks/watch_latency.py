"""Benchmark: median time from a file save to the verdict in `kata watch`, next to a cold `pytest`.

Runs `kata watch 02_backprop` as a real subprocess on a copy of the reference solution, saves the
file N times (a changed comment each time) and times each save until the verdict line appears on
the watcher's output. In the same run it times a cold `pytest katas/02_backprop --impl` on the same
file. Prints the figures; asserts nothing (machines are shared and noisy: compare the ratio).

    python benchmarks/watch_latency.py [--saves 15] [--cold 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.grading import registry  # noqa: E402

VERDICT_PREFIX = "PASS"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--saves", type=int, default=15)
    parser.add_argument("--cold", type=int, default=3)
    args = parser.parse_args()

    kata = registry.get("02_backprop")
    work = Path(tempfile.mkdtemp(prefix="kata-watch-bench-"))
    target = kata.learner_file(work)
    target.parent.mkdir(parents=True)
    shutil.copy(kata.solution_path, target)
    source = target.read_text()
    env = {**os.environ, "KATA_DB": str(work / "progress.sqlite3"), "NO_COLOR": "1"}
    kata_cmd = [str(Path(sys.executable).with_name("kata")), "watch", kata.id, "--impl", str(work)]
    watcher = subprocess.Popen(kata_cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, bufsize=1)
    verdicts: list[float] = []
    ready = threading.Event()

    def read() -> None:
        for line in watcher.stdout:
            if VERDICT_PREFIX in line or "FAIL" in line or "ERROR" in line:
                verdicts.append(time.perf_counter())
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not ready.wait(120):
            sys.exit("the watcher printed no verdict within 120 s")
        latencies = []
        for n in range(args.saves):
            ready.clear()
            before = len(verdicts)
            time.sleep(0.5)  # a save, not a burst: the mtime must move on
            staged = target.with_suffix(".saving")
            staged.write_text(source + f"\n# save {n}\n")
            saved = time.perf_counter()
            os.replace(staged, target)  # one atomic save, as editors do: one change, one verdict
            if not ready.wait(60):
                sys.exit(f"no verdict for save {n} within 60 s")
            latencies.append(verdicts[before] - saved)
    finally:
        watcher.terminate()
        watcher.wait(10)

    cold = []
    for _ in range(args.cold):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pytest", f"katas/{kata.id}", "--impl", str(work), "-q"],
                       cwd=ROOT, env=env, capture_output=True, check=True)  # fmt: skip
        cold.append(time.perf_counter() - start)
    shutil.rmtree(work, ignore_errors=True)

    median = statistics.median(latencies)
    print(f"kata watch 02_backprop, save -> verdict over {len(latencies)} saves:")
    print(f"  median {median:.3f} s   min {min(latencies):.3f} s   max {max(latencies):.3f} s   (goal <= 0.300 s)")
    print(f"cold `pytest katas/02_backprop --impl ...` over {len(cold)} runs: median {statistics.median(cold):.3f} s")
    print(f"  the warm re-grade is {statistics.median(cold) / median:.1f}x faster")


if __name__ == "__main__":
    main()
