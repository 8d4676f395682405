"""Output-size arithmetic of sliding windows, exact and symbolic, under each rounding rule.

Formulas and sources: docs/conventions.md.
With span = i + p_before + p_after - k̂ (k̂ = d(k-1) + 1, the effective kernel):
  floor   o = floor(span / s) + 1                  PyTorch Conv2d/MaxPool2d, Caffe convolution, ONNX
  exact   o = span / s + 1                         the papers' arithmetic, rationals kept (217/4 + 1)
  ceil    o = ceil(span / s) + 1, less 1 where (o - 1)s >= i + p_before
                                                   PyTorch ceil_mode (aten/.../Pool.h)
  caffe   o = ceil(span / s) + 1, less 1 as ceil only when some axis is padded
                                                   Caffe pooling (pooling_layer.cpp)
  same    o = ceil(i / s), total padding max((o-1)s + k̂ - i, 0) split floor/ceil
                                                   TensorFlow/Keras (kernel_shape_util.cc)
Nested floors are kept flat with the identity floor((floor(A) + R) / s) = floor((A + R) / s)
for an integer R and a positive integer s, so five VGG poolings give floor(H/32); nested
ceilings likewise, and a ceiling of a floor after ceil(u/q) = floor((u + q - 1)/q).  The ceil and caffe rules drop a last window only where one can start in
the padding; where none can (p_after <= k̂ - s: every ceil-mode pooling of the zoo) their
closed form is one ceiling, so it stays as small as the floor rule's however deep the net.
"""
from __future__ import annotations

from dataclasses import dataclass

from symcount import algebra as al
from symcount.errors import LimitError
from symcount.layers.requirements import LayerProblem

Expr = object  # an Int, a Rat or a SymPy expression (symcount.algebra)
RULES = ("floor", "exact", "ceil", "caffe")
MAX_CLIPPED_NODES = 200  # the input size's expression tree, where the ceil/caffe rule repeats it twice (at 300, 4 s)


@dataclass(frozen=True)
class Window:
    """One spatial axis of a sliding window: effective kernel, stride, padding before/after."""
    kernel: Expr
    stride: Expr
    before: Expr
    after: Expr


def effective_kernel(k: Expr, d: Expr) -> Expr:
    """k̂ = d(k - 1) + 1: the span a dilated kernel covers."""
    return d * (k - 1) + 1


def _as_other(term: Expr, rounding) -> Expr:
    """The argument the other rounding takes to give this floor or ceiling of u/q (u
    integer-valued, q a positive integer): ceil(u/q) = floor((u + q - 1)/q) and
    floor(u/q) = ceil((u - q + 1)/q); None where the argument is not of that form."""
    sympy = al.sympy()
    u, q = sympy.fraction(sympy.together(term.args[0]))
    if not (q.is_Integer and q > 0 and u.is_integer):
        return None
    shift = q - 1 if rounding is sympy.floor else 1 - q
    return sympy.expand(u + shift) / q


def _flatten(numerator: Expr, rounding) -> Expr:
    """Replace a single floor(A) or ceiling(A) inside an integer-valued numerator by A (see
    module doc); the other rounding is first rewritten as this one where it divides an
    integer by an integer, so a ceiling of a floor (SqueezeNet's ceil-mode pooling after a
    floor convolution) is one ceiling too."""
    sympy = al.sympy()
    terms = sympy.Add.make_args(numerator)
    inner = [t for t in terms if isinstance(t, (sympy.floor, sympy.ceiling))]
    if len(inner) != 1:
        return numerator
    rest = sympy.Add(*[t for t in terms if t is not inner[0]])
    if not rest.is_integer:
        return numerator
    argument = inner[0].args[0] if isinstance(inner[0], rounding) else _as_other(inner[0], rounding)
    return numerator if argument is None else argument + rest


