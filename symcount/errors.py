"""One family of errors for everything a user can get wrong.

Every error symcount raises on bad input is a :class:`SymcountError`.  When the error
belongs to a place in the notation it carries that place, and its message shows the
line with a caret under the spot, einops-style: one class family, precise messages.

Text a user wrote (a label, a comment, the notation itself) may hold characters a terminal
acts on; :func:`visible` is the one rule every output that shows such text follows.
"""
from __future__ import annotations

import re

# What must not reach a terminal or a file as it is: C0 controls and DEL, C1 controls, the
# line and paragraph separators, the bidirectional controls (which reorder what is shown,
# "Trojan Source"), and lone surrogates (which no UTF-8 output can encode).
UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")


def visible(text: str, keep: str = "") -> str:
    """`text` with each unsafe character (UNSAFE) but those in `keep` written as Python writes it
    in a string literal: ESC as the four characters \\x1b, a line break as \\n, U+202E as \\u202e.
    Safe text is returned as it is, so applying it twice changes nothing."""
    return UNSAFE.sub(lambda m: m[0] if m[0] in keep else repr(m[0])[1:-1], text)


class SymcountError(Exception):
    """Base class: bad notation, bad option, impossible shape, unknown symbol, limits."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None,
                 column: int | None = None, width: int = 1, expected: str | None = None):
        self.message = message
        self.source = source
        self.line = line
        self.column = column
        self.width = max(1, width)
        self.expected = expected
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [visible(self.message, "\n")]
        if self.line is not None and self.column is not None:
            parts[0] += f" (line {self.line}, column {self.column})"
            if self.source is not None:
                lines = self.source.splitlines() or [""]
                if 1 <= self.line <= len(lines):
                    text = lines[self.line - 1].expandtabs(1)
                    start = self.column - 1
                    width = min(self.width, max(1, len(text) - start))
                    # the caret sits under the spot as shown, escapes and all
                    before, spot = visible(text[:start]), visible(text[start:start + width])
                    parts.append("  " + visible(text))
                    parts.append("  " + " " * len(before) + "^" + "~" * (max(1, len(spot)) - 1))
        if self.expected:
            parts.append("expected " + visible(self.expected))
        return "\n".join(parts)


class NotationError(SymcountError):
    """The text does not follow the notation's grammar."""


class OptionError(SymcountError):
    """An unknown option, or an option value the layer cannot take."""


class ShapeError(SymcountError):
    """A layer cannot take its input: a size becomes <= 0, groups do not divide, ..."""


class SymbolError(SymcountError):
    """A value given for a symbol the network does not have, or a missing value."""


class LimitError(SymcountError):
    """Input too large to handle safely: nesting, number size, layers after expansion."""


class ExportError(SymcountError):
    """The network cannot be written as a framework's module exactly as symcount counts it."""
