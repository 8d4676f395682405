"""Sparse mixture-of-experts language models built by hand in PyTorch, transcribed from HF
transformers' modeling files (5.23.0): models/mixtral/modeling_mixtral.py (MixtralTopKRouter,
MixtralExperts, MixtralSparseMoeBlock; its RMSNorm, rotary embedding and attention are Mistral's,
line for line, so they are taken from torch_zoo_llm) and models/deepseek_v3/modeling_deepseek_v3.py
(DeepseekV3RMSNorm, DeepseekV3RotaryEmbedding, apply_rotary_pos_emb_interleave, DeepseekV3Attention
= multi-head latent attention, DeepseekV3MLP, DeepseekV3TopkRouter, DeepseekV3Experts, DeepseekV3MoE,
DeepseekV3DecoderLayer, DeepseekV3Model, DeepseekV3ForCausalLM).  Written from those sources and the
checkpoints' public config.json values, never from symcount.

Configurations (the Hugging Face hub's config.json of each checkpoint):
  mixtral_8x7b  mistralai/Mixtral-8x7B-v0.1: vocab 32000, hidden 4096, intermediate 14336, 32 layers,
                32 heads, 8 kv heads (head_dim 128), 8 local experts, 2 per token, untied,
                rope_theta 1e6, sliding_window null, rms eps 1e-5, no biases anywhere.
                46,702,792,704 parameters; 12,879,925,248 active for one token.
                Published (Mistral AI's announcement "Mixtral of experts", Dec 2023): 46.7B total,
                12.9B used per token (the paper rounds to 47B / 13B).
  deepseek_v3   deepseek-ai/DeepSeek-V3: vocab 129280, hidden 7168, intermediate 18432 (the dense
                layers' MLP), moe_intermediate 2048, 61 layers, first_k_dense_replace 3 (layers 0-2
                dense, 3-60 MoE: 58 MoE layers), 128 heads (num_key_value_heads 128), q_lora_rank 1536,
                kv_lora_rank 512, qk_nope_head_dim 128, qk_rope_head_dim 64, v_head_dim 128,
                n_routed_experts 256, n_shared_experts 1, num_experts_per_tok 8, n_group 8,
                topk_group 4, norm_topk_prob true, routed_scaling_factor 2.5, scoring sigmoid
                (topk_method noaux_tc), rms eps 1e-6, attention_bias false, untied, rope_theta 10000.
                Every one of these values equals HF's DeepseekV3Config default (5.23.0), which was
                checked field by field.  Not reproduced: rope_scaling (yarn, factor 40): it changes
                the RoPE frequencies, the cos/sin scale and the softmax scale, no parameter and no
                counted FLOP.
                671,026,404,352 parameters; 37,552,282,624 active for one token.
                Published (DeepSeek-V3 technical report, 2024): 671B total, 37B activated per token.
                The checkpoint on the hub holds 685B (its model card: 671B main model + 14B of the
                multi-token prediction (MTP) module, num_nextn_predict_layers 1, stored as
                model.layers.61.*).  The MTP module is NOT part of HF's model (DeepseekV3ForCausalLM
                has 61 layers and ignores model.layers.61.* on load) nor of this one: both count
                671,026,404,352.  Counting the 58 x 256 e_score_correction_bias buffers too would give
                671,026,419,200.

The MoE blocks:
  Mixtral (block_sparse_moe): gate = Linear(d, E, no bias); softmax (float32) over the E logits,
    top-k, the k weights renormalised to sum 1; expert e = w2(silu(w1 x) * w3 x), Linear(d, f) x2 and
    Linear(f, d), no biases (the checkpoint's w1/w3/w2 names; HF 5.x stores them fused as
    experts.gate_up_proj[E, 2f, d] = cat(w1, w3) and experts.down_proj[E, d, f] = w2).
    The block's output is sum_k weight * expert(x).
  DeepSeek-V3 (mlp, layers >= first_k_dense_replace): gate = TopkRouter whose weight (E x d) IS a
    Parameter, and e_score_correction_bias (E) is a BUFFER (persistent: in state_dict and in the
    checkpoint, NOT in parameters(), so not counted; 256 x 58 = 14,848 numbers in all).  Scores =
    sigmoid(x W^T) (in float32); for the choice only, scores + e_score_correction_bias; the experts in
    n_group groups of E/n_group, a group's score the sum of its 2 best; the topk_group best groups
    kept, the others masked to -inf; top-k experts among them; their weights the UNbiased scores,
    divided by their sum (+1e-20) when norm_topk_prob, times routed_scaling_factor.  Routed expert =
    down_proj(silu(gate_proj x) * up_proj x) with moe_intermediate; shared_experts = one such MLP of
    intermediate moe_intermediate * n_shared_experts, applied to the block's input and added.
  Both run each routed expert ONLY on the tokens routed to it (HF's eager experts loop: gather the
  tokens, run the expert, scale by the weight, index_add back), so FlopCounterMode sees exactly T * k
  expert evaluations, whatever the routing.

Multi-head latent attention (MLA, DeepseekV3Attention, sdpa path): q = q_b_proj(q_a_layernorm(
q_a_proj x)) (d -> q_lora_rank -> heads * (nope + rope)), or q_proj (d -> heads * (nope + rope)) when
q_lora_rank is None; kv_a_proj_with_mqa: d -> kv_lora_rank + rope, split into the latent (through
kv_a_layernorm) and ONE rope key shared by all heads; kv_b_proj: kv_lora_rank -> heads * (nope + v),
split into the nope keys and the values; RoPE (interleaved pairs, rope_interleave true) on q's rope
part and the shared rope key; key = cat(k_nope, k_rope), query = cat(q_nope, q_rope) (head size
nope + rope = 192), value head size v = 128; softmax scale (nope + rope)^-0.5; causal; o_proj:
heads * v -> d.  No biases (attention_bias false).  The two norms inside are RMSNorms of eps 1e-6.

The trace (trace_moe): the leaf layers in forward order, each (kind, output shape without the batch,
its parameters), the Linears etc. inside an attention or a MoE block not listed on their own:
  Mixtral block:          rmsnorm, attn, rmsnorm, moe
  DeepSeek dense block:   rmsnorm, attn, rmsnorm, fc (gate_proj), silu, fc (up_proj), fc (down_proj)
  DeepSeek MoE block:     rmsnorm, attn, rmsnorm, moe
  the whole model: embed, L blocks, rmsnorm, fc (lm_head).
"attn" is a whole attention (MLA included: its parameters are all its submodules'); "moe" is router +
routed experts + shared experts as ONE entry with all their parameters; moe_parts() gives the router's,
one routed expert's and the shared experts' parameters.

Routing is data dependent: on CPU (small models with real random weights) the router really picks.
On the meta device a MoE block computes the router (its FLOPs counted) and then, as the choice cannot
be read from meta tensors, sends token t to experts (t*k + j) mod E, j < k: k distinct experts per
token, T*k expert evaluations -- the same counted FLOPs as any real routing (every expert has the same
sizes) and an output shaped like the input.  Checked: meta and CPU totals are equal for the small
random configs.

FLOPs (FlopCounterMode, torch 2.13.0) count only matmuls: every Linear / F.linear 2 * in * out per
token it sees; scaled_dot_product_attention (decomposed to two bmm's) 2*T*T*heads*d_qk + 2*T*T*heads*d_v,
the causal mask not reducing it.  So, per layer:
  router            2 * T * d * E                          (softmax, sigmoid, top-k, group masks: 0)
  routed experts    T * k * (2*d*f + 2*d*f + 2*f*d) = 6*T*k*d*f       (silu, *, weights, index_add: 0)
  shared experts    6 * T * d * (moe_intermediate * n_shared)
  Mixtral attn      2*T*d*(heads + 2*kv_heads)*head_dim + 2*T*heads*head_dim*d + 4*T*T*heads*head_dim
  MLA               2*T*(d*q_lora + q_lora*heads*(nope+rope) + d*(kv_lora+rope) + kv_lora*heads*(nope+v)
                         + heads*v*d)  +  2*T*T*heads*(nope+rope) + 2*T*T*heads*v
                    (MLA's SDPA is NOT 4*T*T*heads*head: q.k^T uses 192, attn.v uses 128)
RMSNorm, RoPE, SiLU, the gating products and the residual sums are not counted.
CAUTION, SDPA on CPU: when q, k and v share one head size, torch 2.13 on CPU runs the fused kernel
aten._scaled_dot_product_flash_attention_for_cpu, which FlopCounterMode has no formula for: it counts
the attention as 0 (Mixtral's, HF's too).  MLA's 192 / 128 head sizes fall back to the math path, which
IS counted.  On the meta device SDPA always decomposes (counted).  trace_moe therefore runs under
sdpa_kernel(SDPBackend.MATH): CPU and meta totals agree and include the attention.
Totals (meta, equal to the closed forms above):
  mixtral_8x7b  T=1: 25,497,698,304   T=7: 178,505,908,224
  deepseek_v3   T=1: 73,254,191,104   T=7: 512,989,216,768

Checked once against HF transformers 5.23.0 (torch 2.13.0, /work/counters-venv; MixtralConfig and
DeepseekV3Config written out from the values above, AutoModelForCausalLM.from_config,
attn_implementation "sdpa", experts_implementation "eager", default RoPE):
  * parameters on the meta device: mixtral_8x7b 46,702,792,704 and deepseek_v3 671,026,404,352,
    identical to HF's sum(p.numel() for p in model.parameters()).  DeepseekV3Config() defaults equal
    every deepseek_v3 value listed above (num_mtp_layers defaults to 1 but builds no module).
  * active parameters have no HF counterpart; on the small models the count with real CPU routing
    equals the meta count.
  * 3 random small Mixtrals (L, d, heads, kv_heads, head_dim, f, V, E, k) = (2,24,3,1,4,48,97,4,1),
    (2,40,1,1,8,20,97,3,2), (2,16,6,2,4,20,50,8,1) and 3 random small DeepSeek-V3s (L, d, heads,
    q_lora, kv_lora, nope, rope, v, f, moe_f, V, E, n_shared, k, n_group, topk_group, first_dense) =
    (3,16,2,None,12,8,2,6,24,6,97,8,2,2,4,4,0), (2,32,4,12,12,8,4,6,24,10,50,4,2,2,2,1,1),
    (2,32,2,12,12,8,4,4,40,6,97,8,2,3,4,3,0), on CPU with this reference's random weights loaded into
    HF (w1/w3 or gate_proj/up_proj stacked into the fused gate_up_proj): the same parameter counts,
    the same logits (max abs difference < 1e-6) and, under sdpa_kernel(MATH), the same
    FlopCounterMode totals at T = 1 and T = 7 (e.g. 22,032 / 158,256 and 17,408 / 129,920 for the
    first of each), also equal to this reference's meta-device totals.
  * HF's DEFAULTS count less, both from ops FlopCounterMode has no formula for: the CPU flash SDPA
    kernel (above), and HF's default experts implementation "grouped_mm" (torch._grouped_mm), whose
    routed experts count 0.  First small Mixtral at T=1 / T=7: 22,032 / 158,256 here; HF eager experts
    + default SDPA 21,936 / 153,552; HF grouped_mm + math SDPA 8,208 / 61,488; HF's full defaults
    8,112 / 56,784.  The recorded numbers of the self-test are in tests/test_torch_zoo_moe_reference.py.
"""
from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager

