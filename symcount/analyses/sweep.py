"""Evaluate a network's totals for many symbol values at once, exactly.

The totals are compiled once into plain Python that stays exact however large the
numbers (symcount.analyses.compiled).  A point where the network is invalid (a size
below 1, groups that do not divide the channels, ... : the network's requirements,
which a numeric input or ``subs`` would refuse) gets None totals and ``valid`` False.
"""
from __future__ import annotations

from symcount.analyses.compiled import compile_exact, plain, validity
from symcount.errors import SymbolError
from symcount.network import QUANTITIES
from symcount.progress import steps


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


def _compiled(network):
    """The totals function, compiled once per network."""
    cached = network.__dict__.get("_sweep_totals")
    if cached is None:
        symbols = list(network.symbols.values())
        cached = network.__dict__["_sweep_totals"] = compile_exact(symbols, [getattr(network, q) for q in QUANTITIES])
    return cached


def sweep(network, **columns) -> dict:
    """{symbol: [...], 'valid': [...], 'weights': [...], ..., 'macs': [...]}."""
    values, length = _columns(network, columns)
    totals_of, valid_at = _compiled(network), validity(network)
    result = {name: column for name, column in zip(network.symbols, values)}
    result["valid"] = []
    for quantity in QUANTITIES:
        result[quantity] = []
    for point in steps(zip(*values) if values else [()] * length, length, "sweep"):
        valid = valid_at(*point)
        totals = totals_of(*point) if valid else (None,) * len(QUANTITIES)
        result["valid"].append(valid)
        for quantity, total in zip(QUANTITIES, totals):
            result[quantity].append(plain(total))
    return result
