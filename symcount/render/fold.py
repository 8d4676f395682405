"""Columns that do not fit the terminal continue in a second table under the first.

A text table too wide for the terminal, once its own layouts are tried (symcount.render.text),
is split by columns rather than cut: the columns a request added (a convention's figures,
the receptive field, training FLOPs) move as one group, and chosen columns (--columns) move
from the right, a group at a time, layer names shortened first.  The second table repeats
the row number and the layer, so each of its rows reads on its own.
"""
from __future__ import annotations

from dataclasses import replace

from symcount.render.model import CHOOSABLE, Table

KEYS = ("index", "layer")       # repeated in every part
ATTACHED = {"count": "output"}  # a repeat count (×) stays beside the output it multiplies


def _groups(keys: list) -> list[tuple]:
    """The keys in the groups that move together: a count with its output."""
    groups = []
    for key in keys:
        if groups and groups[-1][-1] in ATTACHED and ATTACHED[groups[-1][-1]] == key:
            groups[-1] += (key,)
        else:
            groups.append((key,))
    return groups


def splits(table: Table, chosen: bool) -> list[tuple[tuple, bool]]:
    """(the keys of the columns to move to a second table, whether layer names are shortened)
    in the order tried: nothing moved, then the added columns; then, for chosen columns, more
    and more of them from the right, each time with layer names in full, then shortened
    (…dense1.conv3), so that names shorten before a table splits again."""
    keys = [c.key for c in table.columns if c.key not in KEYS]
    added = tuple(k for k in keys if k not in CHOOSABLE and k not in ATTACHED)
    main = _groups([k for k in keys if k not in added])
    if not main:  # a table of added columns alone (one moved already): they move one at a time
        main, added = _groups(list(added)), ()
    tried = [((), False)] + ([(added, False)] if added else [])
    if chosen:
        tried.insert(1, ((), True))
        tried += [(tuple(k for group in main[kept:] for k in group) + added, names)
                  for kept in range(len(main) - 1, 0, -1) for names in (False, True)]
    return list(dict.fromkeys(tried))


def split(table: Table, moved: tuple) -> tuple[Table, Table | None]:
    """The table without the `moved` columns, and a table of the row numbers, layers and
    those columns (None when nothing moves).  Notes, totals and reports stay with the first."""
    if not moved:
        return table, None

    def part(keep):
        indices = [i for i, c in enumerate(table.columns) if keep(c.key)]
        return [table.columns[i] for i in indices], [[row[i] for i in indices] for row in table.body], \
            [table.total[i] for i in indices]

    columns, body, total = part(lambda key: key not in moved)
    first = replace(table, columns=columns, body=body, total=total)
    columns, body, total = part(lambda key: key in KEYS or key in moved)
    second = replace(table, columns=columns, body=body, total=total, notes=[], totals=[], headline=[],
                     memory=None, training_memory=None)
    return first, second
