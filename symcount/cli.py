"""The `symcount` command: paper notation in, per-layer table out.

Exit status: 0 on success, 2 on bad input (notation, options, shapes, symbols, usage), 130 when
interrupted.  Bad input prints one error message, never a traceback; a reader that stops early
(`symcount zoo | head`) is no error.
"""
from __future__ import annotations

import argparse
import os
import re
import sys

from symcount import progress, zoo
from symcount.arguments import _command_parser, _network, _Parser
from symcount.errors import SymcountError, visible
from symcount.render.messages import fit_error
from symcount.render.model import FLOATS
from symcount.render.text import terminal_width
from symcount.render.table import FORMATS

EXAMPLES = """\
notation (docs/notation.md has every form):
  conv3-64          3x3 convolution, 64 filters, stride 1, half padding (size kept)
  conv11-96/4       11x11 convolution, stride 4       conv1x7-128   1x7 kernel
  conv3-64[pad=0, groups=2, dilation=2, bias=false]  options after a layer
  pool  maxpool3/2[ceil]  avgpool2  gap             pooling (pool = 2x2 max, stride 2)
  fc4096  FC-4096  dense256                         fully connected (flatten implied)
  deconv4-64/2[pad=1]  deconv3-64/2[pad=1, op=1]  transposed convolution (PyTorch ConvTranspose2d)
  bn instancenorm lrn relu lrelu tanh sigmoid dropout softmax flatten   no change of shape
  def C(k) = (conv4-{k}/2[pad=1] bn lrelu)  then  C64-C128-C256   blocks, as papers write legends
  conv3-64x2  (conv3-64 pool)x2  conv3-64x{n}       repetition
  input 3x224x224  input 3xHxW                      input shape (first item)
  conv3-{C}  conv3-{2*C}  fc{N}                     symbols and arithmetic in braces

examples:
  symcount "input 3x224x224 conv3-64x2 pool conv3-128x2 pool conv3-256x3 pool conv3-512x3 pool conv3-512x3 pool fc4096 fc4096 fc1000"
  symcount "conv3-64x2 pool fc10" --input 3xHxW --set H=32 --set W=32
  symcount -f net.txt --format markdown
  echo "conv5-32[pad=0] pool fc10" | symcount - --input 1x28x28 --format json

the paper zoo (symcount zoo lists it; docs/zoo.md cites each paper):
  symcount resnet50                 a zoo name in place of the notation
  symcount vgg16 --input 3xHxW      the same network on a symbolic input
  symcount zoo resnet50             print an entry's notation

subcommands:
  symcount check NOTATION ...   fractional sizes, congruences, valid input sizes (exit 1 if not integral)
  symcount solve NOTATION --fact conv1=55x55 --bounds p=0..10   solve for unknown symbols
  symcount export NOTATION --to torch    print a PyTorch nn.Module for the notation
  symcount sweep NOTATION T=1..4096:2x   totals over a range of sizes: a table, CSV, JSON or --plot FILE
  symcount repl                 an interactive prompt (:help lists its commands)
  symcount config config.json   the notation of a Hugging Face configuration's model, then its table

exit status: 0 ok, 2 bad input (with a message naming line, column and what was expected)
"""


