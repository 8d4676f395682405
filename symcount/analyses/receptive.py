"""Receptive fields in closed form: A. Araujo, W. Norris, J. Sim, "Computing Receptive
Fields of Convolutional Neural Networks", Distill 2019, eqs. (2), (3) and (5).

Along one spatial axis, a chain of layers with (dilated) kernels k_l, strides s_l and left
paddings p_l has, after layer L,
    size     r_L = r_{L-1} + (k_L - 1) · S_{L-1}       (r_0 = 1)
    stride   S_L = S_{L-1} · s_L                        (S_0 = 1)
    padding  P_L = P_{L-1} + p_L · S_{L-1}              (P_0 = 0)
so r_L = 1 + Σ (k_l - 1) Π_{i<l} s_i, S_L = Π s_l and P_L = Σ p_l Π_{i<l} s_i.  Symbols stay
symbols.  Where paths meet (res, add, cat) the field is the largest over the paths (the
paper's §3 on multi-path networks).  A layer that sees the whole input (fc, gap, adaptive
pooling, flatten) ends the field: None from there on.  A transposed convolution has no
field in these closed forms (its stride is a fraction, and how many input pixels an output
pixel sees changes from one output position to the next): UNDEFINED from there on, until
a layer that sees the whole input.  On tokens, a patch embedding's field stays with each
token through the layers that act per token (fc, layernorm, ...) and ends at attention,
which mixes every token.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from symcount import algebra as al

from symcount.layers.result import Tokens, has_spatial_axes
from symcount.notation.names import MAX_VALUE_BITS, too_large

ONE, ZERO = al.Integer(1), al.Integer(0)
GLOBAL_KINDS = frozenset({"fc", "gap", "adaptiveavgpool", "adaptivemaxpool", "flatten"})
MIXING = frozenset({"attn"})  # on tokens: layers that see every token
WINDOWED = frozenset({"wattn"})  # on a map: layers that mix the positions of (shifted) windows


class Missing(str):
    """Why a field has no figure: the text in full (JSON, CSV), and `short`, the word a
    table's cell shows, which a note explains with `meaning`."""

    def __new__(cls, text, short=None, meaning=""):
        made = super().__new__(cls, text)
        made.short, made.meaning = short or text, meaning
        return made

    def __getnewargs__(self):
        return str(self), self.short, self.meaning


class PerAxis(str):
    """A figure that differs between the axes: "h×w" as text (JSON, CSV), and `values`, its
    expression per axis, which a table writes as formulas (moving a long one under it)."""

    def __new__(cls, values=()):
        made = super().__new__(cls, "×".join(str(v) for v in values))
        made.values = tuple(values)
        return made

    def __getnewargs__(self):
        return (self.values,)


UNDEFINED = Missing("n/a (after upsampling)", "n/a", "not defined after an upsampling (a transposed convolution, "
                    "upsample or pixel shuffle) until a layer that sees the whole input")
TOO_LARGE = Missing("n/a (more than 500 digits)")  # past the limit on values ((conv3-8/2)x2000 on 1×1: stride 2²⁰⁰⁰)
MAX_TERMS = 200  # nodes of a field's closed form where paths meet; beyond, the field is TOO_LONG
TOO_LONG = Missing(f"n/a (a closed form of more than {MAX_TERMS:,} terms)")


@dataclass(frozen=True)
class Axis:
    size: object
    stride: object
    padding: object


RESAMPLING = frozenset({"deconv", "upsample", "pixelshuffle"})  # layers that raise the resolution


def start(shape):
    """The field of the input itself: one pixel, per spatial axis (None for a flat input or tokens)."""
    return (Axis(ONE, ONE, ZERO),) * (len(shape) - 1) if has_spatial_axes(shape) else None


def after(field, kind, windows, output):
    """The field after one layer with these sliding windows (one per axis, or none) and this output."""
    if field is None:
        return None
    if isinstance(output, Tokens):
        if kind in MIXING:
            return None
        if kind != "patch":
            return field
    elif kind in GLOBAL_KINDS or kind in WINDOWED or len(output) < 2:
        return None
    if isinstance(field, str):
        return field  # UNDEFINED or TOO_LARGE until a layer sees the whole input
    if kind in RESAMPLING:
        return UNDEFINED  # an output position no longer sits on a grid of input positions
    if not windows:
        return field  # the layer keeps every position where it is (activations, BatchNorm, ...)
    field = tuple(Axis(a.size + (w.kernel - 1) * a.stride, a.stride * w.stride, a.padding + w.before * a.stride)
                  for a, w in zip(field, windows))
    # the stride is what multiplies (size and padding grow by a kernel or a padding times it); a number's
    # check costs a bit_length, where too_large would cost a tenth of the layer
    for a in field:
        if type(a.stride) is al.Int and a.stride.bit_length() > MAX_VALUE_BITS:
            return TOO_LARGE
    return field


