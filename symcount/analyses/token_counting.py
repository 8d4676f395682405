"""How the counting tools count layers on tokens: attention, a mixture's experts and router, and
which token layers they were measured on (tests/fixtures/counters/transformers.json, with the
versions and the command; docs/conventions.md says it in words).

Attention is counted as symcount's export writes it, as the tools see its modules:
  - with options (key/value heads, a head size, rotary positions, biases on some projections):
    q, k, v and output nn.Linear modules and F.scaled_dot_product_attention (Hugging Face's Llama);
  - plain (attn12): F.linear on the module's own parameters and F.scaled_dot_product_attention
    (GPT-2's code, nn.MultiheadAttention's parameters).
Measured: only DeepSpeed's profiler and FlopCounterMode charge scaled_dot_product_attention's two
products; ptflops and thop see no F.linear outside an nn.Linear; torchinfo charges each leaf
module's parameters once (an nn.Linear on (1, N, D) tokens: its parameters, not N times) and a
module's own parameters N times; every tool charges the experts a token is routed to, not all.
"""
from __future__ import annotations

from symcount.errors import SymcountError
from symcount.layers.result import layout

# Token layers the tools were measured on; any other is refused by a preset.
MEASURED = frozenset({"embed", "pos", "fc", "layernorm", "rmsnorm", "attn", "router", "gelu", "silu", "relu",
                      "softmax", "dropout"})
MEASURED_ATTENTION = frozenset({"Attention", "MultiheadAttention"})


def check_measured(rows, chosen) -> None:
    """A preset other than symcount's own refuses token layers no tool was measured on."""
    for row in rows:
        if layout(row.output) != "tokens" and layout(row.input) != "tokens":
            continue
        unmeasured = row.kind not in MEASURED or \
            (row.kind == "attn" and (row.module or "MultiheadAttention") not in MEASURED_ATTENTION) or \
            (row.kind == "pos" and row.module == "FixedPositionEmbedding")
        if unmeasured:
            raise SymcountError(f"the {chosen.name} preset reproduces its tool where the tool was measured; on "
                                f"tokens that is embeddings, learned positions, linear layers, layer norms and "
                                f"RMSNorm, activations, dropout, attention (plain or with key/value heads, a head size, "
                                f"rotary positions or biases named) and mixtures of experts, not {row.name} "
                                f"({row.text}): use the macs convention (docs/conventions.md)")


def uses(row):
    """How many times each token passes through the row's layer: k + s in a mixture's experts, else 1."""
    elements = row.output[0] * row.output[1] * row.count if len(row.output) == 2 else None
    return row.activations / elements if elements else 1


def attention_ops(row, chosen, factor):
    """An attention row's figure under a counting tool's preset."""
    projections = row.macs - row.scores
    kept = row.scores - row.masked if chosen.attention == "computed" else row.scores  # the switch attention
    scores = factor * kept if chosen.scores else 0
    if row.module == "Attention":  # nn.Linear children, then scaled_dot_product_attention
        if chosen.linear == "params":
            return row.params
        bias = row.biases * row.output[0] if "fc" in chosen.bias else 0  # one add per output, per token
        return factor * projections + scores + bias
    if chosen.functional_linear == "per_token_params":  # the module's own parameters, N times
        return row.params * row.output[0]
    return (factor * projections if chosen.functional_linear == "macs" else 0) + scores


def routed_linear(row):
    """torchinfo's figure for a router or an expert's linear layer: they run on (tokens, D) matrices,
    so each is charged per token it sees: its MACs and one add per output for a bias."""
    return row.macs + (row.activations if row.biases != 0 else 0)


def linear_params(row):
    """torchinfo's figure for an nn.Linear: its parameters once, whatever the tokens; a tied output
    layer (fc[tied], no weights of its own here) is still a leaf nn.Linear holding the embedding's
    table, which torchinfo charges again (measured: GPT-2's lm_head)."""
    if row.kind == "router" or row.idle != 0:
        return routed_linear(row)
    if row.weights == 0 and row.macs != 0 and layout(row.output) == "tokens":
        return row.macs / row.output[0] + row.biases
    return row.params
