"""Solve for a paper's unstated numbers from the facts it does state.

A fact is an output (or input) shape after a layer, or a total: `conv1=55x55`,
`fc1.input=512x7x7`, `params=60965224`.  Every unknown symbol gets integer bounds, and
every combination within them is tried with the network's expressions compiled once
(exact integer arithmetic, floors included), so every integer solution is found.  When
none exists, the same facts are solved over the rationals under exact arithmetic to say
why: AlexNet's 55×55 from 224 needs a padding of 3/2 per side, i.e. a total of 3.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import sympy

from symcount.analyses.compiled import compile_exact, limit_points, validity
from symcount.analyses.points import at_points
from symcount.analyses.sweep import count_values
from symcount.errors import SymbolError, SymcountError
from symcount.notation.parse import parse_expr, parse_shape
from symcount.progress import steps
from symcount.notation.spec import Layer, symbols_in, walk

TOTALS = ("params", "weights", "biases", "non_trainable", "activations", "macs")
DEFAULT_BOUNDS = range(0, 1025)
_FACT = re.compile(r"^\s*(?P<target>[A-Za-z_]\w*|\d+)(?:\.(?P<where>input|output))?\s*=\s*(?P<value>.+?)\s*$")


@dataclass(frozen=True)
class Fact:
    """What a paper states: a total, or the (input or output) shape at a layer."""
    target: str          # a total's name, a layer name (conv1) or a 1-based row number
    where: str           # "output", "input", or "" for a total
    value: tuple         # expressions: one for a total; a shape (C×H×W, H×W, or N)
    text: str


@dataclass(frozen=True)
class SolveResult:
    unknowns: tuple
    bounds: dict
    solutions: tuple     # dicts {name: int}
    searched: int
    explanation: str = ""

    def _repr_html_(self) -> str:
        from symcount.render.reports import solve_html
        return solve_html(self)

    def _repr_latex_(self) -> str:
        from symcount.render.reports import solve_latex
        return solve_latex(self)


def parse_fact(text: str) -> Fact:
    match = _FACT.match(text)
    if not match:
        raise SymcountError(f"a fact is NAME=VALUE (params=60965224, conv1=55x55, fc1.input=512x7x7); "
                            f"got {text!r}")
    target, where, value = match["target"], match["where"] or "", match["value"]
    if target in TOTALS:
        if where:
            raise SymcountError(f"{target} is a total; it has no .{where}")
        return Fact(target, "", (parse_expr(value),), text)
    return Fact(target, where or "output", parse_shape(value), text)


def _row(network, target):
    rows = network.layers
    if target.isdigit():
        if not 1 <= int(target) <= len(rows):
            raise SymcountError(f"row {target} does not exist; the table has rows 1 to {len(rows)}")
        return rows[int(target) - 1]
    for row in rows:
        if row.name == target:
            return row
    names = ", ".join(row.name for row in rows)
    raise SymcountError(f"no layer named {target}; the layers are {names}")


def _equations(network, fact):
    """Pairs (expression, stated value) that the fact asserts of this network."""
    if not fact.where:
        return [(getattr(network, fact.target), fact.value[0])]
    row = _row(network, fact.target)
    shape = row.output if fact.where == "output" else row.input
    stated = fact.value
    if len(shape) >= 2 and len(stated) == len(shape) - 1:  # H×W stated of C×H×W (L of C×L, D×H×W of C×D×H×W)
        shape = shape[1:]
    if len(stated) != len(shape):
        raise SymcountError(f"{fact.text}: {row.name}'s {fact.where} has {len(shape)} dimensions, "
                            f"the fact gives {len(stated)}")
    return list(zip(shape, stated))


_UNMET = object()  # the value of a fact whose layer a network built at other counts does not have


def _facts_on(main, facts, spans):
    """For at_points: the facts' expressions on a network, compiled, with its validity.  On a
    network built at other repeat counts a fact's layer may be missing or other: never met there."""
    def compile_for(network):
        expressions, unmet = [], []
        for fact, (first, last) in zip(facts, spans):
            try:
                pairs = _equations(network, fact)
            except SymcountError:
                if network is main:
                    raise
                pairs = []
            if len(pairs) != last - first:
                unmet.append((first, last))
                pairs = [(0, None)] * (last - first)
            expressions += [expr for expr, _ in pairs]
        values_of, valid_at = compile_exact(network.symbols.values(), expressions), validity(network)

        def at(*point):
            try:
                if not valid_at(*point):
                    return None
                values = list(values_of(*point))
            except ZeroDivisionError:
                return None
            for first, last in unmet:
                values[first:last] = [_UNMET] * (last - first)
            return values
        at.size = values_of.size + valid_at.size
        return at
    return compile_for


