"""Turn a parse tree into the immutable spec: one small method per grammar rule.

Numbers are built straight into SymPy here (never `sympify` of user text), options are
checked against the table of layer kinds, and every layer keeps its text and place.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy
from lark import Token, Transformer_NonRecursive, v_args

from symcount.errors import LimitError, NotationError, OptionError
from symcount.layers.kinds import KEYWORDS, LayerProblem, parse_option
from symcount.notation.spec import Layer, NetworkSpec, Repeat, Span, symbol

MAX_DIGITS = 40  # a longer literal is a typo, not a network


@dataclass(frozen=True)
class _Stride:
    value: object


@dataclass(frozen=True)
class _Count:
    value: object


@dataclass(frozen=True)
class _Core:
    kind: str
    params: dict
    meta: object


@dataclass(frozen=True)
class _Option:
    written: str
    value: tuple
    meta: object


@dataclass(frozen=True)
class _Options:
    options: tuple
    meta: object


def _span(meta) -> Span:
    return Span(meta.line, meta.column, meta.start_pos, meta.end_pos)


class ToSpec(Transformer_NonRecursive):
    def __init__(self, source: str):
        super().__init__()
        self.source = source

    def _error(self, error, message, meta_or_token, width=None):
        line, column = meta_or_token.line, meta_or_token.column
        if width is None:
            end = getattr(meta_or_token, "end_pos", None)
            start = getattr(meta_or_token, "start_pos", None)
            width = (end - start) if end is not None and start is not None else 1
        return error(message, source=self.source, line=line, column=column, width=width)

    # ------------------------------------------------------------ numbers
    def number(self, children):
        token = children[0]
        if len(token) > MAX_DIGITS:
            raise self._error(LimitError, f"number with {len(token)} digits; at most {MAX_DIGITS} are allowed",
                              token, len(token))
        return sympy.Integer(int(token))

    def symbol(self, children):
        return symbol(str(children[0]))

    def add(self, children):
        return children[0] + children[1]

    def sub(self, children):
        return children[0] - children[1]

    def mul(self, children):
        return children[0] * children[1]

    @v_args(meta=True)
    def div(self, meta, children):
        if children[1] == 0:
            raise self._error(NotationError, "division by zero", meta)
        return children[0] / children[1]

    def neg(self, children):
        return -children[0]

    def parens(self, children):
        return children[1]

    def braced(self, children):
        return children[0]

    dim_number = number
    dim_symbol = symbol

    def shape(self, children):
        return tuple(c for c in children if not isinstance(c, Token))

    @v_args(meta=True)
    def input_decl(self, meta, children):
        return ("input", children[1], _span(meta))

    # ------------------------------------------------------------ layers
    def kernel(self, children):
        dims = [c for c in children if not isinstance(c, Token)]
        return (dims[0], dims[-1])

    def stride(self, children):
        return _Stride(children[0])

    def repeat(self, children):
        return _Count(children[1])

    @v_args(meta=True)
    def conv(self, meta, children):
        _, kernel, out, *rest = children
        params = {"kernel": kernel, "out": out}
        if rest:
            params["stride"] = (rest[0].value, rest[0].value)
        return _Core("conv", params, meta)

    @v_args(meta=True)
    def pool(self, meta, children):
        keyword, *rest = children
        params = {}
        for child in rest:
            if isinstance(child, _Stride):
                params["stride"] = (child.value, child.value)
            else:
                params["kernel"] = (child, child)
        params.setdefault("kernel", (sympy.Integer(2), sympy.Integer(2)))
        return _Core(KEYWORDS[keyword.lower()], params, meta)

    @v_args(meta=True)
    def fc(self, meta, children):
        return _Core("fc", {"out": children[-1]}, meta)

    @v_args(meta=True)
    def plain(self, meta, children):
        return _Core(KEYWORDS[children[0].lower()], {}, meta)

    # ------------------------------------------------------------ options
    @v_args(meta=True)
    def option(self, meta, children):
        value = children[1] if len(children) > 1 else ("flag", None)
        return _Option(str(children[0]).lower(), value, meta)

    @v_args(meta=True)
    def options(self, meta, children):
        return _Options(tuple(children), meta)

    def value_number(self, children):
        return ("number", children[0])

    def value_pair(self, children):
        return ("pair", (children[1], children[2]))

    def value_decimal(self, children):
        return ("decimal", sympy.Rational(str(children[0])))

    def value_word(self, children):
        return ("word", str(children[0]).lower())

    # ------------------------------------------------------------ items
    def _layer(self, core: _Core, option_lists) -> Layer:
        params = dict(core.params)
        for option in (o for options in option_lists for o in options.options):
            try:
                name, value = parse_option(core.kind, option.written, option.value)
            except LayerProblem as problem:
                raise self._error(problem.error, str(problem), option.meta)
            if name in params:
                raise self._error(OptionError, f"{name} is given twice for this layer", option.meta)
            params[name] = value
        end = max([core.meta.end_pos] + [o.meta.end_pos for o in option_lists])
        text = self.source[core.meta.start_pos:core.meta.end_pos] + "".join(
            self.source[o.meta.start_pos:o.meta.end_pos] for o in option_lists)
        span = Span(core.meta.line, core.meta.column, core.meta.start_pos, end)
        return Layer(core.kind, tuple(sorted(params.items())), text, span)

    @v_args(meta=True)
    def layer_item(self, meta, children):
        core = children[0]
        option_lists = [c for c in children if isinstance(c, _Options)]
        counts = [c for c in children if isinstance(c, _Count)]
        layer = self._layer(core, option_lists)
        if not counts:
            return layer
        text = self.source[meta.start_pos:meta.end_pos]
        return Repeat((layer,), counts[0].value, text, _span(meta))

    @v_args(meta=True)
    def group_item(self, meta, children):
        items = tuple(c for c in children if isinstance(c, (Layer, Repeat)))
        counts = [c for c in children if isinstance(c, _Count)]
        count = counts[0].value if counts else sympy.Integer(1)
        return Repeat(items, count, self.source[meta.start_pos:meta.end_pos], _span(meta))

    def network(self, children):
        shape, span = None, None
        if children and isinstance(children[0], tuple) and children[0][0] == "input":
            _, shape, span = children[0]
            children = children[1:]
        return NetworkSpec(shape, tuple(children), self.source, span)

    def start(self, children):
        return children[0]
