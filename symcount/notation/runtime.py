"""Lark's parsing runtime: the standalone module the build generated from the grammar, or
Lark itself in a source checkout (symcount/notation/grammar.py says why).  The parse tree,
its tokens and the parse errors are the runtime's own classes, so the transformer and the
error messages take them from here."""
from __future__ import annotations

try:
    from symcount.notation.standalone import (Lark_StandAlone, Token, Transformer_NonRecursive, UnexpectedCharacters,
                                              UnexpectedEOF, UnexpectedInput, VisitError, v_args)
    STANDALONE = True
except ImportError:  # a source checkout
    from lark import Token, Transformer_NonRecursive, v_args
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError
    Lark_StandAlone = None
    STANDALONE = False

__all__ = ["Lark_StandAlone", "STANDALONE", "Token", "Transformer_NonRecursive", "UnexpectedCharacters",
           "UnexpectedEOF", "UnexpectedInput", "VisitError", "v_args"]
