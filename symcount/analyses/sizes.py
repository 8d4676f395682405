"""Named intermediate sizes: H₁ = ⌊(H − 1)/2⌋ + 1, …, and any count written in them.

Every distinct spatial size (and token count) that is a formula rather than one symbol
gets a name, defined once in the input's symbols; every count is then a polynomial in the
names, as papers write it: params = 2097152·H₅·W₅ + 35597096, a valid convolution's
output 64×H₁×W₁ with H₁ = H − 2.  A size with a rounding in it (floor, ceiling, min, max,
a case split) is solved for that rounding, so every later size built on it is written
with the name (⌊H/2⌋ − 1 after H₁ = ⌊H/2⌋ is H₁ − 1, and is then named in turn); a size
without one is replaced where it appears whole (a factor H − 2), and a token count
a·m + b for a product m of symbols (ViT's H·W/256) is solved for m.
Names are the input dimension's symbol (H, W; S for a square S×S input), N for a token
count, or, for a numeric input dimension, H and W by position, numbered in order of first
appearance.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from symcount import algebra as al
from symcount.layers.result import AXIS_SYMBOLS, layout

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
    exact: dict = field(default_factory=dict)      # a polynomial in names → its name
    monomials: dict = field(default_factory=dict)  # a product of symbols → the polynomial in names it equals

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
        """The expression in the named sizes (unchanged if no name applies), expanded
        unless `expand` is false: a row's 16·(H₁ − 4)·(W₁ − 4) keeps its factors."""
        if not al.is_expr(expr) or not self.definitions or expr.is_number:
            return expr
        named = _in_names(expr, self.rules, self.monomials, self.exact)
        if named is expr:
            return expr
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


def _in_names(expr, rules: dict, monomials: dict, exact: dict):
    """expr with its roundings, products and whole sizes replaced by the names given so far."""
    named = expr.xreplace(rules) if rules and expr.has(*_kinds()) else expr
    if monomials and any(named.has(*m.free_symbols) for m in monomials):
        named = named.subs(monomials)
    return named.xreplace(exact) if exact else named


def _axes(shape) -> list:
    """(axis, size) of the sizes worth a name: a spatial shape's axes after the channels, a
    token shape's count."""
    kind = layout(shape)
    if kind == "spatial":
        return list(enumerate(shape))[1:]
    return [(0, shape[0])] if kind == "tokens" else []


def _monomial(size):
    """size = a·m + b for a product m of two or more symbols and numbers a, b: (m, a, b), or None."""
    sympy = al.sympy()
    terms = sympy.Add.make_args(sympy.expand(size))
    variable = [t for t in terms if not t.is_number]
    if len(variable) != 1:
        return None
    coefficient, monomial = variable[0].as_coeff_Mul()
    if len(monomial.free_symbols) < 2 or not all(f.is_Symbol for f in sympy.Mul.make_args(monomial)):
        return None
    return monomial, coefficient, size - variable[0]


def _base(axis: int, input_shape: tuple) -> str:
    dim = input_shape[axis] if axis < len(input_shape) else None
    if al.is_expr(dim) and dim.is_Symbol:
        return dim.name
    return AXIS_SYMBOLS[len(input_shape) - 1][axis - 1] if axis >= 1 else "C"  # no layer adds an axis


def name_sizes(input_shape: tuple, shapes, reserved=()) -> Sizes:
    """Name the sizes among the spatial axes and token counts of `shapes` (each a tuple
    C×H×W …, or N×D tokens), taken in order; `reserved` names are never given."""
    definitions: dict = {}
    rules: dict = {}
    exact: dict = {}
    monomials: dict = {}
    counters: dict = {}
    taken = {s.name for d in input_shape if al.is_expr(d) for s in d.free_symbols} | set(reserved)
    seen: set = set()
    for shape in shapes:
        for axis, size in _axes(shape):
            if not al.is_expr(size) or size.is_number or size.is_Symbol or size in seen:
                continue
            seen.add(size)
            sympy = al.sympy()
            current = _in_names(size, rules, monomials, exact)
            if current.is_Symbol or current.is_number:
                continue  # a name already given, or a number
            current = sympy.expand(current)
            if current in exact:
                continue
            base = "N" if layout(shape) == "tokens" else _base(axis, input_shape)
            index = counters.get(base, 0) + 1
            while f"{base}_{index}" in taken:
                index += 1
            counters[base] = index
            name = sympy.Symbol(f"{base}_{index}", integer=True, positive=True)
            taken.add(name.name)
            definitions[name] = size
            if not current.has(*_kinds()):
                exact[current] = name
                found = _monomial(current)
                if found is not None and found[0] not in monomials:
                    monomial, coefficient, rest = found
                    monomials[monomial] = (name - rest) / coefficient
                continue
            split = _split(size)
            if split is not None and split[0] not in rules:
                atom, coefficient, rest = split
                rules[atom] = (name - rest) / coefficient
            else:
                rules[size] = name
    return Sizes(definitions, rules, exact, monomials)


def of_network(network) -> Sizes:
    """The named sizes of a network's rows (outputs in table order)."""
    return name_sizes(network.input_shape, [row.output for row in network.layers], network.symbols)


def named_total(sizes: Sizes, rows, quantity: str) -> Expr:
    """A total summed row by row in the named sizes (the expanded total would have lost
    the sizes' shape: (⌊x⌋ + 1)(⌊y⌋ + 1) expands into four terms)."""
    return al.expand(al.Add(*[sizes.named(getattr(row, quantity)) for row in rows]))
