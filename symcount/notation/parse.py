"""Parse notation text into specs, with friendly errors (Lark's match_examples).

Three entry points, one grammar: a network text, an input shape (`3xHxW`), and a
value expression (`2*S`) for --set.  Lark's exceptions never escape: each becomes a
NotationError that shows the line, a caret and what was expected.
"""
from __future__ import annotations

import re
from functools import lru_cache

from symcount.notation.runtime import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError

from symcount.collector import paused
from symcount.errors import LimitError, NotationError, SymcountError
from symcount.layers.kinds import KEYWORDS
from symcount.notation.grammar import parser
from symcount.notation.spec import NetworkSpec
from symcount.notation.names import fill
from symcount.notation.spec import symbol
from symcount.notation.transformer import ToSpec
from symcount.notation.words import parse_words

MAX_NESTING = 50  # parentheses and braces; deeper text is a mistake or an attack

# What each terminal of the grammar is called in an error, in the order an error lists them;
# terminals called alike are named once.  Whatever starts a layer, a group or a block is
# "a layer"; a '(' is one only where a layer may stand.
_LAYER_WORDS = ("CONV", "DECONV", "DEPTHWISE", "POOL_KIND", "ADAPTIVE_POOL", "FC", "PLAIN_KIND", "PATCH", "EMBED",
                "ATTENTION", "POS", "NUMBERED_KIND", "MOE", "BRANCH_KIND", "BLOCK_NAME")
_WORDS = {
    **dict.fromkeys(_LAYER_WORDS, "a layer"), "LABEL": 'a "stage": label', "X": "a repeat count (x2)",
    "SLASH": "a stride (/2)", "LSQB": "options ([pad=1])", "INT": "a number", "DECIMAL": "a number",
    "NAME": "a name", "BARE_NAME": "a name", "LBRACE": "'{'", "RBRACE": "'}'", "LPAR": "'('", "RPAR": "')'",
    "RSQB": "']'", "PIPE": "'|'", "EQUAL": "'='", "PLUS": "'+'", "STAR": "'*'",
    **dict.fromkeys(("MINUS", "_DASH", "DASH_ARGUMENT"), "'-'"), "TOKENS": "tokens", "INPUT": "input",
    "DEF": "def", "RATIONAL": "rational", "SYMBOLS": "symbols", "$END": "the end of the text",
}
_LAYER_TERMINALS = {"CONV", "DECONV", "DEPTHWISE", "POOL_KIND", "ADAPTIVE_POOL", "FC", "PLAIN_KIND"}

# Lark's match_examples: a broken text like one of these gets the label as its message.
_EXAMPLES = {
    "a convolution is written conv<kernel>-<filters>, as in conv3-64 or conv1x7-128":
        ["conv3", "conv3 relu", "conv3x3", "conv3/2", "conv3[pad=1]", "conv3 conv3-64", "conv", "conv-64",
         "conv relu"],
    "'x' after a layer or group is followed by a repeat count, as in conv3-64x2 or (conv3-64 pool)x{n}":
        ["conv3-64x", "conv3-64x relu", "conv3-64x fc10", "conv3-64x foo", "(relu)x", "poolx", "(relu)x fc10"],
    "a '(' group is not closed: write (conv3-64 pool)x2":
        ["(conv3-64", "(relu pool", "((relu)x2"],
    "a '{' expression is not closed: write {2*C}":
        ["conv3-{C", "fc{N", "conv3-{2*C x2"],
    "options are written in brackets after a layer: conv3-64[pad=1, groups=2]":
        ["conv3-64[", "conv3-64[pad=", "conv3-64[pad=1", "conv3-64[=1]", "conv3-64[pad=1,"],
    "a mixture of experts is written moe<experts>[top=<k>](<one expert>), as in moe8[top=2](fc14336 silu "
    "fc4096)":
        ["moe", "moe relu", "moe[top=2]", "moe(fc8)", "moe8", "moe8 relu", "moe8[top=2]", "moe8[top=2] relu",
         "moe8 fc8", "moe8[top=2] fc8", "moe8 attn2", "moe8[top=2] attn2", "moe8 conv3-8", "moe8[top=2] conv3-8"],
    "an input shape is written input 3x224x224 or input 3xHxW":
        ["input", "input conv3-64", "input 3x", "input 3xx224"],
}


