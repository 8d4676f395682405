"""The Llama family against PyTorch: RMSNorm, grouped-query attention with rotary positions, a
head size of its own and biases on some projections, and the gated MLP, in the zoo's entries and
at random small sizes.

tests/torch_zoo_llm.py builds each model by hand from Hugging Face's modeling files and the
public configurations (checked once against transformers itself); PyTorch on the meta device
gives every leaf layer's output shape, the parameters (a tied weight once) and FlopCounterMode's
count, which includes the T×T products of scaled_dot_product_attention and nothing for RMSNorm,
the rotation, SiLU or the gate's product.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

import symcount
from symcount import zoo
from torch_reference import torch
from torch.utils.flop_counter import FlopCounterMode
import torch_zoo_llm as ref

SETTINGS = dict(deadline=None, derandomize=True, database=None, max_examples=40)
# The totals each model's card and configuration give.
PUBLISHED = {"llama2_7b": 6_738_415_616, "llama3_8b": 8_030_261_248, "mistral_7b": 7_241_732_096,
             "qwen2_0_5b": 494_032_768}


def rows_of(net, T):
    """(kind, output shape) of every row at T tokens, and the rows' parameters."""
    mapping = {net.symbols["T"]: T} if "T" in net.symbols else {}
    return [(row.kind, tuple(int(symcount.algebra.replaced(d, mapping)) for d in row.output)) for row in net.layers]


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_the_zoos_llama_family_is_pytorchs_at_two_lengths(name):
    """Every leaf layer's kind and shape in forward order, the parameters, and FlopCounterMode's
    FLOPs at T = 1 and T = 7 from the closed form in T."""
    net = zoo.load(name)
    T = net.symbols["T"]
    for length in (1, 7):
        model = ref.BUILDERS[name]((length,))
        seen, flops = ref.trace_llm(model, length)
        assert rows_of(net, length) == seen
        assert 2 * net.macs.xreplace({T: length}) == flops
    assert net.params == ref.params(model) == PUBLISHED[name]


def test_per_layer_parameters_match_module_by_module():
    """Qwen2-0.5B's first block: RMSNorm 896, attention with q, k, v biases 896·896 + 896 + 2·(896·128
    + 128) + 896·896, and the three MLP projections; the output layer tied (0 of its own)."""
    net = zoo.load("qwen2_0_5b")
    model = ref.BUILDERS["qwen2_0_5b"]((3,))
    block = model.model.layers[0] if hasattr(model, "model") else model.layers[0]
    modules = [block.input_layernorm, block.self_attn, block.post_attention_layernorm, block.mlp.gate_proj,
               block.mlp.up_proj, block.mlp.down_proj]
    expected = [sum(p.numel() for p in m.parameters()) for m in modules]
    assert [int(row.params) for row in net.layers[1:8] if row.kind != "silu"] == expected
    assert net.layers[-1].params == 0 and net.layers[-1].macs != 0


@st.composite
def small_configs(draw):
    heads = draw(st.integers(1, 4))
    kv_heads = draw(st.sampled_from([g for g in range(1, heads + 1) if heads % g == 0]))
    own_head = draw(st.booleans())
    head_dim = 2 * draw(st.integers(1, 3))  # rotary positions turn pairs of features
    d = draw(st.integers(1, 6)) if own_head else heads * head_dim
    return dict(T=draw(st.integers(1, 6)), L=draw(st.integers(1, 2)), d=d, heads=heads, kv_heads=kv_heads,
                head_dim=head_dim, own_head=own_head, f=draw(st.integers(1, 7)), V=draw(st.integers(1, 9)),
                tied=draw(st.booleans()), qkv_bias=draw(st.booleans()))


def notation(c) -> str:
    options = [f"kv_heads={c['kv_heads']}", "causal", "rope", "bias=qkv" if c["qkv_bias"] else "bias=false"]
    options += [f"head_dim={c['head_dim']}"] if c["own_head"] else []
    return (f"embed{c['V']}-{c['d']} (res(rmsnorm attn{c['heads']}[{', '.join(options)}]) "
            f"res(rmsnorm mul(fc{c['f']}[bias=false] silu | fc{c['f']}[bias=false]) fc{c['d']}[bias=false]))"
            f"x{c['L']} rmsnorm fc{c['V']}[bias=false{', tied' if c['tied'] else ''}]")


