"""1-D and 3-D networks (C×L, C×D×H×W) against PyTorch's Conv1d/Conv3d and the rest.

The test's own description of each layer says what the notation means in PyTorch's
terms (torch.nn's N-d modules on the meta device); PyTorch says what comes out.  Random
networks at random sizes, the smallest (1, 1×1×1) among them: every layer's shape and
counts, FlopCounterMode's MACs, the same validity, and the closed form in L (or D, H, W)
substituted, swept and numeric all agreeing.
"""
from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

import symcount
from torch_reference import nn, torch
from torch.utils.flop_counter import FlopCounterMode

SYMBOLS = {1: ("L",), 3: ("D", "H", "W")}


def module(kind, args, x):
    """The PyTorch module (or modules) a layer of the description means, on input x."""
    n, channels = x.dim() - 2, x.shape[1]
    nd = lambda name: getattr(nn, f"{name}{n}d")  # noqa: E731
    if kind == "conv":
        keff = [args["dilation"] * (k - 1) + 1 for k in args["kernel"]]
        if args["padding"] == "causal":  # all of k̂ - 1 before, none after, on every axis
            pads = [p for k in reversed(keff) for p in (k - 1, 0)]
            return [nd("ZeroPad")(tuple(pads)), nd("Conv")(channels, args["out"], args["kernel"], args["stride"],
                                                          0, args["dilation"], args["groups"], args["bias"])]
        return [nd("Conv")(channels, args["out"], args["kernel"], args["stride"], args["padding"], args["dilation"],
                           args["groups"], args["bias"])]
    if kind == "deconv":
        return [nd("ConvTranspose")(channels, args["out"], args["kernel"], args["stride"], args["padding"],
                                    args["output_padding"], bias=args["bias"])]
    if kind in ("maxpool", "avgpool"):
        name = "MaxPool" if kind == "maxpool" else "AvgPool"
        return [nd(name)(args["kernel"], args["stride"], args["padding"], ceil_mode=args["ceil"])]
    if kind == "bn":
        return [nd("BatchNorm")(channels)]
    if kind == "instancenorm":
        return [nd("InstanceNorm")(channels, affine=True)]
    if kind == "upsample":
        return [nn.Upsample(scale_factor=args["scale"])]
    if kind == "gap":
        return [nd("AdaptiveAvgPool")(1)]
    if kind == "fc":
        return [nn.Flatten(), nn.Linear(x[0].numel(), args["out"])]
    return [nn.ReLU()]


def run(layers, shape):
    """Per layer: (output shape, trainable parameters, running statistics); and FLOPs."""
    rows = []
    with torch.device("meta"), FlopCounterMode(display=False) as counter:
        x = torch.empty(1, *shape)
        for kind, args in layers:
            modules = [m.eval() for m in module(kind, args, x)]
            for m in modules:
                x = m(x)
            if 0 in x.shape:
                raise RuntimeError(f"{kind} gives an empty output")
            rows.append((tuple(x.shape[1:]), sum(p.numel() for m in modules for p in m.parameters()),
                         sum(b.numel() for m in modules for name, b in m.named_buffers()
                             if name.endswith(("running_mean", "running_var")))))
    return rows, counter.get_total_flops()


def axes_text(values):
    return str(values[0]) if len(set(values)) == 1 else f"({' '.join(map(str, values))})"


