"""Video and audio networks built by hand in PyTorch from their authors' code and papers:
C3D from Tran et al., "Learning Spatiotemporal Features with 3D Convolutional Networks" (ICCV
2015, Sec. 3.3, Fig. 3) and its Caffe layer code (facebook/C3D, C3D-v1.0 pool3d_layer.cpp); r3d_18 and
r2plus1d_18 from torchvision/models/video/resnet.py; M5 from Dai, Dai, Qu, Li & Das, "Very
Deep Convolutional Neural Networks for Raw Waveforms" (ICASSP 2017, Table 1); a WaveNet-style
stack from van den Oord et al., "WaveNet: A Generative Model for Raw Audio" (2016, Sec. 2.1-2.4,
Fig. 4).  Written from those sources, never from symcount.

Every module a forward pass goes through is a leaf module called once, in forward order, so
forward hooks list every layer; residual sums and the gate's product stay tensor operations.
"""
from __future__ import annotations

from torch_blocks import S
from torch_reference import nn, torch


def _flat_features(features, shape):
    """The number of features `features` gives for one input of `shape` (meta: shapes only)."""
    with torch.device("meta"):
        return features(torch.empty(1, *shape))[0].numel()


# --------------------------------------------------------------------------- C3D
# How each of the five max poolings rounds.  "caffe": as C3D's Caffe (pool3d_layer.cpp):
# pooled = ceil((size - kernel) / stride) + 1 for every pooling, no padding (its max pooling
# refuses padding): PyTorch's ceil_mode=True gives the same size for these kernels at every
# input size.  "pool5_ceil": floor on pool1-4, ceil_mode only on pool5.  "padded": the PyTorch
# ports' pool5 (DavideA/c3d-pytorch, C3D_model.py): padding (0, 1, 1), floor everywhere.
C3D_POOLING = {"caffe": (True,) * 5, "pool5_ceil": (False,) * 4 + (True,), "padded": (False,) * 5}


def c3d(shape, classes=487, pooling="caffe", softmax=False):
    """Tran et al. 2015, Sec. 3.3 and Fig. 3: 8 convolutions 3x3x3, stride 1, padding 1, each with
    ReLU (64, 128, 256, 256, 512, 512, 512, 512); 5 max poolings, pool1 1x2x2 stride 1x2x2, the
    others 2x2x2 stride 2; fc6 and fc7 4096 with ReLU and dropout 0.5; fc8 to the 487 Sports-1M
    classes.  At 3x16x112x112 pool5 gives 512x1x4x4 = 8192 features.  fc6 is sized from the
    features at `shape`.  The softmax (Caffe's "prob" layer) is left out unless asked for."""
    ceil = C3D_POOLING[pooling]
    layers, cin, pool = [], shape[0], 0
    for entry in (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"):
        if entry == "M":
            k = (1, 2, 2) if pool == 0 else (2, 2, 2)
            pad = (0, 1, 1) if pooling == "padded" and pool == 4 else 0
            layers.append(nn.MaxPool3d(k, k, pad, ceil_mode=ceil[pool]))
            pool += 1
        else:
            layers += [nn.Conv3d(cin, entry, 3, 1, 1), nn.ReLU()]
            cin = entry
    features = S(*layers)
    n = _flat_features(features, shape)
    return S(features, nn.Flatten(), nn.Linear(n, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 4096),
             nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, classes), *([nn.Softmax(dim=1)] if softmax else []))


# --------------------------------------------------------------------------- video ResNets
# torchvision/models/video/resnet.py, with its attribute names (the state_dict keys match).
def conv3d_simple(cin, cout, midplanes, stride=1):
    """Conv3DSimple: one 3x3x3 convolution, no bias; its downsample stride is (s, s, s)."""
    return nn.Conv3d(cin, cout, (3, 3, 3), stride, 1, bias=False)


def conv2plus1d(cin, cout, midplanes, stride=1):
    """Conv2Plus1D (an nn.Sequential): 1x3x3 spatial convolution to `midplanes`, stride
    (1, s, s), BatchNorm3d, ReLU, then 3x1x1 temporal convolution, stride (s, 1, 1); no biases.
    Its downsample stride is (s, s, s) too."""
    return S(nn.Conv3d(cin, midplanes, (1, 3, 3), (1, stride, stride), (0, 1, 1), bias=False),
             nn.BatchNorm3d(midplanes), nn.ReLU(),
             nn.Conv3d(midplanes, cout, (3, 1, 1), (stride, 1, 1), (1, 0, 0), bias=False))


