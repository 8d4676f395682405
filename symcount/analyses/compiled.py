"""Network expressions compiled once into plain Python that stays exact.

``sympy.lambdify``'s own printer divides in floating point; the printer here writes
floor(n/d) as ``n // d``, ceiling as ``-(-n // d)``, rationals as ``Fraction`` and, where
a symbol stands in a denominator (a symbolic stride under exact rounding), makes every
argument a ``Fraction``, so results are exact integers or rationals at any magnitude.
:func:`validity` compiles the network's requirements (symcount.layers.requirements):
the one predicate that sweep, solve and the integrality analyses share.
"""
from __future__ import annotations

from fractions import Fraction

import sympy
from sympy.printing.pycode import PythonCodePrinter

from symcount.layers.requirements import TESTS


class _ExactPrinter(PythonCodePrinter):
    def _fraction(self, expr):
        numerator, denominator = sympy.fraction(sympy.together(expr))
        return self._print(numerator), self._print(denominator)

    def _print_floor(self, expr):
        numerator, denominator = self._fraction(expr.args[0])
        return f"(({numerator}) // ({denominator}))"

    def _print_ceiling(self, expr):
        numerator, denominator = self._fraction(expr.args[0])
        return f"(-((-({numerator})) // ({denominator})))"

    def _print_Rational(self, expr):
        return f"Fraction({expr.p}, {expr.q})"

    def _print_Half(self, expr):
        return "Fraction(1, 2)"

    def _print_Min(self, expr):
        return "min(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Max(self, expr):
        return "max(" + ", ".join(self._print(a) for a in expr.args) + ")"


def _divides_by_symbol(exprs) -> bool:
    """Whether some expression divides by a symbol outside a floor or ceiling (which the
    printer writes with //): then Python's / would give a float on integers."""
    for expr in exprs:
        for power in sympy.sympify(expr).atoms(sympy.Pow):
            if power.exp.is_negative and power.base.free_symbols:
                return True
    return False


def compile_exact(symbols, exprs):
    """A Python function of `symbols` returning `exprs` (a tuple), exact on integers."""
    exprs = tuple(exprs)
    printer = _ExactPrinter({"fully_qualified_modules": False, "inline": True,
                             "allow_unknown_functions": True})
    # dummify: a symbol named min, Fraction or self must not shadow a name the code calls
    function = sympy.lambdify(list(symbols), exprs, modules=[{"Fraction": Fraction}], printer=printer, dummify=True)
    if not _divides_by_symbol(exprs):
        return function
    return lambda *point: function(*[Fraction(v) for v in point])


def plain(value):
    """An exact result as the simplest Python number: 3 rather than Fraction(3, 1)."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return int(value)
    return value


def validity(network):
    """valid(*point) -> bool, for the network's symbols in order: every requirement a
    symbol left open holds there (a division by zero on the way means it does not)."""
    cached = network.__dict__.get("_validity")
    if cached is None:
        requirements = network.requirements
        values = compile_exact(network.symbols.values(), [r.expression for r in requirements])
        tests = [TESTS[r.test] for r in requirements]

        def cached(*point):
            try:
                return all(test(value) for test, value in zip(tests, values(*point)))
            except ZeroDivisionError:
                return False
        network.__dict__["_validity"] = cached
    return cached
