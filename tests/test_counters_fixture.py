"""Every counting preset against its tool's own figure on torchvision's networks.

The figures were printed by the tools themselves (torchinfo, fvcore in eval and train mode,
thop, ptflops, calflops, DeepSpeed, FlopCounterMode) on PyTorch models written from
torchvision's model files: tests/fixtures/counters/make_counts.py made
tests/fixtures/counters/counts.json, which records each tool's version and the command.
So these tests need no tool installed.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import symcount
from symcount import zoo

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "counters" / "counts.json").read_text())
# preset -> how to read that tool's figure from the fixture
FIGURES = {
    "torchinfo": lambda t: t["torchinfo"]["total_mult_adds"],
    "fvcore": lambda t: t["fvcore"]["eval_total"],
    "fvcore_train": lambda t: t["fvcore"]["train_total"],
    "thop": lambda t: t["thop"]["macs"],
    "ptflops": lambda t: t["ptflops"]["macs"],
    "calflops": lambda t: t["calflops"]["macs"],
    "calflops_flops": lambda t: t["calflops"]["flops"],
    "deepspeed": lambda t: t["deepspeed"]["macs"],
    "deepspeed_flops": lambda t: t["deepspeed"]["flops"],
    "torch": lambda t: t["torch_flop_counter"]["total_flops"],
}
ERRORS = {"fvcore": lambda t: t["fvcore"].get("eval_error"), "fvcore_train": lambda t: t["fvcore"].get("train_error")}
# Tool runs that failed on a zoo network, recorded in the fixture instead of a figure.
FAILED = {("inception_v3", "fvcore_train"): "Expected more than 1 value per channel when training",
          ("unet", "fvcore"): "type Tensor doesn't define __round__ method",
          ("unet", "fvcore_train"): "type Tensor doesn't define __round__ method"}


def measured(tools, name) -> dict:
    """Each preset's recorded figure on a zoo network, but for the runs known to fail."""
    return {preset: read(tools) for preset, read in FIGURES.items() if (name, preset) not in FAILED}


def torchvision_layout(name: str) -> str:
    """The zoo entry as torchvision builds it.  The VGG entries are the paper's (a final
    softmax, no adaptive pooling); torchvision's vgg* pool adaptively to 7×7 before the
    classifier and end in the fc layer."""
    if name == "alexnet":
        return zoo.notation("alexnet_torchvision")
    text = zoo.notation(name)
    if name.startswith("vgg"):
        assert text.count("fc1000 softmax") == 1
        text = text.replace("fc4096 relu dropout", "adaptiveavgpool7 fc4096 relu dropout", 1)
        text = text.replace("fc1000 softmax", "fc1000")
    return text


@pytest.mark.parametrize("name", sorted(FIXTURE["networks"]))
def test_every_preset_gives_its_tools_figure_on_torchvision_networks(name):
    tools = FIXTURE["networks"][name]
    net = symcount.parse(torchvision_layout(name), input="3x224x224")  # the tools ran every net at 224
    assert net.params == tools["params_torchvision"] == tools["torchinfo"]["total_params"]
    assert {preset: net.ops(preset) for preset in FIGURES} == {preset: read(tools) for preset, read in FIGURES.items()}
    # ptflops' aten backend counts convolutions and matrix products with their bias, nothing else
    assert net.ops("macs", bias=True) == tools["ptflops_aten"]["macs"]


def test_torchinfo_reports_no_non_trainable_parameters():
    """torchinfo's footer counts parameters with requires_grad=False: BatchNorm's running
    statistics are buffers, so its 'Non-trainable params' is 0 where symcount's column is 2C."""
    tools = FIXTURE["networks"]["resnet50"]
    net = zoo.load("resnet50")
    assert tools["torchinfo"]["non_trainable_params"] == 0 and net.non_trainable > 0
    table = " ".join(net.table(convention="torchinfo").split())  # the note may wrap
    assert f"Non-trainable params: {tools['torchinfo']['non_trainable_params']}" in table


