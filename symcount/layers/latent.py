"""Multi-head latent attention (DeepSeek-V2, DeepSeek-AI 2024, §2.1; DeepSeek-V3): keys and values
rebuilt from a compressed latent of rank d_c, which is all a KV cache keeps, queries from one of
rank d_c' (or projected directly), and a rotary key of d_h^R features shared by the heads.

For h heads, a head size d_h of the keys' and queries' unrotated part, d_h^R rotary features and
values of d_v, on N tokens of width D:
  weights  D·d_c' + d_c' (its RMSNorm) + d_c'·h·(d_h + d_h^R)   (queries; D·h·(d_h + d_h^R) without d_c')
           D·(d_c + d_h^R) + d_c (its RMSNorm) + d_c·h·(d_h + d_v)   (the latent, the shared rotary key, K and V)
           h·d_v·D   (output)
  MACs     N × the projections' weights (the norms apart), and N²·h·(d_h + d_h^R) for the scores and
           N²·h·d_v for their weighted sum of V, as FlopCounterMode counts scaled_dot_product_attention
           with queries and keys of d_h + d_h^R and values of d_v.
"""
from __future__ import annotations

from symcount.errors import OptionError
from symcount.layers.requirements import LayerProblem
from symcount.layers.result import ZERO

LATENT_OPTIONS = ("kv_rank", "q_rank", "rope_dim", "v_dim")


def latent_attention(params, shape, heads, head_dim, needs):
    """(weights, MACs of the projections, MACs of the scores and weighted sum) of attn{h}[kv_rank=…]."""
    tokens, width = shape
    if "head_dim" not in params:
        raise LayerProblem("latent attention needs the head size of its keys' unrotated part: "
                           "attn128[kv_rank=512, head_dim=128, rope_dim=64]", OptionError)
    for name in ("kv_heads", "kdim", "memory"):
        if name in params:
            raise LayerProblem(f"latent attention rebuilds every head's keys and values from one latent: it takes "
                               f"no {name}", OptionError)
    rank, rotary = params["kv_rank"], params.get("rope_dim", ZERO)
    q_rank, values = params.get("q_rank"), params.get("v_dim", head_dim)
    for value, what in ((rank, "the latent's rank"), (values, "the value size")):
        needs.whole(value, what, 1)
    needs.whole(rotary, "the rotary features", 0)
    query = heads * (head_dim + rotary)
    if q_rank is None:
        queries, q_norm = width * query, ZERO
    else:
        needs.whole(q_rank, "the queries' rank", 1)
        queries, q_norm = width * q_rank + q_rank * query, q_rank
    keys_values = width * (rank + rotary) + rank * heads * (head_dim + values)
    output = heads * values * width
    projections = queries + keys_values + output
    scores = tokens * tokens * heads * (head_dim + rotary + values)
    return projections + q_norm + rank, tokens * projections, scores
