"""Counts a caller gives an analysis (a batch, devices, a degree of parallelism): a whole number, or a
symbol's name where the count may stay a formula; anything else is a SymcountError naming it."""
from __future__ import annotations

from symcount import algebra as al
from symcount.errors import SymcountError
from symcount.notation.spec import symbol


def whole(value, what: str, least: int = 1):
    """A whole number >= least, as an exact Int."""
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise SymcountError(f"{what} is a whole number >= {least}, got {value!r}")
    return al.exact(value)


def whole_or_symbol(network, value, what: str):
    """A whole number >= 1, or a symbol's name (the network's own symbol where it has one)."""
    if not isinstance(value, str):
        return whole(value, what)
    if value.isidentifier() and value.isascii():
        return network.symbols.get(value) or symbol(value)
    raise SymcountError(f"{what} is a whole number >= 1 or a symbol's name, got {value!r}")
