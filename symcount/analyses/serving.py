"""What a decoder costs to serve: its KV cache per sequence, the multiply-accumulates of decoding one
token, and the memory of the weights and a batch's caches.

The cache holds, for every attention layer that decodes (causal, or windowed, self-attention), each
key/value head's key and value for every token it attends to: 2·g·d_h·T values a layer after T tokens,
2·g·d_h·min(T, w − 1) under a sliding window of w (the next token and those make its window, as Hugging
Face's sliding-window cache keeps them), the memory's 2·g·d_h·S for cross-attention (computed once from the encoder's
output), and a latent attention's latent and rotary key, (d_c + d_h^R)·T (DeepSeek-V2 §2.1.2, the
compressed cache an MLA kernel keeps). Attention that sees every token (an encoder's) keeps none.

Decoding the token at position T (the cache holding T − 1) costs what the T-th token adds to the forward
pass of T tokens counted as a causal kernel computes it (the switch attention=computed): its own
projections and products with the T keys it sees (min(T, w) under a window, S for cross-attention).
"""
from __future__ import annotations

from dataclasses import dataclass

from symcount import algebra as al
from symcount.given import whole_or_symbol
from symcount.analyses.memory import DTYPES, dtype_name
from symcount.errors import SymbolError
from symcount.shown import figure, shown_fields


@dataclass(frozen=True)
class Serving:
    """A decoder's serving figures in a dtype: the cache per sequence (values and bytes), the weights'
    bytes, and for a batch of B sequences their sum."""
    dtype: str
    cache: object
    weights: object
    batch: object

    def __post_init__(self):
        shown_fields(self)

    @property
    def bytes_per_element(self) -> int:
        return DTYPES[self.dtype]

    @figure
    def cache_bytes(self):
        return self.cache * self.bytes_per_element

    @figure
    def weights_bytes(self):
        return self.weights * self.bytes_per_element

    @figure
    def total_bytes(self):
        """The weights and B sequences' caches."""
        return self.weights_bytes + self.batch * self.cache_bytes


def serving(network, dtype: str = "float16", batch=1) -> Serving:
    cache = al.expand(al.Add(*[row.cache for row in network.layers]))
    weights = network.params + network.non_trainable
    return Serving(dtype_name(dtype), cache, weights, whole_or_symbol(network, batch, "batch"))


def decoding_macs(network, length: str = "T"):
    """MACs of decoding the token at position `length` (a symbol of the network) with the cache holding
    the ones before: the causal forward's count at T minus its count at T − 1."""
    if length not in network.symbols:
        raise SymbolError(f"decoding a token needs the sequence length as a symbol ({length}): write input "
                          f"{length} tokens; this network's symbols are {', '.join(network.symbols) or 'none'}")
    computed = network.ops(attention="computed")
    symbol = network.symbols[length]
    step = computed - computed.xreplace({symbol: symbol - 1})
    return al.expand(step)
