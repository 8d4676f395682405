"""symcount against PyTorch building the same network (meta device: shapes, no compute)."""
import math

import pytest
from hypothesis import given, strategies as st

import symcount
from torch_reference import Spec, flops, half_padding, nn, run, torch

VGG16_BODY = ("conv3-64x2 pool conv3-128x2 pool conv3-256x3 pool conv3-512x3 pool conv3-512x3 pool "
              "fc4096 fc4096 fc1000")


def torch_vgg16(height, width):
    layers, channels = [], 3
    for width_, count in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        for _ in range(count):
            layers += [nn.Conv2d(channels, width_, 3, padding=1), nn.ReLU()]
            channels = width_
        layers.append(nn.MaxPool2d(2))
    with torch.device("meta"):
        features = nn.Sequential(*layers)
        shape = features(torch.empty(1, 3, height, width)).shape
        classifier = nn.Sequential(nn.Flatten(), nn.Linear(shape[1:].numel(), 4096), nn.ReLU(),
                                   nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 1000))
    return nn.Sequential(features, classifier)


@pytest.fixture(scope="module")
def symbolic_vgg16():
    return symcount.parse(VGG16_BODY, input="3xHxW")


def test_symbolic_vgg16_at_224_is_the_seed_total(symbolic_vgg16):
    assert symbolic_vgg16.subs(H=224, W=224).params == 138_357_544  # seeds/000
    assert symbolic_vgg16.params.subs({symbolic_vgg16.symbols["H"]: 224, symbolic_vgg16.symbols["W"]: 224}) \
        == 138_357_544


@pytest.mark.parametrize("height,width", [(32, 32), (63, 100), (224, 224), (227, 227), (255, 96), (512, 384)])
def test_symbolic_vgg16_equals_pytorch(symbolic_vgg16, height, width):
    model = torch_vgg16(height, width)
    output, torch_flops = flops(model, (3, height, width))
    net = symbolic_vgg16.subs(H=height, W=width)
    assert net.params == sum(p.numel() for p in model.parameters())
    assert net.macs * 2 == torch_flops
    assert net.output_shape == output
    # the closed form, substituted without rebuilding, agrees too
    values = {symbolic_vgg16.symbols["H"]: height, symbolic_vgg16.symbols["W"]: width}
    assert symbolic_vgg16.params.subs(values) == net.params
    assert symbolic_vgg16.macs.subs(values) * 2 == torch_flops


def test_sweep_equals_pytorch(symbolic_vgg16):
    sizes = [31, 32, 57, 64, 100, 224, 300]
    result = symbolic_vgg16.sweep(H=sizes, W=sizes)
    for size, valid, params, macs in zip(sizes, result["valid"], result["params"], result["macs"]):
        try:
            model = torch_vgg16(size, size)
            _, torch_flops = flops(model, (3, size, size))
        except RuntimeError:
            assert not valid and params is None
            continue
        assert valid
        assert params == sum(p.numel() for p in model.parameters())
        assert 2 * macs == torch_flops


# ------------------------------------------------------------------ random networks

@st.composite
def conv_layer(draw, channels):
    kh = draw(st.integers(1, 5))
    kw = draw(st.one_of(st.just(kh), st.integers(1, 5)))
    out = draw(st.integers(1, 12))
    stride = draw(st.integers(1, 3))
    dilation = draw(st.integers(1, 2))
    common = [g for g in range(1, math.gcd(channels, out) + 1) if channels % g == 0 and out % g == 0]
    groups = draw(st.sampled_from(common))
    bias = draw(st.booleans())
    pad_choice = draw(st.sampled_from(["default", "number", "valid"] + (["same"] if stride == 1 else [])))
    text = f"conv{kh}" + (f"x{kw}" if kw != kh else "") + f"-{out}" + (f"/{stride}" if stride != 1 else "")
    options = []
    if pad_choice == "default":
        padding = (half_padding(kh, dilation), half_padding(kw, dilation))
    elif pad_choice == "number":
        value = draw(st.integers(0, 3))
        padding = value
        options.append(f"pad={value}")
    else:
        padding = pad_choice
        options.append(f"pad={pad_choice}")
    if dilation != 1:
        options.append(f"d={dilation}")
    if groups != 1:
        options.append(f"groups={groups}")
    if not bias:
        options.append("bias=false")
    if options:
        text += "[" + ", ".join(options) + "]"
    return Spec("conv", text, dict(kh=kh, kw=kw, out=out, stride=stride, padding=padding, dilation=dilation,
                                   groups=groups, bias=bias)), out


