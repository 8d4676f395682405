"""A mixture of experts against PyTorch: the router's row, every expert stored and k of them (and
the shared ones) run for each token, in the zoo's Mixtral 8x7B and in random small Mixtral-style
decoders from one token.

tests/torch_zoo_moe.py builds them by hand from Hugging Face's modeling_mixtral.py (checked once
against transformers itself): each expert runs on the tokens routed to it, so FlopCounterMode
counts T·k expert passes whatever the routing; the active parameters are counted by running one
token and summing the parameters of every module that ran.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

import symcount
from symcount import zoo
from torch_reference import torch
from torch.utils.flop_counter import FlopCounterMode
import torch_zoo_moe as ref

# The model card's figures: 46.7 B parameters, 12.9 B active per token (the embedding table counted);
# DeepSeek-V3's report: 671 B and 37 B "activated for each token" (its table of 129280 × 7168 left out:
# a token reads one row of it).
PUBLISHED = {"mixtral_8x7b": (46.7e9, 12.9e9, 0), "deepseek_v3": (671e9, 37e9, 129280 * 7168)}


def rows_at(net, T):
    """(kind, output shape, params) of each row at T tokens, a mixture's rows (router and expert)
    taken together as one "moe" row, as the reference hooks the whole sparse block."""
    values = {net.symbols["T"]: T} if "T" in net.symbols else {}
    whole = lambda v: int(symcount.algebra.replaced(v, values))  # noqa: E731
    rows, block = [], None
    for row in net.layers:
        scope = next((p for p in row.path if p.startswith("moe")), None)
        if scope is None:
            block = None
            rows.append((row.kind, tuple(whole(d) for d in row.output), whole(row.params)))
        elif scope != block:
            block = scope
            rows.append(("moe", tuple(whole(d) for d in row.input), whole(row.params)))
        else:
            rows[-1] = rows[-1][:2] + (rows[-1][2] + whole(row.params),)
    return rows


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_the_zoos_mixtures_are_pytorchs_at_two_lengths(name):
    """Mixtral 8x7B, and DeepSeek-V3 with latent attention and a shared expert: every row, FLOPs at
    T = 1 and 7, parameters and active parameters, and the published figures rounded."""
    net = zoo.load(name)
    model = ref.BUILDERS[name]()
    for T in (1, 7):
        seen, flops = ref.trace_moe(model, T)
        assert rows_at(net, T) == seen
        assert 2 * net.macs.xreplace({net.symbols["T"]: T}) == flops
    assert net.params == ref.params(model) and net.active_params == ref.active_params(model)
    total, active, left_out = PUBLISHED[name]
    digits = -len(str(int(total))) + 2  # the published figures' two or three significant digits
    assert round(int(net.params), digits) == round(total, digits)
    assert round(int(net.active_params) - left_out, digits + 1) == round(active, digits + 1)


def test_a_mixture_row_by_row():
    """The router is nn.Linear(D, E, bias=False); each expert's layer holds E copies; the active
    parameters hold k of them."""
    net = zoo.load("mixtral_8x7b")
    parts = ref.moe_parts(ref.BUILDERS["mixtral_8x7b"]())[0]
    router = next(row for row in net.layers if row.kind == "router")
    experts = [row for row in net.layers if "moe1" in row.path and row.kind != "router"]
    assert router.params == parts["router"] and router.output[-1] == parts["experts"]
    assert sum(row.params for row in experts) == parts["experts"] * parts["expert"]
    assert sum(row.active_params for row in experts) == parts["top_k"] * parts["expert"]


@st.composite
def small_configs(draw):
    heads = draw(st.integers(1, 3))
    kv_heads = draw(st.sampled_from([g for g in range(1, heads + 1) if heads % g == 0]))
    head_dim = 2 * draw(st.integers(1, 2))
    E = draw(st.integers(1, 4))
    return dict(T=draw(st.integers(1, 5)), L=draw(st.integers(1, 2)), d=heads * head_dim, heads=heads,
                kv_heads=kv_heads, head_dim=head_dim, f=draw(st.integers(1, 6)), V=draw(st.integers(1, 7)), E=E,
                k=draw(st.integers(1, E)))


def notation(c) -> str:
    expert = f"mul(fc{c['f']}[bias=false] silu | fc{c['f']}[bias=false]) fc{c['d']}[bias=false]"
    return (f"embed{c['V']}-{c['d']} (res(rmsnorm attn{c['heads']}[kv_heads={c['kv_heads']}, causal, rope, "
            f"bias=false]) res(rmsnorm moe{c['E']}[top={c['k']}]({expert})))x{c['L']} rmsnorm fc{c['V']}[bias=false]")


@settings(deadline=None, derandomize=True, database=None, max_examples=15)
@given(small_configs())
def test_random_mixtures_match_pytorch_from_one_token(c):
    """Random small decoders on CPU with real routing, one token and one expert among them: shapes,
    parameters, active parameters and FLOPs; the symbolic family entry, a sweep in T and the
    exported module agree."""
    text = notation(c)
    net = symcount.parse(text, input=f"{c['T']} tokens")
    model = ref.small_mixtral(c["L"], c["d"], c["heads"], c["kv_heads"], c["head_dim"], c["f"], c["V"], c["E"],
                              c["k"])
    seen, flops = ref.trace_moe(model, c["T"])
    assert rows_at(net, c["T"]) == seen, text
    assert net.params == ref.params(model) and 2 * net.macs == flops, text
    assert net.active_params == ref.active_params(model), text
    family = zoo.load("moe_llama").subs(L=c["L"], d=c["d"], h=c["heads"], g=c["kv_heads"], f=c["f"], V=c["V"],
                                         E=c["E"], k=c["k"])
    assert family.subs(T=c["T"]).totals() == net.totals() and family.active_params == net.active_params
    assert symcount.parse(text, input="T tokens").sweep(T=[c["T"]])["macs"] == [net.macs]
    namespace = {"__name__": "exported"}
    exec(compile(net.to_torch("Net"), "<exported>", "exec"), namespace)
    exported = namespace["Net"]().eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        torch.nn.init.normal_(exported.layers[0].weight)
        logits = exported(torch.randint(0, c["V"], (1, c["T"])))
    assert tuple(logits.shape[1:]) == (c["T"], c["V"])
    assert sum(p.numel() for p in exported.parameters()) == net.params
    attention = 2 * 2 * c["T"] * c["T"] * c["d"] * c["L"]  # the exported SDPA runs fused on CPU: not counted
    assert counter.get_total_flops() in (flops, flops - attention)


@st.composite
def small_deepseeks(draw):
    E = draw(st.integers(2, 6))  # DeepSeek scores a group by its two best experts: at least two a group
    group = draw(st.sampled_from([g for g in range(1, E // 2 + 1) if E % g == 0]))
    topk_group = draw(st.integers(1, group))
    k = draw(st.integers(1, topk_group * E // group))
    return dict(T=draw(st.integers(1, 4)), L=draw(st.integers(1, 3)), d=draw(st.integers(2, 8)),
                heads=draw(st.integers(1, 3)), q_rank=draw(st.sampled_from([None, 3, 5])), kv_rank=draw(st.integers(1, 6)),
                nope=draw(st.integers(1, 4)), rope=2 * draw(st.integers(1, 2)), v=draw(st.integers(1, 4)),
                f=draw(st.integers(1, 6)), moe_f=draw(st.integers(1, 4)), V=draw(st.integers(1, 7)), E=E,
                shared=draw(st.integers(1, 2)), k=k, n_group=group, topk_group=topk_group,
                dense=draw(st.integers(0, 1)))


@settings(deadline=None, derandomize=True, database=None, max_examples=12)
@given(small_deepseeks())
def test_random_latent_attention_and_shared_experts_match_pytorch(c):
    """Random small DeepSeek-V3-style decoders on CPU from one token: latent attention with and
    without a compressed query, dense layers first, then mixtures with shared experts."""
    q_rank = f"q_rank={c['q_rank']}, " if c["q_rank"] else ""
    attention = (f"attn{c['heads']}[{q_rank}kv_rank={c['kv_rank']}, head_dim={c['nope']}, rope_dim={c['rope']}, "
                 f"v_dim={c['v']}, causal, bias=false]")
    mlp = lambda f: f"mul(fc{f}[bias=false] silu | fc{f}[bias=false]) fc{c['d']}[bias=false]"  # noqa: E731
    dense = min(c["dense"], c["L"])
    text = (f"embed{c['V']}-{c['d']} (res(rmsnorm {attention}) res(rmsnorm {mlp(c['f'])}))x{dense} "
            f"(res(rmsnorm {attention}) res(rmsnorm moe{c['E']}[top={c['k']}, shared={c['shared']}]"
            f"({mlp(c['moe_f'])})))x{c['L'] - dense} rmsnorm fc{c['V']}[bias=false]")
    model = ref.small_deepseek(c["L"], c["d"], c["heads"], c["q_rank"], c["kv_rank"], c["nope"], c["rope"], c["v"],
                               c["f"], c["moe_f"], c["V"], c["E"], c["shared"], c["k"], c["n_group"],
                               c["topk_group"], dense)
    net = symcount.parse(text, input=f"{c['T']} tokens")
    seen, flops = ref.trace_moe(model, c["T"])
    assert rows_at(net, c["T"]) == seen, text
    assert net.params == ref.params(model) and 2 * net.macs == flops, text
    assert net.active_params == ref.active_params(model), text
    from torch.nn.attention import SDPBackend, sdpa_kernel
    namespace = {"__name__": "exported"}
    exec(compile(net.to_torch("Net"), "<exported>", "exec"), namespace)
    exported = namespace["Net"]().eval()
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        logits = exported(torch.randint(0, c["V"], (1, c["T"])))
    assert tuple(logits.shape[1:]) == (c["T"], c["V"]) and counter.get_total_flops() == flops, text
    assert sum(p.numel() for p in exported.parameters()) == net.params, text


@pytest.mark.parametrize("text, message", [
    ("input 5 tokens embed10-8 attn2[kv_rank=4, head_dim=2]", "write bias=false"),
    ("input 5 tokens embed10-8 attn2[kv_rank=4, bias=false]", "needs the head size"),
    ("input 5 tokens embed10-8 attn2[kv_rank=4, head_dim=2, kv_heads=1, bias=false]", "takes no kv_heads"),
    ("input 5 tokens embed10-8 moe8[top=9](fc16 fc8)", "more experts than the 8 there are"),
    ("input 5 tokens embed10-8 moe8(fc16 fc8)", "needs the experts each token is routed to"),
    ("input 3x8x8 moe8[top=2](conv3-3)", "takes N×D tokens"),
    ("input 5 tokens embed10-8 moe8[top=2](fc16)", "each must keep its shape"),
    ("input 5 tokens embed10-8 moe8[top=2]()", "needs the layers of one expert"),
    ("input 5 tokens embed10-8 moe8[top=2, foo=1](fc8)", "unknown option 'foo' for moe"),
])
def test_a_mixture_refuses_what_cannot_route(text, message):
    with pytest.raises(symcount.SymcountError, match=message):
        symcount.parse(text)


def test_a_network_without_experts_has_every_parameter_active():
    net = zoo.load("llama2_7b")
    assert net.active_params == net.params
