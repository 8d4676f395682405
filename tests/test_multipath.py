"""Multi-path notation: res, add, cat, defined blocks, depthwise; against PyTorch."""
import pytest

import symcount
from torch_reference import flops, nn, torch

RESNET18 = """
def basic(c, s) = (res(conv3-{c}/{s}[bias=false] bn relu conv3-{c}[bias=false] bn) relu)
input 3x224x224
conv7-64/2[pad=3, bias=false] bn relu maxpool3/2[pad=1]
basic(64, 1)x2  basic(128, 2) basic(128, 1)  basic(256, 2) basic(256, 1)  basic(512, 2) basic(512, 1)
gap fc1000
"""


class Basic(nn.Module):
    """torchvision's BasicBlock, written out: two 3×3 convolutions, projection when the shape changes."""

    def __init__(self, cin, c, stride):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(cin, c, 3, stride, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
                                  nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c))
        self.shortcut = nn.Sequential(nn.Conv2d(cin, c, 1, stride, bias=False), nn.BatchNorm2d(c)) \
            if stride != 1 or cin != c else nn.Identity()

    def forward(self, x):
        return torch.relu(self.body(x) + self.shortcut(x))


def torch_resnet18():
    with torch.device("meta"):
        layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
        cin = 64
        for c, s in ((64, 1), (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1)):
            layers.append(Basic(cin, c, s))
            cin = c
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 1000)]
        return nn.Sequential(*layers)


def test_resnet18_from_a_defined_block_matches_pytorch():
    net = symcount.parse(RESNET18)
    model = torch_resnet18()
    output, torch_flops = flops(model, (3, 224, 224))
    assert net.params == sum(p.numel() for p in model.parameters())
    assert net.params == 11_689_512  # torchvision's documented resnet18 parameter count
    assert net.non_trainable == sum(b.numel() for n, b in model.named_buffers() if "running" in n)
    assert 2 * net.macs == torch_flops and net.output_shape == output
    projections = [row for row in net.layers if "projection" in row.text and row.kind == "conv"]
    assert [row.output for row in projections] == [(128, 28, 28), (256, 14, 14), (512, 7, 7)]


def test_resnet18_symbolic_input_equals_pytorch_at_odd_sizes():
    net = symcount.parse(RESNET18.replace("input 3x224x224", "input 3xSxS"))
    model = torch_resnet18()
    for size in (97, 160, 225):
        _, torch_flops = flops(model, (3, size, size))
        assert 2 * net.macs.xreplace({net.symbols["S"]: size}) == torch_flops


class Inception(nn.Module):
    def __init__(self, cin, c1, c3r, c3, c5r, c5, pool):
        super().__init__()
        self.branches = nn.ModuleList([
            nn.Conv2d(cin, c1, 1),
            nn.Sequential(nn.Conv2d(cin, c3r, 1), nn.Conv2d(c3r, c3, 3, padding=1)),
            nn.Sequential(nn.Conv2d(cin, c5r, 1), nn.Conv2d(c5r, c5, 5, padding=2)),
            nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(cin, pool, 1))])

    def forward(self, x):
        return torch.cat([branch(x) for branch in self.branches], 1)


def test_inception_3a_concatenation_matches_pytorch():
    # GoogLeNet table 1, inception (3a): 64, 96→128, 16→32, pool proj 32; output 28×28×256
    net = symcount.parse("input 192x28x28 cat(conv1-64 | conv1-96 conv3-128 | conv1-16 conv5-32 | "
                         "maxpool3/1[pad=1] conv1-32)")
    with torch.device("meta"):
        model = Inception(192, 64, 96, 128, 16, 32, 32)
    output, torch_flops = flops(model, (192, 28, 28))
    assert net.output_shape == output == (256, 28, 28)
    assert net.params == sum(p.numel() for p in model.parameters())
    assert 2 * net.macs == torch_flops


