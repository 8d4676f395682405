"""Defined blocks: calls replaced by their definitions' bodies, parameters substituted.

A mixin of the grammar's transformer (symcount.notation.transformer.ToSpec): the calls are
expanded once the whole text is read, bounded in depth and size, and each layer's text is
filled with the call's arguments, so the table reads conv3-128/2 where the block says
conv3-{c}/{s}.  A filled value is read by the grammar's own expression rule, never eval'd.
"""
from __future__ import annotations

import re
from dataclasses import replace

from symcount.notation.runtime import UnexpectedInput, VisitError

from symcount import algebra as al
from symcount.errors import LimitError, NotationError
from symcount.layers.kinds import KEYWORDS
from symcount.notation.grammar import parser
from symcount.notation.names import fill, is_unknown, too_large
from symcount.notation.spec import Branches, Call, Layer, Repeat, symbol
from symcount.notation.suggest import known_otherwise, near

MAX_DIGITS = 40  # a longer literal is a typo, not a network
MAX_CALL_DEPTH = 32  # blocks calling blocks; deeper is a runaway (or a block calling itself)
MAX_EXPANDED_DEPTH = 100  # groups, branches and calls nested, counted after calls are expanded
MAX_EXPANDED_ITEMS = 20_000  # items after calls are expanded (repeats not unrolled): the builder's row limit
# C64 or C64x2: a block's name, its one argument, and optionally a repeat count.
SUFFIX_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*?)([0-9]+)(?:[xX×]([0-9]+))?")
BRACED = re.compile(r"\{([^{}]*)\}")


class BlockExpansion:
    """The block-expanding half of ToSpec (it needs ToSpec's _error and, to read a filled
    value, ToSpec itself: type(self))."""

    def _filled(self, text: str, mapping) -> str:
        """A layer's text as called: conv3-{c}/{s} in a block called with (128, 2) reads
        conv3-128/2; a value that keeps a symbol stays in braces ({2*C}), and one with a
        rounding in it (make_divisible of a symbol) is left as the block writes it."""
        if not mapping or "{" not in text:
            return text

        def value(match):
            try:
                expression = type(self)(match.group(1)).transform(parser().parse(match.group(1), start="expr"))
            except (UnexpectedInput, VisitError):  # braces in a comment inside the layer: left as written
                return match.group(0)
            filled = fill(expression, mapping)
            if al.is_number(filled):
                return str(filled)
            sympy = al.sympy()
            filled, expression = fill(filled, {}, symbol), fill(expression, {}, symbol)
            if str(filled) == str(expression) or filled.has(sympy.Piecewise, sympy.Max, sympy.Min, sympy.floor):
                return match.group(0)  # the same as written, or a closed form longer than the text it fills
            return "{" + str(filled) + "}"
        return BRACED.sub(value, text)

    def _substitute(self, value, mapping, final=False, span=None):
        """A spec fragment with a block's parameters (name -> value) replaced by the call's
        arguments; `final`: every name left becomes the network's symbol (SymPy's)."""
        if is_unknown(value):
            value = fill(value, mapping, self.make_symbol if final else None)
            if span is not None and too_large(value):
                raise self._error(LimitError, "a value with more than 500 digits", span)
            return value
        if isinstance(value, tuple):
            return tuple(self._substitute(v, mapping, final, span) for v in value)
        again = lambda part: self._substitute(part, mapping, final, value.span)  # noqa: E731
        if isinstance(value, Layer):
            return Layer(value.kind, again(value.params), value.text if final else self._filled(value.text, mapping),
                         value.span)
        if isinstance(value, Repeat):
            return Repeat(again(value.body), again(value.count), value.text, value.span, value.label, value.stage)
        if isinstance(value, Branches):
            return replace(value, branches=again(value.branches), shares=again(value.shares), router=again(value.router))
        if isinstance(value, Call):
            return Call(value.name, again(value.args), value.text, value.span)
        return value

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
                expanded.append(replace(item, branches=tuple(self._expand(b, definitions, stack, depth + 1)
                                                             for b in item.branches)))
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
            return (replace(call, name=prefix, args=(al.Integer(int(number)),)),
                    None if count is None else al.Integer(int(count)))
        hint = _unknown_hint(call.name, definitions)
        if match and not known_otherwise(match.group(1)):
            hint += (f"; to write {call.name} for {match.group(1)}({match.group(2)}), define a block of one "
                     f"parameter: def {match.group(1)}(k) = (...)")
        blocks = f"the defined blocks are {', '.join(definitions)}" if definitions else "no block is defined"
        raise self._error(NotationError, f"unknown layer {call.name!r} ({blocks}){hint}", call.span, len(call.name))

    def _call(self, call, definitions, stack, depth):
        if call.name not in definitions:
            known = ", ".join(definitions) or "none"
            raise self._error(NotationError, f"unknown block {call.name!r}; defined blocks: {known}"
                              f"{_unknown_hint(call.name, definitions)}", call.span, len(call.name))
        if call.name in stack or len(stack) >= MAX_CALL_DEPTH:
            raise self._error(LimitError, f"block {call.name!r} calls itself (through {' → '.join(stack)})",
                              call.span, len(call.name))
        definition = definitions[call.name]
        if len(call.args) != len(definition.params):
            raise self._error(NotationError, f"{call.name} takes {len(definition.params)} argument(s) "
                              f"({', '.join(definition.params)}), got {len(call.args)}", call.span,
                              len(call.text))
        mapping = dict(zip(definition.params, call.args))
        body = self._expand(self._substitute(definition.body, mapping), definitions, stack + (call.name,), depth)
        return Repeat(body, al.Integer(1), call.text, call.span, call.name)


def _unknown_hint(name: str, definitions) -> str:
    """What an unknown layer or block name was meant to be, read whole and without a number
    after it (mxpool2, dwconv3): a well-known layer symcount writes otherwise or does not
    count, a near keyword or block, or nothing."""
    match = SUFFIX_CALL.fullmatch(name)
    stem = match.group(1) if match else name
    said = known_otherwise(name) or known_otherwise(stem)
    if said:
        return f"; {said}"
    known = list(KEYWORDS) + list(definitions)
    close = near(name, known) or near(stem, known)
    return f"; did you mean {close[0]!r}?" if close else ""
