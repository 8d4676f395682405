"""The rules of ToSpec that read numbers and sizes: integers, symbols, arithmetic, the functions in
braces and a shape's sizes, each computed exactly (symcount.algebra) and refused past 500 digits.
A mixin, as BlockExpansion is: it needs ToSpec's _error, and sets its `named`."""
from __future__ import annotations

from symcount.notation.runtime import Token, v_args

from symcount import algebra as al
from symcount.errors import LimitError, NotationError
from symcount.notation.blocks import MAX_DIGITS
from symcount.notation.functions import FUNCTIONS
from symcount.notation.names import Formula, Name, is_unknown, too_large


class NumberRules:
    def number(self, children):
        token = children[0]
        if len(token) > MAX_DIGITS:
            raise self._error(LimitError, f"number with {len(token)} digits; at most {MAX_DIGITS} are allowed",
                              token, len(token))
        return al.Integer(int(token))

    def symbol(self, children):
        self.named = True
        return Name(str(children[0]))

    def add(self, children):
        return children[0] + children[1]

    def sub(self, children):
        return children[0] - children[1]

    @v_args(meta=True)
    def mul(self, meta, children):
        return self._bounded(children[0] * children[1], meta)

    def _bounded(self, value, meta):
        """A product may grow a value past any printable size: refuse it once it does."""
        if too_large(value):
            raise self._error(LimitError, "a value with more than 500 digits", meta)
        return value

    @v_args(meta=True)
    def div(self, meta, children):
        if children[1] == 0:
            raise self._error(NotationError, "division by zero", meta)
        return self._bounded(children[0] / children[1], meta)

    def neg(self, children):
        return -children[0]

    @v_args(meta=True)
    def call(self, meta, children):
        name, argument, *settings = [c for c in children if not (isinstance(c, Token) and c.type in ("LPAR", "RPAR"))]
        function = FUNCTIONS.get(str(name))
        if function is None:
            raise self._error(NotationError, f"unknown function '{name}' in braces; the notation knows "
                              + ", ".join(f.arguments for f in FUNCTIONS.values()), name, len(name))
        numbers = [al.Integer(int(s)) for s in settings]
        if any(n < 1 for n in numbers):
            raise self._error(NotationError, f"{function.arguments}: the divisor and the least value are whole "
                              "numbers of 1 or more", meta)
        if is_unknown(argument):  # settled when the block's call or the network gives it a value
            return Formula(function.rule, (argument, *numbers))
        return self._bounded(function.rule(argument, *numbers), meta)

    def parens(self, children):
        return children[1]

    def braced(self, children):
        return children[0]

    dim_number = number

    def dim_symbol(self, children):
        name = children[0]
        if name.lower() == "tokens":  # input n_ctx tokens: the x split the name, so `tokens` came as a size
            raise self._error(NotationError, "'tokens' follows the sizes of a token shape (input 1024 tokens, "
                              "input 197x768 tokens), and a bare symbol there cannot contain the letter x, which "
                              "separates sizes: write it in braces, input {n_ctx} tokens", name, len(name))
        return Name(str(name))  # the shape's names are filled apart from the items' (network)
