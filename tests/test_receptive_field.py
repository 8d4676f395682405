"""Receptive fields: the closed forms against a brute-force measurement.

PyTorch measures a field directly: with positive weights, the input pixels whose gradient
reaches one output unit are exactly its receptive field, from u·S − P to u·S − P + r − 1
along each axis (Araujo et al., Distill 2019, eq. 5).  Average pooling stands in for max
pooling here (a max passes its gradient to one pixel); both have the same window arithmetic.
"""
from hypothesis import assume, given, strategies as st

import symcount
from symcount import zoo
from torch_reference import nn, torch


def measured_span(model, size, unit):
    """(first, last) input row whose gradient reaches output unit (unit, unit), summed over channels."""
    x = torch.ones(1, model[0].in_channels if hasattr(model[0], "in_channels") else 1, size, size,
                   dtype=torch.float64, requires_grad=True)
    out = model(x)
    out[0, :, unit, unit].sum().backward()
    rows = (x.grad[0].abs().sum(dim=(0, 2)) > 0).nonzero().flatten()
    return int(rows.min()), int(rows.max())


def positive(model):
    """Every weight 1, in float64: the gradient of a 100-layer chain's edge pixels is a count of
    paths, never an underflow."""
    model = model.double()
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(1.0)
    return model


def test_vgg16_is_212_32_90():
    # Araujo et al., Table 1 (and the issue): VGG-16 has size 212, effective stride 32, effective padding 90
    for axis in zoo.load("vgg16").receptive_field:
        assert (axis.size, axis.stride, axis.padding) == (212, 32, 90)


class Crop(nn.Module):
    """m pixels off every side: what crop[by=m] means."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return x[..., self.m:x.shape[-2] - self.m, self.m:x.shape[-1] - self.m]


layer = st.one_of(
    st.tuples(st.just("conv"), st.integers(1, 5), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2)),
    st.tuples(st.just("avgpool"), st.integers(2, 3), st.integers(1, 3), st.integers(0, 1), st.just(1)),
    st.tuples(st.just("crop"), st.integers(1, 9), st.just(1), st.just(0), st.just(1)))


@given(st.lists(layer, min_size=1, max_size=5))
def test_random_chains_against_gradients(layers):
    notation, modules, cropped = ["input 1x160x160"], [], False
    for kind, k, s, p, d in layers:
        # after a crop, padding would reach pixels that were cut away, which the closed form counts in the
        # field as it counts padding anywhere; the measured span would stop at the cut
        p = 0 if cropped else min(p, k // 2)
        cropped = cropped or kind == "crop"
        if kind == "conv":
            notation.append(f"conv{k}-1/{s}[pad={p}, dilation={d}, bias=false]")
            modules.append(nn.Conv2d(1, 1, k, s, p, dilation=d, bias=False))
        elif kind == "crop":
            notation.append(f"crop[by={k}]")
            modules.append(Crop(k))
        else:
            notation.append(f"avgpool{k}/{s}[pad={p}]")
            modules.append(nn.AvgPool2d(k, s, p, count_include_pad=True))
    try:
        net = symcount.parse(" ".join(notation))
    except symcount.ShapeError:
        assume(False)  # the chain shrinks the input away
    field = net.receptive_field[0]
    unit = int(net.output_shape[1]) // 2
    first = unit * field.stride - field.padding
    assume(first >= 0 and first + field.size - 1 <= 159)  # else the field runs into the border
    model = positive(nn.Sequential(*modules))
    assert measured_span(model, 160, unit) == (first, first + field.size - 1)


def test_paths_that_meet_take_the_widest_field():
    net = symcount.parse("input 1x64x64 cat(conv1-1[bias=false] | conv5-1[bias=false] conv3-1[bias=false])")
    field = net.receptive_field[0]
    assert (field.size, field.stride, field.padding) == (7, 1, 3)

    class Cat(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(1, 1, 1, bias=False)
            self.b = nn.Sequential(nn.Conv2d(1, 1, 5, padding=2, bias=False), nn.Conv2d(1, 1, 3, padding=1, bias=False))
            self.in_channels = 1

        def forward(self, x):
            return torch.cat([self.a(x), self.b(x)], 1)

    model = positive(nn.Sequential(Cat()))
    assert measured_span(model, 64, 32) == (32 - 3, 32 - 3 + 6)


def test_a_folded_repeat_grows_the_field_per_pass():
    net = symcount.parse("input 1x300x300 conv3-1[bias=false]x100")
    assert len(net.layers) == 1 and net.layers[0].count == 100  # folded: the field must count every pass
    field = net.receptive_field[0]
    assert (field.size, field.stride, field.padding) == (201, 1, 100)
    model = positive(nn.Sequential(*[nn.Conv2d(1, 1, 3, padding=1, bias=False) for _ in range(100)]))
    assert measured_span(model, 300, 150) == (150 - 100, 150 + 100)


def test_symbolic_field_and_global_layers():
    net = symcount.parse("input 3xHxW conv{k}-64/{s}[pad={p}] conv3-64x{n} gap fc10")
    k, s, p, n = (net.symbols[name] for name in "kspn")
    field = net.receptive_field[0]
    # eq. (2), (3), (5): r = k + 2·s·n, S = s, P = p + s·n
    assert sympy_equal(field.size, k + 2 * s * n) and field.stride == s and sympy_equal(field.padding, p + s * n)
    assert net.layers[-1].field is None and net.layers[-2].field is None  # gap and fc see the whole input
    assert symcount.parse("input 784 fc10").receptive_field is None


def sympy_equal(a, b):
    return (a - b).expand() == 0


def test_cli_receptive_field_columns():
    table = zoo.load("vgg16").table("json", receptive_field=True)
    import json
    document = json.loads(table)
    assert document["receptive_field"] == {"size": 212, "stride": 32, "padding": 90}
    assert document["layers"][-1]["rf_size"] is None