def _expected(names) -> str:
    """What the parser would have taken, in words a reader knows: 'one of: a layer, …'."""
    names = set(names)
    if names & set(_LAYER_WORDS):
        names = (names - {"LPAR"}) | {"CONV"}
    if names == {"BLOCK_NAME"}:
        return "a block's name"
    order = list(_WORDS)
    words = list(dict.fromkeys(_WORDS.get(name, name.lower()) for name in
                               sorted(names, key=lambda n: order.index(n) if n in order else len(order))))
    return words[0] if len(words) == 1 else "one of: " + ", ".join(words)


# Every line break Python's str.splitlines() knows, which the error caret counts by; the
# grammar and Lark count "\n" only, so the text is read with each of them as "\n".
LINE_BREAKS = str.maketrans({c: "\n" for c in "\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"})
MAX_TEXT = 100_000  # characters: ten thousand layers written out; longer is an attack, not a network


def normalised(text: str) -> str:
    """The text with "\r\n" and every other line break as "\n"."""
    return text.replace("\r\n", "\n").translate(LINE_BREAKS)


def _check_size(text: str) -> None:
    if len(text) > MAX_TEXT:
        raise LimitError(f"a text of {len(text):,} characters; at most {MAX_TEXT:,} are read "
                         "(ten thousand layers written out)")


# `[conv1-64 conv3-64 conv1-256]x3`, as the ResNet paper's table groups a block: a bracket that opens on
# a layer (a keyword, then a digit or a dash) is not an option list.
BRACKETED_GROUP = re.compile(r"\[\s*((?:conv|deconv|dw|maxpool|avgpool|pool|fc|dense|linear)[0-9-])", re.I)


def _check_bracketed_group(text: str) -> None:
    match = BRACKETED_GROUP.search(text)
    if match is None or text.rfind("#", text.rfind("\n", 0, match.start()) + 1, match.start()) >= 0:
        return
    line = text.count("\n", 0, match.start()) + 1
    column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
    raise NotationError("square brackets hold a layer's options; a group of layers is written in parentheses, "
                        "as the ResNet paper's [1×1, 64; 3×3, 64; 1×1, 256]×3 is (conv1-64 conv3-64 conv1-256)x3",
                        source=text, line=line, column=column)


def uncommented(text: str) -> str:
    """The text with each comment taken off: a # outside a "stage label", to the end of its line
    (what stays keeps its line and column)."""
    kept, in_label, in_comment = [], False, False
    for char in text:
        if char == "\n":
            in_label = in_comment = False
        elif in_comment:
            continue
        elif char == '"':
            in_label = not in_label
        elif char == "#" and not in_label:
            in_comment = True
            continue
        kept.append(char)
    return "".join(kept)


def brackets(text: str):
    """Each parenthesis and brace outside comments and stage labels: (char, line, column)."""
    line, column, in_label = 1, 0, False
    for char in uncommented(text):
        column += 1
        if char == "\n":
            line, column, in_label = line + 1, 0, False
        elif char == '"':
            in_label = not in_label
        elif char in "(){}" and not in_label:
            yield char, line, column


def _check_nesting(text: str) -> None:
    """Parentheses and braces nested deeper than MAX_NESTING, outside comments and stage labels."""
    depth = 0
    for char, line, column in brackets(text):
        if char in "({":
            depth += 1
            if depth > MAX_NESTING:
                raise LimitError(f"nesting deeper than {MAX_NESTING} levels of ( and {{",
                                 source=text, line=line, column=column)
        else:
            depth = max(0, depth - 1)


