"""Benchmark: each fault case of tests/test_faults.py graded through one warm Sandbox, as a table.

For every hostile or broken submission of kata 02_backprop (a segfault, os._exit, an infinite loop,
a swallowed time-out, `import torch`, a wrong return value, ...): the status, the score, the first
line of what the learner reads, how many of the spec's checks got a result, and how long the grade
took. The reference solution is graded first as the baseline. Prints figures; asserts nothing
(tests/test_faults.py holds the assertions). The "thread left running" and "process forked" cases
leave a sleeping thread or process that ends by itself within 30 s if the sandbox does not stop it.

    python benchmarks/fault_cases.py [--test-timeout 1] [--kata-timeout 8] [--only SUBSTRING ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.grading import registry  # noqa: E402
from harness.grading.results import KataResult, Status  # noqa: E402
from harness.grading.sandbox import Limits, Sandbox  # noqa: E402

KATA = registry.get("02_backprop")


def first_line(result: KataResult) -> str:
    """What the learner reads first: why the kata could not be graded, else the first failing check."""
    text = result.error or next((t.message for t in result.tests if t.status is not Status.PASS and t.message), None)
    return text.splitlines()[0] if text else "(every check passes)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--test-timeout", type=float, default=1.0, help="per-check limit (default %(default)s s)")
    parser.add_argument("--kata-timeout", type=float, default=8.0, help="per-kata limit (default %(default)s s)")
    parser.add_argument("--only", nargs="*", default=[], metavar="SUBSTRING", help="only the cases whose name holds one of these")
    parser.add_argument("--width", type=int, default=110, help="truncate messages to this many characters")
    args = parser.parse_args()

    # The cases are defined once, beside their assertions. Imported here, not at the top: a forked
    # grading child re-imports this script as __mp_main__ and has no use for them.
    sys.path.insert(0, str(ROOT / "tests"))
    from test_faults import FAULTS

    cases = {"(reference solution)": KATA.solution_path.read_text(), **FAULTS}
    if args.only:
        # The reference stays first: it is the baseline, and its checks are the spec's whole list.
        cases = {name: src for n, (name, src) in enumerate(cases.items()) if n == 0 or any(part in name for part in args.only)}

    sandbox = Sandbox(Limits(test_s=args.test_timeout, kata_s=args.kata_timeout))
    start = time.perf_counter()
    sandbox.warm_up()
    print(f"warm-up (forkserver start, preload, one grade): {time.perf_counter() - start:.2f} s")
    print(f"limits: {args.test_timeout:g} s per check, {args.kata_timeout:g} s per kata; {sandbox.shards} grading children per kata\n")

    rows = []
    checks = 0
    with tempfile.TemporaryDirectory(prefix="kata-faults-") as work:
        for n, (name, source) in enumerate(cases.items()):
            root = Path(work) / f"case{n:02d}"
            target = KATA.learner_file(root)
            target.parent.mkdir(parents=True)
            target.write_text(source)
            start = time.perf_counter()
            result = sandbox.grade(KATA.id, root)
            elapsed = time.perf_counter() - start
            message = first_line(result).replace(str(target), "<file>")
            checks = checks or len(result.tests)  # the reference's count: every check of the spec
            rows.append((name, result.status.value, f"{result.score:g}/{result.max_score:g}", f"{len(result.tests)}/{checks}",
                         f"{elapsed:.2f}", message))  # fmt: skip

    headers = ("case", "status", "score", "checks", "time s", "first line the learner reads")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers[:-1])]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)) + "  " + headers[-1])
    print("  ".join("-" * w for w in widths) + "  " + "-" * len(headers[-1]))
    for row in rows:
        message = row[-1] if len(row[-1]) <= args.width else row[-1][: args.width - 3] + "..."
        print("  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths)) + "  " + message)
    total = sum(float(r[4]) for r in rows)
    print(f"\n{len(rows)} grades in {total:.1f} s. `checks`: how many of the spec's checks got a result;"
          " fewer than all, or a pass for smuggled-in torch, is a harness bug (see tests/test_faults.py).")


if __name__ == "__main__":
    main()
