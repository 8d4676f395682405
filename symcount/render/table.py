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

from symcount.rows import QUANTITIES, dimension_text

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
    text = "×".join(dimension_text(d) for d in shape)
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
class Column:
    """One more column: its JSON/CSV key, its heading, a value per row and a total
    (a counting convention's figure; a receptive field's size, stride and padding)."""
    key: str
    heading: str
    figures: tuple
    total: object = None


@dataclass(frozen=True)
class Extras:
    columns: tuple = ()
    notes: tuple = ()
    memory: object = None   # a symcount.analyses.memory.Memory to report after the table
    documents: dict = None  # more top-level JSON entries


def _extra_cell(value, values, separators):
    if value is None:
        return "global" if separators else ""
    if isinstance(value, str):
        return value
    return _cell(value, values, separators)


def _grid(network, rows, values, separators, extras=Extras()):
    quantities = _columns(rows)
    folded = _folded(rows)
    columns = extras.columns
    numbers = len(quantities) + len(columns)
    header = ["#", "layer", "notation"] + (["×"] if folded else []) + ["output"] + \
        [HEADINGS[q] for q in quantities] + [c.heading for c in columns]
    body = [["0", "input", "", *([""] if folded else []), _shape(network.input_shape, values)] +
            [""] * numbers]
    for index, row in enumerate(rows, 1):
        body.append([str(index), row.qualified_name, row.text] + ([_cell(row.count, values, separators)] if folded else []) +
                    [_shape(row.output, values)] +
                    [_cell(getattr(row, q), values, separators) for q in quantities] +
                    [_extra_cell(c.figures[index - 1], values, separators) for c in columns])
    total = ["", "total", ""] + ([""] if folded else []) + [_shape(network.output_shape, values)] + \
        [_cell(getattr(network, q), values, separators) for q in quantities] + \
        [_extra_cell(c.total, values, separators) if c.total is not None else "" for c in columns]
    return header, body, total, len(header) - numbers


def _notes(network, values, extras=Extras()) -> list[str]:
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
    notes.extend(extras.notes)
    return notes


def text(network, values, rows, extras=Extras()) -> str:
    header, body, total, first_number = _grid(network, rows, values, True, extras)
    rows = [header] + body + [total]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]

    def line(cells):
        return "  ".join(c.ljust(w) if i < first_number - 1 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    rule = "-" * len(line(header))
    out = _notes(network, values, extras) + ["", line(header), rule] + [line(r) for r in body] + [rule, line(total)]
    if extras.memory is not None:
        out += [""] + extras.memory.lines()
    return "\n".join(out) + "\n"


def markdown(network, values, rows, extras=Extras()) -> str:
    header, body, total, first_number = _grid(network, rows, values, True, extras)
    align = ["---" if i < first_number - 1 else "---:" for i in range(len(header))]
    def code_spans(cells):  # formulas, or Markdown would read their `*` as emphasis
        return [f"`{c}`" if i >= first_number - 1 and any(ch.isalpha() for ch in c) else c
                for i, c in enumerate(cells)]

    body = [code_spans(r) for r in body]
    total = [f"**{c}**" if c else c for c in code_spans(total)]

    def line(cells):
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    notes = "\n".join(f"- {n}" for n in _notes(network, values, extras))
    memory = "\n\n" + "\n".join(f"- {m.strip()}" for m in extras.memory.lines()) \
        if extras.memory is not None else ""
    return notes + "\n\n" + "\n".join(line(r) for r in [header, align] + body + [total]) + memory + "\n"


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
                "padding": network.defaults.padding if isinstance(network.defaults.padding, str)
                else str(network.defaults.padding[0]),
                "rounding": {"convolution": network.defaults.conv, "pooling": network.defaults.pool},
                "symbols": list(network.symbols),
                "values": {str(k): _plain(v) for k, v in values.items()},
                "assumptions": [str(a) for a in network.assumptions],
                "layers": layers, "totals": _record(network, values, QUANTITIES)}
    for key, entry in (extras.documents or {}).items():
        document[key] = {k: plain(v) if not isinstance(v, (str, list)) else v for k, v in entry.items()}
    if extras.memory is not None:
        document["memory"] = {"dtype": extras.memory.dtype, "bytes_per_element": extras.memory.bytes_per_element,
                              "units": "bytes", **{key: plain(value) for key, _, value in extras.memory.items()}}
    return json.dumps(document, indent=2) + "\n"


