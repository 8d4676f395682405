"""A decoder's KV cache and the cost of decoding one token, against Hugging Face transformers: the
values its cache holds after T tokens, and FlopCounterMode's FLOPs of the next step, recorded on small
models built from hand-written configurations (tests/fixtures/serving/serving.json, with the versions
and the command); and the published per-token caches of the zoo's models."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import symcount
from symcount import zoo

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "serving" / "serving.json").read_text())["models"]
BLOCK = ("(res(rmsnorm attn2[kv_heads=1, head_dim=4, causal, rope, {bias}{window}]) "
         "res(rmsnorm mul(fc12[bias=false] silu | fc12[bias=false]) fc8[bias=false]))x2")
DECODERS = {
    "llama": "input T tokens embed11-8 " + BLOCK.format(bias="bias=false", window="") + " rmsnorm fc11[bias=false]",
    "mistral_window4": "input T tokens embed11-8 " + BLOCK.format(bias="bias=false", window=", window=4")
                       + " rmsnorm fc11[bias=false]",
    "qwen2": "input T tokens embed11-8 " + BLOCK.format(bias="bias=qkv", window="") + " rmsnorm fc11[bias=false, tied]",
}
T5 = ("input S tokens embed11-8 res(rmsnorm attn2[head_dim=4, bias=false, relative=8]) "
      "res(rmsnorm fc12[bias=false] relu fc8[bias=false]) res(rmsnorm attn2[head_dim=4, bias=false]) "
      "res(rmsnorm fc12[bias=false] relu fc8[bias=false]) rmsnorm "
      "input T tokens embed11-8[tied] res(rmsnorm attn2[head_dim=4, causal, bias=false, relative=8]) "
      "res(rmsnorm attn2[head_dim=4, cross, bias=false]) res(rmsnorm fc12[bias=false] relu fc8[bias=false]) "
      "res(rmsnorm attn2[head_dim=4, causal, bias=false]) res(rmsnorm attn2[head_dim=4, cross, bias=false]) "
      "res(rmsnorm fc12[bias=false] relu fc8[bias=false]) rmsnorm fc11[bias=false, tied]")


def at(expression, network, **values):
    return expression.xreplace({network.symbols[name]: value for name, value in values.items()})


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_a_decoders_cache_and_next_token_are_hugging_faces(name):
    """After T tokens the cache holds every layer's keys and values (a sliding window of 4 keeps 3: the
    next token and those make its window), and the next token, at position T + 1, costs its projections
    and its products with the keys it sees."""
    net = symcount.parse(DECODERS[name])
    for lengths, measured in FIXTURE[name].items():
        T = int(lengths[2:])
        assert at(net.serving("float32").cache, net, T=T) == measured["cache_values"], lengths
        assert 2 * at(net.decoding_macs(), net, T=T + 1) == measured["next_token_flops"], lengths


def test_an_encoder_decoders_cache_holds_the_encoders_keys_and_values_too():
    net = symcount.parse(T5)
    for lengths, measured in FIXTURE["t5"].items():
        S, T = (int(part.split("=")[1]) for part in lengths.split(","))
        assert at(net.serving("float32").cache, net, S=S, T=T) == measured["cache_values"], lengths
        assert 2 * at(net.decoding_macs(), net, S=S, T=T + 1) == measured["next_token_flops"], lengths


def test_the_zoos_caches_per_token_are_the_published_ones():
    """Llama 2 7B: 2 · 32 layers · 4096 · 2 bytes = 0.5 MiB a token in float16; Llama 3 8B's 8 key/value
    heads a quarter of that; DeepSeek-V3's latent cache (512 + 64) · 61 layers, 70,272 bytes a token
    (DeepSeek-V2 §2.1.2's (d_c + d_h^R)·l elements); Mistral's capped at its window of 4096."""
    for name, per_token in (("llama2_7b", 2**19), ("llama3_8b", 2**17), ("deepseek_v3", (512 + 64) * 61 * 2)):
        net = zoo.load(name)
        assert net.kv_cache() == per_token * net.symbols["T"]
    mistral = zoo.load("mistral_7b")
    assert at(mistral.kv_cache(), mistral, T=100_000) == 4095 * 2**17


def test_serving_memory_is_the_weights_and_a_batchs_caches():
    net = zoo.load("llama2_7b")
    served = net.serving("bfloat16", batch=8)
    assert at(served.total_bytes, net, T=4096) == 2 * 6_738_415_616 + 8 * 4096 * 2**19
    batched = net.serving("bfloat16", batch="B")  # a batch left as a symbol, as training_memory takes it
    B = next(name for name in batched.total_bytes.free_symbols if name.name == "B")
    assert at(batched.total_bytes.subs(B, 8), net, T=4096) == 2 * 6_738_415_616 + 8 * 4096 * 2**19


@pytest.mark.parametrize("call, message", [
    (lambda: zoo.load("vgg16").decoding_macs(), "needs the sequence length as a symbol"),
    (lambda: zoo.load("gpt2").kv_cache("float8"), "unknown dtype 'float8'"),
    (lambda: zoo.load("gpt2").serving(batch=0), "batch is a whole number >= 1, got 0"),
    (lambda: zoo.load("gpt2").serving(batch=2.5), "batch is a whole number >= 1, got 2.5"),
    (lambda: zoo.load("gpt2").serving(batch="2 sequences"), "batch is a whole number >= 1 or a symbol's name"),
])
def test_serving_questions_without_an_answer_are_named(call, message):
    with pytest.raises(symcount.SymcountError, match=message):
        call()
