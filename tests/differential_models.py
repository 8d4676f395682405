"""One network spec, rendered two ways: to symcount notation and to a PyTorch nn.Module.

The spec is the test's own description of a network (a tree of small dataclasses). `render`
writes it in the notation of docs/notation.md; `build` makes the PyTorch module that the
notation is documented to mean; `measure` runs that module on a real (tiny) CPU tensor and
reads off the outside truth: parameters (sum of p.numel()), activations (every layer's output
elements, as docs/conventions.md counts them), MACs (FlopCounterMode // 2) and the output shape.
Nothing here imports symcount.
"""
from __future__ import annotations

import math

from dataclasses import dataclass
from typing import Optional, Tuple, Union

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


class Invalid(Exception):
    """PyTorch refuses the network at this input (or gives an empty tensor)."""


# ---------------------------------------------------------------------------------------------
# The spec


@dataclass(frozen=True)
class Width:
    """A channel count: the literal `add`, or mul*C + add written in braces."""
    mul: int = 0
    add: int = 8

    def text(self, env=None):
        if env is not None or self.mul == 0:
            return str(self.value(env or {}))
        term = "C" if self.mul == 1 else f"{self.mul}*C"
        return "{" + term + (f"+{self.add}" if self.add else "") + "}"

    def value(self, env):
        return self.mul * env.get("C", 0) + self.add if self.mul else self.add