def test_dense_block_concatenates_everything_before():
    # an identity branch: each DenseNet layer adds 32 channels to all that came before
    net = symcount.parse("input 64x56x56 cat( | bn relu conv1-128[bias=false] bn relu conv3-32[bias=false])x6")

    class DenseLayer(nn.Module):
        def __init__(self, cin):
            super().__init__()
            self.body = nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(), nn.Conv2d(cin, 128, 1, bias=False),
                                      nn.BatchNorm2d(128), nn.ReLU(), nn.Conv2d(128, 32, 3, padding=1, bias=False))

        def forward(self, x):
            return torch.cat([x, self.body(x)], 1)

    with torch.device("meta"):
        model = nn.Sequential(*[DenseLayer(64 + 32 * i) for i in range(6)])
    output, torch_flops = flops(model, (64, 56, 56))
    assert net.output_shape == output == (256, 56, 56)
    assert net.params == sum(p.numel() for p in model.parameters())
    assert 2 * net.macs == torch_flops


def test_depthwise_separable_matches_pytorch():
    net = symcount.parse("input 32x112x112 dw3[bias=false] bn relu conv1-64[bias=false] bn relu "
                         "dw3/2[bias=false] bn relu conv1-128[bias=false] bn relu")
    with torch.device("meta"):
        model = nn.Sequential(nn.Conv2d(32, 32, 3, 1, 1, groups=32, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
                              nn.Conv2d(32, 64, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                              nn.Conv2d(64, 64, 3, 2, 1, groups=64, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                              nn.Conv2d(64, 128, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU())
    output, torch_flops = flops(model, (32, 112, 112))
    assert net.output_shape == output
    assert net.params == sum(p.numel() for p in model.parameters())
    assert 2 * net.macs == torch_flops


def test_explicit_shortcut_and_add():
    net = symcount.parse("input 64x56x56 res(conv3-128/2 bn relu conv3-128 bn | conv1-128/2[pad=0] bn)")
    with torch.device("meta"):  # the same block, its shortcut a 1×1 convolution with bias
        body = nn.Sequential(nn.Conv2d(64, 128, 3, 2, 1), nn.BatchNorm2d(128), nn.ReLU(),
                             nn.Conv2d(128, 128, 3, 1, 1), nn.BatchNorm2d(128))
        shortcut = nn.Sequential(nn.Conv2d(64, 128, 1, 2), nn.BatchNorm2d(128))
        output = (body(torch.empty(1, 64, 56, 56)) + shortcut(torch.empty(1, 64, 56, 56))).shape[1:]
    assert net.params == sum(p.numel() for m in (body, shortcut) for p in m.parameters())
    assert net.output_shape == output
    assert symcount.parse("input 8x4x4 add(conv3-8 | conv1-8 | )").output_shape == (8, 4, 4)


def test_mismatched_branches_name_both_shapes_and_branches():
    with pytest.raises(symcount.ShapeError) as caught:
        symcount.parse("input 64x8x8 add(conv3-64 | conv3-32)")
    message = str(caught.value)
    assert "branch 1 (conv3-64) gives 64×8×8" in message and "branch 2 (conv3-32) gives 32×8×8" in message
    with pytest.raises(symcount.ShapeError, match="cannot be concatenated"):
        symcount.parse("input 64x8x8 cat(conv3-64/2 | conv3-32)")


def test_block_definition_errors():
    with pytest.raises(symcount.NotationError, match="unknown block 'basic'"):
        symcount.parse("input 64x4x4 basic(3)")
    with pytest.raises(symcount.NotationError, match=r"takes 1 argument\(s\) \(c\), got 2"):
        symcount.parse("def basic(c) = (conv3-{c}) basic(1 2)")
    for name in ("conv2x", "bn1", "relu6", "resx"):  # a keyword then a digit or an x: read as the keyword
        with pytest.raises(symcount.NotationError, match="would be read as a layer keyword"):
            symcount.parse(f"def {name}(c) = (relu)")
    with pytest.raises(symcount.LimitError, match="calls itself"):
        symcount.parse("def a(c) = (a({c})) a(1)")
    with pytest.raises(symcount.NotationError, match="defined twice"):
        symcount.parse("def b(c) = (relu) def b(d) = (relu) b(1)")


def test_block_names_may_begin_with_a_keyword_followed_by_a_letter():
    # resnet, densenet, bnblock: a keyword ends where a letter or _ goes on (a regression: these lexed
    # as res + net, dense + net, bn + block)
    net = symcount.parse("def resnet(c) = (conv3-{c}) def densenet(c) = (conv1-{c}) def bn_block(c) = (bn) "
                         "input 3x8x8 resnet(4) densenet(8) bn_block(0) relux2")
    with torch.device("meta"):
        model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(4, 8, 1), nn.BatchNorm2d(8))
    assert net.params == sum(p.numel() for p in model.parameters())
    assert [row.qualified_name for row in net.layers] == ["resnet1.conv1", "densenet1.conv2", "bn_block1.bn1",
                                                          "relu1", "relu2"]


def test_branches_and_calls_inside_a_group():
    # a regression: a group once kept only plain layers, dropping res(...) and calls inside it
    text = "def unit(c) = (conv3-{c} relu) input 8x4x4 (res(conv3-8 bn) relu unit(8))x2"
    with torch.device("meta"):
        model = nn.Sequential(*[m for _ in range(2) for m in (nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8),
                                                              nn.Conv2d(8, 8, 3, padding=1))])
    assert symcount.parse(text).params == sum(p.numel() for p in model.parameters())


RESNET18_STAGES = """
def basic(c, s) = (res(conv3-{c}/{s}[bias=false] bn relu conv3-{c}[bias=false] bn) relu)
input 3x224x224 conv7-64/2[pad=3, bias=false] bn relu maxpool3/2[pad=1]
"conv2_x": basic(64, 1)x2  "conv3_x": (basic(128, 2) basic(128, 1))
"conv4_x": (basic(256, 2) basic(256, 1))  "conv5_x": (basic(512, 2) basic(512, 1))
gap fc1000
"""


def test_stage_subtotals_equal_pytorch_stage_modules():
    net = symcount.parse(RESNET18_STAGES)
    model = torch_resnet18()
    stages = {row.name: row for row in net.folded(0) if row.kind == "block"}
    # the torch model's blocks 4-5, 6-7, 8-9, 10-11 are ResNet's conv2_x ... conv5_x
    for name, (first, last) in zip(("conv2_x", "conv3_x", "conv4_x", "conv5_x"), ((4, 6), (6, 8), (8, 10), (10, 12))):
        torch_stage = list(model.children())[first:last]
        assert stages[name].params == sum(p.numel() for m in torch_stage for p in m.parameters())
        _, stage_flops = flops(nn.Sequential(*torch_stage), stages[name].input)
        assert 2 * stages[name].macs == stage_flops and stages[name].output == flops(
            nn.Sequential(*torch_stage), stages[name].input)[0]
    assert sum(row.params for row in net.folded(0)) == net.params


def test_block_names_and_depths():
    net = symcount.parse(RESNET18_STAGES)
    names = [row.qualified_name for row in net.layers]
    assert "conv3_x.basic3.res3.conv8" in names  # stage . block pass . residual . layer
    assert [row.name for row in net.folded(1) if row.path == ("conv2_x",)] == ["basic1", "basic2"]
    with pytest.raises(symcount.SymcountError, match="depth"):
        net.folded(-1)


def test_cli_depth():
    import json
    import subprocess
    import sys
    result = subprocess.run([sys.executable, "-m", "symcount", RESNET18_STAGES, "--depth", "0", "--format", "json"],
                            capture_output=True, text=True, timeout=120)
    rows = json.loads(result.stdout)["layers"]
    assert [r["name"] for r in rows if r["kind"] == "block"] == ["conv2_x", "conv3_x", "conv4_x", "conv5_x"]
    assert sum(r["params"] for r in rows) == 11_689_512  # torchvision's documented resnet18 count


def test_paths_that_never_meet_after_caffe_rounding_are_a_shape_error():
    """cat( | deconv3-3/2 cat(pool[round=caffe] | )) on 3×H×W: the inner paths give (H + 1) and
    2H + 1, which meet at no H (PyTorch: 2×2 max pooling with ceil_mode on 2H + 1 gives H + 1);
    comparing them at sample points must not fail on a plain number."""
    with torch.device("meta"):
        x = nn.ConvTranspose2d(3, 3, 3, 2)(torch.empty(1, 3, 5, 5))
        assert (x.shape[-1], nn.MaxPool2d(2, ceil_mode=True)(x).shape[-1]) == (2 * 5 + 1, 5 + 1)
    with pytest.raises(symcount.ShapeError, match="cannot be concatenated"):
        symcount.parse("input 3xHxW cat( | deconv3-3/2 cat(pool[round=caffe] | ))")
