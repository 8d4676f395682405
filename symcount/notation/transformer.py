"""Turn a parse tree into the immutable spec: one small method per grammar rule.

Numbers are built straight into exact values (never `sympify` of user text; the rules in
numbers.py), options are checked against the table of layer kinds, and every layer keeps its
text and place.
"""
from __future__ import annotations

import re
from fractions import Fraction
from types import SimpleNamespace
from typing import NamedTuple

from symcount.notation.runtime import Token, Transformer_NonRecursive, v_args

from symcount import algebra as al
from symcount.errors import LimitError, NotationError, OptionError
from symcount.layers.kinds import KEYWORDS, parse_option
from symcount.layers.requirements import LayerProblem
from symcount.layers.result import TokenIds, Tokens
from symcount.notation.blocks import MAX_DIGITS, BlockExpansion
from symcount.notation.grammar import parser
from symcount.notation.names import fill, is_unknown, names
from symcount.notation.numbers import NumberRules
from symcount.notation.spec import (INPUT_CHANNELS, Branches, Call, Definition, Input, Layer, NetworkSpec, Repeat,
                                    Span, rational_symbol, symbol)

BRANCH_KINDS = {"res": "res", "residual": "res", "add": "add", "cat": "cat", "concat": "cat", "mul": "mul",
                "multiply": "mul", "split": "split", "side": "side"}
# The grammar's keyword terminals: a block named so that one of these matches at its
# start (conv2block, res_x is fine) would be read as that keyword where it is called.
KEYWORD_TERMINALS = ("INPUT", "DEF", "RATIONAL", "CONV", "DECONV", "DEPTHWISE", "BRANCH_KIND", "POOL_KIND",
                     "ADAPTIVE_POOL", "FC", "PLAIN_KIND", "PATCH", "EMBED", "ATTENTION", "POS", "NUMBERED_KIND",
                     "MOE")
# A word and its number's meaning: segment2 (segment types), wattn3 (heads), adaln6, labels1001.
NUMBERED = {"segment": ("segment", "types"), "wattn": ("wattn", "heads"), "adaln": ("adaln", "vectors"),
            "labels": ("labels", "labels")}


def _reads_as_keyword(name: str) -> bool:
    for terminal in parser().terminals:
        if terminal.name in KEYWORD_TERMINALS and re.match(terminal.pattern.to_regexp(), name, re.IGNORECASE):
            return True
    return False


# The pieces a rule hands to the rule above it (named tuples, not dataclasses: a few are
# made for every layer, and a cold command creates these classes too).
class _Stride(NamedTuple):
    value: object


class _Count(NamedTuple):
    value: object
    end: int = 0  # where the text before the repeat ends


class _Core(NamedTuple):
    kind: str
    params: dict
    meta: object


class _Option(NamedTuple):
    written: str
    value: tuple
    meta: object


class _Options(NamedTuple):
    options: tuple
    meta: object


class _Branch(NamedTuple):
    """One branch as written: its channel share (split(16: ...)) or None, and its items."""
    share: object
    items: tuple


def _symbols_in(value) -> set:
    """The names of the symbols in spec items (layers, repeats, branches, calls) or values."""
    if al.is_value(value) or is_unknown(value):
        return names(value)
    if isinstance(value, (tuple, list)):
        return set().union(*(_symbols_in(v) for v in value)) if value else set()
    if isinstance(value, Layer):
        return _symbols_in(value.params)
    if isinstance(value, Repeat):
        return _symbols_in(value.body) | _symbols_in(value.count)
    if isinstance(value, Branches):
        return _symbols_in(value.branches) | _symbols_in(value.shares or ()) | _symbols_in(value.router)
    if isinstance(value, Call):
        return _symbols_in(value.args or ())
    return set()


def _span(meta) -> Span:
    return Span(meta.line, meta.column, meta.start_pos, meta.end_pos)


def _strided(params: dict, rest) -> dict:
    """A layer's parameters with the papers' `/s` stride added, where one is written."""
    for child in rest:
        if isinstance(child, _Stride):
            params["stride"] = (child.value,)
    return params


