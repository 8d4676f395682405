"""`symcount repl`: an interactive prompt that evaluates notation lines.

A session keeps what the user has said between lines: block definitions, the input shape,
symbol values, rounding and padding defaults, the table's format, depth and convention.
Every line is either a `:command`, a `def`, a zoo name, or notation; the answer is printed
and any error is shown without leaving.  An entry goes on while a bracket is open, until a
`:command`, a blank line or the end of the input ends it as an error.  With a terminal
there are line editing, history (~/.symcount_history, or $SYMCOUNT_HISTORY) and tab
completion of keywords, zoo names, blocks, symbols and commands.  docs/repl.md describes it.
"""
from __future__ import annotations

import os
import re
import sys

from symcount import zoo
from symcount.errors import NotationError, SymcountError, visible
from symcount.render.messages import fit_error
from symcount.render.text import terminal_width
from symcount.layers.kinds import KEYWORDS
from symcount.network import parse
from symcount.notation.functions import FUNCTIONS
from symcount.notation.parse import brackets, uncommented
from symcount.notation.suggest import near
from symcount.notation.transformer import BRANCH_KINDS
from symcount.repl_commands import ALIASES, COMMANDS, Quit

PROMPT, MORE = "symcount> ", "     ...> "
WORDS = sorted(set(KEYWORDS) | set(FUNCTIONS) | set(BRANCH_KINDS) | {"input", "def", "rational", "symbols", "dw"})
DEFINITION = re.compile(r"\s*def\s+([A-Za-z_]\w*)", re.IGNORECASE)
DECLARATION = re.compile(r"\s*(symbols|rational)\s*\(\s*[A-Za-z_\w\s,]*\)\s*(#.*)?", re.IGNORECASE)


class Session:
    """The state a prompt keeps between lines, and what each line does with it."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.definitions: dict[str, str] = {}
        self.declarations: list[str] = []  # symbols(k), rational(alpha): kept for every later line
        self.input: str | None = None
        self.values: dict[str, str] = {}
        self.settings = {"padding": None, "rounding": None, "framework": None}
        self.format, self.depth, self.convention = "text", None, None
        self.columns, self.wide = None, False
        self.formulas = True  # with values set, each formula beside its value (:formulas off: numbers alone)
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
                close = near(name.lower(), list(COMMANDS) + list(ALIASES), n=2)
                hint = f"; did you mean {' or '.join(':' + c for c in close)}?" if close else ""
                raise SymcountError(f"unknown command :{name}{hint} (:help lists them)")
            return command.run(self, rest.strip())
        if DECLARATION.fullmatch(text):
            parse(text.split("#", 1)[0] + "\nflatten", input="1")  # checked as the notation reads it
            self.declarations.append(text.split("#", 1)[0].strip())
            return f"declared {text.split('#', 1)[0].strip()}"
        match = DEFINITION.match(text)
        if match and text.count("(") == text.count(")") and _only_definitions(text):
            return self.define(match.group(1), text)
        entry = zoo.find(text.split("#", 1)[0].strip())
        if entry is not None:
            text = entry.text
        return self.evaluate(text)

    def define(self, name: str, text: str) -> str:
        trial = {**self.definitions, name: text}
        parse("\n".join(self.declarations + list(trial.values())) + "\nflatten", input="1")  # (flatten: any body)
        replaced = name in self.definitions
        self.definitions = trial
        return f"{'redefined' if replaced else 'defined'} {name}"

    def build(self, text: str):
        """The network of a notation line, with the session's definitions, input and defaults."""
        # the definitions follow the line, so an error in the line keeps its line and column
        kept = self.declarations + list(self.definitions.values())
        source = text + ("\n" + "\n".join(kept) if kept else "")
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
        return network.table(self.format, network.values(**values), depth=self.depth, convention=self.convention,
                             columns=self.columns, wide=self.wide, formulas=self.formulas and bool(values))

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


# ---------------------------------------------------------------- the loop
def open_brackets(entry: str) -> list:
    """The '(' and '{' an entry leaves open, outermost first, as (char, line, column): none
    when every one is closed (or a closer has nothing to close: the parser reports that)."""
    opened = []
    for char, line, column in brackets(entry):
        if char in "({":
            opened.append((char, line, column))
        elif not opened or "({".index(opened[-1][0]) != ")}".index(char):
            return []
        else:
            opened.pop()
    return opened


