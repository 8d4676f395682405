"""What evaluating a layer gives: its output shape and counts (a LayerResult)."""
from __future__ import annotations

from dataclasses import dataclass

from symcount import algebra as al

from symcount.layers.requirements import LayerProblem

Expr = object  # an Int, a Rat or a SymPy expression (symcount.algebra)
ZERO, ONE = al.ZERO, al.ONE


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
    masked: Expr = ZERO     # of its MACs, those a mask discards (causal or windowed attention's hidden scores)
    activations: Expr = None  # the values it outputs, where they are not its output's (adaLN's modulation)
    scores: Expr = ZERO     # of its MACs, attention's two products (the scores and their weighted sum)
    cache: Expr = ZERO      # the values a decoder keeps per sequence (attention's keys and values)

    def __post_init__(self):
        if self.exact is None:
            object.__setattr__(self, "exact", self.output)


# --------------------------------------------------------------------------- spatial axes

# An input is C×L, C×H×W or C×D×H×W: 1, 2 or 3 spatial axes, named as PyTorch's docs name them.
AXIS_NAMES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}
AXIS_SYMBOLS = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
SHAPE_NAMES = {1: "C×L", 2: "C×H×W", 3: "C×D×H×W"}
SPATIAL_SHAPES = "C×L, C×H×W or C×D×H×W"


def has_spatial_axes(shape) -> bool:
    """Whether a shape is channels and 1, 2 or 3 spatial axes (not a flat N, not tokens)."""
    return len(shape) - 1 in SHAPE_NAMES and not isinstance(shape, (Tokens, TokenIds))


# --------------------------------------------------------------------------- tokens

class Tokens(tuple):
    """N tokens of width D, N×D: a sequence, not a C×L signal (its own type, so that no layer
    reads one as the other).  Compares equal to the plain tuple (N, D)."""
    __slots__ = ()

    def __repr__(self):
        return f"Tokens{tuple.__repr__(self)}"


class TokenIds(tuple):
    """A sequence of N token ids, (N,): what an embedding turns into N×D tokens."""
    __slots__ = ()

    def __repr__(self):
        return f"TokenIds{tuple.__repr__(self)}"


def layout(shape) -> str:
    """What a shape is: "ids", "tokens", "spatial" (C×L, C×H×W, C×D×H×W) or "flat" (N)."""
    if isinstance(shape, TokenIds):
        return "ids"
    if isinstance(shape, Tokens):
        return "tokens"
    return "spatial" if has_spatial_axes(shape) else "flat"


def like(shape, values) -> tuple:
    """`values` as a shape of the same layout as `shape` (tokens stay tokens)."""
    return type(shape)(values) if isinstance(shape, (Tokens, TokenIds)) else tuple(values)


def spatial(shape, kind):
    """The input's channels and spatial sizes, for a layer that needs spatial axes."""
    if not has_spatial_axes(shape):
        raise LayerProblem(f"{kind} needs a {SPATIAL_SHAPES} input")
    return shape


def per_axis(value: tuple, axes: int, what: str) -> tuple:
    """A kernel, stride, padding … as written, for each of `axes` spatial axes: one value for
    every axis (conv3-64 is 3×3×3 on C×D×H×W, 3 on C×L), or one per axis."""
    if len(value) == axes:
        return tuple(value)
    if len(value) == 1:
        return tuple(value) * axes
    written = "×".join(str(v) for v in value)
    raise LayerProblem(f"{what} {written} has {len(value)} values, but the input has {axes} spatial "
                       f"{'axis' if axes == 1 else 'axes'} ({SHAPE_NAMES[axes]})")


def dimensional(module: str, shape) -> str:
    """A 2-D module's name for this input: Conv2d on C×H×W, Conv1d on C×L, Conv3d on C×D×H×W."""
    return module.replace("2d", f"{len(shape) - 1}d") if module.endswith("2d") and len(shape) in (2, 4) else module
