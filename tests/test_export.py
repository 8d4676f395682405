"""`symcount export --to torch`: the module it prints, run in PyTorch,
gives the same shapes and parameter counts.

The outside truth is PyTorch running the exported source: every leaf module's output
shape in forward order (forward hooks), the parameters it allocates, FlopCounterMode.
For the zoo those must equal symcount's rows (themselves checked against hand-built
models in test_zoo.py); for random notations they must equal the independent PyTorch
build of tests/torch_reference.py.
"""
import pytest
from hypothesis import given

import symcount
from symcount import zoo
from symcount.render.torch_file import class_name
from torch_reference import run, torch
from torch_zoo import trace
from test_torch_crosscheck import random_network
from test_zoo import CHECKED_HERE, load_standard, standard_input

nn = torch.nn


def load(source, name="Net"):
    """The exported file's module, built on the meta device (shapes without compute)."""
    namespace = {"__name__": "exported"}
    exec(compile(source, "<exported>", "exec"), namespace)
    with torch.device("meta"):
        return namespace[name]().eval()


def kinds_and_shapes(rows):
    kind = {"gap": "adaptiveavgpool"}
    return [(kind.get(row.kind, row.kind), tuple(int(d) for d in row.output)) for row in rows if row.kind != "flatten"]


@pytest.mark.parametrize("name", CHECKED_HERE)  # the Llama family: tests/test_llama_family.py
def test_every_zoo_entry_exports_to_a_module_with_its_shapes_and_counts(name):
    net = load_standard(name)
    source = net.to_torch(name)
    model = load(source, class_name(name))
    layers, output, flops = trace(model, standard_input(name))
    assert [layer for layer in layers if layer[0] != "flatten"] == kinds_and_shapes(net.layers)
    assert output == net.output_shape
    assert sum(p.numel() for p in model.parameters()) == net.params
    assert sum(b.numel() for n, b in model.named_buffers() if "running" in n) == net.non_trainable
    assert flops == 2 * net.macs


@given(random_network())
def test_random_notations_export_to_what_pytorch_builds_from_their_meaning(case):
    shape, body, specs = case
    notation = f"input {'x'.join(map(str, shape))} {body}"
    try:
        reference, reference_flops = run(specs, shape)
    except (RuntimeError, ValueError):
        return  # an impossible network: symcount refuses it (test_torch_crosscheck), nothing to export
    model = load(symcount.parse(notation).to_torch())
    layers, _, exported_flops = trace(model, shape)
    expected = [layer.output for spec, layer in zip(specs, reference) if spec.kind != "flatten"]
    assert [output for kind, output in layers if kind != "flatten"] == expected, notation
    assert sum(p.numel() for p in model.parameters()) == sum(layer.params for layer in reference), notation
    assert exported_flops == reference_flops, notation


@pytest.mark.parametrize("notation", [
    "input 3x32x32 conv3-8/2[pad=same] conv4-8[pad=same]",   # TensorFlow's asymmetric 'same'
    "input 3x32x32 conv3-8/2[padding_mode=reflect, pad=same]",
    "input 3x31x31 maxpool3/2[ceil] avgpool2[ceil] conv3-4",
    "input 4x9x9 deconv3-6/2[pad=same] deconv4-2/2[pad=same]",
    "input 3x8x8 deconv1-4/3[pad=same] deconv2-4/3",              # a kernel below the stride: output_padding
    "input 3x16x16 res(conv3-8/2 bn relu) cat(conv1-4 | maxpool3/1[pad=1] | ) add(conv3-12 | conv1-12)",
    "input 3x16x16 (conv3-8 relu)x1000 gap fc10",
])
def test_layouts_pytorch_writes_otherwise(notation):
    net = symcount.parse(notation)
    model = load(net.to_torch())
    layers, output, flops = trace(model, net.input_shape)
    assert output == net.output_shape
    assert sum(p.numel() for p in model.parameters()) == net.params
    assert flops == 2 * net.macs


