"""What every table shows, before any format: its columns, its rows, the named sizes, the
notes above it and the totals under it.  The text, Markdown, LaTeX and HTML renderers
(symcount.render.text, .latex, .html) each print one Table; json and csv (.data) keep
the rows' exact values instead.

Counts are kept as expressions in the named sizes (symcount.analyses.sizes); numbers are
formatted by the renderer, in full or compact (138.36 M: SI prefixes, powers of 1000).
A Table's text (labels, notation, notes, caption) has passed symcount.errors.visible: no
control character or line break, so each renderer only escapes its own format's specials.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from symcount import algebra as al

from symcount.analyses.sizes import Sizes
from symcount.errors import SymcountError, visible
from symcount.layers.kinds import KINDS
from symcount.render.formula import SUPERSCRIPTS, show, show_shape
from symcount.render.columns import derivable
from symcount.render.shortest import shortest
from symcount.layers.result import layout
from symcount.rows import QUANTITIES

HEADINGS = {"weights": "weights", "biases": "biases", "params": "params", "non_trainable": "non-trainable",
            "activations": "activations", "macs": "MACs"}
# Columns a user may choose (--columns), in the order a table shows them.
CHOOSABLE = ("type", "notation", "output", "weights", "biases", "params", "non_trainable", "activations", "macs")
DEFAULT = ("notation", "output", "weights", "biases", "params", "non_trainable", "activations", "macs")
TEXT_KINDS = ("text", "shape")   # left-aligned columns; the rest are counts, right-aligned
PREFIXES = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k"))
FLOATS = ("table*", "table", "longtable")  # LaTeX's environments for a table (symcount.render.latex)


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
    training_memory: object = None  # a symcount.analyses.training_memory.TrainingMemory, reported after it
    documents: dict = None  # more top-level JSON entries
    headline: tuple = ()    # (label, expression) figures for the line under the table


@dataclass(frozen=True)
class Options:
    """How a table is shown: which columns, which rows, how wide, how numbers read."""
    columns: tuple | None = None  # chosen from CHOOSABLE; None: DEFAULT
    params_only: bool = False     # hide rows without parameters
    formulas: bool = False        # with values: "formula = number" cells
    wide: bool = False            # text, html: full integers, never the compact form
    width: int | None = None      # text: the terminal's width (None: detect, 80 when unknown); html: characters
    caption: str | None = None    # latex
    label: str | None = None      # latex
    float: str = "table*"         # latex: the environment, one of FLOATS


def table_options(columns=None, params_only=False, formulas=False, wide=False, width=None, caption=None,
                  label=None, float="table*") -> Options:
    """Options from a caller's arguments, each checked (a SymcountError, not a traceback)."""
    if width is not None and (isinstance(width, bool) or not isinstance(width, int) or width < 1):
        raise SymcountError(f"width is a whole number of columns, got {width!r}")
    if caption is not None and not isinstance(caption, str):
        raise SymcountError(f"a caption is text, got {caption!r}")
    if label is not None and not (isinstance(label, str) and re.fullmatch(r"[\w:.\-/]+", label)):
        raise SymcountError(f"a label is letters, digits and : . - / _ (tab:vgg16), got {label!r}")
    if float not in FLOATS:
        raise SymcountError(f"a LaTeX float is one of {', '.join(FLOATS)}, got {float!r}")
    return Options(choose_columns(columns), bool(params_only), bool(formulas), bool(wide), width, caption, label,
                   float)


def choose_columns(written) -> tuple | None:
    """`--columns output,params,macs` as a tuple of column keys, checked."""
    if written is None:
        return None
    if not isinstance(written, (str, list, tuple)) or not all(isinstance(w, str) for w in
                                                              (written if not isinstance(written, str) else [])):
        raise SymcountError(f"columns are text such as 'output,params,macs' or a list of names, got {written!r}")
    names = [w.strip().lower().replace("-", "_") for w in (written.split(",") if isinstance(written, str)
                                                            else written)]
    aliases = {"shape": "output", "kind": "type", "nontrainable": "non_trainable", "flops": "macs"}
    names = [aliases.get(n, n) for n in names if n]
    unknown = [n for n in names if n not in CHOOSABLE]
    if unknown or not names:
        raise SymcountError(f"unknown column {', '.join(unknown) or '(none given)'}; choose from "
                            f"{', '.join(CHOOSABLE)}")
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class Col:
    key: str
    heading: str
    kind: str  # "text", "shape" or "count"