@st.composite
def conv(draw, n, channels):
    per_axis = draw(st.booleans())
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(n)) if per_axis else (draw(st.integers(1, 4)),) * n
    out = draw(st.integers(1, 6))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(n)) if draw(st.booleans()) else (draw(st.integers(1, 3)),) * n
    dilation = draw(st.integers(1, 2))
    groups = draw(st.sampled_from([g for g in range(1, math.gcd(channels, out) + 1)
                                   if channels % g == 0 and out % g == 0]))
    bias = draw(st.booleans())
    choice = draw(st.sampled_from(["default", "number", "per axis", "valid", "causal"]))
    written = "x".join(map(str, kernel)) if per_axis and len(set(kernel)) > 1 else str(kernel[0])
    options = [] if len(set(stride)) == 1 and stride[0] == 1 else [f"stride={axes_text(stride)}"]
    if choice == "default":
        padding = tuple((dilation * (k - 1) + 1) // 2 for k in kernel)
    elif choice == "number":
        padding = (draw(st.integers(0, 2)),) * n
        options.append(f"pad={padding[0]}")
    elif choice == "per axis":
        padding = tuple(draw(st.integers(0, 2)) for _ in range(n))
        options.append(f"pad={axes_text(padding)}")
    else:
        padding = 0 if choice == "valid" else "causal"
        options.append(f"pad={choice}")
    options += ([f"dilation={dilation}"] if dilation != 1 else []) + ([f"groups={groups}"] if groups != 1 else []) + \
        ([] if bias else ["bias=false"])
    text = f"conv{written}-{out}" + (f"[{', '.join(options)}]" if options else "")
    return text, ("conv", dict(kernel=kernel, out=out, stride=stride, padding=padding, dilation=dilation,
                               groups=groups, bias=bias)), out


@st.composite
def layer(draw, n, channels):
    kind = draw(st.sampled_from(["conv", "conv", "conv", "deconv", "pool", "bn", "relu", "instancenorm",
                                 "upsample"]))
    if kind == "conv":
        return draw(conv(n, channels))
    if kind == "deconv":
        k, s, out, bias = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 6)), draw(st.booleans())
        p, extra = draw(st.integers(0, 2)), draw(st.integers(0, s - 1))
        options = ([f"pad={p}"] if p else []) + ([f"op={extra}"] if extra else []) + ([] if bias else ["bias=false"])
        text = f"deconv{k}-{out}" + (f"/{s}" if s != 1 else "") + (f"[{', '.join(options)}]" if options else "")
        return text, ("deconv", dict(kernel=k, out=out, stride=s, padding=p, output_padding=extra, bias=bias)), out
    if kind == "pool":
        name = draw(st.sampled_from(["maxpool", "avgpool"]))
        kernel = tuple(draw(st.integers(1, 3)) for _ in range(n)) if draw(st.booleans()) else (draw(st.integers(1, 3)),) * n
        stride = draw(st.integers(1, 3))
        pad = draw(st.integers(0, min(kernel) // 2))
        ceil = draw(st.booleans())
        options = ([f"stride={stride}"]) + ([f"pad={pad}"] if pad else []) + (["ceil"] if ceil else [])
        written = "x".join(map(str, kernel)) if len(set(kernel)) > 1 else str(kernel[0])
        return f"{name}{written}[{', '.join(options)}]", (name, dict(kernel=kernel, stride=stride, padding=pad,
                                                                     ceil=ceil)), channels
    if kind == "upsample":
        return "upsample[scale=2]", ("upsample", dict(scale=2)), channels
    if kind == "instancenorm":
        return "instancenorm[affine]", ("instancenorm", {}), channels
    return kind, (kind, {}), channels


@st.composite
def network(draw, n):
    """(input shape, notation body, the description of its layers)."""
    channels = draw(st.integers(1, 4))
    largest = 40 if n == 1 else 9
    shape = (channels,) + tuple(draw(st.integers(1, largest)) for _ in range(n))
    texts, layers = [], []
    for _ in range(draw(st.integers(1, 5))):
        text, described, channels = draw(layer(n, channels))
        texts.append(text)
        layers.append(described)
    if draw(st.booleans()):
        texts += ["gap", "fc5"]
        layers += [("gap", {}), ("fc", {"out": 5})]
    return shape, " ".join(texts), layers


def check_against_pytorch(shape, body, layers):
    notation = f"input {'x'.join(map(str, shape))} {body}"
    try:
        rows, torch_flops = run(layers, shape)
    except (RuntimeError, ValueError):  # ValueError: InstanceNorm on a single element
        with pytest.raises(symcount.ShapeError):
            symcount.parse(notation)
        return None
    net = symcount.parse(notation)
    assert [(row.output, row.params * row.count, row.non_trainable * row.count) for row in net.layers] == rows, \
        notation
    assert net.macs * 2 == torch_flops, notation
    return net, rows, torch_flops


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([1, 3]).flatmap(network))
def test_random_1d_and_3d_networks_agree_with_pytorch(case):
    check_against_pytorch(*case)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([1, 3]).flatmap(network))
def test_the_closed_form_in_l_or_d_h_w_is_pytorch_at_that_size(case):
    """The network on a symbolic C×L or C×D×H×W, substituted (subs, xreplace) and swept, is
    the numeric network and PyTorch wherever PyTorch runs, and invalid where it does not."""
    shape, body, layers = case
    checked = check_against_pytorch(shape, body, layers)
    names = SYMBOLS[len(shape) - 1]
    symbolic = symcount.parse(body, input="x".join((str(shape[0]),) + names))
    values = dict(zip(names, shape[1:]))
    swept = symbolic.sweep(**{name: [value] for name, value in values.items()})
    if checked is None:
        assert swept["valid"] == [False]
        with pytest.raises(symcount.ShapeError):
            symbolic.subs(**values)
        return
    net, rows, torch_flops = checked
    assert swept["valid"] == [True] and swept["params"] == [net.params] and swept["macs"] == [net.macs]
    mapping = {symbolic.symbols[name]: value for name, value in values.items() if name in symbolic.symbols}
    assert symbolic.macs.xreplace(mapping) * 2 == torch_flops
    assert tuple(d.xreplace(mapping) for d in symbolic.output_shape) == rows[-1][0]
    assert symbolic.subs(**{k: v for k, v in values.items() if k in symbolic.symbols}).totals() == net.totals()


def test_the_smallest_inputs():
    """1-D and 3-D at size 1: half padding keeps a 1×1×1 map; a valid 2-kernel refuses it, as PyTorch."""
    for shape, body in (((2, 1), "conv3-4 bn relu gap fc3"), ((2, 1, 1, 1), "conv3-4 bn relu gap fc3")):
        layers = [("conv", dict(kernel=(3,) * (len(shape) - 1), out=4, stride=1, padding=1, dilation=1, groups=1,
                                bias=True)), ("bn", {}), ("relu", {}), ("gap", {}), ("fc", {"out": 3})]
        assert check_against_pytorch(shape, body, layers) is not None
    with pytest.raises(symcount.ShapeError, match="size 0"):
        symcount.parse("input 2x1x1x1 conv2-4[pad=0]")


