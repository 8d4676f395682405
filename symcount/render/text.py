"""The table as terminal text (fitted to a width) and as Markdown.

Text fits the terminal: it is laid out with full integers and every formula in its cell,
then formulas up to 24 characters; while a line is wider than the terminal it tries, for
each formula limit from 24 characters down: numbers in compact form (138.36 M; never with
--wide), short headings, leaving out the columns the others give (symcount.render.columns:
weights = params − biases, then biases, then activations where each is its output's size;
never a column chosen with --columns), and cutting the layer and notation columns to 16,
then 12 characters with "…"; only then is the limit lowered.  A formula longer than the
limit and than its column's width moves under the table, its cell holding a marker [1];
the totals of a symbolic network are listed under it, in the named sizes defined above it.
Columns that fit in no layout before the layer and notation columns are cut continue in a
table under the first (symcount.render.fold); chosen columns after layer names are shortened.
"""
from __future__ import annotations

import os
import re
import sys
import textwrap
from dataclasses import replace

from symcount import algebra as al
from symcount.errors import visible

from symcount.render import fields, fold
from symcount.render.columns import drops as column_drops, note as dropped_note
from symcount.render.formula import show, show_shape
from symcount.render.model import Moved, Pair, Table, headline, number_text

MIN_TEXT = 8          # a layer or notation column is never cut below this
NAMES = (16, 12)      # nor below these before formulas shorter than the limit move out
MIN_FORMULA = 8       # nor a formula moved out of a cell below this
SHAPE = 24            # nor a shape below this
SHORT_HEADINGS = {"activations": "activ.", "non-trainable": "non-train."}
BREAKS = (" + ", " − ", " · ", ", ")


def terminal_width(width: int | None = None) -> int:
    """The width asked for, else $COLUMNS or the terminal's, else 80 (shutil.get_terminal_size's
    rule, without importing shutil and the archive modules it brings: a cold command's 2 ms)."""
    if width is not None:
        return max(int(width), 20)
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):  # no stdout, or not a terminal
            columns = 0
    return max(columns or 80, 20)


def _break_points(text: str, breaks=BREAKS) -> list[tuple[int, str]]:
    """Where a formula may break: after a +, −, · or comma outside every bracket."""
    points, depth = [], 0
    for index, char in enumerate(text):
        if char in "(⌊⌈[":
            depth += 1
        elif char in ")⌋⌉]":
            depth -= 1
        elif depth == 0:
            for mark in breaks:
                if text.startswith(mark, index - (len(mark) - len(mark.lstrip()))) and mark.strip() == char:
                    points.append((index - (len(mark) - len(mark.lstrip())), mark))
    return points


def wrap(text: str, width: int, indent: int = 0, breaks=BREAKS) -> list[str]:
    """Lines of at most `width` characters, broken after a +, −, · or comma outside
    brackets (never inside a term; only at `breaks`), continuation lines indented by `indent`."""
    lines, current = [], text
    # found once (a cut is outside every bracket): text[i] is current[i + shift]
    points, shift = _break_points(text, breaks), 0
    while len(current) > width:
        fitting = [(at + shift, mark) for at, mark in points
                   if indent < at + shift and at + shift + len(mark.rstrip()) <= width]
        if not fitting:
            break  # one term longer than the line: left whole
        at, mark = fitting[-1]
        lines.append(current[:at] + mark.rstrip())
        current = " " * indent + current[at + len(mark):]
        shift -= at + len(mark) - indent
    return lines + [current]


def fitted(line: str, width: int, indent: int = 0, formula: bool | None = None, breaks=BREAKS) -> list[str]:
    """`line` in lines of at most `width` characters: a formula (by default, a line with a +,
    − or · outside brackets) broken as `wrap` breaks it (at `breaks`), and prose, or a
    formula's term still too long, between words."""
    if formula is None:
        formula = any(mark != ", " for _, mark in _break_points(line, breaks))
    return [piece for part in (wrap(line, width, indent, breaks) if formula else [line]) for piece in
            (textwrap.wrap(part, width, subsequent_indent=" " * indent, break_on_hyphens=False)
             if len(part) > width else [part])]