@dataclass
class Table:
    columns: list
    body: list            # rows of values: str, a shape tuple, an Expr, None (global) or a Pair
    total: list
    notes: list
    sizes: Sizes
    totals: list          # (heading, expression in named sizes) of every quantity shown
    headline: list        # (label, expression) for the summary line under the table
    memory: object = None
    caption: str | None = None
    label: str | None = None
    moved: list = field(default_factory=list)  # filled by a renderer: (marker, what, expression)
    training_memory: object = None
    derivable: dict = field(default_factory=dict)  # column key -> why it may be left out (render.columns)

    @property
    def reports(self) -> list:
        """The reports after the table: memory, training memory."""
        return [report for report in (self.memory, self.training_memory) if report is not None]


@dataclass(frozen=True)
class Pair:
    """A formula and its value at the given symbol values (shown with --formulas)."""
    formula: object
    value: object


class Moved:
    """Formulas too long for their cells: each gets a marker [1], [2] … once (the same
    formula twice, one marker) and is listed under the table as (marker, where, formula)."""

    first = 1  # the first marker's number (a table continued under another counts on)

    def __init__(self):
        self.reset()

    def reset(self):
        """Forget every marker (a table laid out again marks afresh)."""
        self.moved: list = []
        self._markers: dict = {}

    def mark(self, formula, where: str) -> str:
        if formula not in self._markers:
            self._markers[formula] = f"[{len(self._markers) + self.first}]"
            self.moved.append((self._markers[formula], where, formula))
        return self._markers[formula]


def module_name(row) -> str:
    """The layer's type as PyTorch names its module (torchinfo's column)."""
    if row.kind == "block":
        return "block"
    if row.module:
        return row.module
    kind = KINDS.get(row.kind)
    return getattr(kind, "module", row.kind) if kind else row.kind


def compact(value: int) -> str:
    """138.36 M: two decimals and an SI prefix from 10,000 up, the full number below; from
    10¹⁵ up, three figures and a power of ten, 1.23 × 10⁴⁸⁰."""
    if abs(value) < 10_000:
        return f"{value:,}"
    if abs(value) >= 10**15:
        return scaled(value)
    for scale, prefix in PREFIXES:
        if abs(value) >= scale:
            return f"{scaled(value, scale)} {prefix}"
    return f"{value:,}"