def _continued(entry: str, read):
    """An entry and its continuation lines, read while a bracket is open.  Returns the entry,
    the error when it was left open (else None), and a :command that ended it (run next).
    A line that starts with ':' is always a command, and a blank line ends an open entry."""
    if entry.lstrip().startswith(":"):
        return entry, None, None
    while opened := open_brackets(entry):
        try:
            line = read(MORE)
        except EOFError:
            return entry, _left_open(entry, opened, "the end of the input", "it is not evaluated"), None
        if not line.strip():
            return entry, _left_open(entry, opened, "a blank line", "a blank line ends an entry, and this one is "
                                     "not evaluated"), None
        if line.lstrip().startswith(":"):
            return entry, _left_open(entry, opened, line.split()[0], "a line that starts with ':' is a command, "
                                     "and runs; the entry is not evaluated"), line
        entry += "\n" + line
    return entry, None, None


def _left_open(entry: str, opened: list, where: str, then: str) -> NotationError:
    """The error of an entry ended with brackets open, at the innermost one."""
    char, line, column = opened[-1]
    before = f", nor the {' and '.join(repr(c) for c, _, _ in opened[:-1])} before it" if len(opened) > 1 else ""
    return NotationError(f"entry left open at {where}: its {char!r} is not closed{before}; {then}",
                         source=entry, line=line, column=column)


def one_line(entry: str) -> str:
    """An entry as history keeps it: one line, so recalling it brings the whole entry back, and so
    the history file (a line per entry) reads it back whole.  Its lines are joined with spaces,
    which separate layers as newlines do, after each line's comment (a # outside a "label") is
    taken off, since it would swallow the lines after it."""
    if "\n" not in entry:
        return entry
    return " ".join(line.strip() for line in uncommented(entry).split("\n") if line.strip())


def history_path() -> str:
    return os.environ.get("SYMCOUNT_HISTORY") or os.path.join(os.path.expanduser("~"), ".symcount_history")


def _line_editing(session):
    """Readline history and completion, where the platform has readline.  Returns two functions:
    one that keeps an entry in the history, whole (readline's own would keep each line it read
    apart, so a block typed over several lines came back a line at a time), and one that saves
    the history file."""
    try:
        import readline
    except ImportError:  # no readline (Windows without pyreadline): plain input()
        return (lambda entry: None), (lambda: None)
    path = history_path()
    try:
        readline.read_history_file(path)
    except OSError:
        pass
    readline.set_history_length(1000)
    readline.set_auto_history(False)  # entries are added whole, by remember()
    readline.set_completer_delims(" \t\n,()[]{}|=-/")
    matches: list = []

    def complete(text, state):
        if state == 0:
            matches[:] = session.completions(text)
        return matches[state] if state < len(matches) else None

    readline.set_completer(complete)
    readline.parse_and_bind("tab: complete")

    def remember(entry):
        if entry.strip():
            readline.add_history(one_line(entry))

    def save():
        try:
            readline.write_history_file(path)
        except OSError:
            pass
    return remember, save


def run(stdin=None, stdout=None, stderr=None) -> int:
    """The prompt; with a terminal, line editing, history and completion.  Returns 0, or,
    reading entries that are not typed at a terminal, 2 if any entry failed (after all of
    them; an entry left open at the end of the input is one), so a replayed session fails
    as a script would."""
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    interactive = stdin.isatty() and stdout.isatty()
    session = Session()
    failed = False
    remember, save = _line_editing(session) if interactive else ((lambda entry: None), (lambda: None))
    if interactive:
        stdout.write(fit_error("symcount: notation (conv3-64x2 pool fc10), a zoo name or :help; "
                               "Ctrl-D leaves", terminal_width()) + "\n")

    def read(prompt):
        if interactive:
            try:
                return input(prompt)
            except EOFError:
                stdout.write("\n")
                raise
        line = stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\n")

    def report(error):
        nonlocal failed
        stderr.write(fit_error(str(error), terminal_width(), "error: ") + "\n")
        stderr.flush()
        failed = True

    pending = None  # a :command that ended an open entry
    try:
        while True:
            try:
                entry, left_open, pending = _continued(pending if pending is not None else read(PROMPT), read)
            except KeyboardInterrupt:
                stdout.write("\n")
                pending = None
                continue
            except EOFError:
                return 2 if failed and not interactive else 0
            remember(entry)
            if left_open is not None:  # at a terminal, Ctrl-D there abandons the entry, as Ctrl-C does
                report(left_open)
                continue
            try:
                answer = session.handle(entry)
            except Quit:
                return 2 if failed and not interactive else 0
            except SymcountError as error:
                report(error)
                continue
            except KeyboardInterrupt:
                stderr.write("interrupted\n")
                continue
            if answer:  # an echo of what was typed (:defs) is shown as errors and tables show it
                answer = visible(answer, "\n")
                stdout.write(answer if answer.endswith("\n") else answer + "\n")
                stdout.flush()
    finally:
        save()