class BasicBlock(nn.Module):
    """BasicBlock: conv1 = (builder, BatchNorm3d, ReLU), conv2 = (builder, BatchNorm3d), the
    downsample (Conv3d 1x1x1 stride s without bias, BatchNorm3d) when the stride or the width
    changes, the sum, then its own ReLU (torchvision's video block calls each ReLU once).
    midplanes = (cin * c * 27) // (cin * 9 + 3 * c), computed once from the block's input and
    output widths and used by both of its convolutions (only Conv2Plus1D uses it)."""

    def __init__(self, cin, c, builder, stride=1):
        super().__init__()
        midplanes = (cin * c * 3 * 3 * 3) // (cin * 3 * 3 + 3 * c)
        self.conv1 = S(builder(cin, c, midplanes, stride), nn.BatchNorm3d(c), nn.ReLU())
        self.conv2 = S(builder(c, c, midplanes), nn.BatchNorm3d(c))
        self.downsample = S(nn.Conv3d(cin, c, 1, stride, bias=False), nn.BatchNorm3d(c)) \
            if stride != 1 or cin != c else None
        self.relu = nn.ReLU()

    def forward(self, x):
        out = self.conv2(self.conv1(x))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class VideoResNet(nn.Module):
    """VideoResNet with BasicBlock, layers [2, 2, 2, 2] (widths 64, 128, 256, 512, strides 1, 2,
    2, 2), AdaptiveAvgPool3d((1, 1, 1)), the flatten as an nn.Flatten module, then fc."""

    def __init__(self, builder, stem, classes=400):
        super().__init__()
        self.stem = stem
        cin = 64
        for i, (c, stride) in enumerate(((64, 1), (128, 2), (256, 2), (512, 2)), 1):
            setattr(self, f"layer{i}", S(BasicBlock(cin, c, builder, stride), BasicBlock(c, c, builder)))
            cin = c
        self.avgpool, self.flatten, self.fc = nn.AdaptiveAvgPool3d((1, 1, 1)), nn.Flatten(), nn.Linear(512, classes)

    def forward(self, x):
        x = self.layer4(self.layer3(self.layer2(self.layer1(self.stem(x)))))
        return self.fc(self.flatten(self.avgpool(x)))


def r3d_18(shape, classes=400):
    """r3d_18: BasicStem (Conv3d 3->64, kernel (3, 7, 7), stride (1, 2, 2), padding (1, 3, 3),
    no bias; BatchNorm3d; ReLU) and Conv3DSimple in all four layers.  torchvision documents
    num_params 33,371,472 (R3D_18_Weights.KINETICS400_V1)."""
    stem = S(nn.Conv3d(shape[0], 64, (3, 7, 7), (1, 2, 2), (1, 3, 3), bias=False), nn.BatchNorm3d(64), nn.ReLU())
    return VideoResNet(conv3d_simple, stem, classes)


def r2plus1d_18(shape, classes=400):
    """r2plus1d_18: R2Plus1dStem (Conv3d 3->45 (1, 7, 7) stride (1, 2, 2) padding (0, 3, 3),
    BatchNorm3d, ReLU, Conv3d 45->64 (3, 1, 1) padding (1, 0, 0), BatchNorm3d, ReLU; no biases)
    and Conv2Plus1D in all four layers.  torchvision documents num_params 31,505,325."""
    stem = S(nn.Conv3d(shape[0], 45, (1, 7, 7), (1, 2, 2), (0, 3, 3), bias=False), nn.BatchNorm3d(45), nn.ReLU(),
             nn.Conv3d(45, 64, (3, 1, 1), 1, (1, 0, 0), bias=False), nn.BatchNorm3d(64), nn.ReLU())
    return VideoResNet(conv2plus1d, stem, classes)


