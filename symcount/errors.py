"""One family of errors for everything a user can get wrong.

Every error symcount raises on bad input is a :class:`SymcountError`.  When the error
belongs to a place in the notation it carries that place, and its message shows the
line with a caret under the spot, einops-style: one class family, precise messages.
"""
from __future__ import annotations


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
        parts = [self.message]
        if self.line is not None and self.column is not None:
            parts[0] += f" (line {self.line}, column {self.column})"
            if self.source is not None:
                lines = self.source.splitlines() or [""]
                if 1 <= self.line <= len(lines):
                    text = lines[self.line - 1].expandtabs(1)
                    width = min(self.width, max(1, len(text) - self.column + 1))
                    parts.append("  " + text)
                    parts.append("  " + " " * (self.column - 1) + "^" + "~" * (width - 1))
        if self.expected:
            parts.append(f"expected {self.expected}")
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
