"""The table as LaTeX a paper can include, in any class, one column or two.

The environment is one of symcount.render.model.FLOATS: `table*` (the default) works
everywhere, the page's width in two columns and the line's in one; `table` is a column's
width in two; `longtable` breaks across pages and works in one column only (LaTeX stops with
"longtable not in 1-column mode" in two).  A float cannot break, so a long table is split
into floats of about ROWS lines each, its heading repeated and marked as continued.  A
float's tabular keeps its natural width, shrunk to the line only where it is wider
(`\\resizebox` with the natural width as the bound); a longtable's columns take shares of
the line.  The named sizes come first, under the caption; the symbolic totals and the
formulas too long for a cell (CELL characters) come last, each block an `aligned` box that
never breaks inside a bracket.  Layer names and notation never hyphenate.
"""
from __future__ import annotations

import re

from symcount import algebra as al
from symcount.errors import visible

from symcount.analyses.receptive import PerAxis
from symcount.render import fields
from symcount.render.formula import latex_number, show, show_shape
from symcount.render.model import Moved, Pair, Table

ROWS = 48             # lines of a float (rows, block headings, formula lines) before it is split
CELL = 30             # characters of a formula (as text) kept in a cell
LINE = 40             # characters of a formula (as text) per line under the table
CHAR, PAGE = 5, 345   # points a character takes in footnote size; points of an article's line
_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
             "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
BETWEEN, ALLOW = r"\,", r"\allowbreak "  # a product's factors; a line break allowed there
WIDTHS = {**dict.fromkeys("0123456789", 0.85), ",": 0.5, "·": 0.35, " ": 0.5, "×": 2, "−": 1.3, "+": 1.3,
          "(": 0.8, ")": 0.8}  # characters of CHAR points (_chars)
CAPTION = "Shapes, parameters, activations and multiply-accumulates (MACs), counted by symcount."
SETUP = r"\footnotesize\setlength{\tabcolsep}{4pt}\hyphenpenalty=10000\exhyphenpenalty=10000"
FIT = r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%"  # shrink, never enlarge
# and no taller than its share of the page, in a class whose text is larger than ROWS assumes
TALL = r"\resizebox*{!}{\ifdim\totalheight>#\textheight#\textheight\else\totalheight\fi}{%"
PACKAGES = {"longtable": "booktabs, longtable, array, graphicx, amsmath"}


def latex_escape(text: str) -> str:
    """Text that LaTeX prints as itself, its control characters and line breaks first written
    as visible escapes (symcount.errors.visible), whose backslash is then escaped too."""
    return "".join(_SPECIALS.get(char, char) for char in visible(text))


def _breakable(text: str) -> str:
    """Notation escaped, free to break after a comma, [, /, }, * or an underscore."""
    return "".join(_SPECIALS.get(char, char) + (r"\hspace{0pt}" if char in ",[/}_*" else "")
                   for char in visible(text))


TIMES = r" \times "  # between a figure's axes


def _latex(expr) -> str:
    return show(expr, "latex")


class _Cells(Moved):
    """Cells as LaTeX; in a longtable's narrow columns a product may break between its
    factors (never inside a bracket: those are brace groups)."""

    def __init__(self, breaking: bool = False):
        super().__init__()
        self.breaking = breaking

    def value(self, value, where: str, total: bool = False) -> str:
        if value is None:
            return "global"
        if isinstance(value, str):
            text, formula = fields.cell(value, show)
            if formula and len(text) > CELL:
                return r"$\downarrow$" if total else self.mark(value, where)
            return f"${TIMES.join(fields.axes(value, _latex))}$" if formula else latex_escape(text)
        if isinstance(value, Pair):
            return f"{self.value(value.formula, where)} $=$ {self.value(value.value, where)}"
        if isinstance(value, tuple):
            return f"${show_shape(value, 'latex')}$"
        if value.is_Integer:
            return latex_number(int(value))
        if len(show(value)) > CELL:
            if total:
                return r"$\downarrow$"
            return self.mark(value, where)
        text = show(value, "latex")
        return f"${text.replace(BETWEEN, BETWEEN + ALLOW) if self.breaking else text}$"


