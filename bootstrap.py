"""Set up the project's virtual environment when needed, then run `kata` or the project's tests.

    python3 bootstrap.py [KATA ARGS...]   # e.g. no args: your board; `grade 02_backprop`; `--help`
    python3 bootstrap.py test [PYTEST ARGS...]   # the project's own tests: pytest tests

Needs only Python 3.11+ and pip. The first run creates .venv and installs the project with its
dependencies (torch pinned to the 2.13.0 CPU build); later runs reinstall only when pyproject.toml
changed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed-from"


def _wanted() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_venv() -> None:
    if not (BIN / "python").exists():
        print("Creating .venv (first run only) ...", file=sys.stderr, flush=True)
        venv.create(VENV, with_pip=True)
    if STAMP.exists() and STAMP.read_text() == _wanted():
        return
    print("Installing the project and its dependencies into .venv (a minute or two, once) ...", file=sys.stderr, flush=True)
    subprocess.run(
        [str(BIN / "python"), "-m", "pip", "install", "-qq", "--disable-pip-version-check", "-e", f"{ROOT}[dev]"],
        check=True,
    )
    STAMP.write_text(_wanted())


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}.")
    try:
        ensure_venv()
    except subprocess.CalledProcessError as exc:
        sys.exit(f"Setting up .venv failed (exit {exc.returncode}); the pip output above says why.")
    if argv[:1] == ["test"]:
        # The project's own tests (plain pytest grades the katas), unless paths to run are given.
        named = [arg for arg in argv[1:] if not arg.startswith("-") and (ROOT / arg.split("::")[0]).exists()]
        command = [str(BIN / "python"), "-m", "pytest", *([] if named else ["tests"]), *argv[1:]]
    else:
        command = [str(BIN / "kata"), *argv]
    os.chdir(ROOT)
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
