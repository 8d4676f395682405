"""The exporter's modules for the token layers: the patch embedding, the embeddings, the class
token and its pooling, attention, and nn.Linear on each token (GPT-2's tied output layer)."""
from __future__ import annotations

from symcount.errors import ExportError
from symcount.layers.attention import biased

HELPER = {"patch": "PatchEmbedding", "pos": "PositionEmbedding", "segment": "SegmentEmbedding", "cls": "ClassToken",
          "clspool": "ClassPool", "gap": "TokenMean", "attn": "SelfAttention", "totokens": "ToTokens"}
UNEXPORTED = {"relative": "a relative-position bias table", "frozen": "a frozen position table",
              "tied": "an embedding tied to another"}  # counted, not yet written as modules


def token_modules(layer, params, shape, result, helpers: set, whole) -> list:
    """The module source for one token layer; `helpers` collects the helper classes it uses and
    `whole(value, what, layer)` gives a value as an int (or an ExportError)."""
    kind = layer.kind
    for option, what in UNEXPORTED.items():
        if params.get(option) and not (kind == "fc" and option == "tied"):
            raise ExportError(f"{layer.text}: {what} is counted, but export does not write it")
    if kind == "softmax":
        return ["nn.Softmax(dim=-1)"]
    if kind == "embed":
        return [f"nn.Embedding({whole(params['vocabulary'], 'the vocabulary', layer)}, "
                f"{whole(params['out'], 'the token width', layer)})"]
    if kind == "fc":
        width, out = whole(shape[-1], "the token width", layer), whole(params["out"], "the units", layer)
        name = "TiedLinear" if params.get("tied") else "nn.Linear"
        if params.get("tied"):
            helpers.add("TiedLinear")
        return [f"{name}({width}, {out}" + ("" if params.get("bias", True) else ", bias=False") + ")"]
    helper = result.module if kind == "pos" and result.module else HELPER[kind]
    if kind != "attn":
        helpers.add(helper)
    width = whole(result.output[-1], "the token width", layer)
    if kind == "patch":
        patch = tuple(whole(p, "the patch", layer) for p in params["kernel"])
        return [f"PatchEmbedding({whole(shape[0], 'the channels', layer)}, {width}, {patch}"
                + ("" if params.get("bias", True) else ", bias=False") + ")"]
    if kind == "attn":
        if "memory" in params:
            raise ExportError(f"{layer.text}: cross-attention takes its keys and values from a second input, "
                              "and an exported module takes one; export writes self-attention only")
        heads = whole(params["heads"], "the heads", layer)
        if any(name in params for name in ("kv_heads", "head_dim", "rope")) or params.get("bias") not in (None, True,
                                                                                                      False):
            helpers.add("Attention")
            options = "".join(f", {name}={whole(params[name], 'the ' + name, layer)}" for name in ("kv_heads", "head_dim")
                              if name in params)
            options += f", bias={biased(params)!r}" + (", causal=True" if params.get("causal") else "") + \
                (", rope=True" if params.get("rope") else "")
            return [f"Attention({width}, {heads}{options})"]
        helpers.add("SelfAttention")
        options = (", causal=True" if params.get("causal") else "") + ("" if params.get("bias", True) else ", bias=False")
        return [f"SelfAttention({width}, {heads}{options})"]
    if helper == "PositionEmbedding":
        return [f"PositionEmbedding({whole(params.get('positions', shape[0]), 'the positions', layer)}, {width})"]
    if kind == "segment":
        return [f"SegmentEmbedding({whole(params['types'], 'the segment types', layer)}, {width})"]
    if kind == "cls":
        return [f"ClassToken({width})"]
    return [f"{helper}()"]
