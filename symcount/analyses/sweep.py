"""Evaluate a network's totals for many symbol values at once, exactly.

The totals are compiled once into plain Python that stays exact however large the
numbers (symcount.analyses.compiled).  A point where the network is invalid (a size
below 1, groups that do not divide the channels, ... : the network's requirements,
which a numeric input or ``subs`` would refuse) gets None totals and ``valid`` False.
A point below the passes a symbolic repeat count is folded after is counted as subs
counts it (symcount.analyses.points).
"""
from __future__ import annotations

from fractions import Fraction
from operator import attrgetter

from symcount.analyses.compiled import compile_exact, limit_points, plain, validity
from symcount.analyses.points import at_points
from symcount.rows import QUANTITIES
from symcount.errors import LimitError, SymbolError
from symcount.notation.names import too_large
from symcount.progress import steps


def count_values(name, column) -> int:
    """How many values a column holds, counted before any is listed (a range may be huge)."""
    if isinstance(column, range):
        return max(0, -((column.start - column.stop) // column.step)) if column.step > 0 else \
            max(0, -((column.stop - column.start) // -column.step))
    if isinstance(column, (str, bytes)) or not hasattr(column, "__len__"):
        raise SymbolError(f"{name} takes an int or a sequence of ints (a range, a list), got {column!r}")
    return len(column)


def _columns(network, columns: dict, quantities: dict) -> tuple[list, int]:
    network.check_names(columns)
    missing = [name for name in network.symbols if name not in columns]
    if missing:
        raise SymbolError(f"sweep needs a value for every symbol; missing: {', '.join(missing)}")
    single = {name for name, column in columns.items() if isinstance(column, int) and not isinstance(column, bool)}
    lengths = {count_values(name, column) for name, column in columns.items() if name not in single}
    if len(lengths) > 1:
        raise SymbolError(f"sweep columns must have one length, got {sorted(lengths)}")
    length = lengths.pop() if lengths else 1
    limit_points(length, [_compiled(network, quantities)], f"a sweep of {length:,} points")
    values = []
    for name in network.symbols:
        column = columns[name]
        column = [column] * length if name in single else list(column)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in column):
            raise SymbolError(f"sweep values for {name} must be integers")
        if any(too_large(v) for v in column):
            raise LimitError(f"sweep values for {name}: a value with more than 500 digits")
        values.append(column)
    return values, length


TOTALS = {quantity: attrgetter(quantity) for quantity in QUANTITIES}  # the table's six totals


def _totals(network, quantities: dict = TOTALS):
    """The totals at a point of this network's symbols, or None where it is invalid there."""
    totals_of = compile_exact(network.symbols.values(), [of(network) for of in quantities.values()])
    valid_at = validity(network)

    def at(*point):
        return totals_of(*point) if valid_at(*point) else None
    at.size = totals_of.size + valid_at.size
    return at


def _compiled(network, quantities: dict = TOTALS):
    """The totals function, compiled once per network and choice of quantities."""
    cache = network.__dict__.setdefault("_sweep_totals", {})
    key = tuple(quantities.items())
    if key not in cache:
        cache[key] = at_points(network, lambda net: _totals(net, quantities))
    return cache[key]


def sweep(network, /, **columns) -> dict:
    """{symbol: [...], 'valid': [...], 'weights': [...], ..., 'macs': [...]}."""
    return sweep_of(network, TOTALS, columns)


def sweep_of(network, quantities: dict, columns: dict) -> dict:
    """The same for other quantities: {name: function of a network giving its expression}
    (symcount.analyses.quantities), each a list in the result under its name."""
    values, length = _columns(network, columns, quantities)
    totals_at = _compiled(network, quantities)
    result = {name: column for name, column in zip(network.symbols, values)}
    result["valid"], rows, invalid = [], [], (None,) * len(quantities)
    for point in steps(zip(*values) if values else [()] * length, length, "sweep"):
        totals = totals_at(*point)
        result["valid"].append(totals is not None)
        rows.append(invalid if totals is None else totals)
    for quantity, column in zip(quantities, zip(*rows) if rows else [()] * len(quantities)):
        result[quantity] = [plain(total) if type(total) is Fraction else total for total in column]
    return result
