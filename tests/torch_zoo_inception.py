"""Inception v3 and ConvNeXt-Tiny as torchvision builds them (torchvision/models/inception.py,
torchvision/models/convnext.py, with Permute from torchvision/ops/misc.py and StochasticDepth
from torchvision/ops/stochastic_depth.py), transcribed by hand: torchvision does not import
against this torch.  Every functional call there (F.relu, F.avg_pool2d, F.max_pool2d,
F.adaptive_avg_pool2d, torch.flatten, the layer-scale product) is a leaf module here."""
from __future__ import annotations

from torch_blocks import Concat, Residual, S, conv
from torch_reference import nn, torch


# --------------------------------------------------------------------------- Inception v3
def basic(cin, cout, k, s=1, p=0):
    """inception.py BasicConv2d: Conv2d without bias (padding 0 unless given), BatchNorm2d
    with eps 0.001, then F.relu (a ReLU module here)."""
    return S(conv(cin, cout, k, s, p, bias=False), nn.BatchNorm2d(cout, eps=0.001), nn.ReLU())


def pool_branch(cin, cout):
    """F.avg_pool2d(x, kernel_size=3, stride=1, padding=1) then the branch_pool BasicConv2d.
    F.avg_pool2d and nn.AvgPool2d both default to count_include_pad=True."""
    return S(nn.AvgPool2d(3, 1, 1), basic(cin, cout, 1))


def inception_a(cin, pool_features):
    """InceptionA: 1x1 64 | 1x1 48, 5x5 64 | 1x1 64, 3x3 96, 3x3 96 | avg pool, 1x1."""
    return Concat(basic(cin, 64, 1),
                  S(basic(cin, 48, 1), basic(48, 64, 5, p=2)),
                  S(basic(cin, 64, 1), basic(64, 96, 3, p=1), basic(96, 96, 3, p=1)),
                  pool_branch(cin, pool_features))


def inception_b(cin):
    """InceptionB: 3x3/2 384 | 1x1 64, 3x3 96, 3x3/2 96 | F.max_pool2d(3, stride 2)."""
    return Concat(basic(cin, 384, 3, 2),
                  S(basic(cin, 64, 1), basic(64, 96, 3, p=1), basic(96, 96, 3, 2)),
                  nn.MaxPool2d(3, 2))


def inception_c(cin, c7):
    """InceptionC: 1x1 192 | 1x1 c7, 1x7, 7x1 | 1x1 c7, 7x1, 1x7, 7x1, 1x7 | avg pool, 1x1 192."""
    row, col = dict(k=(1, 7), p=(0, 3)), dict(k=(7, 1), p=(3, 0))
    return Concat(basic(cin, 192, 1),
                  S(basic(cin, c7, 1), basic(c7, c7, **row), basic(c7, 192, **col)),
                  S(basic(cin, c7, 1), basic(c7, c7, **col), basic(c7, c7, **row), basic(c7, c7, **col),
                    basic(c7, 192, **row)),
                  pool_branch(cin, 192))


def inception_d(cin):
    """InceptionD: 1x1 192, 3x3/2 320 | 1x1 192, 1x7, 7x1, 3x3/2 192 | F.max_pool2d(3, stride 2)."""
    return Concat(S(basic(cin, 192, 1), basic(192, 320, 3, 2)),
                  S(basic(cin, 192, 1), basic(192, 192, (1, 7), p=(0, 3)), basic(192, 192, (7, 1), p=(3, 0)),
                    basic(192, 192, 3, 2)),
                  nn.MaxPool2d(3, 2))


def inception_e(cin):
    """InceptionE: 1x1 320 | 1x1 384, then 1x3 and 3x1 side by side | 1x1 448, 3x3 384, then 1x3
    and 3x1 side by side | avg pool, 1x1 192.  The inner torch.cat of each pair, then the outer
    one, give the same channel order as one flat concatenation."""
    pair = lambda: Concat(basic(384, 384, (1, 3), p=(0, 1)), basic(384, 384, (3, 1), p=(1, 0)))  # noqa: E731
    return Concat(basic(cin, 320, 1),
                  S(basic(cin, 384, 1), pair()),
                  S(basic(cin, 448, 1), basic(448, 384, 3, p=1), pair()),
                  pool_branch(cin, 192))


def inception_aux(cin, num_classes=1000):
    """InceptionAux: F.avg_pool2d(5, stride 3), 1x1 128, 5x5 768 (its stddev is only for the
    initialisation), F.adaptive_avg_pool2d((1, 1)), torch.flatten, fc 768 -> num_classes."""
    return S(nn.AvgPool2d(5, 3), basic(cin, 128, 1), basic(128, 768, 5), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
             nn.Linear(768, num_classes))


