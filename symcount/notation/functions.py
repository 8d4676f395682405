"""Functions the notation's braces may call, as data: a name, its arguments, a rule.

make_divisible(v, d=8, least=d) is MobileNet's rounding of a width (torchvision's
`_make_divisible`, from the TensorFlow MobileNet code): v rounded to the nearest multiple
of d (halves up), at least `least`, and one d more if that lost over 10 % of v.  Exact for
numbers; for a symbolic v a SymPy Max and case split that a later value settles.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from symcount import algebra as al


def make_divisible(value, divisor=al.Integer(8), least=None):
    """Unevaluated until its symbols are known: a width multiplier is read as a whole
    symbol in braces and becomes a rational one later, and floor(4·α + 1/2) must not
    have been settled as if α were whole."""
    least = divisor if least is None else least
    if not value.is_number:
        sympy = al.sympy()
        rounded = sympy.Max(least, sympy.floor(value / divisor + sympy.Rational(1, 2), evaluate=False) * divisor,
                            evaluate=False)
        return sympy.Piecewise((rounded + divisor, sympy.StrictLessThan(rounded, sympy.Rational(9, 10) * value,
                                                                       evaluate=False)), (rounded, True),
                               evaluate=False)
    rounded = al.Max(least, al.floor(value / divisor + al.Rational(1, 2)) * divisor)
    return rounded + divisor if rounded < al.Rational(9, 10) * value else rounded


@dataclass(frozen=True)
class Function:
    rule: Callable
    arguments: str      # what it takes, for the error messages
    meaning: str


FUNCTIONS = {
    "make_divisible": Function(make_divisible, "make_divisible(width, divisor=8, least=divisor)",
                               "MobileNet's rounding of a width to a multiple of the divisor, "
                               "never below 90 % of it"),
}
