"""Channel splits of given sizes, crops (to a size, by a margin, and to match where paths
meet) and side heads, each against PyTorch: modules written here from what each form
means (torch.split, slicing as torchvision's center_crop does, a head that returns its
own output), run on the meta device."""
import pytest

import symcount
from torch_reference import nn, torch


class Split(nn.Module):
    def __init__(self, sizes, *branches):
        super().__init__()
        self.sizes, self.branches = sizes, nn.ModuleList(branches)

    def forward(self, x):
        return torch.cat([b(p) for b, p in zip(self.branches, torch.split(x, self.sizes, 1))], 1)


def centre(x, h, w):
    top, left = (x.shape[-2] - h) // 2, (x.shape[-1] - w) // 2
    return x[..., top:top + h, left:left + w]


def run(model, shape):
    with torch.device("meta"):
        out = model(torch.empty(1, *shape))
    return out


def test_a_split_of_given_sizes_is_torch_split():
    network = symcount.parse("input 64x20x20 split(16: | 48: conv3-48 bn relu) shuffle[groups=2]")
    with torch.device("meta"):
        model = nn.Sequential(Split([16, 48], nn.Identity(), nn.Sequential(nn.Conv2d(48, 48, 3, padding=1),
                                                                           nn.BatchNorm2d(48), nn.ReLU())),
                              nn.ChannelShuffle(2))
    assert network.params == sum(p.numel() for p in model.parameters())
    assert tuple(run(model, (64, 20, 20)).shape[1:]) == network.output_shape
    assert [row.input[0] for row in network.layers[:3]] == [48, 48, 48]
    namespace = {}
    exec(compile(network.to_torch("Csp"), "csp.py", "exec"), namespace)
    exported = namespace["Csp"]()
    assert sum(p.numel() for p in exported.parameters()) == network.params
    assert tuple(exported(torch.zeros(1, 64, 20, 20)).shape[1:]) == network.output_shape


def test_split_shares_may_be_symbols_and_must_add_up():
    network = symcount.parse("input 64xHxW split({c}: | {64 - c}: conv1-{64 - c})")
    assert network.subs(c=24, H=8, W=8).params == 40 * 40 + 40
    with pytest.raises(symcount.ShapeError, match="16 \\+ 40 must add up to its input's 64 channels"):
        symcount.parse("input 64x8x8 split(16: | 40: conv1-40)")
    with pytest.raises(symcount.NotationError, match="belongs to split, on every branch or on none"):
        symcount.parse("input 64x8x8 split(16: | conv1-40)")
    with pytest.raises(symcount.NotationError, match="belongs to split"):
        symcount.parse("input 64x8x8 cat(16: | 48: conv1-40)")


@pytest.mark.parametrize("size", [5, 6, 9, 12])
def test_crops_to_a_size_and_by_a_margin_as_slicing_does(size):
    text = "input 3xHxW crop[by=1] crop[size=(3 2)]"
    network = symcount.parse(text)
    x = torch.zeros(1, 3, size, size + 1)
    expected = centre(x[..., 1:-1, 1:-1], 3, 2)
    assert tuple(int(d) for d in network.subs(H=size, W=size + 1).output_shape) == tuple(expected.shape[1:])
    assert network.params == 0 and network.macs == 0


def test_a_crop_larger_than_its_input_is_refused():
    with pytest.raises(symcount.ShapeError, match="cannot crop its height 4 to 5, which is larger"):
        symcount.parse("input 3x4x8 crop[size=5]")
    with pytest.raises(symcount.OptionError, match="a bare crop, last in a branch of cat"):
        symcount.parse("input 3x8x8 crop")
    with pytest.raises(symcount.ShapeError, match="every branch ends in a bare crop"):
        symcount.parse("input 3x8x8 cat(crop | crop)")


class UNetStep(nn.Module):
    """One level of the original U-Net, valid convolutions: the skip is centre-cropped to the
    up-convolution's output and concatenated in front of it."""

    def __init__(self, c):
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(1, c, 3), nn.ReLU(), nn.Conv2d(c, c, 3), nn.ReLU())
        self.inner = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(c, 2 * c, 3), nn.ReLU(), nn.Conv2d(2 * c, 2 * c, 3),
                                   nn.ReLU(), nn.ConvTranspose2d(2 * c, c, 2, 2))
        self.up = nn.Sequential(nn.Conv2d(2 * c, c, 3), nn.ReLU(), nn.Conv2d(c, 2, 1))

    def forward(self, x):
        skip = self.down(x)
        deeper = self.inner(skip)
        return self.up(torch.cat([centre(skip, *deeper.shape[-2:]), deeper], 1))


UNET_STEP = ("input 1xSxS conv3-8[pad=0] relu conv3-8[pad=0] relu "
             "cat(crop | maxpool2 conv3-16[pad=0] relu conv3-16[pad=0] relu upconv2-8/2) conv3-8[pad=0] relu conv1-2")


def test_crop_to_match_is_valid_exactly_where_pytorch_runs_it():
    network = symcount.parse(UNET_STEP)
    model = UNetStep(8).to("meta")
    runs, built = {}, {}
    for size in range(1, 41):
        try:
            runs[size] = tuple(run(model, (1, size, size)).shape[1:])
        except RuntimeError:
            pass
        try:
            built[size] = symcount.parse(UNET_STEP, input=f"1x{size}x{size}")
        except symcount.ShapeError:
            pass
    assert sorted(runs) == sorted(built) and 17 in runs  # odd sizes too: max pooling floors, the crop takes the slack
    for size, shape in runs.items():
        assert built[size].output_shape == shape == tuple(int(d) for d in network.subs(S=size).output_shape)
        assert built[size].params == sum(p.numel() for p in model.parameters())
    # exact tiling (no row dropped by the pooling) needs the pooled size S - 4 even
    assert network.valid_sizes(S=range(1, 41)) == [size for size in sorted(runs) if (size - 4) % 2 == 0]
    crop = built[17].layers[10]
    assert crop.kind == "crop" and crop.qualified_name == "cat1.crop1" and crop.input[1] == 13


