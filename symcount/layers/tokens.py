"""Layers on tokens: the step from an image or from token ids to N×D tokens, and per-token layers.

Counting rules (docs/conventions.md, "Tokens and attention"), for N tokens of width D:
  patch  a convolution with kernel and stride p (torchvision's ViT conv_proj): weights
         p^k·C·D, biases D, MACs N·p^k·C·D, N = Π size/p (p must divide every size)
  embed  a table of V rows of width D: V·D weights, no MACs (a lookup)
  pos    a learned position embedding added to the tokens: N·D weights (one row per token,
         ViT), P·D for a table of P positions (GPT-2, BERT; needs N <= P), none when fixed
Attention has a module of its own (symcount.layers.attention).
"""
from __future__ import annotations

from symcount import algebra as al

from symcount.layers import arithmetic as ar
from symcount.layers.result import ZERO, LayerResult, Tokens, per_axis, spatial


def patch(params, shape, defaults, needs):
    """A patch embedding (ViT): each p×p patch to a D-wide token, as torchvision's conv_proj
    with kernel and stride p; torchvision asserts that p divides the height and the width."""
    c, *sizes = spatial(shape, "a patch embedding")
    kernel = per_axis(params["kernel"], len(sizes), "the patch")
    width = params["out"]
    needs.whole(width, "the token width", 1)
    for size, p in zip(sizes, kernel):
        needs.whole(p, "the patch size", 1)
        needs.divides(p, size, lambda size=size, p=p: f"the patch size {p} must divide the input size {size} "
                      "(torchvision's ViT asserts it)")
    tokens = al.Mul(*[size / p for size, p in zip(sizes, kernel)])
    per_token = al.Mul(*kernel) * c
    biases = width if params.get("bias", True) else ZERO
    windows = tuple(ar.Window(p, p, ZERO, ZERO) for p in kernel)
    grid = (width,) + tuple(size / p for size, p in zip(sizes, kernel))  # the patches per axis, before they
    return LayerResult(Tokens((tokens, width)), per_token * width, biases, ZERO,  # are flattened into tokens:
                       tokens * per_token * width, exact=grid, windows=windows)  # the integrality analyses' sizes


def embed(params, shape, defaults, needs):
    """nn.Embedding(V, D): each token id to its row of a V×D table."""
    vocabulary, width = params["vocabulary"], params["out"]
    needs.whole(vocabulary, "the vocabulary", 1)
    needs.whole(width, "the token width", 1)
    weights = ZERO if params.get("tied") else vocabulary * width  # tied: an earlier embedding's table
    return LayerResult(Tokens((shape[0], width)), weights, ZERO, ZERO, ZERO)


def position(params, shape, defaults, needs):
    """A position embedding added to the tokens: learned, one row per token (ViT's
    pos_embedding) or a table of P positions of which the first N are used (GPT-2's wpe,
    BERT's position_embeddings), or fixed (sinusoidal, no parameters)."""
    tokens, width = shape
    table = params.get("positions")
    if table is not None:
        needs.whole(table, "the positions", 1)
        needs.require(table - tokens, "nonnegative", lambda: f"{tokens} tokens do not fit a table of {table} "
                      "positions")
    if params.get("fixed", False):
        return LayerResult(shape, ZERO, ZERO, ZERO, ZERO, module="FixedPositionEmbedding")
    values = (tokens if table is None else table) * width
    if params.get("frozen", False):  # stored, not trained
        return LayerResult(shape, ZERO, ZERO, values, ZERO)
    return LayerResult(shape, values, ZERO, ZERO, ZERO)


def segment(params, shape, defaults, needs):
    """BERT's token type (segment) embedding: a table of S rows added to the tokens."""
    types = params["types"]
    needs.whole(types, "the segment types", 1)
    return LayerResult(shape, types * shape[1], ZERO, ZERO, ZERO)


def class_token(params, shape, defaults, needs):
    """A learned class token put before the tokens (ViT, BERT's [CLS] is a token id instead)."""
    tokens, width = shape
    return LayerResult(Tokens((tokens + 1, width)), width, ZERO, ZERO, ZERO)


def class_pool(params, shape, defaults, needs):
    """The first token (the class token) as the sequence's output: torchvision's x[:, 0]."""
    return LayerResult((shape[1],), ZERO, ZERO, ZERO, ZERO)


def token_mean(shape) -> LayerResult:
    """gap on tokens: their average, N×D to D (ViT's global average pooling head)."""
    return LayerResult((shape[1],), ZERO, ZERO, ZERO, ZERO, module="TokenMean")


def linear_per_token(params, shape, needs) -> LayerResult:
    """fc on tokens: nn.Linear on each token, N×D to N×D'."""
    tokens, width = shape
    out = params["out"]
    needs.whole(out, "units", 1)
    biases = out if params.get("bias", True) else ZERO
    weights = ZERO if params.get("tied", False) else width * out
    return LayerResult(Tokens((tokens, out)), weights, biases, ZERO, tokens * width * out)


def to_tokens(params, shape, defaults, needs):
    """A map's positions as tokens: C×L to L tokens of width C (Whisper's convolutional front end),
    C×H×W to H·W tokens (x.flatten(2).transpose(1, 2)); no counts."""
    return LayerResult(Tokens((al.Mul(*shape[1:]), shape[0])), ZERO, ZERO, ZERO, ZERO)


def unpatch(params, shape, defaults, needs):
    """Tokens back to the map the last patch embedding cut (DiT's unpatchify): N tokens of width D
    to D/(p_h·p_w)×H×W, each token's features laid out over its p_h×p_w patch; a reshape, no counts."""
    tokens, width = shape
    grid, kernel = params["grid"], params["kernel"]
    area = al.Mul(*kernel)
    needs.divides(area, width, lambda: f"a token's {width} features must fill whole {'×'.join(map(str, kernel))} "
                  "patches of channels")
    needs.require(tokens - al.Mul(*[size / p for size, p in zip(grid, kernel)]), "zero",
                  lambda: f"{tokens} tokens are not the {'×'.join(str(size / p) for size, p in zip(grid, kernel))} "
                  "patches the last patch embedding cut")
    return LayerResult((width / area,) + tuple(grid), ZERO, ZERO, ZERO, ZERO)
