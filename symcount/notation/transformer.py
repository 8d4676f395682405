"""Turn a parse tree into the immutable spec: one small method per grammar rule.

Numbers are built straight into SymPy here (never `sympify` of user text), options are
checked against the table of layer kinds, and every layer keeps its text and place.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace

import sympy
from lark import Token, Transformer_NonRecursive, v_args
from lark.exceptions import UnexpectedInput, VisitError

from symcount.errors import LimitError, NotationError, OptionError
from symcount.layers.kinds import KEYWORDS, parse_option
from symcount.layers.requirements import LayerProblem
from symcount.notation.grammar import parser
from symcount.notation.spec import (Branches, Call, Definition, Layer, NetworkSpec, Repeat, Span, rational_symbol,
                                    symbol)

MAX_DIGITS = 40  # a longer literal is a typo, not a network
MAX_CALL_DEPTH = 32  # blocks calling blocks; deeper is a runaway (or a block calling itself)
MAX_VALUE_BITS = 1661  # about 500 digits: a value in braces beyond this is an attack, and would not print
MAX_EXPANDED_DEPTH = 100  # groups, branches and calls nested, counted after calls are expanded
MAX_EXPANDED_ITEMS = 20_000  # items after calls are expanded (repeats not unrolled): the builder's row limit
# C64 or C64x2: a block's name, its one argument, and optionally a repeat count.
SUFFIX_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*?)([0-9]+)(?:[xX×]([0-9]+))?")
BRANCH_KINDS = {"res": "res", "residual": "res", "add": "add", "cat": "cat", "concat": "cat"}
# The grammar's keyword terminals: a block named so that one of these matches at its
# start (conv2block, res_x is fine) would be read as that keyword where it is called.
KEYWORD_TERMINALS = ("INPUT", "DEF", "RATIONAL", "CONV", "DECONV", "DEPTHWISE", "BRANCH_KIND", "POOL_KIND",
                     "ADAPTIVE_POOL", "FC", "PLAIN_KIND")


def _reads_as_keyword(name: str) -> bool:
    for terminal in parser().terminals:
        if terminal.name in KEYWORD_TERMINALS and re.match(terminal.pattern.to_regexp(), name, re.IGNORECASE):
            return True
    return False


@dataclass(frozen=True)
class _Stride:
    value: object


@dataclass(frozen=True)
class _Count:
    value: object
    end: int = 0  # where the text before the repeat ends


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


def _strided(params: dict, rest) -> dict:
    """A layer's parameters with the papers' `/s` stride added, where one is written."""
    for child in rest:
        if isinstance(child, _Stride):
            params["stride"] = (child.value, child.value)
    return params


BRACED = re.compile(r"\{([^{}]*)\}")


def _filled(text: str, mapping) -> str:
    """A layer's text as called: conv3-{c}/{s} in a block called with (128, 2) reads
    conv3-128/2; a value that keeps a symbol stays in braces ({2*C})."""
    if not mapping or "{" not in text:
        return text

    def value(match):
        try:
            expression = ToSpec(match.group(1)).transform(parser().parse(match.group(1), start="expr"))
        except (UnexpectedInput, VisitError):  # braces in a comment inside the layer: left as written
            return match.group(0)
        filled = expression.xreplace(mapping)
        return str(filled) if filled.is_number else "{" + str(filled) + "}"
    return BRACED.sub(value, text)


def _substitute(value, mapping):
    """A spec fragment with a block's parameters replaced by the call's arguments."""
    if isinstance(value, sympy.Basic):
        return value.xreplace(mapping)
    if isinstance(value, tuple):
        return tuple(_substitute(v, mapping) for v in value)
    if isinstance(value, Layer):
        return Layer(value.kind, _substitute(value.params, mapping), _filled(value.text, mapping), value.span)
    if isinstance(value, Repeat):
        return Repeat(_substitute(value.body, mapping), _substitute(value.count, mapping), value.text, value.span,
                      value.label, value.stage)
    if isinstance(value, Branches):
        return Branches(value.kind, _substitute(value.branches, mapping), value.text, value.span)
    if isinstance(value, Call):
        return Call(value.name, _substitute(value.args, mapping), value.text, value.span)
    return value


class ToSpec(Transformer_NonRecursive):
    def __init__(self, source: str):
        super().__init__()
        self.source = source

    def _error(self, error, message, meta_or_token, width=None):
        line, column = meta_or_token.line, meta_or_token.column
        if width is None:
            end = getattr(meta_or_token, "end_pos", getattr(meta_or_token, "end", None))
            start = getattr(meta_or_token, "start_pos", getattr(meta_or_token, "start", None))
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

    @v_args(meta=True)
    def mul(self, meta, children):
        return self._bounded(children[0] * children[1], meta)

    def _bounded(self, value, meta):
        """A product may grow a value past any printable size: refuse it once it does."""
        if any(abs(number.p).bit_length() > MAX_VALUE_BITS or number.q.bit_length() > MAX_VALUE_BITS
               for number in value.atoms(sympy.Rational)):
            raise self._error(LimitError, "a value with more than 500 digits", meta)
        return value

    @v_args(meta=True)
    def div(self, meta, children):
        if children[1] == 0:
            raise self._error(NotationError, "division by zero", meta)
        return self._bounded(children[0] / children[1], meta)

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
        kernel = kernels[0] if kernels else (sympy.Integer(2), sympy.Integer(2))
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
        token = children[0]
        if len(token) > MAX_DIGITS + 1:
            raise self._error(LimitError, f"decimal with {len(token) - 1} digits; at most {MAX_DIGITS} are allowed",
                              token, len(token))
        return ("decimal", sympy.Rational(str(token)))

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
        count = counts[0].value if counts else sympy.Integer(1)
        return Repeat(items, count, self.source[meta.start_pos:meta.end_pos], _span(meta))

    def branch(self, children):
        return tuple(children)

    @v_args(meta=True)
    def branch_item(self, meta, children):
        keyword = children[0]
        branches = tuple(c for c in children if isinstance(c, tuple))
        counts = [c for c in children if isinstance(c, _Count)]
        kind = BRANCH_KINDS[keyword.lower()]
        text = self.source[meta.start_pos:meta.end_pos]
        if kind == "res" and len(branches) > 2:
            raise self._error(NotationError, "res takes a body and at most one shortcut: res(body | shortcut)",
                              meta)
        if kind != "res" and len(branches) < 2:
            raise self._error(NotationError, f"{kind} joins two or more branches separated by '|': "
                              f"{kind}(conv1-64 | conv3-64)", meta)
        node = Branches(kind, branches, text, _span(meta))
        return Repeat((node,), counts[0].value, text, _span(meta)) if counts else node

    @v_args(meta=True)
    def labeled_item(self, meta, children):
        label = str(children[0])[1:-1].strip()
        if not label:
            raise self._error(NotationError, "a stage label needs a name: \"conv2_x\": ...", meta)
        return Repeat((children[1],), sympy.Integer(1), self.source[meta.start_pos:meta.end_pos], _span(meta),
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
        return ("rational", tuple(str(c) for c in children if c.type == "NAME"), _span(meta))

    def network(self, children):
        rationals = {symbol(name): rational_symbol(name) for child in children
                     if isinstance(child, tuple) and child and child[0] == "rational" for name in child[1]}
        children = [c for c in children if not (isinstance(c, tuple) and c and c[0] == "rational")]
        shape, span, seen_item = None, None, False
        for child in children:
            if isinstance(child, tuple) and child and child[0] == "input":
                if shape is not None or seen_item:
                    raise self._error(NotationError, "the input shape comes first and once: "
                                      "input 3x224x224 conv3-64 ...", child[2], 5)
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
        self.expanded = 0
        items = self._expand(items, definitions, ())
        if rationals:
            items, shape = _substitute(items, rationals), _substitute(shape, rationals)
        return NetworkSpec(shape, items, self.source, span)

    # ------------------------------------------------------------ blocks
    def _expand(self, items, definitions, stack, depth=0):
        """Replace every Call by its definition's body, its parameters substituted.  Calls
        may multiply the text (a block of two calls of a block of two calls ...) and nest
        it: both are bounded here, before the builder walks it."""
        expanded = []
        for item in items:
            self.expanded += 1
            if self.expanded > MAX_EXPANDED_ITEMS:
                raise self._error(LimitError, f"the blocks expand to more than {MAX_EXPANDED_ITEMS:,} items",
                                  item.span, len(item.text))
            if depth > MAX_EXPANDED_DEPTH:
                raise self._error(LimitError, f"the blocks nest deeper than {MAX_EXPANDED_DEPTH} levels once "
                                  "their calls are expanded", item.span, len(item.text))
            if isinstance(item, Call):
                call, count = self._resolve(item, definitions)
                body = self._call(call, definitions, stack, depth + 1)
                expanded.append(body if count is None else Repeat((body,), count, item.text, item.span))
            elif isinstance(item, Repeat):
                expanded.append(Repeat(self._expand(item.body, definitions, stack, depth + 1), item.count, item.text,
                                       item.span, item.label, item.stage))
            elif isinstance(item, Branches):
                expanded.append(Branches(item.kind, tuple(self._expand(b, definitions, stack, depth + 1)
                                                          for b in item.branches), item.text, item.span))
            else:
                expanded.append(item)
        return tuple(expanded)

    def _resolve(self, call, definitions):
        """A call written as a bare name, as papers write their legends: the block itself
        (no parameters), or C64 = C(64) and C64x2 = C(64) twice for a block of one parameter.
        Returns the call with its arguments and a repeat count (None for none)."""
        if call.args is not None:
            return call, None
        if call.name in definitions:
            return replace(call, args=()), None
        match = SUFFIX_CALL.fullmatch(call.name)
        if match and match.group(1) in definitions and len(definitions[match.group(1)].params) == 1:
            prefix, number, count = match.groups()
            for digits in (number, count or ""):
                if len(digits) > MAX_DIGITS:
                    raise self._error(LimitError, f"number with {len(digits)} digits; at most {MAX_DIGITS} are "
                                      "allowed", call.span, len(call.name))
            return (replace(call, name=prefix, args=(sympy.Integer(int(number)),)),
                    None if count is None else sympy.Integer(int(count)))
        close = difflib.get_close_matches(call.name.lower(), list(KEYWORDS) + list(definitions), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        if match:
            hint += (f"; to write {call.name} for {match.group(1)}({match.group(2)}), define a block of one "
                     f"parameter: def {match.group(1)}(k) = (...)")
        blocks = f"the defined blocks are {', '.join(definitions)}" if definitions else "no block is defined"
        raise self._error(NotationError, f"unknown layer {call.name!r} ({blocks}){hint}", call.span, len(call.name))

    def _call(self, call, definitions, stack, depth):
        if call.name not in definitions:
            known = ", ".join(definitions) or "none"
            raise self._error(NotationError, f"unknown block {call.name!r}; defined blocks: {known}",
                              call.span, len(call.name))
        if call.name in stack or len(stack) >= MAX_CALL_DEPTH:
            raise self._error(LimitError, f"block {call.name!r} calls itself (through {' → '.join(stack)})",
                              call.span, len(call.name))
        definition = definitions[call.name]
        if len(call.args) != len(definition.params):
            raise self._error(NotationError, f"{call.name} takes {len(definition.params)} argument(s) "
                              f"({', '.join(definition.params)}), got {len(call.args)}", call.span,
                              len(call.text))
        mapping = {symbol(name): value for name, value in zip(definition.params, call.args)}
        body = self._expand(_substitute(definition.body, mapping), definitions, stack + (call.name,), depth)
        return Repeat(body, sympy.Integer(1), call.text, call.span, call.name)

    def start(self, children):
        return children[0]
