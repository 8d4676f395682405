"""The zoo's networks built by hand in PyTorch, each from its paper's table (torchvision
has no CPU build here, so nothing is imported from it).  These are the tests' outside
truth for tests/test_zoo.py: written from the papers, never from symcount's notation.

Every module a forward pass goes through is a leaf module called in the order the paper
draws the layers (a residual block: its body, then its shortcut, then the ReLU after the
sum), so forward hooks list every layer's output shape in order.
"""
from __future__ import annotations

from torch_blocks import Concat, Net, Residual, S, _make_divisible, conv
from torch_reference import nn, torch
import torch_zoo_detection
import torch_zoo_inception
import torch_zoo_mobile
import torch_zoo_text
import torch_zoo_video
import torch_zoo_vit
from torch_zoo_efficient import efficientnet_b0, shufflenet_v2_x1_0


# --------------------------------------------------------------------------- LeNet-5
def lenet5(shape):
    features = S(conv(1, 6, 5, p=0), nn.Tanh(), nn.AvgPool2d(2), conv(6, 16, 5, p=0), nn.Tanh(), nn.AvgPool2d(2),
                 conv(16, 120, 5, p=0), nn.Tanh())
    return Net(features, lambda n: S(nn.Linear(n, 84), nn.Tanh(), nn.Linear(84, 10)), shape)


# --------------------------------------------------------------------------- AlexNet
def classifier_4096(n, softmax=True, dropout_first=False):
    layers = []
    layers += [nn.Flatten(), nn.Dropout(), nn.Linear(n, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU()] \
        if dropout_first else \
        [nn.Linear(n, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout()]
    layers.append(nn.Linear(4096, 1000))
    return S(*layers, *([nn.Softmax(dim=1)] if softmax else []))


def alexnet(shape):
    lrn = lambda: nn.LocalResponseNorm(5, 1e-4, 0.75, 2)  # noqa: E731  (paper Sec. 3.3)
    features = S(conv(3, 96, 11, 4, 0), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
                 conv(96, 256, 5, groups=2), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
                 conv(256, 384, 3), nn.ReLU(), conv(384, 384, 3, groups=2), nn.ReLU(),
                 conv(384, 256, 3, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2))
    return Net(features, classifier_4096, shape)


def alexnet_torchvision(shape):
    features = S(conv(3, 64, 11, 4, 2), nn.ReLU(), nn.MaxPool2d(3, 2), conv(64, 192, 5), nn.ReLU(),
                 nn.MaxPool2d(3, 2), conv(192, 384, 3), nn.ReLU(), conv(384, 256, 3), nn.ReLU(),
                 conv(256, 256, 3), nn.ReLU(), nn.MaxPool2d(3, 2), nn.AdaptiveAvgPool2d(6))
    return Net(features, lambda n: classifier_4096(n, softmax=False, dropout_first=True), shape)


# --------------------------------------------------------------------------- VGG
# Table 1 of the paper, column by column: a number is a 3x3 convolution's filters, (1, n)
# a 1x1 convolution's, M a 2x2 max pooling, L local response normalisation.
VGG_TABLE = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg11_lrn": [64, "L", "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16_c": [64, 64, "M", 128, 128, "M", 256, 256, (1, 256), "M", 512, 512, (1, 512), "M",
                512, 512, (1, 512), "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"],
}


def vgg(name):
    def build(shape):
        layers, cin = [], 3
        for entry in VGG_TABLE[name]:
            if entry == "M":
                layers.append(nn.MaxPool2d(2))
            elif entry == "L":
                layers.append(nn.LocalResponseNorm(5))
            else:
                k, c = entry if isinstance(entry, tuple) else (3, entry)
                layers += [conv(cin, c, k), nn.ReLU()]
                cin = c
        return Net(S(*layers), classifier_4096, shape)
    return build


def vgg16_bn(shape):
    """torchvision's vgg16_bn: configuration D, BatchNorm2d between each convolution and its ReLU,
    AdaptiveAvgPool2d(7), the classifier without softmax."""
    layers, cin = [], 3
    for entry in VGG_TABLE["vgg16"]:
        if entry == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [conv(cin, entry, 3), nn.BatchNorm2d(entry), nn.ReLU()]
            cin = entry
    layers.append(nn.AdaptiveAvgPool2d(7))
    return Net(S(*layers), lambda n: classifier_4096(n, softmax=False), shape)