def _accepted_after(prefix: str, start: str) -> set:
    """The terminals really acceptable after a prefix (the lexer's own set is LALR's
    merged lookahead, which can list tokens that cannot come next)."""
    try:
        interactive = parser().parse_interactive(prefix, start=start)
        interactive.exhaust_lexer()
        return set(interactive.accepts())
    except UnexpectedInput:
        return set()


# A number after a dash that no layer takes: `dw3-8`, `relu-8`.  The parser's state is the same
# after every item and a dash, so the words before the dash say which mistake it is.
DASH_NUMBER = re.compile(r"(\S+)\s*-\s*$")
DEPTHWISE = re.compile(r"dw[0-9x×]+(/[0-9]+)?$", re.I)


def _dash_hint(error: UnexpectedInput, text: str) -> str | None:
    token = getattr(error, "token", None)
    if token is None or token.type != "INT":
        return None
    before = DASH_NUMBER.search(text[:token.start_pos])
    if before is None:
        return None
    if DEPTHWISE.match(before.group(1)):
        return "a depthwise convolution takes no filter count (one filter per input channel): dw3 or dw3/2"
    return (f"no filter count or width follows {before.group(1)}; a number after '-' belongs to a convolution "
            "(conv3-64), an fc layer (fc-10) or a block's argument (C-64)")


# A block call's arguments so far: its name, '(' and what follows, up to the unexpected token.
CALL_OPENED = re.compile(r"([A-Za-z_]\w*)\s*\(([^()]*)$")
WRITTEN_ARGUMENT = re.compile(r"[^\s,]+")
NUMBER_OR_BRACED = re.compile(r"[0-9]+|\{[^{}]*\}")
UNBRACED = re.compile(r"\w(?:[\w*/+-]*\w)?")  # a symbol or an expression, as it would go in braces
ARGUMENT_TOKENS = ("NAME", "BARE_NAME", "BLOCK_NAME", "STAR", "SLASH", "PLUS", "MINUS", "_DASH")


def _argument_hint(error: UnexpectedInput, text: str, expected) -> str | None:
    """A bare symbol or expression among a block call's arguments, expert(d, f) or e(2*d):
    each is written in braces, expert({d}, {f})."""
    token = getattr(error, "token", None)
    if token is None or token.type not in ARGUMENT_TOKENS or set(expected) != {"INT", "LBRACE", "RPAR"}:
        return None
    call = CALL_OPENED.search(text[:token.start_pos])
    if call is None:  # the tuple of an option, conv3-64[pad=(1 2 a)], takes the same tokens
        return None
    close = text.find(")", token.start_pos)
    written = text[call.start(2):len(text) if close < 0 else close].split("\n")[0].strip()
    arguments = WRITTEN_ARGUMENT.findall(written)
    if not all(NUMBER_OR_BRACED.fullmatch(a) or UNBRACED.fullmatch(a) and not _names_a_layer(a) for a in arguments):
        return None  # 2 * d, or a layer (conv3): no braces make it an argument
    braced = WRITTEN_ARGUMENT.sub(lambda a: a[0] if NUMBER_OR_BRACED.fullmatch(a[0]) else "{" + a[0] + "}", written)
    return f"a block's arguments are numbers, or symbols and expressions in braces: {call.group(1)}({braced})"


def _names_a_layer(argument: str) -> bool:
    word = re.match(r"[A-Za-z_]*", argument).group(0).lower()
    return word in KEYWORDS


def _hint(error: UnexpectedInput) -> str | None:
    """The label of the first example that fails in the same parser state on the same
    kind of token (Lark's match_examples also accepts a state-only match, which
    labels unrelated mistakes)."""
    for label, examples in _EXAMPLES.items():
        for example in examples:
            try:
                parser().parse(example, start="start")
            except UnexpectedInput as other:
                same_token = getattr(getattr(other, "token", None), "type", None) == \
                    getattr(getattr(error, "token", None), "type", None)
                same_state = getattr(other.state, "position", other.state) == \
                    getattr(error.state, "position", error.state)  # the LALR state, not the stack depth
                if type(other) is type(error) and same_state and same_token:
                    return label
    return None


