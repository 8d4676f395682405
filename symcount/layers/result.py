"""What evaluating a layer gives: its output shape and counts (a LayerResult)."""
from __future__ import annotations

from dataclasses import dataclass

import sympy

from symcount.layers.requirements import LayerProblem

Expr = sympy.Expr
ZERO = sympy.Integer(0)
ONE = sympy.Integer(1)


@dataclass(frozen=True)
class LayerResult:
    output: tuple
    weights: Expr
    biases: Expr
    non_trainable: Expr
    macs: Expr
    exact: tuple = None     # the output under exact arithmetic (a sliding window's 54.25)
    windows: tuple = ()     # a Window per spatial axis, for sliding-window layers
    transposed: object = None  # a Transposed, for a transposed convolution
    requires: tuple = ()    # Requirements its symbols leave open (symcount.layers.requirements)
    module: str = ""        # the PyTorch module, where a kind builds more than one (LayerNorm2d, LayerNorm)

    def __post_init__(self):
        if self.exact is None:
            object.__setattr__(self, "exact", self.output)


# --------------------------------------------------------------------------- kinds

def spatial(shape, kind):
    if len(shape) != 3:
        raise LayerProblem(f"{kind} needs a C×H×W input")
    return shape
