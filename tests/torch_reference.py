"""Build the same network in PyTorch from a test's own layer description.

The description is the test's, never symcount's parse: each entry says what the
notation means in PyTorch's terms, and PyTorch (on the meta device: shapes without
compute) says what comes out.  Each layer's in-features and channel counts are read
off PyTorch's own output of the layer before.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

torch = pytest.importorskip("torch", reason="torch is the outside truth here; pip install torch==2.13.0")
nn = torch.nn
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402


@dataclass
class Spec:
    """One layer as the test means it: its notation text and its PyTorch meaning."""
    kind: str
    notation: str
    args: dict = field(default_factory=dict)


def half_padding(k, d=1):
    """The notation's documented default: floor(k̂/2) per side, k̂ = d(k-1)+1."""
    return (d * (k - 1) + 1) // 2


def module_for(spec: Spec, x):
    a = spec.args
    if spec.kind == "conv":
        return nn.Conv2d(x.shape[1], a["out"], (a["kh"], a["kw"]), stride=a.get("stride", 1),
                         padding=a["padding"], dilation=a.get("dilation", 1), groups=a.get("groups", 1),
                         bias=a.get("bias", True))
    if spec.kind == "deconv":
        return nn.ConvTranspose2d(x.shape[1], a["out"], (a["kh"], a["kw"]), stride=a.get("stride", 1),
                                  padding=a.get("padding", 0), output_padding=a.get("output_padding", 0),
                                  groups=a.get("groups", 1), bias=a.get("bias", True), dilation=a.get("dilation", 1))
    if spec.kind == "instancenorm":
        return nn.InstanceNorm2d(x.shape[1], affine=a.get("affine", False))
    if spec.kind == "maxpool":
        return nn.MaxPool2d(a["k"], a.get("stride", a["k"]), a.get("pad", 0), a.get("dilation", 1),
                            ceil_mode=a.get("ceil", False))
    if spec.kind == "avgpool":
        return nn.AvgPool2d(a["k"], a.get("stride", a["k"]), a.get("pad", 0), ceil_mode=a.get("ceil", False))
    if spec.kind == "bn":
        return (nn.BatchNorm2d if x.dim() == 4 else nn.BatchNorm1d)(x.shape[1])
    if spec.kind == "fc":
        features = x[0].numel()
        linear = nn.Linear(features, a["out"], bias=a.get("bias", True))
        return nn.Sequential(nn.Flatten(), linear) if x.dim() > 2 else linear
    if spec.kind == "gap":
        return nn.AdaptiveAvgPool2d(1)
    if spec.kind == "flatten":
        return nn.Flatten()
    if spec.kind == "lrn":
        return nn.LocalResponseNorm(5)
    return {"relu": nn.ReLU, "lrelu": nn.LeakyReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "dropout": nn.Dropout,
            "softmax": lambda: nn.Softmax(dim=1)}[spec.kind]()


@dataclass
class TorchLayer:
    output: tuple
    params: int
    weights_and_biases: tuple
    non_trainable: int


def run(specs, input_shape):
    """Per-layer shapes and counts from PyTorch, and its FLOPs; RuntimeError if invalid."""
    layers = []
    with torch.device("meta"):
        x = torch.empty(1, *input_shape)
        with FlopCounterMode(display=False) as counter:
            for spec in specs:
                module = module_for(spec, x).eval()
                x = module(x)
                if 0 in x.shape:  # ConvTranspose2d gives an empty tensor where symcount refuses a size 0
                    raise RuntimeError(f"{spec.notation} gives an empty output {tuple(x.shape)}")
                trainable = [p for p in module.parameters()]
                stats = [b for name, b in module.named_buffers() if name.endswith(("running_mean", "running_var"))]
                weights = sum(p.numel() for n, p in module.named_parameters() if n.endswith("weight"))
                biases = sum(p.numel() for n, p in module.named_parameters() if n.endswith("bias"))
                layers.append(TorchLayer(tuple(x.shape[1:]), sum(p.numel() for p in trainable),
                                         (weights, biases), sum(b.numel() for b in stats)))
    return layers, counter.get_total_flops()


def flops(module, input_shape):
    with torch.device("meta"):
        x = torch.empty(1, *input_shape)
        with FlopCounterMode(display=False) as counter:
            y = module(x)
    return tuple(y.shape[1:]), counter.get_total_flops()
