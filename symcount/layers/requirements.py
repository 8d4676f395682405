"""What a layer needs of its numbers: the one validity predicate of every analysis.

A layer states each need once (a size of at least 1, groups that divide the channels,
pooling padding of at most half the kernel, ...).  Where the numbers decide it, a need
that fails is an error at once, so a numeric input and ``subs`` refuse the layer; where
a symbol leaves it open, the need is kept as a :class:`Requirement`, and ``sweep``,
``solve``, ``check`` and ``valid_sizes`` evaluate the kept ones at each point
(symcount.analyses.compiled), so all of them accept exactly the same networks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from symcount import algebra as al

from symcount.errors import ShapeError

Expr = object  # an Int, a Rat or a SymPy expression (symcount.algebra)

# What a requirement's expression must be, at a point where every symbol has a value.
TESTS = {
    "nonnegative": lambda value: value >= 0,
    "zero": lambda value: value == 0,
    "whole": lambda value: value == math.floor(value),
}


class LayerProblem(Exception):
    """Raised inside evaluation; the network builder adds the layer's place and input."""

    def __init__(self, message: str, error: type = ShapeError):
        super().__init__(message)
        self.error = error


@dataclass(frozen=True)
class Requirement:
    """A need its symbols leave open: `expression` must pass `test` (one of TESTS).
    `message` says why: text, or a function giving it (deep networks keep thousands)."""
    expression: Expr
    test: str
    message: object

    @property
    def why(self) -> str:
        return self.message() if callable(self.message) else self.message

    def holds(self, value) -> bool:
        return TESTS[self.test](value)

    def __repr__(self) -> str:
        return f"Requirement({self.expression}, {self.test!r}, {self.why!r})"


MAX_DEGREE = 4  # past this degree SymPy's sign of a polynomial (by its roots) takes seconds, more each degree


def decide(expression: Expr, test: str):
    """True or False where SymPy can tell from the symbols' assumptions, else None (also where
    asking would cost too much: p·(p·(p·(31p + 1) + 1) + 1) + 2 after transposed convolutions
    of stride {p}, whose sign SymPy seeks through the roots of a polynomial of that degree)."""
    if al.is_expr(expression) and al.measure(expression)[2] > MAX_DEGREE:
        return None
    if test == "nonnegative":
        if expression.is_nonnegative:
            return True
        return False if expression.is_negative else None
    if test == "zero":
        return expression.is_zero
    return expression.is_integer


class Needs:
    """The requirements of one evaluation: a need that certainly fails raises, an open
    one is kept in `open`."""

    def __init__(self):
        self.open: list[Requirement] = []

    def require(self, expression: Expr, test: str, message, error: type = ShapeError):
        """`message` is text, or a function giving it (built only when it is needed)."""
        expression = al.exact(expression)
        verdict = decide(expression, test)
        if verdict is True:
            return
        if verdict is False:
            raise LayerProblem(message() if callable(message) else message, error)
        self.open.append(Requirement(expression, test, message))

    def whole(self, value: Expr, what: str, minimum: int | None = None):
        """`value` is a whole number (and at least `minimum`, where given)."""
        self.require(value, "whole", f"{what} must be a whole number, got {value}")
        if minimum is not None:
            self.require(value - minimum, "nonnegative", f"{what} must be at least {minimum}, got {value}")

    def divides(self, divisor: Expr, value: Expr, message: str):
        """`divisor` divides `value` (both whole, the divisor at least 1)."""
        self.require(al.Mod(value, divisor), "zero", message)
