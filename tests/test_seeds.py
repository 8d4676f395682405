"""The classic questions people ask about VGG-16, AlexNet and a Lasagne MNIST net, answered with their own published numbers."""
import pytest

import symcount

VGG16 = ("input 3x224x224 conv3-64x2 pool conv3-128x2 pool conv3-256x3 pool conv3-512x3 pool "
         "conv3-512x3 pool fc4096 fc4096 fc1000")


@pytest.fixture(scope="module")
def vgg16():
    return symcount.parse(VGG16)


def _rows(net, kind):
    return [row for row in net.layers if row.kind == kind]


def test_vgg16_per_stage_breakdown_from_the_seed(vgg16):
    # seeds/000 (deltheil's answer): conv3-64 x 2: 38,720 ... fc3: 4,097,000, TOTAL 138,357,544
    convs = [row.params for row in _rows(vgg16, "conv")]
    stages = [sum(convs[0:2]), sum(convs[2:4]), sum(convs[4:7]), sum(convs[7:10]), sum(convs[10:13])]
    assert stages == [38_720, 221_440, 1_475_328, 5_899_776, 7_079_424]
    assert [row.params for row in _rows(vgg16, "fc")] == [102_764_544, 16_781_312, 4_097_000]
    assert vgg16.params == 138_357_544


def test_vgg16_per_layer_weights_and_memory_from_cs231n(vgg16):
    # seeds/000 (CS231n breakdown): weights (3*3*3)*64 = 1,728 ... 4096*1000 = 4,096,000
    expected_weights = [1_728, 36_864, 73_728, 147_456, 294_912, 589_824, 589_824, 1_179_648,
                        2_359_296, 2_359_296, 2_359_296, 2_359_296, 2_359_296, 102_760_448,
                        16_777_216, 4_096_000]
    weighted = [row for row in vgg16.layers if row.kind in ("conv", "fc")]
    assert [row.weights for row in weighted] == expected_weights
    # CONV3-64: [224x224x64] memory 224*224*64; POOL2: [112x112x64]; ... FC: 4096
    assert [row.output for row in vgg16.layers][:3] == [(64, 224, 224), (64, 224, 224), (64, 112, 112)]
    assert [row.activations for row in _rows(vgg16, "maxpool")] == [112 * 112 * 64, 56 * 56 * 128,
                                                                   28 * 28 * 256, 14 * 14 * 512, 7 * 7 * 512]
    # seeds/001: the feature vector before fc1 is 7×7×512 = 25,088
    assert _rows(vgg16, "fc")[0].input == (512, 7, 7)


def test_vgg16_without_biases(vgg16):
    # without any bias 138,344,128 (seeds/000's complaint: conv layers "should have no bias")
    assert vgg16.weights == 138_344_128
    no_bias = VGG16.replace("conv3-64x2", "conv3-64[bias=false]x2").replace("-128x2", "-128[bias=false]x2") \
        .replace("-256x3", "-256[bias=false]x3").replace("-512x3", "-512[bias=false]x3") \
        .replace("fc4096", "fc4096[bias=false]").replace("fc1000", "fc1000[bias=false]")
    assert symcount.parse(no_bias).params == 138_344_128
    # seeds/000: 128x3x3x256 (weights) = 294,912 for conv3-256 without its bias
    assert _rows(symcount.parse(no_bias), "conv")[4].params == 294_912


def test_vgg16_macs_and_weight_file_size(vgg16):
    # calflops / DeepSpeed MACs on torchvision's VGG-16 (tests/fixtures/counters): 15,470,264,320
    assert vgg16.macs == 15_470_264_320
    # seeds/001: 138,357,544 × 4 bytes = 553,430,176
    assert vgg16.params * 4 == 553_430_176


def test_lasagne_mnist_shapes_and_params():
    # seeds/003: Lasagne's table 32x24x24, 32x12x12, 32x10x10, 32x5x5, 256, 10; 217,706 parameters
    net = symcount.parse("input 1x28x28 conv5-32[pad=0] pool conv3-32[pad=0] pool fc256 fc10")
    assert [row.output for row in net.layers] == [(32, 24, 24), (32, 12, 12), (32, 10, 10), (32, 5, 5),
                                                   (256,), (10,)]
    # hbaderts' breakdown: 832, 0, 9'248, 0, 205'056, 2'570
    assert [row.params for row in net.layers] == [832, 0, 9_248, 0, 205_056, 2_570]
    assert net.params == 217_706


ALEXNET_PAPER = ("input 3x227x227 conv11-96/4[pad=0] relu lrn maxpool3/2 conv5-256[groups=2] relu lrn maxpool3/2 "
                 "conv3-384 relu conv3-384[groups=2] relu conv3-256[groups=2] relu maxpool3/2 "
                 "fc4096 relu dropout fc4096 relu dropout fc1000")


def test_alexnet_paper_grouped():
    # the paper (two GPUs as groups=2): 60,965,224 parameters; seeds/002:
    # conv1 55x55x48*2 = 290,400 neurons, and (227-11)/4 + 1 = 55 (CS231n's answer)
    net = symcount.parse(ALEXNET_PAPER)
    assert net.params == 60_965_224
    conv1 = net.layers[0]
    assert conv1.output == (96, 55, 55) and conv1.activations == 290_400
    # seeds/002: layer 2 27x27x128*2 = 186,624; layer 3 13x13x192*2 = 64,896 (after pooling)
    pools = _rows(net, "maxpool")
    assert pools[1].activations == 43_264  # 13×13×256 after the second pooling
    convs = _rows(net, "conv")
    assert convs[1].activations == 186_624
    assert convs[2].activations == 64_896


def test_alexnet_224_gives_54_with_floor():
    # seeds/002: (224 - 11)/4 + 1 = 54.25 → 54 under floor, 96x54x54 = 279,936 neurons
    net = symcount.parse("input 3x224x224 conv11-96/4[pad=0]")
    assert net.layers[0].output == (96, 54, 54)
    assert net.activations == 279_936
