"""Named intermediate sizes: H₁ = ⌊(H − 1)/2⌋ + 1, …, and any count written in them.

A spatial size with a rounding in it (floor, ceiling, min, max, a case split) gets a name,
defined once in the input's symbols; every count is then a polynomial in the names, as
papers write it: params = 2097152·H₅·W₅ + 35597096.  A size that differs from a named one
by a polynomial (⌊H/2⌋ − 1 after ⌊H/2⌋) is written with that name instead of a new one.
Names are the input dimension's symbol (H, W; S for a square S×S input) or, for a
numeric input dimension, H and W by position, numbered in order of first appearance.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from symcount import algebra as al
from symcount.layers.result import AXIS_SYMBOLS

Expr = object  # an Int, a Rat or a SymPy expression (symcount.algebra)


@cache
def _kinds() -> tuple:
    """The roundings a size may hold (SymPy's, so asked only of a SymPy expression)."""
    sympy = al.sympy()
    return sympy.floor, sympy.ceiling, sympy.Min, sympy.Max, sympy.Piecewise


def roundings(expr: Expr) -> list:
    """The outermost roundings in an expression, in a stable order."""
    found = []

    def visit(node):
        if isinstance(node, _kinds()):
            if node not in found:
                found.append(node)
            return
        for arg in node.args:
            visit(arg)

    visit(expr)
    return found


@dataclass(frozen=True)
class Sizes(Mapping):
    """The named sizes of one network, a mapping from each name (an integer, positive
    Symbol such as H_5) to its closed form in the input's symbols, in order of first
    appearance: dict(net.sizes), net.sizes.named(net.macs)."""
    definitions: dict
    rules: dict  # a rounding → the polynomial in names it equals

    def __getitem__(self, name):
        if isinstance(name, str):
            name = next((s for s in self.definitions if s.name == name), name)
        return self.definitions[name]

    def __iter__(self):
        return iter(self.definitions)

    def __len__(self):
        return len(self.definitions)

    def __hash__(self):
        return id(self)

    def named(self, expr, expand: bool = True):
        """The expression in the named sizes (unchanged if it has no roundings), expanded
        unless `expand` is false: a row's 16·(H₁ − 4)·(W₁ − 4) keeps its factors."""
        if not al.is_expr(expr) or not self.rules or not expr.has(*_kinds()):
            return expr
        named = expr.xreplace(self.rules)
        return al.exact(al.sympy().expand(named) if expand else named)

    def defined(self, expr):
        """The expression with every name replaced by its definition (the inverse of named)."""
        return al.exact(expr.xreplace(self.definitions)) if al.is_expr(expr) else expr


def _split(size: Expr):
    """size = coefficient·R + rest for its single rounding R, or None."""
    sympy = al.sympy()
    found = roundings(size)
    if len(found) != 1:
        return None
    atom = found[0]
    rest = size.xreplace({atom: sympy.Integer(0)})
    coefficient = sympy.expand(size - rest).coeff(atom) if size != atom else sympy.Integer(1)
    if coefficient == 0 or sympy.expand(coefficient * atom + rest - size) != 0:
        return None
    return atom, coefficient, rest


def _base(axis: int, input_shape: tuple) -> str:
    dim = input_shape[axis] if axis < len(input_shape) else None
    if al.is_expr(dim) and dim.is_Symbol:
        return dim.name
    return AXIS_SYMBOLS[len(input_shape) - 1][axis - 1] if axis >= 1 else "C"  # no layer adds an axis


def name_sizes(input_shape: tuple, shapes) -> Sizes:
    """Name the sizes with roundings among the spatial axes of `shapes` (each a tuple
    C×H×W …), taken in order."""
    definitions: dict = {}
    rules: dict = {}
    counters: dict = {}
    taken = {s.name for d in input_shape if al.is_expr(d) for s in d.free_symbols}
    for shape in shapes:
        if len(shape) < 2:
            continue
        for axis, size in enumerate(shape[1:], 1):
            if not al.is_expr(size) or not size.has(*_kinds()):
                continue
            sympy = al.sympy()
            if not sympy.expand(size.xreplace(rules)).has(*_kinds()):
                continue  # a polynomial in names already given
            base = _base(axis, input_shape)
            index = counters.get(base, 0) + 1
            while f"{base}_{index}" in taken:
                index += 1
            counters[base] = index
            name = sympy.Symbol(f"{base}_{index}", integer=True, positive=True)
            taken.add(name.name)
            definitions[name] = size
            split = _split(size)
            if split is not None and split[0] not in rules:
                atom, coefficient, rest = split
                rules[atom] = (name - rest) / coefficient
            else:
                rules[size] = name
    return Sizes(definitions, rules)


def of_network(network) -> Sizes:
    """The named sizes of a network's rows (outputs in table order)."""
    return name_sizes(network.input_shape, [row.output for row in network.layers])


def named_total(sizes: Sizes, rows, quantity: str) -> Expr:
    """A total summed row by row in the named sizes (the expanded total would have lost
    the sizes' shape: (⌊x⌋ + 1)(⌊y⌋ + 1) expands into four terms)."""
    return al.expand(al.Add(*[sizes.named(getattr(row, quantity)) for row in rows]))
