"""Layers that change the resolution or the channels' order: upsampling, crops, pixel and
channel shuffle."""
from __future__ import annotations

from symcount import algebra as al

from symcount.errors import OptionError
from symcount.layers.arithmetic import Window
from symcount.layers.requirements import LayerProblem
from symcount.layers.result import AXIS_NAMES, ONE, ZERO, LayerResult, spatial

BARE_CROP = ("crop needs a size or a margin: crop[size=(388, 388)] keeps the centre (torchvision's CenterCrop), "
             "crop[by=4] takes 4 off each side (Keras' Cropping2D); a bare crop, last in a branch of cat(...) or "
             "add(...), crops that path to the others' size (U-Net's copy and crop)")


def upsample(params, shape, defaults, needs):
    """nn.Upsample by whole factors (H·s, W·s) or to a size; no parameters, no MACs."""
    c, *sizes = spatial(shape, "upsampling")
    if params.get("mode") == "bilinear" and len(sizes) != 2:
        raise LayerProblem("bilinear upsampling is for C×H×W; on C×L or C×D×H×W use nearest", OptionError)
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
    return LayerResult((c, *(size * factor for size, factor in zip(sizes, params["scale"]))), ZERO, ZERO, ZERO,
                       ZERO, module=upsampling_module(params))


def upsampling_module(params) -> str:
    """Upsample, Upsample(bilinear), Upsample(size), Upsample(size, bilinear): the counters
    charge the modes, and a factor and a size, differently."""
    how = (["size"] if "size" in params else []) + (["bilinear"] if params.get("mode") == "bilinear" else [])
    return "Upsample" + (f"({', '.join(how)})" if how else "")


def pixel_shuffle(params, shape, defaults, needs):
    """nn.PixelShuffle(r): C×H×W → C/r²×rH×rW."""
    if len(shape) != 3:
        raise LayerProblem("pixel shuffle needs a C×H×W input, as PyTorch's PixelShuffle does")
    c, h, w = shape
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


def crop(params, shape, defaults, needs):
    """A crop to a size, centred (the offset floor((H - h)/2), as slicing x[..., d // 2:]
    takes it), or by a margin off both sides; no parameters, no MACs.  Its window (kernel 1,
    stride 1, a negative padding) moves the receptive field's start by the offset."""
    c, *sizes = spatial(shape, "a crop")
    if ("size" in params) == ("by" in params):
        raise LayerProblem(BARE_CROP if not params else "crop takes a size or a margin, one of them", OptionError)
    windows, out = [], []
    for size, axis, name in zip(sizes, range(len(sizes)), AXIS_NAMES[len(sizes)]):
        if "size" in params:
            target = params["size"][axis]
            needs.whole(target, "a crop size", 1)
            needs.require(size - target, "nonnegative", lambda size=size, target=target:
                          f"cannot crop its {name} {size} to {target}, which is larger")
            before = al.floor((size - target) / 2)
            windows.append(Window(ONE, ONE, -before, -(size - target - before)))
        else:
            margin = params["by"][axis]
            needs.whole(margin, "a crop margin", 0)
            target = size - 2 * margin
            windows.append(Window(ONE, ONE, -margin, -margin))
        out.append(target)
    return LayerResult((c, *out), ZERO, ZERO, ZERO, ZERO, windows=tuple(windows))
