"""Every kata's catalog (harness/packs/<module>/catalog.toml) proven against its spec, in-process, as harness/instructor/verify.py does.

Each mistake must fail and be named by its own id and no other; each variant must pass with no
diagnosis; and a learner reads the parts of a failure in a fixed order. Each entry is graded once
(about 0.5 s for kata 02) and the outcome shared between the tests that look at it.
"""

from __future__ import annotations

import ast
import functools
import json
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, run

from harness.instructor import catalog, verify
from harness.grading import registry
from harness.grading.results import Status
from harness.grading.checks import Diagnosis
from harness.grading.diagnosing import together
from harness.grading.text import split_diagnosis

ENTRIES = [entry for kata_id in catalog.kata_ids() for entry in catalog.load(kata_id).entries]
MISTAKES = [entry for entry in ENTRIES if entry.kind == catalog.MISTAKE]
VARIANTS = [entry for entry in ENTRIES if entry.kind == catalog.VARIANT]
BLIND = [entry for kata_id in catalog.kata_ids() if catalog.load_blind(kata_id) for entry in catalog.load_blind(kata_id).entries]


def _id(entry: catalog.Entry) -> str:
    return f"{entry.kata_id}:{entry.id}"


@functools.cache
def outcome(entry: catalog.Entry) -> verify.Outcome:
    return verify.verify_entry(entry)


def _entry(kata_id: str, entry_id: str) -> catalog.Entry:
    return next(e for e in catalog.load(kata_id).entries if e.id == entry_id)


def _summary(result: verify.Outcome) -> str:
    return "\n".join(f"{t.name}: named {t.mistake}\n{t.message}" for t in result.failing) or "(every test passes)"


@pytest.mark.parametrize("entry", MISTAKES, ids=_id)
def test_each_mistake_fails_and_is_named_by_its_id(entry):
    result = outcome(entry)
    assert result.error is None, result.error
    assert result.killed, "the mutant passes every test"
    assert result.diagnosed, f"no failing test names {entry.id}:\n{_summary(result)}"
    assert not result.misdiagnoses, f"misdiagnosed as {result.misdiagnoses}:\n{_summary(result)}"


@pytest.mark.parametrize("entry", VARIANTS, ids=_id)
def test_each_variant_passes_with_no_diagnosis(entry):
    result = outcome(entry)
    assert result.error is None, result.error
    assert result.status is Status.PASS and not result.named, _summary(result)


# --- what the learner reads, for kata 02 --------------------------------------------------------
@pytest.mark.parametrize(
    ("mistake", "test", "sentence", "numbers"),
    [
        ("batch_mean", "test_backward_matches_torch[W2]", r"backward\(\)\['W2'\] disagrees with torch in \d+ of 3 entries\.$", "max abs error"),
        ("transposed_weight_grad", "test_backward_matches_torch[W1]", r"backward\(\)\['W1'\] has shape \(3, 2\), but the expected shape is \(2, 3\)", None),
        ("forward_no_bias", "test_forward_matches_torch", r"forward\(\)'s A2 disagrees with torch", "max abs error"),
    ],
)  # fmt: skip
def test_a_failure_reads_sentence_then_mistake_then_numbers_then_example(mistake, test, sentence, numbers):
    result = outcome(_entry("02_backprop", mistake))
    failure = next(t for t in result.failing if t.name == test)
    lines = failure.message.splitlines()
    assert re.match(sentence, lines[0]), lines[0]
    assert lines[1] == f"Likely mistake: {split_diagnosis(catalog.load('02_backprop').mistake(mistake).diagnosis)[0]}"
    assert failure.diagnosis and failure.mistake == mistake
    example = lines.index("Smallest failing example:")
    if numbers is not None:
        assert 1 < next(i for i, line in enumerate(lines) if numbers in line) < example
    assert lines[example + 1].startswith("N = ") and "Traceback" not in failure.message


