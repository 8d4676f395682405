"""Swin Transformer against PyTorch: attention within (shifted) windows of a map, padded to whole
windows, and patch merging, in the zoo's swin_t at four sizes and in random small stacks down to a
1×1 map.

tests/torch_zoo_vit2.py builds Swin-T by hand from torchvision's swin_transformer.py (checked once
against torchvision itself: the same parameters, logits and FlopCounterMode totals); its trace
lists every leaf layer with the map channels-last (H, W, C), a window attention and a patch merging
each as one layer.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

import symcount
from symcount import zoo
from torch_reference import torch
import torch_zoo_vit2 as ref

# torchvision's figures: Swin_T_Weights' num_params and GFLOPS (multiply-accumulates).
PUBLISHED = {"params": 28_288_354, "gflops": 4.491}
KIND = {"layernorm": "ln", "wattn": "attn", "gap": "pool"}


def rows_of(net):
    """(kind, output shape, params) as the reference lists them: after the patch convolution the
    map is channels-last, (H, W, C); a per-position nn.Linear (conv1[channels_last]) is an fc."""
    rows = []
    for index, row in enumerate(net.layers):
        kind = "fc" if row.module == "Linear" else KIND.get(row.kind, row.kind)
        shape = tuple(int(d) for d in row.output)
        if index > 0 and len(shape) == 3 and kind != "pool":
            shape = shape[1:] + shape[:1]
        rows.append((kind, shape, int(row.params)))
    return rows


@pytest.mark.parametrize("size", [(224, 224), (256, 256), (192, 192), (100, 60)])
def test_swin_t_is_torchvisions_at_sizes_its_code_accepts(size):
    """224 (whole windows everywhere), 256 (the last stage's 8×8 padded to 14×14), 192 (49 → 7 windows)
    and 100×60 (odd sizes merged with padding): every row, and FlopCounterMode's FLOPs."""
    net = zoo.load("swin_t", input=f"3x{size[0]}x{size[1]}")
    seen, flops = ref.trace_vis(ref.BUILDERS["swin_t"](), *size)
    assert rows_of(net) == seen
    assert 2 * net.macs == flops


def test_swin_t_closed_form_and_published_figures():
    """On 3×H×W the closed form, substituted and swept, gives the numeric input's figures; at 224 the
    parameters are torchvision's and the MACs round to its 4.491 GFLOPS."""
    net = zoo.load("swin_t")
    assert net.params == PUBLISHED["params"] and round(int(net.macs) / 1e9, 3) == PUBLISHED["gflops"]
    closed = zoo.load("swin_t", input="3xHxW")
    assert closed.sweep(H=[224, 100], W=[224, 60])["macs"] == [net.macs, zoo.load("swin_t", input="3x100x60").macs]
    assert closed.subs(H=256, W=256).macs == zoo.load("swin_t", input="3x256x256").macs


@st.composite
def small_stacks(draw):
    heads = draw(st.integers(1, 3))
    C = heads * draw(st.integers(1, 3))
    return dict(H=draw(st.integers(1, 17)), W=draw(st.integers(1, 17)), C=C, heads=heads,
                window=draw(st.integers(1, 5)), merges=draw(st.integers(0, 2)))


@settings(deadline=None, derandomize=True, database=None, max_examples=25)
@given(small_stacks())
def test_random_windows_and_merges_match_pytorch(c):
    """Window attention of any window on any map from 1×1 (padded to one window), shifted or not,
    and patch merging of odd sizes: parameters and FlopCounterMode's FLOPs per layer, against the
    reference's WindowAttention and PatchMerging modules."""
    x = torch.zeros(1, c["H"], c["W"], c["C"], device="meta")
    text = f"input {c['C']}x{c['H']}x{c['W']}"
    modules = []
    width = c["C"]
    for index in range(c["merges"] + 1):
        shift = index % 2 == 1
        modules.append(ref.WindowAttention(width, c["window"], c["window"] // 2 if shift else 0, c["heads"]))
        text += f" wattn{c['heads']}[window={c['window']}{', shift' if shift else ''}]"
        if index < c["merges"]:
            modules.append(ref.PatchMerging(width))
            text += " merge"
            width *= 2
    net = symcount.parse(text)
    from torch.utils.flop_counter import FlopCounterMode
    for module, row in zip(modules, net.layers):
        module = module.to("meta")
        with FlopCounterMode(display=False) as counter:
            x = module(x)
        assert tuple(x.shape[1:]) == tuple(int(d) for d in row.output[1:]) + (int(row.output[0]),), text
        assert sum(p.numel() for p in module.parameters()) == row.params, text
        assert counter.get_total_flops() == 2 * row.macs, text


@settings(deadline=None, derandomize=True, database=None, max_examples=20)
@given(small_stacks())
def test_the_exported_window_attention_and_merging_compute_what_torchvision_does(c):
    """The export's WindowAttention and PatchMerging, given the reference's random weights, give its
    outputs (shifted windows and their mask, padding to whole windows and to even sizes)."""
    torch.manual_seed(0)
    text = f"input {c['C']}x{c['H']}x{c['W']} wattn{c['heads']}[window={c['window']}, shift] merge"
    namespace = {"__name__": "exported"}
    exec(compile(symcount.parse(text).to_torch("Net"), "<exported>", "exec"), namespace)
    exported = namespace["Net"]().eval()
    attention = ref.WindowAttention(c["C"], c["window"], c["window"] // 2, c["heads"]).eval()
    merging = ref.PatchMerging(c["C"]).eval()
    ours_attention, ours_merging = exported.layers[0], exported.layers[1]
    with torch.no_grad():
        for theirs, ours in ((attention.qkv, ours_attention.qkv), (attention.proj, ours_attention.proj),
                             (merging.norm, ours_merging.norm), (merging.reduction, ours_merging.reduction)):
            for name, parameter in theirs.named_parameters():
                parameter.normal_()
                getattr(ours, name).copy_(parameter)
        attention.relative_position_bias_table.normal_()
        ours_attention.table.copy_(attention.relative_position_bias_table)
        x = torch.randn(1, c["H"], c["W"], c["C"])
        expected = merging(attention(x)).permute(0, 3, 1, 2)
        assert torch.allclose(exported(x.permute(0, 3, 1, 2)), expected, atol=1e-4), text


def test_check_names_only_the_patch_embeddings_stride_and_the_smallest_map_runs():
    """Padding to whole windows and to even sizes leaves sizes whole by construction: check's only
    conditions are the 4×4 patches' (H ≡ 0 mod 4, for the patch embedding and the per-position layers of
    the first stage, whose exact size is H/4), and torchvision's Swin runs at its smallest size."""
    report = zoo.load("swin_t", input="3xHxW").check()
    assert {(c.symbol, c.modulus, c.residue) for c in report.conditions} == {("H", 4, 0), ("W", 4, 0)}
    assert {(s.symbol, s.modulus, s.residue, s.minimum) for s in report.symbols} == {("H", 4, 0, 4), ("W", 4, 0, 4)}
    seen, _ = ref.trace_vis(ref.BUILDERS["swin_t"](), 4, 4)
    assert seen[-1] == ("fc", (1000,), 769000)