from torch_reference import nn, torch  # first: it skips the tests when torch is missing
from torch_zoo_llm import MLP, Attention, RMSNorm, RotaryEmbedding

F = nn.functional


def _route_pairs(idx, n_experts):
    """{expert: ([token], [slot])} for the (N, k) chosen expert indices; on the meta device (no
    values) token t's slot j goes to expert (t*k + j) mod E -- k distinct experts per token."""
    n, k = idx.shape
    if idx.is_meta:
        choice = [[(t * k + j) % n_experts for j in range(k)] for t in range(n)]
    else:
        choice = idx.tolist()
    pairs = defaultdict(lambda: ([], []))
    for t, row in enumerate(choice):
        for j, e in enumerate(row):
            pairs[e][0].append(t)
            pairs[e][1].append(j)
    return pairs


def _run_experts(experts, x, weights, idx):
    """HF's eager experts loop: each chosen expert, in increasing index, on its own tokens only,
    scaled by their routing weights and added back into a zero output.  x (N, d)."""
    out = torch.zeros_like(x)
    for e, (tokens, slots) in sorted(_route_pairs(idx, len(experts)).items()):
        tok = torch.tensor(tokens, device=x.device)
        pos = torch.tensor(slots, device=x.device)
        y = experts[e](x[tok]) * weights[tok, pos, None]
        out.index_add_(0, tok, y.to(out.dtype))
    return out


