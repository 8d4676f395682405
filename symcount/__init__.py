"""symcount: closed-form shapes, parameters, activations and MACs from paper notation.

    >>> import symcount
    >>> net = symcount.parse("input 3xHxW conv3-64x2 pool fc10")
    >>> net.params, net.subs(H=32, W=32).params

See README.md and docs/ for the notation, the conventions and the CLI.
"""
from symcount.errors import (ExportError, LimitError, NotationError, OptionError, ShapeError, SymbolError,
                             SymcountError)
from symcount.network import Network, parse
from symcount.notation.spec import symbol
from symcount.rows import Row
from symcount import progress  # noqa: E402  (symcount.progress.reporting for long solves)
from symcount import zoo  # noqa: E402  (symcount.zoo.load("resnet50"), as the README writes it)

__version__ = "0.1.0"

__all__ = ["parse", "Network", "Row", "symbol", "progress", "zoo", "SymcountError", "NotationError", "OptionError",
           "ShapeError", "SymbolError", "LimitError", "ExportError", "__version__"]
