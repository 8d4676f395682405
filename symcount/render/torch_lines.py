"""The exported module's generated lines at most 79 characters (PEP 8's), whatever the
terminal, so the file reads in an 80-column terminal or editor; the code is the same code.

- a comment after code moves to its own lines above it, at the code's indent;
- a docstring's line too long wraps between words, at its indent (only the text changes);
- code still too long breaks after an opening bracket, then after the commas at that
  bracket's level (inside brackets a line break is only whitespace to Python), unless it is
  nested so deep that its arguments would have too little room.
"""
from __future__ import annotations

import io
import textwrap
import tokenize

WIDTH = 79
NARROWEST = 24  # arguments are not broken onto lines narrower than this


def fit_source(source: str, width: int = WIDTH, kept=()) -> str:
    """The source with its lines fitted (module doc), but those numbered in `kept` (from 1),
    written by hand and left as they are."""
    lines = source.split("\n")
    comments, docstrings, brackets = _read(source)
    out = []
    for number, line in enumerate(lines, 1):
        if len(line) <= width or number in kept:
            out.append(line)
        elif number in docstrings:
            indent = " " * (len(line) - len(line.lstrip()))
            out += textwrap.wrap(line, width, subsequent_indent=indent, break_on_hyphens=False)
        else:
            out += _code(line, comments.get(number), brackets.get(number, []), width)
    return "\n".join(out)


def _read(source: str):
    """Per line: where its comment starts; the lines inside docstrings; its brackets as
    (column, text) in order."""
    comments, docstrings, brackets = {}, set(), {}
    previous = None
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        (row, column), (end, _) = token.start, token.end
        if token.type == tokenize.COMMENT:
            comments[row] = column
        elif token.type == tokenize.STRING and token.string.startswith('"""') and \
                previous in (None, tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT):
            docstrings.update(range(row, end + 1))  # a statement of its own: a docstring
        elif token.type == tokenize.OP and token.string in "()[]{},":
            brackets.setdefault(row, []).append((column, token.string))
        if token.type not in (tokenize.COMMENT, tokenize.NL):
            previous = token.type
    return comments, docstrings, brackets


def _code(line: str, comment: int | None, brackets: list, width: int) -> list[str]:
    indent = " " * (len(line) - len(line.lstrip()))
    above = []
    if comment is not None:
        text = line[comment + 1:].strip()
        line = line[:comment].rstrip()
        if not line.strip():  # a comment line of its own
            return textwrap.wrap(text, width, initial_indent=indent + "# ", subsequent_indent=indent + "# ",
                                 break_on_hyphens=False)
        above = textwrap.wrap(text, width, initial_indent=indent + "# ", subsequent_indent=indent + "# ",
                              break_on_hyphens=False)
        if len(line) <= width:
            return above + [line]
    opening = next((column for column, mark in brackets if mark in "([{"), None)
    inner = indent + " " * 4
    if opening is None or opening >= len(line) or len(inner) + NARROWEST > width:
        return above + [line]  # nothing to break at, or nested too deep to gain: left whole
    pieces, depth, start = [line[:opening + 1]], 0, opening + 1
    for column, mark in brackets:
        if column <= opening or column >= len(line):
            continue
        depth += 1 if mark in "([{" else -1 if mark in ")]}" else 0
        if mark == "," and depth == 0:
            pieces.append(inner + line[start:column + 1].strip())
            start = column + 1
    pieces.append(inner + line[start:].strip())
    joined = [pieces[0]]  # the arguments, as many to a line as fit
    for piece in pieces[1:]:
        if len(joined) > 1 and len(joined[-1]) + 1 + len(piece.strip()) <= width:
            joined[-1] += " " + piece.strip()
        else:
            joined.append(piece)
    return above + joined