# --------------------------------------------------------------------------- Mixtral
class MixtralExpert(nn.Module):
    """One Mixtral expert (the checkpoint's w1, w2, w3): w2(silu(w1 x) * w3 x), no biases."""

    def __init__(self, dim, hidden):
        super().__init__()
        self.w1 = nn.Linear(dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden, bias=False)
        self.act_fn = nn.SiLU()

    def forward(self, x):
        return self.w2(self.act_fn(self.w1(x)) * self.w3(x))


class MixtralSparseMoeBlock(nn.Module):
    """MixtralSparseMoeBlock (eval: no jitter): router logits gate(x), softmax in float32, top-k,
    the k weights renormalised, the chosen experts on their tokens only, weighted and summed."""

    def __init__(self, dim, hidden, n_experts, top_k):
        super().__init__()
        self.top_k = top_k
        self.gate = nn.Linear(dim, n_experts, bias=False)
        self.experts = nn.ModuleList(MixtralExpert(dim, hidden) for _ in range(n_experts))

    def forward(self, x):
        b, t, d = x.shape
        x = x.reshape(-1, d)
        probs = F.softmax(self.gate(x).float(), dim=-1)
        weights, idx = torch.topk(probs, self.top_k, dim=-1)
        weights = weights / weights.sum(dim=-1, keepdim=True)
        return _run_experts(self.experts, x, weights, idx).reshape(b, t, d)