SMALL = {  # the fixture's small modules: Conv2d(3, 8, 3, padding=1) then one more, on 1×3×16×16
    "relu6_module": "relu6", "relu6_functional_relu6": "relu6[functional]",
    "adaptive_avg_pool_module": "gap", "adaptive_avg_pool_functional": "gap[functional]",
    "relu_module": "relu", "relu_functional": "relu[functional]", "lrn_module": "lrn",
    "softmax_module": "softmax", "conv_only": "",
}


@pytest.mark.parametrize("case", sorted(SMALL))
def test_modules_and_functional_calls_as_each_tool_counts_them(case):
    net = symcount.parse(f"input 3x16x16 conv3-8 {SMALL[case]}")
    tools = FIXTURE["small"][case]
    assert {preset: net.ops(preset) for preset in FIGURES} == {preset: read(tools) for preset, read in FIGURES.items()}


@pytest.mark.parametrize("case", ["mean_tensor", "mean_tensor_keepdim", "mean_torch"])
def test_a_mean_written_as_a_tensor_method_costs_what_each_tool_gives(case):
    """x.mean([2, 3]) (and keepdim, and torch.mean) after the convolution: no tool charges it."""
    net = symcount.parse("input 3x16x16 conv3-8 gap[mean]")
    tools = FIXTURE["small"][case]
    assert {preset: net.ops(preset) for preset in FIGURES} == {preset: read(tools) for preset, read in FIGURES.items()}


def test_shufflenet_as_torchvision_runs_it_gives_each_tools_figure():
    """torchvision's ShuffleNet v2 pools with x.mean([2, 3]) in forward(): the zoo entry, as written
    (gap[mean]), gives what each tool gives on that forward; with functional=none, on the module."""
    tools = FIXTURE["zoo"]["shufflenet_v2_x1_0"]["torchvision_forward"]
    net = zoo.load("shufflenet_v2_x1_0")
    assert net.params == tools["params_torch"]
    assert {preset: net.ops(preset) for preset in FIGURES} == {preset: read(tools) for preset, read in FIGURES.items()}
    module = FIXTURE["zoo"]["shufflenet_v2_x1_0"]
    assert net.ops("fvcore", functional="none") == module["fvcore"]["eval_total"] != tools["fvcore"]["eval_total"]


def test_the_functional_switch_overrides_the_notation():
    tools = FIXTURE["small"]
    net = symcount.parse("input 3x16x16 conv3-8 relu")
    assert net.ops("ptflops", functional="relu") == tools["relu_functional"]["ptflops"]["macs"]
    assert net.ops("ptflops", functional="none") == tools["relu_module"]["ptflops"]["macs"]
    written = symcount.parse("input 3x16x16 conv3-8 gap[functional]")
    assert written.ops("thop", functional="none") == tools["adaptive_avg_pool_module"]["thop"]["macs"]
    with pytest.raises(symcount.SymcountError, match="functional is none, all or a list"):
        net.ops("ptflops", functional="conv")


@pytest.mark.parametrize("case,notation", [
    ("conv_transpose_8_4", "deconv3-4/2[pad=1, op=1]"),
    ("conv_transpose_8_8_groups2", "deconv3-8/2[pad=1, op=1, groups=2]"),
])
def test_transposed_convolutions_calflops_and_deepspeed_apart(case, notation):
    """DeepSpeed 0.19.8 fixed calflops 0.3.2's two slips (groups, and the bias's positions)."""
    net = symcount.parse(f"input 8x8x8 {notation}")
    tools = FIXTURE["small"][case]
    assert {preset: net.ops(preset) for preset in FIGURES} == {preset: read(tools) for preset, read in FIGURES.items()}


def test_the_fixture_names_its_tools_versions_and_command():
    assert FIXTURE["tools"]["deepspeed"] == "0.19.8" and FIXTURE["tools"]["calflops"] == "0.3.2"
    assert FIXTURE["command"].startswith("python tests/fixtures/counters/make_counts.py")