def _broken(label: str, expr) -> list[str]:
    """`label = expr`, a long sum broken into aligned lines of about LINE characters; a
    figure per axis, an axis to a line."""
    if isinstance(expr, PerAxis):
        lines = fields.axes(expr, _latex)
        return [rf"{label} &= {lines[0]} \times"] + [rf"&\quad {line} \times" for line in lines[1:-1]] + \
            [rf"&\quad {lines[-1]}"]
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
    return [rf"{label} &= {out[0]}"] + [rf"&\quad {line}" for line in out[1:]]


def _rows(table: Table, cells: _Cells, columns) -> list[tuple[str, str]]:
    """The body as (block, line): a row per layer, named by its own name under a row naming
    its block (conv2\\_x.bottleneck1, block "" for that heading row itself), then the totals."""
    rows, block = [], ""
    for row in table.body + [table.total]:
        total = row is table.total
        path, _, leaf = row[1].rpartition(".")
        if total:
            rows.append((path, r"\midrule"))
        elif path != block:
            block = path
            if path:
                rows.append(("", _heading(path, len(columns))))
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
        rows.append((path, " & ".join(values) + r" \\"))
    return rows


def _heading(path: str, width: int, continued: bool = False) -> str:
    name = rf"\textit{{{latex_escape(path)}}}" + (" (continued)" if continued else "")
    return rf"\multicolumn{{{width}}}{{l}}{{{name}}} \\"


def latex(table: Table, float: str = "table*") -> str:
    """The table in the environment `float`, its notes in a comment above."""
    cells = _Cells(breaking=float == "longtable")
    columns = table.columns[1:]   # the row number stays in text and Markdown
    headings = " & ".join(latex_escape(c.heading[:1].upper() + c.heading[1:]) if c.heading != "MACs" else "MACs"
                          for c in columns) + r" \\"
    rows = _rows(table, cells, columns)
    caption = latex_escape(table.caption) if table.caption else CAPTION
    caption = rf"\caption{{{caption}}}" + (rf"\label{{{table.label}}}" if table.label else "")
    sizes, formulas = _sizes(table), _formulas(table, cells)  # after the rows: they mark the moved cells
    out = ["% symcount: " + latex_escape("; ".join(table.notes)),  # one line: no line break is left
           f"% needs \\usepackage{{{PACKAGES.get(float, 'booktabs, graphicx, amsmath')}}}"]
    if float == "longtable":
        out += _longtable(table, columns, headings, rows, caption, sizes, formulas)
    else:
        out += _floats(float, columns, headings, rows, caption, sizes, formulas)
    return "\n".join(out) + "\n"


