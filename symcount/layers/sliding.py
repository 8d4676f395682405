"""The sliding-window layers: convolutions, transposed convolutions and pooling, each a function
from (parameters, input shape, the network's Defaults, needs) to a LayerResult, as the table of
kinds (symcount.layers.kinds) calls them.  Output sizes follow symcount.layers.arithmetic's rules;
docs/conventions.md has them with their sources."""
from __future__ import annotations

from dataclasses import dataclass

from symcount import algebra as al
from symcount.errors import OptionError
from symcount.layers import arithmetic as ar
from symcount.layers.requirements import LayerProblem
from symcount.layers.result import ONE, ZERO, LayerResult, per_axis, spatial

Expr = object  # an Int, a Rat or a SymPy expression (symcount.algebra)


def _windows(params, sizes, kernel, default_stride, mode, rule, needs):
    """Output, exact output and Window of each spatial axis of a conv or pooling layer."""
    strides = params.get("stride", default_stride)
    dilations = params.get("dilation", (ONE,) * len(sizes))
    windows, same = [], []
    for axis, (i, k, s, d) in enumerate(zip(sizes, kernel, strides, dilations)):
        for value, what in ((k, "kernel"), (s, "stride"), (d, "dilation")):
            needs.whole(value, what, 1)
        keff = ar.effective_kernel(k, d)
        if mode == "same":
            out, window = ar.same_window(i, keff, s)
            same.append(out)
            windows.append(window)
            continue
        before, after = ar.padding_for(mode if isinstance(mode, str) else mode[axis], keff)
        needs.whole(before, "padding", 0)
        needs.whole(after, "padding", 0)
        windows.append(ar.Window(keff, s, before, after))
    if mode == "same":
        exacts = tuple(i / w.stride for i, w in zip(sizes, windows))
        return (exacts if rule == "exact" else tuple(same)), exacts, tuple(windows)
    padded = al.Add(*[w.before + w.after for w in windows])  # Caffe clips when any axis is padded
    outputs = tuple(ar.output_size(rule, i, w, padded) for i, w in zip(sizes, windows))
    exacts = tuple(ar.output_size("exact", i, w) for i, w in zip(sizes, windows))
    return outputs, exacts, tuple(windows)


def conv(params, shape, defaults, needs):
    cin, *sizes = spatial(shape, "a convolution")
    kernel = params["kernel"]
    depthwise = params.get("depthwise", False)  # dw3: one filter per input channel
    cout = cin if depthwise else params["out"]
    groups = cin if depthwise else params.get("groups", ONE)
    needs.whole(cout, "filters", 1)
    needs.whole(groups, "groups", 1)
    _check_groups(cin, cout, groups, needs)
    mode = params.get("pad", defaults.padding)
    if isinstance(mode, tuple):  # the network's default, one value for every axis, is spread here
        mode = per_axis(mode, len(sizes), "the padding")
    outputs, exact, windows = _windows(params, sizes, kernel, (ONE,) * len(sizes), mode,
                                       defaults.rule(params, defaults.conv), needs)
    per_position = al.Mul(*kernel) * cin / groups
    biases = cout if params.get("bias", True) else ZERO
    if params.get("channels_last"):
        _check_pointwise(kernel, groups, windows)
    return LayerResult((cout, *outputs), per_position * cout, biases, ZERO,
                       al.Mul(*outputs) * cout * per_position, (cout,) + exact, windows,
                       module="Linear" if params.get("channels_last") else "")


def _check_pointwise(kernel, groups, windows):
    """conv1-C[channels_last]: an nn.Linear on the channels at each position (ConvNeXt's
    blocks), which only a 1×1, stride-1, unpadded, ungrouped convolution is."""
    if any(v != 1 for v in (*kernel, groups)) or any(w.stride != 1 or w.before != 0 or w.after != 0
                                                      for w in windows):
        raise LayerProblem("channels_last makes the convolution an nn.Linear over the channels at each position, "
                           "so it must be 1×1, stride 1, unpadded and ungrouped", OptionError)


@dataclass(frozen=True)
class Transposed:
    """A transposed convolution's geometry per spatial axis as PyTorch's ConvTranspose2d
    takes it, o = (i - 1)s - 2p + k̂ + output_padding, whatever rule gave the size (for
    counters that need it, such as DeepSpeed's bias count, and for the exporter)."""
    kernel: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    groups: Expr
    output_padding: tuple


def _check_groups(cin, cout, groups, needs):
    for channels, side in ((cin, "input"), (cout, "output")):
        needs.divides(groups, channels, f"groups={groups} does not divide the {side} channels {channels}")


