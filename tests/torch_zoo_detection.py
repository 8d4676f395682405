"""U-Net and YOLOv3 built by hand in PyTorch from their authors' descriptions: U-Net from
Ronneberger, Fischer & Brox, "U-Net: Convolutional Networks for Biomedical Image
Segmentation" (MICCAI 2015), Fig. 1 and Sec. 2; YOLOv3 from the authors' cfg/yolov3.cfg
(pjreddie/darknet) and Redmon & Farhadi 2018, "YOLOv3: An Incremental Improvement", Table 1.
Written from those sources, never from symcount.

Every module a forward pass goes through is a leaf module called in forward order (the
U-Net's crop is a leaf `CenterCrop`, YOLOv3's [upsample] an nn.Upsample), so forward hooks
list every layer in order; torch.cat and the residual sums stay plain tensor operations.
"""
from __future__ import annotations

from torch_blocks import Residual, S, conv
from torch_reference import nn, torch


# --------------------------------------------------------------------------- U-Net
class CenterCrop(nn.Module):
    """Crops x to like's H x W about the centre, with the offset torchvision's center_crop
    computes (torchvision/transforms/functional.py): top = int(round((h - th) / 2.0))."""

    def forward(self, x, like):
        (h, w), (th, tw) = x.shape[-2:], like.shape[-2:]
        top, left = int(round((h - th) / 2.0)), int(round((w - tw) / 2.0))
        return x[..., top:top + th, left:left + tw]


def double_conv(cin, cout):
    """Sec. 2: two unpadded 3x3 convolutions (with bias), each followed by a ReLU."""
    return S(conv(cin, cout, 3, p=0), nn.ReLU(), conv(cout, cout, 3, p=0), nn.ReLU())


