"""The table of layer kinds: options each accepts, and how each maps a shape to counts.

A layer kind is data: its options (with aliases and value parsers) and one function
from (parameters, input shape, network padding) to a :class:`LayerResult`.  Counting
rules (docs/conventions.md; ../shared/reference/conv-arithmetic.md "Counting"):
  conv  weights k_h·k_w·(C_in/g)·C_out, biases C_out, MACs H_o·W_o·C_out·k_h·k_w·C_in/g
  deconv (transposed) the same weights and biases; MACs on the *input* positions,
        H_i·W_i·C_in·k_h·k_w·C_out/g, as PyTorch computes it (torch/utils/flop_counter.py,
        conv_flop_count with transposed=True)
  fc    weights in·out, biases out, MACs in·out (a flatten is implied before it)
  bn    γ and β trainable (reported as weights and biases), running mean and variance
        non-trainable
Biases are not MACs; pooling, normalisation and activations cost no MACs here.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import sympy

from symcount.errors import OptionError, ShapeError
from symcount.layers import arithmetic as ar

Expr = sympy.Expr
ZERO = sympy.Integer(0)
ONE = sympy.Integer(1)


class LayerProblem(Exception):
    """Raised inside evaluation; the network builder adds the layer's place and input."""

    def __init__(self, message: str, error: type = ShapeError):
        super().__init__(message)
        self.error = error


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

    def __post_init__(self):
        if self.exact is None:
            object.__setattr__(self, "exact", self.output)


# --------------------------------------------------------------------------- options
# A written option value is one of: ("flag", None) for a bare `[ceil]`,
# ("number", expr), ("pair", (a, b)), ("decimal", Rational), ("word", str).

PADDING_WORDS = ("half", "same", "valid", "full")
TRUE_WORDS, FALSE_WORDS = ("true", "yes", "on"), ("false", "no", "off")


def _pair(value, what):
    form, v = value
    if form == "number":
        return (v, v)
    if form == "pair":
        return v
    raise LayerProblem(f"{what} takes a number, {{expression}} or (h, w) pair", OptionError)


def _single(value, what):
    form, v = value
    if form == "number":
        return v
    raise LayerProblem(f"{what} takes a number or {{expression}}", OptionError)


def _padding(value, what):
    form, v = value
    if form == "word":
        if v in PADDING_WORDS:
            return v
        raise LayerProblem(f"{what} takes a number, a (h, w) pair or one of "
                           f"{', '.join(PADDING_WORDS)}; got '{v}'", OptionError)
    return _pair(value, what)


def _flag(value, what):
    form, v = value
    if form == "flag":
        return True
    if form == "word" and v in TRUE_WORDS + FALSE_WORDS:
        return v in TRUE_WORDS
    if form == "number" and v in (0, 1):
        return bool(v)
    raise LayerProblem(f"{what} takes true or false", OptionError)


def _rule(value, what):
    form, v = value
    if form == "word" and v in ar.RULES:
        return v
    raise LayerProblem(f"{what} takes one of {', '.join(ar.RULES)}", OptionError)


PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _padding_mode(value, what):
    form, v = value
    if form == "word" and v in PADDING_MODES:
        return v
    raise LayerProblem(f"{what} takes one of {', '.join(PADDING_MODES)} (PyTorch's padding_mode)", OptionError)


def _rate(value, what):
    form, v = value
    if form in ("decimal", "number") and 0 <= v <= 1:
        return v
    raise LayerProblem(f"{what} takes a rate between 0 and 1", OptionError)


@dataclass(frozen=True)
class OptionSpec:
    name: str
    aliases: tuple
    parse: Callable
    meaning: str


OPTIONS = {spec.name: spec for spec in (
    OptionSpec("pad", ("p", "padding"), _padding, "padding per side: n, (h, w), half, same, valid or full"),
    OptionSpec("stride", ("s",), _pair, "stride: n or (h, w)"),
    OptionSpec("dilation", ("d",), _pair, "dilation: n or (h, w)"),
    OptionSpec("groups", ("g",), _single, "groups: must divide the input and output channels"),
    OptionSpec("bias", ("b",), _flag, "whether the layer has biases"),
    OptionSpec("ceil", ("ceil_mode",), _flag, "round the output size up (PyTorch ceil_mode)"),
    OptionSpec("round", ("rounding",), _rule, "rounding rule of the output size: floor, exact, ceil or caffe"),
    OptionSpec("affine", (), _flag, "whether the normalisation has trainable γ and β (bn: yes by default, "
                                    "instancenorm: no, as in PyTorch)"),
    OptionSpec("rate", ("p",), _rate, "dropout rate (does not change any count)"),
    OptionSpec("slope", ("negative_slope",), _rate, "negative slope of a leaky ReLU (does not change any count)"),
    OptionSpec("padding_mode", ("padmode",), _padding_mode,
               "what the padding holds: zeros, reflect, replicate or circular (no count changes)"),
    OptionSpec("output_padding", ("op", "outpad"), _pair,
               "extra size on one side of a transposed convolution's output: n or (h, w)"),
)}


