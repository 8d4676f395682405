"""Integral shapes: fractional sizes, congruences, rounding rules, solving."""
import json
import math
import subprocess
import sys
from fractions import Fraction

import pytest
from hypothesis import given, strategies as st

import symcount
from torch_reference import nn, torch

ALEXNET = ("conv11-96/4[pad=0] relu lrn maxpool3/2 conv5-256[groups=2] relu lrn maxpool3/2 conv3-384 relu "
           "conv3-384[groups=2] relu conv3-256[groups=2] relu maxpool3/2 fc4096 relu dropout fc4096 relu dropout "
           "fc1000")
ALEXNET_ONE_TOWER = ALEXNET.replace("[groups=2]", "")
# AlexNet's sliding windows along one axis, as (kernel, stride, padding per side), from the paper
ALEXNET_WINDOWS = [(11, 4, 0), (3, 2, 0), (5, 1, 2), (3, 2, 0), (3, 1, 1), (3, 1, 1), (3, 1, 1), (3, 2, 0)]


def exact_sizes(size, windows):
    """Brute force: every window layer's exact size, with Fractions ((i + 2p - k)/s + 1)."""
    sizes = []
    for k, s, p in windows:
        size = Fraction(size + 2 * p - k, s) + 1
        sizes.append(size)
    return sizes


def integral(size, windows):
    return all(v.denominator == 1 and v >= 1 for v in exact_sizes(size, windows))


@pytest.mark.parametrize("body", [ALEXNET, ALEXNET_ONE_TOWER])
def test_alexnet_at_224_is_fractional_where_the_seed_says(body):
    result = symcount.parse("input 3x224x224 " + body).check()
    assert not result.integral
    first = result.findings[0]
    # seeds/002: "owidth and oheight are actually 54.25"; floor gives the 54 the asker found
    assert (first.name, first.exact, first.floor, first.ceil, first.rounded) == ("conv1", Fraction(217, 4), 54, 55, 54)
    # CS231n (seeds/002): "Alex used 3 extra pixels of zero padding": 3 in total, no equal split
    assert (first.padding.total, first.padding.before + first.padding.after) == (3, 3)
    assert first.padding.symmetric is None
    # the nearest sizes that make every layer integral, by brute force over the paper's windows
    report = {r.symbol: r for r in result.symbols}["H"]
    assert report.above == min(n for n in range(225, 400) if integral(n, ALEXNET_WINDOWS)) == 227
    assert report.below == max(n for n in range(1, 224) if integral(n, ALEXNET_WINDOWS))


@pytest.mark.parametrize("body", [ALEXNET, ALEXNET_ONE_TOWER])
def test_alexnet_at_227_is_integral(body):
    # Caffe's deploy.prototxt and CS231n: 227 gives (227 - 11)/4 + 1 = 55
    net = symcount.parse("input 3x227x227 " + body)
    assert net.check().integral and net.layers[0].output == (96, 55, 55)


def test_alexnet_conv1_condition_and_the_whole_network():
    result = symcount.parse(ALEXNET, input="3xSxS").check()
    conv1 = [c for c in result.conditions if c.name == "conv1"][0]
    # (S - 11)/4 + 1 is an integer exactly for S ≡ 3 (mod 4), by brute force over S
    assert {n for n in range(11, 200) if (n - 11) % 4 == 0} == {n for n in range(11, 200)
                                                                if n % conv1.modulus == conv1.residue}
    report = result.symbols[0]
    assert [n for n in range(1, 1000) if report.admits(n)] == [n for n in range(1, 1000) if integral(n, ALEXNET_WINDOWS)]
    net = symcount.parse(ALEXNET, input="3xSxS")
    assert net.valid_sizes(S=range(100, 400)) == [n for n in range(100, 400) if integral(n, ALEXNET_WINDOWS)]
    assert net.smallest_valid(S=224) == 227


def test_vgg16_fc1_depends_on_the_input_through_h_over_32():
    net = symcount.parse("conv3-64x2 pool conv3-128x2 pool conv3-256x3 pool conv3-512x3 pool conv3-512x3 pool "
                         "fc4096 fc4096 fc1000", input="3xHxW")
    result = net.check()
    assert {(r.symbol, r.modulus, r.residue, r.minimum) for r in result.symbols} == {("H", 32, 0, 32), ("W", 32, 0, 32)}
    H, W = net.symbols["H"], net.symbols["W"]
    # seeds/000: fc1 = (512·7·7)·4096 + 4096 at 224 = 7·32; in general 512·(H/32)·(W/32)·4096 + 4096
    rest = 138_357_544 - 102_764_544
    assert sympy_equal(result.exact_totals["params"], 512 * (H / 32) * (W / 32) * 4096 + 4096 + rest)


def sympy_equal(a, b):
    import sympy
    return sympy.simplify(a - b) == 0


