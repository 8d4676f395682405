"""Attention within windows of a map, and patch merging: Swin Transformer's blocks (Liu et al. 2021),
as torchvision's swin_transformer.py computes them, on C×H×W so that H and W stay sizes of a map.

wattn{h}[window=M] on C×H×W (h heads; the map padded at the bottom and right to ceil(H/M)·M ×
ceil(W/M)·M, so n_W = ceil(H/M)·ceil(W/M) windows of M² positions; a shifted window only rolls the
map and masks scores, no count changes):
  weights  3·C² + C² (the qkv and output projections) + (2M − 1)²·h (the relative-position bias table)
  biases   3·C + C
  MACs     n_W·M²·4·C² for the projections, on every padded position, and 2·n_W·M⁴·C for the scores
           and their weighted sum, as FlopCounterMode counts torchvision's shifted_window_attention
merge on C×H×W (H and W padded to even): the 2×2 neighbours concatenated to 4C, LayerNorm(4C),
nn.Linear(4C, 2C, bias=False): 2C×ceil(H/2)×ceil(W/2), 8·C² weights, 8·C LayerNorm parameters (4C
weights, 4C biases), ceil(H/2)·ceil(W/2)·8·C² MACs.
"""
from __future__ import annotations

from symcount import algebra as al
from symcount.layers.requirements import LayerProblem
from symcount.layers.result import ZERO, LayerResult


def _map(shape, kind):
    """C, H and W of a C×H×W input (these layers work on two spatial axes)."""
    if len(shape) != 3:
        raise LayerProblem(f"{kind} works on a C×H×W map")
    return shape


def window_attention(params, shape, defaults, needs):
    channels, height, width = _map(shape, "window attention")
    heads, window = params["heads"], params.get("window", al.Integer(7))
    needs.whole(heads, "the heads", 1)
    needs.whole(window, "the window", 1)
    needs.divides(heads, channels, lambda: f"{heads} heads must divide the {channels} channels")
    windows = al.ceiling(height / window) * al.ceiling(width / window)
    positions = windows * window * window
    weights = 4 * channels * channels + (2 * window - 1) ** 2 * heads
    macs = positions * 4 * channels * channels + 2 * windows * window ** 4 * channels
    return LayerResult(shape, weights, 4 * channels, ZERO, macs)


def patch_merging(params, shape, defaults, needs):
    channels, height, width = _map(shape, "patch merging")
    rows, columns = al.ceiling(height / 2), al.ceiling(width / 2)
    weights = 8 * channels * channels + 4 * channels  # the reduction, and LayerNorm(4C)'s weights
    return LayerResult((2 * channels, rows, columns), weights, 4 * channels, ZERO, rows * columns * 8 * channels ** 2)