# --------------------------------------------------------------------------- kinds

def _check_int(value, what, minimum):
    """Reject a parameter that is certainly not an integer >= minimum."""
    if value.is_integer is False:
        raise LayerProblem(f"{what} must be a whole number, got {value}")
    if (value - minimum).is_negative:
        raise LayerProblem(f"{what} must be at least {minimum}, got {value}")


def _spatial(shape, kind):
    if len(shape) != 3:
        raise LayerProblem(f"{kind} needs a C×H×W input")
    return shape


@dataclass(frozen=True)
class Defaults:
    """The network-wide choices a layer falls back on (hashable: part of the cache key).

    padding: the convolutions' default padding; conv, pool: the rounding rule of each;
    forced: apply conv/pool to every layer, ignoring its own round/ceil options (the
    integrality analysis evaluates everything exactly).
    """
    padding: object = "half"
    conv: str = "floor"
    pool: str = "floor"
    forced: bool = False

    def rule(self, params, kind_rule: str) -> str:
        if self.forced:
            return kind_rule
        if "round" in params:
            return params["round"]
        return "ceil" if params.get("ceil") else kind_rule


def _windows(params, i_pair, k_pair, default_stride, mode, rule):
    """Output, exact output and Window of each spatial axis of a conv or pooling layer."""
    sh, sw = params.get("stride", default_stride)
    dh, dw = params.get("dilation", (ONE, ONE))
    outputs, exacts, windows = [], [], []
    for axis, (i, k, s, d) in enumerate(zip(i_pair, k_pair, (sh, sw), (dh, dw))):
        for value, what in ((k, "kernel"), (s, "stride"), (d, "dilation")):
            _check_int(value, what, 1)
        keff = ar.effective_kernel(k, d)
        if mode == "same":
            out, window = ar.same_window(i, keff, s)
            outputs.append(i / s if rule == "exact" else out)
            exacts.append(i / s)
            windows.append(window)
            continue
        before, after = ar.padding_for(mode if isinstance(mode, str) else mode[axis], keff)
        _check_int(before, "padding", 0)
        _check_int(after, "padding", 0)
        window = ar.Window(keff, s, before, after)
        outputs.append(ar.output_size(rule, i, window))
        exacts.append(ar.output_size("exact", i, window))
        windows.append(window)
    return tuple(outputs), tuple(exacts), tuple(windows)


def _conv(params, shape, defaults):
    cin, h, w = _spatial(shape, "a convolution")
    kh, kw = params["kernel"]
    depthwise = params.get("depthwise", False)  # dw3: one filter per input channel
    cout = cin if depthwise else params["out"]
    groups = cin if depthwise else params.get("groups", ONE)
    _check_int(cout, "filters", 1)
    _check_int(groups, "groups", 1)
    _check_groups(cin, cout, groups)
    mode = params.get("pad", defaults.padding)
    (ho, wo), exact, windows = _windows(params, (h, w), (kh, kw), (ONE, ONE), mode,
                                        defaults.rule(params, defaults.conv))
    per_position = kh * kw * cin / groups
    biases = cout if params.get("bias", True) else ZERO
    return LayerResult((cout, ho, wo), per_position * cout, biases, ZERO, ho * wo * cout * per_position,
                       (cout,) + exact, windows)


@dataclass(frozen=True)
class Transposed:
    """A transposed convolution's geometry per spatial axis, for counters that need it
    (DeepSpeed's bias count evaluates the forward formula on it)."""
    kernel: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    groups: Expr


def _check_groups(cin, cout, groups):
    for channels, side in ((cin, "input"), (cout, "output")):
        remainder = sympy.Mod(channels, groups)
        if remainder.is_number and remainder != 0:
            raise LayerProblem(f"groups={groups} does not divide the {side} channels {channels}")


