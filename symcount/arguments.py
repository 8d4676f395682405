"""What every command reads: the notation (an argument, a file, standard input or a zoo name)
and how to read it (input, padding, rounding, framework), into a Network.  The command line
(symcount.cli) and its sweep command (symcount.cli_sweep) share it."""
from __future__ import annotations

import argparse
import re
import sys

from symcount import zoo
from symcount.errors import NotationError, SymcountError, visible
from symcount.helptext import Formatter
from symcount.layers.arithmetic import RULES
from symcount.given import FRAMEWORKS
from symcount.network import parse
from symcount.render.messages import fit_error
from symcount.render.text import terminal_width


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors quote the arguments (an unrecognized one as it
    is) through symcount.errors.visible, as symcount's own errors do."""

    def __init__(self, **options):
        super().__init__(**{"formatter_class": Formatter, **options})

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, fit_error(visible(message, "\n"), terminal_width(), f"{self.prog}: error: ") + "\n")


def _command_parser(prog: str, description: str, epilog: str) -> argparse.ArgumentParser:
    """A parser with the arguments every command shares: the notation and how to read it."""
    parser = _Parser(prog=prog, description=description, epilog=epilog)
    parser.add_argument("notation", nargs="?", help="the network, e.g. \"conv3-64x2 pool fc10\"; '-' reads stdin")
    parser.add_argument("-f", "--file", help="read the notation from a file ('-' for stdin)")
    parser.add_argument("-i", "--input", help="input shape, e.g. 3x224x224, 3xHxW, '1024 tokens' (token ids) or "
                             "'197x768 tokens' (overrides an input line)")
    parser.add_argument("-p", "--padding", default=None,
                        help="default convolution padding: half (floor(k/2) per side; the default), valid, same, "
                             "full, a number, or a symbol in braces such as {p}")
    parser.add_argument("-r", "--rounding", choices=RULES,
                        help="output-size rule of every convolution and pooling layer (default floor)")
    parser.add_argument("--framework", choices=sorted(FRAMEWORKS),
                        help="each framework's rules: caffe rounds pooling up, tensorflow/keras pad 'same'")
    return parser


def _read_notation(args, parser) -> str:
    if args.notation is not None and args.file is not None:
        parser.error("give the notation or --file, not both")
    source = args.file if args.file is not None else args.notation
    if source is None:
        parser.error("no notation given (pass it as an argument, with -f FILE, or '-' for stdin)")
    try:
        if source == "-":
            return sys.stdin.read()
        if args.file is not None:
            with open(args.file, encoding="utf-8") as handle:
                return handle.read()
    except OSError as error:
        raise SymcountError(f"cannot read {args.file}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise SymcountError(f"cannot read {'standard input' if source == '-' else args.file}: it is not UTF-8 "
                            f"text (byte {error.object[error.start]:#04x} at offset {error.start})") from None
    return source


def _network(args, parser):
    entry = zoo.find(args.notation) if args.file is None else None  # symcount resnet50, symcount ResNet50
    text = entry.text if entry else _read_notation(args, parser)
    try:
        return parse(text, input=args.input, padding=args.padding, rounding=args.rounding, framework=args.framework)
    except NotationError:
        word = (args.notation or "").strip()
        if entry is None and args.file is None and re.fullmatch(r"\w+", word) and zoo.near(word):
            raise SymcountError(f"unknown layer or zoo entry {word!r}; did you mean "
                                f"{' or '.join(zoo.near(word))}? (symcount zoo lists the entries)") from None
        raise
