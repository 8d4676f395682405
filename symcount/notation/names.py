"""Names in braces, kept as a small expression until their values are known.

A block's body, def bottleneck(c, s) = (conv1-{c} … conv1-{4*c}), is read once, with c and s
unknown; each call gives them numbers.  Kept as a Name and a Formula (the operations as
written), the body becomes plain numbers when a call fills it in, so a network built from
blocks never needs SymPy.  A name no value is given for (a network's own symbol, {C}, {n})
becomes SymPy's symbol then, and the same operations run on it.
"""
from __future__ import annotations

import operator

from symcount import algebra as al


MAX_VALUE_BITS = 1661  # about 500 digits: a value in braces beyond this is an attack, and would not print


def too_large(value) -> bool:
    """Whether an int, or any number inside an expression, has more than about 500 digits."""
    if isinstance(value, int):
        return abs(value).bit_length() > MAX_VALUE_BITS
    if isinstance(value, (Name, Formula)):
        return False  # bounded once its names are filled in (symcount.notation.blocks)
    if al.is_number(value):
        return too_large(value.numerator) or too_large(value.denominator)
    return any(too_large(int(n.p)) or too_large(int(n.q)) for n in value.atoms(al.sympy().Rational))


def _kept(function, reflected=False):
    """A binary operator that keeps the operation, as written, for when the names are known."""
    def method(self, other):
        return Formula(function, (other, self) if reflected else (self, other))
    return method


class _Arithmetic:
    """The operations the braces' grammar writes (+, −, *, /, unary −), kept as a Formula."""
    __slots__ = ()
    is_number = False

    __add__, __radd__ = _kept(operator.add), _kept(operator.add, True)
    __sub__, __rsub__ = _kept(operator.sub), _kept(operator.sub, True)
    __mul__, __rmul__ = _kept(operator.mul), _kept(operator.mul, True)
    __truediv__, __rtruediv__ = _kept(operator.truediv), _kept(operator.truediv, True)

    def __neg__(self):
        return Formula(operator.neg, (self,))


class Name(_Arithmetic):
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self):
        return self.name

    def __eq__(self, other):
        return isinstance(other, Name) and other.name == self.name

    def __hash__(self):
        return hash(("Name", self.name))


class Formula(_Arithmetic):
    """`function` applied to `args` (values, Names or Formulas) once they are known."""
    __slots__ = ("function", "args")

    def __init__(self, function, args: tuple):
        self.function = function
        self.args = args

    def __repr__(self):
        return f"{getattr(self.function, '__name__', 'f')}{self.args!r}"


def is_unknown(value) -> bool:
    return isinstance(value, (Name, Formula))


def names(value) -> set:
    """The names a value (or a Formula) holds."""
    if isinstance(value, Name):
        return {value.name}
    if isinstance(value, Formula):
        return set().union(*(names(a) for a in value.args))
    if al.is_expr(value):
        return {s.name for s in value.free_symbols}
    return set()


def fill(value, values: dict, symbol=None):
    """A Name or Formula with the names in `values` (name -> value) filled in; every other name
    is `symbol(name)` where a `symbol` is given (the network's own symbols), and is left as a
    Name otherwise (a block's body inside another block's).  Once no name is left, the
    operations are done: a number, or a SymPy expression.  Any other value as it is."""
    if isinstance(value, Name):
        if value.name in values:
            return values[value.name]
        return value if symbol is None else symbol(value.name)
    if isinstance(value, Formula):
        args = tuple(fill(a, values, symbol) for a in value.args)
        return Formula(value.function, args) if any(is_unknown(a) for a in args) else \
            al.exact(value.function(*args))
    return value