def test_googlenet_stem_under_each_rounding():
    # GoogLeNet table 1: conv 7×7/2 → 112×112×64, max pool 3×3/2 → 56×56×64 (Caffe rounds pooling up)
    stem = "input 3x224x224 conv7-64/2[pad=3] maxpool3/2"
    caffe = symcount.parse(stem, framework="caffe")
    floor = symcount.parse(stem)
    ceil = symcount.parse(stem.replace("maxpool3/2", "maxpool3/2[ceil]"))
    assert caffe.layers[0].output == (64, 112, 112)
    with torch.device("meta"):
        x = torch.empty(1, 64, 112, 112)
        torch_ceil = nn.MaxPool2d(3, 2, ceil_mode=True)(x).shape[2]
        torch_floor = nn.MaxPool2d(3, 2)(x).shape[2]
    assert caffe.layers[1].output[1] == ceil.layers[1].output[1] == torch_ceil == 56
    assert floor.layers[1].output[1] == torch_floor == 55


def test_tensorflow_same_padding_split():
    # reference (TensorFlow kernel_shape_util.cc): i = 224, k = 7, s = 2 → 112, padding 2 before, 3 after
    net = symcount.parse("input 3x224x224 conv7-64/2", framework="tensorflow")
    window = net.layers[0].windows[0]
    assert net.layers[0].output == (64, 112, 112) and (window.before, window.after) == (2, 3)
    with torch.device("meta"):  # PyTorch with that explicit asymmetric padding agrees on 112
        padded = torch.nn.functional.pad(torch.empty(1, 3, 224, 224), (2, 3, 2, 3))
        assert nn.Conv2d(3, 64, 7, 2)(padded).shape[2:] == (112, 112)


def caffe_pooled(size, k, s, p):
    """Caffe's pooling_layer.cpp, transcribed: ceil, then clip the last window only when padded."""
    pooled = math.ceil(Fraction(size + 2 * p - k, s)) + 1
    if p and (pooled - 1) * s >= size + p:
        pooled -= 1
    return pooled