def _deconv(params, shape, defaults):
    """PyTorch's ConvTranspose2d: o = (i - 1)s - 2p + d(k - 1) + output_padding + 1
    (../shared/reference/conv-arithmetic.md).  Padding defaults to 0, as in PyTorch and
    Keras' 'valid', whatever the network's default for convolutions; pad=same is Keras'
    and TensorFlow's o = i·s."""
    cin, h, w = _spatial(shape, "a transposed convolution")
    cout, groups = params["out"], params.get("groups", ONE)
    _check_int(cout, "filters", 1)
    _check_int(groups, "groups", 1)
    _check_groups(cin, cout, groups)
    mode = params.get("pad", (ZERO, ZERO))
    if mode in ("half", "full"):
        raise LayerProblem(f"a transposed convolution takes pad=n, (h, w), valid or same, not {mode}", OptionError)
    strides, dilations = params.get("stride", (ONE, ONE)), params.get("dilation", (ONE, ONE))
    extras = params.get("output_padding", (ZERO, ZERO))
    outputs, paddings = [], []
    for axis, (i, k, s, d, extra) in enumerate(zip((h, w), params["kernel"], strides, dilations, extras)):
        for value, what, minimum in ((k, "kernel", 1), (s, "stride", 1), (d, "dilation", 1),
                                     (extra, "output_padding", 0)):
            _check_int(value, what, minimum)
        # PyTorch: "output padding must be smaller than either stride or dilation"
        if (sympy.Max(s, d) - extra).is_positive is False:
            raise LayerProblem(f"output_padding {extra} must be smaller than the stride {s} or the dilation {d}")
        if mode == "same":
            outputs.append(i * s)
            paddings.append(None)
            continue
        p = ZERO if mode == "valid" else mode[axis]
        _check_int(p, "padding", 0)
        outputs.append((i - 1) * s - 2 * p + ar.effective_kernel(k, d) + extra)
        paddings.append(p)
    kh, kw = params["kernel"]
    per_position = kh * kw * cout / groups
    biases = cout if params.get("bias", True) else ZERO
    geometry = Transposed(params["kernel"], strides, tuple(paddings), dilations, groups)
    return LayerResult((cout,) + tuple(outputs), per_position * cin, biases, ZERO, h * w * cin * per_position,
                       transposed=geometry)


def _pool(params, shape, defaults):
    c, h, w = _spatial(shape, "a pooling layer")
    k = params["kernel"][0]
    pad = params.get("pad", (ZERO, ZERO))
    if pad == "half":
        pad = (sympy.floor(k / 2),) * 2
    elif pad == "valid":
        pad = (ZERO, ZERO)
    elif pad == "full":
        raise LayerProblem("pooling takes pad=n, (h, w), half, same or valid, not full", OptionError)
    if pad != "same":
        for p in pad:
            # PyTorch pool2d_shape_check: "pad should be at most half of effective kernel size"
            if (sympy.floor(k / 2) - p).is_negative:
                raise LayerProblem(f"padding {p} is more than half the kernel {k}")
    # PyTorch's pooling stride defaults to the kernel
    out, exact, windows = _windows(params, (h, w), params["kernel"], params["kernel"], pad,
                                   defaults.rule(params, defaults.pool))
    return LayerResult((c,) + out, ZERO, ZERO, ZERO, ZERO, (c,) + exact, windows)


def _gap(params, shape, defaults):
    c, _, _ = _spatial(shape, "global average pooling")
    return LayerResult((c, ONE, ONE), ZERO, ZERO, ZERO, ZERO)


def _adaptive(params, shape, defaults):
    """PyTorch's AdaptiveAvgPool2d/AdaptiveMaxPool2d: C×o×o whatever the input size."""
    c, _, _ = _spatial(shape, "adaptive pooling")
    size = params["size"]
    _check_int(size, "the output size", 1)
    return LayerResult((c, size, size), ZERO, ZERO, ZERO, ZERO)


def _flatten(params, shape, defaults):
    return LayerResult((sympy.Mul(*shape),), ZERO, ZERO, ZERO, ZERO)


def _fc(params, shape, defaults):
    fan_in = sympy.Mul(*shape)
    out = params["out"]
    _check_int(out, "units", 1)
    biases = out if params.get("bias", True) else ZERO
    return LayerResult((out,), fan_in * out, biases, ZERO, fan_in * out)


def _bn(params, shape, defaults):
    c = shape[0]
    trainable = c if params.get("affine", True) else ZERO
    return LayerResult(tuple(shape), trainable, trainable, 2 * c, ZERO)


