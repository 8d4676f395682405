"""`symcount sweep NOTATION T=1..4096:2x ...`: totals over a range of a network's symbols, as a
table fitted to the terminal, CSV or JSON, and optionally a plot (docs/sweep.md)."""
from __future__ import annotations

import sys

from symcount import progress, zoo
from symcount.analyses import quantities as qs
from symcount.analyses.ranges import SYNTAX
from symcount.arguments import _command_parser, _network
from symcount.render import sweep as shown

EXAMPLES = """\
ranges (several make a grid; --paired takes them together, point by point):
  T=1..4096   T=0..4096:256   T=1..4096:2x   T=1,2,4,8   L=12   H,W=32..512:32

examples:
  symcount sweep gpt2 T=1..4096:2x
  symcount sweep gpt2 T=1..4096:2x --quantity macs,attention,training,kv_cache
  symcount sweep vgg16 --input 3xHxW H,W=32..512:32 --format csv
  symcount sweep "conv3-64x2 pool fc10" --input 3xHxW H=32,64 W=32..128:32
  symcount sweep gpt2 T=64..4096:2x --plot gpt2.png     (pip install symcount[plot])

exit status: 0 ok, 2 bad input
"""


def _parser():
    parser = _command_parser("symcount sweep", "Totals of a network at many values of its symbols, exactly: a "
                             "table, CSV or JSON, and a plot with --plot.", EXAMPLES)
    parser.add_argument("ranges", nargs="*", metavar="NAME=VALUES", help=SYNTAX)
    parser.add_argument("--paired", action="store_true",
                        help="take the ranges together, point by point (they need one length), not as a grid")
    parser.add_argument("-q", "--quantity", metavar="LIST",
                        help=f"what to give, comma-separated, from {', '.join(qs.QUANTITIES)} "
                             f"(default {','.join(qs.DEFAULT)})")
    parser.add_argument("--dtype", help="the bytes of memory (default float32) and kv_cache (default float16): "
                                        "float32, float16, bfloat16, int8, float64")
    parser.add_argument("--format", choices=shown.FORMATS, default="text", help="output format (default text)")
    parser.add_argument("--wide", action="store_true", help="full integers, however wide the table")
    parser.add_argument("--width", type=int, metavar="N",
                        help="fit text to N columns (default: the terminal's width, 80 when unknown)")
    parser.add_argument("--plot", metavar="FILE", help="also draw the quantities against the swept size into "
                                                       "FILE.png, .svg or .pdf (needs pip install symcount[plot])")
    return parser


def run(argv) -> int:
    parser = _parser()
    args = parser.parse_intermixed_args(argv)  # options between the ranges too
    if args.file is not None and args.notation is not None:  # -f net.txt T=1..8: the first word is a range
        args.ranges.insert(0, args.notation)
        args.notation = None
    network = _network(args, parser)
    entry = zoo.find(args.notation) if args.file is None and args.notation else None
    sys.stdout.write(shown.report(network, entry.name if entry else "network", args.ranges, args.paired,
                                  args.quantity, args.dtype, args.format, args.width, args.wide, args.plot,
                                  progress.Bar(sys.stderr) if sys.stderr.isatty() else None))
    if args.plot:
        print(f"plot written to {args.plot}", file=sys.stderr)
    return 0
