"""The table as data: JSON and CSV keep every value exact (an integer, or the formula as
SymPy writes it, which SymPy reads back), the named sizes beside them.

JSON escapes any character itself.  A CSV cell is opened by a spreadsheet, which runs a
cell beginning with = + - @ (or a tab or carriage return) as a formula: such a text cell
gets a leading ' (OWASP's advice on CSV injection), and its control characters are written
as visible escapes (symcount.errors.visible), so each record is one line.  An integer cell
stays a number (a receptive field's padding can be negative: -2 is a number, not a formula)."""
from __future__ import annotations

from symcount.errors import visible
from symcount.render.model import Extras
from symcount.layers.result import layout
from symcount.rows import QUANTITIES


def _plain(expr):
    """JSON value: an int where the expression is an integer, else its formula."""
    return int(expr) if expr.is_number and expr.is_integer else str(expr)


def _record(row_or_net, values, quantities):
    if not values:
        return {q: _plain(getattr(row_or_net, q)) for q in quantities}
    record = {q: _plain(getattr(row_or_net, q).xreplace(values)) for q in quantities}
    record["formulas"] = {q: str(getattr(row_or_net, q)) for q in quantities}
    return record


def as_json(network, values, rows, extras=Extras()) -> str:
    def dims(shape):
        return [_plain(d.xreplace(values) if values else d) for d in shape]

    def plain(expr):
        if expr is None or isinstance(expr, str):
            return expr
        return _plain(expr.xreplace(values) if values else expr)

    layers = []
    for index, row in enumerate(rows):
        layers.append({"name": row.name, "path": ".".join(row.path), "kind": row.kind, "notation": row.text,
                       "count": plain(row.count), "input": dims(row.input), "output": dims(row.output),
                       **_record(row, values, QUANTITIES),
                       **{c.key: plain(c.figures[index]) for c in extras.columns}})
    document = {"input": dims(network.input_shape), "output": dims(network.output_shape),
                "input_layout": layout(network.input_shape), "output_layout": layout(network.output_shape),
                "padding": network.defaults.padding if isinstance(network.defaults.padding, str)
                else str(network.defaults.padding[0]),
                "rounding": {"convolution": network.defaults.conv, "pooling": network.defaults.pool},
                "symbols": list(network.symbols),
                "values": {str(k): _plain(v) for k, v in values.items()},
                "assumptions": [str(a) for a in network.assumptions],
                "layers": layers, "totals": _record(network, values, QUANTITIES)}
    if network.active_params != network.params:  # a mixture of experts: what one token uses
        for layer, row in zip(layers, rows):
            layer["active_params"] = plain(row.active_params)
        document["totals"]["active_params"] = plain(network.active_params)
    if network.heads:  # side(...): each head's output and subtotal (the totals include them)
        document["heads"] = [{"name": head.name, "output": dims(head.subtotal.output),
                              "layers": [i + 1 for i in head.rows], **_record(head.subtotal, values, QUANTITIES)}
                             for head in network.heads]
    for key, entry in (extras.documents or {}).items():
        document[key] = {k: plain(v) if not isinstance(v, (str, list)) else v for k, v in entry.items()}
    document["sizes"] = {str(name): str(value) for name, value in network.sizes.items()}
    if network.sizes:
        document["totals_in_sizes"] = {q: _plain(network.named_total(q)) for q in QUANTITIES}
    if extras.memory is not None:
        document["memory"] = {"dtype": extras.memory.dtype, "bytes_per_element": extras.memory.bytes_per_element,
                              "units": "bytes", **{key: plain(value) for key, _, value in extras.memory.items()}}
    import json  # here, not at the top: a text table does not need it
    return json.dumps(document, indent=2) + "\n"


FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(cell):
    """A cell as a spreadsheet will take it as written: an int as it is, a text shown and
    never a formula."""
    if isinstance(cell, int):
        return cell
    text = visible(cell)
    return "'" + text if text.startswith(FORMULA) else text


def as_csv(network, values, rows, extras=Extras()) -> str:
    """Rows and the total; the memory report is in text, markdown and json."""
    import csv
    import io
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def write(cells):
        writer.writerow([csv_cell(cell) for cell in cells])

    formula_columns = [f"{q}_formula" for q in QUANTITIES] if values else []
    write(["name", "path", "kind", "notation", "count", "input", "output", *QUANTITIES,
           *[c.key for c in extras.columns], *formula_columns])

    def value(expr):
        if expr is None or isinstance(expr, str):
            return "" if expr is None else expr
        return _plain(expr.xreplace(values) if values else expr)

    def shape(s):
        return "x".join(str(value(d)) for d in s)

    for index, row in enumerate(rows):
        write([row.name, ".".join(row.path), row.kind, row.text, value(row.count), shape(row.input),
               shape(row.output),
               *[value(getattr(row, q)) for q in QUANTITIES],
               *[value(c.figures[index]) for c in extras.columns],
               *([str(getattr(row, q)) for q in QUANTITIES] if values else [])])
    write(["total", "", "", "", "", shape(network.input_shape), shape(network.output_shape),
           *[value(getattr(network, q)) for q in QUANTITIES],
           *[value(c.total) for c in extras.columns],
           *([str(getattr(network, q)) for q in QUANTITIES] if values else [])])
    return buffer.getvalue()
