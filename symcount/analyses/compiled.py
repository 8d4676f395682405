"""Network expressions compiled once into plain Python that stays exact.

A small code generator walks each expression's tree and writes one Python function:
floor(n/d) as ``n // d``, ceiling as ``-(-n // d)``, rationals as ``Fraction``, a power
with a negative exponent as a ``Fraction`` division, min, max and case splits as Python's
own, so results are exact integers or rationals at any magnitude (never a float).  The
symbols become the function's arguments a0, a1, …, so no name of the user's reaches the
code.  Any node the generator does not know falls back to SymPy's lambdify.
:func:`validity` compiles the network's requirements (symcount.layers.requirements):
the one predicate that sweep, solve and the integrality analyses share.
"""
from __future__ import annotations

from fractions import Fraction

import sympy

from symcount.errors import LimitError
from symcount.layers.requirements import TESTS

RELATIONS = {"==": "==", "!=": "!=", ">=": ">=", ">": ">", "<=": "<=", "<": "<"}


class _Unknown(Exception):
    """A node the generator does not write."""


def _fraction(expr) -> tuple:
    return sympy.fraction(sympy.together(expr))


def _code(expr, names: dict) -> str:
    """Python source computing `expr` exactly; `names` maps each symbol to its argument."""
    if expr.is_Integer:
        return f"({int(expr)})"
    if expr.is_Rational:
        return f"Fraction({int(expr.p)}, {int(expr.q)})"
    if expr.is_Symbol:
        return names[expr]
    if expr is sympy.true or expr is sympy.false:
        return str(bool(expr))
    if expr.is_Add:
        return "(" + " + ".join(_code(a, names) for a in expr.args) + ")"
    if expr.is_Mul:
        return "(" + " * ".join(_code(a, names) for a in expr.args) + ")"
    if expr.is_Pow and expr.exp.is_Integer:
        if expr.exp > 0:
            return f"({_code(expr.base, names)} ** {int(expr.exp)})"
        return f"(Fraction(1) / {_code(expr.base, names)} ** {-int(expr.exp)})"
    if isinstance(expr, (sympy.floor, sympy.ceiling)):
        numerator, denominator = (_code(part, names) for part in _fraction(expr.args[0]))
        if isinstance(expr, sympy.floor):
            return f"({numerator} // {denominator})"
        return f"(-((-{numerator}) // {denominator}))"
    if isinstance(expr, (sympy.Min, sympy.Max)):
        return f"{'min' if isinstance(expr, sympy.Min) else 'max'}(" + ", ".join(_code(a, names)
                                                                            for a in expr.args) + ")"
    if isinstance(expr, sympy.Mod):
        return f"({_code(expr.args[0], names)} % {_code(expr.args[1], names)})"
    if isinstance(expr, sympy.Piecewise):
        out = "None"
        for value, condition in reversed(expr.args):
            out = f"({_code(value, names)} if {_code(condition, names)} else {out})"
        return out
    if expr.is_Relational and expr.rel_op in RELATIONS:
        return f"({_code(expr.lhs, names)} {RELATIONS[expr.rel_op]} {_code(expr.rhs, names)})"
    if isinstance(expr, (sympy.And, sympy.Or)):
        joiner = " and " if isinstance(expr, sympy.And) else " or "
        return "(" + joiner.join(_code(a, names) for a in expr.args) + ")"
    if isinstance(expr, sympy.Not):
        return f"(not {_code(expr.args[0], names)})"
    raise _Unknown(type(expr).__name__)


def compile_exact(symbols, exprs):
    """A Python function of `symbols` returning `exprs` (a tuple), exact on integers."""
    symbols, exprs = list(symbols), tuple(sympy.sympify(e) for e in exprs)
    names = {symbol: f"a{i}" for i, symbol in enumerate(symbols)}
    try:
        body = ", ".join(_code(expr, names) for expr in exprs)
    except _Unknown:
        function = sympy.lambdify(symbols, exprs, modules=[{"Fraction": Fraction}], dummify=True)
        compiled = lambda *point: function(*[Fraction(v) for v in point])  # noqa: E731
        compiled.size = len(str(exprs))
        return compiled
    source = f"def compiled({', '.join(names.values())}):\n    return ({body}{',' if len(exprs) == 1 else ''})\n"
    namespace = {"Fraction": Fraction}
    exec(compile(source, "<symcount: compiled closed forms>", "exec"), namespace)  # our own code, no user text
    compiled = namespace["compiled"]
    compiled.size = len(body)  # what one call costs, for the limit on work (most_points)
    return compiled


MAX_WORK = 500_000_000  # steps one sweep, solve or valid_sizes may take: about a second (VGG-16: 304,506 points)
POINT_STEPS = 1_000     # what one point costs besides its compiled code (a step per character of it)


def most_points(*functions) -> int:
    """How many points (or combinations) the work limit allows, each a call of every function."""
    return MAX_WORK // (POINT_STEPS + sum(function.size for function in functions))


def limit_points(points: int, functions, what: str) -> None:
    """Refuse `points` calls of `functions` beyond the work limit, before any is made."""
    allowed = most_points(*functions)
    if points > allowed:
        size = sum(function.size for function in functions)
        raise LimitError(f"{what}: this network allows at most {allowed:,} (a limit of {MAX_WORK:,} steps of work, "
                         f"each point {POINT_STEPS:,} steps and one per character of the compiled closed forms, "
                         f"{size:,} here)")


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
        cached.size = values.size
        network.__dict__["_validity"] = cached
    return cached