def _parser() -> argparse.ArgumentParser:
    parser = _command_parser(
        "symcount", "Shapes, parameters (weights and biases apart), activations and MACs of a network "
                    "written in paper notation, as exact numbers or closed-form formulas. "
                    "Also: 'symcount check ...' and 'symcount solve ...' (see their --help).", EXAMPLES)
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                        help="give a symbol a value, shown beside the formulas (repeatable)")
    parser.add_argument("--format", choices=sorted(FORMATS), default="text", help="output format (default text)")
    parser.add_argument("-d", "--depth", type=int, metavar="N",
                        help="fold blocks nested deeper than N levels into one row each, with their totals "
                             "(0: one row per top-level block, e.g. per ResNet stage)")
    parser.add_argument("-c", "--convention", metavar="NAME",
                        help="add a column with a counter's figure: macs, torchinfo, fvcore, thop, ptflops, "
                             "fvcore_train, deepspeed, deepspeed_flops, calflops, calflops_flops, torch (FlopCounterMode); "
                             "docs/conventions.md")
    parser.add_argument("--switch", action="append", default=[], metavar="NAME=VALUE",
                        help="change the convention: unit=MAC|FLOP, bias=, activations=, pooling=, normalization=, "
                             "fold_bn= (true or false), functional=none|all|relu,gap; repeatable")
    parser.add_argument("--backward", action="store_true",
                        help="also give forward + backward, estimating the backward pass as 2 x the forward")
    parser.add_argument("--training", nargs="?", const="none", metavar="RECOMPUTE",
                        help="add each layer's FLOPs in one training step per sample (forward and backward, as "
                             "FlopCounterMode counts them); RECOMPUTE none (default), selective or full")
    parser.add_argument("-m", "--memory", nargs="?", const="float32", metavar="DTYPE",
                        help="add memory per image: weights' bytes, activations both ways, a forward+backward "
                             "estimate, in float32 (default), float16, bfloat16, int8 or float64")
    parser.add_argument("-t", "--train-memory", nargs="?", const="", metavar="SETTINGS",
                        help="add training memory per device: weights, gradients, optimizer states, activations "
                             "kept for the backward pass; SETTINGS such as adam,mixed,zero=1,devices=8 or "
                             "megatron,tp=8,sp,recompute=selective,batch=4 (default adam,mixed,pytorch, batch 1)")
    parser.add_argument("--receptive-field", "--rf", action="store_true",
                        help="add each layer's receptive field: size, effective stride, effective padding "
                             "(Araujo et al. 2019), symbolic where kernels, strides or paddings are")
    shown = parser.add_argument_group("what the table shows")
    shown.add_argument("--columns", metavar="LIST",
                       help="the columns, e.g. output,params,macs; from type (PyTorch's module), notation, output, "
                            "weights, biases, params, non_trainable, activations, macs")
    shown.add_argument("--params-only", action="store_true", help="hide rows without parameters")
    shown.add_argument("--wide", action="store_true",
                       help="full integers, however wide the table (text; else compact 138.36 M where needed)")
    shown.add_argument("--width", type=int, metavar="N",
                       help="fit text to N columns (default: the terminal's width, 80 when unknown)")
    shown.add_argument("--formulas", action="store_true",
                       help="with --set, show each formula with its value, not the value alone")
    shown.add_argument("--caption", help="LaTeX: the table's caption")
    shown.add_argument("--label", help="LaTeX: the table's \\label, e.g. tab:vgg16")
    shown.add_argument("--latex-float", choices=FLOATS, default="table*",
                       help="LaTeX: table* (default; any document, long tables split into several), table (a "
                            "column's width in two columns) or longtable (one-column documents only)")
    parser.add_argument("-V", "--version", action="store_true", help="print the version and exit")
    return parser


def _check_parser() -> argparse.ArgumentParser:
    parser = _command_parser(
        "symcount check", "Say where an input gives a fractional size (exact value, floor, ceil, what this "
                          "rounding gives, the padding that would fix it), what each layer needs of the input "
                          "size (a congruence), and every input size that makes every layer integral.",
        CHECK_EXAMPLES)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def _solve_parser() -> argparse.ArgumentParser:
    parser = _command_parser(
        "symcount solve", "Find every integer value of the network's symbols, within bounds, that meets the "
                          "facts a paper states (a layer's output shape, a parameter count).", SOLVE_EXAMPLES)
    parser.add_argument("--fact", action="append", default=[], required=True, metavar="FACT",
                        help="conv1=55x55, conv1.output=96x55x55, fc1.input=512x7x7, params=60965224, "
                             "macs=..., 3=55x55 (row 3); repeatable")
    parser.add_argument("--bounds", action="append", default=[], metavar="NAME=LO..HI",
                        help="integer bounds of a symbol, inclusive (default 0..1024); repeatable")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    return parser


