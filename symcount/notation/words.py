"""Long texts of plain layer words, parsed one distinct word at a time.

A network written out layer by layer (`conv3-16 conv3-16 ... conv3-32/2 ...`) repeats a few
words thousands of times, and Lark's LALR parse of each costs about 50 µs.  When a text
holds only plain words (no brackets, braces, parentheses, labels, colons, pipes or `=`,
every word starting with a letter other than x, words apart by whitespace or commas), no
construct of the grammar reaches from one word into the next: what may continue an item
(a repeat `x2`, a stride `/2`, options `[...]`, a dash, a number, a group or a call's
parentheses) never begins a plain word.  The parse of the whole text is then the parses of
its words in a row (the one keyword that continues an item, a shape's `tokens`, is left to the
full parse), so each distinct word is parsed by the grammar once, and its items are
moved to where each copy stands.  The network-level rules (the input first, blocks, names)
then run on them exactly as after a full parse (and report its errors, the same code).  Any
other text, a word the grammar or the transformer refuses, and a text of mostly distinct words
(where one parse is cheaper) take the full parse, which reports any error in the words; a
property test checks that both readings give the same spec, spans included, or the same error.
"""
from __future__ import annotations

import re
from functools import lru_cache

from symcount.errors import SymcountError
from symcount.notation.grammar import parser
from symcount.notation.runtime import UnexpectedInput, VisitError
from symcount.notation.spec import Call, Layer, NetworkSpec, Repeat, Span
from symcount.notation.transformer import ToSpec

MIN_WORDS = 64          # shorter texts parse whole: one parse is as cheap
SPECIAL = re.compile(r'["()\[\]{}|:=]')
COMMENT = re.compile(r"#[^\n]*")
# A word, or the input declaration with its shape on the same line.
WORD = re.compile(r"(?i:input)[ \t]+[^\s,]+|[^\s,]+")
PLAIN = re.compile(r"[A-WYZa-wyz_]")  # how a plain word begins


@lru_cache(maxsize=None)
def _continues():
    """The one keyword that continues what stands before it, a shape's `tokens` (input 1024
    tokens), as the grammar writes it."""
    return re.compile(parser().get_terminal("TOKENS").pattern.to_regexp())


@lru_cache(maxsize=1024)
def items_of(word: str) -> tuple | None:
    """The parsed children of the network a word alone is (positions as if at the text's
    start), or None when the grammar or the transformer refuses it, or it holds a name."""
    try:
        network = parser().parse(word, start="start").children[0]
        transformer = ToSpec(word)
        children = tuple(transformer.transform(child) for child in network.children)
    except (UnexpectedInput, VisitError, SymcountError):  # the full parse reports it
        return None
    movable = all(isinstance(child, (Layer, Repeat, Call)) or isinstance(child, tuple) and child[0] == "input"
                  for child in children)
    return children if movable and not transformer.named else None


def _moved(value, line: int, column: int, offset: int):
    """An item parsed alone, moved to the line, column and character where its copy stands."""
    def span(old: Span) -> Span:
        return Span(line, column + old.column - 1, offset + old.start, offset + old.end)
    if isinstance(value, Layer):
        return Layer(value.kind, value.params, value.text, span(value.span))
    if isinstance(value, Repeat):
        return Repeat(tuple(_moved(v, line, column, offset) for v in value.body), value.count, value.text,
                      span(value.span), value.label, value.stage)
    if isinstance(value, Call):
        return Call(value.name, value.args, value.text, span(value.span))
    return ("input", value[1], span(value[2]))  # items_of let nothing else through


def parse_words(text: str) -> NetworkSpec | None:
    """The spec of a long text of plain words, or None for the full parse to read it."""
    if '"' in text:  # a stage label, which may hold anything, even a #
        return None
    blanked = COMMENT.sub(lambda comment: " " * len(comment.group()), text)
    if SPECIAL.search(blanked):
        return None
    words = [(match.start(), match.group()) for match in WORD.finditer(blanked)]
    if len(words) < MIN_WORDS or len({word for _, word in words}) * 2 > len(words):
        return None
    children, line, line_begins, counted = [], 1, 0, 0
    for start, word in words:
        if not PLAIN.match(word) or _continues().match(word):
            return None
        breaks = blanked.count("\n", counted, start)
        if breaks:
            line += breaks
            line_begins = blanked.rfind("\n", counted, start) + 1
        counted = start
        items = items_of(word)
        if items is None:
            return None
        children += [_moved(item, line, start - line_begins + 1, start) for item in items]
    return ToSpec(text).network(children)
