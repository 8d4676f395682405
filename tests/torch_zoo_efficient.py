"""EfficientNet-B0 and ShuffleNet v2 as torchvision builds them (efficientnet.py,
shufflenetv2.py), transcribed by hand: torchvision does not import against this torch."""
from __future__ import annotations

from torch_blocks import Net, Residual, S, SqueezeExcitation, _make_divisible, conv, conv_bn_silu
from torch_reference import nn, torch


# --------------------------------------------------------------------------- EfficientNet-B0
def mbconv(cin, cout, k, s, expand):
    """torchvision/models/efficientnet.py MBConv: expand, depthwise, squeeze-and-excitation
    (squeeze to max(1, cin // 4), SiLU), project; a residual where stride 1 keeps the channels."""
    hidden = _make_divisible(cin * expand)
    layers = conv_bn_silu(cin, hidden, 1) if hidden != cin else []
    layers += conv_bn_silu(hidden, hidden, k, s, groups=hidden)
    layers += [SqueezeExcitation(hidden, max(1, cin // 4), activation=nn.SiLU)]
    layers += conv_bn_silu(hidden, cout, 1, activation=False)
    return Residual(S(*layers)) if s == 1 and cin == cout else S(*layers)


def efficientnet_b0(shape):
    layers, cin = conv_bn_silu(3, 32, 3, 2), 32
    # efficientnet.py _efficientnet_conf("efficientnet_b0"): expand ratio, kernel, stride, in, out, layers
    for expand, k, s, _, cout, n in [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2),
                                     (6, 3, 2, 40, 80, 3), (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4),
                                     (6, 3, 1, 192, 320, 1)]:
        for i in range(n):
            layers.append(mbconv(cin, cout, k, s if i == 0 else 1, expand))
            cin = cout
    layers += conv_bn_silu(320, 1280, 1) + [nn.AdaptiveAvgPool2d(1)]
    return Net(S(*layers), lambda n: S(nn.Flatten(), nn.Dropout(0.2), nn.Linear(n, 1000)), shape)


# --------------------------------------------------------------------------- ShuffleNet v2
class ShuffleUnit(nn.Module):
    """torchvision/models/shufflenetv2.py InvertedResidual: at stride 1 the channels are
    chunked in two and only the second half goes through branch2; at stride 2 both branches
    see the whole input; then torch.cat and a channel shuffle of 2 groups."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        half = cout // 2
        self.stride = stride
        if stride > 1:
            self.branch1 = S(conv(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.BatchNorm2d(cin),
                             conv(cin, half, 1, bias=False), nn.BatchNorm2d(half), nn.ReLU())
        self.branch2 = S(conv(cin if stride > 1 else half, half, 1, bias=False), nn.BatchNorm2d(half), nn.ReLU(),
                         conv(half, half, 3, stride, 1, groups=half, bias=False), nn.BatchNorm2d(half),
                         conv(half, half, 1, bias=False), nn.BatchNorm2d(half), nn.ReLU())
        self.shuffle = nn.ChannelShuffle(2)

    def forward(self, x):
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            return self.shuffle(torch.cat((x1, self.branch2(x2)), dim=1))
        return self.shuffle(torch.cat((self.branch1(x), self.branch2(x)), dim=1))


class Mean(nn.Module):
    """torchvision's ShuffleNetV2._forward_impl pools with x.mean([2, 3]) in forward(), no module: a
    leaf here only so that a trace lists it."""

    def forward(self, x):
        return x.mean([2, 3])


def shufflenet_v2_x1_0(shape, pool="mean"):
    """pool="mean" pools as torchvision's forward does; pool="module" with nn.AdaptiveAvgPool2d(1), every
    layer a module (what the counting tools' zoo record measured)."""
    layers = [conv(3, 24, 3, 2, 1, bias=False), nn.BatchNorm2d(24), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    cin = 24
    for repeats, cout in [(4, 116), (8, 232), (4, 464)]:  # stages_repeats, stages_out_channels
        layers += [ShuffleUnit(cin, cout, 2)] + [ShuffleUnit(cout, cout, 1) for _ in range(repeats - 1)]
        cin = cout
    layers += [conv(464, 1024, 1, bias=False), nn.BatchNorm2d(1024), nn.ReLU(),
               Mean() if pool == "mean" else nn.AdaptiveAvgPool2d(1)]
    return Net(S(*layers), lambda n: nn.Linear(n, 1000), shape)