class MixtralDecoderLayer(nn.Module):
    def __init__(self, dim, heads, kv_heads, head_dim, hidden, n_experts, top_k, eps, sliding_window):
        super().__init__()
        self.input_layernorm = RMSNorm(dim, eps)
        self.self_attn = Attention(dim, heads, kv_heads, head_dim, sliding_window=sliding_window)
        self.post_attention_layernorm = RMSNorm(dim, eps)
        self.block_sparse_moe = MixtralSparseMoeBlock(dim, hidden, n_experts, top_k)

    def forward(self, x, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.block_sparse_moe(self.post_attention_layernorm(x))


class MixtralForCausalLM(nn.Module):
    """embed_tokens, RoPE tables once, the layers, norm, lm_head on every position."""

    def __init__(self, layers, dim, heads, kv_heads, head_dim, hidden, vocab, n_experts, top_k, tied=False,
                 theta=1e6, eps=1e-5, sliding_window=None):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, dim)
        self.rotary_emb = RotaryEmbedding(head_dim, theta)
        self.layers = nn.ModuleList(MixtralDecoderLayer(dim, heads, kv_heads, head_dim, hidden, n_experts, top_k, eps,
                                                        sliding_window) for _ in range(layers))
        self.norm = RMSNorm(dim, eps)
        self.lm_head = nn.Linear(dim, vocab, bias=False)
        if tied:
            self.lm_head.weight = self.embed_tokens.weight
        self.input_dtype = torch.long

    def forward(self, ids):
        x = self.embed_tokens(ids)
        position_ids = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0)
        cos, sin = self.rotary_emb(x, position_ids)
        for layer in self.layers:
            x = layer(x, cos, sin)
        return self.lm_head(self.norm(x))


