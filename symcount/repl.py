"""`symcount repl`: an interactive prompt that evaluates notation lines.

A session keeps what the user has said between lines: block definitions, the input shape,
symbol values, rounding and padding defaults, the table's format, depth and convention.
Every line is either a `:command`, a `def`, a zoo name, or notation; the answer is printed
and any error is shown without leaving.  With a terminal there are line editing, history
(~/.symcount_history, or $SYMCOUNT_HISTORY) and tab completion of keywords, zoo names,
blocks, symbols and commands.  docs/repl.md describes it.
"""
from __future__ import annotations

import difflib
import os
import re
import sys
from dataclasses import dataclass
from typing import Callable

from symcount import progress, zoo
from symcount.analyses.sweep import count_values
from symcount.errors import SymcountError
from symcount.layers.kinds import KEYWORDS
from symcount.network import network_defaults, parse
from symcount.notation.parse import parse_expr, parse_shape
from symcount.render.table import FORMATS

PROMPT, MORE = "symcount> ", "     ...> "
WORDS = sorted(set(KEYWORDS) | {"input", "def", "rational", "res", "residual", "add", "cat", "concat", "dw"})
DEFINITION = re.compile(r"\s*def\s+([A-Za-z_]\w*)", re.IGNORECASE)
MAX_SWEEP = 10_000  # points :sweep prints
BOUND = re.compile(r"^([A-Za-z_]\w*)=([0-9]+)\.\.([0-9]+)(?::([0-9]+))?$")


class Quit(Exception):
    """:quit was asked for."""


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    meaning: str
    run: Callable


class Session:
    """The state a prompt keeps between lines, and what each line does with it."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.definitions: dict[str, str] = {}
        self.input: str | None = None
        self.values: dict[str, str] = {}
        self.settings = {"padding": None, "rounding": None, "framework": None}
        self.format, self.depth, self.convention = "text", None, None
        self.network = None

    # ------------------------------------------------------------ lines
    def handle(self, line: str) -> str:
        """The answer to one (possibly multi-line) entry; SymcountError for bad input."""
        text = line.strip()
        if not text or text.startswith("#"):
            return ""
        if text.startswith(":"):
            text = text.split("#", 1)[0].strip()  # a command may carry a comment, as a notation line does
            name, _, rest = text[1:].partition(" ")
            command = COMMANDS.get(name.lower()) or COMMANDS.get(ALIASES.get(name.lower(), ""))
            if command is None:
                close = difflib.get_close_matches(name.lower(), list(COMMANDS) + list(ALIASES), n=1)
                hint = f"; did you mean :{close[0]}?" if close else ""
                raise SymcountError(f"unknown command :{name}{hint} (:help lists them)")
            return command.run(self, rest.strip())
        match = DEFINITION.match(text)
        if match and text.count("(") == text.count(")") and _only_definitions(text):
            return self.define(match.group(1), text)
        entry = zoo.find(text.split("#", 1)[0].strip())
        if entry is not None:
            text = entry.text
        return self.evaluate(text)

    def define(self, name: str, text: str) -> str:
        trial = {**self.definitions, name: text}
        parse("\n".join(trial.values()) + "\nflatten", input="1")  # checks the definitions (flatten: any body)
        replaced = name in self.definitions
        self.definitions = trial
        return f"{'redefined' if replaced else 'defined'} {name}"

    def build(self, text: str):
        """The network of a notation line, with the session's definitions, input and defaults."""
        # the definitions follow the line, so an error in the line keeps its line and column
        source = text + ("\n" + "\n".join(self.definitions.values()) if self.definitions else "")
        return parse(source, input=self.input, **self.settings)

    def applicable(self, network) -> dict:
        """The values set for symbols this network has."""
        return {name: value for name, value in self.values.items() if name in network.symbols}

    def evaluate(self, text: str) -> str:
        network = self.build(text)
        values = self.applicable(network)
        if values:
            network.subs(**values)  # every layer checked at these values
        self.network = network
        return network.table(self.format, network.values(**values), depth=self.depth, convention=self.convention)

    def last(self):
        if self.network is None:
            raise SymcountError("no network yet: type a notation line first, e.g. conv3-64x2 pool fc10")
        return self.network

    def at_values(self):
        network = self.last()
        values = self.applicable(network)
        return network.subs(**values) if values else network

    # ------------------------------------------------------------ completion
    def completions(self, prefix: str) -> list[str]:
        if prefix.startswith(":"):
            pool = [":" + name for name in COMMANDS]
        else:
            symbols = list(self.network.symbols) if self.network is not None else []
            pool = WORDS + zoo.names() + list(self.definitions) + symbols + list(self.values)
        lowered = prefix.lower()
        return sorted({word for word in pool if word.lower().startswith(lowered)})


def _only_definitions(text: str) -> bool:
    """Whether an entry is definitions alone (then it is kept), not a network using them."""
    depth, ends = 0, []
    for position, char in enumerate(text):
        depth += char == "("
        depth -= char == ")"
        if char == ")" and depth == 0:
            ends.append(position)
    rest = text[ends[-1] + 1:] if ends else text
    return not rest.split("#")[0].strip()


# ---------------------------------------------------------------- commands
def _help(session, rest):
    width = max(len(c.usage) for c in COMMANDS.values())
    lines = ["Type notation to see its table: conv3-64x2 pool fc10, or a zoo name: resnet50.",
             "def NAME(params) = (...) defines a block for the lines that follow.", ""]
    lines += [f"  {c.usage:<{width}}  {c.meaning}" for c in COMMANDS.values()]
    lines += ["", "Tab completes keywords, zoo names, blocks and symbols; arrows recall history."]
    return "\n".join(lines) + "\n"


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


