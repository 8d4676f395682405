"""The arithmetic every layer rule is written against: numbers stay Python integers and
fractions, and SymPy is asked only where a symbol is (and imported only then).

Int and Rat are exact numbers that answer what the rules ask of a SymPy expression
(``is_integer``, ``is_nonnegative``, ``is_number``, ``free_symbols`` …) and whose arithmetic
stays exact, as SymPy's Integer and Rational do: 217/4 + 1 is Rat(221, 4), 8/2 is Int(4).
Anything else asked of one (``subs``, ``atoms`` …) is answered by its SymPy equal, so a
total is usable as a SymPy number wherever one is expected.  The functions below (floor,
Max, Mul, Piecewise …) compute with numbers when every argument is one, and are SymPy's
functions otherwise, so one rule serves a numeric input and a symbolic one alike.
"""
from __future__ import annotations

import functools
import math
import operator
import sys
from fractions import Fraction

from symcount.errors import LimitError

NUMBERS = (int, Fraction)


def sympy():
    """The sympy module, imported on first use (a numeric network never needs it)."""
    import sympy as module
    return module


def is_number(value) -> bool:
    """A plain exact number (Int, Rat, int, Fraction), not a SymPy object."""
    return isinstance(value, NUMBERS) and not isinstance(value, bool)


def is_expr(value) -> bool:
    """A SymPy object (never true before SymPy is imported, so asking costs nothing)."""
    module = sys.modules.get("sympy")
    return module is not None and isinstance(value, module.Basic)


def is_constant(value) -> bool:
    """A number, exact or SymPy's (Integer(3), Rational(1, 2)), not a formula."""
    return is_number(value) or (is_expr(value) and value.is_number)


def is_value(value) -> bool:
    """A number or a SymPy expression: what a size, a width or a count is."""
    return is_number(value) or is_expr(value)


def exact(value):
    """An int, a Fraction or a SymPy number as Int or Rat (whole fractions become Int);
    any other SymPy expression as it is."""
    if type(value) is Int or type(value) is Rat:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Int(value)
    if isinstance(value, Fraction):
        return Int(value.numerator) if value.denominator == 1 else Rat(value)
    if is_expr(value) and value.is_Rational:
        return Int(int(value.p)) if value.q == 1 else Rat(int(value.p), int(value.q))
    return value


def _to_sympy(value):
    return sympy().Integer(int(value)) if isinstance(value, int) else sympy().Rational(value.numerator,
                                                                                     value.denominator)


def _operator(function, reflected=False):
    """An Int's or Rat's operator: exact with numbers, NotImplemented with anything else
    (a SymPy expression then takes the operation over)."""
    def method(self, other):
        if not isinstance(other, NUMBERS):
            return NotImplemented
        a, b = _plain(self), _plain(other)
        return exact(function(b, a) if reflected else function(a, b))
    return method


def _plain(value):
    """Python's own int or Fraction (whose operators do not come back here)."""
    return int(value) if isinstance(value, int) else Fraction(value.numerator, value.denominator)


def _divide(a, b):
    return Fraction(a, b) if isinstance(a, int) and isinstance(b, int) else Fraction(a) / Fraction(b)


