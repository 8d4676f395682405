"""Attention on N×D tokens: multi-head, grouped-query and multi-query, any head size, biases on
some projections only, keys and values from other tokens (cross-attention).

For h heads of size d_h (D/h unless given), g key/value heads (h unless given; g divides h),
keys and values from M tokens of width E (M = N, E = D for self-attention):
  weights  D·h·d_h (Q) + 2·E·g·d_h (K, V) + h·d_h·D (output)
  biases   h·d_h, g·d_h, g·d_h and D, on the projections that have one
  MACs     N·D·h·d_h + 2·M·E·g·d_h + N·h·d_h·D for the projections, and 2·N·M·h·d_h for the
           scores Q·Kᵀ and their weighted sum of V, as FlopCounterMode counts
           scaled_dot_product_attention after the key/value heads are repeated to h
           (Hugging Face's repeat_kv; Ainslie et al. 2023, grouped-query attention).
A causal mask, a sliding window (Mistral) and rotary positions (Su et al. 2021; Llama) change
no count: PyTorch computes the whole N×M product under a mask, and a rotation is elementwise
(no MACs; it has no parameters).  The scores a mask discards are kept apart (`masked`): a causal
kernel computes N(N + 1)/2 of the N² query–key pairs, a banded one Σ min(i, w), and the switch
attention=computed counts only those.  With g = h and d_h = D/h these are nn.MultiheadAttention's.
"""
from __future__ import annotations

from symcount.algebra import Min
from symcount.errors import OptionError
from symcount.layers.latent import latent_attention
from symcount.layers.requirements import LayerProblem
from symcount.layers.result import ZERO, LayerResult

PROJECTIONS = "qkvo"  # the query, key, value and output projections, as bias=qkv names them
# Options that make attention the Attention module (nn.Linear projections) rather than nn.MultiheadAttention's
# parameters used by F.linear: what the export writes, and what the counting tools see.
LINEAR_PROJECTIONS = ("kv_heads", "head_dim", "rope", "window", "alibi", "relative", "cross")


def module_of(params) -> str:
    """The PyTorch module an attention is: LatentAttention, CrossAttention (keys and values from other
    tokens), Attention (nn.Linear projections) or "" (nn.MultiheadAttention's parameters)."""
    if "kv_rank" in params:
        return "LatentAttention"
    if "memory" in params:
        return "CrossAttention"
    linear = any(name in params for name in LINEAR_PROJECTIONS) or params.get("bias") not in (None, True, False)
    return "Attention" if linear else ""


def biased(params) -> str:
    """The projections with a bias: every one (bias=true, the default), none, or those named."""
    bias = params.get("bias", True)
    return PROJECTIONS if bias is True else "" if bias is False else bias


def attention(params, shape, defaults, needs):
    tokens, width = shape
    heads = params["heads"]
    needs.whole(heads, "the heads", 1)
    kv_heads = params.get("kv_heads", heads)
    needs.whole(kv_heads, "the key/value heads", 1)
    needs.divides(kv_heads, heads, lambda: f"{kv_heads} key/value heads must divide the {heads} heads (each "
                  "serves an equal group of query heads)")
    if "head_dim" in params:
        head_dim = params["head_dim"]
        needs.whole(head_dim, "the head size", 1)
    else:
        needs.divides(heads, width, lambda: f"{heads} heads must divide the token width {width} (or give the head "
                      "size: head_dim=64)")
        head_dim = width / heads
    if params.get("rope"):
        needs.divides(2, head_dim, lambda: f"rotary positions turn pairs of a head's features: the head size "
                      f"{head_dim} must be even")
    memory, key_width = params.get("memory", tokens), params.get("kdim", width)
    if "kdim" in params and "memory" not in params:
        raise LayerProblem("kdim is the width of the tokens keys and values come from; give their number too: "
                           "attn8[memory=77, kdim=768]", OptionError)
    for value, what in ((memory, "the memory tokens"), (key_width, "the key width")):
        needs.whole(value, what, 1)
    if "window" in params:
        needs.whole(params["window"], "the window", 1)
    if "kv_rank" in params:  # DeepSeek's latent attention: its own projections, no biases
        if params.get("bias", True) is not False:
            raise LayerProblem("latent attention's projections have no biases (DeepSeek's attention_bias is "
                               "false): write bias=false", OptionError)
        weights, projections, scores = latent_attention(params, shape, heads, head_dim, needs)
        biases, per_pair = ZERO, scores / (tokens * tokens)
    else:
        inner, kv_inner = heads * head_dim, kv_heads * head_dim
        sizes = {"q": inner, "k": kv_inner, "v": kv_inner, "o": width}
        weights = width * inner + 2 * key_width * kv_inner + inner * width
        biases = sum((sizes[p] for p in biased(params)), ZERO)
        projections = 2 * tokens * width * inner + 2 * memory * key_width * kv_inner
        per_pair = 2 * inner  # Q·Kᵀ, then the scores' weighted sum of V
        scores = tokens * memory * per_pair
    if "relative" in params:  # a bias per head and relative position, added to the scores (no MACs)
        needs.whole(params["relative"], "the relative positions", 1)
        weights += params["relative"] * heads
    masked = ZERO
    if (params.get("causal") or "window" in params) and "memory" not in params:
        masked = scores - seen(tokens, params.get("window")) * per_pair
    return LayerResult(shape, weights, biases, ZERO, projections + scores, masked=masked, scores=scores,
                       module=module_of(params), cache=cached(params, tokens, heads, head_dim, kv_heads))


def cached(params, tokens, heads, head_dim, kv_heads):
    """The values a decoder keeps per sequence to decode its next token (a KV cache): each key/value head's
    key and value for every token it attends to, min(N, w − 1) under a sliding window of w (the next
    token and those make its window: Hugging Face's sliding-window cache, measured), the memory's for
    cross-attention; a latent attention's latent and rotary key (d_c + d_h^R a token, DeepSeek-V2 §2.1.2);
    none for attention that sees every token (an encoder's), which decodes nothing."""
    if "memory" in params:
        return 2 * kv_heads * head_dim * params["memory"]
    if not (params.get("causal") or "window" in params):
        return ZERO
    kept = Min(tokens, params["window"] - 1) if "window" in params else tokens
    if "kv_rank" in params:
        return (params["kv_rank"] + params.get("rope_dim", ZERO)) * kept
    return 2 * kv_heads * head_dim * kept


def seen(tokens, window=None):
    """The query–key pairs a causal mask keeps among N tokens: query i sees i keys, N(N + 1)/2 in
    all; under a sliding window of w, min(i, w), m(m + 1)/2 + (N − m)·w with m = min(N, w)."""
    if window is None:
        return tokens * (tokens + 1) / 2
    m = Min(tokens, window)
    return m * (m + 1) / 2 + (tokens - m) * window