LAST_SHAPES = 12  # in the last resort, a shape longer than this moves out too (a shorter one never does)


class Cells(Moved):
    """Formats cells (in full or compact numbers); a formula longer than `limit` moves
    out, its cell holding a marker.  A symbolic total moves to the totals block (↓)."""

    def __init__(self, table: Table, wide: bool, style: str = "text"):
        self.table, self.wide, self.style = table, wide, style
        self.limit = None
        self.shapes = SHAPE     # a shape moves out only past this, or past the limit if longer
        self._texts: dict = {}
        self.grids: dict = {}   # (limit, shapes) -> every column's cells, for grids that moved nothing
        super().__init__()

    def text(self, value) -> tuple[str, bool]:
        """The cell's text, and whether it is a formula that may move."""
        key = (type(value), value)
        if key not in self._texts:
            if value is None:
                self._texts[key] = ("global", False)
            elif isinstance(value, str):
                self._texts[key] = fields.cell(value, self._plain)
            elif isinstance(value, Pair):
                self._texts[key] = (f"{self._plain(value.formula)} = {self._plain(value.value)}", True)
            else:
                self._texts[key] = (self._plain(value), not (al.is_value(value) and value.is_Integer))
        return self._texts[key]

    def value(self, value, where: str = "", total: bool = False, room: int = 0) -> str:
        """The cell as shown; `room` is its column's width, which a formula may always fill."""
        text, formula = self.text(value)
        limit = self.limit if not isinstance(value, tuple) or self.limit is None else max(self.limit, self.shapes)
        limit = limit if limit is None else max(limit, room)
        if total and formula and not isinstance(value, Pair) and len(text) > SHAPE:  # in the totals block anyway
            return "↓"
        if formula and limit is not None and len(text) > limit:
            return "↓" if total else self.mark(text, where)
        return text

    def _plain(self, value) -> str:
        if isinstance(value, tuple):
            return show_shape(value, self.style)
        return number_text(value, self.style, self.wide)

    def lengths(self) -> list[int]:
        """The lengths of the formulas met so far, longest first (the limits worth trying)."""
        return sorted({len(text) for (kind, _), (text, formula) in self._texts.items()
                       if formula and not (issubclass(kind, tuple) and len(text) <= LAST_SHAPES)}, reverse=True)


def _grid(table: Table, cells: Cells, dropped=(), short: bool = False) -> tuple[list, list, list]:
    cells.reset()  # each layout marks afresh
    keep = [i for i, c in enumerate(table.columns) if c.key not in dropped]
    header = [SHORT_HEADINGS.get(h, h) if short else h for h in (table.columns[i].heading for i in keep)]
    # A limit no formula exceeds changes no cell; a grid that moved no formula out holds the
    # same cells whichever columns are dropped, so it is kept and cut (170 rows of ResNet-50
    # were formatted once per layout tried).
    limit = cells.limit if cells.limit is not None and max(cells.lengths(), default=0) > cells.limit else None
    every = cells.grids.get((limit, cells.shapes))
    if every is not None:
        rows = [[cells_of_row[i] for i in keep] for cells_of_row in every]
    else:
        rows = _cells(table, cells, keep)
        if cells.moved:
            # a formula no longer than what its column holds anyway stays in its cell
            markers = {marker for marker, _, _ in cells.moved}
            room = [max([len(h)] + [len(r[j]) for r in rows if r[j] not in markers and r[j] != "↓"])
                    for j, h in enumerate(header)]
            cells.reset()
            rows = _cells(table, cells, keep, room)
        if not cells.moved and not dropped:
            cells.grids[(limit, cells.shapes)] = rows
    return header, rows, [table.columns[i] for i in keep]