@settings(**SETTINGS)
@given(small_configs())
def test_random_llamas_match_pytorch_from_one_token(c):
    """Random small decoders, one token and width 1 among them: shapes, parameters, FLOPs; the
    symbolic family entry substituted, a sweep in T and the export agree."""
    text = notation(c)
    net = symcount.parse(text, input=f"{c['T']} tokens")
    model = ref.small_llama(c["T"], c["L"], c["d"], c["heads"], c["kv_heads"], c["head_dim"], c["f"], c["V"],
                            tied=c["tied"], qkv_bias=c["qkv_bias"])
    seen, flops = ref.trace_llm(model, c["T"])
    assert rows_of(net, c["T"]) == seen, text
    assert net.params == ref.params(model) and 2 * net.macs == flops, text
    closed = symcount.parse(text, input="T tokens")
    assert closed.sweep(T=[c["T"]])["macs"] == [net.macs] and closed.subs(T=c["T"]).totals() == net.totals()
    namespace = {"__name__": "exported"}
    exec(compile(net.to_torch("Net"), "<exported>", "exec"), namespace)
    with torch.device("meta"), FlopCounterMode(display=False) as counter:
        exported = namespace["Net"]()
        logits = exported(torch.zeros(1, c["T"], dtype=torch.long))
    assert tuple(logits.shape[1:]) == (c["T"], c["V"])
    assert sum(p.numel() for p in exported.parameters()) == net.params and counter.get_total_flops() == flops


def test_the_symbolic_llama_is_each_model_at_its_sizes():
    """llama (L, d, h, g, f, V and T symbols) at Llama 3 8B's sizes is llama3_8b, and at Llama 2's is
    llama2_7b, as formulas in T."""
    family = zoo.load("llama")
    for name, sizes in (("llama3_8b", dict(L=32, d=4096, h=32, g=8, f=14336, V=128256)),
                        ("llama2_7b", dict(L=32, d=4096, h=32, g=32, f=11008, V=32000))):
        at = family.subs(**sizes)
        model = ref.BUILDERS[name]((5,))
        assert at.params == ref.params(model)
        assert 2 * at.macs.xreplace({at.symbols["T"]: 5}) == ref.trace_llm(model, 5)[1]


@pytest.mark.parametrize("text, error, message", [
    ("input 8x64 tokens attn8[kv_heads=3]", symcount.ShapeError, "3 key/value heads must divide the 8 heads"),
    ("input 8x64 tokens attn6", symcount.ShapeError, "6 heads must divide the token width 64 .or give the head size"),
    ("input 8x64 tokens fc8[bias=qkv]", symcount.OptionError, "bias=qkv names attention's projections"),
    ("input 8x64 tokens attn8[bias=qkx]", symcount.OptionError, "from q, k, v and o"),
    ("input 3x8x8 rmsnorm", symcount.ShapeError, "rmsnorm takes a flat input or N×D tokens"),
    ("input 8x6 tokens attn2[rope]", symcount.ShapeError, "the head size 3 must be even"),
])
def test_attention_variants_refuse_what_pytorch_cannot_build(text, error, message):
    with pytest.raises(error, match=message):
        symcount.parse(text)


@pytest.mark.parametrize("name", ["qwen2_0_5b", "llama3_8b"])
def test_the_zoos_llama_family_exports_to_what_pytorch_runs(name):
    """The exported module at T = 3: the reference's logits shape, parameters and FLOPs."""
    net = zoo.load(name, T=3)
    namespace = {"__name__": "exported"}
    exec(compile(net.to_torch("Net"), "<exported>", "exec"), namespace)
    with torch.device("meta"), FlopCounterMode(display=False) as counter:
        exported = namespace["Net"]()
        logits = exported(torch.zeros(1, 3, dtype=torch.long))
    model = ref.BUILDERS[name]((3,))
    assert tuple(logits.shape[1:]) == (3, model.lm_head.out_features)
    assert sum(p.numel() for p in exported.parameters()) == ref.params(model)
    assert counter.get_total_flops() == ref.trace_llm(model, 3)[1]
