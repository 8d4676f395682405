"""Regression tests for wrong answers found by independent checks.  Each number comes
from outside: PyTorch building the network, Caffe's and PyTorch's pooling rules
transcribed from their sources, or brute force in exact arithmetic."""
from __future__ import annotations

from fractions import Fraction

import pytest

import symcount
from torch_reference import nn, torch


def torch_counts(model, shape):
    """(output shape, trainable parameters, sum of every leaf's output elements) from PyTorch."""
    outputs = []
    hooks = [m.register_forward_hook(lambda m, i, o: outputs.append(o.numel()))
             for m in model.modules() if not list(m.children())]
    out = model.eval()(torch.zeros(1, *shape))
    for hook in hooks:
        hook.remove()
    return tuple(out.shape[1:]), sum(p.numel() for p in model.parameters()), sum(outputs)


class Residual(nn.Module):
    def __init__(self, body, shortcut):
        super().__init__()
        self.body, self.shortcut = body, shortcut

    def forward(self, x):
        return self.body(x) + self.shortcut(x)


# --------------------------------------------------------------- a projection by structure
@pytest.mark.parametrize("size", [1, 2, 3, 8, 17])
def test_a_strided_residual_projects_at_every_size_even_1x1(size):
    """torchvision's ResNet adds a downsample where stride != 1, whatever the input size."""
    model = Residual(nn.Conv2d(8, 8, 3, 2, 1), nn.Sequential(nn.Conv2d(8, 8, 1, 2, bias=False), nn.BatchNorm2d(8)))
    shape, params, _ = torch_counts(model, (8, size, size))
    net = symcount.parse("res(conv3-8/2)", input="8xHxW")
    H, W = net.symbols["H"], net.symbols["W"]
    at = {H: size, W: size}
    numeric = symcount.parse(f"input 8x{size}x{size} res(conv3-8/2)")
    swept = net.sweep(H=[size], W=[size])
    assert net.params.xreplace(at) == net.subs(H=size, W=size).params == numeric.params == swept["params"][0] == params
    assert numeric.output_shape == shape
    activations = {net.activations.xreplace(at), net.subs(H=size, W=size).activations, numeric.activations,
                   swept["activations"][0]}
    assert len(activations) == 1


def test_a_residual_keeping_stride_and_channels_is_the_identity_at_every_size():
    for size in (1, 5):
        net = symcount.parse(f"input 8x{size}x{size} res(conv3-8)")
        assert net.params == 8 * 8 * 9 + 8  # no projection: nothing but the body's convolution


def test_a_shortcut_that_depends_on_a_symbol_is_refused_with_both_readings():
    with pytest.raises(symcount.ShapeError, match=r"identity or a 1×1 projection depends on C"):
        symcount.parse("input 8xHxW res(conv3-{C})")
    written = symcount.parse("input 8xHxW res(conv3-{C} | conv1-{C}[bias=false] bn)")
    model = Residual(nn.Conv2d(8, 8, 3, 1, 1), nn.Sequential(nn.Conv2d(8, 8, 1, bias=False), nn.BatchNorm2d(8)))
    assert written.subs(C=8, H=4, W=4).params == sum(p.numel() for p in model.parameters())


# --------------------------------------------------------------- one validity predicate
def test_sweep_and_solve_refuse_groups_that_do_not_divide_the_channels():
    with pytest.raises(ValueError):
        nn.Conv2d(3, 8, 3, groups=2)  # PyTorch: in_channels must be divisible by groups
    net = symcount.parse("conv3-{C} conv3-8[groups=2]", input="3xHxW")
    assert net.sweep(H=8, W=8, C=3)["valid"] == [False]
    with pytest.raises(symcount.ShapeError):
        net.subs(H=8, W=8, C=3)
    valid = []
    for c in range(1, 6):
        try:
            nn.Conv2d(c, 8, 3, groups=2)
            valid.append(c)
        except ValueError:
            pass
    solved = symcount.parse("input 3x8x8 conv3-{C} conv3-8[groups=2]").solve(["conv2=8x8"], {"C": range(1, 6)})
    assert [s["C"] for s in solved.solutions] == valid == [2, 4]


def test_solve_does_not_offer_pooling_padding_pytorch_refuses():
    expected = []
    for p in range(0, 7):
        model = nn.Sequential(nn.Conv2d(3, 8, 7, 2, 1), nn.MaxPool2d(9, 3, p))
        try:
            with torch.device("meta"):
                out = model(torch.empty(1, 3, 222, 222))
        except RuntimeError:
            continue
        if tuple(out.shape[2:]) == (37, 37):
            expected.append(p)
    net = symcount.parse("input 3x222x222 conv7-8/2[pad=1] maxpool9/3[pad={p}]")
    assert [s["p"] for s in net.solve(["maxpool1=37x37"], {"p": range(0, 7)}).solutions] == expected == [4]


