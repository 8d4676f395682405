"""The FLOPs of one training step, per sample, against FlopCounterMode counting PyTorch's forward and
backward passes (on the meta device, where scaled_dot_product_attention is two counted products), with
activation recomputation as torch.utils.checkpoint does it: around the whole model (the default,
non-reentrant) and around the core attention (reentrant, which runs it again whole)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

import symcount
from symcount import zoo
from torch_reference import torch
from torch.utils.checkpoint import checkpoint
from torch.utils.flop_counter import FlopCounterMode
import torch_zoo
import torch_zoo_llm as ref
import torch_zoo_moe as moe_ref
import torch_zoo_seq2seq as s2s_ref

F = torch.nn.functional
SDPA = F.scaled_dot_product_attention


def measured(model, inputs, recompute="none"):
    """FlopCounterMode's FLOPs of a forward and a backward pass (of the output's sum)."""
    def core(q, k, v, **options):  # selective: the core attention checkpointed, run again in the backward
        return checkpoint(lambda q, k, v: SDPA(q, k, v, **options), q, k, v, use_reentrant=True)
    F.scaled_dot_product_attention = core if recompute == "selective" else SDPA
    try:
        with FlopCounterMode(display=False) as counter:
            out = checkpoint(model, *inputs, use_reentrant=False) if recompute == "full" else model(*inputs)
            out.sum().backward()
    finally:
        F.scaled_dot_product_attention = SDPA
    return counter.get_total_flops()


@st.composite
def small_llamas(draw):
    heads = draw(st.integers(1, 3))
    kv_heads = draw(st.sampled_from([g for g in range(1, heads + 1) if heads % g == 0]))
    head_dim = 2 * draw(st.integers(1, 2))
    return dict(T=draw(st.integers(1, 6)), L=draw(st.integers(1, 2)), d=heads * head_dim, heads=heads,
                kv_heads=kv_heads, head_dim=head_dim, f=draw(st.integers(1, 6)), V=draw(st.integers(1, 7)),
                recompute=draw(st.sampled_from(["none", "selective", "full"])))


@settings(deadline=None, derandomize=True, database=None, max_examples=30)
@given(small_llamas())
def test_a_decoders_training_step_is_pytorchs_from_one_token(c):
    text = (f"embed{c['V']}-{c['d']} (res(rmsnorm attn{c['heads']}[kv_heads={c['kv_heads']}, causal, rope, "
            f"bias=false]) res(rmsnorm mul(fc{c['f']}[bias=false] silu | fc{c['f']}[bias=false]) "
            f"fc{c['d']}[bias=false]))x{c['L']} rmsnorm fc{c['V']}[bias=false]")
    with torch.device("meta"):
        model = ref.llama(c["L"], c["d"], c["heads"], c["kv_heads"], c["head_dim"], c["f"], c["V"])
    ids = torch.zeros(1, c["T"], dtype=torch.long, device="meta")
    step = symcount.parse(text, input=f"{c['T']} tokens").training_flops(c["recompute"])
    assert step.total == measured(model, (ids,), c["recompute"]), text
    closed = symcount.parse(text, input="T tokens").training_flops(c["recompute"]).total
    assert closed.xreplace({symcount.parse(text, input="T tokens").symbols["T"]: c["T"]}) == step.total


@pytest.mark.parametrize("name, shape", [("resnet18", (3, 64, 64)), ("vgg11", (3, 32, 32)), ("alexnet_torchvision", (3, 224, 224))])
def test_a_cnns_first_layer_computes_its_weights_gradient_only(name, shape):
    """The data carries no gradient, so the first convolution's backward is its weights' alone."""
    model = torch_zoo.build(name, shape)
    x = torch.zeros(1, *shape, device="meta")
    step = zoo.load(name, input="x".join(map(str, shape))).training_flops()
    assert step.total == measured(model, (x,))
    assert step.backward < 2 * step.forward


@pytest.mark.parametrize("groups", [1, 4, 32])
def test_a_grouped_convolutions_backward_is_twice_its_forward_where_flopcountermode_says_g_plus_one(groups):
    """torch 2.13's FlopCounterMode charges a grouped convolution's weight gradient as if it were not
    grouped: (g + 1) × the forward in all. The arithmetic is two forwards' worth, which symcount counts."""
    conv = torch.nn.Conv2d(32, 32, 3, padding=1, groups=groups, bias=False).to("meta")
    x = torch.zeros(1, 32, 8, 8, device="meta", requires_grad=True)
    step = symcount.parse(f"input 32x8x8 scale conv3-32[groups={groups}, bias=false]").training_flops()  # a gradient flows in
    with FlopCounterMode(display=False) as counter:
        y = conv(x)
    forward = counter.get_total_flops()
    with FlopCounterMode(display=False) as counter:
        y.sum().backward()
    assert counter.get_total_flops() == (groups + 1) * forward  # measured: FlopCounterMode's rule
    # a gradient flows in: the input's and the weights', each a forward's worth of products
    assert (step.forward, step.backward) == (forward, 2 * forward)


