"""DiT against PyTorch: a conditioning vector (the timestep's MLP plus a class label's embedding) as a
first stack, read by the blocks' adaLN-Zero modulation on the latent's patch tokens.

tests/torch_zoo_vit2.py builds DiT-XL/2 by hand from the authors' models.py (checked once against it:
the same parameters, outputs and FlopCounterMode totals); its trace lists the patch convolution, the
timestep MLP, the label embedding, and per block the modulation's SiLU and Linear, the norms,
attention and MLP.
"""
from __future__ import annotations

import pytest

import symcount
from symcount import zoo
from torch_reference import torch
import torch_zoo_vit2 as ref

# The paper's Table 1 / 4: 675 M parameters, 118.6 Gflops (multiply-accumulates) at 256×256 images.
PUBLISHED = {"params": 675e6, "gflops": 118.6}
KIND = {"patch": "conv", "labels": "embed", "layernorm": "ln"}


def rows_of(net):
    """(kind, output shape, params) of each row as the reference lists them: the patch embedding its
    convolution (its shape apart: the reference's is the map before flattening), the modulation its
    k·D values, the fixed positions and the second input left out."""
    rows = []
    for row in net.layers:
        if row.kind in ("input", "unpatch") or row.module == "FixedPositionEmbedding":
            continue
        shape = None if row.kind == "patch" else (int(row.activations),) if row.kind == "adaln" else \
            tuple(int(d) for d in row.output)
        rows.append((KIND.get(row.kind, row.kind), shape, int(row.params)))
    return rows


def reference_rows(seen):
    """The reference's rows in the notation's order (the conditioning first, then the latent's patch
    convolution), each modulation's SiLU taken into its row."""
    conv, conditioning, rest = seen[0], seen[1:5], seen[5:]
    rows = [(k, s, p) for k, s, p in conditioning] + [("conv", None, conv[2])]
    for index, (kind, shape, params) in enumerate(rest):
        if kind == "silu" and index + 1 < len(rest) and rest[index + 1][0] == "adaln":
            continue
        rows.append((kind, shape, params))
    return rows


@pytest.mark.parametrize("size", [(16, 16), (32, 32), (16, 24)])
def test_dit_xl_2_is_the_authors_at_three_latent_sizes(size):
    net = zoo.load("dit_xl_2")
    at = net if size == (32, 32) else symcount.parse(zoo.get("dit_xl_2").text.replace("4x32x32",
                                                                                       f"4x{size[0]}x{size[1]}"))
    model = ref.BUILDERS["dit_xl_2"]()
    seen, flops = ref.trace_vis(model, *size)
    assert rows_of(at) == reference_rows(seen)
    assert 2 * at.macs == flops
    assert at.params == ref.params(model)
    with torch.no_grad():
        assert tuple(model(*ref.inputs(model, *size)).shape[1:]) == at.output_shape  # unpatchified: 8×H×W


def test_dit_xl_2_meets_the_papers_figures():
    net = zoo.load("dit_xl_2")
    assert round(int(net.params), -6) == PUBLISHED["params"]
    assert round(int(net.macs) / 1e9, 1) == PUBLISHED["gflops"]


def test_the_latent_size_is_a_symbol_of_the_second_input():
    """On 4×H×W (the second input's symbols) the closed form at 16×24 is the numeric input's."""
    text = zoo.get("dit_xl_2").text.replace("4x32x32", "4xHxW")
    closed = symcount.parse(text)
    numeric = symcount.parse(text.replace("4xHxW", "4x16x24"))
    assert closed.subs(H=16, W=24).macs == numeric.macs
    assert closed.sweep(H=[16], W=[24])["macs"] == [numeric.macs]


@pytest.mark.parametrize("text, message", [
    ("input 3x8x8 patch2-8 adaln6", "reads a conditioning vector"),
    ("input 5 tokens embed10-8 input 3x8x8 patch2-8 adaln6", "reads a conditioning vector"),
    ("input 16 fc8 input 3x8x8 patch2-8 attn2", "which no layer reads"),
    ("input 8 tokens embed10-8 unpatch", "there is none before it"),
    ("input 4x8x8 patch2-16 fc6 unpatch", "must fill whole 2×2 patches"),
    ("input 4x8x8 patch2-16 cls unpatch", "are not the 4×4 patches"),
])
def test_a_modulation_without_a_condition_is_refused(text, message):
    with pytest.raises(symcount.SymcountError, match=message):
        symcount.parse(text)