def test_exact_rounding_refuses_a_size_below_one():
    with pytest.raises(symcount.ShapeError, match="1/4 < 1"):
        symcount.parse("input 3x2x2 conv1-8 conv5-8/4[pad=0]", rounding="exact")
    net = symcount.parse("input 3xSxS conv1-8 conv5-8/4[pad=0]", rounding="exact")
    # brute force: (S - 5)/4 + 1 >= 1 exactly when S >= 5; an integral size needs S ≡ 1 (mod 4)
    expected = [s for s in range(1, 30) if Fraction(s - 5, 4) + 1 >= 1 and (s - 5) % 4 == 0]
    assert [s["S"] for s in net.solve(["conv2=2x2"], {"S": range(1, 30)}).solutions] == \
        [s for s in expected if Fraction(s - 5, 4) + 1 == 2]
    assert net.sweep(S=[2, 5])["valid"] == [False, True]


# --------------------------------------------------------------- exact compiled arithmetic
def test_solve_under_exact_rounding_with_a_symbolic_stride():
    expected = [s for s in range(1, 7) if Fraction(59 - 11, s) + 1 == 17]
    net = symcount.parse("input 3x59x59 conv11-8/{s}[pad=0]", rounding="exact")
    assert [r["s"] for r in net.solve(["conv1=17x17"], {"s": range(1, 7)}).solutions] == expected == [3]


@pytest.mark.parametrize("n,s", [(10**17 + 1, 3), (2**60 + 7, 5), (7, 2)])
def test_sweep_is_exact_at_any_magnitude(n, s):
    net = symcount.parse("input 3x59x59 conv11-{N}/{s}[pad=0]", rounding="exact")
    side = Fraction(59 - 11, s) + 1
    swept = net.sweep(N=[n], s=[s])
    assert swept["activations"][0] == n * side * side == net.subs(N=n, s=s).activations
    assert swept["macs"][0] == n * side * side * 11 * 11 * 3
    assert not isinstance(swept["activations"][0], float)


# --------------------------------------------------------------- Caffe's rounding
def caffe_pooled(size, kernel, stride, pad, pad_any):
    """caffe/src/caffe/layers/pooling_layer.cpp, Reshape: ceil, then clip only if padded."""
    pooled = -(-(size + 2 * pad - kernel) // stride) + 1
    if pad_any and (pooled - 1) * stride >= size + pad:
        pooled -= 1
    return pooled


def test_caffe_clips_both_axes_when_either_is_padded():
    expected = (1, caffe_pooled(3, 2, 3, 1, True), caffe_pooled(3, 2, 3, 0, True))
    assert symcount.parse("input 1x3x3 maxpool2/3[pad=(1,0)]", framework="caffe").output_shape == expected == (1, 2, 1)


@pytest.mark.parametrize("size,kernel,stride,pad", [(7, 3, 2, 6), (7, 3, 2, 3), (5, 1, 3, 2), (10, 3, 4, 5), (9, 3, 2, 1)])
def test_caffe_rounding_of_a_convolution_padded_beyond_its_kernel(size, kernel, stride, pad):
    out = caffe_pooled(size, kernel, stride, pad, pad > 0)
    net = symcount.parse(f"input 3x{size}x{size} conv{kernel}-16/{stride}[pad={pad}]", rounding="caffe")
    assert net.output_shape == (16, out, out)
    symbolic = symcount.parse(f"input 3xHxH conv{kernel}-16/{stride}[pad={pad}]", rounding="caffe")
    assert symbolic.subs(H=size).output_shape == (16, out, out)
    assert symbolic.output_shape[1].xreplace({symbolic.symbols["H"]: size}) == out


# --------------------------------------------------------------- pooling kernels as papers write them
@pytest.mark.parametrize("text,kernel", [("maxpool2x2", (2, 2)), ("avgpool2x2", (2, 2)), ("maxpool3x3", (3, 3)),
                                         ("maxpool1x4", (1, 4)), ("avgpool3x2/1", (3, 2))])
def test_a_pooling_kernel_written_axb_is_the_kernel(text, kernel):
    pool = nn.MaxPool2d if text.startswith("max") else nn.AvgPool2d
    stride = 1 if text.endswith("/1") else kernel
    with torch.device("meta"):
        out = pool(kernel, stride)(torch.empty(1, 64, 56, 56))
    assert symcount.parse(f"input 64x56x56 {text}").output_shape == tuple(out.shape[1:])


def test_a_pooling_layer_repeats_in_parentheses():
    with torch.device("meta"):
        out = nn.Sequential(nn.MaxPool2d(2), nn.MaxPool2d(2))(torch.empty(1, 64, 56, 56))
    assert symcount.parse("input 64x56x56 (maxpool2)x2").output_shape == tuple(out.shape[1:])
    assert symcount.parse("input 64x56x56 poolx2").output_shape == tuple(out.shape[1:])


def test_adaptive_pooling_to_a_rectangle():
    with torch.device("meta"):
        out = nn.AdaptiveAvgPool2d((7, 5))(torch.empty(1, 8, 20, 20))
    assert symcount.parse("input 8x20x20 adaptiveavgpool7x5").output_shape == tuple(out.shape[1:])


def test_valid_sizes_and_smallest_valid_use_the_same_requirements():
    net = symcount.parse("input 3xSxS conv1-8 conv5-8/4[pad=0]")
    # brute force in exact arithmetic: integral, and at least 1 after every layer
    expected = [s for s in range(0, 40) if s >= 1 and (s - 5) % 4 == 0 and Fraction(s - 5, 4) + 1 >= 1]
    assert net.valid_sizes(S=range(0, 40)) == expected
    assert net.smallest_valid(S=0) == expected[0] == 5


# --------------------------------------------------------------- small contract breaks
def run_cli(*args, stdin=""):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "symcount", *args], input=stdin, capture_output=True, text=True,
                          timeout=120)