@pytest.mark.parametrize("entry", BLIND, ids=_id)
def test_each_blind_answer_is_judged_rightly(entry):
    """Answers written from the prompt alone: the correct ones pass, every slip fails, none is named wrongly."""
    result = outcome(entry)
    assert result.error is None, result.error
    if entry.kind == catalog.VARIANT:
        assert result.status is Status.PASS, _summary(result)
    else:
        assert result.killed, "the mistake passes every test"
        assert not result.misdiagnoses, f"named wrongly as {result.misdiagnoses}:\n{_summary(result)}"


def test_a_blind_mistake_named_by_another_id_is_a_wrong_name():
    entry = catalog.Entry("02_backprop", catalog.MISTAKE, "blind", "a slip", None, _entry("02_backprop", "batch_mean").replace, names=("bias_mean",))
    result = verify.verify_entry(entry)
    assert result.killed and not result.diagnosed and result.misdiagnoses == ["batch_mean"]
    assert result.problem == "misdiagnosed: " + ", ".join(f"{t} names batch_mean" for t, m in result.named.items() if m == "batch_mean")


def test_the_cache_shows_which_intermediate_goes_wrong_first():
    failure = next(t for t in outcome(_entry("02_backprop", "forward_no_bias")).failing if t.name == "test_forward_matches_torch")
    assert "In forward()'s cache, Z1 is the first of Z1, A1, Z2, A2 to disagree with torch" in failure.message


def _unlisted(*replace: tuple[str, str]) -> catalog.Entry:
    return catalog.Entry("02_backprop", catalog.MISTAKE, "unlisted", "not in the catalog", "-", replace)


def test_a_failure_no_family_explains_is_given_no_name():
    # Every gradient is torch's / N: the biases alone look like bias_mean, the weights say otherwise.
    result = verify.verify_entry(_unlisted(("dZ2 = (A2 - y) / n", "dZ2 = (A2 - y) / n / n")))
    assert result.killed and result.named == {}, _summary(result)


def test_two_slips_at_once_are_each_named_where_they_act():
    # The 1/N forgotten at dZ2 (every gradient) and the ReLU mask left out (W1 and b1): each gradient
    # names the slips it holds, the hidden layer's both.
    replace = _entry("02_backprop", "batch_mean").replace + _entry("02_backprop", "relu_mask_missing").replace
    result = verify.verify_entry(_unlisted(*replace))
    grads = {name: t for t in result.failing if (name := t.name.removeprefix("test_backward_matches_torch[").rstrip("]")) in ("W1", "b1", "W2", "b2")}
    assert set(grads) == {"W1", "b1", "W2", "b2"}, _summary(result)
    assert all(t.mistake == "batch_mean" for t in grads.values()), _summary(result)
    both = split_diagnosis(together([Diagnosis(m, catalog.load("02_backprop").mistake(m).diagnosis) for m in ("batch_mean", "relu_mask_missing")]).text)[0]
    assert all(f"Likely mistake: {both}" in grads[name].message for name in ("W1", "b1"))
    assert all(f"Likely mistake: {both}" not in grads[name].message for name in ("W2", "b2"))


def test_an_entry_that_no_longer_applies_is_a_clear_error():
    result = verify.verify_entry(_unlisted(("no such line", "x")))
    assert not result.ok and result.result is None
    assert result.error == "02_backprop.toml: [[mistake]] 'unlisted': 'no such line' occurs 0 times in the reference, not exactly once."


def test_a_variant_whose_file_is_gone_is_a_clear_error():
    gone = catalog.Entry("02_backprop", catalog.VARIANT, "gone", "not in the catalog", None, file=registry.get("02_backprop").pack / catalog.VARIANTS / "gone.py")
    result = verify.verify_entry(gone)
    assert result.error == f"02_backprop.toml: [[variant]] 'gone': there is no file {registry.get('02_backprop').pack / catalog.VARIANTS / 'gone.py'}"


