"""Columns a table may leave out because the others already say what they hold.

A terminal table drops these before it moves any formula out of its cell (symcount.render.text):
each is checked row by row when the table is built, so a dropped column never hid a figure.
A column chosen with --columns is never dropped.
"""
from __future__ import annotations

from symcount import algebra as al

# In the order they go, with what the note above the table says of each.
DERIVED = (("weights", "weights = params − biases"),
           ("biases", ""),
           ("activations", "activations = the output's size × the row's count"))


def derivable(network, rows) -> dict:
    """{column key: why it may go} for the columns of DERIVED that hold nothing new here:
    weights always (params − biases), biases with them, and in a symbolic table activations
    when every row's is its output's size times its count (a product the output column
    writes already; a numeric table's activations are a figure the reader would have to work out)."""
    out = {key: reason for key, reason in DERIVED if key != "activations"}
    if rows and network.is_symbolic and all(_same(row.activations, al.Mul(row.count, *row.output)) for row in rows):
        out["activations"] = dict(DERIVED)["activations"]
    return out


def _same(a, b) -> bool:
    """Whether two counts are equal for every value of their symbols."""
    if not (al.is_expr(a) or al.is_expr(b)):
        return a == b
    try:
        return al.expand(a - b) == 0
    except al.LimitError:
        return False


def drops(columns, derivable_keys: dict, chosen: bool) -> list[tuple]:
    """The sets of columns to try leaving out, fewest first: () and each longer prefix of
    DERIVED whose columns are shown and derivable."""
    if chosen:
        return [()]
    shown = {c.key for c in columns}
    keys = [key for key, _ in DERIVED if key in shown and key in derivable_keys]
    return [()] + [tuple(keys[:n]) for n in range(1, len(keys) + 1)]


def note(dropped: tuple, derivable_keys: dict) -> str:
    """The note above a table that left `dropped` out."""
    reasons = [derivable_keys[key] for key in dropped if derivable_keys.get(key)]
    names = " and ".join(dropped) if len(dropped) < 3 else f"{', '.join(dropped[:-1])} and {dropped[-1]}"
    return f"{names} left out to fit: {'; '.join(reasons)} (columns can be chosen)"
