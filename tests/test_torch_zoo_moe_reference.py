"""Self-test of the MoE reference (tests/torch_zoo_moe.py): its totals are the published and the
HF-derived numbers recorded in its docstring.  Skips when torch is missing (torch_reference)."""
from __future__ import annotations

import pytest

from torch_reference import torch  # noqa: F401  (first: skips the module when torch is missing)
import torch_zoo_moe as ref


@pytest.fixture(scope="module")
def mixtral():
    return ref.mixtral_8x7b()


@pytest.fixture(scope="module")
def deepseek():
    return ref.deepseek_v3()


def test_mixtral_8x7b_params(mixtral):
    total, active = ref.params(mixtral), ref.active_params(mixtral)
    # HF transformers 5.23.0 MixtralForCausalLM.from_config(meta): sum(p.numel()) = 46,702,792,704
    assert total == 46_702_792_704
    assert active == 12_879_925_248
    assert (round(total / 1e9, 1), round(active / 1e9, 1)) == (46.7, 12.9)  # published: 46.7B, 12.9B active
    assert ref.moe_parts(mixtral)[0] == {"router": 4096 * 8, "expert": 3 * 4096 * 14336, "shared": 0, "experts": 8,
                                         "top_k": 2, "block": 4096 * 8 + 8 * 3 * 4096 * 14336}


def test_deepseek_v3_params(deepseek):
    total, active = ref.params(deepseek), ref.active_params(deepseek)
    # HF transformers 5.23.0 DeepseekV3ForCausalLM.from_config(meta): 671,026,404,352 (no MTP module;
    # e_score_correction_bias is a buffer, 14,848 numbers not counted)
    assert total == 671_026_404_352
    assert active == 37_552_282_624
    assert (total // 10**9, active // 10**9) == (671, 37)  # published: 671B total, 37B activated
    parts = ref.moe_parts(deepseek)
    assert len(parts) == 58
    assert parts[0] == {"router": 256 * 7168, "expert": 3 * 7168 * 2048, "shared": 3 * 7168 * 2048, "experts": 256,
                        "top_k": 8, "block": 256 * 7168 + 257 * 3 * 7168 * 2048}


def test_mixtral_8x7b_flops_on_meta(mixtral):
    # meta device: deterministic routing, T*k expert evaluations (the same count as any routing); equal to
    # the closed form of the reference's docstring (deepseek_v3: 73,254,191,104 at T=1, left out for time)
    assert ref.trace_moe(mixtral, 1)[1] == 25_497_698_304


# Recorded from HF transformers 5.23.0 / torch 2.13.0 on CPU with this reference's weights loaded
# (MixtralForCausalLM / DeepseekV3ForCausalLM, attn_implementation="sdpa", experts_implementation="eager",
# under sdpa_kernel(SDPBackend.MATH)); logits equal to 4e-7.  HF's defaults count less: the CPU flash
# SDPA kernel and the "grouped_mm" experts have no FlopCounterMode formula (0 FLOPs) -- small Mixtral:
# 53,760 / 376,320 with eager experts + default SDPA, 16,896 / 118,272 with HF's full defaults.
SMALL = [
    (ref.small_mixtral, 47_520, 29_088, {1: 54_016, 7: 388_864}),
    (ref.small_deepseek, 35_732, 26_132, {1: 47_984, 7: 354_032}),
]


@pytest.mark.parametrize("build, total, active, flops", SMALL, ids=["mixtral", "deepseek"])
def test_small_models_match_hf(build, total, active, flops):
    model, meta = build(), build(device="meta")
    assert ref.params(model) == ref.params(meta) == total
    assert ref.active_params(model) == ref.active_params(meta) == active
    for T, want in flops.items():
        seen, got = ref.trace_moe(model, T)
        assert got == want == ref.trace_moe(meta, T)[1]
        assert all(shape[0] == T for _, shape, _ in seen)
        assert sum(p for _, _, p in seen) == total  # every parameter in exactly one traced leaf
        moe = [entry for entry in seen if entry[0] == "moe"]
        assert moe and all(shape == seen[0][1] for _, shape, _ in moe)


def test_trace_order():
    seen, _ = ref.trace_moe(ref.small_deepseek(L=3, first_k_dense_replace=1), 3)
    kinds = [kind for kind, _, _ in seen]
    assert kinds == (["embed"] + ["rmsnorm", "attn", "rmsnorm", "fc", "silu", "fc", "fc"]
                     + 2 * ["rmsnorm", "attn", "rmsnorm", "moe"] + ["rmsnorm", "fc"])
    seen, _ = ref.trace_moe(ref.small_mixtral(L=2), 3)
    assert [kind for kind, _, _ in seen] == ["embed"] + 2 * ["rmsnorm", "attn", "rmsnorm", "moe"] + ["rmsnorm", "fc"]