# --- the answers stay in the checkout -----------------------------------------------------------
ANSWERS = sorted((ROOT / "solutions").rglob("*.py")) + sorted((ROOT / "harness" / "packs").glob("*/variants/*.py")) + sorted((ROOT / "harness" / "packs").glob("*/blind/*.py"))  # references, variants, blind answers


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """A folder with the wheel (as pip builds it) and the sdist (setuptools' PEP 517 hook, as
    `python -m build` calls it), built from a copy: a build writes build/ and *.egg-info beside
    its sources, and others share this tree."""
    base = tmp_path_factory.mktemp("dist")
    skip = shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__", "batch-results", "autograder.zip")
    shutil.copytree(ROOT, base / "src", ignore=skip)
    wheel = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(base), str(base / "src"))
    assert wheel.returncode == 0, wheel.stdout + wheel.stderr
    sdist = run(sys.executable, "-c", f"from setuptools import build_meta; build_meta.build_sdist({str(base)!r})", cwd=base / "src")
    assert sdist.returncode == 0, sdist.stdout + sdist.stderr
    return base


def _members(dist: Path, kind: str) -> dict[str, bytes]:
    """Each file of the wheel or the sdist, by its path in the package ("harness/...")."""
    if kind == "wheel":
        with zipfile.ZipFile(next(dist.glob("*.whl"))) as zf:
            return {name: zf.read(name) for name in zf.namelist()}
    with tarfile.open(next(dist.glob("*.tar.gz"))) as tf:
        return {m.name.split("/", 1)[1]: tf.extractfile(m).read() for m in tf.getmembers() if m.isfile()}


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_the_package_carries_the_diagnoses_but_no_answer(dist, kind):
    files = _members(dist, kind)
    assert {f"harness/packs/{k.module}/kata.toml" for k in registry.katas()} <= set(files)  # the diagnoses' words
    assert not [name for name in files if "variants" in name or "solutions" in name or "blind" in name or name.endswith("catalog.toml")]
    shipped = set(files.values())
    assert ANSWERS and not [p for p in ANSWERS if p.read_bytes() in shipped], "a reference or variant is in the package"


@pytest.fixture(scope="module")
def installed(dist, tmp_path_factory) -> Path:
    """The wheel installed by pip into a folder of its own, with no checkout beside it."""
    site = tmp_path_factory.mktemp("site")
    done = run(sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(site), str(next(dist.glob("*.whl"))))
    assert done.returncode == 0, done.stdout + done.stderr
    where = _installed_python(site, "-c", "import harness.grading.registry as r; print(r.REPO_ROOT)")
    assert where.stdout.strip() == str(site), "the installed harness is not the one imported"
    return site


def _installed_python(site: Path, *args: str) -> subprocess.CompletedProcess:
    """Python with only the installed package importable as harness (the checkout's is not on the path)."""
    return run(sys.executable, *args, cwd=site, env={"PYTHONPATH": str(site), "KATA_DB": str(site / "db.sqlite3")})


def test_verify_from_an_installed_package_says_it_needs_the_checkout(installed):
    result = _installed_python(installed, "-m", "harness.cli", "verify")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.strip() == (
        "kata verify runs from a checkout of the repository only: it grades the references, catalogs and"
        f" variants, which an installed package (here {installed}) does not have."
    )


def test_an_installed_package_still_has_every_diagnosis(installed):
    """The grader reads a mistake's words from its pack's kata.toml, never from the catalog (not shipped)."""
    read = "from harness.grading import registry; print({k.id: k.diagnoses for k in registry.katas()})"
    result = _installed_python(installed, "-c", read)
    assert result.returncode == 0, result.stderr
    assert ast.literal_eval(result.stdout.strip()) == {k: {m.id: m.diagnosis for m in catalog.load(k).mistakes} for k in catalog.kata_ids()}

