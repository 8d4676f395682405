"""Find the grammar file and build the one LALR parser (built once, then reused).

An installed package carries a standalone parser that the build generated from the
grammar (Lark's own generator: Lark's parsing code and the LALR tables, in one module;
setup.py writes it), so a command neither imports Lark's grammar compiler nor builds
tables: about 13 ms to import and load, against about 45 ms to import Lark and load its cache.  A
source checkout has no generated module and uses Lark itself, which keeps the tables it
builds (about 0.2 s) in a cache file in the user's own cache directory.

This module imports nothing of symcount's, so the build can load it on its own.
"""
from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pathlib and importlib.resources are imported where used: an installed command needs neither
    from pathlib import Path

GRAMMAR_FILE = "symcount.lark"
START_RULES = ("start", "shape", "expr")  # a network, an input shape (3xHxW), a value (2*S)
OPTIONS = dict(parser="lalr", lexer="contextual", start=list(START_RULES), propagate_positions=True,
               maybe_placeholders=False)
STANDALONE_MODULE = "standalone"  # symcount/notation/standalone.py, written by the build, never committed


def grammar_path() -> Path:
    """The grammar inside the installed package, or grammar/ beside a source checkout."""
    from importlib import resources
    from pathlib import Path
    try:
        packaged = resources.files("symcount.grammar").joinpath(GRAMMAR_FILE)
        if packaged.is_file():
            return Path(str(packaged))
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[2] / "grammar" / GRAMMAR_FILE


def cache_file() -> str | bool:
    """Where Lark keeps the tables it built: a directory only this user can write to (a
    cache file in the shared temporary directory could be planted by another user, and
    Lark unpickles it).  False, and no cache, when there is no such directory."""
    from pathlib import Path
    try:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "symcount"
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        status = root.stat()
        if status.st_uid != os.getuid() or status.st_mode & 0o022:
            return False
    except (OSError, RuntimeError, AttributeError):  # no home, a read-only one, or no getuid (Windows)
        return False
    return str(root / "lark-tables.pickle")  # Lark checks the grammar's hash inside and rebuilds on a change


def lark_parser(cache=None, grammar: Path | None = None):
    """Lark itself, built from the grammar file (the tables come from `cache` when it holds them)."""
    from lark import Lark
    text = (grammar or grammar_path()).read_text(encoding="utf-8")
    return Lark(text, cache=cache_file() if cache is None else cache, **OPTIONS)


def write_standalone(path: Path, grammar: Path) -> None:
    """Write the standalone parser module for a grammar file (the build calls this); the
    module records the grammar's hash, which a test compares with the grammar installed."""
    import hashlib
    import io
    from lark.tools.standalone import gen_standalone

    generated = io.StringIO()
    # compressed: the tables as one pickle, which loads about 5 ms faster than the same tables as literals
    gen_standalone(lark_parser(cache=False, grammar=grammar), out=generated, compress=True)
    # Lark's code tries the third-party regex module, which only a grammar with Unicode categories
    # needs (this one has none); where it is installed that import alone cost a command about 8 ms.
    code = generated.getvalue().replace(REGEX_IMPORT, "_has_regex = False\n", 1)
    with open(path, "w", encoding="utf-8") as out:
        out.write(code)
        out.write("from typing import cast  # Transformer_NonRecursive uses it; Lark 1.3's generator leaves it out\n")
        out.write(f"GRAMMAR_SHA256 = {hashlib.sha256(grammar.read_bytes()).hexdigest()!r}\n")


REGEX_IMPORT = "try:\n    import regex\n    _has_regex = True\nexcept ImportError:\n    _has_regex = False\n"


@lru_cache(maxsize=None)
def parser():
    """The LALR parser; its start rules are a network ('start'), a shape and an expr."""
    from symcount.notation import runtime
    return runtime.Lark_StandAlone() if runtime.STANDALONE else lark_parser()