def floor_div(numerator: Expr, denominator: Expr) -> Expr:
    """floor(numerator / denominator) for an integer-valued numerator and a stride >= 1."""
    if type(numerator) is al.Int and type(denominator) is al.Int:
        return al.Int(numerator // denominator)
    if denominator == 1 and numerator.is_integer:
        return numerator
    if al.is_number(numerator) and al.is_number(denominator):
        return al.floor(numerator / denominator)
    if denominator.is_integer:
        numerator = _flatten(numerator, al.sympy().floor)
    return al.sympy().floor(numerator / denominator)


def ceil_div(numerator: Expr, denominator: Expr) -> Expr:
    """ceiling(numerator / denominator), nested ceilings kept flat as floors are."""
    if type(numerator) is al.Int and type(denominator) is al.Int:
        return al.Int(-(-numerator // denominator))
    if denominator == 1 and numerator.is_integer:
        return numerator
    if al.is_number(numerator) and al.is_number(denominator):
        return al.ceiling(numerator / denominator)
    if denominator.is_integer:
        numerator = _flatten(numerator, al.sympy().ceiling)
    return al.sympy().ceiling(numerator / denominator)


def _clipped(span: Expr, i: Expr, window: Window) -> Expr:
    """ceil(span / s) + 1, less one where that last window would start in the padding,
    (o - 1)s >= i + p_before: PyTorch's pooling_output_shape and Caffe's pooling_layer.cpp
    drop one window there.  ceil(span / s)·s <= span + s - 1 = i + p_before + (p_after - k̂ + s - 1),
    so with p_after <= k̂ - s no window is ever dropped.  While p_after <= k̂ - 1 (always for
    pooling) the rule is the min below; past it the last window always starts in the
    padding, so it is always dropped."""
    s = window.stride
    never = (window.kernel - s - window.after).is_nonnegative  # no window can start in the padding
    fits = window.kernel - 1 - window.after
    if not (never or fits == 0) and al.longer_than(i, MAX_CLIPPED_NODES):  # before SymPy's ceiling of it
        raise LayerProblem(f"the closed form of this size would pass {MAX_CLIPPED_NODES:,} terms: each layer "
                           "that may drop a last window in its padding doubles it; give the input a value, "
                           "or use floor rounding", LimitError)
    up = ceil_div(span, s)
    if never:
        return up + 1
    if fits == 0:  # span = i + p_before - 1: min(ceil(x), floor(x)) = floor(x)
        return floor_div(i + window.before - 1, s) + 1
    last = floor_div(i + window.before - 1, s)
    # SymPy's own Min compares its arguments, which costs more than the rest of the layer
    within = al.Min(up, last, evaluate=up.is_number and last.is_number) + 1
    if fits.is_nonnegative:
        return within
    if fits.is_negative:
        return up
    return al.Piecewise((within, fits >= 0), (up, True))


def output_size(rule: str, i: Expr, window: Window, padded: Expr = None) -> Expr:
    """The output size along one axis under one of RULES.  `padded` is the layer's padding
    summed over every axis: Caffe clips when any axis is padded (`if (pad_h_ || pad_w_)`)."""
    span = i + window.before + window.after - window.kernel
    s = window.stride
    if rule == "exact":
        return span / s + 1
    if rule == "floor":
        return floor_div(span, s) + 1
    if rule == "ceil":
        return _clipped(span, i, window)
    if rule == "caffe":
        padded = window.before + window.after if padded is None else padded
        unclipped = ceil_div(span, s) + 1
        if padded == 0:
            return unclipped
        if padded.is_positive:
            return _clipped(span, i, window)
        return al.Piecewise((_clipped(span, i, window), padded > 0), (unclipped, True))
    raise ValueError(f"unknown rounding rule {rule!r}")


def same_window(i: Expr, keff: Expr, s: Expr) -> tuple[Expr, Window]:
    """TensorFlow/Keras 'same': o = ceil(i/s); the padding it implies, extra pixel after."""
    out = i if s == 1 else ceil_div(i, s)
    total = al.Max((out - 1) * s + keff - i, 0)
    before = al.floor(total / 2)
    return out, Window(keff, s, before, total - before)


def padding_for(mode, keff: Expr) -> tuple[Expr, Expr]:
    """Padding (before, after) along one axis for a named mode or an explicit number.

    'half' is floor(k̂/2) per side (VGG, ResNet: the size is kept at stride 1 for odd
    kernels); 'valid' is 0; 'full' is k̂ - 1 per side; 'causal' is k̂ - 1 before and none
    after (WaveNet, TCN: an output never sees a later input).  'same' is handled by same_window.
    """
    if mode == "causal":
        return keff - 1, al.ZERO
    if mode == "half":
        half = al.floor(keff / 2)
        return half, half
    if mode == "valid":
        return al.ZERO, al.ZERO
    if mode == "full":
        return keff - 1, keff - 1
    return mode, mode