@st.composite
def deconv_layer(draw, channels):
    """A transposed convolution (PyTorch ConvTranspose2d) as the notation writes it."""
    kh = draw(st.integers(1, 5))
    kw = draw(st.one_of(st.just(kh), st.integers(1, 5)))
    out = draw(st.integers(1, 12))
    stride = draw(st.integers(1, 3))
    dilation = draw(st.integers(1, 2))
    extra = draw(st.integers(0, max(stride, dilation) - 1))
    padding = draw(st.integers(0, 3))
    common = [g for g in range(1, math.gcd(channels, out) + 1) if channels % g == 0 and out % g == 0]
    groups = draw(st.sampled_from(common))
    bias = draw(st.booleans())
    keyword = draw(st.sampled_from(["deconv", "convt", "tconv", "upconv"]))
    text = f"{keyword}{kh}" + (f"x{kw}" if kw != kh else "") + f"-{out}" + (f"/{stride}" if stride != 1 else "")
    options = ([f"pad={padding}"] if padding else []) + ([f"op={extra}"] if extra else []) + \
        ([f"d={dilation}"] if dilation != 1 else []) + ([f"g={groups}"] if groups != 1 else []) + \
        ([] if bias else ["bias=false"])
    if options:
        text += "[" + ", ".join(options) + "]"
    return Spec("deconv", text, dict(kh=kh, kw=kw, out=out, stride=stride, padding=padding, output_padding=extra,
                                     dilation=dilation, groups=groups, bias=bias)), out


