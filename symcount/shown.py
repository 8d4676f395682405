"""A formula that a notebook shows as math with no network: what net.params returns when it is symbolic.

SymPy's own display is LaTeX for MathJax, which an offline page (nbconvert's HTML, the classic
notebook without a connection) shows as its source.  shown(expr) is a copy of expr whose class is a
subclass of expr's own (an Add stays an Add, with the same name, arguments, hash and equality), and
which adds HTML: italic symbols, subscripts, ⌊ ⌋ and · products.  Everything SymPy does with it is what it does
with expr; what it builds from it (a sum, a substitution) is plain SymPy again.  Numbers stay
symcount's exact Int and Rat, which a notebook shows as digits.  A report's figures (memory,
training, serving) are shown the same way: `figure` for a property, `shown_fields` for fields.
"""
from __future__ import annotations

import functools
from dataclasses import fields

from symcount import algebra as al

_CLASSES: dict = {}  # SymPy class -> its shown subclass


class Shown:
    """The mixin: HTML for a notebook; equality, hashing, rebuilding and pickling as the plain class."""
    __slots__ = ()
    _plain_class: type

    def _repr_html_(self) -> str:
        from symcount.render.formula import show
        return f'<span class="symcount">{show(self.plain(), "html")}</span>'

    @property
    def func(self):
        """The plain class, so that what SymPy rebuilds from this expression is plain."""
        return self._plain_class

    def plain(self):
        """The same expression in its plain SymPy class."""
        return _copy(self, self._plain_class)

    def __eq__(self, other):
        if isinstance(other, Shown):
            other = other.plain()
        return self.plain() == other

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return self._plain_class.__hash__(self)  # SymPy hashes the class's name, which is the same

    def __reduce_ex__(self, protocol):
        return _same, (self.plain(),)


def shown(value):
    """value as a notebook should show it: an exact number as Int or Rat, a formula as a Shown copy."""
    value = al.exact(value)
    if not al.is_expr(value) or isinstance(value, Shown):
        return value
    plain = type(value)
    subclass = _CLASSES.get(plain)
    if subclass is None:
        subclass = _CLASSES[plain] = type(plain.__name__, (Shown, plain),
                                          {"__slots__": (), "_plain_class": plain, "__module__": __name__,
                                           "__qualname__": f"Shown{plain.__name__}"})
    return _copy(value, subclass)


def figure(method) -> property:
    """A report's property whose formula shows as HTML math, as a network's totals do."""
    return property(functools.wraps(method)(lambda report: shown(method(report))))


def shown_fields(report) -> None:
    """Each formula among a frozen dataclass's fields, shown (called from __post_init__)."""
    for field in fields(report):
        value = getattr(report, field.name)
        if al.is_expr(value):
            object.__setattr__(report, field.name, shown(value))


def _copy(expr, cls):
    """A new object of cls holding expr's state (SymPy keeps it in slots; a few classes also in a dict)."""
    new = object.__new__(cls)
    slots = ((k.__slots__,) if isinstance(k.__slots__, str) else k.__slots__
             for k in type(expr).__mro__ if "__slots__" in vars(k))
    for name in {s for names in slots for s in names} - {"__dict__", "__weakref__"}:
        try:
            object.__setattr__(new, name, object.__getattribute__(expr, name))
        except AttributeError:  # a slot the object never filled
            pass
    if hasattr(expr, "__dict__"):
        new.__dict__.update(expr.__dict__)
    return new


def _same(value):
    return value
