"""The small immutable structure a notation text parses into.

A network text becomes a :class:`NetworkSpec`: an optional input shape and a tuple of
items, each a :class:`Layer`, a :class:`Repeat` of items, or :class:`Branches` that
meet again.  Calls of defined blocks are expanded before the spec is returned.  Numbers are exact
numbers (symcount.algebra) and symbols SymPy's, built by the grammar's transformer, so `{2*C}`
is already `2*C` here.
Nothing in this module evaluates shapes; symcount.builder does.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Union

from symcount import algebra as al


def symbol(name: str):
    """The SymPy symbol a notation name stands for.

    Every notation symbol is a nonnegative integer (a size, a width, a padding, a
    count), so SymPy may simplify `floor(H - 1)` to `H - 1`.  Use this (or
    ``Network.symbols``) rather than ``sympy.Symbol(name)``, which is another symbol.
    """
    return al.sympy().Symbol(name, integer=True, nonnegative=True)


INPUT_CHANNELS = "in"  # {in}: the channels of the layer's own input, known when the layer is built


def rational_symbol(name: str):
    """A symbol declared with `rational(name)`: a positive rational such as MobileNet's
    width multiplier α (0.75) and resolution multiplier ρ (6/7)."""
    return al.sympy().Symbol(name, rational=True, positive=True)


@dataclass(frozen=True)
class Span:
    """Where an item stands in the source text (1-based line and column)."""
    line: int
    column: int
    start: int
    end: int


@dataclass(frozen=True)
class Layer:
    """One layer as written: its kind and its canonical parameters.

    ``params`` is a sorted tuple of (name, value) pairs so that two layers written
    alike compare and hash alike: the engine caches evaluations on (kind, params).
    """
    kind: str
    params: tuple
    text: str
    span: Span

    def get(self, name: str, default=None):
        for key, value in self.params:
            if key == name:
                return value
        return default

    @property
    def key(self) -> tuple:
        return (self.kind, self.params)


@dataclass(frozen=True)
class Repeat:
    """Items applied ``count`` times in a row; a bare group is a Repeat of count 1.

    ``label`` names each pass as a block of the table: a defined block's name, numbered
    per pass (bottleneck1, bottleneck2), or, with ``stage``, a stage label such as
    "conv2_x", kept as written.  Unlabeled groups are transparent.
    """
    body: tuple
    count: object  # an Int or a SymPy expression
    text: str
    span: Span
    label: str | None = None
    stage: bool = False


@dataclass(frozen=True)
class Branches:
    """Paths from one input: kind "res" (a body plus a shortcut, the identity or a
    projection), "add" (elementwise sum), "cat" (channels concatenated), "mul" (elementwise
    product), "split" (the channels cut among the branches, then concatenated) or "side"
    (one path off the trunk that never meets it again), or "moe" (one branch, the body of each
    expert, and ``router``, the router layer with the experts' count and options).  An empty
    branch is the identity.
    ``shares``: split's channels per branch as written (16: ...), or None for equal parts."""
    kind: str
    branches: tuple
    text: str
    span: Span
    shares: tuple | None = None
    router: Layer | None = None


@dataclass(frozen=True)
class Call:
    """A use of a defined block, before expansion: bottleneck(64, 1)."""
    name: str
    args: tuple
    text: str
    span: Span


@dataclass(frozen=True)
class Definition:
    """def bottleneck(c, s) = (...): a block with named parameters."""
    name: str
    params: tuple
    body: tuple
    span: Span


@dataclass(frozen=True)
class Input:
    """A second input, written after the first stack: `input T tokens`.  The stack before it ends
    in its output, the memory that cross-attention (attn8[cross]) reads; the layers after it start
    from this shape (an encoder–decoder: input S tokens … input T tokens …)."""
    shape: tuple
    text: str
    span: Span


Item = Union[Layer, Repeat, Branches, Input]


@dataclass(frozen=True)
class NetworkSpec:
    """A parsed notation text."""
    input: tuple | None
    items: tuple
    source: str
    input_span: Span | None = None

    @cached_property
    def free_symbols(self) -> frozenset:
        """The SymPy symbols its layers' parameters, repeat counts and split shares hold (found
        once: a spec is immutable, and every `subs` rebuilds on it)."""
        return frozenset(symbols_in(tuple(item.params if isinstance(item, Layer) else item.count
                                          if isinstance(item, Repeat) else tuple(item.shape) if isinstance(item, Input)
                                          else (item.shares or (), _params(item.router))
                                          for item in walk(self.items))))


def _params(layer) -> tuple:
    return layer.params if layer is not None else ()


def symbols_in(value, found: set | None = None) -> set:
    """The SymPy symbols in a value or nested tuples of values."""
    found = set() if found is None else found
    if al.is_expr(value):
        found.update(value.free_symbols)
    elif isinstance(value, tuple):
        for v in value:
            symbols_in(v, found)
    return found


def walk(items):
    """Every Layer and Repeat in items, at any depth (inside repeats and every branch)."""
    for item in items:
        yield item
        if isinstance(item, Repeat):
            yield from walk(item.body)
        elif isinstance(item, Branches):
            for branch in item.branches:
                yield from walk(branch)
