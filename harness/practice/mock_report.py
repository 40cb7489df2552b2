"""The mock interview's report, in Markdown and in HTML, written into the session folder."""

from __future__ import annotations

import datetime as dt
import difflib
import html
import re
from pathlib import Path

from harness.grading import registry
from harness.practice.mock_session import HINT_PENALTY, Session


def _when(session: Session) -> str:
    return dt.datetime.fromtimestamp(session.started).strftime("%Y-%m-%d %H:%M")


def _green(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}:{secs:02d}"


def _rows(session: Session) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for kata_id in session.katas:
        s = session.state[kata_id]
        hints = f"{s.hints} (-{HINT_PENALTY * s.hints:g})" if s.hints else "0"
        rows.append((kata_id, f"{session.score(kata_id):g}/{s.max_score:g}", _green(s.first_green_s), str(s.regrades), hints))
    return rows


def _fence(text: str) -> str:
    """A code fence longer than any run of backticks in `text`: a learner's output cannot close it early."""
    return "`" * max(3, 1 + max(map(len, re.findall("`+", text)), default=0))


HEADERS = ("kata", "score", "time to first green", "re-grades", "hints")


def ratings(session: Session) -> str:
    """The self-ratings' total, e.g. "3/4 (2 questions)"."""
    rated = [a.rating for a in session.answers if a.rating is not None]
    return f"{sum(rated)}/{2 * len(rated)} over {len(rated)} rated question{'s' * (len(rated) != 1)}"


def final_diff(session: Session, kata_id: str) -> str:
    """The code graded at the deadline (the snapshot) as a diff against the stub it started from."""
    kata = registry.get(kata_id)
    final = kata.learner_file(session.snapshot)
    code = final.read_text() if final.exists() else ""
    diff = difflib.unified_diff(kata.pristine_path.read_text().splitlines(keepends=True), code.splitlines(keepends=True),
                                "stub", "at the deadline")  # fmt: skip
    return "".join(diff)


def markdown(session: Session) -> str:
    score, max_score = session.total
    lines = [
        f"# Mock interview, {_when(session)} ({session.minutes:g} min)",
        "",
        f"**Total: {score:g}/{max_score:g}**" + (" (ended early)" if session.ended_early else "")
        + f". Each hint costs {HINT_PENALTY:g} point.",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
        *("| " + " | ".join(row) + " |" for row in _rows(session)),
        "",
    ]
    lines += [f"> {note}" for note in session.notes] + ([""] if session.notes else [])
    for kata_id in session.katas:
        s = session.state[kata_id]
        lines.append(f"## {kata_id}: {registry.get(kata_id).title}")
        lines.append("")
        if not s.failures:
            lines.append("Every check passed at the deadline." if s.status == "pass" else f"Status at the deadline: {s.status}.")
        else:
            lines.append("What failed at the deadline:")
            lines.append("")
            for failure in s.failures:
                lines += [_fence(failure), failure, _fence(failure)]
        if s.seen:
            lines += ["", "Failures seen during the session, in order:", ""] + [f"- `{first}`" for first in s.seen]
        diff = final_diff(session, kata_id)
        if diff:
            lines += ["", "Your code at the deadline, as a diff against the stub:", "", _fence(diff) + "diff", diff.rstrip("\n"), _fence(diff)]
        lines.append("")
    if session.answers:
        lines += ["## Questions", "", f"**Self-ratings: {ratings(session)}.**", ""]
        for n, a in enumerate(session.answers, 1):
            rating = "not rated" if a.rating is None else f"{a.rating}/2"
            answer = [_fence(a.answer) + "text", a.answer, _fence(a.answer)] if a.answer else ["_(no answer)_"]  # as typed, line breaks kept
            lines += [f"### {n}. {a.question}", "", "**Your answer:**", "", *answer, "",
                      "**Model answer:**", "", a.model_answer, "", f"**Self-rating:** {rating}", ""]  # fmt: skip
    return "\n".join(lines)


def html_page(session: Session) -> str:
    e = html.escape
    score, max_score = session.total
    rows = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in _rows(session))
    parts = [
        f"<h1>Mock interview, {e(_when(session))} ({session.minutes:g} min)</h1>",
        f"<p><strong>Total: {score:g}/{max_score:g}</strong>{' (ended early)' if session.ended_early else ''}."
        f" Each hint costs {HINT_PENALTY:g} point.</p>",
        "<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in HEADERS) + f"</tr>{rows}</table>",
        *(f"<blockquote>{e(note)}</blockquote>" for note in session.notes),
    ]
    for kata_id in session.katas:
        s = session.state[kata_id]
        parts.append(f"<h2>{e(kata_id)}: {e(registry.get(kata_id).title)}</h2>")
        if not s.failures:
            parts.append("<p>Every check passed at the deadline.</p>" if s.status == "pass" else f"<p>Status at the deadline: {e(s.status)}.</p>")
        else:
            parts.append("<p>What failed at the deadline:</p>" + "".join(f"<pre>{e(f)}</pre>" for f in s.failures))
        if s.seen:
            parts.append("<p>Failures seen during the session, in order:</p><ul>" + "".join(f"<li><code>{e(f)}</code></li>" for f in s.seen) + "</ul>")
        diff = final_diff(session, kata_id)
        if diff:
            parts.append(f"<p>Your code at the deadline, as a diff against the stub:</p><pre>{e(diff)}</pre>")
    if session.answers:
        parts.append(f"<h2>Questions</h2><p><strong>Self-ratings: {e(ratings(session))}.</strong></p>")
        for n, a in enumerate(session.answers, 1):
            rating = "not rated" if a.rating is None else f"{a.rating}/2"
            parts.append(
                f"<h3>{n}. {e(a.question)}</h3><p><strong>Your answer:</strong></p><blockquote>{e(a.answer) or '<em>(no answer)</em>'}</blockquote>"
                f"<p><strong>Model answer:</strong></p><blockquote>{e(a.model_answer)}</blockquote><p><strong>Self-rating:</strong> {rating}</p>"
            )
    style = ("body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.45}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .7em;text-align:left}"
             "pre{background:#f6f6f6;padding:.6em;white-space:pre-wrap}blockquote{margin-left:1em;color:#333;white-space:pre-wrap}")  # fmt: skip
    return f"<!doctype html><html><head><meta charset='utf-8'><title>Mock interview</title><style>{style}</style></head><body>{''.join(parts)}</body></html>\n"


def write(session: Session) -> tuple[Path, Path]:
    md, page = session.path / "report.md", session.path / "report.html"
    md.write_text(markdown(session))
    page.write_text(html_page(session))
    return md, page