@given(st.integers(1, 60), st.integers(1, 5), st.integers(1, 4), st.data())
def test_caffe_pooling_rule(size, k, s, data):
    p = data.draw(st.integers(0, k // 2))
    expected = caffe_pooled(size, k, s, p)
    text = f"input 1x{size}x{size} maxpool{k}/{s}[pad={p}]"
    if expected < 1:
        with pytest.raises(symcount.ShapeError):
            symcount.parse(text, framework="caffe")
        return
    assert symcount.parse(text, framework="caffe").layers[0].output[1] == expected


@given(st.integers(1, 60), st.integers(1, 5), st.integers(1, 4), st.integers(1, 3), st.data())
def test_ceil_mode_pooling_matches_pytorch(size, k, s, d, data):
    p = data.draw(st.integers(0, k // 2))
    kind = data.draw(st.sampled_from(["maxpool", "avgpool"]))
    d = d if kind == "maxpool" else 1
    text = f"input 1x{size}x{size} {kind}{k}/{s}[pad={p}, ceil" + (f", d={d}]" if d > 1 else "]")
    with torch.device("meta"):
        module = nn.MaxPool2d(k, s, p, d, ceil_mode=True) if kind == "maxpool" else \
            nn.AvgPool2d(k, s, p, ceil_mode=True)
        try:
            expected = module(torch.empty(1, 1, size, size)).shape[2]
        except RuntimeError:
            with pytest.raises(symcount.ShapeError):
                symcount.parse(text)
            return
    assert symcount.parse(text).layers[0].output[1] == expected
    # the symbolic closed form, substituted, says the same
    symbolic = symcount.parse(text.replace(f"input 1x{size}x{size}", "input 1xSxS"))
    assert symbolic.layers[0].output[1].xreplace({symbolic.symbols["S"]: size}) == expected


@st.composite
def window_chains(draw):
    windows = []
    for _ in range(draw(st.integers(1, 5))):
        k = draw(st.integers(1, 7))
        windows.append((k, draw(st.integers(1, 4)), draw(st.integers(0, 3))))
    return windows


@given(window_chains())
def test_congruence_says_integral_exactly_when_brute_force_does(windows):
    text = " ".join(f"conv{k}-4/{s}[pad={p}]" for k, s, p in windows)
    report = symcount.parse(text, input="1xSxS").check().symbols[0]
    brute = [n for n in range(1, 300) if integral(n, windows)]
    if not report.solvable:
        assert brute == []
        return
    assert [n for n in range(1, 300) if report.admits(n)] == brute
    if brute:  # the bound the report prints is itself a valid size, the first one
        assert report.minimum == brute[0]


def test_exact_rounding_keeps_rationals():
    net = symcount.parse("input 3x224x224 conv11-96/4[pad=0]", rounding="exact")
    assert net.layers[0].output == (96, Fraction(217, 4), Fraction(217, 4))  # seeds/002's 54.25
    assert net.layers[0].activations == 96 * Fraction(217, 4) ** 2


def test_per_layer_rounding_option():
    net = symcount.parse("input 1x5x5 maxpool2/2[round=ceil] maxpool2/2[round=floor]")
    with torch.device("meta"):
        x = nn.MaxPool2d(2, 2, ceil_mode=True)(torch.empty(1, 1, 5, 5))
        y = nn.MaxPool2d(2, 2)(x)
    assert [row.output[1] for row in net.layers] == [x.shape[2], y.shape[2]]


# ------------------------------------------------------------------ solve

def test_solve_alexnet_padding_under_exact_has_no_symmetric_integer():
    net = symcount.parse("input 3x224x224 conv11-96/4[pad={p}]", rounding="exact")
    result = net.solve(["conv1=55x55"], {"p": range(0, 11)})
    assert result.solutions == ()
    assert "p = 3/2" in result.explanation and "total padding of 2·p = 3" in result.explanation
    assert "1 before and 2 after" in result.explanation


def test_solve_alexnet_padding_under_floor_matches_pytorch():
    net = symcount.parse("input 3x224x224 conv11-96/4[pad={p}]")
    found = [s["p"] for s in net.solve(["conv1=55x55"], {"p": range(0, 11)}).solutions]
    with torch.device("meta"):
        truth = [p for p in range(0, 11) if nn.Conv2d(3, 96, 11, 4, p)(torch.empty(1, 3, 224, 224)).shape[2] == 55]
    assert found == truth


def test_solve_vgg16_input_from_7x7x512_before_fc1():
    body = ("conv3-64x2 pool conv3-128x2 pool conv3-256x3 pool conv3-512x3 pool conv3-512x3 pool "
            "fc4096 fc4096 fc1000")
    floor = symcount.parse(body, input="3xSxS").solve(["fc1.input=512x7x7"], {"S": range(150, 300)})
    with torch.device("meta"):
        layers, c = [], 3
        for width, count in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
            for _ in range(count):
                layers += [nn.Conv2d(c, width, 3, padding=1)]
                c = width
            layers.append(nn.MaxPool2d(2))
        features = nn.Sequential(*layers)
        truth = [s for s in range(150, 300) if features(torch.empty(1, 3, s, s)).shape[1:] == (512, 7, 7)]
    assert [s["S"] for s in floor.solutions] == truth == list(range(224, 256))
    exact = symcount.parse(body, input="3xSxS", rounding="exact").solve(["fc1.input=512x7x7"], {"S": range(150, 300)})
    assert [s["S"] for s in exact.solutions] == [224]


def test_solve_a_width_from_a_parameter_count():
    # seeds/003: Lasagne's MNIST net with 32 filters has 217,706 parameters
    net = symcount.parse("input 1x28x28 conv5-{C}[pad=0] pool conv3-{C}[pad=0] pool fc256 fc10")
    assert [s["C"] for s in net.solve(["params=217706"], {"C": range(1, 200)}).solutions] == [32]


# ------------------------------------------------------------------ CLI

def run(*args):
    return subprocess.run([sys.executable, "-m", "symcount", *args], capture_output=True, text=True, timeout=120)


def test_check_exit_codes():
    assert run("check", "input 3x227x227 " + ALEXNET).returncode == 0
    result = run("check", "input 3x224x224 " + ALEXNET, "--format", "json")
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert document["findings"][0]["exact"] == "217/4"
    assert {s["symbol"]: s["above"] for s in document["symbols"]} == {"H": 227, "W": 227}
    assert run("check", "conv3-64 poo").returncode == 2


def test_solve_exit_codes():
    ok = run("solve", "input 3x{S}x{S} conv11-96/4[pad=0]", "--fact", "conv1=55x55", "--bounds", "S=200..240",
             "--rounding", "exact")
    assert ok.returncode == 0 and "S ∈ {227}" in ok.stdout
    none = run("solve", "input 3x224x224 conv11-96/4[pad={p}]", "--fact", "conv1=55x55", "--bounds", "p=0..9",
               "--rounding", "exact")
    assert none.returncode == 1 and "3/2" in none.stdout
    assert run("solve", "input 3x224x224 conv11-96/4[pad={p}]", "--fact", "conv9=5x5").returncode == 2


def test_solve_says_which_facts_fail():
    net = symcount.parse("conv3-8 pool fc10", input="3xHxW")
    both = net.solve(["maxpool1=5x5", "maxpool1=6x6"], {"H": range(1, 40), "W": range(1, 40)})
    assert both.solutions == () and "each fact can be met alone" in both.explanation
    impossible = net.solve(["maxpool1=5x5", "params=1"], {"H": range(1, 40), "W": range(1, 40)})
    assert impossible.solutions == () and "meets params=1" in impossible.explanation


def test_solve_explains_a_padding_inside_branches():
    # a regression: the explanation's search for padding symbols did not enter branches and crashed there.
    # (224 + 2p - 11)/4 + 1 = 55 needs 2p = 3 (seeds/002; CS231n's "3 extra pixels")
    net = symcount.parse("input 3x224x224 cat(conv11-48/4[pad={p}] | conv11-48/4[pad={p}])", rounding="exact")
    result = net.solve(["conv1=55x55"], {"p": range(0, 4)})
    assert result.solutions == () and "p = 3/2" in result.explanation and "total padding of 2·p = 3" in result.explanation
