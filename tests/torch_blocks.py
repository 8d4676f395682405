"""Pieces the PyTorch reference networks share: written from torchvision's files and the
papers, never from symcount.  Every module a forward pass goes through is a leaf module
called in the order the paper draws the layers, so forward hooks list every layer in order.
"""
from __future__ import annotations

from torch_reference import nn, torch


def conv(cin, cout, k, s=1, p=None, groups=1, bias=True):
    return nn.Conv2d(cin, cout, k, s, k // 2 if p is None else p, groups=groups, bias=bias)


class Residual(nn.Module):
    """body(x) + shortcut(x), then `after` (a ReLU, or nothing)."""

    def __init__(self, body, shortcut=None, after=None):
        super().__init__()
        self.body, self.shortcut = body, shortcut or nn.Identity()
        self.after = after or nn.Identity()

    def forward(self, x):
        return self.after(self.body(x) + self.shortcut(x))


class Concat(nn.Module):
    def __init__(self, *branches):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x):
        return torch.cat([branch(x) for branch in self.branches], 1)


class Net(nn.Module):
    """features, then a classifier whose first Linear is sized from the features' output."""

    def __init__(self, features, classifier, input_shape):
        super().__init__()
        self.features = features
        with torch.device("meta"):
            flat = features(torch.empty(1, *input_shape))[0].numel()
        self.classifier = classifier(flat)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))  # the flatten a notation's fc implies


def S(*layers):
    return nn.Sequential(*layers)


def _make_divisible(v, divisor=8, min_value=None):
    """torchvision/models/_utils.py, _make_divisible, as written there."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:  # make sure that round down does not go down by more than 10%
        new_v += divisor
    return new_v


class SqueezeExcitation(nn.Module):
    """torchvision/ops/misc.py: the input times a gate computed from its global average."""

    def __init__(self, cin, squeeze, activation=nn.ReLU, scale_activation=nn.Sigmoid):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1, self.activation = nn.Conv2d(cin, squeeze, 1), activation()
        self.fc2, self.scale_activation = nn.Conv2d(squeeze, cin, 1), scale_activation()

    def forward(self, x):
        return self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x))))) * x


def conv_bn_silu(cin, cout, k, s=1, groups=1, activation=True):
    """torchvision's Conv2dNormActivation with BatchNorm2d and SiLU (padding (k - 1) // 2)."""
    layers = [conv(cin, cout, k, s, (k - 1) // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    return layers + ([nn.SiLU()] if activation else [])