@dataclass(frozen=True)
class Conv:
    kh: int
    kw: int
    out: Width
    stride: Tuple[int, int] = (1, 1)
    pad: Optional[Tuple[int, int]] = None      # None: the notation's default, half padding
    dilation: int = 1
    groups: int = 1
    bias: bool = True

    def padding(self):
        if self.pad is not None:
            return self.pad
        d = self.dilation
        return ((d * (self.kh - 1) + 1) // 2, (d * (self.kw - 1) + 1) // 2)


@dataclass(frozen=True)
class Deconv:
    k: int
    out: Width
    stride: int = 1
    pad: int = 0
    output_padding: int = 0
    bias: bool = True


@dataclass(frozen=True)
class Pool:
    kind: str            # "max" or "avg"
    k: int
    stride: Optional[int] = None   # None: the kernel
    pad: int = 0
    ceil: bool = False


@dataclass(frozen=True)
class Simple:
    kind: str            # "bn", "relu", "gap", "flatten"


@dataclass(frozen=True)
class Adaptive:
    size: int


@dataclass(frozen=True)
class FC:
    out: Width
    bias: bool = True


@dataclass(frozen=True)
class Repeat:
    body: tuple
    n: int


@dataclass(frozen=True)
class Res:
    body: tuple
    shortcut: Optional[tuple] = None   # None: identity or the automatic projection


@dataclass(frozen=True)
class Branches:
    kind: str            # "cat" or "add"
    branches: tuple      # of tuples of items; () is the identity


Item = Union[Conv, Deconv, Pool, Simple, Adaptive, FC, Repeat, Res, Branches]


# ---------------------------------------------------------------------------------------------
# Rendering to notation


def _options(pairs):
    pairs = [p for p in pairs if p]
    return "[" + ", ".join(pairs) + "]" if pairs else ""


def render_item(item, env=None):
    """The notation for one item. `env` given: widths written as plain numbers."""
    if isinstance(item, Conv):
        kernel = f"{item.kh}" if item.kh == item.kw else f"{item.kh}x{item.kw}"
        sh, sw = item.stride
        stride = f"/{sh}" if sh == sw and sh != 1 else ""
        opts = [f"stride=({sh},{sw})" if sh != sw else "",
                ("pad=" + (str(item.pad[0]) if item.pad[0] == item.pad[1] else f"({item.pad[0]},{item.pad[1]})"))
                if item.pad is not None else "",
                f"dilation={item.dilation}" if item.dilation != 1 else "",
                f"groups={item.groups}" if item.groups != 1 else "",
                "bias=false" if not item.bias else ""]
        return f"conv{kernel}-{item.out.text(env)}{stride}{_options(opts)}"
    if isinstance(item, Deconv):
        stride = f"/{item.stride}" if item.stride != 1 else ""
        opts = [f"pad={item.pad}" if item.pad else "", f"op={item.output_padding}" if item.output_padding else "",
                "bias=false" if not item.bias else ""]
        return f"deconv{item.k}-{item.out.text(env)}{stride}{_options(opts)}"
    if isinstance(item, Pool):
        if item.kind == "max" and item.k == 2 and item.stride in (None, 2) and not item.pad and not item.ceil:
            return "pool"
        stride = f"/{item.stride}" if item.stride is not None else ""
        opts = [f"pad={item.pad}" if item.pad else "", "ceil" if item.ceil else ""]
        return f"{item.kind}pool{item.k}{stride}{_options(opts)}"
    if isinstance(item, Simple):
        return item.kind
    if isinstance(item, Adaptive):
        return f"adaptiveavgpool{item.size}"
    if isinstance(item, FC):
        return f"fc{item.out.text(env)}" + ("[bias=false]" if not item.bias else "")
    if isinstance(item, Repeat):
        if len(item.body) == 1 and isinstance(item.body[0], (Conv, FC, Simple, Res, Branches)):
            text = render_item(item.body[0], env)
            # conv3-8x2, relux2, res(...)x2; but conv3-8/2 x2, as conv3-8/2x2 reads two ways (notation.md)
            return f"{text}{' ' if '/' in text and text[-1].isdigit() else ''}x{item.n}"
        return f"({render(item.body, env)})x{item.n}"
    if isinstance(item, Res):
        if item.shortcut is None:
            return f"res({render(item.body, env)})"
        return f"res({render(item.body, env)} | {render(item.shortcut, env)})"
    if isinstance(item, Branches):
        return f"{item.kind}(" + " | ".join(render(b, env) for b in item.branches) + ")"
    raise TypeError(item)


def render(items, env=None):
    return " ".join(render_item(i, env) for i in items)


# ---------------------------------------------------------------------------------------------
# Building the PyTorch module


class Leaf(nn.Module):
    """One table row: its output elements are activations (docs/conventions.md)."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, x):
        y = self.module(x)
        if 0 in y.shape:  # ConvTranspose2d lets an empty output through; symcount refuses size 0
            raise Invalid(f"empty output {tuple(y.shape)}")
        return y


class Sum(nn.Module):
    def __init__(self, branches):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x):
        ys = [b(x) for b in self.branches]
        if any(y.shape != ys[0].shape for y in ys):  # no broadcasting: an elementwise sum
            raise Invalid(f"cannot add {[tuple(y.shape) for y in ys]}")
        return sum(ys[1:], ys[0])


class Concat(nn.Module):
    def __init__(self, branches):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x):
        return torch.cat([b(x) for b in self.branches], dim=1)


def strides(items):
    """The product of a chain's strides per axis, read off the structure (not any input size)."""
    sh = sw = 1
    for item in items:
        if isinstance(item, Conv):
            sh, sw = sh * item.stride[0], sw * item.stride[1]
        elif isinstance(item, Pool):
            s = item.k if item.stride is None else item.stride
            sh, sw = sh * s, sw * s
        elif isinstance(item, Repeat):
            h, w = strides(item.body)
            sh, sw = sh * h ** item.n, sw * w ** item.n
        elif isinstance(item, Res):
            h, w = strides(item.body)
            sh, sw = sh * h, sw * w
        elif isinstance(item, Branches) and item.branches and item.branches[0]:
            h, w = strides(item.branches[0])
            sh, sw = sh * h, sw * w
    return sh, sw


def channels(items, c, env):
    """Channels after a chain on c input channels (None once flat). Independent of H and W."""
    for item in items:
        if isinstance(item, (Conv, Deconv)):
            c = item.out.value(env)
        elif isinstance(item, FC):
            c = None
        elif isinstance(item, Simple) and item.kind == "flatten":
            c = None
        elif isinstance(item, Repeat):
            for _ in range(item.n):
                c = channels(item.body, c, env)
        elif isinstance(item, Res):
            c = channels(item.body, c, env)
        elif isinstance(item, Branches):
            outs = [channels(b, c, env) for b in item.branches]
            c = sum(outs) if item.kind == "cat" else outs[0]
    return c


def build(items, x, env):
    """The nn.Module for a chain, made layer by layer on the running tensor x; returns (module, y)."""
    modules = []
    for item in items:
        module, x = build_item(item, x, env)
        modules.append(module)
    return nn.Sequential(*modules), x


def _leaf(module, x):
    leaf = Leaf(module.eval())
    return leaf, leaf(x)


def build_item(item, x, env):
    if isinstance(item, Conv):
        return _leaf(nn.Conv2d(x.shape[1], item.out.value(env), (item.kh, item.kw), stride=item.stride,
                               padding=item.padding(), dilation=item.dilation, groups=item.groups,
                               bias=item.bias), x)
    if isinstance(item, Deconv):
        return _leaf(nn.ConvTranspose2d(x.shape[1], item.out.value(env), item.k, stride=item.stride,
                                        padding=item.pad, output_padding=item.output_padding, bias=item.bias), x)
    if isinstance(item, Pool):
        cls = nn.MaxPool2d if item.kind == "max" else nn.AvgPool2d
        return _leaf(cls(item.k, item.k if item.stride is None else item.stride, item.pad, ceil_mode=item.ceil), x)
    if isinstance(item, Simple):
        if item.kind == "bn":
            return _leaf((nn.BatchNorm2d if x.dim() == 4 else nn.BatchNorm1d)(x.shape[1]), x)
        return _leaf({"relu": nn.ReLU(), "gap": nn.AdaptiveAvgPool2d(1), "flatten": nn.Flatten()}[item.kind], x)
    if isinstance(item, Adaptive):
        return _leaf(nn.AdaptiveAvgPool2d(item.size), x)
    if isinstance(item, FC):
        features = x[0].numel()
        linear = nn.Linear(features, item.out.value(env), bias=item.bias)
        # the implied flatten is not a row of its own: one Leaf for both
        return _leaf(nn.Sequential(nn.Flatten(), linear) if x.dim() > 2 else linear, x)
    if isinstance(item, Repeat):
        module, y = build(item.body * item.n, x, env)
        return module, y
    if isinstance(item, Res):
        body, _ = build(item.body, x, env)
        if item.shortcut is not None:
            shortcut, _ = build(item.shortcut, x, env)
        else:
            # torchvision's rule for `downsample`: from the block's structure, never from the input size
            stride = strides(item.body)
            cin, cout = x.shape[1], channels(item.body, x.shape[1], env)
            if stride != (1, 1) or cin != cout:
                shortcut, _ = build((Conv(1, 1, Width(0, cout), stride=stride, pad=(0, 0), bias=False),
                                     Simple("bn")), x, env)
            else:
                shortcut = nn.Identity()
        module = Sum([body, shortcut])
        return module, module(x)
    if isinstance(item, Branches):
        branches = [build(b, x, env)[0] if b else nn.Identity() for b in item.branches]
        module = (Concat if item.kind == "cat" else Sum)(branches)
        return module, module(x)
    raise TypeError(item)


@dataclass
class Truth:
    params: int
    activations: int
    macs: int
    output_shape: tuple
    layers: tuple = ()   # every row's output shape, in order


def measure(items, input_shape, env) -> Truth:
    """PyTorch's figures for the network at one input; Invalid where PyTorch refuses it."""
    try:
        with torch.no_grad():
            x = torch.zeros(1, *input_shape)
            model, _ = build(items, x, env)
            model.eval()
            outputs = []
            hooks = [m.register_forward_hook(lambda m, i, o: outputs.append(tuple(o.shape[1:])))
                     for m in model.modules() if isinstance(m, Leaf)]
            with FlopCounterMode(display=False) as counter:
                y = model(x)
            for h in hooks:
                h.remove()
    except (RuntimeError, ValueError) as e:
        raise Invalid(str(e).splitlines()[0]) from None
    return Truth(params=sum(p.numel() for p in model.parameters()), activations=sum(map(math.prod, outputs)),
                 macs=counter.get_total_flops() // 2, output_shape=tuple(y.shape[1:]), layers=tuple(outputs))
