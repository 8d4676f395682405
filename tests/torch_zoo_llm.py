"""Decoder-only Llama-family language models built by hand in PyTorch, transcribed from HF
transformers' modeling files (5.x): models/llama/modeling_llama.py (LlamaRMSNorm,
LlamaRotaryEmbedding, rotate_half, apply_rotary_pos_emb, repeat_kv, LlamaAttention, LlamaMLP,
LlamaDecoderLayer, LlamaModel, LlamaForCausalLM), models/mistral/modeling_mistral.py (the same
blocks, attention restricted to a sliding window) and models/qwen2/modeling_qwen2.py (the same
blocks, q/k/v projections with bias, o_proj without).  Written from those sources and the
models' public config.json values, never from symcount.

Configurations (the Hugging Face hub's config.json of each checkpoint):
  llama2_7b   meta-llama/Llama-2-7b-hf: vocab 32000, hidden 4096, intermediate 11008, 32 layers,
              32 heads, 32 kv heads, no attention bias, untied, rope_theta 10000, rms eps 1e-5.
              6,738,415,616 parameters.
  llama3_8b   meta-llama/Meta-Llama-3-8B: vocab 128256, hidden 4096, intermediate 14336, 32 layers,
              32 heads, 8 kv heads, untied, rope_theta 500000, rms eps 1e-5.  8,030,261,248.
  mistral_7b  mistralai/Mistral-7B-v0.1: vocab 32000, hidden 4096, intermediate 14336, 32 layers,
              32 heads, 8 kv heads, untied, rope_theta 10000, sliding_window 4096, rms eps 1e-5.
              7,241,732,096.
  qwen2_0_5b  Qwen/Qwen2-0.5B: vocab 151936, hidden 896, intermediate 4864, 24 layers, 14 heads
              (head_dim 64), 2 kv heads, q/k/v bias, o_proj without, tie_word_embeddings true,
              rope_theta 1000000, rms eps 1e-6, no sliding window.  494,032,768 (the tied
              embedding / lm_head weight counted once).
All four: head_dim = hidden / heads, hidden_act silu, no MLP bias.

The classes: RMSNorm is LlamaRMSNorm (a weight, no bias); Attention is LlamaAttention with its
sdpa path (q_proj, k_proj, v_proj, o_proj; RoPE on q and k; k and v repeated to the query heads
by repeat_kv; F.scaled_dot_product_attention, causal); MLP is LlamaMLP (down(silu(gate(x)) * up(x)));
DecoderLayer is LlamaDecoderLayer (pre-norm, two residual sums); LlamaForCausalLM is embed_tokens,
the layers, the final norm and lm_head (logits for every position: logits_to_keep=0).
RotaryEmbedding is LlamaRotaryEmbedding, run ONCE per forward pass by the model (as LlamaModel
does) and its cos/sin handed to every layer; it holds only a non-persistent inv_freq buffer.

The trace: every leaf layer in KINDS is hooked, in forward order, EXCEPT the nn.Linear projections
inside Attention (they are nn.Linear submodules, so the Attention's parameters are theirs, but the
attention is one layer "attn"); use trace_llm(model, T) here, not torch_zoo.trace, which would hook
those inner Linears too.  One decoder block lists:
    rmsnorm, attn, rmsnorm, fc (gate_proj), silu, fc (up_proj), fc (down_proj)
and the whole model: embed, L blocks, rmsnorm, fc (lm_head).

FLOPs (FlopCounterMode on the meta device): it counts the nn.Linear matmuls (2 * in * out per
token; biases are not counted) and scaled_dot_product_attention as 2 matmuls of T x T x
heads*head_dim (2 * 2 * T * T * heads * head_dim; the causal mask does not reduce it) -- and
nothing else: RMSNorm, RoPE (its cos/sin tables and the rotate_half products), SiLU, the gate*up
product, the residual sums and repeat_kv are elementwise or copies, which it does not count.
RoPE's table is built as HF 5.x builds it: position_ids[..., None] * inv_freq, an elementwise
product (0 counted FLOPs).  HF transformers 4.x built it as a batched matmul
inv_freq[None, :, None] @ position_ids[:, None, :] of (head_dim/2 x 1) @ (1 x T), which
FlopCounterMode counts as 2 * (head_dim/2) * 1 * T = head_dim * T FLOPs once per forward pass
(the rotary embedding is shared by all layers); this reference, like HF 5.x, has none.

Checked once against HF transformers 5.23.0 (torch 2.13.0, LlamaConfig / MistralConfig / Qwen2Config
written out from the values above, AutoModelForCausalLM.from_config on the meta device, sdpa):
the same parameter counts, the same per-leaf output shapes and the same FlopCounterMode totals
at T = 1, 7 and 128 for all four, and for random small sizes; on CPU with HF's weights loaded,
the same logits.
"""
from __future__ import annotations