CHECK_EXAMPLES = """\
examples:
  symcount check "input 3x224x224 conv11-96/4[pad=0] maxpool3/2 conv5-256 maxpool3/2 conv3-384 maxpool3/2"
  symcount check "conv3-64x2 pool conv3-128x2 pool fc10" --input 3xSxS --format json

exit status: 0 every layer integral (for a symbolic input: for every size), 1 not, 2 bad input
"""

SOLVE_EXAMPLES = """\
examples:
  symcount solve "input 3x224x224 conv11-96/4[pad={p}]" --fact conv1=55x55 --bounds p=0..10 --rounding exact
  symcount solve "conv3-64x2 pool conv3-128x2 pool conv3-256x3 pool conv3-512x3 pool conv3-512x3 pool fc4096" \\
      --input 3xSxS --fact fc1.input=512x7x7 --bounds S=1..1024
  symcount solve "input 1x28x28 conv5-{C}[pad=0] pool conv3-{C}[pad=0] pool fc256 fc10" --fact params=217706

exit status: 0 at least one solution, 1 none, 2 bad input
"""


def _values(pairs):
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise SymcountError(f"--set takes NAME=VALUE, got {pair!r}")
        values[name.strip()] = value
    return values


def _bounds(pairs):
    bounds = {}
    for pair in pairs:
        match = re.fullmatch(r"\s*([A-Za-z_]\w*)\s*=\s*(\d+)\s*(?:\.\.\s*(\d+)\s*)?", pair)
        if not match:
            raise SymcountError(f"--bounds takes NAME=LO..HI (inclusive) or NAME=N, got {pair!r}")
        low = int(match[2])
        high = int(match[3]) if match[3] is not None else low
        if high < low:
            raise SymcountError(f"--bounds {pair!r}: {high} is below {low}")
        bounds[match[1]] = range(low, high + 1)
    return bounds


def _table(argv) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.version:
        from symcount import __version__
        print(f"symcount {__version__}")
        return 0
    network = _network(args, parser)
    values = _values(args.set)
    if values:
        network.subs(**values)  # checks every layer at these values
    sys.stdout.write(network.table(args.format, network.values(**values), depth=args.depth,
                                   convention=args.convention, backward=args.backward, memory=args.memory,
                                   training=args.training, training_memory=args.train_memory,
                                   receptive_field=args.receptive_field, switches=_switches(args.switch),
                                   columns=args.columns, params_only=args.params_only, wide=args.wide,
                                   width=args.width, formulas=args.formulas, caption=args.caption,
                                   label=args.label, latex_float=args.latex_float))
    return 0


def _switches(pairs) -> dict:
    switches = {}
    for pair in pairs:
        name, sep, value = (part.strip() for part in pair.partition("="))
        if not sep or not name or not value:
            raise SymcountError(f"--switch takes NAME=VALUE, got {pair!r}")
        switches[name] = value  # the convention checks names and values
    return switches


def _check(argv) -> int:
    parser = _check_parser()
    args = parser.parse_args(argv)
    network = _network(args, parser)
    result = network.check()
    from symcount.render import reports  # HTML and JSON libraries a table does not need
    render = reports.check_json if args.format == "json" else reports.check_text
    sys.stdout.write(render(network, result))
    return 0 if result.integral else 1


def _solve(argv) -> int:
    parser = _solve_parser()
    args = parser.parse_args(argv)
    network = _network(args, parser)
    with progress.reporting(progress.Bar(sys.stderr) if sys.stderr.isatty() else None):
        result = network.solve(args.fact, _bounds(args.bounds))
    from symcount.render import reports
    render = reports.solve_json if args.format == "json" else reports.solve_text
    sys.stdout.write(render(network, result))
    return 0 if result.solutions else 1