def _cells(table: Table, cells: Cells, keep: list, room=None) -> list:
    """Every row's cells, in the columns kept; `room`: each column's width for its formulas."""
    rows = []
    for row in table.body + [table.total]:
        total = row is table.total
        rows.append([cells.value(row[i], f"{table.columns[i].heading} of {row[1]}", total, room[j] if room else 0)
                     for j, i in enumerate(keep)])
    return rows


def _lines(header, rows, columns, cut: dict | None = None) -> list[str]:
    cut = cut or {}
    rows = [[_shorten(c, cut.get(i), columns[i].key == "layer") for i, c in enumerate(r)] for r in [header] + rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]

    def line(cells):
        return "  ".join(c.rjust(w) if columns[i].kind == "count" else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    rule = "-" * max(len(line(r)) for r in rows)
    body = [line(r) for r in rows[1:]]
    return [line(rows[0]), rule] + body[:-1] + [rule, body[-1]]


def _width(header, rows) -> int:
    """The widest line _lines would print (every column padded, two spaces between)."""
    columns = len(header)
    return sum(max(len(r[i]) for r in [header] + rows) for i in range(columns)) + 2 * (columns - 1)


def _shorten(text: str, limit: int | None, layer: bool = False) -> str:
    """A cell cut to `limit` characters with …; a layer's name loses its outer blocks
    first (…res1.conv3, then conv3)."""
    if limit is None or len(text) <= limit:
        return text
    if layer:
        parts = text.split(".")
        for start in range(1, len(parts)):
            kept = "…" + ".".join(parts[start:])
            if len(kept) <= limit:
                return kept
        return parts[-1] if len(parts[-1]) <= limit else parts[-1][:limit - 1] + "…"
    return text[:limit - 1] + "…"


def _attempts(table: Table, cells: Cells, chosen: bool):
    """(formula limit, dropped columns, short headings, names cut down to), in the order tried:
    a column the others already give (render.columns) goes before a formula moves out, and
    the layer and notation columns are cut down to NAMES before a formula shorter than the
    limit just tried moves out."""
    drops = column_drops(table.columns, table.derivable, chosen)
    lengths = [limit for limit in cells.lengths() if MIN_FORMULA < limit < 24]
    for limit in [24] + lengths + [MIN_FORMULA]:
        for dropped in drops:
            for short in (False, True):
                yield limit, dropped, short, None
        for floor in NAMES:
            yield limit, drops[-1], True, floor
    yield MIN_FORMULA, drops[-1], True, MIN_TEXT


def _fit(table: Table, width: int, wide: bool, chosen: bool, shorten: bool = True, first: int = 1):
    """Lay the table out in the first attempt that fits (module doc): its lines, its Cells
    (with the formula limit and the formulas moved out, markers counted from `first`), the
    columns left out, whether the headings are short, and {column key: width} for the layer
    and notation columns cut; None where it fits only by cutting them and not to `shorten`."""
    full = Cells(table, True)
    full.first = first
    for limit in (None, 24):
        full.limit = limit
        header, rows, columns = _grid(table, full)
        if _width(header, rows) <= width:
            return _lines(header, rows, columns), full, (), False, {}
        if max(full.lengths(), default=0) <= 24:
            break  # no formula that long: the limit changes nothing
    cells = full if wide else Cells(table, False)
    cells.first = first
    _grid(table, cells)  # every formula's text, for the limits tried
    tried = set()
    last = column_drops(table.columns, table.derivable, chosen)[-1]
    for limit, dropped, short, floor in _attempts(table, cells, chosen):
        cells.limit = limit
        if limit == MIN_FORMULA and short and dropped == last and floor == MIN_TEXT:
            cells.shapes = LAST_SHAPES  # the last resort: long shapes move out too
        layout = (limit if max(cells.lengths(), default=0) > limit else None, dropped, short, cells.shapes, floor)
        if layout in tried:
            continue  # the same grid as one already tried (a table without formulas)
        tried.add(layout)
        header, rows, columns = _grid(table, cells, dropped, short)
        if floor and not shorten:
            continue
        cut = _cut(header, rows, columns, width, floor) if floor else {}
        if floor == MIN_TEXT or _width(header, rows) - _saved(header, rows, cut) <= width:
            return _lines(header, rows, columns, cut), cells, dropped, short, \
                {columns[i].key: limit for i, limit in cut.items()}
    return None


def _cut(header, rows, columns, width: int, floor: int) -> dict:
    """{column: width} shortening the layer and notation columns, the widest first and none
    below `floor`, until the table fits (or no column can give more)."""
    excess = _width(header, rows) - width
    cut = {i: max(len(r[i]) for r in [header] + rows) for i, column in enumerate(columns)
           if column.key in ("notation", "type", "layer")}
    while excess > 0:
        widest = max(cut, key=lambda i: cut[i], default=None)
        if widest is None or cut[widest] <= floor:
            break
        cut[widest] -= 1
        excess -= 1
    return cut


def _saved(header, rows, cut: dict) -> int:
    return sum(max(len(r[i]) for r in [header] + rows) - limit for i, limit in cut.items())


def _note(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, subsequent_indent="  ", break_on_hyphens=False) or [""]


def _joined(parts: list, width: int, separator: str = " · ") -> list[str]:
    lines = []
    for part in parts:
        if lines and len(lines[-1]) + len(separator) + len(part) <= width:
            lines[-1] += separator + part
        else:
            lines.append(part)
    return lines


def fitting_notes(table: Table, wide: bool, dropped: tuple, short: bool, option: str = "--wide") -> list[str]:
    """The notes above a table on what was done to fit it: columns left out, short headings,
    compact numbers (`option` is how to ask for them in full)."""
    out = [dropped_note(dropped, table.derivable)] if dropped else []
    shortened = [f"{SHORT_HEADINGS[c.heading]} = {c.heading}" for c in table.columns
                 if c.heading in SHORT_HEADINGS and c.key not in dropped]
    if short and shortened:
        out.append(", ".join(shortened))
    if not wide:
        out.append(f"numbers ≥ 10,000 in k, M, G, T (10³, 10⁶, 10⁹, 10¹²); {option} prints them in full")
    return out


def layout(table: Table, width: int, chosen: bool = False, wide: bool = False):
    """The layout text would print `width` characters wide, for another format to follow:
    (Cells, columns left out, short headings, {column key: width} of the columns cut, and
    the grid of text cells, header first)."""
    _, cells, dropped, short, cut = _fit(table, width, wide, chosen)
    header, rows, _ = _grid(table, cells, dropped, short)
    return cells, dropped, short, cut, [header] + rows


LAYER_NAMES = 20  # a layer's name shortened (…dense1.conv3) before chosen columns split again


def _parts(table: Table, width: int, wide: bool, chosen: bool, first: int = 1) -> list:
    """(lines, cells, dropped, short) of each table the columns fill: the first layout
    that fits, the columns that do not continuing in a table under it (symcount.render.fold)."""
    tried = fold.splits(table, chosen)
    for number, (moved, names) in enumerate(tried):
        head, rest = fold.split(_named(table, LAYER_NAMES) if names else table, moved)
        layout = _fit(head, width, wide, chosen, shorten=number == len(tried) - 1, first=first)
        if layout is not None:
            break
    after = [] if rest is None else _parts(rest, width, wide, True, first + len(layout[1].moved))
    return [layout] + after


def _named(table: Table, limit: int) -> Table:
    """The table with its layers' names shortened to `limit` characters."""
    at = next(i for i, column in enumerate(table.columns) if column.key == "layer")
    return replace(table, body=[row[:at] + [_shorten(row[at], limit, True)] + row[at + 1:] for row in table.body])


def text(table: Table, width: int | None = None, wide: bool = False, chosen: bool = False) -> str:
    width = terminal_width(width)
    parts = _parts(table, width, wide, chosen)
    out = [line for note in table.notes for line in _note(note, width)]
    if table.sizes:
        out += fitted("sizes: " + ", ".join(f"{show(n)} = {show(v)}" for n, v in table.sizes.items()), width, 7,
                      formula=True)
    notes = fitting_notes(table, all(part[1].wide for part in parts), parts[0][2], any(part[3] for part in parts))
    if len(parts) > 1:
        notes.append("the columns that do not fit continue in the table under the first")
    out += [line for note in notes for line in _note(note, width)]
    for part in parts:
        out += [""] + part[0]
    summary = headline(table)
    symbolic = [(heading, expr) for heading, expr in table.totals if not expr.is_number]
    if summary or symbolic:
        out.append("")
    out += _joined(summary, width)
    if symbolic:
        label = max(len(heading) for heading, _ in symbolic)
        out += [line for heading, expr in symbolic
                for line in fitted(f"{heading:<{label}} = {show(expr)}", width, label + 3)]
    moved = [item for part in parts for item in part[1].moved]
    if moved:
        out.append("")
        for marker, where, formula in moved:
            out += fitted(f"{marker} {where}: {formula}", width, len(marker) + 1, breaks=BREAKS + fields.FOOTNOTE)
    for report in table.reports:
        def named(expr):
            return show(table.sizes.named(expr))
        out += [""] + [piece for line in report.lines(wide=wide, shown=named) for piece in fitted(line, width, 4)]
    return "\n".join(out) + "\n"


# Markdown's specials: HTML as entities (a label is never markup), the rest backslash-escaped
# (emphasis, code, strikethrough, math, and the pipe that ends a table cell).  A bracket is
# escaped only where it would close a link's text, ](url) or ][ref], so options read as written.
MARKDOWN = {"&": "&amp;", "<": "&lt;", ">": "&gt;", **{c: "\\" + c for c in "\\`*_|~$"}}
LINK = re.compile(r"\](?=[(\[])")


def markdown_escape(text: str) -> str:
    """Text that reads as itself in GitHub Markdown, a table cell included."""
    return LINK.sub(r"\\]", "".join(MARKDOWN.get(char, char) for char in visible(text)))


def markdown(table: Table) -> str:
    """A GitHub Markdown table: full numbers, formulas up to 40 characters in the cells.
    Every text goes through markdown_escape; only the table's own pipes and bold are markup."""
    cells = Cells(table, True)
    cells.limit = 40
    header, rows, columns = _grid(table, cells)
    align = ["---:" if c.kind == "count" else "---" for c in columns]

    def line(values):
        return "| " + " | ".join(values) + " |"

    header, rows = [markdown_escape(v) for v in header], [[markdown_escape(v) for v in r] for r in rows]
    rows[-1] = [f"**{v}**" if v else v for v in rows[-1]]
    out = [f"- {markdown_escape(note)}" for note in table.notes]
    if table.sizes:
        out.append("- " + markdown_escape("sizes: " + ", ".join(f"{show(n)} = {show(v)}"
                                                                 for n, v in table.sizes.items())))
    out += ["", line(header), line(align)] + [line(r) for r in rows]
    extra = [f"{' · '.join(headline(table))}"] if headline(table) else []
    extra += [f"{heading} = {show(expr)}" for heading, expr in table.totals if not expr.is_number]
    extra += [f"{marker} {where}: {formula}" for marker, where, formula in cells.moved]
    for report in table.reports:
        extra += [line.strip() for line in report.lines(wide=True, shown=lambda e: show(table.sizes.named(e)))]
    extra = [f"- {markdown_escape(text)}" for text in extra]
    return "\n".join(out + ([""] + extra if extra else [])) + "\n"
