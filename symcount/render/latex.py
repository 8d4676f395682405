"""The table as LaTeX a paper can include (booktabs, amsmath, graphicx; longtable).

Up to LONG rows it is a floating table, shrunk to the line width only where it is wider
(`\\resizebox` with the natural width as the upper bound); beyond that a `longtable` in
footnote size that breaks across pages with its heading repeated.  Sizes are inline
⌊…⌋ (`\\lfloor … \\rfloor`, no growing brackets), formulas longer than a cell allows move
under the table beside the named sizes' definitions and the totals, in an align*.
"""
from __future__ import annotations

import re

from symcount import algebra as al
from symcount.errors import visible

from symcount.render.formula import show, show_shape
from symcount.render.model import Moved, Pair, Table

LONG = 32             # body rows beyond which the table is a longtable
CELL = 30             # characters of a formula (as text) kept in a cell
LINE = 36             # characters of a formula (as text) per line of the align*
BLOCK = 12            # lines of named sizes per align*
PAIRED = 22           # characters of a size's name and definition (as text) that go two to a line
CHAR, PAGE = 4.6, 345  # points a character takes in footnote size; points of an article's line
_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
             "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
CAPTION = "Shapes, parameters, activations and multiply-accumulates (MACs), counted by symcount."


def latex_escape(text: str) -> str:
    """Text that LaTeX prints as itself, its control characters and line breaks first written
    as visible escapes (symcount.errors.visible), whose backslash is then escaped too."""
    return "".join(_SPECIALS.get(char, char) for char in visible(text))


def _breakable(text: str) -> str:
    """Notation escaped, free to break after a comma, =, [, /, }, * or an underscore."""
    return "".join(_SPECIALS.get(char, char) + (r"\hspace{0pt}" if char in ",=[/}_*" else "")
                   for char in visible(text))


def _number(value: int) -> str:
    return f"{value:,}".replace(",", "{,}")


class _Cells(Moved):
    def value(self, value, where: str, total: bool = False) -> str:
        if value is None:
            return "global"
        if isinstance(value, str):
            return latex_escape(value)
        if isinstance(value, Pair):
            return f"{self.value(value.formula, where)} $=$ {self.value(value.value, where)}"
        if isinstance(value, tuple):
            return f"${show_shape(value, 'latex')}$"
        if value.is_Integer:
            return _number(int(value))
        if len(show(value)) > CELL:
            if total:
                return r"$\downarrow$"
            return self.mark(value, where)
        return f"${show(value, 'latex')}$"


def _broken(expr) -> str:
    """A long sum broken into align* lines of about LINE characters."""
    terms = expr.as_ordered_terms() if al.is_add(expr) else [expr]
    lines, current, length = [], [], 0
    for term in terms:
        size = len(show(term))
        if current and length + size > LINE:
            lines.append(current)
            current, length = [], 0
        current.append(term)
        length += size + 3
    lines.append(current)
    out = []
    for index, group in enumerate(lines):
        text = show(al.sympy().Add(*group, evaluate=False), "latex") if len(group) > 1 else show(group[0], "latex")
        if index and not text.startswith("-"):
            text = "+ " + text
        out.append(text)
    return " \\\\\n  &\\quad ".join(out)


def _rows(table: Table, cells: _Cells, columns) -> list[str]:
    """The body: a row per layer, named by its own name under a row naming its block
    (conv2\\_x.bottleneck1), then the totals."""
    rows, block = [], ""
    for row in table.body + [table.total]:
        total = row is table.total
        path, _, leaf = row[1].rpartition(".")
        if total:
            rows.append(r"\midrule")
        elif path != block:
            block = path
            if path:
                rows.append(rf"\multicolumn{{{len(columns)}}}{{l}}{{\textit{{{latex_escape(path)}}}}} \\")
        values = []
        for column, value in zip(columns, row[1:]):
            if column.key == "layer":
                values.append("Total" if total else (r"\quad " if path else "") + latex_escape(leaf))
            elif column.key == "notation":
                values.append(_breakable(value))
            elif column.key == "count":
                values.append(rf"$\times {show(value, 'latex')}$" if al.is_value(value) and value != 1
                              else "")
            else:
                values.append(cells.value(value, f"{column.heading} of {row[1]}", total))
        rows.append(" & ".join(values) + r" \\")
    return rows