def test_average_pooling_in_3d_needs_the_input_as_large_as_its_kernel():
    """Found by hypothesis: PyTorch's AvgPool3d refuses 1×1×1 under a 2×2×2 kernel even with padding 1,
    which AvgPool2d and AvgPool1d accept; symcount refuses it too, and takes the 1-D and 2-D ones."""
    described = [("avgpool", {"kernel": (2, 2, 2), "stride": 1, "padding": 1, "ceil": False})]
    assert check_against_pytorch((1, 1, 1, 1), "avgpool2[stride=1, pad=1]", described) is None
    assert check_against_pytorch((1, 1), "avgpool2[stride=1, pad=1]",
                                 [("avgpool", {"kernel": (2,), "stride": 1, "padding": 1, "ceil": False})])
    assert symcount.parse("input 1x1x1 avgpool2[stride=1, pad=1]").output_shape == (1, 2, 2)


def test_causal_padding_keeps_the_length_and_sees_only_the_past():
    """WaveNet's dilated causal stack (van den Oord et al. 2016, Fig. 3): kernel 2, dilations
    1, 2, 4, 8 keep the length, and the receptive field is 1 + 1 + 2 + 4 + 8 = 16 samples, all
    of them at or before the output sample: the padding before is 15, after none."""
    net = symcount.parse("input 1xL conv2-16[pad=causal] conv2-16[pad=causal, d=2] conv2-16[pad=causal, d=4] "
                         "conv2-16[pad=causal, d=8]")
    length = net.symbols["L"]
    assert net.output_shape == (16, length)
    (axis,) = net.receptive_field
    assert (axis.size, axis.stride, axis.padding) == (16, 1, 15)
    with torch.device("cpu"):  # the gradient of the last output sample reaches exactly the 16 before it
        x = torch.zeros(1, 1, 40, requires_grad=True)
        y = x
        for d in (1, 2, 4, 8):
            conv_ = nn.Conv1d(y.shape[1], 16, 2, dilation=d)
            torch.nn.init.constant_(conv_.weight, 1.0)
            y = conv_(nn.functional.pad(y, (d, 0)))
        y[0, 0, -1].backward()
    assert (x.grad[0, 0] != 0).nonzero().flatten().tolist() == list(range(40 - 16, 40))


def tiles_exactly(size, windows):
    """Brute force: each window's (size + 2p − k)/s + 1 is a whole number of at least 1."""
    for k, s, p in windows:
        size = Fraction(size + 2 * p - k, s) + 1
        if size.denominator != 1 or size < 1:
            return False
    return True


def test_check_and_valid_sizes_on_a_3d_input():
    """C3D's pooling (Tran et al. 2015: pool1 1×2×2, then 2×2×2) after 3×3×3 convolutions padded
    by 1: per axis, check's congruence and valid_sizes are the sizes a brute force over the
    layers' exact arithmetic finds."""
    net = symcount.parse("input 3x16x112x112 conv3-8 maxpool1x2x2 conv3-8 maxpool2")
    depth = [(3, 1, 1), (1, 1, 0), (3, 1, 1), (2, 2, 0)]  # (kernel, stride, padding) along D
    plane = [(3, 1, 1), (2, 2, 0), (3, 1, 1), (2, 2, 0)]  # along H and along W
    for report in net.check().symbols:
        windows = depth if report.symbol == "D" else plane
        assert [n for n in range(1, 60) if report.admits(n)] == [n for n in range(1, 60) if tiles_exactly(n, windows)]
    assert {r.symbol for r in net.check().symbols} == {"D", "H", "W"}
    square = symcount.parse("input 3xDx112x112 conv3-8 maxpool1x2x2 conv3-8 maxpool2")
    assert square.valid_sizes(D=range(1, 20)) == [d for d in range(1, 20) if tiles_exactly(d, depth)]


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([1, 3]).flatmap(network))
def test_random_1d_and_3d_networks_export_to_what_pytorch_builds(case):
    """The exported module (Conv1d/Conv3d, causal padding as ZeroPad, …) has PyTorch's output and
    parameters for the meaning the test wrote down."""
    shape, body, layers = case
    checked = check_against_pytorch(shape, body, layers)
    if checked is None:
        return
    net, rows, torch_flops = checked
    namespace = {"__name__": "exported"}
    exec(compile(net.to_torch(), "<exported>", "exec"), namespace)
    with torch.device("meta"), FlopCounterMode(display=False) as counter:
        model = namespace["Net"]().eval()
        output = model(torch.empty(1, *shape))
    assert tuple(output.shape[1:]) == rows[-1][0]
    assert sum(p.numel() for p in model.parameters()) == sum(row[1] for row in rows)
    assert counter.get_total_flops() == torch_flops