class ToSpec(NumberRules, BlockExpansion, Transformer_NonRecursive):
    def __init__(self, source: str):
        super().__init__()
        self.source = source
        self.named = False  # whether an item may hold a name (else no pass resolves the items' names)

    def _error(self, error, message, meta_or_token, width=None):
        line, column = meta_or_token.line, meta_or_token.column
        if width is None:
            end = getattr(meta_or_token, "end_pos", getattr(meta_or_token, "end", None))
            start = getattr(meta_or_token, "start_pos", getattr(meta_or_token, "start", None))
            width = (end - start) if end is not None and start is not None else 1
        return error(message, source=self.source, line=line, column=column, width=width)

    @v_args(meta=True)
    def shape(self, meta, children):
        dims = tuple(c for c in children if not isinstance(c, Token))
        if not any(isinstance(c, Token) and c.type == "TOKENS" for c in children):
            return dims
        if len(dims) > 2:
            raise self._error(NotationError, "tokens are N token ids (input 1024 tokens) or N tokens of width D "
                              f"(input 197x768 tokens), not {len(dims)} sizes", meta)
        return TokenIds(dims) if len(dims) == 1 else Tokens(dims)

    @v_args(meta=True)
    def input_decl(self, meta, children):
        return ("input", children[1], _span(meta))

    # ------------------------------------------------------------ layers
    def kernel(self, children):
        return tuple(c for c in children if not isinstance(c, Token))

    def stride(self, children):
        return _Stride(children[0])

    @v_args(meta=True)
    def repeat(self, meta, children):
        return _Count(children[1], meta.start_pos)

    @v_args(meta=True)
    def conv(self, meta, children):
        _, kernel, out, *rest = children
        return _Core("conv", _strided({"kernel": kernel, "out": out}, rest), meta)

    @v_args(meta=True)
    def deconv(self, meta, children):
        _, kernel, out, *rest = children
        return _Core("deconv", _strided({"kernel": kernel, "out": out}, rest), meta)

    @v_args(meta=True)
    def pool(self, meta, children):
        keyword, *rest = children
        kernels = [c for c in rest if not isinstance(c, _Stride)]
        kernel = kernels[0] if kernels else (al.Integer(2),)
        return _Core(KEYWORDS[keyword.lower()], _strided({"kernel": kernel}, rest), meta)

    @v_args(meta=True)
    def depthwise(self, meta, children):
        _, kernel, *rest = children
        return _Core("conv", _strided({"kernel": kernel, "depthwise": True}, rest), meta)

    @v_args(meta=True)
    def adaptive(self, meta, children):
        return _Core(KEYWORDS[children[0].lower()], {"size": children[1]}, meta)

    @v_args(meta=True)
    def fc(self, meta, children):
        return _Core("fc", {"out": children[-1]}, meta)

    @v_args(meta=True)
    def patch(self, meta, children):
        return _Core("patch", {"kernel": children[1], "out": children[2]}, meta)

    @v_args(meta=True)
    def embed(self, meta, children):
        return _Core("embed", {"vocabulary": children[1], "out": children[2]}, meta)

    @v_args(meta=True)
    def attention(self, meta, children):
        return _Core("attn", {"heads": children[1]}, meta)

    @v_args(meta=True)
    def numbered(self, meta, children):
        kind, parameter = NUMBERED[children[0].lower()]
        return _Core(kind, {parameter: children[1]}, meta)

    @v_args(meta=True)
    def position(self, meta, children):
        return _Core("pos", {"positions": children[1]} if len(children) > 1 else {}, meta)

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

    def value_tuple(self, children):
        return ("tuple", tuple(c for c in children if not isinstance(c, Token)))

    def value_decimal(self, children):
        token = children[0]
        if len(token) > MAX_DIGITS + 1:
            raise self._error(LimitError, f"decimal with {len(token) - 1} digits; at most {MAX_DIGITS} are allowed",
                              token, len(token))
        return ("decimal", al.Rational(Fraction(str(token))))

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
        if "stride" in core.params and counts[0].end == core.meta.end_pos:  # conv3-64/2x2, maxpool3/2x2
            raise self._error(NotationError, f"'{self.source[core.meta.start_pos:meta.end_pos]}' reads two ways: a "
                              "stride repeated, or a stride written h×w; write the repeat apart, "
                              f"'{self.source[core.meta.start_pos:core.meta.end_pos]} "
                              f"{self.source[counts[0].end:meta.end_pos]}' or in parentheses, or the stride as "
                              "an option, [stride=(2, 2)]", meta)
        text = self.source[meta.start_pos:meta.end_pos]
        return Repeat((layer,), counts[0].value, text, _span(meta))

    @v_args(meta=True)
    def group_item(self, meta, children):
        items = tuple(c for c in children if isinstance(c, (Layer, Repeat, Branches, Call)))
        counts = [c for c in children if isinstance(c, _Count)]
        count = counts[0].value if counts else al.Integer(1)
        return Repeat(items, count, self.source[meta.start_pos:meta.end_pos], _span(meta))

    def branch(self, children):
        share = children[0] if children and (al.is_value(children[0]) or is_unknown(children[0])) else None
        return _Branch(share, tuple(c for c in children if not (al.is_value(c) or is_unknown(c))))

    @v_args(meta=True)
    def branch_item(self, meta, children):
        keyword = children[0]
        written = [c for c in children if isinstance(c, _Branch)]
        branches = tuple(b.items for b in written)
        counts = [c for c in children if isinstance(c, _Count)]
        kind = BRANCH_KINDS[keyword.lower()]
        text = self.source[meta.start_pos:meta.end_pos]
        if kind == "res" and len(branches) > 2:
            raise self._error(NotationError, "res takes a body and at most one shortcut: res(body | shortcut)",
                              meta)
        if kind == "side" and len(branches) > 1:
            raise self._error(NotationError, "side takes one path, the head: side(gap fc10); write one side(...) "
                              "for each head", meta)
        if kind not in ("res", "side") and len(branches) < 2:
            raise self._error(NotationError, f"{kind} joins two or more branches separated by '|': "
                              f"{kind}(conv1-64 | conv3-64)", meta)
        shares = [b.share for b in written]
        if any(share is not None for share in shares):
            if kind != "split" or None in shares:
                raise self._error(NotationError, "a channel share before a colon (16: ...) belongs to split, "
                                  "on every branch or on none: split(16: | 48: conv3-48)", meta)
        node = Branches(kind, branches, text, _span(meta), tuple(shares) if shares[0] is not None else None)
        return Repeat((node,), counts[0].value, text, _span(meta)) if counts else node

    @v_args(meta=True)
    def moe_item(self, meta, children):
        """moe8[top=2](body): the body is one expert; the router is a layer of its own."""
        keyword, experts = children[0], children[1]
        option_lists = [c for c in children if isinstance(c, _Options)]
        opening = next(c for c in children if isinstance(c, Token) and c.type == "LPAR")
        end = option_lists[0].meta.start_pos if option_lists else opening.start_pos
        head = SimpleNamespace(line=keyword.line, column=keyword.column, start_pos=keyword.start_pos,
                               end_pos=keyword.start_pos + len(self.source[keyword.start_pos:end].rstrip()))
        router = self._layer(_Core("router", {"experts": experts}, head), option_lists)
        body = tuple(c for c in children if isinstance(c, (Layer, Repeat, Branches, Call)))
        counts = [c for c in children if isinstance(c, _Count)]
        text = self.source[meta.start_pos:meta.end_pos]
        node = Branches("moe", (body,), text, _span(meta), router=router)
        return Repeat((node,), counts[0].value, text, _span(meta)) if counts else node

    @v_args(meta=True)
    def labeled_item(self, meta, children):
        label = str(children[0])[1:-1].strip()
        if not label:
            raise self._error(NotationError, "a stage label needs a name: \"conv2_x\": ...", meta)
        return Repeat((children[1],), al.Integer(1), self.source[meta.start_pos:meta.end_pos], _span(meta),
                      label, stage=True)

    @v_args(meta=True)
    def definition(self, meta, children):
        name = str(children[1])
        if _reads_as_keyword(name):
            raise self._error(NotationError, f"{name!r} would be read as a layer keyword where it is called "
                              f"(a keyword followed by a digit or x); rename it, e.g. {name[0]}_{name[1:]}",
                              children[1], len(name))
        params = tuple(str(c) for c in children[3:] if isinstance(c, Token) and c.type == "NAME")
        body = tuple(c for c in children if isinstance(c, (Layer, Repeat, Branches, Call)))
        return Definition(name, params, body, _span(meta))

    @v_args(meta=True)
    def call_item(self, meta, children):
        name = str(children[0])
        tokens = [c for c in children[1:] if isinstance(c, Token)]
        args = tuple(c for c in children[1:] if not isinstance(c, (Token, _Count)))
        counts = [c for c in children if isinstance(c, _Count)]
        if any(t.type == "DASH_ARGUMENT" for t in tokens):  # c7s1-64
            args = (self.number([Token("INT", tokens[0][1:], line=tokens[0].line, column=tokens[0].column)]),)
        elif not tokens:
            args = None  # a bare name: C64 means C(64), resolved against the definitions
        end = meta.end_pos if not counts else children[-1].end
        call = Call(name, args, self.source[meta.start_pos:end].rstrip(), _span(meta))
        return Repeat((call,), counts[0].value, self.source[meta.start_pos:meta.end_pos], _span(meta)) \
            if counts else call

    @v_args(meta=True)
    def rational_decl(self, meta, children):
        kind = "rational" if children[0].type == "RATIONAL" else "symbols"
        return (kind, tuple(str(c) for c in children if c.type == "NAME"), _span(meta))

    def network(self, children):
        declared = [c for c in children if isinstance(c, tuple) and c and c[0] in ("rational", "symbols")]
        rationals = {name for kind, names, _ in declared if kind == "rational" for name in names}
        children = [c for c in children if not (isinstance(c, tuple) and c and c[0] in ("rational", "symbols"))]
        shape, span, seen_item, second = None, None, False, None
        for index, child in enumerate(children):
            if isinstance(child, tuple) and child and child[0] == "input":
                if shape is not None and seen_item and second is None:  # an encoder's stack, then a decoder's
                    second = Input(child[1], self.source[child[2].start:child[2].end], child[2])
                    children[index] = second
                elif shape is not None or seen_item:
                    raise self._error(NotationError, "the input shape comes first and once, and a second input "
                                      "(an encoder–decoder's) after the first stack's layers: input S tokens "
                                      "… input T tokens …", child[2], 5)
                else:
                    _, shape, span = child
            elif not isinstance(child, Definition):
                seen_item = True
        children = [c for c in children if not (isinstance(c, tuple) and c and c[0] == "input")]
        definitions = {}
        for child in children:
            if isinstance(child, Definition):
                if child.name in definitions:
                    raise self._error(NotationError, f"block {child.name!r} is defined twice", child.span)
                definitions[child.name] = child
        items = tuple(c for c in children if not isinstance(c, Definition))
        if definitions:
            known = {name for _, names, _ in declared for name in names} | {INPUT_CHANNELS} | \
                _symbols_in(items + ((shape,) if shape else ()) + tuple(i.shape for i in items if isinstance(i, Input)))
            for definition in definitions.values():
                self._check_symbols(definition, known)
        self.expanded = 0
        items = self._expand(items, definitions, ())
        self.make_symbol = lambda name: rational_symbol(name) if name in rationals else symbol(name)
        if self.named:  # names left after the calls become the network's symbols
            items = self._substitute(items, {}, final=True)
        if shape:
            shape = type(shape)(fill(d, {}, self.make_symbol) for d in shape)
        items = tuple(Input(type(i.shape)(fill(d, {}, self.make_symbol) for d in i.shape), i.text, i.span)
                      if isinstance(i, Input) else i for i in items)
        return NetworkSpec(shape, items, self.source, span)

    def _check_symbols(self, definition, known):
        """A block's body may use its parameters, {in}, declared symbols and the symbols the
        rest of the network uses; any other name is most likely a typo (bottleneck(c) using
        {C}), which would otherwise become a free symbol without a word."""
        stray = sorted(_symbols_in(definition.body) - set(definition.params) - known)
        if stray:
            names = ", ".join(stray)
            raise self._error(NotationError, f"block {definition.name!r} uses {names}, which is not one of its "
                              f"parameters ({', '.join(definition.params) or 'none'}), {{in}} (its input's "
                              f"channels) or a symbol of the network; pass it as a parameter, or declare it: "
                              f"symbols({names})", definition.span, len("def " + definition.name))

    def start(self, children):
        return children[0]