@pytest.mark.parametrize("notation,message", [
    ("input 3x32x32 conv3-{C}", "whole number for the filters, got C"),
    ("input 3x32x32 conv3-8x{n}", "whole number for the repeat count"),
    ("input 3x33x33 conv2-8/2[round=ceil, pad=0]", "rounds output sizes down"),
    ("input 3x15x15 maxpool2/2[round=exact]", "neither of PyTorch's roundings"),
    ("input 3x8x8 deconv2-4/1[pad=same]", "output_padding of 1, which PyTorch refuses"),
])
def test_what_pytorch_cannot_express_is_an_export_error(notation, message):
    with pytest.raises(symcount.ExportError, match=message):
        symcount.parse(notation).to_torch()


def test_symbols_given_values_export():
    net = symcount.parse("input 3x32x32 conv3-{C}x2 pool fc10").subs(C=16)
    model = load(net.to_torch())
    assert sum(p.numel() for p in model.parameters()) == net.params


def test_the_newer_activations_export_to_their_modules():
    network = symcount.parse("input 3x16x16 conv3-8 silu hardswish hardsigmoid gelu elu mish prelu prelu[channelwise]")
    namespace = {}
    exec(compile(network.to_torch("Acts"), "acts.py", "exec"), namespace)
    model = namespace["Acts"]()
    names = [type(m).__name__ for m in model.modules() if not list(m.children())]
    assert names == ["Conv2d", "SiLU", "Hardswish", "Hardsigmoid", "GELU", "ELU", "Mish", "PReLU", "PReLU"]
    assert sum(p.numel() for p in model.parameters()) == 3 * 9 * 8 + 8 + 1 + 8 == network.params
    assert tuple(model(torch.zeros(1, 3, 16, 16)).shape[1:]) == network.output_shape


def test_norms_and_the_layer_scale_export_to_what_convnext_builds():
    network = symcount.parse("input 3x16x16 conv3-8 gn[groups=4] layernorm layernorm[trailing] ln[affine=false] "
                             "scale flatten layernorm")
    namespace = {}
    exec(compile(network.to_torch("Norms"), "norms.py", "exec"), namespace)
    model = namespace["Norms"]()
    names = [type(m).__name__ for m in model.modules() if not list(m.children())]
    assert names == ["Conv2d", "GroupNorm", "LayerNorm2d", "LayerNorm", "LayerNorm2d", "LayerScale", "Flatten",
                     "LayerNorm"]
    # by hand: conv 3·9·8 + 8; GroupNorm and LayerNorm2d 2·8 each; LayerNorm(16) 2·16; scale 8; LayerNorm(2048) 2·2048
    assert sum(p.numel() for p in model.parameters()) == 224 + 16 + 16 + 32 + 8 + 4096 == network.params
    assert tuple(model(torch.zeros(1, 3, 16, 16)).shape[1:]) == network.output_shape == (2048,)


def test_groupnorm_needs_a_group_count_that_divides_the_channels():
    with pytest.raises(symcount.OptionError, match=r"groupnorm\[groups=32\]"):
        symcount.parse("input 3x8x8 conv3-8 groupnorm")
    with pytest.raises(symcount.ShapeError, match="3 groups must divide its 8 channels"):
        symcount.parse("input 3x8x8 conv3-8 groupnorm[groups=3]")
    assert symcount.parse("input 3x8x8 conv3-{C} gn[groups=4]").subs(C=12).params == 3 * 9 * 12 + 12 + 2 * 12