def _floats(float: str, columns, headings: str, rows, caption: str, sizes: list, formulas: list) -> list[str]:
    """Floats of about ROWS lines each, the first with the caption and the named sizes, the
    last with the formulas; a block split between two is named again in the second."""
    align = "".join("r" if c.kind == "count" else "l" for c in columns)
    above, below = len(sizes) + 2 * bool(sizes), len(formulas) + 2 * bool(formulas)
    padded = [None] * above + rows + [None] * below  # the formulas take their lines of the page
    parts = [[row for row in part if row] for part in _split(padded, -(-len(padded) // ROWS))]
    out = []
    for index, part in enumerate(parts):
        first, last = index == 0, index == len(parts) - 1
        body = [line for _, line in part]
        if body[:1] == [r"\midrule"]:  # the totals at the top of a float: the heading's rule is enough
            body = body[1:]
        if not first and part and part[0][0] and not _leads(part[0]):
            body.insert(0, _heading(part[0][0], len(columns), continued=True))
        share = (len(body) + 3) / (len(body) + 5 + above * first + below * last)
        out += [rf"\begin{{{float}}}[{'tp' if float.endswith('*') else 'tbp'}]", r"\centering" + SETUP,
                (caption if first else r"\textit{Table~\thetable{} (continued)}") + r"\par\smallskip"]
        if first and sizes:
            out += _block(sizes) + [r"\par\smallskip"]
        out += [TALL.replace("#", f"{0.92 * share:.2f}"), FIT, rf"\begin{{tabular}}{{{align}}}", r"\toprule",
                 headings, r"\midrule", *body, r"\bottomrule", r"\end{tabular}}}"]
        if last and formulas:
            out += [r"\par\smallskip"] + _block(formulas)
        out.append(rf"\end{{{float}}}")
    return out


def _leads(row) -> bool:
    """Whether a row belongs with the next: a block's heading, the rule above the totals."""
    return row is not None and (row[1].startswith(r"\multicolumn") or row[1] == r"\midrule")


def _split(rows: list, count: int) -> list[list]:
    """`rows` in `count` parts of about equal length, none ending on a row that leads."""
    cuts, start = [], 0
    for index in range(1, count):
        cut = max(round(index * len(rows) / count), start + 1)
        while cut - 1 > start and _leads(rows[cut - 1]):
            cut -= 1
        cuts.append(cut)
        start = cut
    return [rows[a:b] for a, b in zip([0] + cuts, cuts + [len(rows)]) if rows[a:b]]


def _longtable(table: Table, columns, headings: str, rows, caption: str, sizes: list, formulas: list) -> list[str]:
    """A longtable (one-column documents): the named sizes under its caption, its heading on
    every page, columns of fixed widths that add up to the line, so it cannot overflow."""
    width = len(columns)
    first = [rf"{caption} \\"]
    if sizes:
        first += [rf"\multicolumn{{{width}}}{{c}}{{%"] + _block(sizes) + [r"} \\[\smallskipamount]"]
    # in footnote size if its columns fit the line there, else in script size
    (align, fits), font = _long_columns(table, columns, CHAR), r"\footnotesize"
    if not fits:
        (align, _), font = _long_columns(table, columns, CHAR * 7 / 8), r"\scriptsize"
    out = [r"\begingroup" + SETUP.replace(r"\footnotesize", font), rf"\begin{{longtable}}{{{align}}}", *first,
           r"\toprule", headings, r"\midrule", r"\endfirsthead", r"\toprule", headings, r"\midrule", r"\endhead",
           r"\bottomrule", r"\endfoot"]
    out += [line for _, line in rows] + [r"\end{longtable}"]
    if formulas:
        out += [r"\begin{center}"] + _block(formulas) + [r"\end{center}"]
    return out + [r"\endgroup"]


def _block(lines: list[str]) -> list[str]:
    """Lines of formulas as one aligned box, shrunk to the line if it is wider."""
    return [FIT, r"$\begin{aligned}", " \\\\\n".join(lines), r"\end{aligned}$}"]


def _long_columns(table: Table, columns, char: float) -> tuple[str, bool]:
    """A longtable cannot be shrunk to the line as a float can, so each column gets a
    share of \\linewidth, estimated at `char` points a character (CHAR in footnote size) on
    a 345 pt line (LaTeX's article): what its widest cell needs where the line has room,
    else at least its widest piece that cannot break.  Also whether those pieces fit."""
    def length(cell, leaf: bool = False) -> tuple[int, int]:
        """Characters of the cell's widest line and of its widest piece that cannot break
        (a layer's name is shown without its block's, after a \\quad)."""
        if isinstance(cell, tuple):  # a shape may break after a ×
            return _chars(show_shape(cell)) + 1, max(_chars(show(d)) + 2 for d in cell)
        if isinstance(cell, Pair):
            return length(cell.formula)[0] + length(cell.value)[0] + 3, max(length(cell.formula)[1],
                                                                              length(cell.value)[1])
        if al.is_value(cell):
            if len(show(cell)) > CELL:
                return 3, 3  # it moves under the table
            terms = cell.as_ordered_terms() if al.is_add(cell) else [cell]  # a sum may break after a +
            factors = [f for t in terms for f in (t.as_ordered_factors() if al.is_value(t) else [t])]
            return max(_chars(show(t)) for t in terms) + 1, max(_chars(show(f)) for f in factors) + 1
        text = str(cell or "")
        return (len(text.rpartition(".")[2]) + 2, 0) if leaf else (len(text), 0)

    def _shown(cell, i):  # a layer's name is shown without its block's
        return str(cell or "").rpartition(".")[2] if columns[i].key == "layer" else str(cell or "")

    def width(chars):  # a share of the line, with room for the column's padding
        return chars * char / PAGE + 0.03  # 2 \tabcolsep and a little

    cells = [[length(row[i], columns[i - 1].key == "layer") for row in table.body + [table.total]]
             for i in range(1, len(columns) + 1)]
    cells = [[(whole + 2, piece + 2) for whole, piece in column] if c.key == "count" else column  # "× "
             for c, column in zip(columns, cells)]
    need = [max([len(c.heading)] + [whole for whole, _ in cells[i]]) for i, c in enumerate(columns)]
    fixed = [i for i, c in enumerate(columns) if c.kind in ("count", "shape")]
    texts = [i for i in range(len(columns)) if i not in fixed]
    pieces = {i: max([piece for _, piece in cells[i]] + [len(columns[i].heading)]) for i in fixed}
    pieces.update({i: max([len(p) for row in table.body for p in re.split(r"(?<=[,\[/}_* ])", _shown(row[i + 1], i))]
                          + [8, len(columns[i].heading)]) + 2 * (columns[i].key == "layer") for i in texts})
    least = {i: width(pieces[i]) for i in pieces}  # the longest run that cannot break (and a \quad)
    # each column wants its widest cell on one line (a count or a shape at most 0.3 of the
    # line, a text 0.45) and gets at least its widest piece; what is left of the line goes
    # to counts and shapes first, which break badly, then to the layer and the notation
    want = {i: max(least[i], min(width(need[i]), 0.3 if i in fixed else 0.45)) for i in least}
    widths, room = dict(least), 0.99 - sum(least.values())
    for group in (fixed, texts):
        more = sum(want[i] - least[i] for i in group)
        taken = min(1, max(room, 0) / more) if more else 0
        widths.update({i: least[i] + taken * (want[i] - least[i]) for i in group})
        room -= taken * more
    total = sum(widths.values())
    widths = {i: w * min(1, 0.99 / total) for i, w in widths.items()}  # never more than the line
    return "".join((r">{\raggedleft\arraybackslash}" if columns[i].kind == "count" else
                    r">{\raggedright\arraybackslash}") +
                   rf"p{{\dimexpr {widths[i]:.3f}\linewidth-2\tabcolsep\relax}}" for i in range(len(columns))), \
        sum(least.values()) <= 0.99


def _chars(text: str) -> float:
    """A formula's width as LaTeX prints it, in characters of CHAR points: its numbers'
    thousands grouped, digits and subscripts narrower than letters, a × or a − with the
    space of a binary operation."""
    grouped = re.sub(r"\d+", lambda m: f"{int(m[0]):,}", text)
    return sum(WIDTHS.get(c, 0.6 if c in "₀₁₂₃₄₅₆₇₈₉" else 1) for c in grouped)


def _short_where(where: str) -> str:
    """"MACs of cat1.cat2.level6.conv11" as "MACs of conv11": the marker in the cell says which
    row it is, and a deep path would push the formula past the page."""
    quantity, of, name = where.partition(" of ")
    return quantity + of + name.split(".")[-1] if of else where


def _sizes(table: Table) -> list[str]:
    """The named sizes, two to a line."""
    sizes = [f"{show(n, 'latex')} &= {show(v, 'latex')}" for n, v in table.sizes.items()]
    return [r" & \qquad ".join(sizes[i:i + 2]) for i in range(0, len(sizes), 2)]


def _formulas(table: Table, cells: _Cells) -> list[str]:
    """The symbolic totals, then the formulas moved out of their cells."""
    labelled = [(heading, expr) for heading, expr in table.totals if not expr.is_number]
    labelled += [(f"{marker} {_short_where(where)}", expr) for marker, where, expr in cells.moved]
    return [line for label, expr in labelled for line in _broken(rf"\text{{{latex_escape(label)}}}", expr)]
