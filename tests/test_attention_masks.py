"""What a causal or sliding-window mask saves: the switch attention=computed counts only the
query–key pairs a mask keeps, as a causal or banded kernel computes them, and the default counts
the whole product, as PyTorch's scaled_dot_product_attention does under a mask.

The pairs are counted by brute force: PyTorch builds the mask Hugging Face's Mistral builds
(query i sees key j when j <= i and i - j < w) and sums it.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

import symcount
from torch_reference import torch


def kept_pairs(T, window=None) -> int:
    i = torch.arange(T)
    mask = i[:, None] >= i[None, :]
    if window is not None:
        mask &= (i[:, None] - i[None, :]) < window
    return int(mask.sum())


@settings(deadline=None, derandomize=True, database=None, max_examples=60)
@given(T=st.integers(1, 40), window=st.one_of(st.none(), st.integers(1, 12)), heads=st.integers(1, 3),
       head_dim=st.integers(1, 4))
def test_computed_scores_are_the_pairs_the_mask_keeps(T, window, heads, head_dim):
    d = heads * head_dim
    option = f", window={window}" if window else ""
    text = f"input {{T}}x{d} tokens attn{heads}[causal{option}]"
    closed = symcount.parse(text)
    at = symcount.parse(text.replace("{T}", str(T)))
    projections = 4 * T * d * d
    full = projections + 2 * T * T * d
    computed = projections + 2 * kept_pairs(T, window) * d
    assert at.macs == full and at.ops(attention="full") == full
    assert at.ops(attention="computed") == computed
    assert closed.ops(attention="computed").xreplace({closed.symbols["T"]: T}) == computed
    assert closed.subs(T=T).ops(attention="computed") == computed


def test_full_attention_and_cross_attention_have_nothing_masked():
    """No mask, or keys from other tokens (cross-attention): every score is computed."""
    for text in ("input 6x8 tokens attn2", "input 6x8 tokens attn2[causal, memory=9, kdim=8]"):
        net = symcount.parse(text)
        assert net.ops(attention="computed") == net.macs


def test_the_cli_switch_and_a_wrong_value():
    from symcount.cli import main
    assert main(["input 4x8 tokens attn2[causal]", "--switch", "attention=computed", "--format", "json"]) == 0
    with pytest.raises(symcount.SymcountError, match="attention is full .* or computed"):
        symcount.parse("input 4x8 tokens attn2[causal]").ops(attention="half")


@settings(deadline=None, derandomize=True, database=None, max_examples=20)
@given(T=st.integers(1, 9), heads=st.integers(1, 3), head_dim=st.integers(1, 3))
def test_alibi_adds_a_bias_by_distance_and_costs_nothing(T, heads, head_dim):
    """ALiBi (Press et al. 2022) as BLOOM computes it: a slope per head times the key's distance,
    added to the scores, no parameters; FlopCounterMode counts the same products as without it."""
    d = heads * head_dim
    projections = torch.nn.ModuleList(torch.nn.Linear(d, d) for _ in range(4)).to("meta")
    from torch.utils.flop_counter import FlopCounterMode
    with torch.device("meta"), FlopCounterMode(display=False) as counter:
        x = torch.zeros(1, T, d)
        q, k, v = (p(x).reshape(1, T, heads, head_dim).transpose(1, 2) for p in projections[:3])
        slopes = 2.0 ** (-8.0 * torch.arange(1, heads + 1) / heads)
        distance = torch.arange(T)[None, :] - torch.arange(T)[:, None]
        scores = q @ k.transpose(-2, -1) / head_dim ** 0.5 + slopes[:, None, None] * distance
        y = projections[3]((scores.softmax(-1) @ v).transpose(1, 2).reshape(1, T, d))
    net = symcount.parse(f"input {T}x{d} tokens attn{heads}[alibi]")
    assert tuple(y.shape[1:]) == net.output_shape
    assert net.params == sum(p.numel() for p in projections.parameters())
    assert 2 * net.macs == counter.get_total_flops()