class UpStep(nn.Module):
    """One step of the expansive path (Sec. 2): the 2x2 up-convolution halving the channels,
    concatenation [cropped skip, upsampled], then the two 3x3 convolutions with ReLU."""

    def __init__(self, c):
        super().__init__()
        self.up, self.crop = nn.ConvTranspose2d(c, c // 2, 2, 2), CenterCrop()
        self.block = double_conv(c, c // 2)

    def forward(self, x, skip):
        x = self.up(x)
        return self.block(torch.cat([self.crop(skip, x), x], 1))


class UNet(nn.Module):
    """Fig. 1: contracting path 64-128-256-512-1024 with 2x2 max pooling stride 2 between
    the levels (each level's output kept for the skip before it is pooled); expansive path
    of four UpSteps; a final 1x1 convolution to the classes.  The drop-out Sec. 3.1 mentions
    at the end of the contracting path is left out: the authors' released network definition
    (phseg_v5-train.prototxt) could not be found to say where it sits, and Fig. 1 does not
    draw it."""

    def __init__(self, cin, classes, widths=(64, 128, 256, 512, 1024)):
        super().__init__()
        layers = []
        for a, b in zip((cin,) + widths[:-1], widths):
            layers += [nn.MaxPool2d(2, 2)] if layers else []
            layers.append(double_conv(a, b))
        self.contracting = nn.ModuleList(layers)
        self.expansive = nn.ModuleList(UpStep(c) for c in widths[:0:-1])  # 1024, 512, 256, 128
        self.head = conv(widths[0], classes, 1, p=0)

    def forward(self, x):
        skips = []
        for layer in self.contracting:
            if isinstance(layer, nn.MaxPool2d):
                skips.append(x)
            x = layer(x)
        for step, skip in zip(self.expansive, reversed(skips)):
            x = step(x, skip)
        return self.head(x)


def unet(shape, classes=2):
    """The paper's U-Net: 1x572x572 in, classes x 388 x 388 out."""
    return UNet(shape[0], classes)


# --------------------------------------------------------------------------- YOLOv3
def cbl(cin, cout, k, s=1):
    """A cfg [convolutional] with batch_normalize=1, pad=1, activation=leaky: Conv2d without
    bias (darknet's bias is BatchNorm's shift), padding k // 2, BatchNorm2d, LeakyReLU(0.1)."""
    return S(conv(cin, cout, k, s, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.1))


def darknet_stage(c, n):
    """Table 1: a strided 3x3 downsampling to c channels, then n residual units (1x1 to c/2,
    3x3 to c, [shortcut] from=-3 activation=linear: a plain sum)."""
    return [cbl(c // 2, c, 3, 2)] + [Residual(S(cbl(c, c // 2, 1), cbl(c // 2, c, 3))) for _ in range(n)]


def darknet53(cin=3):
    """cfg/yolov3.cfg layers 0-74 (Darknet-53 of Table 1 without its avgpool, connected
    and softmax), split where the heads take their routes: layers 0-36, 37-61, 62-74."""
    return (S(cbl(cin, 32, 3), *darknet_stage(64, 1), *darknet_stage(128, 2), *darknet_stage(256, 8)),
            S(*darknet_stage(512, 8)), S(*darknet_stage(1024, 4)))


def neck(cin, c):
    """Five alternating [convolutional]s 1x1 c, 3x3 2c, 1x1 c, 3x3 2c, 1x1 c."""
    return S(cbl(cin, c, 1), cbl(c, 2 * c, 3), cbl(2 * c, c, 1), cbl(c, 2 * c, 3), cbl(2 * c, c, 1))


def head(c, out):
    """A 3x3 [convolutional] 2c, then the detection [convolutional]: 1x1, filters=out,
    activation=linear, no batch_normalize (so a bias); the [yolo] after it has no weights."""
    return S(cbl(c, 2 * c, 3), conv(2 * c, out, 1))


def lateral(cin, c):
    """[route] layers=-4 (the neck's output), a 1x1 [convolutional] c, [upsample] stride=2."""
    return S(cbl(cin, c, 1), nn.Upsample(scale_factor=2, mode="nearest"))


class YOLOv3(nn.Module):
    """cfg/yolov3.cfg: Darknet-53, then three detection branches; [route] layers=-1, 61 and
    [route] layers=-1, 36 concatenate [upsampled, backbone layer] in that order."""

    def __init__(self, cin, classes):
        super().__init__()
        out = 3 * (5 + classes)  # filters=255 for 80 classes: 3 anchors per scale
        self.stage8, self.stage16, self.stage32 = darknet53(cin)
        self.neck1, self.head1 = neck(1024, 512), head(512, out)  # layers 75-79, 80-81 (82 [yolo])
        self.lateral1 = lateral(512, 256)                          # 83 [route] -4, 84-85
        self.neck2, self.head2 = neck(768, 256), head(256, out)    # 86 [route] -1, 61; 87-91, 92-93
        self.lateral2 = lateral(256, 128)                          # 95 [route] -4, 96-97
        self.neck3, self.head3 = neck(384, 128), head(128, out)    # 98 [route] -1, 36; 99-103, 104-105

    def forward(self, x):
        layer36 = self.stage8(x)
        layer61 = self.stage16(layer36)
        x = self.neck1(self.stage32(layer61))
        y1 = self.head1(x)
        x = self.neck2(torch.cat([self.lateral1(x), layer61], 1))
        y2 = self.head2(x)
        x = self.neck3(torch.cat([self.lateral2(x), layer36], 1))
        return y1, y2, self.head3(x)


def yolov3(shape, classes=80):
    """YOLOv3 as cfg/yolov3.cfg defines it: 3x416x416 in, 255 maps at 13, 26 and 52."""
    return YOLOv3(shape[0], classes)


BUILDERS = {"unet": unet, "yolov3": yolov3}

# The leaf module types used here that torch_zoo.KINDS does not name.
KINDS = {CenterCrop: "crop", nn.Upsample: "upsample"}