# Numbers are scaled with integers only: a count can pass any float's range (a thousand
# doublings of a size is 10³⁰¹), where value / scale raises OverflowError.
def scaled(value: int, scale: int = 1) -> str:
    """value / scale to two decimals with thousands commas, 138.36, rounded half away from
    zero; from 10¹⁵ up as 1.23 × 10⁴⁸⁰ (three figures), which is shorter."""
    size, sign = abs(value), "-" if value < 0 else ""
    if size >= 10**15 * scale:
        exponent = max(0, int((size.bit_length() - scale.bit_length() - 1) * 0.30103) - 1)  # a lower bound
        while size >= scale * 10 ** (exponent + 1):
            exponent += 1
        figures = _rounded(size, scale * 10 ** (exponent - 2))
        if figures == 1000:
            figures, exponent = 100, exponent + 1
        return f"{sign}{figures // 100}.{figures % 100:02d} × 10{str(exponent).translate(SUPERSCRIPTS)}"
    whole, cents = divmod(_rounded(size * 100, scale), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def _rounded(numerator: int, denominator: int) -> int:
    """numerator / denominator to the nearest integer, a half up (both nonnegative)."""
    quotient, rest = divmod(numerator, denominator)
    return quotient + (2 * rest >= denominator)


def number_text(expr, style: str = "text", wide: bool = True) -> str:
    """A count as text: 1,792 (or 25.56 M when not wide); a formula in the named sizes."""
    if al.is_value(expr) and expr.is_Integer:
        return f"{int(expr):,}" if wide else compact(int(expr))
    return show(expr, style)


def _columns(network, rows, options: Options, extras: Extras) -> list:
    chosen = options.columns or DEFAULT
    if options.columns is None and all(row.non_trainable == 0 for row in network.layers):
        chosen = tuple(c for c in chosen if c != "non_trainable")
    columns = [Col("index", "#", "text"), Col("layer", "layer", "text")]
    for key in CHOOSABLE:
        if key not in chosen:
            continue
        if key == "output" and any(row.count != 1 for row in rows):
            columns.append(Col("count", "×", "count"))
        kind = "text" if key in ("type", "notation") else "shape" if key == "output" else "count"
        columns.append(Col(key, HEADINGS.get(key, key), kind))
    return columns + [Col(c.key, c.heading, "count") for c in extras.columns]


def notes(network, values, extras=Extras(), given=None) -> list[str]:
    """The lines above a table: input, padding and rounding, symbols, assumptions."""
    out = []
    defaults = network.defaults
    padding = defaults.padding if isinstance(defaults.padding, str) else show(defaults.padding[0])
    rounding = defaults.conv if defaults.conv == defaults.pool else \
        f"{defaults.conv} (convolution), {defaults.pool} (pooling)"
    shape = show_shape((given or network).input_shape)
    if layout(network.input_shape) in ("tokens", "ids"):
        shape += " tokens"
    if given is not None:
        shape += " at " + ", ".join(f"{name}={show(value)}" for name, value in given.items)
    # padding and rounding say nothing about a transformer without convolutions or pooling
    tokens_only = all(not row.windows or row.kind == "patch" for row in network.layers) and \
        any(layout(row.output) == "tokens" for row in network.layers)
    out.append(f"input {shape}" if tokens_only else f"input {shape}; convolution padding {padding}; rounding {rounding}")
    symbols = network.symbols
    if symbols:
        integers = [name for name, s in symbols.items() if s.is_integer]
        rationals = [name for name, s in symbols.items() if not s.is_integer]
        described = ([f"{', '.join(integers)} (nonnegative integers)"] if integers else []) + \
                    ([f"{', '.join(rationals)} (positive rationals)"] if rationals else [])
        out.append("symbols: " + "; ".join(described) +
                   ("; values: " + ", ".join(f"{k}={show(v)}" for k, v in values.items()) if values else ""))
    strided = _strided_with_half_padding(network)
    if strided is not None:
        pads = [show(al.floor(window.kernel / 2)) for window in strided.windows]
        padding = pads[0] if len(set(pads)) == 1 else f"({', '.join(pads)})"
        out.append(f"strided convolutions take the default half padding too: {strided.text} pads "
                   f"{padding} per side ([pad=0] for none)")
    if network.heads:
        out.append("side heads, in the totals: " + ", ".join(f"{head.name} → {show_shape(head.subtotal.output)}"
                                                           for head in network.heads))
    for assumption in network.assumptions:
        out.append(f"assumes {show(assumption)} (a repeat of a symbolic count, folded after its first passes)")
    out.extend(extras.notes)
    return [visible(note) for note in out]


def _strided_with_half_padding(network):
    """The first convolution with a stride above 1 that takes the default half padding
    (AlexNet at 224 then gives 56×56 where the paper says 55), or None."""
    if network.defaults.padding != "half":
        return None
    for row in network.layers:
        if row.kind == "conv" and row.windows and not re.search(r"\b(pad|p|padding)\s*=", row.text) and \
                any(w.stride != 1 for w in row.windows) and any(w.before != 0 for w in row.windows):
            return row
    return None


@dataclass(frozen=True)
class Given:
    """The symbol values a table was evaluated at (shown in its first note)."""
    input_shape: tuple
    items: tuple


def build(network, values: dict, rows, extras: Extras = Extras(), options: Options = Options(),
          given: Given | None = None) -> Table:
    """The Table of `rows` (network.layers, or folded rows)."""
    sizes = network.sizes
    columns = _columns(network, rows, options, extras)
    extra = {c.key: c for c in extras.columns}

    shortened: dict = {}

    def count(expr):
        if expr is None or isinstance(expr, str):
            return expr
        if expr not in shortened:
            shortened[expr] = shortest(sizes.named(expr, expand=False), sizes)
        named = shortened[expr]
        return Pair(named, expr.xreplace(values)) if values and not expr.is_number else named

    def shape(dims):
        named = tuple(sizes.named(d, expand=False) for d in dims)
        if values and not all(d.is_number for d in dims):
            return Pair(named, tuple(d.xreplace(values) for d in dims))
        return named

    def cells(index, row, position):
        out = []
        for column in columns:
            key = column.key
            out.append(str(index) if key == "index" else visible(row.qualified_name) if key == "layer" else
                       module_name(row) if key == "type" else visible(row.text) if key == "notation" else
                       count(row.count) if key == "count" else shape(row.output) if key == "output" else
                       count(extra[key].figures[position]) if key in extra else count(getattr(row, key)))
        return out

    def subtotal(head):
        out, row = [], head.subtotal
        for column in columns:
            key = column.key
            figures = [extra[key].figures[i] for i in head.rows] if key in extra else []
            out.append("" if key == "index" else visible(row.name) if key == "layer" else
                       visible(row.text) if key in ("type", "notation") else shape(row.output) if key == "output" else
                       count(row.count) if key == "count" else count(getattr(row, key)) if key in QUANTITIES else
                       count(al.Add(*figures)) if figures and all(al.is_value(f) for f in figures)
                       else "")
        return out

    ends = {head.rows[-1]: head for head in network.heads} if rows is network.layers else {}
    body = [["0", "input"] + [shape(network.input_shape) if c.key == "output" else "" for c in columns[2:]]]
    for position, row in enumerate(rows):
        if not (options.params_only and row.params == 0 and row.non_trainable == 0):
            body.append(cells(position + 1, row, position))
        if position in ends:
            body.append(subtotal(ends[position]))
    named_totals = {q: network.named_total(q) for q in QUANTITIES}
    total = []
    for column in columns:
        key = column.key
        total.append("total" if key == "layer" else shape(network.output_shape) if key == "output" else
                     count(extra[key].total) if key in extra and extra[key].total is not None else
                     (Pair(named_totals[key], getattr(network, key).xreplace(values))
                      if values and not getattr(network, key).is_number else named_totals[key])
                     if key in named_totals else "")
    totals = [(column.heading, named_totals[column.key]) for column in columns if column.key in named_totals]
    totals += [(c.heading, sizes.named(c.total)) for c in extras.columns
               if c.total is not None and not isinstance(c.total, str)]
    headline = [(label, getattr(network, key).xreplace(values) if values else named_totals[key])
                for label, key in (("params", "params"), ("biases", "biases"), ("MACs", "macs"))]
    if network.active_params != network.params:  # a mixture of experts: what one token uses
        active = network.active_params
        headline.insert(1, ("active params", active.xreplace(values) if values and not active.is_number else active))
        totals.insert(1, ("active params", sizes.named(active)))
    headline += list(extras.headline)
    return Table(columns, body, total, notes(network, values, extras, given), sizes, totals, headline,
                 extras.memory, None if options.caption is None else visible(options.caption), options.label,
                 training_memory=extras.training_memory, derivable=derivable(network, rows))


def headline(table: Table) -> list[str]:
    """The summary under a table, in parts: 25,557,032 params (25.56 M; 27,560 biases),
    4,089,184,256 MACs (4.09 G), the weights' bytes in float32 (or the memory report's
    dtype).  Symbolic totals are left to the totals block."""
    parts = []
    figures = dict(table.headline)

    def whole(expr):
        return al.is_value(expr) and expr.is_Integer

    for label, expr in table.headline:
        if label == "biases" or not whole(expr):
            continue
        short = compact(int(expr))
        detail = [short] if short != f"{int(expr):,}" else []
        if label == "params" and whole(figures.get("biases")):
            detail.append(f"{int(figures['biases']):,} biases")
        parts.append(f"{int(expr):,} {label}" + (f" ({'; '.join(detail)})" if detail else ""))
    if whole(figures.get("params")):  # in the memory report's dtype, if there is one
        dtype, each = (table.memory.dtype, table.memory.bytes_per_element) if table.memory else ("float32", 4)
        size = each * int(figures["params"])
        parts.append(f"weights {scaled(size, 10**6)} MB in {dtype} ({scaled(size, 2**20)} MiB)")
    return parts
