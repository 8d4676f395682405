"""Render a network as a text, Markdown, JSON or CSV table.

Numbers get thousands separators in text and Markdown, and stay plain in JSON and CSV.
A symbolic cell shows its formula; given values (CLI --set), the number follows it
after " = ".  Each row's counts cover the whole row, so a folded repeat row (×n) holds
the n layers' total, and the column sums are the network's totals.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

import sympy

from symcount.network import QUANTITIES

HEADINGS = {"weights": "weights", "biases": "biases", "params": "params",
            "non_trainable": "non-trainable", "activations": "activations", "macs": "MACs"}


def _number(value, separators: bool) -> str:
    if isinstance(value, sympy.Integer) or (value.is_number and value.is_integer):
        return f"{int(value):,}" if separators else str(int(value))
    return str(value)


def _cell(expr, values: dict, separators: bool = True) -> str:
    if expr.is_number:
        return _number(expr, separators)
    if not values:
        return str(expr)
    evaluated = expr.xreplace(values)
    return f"{expr} = {_number(evaluated, separators) if evaluated.is_number else evaluated}"


def _shape(shape, values: dict) -> str:
    text = "×".join(str(d) for d in shape)
    if values and not all(d.is_number for d in shape):
        return text + " = " + "×".join(str(d.xreplace(values)) for d in shape)
    return text


def _plain(expr):
    """JSON value: an int where the expression is an integer, else its formula."""
    return int(expr) if expr.is_number and expr.is_integer else str(expr)


def _columns(rows):
    shown = [q for q in QUANTITIES if q != "non_trainable"]
    if any(row.non_trainable != 0 for row in rows):
        shown.insert(shown.index("params") + 1, "non_trainable")
    return shown


def _folded(rows) -> bool:
    return any(row.count != 1 for row in rows)


@dataclass(frozen=True)
class Extra:
    """One more column: a counting convention's figure per row and in total."""
    heading: str
    figures: tuple
    total: object = None
    note: str = ""
    memory: object = None   # a symcount.analyses.memory.Memory to report after the table


def _grid(network, rows, values, separators, extra=None):
    quantities = _columns(rows)
    folded = _folded(rows)
    extra = extra if extra is not None and extra.figures else None
    numbers = len(quantities) + (1 if extra else 0)
    header = ["#", "layer", "notation"] + (["×"] if folded else []) + ["output"] + \
        [HEADINGS[q] for q in quantities] + ([extra.heading] if extra else [])
    body = [["0", "input", "", *([""] if folded else []), _shape(network.input_shape, values)] +
            [""] * numbers]
    for index, row in enumerate(rows, 1):
        body.append([str(index), row.qualified_name, row.text] + ([_cell(row.count, values, separators)] if folded else []) +
                    [_shape(row.output, values)] +
                    [_cell(getattr(row, q), values, separators) for q in quantities] +
                    ([_cell(extra.figures[index - 1], values, separators)] if extra else []))
    total = ["", "total", ""] + ([""] if folded else []) + [_shape(network.output_shape, values)] + \
        [_cell(getattr(network, q), values, separators) for q in quantities] + \
        ([_cell(extra.total, values, separators)] if extra else [])
    return header, body, total, len(header) - numbers


def _notes(network, values, extra=None) -> list[str]:
    notes = []
    defaults = network.defaults
    padding = defaults.padding if isinstance(defaults.padding, str) else defaults.padding[0]
    rounding = defaults.conv if defaults.conv == defaults.pool else \
        f"{defaults.conv} (convolution), {defaults.pool} (pooling)"
    notes.append(f"input {_shape(network.input_shape, values)}; convolution padding {padding}; "
                 f"rounding {rounding}")
    if network.symbols:
        integers = [name for name, s in network.symbols.items() if s.is_integer]
        rationals = [name for name, s in network.symbols.items() if not s.is_integer]
        described = ([f"{', '.join(integers)} (nonnegative integers)"] if integers else []) + \
                    ([f"{', '.join(rationals)} (positive rationals)"] if rationals else [])
        notes.append("symbols: " + "; ".join(described) +
                     ("; values: " + ", ".join(f"{k}={v}" for k, v in values.items()) if values else ""))
    for assumption in network.assumptions:
        notes.append(f"assumes {assumption} (a repeat of a symbolic count, folded after its first passes)")
    if extra is not None and extra.note:
        notes.append(extra.note)
    return notes


