"""The `symcount` command: paper notation in, per-layer table out.

Exit status: 0 on success, 2 on bad input (notation, options, shapes, symbols, usage).
Bad input prints one error message, never a traceback.
"""
from __future__ import annotations

import argparse
import sys

from symcount.errors import SymcountError
from symcount.network import parse
from symcount.render.table import FORMATS

EXAMPLES = """\
notation (docs/notation.md has every form):
  conv3-64          3x3 convolution, 64 filters, stride 1, half padding (size kept)
  conv11-96/4       11x11 convolution, stride 4       conv1x7-128   1x7 kernel
  conv3-64[pad=0, groups=2, dilation=2, bias=false]  options after a layer
  pool  maxpool3/2[ceil]  avgpool2  gap             pooling (pool = 2x2 max, stride 2)
  fc4096  FC-4096  dense256                         fully connected (flatten implied)
  bn lrn relu tanh sigmoid dropout softmax flatten  no change of shape
  conv3-64x2  (conv3-64 pool)x2  conv3-64x{n}       repetition
  input 3x224x224  input 3xHxW                      input shape (first item)
  conv3-{C}  conv3-{2*C}  fc{N}                     symbols and arithmetic in braces

examples:
  symcount "input 3x224x224 conv3-64x2 pool conv3-128x2 pool conv3-256x3 pool conv3-512x3 pool conv3-512x3 pool fc4096 fc4096 fc1000"
  symcount "conv3-64x2 pool fc10" --input 3xHxW --set H=32 --set W=32
  symcount -f net.txt --format markdown
  echo "conv5-32[pad=0] pool fc10" | symcount - --input 1x28x28 --format json

exit status: 0 ok, 2 bad input (with a message naming line, column and what was expected)
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="symcount", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXAMPLES,
        description="Shapes, parameters (weights and biases apart), activations and MACs of a network "
                    "written in paper notation, as exact numbers or closed-form formulas.")
    parser.add_argument("notation", nargs="?", help="the network, e.g. \"conv3-64x2 pool fc10\"; '-' reads stdin")
    parser.add_argument("-f", "--file", help="read the notation from a file ('-' for stdin)")
    parser.add_argument("-i", "--input", help="input shape, e.g. 3x224x224 or 3xHxW (overrides an input line)")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                        help="give a symbol a value, shown beside the formulas (repeatable)")
    parser.add_argument("-p", "--padding", default="half",
                        help="default convolution padding: half (floor(k/2) per side; default), valid, same, "
                             "full, or a number")
    parser.add_argument("--format", choices=sorted(FORMATS), default="text", help="output format (default text)")
    parser.add_argument("-V", "--version", action="store_true", help="print the version and exit")
    return parser


def _read_notation(args, parser) -> str:
    if args.notation is not None and args.file is not None:
        parser.error("give the notation or --file, not both")
    source = args.file if args.file is not None else args.notation
    if source is None:
        parser.error("no notation given (pass it as an argument, with -f FILE, or '-' for stdin)")
    if source == "-":
        return sys.stdin.read()
    if args.file is not None:
        try:
            with open(args.file, encoding="utf-8") as handle:
                return handle.read()
        except OSError as error:
            raise SymcountError(f"cannot read {args.file}: {error.strerror}") from None
    return source


def _values(pairs):
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise SymcountError(f"--set takes NAME=VALUE, got {pair!r}")
        values[name.strip()] = value
    return values


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.version:
        from symcount import __version__
        print(f"symcount {__version__}")
        return 0
    try:
        text = _read_notation(args, parser)
        network = parse(text, input=args.input, padding=args.padding)
        values = _values(args.set)
        if values:
            network.subs(**values)  # checks every layer at these values
        sys.stdout.write(network.table(args.format, network.values(**values)))
    except SymcountError as error:
        print(f"symcount: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
