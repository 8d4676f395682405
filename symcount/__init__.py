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


def notation_from_config(config) -> str:
    """The notation of the model a Hugging Face configuration describes (a dict, or a local
    config.json's path): llama, mistral, mixtral, qwen2, gemma, deepseek_v3, gpt2, bert, t5, whisper."""
    from symcount.importers.huggingface import notation_from_config as write
    return write(config)


def from_config(config, input=None) -> Network:
    """The network a Hugging Face configuration describes, built from notation_from_config's text."""
    from symcount.importers.huggingface import from_config as build
    return build(config, input)


__all__ = ["parse", "Network", "Row", "symbol", "progress", "zoo", "from_config", "notation_from_config",
           "SymcountError", "NotationError", "OptionError", "ShapeError", "SymbolError", "LimitError", "ExportError",
           "__version__"]