def test_a_bad_switch_value_is_an_error():
    done = run_cli("vgg16", "--switch", "bias=maybe")
    assert done.returncode == 2 and "the switch bias is true or false, got 'maybe'" in done.stderr
    assert "Traceback" not in done.stderr
    with pytest.raises(symcount.SymcountError, match="true or false"):
        symcount.parse("input 3x8x8 conv3-4").ops("thop", bias="maybe")


def test_a_switch_named_like_a_table_argument_is_refused_not_a_traceback():
    done = run_cli("vgg16", "--switch", "depth=1")
    assert done.returncode == 2 and "unknown switch depth" in done.stderr and "Traceback" not in done.stderr


def test_a_replayed_repl_session_fails_when_an_entry_fails_and_goes_on_to_the_end():
    done = run_cli("repl", stdin="input 3x8x8 conv3-4\nconv3-\ninput 3x8x8 fc10\n")
    assert done.returncode == 2
    assert "4×8×8" in done.stdout and "10" in done.stdout.splitlines()[-1]  # the entry after the error ran
    assert run_cli("repl", stdin="input 3x8x8 conv3-4\n").returncode == 0


@pytest.mark.parametrize("text", ["conv3-8/2x2", "maxpool3/2x2", "dw3/2x2", "avgpool3x3/2x3"])
def test_a_repeat_glued_to_a_stride_is_refused_naming_both_readings(text):
    with pytest.raises(symcount.NotationError, match="reads two ways: a stride repeated, or a stride written h×w"):
        symcount.parse(f"input 8x32x32 {text}")


def test_a_strided_layer_repeats_apart_or_in_parentheses():
    with torch.device("meta"):
        out = nn.Sequential(nn.Conv2d(8, 8, 3, 2, 1), nn.Conv2d(8, 8, 3, 2, 1))(torch.empty(1, 8, 32, 32))
    for text in ("conv3-8/2 x2", "(conv3-8/2)x2", "conv3-8/2[pad=1]x2"):
        assert symcount.parse(f"input 8x32x32 {text}").output_shape == tuple(out.shape[1:])


def test_check_with_a_symbolic_padding_on_a_numeric_input_is_not_called_integral():
    # brute force: AlexNet's (224 + 2p - 11)/4 + 1 is whole for no whole p; at 227, for every even p
    assert not any((224 + 2 * p - 11) % 4 == 0 for p in range(0, 100))
    assert not symcount.parse("input 3x224x224 conv11-96/4[pad={p}]").check().integral
    assert [p for p in range(10) if (227 + 2 * p - 11) % 4 == 0] == [0, 2, 4, 6, 8]
    done = run_cli("check", "input 3x227x227 conv11-96/4[pad={p}]")
    assert "whole exactly when p ≡ 0 (mod 2)" in done.stdout and done.returncode == 1