# --------------------------------------------------------------------------- ResNet
def basic(cin, c, s):
    body = S(conv(cin, c, 3, s, bias=False), nn.BatchNorm2d(c), nn.ReLU(), conv(c, c, 3, bias=False),
             nn.BatchNorm2d(c))
    shortcut = S(conv(cin, c, 1, s, bias=False), nn.BatchNorm2d(c)) if s != 1 or cin != c else None
    return Residual(body, shortcut, nn.ReLU()), c


def bottleneck(cin, c, s, groups=1, base_width=64):
    """torchvision's v1.5: the stride on the 3x3; its inner width int(c * base_width / 64) * groups
    (ResNeXt: groups 32, base width 4; Wide ResNet: base width 128)."""
    w = int(c * (base_width / 64.0)) * groups
    body = S(conv(cin, w, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(), conv(w, w, 3, s, groups=groups, bias=False),
             nn.BatchNorm2d(w), nn.ReLU(), conv(w, 4 * c, 1, bias=False), nn.BatchNorm2d(4 * c))
    shortcut = S(conv(cin, 4 * c, 1, s, bias=False), nn.BatchNorm2d(4 * c)) if s != 1 or cin != 4 * c else None
    return Residual(body, shortcut, nn.ReLU()), 4 * c


RESNET_TABLE = {"resnet18": (basic, (2, 2, 2, 2)), "resnet34": (basic, (3, 4, 6, 3)),
                "resnet50": (bottleneck, (3, 4, 6, 3)), "resnet101": (bottleneck, (3, 4, 23, 3)),
                "resnet152": (bottleneck, (3, 8, 36, 3)),
                # torchvision's resnext50_32x4d (groups=32, width_per_group=4), wide_resnet50_2 (width_per_group=128)
                "resnext50_32x4d": (lambda cin, c, s: bottleneck(cin, c, s, 32, 4), (3, 4, 6, 3)),
                "wide_resnet50_2": (lambda cin, c, s: bottleneck(cin, c, s, 1, 128), (3, 4, 6, 3))}


def resnet(name):
    block, counts = RESNET_TABLE[name]

    def build(shape):
        layers = [conv(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
        cin = 64
        for stage, (c, n) in enumerate(zip((64, 128, 256, 512), counts)):
            for i in range(n):
                module, cin = block(cin, c, 2 if stage and not i else 1)
                layers.append(module)
        layers.append(nn.AdaptiveAvgPool2d(1))
        return Net(S(*layers), lambda n: nn.Linear(n, 1000), shape)  # torchvision: no softmax
    return build


# --------------------------------------------------------------------------- GoogLeNet
# Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj
GOOGLENET_TABLE = {"3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
                   "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64),
                   "4c": (128, 128, 256, 24, 64, 64), "4d": (112, 144, 288, 32, 64, 64),
                   "4e": (256, 160, 320, 32, 128, 128), "5a": (256, 160, 320, 32, 128, 128),
                   "5b": (384, 192, 384, 48, 128, 128)}


def inception(cin, c1, r3, c3, r5, c5, pp):
    return Concat(S(conv(cin, c1, 1), nn.ReLU()),
                  S(conv(cin, r3, 1), nn.ReLU(), conv(r3, c3, 3), nn.ReLU()),
                  S(conv(cin, r5, 1), nn.ReLU(), conv(r5, c5, 5), nn.ReLU()),
                  S(nn.MaxPool2d(3, 1, 1), conv(cin, pp, 1), nn.ReLU())), c1 + c3 + c5 + pp


def googlenet(shape):
    pool = lambda: nn.MaxPool2d(3, 2, ceil_mode=True)  # noqa: E731
    layers = [conv(3, 64, 7, 2, 3), nn.ReLU(), pool(), nn.LocalResponseNorm(5), conv(64, 64, 1), nn.ReLU(),
              conv(64, 192, 3), nn.ReLU(), nn.LocalResponseNorm(5), pool()]
    cin = 192
    for name, row in GOOGLENET_TABLE.items():
        if name in ("4a", "5a"):
            layers.append(pool())
        module, cin = inception(cin, *row)
        layers.append(module)
    layers += [nn.AvgPool2d(7, 1), nn.Dropout(0.4)]
    return Net(S(*layers), lambda n: S(nn.Linear(n, 1000), nn.Softmax(dim=1)), shape)


# --------------------------------------------------------------------------- MobileNet
def mobilenet_v1(shape, alpha=1):
    """Table 1 (the last depthwise convolution with stride 1), channels times alpha."""
    w = lambda c: int(c * alpha)  # noqa: E731  (alpha makes them whole in the tests)
    layers, cin = [conv(3, w(32), 3, 2, bias=False), nn.BatchNorm2d(w(32)), nn.ReLU()], w(32)
    for c, s in [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + \
            [(1024, 2), (1024, 1)]:
        layers += [conv(cin, cin, 3, s, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU(),
                   conv(cin, w(c), 1, bias=False), nn.BatchNorm2d(w(c)), nn.ReLU()]
        cin = w(c)
    layers.append(nn.AdaptiveAvgPool2d(1))
    return Net(S(*layers), lambda n: S(nn.Linear(n, 1000), nn.Softmax(dim=1)), shape)


def inverted_residual(cin, cout, s, t):
    hidden = cin * t
    layers = [conv(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6()] if t != 1 else []
    layers += [conv(hidden, hidden, 3, s, groups=hidden, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(),
               conv(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout)]
    return Residual(S(*layers)) if s == 1 and cin == cout else S(*layers)

def mobilenet_v2(shape, width_mult=1.0):
    """torchvision/models/mobilenetv2.py: widths rounded by _make_divisible(c * width_mult, 8),
    the last one at least 1280."""
    first, last = _make_divisible(32 * width_mult), _make_divisible(1280 * max(1.0, width_mult))
    layers, cin = [conv(3, first, 3, 2, bias=False), nn.BatchNorm2d(first), nn.ReLU6()], first
    # Table 2: expansion t, channels c, repeats n, first stride s
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                       (6, 160, 3, 2), (6, 320, 1, 1)]:
        cout = _make_divisible(c * width_mult)
        for i in range(n):
            layers.append(inverted_residual(cin, cout, s if i == 0 else 1, t))
            cin = cout
    layers += [conv(cin, last, 1, bias=False), nn.BatchNorm2d(last), nn.ReLU6(), nn.AdaptiveAvgPool2d(1)]
    return Net(S(*layers), lambda n: S(nn.Flatten(), nn.Dropout(0.2), nn.Linear(n, 1000)), shape)


# --------------------------------------------------------------------------- SqueezeNet
def fire(cin, s, e1, e3):
    return S(conv(cin, s, 1), nn.ReLU(), Concat(S(conv(s, e1, 1), nn.ReLU()), S(conv(s, e3, 3), nn.ReLU())))


def squeezenet(version):
    def build(shape):
        pool = lambda: nn.MaxPool2d(3, 2, ceil_mode=True)  # noqa: E731
        if version == "1_0":  # Table 1
            layers = [conv(3, 96, 7, 2, 0), nn.ReLU(), pool(), fire(96, 16, 64, 64), fire(128, 16, 64, 64),
                      fire(128, 32, 128, 128), pool(), fire(256, 32, 128, 128), fire(256, 48, 192, 192),
                      fire(384, 48, 192, 192), fire(384, 64, 256, 256), pool(), fire(512, 64, 256, 256)]
        else:  # the 1.1 release
            layers = [conv(3, 64, 3, 2, 0), nn.ReLU(), pool(), fire(64, 16, 64, 64), fire(128, 16, 64, 64), pool(),
                      fire(128, 32, 128, 128), fire(256, 32, 128, 128), pool(), fire(256, 48, 192, 192),
                      fire(384, 48, 192, 192), fire(384, 64, 256, 256), fire(512, 64, 256, 256)]
        layers += [nn.Dropout(), conv(512, 1000, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1)]
        return S(*layers)
    return build


# --------------------------------------------------------------------------- DenseNet
def densenet121(shape, growth=32, blocks=(6, 12, 24, 16)):
    layers = [conv(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    c = 64
    for index, n in enumerate(blocks):
        for _ in range(n):
            layers.append(Concat(nn.Identity(), S(nn.BatchNorm2d(c), nn.ReLU(), conv(c, 4 * growth, 1, bias=False),
                                                  nn.BatchNorm2d(4 * growth), nn.ReLU(),
                                                  conv(4 * growth, growth, 3, bias=False))))
            c += growth
        if index < len(blocks) - 1:
            layers += [nn.BatchNorm2d(c), nn.ReLU(), conv(c, c // 2, 1, bias=False), nn.AvgPool2d(2)]
            c //= 2
    layers += [nn.BatchNorm2d(c), nn.ReLU(), nn.AdaptiveAvgPool2d(1)]
    return Net(S(*layers), lambda n: nn.Linear(n, 1000), shape)  # torchvision: no softmax


# --------------------------------------------------------------------------- pix2pix and CycleGAN
# As the authors' code builds them (junyanz/pytorch-CycleGAN-and-pix2pix, models/networks.py):
# written from that code's structure (UnetSkipConnectionBlock, NLayerDiscriminator, ResnetGenerator,
# ResnetBlock), with ReflectionPad2d modules as the code has them.
class UnetBlock(nn.Module):
    """UnetSkipConnectionBlock: down, the inner block, up; the input concatenated in front
    except in the outermost block."""

    def __init__(self, outer, inner, cin=None, sub=None, outermost=False, innermost=False, dropout=False):
        super().__init__()
        self.outermost = outermost
        downconv = nn.Conv2d(cin or outer, inner, 4, 2, 1, bias=False)
        if outermost:
            layers = [downconv, sub, nn.ReLU(), nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1), nn.Tanh()]
        elif innermost:
            layers = [nn.LeakyReLU(0.2), downconv, nn.ReLU(), nn.ConvTranspose2d(inner, outer, 4, 2, 1, bias=False),
                      nn.BatchNorm2d(outer)]
        else:
            layers = [nn.LeakyReLU(0.2), downconv, nn.BatchNorm2d(inner), sub, nn.ReLU(),
                      nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1, bias=False), nn.BatchNorm2d(outer)]
            layers += [nn.Dropout(0.5)] if dropout else []
        self.model = S(*layers)

    def forward(self, x):
        return self.model(x) if self.outermost else torch.cat([x, self.model(x)], 1)


def pix2pix_unet(shape, ngf=64, downs=8):
    block = UnetBlock(ngf * 8, ngf * 8, innermost=True)
    for _ in range(downs - 5):
        block = UnetBlock(ngf * 8, ngf * 8, sub=block, dropout=True)
    for outer in (ngf * 4, ngf * 2, ngf):
        block = UnetBlock(outer, outer * 2, sub=block)
    return UnetBlock(3, ngf, cin=shape[0], sub=block, outermost=True)


def patchgan(norm, sigmoid):
    def build(shape, ndf=64):
        layers = [nn.Conv2d(shape[0], ndf, 4, 2, 1), nn.LeakyReLU(0.2)]
        bias = norm is nn.InstanceNorm2d  # use_bias: only without BatchNorm's own shift
        for cin, cout, stride in ((ndf, ndf * 2, 2), (ndf * 2, ndf * 4, 2), (ndf * 4, ndf * 8, 1)):
            layers += [nn.Conv2d(cin, cout, 4, stride, 1, bias=bias), norm(cout), nn.LeakyReLU(0.2)]
        layers += [nn.Conv2d(ndf * 8, 1, 4, 1, 1)] + ([nn.Sigmoid()] if sigmoid else [])
        return S(*layers)
    return build


def cyclegan_resnet(shape, ngf=64, blocks=9):
    def block(dim):
        return Residual(S(nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), nn.InstanceNorm2d(dim), nn.ReLU(),
                          nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), nn.InstanceNorm2d(dim)))
    layers = [nn.ReflectionPad2d(3), nn.Conv2d(shape[0], ngf, 7), nn.InstanceNorm2d(ngf), nn.ReLU()]
    for mult in (1, 2):
        layers += [nn.Conv2d(ngf * mult, ngf * mult * 2, 3, 2, 1), nn.InstanceNorm2d(ngf * mult * 2), nn.ReLU()]
    layers += [block(ngf * 4) for _ in range(blocks)]
    for mult in (4, 2):
        layers += [nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 3, 2, 1, output_padding=1),
                   nn.InstanceNorm2d(ngf * mult // 2), nn.ReLU()]
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7), nn.Tanh()]
    return S(*layers)


BUILDERS = {"lenet5": lenet5, "alexnet": alexnet, "alexnet_torchvision": alexnet_torchvision,
            **{name: vgg(name) for name in VGG_TABLE}, **{name: resnet(name) for name in RESNET_TABLE},
            "googlenet": googlenet, "mobilenet_v1": mobilenet_v1, "mobilenet_v2": mobilenet_v2,
            "squeezenet1_0": squeezenet("1_0"), "squeezenet1_1": squeezenet("1_1"), "densenet121": densenet121,
            "pix2pix_unet": pix2pix_unet, "pix2pix_patchgan": patchgan(nn.BatchNorm2d, sigmoid=True),
            "cyclegan_resnet": cyclegan_resnet, "cyclegan_patchgan": patchgan(nn.InstanceNorm2d, sigmoid=False),
            "efficientnet_b0": efficientnet_b0, "shufflenet_v2_x1_0": shufflenet_v2_x1_0, "vgg16_bn": vgg16_bn,
            **torch_zoo_mobile.BUILDERS, **torch_zoo_inception.BUILDERS, **torch_zoo_detection.BUILDERS, **torch_zoo_video.BUILDERS,
            **torch_zoo_vit.BUILDERS, **torch_zoo_text.BUILDERS,
            "inception_v3_noaux": lambda shape: torch_zoo_inception.inception_v3(shape, aux_logits=False)}

# What symcount calls the layer each leaf module is (Identity is no layer there).
KINDS = {nn.Flatten: "flatten", nn.Conv2d: "conv", nn.BatchNorm2d: "bn", nn.ReLU: "relu", nn.ReLU6: "relu6", nn.Tanh: "tanh",
         nn.MaxPool2d: "maxpool", nn.AvgPool2d: "avgpool", nn.AdaptiveAvgPool2d: "adaptiveavgpool",
         nn.Linear: "fc", nn.Dropout: "dropout", nn.LocalResponseNorm: "lrn", nn.Softmax: "softmax",
         nn.ConvTranspose2d: "deconv", nn.InstanceNorm2d: "instancenorm", nn.LeakyReLU: "lrelu", nn.Sigmoid: "sigmoid",
         nn.SiLU: "silu", nn.ChannelShuffle: "shuffle",
         **torch_zoo_mobile.KINDS, **torch_zoo_inception.KINDS, **torch_zoo_detection.KINDS, **torch_zoo_video.KINDS,
         **torch_zoo_vit.KINDS, **torch_zoo_text.KINDS}


# Helper classes a module file defines for itself (symcount's export writes its own), by name.
NAMED_KINDS = {"LayerNorm2d": "layernorm", "LayerScale": "scale", "Crop": "crop", "CenterCrop": "crop",
               "PatchEmbedding": "patch", "ClassToken": "cls", "PositionEmbedding": "pos",
               "FixedPositionEmbedding": "pos", "SegmentEmbedding": "segment", "SelfAttention": "attn",
               "ClassPool": "clspool", "TokenMean": "gap", "TiedLinear": "fc", "TensorMean": "adaptiveavgpool",
               "Mean": "adaptiveavgpool"}


def _kind(module):
    return KINDS.get(type(module)) or NAMED_KINDS.get(type(module).__name__)


def _entry(module, output, channels_last):
    """(kind, output shape); a layer between a Permute to N×H×W×C and the one back (ConvNeXt's
    blocks; an exported ChannelsLast wrapper) is listed on C×H×W, its Linear as symcount's
    per-position 1×1 convolution."""
    kind, shape = _kind(module), tuple(output.shape[1:])
    if channels_last:
        return ("conv" if kind == "fc" else kind), (shape[2], shape[0], shape[1])
    return kind, shape


def trace(model, input_shape):
    """Each leaf layer's (kind, output shape) in the order the forward pass runs them,
    the output shape (the last output of a model with side heads), and FlopCounterMode's
    total FLOPs."""
    from torch.utils.flop_counter import FlopCounterMode
    seen, permuted = [], [False]
    hooks = [module.register_forward_hook(lambda m, i, o: seen.append(_entry(m, o, permuted[0])))
             for module in model.modules() if _kind(module)]
    hooks += [module.register_forward_hook(lambda m, i, o: permuted.__setitem__(0, list(m.dims) == [0, 2, 3, 1]))
              for module in model.modules() if type(module).__name__ == "Permute"]
    for module in model.modules():
        if type(module).__name__ == "ChannelsLast":
            hooks += [module.register_forward_pre_hook(lambda m, i: permuted.__setitem__(0, True)),
                      module.register_forward_hook(lambda m, i, o: permuted.__setitem__(0, False))]
    dtype = getattr(model, "input_dtype", torch.float32)  # a language model takes token ids (torch.long)
    with torch.device("meta"), FlopCounterMode(display=False) as counter:
        output = model(torch.zeros(1, *input_shape, dtype=dtype))
    for hook in hooks:
        hook.remove()
    output = output[-1] if isinstance(output, tuple) else output
    return seen, tuple(output.shape[1:]), counter.get_total_flops()


def build(name, input_shape, **kwargs):
    with torch.device("meta"):
        return BUILDERS[name](input_shape, **kwargs).eval()