def as_csv(network, values, rows, extras=Extras()) -> str:
    """Rows and the total; the memory report is in text, markdown and json."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    formula_columns = [f"{q}_formula" for q in QUANTITIES] if values else []
    writer.writerow(["name", "path", "kind", "notation", "count", "input", "output", *QUANTITIES,
                     *[c.key for c in extras.columns], *formula_columns])

    def value(expr):
        if expr is None or isinstance(expr, str):
            return "" if expr is None else expr
        return _plain(expr.xreplace(values) if values else expr)

    def shape(s):
        return "x".join(str(value(d)) for d in s)

    for index, row in enumerate(rows):
        writer.writerow([row.name, ".".join(row.path), row.kind, row.text, value(row.count), shape(row.input),
                         shape(row.output),
                         *[value(getattr(row, q)) for q in QUANTITIES],
                         *[value(c.figures[index]) for c in extras.columns],
                         *([str(getattr(row, q)) for q in QUANTITIES] if values else [])])
    writer.writerow(["total", "", "", "", "", shape(network.input_shape), shape(network.output_shape),
                     *[value(getattr(network, q)) for q in QUANTITIES],
                     *[value(c.total) for c in extras.columns],
                     *([str(getattr(network, q)) for q in QUANTITIES] if values else [])])
    return buffer.getvalue()


_LATEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                   "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIALS.get(char, char) for char in text)


def _latex_value(expr, values) -> str:
    """A number with thin thousands separators, or the formula in math mode (and its value)."""
    if expr is None:
        return "global"
    if isinstance(expr, str):
        return latex_escape(expr)
    if expr.is_number and expr.is_integer:
        return f"{int(expr):,}".replace(",", "{,}")
    cell = f"${sympy.latex(expr)}$"
    if values:
        evaluated = expr.xreplace(values)
        cell += " $=$ " + (f"{int(evaluated):,}".replace(",", "{,}") if evaluated.is_number and evaluated.is_integer
                           else f"${sympy.latex(evaluated)}$")
    return cell


def _latex_shape(shape, values) -> str:
    return "$" + r" \times ".join(sympy.latex(d.xreplace(values) if values else d) for d in shape) + "$"


def latex(network, values, rows, extras=Extras()) -> str:
    """A booktabs table ready to paste into a paper, then the closed-form totals (amsmath)."""
    quantities = _columns(rows)
    headings = ["Layer", "Notation", "Output"] + [HEADINGS[q].capitalize() if q != "macs" else "MACs"
                                                 for q in quantities] + [latex_escape(c.heading) for c in
                                                                         extras.columns]
    lines = ["% symcount: " + latex_escape("; ".join(_notes(network, values, extras))),
             "% needs \\usepackage{booktabs} and \\usepackage{amsmath}",
             r"\begin{table}[t]", r"\centering", r"\begin{tabular}{ll" + "r" * (len(headings) - 2) + "}",
             r"\toprule", " & ".join(headings) + r" \\", r"\midrule",
             " & ".join(["input", "", _latex_shape(network.input_shape, values)] + [""] * (len(headings) - 3))
             + r" \\"]
    for index, row in enumerate(rows):
        name = latex_escape(row.qualified_name) + (f" ($\\times {sympy.latex(row.count)}$)" if row.count != 1 else "")
        cells = [name, r"\texttt{" + latex_escape(row.text) + "}", _latex_shape(row.output, values)]
        cells += [_latex_value(getattr(row, q), values) for q in quantities]
        cells += [_latex_value(c.figures[index], values) for c in extras.columns]
        lines.append(" & ".join(cells) + r" \\")
    totals = ["Total", "", _latex_shape(network.output_shape, values)] + \
        [_latex_value(getattr(network, q), values) for q in quantities] + \
        [_latex_value(c.total, values) if c.total is not None else "" for c in extras.columns]
    lines += [r"\midrule", " & ".join(totals) + r" \\", r"\bottomrule", r"\end{tabular}",
              r"\caption{Shapes, parameters (weights and biases), activations and multiply-accumulates "
              r"(counted by symcount).}", r"\end{table}"]
    formulas = [(q, getattr(network, q)) for q in quantities if not getattr(network, q).is_number]
    if formulas:
        lines += [r"\begin{align*}"] + [
            rf"\text{{{HEADINGS[q]}}} &= {sympy.latex(value)} \\" for q, value in formulas]
        lines[-1] = lines[-1][:-3]
        lines.append(r"\end{align*}")
    return "\n".join(lines) + "\n"


def html(network, values, rows, extras=Extras()) -> str:
    """An HTML table (Jupyter's _repr_html_): the notes, then the grid with the totals."""
    from html import escape
    header, body, total, first_number = _grid(network, rows, values, True, extras)

    def row(cells, tag="td"):
        return "<tr>" + "".join(f'<{tag} style="text-align:{"left" if i < first_number - 1 else "right"}">'
                                f"{escape(c)}</{tag}>" for i, c in enumerate(cells)) + "</tr>"

    notes = "".join(f"<li>{escape(n)}</li>" for n in _notes(network, values, extras))
    return (f"<ul>{notes}</ul><table><thead>{row(header, 'th')}</thead><tbody>"
            + "".join(row(r) for r in body) + f"</tbody><tfoot>{row(total, 'th')}</tfoot></table>")


FORMATS = {"text": text, "markdown": markdown, "json": as_json, "csv": as_csv, "latex": latex, "html": html}


def render(network, format: str, values: dict, rows=None, extras: Extras = Extras()) -> str:
    """`rows` defaults to every layer; pass network.folded(depth) for a folded table, and
    `extras` for more columns, notes and the memory report."""
    from symcount.errors import SymcountError
    if format not in FORMATS:
        raise SymcountError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    return FORMATS[format](network, values, network.layers if rows is None else rows, extras)