def _keras_transposed(keff, s, extra, same):
    """Keras' Conv2DTranspose as PyTorch's (padding, output_padding) on one axis
    (keras/src/backend/common/backend_utils.py, _get_output_shape_given_tf_padding):
    valid: (i - 1)s + max(k̂, s), or (i - 1)s + k̂ + output_padding where one is given;
    same: i·s, or (i - 1)s + k̂ mod 2 + output_padding where one is given."""
    if same and extra is None:  # 2p - output_padding = k̂ - s
        p = al.Max(al.ceiling((keff - s) / 2), 0)
        return p, 2 * p - (keff - s)
    if same:
        return al.floor(keff / 2), extra
    return ZERO, al.Max(s - keff, 0) if extra is None else extra


def deconv(params, shape, defaults, needs):
    """PyTorch's ConvTranspose2d: o = (i - 1)s - 2p + d(k - 1) + output_padding + 1
    (docs/conventions.md).  Padding defaults to 0 whatever the network's default for
    convolutions.  pad=same is Keras' rule, and so is valid padding under the keras and
    tensorflow frameworks (a kernel smaller than the stride leaves a gap there)."""
    cin, *sizes = spatial(shape, "a transposed convolution")
    axes = len(sizes)
    cout, groups = params["out"], params.get("groups", ONE)
    needs.whole(cout, "filters", 1)
    needs.whole(groups, "groups", 1)
    _check_groups(cin, cout, groups, needs)
    mode = params.get("pad", "valid" if defaults.deconv == "keras" else (ZERO,) * axes)
    if mode in ("half", "full", "causal"):
        raise LayerProblem(f"a transposed convolution takes pad=n, one per axis, valid or same, not {mode}",
                           OptionError)
    strides, dilations = params.get("stride", (ONE,) * axes), params.get("dilation", (ONE,) * axes)
    given = params.get("output_padding")
    outputs, paddings, extras = [], [], []
    for axis, (i, k, s, d) in enumerate(zip(sizes, params["kernel"], strides, dilations)):
        extra = None if given is None else given[axis]
        for value, what, minimum in ((k, "kernel", 1), (s, "stride", 1), (d, "dilation", 1),
                                     (ZERO if extra is None else extra, "output_padding", 0)):
            needs.whole(value, what, minimum)
        if extra is not None:  # PyTorch: "output padding must be smaller than either stride or dilation"
            needs.require(al.Max(s, d) - extra - 1, "nonnegative",
                          f"output_padding {extra} must be smaller than the stride {s} or the dilation {d}")
        keff = ar.effective_kernel(k, d)
        if mode == "same" or (mode == "valid" and defaults.deconv == "keras"):
            p, extra = _keras_transposed(keff, s, extra, mode == "same")
        else:
            p = ZERO if mode == "valid" else mode[axis]
            extra = ZERO if extra is None else extra
            needs.whole(p, "padding", 0)
        outputs.append((i - 1) * s - 2 * p + keff + extra)
        paddings.append(p)
        extras.append(extra)
    per_position = al.Mul(*params["kernel"]) * cout / groups
    biases = cout if params.get("bias", True) else ZERO
    geometry = Transposed(params["kernel"], strides, tuple(paddings), dilations, groups, tuple(extras))
    return LayerResult((cout,) + tuple(outputs), per_position * cin, biases, ZERO,
                       al.Mul(*sizes) * cin * per_position, transposed=geometry)


def pool(params, shape, defaults, needs):
    c, *sizes = spatial(shape, "a pooling layer")
    k = params["kernel"]
    pad = params.get("pad", (ZERO,) * len(sizes))
    if pad == "half":
        pad = tuple(al.floor(kk / 2) for kk in k)
    elif pad == "valid":
        pad = (ZERO,) * len(sizes)
    elif pad in ("full", "causal"):
        raise LayerProblem(f"pooling takes pad=n, one per axis, half, same or valid, not {pad}", OptionError)
    if pad != "same":
        for p, kk in zip(pad, k):
            # PyTorch pool2d_shape_check: "pad should be at most half of effective kernel size"
            needs.require(al.floor(kk / 2) - p, "nonnegative", f"padding {p} is more than half the kernel {kk}")
    # PyTorch's pooling stride defaults to the kernel
    out, exact, windows = _windows(params, sizes, k, k, pad, defaults.rule(params, defaults.pool), needs)
    return LayerResult((c,) + out, ZERO, ZERO, ZERO, ZERO, (c,) + exact, windows)


def avgpool(params, shape, defaults, needs):
    """Average pooling; on C×D×H×W PyTorch also needs each unpadded input size to be at least the
    kernel (aten/src/ATen/native/Pool.h, pool3d_shape_check with check_input_size, for AvgPool3d)."""
    result = pool(params, shape, defaults, needs)
    if len(shape) == 4:
        for size, k in zip(shape[1:], params["kernel"]):
            needs.require(size - k, "nonnegative", lambda size=size, k=k: f"AvgPool3d needs each input size at least "
                          f"its kernel, as PyTorch does; got {size} against {k}")
    return result
