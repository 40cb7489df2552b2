"""Grading results written out: our JSON, Gradescope's results.json, and JUnit XML.

Our JSON (`kata grade --format json`), documented in the README:
    {"version": 1, "score": float, "max_score": float,
     "katas": [{"id", "file", "status": "pass"|"fail"|"error", "score", "max_score", "error", "duration_s",
                "tests": [{"name", "status", "score", "max_score", "message", "diagnosis", "mistake"}]}]}
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from harness.grading.results import KataResult, Status

FORMATS = ("text", "json", "gradescope", "junit")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """A text cell for a CSV file that a spreadsheet will show as text, never run as a formula.

    Learners name their folders and their code writes the error messages; a cell starting with
    = + - @ (or tab, carriage return) is a formula to Excel and LibreOffice (CSV injection), so it
    gets a leading ', as OWASP recommends.
    """
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def as_json(results: list[KataResult]) -> str:
    katas = [
        {
            "id": r.kata_id,
            "file": r.file,
            "status": r.status.value,
            "score": r.score,
            "max_score": r.max_score,
            "error": r.error,
            "duration_s": round(r.duration, 3),
            "tests": [
                {
                    "name": t.name,
                    "status": t.status.value,
                    "score": t.score,
                    "max_score": t.max_score,
                    "message": t.message,
                    "diagnosis": t.diagnosis,
                    "mistake": t.mistake,
                }
                for t in r.tests
            ],
        }
        for r in results
    ]
    total = {"score": sum(r.score for r in results), "max_score": sum(r.max_score for r in results)}
    return json.dumps({"version": 1, **total, "katas": katas}, indent=2)


def as_gradescope(results: list[KataResult]) -> str:
    """Gradescope's autograder results.json: a score and one entry per test, all visible."""
    tests = []
    for r in results:
        if r.error and not r.tests:
            tests.append({"name": f"{r.kata_id}: could not be graded", "score": 0, "max_score": 0,
                          "status": "failed", "output": r.error, "visibility": "visible"})  # fmt: skip
        for t in r.tests:
            output = t.message or "passed"  # a message carries its "Likely mistake" line already
            tests.append({
                "name": f"{r.kata_id}: {t.name}", "score": t.score, "max_score": t.max_score,
                "status": "passed" if t.status is Status.PASS else "failed",
                "output": output, "visibility": "visible",
            })  # fmt: skip
    return json.dumps(
        {
            "score": sum(r.score for r in results),
            "execution_time": round(sum(r.duration for r in results), 3),
            "tests": tests,
        },
        indent=2,
    )


def as_junit(results: list[KataResult]) -> str:
    suites = ET.Element("testsuites")
    for r in results:
        failures = sum(t.status is Status.FAIL for t in r.tests)
        errors = sum(t.status is Status.ERROR for t in r.tests) + (1 if r.error and not r.tests else 0)
        suite = ET.SubElement(suites, "testsuite", name=r.kata_id, tests=str(len(r.tests)),
                              failures=str(failures), errors=str(errors), time=f"{r.duration:.3f}")  # fmt: skip
        if r.error and not r.tests:
            case = ET.SubElement(suite, "testcase", classname=r.kata_id, name="grading")
            ET.SubElement(case, "error", message=r.error.splitlines()[0]).text = r.error
        for t in r.tests:
            case = ET.SubElement(suite, "testcase", classname=r.kata_id, name=t.name, time=f"{t.duration:.3f}")
            if t.status is not Status.PASS:
                tag = "failure" if t.status is Status.FAIL else "error"
                ET.SubElement(case, tag, message=(t.message or "").splitlines()[0] if t.message else "").text = t.message
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


WRITERS = {"json": as_json, "gradescope": as_gradescope, "junit": as_junit}
