"""Layers that change the resolution or the channels' order: upsampling, pixel and channel shuffle."""
from __future__ import annotations


from symcount.errors import OptionError
from symcount.layers.requirements import LayerProblem
from symcount.layers.result import ZERO, LayerResult, spatial


def upsample(params, shape, defaults, needs):
    """nn.Upsample by whole factors (H·s, W·s) or to a size; no parameters, no MACs."""
    c, h, w = spatial(shape, "upsampling")
    if ("scale" in params) == ("size" in params):
        raise LayerProblem("upsample takes a factor or a size, one of them: upsample[scale=2] or "
                           "upsample[size=(64, 64)]", OptionError)
    if "size" in params:
        out = params["size"]
        for d in out:
            needs.whole(d, "an upsampling size", 1)
        return LayerResult((c, *out), ZERO, ZERO, ZERO, ZERO, module=upsampling_module(params))
    for factor in params["scale"]:
        needs.whole(factor, "an upsampling factor", 1)
    sh, sw = params["scale"]
    return LayerResult((c, h * sh, w * sw), ZERO, ZERO, ZERO, ZERO, module=upsampling_module(params))


def upsampling_module(params) -> str:
    """Upsample, Upsample(bilinear), Upsample(size), Upsample(size, bilinear): the counters
    charge the modes, and a factor and a size, differently."""
    how = (["size"] if "size" in params else []) + (["bilinear"] if params.get("mode") == "bilinear" else [])
    return "Upsample" + (f"({', '.join(how)})" if how else "")


def pixel_shuffle(params, shape, defaults, needs):
    """nn.PixelShuffle(r): C×H×W → C/r²×rH×rW."""
    c, h, w = spatial(shape, "pixel shuffle")
    r = params.get("scale", (2, 2))
    if r[0] != r[1]:
        raise LayerProblem("pixelshuffle takes one factor, as PyTorch's PixelShuffle does", OptionError)
    r = r[0]
    needs.whole(r, "a pixel-shuffle factor", 1)
    needs.divides(r * r, c, f"pixelshuffle by {r} needs channels divisible by {r * r}, got {c}")
    return LayerResult((c / (r * r), h * r, w * r), ZERO, ZERO, ZERO, ZERO)


def channel_shuffle(params, shape, defaults, needs):
    """nn.ChannelShuffle(groups), ShuffleNet: the same shape, groups dividing the channels."""
    if "groups" not in params:
        raise LayerProblem("shuffle needs its group count: shuffle[groups=2]", OptionError)
    groups = params["groups"]
    needs.whole(groups, "groups", 1)
    needs.divides(groups, shape[0], f"shuffle's {groups} groups must divide its {shape[0]} channels")
    return LayerResult(tuple(shape), ZERO, ZERO, ZERO, ZERO)
