"""MobileNetV3 (large, small) and RegNetY-400MF as torchvision builds them (models/mobilenetv3.py,
models/regnet.py, with ops/misc.py's Conv2dNormActivation and SqueezeExcitation and
models/_utils.py's _make_divisible), transcribed by hand: torchvision does not import against this torch."""
from __future__ import annotations

import math
from functools import partial

from torch_blocks import Net, Residual, S, SqueezeExcitation, _make_divisible, conv
from torch_reference import nn, torch


def conv_norm_act(cin, cout, k, s=1, groups=1, activation=None, norm=nn.BatchNorm2d):
    """ops/misc.py Conv2dNormActivation: padding (k - 1) // 2, no bias (a norm follows), the norm,
    then the activation unless it is None."""
    layers = [conv(cin, cout, k, s, (k - 1) // 2, groups=groups, bias=False), norm(cout)]
    return layers + ([activation()] if activation else [])


# --------------------------------------------------------------------------- MobileNetV3
# mobilenetv3.py _mobilenet_v3_conf (reduced_tail=False, dilated=False): input channels, kernel,
# expanded channels, output channels, use_se, activation ("RE" ReLU, "HS" Hardswish), stride.
MOBILENET_V3 = {
    "large": ([(16, 3, 16, 16, False, "RE", 1), (16, 3, 64, 24, False, "RE", 2), (24, 3, 72, 24, False, "RE", 1),
               (24, 5, 72, 40, True, "RE", 2), (40, 5, 120, 40, True, "RE", 1), (40, 5, 120, 40, True, "RE", 1),
               (40, 3, 240, 80, False, "HS", 2), (80, 3, 200, 80, False, "HS", 1), (80, 3, 184, 80, False, "HS", 1),
               (80, 3, 184, 80, False, "HS", 1), (80, 3, 480, 112, True, "HS", 1), (112, 3, 672, 112, True, "HS", 1),
               (112, 5, 672, 160, True, "HS", 2), (160, 5, 960, 160, True, "HS", 1),
               (160, 5, 960, 160, True, "HS", 1)], 1280),
    "small": ([(16, 3, 16, 16, True, "RE", 2), (16, 3, 72, 24, False, "RE", 2), (24, 3, 88, 24, False, "RE", 1),
               (24, 5, 96, 40, True, "HS", 2), (40, 5, 240, 40, True, "HS", 1), (40, 5, 240, 40, True, "HS", 1),
               (40, 5, 120, 48, True, "HS", 1), (48, 5, 144, 48, True, "HS", 1), (48, 5, 288, 96, True, "HS", 2),
               (96, 5, 576, 96, True, "HS", 1), (96, 5, 576, 96, True, "HS", 1)], 1024),
}


def v3_block(cin, k, expanded, cout, use_se, activation, s, norm):
    """mobilenetv3.py InvertedResidual: expand (only if the width changes), depthwise, squeeze-and-
    excitation (squeeze _make_divisible(expanded // 4, 8), ReLU, Hardsigmoid), project; the input is
    added back where stride 1 keeps the channels."""
    act = nn.Hardswish if activation == "HS" else nn.ReLU
    layers = conv_norm_act(cin, expanded, 1, activation=act, norm=norm) if expanded != cin else []
    layers += conv_norm_act(expanded, expanded, k, s, groups=expanded, activation=act, norm=norm)
    if use_se:
        layers.append(SqueezeExcitation(expanded, _make_divisible(expanded // 4, 8), scale_activation=nn.Hardsigmoid))
    layers += conv_norm_act(expanded, cout, 1, norm=norm)
    return Residual(S(*layers)) if s == 1 and cin == cout else S(*layers)


def _mobilenet_v3(arch, shape, width_mult):
    """mobilenetv3.py MobileNetV3: every width through adjust_channels = _make_divisible(c * width_mult, 8)
    (InvertedResidualConfig), the stem a 3x3/2 to the first block's input width with Hardswish, the last
    1x1 to 6x the last block's output, then pooling, flatten and the classifier (BatchNorm eps 0.001,
    momentum 0.01 throughout)."""
    adjust = lambda c: _make_divisible(c * width_mult, 8)  # InvertedResidualConfig.adjust_channels
    setting, last = MOBILENET_V3[arch]
    setting = [(adjust(i), k, adjust(e), adjust(o), se, a, s) for i, k, e, o, se, a, s in setting]
    last_channel, lastconv = adjust(last), 6 * setting[-1][3]
    norm = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
    layers = conv_norm_act(3, setting[0][0], 3, 2, activation=nn.Hardswish, norm=norm)
    layers += [v3_block(*row, norm=norm) for row in setting]
    layers += conv_norm_act(setting[-1][3], lastconv, 1, activation=nn.Hardswish, norm=norm)
    layers.append(nn.AdaptiveAvgPool2d(1))
    return Net(S(*layers), lambda n: S(nn.Flatten(), nn.Linear(n, last_channel), nn.Hardswish(), nn.Dropout(0.2),
                                       nn.Linear(last_channel, 1000)), shape)


def mobilenet_v3_large(shape, width_mult=1.0):
    """torchvision mobilenet_v3_large (mobilenetv3.py)."""
    return _mobilenet_v3("large", shape, width_mult)


def mobilenet_v3_small(shape, width_mult=1.0):
    """torchvision mobilenet_v3_small (mobilenetv3.py)."""
    return _mobilenet_v3("small", shape, width_mult)


# --------------------------------------------------------------------------- RegNetY-400MF
def regnet_block_params(depth, w_0, w_a, w_m, group_width, bottleneck_multiplier=1.0):
    """regnet.py BlockParams.from_init_params and _adjust_widths_groups_compatibilty, the same
    arithmetic in the same (float32, CPU) tensors: returns per-stage depths, widths, group widths."""
    quant = 8
    widths_cont = torch.arange(depth, device="cpu") * w_a + w_0
    block_capacity = torch.round(torch.log(widths_cont / w_0) / math.log(w_m))
    block_widths = (torch.round(torch.divide(w_0 * torch.pow(w_m, block_capacity), quant)) * quant).int().tolist()
    num_stages = len(set(block_widths))
    splits = [w != wp or r != rp for w, wp, r, rp in
              zip(block_widths + [0], [0] + block_widths, block_widths + [0], [0] + block_widths)]
    stage_widths = [w for w, t in zip(block_widths, splits[:-1]) if t]
    stage_depths = torch.diff(torch.tensor([d for d, t in enumerate(splits) if t], device="cpu")).int().tolist()
    bottleneck = [bottleneck_multiplier] * num_stages
    # _adjust_widths_groups_compatibilty
    widths = [int(w * b) for w, b in zip(stage_widths, bottleneck)]
    group_widths = [min(g, w_bot) for g, w_bot in zip([group_width] * num_stages, widths)]
    ws_bot = [_make_divisible(w_bot, g) for w_bot, g in zip(widths, group_widths)]
    stage_widths = [int(w_bot / b) for w_bot, b in zip(ws_bot, bottleneck)]
    return stage_depths, stage_widths, group_widths


def res_bottleneck(cin, cout, s, group_width, se_ratio, bottleneck_multiplier=1.0):
    """regnet.py ResBottleneckBlock: BottleneckTransform (a: 1x1, b: 3x3 in w_b // group_width groups,
    se: squeeze to int(round(se_ratio * cin)) with ReLU and Sigmoid, c: 1x1 without activation), a 1x1
    projection shortcut with BatchNorm where the width or the stride changes, ReLU after the sum."""
    w_b = int(round(cout * bottleneck_multiplier))  # noqa: RUF046  (as regnet.py writes it)
    body = conv_norm_act(cin, w_b, 1, activation=nn.ReLU)
    body += conv_norm_act(w_b, w_b, 3, s, groups=w_b // group_width, activation=nn.ReLU)
    body += [SqueezeExcitation(w_b, int(round(se_ratio * cin)))] if se_ratio else []  # noqa: RUF046
    body += conv_norm_act(w_b, cout, 1)
    shortcut = S(*conv_norm_act(cin, cout, 1, s)) if cin != cout or s != 1 else None
    return Residual(S(*body), shortcut, nn.ReLU())


def regnety_400mf(shape):
    """regnet.py regnet_y_400mf: BlockParams.from_init_params(depth=16, w_0=48, w_a=27.89, w_m=2.09,
    group_width=8, se_ratio=0.25), stride 2 per stage, SimpleStemIN (3x3/2 to 32, BN, ReLU), the
    AnyStages, then pooling, flatten and fc.  The arithmetic gives depths [1, 3, 6, 6], widths
    [48, 104, 208, 440], group widths [8, 8, 8, 8]."""
    depths, widths, group_widths = regnet_block_params(16, 48, 27.89, 2.09, 8)
    layers, cin = conv_norm_act(3, 32, 3, 2, activation=nn.ReLU), 32
    for depth, width, group_width in zip(depths, widths, group_widths):
        for i in range(depth):
            layers.append(res_bottleneck(cin, width, 2 if i == 0 else 1, group_width, 0.25))
            cin = width
    layers.append(nn.AdaptiveAvgPool2d(1))
    return Net(S(*layers), lambda n: S(nn.Flatten(), nn.Linear(n, 1000)), shape)


BUILDERS = {"mobilenet_v3_large": mobilenet_v3_large, "mobilenet_v3_small": mobilenet_v3_small,
            "regnety_400mf": regnety_400mf}

KINDS = {nn.Hardswish: "hardswish", nn.Hardsigmoid: "hardsigmoid"}