# --------------------------------------------------------------------------- DeepSeek-V3
def apply_rotary_pos_emb_interleave(q, k, cos, sin):
    """DeepSeek's interleaved RoPE: pairs (x0, x1), (x2, x3), ... each rotated by one frequency;
    the result laid out as (evens', odds').  cos, sin: (B, T, rope) -> their first half used."""
    cos = cos[..., : cos.shape[-1] // 2].unsqueeze(1)
    sin = sin[..., : sin.shape[-1] // 2].unsqueeze(1)
    q1, q2 = q[..., 0::2], q[..., 1::2]
    k1, k2 = k[..., 0::2], k[..., 1::2]
    return (torch.cat([q1 * cos - q2 * sin, q2 * cos + q1 * sin], dim=-1),
            torch.cat([k1 * cos - k2 * sin, k2 * cos + k1 * sin], dim=-1))


class MLAttention(nn.Module):
    """DeepseekV3Attention (multi-head latent attention), sdpa path; see the module docstring."""

    def __init__(self, dim, heads, q_lora_rank, kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim, v_head_dim,
                 bias=False):
        super().__init__()
        self.heads, self.q_lora_rank, self.kv_lora_rank = heads, q_lora_rank, kv_lora_rank
        self.nope, self.rope, self.v_head_dim = qk_nope_head_dim, qk_rope_head_dim, v_head_dim
        self.qk_head_dim = qk_nope_head_dim + qk_rope_head_dim
        if q_lora_rank is None:
            self.q_proj = nn.Linear(dim, heads * self.qk_head_dim, bias=False)
        else:
            self.q_a_proj = nn.Linear(dim, q_lora_rank, bias=bias)
            self.q_a_layernorm = RMSNorm(q_lora_rank, 1e-6)
            self.q_b_proj = nn.Linear(q_lora_rank, heads * self.qk_head_dim, bias=False)
        self.kv_a_proj_with_mqa = nn.Linear(dim, kv_lora_rank + qk_rope_head_dim, bias=bias)
        self.kv_a_layernorm = RMSNorm(kv_lora_rank, 1e-6)
        self.kv_b_proj = nn.Linear(kv_lora_rank, heads * (qk_nope_head_dim + v_head_dim), bias=False)
        self.o_proj = nn.Linear(heads * v_head_dim, dim, bias=bias)
        self.scaling = self.qk_head_dim ** -0.5

    def forward(self, x, cos, sin):
        b, t, _ = x.shape
        if self.q_lora_rank is None:
            q = self.q_proj(x)
        else:
            q = self.q_b_proj(self.q_a_layernorm(self.q_a_proj(x)))
        q = q.view(b, t, -1, self.qk_head_dim).transpose(1, 2)
        q_pass, q_rot = torch.split(q, [self.nope, self.rope], dim=-1)
        kv_nope, k_rot = torch.split(self.kv_a_proj_with_mqa(x), [self.kv_lora_rank, self.rope], dim=-1)
        kv_nope = self.kv_a_layernorm(kv_nope).view(b, 1, t, self.kv_lora_rank)
        k_rot = k_rot.view(b, 1, t, self.rope)
        q_rot, k_rot = apply_rotary_pos_emb_interleave(q_rot, k_rot, cos, sin)
        query = torch.cat((q_pass, q_rot), dim=-1)
        kv = self.kv_b_proj(kv_nope).view(b, t, -1, self.nope + self.v_head_dim).transpose(1, 2)
        k_nope, value = torch.split(kv, [self.nope, self.v_head_dim], dim=-1)
        key = torch.cat((k_nope, k_rot.expand(-1, k_nope.shape[1], -1, -1)), dim=-1)
        y = F.scaled_dot_product_attention(query, key, value, is_causal=t > 1, scale=self.scaling)
        return self.o_proj(y.transpose(1, 2).reshape(b, t, -1))


class TopkRouter(nn.Module):
    """DeepseekV3TopkRouter: weight (E x d) a Parameter, e_score_correction_bias (E) a buffer."""

    def __init__(self, dim, n_experts, top_k, n_group, topk_group, norm_topk_prob, routed_scaling_factor):
        super().__init__()
        self.top_k, self.n_experts, self.n_group, self.topk_group = top_k, n_experts, n_group, topk_group
        self.norm_topk_prob, self.routed_scaling_factor = norm_topk_prob, routed_scaling_factor
        self.weight = nn.Parameter(torch.zeros(n_experts, dim))
        self.register_buffer("e_score_correction_bias", torch.zeros(n_experts))

    def forward(self, x):
        logits = F.linear(x.float(), self.weight.float())
        scores = logits.sigmoid()
        choice = scores + self.e_score_correction_bias
        group_scores = choice.view(-1, self.n_group, self.n_experts // self.n_group).topk(2, dim=-1)[0].sum(dim=-1)
        group_idx = torch.topk(group_scores, k=self.topk_group, dim=-1, sorted=False)[1]
        group_mask = torch.zeros_like(group_scores).scatter_(1, group_idx, 1)
        score_mask = (group_mask.unsqueeze(-1).expand(-1, self.n_group, self.n_experts // self.n_group)
                      .reshape(-1, self.n_experts))
        choice = choice.masked_fill(~score_mask.bool(), float("-inf"))
        idx = torch.topk(choice, k=self.top_k, dim=-1, sorted=False)[1]
        weights = scores.gather(1, idx)
        if self.norm_topk_prob:
            weights = weights / (weights.sum(dim=-1, keepdim=True) + 1e-20)
        return weights * self.routed_scaling_factor, idx


class DeepseekV3MoE(nn.Module):
    """DeepseekV3MoE: routed experts (chosen by gate) on their tokens + shared_experts on all."""

    def __init__(self, dim, moe_hidden, n_experts, n_shared, top_k, n_group, topk_group, norm_topk_prob=True,
                 routed_scaling_factor=2.5):
        super().__init__()
        self.experts = nn.ModuleList(MLP(dim, moe_hidden) for _ in range(n_experts))
        self.gate = TopkRouter(dim, n_experts, top_k, n_group, topk_group, norm_topk_prob, routed_scaling_factor)
        self.shared_experts = MLP(dim, moe_hidden * n_shared)

    def forward(self, x):
        b, t, d = x.shape
        flat = x.reshape(-1, d)
        weights, idx = self.gate(flat)
        routed = _run_experts(self.experts, flat, weights, idx).view(b, t, d)
        return routed + self.shared_experts(x)


class DeepseekV3DecoderLayer(nn.Module):
    def __init__(self, moe, dim, heads, q_lora_rank, kv_lora_rank, nope, rope, v_head_dim, hidden, moe_hidden,
                 n_experts, n_shared, top_k, n_group, topk_group, eps, routed_scaling_factor, norm_topk_prob):
        super().__init__()
        self.self_attn = MLAttention(dim, heads, q_lora_rank, kv_lora_rank, nope, rope, v_head_dim)
        self.mlp = (DeepseekV3MoE(dim, moe_hidden, n_experts, n_shared, top_k, n_group, topk_group, norm_topk_prob,
                                  routed_scaling_factor) if moe else MLP(dim, hidden))
        self.input_layernorm = RMSNorm(dim, eps)
        self.post_attention_layernorm = RMSNorm(dim, eps)

    def forward(self, x, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class DeepseekV3ForCausalLM(nn.Module):
    """embed_tokens, RoPE tables (rope head dim) once, first_k_dense_replace dense layers then MoE
    layers, norm, lm_head on every position.  No MTP module."""

    def __init__(self, layers, dim, heads, q_lora_rank, kv_lora_rank, nope, rope, v_head_dim, hidden, moe_hidden,
                 vocab, n_experts, n_shared, top_k, n_group, topk_group, first_k_dense_replace, tied=False,
                 theta=10000.0, eps=1e-6, routed_scaling_factor=2.5, norm_topk_prob=True):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, dim)
        self.rotary_emb = RotaryEmbedding(rope, theta)
        self.layers = nn.ModuleList(
            DeepseekV3DecoderLayer(i >= first_k_dense_replace, dim, heads, q_lora_rank, kv_lora_rank, nope, rope,
                                   v_head_dim, hidden, moe_hidden, n_experts, n_shared, top_k, n_group, topk_group,
                                   eps, routed_scaling_factor, norm_topk_prob)
            for i in range(layers))
        self.norm = RMSNorm(dim, eps)
        self.lm_head = nn.Linear(dim, vocab, bias=False)
        if tied:
            self.lm_head.weight = self.embed_tokens.weight
        self.input_dtype = torch.long

    def forward(self, ids):
        x = self.embed_tokens(ids)
        position_ids = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0)
        cos, sin = self.rotary_emb(x, position_ids)
        for layer in self.layers:
            x = layer(x, cos, sin)
        return self.lm_head(self.norm(x))


# --------------------------------------------------------------------------- builders
def mixtral(L, d, heads, kv_heads, head_dim, f, V, E, k, tied=False, theta=1e6, eps=1e-5, sliding_window=None):
    """Mixtral: L layers, width d, heads x head_dim queries, kv_heads x head_dim keys/values,
    E experts of hidden f per layer, k per token, vocabulary V."""
    return MixtralForCausalLM(L, d, heads, kv_heads, head_dim, f, V, E, k, tied, theta, eps, sliding_window)


def deepseek_v3_model(L, d, heads, q_lora_rank, kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim, v_head_dim, f,
                      moe_f, V, E, n_shared, k, n_group, topk_group, first_k_dense_replace, tied=False,
                      theta=10000.0, eps=1e-6, routed_scaling_factor=2.5, norm_topk_prob=True):
    """DeepSeek-V3: L layers (the first first_k_dense_replace with a dense MLP of hidden f, the rest
    MoE: E routed experts and n_shared shared of hidden moe_f, k per token chosen within topk_group of
    n_group groups), MLA attention with heads, the two LoRA ranks and the three head sizes."""
    return DeepseekV3ForCausalLM(L, d, heads, q_lora_rank, kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim,
                                 v_head_dim, f, moe_f, V, E, n_shared, k, n_group, topk_group, first_k_dense_replace,
                                 tied, theta, eps, routed_scaling_factor, norm_topk_prob)


@contextmanager
def _meta():
    """Build on the meta device, without the Linear / Embedding initialisers (meta tensors hold no
    values; skipping them halves the time to build DeepSeek-V3's 44,544 expert Linears)."""
    saved = nn.Linear.reset_parameters, nn.Embedding.reset_parameters
    nn.Linear.reset_parameters = nn.Embedding.reset_parameters = lambda self: None
    try:
        with torch.device("meta"):
            yield
    finally:
        nn.Linear.reset_parameters, nn.Embedding.reset_parameters = saved


def mixtral_8x7b(shape=None):
    with _meta():
        return mixtral(32, 4096, 32, 8, 128, 14336, 32000, 8, 2, theta=1e6, eps=1e-5).eval()


def deepseek_v3(shape=None):
    with _meta():
        return deepseek_v3_model(61, 7168, 128, 1536, 512, 128, 64, 128, 18432, 2048, 129280, 256, 1, 8, 8, 4, 3,
                                 theta=10000.0, eps=1e-6).eval()


BUILDERS = {"mixtral_8x7b": mixtral_8x7b, "deepseek_v3": deepseek_v3}


def _small(build, args, device, seed):
    if device == "meta":
        with _meta():
            return build(*args).eval()
    torch.manual_seed(seed)
    model = build(*args).eval()
    with torch.no_grad():  # random weights that spread the routing (zeros, the router's init, would tie)
        for p in model.parameters():
            p.normal_(0.0, 0.5 if p.dim() == 1 else p.shape[-1] ** -0.5)
        for m in model.modules():
            if isinstance(m, TopkRouter):
                m.e_score_correction_bias.normal_(0.0, 0.1)
    return model


def small_mixtral(L=2, d=32, heads=4, kv_heads=2, head_dim=8, f=48, V=64, E=4, k=2, tied=False, device="cpu",
                  seed=0):
    """mixtral(...) at random small sizes: on CPU with seeded random weights (for FLOPs, which depend
    on real routing), or on the meta device."""
    return _small(mixtral, (L, d, heads, kv_heads, head_dim, f, V, E, k, tied), device, seed)


def small_deepseek(L=3, d=32, heads=4, q_lora_rank=16, kv_lora_rank=12, nope=8, rope=4, v=6, f=40, moe_f=10, V=64,
                   E=8, n_shared=1, k=3, n_group=4, topk_group=2, first_k_dense_replace=1, tied=False, device="cpu",
                   seed=0):
    """deepseek_v3_model(...) at random small sizes (q_lora_rank=None: a plain q_proj)."""
    return _small(deepseek_v3_model, (L, d, heads, q_lora_rank, kv_lora_rank, nope, rope, v, f, moe_f, V, E, n_shared,
                                      k, n_group, topk_group, first_k_dense_replace, tied), device, seed)


# --------------------------------------------------------------------------- counting
MOE = (MixtralSparseMoeBlock, DeepseekV3MoE)
# What symcount calls each leaf layer (what is inside an attention or a MoE block is part of it).
KINDS = {nn.Embedding: "embed", RMSNorm: "rmsnorm", Attention: "attn", MLAttention: "attn", nn.Linear: "fc",
         nn.SiLU: "silu", MixtralSparseMoeBlock: "moe", DeepseekV3MoE: "moe"}


def params(model):
    """Parameters, each Parameter once (a tied weight once; buffers such as
    e_score_correction_bias not counted)."""
    return sum(p.numel() for p in model.parameters())


def _ids(model, T, seed=0):
    device = next(model.parameters()).device
    if device.type == "meta":
        return torch.zeros(1, T, dtype=torch.long, device=device)
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, model.embed_tokens.num_embeddings, (1, T), generator=g).to(device)


def active_params(model, seed=0):
    """The parameters ONE token touches, counted by running one token: forward hooks on every module
    record which ran; the answer is the total of the distinct Parameters held directly by a module
    that ran.  Everything outside the routed experts runs (the whole embedding table and lm_head
    counted, as the published "active" figures do), and in each MoE layer the k experts the token was
    routed to (on CPU really routed; on the meta device the deterministic k of the module docstring).
    `model` is a model or a name in BUILDERS."""
    if isinstance(model, str):
        model = BUILDERS[model]()
    ran = set()
    hook = nn.modules.module.register_module_forward_hook(lambda m, i, o: ran.add(id(m)))  # every module call
    try:
        with torch.no_grad():
            model(_ids(model, 1, seed))
    finally:
        hook.remove()
    seen = {}
    for m in model.modules():
        if id(m) in ran:
            for p in m.parameters(recurse=False):
                seen[id(p)] = p.numel()
    return sum(seen.values())


def moe_parts(model):
    """[{'router', 'expert', 'shared', 'experts', 'top_k', 'block'}] per MoE block, in layer order: the
    router's parameters, ONE routed expert's, the shared experts' (0 for Mixtral), the number of routed
    experts, k, and the whole block's."""
    out = []
    for m in model.modules():
        if isinstance(m, MOE):
            k = m.top_k if isinstance(m, MixtralSparseMoeBlock) else m.gate.top_k
            shared = params(m.shared_experts) if isinstance(m, DeepseekV3MoE) else 0
            out.append({"router": params(m.gate), "expert": params(m.experts[0]), "shared": shared,
                        "experts": len(m.experts), "top_k": k, "block": params(m)})
    return out


def trace_moe(model, T, seed=0):
    """([(kind, output shape without the batch, its parameters)] of the leaf layers in forward order --
    the modules inside an attention or a MoE block not listed on their own --, FlopCounterMode's total
    FLOPs) for ids of shape (1, T): random ids (seeded) on a CPU model, zeros on a meta one."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode
    T = T[0] if isinstance(T, (tuple, list)) else T
    inner = {id(sub) for m in model.modules() if isinstance(m, (Attention, MLAttention) + MOE)
             for sub in m.modules() if sub is not m}
    seen = []
    hooks = [m.register_forward_hook(lambda m, i, o: seen.append((KINDS[type(m)], tuple(o.shape[1:]), params(m))))
             for m in model.modules() if type(m) in KINDS and id(m) not in inner]
    try:
        # The math backend: on CPU the fused flash kernel (chosen when q, k and v have one head size)
        # is an op FlopCounterMode has no formula for, so it would count the attention as 0.
        with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
            model(_ids(model, T, seed))
    finally:
        for hook in hooks:
            hook.remove()
    return seen, counter.get_total_flops()
