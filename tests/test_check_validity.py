"""check, valid_sizes, sweep and solve agree on which input sizes a network takes, in 1-D, 2-D
and 3-D, and PyTorch agrees with them.

A size is valid when PyTorch runs the network there (on the meta device, which makes the same
shape checks: AvgPool3d's input at least its kernel, padding at most half the kernel, an output
of at least one) and every layer's size is whole under exact arithmetic, which the test decides
from the sizes PyTorch gives: (n + 2p - k) divisible by s at every layer.  check states the
valid sizes as a residue class from a smallest size on; each analysis must give exactly the
brute force's set.
"""
from __future__ import annotations

import warnings

from hypothesis import given, settings, strategies as st

import symcount
import symcount.render.reports
from torch_reference import nn, torch

SETTINGS = dict(deadline=None, derandomize=True, database=None, max_examples=60)
SIZES = range(1, 49)


@st.composite
def window_stack(draw):
    """(axes, layers): 1 to 4 convolutions and poolings with kernel, stride and padding."""
    axes = draw(st.sampled_from([1, 2, 3]))
    layers = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["avgpool", "avgpool", "maxpool", "conv"]))
        kernel = draw(st.integers(1, 3))
        layers.append((kind, kernel, draw(st.integers(1, 3)), draw(st.integers(0, kernel // 2))))
    return axes, layers


def notation(layers) -> str:
    return " ".join(f"{kind}{k}{'-2' if kind == 'conv' else ''}/{s}[pad={p}]" for kind, k, s, p in layers)


def pytorch_runs(axes, layers, size) -> tuple:
    """(runs, whole): whether PyTorch runs the stack on 1×size^axes, and whether every layer's
    size is whole under exact arithmetic there."""
    x, whole = torch.empty((1, 1) + (size,) * axes, device="meta"), True
    for kind, k, s, p in layers:
        whole = whole and (x.shape[-1] + 2 * p - k) % s == 0
        module = getattr(nn, {"avgpool": "AvgPool", "maxpool": "MaxPool", "conv": "Conv"}[kind] + f"{axes}d")
        layer = module(x.shape[1], 2, k, s, p, device="meta") if kind == "conv" else module(k, s, p)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                x = layer(x)
        except RuntimeError:
            return False, whole
    return True, whole


def pytorch_takes(axes, layers, size) -> bool:
    return all(pytorch_runs(axes, layers, size))


@settings(**SETTINGS)
@given(window_stack())
def test_every_analysis_takes_the_sizes_pytorch_takes(case):
    """valid_sizes and check's residue class from its smallest size: the sizes PyTorch runs with
    every size whole; sweep's valid column: the sizes PyTorch runs."""
    axes, layers = case
    text = notation(layers)
    truth = [size for size in SIZES if pytorch_takes(axes, layers, size)]
    net = symcount.parse(text, input="1x" + "x".join(["S"] * axes))
    assert net.valid_sizes(S=SIZES) == truth, text
    assert net.sweep(S=list(SIZES))["valid"] == [pytorch_runs(axes, layers, size)[0] for size in SIZES], text
    report, = net.check().symbols
    if truth:
        assert report.solvable and report.minimum == truth[0], (text, report)
        assert [size for size in SIZES if report.admits(size)] == truth, (text, report)
    else:
        assert not report.solvable or report.minimum > SIZES[-1], (text, report)


def test_average_pooling_in_3d_needs_its_kernel_in_check_too():
    """PyTorch's AvgPool3d(3, 2, 1) refuses 2×2×2 (smaller than its kernel) and runs 3×3×3."""
    net = symcount.parse("avgpool3/2[pad=1]", input="1xSxSxS")
    report, = net.check().symbols
    assert (report.residue, report.modulus, report.minimum) == (1, 2, 3)
    assert "S ≥ 3" in symcount.render.reports.check_text(net, net.check())
    assert pytorch_takes(3, [("avgpool", 3, 2, 1)], 3) and not pytorch_takes(3, [("avgpool", 3, 2, 1)], 1)


def test_check_admits_no_size_pytorch_refuses():
    """avgpool3/2 avgpool3/2 conv3-8/2 avgpool2/1[pad=1] avgpool2/3 on 3×S×S×S: S = 7 is in the
    residue class (every size whole) but PyTorch refuses it; the first size it runs is 31."""
    text = "avgpool3/2 avgpool3/2 conv3-8/2 avgpool2/1[pad=1] avgpool2/3"
    layers = [("avgpool", 3, 2, 0), ("avgpool", 3, 2, 0), ("conv", 3, 2, 1), ("avgpool", 2, 1, 1),
              ("avgpool", 2, 3, 0)]
    truth = [size for size in range(1, 80) if pytorch_takes(3, layers, size)]
    net = symcount.parse(text, input="3xSxSxS")
    report, = net.check().symbols
    assert report.minimum == truth[0] == 31 and not report.admits(7)
    assert net.valid_sizes(S=range(1, 80)) == truth


def test_a_size_with_an_upper_bound_is_not_called_valid_from_there_on():
    """A table of 16 positions takes at most 16 patches, S ≤ 16 for 4×4 patches of S×S: check
    does not claim every size from the smallest on."""
    net = symcount.parse("input 3xSxS patch4-8 pos16")
    assert net.valid_sizes(S=range(1, 40)) == [4, 8, 12, 16]
    report, = net.check().symbols
    assert report.minimum == 4 and "not every larger size is valid: S = 20 is not" in report.note
    assert "S ≥ 4" not in symcount.render.reports.check_text(net, net.check())


def test_solve_says_why_a_whole_size_is_no_solution():
    """avgpool1=1x1x1 needs S = 1, a whole number where PyTorch refuses AvgPool3d(3, 2, 1): the
    explanation names that requirement and never calls 1 fractional."""
    assert not pytorch_takes(3, [("avgpool", 3, 2, 1)], 1)
    net = symcount.parse("avgpool3/2[pad=1]", input="1xSxSxS")
    result = net.solve(["avgpool1=1x1x1"])
    assert not result.solutions
    assert "not an integer" not in result.explanation
    assert "S = 1, where the network is not valid: AvgPool3d needs each input size at least its kernel" \
        in result.explanation
    outside = net.solve(["avgpool1=1x1x1"], bounds={"S": range(5, 10)}).explanation
    assert "S = 1, outside the bounds searched" in outside


def group_norm_runs(channels, groups, sizes) -> bool:
    try:
        nn.GroupNorm(groups, channels)(torch.zeros((1, channels) + sizes))
        return True
    except (RuntimeError, ValueError):
        return False


@settings(**SETTINGS)
@given(st.integers(1, 8), st.integers(1, 8), st.lists(st.integers(1, 3), max_size=3))
def test_group_norm_takes_what_pytorch_takes(channels, groups, sizes):
    """GroupNorm needs groups dividing the channels and more than one value per group (8 groups
    of 8×1×1 is refused, as instance norm's one value is)."""
    text = f"input {'x'.join(str(v) for v in [channels, *sizes])} gn[groups={groups}]"
    try:
        symcount.parse(text)
        accepted = True
    except symcount.ShapeError:
        accepted = False
    assert accepted == group_norm_runs(channels, groups, tuple(sizes)), text
