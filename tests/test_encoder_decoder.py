"""Encoder–decoder models in one notation: a second input, cross-attention to the first stack's
output, embeddings tied across the stacks, T5's relative-position bias tables and Whisper's
convolutional front end (a map's positions as tokens).

tests/torch_zoo_seq2seq.py builds T5-small, Whisper tiny and the Transformer base and big by hand
from Hugging Face's modeling files and the paper (checked once against transformers itself); on the
meta device PyTorch gives every leaf layer's output shape and the parameters it first uses (a tied
weight once, where it is first used), and FlopCounterMode's count at two sizes of each input.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

import symcount
from symcount import zoo
from torch_reference import torch
from torch.utils.flop_counter import FlopCounterMode
import torch_zoo_seq2seq as ref

# What symcount calls the kinds the reference hooks; rows the reference has no module for (the
# second input, the map's positions as tokens, fixed sinusoids) are left out of the comparison.
KIND = {"layernorm": "ln", "conv": "conv1d", "pos": "embed"}
NO_MODULE = {"input", "totokens"}
SIZES = {"t5_small": [(5, 3), (17, 1)], "whisper_tiny": [(3000, 1), (3000, 9)],
         "transformer_base": [(4, 6), (1, 1)], "transformer_big": [(7, 2), (1, 3)]}
PUBLISHED = {"t5_small": 60_506_624, "whisper_tiny": 37_760_640}  # Hugging Face's num_parameters


def rows_at(net, S, T):
    values = {net.symbols[name]: value for name, value in (("S", S), ("T", T)) if name in net.symbols}
    whole = lambda v: int(symcount.algebra.replaced(v, values))  # noqa: E731
    return [(KIND.get(row.kind, row.kind), tuple(whole(d) for d in row.output), whole(row.params + row.non_trainable))
            for row in net.layers if row.kind not in NO_MODULE and row.module != "FixedPositionEmbedding"]


@pytest.mark.parametrize("name", sorted(SIZES))
def test_the_zoos_encoder_decoders_are_pytorchs_at_two_sizes(name):
    """Every leaf layer's kind, output shape and parameters in forward order, encoder then decoder,
    and FlopCounterMode's FLOPs from the closed form in S and T."""
    net = zoo.load(name)
    model = ref.BUILDERS[name]()
    for S, T in SIZES[name]:
        seen, flops = ref.trace_s2s(model, S, T)
        assert rows_at(net, S, T) == [row[:3] for row in seen]
        values = {net.symbols[n]: v for n, v in (("S", S), ("T", T)) if n in net.symbols}
        assert 2 * net.macs.xreplace(values) == flops
    assert net.params + net.non_trainable == ref.params(model) == PUBLISHED.get(name, ref.params(model))


@pytest.mark.parametrize("name", sorted(SIZES))
def test_the_exported_encoder_decoders_run_as_pytorchs(name):
    """The export at the first sizes: two stacks, the decoder's cross-attention reading the encoder's
    output; the reference's logits shape, trainable parameters and FlopCounterMode's FLOPs."""
    (S, T), model = SIZES[name][0], ref.BUILDERS[name]()
    net = zoo.load(name)
    net = net.subs(**{n: v for n, v in (("S", S), ("T", T)) if n in net.symbols})
    namespace = {"__name__": "exported"}
    exec(compile(net.to_torch("Net"), "<exported>", "exec"), namespace)
    source, target = ref.make_inputs(model, S, T)
    with torch.device("meta"), FlopCounterMode(display=False) as counter:
        exported = namespace["Net"]()
        logits = exported(source, target)
    assert tuple(logits.shape[1:]) == (T, int(net.output_shape[-1]))
    trainable = sum(p.numel() for p in exported.parameters() if p.requires_grad)
    assert trainable == net.params and counter.get_total_flops() == ref.trace_s2s(model, S, T)[1]


def test_the_transformers_count_meets_the_papers_table_within_three_percent():
    """Table 3 prints 65 M and 213 M; the paper's stated design (one 37000-token embedding for both
    stacks and the output) gives 63.08 M and 214.25 M (tests/torch_zoo_seq2seq.py's docstring)."""
    for name, printed in (("transformer_base", 65e6), ("transformer_big", 213e6)):
        assert abs(int(zoo.load(name).params) - printed) / printed < 0.03


def test_t5_keeps_one_bias_table_per_stack():
    """The 32 × 8 relative-position table sits in each stack's first self-attention only."""
    net = zoo.load("t5_small")
    tables = ref.relative_bias_params(ref.BUILDERS["t5_small"]())
    attention = [row for row in net.layers if row.kind == "attn"]
    with_table = [row for row in attention if "relative" in row.text]
    assert len(with_table) == len(tables) == 2
    assert all(row.params - 4 * 512 * 512 == tables["encoder"] for row in with_table)