def _bounded(field):
    """The field, or TOO_LARGE where a value of it passes the limit on values, TOO_LONG where a
    closed form of it passes MAX_TERMS."""
    for a in field:
        for value in (a.size, a.stride, a.padding):
            if type(value) is al.Int:
                if value.bit_length() > MAX_VALUE_BITS:
                    return TOO_LARGE
            elif al.longer_than(value, MAX_TERMS):
                return TOO_LONG
            elif too_large(value):
                return TOO_LARGE
    return field


def widest(fields):
    """Where paths meet: the largest size, stride and padding over the paths."""
    if any(f is None for f in fields):
        return None
    for field in fields:
        if isinstance(field, str):
            return field
    values = [[[getattr(f[axis], name) for f in fields] for name in ("size", "stride", "padding")]
              for axis in range(len(fields[0]))]
    if any(al.longer_than(v, MAX_TERMS) for axis in values for per_path in axis for v in per_path):
        return TOO_LONG
    return tuple(Axis(*[_max(per_path) for per_path in axis]) for axis in values)


def _max(values):
    """The largest value.  SymPy's Max compares every pair under the symbols' assumptions,
    which can take minutes (a crop's offset nested pass after pass, a power of a symbol), so
    symbolic values are compared here only by their difference: a value is dropped where
    another exceeds it by a number, and a part every value adds is taken out (max(P + a, P)
    = P + max(a, 0)), so that a field met pass after pass does not double."""
    distinct = list(dict.fromkeys(values))
    if len(distinct) == 1:
        return distinct[0]
    if not any(al.is_expr(v) for v in distinct):
        return al.Max(*distinct)
    sympy = al.sympy()
    terms = [sympy.Add.make_args(v) for v in distinct]
    common = [t for t in terms[0] if all(t in others for others in terms[1:])]
    if common:
        shared = sympy.Add(*common)
        return shared + _max([v - shared for v in distinct])
    kept = [v for i, v in enumerate(distinct) if not any(_exceeds(w, v, j < i) for j, w in enumerate(distinct)
                                                          if j != i)]
    return kept[0] if len(kept) == 1 else al.Max(*kept, evaluate=False)


def _exceeds(w, v, before: bool) -> bool:
    """w > v by a number (or equals it and comes first)."""
    difference = w - v
    return difference.is_number and (difference > 0 or before and difference == 0)


class Growth:
    """How one pass of a repeated block changes the field, to advance it by later passes.

    A pass with stride product s adds Δ to the size at the stride it starts from; the
    j-th later pass adds Δ·s^j, so k later passes add Δ·(s + s² + … + s^k)."""

    def __init__(self, before, after_pass):
        self.before, self.after = before, after_pass

    def advance(self, field, passes):
        if not all(isinstance(f, tuple) for f in (field, self.before, self.after)) or passes == 0:
            return field
        advanced = []
        for axis, (b, a) in enumerate(zip(self.before, self.after)):
            s = a.stride / b.stride  # SymPy cancels a common symbolic factor itself, not 2**(n - 4)·2**(4 - n)
            s = al.exact(al.sympy().powsimp(s)) if al.is_expr(s) else s
            if al.exact(s).is_number and al.exact(passes).is_number and s > 1 and \
                    passes * math.log2(s) > MAX_VALUE_BITS:
                return TOO_LARGE  # s**passes alone would pass it (and take minutes and gigabytes)
            scale = passes if s == 1 else s * (s**passes - 1) / (s - 1)
            current = field[axis]
            advanced.append(Axis(current.size + (a.size - b.size) * scale,
                                 current.stride * s**passes,
                                 current.padding + (a.padding - b.padding) * scale))
        return _bounded(tuple(advanced))


def of_network(rows):
    """The field after the last row that has one (None if no row does)."""
    for row in reversed(rows):
        if row.field is not None:
            return row.field
    return None


def describe(field, name):
    """One figure of a field: the expression where every axis agrees, else a PerAxis ("d×h×w")."""
    if not isinstance(field, tuple):
        return field
    values = [getattr(axis, name) for axis in field]
    return values[0] if len(set(values)) == 1 else PerAxis(values)
