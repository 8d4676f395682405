"""Evaluate a network's totals for many symbol values at once, exactly.

The totals are compiled once with ``sympy.lambdify`` into plain Python.  The printer
below writes floor(n/d) as ``n // d`` and rationals as ``Fraction``, so the sweep is
integer-exact however large the numbers (the default printer would use floats).
A row where some layer's size is <= 0, or where a folded symbolic repeat's assumption
(n >= 1) fails, gets None totals and ``valid`` False.
"""
from __future__ import annotations

from fractions import Fraction

import sympy
from sympy.printing.pycode import PythonCodePrinter

from symcount.errors import SymbolError
from symcount.network import QUANTITIES
from symcount.progress import steps


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


def compile_exact(symbols, exprs):
    """A Python function of `symbols` returning `exprs` (a tuple), exact on integers."""
    printer = _ExactPrinter({"fully_qualified_modules": False, "inline": True,
                             "allow_unknown_functions": True})
    return sympy.lambdify(list(symbols), tuple(exprs), modules=[{"Fraction": Fraction}], printer=printer)


def _plain(value):
    if isinstance(value, Fraction) and value.denominator == 1:
        return int(value)
    return value


def _columns(network, columns: dict) -> tuple[list, int]:
    network.check_names(columns)
    missing = [name for name in network.symbols if name not in columns]
    if missing:
        raise SymbolError(f"sweep needs a value for every symbol; missing: {', '.join(missing)}")
    lengths = {len(v) for v in columns.values() if not isinstance(v, int)}
    if len(lengths) > 1:
        raise SymbolError(f"sweep columns must have one length, got {sorted(lengths)}")
    length = lengths.pop() if lengths else 1
    order = list(network.symbols)
    values = []
    for name in order:
        column = columns[name]
        column = [column] * length if isinstance(column, int) else list(column)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in column):
            raise SymbolError(f"sweep values for {name} must be integers")
        values.append(column)
    return values, length


def validity_terms(network) -> list:
    """Expressions that are all > 0 exactly where the network's formulas hold: every size,
    and every assumption of a folded symbolic repeat (n >= k becomes n - k + 1 > 0)."""
    terms = {d for row in network.layers for d in row.output + row.input if not d.is_number}
    terms.update(a.lhs - a.rhs + 1 for a in network.assumptions)
    return sorted(terms, key=sympy.default_sort_key)


def _compiled(network):
    """(totals function, dimensions function), compiled once per network."""
    cached = network.__dict__.get("_sweep_functions")
    if cached is None:
        symbols = list(network.symbols.values())
        totals = compile_exact(symbols, [getattr(network, q) for q in QUANTITIES])
        dimensions = compile_exact(symbols, validity_terms(network))
        cached = network.__dict__["_sweep_functions"] = (totals, dimensions)
    return cached


def sweep(network, **columns) -> dict:
    """{symbol: [...], 'valid': [...], 'weights': [...], ..., 'macs': [...]}."""
    values, length = _columns(network, columns)
    totals_of, dimensions_of = _compiled(network)
    result = {name: column for name, column in zip(network.symbols, values)}
    result["valid"] = []
    for quantity in QUANTITIES:
        result[quantity] = []
    for point in steps(zip(*values) if values else [()] * length, length, "sweep"):
        valid = all(d > 0 for d in dimensions_of(*point))
        totals = totals_of(*point) if valid else (None,) * len(QUANTITIES)
        result["valid"].append(valid)
        for quantity, total in zip(QUANTITIES, totals):
            result[quantity].append(_plain(total))
    return result