def _translate(error: UnexpectedInput, text: str, start: str) -> NotationError:
    if isinstance(error, UnexpectedCharacters):
        what = f"unexpected character {text[error.pos_in_stream]!r}"
        expected = _accepted_after(text[:error.pos_in_stream], start) or error.allowed
    elif isinstance(error, UnexpectedEOF):
        what, expected = "unexpected end of the text", error.expected
    else:
        token = error.token
        what = "unexpected end of the text" if token.type == "$END" else f"unexpected {str(token)!r}"
        expected = error.accepts or error.expected
    hint = None
    at_end = isinstance(error, UnexpectedEOF) or getattr(getattr(error, "token", None), "type", "") == "$END"
    if start == "start" and not isinstance(error, UnexpectedCharacters):
        hint = _argument_hint(error, text, expected) or _dash_hint(error, text) or _hint(error)
    token = getattr(error, "token", None)
    if token is not None and token.type in ("NAME", "BARE_NAME") and set(expected) & _LAYER_TERMINALS:
        word = re.match(r"\w+", text[token.start_pos:]).group(0)
        what = f"unknown layer {word!r}"
    elif set(expected) == {"LPAR"} and start == "start":
        # a word where a layer stands is taken for a block call, which needs its '('
        position = len(text) if at_end else getattr(token, "start_pos", len(text))
        word = re.search(r"(\w+)\s*$", text[:position])
        if word:
            hint = None
            what = (f"unknown layer {word.group(1)!r} (a defined block is called with its arguments: "
                    f"{word.group(1)}(...))")
            line = text.count("\n", 0, word.start(1)) + 1
            column = word.start(1) - (text.rfind("\n", 0, word.start(1)) + 1) + 1
            return NotationError(what, source=text, line=line, column=column, width=len(word.group(1)),
                                 expected="a layer (conv, pool, maxpool, avgpool, fc, gap, bn, relu, ...)")
    message = what + (f": {hint}" if hint else "")
    line, column = error.line, error.column
    if at_end or line is None or line < 1:  # point just past the last character
        lines = text.splitlines() or [""]
        line, column = len(lines), len(lines[-1]) + 1
    width = 1 if at_end or token is None else len(str(token))
    return NotationError(message, source=text, line=line, column=column, width=width,
                         expected=_expected(expected))


def _parse(text: str, start: str):
    if not isinstance(text, str):
        raise NotationError(f"notation must be text, got {type(text).__name__}")
    _check_size(text)
    text = normalised(text)
    _check_nesting(text)
    if start == "start":
        _check_bracketed_group(text)
    with paused():
        if start == "start":
            spec = parse_words(text)  # a long text of plain layer words, each distinct word parsed once
            if spec is not None:
                return spec
        try:
            tree = parser().parse(text, start=start)
        except UnexpectedInput as error:
            raise _translate(error, text, start) from None
        try:
            return ToSpec(text).transform(tree)
        except VisitError as error:
            if isinstance(error.orig_exc, SymcountError):
                raise error.orig_exc from None
            raise


@lru_cache(maxsize=256)
def parse_notation(text: str) -> NetworkSpec:
    """A network text → NetworkSpec (cached: the spec is immutable)."""
    return _parse(text, "start")


def parse_shape(text: str) -> tuple:
    """`3x224x224` or `3xHxW` → a tuple of numbers (symcount.algebra) and SymPy expressions."""
    shape = _parse(text.strip(), "shape")
    return type(shape)(fill(d, {}, symbol) for d in shape)


def parse_expr(text: str):
    """A value like `224` or `2*S` → a number, or a SymPy expression, built by the grammar."""
    return fill(_parse(text.strip(), "expr"), {}, symbol)