def _sweep(session, rest):
    network = session.last()
    columns = {}
    for word in rest.split():
        bound = BOUND.match(word)
        if not bound:
            raise SymcountError(f":sweep takes NAME=LO..HI or NAME=LO..HI:STEP, got {word!r}")
        if bound[4] is not None and int(bound[4]) == 0:
            raise SymcountError(f":sweep: the step of {bound[1]} must be at least 1, got {word!r}")
        columns[bound[1]] = range(int(bound[2]), int(bound[3]) + 1, int(bound[4] or 1))
    for name, value in session.values.items():
        if name in network.symbols and name not in columns:
            columns[name] = value
    lengths = {count_values(name, c) for name, c in columns.items() if isinstance(c, range)}
    if not lengths:
        raise SymcountError(":sweep needs a range, e.g. :sweep H=32..512:32")
    if max(lengths) > MAX_SWEEP:
        raise SymcountError(f":sweep prints one line per point; {max(lengths):,} is more than {MAX_SWEEP:,} "
                            "(use a step: H=32..4096:32)")
    for name, value in list(columns.items()):
        if not isinstance(value, range):
            number = parse_expr(str(value))
            if not number.is_Integer:
                raise SymcountError(f":sweep needs a whole number for {name}, which is set to {value}")
            columns[name] = [int(number)] * max(lengths)
    with progress.reporting(progress.Bar(sys.stderr)):
        result = network.sweep(**columns)
    names = list(network.symbols)
    rows = [names + ["params", "MACs"]]
    for index, valid in enumerate(result["valid"]):
        figures = [f"{result[q][index]:,}" if valid else "invalid" for q in ("params", "macs")]
        rows.append([str(result[n][index]) for n in names] + figures)
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join("  ".join(cell.rjust(width) for cell, width in zip(row, widths)) for row in rows)


def _export(session, rest):
    return session.at_values().to_torch(rest or "Net")


def _zoo(session, rest):
    if rest:
        return zoo.notation(rest)
    return "\n".join(f"{entry.name:<20} {entry.title}" for entry in zoo.entries().values())


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
    Command("sweep", ":sweep NAME=LO..HI[:STEP] ...", "params and MACs of the last network over a range", _sweep),
    Command("export", ":export [CLASS]", "the last network as a PyTorch nn.Module", _export),
    Command("zoo", ":zoo [NAME]", "list the zoo, or print an entry's notation", _zoo),
    Command("reset", ":reset", "forget definitions, input, values and settings", _reset),
    Command("quit", ":quit", "leave (or Ctrl-D)", _quit),
)}
ALIASES = {"q": "quit", "exit": "quit", "h": "help", "?": "help"}


# ---------------------------------------------------------------- the loop
def _balanced(text: str) -> bool:
    code = "\n".join(line.split("#")[0] for line in text.splitlines())
    return code.count("(") <= code.count(")") and code.count("{") <= code.count("}")


def history_path() -> str:
    return os.environ.get("SYMCOUNT_HISTORY") or os.path.join(os.path.expanduser("~"), ".symcount_history")


def _line_editing(session):
    """Readline history and completion, where the platform has readline; the history file
    is saved by the returned function."""
    try:
        import readline
    except ImportError:  # no readline (Windows without pyreadline): plain input()
        return lambda: None
    path = history_path()
    try:
        readline.read_history_file(path)
    except OSError:
        pass
    readline.set_history_length(1000)
    readline.set_completer_delims(" \t\n,()[]{}|=-/")
    matches: list = []

    def complete(text, state):
        if state == 0:
            matches[:] = session.completions(text)
        return matches[state] if state < len(matches) else None

    readline.set_completer(complete)
    readline.parse_and_bind("tab: complete")

    def save():
        try:
            readline.write_history_file(path)
        except OSError:
            pass
    return save


def run(stdin=None, stdout=None, stderr=None) -> int:
    """The prompt; with a terminal, line editing, history and completion.  Returns 0, or,
    reading entries that are not typed at a terminal, 2 if any entry failed (after all of
    them), so a replayed session fails as a script would."""
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    interactive = stdin.isatty() and stdout.isatty()
    session = Session()
    failed = False
    save = _line_editing(session) if interactive else (lambda: None)
    if interactive:
        stdout.write("symcount: type notation (conv3-64x2 pool fc10), a zoo name, or :help. Ctrl-D leaves.\n")

    def read(prompt):
        if interactive:
            return input(prompt)
        line = stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\n")

    try:
        while True:
            try:
                entry = read(PROMPT)
                while not _balanced(entry):
                    entry += "\n" + read(MORE)
            except KeyboardInterrupt:
                stdout.write("\n")
                continue
            except EOFError:
                if interactive:
                    stdout.write("\n")
                return 2 if failed and not interactive else 0
            try:
                answer = session.handle(entry)
            except Quit:
                return 2 if failed and not interactive else 0
            except SymcountError as error:
                stderr.write(f"error: {error}\n")
                stderr.flush()
                failed = True
                continue
            except KeyboardInterrupt:
                stderr.write("interrupted\n")
                continue
            if answer:
                stdout.write(answer if answer.endswith("\n") else answer + "\n")
                stdout.flush()
    finally:
        save()