class Inception3(nn.Module):
    """inception.py Inception3 with transform_input=False.  torchvision runs AuxLogits (after
    Mixed_6e) only in training mode; here it runs in every mode when present, and the forward
    returns (aux, logits) in the order they are computed, or the logits alone without it."""

    def __init__(self, aux_logits=True, num_classes=1000, dropout=0.5):
        super().__init__()
        self.to_6e = S(basic(3, 32, 3, 2), basic(32, 32, 3), basic(32, 64, 3, p=1), nn.MaxPool2d(3, 2),
                       basic(64, 80, 1), basic(80, 192, 3), nn.MaxPool2d(3, 2),
                       inception_a(192, 32), inception_a(256, 64), inception_a(288, 64),  # Mixed_5b..5d
                       inception_b(288),  # Mixed_6a
                       *[inception_c(768, c7) for c7 in (128, 160, 160, 192)])  # Mixed_6b..6e
        self.AuxLogits = inception_aux(768, num_classes) if aux_logits else None
        self.rest = S(inception_d(768), inception_e(1280), inception_e(2048),  # Mixed_7a..7c
                      nn.AdaptiveAvgPool2d(1), nn.Dropout(dropout), nn.Flatten(), nn.Linear(2048, num_classes))

    def forward(self, x):
        x = self.to_6e(x)
        if self.AuxLogits is None:
            return self.rest(x)
        aux = self.AuxLogits(x)
        return aux, self.rest(x)


def inception_v3(shape, aux_logits=True):
    """torchvision.models.inception_v3 (num_classes 1000, dropout 0.5, transform_input False).
    The auxiliary head needs Mixed_6e's output to be at least 17x17 (input about 299), as in
    torchvision's training mode; without it torchvision's minimum input is 75x75."""
    return Inception3(aux_logits)


# --------------------------------------------------------------------------- ConvNeXt-Tiny
class LayerNorm2d(nn.LayerNorm):
    """convnext.py LayerNorm2d: nn.LayerNorm over the channels of an (N, C, H, W) tensor,
    permuted to channels-last and back."""

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = nn.functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class Permute(nn.Module):
    """torchvision/ops/misc.py Permute: torch.permute(x, dims).  No layer work: like
    nn.Identity it has no entry in KINDS."""

    def __init__(self, dims):
        super().__init__()
        self.dims = list(dims)

    def forward(self, x):
        return torch.permute(x, self.dims)


class LayerScale(nn.Module):
    """CNBlock's `self.layer_scale * self.block(input)`: a (C, 1, 1) parameter, initialised to
    layer_scale (1e-6), times the block's output.  The parameter keeps torchvision's name,
    layer_scale: torchinfo charges a parameter named weight or bias, and torchvision's is not."""

    def __init__(self, dim, init=1e-6):
        super().__init__()
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * init)

    def forward(self, x):
        return self.layer_scale * x


def cn_block(dim, layer_scale=1e-6):
    """convnext.py CNBlock: depthwise 7x7 (bias), Permute to NHWC, LayerNorm(eps 1e-6),
    Linear(C, 4C), GELU, Linear(4C, C), Permute to NCHW, layer scale, added to the input.
    StochasticDepth(p, "row") is left out: it is the identity at eval (and whenever p = 0)."""
    return Residual(S(nn.Conv2d(dim, dim, 7, padding=3, groups=dim, bias=True), Permute([0, 2, 3, 1]),
                      nn.LayerNorm(dim, eps=1e-6), nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim),
                      Permute([0, 3, 1, 2]), LayerScale(dim, layer_scale)))


def convnext_tiny(shape):
    """torchvision.models.convnext_tiny: block_setting CNBlockConfig(96, 192, 3), (192, 384, 3),
    (384, 768, 9), (768, None, 3); layer_scale 1e-6; norm_layer LayerNorm2d(eps 1e-6).
    Stem Conv2dNormActivation(3, 96, 4, stride 4, padding 0, bias, no activation); between
    stages LayerNorm2d then Conv2d(C, 2C, 2, stride 2); then avgpool and the classifier
    LayerNorm2d, Flatten(1), Linear(768, 1000)."""
    layers = [nn.Conv2d(3, 96, 4, 4, 0, bias=True), LayerNorm2d(96, eps=1e-6)]
    for cin, cout, n in [(96, 192, 3), (192, 384, 3), (384, 768, 9), (768, None, 3)]:
        layers += [cn_block(cin) for _ in range(n)]
        if cout is not None:
            layers += [LayerNorm2d(cin, eps=1e-6), nn.Conv2d(cin, cout, 2, 2)]
    layers += [nn.AdaptiveAvgPool2d(1), LayerNorm2d(768, eps=1e-6), nn.Flatten(1), nn.Linear(768, 1000)]
    return S(*layers)


BUILDERS = {"inception_v3": inception_v3, "convnext_tiny": convnext_tiny}

KINDS = {nn.LayerNorm: "layernorm", LayerNorm2d: "layernorm", nn.GELU: "gelu", LayerScale: "scale"}