from torch_reference import nn, torch  # first: it skips the tests when torch is missing

F = nn.functional


class RMSNorm(nn.Module):
    """LlamaRMSNorm: x / sqrt(mean(x^2) + eps) in float32, times a learned weight (no bias)."""

    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        x = x.to(torch.float32)
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


class RotaryEmbedding(nn.Module):
    """LlamaRotaryEmbedding (rope_type "default"): inv_freq = 1 / theta^(2i / head_dim) for
    i < head_dim/2; for positions p, freqs = p * inv_freq, emb = cat(freqs, freqs), and the
    tables cos(emb), sin(emb) of shape (B, T, head_dim).  No parameters."""

    def __init__(self, head_dim, theta):
        super().__init__()
        inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float) / head_dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    @torch.no_grad()
    def forward(self, x, position_ids):
        freqs = position_ids[..., None].float() * self.inv_freq.to(device=x.device, dtype=torch.float)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)


def rotate_half(x):
    """(x1, x2) -> (-x2, x1) over the two halves of the last dimension."""
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_pos_emb(q, k, cos, sin):
    """q, k: (B, heads, T, head_dim); cos, sin: (B, T, head_dim), broadcast over the heads."""
    cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
    return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin


def repeat_kv(x, n_rep):
    """(B, kv_heads, T, head_dim) -> (B, kv_heads * n_rep, T, head_dim), each kv head n_rep times."""
    b, kv_heads, t, head_dim = x.shape
    if n_rep == 1:
        return x
    return x[:, :, None, :, :].expand(b, kv_heads, n_rep, t, head_dim).reshape(b, kv_heads * n_rep, t, head_dim)


class Attention(nn.Module):
    """LlamaAttention (Mistral, Qwen2: the same) with its sdpa path: q, k, v projections,
    reshaped to (B, heads, T, head_dim) and (B, kv_heads, T, head_dim), RoPE on q and k, k and v
    repeated to `heads`, softmax(q k^T / sqrt(head_dim)) v causally, the heads merged, o_proj.
    With a sliding window (Mistral) a query attends to the keys at most window-1 positions back;
    for T <= window that is exactly the causal mask."""

    def __init__(self, dim, heads, kv_heads, head_dim, q_bias=False, k_bias=False, v_bias=False, o_bias=False,
                 sliding_window=None):
        super().__init__()
        assert heads % kv_heads == 0, "num_attention_heads must be a multiple of num_key_value_heads"
        self.heads, self.kv_heads, self.head_dim, self.sliding_window = heads, kv_heads, head_dim, sliding_window
        self.q_proj = nn.Linear(dim, heads * head_dim, bias=q_bias)
        self.k_proj = nn.Linear(dim, kv_heads * head_dim, bias=k_bias)
        self.v_proj = nn.Linear(dim, kv_heads * head_dim, bias=v_bias)
        self.o_proj = nn.Linear(heads * head_dim, dim, bias=o_bias)

    def forward(self, x, cos, sin):
        b, t, _ = x.shape
        shape = (b, t, -1, self.head_dim)
        q = self.q_proj(x).view(shape).transpose(1, 2)
        k = self.k_proj(x).view(shape).transpose(1, 2)
        v = self.v_proj(x).view(shape).transpose(1, 2)
        q, k = apply_rotary_pos_emb(q, k, cos, sin)
        n_rep = self.heads // self.kv_heads
        k, v = repeat_kv(k, n_rep), repeat_kv(v, n_rep)
        if self.sliding_window is not None and t > self.sliding_window:
            i = torch.arange(t, device=x.device)
            mask = (i[:, None] >= i[None, :]) & (i[:, None] - i[None, :] < self.sliding_window)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=self.head_dim ** -0.5)
        else:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=self.head_dim ** -0.5)
        return self.o_proj(y.transpose(1, 2).reshape(b, t, -1))


