"""An error message fitted to the terminal.

Its sentences wrap between words, each continuation two spaces in; the line of notation it
quotes is never wrapped (the caret under it must stay under the spot): where it is wider
than the terminal, a window of it around the caret is shown, its cut ends marked with "…".
"""
from __future__ import annotations

import re
import textwrap

CARET = re.compile(r"^  ( *)\^~*$")
QUOTED = "  "  # the indent of the quoted line and its caret (symcount.errors)


def fit_error(text: str, width: int, prefix: str = "") -> str:
    """`prefix` and the message `text` (a SymcountError's) in lines of at most `width`."""
    lines = (prefix + text).split("\n")
    out = []
    for index, line in enumerate(lines):
        after = lines[index + 1] if index + 1 < len(lines) else ""
        if CARET.match(line) and index > 0 and out and out[-1] is None:
            out[-1:] = _window(lines[index - 1], line, width)
        elif CARET.match(after) and line.startswith(QUOTED):
            out.append(None)  # the quoted line, fitted with its caret
        else:
            out += textwrap.wrap(line, width, subsequent_indent="  ", break_on_hyphens=False) or [""]
    return "\n".join(line for line in out if line is not None)


def _window(source: str, caret: str, width: int) -> list[str]:
    """The quoted line and its caret, cut to a window of `width` around the caret."""
    body, marks = source[len(QUOTED):], caret[len(QUOTED):]
    room = width - len(QUOTED)
    if len(body) <= room:
        return [source, caret]
    start = marks.index("^")
    length = max(len(body), start + 1)  # the caret may stand just past the end of the text
    left = max(0, min(start - room // 3, length - room))
    right = left + room
    shown = body[left:right]
    if left > 0:
        shown = "…" + shown[1:]
    if right < len(body):
        shown = shown[:-1] + "…"
    return [QUOTED + shown.rstrip(), QUOTED + marks[left:right].rstrip()]