@st.composite
def pool_layer(draw):
    kind = draw(st.sampled_from(["maxpool", "avgpool"]))
    k = draw(st.integers(1, 4))
    stride = draw(st.integers(1, 3))
    pad = draw(st.integers(0, k // 2))
    ceil = draw(st.booleans())
    dilation = draw(st.integers(1, 2)) if kind == "maxpool" else 1
    text = f"{kind}{k}" + (f"/{stride}" if stride != k else "")
    options = ([f"pad={pad}"] if pad else []) + (["ceil"] if ceil else []) + \
        ([f"dilation={dilation}"] if dilation != 1 else [])
    if options:
        text += "[" + ", ".join(options) + "]"
    return Spec(kind, text, dict(k=k, stride=stride, pad=pad, ceil=ceil, dilation=dilation))


@st.composite
def random_network(draw):
    """(input shape, notation, the PyTorch layers that notation means)."""
    channels = draw(st.integers(1, 6))
    shape = (channels, draw(st.integers(1, 48)), draw(st.integers(1, 48)))
    texts, specs = [], []
    for _ in range(draw(st.integers(1, 6))):
        choice = draw(st.sampled_from(["conv", "conv", "conv", "deconv", "pool", "pool", "bn", "relu", "lrelu",
                                       "instancenorm", "instancenorm[affine]"]))
        if choice in ("conv", "deconv"):
            spec, channels = draw(conv_layer(channels) if choice == "conv" else deconv_layer(channels))
            repeat = draw(st.sampled_from([1, 1, 1, 2, 3]))
            # a repeat glued to a stride (conv3-8/2x2) reads two ways and is refused: a space before it
            texts.append(spec.notation + (f" x{repeat}" if repeat > 1 else ""))
            specs += [spec] * repeat
        else:
            spec = draw(pool_layer()) if choice == "pool" else \
                Spec("instancenorm", choice, {"affine": True}) if choice == "instancenorm[affine]" else Spec(choice, choice)
            texts.append(spec.notation)
            specs.append(spec)
    tail = draw(st.sampled_from(["none", "gap", "fc", "gap fc"]))
    if "gap" in tail:
        texts.append("gap")
        specs.append(Spec("gap", "gap"))
    if "fc" in tail:
        out, bias = draw(st.integers(1, 20)), draw(st.booleans())
        texts.append(f"fc{out}" + ("" if bias else "[bias=false]"))
        specs.append(Spec("fc", texts[-1], dict(out=out, bias=bias)))
    return shape, " ".join(texts), specs


@given(random_network())
def test_random_networks_agree_with_pytorch(case):
    shape, body, specs = case
    notation = f"input {'x'.join(map(str, shape))} {body}"
    try:
        layers, torch_flops = run(specs, shape)
    except (RuntimeError, ValueError):  # ValueError: InstanceNorm2d on 1×1
        with pytest.raises(symcount.ShapeError):
            symcount.parse(notation)
        return
    net = symcount.parse(notation)
    assert [row.output for row in net.layers] == [layer.output for layer in layers], notation
    assert [row.params for row in net.layers] == [layer.params for layer in layers], notation
    assert [(row.weights, row.biases) for row in net.layers] == [l.weights_and_biases for l in layers]
    assert [row.non_trainable for row in net.layers] == [layer.non_trainable for layer in layers]
    assert net.macs * 2 == torch_flops, notation


@given(random_network())
def test_random_networks_symbolic_input_matches_pytorch(case):
    """The closed form in H and W, substituted, equals PyTorch at that size."""
    shape, body, specs = case
    try:
        layers, torch_flops = run(specs, shape)
    except (RuntimeError, ValueError):
        return
    symbolic = symcount.parse(body, input=f"{shape[0]}xHxW")
    values = {symbolic.symbols["H"]: shape[1], symbolic.symbols["W"]: shape[2]} if symbolic.symbols else {}
    assert symbolic.params.xreplace(values) == sum(layer.params for layer in layers)
    assert symbolic.macs.xreplace(values) * 2 == torch_flops
    assert tuple(d.xreplace(values) for d in symbolic.output_shape) == layers[-1].output


@given(st.integers(1, 6), st.integers(1, 3), st.integers(1, 2), st.integers(1, 20), st.integers(1, 20))
def test_transposed_same_padding_gives_input_times_stride(k, stride, dilation, height, width):
    """pad=same (Keras/TensorFlow: o = i·s) matches PyTorch given the padding that the
    docs derive: 2p - output_padding = k̂ - s, for k̂ >= s."""
    keff = dilation * (k - 1) + 1
    if keff < stride:
        return
    padding, extra = (keff - stride + 1) // 2, (keff - stride) % 2
    if extra >= max(stride, dilation):
        return
    spec = Spec("deconv", "", dict(kh=k, kw=k, out=3, stride=stride, padding=padding, output_padding=extra,
                                   dilation=dilation))
    layers, _ = run([spec], (2, height, width))
    net = symcount.parse(f"input 2x{height}x{width} deconv{k}-3/{stride}[pad=same, d={dilation}]")
    assert net.output_shape == layers[0].output == (3, height * stride, width * stride)


def test_a_transposed_convolution_to_size_0_is_refused_where_pytorch_gives_an_empty_tensor():
    """Found by hypothesis: o = (1 - 1) - 2·2 + 3 + 1 = 0.  PyTorch returns an empty tensor;
    symcount refuses a size 0 for every layer (docs/notation.md)."""
    with torch.device("meta"):
        empty = nn.ConvTranspose2d(1, 1, 4, padding=2, bias=False)(torch.empty(1, 1, 1, 2))
    assert tuple(empty.shape) == (1, 1, 0, 1)
    with pytest.raises(symcount.ShapeError, match="size 0"):
        symcount.parse("input 1x1x2 deconv4-1[pad=2, bias=false]")