def _padding_symbols(network):
    """The symbols written in some layer's pad= option, or in the default padding (--padding {p})."""
    found = set()
    if isinstance(network.defaults.padding, tuple):
        found.update(symbols_in(network.defaults.padding))
    for item in walk(network.spec.items):
        pad = item.get("pad") if isinstance(item, Layer) else None
        if isinstance(pad, tuple):
            for p in pad:
                found.update(p.free_symbols)
    return found


def _explain(network, facts, unknown):
    """Why no integer solution: solve the facts over the rationals under exact arithmetic (None
    where the network has no closed form so: a repeat x{n} that keeps the shape only by rounding)."""
    try:
        exact = network.exactly()
    except SymcountError:
        return None
    x = network.symbols[unknown]
    real = sympy.Dummy(unknown, real=True)  # x is declared an integer: solve() would drop 3/2
    equations = [sympy.Eq(expr.xreplace({x: real}), value) for fact in facts
                 for expr, value in _equations(exact, fact) if x in expr.free_symbols]
    try:
        roots = sympy.solve(equations, real, dict=True) if equations else []
    except NotImplementedError:
        roots = []
    values = [r[real] for r in roots if real in r and r[real].is_Rational]
    if not values:
        return "no value of " + unknown + " meets every fact, even with fractional sizes"
    value = values[0]
    text = f"under exact arithmetic the facts need {unknown} = {value}, which is not an integer"
    if x in _padding_symbols(network) and (2 * value).is_Integer:
        total = int(2 * value)
        text += (f": a total padding of 2·{unknown} = {total}, which no equal integer padding per side gives; "
                 f"split asymmetrically, {total // 2} before and {total - total // 2} after "
                 "(TensorFlow's 'same' puts the extra pixel after)")
    return text


def solve(network, facts, bounds=None) -> SolveResult:
    """Every assignment of the network's symbols, within bounds, that meets every fact."""
    if isinstance(facts, (str, Fact)):
        facts = [facts]
    if not isinstance(facts, (list, tuple)) or not all(isinstance(f, (str, Fact)) for f in facts):
        raise SymcountError(f"solve takes a list of facts such as ['conv1=55x55'], got {facts!r}")
    if bounds is not None and not isinstance(bounds, dict):
        raise SymcountError(f"bounds are a dict such as {{'p': range(0, 11)}}, got {bounds!r}")
    facts = [parse_fact(f) if isinstance(f, str) else f for f in facts]
    if not facts:
        raise SymcountError("solve needs at least one fact, e.g. params=60965224 or conv1=55x55")
    bounds = dict(bounds or {})
    network.check_names(bounds)
    unknowns = tuple(network.symbols)
    if not unknowns:
        raise SymbolError("the network has no symbols to solve for; write one in braces, e.g. pad={p}")
    ranges = {name: bounds.get(name, DEFAULT_BOUNDS) for name in unknowns}
    combinations = 1
    for name, values in ranges.items():
        combinations *= count_values(name, values)
    per_fact = [_equations(network, fact) for fact in facts]
    stated, spans = [], []
    for equations in per_fact:  # which of the pairs belong to each fact
        spans.append((len(stated), len(stated) + len(equations)))
        stated += [value for _, value in equations]
    values_at = at_points(network, _facts_on(network, facts, spans))
    limit_points(combinations, [values_at], f"{combinations:,} combinations to try (narrow the bounds, "
                 "e.g. --bounds H=200..300)")
    ranges = {name: list(values) for name, values in ranges.items()}  # only now, within the limit
    for name, values in ranges.items():
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise SymbolError(f"the bounds of {name} must be whole numbers")
    solutions = []
    met_alone = [False] * len(facts)
    for point in steps(itertools.product(*ranges.values()), combinations, "solve"):
        values = values_at(*point)
        if values is None:
            continue
        if values == stated:
            solutions.append(dict(zip(unknowns, point)))
        for index, (first, last) in enumerate(spans):
            met_alone[index] = met_alone[index] or values[first:last] == stated[first:last]
    explanation = ""
    if not solutions:
        unmet = [fact.text for fact, met in zip(facts, met_alone) if not met]
        explanation = (f"no value within the bounds meets {', '.join(unmet)}" if unmet else
                       "each fact can be met alone, but no value within the bounds meets them all")
        why = _explain(network, facts, unknowns[0]) if len(unknowns) == 1 else None
        explanation = why + "; " + explanation if why else explanation
    shown = {name: f"{values[0]}…{values[-1]}" if values else "none" for name, values in ranges.items()}
    return SolveResult(unknowns, shown, tuple(solutions), combinations, explanation)
