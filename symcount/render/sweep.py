"""A sweep's points as a text table fitted to the terminal, as CSV, or as JSON, and
:func:`report`, the one path from ranges to output that `symcount sweep` and the prompt's
`:sweep` share.

Text gives every integer in full when that fits the width, else in compact form (138.36 M),
as the layer table does (symcount.render.model.compact).  CSV and JSON keep exact values:
integers as they are, a rational as its text (217/4).
"""
from __future__ import annotations

import csv
import io
import json
import textwrap
from fractions import Fraction

from symcount import progress
from symcount.analyses import quantities as qs
from symcount.analyses.ranges import plan
from symcount.analyses.sweep import sweep_of
from symcount.errors import SymcountError
from symcount.render.data import csv_cell
from symcount.render.model import compact
from symcount.render.text import terminal_width

FORMATS = ("text", "csv", "json")
INVALID = "invalid"


def _exact(value):
    return str(value) if isinstance(value, Fraction) else value


def _cell(value, wide: bool) -> str:
    if value is None:
        return INVALID
    if isinstance(value, Fraction):
        return str(value)
    return f"{value:,}" if wide else compact(value)


def _lines(rows: list) -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths)) for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return lines


def text(title: str, plan, quantities, result, width: int | None = None, wide: bool = False,
         why_invalid: str | None = None, dtype: str | None = None) -> str:
    """The table: the swept names, then one column per quantity; `why_invalid` says what fails
    at the first invalid point."""
    limit = terminal_width(width)
    names = plan.swept or list(plan.columns)[:1]
    fixed = ", ".join(f"{name} = {value:,}" for name, value in plan.fixed.items() if name not in names)
    head = [f"{title}: {result_count(result)}{' (paired)' if plan.paired and len(plan.axes) > 1 else ''}"
            + (f"; {fixed}" if fixed else "")]
    for full in ((True,) if wide else (True, False)):
        rows = [names + [q.heading for q in quantities]]
        for index in range(len(result["valid"])):
            rows.append([f"{result[name][index]:,}" for name in names] +
                        [_cell(result[q.name][index], full) for q in quantities])
        lines = _lines(rows)
        if len(lines[0]) <= limit:
            break
    notes = []
    if not full:
        notes.append("numbers ≥ 10,000 in k, M, G, T (10³, 10⁶, 10⁹, 10¹²); --wide prints them in full")
    if len(lines[0]) > limit:
        notes.append(f"wider than {limit} columns: choose fewer quantities (--quantity)")
    units = [f"{q.heading} in bytes ({qs.dtype_of(q, dtype)})" for q in quantities if qs.dtype_of(q, dtype)]
    if any(q.name == "training" for q in quantities):
        units.insert(0, "training in FLOPs per sample")
    if units:
        notes.append("; ".join(units))
    if not all(result["valid"]):
        notes.append("invalid: the network cannot be built there" + (f"; {why_invalid}" if why_invalid else ""))
    notes = [line for note in head + notes for line in textwrap.wrap(note, limit, subsequent_indent="  ")]
    return "\n".join(notes + [""] + lines) + "\n"


def result_count(result) -> str:
    count = len(result["valid"])
    return f"{count:,} point{'s' if count != 1 else ''}"


def as_csv(plan, quantities, result) -> str:
    names = list(plan.columns)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names + ["valid"] + [q.name for q in quantities])
    for index, valid in enumerate(result["valid"]):
        writer.writerow([result[name][index] for name in names] + [str(valid).lower()] +
                        [csv_cell(_exact(result[q.name][index])) if valid else "" for q in quantities])
    return out.getvalue()


def as_json(title: str, plan, quantities, result) -> str:
    names = list(plan.columns)
    points = [{**{name: result[name][index] for name in names}, "valid": valid,
               **{q.name: _exact(result[q.name][index]) for q in quantities}}
              for index, valid in enumerate(result["valid"])]
    document = {"network": title, "swept": plan.swept, "fixed": plan.fixed, "paired": plan.paired,
                "quantities": {q.name: q.label for q in quantities}, "points": points}
    return json.dumps(document, indent=2, ensure_ascii=True) + "\n"


def report(network, title: str, words, paired: bool = False, quantity: str | None = None, dtype: str | None = None,
           format: str = "text", width: int | None = None, wide: bool = False, plot: str | None = None,
           bar=None) -> str:
    """The sweep that NAME=VALUES words ask for (symcount.analyses.ranges), in `format`, after drawing
    it into the file `plot` when one is named; `bar` shows progress (symcount.progress)."""
    if format not in FORMATS:
        raise SymcountError(f"unknown format {format!r} for a sweep; choose one of {', '.join(FORMATS)}")
    points = plan(words, paired)
    quantities = qs.chosen(quantity)
    with progress.reporting(bar):
        result = sweep_of(network, qs.functions(network, quantities, dtype), points.columns)
    if plot:
        from symcount.render.plot import plot as draw  # matplotlib, only when asked for
        draw(plot, network, title, points, quantities, result, dtype)
    if format == "json":
        return as_json(title, points, quantities, result)
    if format == "csv":
        return as_csv(points, quantities, result)
    return text(title, points, quantities, result, width, wide, _why_invalid(network, points, result), dtype)


def _why_invalid(network, points, result) -> str | None:
    """What the network says at its first invalid point, built there as --set builds it."""
    if all(result["valid"]):
        return None
    index = result["valid"].index(False)
    at = {name: column[index] for name, column in points.columns.items()}
    try:
        network.subs(**at)
    except SymcountError as error:
        where = ", ".join(f"{name} = {value:,}" for name, value in at.items())
        return f"at {where}: {str(error).splitlines()[0]}"
    return None