class MLP(nn.Module):
    """LlamaMLP: down_proj(silu(gate_proj(x)) * up_proj(x)), no biases."""

    def __init__(self, dim, hidden):
        super().__init__()
        self.gate_proj = nn.Linear(dim, hidden, bias=False)
        self.up_proj = nn.Linear(dim, hidden, bias=False)
        self.down_proj = nn.Linear(hidden, dim, bias=False)
        self.act_fn = nn.SiLU()

    def forward(self, x):
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    """LlamaDecoderLayer: x + attn(input_layernorm(x)), then x + mlp(post_attention_layernorm(x))."""

    def __init__(self, dim, heads, kv_heads, head_dim, hidden, eps, qkv_bias=False, sliding_window=None):
        super().__init__()
        self.input_layernorm = RMSNorm(dim, eps)
        self.self_attn = Attention(dim, heads, kv_heads, head_dim, qkv_bias, qkv_bias, qkv_bias, False,
                                   sliding_window=sliding_window)
        self.post_attention_layernorm = RMSNorm(dim, eps)
        self.mlp = MLP(dim, hidden)

    def forward(self, x, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaForCausalLM(nn.Module):
    """embed_tokens, the RoPE tables for positions 0 .. T-1 (once), the layers, the final norm,
    lm_head (no bias) on every position: ids (B, T) -> logits (B, T, vocab).  Tied: lm_head's
    weight IS embed_tokens' (one Parameter, counted once by parameters())."""

    def __init__(self, layers, dim, heads, kv_heads, head_dim, hidden, vocab, tied=False, qkv_bias=False,
                 theta=10000.0, eps=1e-5, sliding_window=None):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, dim)
        self.rotary_emb = RotaryEmbedding(head_dim, theta)
        self.layers = nn.ModuleList(DecoderLayer(dim, heads, kv_heads, head_dim, hidden, eps, qkv_bias, sliding_window)
                                    for _ in range(layers))
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
def llama(L, d, heads, kv_heads, head_dim, f, V, tied=False, qkv_bias=False, theta=10000.0, eps=1e-5,
          sliding_window=None):
    """A Llama-family decoder: L layers, width d, heads x head_dim queries, kv_heads x head_dim keys
    and values, MLP hidden f, vocabulary V."""
    return LlamaForCausalLM(L, d, heads, kv_heads, head_dim, f, V, tied, qkv_bias, theta, eps, sliding_window)


def small_llama(T, L, d, heads, kv_heads, head_dim, f, V, tied=False, qkv_bias=False):
    """llama(...) for T tokens (any T: RoPE has no position table), built on the meta device."""
    with torch.device("meta"):
        return llama(L, d, heads, kv_heads, head_dim, f, V, tied=tied, qkv_bias=qkv_bias).eval()


def llama2_7b(shape):
    with torch.device("meta"):
        return llama(32, 4096, 32, 32, 128, 11008, 32000, theta=10000.0, eps=1e-5).eval()


def llama3_8b(shape):
    with torch.device("meta"):
        return llama(32, 4096, 32, 8, 128, 14336, 128256, theta=500000.0, eps=1e-5).eval()


def mistral_7b(shape):
    with torch.device("meta"):
        return llama(32, 4096, 32, 8, 128, 14336, 32000, theta=10000.0, eps=1e-5, sliding_window=4096).eval()


def qwen2_0_5b(shape):
    with torch.device("meta"):
        return llama(24, 896, 14, 2, 64, 4864, 151936, tied=True, qkv_bias=True, theta=1000000.0, eps=1e-6).eval()


BUILDERS = {"llama2_7b": llama2_7b, "llama3_8b": llama3_8b, "mistral_7b": mistral_7b, "qwen2_0_5b": qwen2_0_5b}

# What symcount calls each leaf layer (the Linears inside Attention are part of "attn").
KINDS = {nn.Embedding: "embed", RMSNorm: "rmsnorm", Attention: "attn", nn.Linear: "fc", nn.SiLU: "silu"}


def params(model):
    """Parameters, a shared (tied) weight counted once."""
    return sum(p.numel() for p in model.parameters())  # parameters() yields each Parameter once


def trace_llm(model, T):
    """([(kind, output shape without the batch)] of the leaf layers in forward order -- the
    projections inside an Attention not listed on their own --, FlopCounterMode's total FLOPs)
    for ids of shape (1, T)."""
    from torch.utils.flop_counter import FlopCounterMode
    T = T[0] if isinstance(T, (tuple, list)) else T
    inner = {id(sub) for m in model.modules() if isinstance(m, Attention) for sub in m.modules() if sub is not m}
    seen = []
    hooks = [m.register_forward_hook(lambda m, i, o: seen.append((KINDS[type(m)], tuple(o.shape[1:]))))
             for m in model.modules() if type(m) in KINDS and id(m) not in inner]
    try:
        with torch.device("meta"), FlopCounterMode(display=False) as counter:
            model(torch.zeros(1, T, dtype=getattr(model, "input_dtype", torch.long)))
    finally:
        for hook in hooks:
            hook.remove()
    return seen, counter.get_total_flops()