class _Exact:
    """What Int and Rat answer alike: SymPy's predicates of a number, and exact arithmetic."""
    __slots__ = ()
    is_number = is_Number = is_rational = is_Rational = is_real = is_finite = is_comparable = True
    is_Symbol = is_Add = is_Mul = is_Pow = is_Function = is_Piecewise = is_Relational = is_Float = False
    is_symbol = False
    free_symbols = frozenset()
    args = ()

    @property
    def is_zero(self):
        return self == 0

    @property
    def is_nonzero(self):
        return self != 0

    @property
    def is_positive(self):
        return self > 0

    @property
    def is_negative(self):
        return self < 0

    @property
    def is_nonnegative(self):
        return self >= 0

    @property
    def is_nonpositive(self):
        return self <= 0

    __add__ = _operator(operator.add)
    __radd__ = _operator(operator.add, True)
    __sub__ = _operator(operator.sub)
    __rsub__ = _operator(operator.sub, True)
    __mul__ = _operator(operator.mul)
    __rmul__ = _operator(operator.mul, True)
    __truediv__ = _operator(_divide)
    __rtruediv__ = _operator(_divide, True)
    __floordiv__ = _operator(operator.floordiv)
    __rfloordiv__ = _operator(operator.floordiv, True)
    __mod__ = _operator(operator.mod)
    __rmod__ = _operator(operator.mod, True)

    def __pow__(self, other, modulo=None):
        if not isinstance(other, int) or modulo is not None:
            return NotImplemented
        return exact(Fraction(_plain(self)) ** int(other))

    def __neg__(self):
        return exact(-_plain(self))

    def __pos__(self):
        return self

    def __abs__(self):
        return exact(abs(_plain(self)))

    def _sympy_(self):
        return _to_sympy(self)

    def __getattr__(self, name):
        """Whatever else SymPy's number answers (subs, atoms, has, xreplace …)."""
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(_to_sympy(self), name)


class Int(_Exact, int):
    """An exact integer that answers as SymPy's Integer does (see the module's docstring)."""
    __slots__ = ()
    is_integer = is_Integer = True

    def __add__(self, other):  # the commonest operations, without the generic wrapper
        return Int(int.__add__(self, other)) if type(other) is Int or type(other) is int else \
            _Exact.__add__(self, other)

    def __mul__(self, other):
        return Int(int.__mul__(self, other)) if type(other) is Int or type(other) is int else \
            _Exact.__mul__(self, other)

    def __sub__(self, other):
        return Int(int.__sub__(self, other)) if type(other) is Int or type(other) is int else \
            _Exact.__sub__(self, other)

    def __repr__(self):
        return int.__repr__(self)

    __str__ = __repr__

    def __reduce__(self):
        return (Int, (int(self),))


class Rat(_Exact, Fraction):
    """An exact fraction that is not whole, as SymPy's Rational (217/4)."""
    __slots__ = ()
    is_integer = is_Integer = False

    def __reduce__(self):
        return (Rat, (self.numerator, self.denominator))

    def __repr__(self):
        return Fraction.__str__(self)

    __str__ = __repr__

    @property
    def p(self):
        return self.numerator

    @property
    def q(self):
        return self.denominator


ZERO, ONE = Int(0), Int(1)


def Integer(value) -> Int:  # noqa: N802  (SymPy's name, for a reader who knows it)
    return Int(int(value))


def Rational(numerator, denominator=1):  # noqa: N802
    return exact(Fraction(numerator, denominator))


# --------------------------------------------------------------------------- functions

def _numbers(values) -> bool:
    return all(isinstance(v, NUMBERS) for v in values)


def floor(value):
    return Int(math.floor(value)) if isinstance(value, NUMBERS) else sympy().floor(value)


def ceiling(value):
    return Int(math.ceil(value)) if isinstance(value, NUMBERS) else sympy().ceiling(value)


def Max(*values, evaluate=True):  # noqa: N802
    return exact(max(values)) if _numbers(values) else sympy().Max(*values, evaluate=evaluate)


def Min(*values, evaluate=True):  # noqa: N802
    return exact(min(values)) if _numbers(values) else sympy().Min(*values, evaluate=evaluate)


def Add(*values):  # noqa: N802
    """The sum; numbers are summed first, so a long numeric total never builds a SymPy Add."""
    numbers = [v for v in values if isinstance(v, NUMBERS)]
    total = exact(sum(numbers)) if len(numbers) != 1 else exact(numbers[0])
    if len(numbers) == len(values):
        return total
    rest = [v for v in values if not isinstance(v, NUMBERS)]
    return sympy().Add(*rest, total) if total != 0 else sympy().Add(*rest)


def Mul(*values):  # noqa: N802
    if _numbers(values):
        product = ONE
        for value in values:
            product = product * exact(value)
        return product
    return sympy().Mul(*values)


def Mod(value, divisor):  # noqa: N802
    return exact(value % divisor) if _numbers((value, divisor)) else sympy().Mod(value, divisor)


