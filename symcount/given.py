"""What a caller gives symcount, read once and refused in words: a value (a whole number, text
such as "2*S", or a SymPy expression), an input shape, a padding, the rounding and framework a
network is evaluated by, and the counts an analysis takes (a batch, devices), whole numbers or a
symbol's name."""
from __future__ import annotations

from dataclasses import replace

from symcount import algebra as al
from symcount.errors import LimitError, ShapeError, SymbolError, SymcountError
from symcount.layers.arithmetic import RULES
from symcount.layers.kinds import Defaults
from symcount.layers.result import like
from symcount.notation.names import too_large
from symcount.notation.parse import parse_expr, parse_shape
from symcount.notation.spec import symbol

PADDINGS = ("half", "valid", "same", "full")
# Each framework's rounding of convolutions and pooling, and its default padding.
FRAMEWORKS = {
    "pytorch": Defaults(),
    "onnx": Defaults(),
    "caffe": Defaults(pool="caffe"),           # Caffe pooling rounds up (pooling_layer.cpp)
    # 'same' as Keras models write paper convolutions; Keras' transposed-convolution rule
    "tensorflow": Defaults(padding="same", deconv="keras"),
    "keras": Defaults(padding="same", deconv="keras"),
}


def as_value(value, what):
    """A value given from outside (an int, text such as "2*S", or a SymPy expression),
    refused unless it is a whole number, a rational or an expression in symbols."""
    if isinstance(value, bool):
        raise SymbolError(f"{what}: expected an integer or expression, got {value!r}")
    if isinstance(value, str):
        value = parse_expr(value)
    elif not (al.is_number(value) or al.is_expr(value) and isinstance(value, al.sympy().Expr)):
        raise SymbolError(f"{what}: expected an integer or expression, got {value!r}")
    value = al.exact(value)
    if al.is_expr(value):
        sympy = al.sympy()
        if value.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo) or value.atoms(sympy.Float):
            raise SymbolError(f"{what}: expected an integer or an exact expression, got {value}")
    if too_large(value):
        raise LimitError(f"{what}: a value with more than 500 digits")
    return value


def as_shape(value):
    if isinstance(value, str):
        return parse_shape(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return (as_value(value, "input"),)
    if not isinstance(value, (tuple, list)):
        raise ShapeError(f"an input is text such as '3x224x224' or '3xHxW', a whole number or a tuple of them; "
                         f"got {value!r}")
    return like(value, (as_value(v, "input dimension") for v in value))


def network_defaults(padding=None, rounding=None, framework=None) -> Defaults:
    """The Defaults that padding, rounding and framework arguments ask for."""
    defaults = Defaults()
    if framework is not None:
        name = str(framework).lower()
        if name not in FRAMEWORKS:
            raise SymcountError(f"unknown framework {framework!r}; choose one of {', '.join(FRAMEWORKS)}")
        defaults = FRAMEWORKS[name]
    if rounding is not None:
        if rounding not in RULES:
            raise SymcountError(f"unknown rounding {rounding!r}; choose one of {', '.join(RULES)}")
        defaults = replace(defaults, conv=rounding, pool=rounding)
    if padding is not None:
        defaults = replace(defaults, padding=as_padding(padding))
    return defaults


def as_padding(padding):
    """'half', 'valid', 'same', 'full', a whole number, or a symbol written in braces: '{p}'."""
    problem = SymcountError(f"padding must be one of {', '.join(PADDINGS)}, a whole number >= 0 "
                            f"or a symbol in braces such as {{p}}; got {padding!r}")
    if isinstance(padding, str):
        text = padding.strip()
        if text.lower() in PADDINGS:
            return text.lower()
        if text.startswith("{") and text.endswith("}"):
            text = text[1:-1]
        elif not text.isdigit():
            raise problem
        padding = text
    try:
        value = as_value(padding, "padding")
    except SymcountError:
        raise problem from None
    if value.is_integer is False or value.is_negative:
        raise problem
    return (value,)  # one value for every spatial axis, as conv3-8[pad=1] writes it


def whole(value, what: str, least: int = 1):
    """A whole number >= least, as an exact Int."""
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise SymcountError(f"{what} is a whole number >= {least}, got {value!r}")
    return al.exact(value)


def whole_or_symbol(network, value, what: str):
    """A whole number >= 1, or a symbol's name (the network's own symbol where it has one)."""
    if not isinstance(value, str):
        return whole(value, what)
    if value.isidentifier() and value.isascii():
        return network.symbols.get(value) or symbol(value)
    raise SymcountError(f"{what} is a whole number >= 1 or a symbol's name, got {value!r}")
