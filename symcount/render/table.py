"""Render a network's table in one of FORMATS.

text, markdown, latex and html print one symcount.render.model.Table (named sizes,
readable formulas, fitted to the terminal or the page); json and csv keep exact values
(symcount.render.data).  Each row's counts cover the whole row, so a folded repeat row
(×n) holds the n layers' total, and the column sums are the network's totals.
"""
from __future__ import annotations

from dataclasses import replace

from symcount.errors import SymcountError
from symcount.render import data
from symcount.render.model import Column, Extras, Options, build  # noqa: F401  (Column, Extras: the API)

FORMATS = ("text", "markdown", "json", "csv", "latex", "html")
LATEX_COLUMNS = ("notation", "output", "params", "macs")


def render(network, format: str, values: dict, rows=None, extras: Extras = Extras(), options: Options = Options(),
           given=None) -> str:
    """`rows` defaults to every layer; pass network.folded(depth) for a folded table,
    `extras` for more columns, notes and the memory report, `options` for the columns,
    rows and width shown, `given` for the values a substituted network was taken at."""
    if format not in FORMATS:
        raise SymcountError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    rows = network.layers if rows is None else rows
    if format == "json":
        return data.as_json(network, values, rows, extras)
    if format == "csv":
        return data.as_csv(network, values, rows, extras)
    if format == "latex" and options.columns is None:  # a paper's table: what fits a page
        options = replace(options, columns=LATEX_COLUMNS)
    table = build(network, values, rows, extras, options, given)
    if format == "text":
        from symcount.render.text import text
        return text(table, options.width, options.wide, options.columns is not None)
    if format == "markdown":
        from symcount.render.text import markdown
        return markdown(table)
    if format == "latex":
        from symcount.render.latex import latex
        return latex(table, options.float)
    from symcount.render.html import html
    return html(table, options.width, options.columns is not None, options.wide)
