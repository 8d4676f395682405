"""A network's closed forms at one point after another, with one meaning for a symbolic repeat count.

The builder folds a repeat x{n} once its block keeps the shape, after k passes, so its closed
form holds for n >= k (Network.assumptions).  At a point with n <= k the network is what subs
builds there: it is built with those counts (its other symbols kept) and its own closed forms
answer.  At n = k too (Network.folds: n > k): the totals agree, but the folded pass, there
n - k = 0 times, is not a layer of it, and what its layers need does not apply (groupnorm
x{n} at n = 0).  sweep and solve evaluate through :func:`at_points`, so both agree with subs
at every point.
"""
from __future__ import annotations

from symcount.analyses.compiled import compile_exact
from symcount.builder import MAX_PEEL_SYMBOLIC_COUNT
from symcount.errors import LimitError, SymcountError

MAX_BUILDS = MAX_PEEL_SYMBOLIC_COUNT + 1  # networks built apart: one count's values up to its passes


def at_points(network, compile_for):
    """A function of the network's symbols' values, in order: compile_for(network) where the
    closed form holds, else compile_for(the network built at the counts' values) on the rest of
    the point.  compile_for(net) gives a function of net's symbols with a `size` (its work,
    symcount.analyses.compiled) returning None where that network is invalid."""
    main = compile_for(network)
    if not network.folds:
        return main
    names = list(network.symbols)
    holds = compile_exact(network.symbols.values(), network.folds)
    counts = [sorted(s.name for s in fold.free_symbols) for fold in network.folds]
    built = {}

    def evaluate(*point):
        try:
            kept = holds(*point)
        except ZeroDivisionError:  # a count such as {C/g} at g = 0: subs refuses it
            kept = (False,) * len(counts)
        if all(kept):
            return main(*point)
        values = dict(zip(names, point))
        key = tuple(sorted({(name, values[name]) for ok, used in zip(kept, counts) if not ok for name in used}))
        if key not in built:
            if len(built) >= MAX_BUILDS:
                raise LimitError(f"more than {MAX_BUILDS} points put a repeat count at or below the passes its "
                                 "closed form is folded after, and each such point is built apart, as subs "
                                 "builds it; ask for fewer of them")
            try:
                other = network.subs(**dict(key))
            except SymcountError:  # a layer that these counts make invalid
                built[key] = None
            else:
                built[key] = (at_points(other, compile_for), list(other.symbols))
        if built[key] is None:
            return None
        function, rest = built[key]
        return function(*(values[name] for name in rest))

    evaluate.size = main.size + holds.size
    return evaluate
