"""Spec fragments the builder and the PyTorch exporter both make: parameters with their
values, the automatic projection of res(body), squeeze-and-excitation as its path."""
from __future__ import annotations

from symcount import algebra as al
from symcount.errors import OptionError
from symcount.layers.meeting import feature_axis
from symcount.layers.options import for_axes
from symcount.layers.result import has_spatial_axes, layout, like
from symcount.layers.requirements import LayerProblem
from symcount.notation.spec import INPUT_CHANNELS, Branches, Layer, symbol, symbols_in


def written(value) -> str:
    """A value as the notation writes it: 64, or {C/4} in braces where it is not a whole number."""
    return str(value) if (value.is_Integer if al.is_value(value) else isinstance(value, int)) else "{%s}" % value


def substitute(value, mapping):
    """A value (expression, or nested tuples of them) with symbols replaced by `mapping`."""
    if not mapping:
        return value
    if al.is_value(value):
        return al.replaced(value, mapping)
    if isinstance(value, tuple):
        return like(value, (substitute(v, mapping) for v in value))
    return value


def layer_params(params, mapping, shape):
    """A layer's parameters with the symbols' values and {in}, the channels of its input (a token's
    width on tokens), and
    its per-axis values (kernel, stride, …) spread over the input's spatial axes."""
    params = substitute(params, mapping)
    found = symbols_in(params)  # per-axis values too: size=({in/2}, 4); none on a numeric path (no SymPy)
    if found and (channels := symbol(INPUT_CHANNELS)) in found:
        params = substitute(params, {channels: shape[-1] if layout(shape) == "tokens" else shape[0]})
    if has_spatial_axes(shape):
        spread = for_axes(dict(params), len(shape) - 1)
        params = tuple((name, spread[name]) for name, _ in params)
    return params


def split_shares(node: Branches, shape, mapping) -> list:
    """split's channels per branch (a token's features on tokens): equal parts, or the shares
    written (16: ...)."""
    if node.shares is None:
        return [shape[feature_axis(shape)] / len(node.branches)] * len(node.branches)
    return [value for (_, value), in (layer_params((("share", share),), mapping, shape) for share in node.shares)]


def split_part(shape, share) -> tuple:
    """The input of one branch of split: `shape` with `share` channels (features on tokens)."""
    axis = feature_axis(shape)
    return like(shape, [share if i == axis else size for i, size in enumerate(shape)])


def squeeze_excitation(layer: Layer, channels) -> Branches:
    """se[squeeze=s] on C channels as the path it is (torchvision's SqueezeExcitation, Hu et
    al. 2018): mul( | gap conv1-s act conv1-C gate), the input times its gate."""
    params = dict(layer.params)
    if ("squeeze" in params) == ("reduction" in params):
        raise LayerProblem("se takes the channels it squeezes to or a reduction, one of them: se[squeeze=16] "
                           "or se[reduction=4]", OptionError)
    reduction = params.get("reduction")
    if reduction is not None and reduction.is_number and reduction <= 0:  # C/0: no width to squeeze to
        raise LayerProblem(f"se's reduction r squeezes to C/r channels, so it is more than 0; got {reduction}",
                           OptionError)
    squeeze = params["squeeze"] if "squeeze" in params else channels / reduction

    def conv1(out):
        return Layer("conv", (("kernel", (al.Integer(1),)), ("out", out)), f"conv1-{written(out)}", layer.span)

    def plain(kind):
        return Layer(kind, (), kind, layer.span)
    gate = (plain("gap"), conv1(squeeze), plain(params.get("act", "relu")), conv1(channels),
            plain(params.get("gate", "sigmoid")))
    return Branches("mul", ((), gate), layer.text, layer.span)


def projection_layers(channels, strides, span) -> tuple:
    """The automatic shortcut of res(body) that changes the shape: a 1×1 convolution with
    the body's strides, without bias, then BatchNorm."""
    zero, one = al.Integer(0), al.Integer(1)
    conv = Layer("conv", (("bias", False), ("kernel", (one,)), ("out", channels), ("pad", (zero,)),
                          ("stride", tuple(strides))),
                 f"conv1-{written(channels)}" + _stride_text(strides) + " (projection)", span)
    return conv, Layer("bn", (), "bn (projection)", span)


def _stride_text(strides) -> str:
    """/2 where every axis has one stride, [stride=(1 2 2)] where they differ, nothing for 1."""
    if len(set(strides)) == 1:
        return f"/{written(strides[0])}" if strides[0] != 1 else ""
    return f"[stride=({' '.join(written(s) for s in strides)})]"


def patched(shape, params) -> dict:
    """What unpatch lays tokens back onto after a patch embedding on `shape`: the map's sizes (grid) and
    the patch (kernel, already one per axis in layer_params' parameters); the builder and the exporter
    both keep it."""
    return {"grid": tuple(shape[1:]), "kernel": tuple(dict(params)["kernel"])}