# --------------------------------------------------------------------------- M5
def m5(shape, classes=10, same=False):
    """Dai et al. 2017, Table 1, M5 (0.5M parameters): [80/4, 128] (receptive field 80, stride
    4), maxpool 4, [3, 128], maxpool 4, [3, 256], maxpool 4, [3, 512], maxpool 4, global average
    pooling, then a fully connected layer to the 10 UrbanSound8k classes.  Batch normalisation
    after every convolution, then ReLU.  The convolutions keep their (redundant) biases.
    Padding 0 by default (no sentence of the paper on padding was found).  same=True: padding
    38 on the first convolution and 1 on the others and pooling that rounds up (ceil_mode), which
    gives the sizes 8000, 2000, 500, 125, 32 at 32000 samples (TensorFlow 'SAME' where the
    length is a multiple of 4)."""
    layers, cin = [], shape[0]
    for i, (k, stride, c) in enumerate(((80, 4, 128), (3, 1, 128), (3, 1, 256), (3, 1, 512))):
        pad = (38 if i == 0 else 1) if same else 0
        layers += [nn.Conv1d(cin, c, k, stride, pad), nn.BatchNorm1d(c), nn.ReLU(), nn.MaxPool1d(4, ceil_mode=same)]
        cin = c
    return S(*layers, nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(cin, classes))


# --------------------------------------------------------------------------- WaveNet
def causal_conv(cin, cout, k=2, dilation=1):
    """Sec. 2.1: a causal convolution, as a left zero padding of dilation * (k - 1) samples
    (a leaf ConstantPad1d) then an unpadded Conv1d, so the output keeps the input's length."""
    return [nn.ConstantPad1d((dilation * (k - 1), 0), 0.0), nn.Conv1d(cin, cout, k, dilation=dilation)]


class GatedResidualBlock(nn.Module):
    """Sec. 2.3-2.4, Fig. 4: z = tanh(W_f * x) (.) sigmoid(W_g * x) with two separate causal
    dilated convolutions (filter and gate, kernel 2, with bias), then a 1x1 convolution added
    to the block's input.  The skip output of Fig. 4 is left out."""

    def __init__(self, c, dilation, k=2):
        super().__init__()
        self.filter, self.tanh = S(*causal_conv(c, c, k, dilation)), nn.Tanh()
        self.gate, self.sigmoid = S(*causal_conv(c, c, k, dilation)), nn.Sigmoid()
        self.residual = nn.Conv1d(c, c, 1)

    def forward(self, x):
        z = self.tanh(self.filter(x)) * self.sigmoid(self.gate(x))
        return x + self.residual(z)


def wavenet_stack(shape, channels=32, dilations=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512), stacks=3, classes=256):
    """A WaveNet-style stack on a (256, L) one-hot mu-law input (Sec. 2.2): a causal Conv1d(256,
    channels, 2); `stacks` x `dilations` gated residual blocks (Sec. 2.1 dilation 1, 2, ..., 512
    repeated, Sec. 2.3-2.4); then ReLU, 1x1 Conv1d, ReLU, 1x1 Conv1d to the 256 classes, the
    output head of Fig. 4.  SKIP CONNECTIONS ARE LEFT OUT: the head reads the residual trunk,
    not the sum of the blocks' skip outputs.  The output has the input's length.  Receptive
    field: 1 + (2 - 1) * (1 + stacks * sum(dilations)) samples = 3071 for the defaults."""
    blocks = [GatedResidualBlock(channels, d) for _ in range(stacks) for d in dilations]
    return S(*causal_conv(shape[0], channels), *blocks, nn.ReLU(), nn.Conv1d(channels, channels, 1), nn.ReLU(),
             nn.Conv1d(channels, classes, 1))


def m5_table_sizes(shape, classes=10):
    """M5 with the sizes of the paper's Table 1 (8000, 2000, 500, 125, 32 at 32,000 samples)."""
    return m5(shape, classes, same=True)


BUILDERS = {"c3d": c3d, "r3d_18": r3d_18, "r2plus1d_18": r2plus1d_18, "m5": m5_table_sizes,
            "wavenet_stack": wavenet_stack}

# The leaf module types used here that torch_zoo.KINDS does not name.  The causal padding
# (ConstantPad1d) is no layer of its own: it belongs to the convolution after it.
KINDS = {nn.Conv3d: "conv", nn.Conv1d: "conv", nn.BatchNorm3d: "bn", nn.BatchNorm1d: "bn", nn.MaxPool3d: "maxpool",
         nn.MaxPool1d: "maxpool", nn.AdaptiveAvgPool3d: "adaptiveavgpool", nn.AdaptiveAvgPool1d: "adaptiveavgpool"}