@pytest.mark.parametrize("name", sorted(FIXTURE["zoo"]))
def test_every_preset_gives_its_tools_figure_on_every_zoo_network(name):
    """The tools run on the zoo's networks as tests/torch_zoo.py builds them from the papers
    (every layer a module, so the comparison is made with functional=none)."""
    tools = FIXTURE["zoo"][name]
    shape = "x".join(str(d) for d in tools["input_shape"][1:])
    net = zoo.load(name, input=shape, **{k: v for k, v in tools.get("kwargs", {}).items()})
    assert net.params == tools["params_torch"]
    expected = measured(tools, name)
    assert {preset: net.ops(preset, functional="none") for preset in expected} == expected


def test_the_tool_runs_that_failed_on_the_zoo_failed_as_recorded():
    """fvcore in train mode refuses Inception v3's auxiliary head at a batch of one: its
    BatchNorm sees 1×1 maps, and PyTorch's batch_norm needs more than one value per channel.
    fvcore traces the model with torch.jit.trace, where sizes are tensors, and the U-Net's crop
    computes its offset with round() as torchvision's center_crop does."""
    failed = {(name, preset): read(tools) for name, tools in FIXTURE["zoo"].items()
              for preset, read in ERRORS.items() if read(tools)}
    assert set(failed) == set(FAILED)
    for key, message in FAILED.items():
        assert message in failed[key]


ACTIVATIONS = json.loads((Path(__file__).parent / "fixtures" / "counters" / "activations.json").read_text())
WRITTEN = {"conv_only": "", "silu": "silu", "hardswish": "hardswish", "hardsigmoid": "hardsigmoid", "gelu": "gelu",
           "elu": "elu", "mish": "mish", "prelu_shared": "prelu", "prelu_channels": "prelu[channelwise]",
           "groupnorm_4": "groupnorm[groups=4]", "groupnorm_4_plain": "gn[g=4, affine=false]",
           "layernorm2d": "layernorm", "layernorm2d_plain": "layernorm[affine=false]",
           "layernorm_trailing": "layernorm[trailing]", "layernorm_trailing_plain": "ln[trailing, affine=false]",
           "layernorm_flat": "flatten layernorm", "flatten_only": "flatten", "layer_scale": "scale",
           "upsample_nearest_2": "upsample[scale=2]", "upsample_bilinear_2": "upsample[scale=2, mode=bilinear]",
           "upsample_nearest_size": "upsample[size=(24, 20)]",
           "upsample_bilinear_size": "upsample[size=(24, 20), mode=bilinear]",
           "pixel_shuffle_2": "pixelshuffle[scale=2]", "channel_shuffle_2": "shuffle[groups=2]",
           "se_relu_sigmoid": "se[squeeze=2]", "se_silu_sigmoid": "se[squeeze=2, act=silu]",
           "se_relu_hardsigmoid": "se[reduction=1, gate=hardsigmoid]",
           "crop_margin_2": "crop[by=2]", "crop_to_match": "cat(crop | conv3-8[pad=0])",
           "side_head": "side(gap flatten fc10) conv1-4 relu", "split_sizes": "split(2: | 6: conv1-6)",
           "split_unit": "split( | conv1-4[bias=false] bn relu dw3[bias=false] bn conv1-4[bias=false] bn relu) "
                         "shuffle[groups=2]"}


@pytest.mark.parametrize("case", sorted(ACTIVATIONS["cases"]))
def test_every_preset_charges_the_newer_activations_and_norms_as_its_tool_does(case):
    """Conv2d(3, 8, 3, padding=1) and one module (an activation, GroupNorm, LayerNorm as
    torchvision's LayerNorm2d or nn.LayerNorm, ConvNeXt's layer scale), each tool run on it
    (tests/fixtures/counters/make_activations.py)."""
    tools = ACTIVATIONS["cases"][case]
    net = symcount.parse(f"input 3x16x16 conv3-8 {WRITTEN[case]}")
    assert net.params == tools["params_torch"] == tools["torchinfo"]["total_params"]
    assert {preset: net.ops(preset) for preset in FIGURES} == {preset: read(tools) for preset, read in FIGURES.items()}
