"""Learner text made safe to show: what their code raised or printed, their file and folder names.

Such text reaches the instructor's and the learner's terminals, CSV, JUnit XML and HTML. Control
characters (an escape sequence can clear a screen or retitle a window; a carriage return can
overwrite a line) and the Unicode controls that reorder text are shown as escapes instead.
"""

from __future__ import annotations

import re

_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """`text` with every control character but newline and tab written as an escape (\\x1b)."""
    return _HIDDEN.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text)


def split_diagnosis(text: str) -> tuple[str, str]:
    """A diagnosis as (what the numbers show, why and how to fix it): split after its first clause,
    at the first `: `, `; ` or `. ` outside brackets. Failures show the first part; the second comes
    with --explain (teach, don't spoil)."""
    depth = 0
    for i, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif depth == 0 and char in ":;." and text[i + 1 : i + 2] == " ":
            return text[:i] + ".", text[i + 2 :]
    return text, ""
