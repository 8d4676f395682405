"""The table as HTML (Jupyter's _repr_html_): formulas typeset as math in HTML itself,
italic symbols with subscripts, ⌊ ⌋ brackets and · products, so they render the same
with or without MathJax (offline, in nbconvert's HTML, on GitHub).  No cell breaks
inside a token; a wide table scrolls sideways.  The named sizes are above the table, the
totals and any formula too long for a cell under it."""
from __future__ import annotations

from symcount.render.formula import escape, show, show_shape
from symcount.render.model import Moved, Pair, Table, headline, number_text

CELL = 40   # characters of a formula (as text) kept in a cell


class _Cells(Moved):
    def value(self, value, where: str, total: bool = False) -> str:
        if value is None:
            return "global"
        if isinstance(value, str):
            return escape(value)
        if isinstance(value, Pair):
            return f"{self.value(value.formula, where)} = {self.value(value.value, where)}"
        if isinstance(value, tuple):
            return show_shape(value, "html")
        if not value.is_Integer and len(show(value)) > CELL:
            if total:
                return "↓"  # the totals are listed under the table
            return self.mark(value, where)
        return number_text(value, "html")


def html(table: Table) -> str:
    cells = _Cells()
    columns = table.columns

    def row(values, tag="td"):
        return "<tr>" + "".join(
            f'<{tag} style="text-align:{"right" if c.kind == "count" else "left"};white-space:nowrap">{v}</{tag}>'
            for c, v in zip(columns, values)) + "</tr>"

    head = row([escape(c.heading) for c in columns], "th")
    body = "".join(row([cells.value(v, f"{c.heading} of {r[1]}") for c, v in zip(columns, r)])
                   for r in table.body)
    total = row([cells.value(v, f"{c.heading} of total", True) for c, v in zip(columns, table.total)], "th")
    notes = "".join(f"<li>{escape(n)}</li>" for n in table.notes)
    if table.sizes:
        notes += "<li>sizes: " + ", ".join(f"{show(n, 'html')} = {show(v, 'html')}"
                                           for n, v in table.sizes.items()) + "</li>"
    after = [f"<li>{escape(' · '.join(headline(table)))}</li>"] if headline(table) else []
    after += [f"<li>{escape(heading)} = {show(expr, 'html')}</li>" for heading, expr in table.totals
              if not expr.is_number]
    after += [f"<li>{escape(marker)} {escape(where)}: {show(expr, 'html')}</li>"
              for marker, where, expr in cells.moved]
    for report in table.reports:
        lines = report.lines(wide=True, shown=lambda e: show(table.sizes.named(e), "html"))
        after += [f"<li>{line.strip() if '<' in line else escape(line.strip())}</li>" for line in lines]
    return (f'<div class="symcount"><ul>{notes}</ul><div style="overflow-x:auto"><table>'
            f"<thead>{head}</thead><tbody>{body}</tbody><tfoot>{total}</tfoot></table></div>"
            + (f"<ul>{''.join(after)}</ul>" if after else "") + "</div>")