def _instancenorm(params, shape, defaults):
    """PyTorch's InstanceNorm2d: no parameters unless affine (its default is affine=False,
    track_running_stats=False, as CycleGAN uses it)."""
    c, h, w = _spatial(shape, "instance normalisation")
    if h * w == 1:  # torch.nn.functional._verify_spatial_size
        raise LayerProblem("instance normalisation needs more than one spatial element (PyTorch refuses 1×1)")
    trainable = c if params.get("affine", False) else ZERO
    return LayerResult(tuple(shape), trainable, trainable, ZERO, ZERO)


def _same_shape(params, shape, defaults):
    return LayerResult(tuple(shape), ZERO, ZERO, ZERO, ZERO)


@dataclass(frozen=True)
class Kind:
    name: str
    options: tuple
    evaluate: Callable
    meaning: str


KINDS = {kind.name: kind for kind in (
    Kind("conv", ("pad", "stride", "dilation", "groups", "bias", "round", "padding_mode"), _conv, "2-D convolution"),
    Kind("deconv", ("pad", "stride", "dilation", "groups", "bias", "output_padding"), _deconv,
         "2-D transposed convolution"),
    Kind("maxpool", ("pad", "stride", "dilation", "ceil", "round"), _pool, "max pooling"),
    Kind("avgpool", ("pad", "stride", "ceil", "round"), _pool, "average pooling"),
    Kind("gap", (), _gap, "global average pooling to C×1×1"),
    Kind("adaptiveavgpool", (), _adaptive, "adaptive average pooling to C×o×o"),
    Kind("adaptivemaxpool", (), _adaptive, "adaptive max pooling to C×o×o"),
    Kind("flatten", (), _flatten, "flatten C×H×W to C·H·W"),
    Kind("fc", ("bias",), _fc, "fully connected (flatten implied)"),
    Kind("bn", ("affine",), _bn, "batch normalisation"),
    Kind("instancenorm", ("affine",), _instancenorm, "instance normalisation"),
    Kind("lrn", (), _same_shape, "local response normalisation"),
    Kind("relu", (), _same_shape, "ReLU"),
    Kind("relu6", (), _same_shape, "ReLU6 (MobileNet v2)"),
    Kind("lrelu", ("slope",), _same_shape, "leaky ReLU"),
    Kind("tanh", (), _same_shape, "tanh"),
    Kind("sigmoid", (), _same_shape, "sigmoid"),
    Kind("dropout", ("rate",), _same_shape, "dropout"),
    Kind("softmax", (), _same_shape, "softmax"),
)}

# How a keyword of the grammar names a kind (keywords are case-insensitive).
KEYWORDS = {"conv": "conv", "deconv": "deconv", "convt": "deconv", "tconv": "deconv", "upconv": "deconv",
            "instancenorm": "instancenorm", "inorm": "instancenorm", "lrelu": "lrelu", "leakyrelu": "lrelu",
            "maxpool": "maxpool", "avgpool": "avgpool", "pool": "maxpool",
            "fc": "fc", "dense": "fc", "linear": "fc", "gap": "gap", "flatten": "flatten",
            "bn": "bn", "batchnorm": "bn", "lrn": "lrn", "relu": "relu", "relu6": "relu6", "tanh": "tanh",
            "adaptiveavgpool": "adaptiveavgpool", "adaptivemaxpool": "adaptivemaxpool",
            "sigmoid": "sigmoid", "dropout": "dropout", "softmax": "softmax"}


def option_name(kind: str, written: str) -> str:
    """The canonical option a written name means for this kind, or raise OptionError."""
    accepted = KINDS[kind].options
    for name in accepted:
        if written == name or written in OPTIONS[name].aliases:
            return name
    if accepted:
        listed = ", ".join(f"{n} ({OPTIONS[n].meaning})" for n in accepted)
        raise LayerProblem(f"unknown option '{written}' for {kind}; it accepts: {listed}", OptionError)
    raise LayerProblem(f"{kind} takes no options, got '{written}'", OptionError)


def parse_option(kind: str, written: str, value) -> tuple:
    name = option_name(kind, written)
    return name, OPTIONS[name].parse(value, name)


@lru_cache(maxsize=8192)
def evaluate(kind: str, params: tuple, shape: tuple, defaults: Defaults) -> LayerResult:
    """Evaluate one layer on one input shape; cached, as deep nets repeat layers."""
    return KINDS[kind].evaluate(dict(params), shape, defaults)
