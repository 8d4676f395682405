"""Counting conventions: each preset gives its tool's figure.

The VGG-16 figures are the tools' own output on torchvision's VGG-16 at 3×224×224,
batch 1 (recorded again with every zoo network in tests/fixtures/counters); `torch` is
checked against FlopCounterMode run here.
"""
import json

import pytest

import symcount
from symcount import zoo
from torch_zoo import build, trace

# torchvision's layout: an adaptive 7x7 average pooling before the classifier, dropout after each ReLU
VGG16_TORCHVISION = ("input 3x224x224 (conv3-64 relu)x2 maxpool2 (conv3-128 relu)x2 maxpool2 "
                     "(conv3-256 relu)x3 maxpool2 (conv3-512 relu)x3 maxpool2 (conv3-512 relu)x3 maxpool2 "
                     "adaptiveavgpool7 fc4096 relu dropout fc4096 relu dropout fc1000")

MEASURED = {"torchinfo": 15_483_821_032, "fvcore": 15_470_289_408, "thop": 15_470_314_496,
            "deepspeed": 15_470_264_320, "calflops": 15_470_264_320, "torch": 30_940_528_640,
            "ptflops": 15_523_225_576, "deepspeed_flops": 30_973_778_432, "macs": 15_470_264_320}


@pytest.mark.parametrize("name", sorted(MEASURED))
def test_vgg16_headline_figure_of_each_tool(name):
    assert symcount.parse(VGG16_TORCHVISION).ops(name) == MEASURED[name]


def test_switches_reproduce_the_other_measured_figures():
    net = symcount.parse(VGG16_TORCHVISION)
    # ptflops without its double count of functional ReLU and pooling calls
    assert net.ops("ptflops", activations=True, pooling=True) == 15_503_523_304
    assert net.ops("ptflops", functional="all") == 15_503_523_304  # the same: every call counted once
    # ptflops' aten backend counts mm and convolution with their bias, nothing else
    assert net.ops("macs", bias=True) == 15_483_821_032
    assert net.ops("deepspeed", unit="FLOP") == net.ops("torch") == 30_940_528_640


def test_symbolic_figures_reach_the_measured_ones():
    net = symcount.parse(VGG16_TORCHVISION, input="3xHxW")
    at_224 = {net.symbols["H"]: 224, net.symbols["W"]: 224}
    for name in ("torchinfo", "fvcore", "thop", "ptflops"):
        figure = net.ops(name)
        assert figure.free_symbols == {net.symbols["H"], net.symbols["W"]}
        assert figure.xreplace(at_224) == MEASURED[name], name


@pytest.mark.parametrize("name", ["resnet50", "mobilenet_v2", "densenet121", "googlenet"])
def test_torch_preset_is_flop_counter_mode(name):
    _, _, flops = trace(build(name, (3, 224, 224)), (3, 224, 224))
    assert zoo.load(name).ops("torch") == flops


def test_backward_estimate_and_fold_bn():
    net = symcount.parse("input 3x8x8 conv3-4[bias=false] bn relu")
    assert net.ops("torch", backward=True) == 3 * 2 * 8 * 8 * 4 * 27
    # fvcore counts an inference BatchNorm as 2 ops per element; folded into the convolution it
    # costs nothing, and the convolution gains a bias (one add per output) where biases count
    assert net.ops("fvcore") == 8 * 8 * 4 * 27 + 2 * 8 * 8 * 4
    assert net.ops("fvcore", fold_bn=True) == 8 * 8 * 4 * 27
    assert net.ops("torchinfo", fold_bn=True) == 8 * 8 * 4 * 27 + 8 * 8 * 4


def test_bad_convention_or_switch_is_a_clear_error():
    net = symcount.parse("input 3x8x8 conv3-4")
    with pytest.raises(symcount.SymcountError, match="unknown convention 'nope'; choose one of macs"):
        net.ops("nope")
    with pytest.raises(symcount.SymcountError, match="unknown switch colour"):
        net.ops("macs", colour=True)
    with pytest.raises(symcount.SymcountError, match="unit is MAC or FLOP"):
        net.ops("macs", unit="joule")


def test_a_folded_table_keeps_every_layers_figure():
    # a regression: folded block rows once lost their BatchNorm and bias costs (torchinfo) and their
    # receptive field; folding must not change the total, nor a block's field after its last layer
    net = zoo.load("resnet18")
    document = json.loads(net.table("json", depth=0, convention="torchinfo", receptive_field=True))
    assert document["ops"]["total"] == sum(layer["ops"] for layer in document["layers"]) == net.ops("torchinfo")
    stage = [layer for layer in document["layers"] if layer["name"] == "conv5_x"][0]
    assert stage["rf_size"] == net.receptive_field[0].size


# Measured by running each tool on the same PyTorch modules, batch 1 (torchinfo 1.8.0, thop
# 0.1.1.post2209072238, ptflops 0.7.5 pytorch backend, fvcore 0.1.5.post20221221, calflops 0.3.2,
# torch 2.15.0 FlopCounterMode):
#   ConvTranspose2d(8, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
#   ConvTranspose2d(6, 4, 4, stride=2, padding=1, dilation=2, bias=False) on 1×8×5×7;
# and Conv2d(8, 8, 1, bias=False) followed by one more module on 1×8×5×7.
PRESET_ORDER = ("torchinfo", "thop", "ptflops", "fvcore", "torch", "calflops", "calflops_flops")
SMALL_MEASURED = {
    "deconv3-6/2[p=1, op=1, g=2] deconv4-4/2[p=1, d=2, b=false]":
        (304_872, 304_032, 62_160, 61_320, 122_640, 56_280, 112_596),
    "conv1-8[b=false] lrelu": (2240, 2240, 2520, 2240, 4480, 2240, 4760),
    "conv1-8[b=false] instancenorm": (2240, 2800, 2520, 3360, 4480, 2240, 5600),
    "conv1-8[b=false] instancenorm[affine]": (2256, 3360, 2800, 3640, 4480, 2240, 5880),
    "conv1-8[b=false] conv3-4[p=1, padding_mode=reflect, b=false]": (12320,) * 4 + (24640, 12320, 24640),
}


@pytest.mark.parametrize("notation", sorted(SMALL_MEASURED))
def test_transposed_convolution_leaky_relu_and_instance_norm_as_each_tool_counts(notation):
    net = symcount.parse("input 8x5x7 " + notation)
    assert tuple(net.ops(name) for name in PRESET_ORDER) == SMALL_MEASURED[notation]


def test_transposed_convolution_figures_hold_symbolically():
    net = symcount.parse("input 8xHxW deconv3-6/2[p=1, op=1, g=2] deconv4-4/2[p=1, d=2, b=false]")
    at = {net.symbols["H"]: 5, net.symbols["W"]: 7}
    measured = SMALL_MEASURED["deconv3-6/2[p=1, op=1, g=2] deconv4-4/2[p=1, d=2, b=false]"]
    assert tuple(net.ops(name).xreplace(at) for name in PRESET_ORDER) == measured
