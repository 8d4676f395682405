"""The REPL's `:commands`: each a function of the session and the rest of its line.

A command reads and changes the session's state (symcount.repl.Session) and returns the
text to print; bad input is a SymcountError.  docs/repl.md describes every command.
"""
from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from typing import Callable

from symcount import progress, zoo
from symcount.helptext import fit_text
from symcount.render import listing
from symcount.render.text import terminal_width
from symcount.errors import SymcountError
from symcount.given import network_defaults
from symcount.notation.parse import parse_expr, parse_shape
from symcount.render.table import FORMATS

BOUND = re.compile(r"^([A-Za-z_]\w*)=([0-9]+)\.\.([0-9]+)(?::([0-9]+))?$")


class Quit(Exception):
    """:quit was asked for."""


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    meaning: str
    run: Callable


def _help(session, rest):
    width = max(len(c.usage) for c in COMMANDS.values())
    lines = ["Type notation to see its table: conv3-64x2 pool fc10, or a zoo name: resnet50.",
             "def NAME(params) = (...) defines a block for the lines that follow.", ""]
    lines += [f"  {c.usage:<{width}}  {c.meaning}" for c in COMMANDS.values()]
    lines += ["", "Tab completes keywords, zoo names, blocks and symbols; arrows recall history."]
    return "\n".join(fit_text("\n".join(lines), terminal_width())) + "\n"


def _input(session, rest):
    if not rest:
        session.input = None
        return "input: from the notation (or the symbolic CxHxW)"
    parse_shape(rest)
    session.input = rest
    return f"input {rest}"


def _set(session, rest):
    if not rest:
        return "\n".join(f"{k} = {v}" for k, v in session.values.items()) or "no values set"
    for pair in rest.replace(",", " ").split():
        name, sep, value = pair.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_]\w*", name) or not value:
            raise SymcountError(f":set takes NAME=VALUE, got {pair!r}")
        parse_expr(value)
        session.values[name] = value
    return ", ".join(f"{k} = {v}" for k, v in session.values.items())


def _unset(session, rest):
    names = rest.replace(",", " ").split() or list(session.values)
    for name in names:
        session.values.pop(name, None)
    return f"unset {', '.join(names)}" if names else "no values set"


def _setting(name):
    def run(session, rest):
        value = rest or None
        network_defaults(**{**session.settings, name: value})  # checked as parse checks it
        session.settings[name] = value
        return f"{name}: {value if value is not None else 'default'}"
    return run


def _format(session, rest):
    if rest not in FORMATS:
        raise SymcountError(f":format takes one of {', '.join(FORMATS)}")
    session.format = rest
    return f"format {rest}"


def _depth(session, rest):
    if rest in ("", "off"):
        session.depth = None
        return "depth: every layer"
    if not re.fullmatch(r"[0-9]{1,6}", rest):
        raise SymcountError(":depth takes a number (0 folds every top-level block) or off")
    session.depth = int(rest)
    return f"depth {rest}"


def _convention(session, rest):
    from symcount.analyses.conventions import convention
    if rest in ("", "off"):
        session.convention = None
        return "convention: none"
    convention(rest)
    session.convention = rest
    return f"convention {rest}"


def _defs(session, rest):
    return "\n".join(session.definitions.values()) or "no blocks defined"


def _reset(session, rest):
    session.reset()
    return "session reset"


def _check(session, rest):
    from symcount.render.reports import check_text
    network = session.last()
    return check_text(network, network.check())


def _solve(session, rest):
    from symcount.render.reports import solve_text
    network = session.last()
    facts, bounds = [], {}
    for word in rest.split():
        bound = BOUND.match(word)
        if bound:
            bounds[bound[1]] = range(int(bound[2]), int(bound[3]) + 1)
        else:
            facts.append(word)
    with progress.reporting(progress.Bar(sys.stderr)):
        return solve_text(network, network.solve(facts, bounds))


SWEEP_OPTIONS = {"--quantity": "quantity", "-q": "quantity", "--plot": "plot", "--dtype": "dtype"}


def _sweep(session, rest):
    """:sweep NAME=VALUES ... [--paired] [--quantity LIST] [--plot FILE]: as `symcount sweep` reads them;
    a symbol not swept takes its :set value."""
    from symcount.render import sweep as shown
    network = session.last()
    words, options = [], {}
    listed = iter(rest.split())
    for word in listed:
        if word in SWEEP_OPTIONS:
            options[SWEEP_OPTIONS[word]] = next(listed, None)
            if options[SWEEP_OPTIONS[word]] is None:
                raise SymcountError(f":sweep {word} needs a value, e.g. {word} {SWEEP_EXAMPLES[word]}")
        else:
            words.append(word)
    swept = {name.strip() for word in words if "=" in word for name in word.split("=")[0].split(",")}
    for name, value in session.values.items():
        if name in network.symbols and name not in swept:
            number = parse_expr(str(value))
            if not number.is_Integer:
                raise SymcountError(f":sweep needs a whole number for {name}, which is set to {value}")
            words.append(f"{name}={int(number)}")
    if not swept:
        raise SymcountError(":sweep needs a range, e.g. :sweep H=32..512:32")
    answer = shown.report(network, "sweep", words, quantity=options.get("quantity"), dtype=options.get("dtype"),
                          format=session.format if session.format in shown.FORMATS else "text", wide=session.wide,
                          plot=options.get("plot") and os.path.expanduser(options["plot"]),
                          bar=progress.Bar(sys.stderr))
    return answer + (f"plot written to {options['plot']}\n" if options.get("plot") else "")


