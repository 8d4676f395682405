"""Find the grammar file and build the one LALR parser (built once, then reused).

Building the LALR tables takes about 0.2 s; Lark keeps them in a cache file in the
temporary directory, keyed by the grammar's text, the options and Lark's version, so
every later run (a command, a notebook kernel) loads them in about 15 ms, and a changed
grammar is built afresh."""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from lark import Lark

GRAMMAR_FILE = "symcount.lark"


def grammar_path() -> Path:
    """The grammar inside the installed package, or grammar/ beside a source checkout."""
    try:
        packaged = resources.files("symcount.grammar").joinpath(GRAMMAR_FILE)
        if packaged.is_file():
            return Path(str(packaged))
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[2] / "grammar" / GRAMMAR_FILE


START_RULES = ("start", "shape", "expr")


@lru_cache(maxsize=None)
def parser() -> Lark:
    """The LALR parser; its start rules are a network ('start'), a shape and an expr."""
    return Lark(grammar_path().read_text(encoding="utf-8"), parser="lalr", lexer="contextual",
                start=list(START_RULES), propagate_positions=True, maybe_placeholders=False, cache=True)
