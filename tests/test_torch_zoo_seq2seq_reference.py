"""tests/torch_zoo_seq2seq.py against the numbers it was checked with: HF transformers 5.23.0's
T5ForConditionalGeneration (t5-small) and WhisperForConditionalGeneration (whisper-tiny) built on
the meta device (parameters, FlopCounterMode totals at two sizes and more, recorded here as
literals), the published counts, and the closed forms of its docstring.  No symcount; meta
device only, a few seconds."""
from __future__ import annotations

import pytest

from torch_reference import torch  # first: skips the module when torch is missing
import torch_zoo_seq2seq as ref

# Parameters: HF 5.23.0's parameters() (tied weights once) and what each model's sources publish.
HF_PARAMS = {"t5_small": 60_506_624,       # T5ForConditionalGeneration(T5Config()) on meta
             "whisper_tiny": 37_760_640}   # WhisperForConditionalGeneration(WhisperConfig()), incl. the
                                           # frozen 1500 x 384 sinusoid Embedding (a Parameter in HF)
PARAMS = {**HF_PARAMS,
          "transformer_base": 63_082_496,  # 37000*512 + 6*3,152,384 + 6*4,204,032 (no HF model: arithmetic)
          "transformer_big": 214_245_376}  # 37000*1024 + 6*12,596,224 + 6*16,796,672
PUBLISHED_M = {"t5_small": 60,             # T5 paper / model card: "60 million" (60,506,624 exactly)
               "whisper_tiny": 39,         # Whisper paper Table 1: "39 M"
               "transformer_base": 65,     # Vaswani et al. 2017 Table 3: 65 x 10^6
               "transformer_big": 213}     # Table 3: 213 x 10^6
# How far each build is from its printed figure (see the reference's docstring for why).
PUBLISHED_TOLERANCE = {"t5_small": 0.01, "whisper_tiny": 0.04, "transformer_base": 0.03, "transformer_big": 0.01}

# FlopCounterMode totals of the HF models on meta (eager and sdpa alike), (S or L, T) -> FLOPs.
HF_FLOPS = {"t5_small": {(5, 3): 451_620_864, (17, 1): 829_394_944, (64, 33): 5_447_233_536},
            "whisper_tiny": {(3000, 1): 40_542_241_536, (3000, 9): 41_067_240_192}}
# The reference's own totals where there is no HF model (equal to the closed form below).
FLOPS = {**HF_FLOPS,
         "transformer_base": {(5, 3): 466_587_648, (17, 1): 834_383_872},
         "transformer_big": {(5, 3): 1_637_818_368, (17, 1): 3_254_214_656}}


@pytest.fixture(scope="module")
def models():
    return {name: build() for name, build in ref.BUILDERS.items()}


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_parameters_are_hfs_and_near_the_published_figure(models, name):
    model = models[name]
    assert all(p.device.type == "meta" for p in model.parameters())
    n = ref.params(model)
    assert n == PARAMS[name]
    assert abs(n / 1e6 - PUBLISHED_M[name]) / PUBLISHED_M[name] <= PUBLISHED_TOLERANCE[name]


def test_t5_small_is_exactly_its_usual_count_and_whisper_is_not_39m():
    assert PARAMS["t5_small"] == 60_506_624
    assert round(PARAMS["whisper_tiny"] / 1e6) == 38  # published 39M: neither 37.76M (HF) ...
    assert round((PARAMS["whisper_tiny"] - 1500 * 384) / 1e6) == 37  # ... nor openai's 37.18M (table a buffer)


@pytest.mark.parametrize("name,size", [(n, s) for n in sorted(FLOPS) for s in FLOPS[n]])
def test_flops_and_rows(models, name, size):
    rows, flops = ref.trace_s2s(models[name], *size)
    assert flops == FLOPS[name][size]
    assert sum(r[2] for r in rows) == PARAMS[name]  # a tied weight at its first row only
    assert {r[3] for r in rows} == {"encoder", "decoder"}
    assert rows[-1][:2] == ("fc", (size[1], {"t5_small": 32128, "whisper_tiny": 51865}.get(name, 37000)))
    assert rows[-1][2] == 0  # the output projection is the tied embedding


def t5_flops(S, T, d=512, i=512, f=2048, V=32128, L=6):
    return (L * (8 * S * d * i + 4 * S * S * i + 4 * S * d * f)
            + L * (8 * T * d * i + 4 * T * T * i + 4 * T * d * i + 4 * S * d * i + 4 * T * S * i + 4 * T * d * f)
            + 2 * T * d * V)


def whisper_flops(L, T, m=80, d=384, f=1536, V=51865, n=4):
    F = (L - 1) // 2 + 1
    return (2 * m * 3 * d * L + 2 * d * 3 * d * F + n * (8 * F * d * d + 4 * F * F * d + 4 * F * d * f)
            + n * (8 * T * d * d + 4 * T * T * d + 4 * T * d * d + 4 * F * d * d + 4 * T * F * d + 4 * T * d * f)
            + 2 * T * d * V)


