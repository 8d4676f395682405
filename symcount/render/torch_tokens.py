"""The exporter's modules for the token layers: the patch embedding, the embeddings, the class
token and its pooling, attention, and nn.Linear on each token (GPT-2's tied output layer)."""
from __future__ import annotations

from symcount.errors import ExportError
from symcount.layers.attention import biased, module_of

HELPER = {"patch": "PatchEmbedding", "pos": "PositionEmbedding", "segment": "SegmentEmbedding", "cls": "ClassToken",
          "clspool": "ClassPool", "gap": "TokenMean", "attn": "SelfAttention", "totokens": "ToTokens"}
LATENT = ("kv_rank", "head_dim", "rope_dim", "v_dim", "q_rank")  # LatentAttention's sizes, in its order



def token_modules(layer, params, shape, result, helpers: set, whole) -> list:
    """The module source for one token layer; `helpers` collects the helper classes it uses and
    `whole(value, what, layer)` gives a value as an int (or an ExportError)."""
    kind = layer.kind
    if kind == "softmax":
        return ["nn.Softmax(dim=-1)"]
    if kind == "embed":
        name = "TiedEmbedding" if params.get("tied") else "nn.Embedding"
        if params.get("tied"):
            helpers.add("TiedLinear")  # its helper defines TiedEmbedding and tie_embeddings too
        return [f"{name}({whole(params['vocabulary'], 'the vocabulary', layer)}, "
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
        dropout = f", dropout={float(params['dropout'])!r}" if params.get("dropout") else ""
        if "kv_rank" in params:
            if dropout:
                raise ExportError(f"{layer.text}: the exported latent attention has no dropout on its probabilities; "
                                  "leave dropout= off to export it")
            helpers.add("LatentAttention")
            options = "".join(f", {name}={whole(params[name], 'the ' + name, layer)}" for name in LATENT if name in params)
            return [f"LatentAttention({width}, {heads}{options}" + (", causal=True" if params.get("causal") else "") + ")"]
        if module_of(params) == "Attention" or params.get("cross"):
            helpers.add("Attention")
            sizes = {"window": "window", "relative": "relative", "memory_width": "memory_width"}
            options = "".join(f", {name}={whole(params[name], 'the ' + name, layer)}"
                              for name in ("kv_heads", "head_dim", *sizes) if name in params)
            options += f", bias={biased(params)!r}" + "".join(f", {flag}=True" for flag in ("causal", "rope", "alibi")
                                                              if params.get(flag))
            return [f"Attention({width}, {heads}{options}{dropout})"]
        helpers.add("SelfAttention")
        options = (", causal=True" if params.get("causal") else "") + ("" if params.get("bias", True) else ", bias=False")
        return [f"SelfAttention({width}, {heads}{options}{dropout})"]
    if helper == "PositionEmbedding":
        return [f"PositionEmbedding({whole(params.get('positions', shape[0]), 'the positions', layer)}, {width}"
                + (", frozen=True" if params.get("frozen") else "") + ")"]
    if kind == "segment":
        return [f"SegmentEmbedding({whole(params['types'], 'the segment types', layer)}, {width})"]
    if kind == "cls":
        return [f"ClassToken({width})"]
    return [f"{helper}()"]