def Piecewise(*pieces):  # noqa: N802
    """The first piece whose condition holds; SymPy's Piecewise from the first one a symbol
    leaves open."""
    for index, (value, condition) in enumerate(pieces):
        if is_expr(condition) and condition in (sympy().true, sympy().false):
            condition = bool(condition)
        if condition is True:
            return value
        if condition is not False:
            return sympy().Piecewise(*pieces[index:])
    raise ValueError("no piece of the Piecewise holds")


MAX_TERMS = 1_000  # terms of an expanded closed form: a product of sums in braces multiplies them


def expand(value):
    """SymPy's expand, refused (LimitError) where it could give more than MAX_TERMS terms:
    {(a+b+c+d+e+f+g+h)^8} is 6,435 terms, and expanding it takes seconds."""
    if isinstance(value, NUMBERS):
        return value
    if expanded_terms(value, MAX_TERMS) > MAX_TERMS:
        raise LimitError(f"a closed form that would expand to more than {MAX_TERMS:,} terms (a product of sums "
                         "of symbols multiplies their terms); give the symbols values")
    return sympy().expand(value)


def expanded_terms(value, limit: int) -> int:
    """An upper bound on the terms of expand(value) (or of any argument inside it), counted no
    further than limit + 1; each shared part of the expression is visited once."""
    known, inner = {}, [1]

    def terms(node):
        if node not in known:
            if node.is_Add:
                count = sum(terms(a) for a in node.args)
            elif node.is_Mul:
                count = 1
                for a in node.args:
                    count = min(count * terms(a), limit + 1)
            elif node.is_Pow and node.exp.is_Integer and node.exp > 1:
                base = terms(node.base)
                power = min(int(node.exp), limit + 1)  # the monomials of degree `power` in `base` terms
                count = 1 if base == 1 else min(math.comb(base + power - 1, power), limit + 1)
            else:  # a symbol, a number, or a function expanded inside (floor, Max ...)
                inner[0] = max([inner[0]] + [terms(a) for a in node.args])
                count = 1
            known[node] = min(count, limit + 1)
        return known[node]

    return max(terms(value), inner[0])


@functools.lru_cache(maxsize=1 << 16)
def measure(expression) -> tuple:
    """(nodes, depth, degree) of a SymPy expression's tree: its size as printed or walked, its
    nesting, and a bound on its total degree in the symbols (a division adds none: floor(floor(H/s)/s)
    is 1; a rounding has its argument's).  Each part is measured once: a size is its input's
    size and a few nodes more, so a layer pays for its new nodes only."""
    if expression.is_Symbol:
        return 1, 1, 1
    if not expression.args:
        return 1, 1, 0
    parts = [measure(arg) for arg in expression.args]
    nodes, depth = 1 + sum(part[0] for part in parts), 1 + max(part[1] for part in parts)
    if expression.is_Mul:
        return nodes, depth, sum(part[2] for part in parts)
    if expression.is_Pow and expression.exp.is_Integer:
        return nodes, depth, parts[0][2] * max(int(expression.exp), 0)
    return nodes, depth, max(part[2] for part in parts)


def longer_than(value, limit: int) -> bool:
    """Whether an expression's tree has more than `limit` nodes, found in at most that many
    steps (a tree that shares its parts can be far larger than its memory)."""
    if not is_expr(value):
        return False
    for count, _ in enumerate(sympy().preorder_traversal(value)):
        if count >= limit:
            return True
    return False


def to_sympy(value):
    """SymPy's equal of an exact number; an expression as it is."""
    return _to_sympy(value) if isinstance(value, NUMBERS) else value


def replaced(value, mapping: dict):
    """`value` with symbols replaced by values (SymPy's xreplace), a number as Int or Rat."""
    if not mapping or not is_expr(value):
        return value
    return exact(value.xreplace({name: to_sympy(v) for name, v in mapping.items()}))


def is_add(value) -> bool:
    """A SymPy sum (which a shape shows in parentheses)."""
    return is_expr(value) and value.is_Add