def text(network, values, rows, extra=None) -> str:
    header, body, total, first_number = _grid(network, rows, values, True, extra)
    rows = [header] + body + [total]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]

    def line(cells):
        return "  ".join(c.ljust(w) if i < first_number - 1 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    rule = "-" * len(line(header))
    out = _notes(network, values, extra) + ["", line(header), rule] + [line(r) for r in body] + [rule, line(total)]
    if extra is not None and extra.memory is not None:
        out += [""] + extra.memory.lines()
    return "\n".join(out) + "\n"


def markdown(network, values, rows, extra=None) -> str:
    header, body, total, first_number = _grid(network, rows, values, True, extra)
    align = ["---" if i < first_number - 1 else "---:" for i in range(len(header))]
    def code_spans(cells):  # formulas, or Markdown would read their `*` as emphasis
        return [f"`{c}`" if i >= first_number - 1 and any(ch.isalpha() for ch in c) else c
                for i, c in enumerate(cells)]

    body = [code_spans(r) for r in body]
    total = [f"**{c}**" if c else c for c in code_spans(total)]

    def line(cells):
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    notes = "\n".join(f"- {n}" for n in _notes(network, values, extra))
    memory = "\n\n" + "\n".join(f"- {m.strip()}" for m in extra.memory.lines()) \
        if extra is not None and extra.memory is not None else ""
    return notes + "\n\n" + "\n".join(line(r) for r in [header, align] + body + [total]) + memory + "\n"


def _record(row_or_net, values, quantities):
    if not values:
        return {q: _plain(getattr(row_or_net, q)) for q in quantities}
    record = {q: _plain(getattr(row_or_net, q).xreplace(values)) for q in quantities}
    record["formulas"] = {q: str(getattr(row_or_net, q)) for q in quantities}
    return record


def as_json(network, values, rows, extra=None) -> str:
    column = extra if extra is not None and extra.figures else None
    def dims(shape):
        return [_plain(d.xreplace(values) if values else d) for d in shape]

    def plain(expr):
        return _plain(expr.xreplace(values) if values else expr)

    layers = []
    for index, row in enumerate(rows):
        layers.append({"name": row.name, "path": ".".join(row.path), "kind": row.kind, "notation": row.text,
                       "count": plain(row.count), "input": dims(row.input), "output": dims(row.output),
                       **_record(row, values, QUANTITIES),
                       **({"ops": plain(column.figures[index])} if column else {})})
    document = {"input": dims(network.input_shape), "output": dims(network.output_shape),
                "padding": network.defaults.padding if isinstance(network.defaults.padding, str)
                else str(network.defaults.padding[0]),
                "rounding": {"convolution": network.defaults.conv, "pooling": network.defaults.pool},
                "symbols": list(network.symbols),
                "values": {str(k): _plain(v) for k, v in values.items()},
                "assumptions": [str(a) for a in network.assumptions],
                "layers": layers, "totals": _record(network, values, QUANTITIES)}
    if extra is not None and extra.figures:
        document["ops"] = {"convention": extra.heading, "total": plain(extra.total), "note": extra.note}
    if extra is not None and extra.memory is not None:
        document["memory"] = {"dtype": extra.memory.dtype, "bytes_per_element": extra.memory.bytes_per_element,
                              "units": "bytes", **{key: plain(value) for key, _, value in extra.memory.items()}}
    return json.dumps(document, indent=2) + "\n"


def as_csv(network, values, rows, extra=None) -> str:
    extra = extra if extra is not None and extra.figures else None  # CSV holds rows; memory is in json
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    formula_columns = [f"{q}_formula" for q in QUANTITIES] if values else []
    ops = ["ops"] if extra else []
    writer.writerow(["name", "path", "kind", "notation", "count", "input", "output", *QUANTITIES, *ops,
                     *formula_columns])

    def value(expr):
        return _plain(expr.xreplace(values) if values else expr)

    def shape(s):
        return "x".join(str(value(d)) for d in s)

    for index, row in enumerate(rows):
        writer.writerow([row.name, ".".join(row.path), row.kind, row.text, value(row.count), shape(row.input),
                         shape(row.output),
                         *[value(getattr(row, q)) for q in QUANTITIES],
                         *([value(extra.figures[index])] if extra else []),
                         *([str(getattr(row, q)) for q in QUANTITIES] if values else [])])
    writer.writerow(["total", "", "", "", "", shape(network.input_shape), shape(network.output_shape),
                     *[value(getattr(network, q)) for q in QUANTITIES],
                     *([value(extra.total)] if extra else []),
                     *([str(getattr(network, q)) for q in QUANTITIES] if values else [])])
    return buffer.getvalue()


FORMATS = {"text": text, "markdown": markdown, "json": as_json, "csv": as_csv}


def render(network, format: str, values: dict, rows=None, extra: Extra | None = None) -> str:
    """`rows` defaults to every layer; pass network.folded(depth) for a folded table, and
    `extra` for a counting convention's column."""
    from symcount.errors import SymcountError
    if format not in FORMATS:
        raise SymcountError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    return FORMATS[format](network, values, network.layers if rows is None else rows, extra)
