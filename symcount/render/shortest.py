"""A cell's count written as briefly as the named sizes allow: the same value, fewer characters.

symcount.analyses.sizes replaces a size where it appears whole; a count that was expanded
(3·H·W + 768 for ViT's 768×(H·W/256 + 1) activations) or that mixes two related names
(2359296·N₁ + 1536·N₂² + 2359296, with N₂ = N₁ + 1) needs one more step.  Each candidate
below is the expression with equals put for equals, so every one has the same value; the
shortest as printed is kept (the named form when none is shorter).
"""
from __future__ import annotations

from symcount import algebra as al
from symcount.render.formula import show


def _candidates(named, sizes):
    sympy = al.sympy()
    yield named
    grouped = sympy.factor_terms(named).xreplace(sizes.exact)
    yield grouped
    present = named.free_symbols
    for polynomial, name in sizes.exact.items():
        # a later name in terms of an earlier one (N₂ = N₁ + 1): the earlier one written with the later
        earlier = [s for s in polynomial.free_symbols if s in present]
        if len(earlier) != 1 or not sympy.Poly(polynomial, earlier[0]).degree() == 1:
            continue
        slope = polynomial.coeff(earlier[0])
        rest = polynomial - slope * earlier[0]
        rewritten = sympy.expand(named.xreplace({earlier[0]: (name - rest) / slope}))
        yield rewritten.xreplace(sizes.exact)
        yield sympy.factor_terms(rewritten).xreplace(sizes.exact)


def shortest(expr, sizes):
    """expr (already in the named sizes) in its shortest printed form among equal ones."""
    if not al.is_expr(expr) or expr.is_number or not sizes.exact:
        return expr
    best, length = expr, len(show(expr))
    for candidate in _candidates(expr, sizes):
        candidate = al.exact(candidate)
        size = len(show(candidate))
        if size < length:
            best, length = candidate, size
    return best