def _export(argv) -> int:
    parser = _command_parser(
        "symcount export", "Print the source of a PyTorch nn.Module that builds the network: the same shapes "
                           "and parameter counts as symcount's table. Symbols must have values (--set).",
        "examples:\n  symcount export resnet50 --to torch > resnet50.py\n"
        "  symcount export \"conv3-64x2 pool fc10\" --input 3x32x32 --name Tiny\n"
        "  symcount export \"conv3-{C}x2 pool fc10\" --input 3x32x32 --set C=64")
    parser.add_argument("--to", choices=("torch",), default="torch", help="the framework (torch)")
    parser.add_argument("--name", help="the class name (default: the zoo name, or Net)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="give a symbol a value, e.g. --set C=64 (repeatable)")
    args = parser.parse_args(argv)
    network = _network(args, parser)
    values = _values(args.set)
    if values:
        network = network.subs(**values)
    entry = zoo.find(args.notation) if args.file is None else None
    title = f"{entry.title} (symcount zoo: {entry.name})" if entry else None
    sys.stdout.write(network.to_torch(args.name or (entry.name if entry else "Net"), title))
    return 0


def _repl(argv) -> int:
    _Parser(prog="symcount repl", description="An interactive prompt: type notation lines, a "
            "zoo name, or :help. Definitions, the input (:input 3xHxW), symbol values "
            "(:set H=224) and settings are kept between lines; errors are shown without "
            "leaving.", epilog="docs/repl.md describes every command.").parse_args(argv)
    from symcount.repl import run
    return run()


def _sweep(argv) -> int:
    from symcount.cli_sweep import run  # its own module: ranges, quantities, a plot
    return run(argv)


def _zoo(argv) -> int:
    parser = _Parser(prog="symcount zoo", description="List the paper zoo, or print one "
                     "entry's notation (to read, copy or change). Any command takes a zoo "
                     "name in place of the notation: symcount resnet50 --input 3xHxW",
                     epilog="docs/zoo.md cites each entry's paper and its deviations.")
    parser.add_argument("name", nargs="?", help="an entry whose notation to print")
    args = parser.parse_args(argv)
    from symcount.render import listing
    lines = listing.notation(zoo.notation(args.name), terminal_width()) if args.name is not None else \
        listing.zoo_list(zoo.entries().values(), terminal_width())
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _config(argv) -> int:
    """symcount config PATH [table options]: the notation a Hugging Face config.json describes, then its table."""
    parser = _Parser(prog="symcount config", description="Read a local Hugging Face config.json (no network "
                     "access), print the notation of the model it describes, then its table; the options after "
                     "the path are the table's (symcount --help).",
                     epilog="model types: llama, mistral, mixtral, qwen2, gemma, deepseek_v3, gpt2, bert, t5, "
                     "whisper. docs/llm-costs.md.")
    parser.add_argument("path", help="a config.json")
    parser.add_argument("--notation", action="store_true", help="print the notation only")
    args, rest = parser.parse_known_args(argv)
    from symcount import notation_from_config
    text = notation_from_config(args.path)
    from symcount.render import listing
    print(f"# notation written from {visible(args.path)}")  # a path, however long, on one line
    print("\n".join(listing.notation(text, terminal_width())))
    return 0 if args.notation else _table([text] + rest)


COMMANDS = {"check": _check, "solve": _solve, "export": _export, "repl": _repl, "zoo": _zoo, "config": _config,
            "sweep": _sweep}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = COMMANDS.get(argv[0], _table) if argv else _table
    if command is not _table:
        argv = argv[1:]
    try:
        return command(argv)
    except SymcountError as error:
        print(fit_error(str(error), terminal_width(), "symcount: error: "), file=sys.stderr)
        return 2
    except BrokenPipeError:  # `symcount zoo | head`: the reader has gone, which is no error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's own advice: no flush error at exit
        return 0
    except KeyboardInterrupt:
        print("symcount: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