def latex(table: Table) -> str:
    cells = _Cells()
    columns = table.columns[1:]   # the row number stays in text and Markdown
    align = "".join("r" if c.kind == "count" else "l" for c in columns)
    headings = " & ".join(latex_escape(c.heading[:1].upper() + c.heading[1:]) if c.heading != "MACs" else "MACs"
                          for c in columns) + r" \\"
    rows = _rows(table, cells, columns)
    caption = latex_escape(table.caption) if table.caption else CAPTION
    label = rf"\label{{{table.label}}}" if table.label else ""
    notes = "% symcount: " + latex_escape("; ".join(table.notes))  # one line: no line break is left
    if len(table.body) > LONG:  # columns of fixed widths that add up to the line: it cannot overflow
        align = _long_columns(table, columns)
        out = [notes, "% needs \\usepackage{booktabs, longtable, array, amsmath}", r"\begingroup\footnotesize",
               r"\setlength{\tabcolsep}{4pt}", rf"\begin{{longtable}}{{{align}}}",
               rf"\caption{{{caption}}}{label} \\", r"\toprule", headings, r"\midrule", r"\endfirsthead",
               r"\toprule", headings, r"\midrule", r"\endhead", r"\bottomrule", r"\endfoot"]
        out += rows + [r"\end{longtable}", r"\endgroup"]
    else:
        out = [notes, "% needs \\usepackage{booktabs, graphicx, amsmath}", r"\begin{table}[tbp]", r"\centering",
               r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
               rf"\begin{{tabular}}{{{align}}}", r"\toprule", headings, r"\midrule"]
        out += rows + [r"\bottomrule", r"\end{tabular}}", rf"\caption{{{caption}}}{label}", r"\end{table}"]
    out += _formulas(table, cells)
    return "\n".join(out) + "\n"


def _long_columns(table: Table, columns) -> str:
    """A longtable cannot be shrunk to the line as a float can, so each column gets a
    share of \\linewidth: counts and shapes what their longest cell needs, estimated at
    CHAR points a character in footnote size on a 345 pt line (LaTeX's article), the
    layer and notation columns the rest in proportion to theirs, breaking at spaces,
    commas and the like."""
    def length(cell):
        if isinstance(cell, tuple):  # " \times " is wider than ×
            return len(show_shape(cell)) + 2 * (len(cell) - 1)
        if isinstance(cell, Pair):
            return length(cell.formula) + length(cell.value) + 3
        if al.is_value(cell):
            if len(show(cell)) > CELL:
                return 3  # it moves under the table
            terms = cell.as_ordered_terms() if al.is_add(cell) else [cell]
            return max(len(show(term)) for term in terms) + 2  # a sum may break after a +
        return len(str(cell or ""))

    need = [max([len(c.heading)] + [length(row[i]) for row in table.body + [table.total]])
            for i, c in enumerate(columns, 1)]
    fixed = {i: min(need[i] * CHAR / PAGE + 0.035, 0.3) for i, c in enumerate(columns)
             if c.kind in ("count", "shape")}
    texts = [i for i in range(len(columns)) if i not in fixed]
    pieces = {i: max([len(p) for row in table.body for p in re.split(r"(?<=[,=\[/}_*. ])", str(row[i + 1] or ""))]
                     + [8, len(columns[i].heading)]) for i in texts}  # the longest run that cannot break
    least = {i: pieces[i] * CHAR / PAGE + 0.035 for i in texts}
    rest = max(1 - sum(fixed.values()) - sum(least.values()), 0)
    share = {i: least[i] + rest * need[i] / sum(need[j] for j in texts) for i in texts}
    widths = {**fixed, **share}
    total = sum(widths.values())
    widths = {i: w * min(1, 0.99 / total) for i, w in widths.items()}  # never more than the line
    return "".join((r">{\raggedleft\arraybackslash}" if columns[i].kind == "count" else
                    r">{\raggedright\arraybackslash}") +
                   rf"p{{\dimexpr {widths[i]:.3f}\linewidth-2\tabcolsep\relax}}" for i in range(len(columns)))


def _short_where(where: str) -> str:
    """"MACs of cat1.cat2.level6.conv11" as "MACs of conv11": the marker in the cell says which
    row it is, and a deep path would push the formula past the page."""
    quantity, of, name = where.partition(" of ")
    return quantity + of + name.split(".")[-1] if of else where


def _formulas(table: Table, cells: _Cells) -> list[str]:
    """The named sizes (two to a line where both are short), then the symbolic totals and the
    moved cells."""
    out = []
    sizes = list(table.sizes.items())
    if sizes:
        two = all(len(show(n)) + len(show(v)) <= PAIRED for n, v in sizes)
        step = 2 if two else 1
        pairs = [" & ".join(f"{show(n, 'latex')} &= {show(v, 'latex')}" for n, v in sizes[i:i + step])
                 for i in range(0, len(sizes), step)]
        for start in range(0, len(pairs), BLOCK):  # an align* never breaks across pages: blocks that fit one
            out += [r"\begin{align*}", " \\\\\n".join(pairs[start:start + BLOCK]), r"\end{align*}"]
    lines = [rf"\text{{{latex_escape(heading)}}} &= {_broken(expr)}" for heading, expr in table.totals
             if not expr.is_number]
    lines += [rf"\text{{{latex_escape(marker)} {latex_escape(_short_where(where))}}} &= {_broken(expr)}"
              for marker, where, expr in cells.moved]
    if lines:
        out += [r"\begin{align*}", " \\\\\n".join(lines), r"\end{align*}"]
    return out