@pytest.mark.parametrize("text, message", [
    ("input S tokens embed10-8 input T tokens embed10-8", "which no layer reads"),
    ("input T tokens embed10-8 attn2[cross]", "cross-attention reads the output of a first stack"),
    ("input 3x8x8 conv3-8 input T tokens embed10-8 attn2[cross]", "cross attends to the first stack's output"),
    ("input T tokens embed10-8[tied]", "there is none before it"),
    ("input S tokens embed10-8 input T tokens embed10-8 attn2[cross] input U tokens", "a second input"),
    ("input S tokens embed10-8 input T tokens embed10-8 attn2[cross, memory=3]", "memory= and kdim="),
])
def test_a_second_input_is_used_or_refused_with_a_reason(text, message):
    with pytest.raises(symcount.SymcountError, match=message):
        symcount.parse(text)


def test_a_tiny_encoder_decoder_from_one_token_is_exact_by_hand():
    """S = T = 1, width 2, one head: the cross-attention's keys come from the encoder's one token
    of width 4, so K and V are 4×2 each (nn.MultiheadAttention(2, 1, kdim=4, vdim=4) holds 2·2·2 +
    2·4·2 + 3·2 + 2 = 32 parameters)."""
    net = symcount.parse("input S tokens embed3-4 input T tokens embed5-2 attn1[cross]")
    cross = torch.nn.MultiheadAttention(2, 1, kdim=4, vdim=4)
    assert net.layers[-1].params == sum(p.numel() for p in cross.parameters())
    assert net.subs(S=1, T=1).output_shape == (1, 2)


@st.composite
def small_t5s(draw):
    return dict(S=draw(st.integers(1, 6)), T=draw(st.integers(1, 6)), V=draw(st.integers(1, 9)),
                d=draw(st.integers(1, 6)), d_kv=draw(st.integers(1, 4)), d_ff=draw(st.integers(1, 7)),
                enc=draw(st.integers(1, 3)), dec=draw(st.integers(1, 3)), heads=draw(st.integers(1, 3)),
                buckets=draw(st.integers(4, 8)))  # T5's bucketing needs 4 or more


def t5_notation(c) -> str:
    attention = f"attn{c['heads']}[head_dim={c['d_kv']}, bias=false"
    ff = f"res(rmsnorm fc{c['d_ff']}[bias=false] relu fc{c['d']}[bias=false])"
    first, later = f"{attention}, relative={c['buckets']}]", f"{attention}]"
    encoder = f"res(rmsnorm {first}) {ff} (res(rmsnorm {later}) {ff})x{c['enc'] - 1}"
    causal = lambda a: a.replace("[", "[causal, ")  # noqa: E731
    cross = f"res(rmsnorm {attention}, cross])"
    decoder = (f"res(rmsnorm {causal(first)}) {cross} {ff} "
               f"(res(rmsnorm {causal(later)}) {cross} {ff})x{c['dec'] - 1}")
    return (f"input {c['S']} tokens embed{c['V']}-{c['d']} {encoder} rmsnorm "
            f"input {c['T']} tokens embed{c['V']}-{c['d']}[tied] {decoder} rmsnorm fc{c['V']}[bias=false, tied]")


@settings(deadline=None, derandomize=True, database=None, max_examples=25)
@given(small_t5s())
def test_random_t5s_match_pytorch_from_one_token(c):
    """Random small T5s, one source and one target token and width 1 among them: every row, the
    parameters (one embedding, a bias table per stack) and FlopCounterMode's FLOPs; the closed form in
    S and T, substituted and swept, agrees."""
    text = t5_notation(c)
    net = symcount.parse(text)
    with torch.device("meta"):
        model = ref.t5(V=c["V"], d=c["d"], d_kv=c["d_kv"], d_ff=c["d_ff"], enc_layers=c["enc"], dec_layers=c["dec"],
                       heads=c["heads"], buckets=c["buckets"]).eval()
    seen, flops = ref.trace_s2s(model, c["S"], c["T"])
    assert rows_at(net, c["S"], c["T"]) == [row[:3] for row in seen], text
    assert net.params == ref.params(model) and 2 * net.macs == flops, text
    closed = symcount.parse(text.replace(f"input {c['S']} tokens", "input S tokens", 1)
                            .replace(f"input {c['T']} tokens", "input T tokens", 1))
    assert closed.subs(S=c["S"], T=c["T"]).totals() == net.totals()
    assert closed.sweep(S=[c["S"]], T=[c["T"]])["macs"] == [net.macs]