@pytest.mark.parametrize("S,T", [(1, 1), (40, 129)])
def test_t5_and_transformer_closed_forms(models, S, T):
    assert ref.trace_s2s(models["t5_small"], S, T)[1] == t5_flops(S, T)
    assert ref.trace_s2s(models["transformer_base"], S, T)[1] == t5_flops(S, T, 512, 512, 2048, 37000)
    assert ref.trace_s2s(models["transformer_big"], S, T)[1] == t5_flops(S, T, 1024, 1024, 4096, 37000)


@pytest.mark.parametrize("L,T", [(3000, 9), (1, 1), (7, 2), (2999, 448)])
def test_whisper_closed_form_and_frame_count(models, L, T):
    rows, flops = ref.trace_s2s(models["whisper_tiny"], L, T)
    assert flops == whisper_flops(L, T)
    F = (L - 1) // 2 + 1
    assert rows[:5] == [("conv1d", (384, L), 80 * 384 * 3 + 384, "encoder"), ("gelu", (384, L), 0, "encoder"),
                        ("conv1d", (384, F), 384 * 384 * 3 + 384, "encoder"), ("gelu", (384, F), 0, "encoder"),
                        ("embed", (F, 384), 1500 * 384, "encoder")]


@pytest.mark.parametrize("L,T", [(3001, 1), (3000, 449), (3000, 0)])
def test_whisper_refuses_sizes_past_its_tables(models, L, T):
    with pytest.raises(ValueError):
        ref.trace_s2s(models["whisper_tiny"], L, T)


def test_t5_rows_and_bias_tables(models):
    model = models["t5_small"]
    assert ref.relative_bias_params(model) == {"encoder": 32 * 8, "decoder": 32 * 8}
    rows, _ = ref.trace_s2s(model, 5, 3)
    enc = [r for r in rows if r[3] == "encoder"]
    dec = [r for r in rows if r[3] == "decoder"]
    assert enc[0] == ("embed", (5, 512), 32128 * 512, "encoder") and dec[0] == ("embed", (3, 512), 0, "decoder")
    block = ["rmsnorm", "attn", "rmsnorm", "fc", "relu", "fc"]
    assert [r[0] for r in enc] == ["embed"] + 6 * block + ["rmsnorm"]
    dec_block = ["rmsnorm", "attn", "rmsnorm", "attn", "rmsnorm", "fc", "relu", "fc"]
    assert [r[0] for r in dec] == ["embed"] + 6 * dec_block + ["rmsnorm", "fc"]
    attn = [r for r in rows if r[0] == "attn"]
    qkvo = 4 * 512 * 512
    assert [r[2] for r in attn] == [qkvo + 256] + 5 * [qkvo] + [qkvo + 256] + 11 * [qkvo]  # block 0 holds the table
    assert [r[1] for r in attn] == 6 * [(5, 512)] + 12 * [(3, 512)]  # cross-attention: T queries over S keys


def test_whisper_rows(models):
    rows, _ = ref.trace_s2s(models["whisper_tiny"], 3000, 9)
    kinds = [r[0] for r in rows]
    encoder = ["conv1d", "gelu", "conv1d", "gelu", "embed"] + 4 * ["ln", "attn", "ln", "fc", "gelu", "fc"] + ["ln"]
    decoder = ["embed", "embed"] + 4 * ["ln", "attn", "ln", "attn", "ln", "fc", "gelu", "fc"] + ["ln", "fc"]
    assert kinds == encoder + decoder
    assert rows[30] == ("embed", (9, 384), 51865 * 384, "decoder")  # tokens, proj_out's weight
    assert rows[31] == ("embed", (9, 384), 448 * 384, "decoder")  # learned positions
    attn = [r for r in rows if r[0] == "attn"]
    assert {r[2] for r in attn} == {4 * 384 * 384 + 3 * 384}  # k_proj has no bias


@pytest.mark.parametrize("kw,base,big", [
    ({}, 63_082_496, 214_245_376),                                            # the paper's sharing
    ({"out_bias": True}, 63_119_496, 214_282_376),                            # + pre-softmax bias
    ({"final_ln": True}, 63_084_544, 214_249_472),                            # + a final LN per stack
    ({"tie_output": False}, 82_026_496, 252_133_376),                         # untied pre-softmax
    ({"share_src_tgt": False, "tie_output": False}, 100_970_496, 290_021_376),  # three matrices
])
def test_transformer_variants(kw, base, big):
    with torch.device("meta"):
        assert ref.params(ref.transformer(N=6, d=512, d_ff=2048, heads=8, V=37000, **kw)) == base
        assert ref.params(ref.transformer(N=6, d=1024, d_ff=4096, heads=16, V=37000, **kw)) == big


def test_transformer_layers_are_nn_transformers_count():
    """With final LayerNorms the layers hold torch.nn.Transformer's parameters exactly."""
    with torch.device("meta"):
        for d, h, f in ((512, 8, 2048), (1024, 16, 4096)):
            t = torch.nn.Transformer(d_model=d, nhead=h, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=f,
                                     batch_first=True)
            ours = ref.params(ref.transformer(N=6, d=d, d_ff=f, heads=h, V=1, final_ln=True)) - d
            assert ours == sum(p.numel() for p in t.parameters())
