"""The counting tools' presets on transformer layers, against the tools' recorded output.

tests/fixtures/counters/transformers.json holds what calflops, DeepSpeed's profiler, fvcore, ptflops,
thop and torchinfo report (versions and command inside) for single layers on (1, N, 8) tokens and for
small Llama, Mixtral and GPT-2 models built from the PyTorch references, at N = 5 and 9. Each case is
written here in the notation; every preset must give each tool's figure.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import symcount
from test_counters_fixture import FIGURES as COUNTER_FIGURES

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "counters" / "transformers.json").read_text())["cases"]
# the figures as test_counters_fixture reads them (FlopCounterMode and fvcore's train mode not recorded here)
FIGURES = {preset: read for preset, read in COUNTER_FIGURES.items() if preset not in ("torch", "fvcore_train")}
LLAMA_ATTENTION = "attn2[kv_heads=1, head_dim=4, causal, rope, bias=false]"
GATED = "mul(fc12[bias=false] silu | fc12[bias=false]) fc8[bias=false]"
# case -> the notation of the same module (N filled in)
CASES = {
    "linear_bias": "input {N}x8 tokens fc16",
    "linear_nobias": "input {N}x8 tokens fc16[bias=false]",
    "linear_8_8_nobias": "input {N}x8 tokens fc8[bias=false]",
    "embedding": "input {N} tokens embed11-8",
    "layernorm": "input {N}x8 tokens ln",
    "rmsnorm_torch": "input {N}x8 tokens rmsnorm",
    "rmsnorm_llama": "input {N}x8 tokens rmsnorm",
    "gelu_after_linear": "input {N}x8 tokens fc8[bias=false] gelu",
    "silu_after_linear": "input {N}x8 tokens fc8[bias=false] silu",
    "relu_after_linear": "input {N}x8 tokens fc8[bias=false] relu",
    "softmax_after_linear": "input {N}x8 tokens fc8[bias=false] softmax",
    "gated_mlp": "input {N}x8 tokens " + GATED,
    "llama_attention": "input {N}x8 tokens " + LLAMA_ATTENTION,
    "llama": f"input {{N}} tokens embed11-8 res(rmsnorm {LLAMA_ATTENTION}) res(rmsnorm {GATED}) rmsnorm "
             "fc11[bias=false]",
    "mixtral_moe_block": f"input {{N}}x8 tokens moe4[top=2]({GATED})",
    "mixtral": f"input {{N}} tokens embed11-8 res(rmsnorm {LLAMA_ATTENTION}) res(rmsnorm moe4[top=2]({GATED})) "
               "rmsnorm fc11[bias=false]",
    "gpt2_block": "input {N}x8 tokens res(ln attn2[causal] dropout) res(ln fc32 gelu fc8 dropout)",
    "gpt2": "input {N} tokens embed11-8 pos16 dropout res(ln attn2[causal] dropout) res(ln fc32 gelu fc8 dropout) "
            "ln fc11[bias=false, tied]",
}
MEASURED = [(case, lengths, preset) for case in CASES for lengths in FIXTURE[case] if lengths.startswith("N=")
            for preset in FIGURES]


@pytest.mark.parametrize("case, lengths, preset", MEASURED)
def test_every_preset_gives_its_tools_figure_on_transformer_layers(case, lengths, preset):
    tools = FIXTURE[case][lengths]
    tool = preset.split("_")[0]
    if any("error" in key for key in tools[tool]):
        pytest.skip(f"{tool} refused this module: {tools[tool]}")
    net = symcount.parse(CASES[case].replace("{N}", lengths[2:]))
    assert net.params == tools["params_torch"]
    assert net.ops(preset) == FIGURES[preset](tools), (case, lengths, preset)


def test_a_closed_form_in_the_length_gives_each_tools_figure_at_both_lengths():
    """The presets on `input T tokens`: one formula per tool, substituted at N = 5 and 9."""
    net = symcount.parse(CASES["llama"].replace("{N}", "T"))
    T = net.symbols["T"]
    for preset, figure in FIGURES.items():
        formula = net.ops(preset)
        assert [formula.xreplace({T: n}) for n in (5, 9)] == [figure(FIXTURE["llama"][f"N={n}"]) for n in (5, 9)]


@pytest.mark.parametrize("text, unmeasured", [
    ("input 3x32x32 patch16-8 cls pos clspool fc10", "patch1"),
    ("input 5 tokens embed11-8 attn2[kv_rank=4, head_dim=2, bias=false]", "attn1"),
    ("input S tokens embed11-8 input T tokens embed11-8 attn2[cross]", "input2"),
])
def test_a_preset_refuses_token_layers_no_tool_was_measured_on(text, unmeasured):
    with pytest.raises(symcount.SymcountError, match=f"not {unmeasured} "):
        symcount.parse(text).ops("deepspeed")


def test_the_switch_attention_computed_changes_a_presets_attention_products_too():
    """DeepSpeed charges 2·N²·D for the scores under a causal mask (recorded); with the switch it
    charges the pairs the mask keeps, counted on the mask PyTorch builds; tools that charge no scores
    are unchanged."""
    from test_attention_masks import kept_pairs
    net = symcount.parse(CASES["llama_attention"].replace("{N}", "5"))
    recorded = FIXTURE["llama_attention"]["N=5"]
    inner = 2 * 4  # heads × head size
    assert net.ops("deepspeed") == recorded["deepspeed"]["macs"]
    assert net.ops("deepspeed", attention="computed") == \
        recorded["deepspeed"]["macs"] - 2 * (5 * 5 - kept_pairs(5)) * inner
    assert net.ops("calflops", attention="computed") == recorded["calflops"]["macs"]
