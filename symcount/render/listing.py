"""The zoo as the terminal shows it: the list of entries, and one entry's notation, each
fitted to a width.

A line of notation breaks only where whitespace already is, outside a quoted label and
before any comment: between tokens, whitespace (a newline too) is a separator, so the
broken text is the same network.  A block of comment lines too wide is rewrapped as
one paragraph per run of lines."""
from __future__ import annotations

import re
import textwrap

from symcount.notation.parse import uncommented

FAMILY_GAP = 2  # spaces between a name and its title


def zoo_list(entries, width: int) -> list[str]:
    """One entry a line, `name  title  [family.sym]`, the title wrapped under itself."""
    column = max(len(entry.name) for entry in entries) + FAMILY_GAP
    wrapper = textwrap.TextWrapper(max(width, column + 20), subsequent_indent=" " * column,
                                   break_on_hyphens=False)
    return [line for entry in entries
            for line in wrapper.wrap(f"{entry.name:<{column}}{entry.title}  [{entry.family}]")]


def notation(text: str, width: int) -> list[str]:
    """Notation text in lines of at most `width` characters (module doc)."""
    out, comments = [], []
    for line in text.splitlines() + [None]:
        if line is not None and line.lstrip().startswith("#"):
            comments.append(line)
            continue
        out += _comments(comments, width)
        comments = []
        if line is not None:
            out += _code(line, width)
    return out


def _comments(lines: list[str], width: int) -> list[str]:
    """Comment lines as they are, or, if one is too wide, rewrapped paragraph by paragraph
    (an empty comment line ends a paragraph)."""
    if all(len(line) <= width for line in lines):
        return lines
    out, paragraph, mark = [], [], "#"
    for line in lines + ["#"]:
        hashes = re.match(r"\s*(#+)", line)[1]
        words = line.lstrip()[len(hashes):].strip()
        if words and hashes == mark:
            paragraph.append(words)
            continue
        if paragraph:  # a header (## name: title) is a paragraph of its own
            out += textwrap.wrap(" ".join(paragraph), width, initial_indent=mark + " ",
                                 subsequent_indent="#" + " " * len(mark), break_on_hyphens=False,
                                 break_long_words=False)
        paragraph, mark = ([words], hashes) if words else ([], "#")
        if not words:
            out.append("#")
    return out[:-1]


def _code(line: str, width: int) -> list[str]:
    """A line of notation (and its trailing comment) broken between tokens."""
    if len(line) <= width:
        return [line]
    code, comment = _split_comment(line)
    body = re.match(r"\s*def\s[^=]*=\s*", code)  # a definition continues under its body
    indent = len(body[0]) - 4 if body and len(body[0]) < width // 2 else len(code) - len(code.lstrip())
    lines, current = [], code.rstrip()
    while len(current) > width:
        spaces = [m.start() for m in re.finditer(" ", current)
                  if indent + 4 < m.start() <= width and _outside_quotes(current, m.start())]
        spaces = [at for at in spaces if current[at - 1] != ","] or spaces  # not inside (1, 1, 64) if it can
        if not spaces:
            break  # one token longer than the line
        lines.append(current[:spaces[-1]].rstrip())
        current = " " * (indent + 4) + current[spaces[-1]:].lstrip()
    if comment and len(current) + 2 + len(comment) <= width:
        return lines + [f"{current}  {comment}"]
    return lines + [current] + textwrap.wrap(comment[1:].strip(), width, initial_indent=" " * indent + "# ",
                                             subsequent_indent=" " * indent + "# ", break_on_hyphens=False)


def _outside_quotes(text: str, at: int) -> bool:
    return text.count('"', 0, at) % 2 == 0


def _split_comment(line: str) -> tuple[str, str]:
    """The line's notation and its comment (notation.parse.uncommented says where it starts)."""
    code = uncommented(line)
    return code, line[len(code):]