SWEEP_EXAMPLES = {"--quantity": "params,macs,training", "-q": "params,macs", "--plot": "sweep.png",
                  "--dtype": "bfloat16"}


def _export(session, rest):
    """:export [CLASS] [> FILE]: the module's source, printed or written to a file."""
    name, _, path = (part.strip() for part in rest.partition(">"))
    if ">" in rest and not path:
        raise SymcountError(":export > FILE needs a file name, e.g. :export Net > net.py")
    source = session.at_values().to_torch(name or "Net")
    if not path:
        return source
    path = os.path.expanduser(path)
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(source)
    except OSError as error:
        raise SymcountError(f"cannot write {path}: {error.strerror}") from None
    return f"wrote {path}: class {name or 'Net'}, {source.count(chr(10))} lines"


def _columns(session, rest):
    from symcount.render.model import DEFAULT, choose_columns
    if rest in ("", "all", "default"):
        session.columns = None
        return "columns: " + ", ".join(DEFAULT)
    session.columns = choose_columns(rest)
    return "columns: " + ", ".join(session.columns)


def _wide(session, rest):
    if rest not in ("", "on", "off"):
        raise SymcountError(":wide takes on or off")
    session.wide = rest != "off"
    return f"wide: {'full integers' if session.wide else 'compact numbers where the table needs the room'}"


def _formulas(session, rest):
    if rest not in ("", "on", "off"):
        raise SymcountError(":formulas takes on or off")
    session.formulas = rest != "off"
    return f"formulas: {'beside their values' if session.formulas else 'off: the values alone, as --set shows them'}"


def _zoo(session, rest):
    if rest:
        return "\n".join(listing.notation(zoo.notation(rest), terminal_width()))
    return "\n".join(listing.zoo_list(zoo.entries().values(), terminal_width()))


def _quit(session, rest):
    raise Quit


COMMANDS = {c.name: c for c in (
    Command("help", ":help", "this list", _help),
    Command("input", ":input [SHAPE]", "the input of the lines that follow (3x224x224, 3xHxW); none: clear", _input),
    Command("set", ":set [NAME=VALUE ...]", "give symbols values (shown beside the formulas); none: list", _set),
    Command("unset", ":unset [NAME ...]", "forget values (all without names)", _unset),
    Command("padding", ":padding [MODE]", "the convolutions' default padding: half, valid, same, full, n",
            _setting("padding")),
    Command("rounding", ":rounding [RULE]", "floor, exact, ceil or caffe for every window", _setting("rounding")),
    Command("framework", ":framework [NAME]", "pytorch, caffe, tensorflow, keras, onnx rules",
            _setting("framework")),
    Command("format", ":format FORMAT", f"the table's format: {', '.join(FORMATS)}", _format),
    Command("depth", ":depth [N|off]", "fold blocks nested deeper than N", _depth),
    Command("convention", ":convention [NAME|off]", "add a counter's column: torchinfo, fvcore, thop, ...",
            _convention),
    Command("defs", ":defs", "the blocks defined so far", _defs),
    Command("check", ":check", "integral sizes of the last network", _check),
    Command("solve", ":solve FACT ... [NAME=LO..HI]", "solve the last network's symbols: conv1=55x55 p=0..10", _solve),
    Command("sweep", ":sweep NAME=VALUES ... [OPTIONS]", "the last network's totals over ranges, as `symcount sweep`",
            _sweep),
    Command("columns", ":columns [LIST|all]", "the table's columns: output,params,macs (all: the default)",
            _columns),
    Command("wide", ":wide [on|off]", "full integers in the table, however wide", _wide),
    Command("formulas", ":formulas [on|off]", "with values set, each formula beside its value (on: the default)",
            _formulas),
    Command("export", ":export [CLASS] [> FILE]", "the last network as a PyTorch nn.Module, or into a file",
            _export),
    Command("zoo", ":zoo [NAME]", "list the zoo, or print an entry's notation", _zoo),
    Command("reset", ":reset", "forget definitions, input, values and settings", _reset),
    Command("quit", ":quit", "leave (or Ctrl-D)", _quit),
)}
ALIASES = {"q": "quit", "exit": "quit", "h": "help", "?": "help"}