def test_crop_to_match_exports_and_runs():
    network = symcount.parse(UNET_STEP, input="1x36x36")
    namespace = {}
    exec(compile(network.to_torch("Step"), "step.py", "exec"), namespace)
    model = namespace["Step"]()
    seen = []
    for module in model.modules():
        if not list(module.children()) and not isinstance(module, nn.Identity):
            module.register_forward_hook(lambda m, i, o: seen.append(tuple(o.shape[1:])))
    assert tuple(model(torch.zeros(1, 1, 36, 36)).shape[1:]) == network.output_shape
    assert seen == [row.output for row in network.layers]  # the crop runs after the branches, as listed


class WithAux(nn.Module):
    """A trunk with an auxiliary classifier after its first block, returning (aux, logits)."""

    def __init__(self):
        super().__init__()
        self.first = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU())
        self.aux = nn.Sequential(nn.AvgPool2d(5, 3), nn.Conv2d(16, 8, 1), nn.Flatten(), nn.Linear(8 * 4 * 4, 10))
        self.rest = nn.Sequential(nn.Conv2d(16, 32, 3, 2, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))

    def forward(self, x):
        x = self.first(x)
        return self.aux(x), self.rest(x)


def test_a_side_head_is_counted_shown_with_a_subtotal_and_does_not_feed_the_trunk():
    text = 'input 3x16x16 conv3-16 relu "aux": side(avgpool5/3 conv1-8 fc10) conv3-32/2 gap fc10'
    network = symcount.parse(text)
    model = WithAux().to("meta")
    aux, logits = run(model, (3, 16, 16))
    assert network.output_shape == tuple(logits.shape[1:])
    assert network.params == sum(p.numel() for p in model.parameters())
    (head,) = network.heads
    assert head.name == "aux.side1" and head.subtotal.output == tuple(aux.shape[1:])
    assert head.subtotal.params == sum(p.numel() for p in model.aux.parameters())
    assert network.layers[5].input == (16, 16, 16)  # the trunk goes on from the head's input
    from torch.utils.flop_counter import FlopCounterMode
    with torch.device("meta"), FlopCounterMode(display=False) as counter:
        model(torch.empty(1, 3, 16, 16))
    assert 2 * network.macs == counter.get_total_flops()
    assert head.subtotal.macs == 8 * 16 * 4 * 4 + 128 * 10  # conv1-8 on 16×4×4, then 128 → 10
    table = network.table(width=100)
    assert "aux.side1 subtotal" in table and "side heads, in the totals: aux.side1 → 10" in table
    namespace = {}
    exec(compile(network.to_torch("Aux"), "aux.py", "exec"), namespace)
    exported = namespace["Aux"]()
    outputs = exported(torch.zeros(1, 3, 16, 16))
    assert [tuple(o.shape[1:]) for o in outputs] == [head.subtotal.output, network.output_shape]
    # folded, the head's row shows the head's own output (PyTorch's aux), not the trunk's
    folded = {row.name: row for row in network.folded(0)}
    assert folded["aux"].output == tuple(aux.shape[1:]) and folded["aux"].input == (16, 16, 16)
    assert folded["aux"].params == head.subtotal.params


def test_a_side_head_in_a_repeat_is_one_head_per_pass():
    network = symcount.parse("input 3x8x8 (conv3-8 side(conv1-2))x3")
    assert [head.name for head in network.heads] == ["side1", "side2", "side3"]
    assert network.params == (3 * 9 * 8 + 8) + 2 * (8 * 9 * 8 + 8) + 3 * (8 * 2 + 2)


class ConvNeXtBlock(nn.Module):
    """torchvision's CNBlock body on C channels: 7×7 depthwise, then channels-last LayerNorm, Linear,
    GELU, Linear, permuted back."""

    def __init__(self, c):
        super().__init__()
        self.dw = nn.Conv2d(c, c, 7, padding=3, groups=c)
        self.mlp = nn.Sequential(nn.LayerNorm(c), nn.Linear(c, 4 * c), nn.GELU(), nn.Linear(4 * c, c))

    def forward(self, x):
        return self.mlp(self.dw(x).permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def test_channels_last_layers_are_convnexts_linear_and_layernorm():
    network = symcount.parse("input 16x9x9 dw7 layernorm[channels_last] conv1-64[channels_last] gelu "
                             "conv1-16[channels_last]")
    model = ConvNeXtBlock(16)
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as counter:
        out = model(torch.zeros(1, 16, 9, 9))
    assert network.output_shape == tuple(out.shape[1:])
    assert network.params == sum(p.numel() for p in model.parameters()) and 2 * network.macs == counter.get_total_flops()
    assert [row.module for row in network.layers] == ["", "LayerNorm", "Linear", "", "Linear"]
    namespace = {}
    exec(compile(network.to_torch("Block"), "block.py", "exec"), namespace)
    exported = namespace["Block"]()
    assert sum(p.numel() for p in exported.parameters()) == network.params
    assert tuple(exported(torch.zeros(1, 16, 9, 9)).shape[1:]) == network.output_shape
    with pytest.raises(symcount.OptionError, match="must be 1×1, stride 1, unpadded and ungrouped"):
        symcount.parse("input 16x9x9 conv3-16[channels_last]")
