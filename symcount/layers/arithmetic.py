"""Output-size arithmetic of sliding windows, exact and symbolic.

Formulas and sources: ../shared/reference/conv-arithmetic.md and docs/conventions.md.
  o = floor((i + p_before + p_after - d(k-1) - 1) / s) + 1        (PyTorch Conv2d, MaxPool2d)
Nested floors are kept flat with the identity floor((floor(A) + R) / s) = floor((A + R) / s)
for an integer R and a positive integer s, so five VGG poolings give floor(H/32), not
five nested floors.  Every function takes and returns SymPy expressions.
"""
from __future__ import annotations

import sympy

Expr = sympy.Expr


def effective_kernel(k: Expr, d: Expr) -> Expr:
    """k̂ = d(k - 1) + 1: the span a dilated kernel covers."""
    return d * (k - 1) + 1


def _flatten_floor(numerator: Expr) -> Expr:
    """Replace a single floor(A) inside an integer-valued numerator by A (see module doc)."""
    terms = sympy.Add.make_args(numerator)
    floors = [t for t in terms if isinstance(t, sympy.floor)]
    if len(floors) != 1:
        return numerator
    rest = sympy.Add(*[t for t in terms if t is not floors[0]])
    if rest.is_integer:
        return floors[0].args[0] + rest
    return numerator


def floor_div(numerator: Expr, denominator: Expr) -> Expr:
    """floor(numerator / denominator) for an integer-valued numerator and a stride >= 1."""
    if denominator == 1:
        return numerator
    if denominator.is_integer:
        numerator = _flatten_floor(numerator)
    return sympy.floor(numerator / denominator)


def ceil_div(numerator: Expr, denominator: Expr) -> Expr:
    return sympy.ceiling(numerator / denominator)


def window_output(i: Expr, k: Expr, s: Expr, before: Expr, after: Expr, d: Expr) -> Expr:
    """Floor rule: o = floor((i + before + after - k̂) / s) + 1."""
    return floor_div(i + before + after - effective_kernel(k, d), s) + 1


def ceil_mode_output(i: Expr, k: Expr, s: Expr, p: Expr, d: Expr) -> Expr:
    """PyTorch ceil_mode=True (aten/src/ATen/native/Pool.h, pooling_output_shape).

    PyTorch computes o = ceil((i + 2p - k̂)/s) + 1 and subtracts one when the last
    window would start in the right padding, (o - 1)s >= i + p.  With p <= k̂/2 that is
    o = min(ceil((i + 2p - k̂)/s), floor((i + p - 1)/s)) + 1: the latest window start
    allowed is i + p - 1.
    """
    upper = ceil_div(i + 2 * p - effective_kernel(k, d), s)
    latest_start = floor_div(i + p - 1, s)
    return sympy.Min(upper, latest_start) + 1


def same_output(i: Expr, s: Expr) -> Expr:
    """TensorFlow/Keras 'same': o = ceil(i / s) (tensorflow kernel_shape_util.cc)."""
    return i if s == 1 else ceil_div(i, s)


def padding_for(mode, k: Expr, d: Expr) -> tuple[Expr, Expr]:
    """Padding (before, after) along one axis for a named mode or an explicit number.

    'half' is floor(k̂/2) per side (VGG, ResNet: the size is kept at stride 1 for odd
    kernels); 'valid' is 0; 'full' is k̂ - 1 per side.  'same' is not a padding but an
    output rule (same_output); callers handle it.
    """
    keff = effective_kernel(k, d)
    if mode == "half":
        half = sympy.floor(keff / 2)
        return half, half
    if mode == "valid":
        return sympy.Integer(0), sympy.Integer(0)
    if mode == "full":
        return keff - 1, keff - 1
    return mode, mode
