"""The table as HTML (Jupyter's _repr_html_): formulas typeset as math in HTML itself,
italic symbols with subscripts, ⌊ ⌋ brackets and · products, so they render the same
with or without MathJax (offline, in nbconvert's HTML, on GitHub).

It fits a page as the terminal table fits a terminal, with the same choices
(symcount.render.text.layout): WIDTH characters, about 1,000 pixels at a notebook's table
font, by default.  Columns the others give are left out, layer and notation cut with "…"
(the whole text in the cell's title), and only a formula too long for its column moves
under the table, its cell holding a marker.  No cell breaks inside a token; a table wider
still (a width asked for) scrolls sideways.  The named sizes are above the table, the totals
and the moved formulas under it."""
from __future__ import annotations

from symcount.render import fields
from symcount.render.formula import escape, show, show_shape
from symcount.render.model import Pair, Table, headline, number_text

WIDTH = 110  # characters of text across a table: 1,000 px at 13 px with two characters between columns


def _cell(value, wide: bool) -> str:
    if value is None:
        return "global"
    if isinstance(value, str):
        text, formula = fields.cell(value, lambda v: number_text(v, "html", wide))
        return text if formula else escape(text)  # a formula is HTML already
    if isinstance(value, Pair):
        return f"{_cell(value.formula, wide)} = {_cell(value.value, wide)}"
    if isinstance(value, tuple):
        return show_shape(value, "html")
    return number_text(value, "html", wide)


def html(table: Table, width: int | None = None, chosen: bool = False, wide: bool = False) -> str:
    """The table in `width` characters (WIDTH when None), full numbers if `wide`; `chosen`:
    the columns were chosen, so none is left out."""
    from symcount.render.text import _shorten, fitting_notes, layout
    cells, dropped, short, cut, grid = layout(table, width or WIDTH, chosen, wide)
    header, *texts = grid
    keep = [i for i, c in enumerate(table.columns) if c.key not in dropped]
    columns = [table.columns[i] for i in keep]
    markers = {marker for marker, _, _ in cells.moved}
    moved: dict = {}  # marker -> (where, value)

    def shown(value, text: str, column, where: str) -> str:
        if text in markers:
            moved.setdefault(text, (where, value))
            return escape(text)
        if text == "↓":
            return text
        if column.key in cut and len(text) > cut[column.key]:  # cut as the terminal cuts it, whole in the title
            return escape(_shorten(text, cut[column.key], column.key == "layer")), text
        return _cell(value, cells.wide)

    def row(values, tag="td"):
        out = ""
        for c, v in zip(columns, values):
            v, title = v if isinstance(v, tuple) else (v, None)
            title = f' title="{escape(title)}"' if title else ""
            out += (f'<{tag}{title} style="text-align:{"right" if c.kind == "count" else "left"};'
                    f'white-space:nowrap">{v}</{tag}>')
        return "<tr>" + out + "</tr>"

    sources = table.body + [table.total]
    lines = [row([shown(source[i], text, c, f"{c.heading} of {source[1]}")
                  for i, text, c in zip(keep, shown_row, columns)], "th" if source is table.total else "td")
             for source, shown_row in zip(sources, texts)]
    head = row([escape(h) for h in header], "th")
    notes = "".join(f"<li>{escape(n)}</li>" for n in table.notes)
    if table.sizes:
        notes += "<li>sizes: " + ", ".join(f"{show(n, 'html')} = {show(v, 'html')}"
                                           for n, v in table.sizes.items()) + "</li>"
    notes += "".join(f"<li>{escape(n)}</li>" for n in fitting_notes(table, cells.wide, dropped, short,
                                                                             "table(wide=True)"))
    after = [f"<li>{escape(' · '.join(headline(table)))}</li>"] if headline(table) else []
    after += [f"<li>{escape(heading)} = {show(expr, 'html')}</li>" for heading, expr in table.totals
              if not expr.is_number]
    after += [f"<li>{escape(marker)} {escape(where)}: {_cell(value, True)}</li>"
              for marker, (where, value) in sorted(moved.items(), key=lambda item: int(item[0][1:-1]))]
    for report in table.reports:
        report_lines = report.lines(wide=True, shown=lambda e: show(table.sizes.named(e), "html"))
        after += [f"<li>{line.strip() if '<' in line else escape(line.strip())}</li>" for line in report_lines]
    return (f'<div class="symcount"><ul>{notes}</ul><div style="overflow-x:auto"><table>'
            f"<thead>{head}</thead><tbody>{''.join(lines[:-1])}</tbody><tfoot>{lines[-1]}</tfoot></table></div>"
            + (f"<ul>{''.join(after)}</ul>" if after else "") + "</div>")
