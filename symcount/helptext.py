"""Help text that fits the terminal: argparse's own wrapping of usage and options, at the
width every symcount output uses (symcount.render.text.terminal_width), and descriptions
and epilogs wrapped line by line, keeping their layout:

- a line that fits is kept as it is;
- a line of two columns (a form or command, two spaces or more, what it does) wraps its
  second column under itself, or, where that leaves it too narrow, starts it on a line of its own;
- a command (symcount …, echo …) breaks between words with a shell continuation `\\`, so it
  still runs when copied;
- any other line is prose (an indented one continues two spaces further in).
"""
from __future__ import annotations

import argparse
import re
import textwrap

from symcount.render.text import terminal_width

COLUMN = re.compile(r"^( *)(\S.*?\S) {2,}(\S.*)$")
COMMAND = re.compile(r"^( *)(symcount|echo) ")
NARROWEST = 24  # a second column narrower than this wraps under the line's indent instead
WIDEST_CHOICES = 16  # choices longer than {a,b,c} of this many characters are named in the help instead


def fit_line(line: str, width: int) -> list[str]:
    """One line of help as lines of at most `width` characters (module doc)."""
    if len(line) <= width:
        return [line]
    indent = len(line) - len(line.lstrip(" "))
    column = COLUMN.match(line.rstrip())
    if column:
        start = len(line.rstrip()) - len(column[3])
        if width - start >= NARROWEST:
            return textwrap.wrap(line.rstrip(), width, subsequent_indent=" " * start, break_on_hyphens=False)
        return fit_line(column[1] + column[2], width) + \
            textwrap.wrap(column[3], width, initial_indent=" " * (indent + 4), subsequent_indent=" " * (indent + 4))
    if COMMAND.match(line):
        return _command(line.rstrip(), width, indent)
    return textwrap.wrap(line, width, subsequent_indent=" " * (indent + 2 if indent else 0), break_on_hyphens=False)


def _command(line: str, width: int, indent: int) -> list[str]:
    """A shell command broken between words, each line but the last ending in ' \\'."""
    lines, current = [], ""
    for word in line.split(" ")[indent:] if indent else line.split(" "):
        candidate = f"{current} {word}" if current else " " * (len(lines) and indent + 4 or indent) + word
        if current and len(candidate) + 2 > width:
            lines.append(current + " \\")
            current = " " * (indent + 4) + word
        else:
            current = candidate
    return lines + [current]


def fit_text(text: str, width: int) -> list[str]:
    return [piece for line in text.splitlines() for piece in fit_line(line, width)]


class Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter at symcount's width, descriptions and epilogs fitted (module doc)."""

    def __init__(self, prog, indent_increment=2, max_help_position=24, width=None):
        super().__init__(prog, indent_increment, max_help_position, width or terminal_width())

    def _fill_text(self, text, width, indent):
        return "\n".join(indent + line for line in fit_text(text, width))

    def _metavar_formatter(self, action, default_metavar):
        """A long list of choices, which argparse cannot break, is written as the option's name:
        --framework FRAMEWORK, not --framework {caffe,keras,onnx,pytorch,tensorflow}."""
        if _named_choices(action):
            return lambda size: (default_metavar,) * size
        return super()._metavar_formatter(action, default_metavar)

    def _get_help_string(self, action):
        """The help, and where the choices were named, the choices after it."""
        text = super()._get_help_string(action) or ""
        if _named_choices(action):
            return f"{text}; one of: {', '.join(map(str, action.choices))}".lstrip("; ")
        return text


def _named_choices(action) -> bool:
    return action.metavar is None and action.choices is not None and \
        len(",".join(map(str, action.choices))) + 2 > WIDEST_CHOICES