def test_upsampling_and_shuffles_export_and_run_as_pytorch_runs_them():
    network = symcount.parse("input 3x16x16 conv3-8 upsample[scale=2] upsample[scale=(2, 1), mode=bilinear] "
                             "upsample[size=(64, 48)] pixelshuffle shuffle[groups=2]")
    # by hand: 8×32×32, 8×64×32, 8×64×48, then 8/4 = 2 channels at 128×96
    assert [row.output for row in network.layers][1:] == [(8, 32, 32), (8, 64, 32), (8, 64, 48), (2, 128, 96),
                                                          (2, 128, 96)]
    namespace = {}
    exec(compile(network.to_torch("Up"), "up.py", "exec"), namespace)
    model = namespace["Up"]()
    assert tuple(model(torch.zeros(1, 3, 16, 16)).shape[1:]) == network.output_shape == (2, 128, 96)
    assert network.receptive_field == "n/a (after upsampling)"
    with pytest.raises(symcount.ShapeError, match="divisible by 9"):
        symcount.parse("input 3x8x8 conv3-8 pixelshuffle[scale=3]")


def test_squeeze_excitation_and_mul_broadcast_as_pytorch_does():
    # torchvision's SqueezeExcitation(8, 2) is 8·2 + 2 + 2·8 + 8 parameters; a 1×H×W map times C×H×W is C×H×W
    network = symcount.parse("input 3x16x16 conv3-8 se[squeeze=2] mul( | conv1-1 sigmoid) relu")
    assert network.params == (3 * 9 * 8 + 8) + (8 * 2 + 2 + 2 * 8 + 8) + (8 + 1)
    assert [row.qualified_name for row in network.layers][1:6] == ["se1.gap1", "se1.conv2", "se1.relu1", "se1.conv3",
                                                                  "se1.sigmoid1"]
    namespace = {}
    exec(compile(network.to_torch("Gated"), "gated.py", "exec"), namespace)
    model = namespace["Gated"]()
    assert sum(p.numel() for p in model.parameters()) == network.params
    assert tuple(model(torch.zeros(1, 3, 16, 16)).shape[1:]) == network.output_shape == (8, 16, 16)
    with pytest.raises(symcount.ShapeError, match="each axis must agree or be 1"):
        symcount.parse("input 3x16x16 conv3-8 mul(conv1-4 | conv1-8)")
    with pytest.raises(symcount.OptionError, match="a reduction, one of them"):
        symcount.parse("input 3x16x16 conv3-8 se")


def test_a_channel_split_runs_as_torch_chunk_does():
    # ShuffleNet v2's stride-1 unit on 8 channels: half passes, half goes through conv1-4 bn relu
    network = symcount.parse("input 3x16x16 conv3-8 split( | conv1-4 bn relu) shuffle[groups=2]")
    assert [row.input[0] for row in network.layers[1:4]] == [4, 4, 4] and network.output_shape == (8, 16, 16)
    namespace = {}
    exec(compile(network.to_torch("Unit"), "unit.py", "exec"), namespace)
    model = namespace["Unit"]()
    assert sum(p.numel() for p in model.parameters()) == network.params == (3 * 9 * 8 + 8) + (4 * 4 + 4) + 8
    assert tuple(model(torch.zeros(1, 3, 16, 16)).shape[1:]) == network.output_shape
    with pytest.raises(symcount.ShapeError, match="divisible by 2, got 7"):
        symcount.parse("input 3x16x16 conv3-7 split( | conv1-4)")


@pytest.mark.parametrize("text", ["attn2[causal, dropout=0.5]", "attn2[rope, kv_heads=1, dropout=0.5]"])
def test_attention_dropout_exports_as_dropout_in_training_only(text):
    """dropout=p reaches scaled_dot_product_attention: PyTorch keeps the probabilities' mask in training
    (saved_tensors_hooks see an N×N mask), and eval gives the same output twice."""
    net = symcount.parse(f"input 6x8 tokens {text}")
    namespace = {"__name__": "exported"}
    exec(compile(net.to_torch(), "<exported>", "exec"), namespace)
    model = namespace["Net"]()
    x = torch.randn(1, 6, 8)
    masks = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: (masks.append(tuple(t.shape)), t)[1], lambda t: t):
        model.train()(x)
    assert (1, 2, 6, 6) in masks
    model.eval()
    assert torch.equal(model(x), model(x))
    assert sum(p.numel() for p in model.parameters()) == net.params