def test_a_mixtures_training_step_runs_the_routed_experts_backward():
    model = moe_ref.small_mixtral(1, 8, 2, 1, 4, 12, 11, 4, 2)
    ids = torch.randint(0, 11, (1, 5))
    from torch.nn.attention import SDPBackend, sdpa_kernel
    with sdpa_kernel(SDPBackend.MATH):
        flops = measured(model, (ids,))
    text = ("input 5 tokens embed11-8 res(rmsnorm attn2[kv_heads=1, head_dim=4, causal, rope, bias=false]) "
            "res(rmsnorm moe4[top=2](mul(fc12[bias=false] silu | fc12[bias=false]) fc8[bias=false])) rmsnorm "
            "fc11[bias=false]")
    assert symcount.parse(text).training_flops().total == flops


def test_an_encoder_decoders_training_step():
    model = s2s_ref.BUILDERS["t5_small"]()
    step = zoo.load("t5_small").subs(S=6, T=3).training_flops()
    assert step.total == measured(model, s2s_ref.make_inputs(model, 6, 3))


def test_a_wrong_recomputation_is_named():
    with pytest.raises(symcount.SymcountError, match="recompute is one of none, selective, full"):
        zoo.load("gpt2").training_flops("half")


def test_palms_6n_plus_12lhqt_is_the_exact_count_of_a_llama_decoder():
    """Chowdhery et al. 2022 (PaLM, Appendix B): training FLOPs per token 6N + 12·L·H·Q·T, H·Q the heads
    times their size. On the symbolic llama, with N the parameters that take part in a product (all but
    the embedding table and the norms' weights) and H·Q = d, it is exact."""
    import sympy
    net = zoo.load("llama")
    T, L, d, V = (net.symbols[name] for name in "T L d V".split())
    N = net.params - V * d - (2 * d * L + d)  # the table, two norms a layer and the final one left out
    assert sympy.expand(net.training_flops().total / T - (6 * N + 12 * L * d * T)) == 0


def test_narayanans_parameters_and_flops_per_iteration_come_out_of_the_gpt_notation():
    """Narayanan et al. 2021 (§5.1): a GPT of l layers, hidden size h, vocabulary V and sequence s has
    P = 12·l·h²·(1 + 13/(12h) + (V + s)/(12·l·h)) parameters, and an iteration costs
    F = 96·B·s·l·h²·(1 + s/(6h) + V/(16·l·h)) FLOPs with full activation recomputation (B = 1 here).
    Both come out of the symbolic gpt: the parameters but for the final layer norm's 2h, which the
    paper leaves out, and the FLOPs exactly (the logits are not recomputed: V/16, not V/12)."""
    import sympy
    net = zoo.load("gpt")
    L, d, V, n = (net.symbols[name] for name in ("L", "d", "V", "n_ctx"))
    P = 12 * L * d**2 * (1 + sympy.Rational(13, 12) / d + (V + n) / (12 * L * d))
    assert sympy.expand(net.params - P) == 2 * d
    F = 96 * n * L * d**2 * (1 + n / (6 * d) + V / (16 * L * d))
    assert sympy.expand(net.training_flops("full").total - F) == 0


def test_the_table_shows_each_rows_training_step(capsys):
    """--training adds a column whose rows sum to training_flops' total, and says its parts."""
    from symcount.cli import main
    import json
    text = "input 3x32x32 conv3-8 relu pool fc10"
    step = symcount.parse(text).training_flops("selective")
    assert main([text, "--training", "selective", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [layer["training"] for layer in document["layers"]] == list(step.rows)
    assert document["training"]["total"] == step.total == sum(step.rows)
    assert main([text, "--training"]) == 0
    assert f"{int(step.total):,} training FLOPs" in capsys.readouterr().out
    assert main([text, "--training", "half"]) == 2
