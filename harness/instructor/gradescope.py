"""`kata gradescope-package`: the autograder bundle Gradescope runs, so grading scales past one machine.

The zip holds setup.sh (installs Python and this harness with its dependencies, torch pinned to
the 2.13.0 CPU build) and run_autograder (finds each kata's file in /autograder/submission, whether
uploaded as <id>/<module>.py or as a bare <module>.py, and writes /autograder/results/results.json
with `kata grade --format gradescope`). Only regular files are copied for grading: a symbolic link
in the submission is never followed, and the results' top-level output names each one refused. The
harness itself travels in source/. The references and the catalog's variants (solutions/) are left
out: students' code never runs next to them.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

from harness.instructor import batch
from harness.grading import registry

INCLUDE = ("pyproject.toml", "README.md", "conftest.py", "harness", "katas")
# No caches, and no answers: the packs' catalogs, variants and blind corpora are for `kata verify` in a checkout.
EXCLUDE_PARTS = {"__pycache__", ".pytest_cache", ".hypothesis", "variants", "catalog.toml", "blind", "blind.toml"}

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image.
set -euo pipefail
apt-get update -qq
# bubblewrap: the jail each student's code runs in (`kata doctor` in the image says which level is in force).
apt-get install -y -qq python3 python3-venv python3-pip bubblewrap >/dev/null
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --quiet --upgrade pip
# torch==2.13.0 is pinned in pyproject.toml. Set TORCH_INDEX_URL to PyTorch's CPU wheel index to
# get the small CPU build there too (the default index serves the multi-GB CUDA one on Linux).
/autograder/venv/bin/pip install --quiet ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} /autograder/source
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission. AUTOGRADER_ROOT and KATA_PYTHON exist for local tests.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PY="${{KATA_PYTHON:-$ROOT/venv/bin/python}}"
STAGE="$(mktemp -d)"
mkdir -p "$ROOT/results"
for pair in {pairs}; do
    id="${{pair%%:*}}"; file="${{pair#*:}}"
    # find -type f lists regular files only and never enters a linked folder, so no link is followed.
    matches="$(find "$ROOT/submission" -name "$file" -type f | sort)"
    found="$(grep -Fx "$ROOT/submission/$id/$file" <<<"$matches" || head -n 1 <<<"$matches")"
    if [ -n "$found" ]; then
        mkdir -p "$STAGE/$id" && cp "$found" "$STAGE/$id/$file"
    else  # a notebook instead: its code cells exported, what IPython alone understands left out with a note
        notebook="$(find "$ROOT/submission" \\( -name "${{file%.py}}.ipynb" -o -name "$id.ipynb" \\) -type f | sort | head -n 1)"
        if [ -n "$notebook" ]; then
            (cd "$ROOT/source" && "$PY" -m harness.notebooks.cells "$notebook" "$id" "$STAGE") >> "$STAGE/notebook-notes.txt"
        fi
    fi
done
cd "$ROOT/source"
KATA_DB="$STAGE/progress.sqlite3" "$PY" -m harness.cli grade {ids} --impl "$STAGE" \\
    --format gradescope --out "$ROOT/results/results.json"
status=$?
"$PY" -m harness.instructor.gradescope "$ROOT/submission" "$ROOT/results/results.json" "$STAGE/notebook-notes.txt"
# exit 1 only means "not everything passed"; anything else is a grading failure Gradescope should show.
[ "$status" -le 1 ] && exit 0 || exit "$status"
"""


def build(kata_ids: list[str], out: Path) -> Path:
    katas = [registry.get(i) for i in kata_ids] if kata_ids else list(registry.katas())
    pairs = " ".join(f"{k.id}:{k.filename}" for k in katas)
    ids = " ".join(k.id for k in katas)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER.format(pairs=pairs, ids=ids))):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16  # executable, as Gradescope expects
            zf.writestr(info, text)
        for top in INCLUDE:
            path = registry.REPO_ROOT / top
            files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
            for file in files:
                rel = file.relative_to(registry.REPO_ROOT)
                if EXCLUDE_PARTS & set(rel.parts) or (rel.parts[0] == "katas" and rel.suffix == ".py"):
                    continue  # see EXCLUDE_PARTS; and no learner's own files from this machine's katas/
                zf.write(file, f"source/{rel}")
    return out


def note_links(submission: Path, results: Path, notebook_notes: Path | None = None) -> None:
    """Name, in the results' top-level output (which the student sees), the links run_autograder refused
    and what it left out of a notebook submission (magics, shell escapes)."""
    lines = [batch.refused_links(batch.links(submission))] if batch.links(submission) else []
    if notebook_notes is not None and notebook_notes.is_file():
        lines += [f"Left out of your notebook: {line}" for line in notebook_notes.read_text().splitlines() if line]
    if lines and results.is_file():
        data = json.loads(results.read_text())
        data["output"] = "\n".join(lines)
        results.write_text(json.dumps(data, indent=2))


if __name__ == "__main__":  # run_autograder, after grading: python -m harness.instructor.gradescope SUBMISSION RESULTS [NOTES]
    note_links(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]) if len(sys.argv) > 3 else None)
