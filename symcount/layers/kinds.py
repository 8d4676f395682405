"""The table of layer kinds: options each accepts, and how each maps a shape to counts.

A layer kind is data: the options it takes (symcount.layers.options) and one function
from (parameters, input shape, network padding) to a :class:`LayerResult`.  Counting
rules (docs/conventions.md, "Counting"):
  conv  weights k_h·k_w·(C_in/g)·C_out, biases C_out, MACs H_o·W_o·C_out·k_h·k_w·C_in/g
  deconv (transposed) the same weights and biases; MACs on the *input* positions,
        H_i·W_i·C_in·k_h·k_w·C_out/g, as PyTorch computes it (torch/utils/flop_counter.py,
        conv_flop_count with transposed=True)
  fc    weights in·out, biases out, MACs in·out (a flatten is implied before it)
  bn    γ and β trainable (reported as weights and biases), running mean and variance
        non-trainable
Biases are not MACs; pooling, normalisation and activations cost no MACs here.  The sliding
windows' rules (convolutions, transposed convolutions, pooling) are symcount.layers.sliding.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Callable

from symcount import algebra as al

from symcount.errors import OptionError
from symcount.layers.options import OPTIONS
from symcount.layers.requirements import LayerProblem, Needs

Expr = object  # an Int, a Rat or a SymPy expression (symcount.algebra)
from symcount.layers.norms import batchnorm, groupnorm, instancenorm, layernorm, layer_scale, rmsnorm
from symcount.layers.resampling import channel_shuffle, crop, pixel_shuffle, upsample
from symcount.layers.result import ONE, ZERO, LayerResult, dimensional, layout, spatial
from symcount.layers import sliding as sl
from symcount.layers import tokens as tk
from symcount.layers.attention import attention
from symcount.layers.latent import LATENT_OPTIONS
from symcount.layers.conditioning import label_embedding, modulation
from symcount.layers.experts import router
from symcount.layers.windowed import patch_merging, window_attention

@dataclass(frozen=True)
class Defaults:
    """The network-wide choices a layer falls back on (hashable: part of the cache key).

    padding: the convolutions' default padding; conv, pool: the rounding rule of each;
    deconv: whose output-size rule a transposed convolution with valid or same padding
    follows, "pytorch" or "keras"; forced: apply conv/pool to every layer, ignoring its
    own round/ceil options (the integrality analysis evaluates everything exactly).
    """
    padding: object = "half"
    conv: str = "floor"
    pool: str = "floor"
    deconv: str = "pytorch"
    forced: bool = False

    def rule(self, params, kind_rule: str) -> str:
        if self.forced:
            return kind_rule
        if "round" in params:
            return params["round"]
        return "ceil" if params.get("ceil") else kind_rule


def _gap(params, shape, defaults, needs):
    if layout(shape) == "tokens":
        return tk.token_mean(shape)
    c, *sizes = spatial(shape, "global average pooling")
    if params.get("mean"):  # x.mean([2, 3]): the spatial axes gone, no module
        return LayerResult((c,), ZERO, ZERO, ZERO, ZERO, module="TensorMean")
    return LayerResult((c,) + (ONE,) * len(sizes), ZERO, ZERO, ZERO, ZERO)


def _adaptive(params, shape, defaults, needs):
    """PyTorch's AdaptiveAvgPool2d/AdaptiveMaxPool2d (1d, 3d): C×h×w whatever the input size."""
    c = spatial(shape, "adaptive pooling")[0]
    for size in params["size"]:
        needs.whole(size, "the output size", 1)
    return LayerResult((c,) + tuple(params["size"]), ZERO, ZERO, ZERO, ZERO)


def _flatten(params, shape, defaults, needs):
    return LayerResult((al.Mul(*shape),), ZERO, ZERO, ZERO, ZERO)


def _fc(params, shape, defaults, needs):
    if layout(shape) == "tokens":
        return tk.linear_per_token(params, shape, needs)
    fan_in = al.Mul(*shape)
    out = params["out"]
    needs.whole(out, "units", 1)
    biases = out if params.get("bias", True) else ZERO
    weights = ZERO if params.get("tied", False) else fan_in * out  # shared with an embedding (checked where built)
    return LayerResult((out,), weights, biases, ZERO, fan_in * out)


def _se(params, shape, defaults, needs):
    """Squeeze-and-excitation is a path (symcount.builder.squeeze_excitation), never evaluated as one layer."""
    raise LayerProblem("se is expanded into its layers where the network is built")


def _prelu(params, shape, defaults, needs):
    """PyTorch's PReLU: one learned slope, or one per channel (num_parameters=C)."""
    if params.get("channelwise", False) and layout(shape) == "tokens":
        raise LayerProblem("a PReLU slope per channel takes channels on axis 1, as nn.PReLU(C) does, and tokens "
                           "have none there; use one shared slope, prelu", OptionError)
    slopes = shape[0] if params.get("channelwise", False) else ONE
    return LayerResult(shape, slopes, ZERO, ZERO, ZERO)


def _same_shape(params, shape, defaults, needs):
    return LayerResult(shape, ZERO, ZERO, ZERO, ZERO)


# The inputs a kind takes (symcount.layers.result.layout); each kind's own rule refines them.
IMAGES = frozenset({"spatial", "flat"})
ANY = IMAGES | {"tokens"}
TOKENS = frozenset({"tokens"})
LAYOUT_NAMES = {"spatial": "a C×L, C×H×W or C×D×H×W input", "flat": "a flat input", "tokens": "N×D tokens",
                "ids": "token ids"}


@dataclass(frozen=True)
class Kind:
    name: str
    options: tuple
    evaluate: Callable
    meaning: str
    module: str = ""   # the PyTorch module that builds it (the table's type column)
    inputs: frozenset = IMAGES


KINDS = {kind.name: kind for kind in (
    Kind("conv", ("pad", "stride", "dilation", "groups", "bias", "round", "padding_mode", "channels_last"), sl.conv,
         "2-D convolution",
         "Conv2d"),
    Kind("deconv", ("pad", "stride", "dilation", "groups", "bias", "output_padding"), sl.deconv,
         "2-D transposed convolution", "ConvTranspose2d"),
    Kind("maxpool", ("pad", "stride", "dilation", "ceil", "round", "functional"), sl.pool, "max pooling", "MaxPool2d"),
    Kind("avgpool", ("pad", "stride", "ceil", "round", "functional"), sl.avgpool, "average pooling", "AvgPool2d"),
    Kind("gap", ("functional", "mean"), _gap, "global average pooling to C×1×1", "AdaptiveAvgPool2d", inputs=ANY),
    Kind("adaptiveavgpool", ("functional",), _adaptive, "adaptive average pooling to C×h×w", "AdaptiveAvgPool2d"),
    Kind("adaptivemaxpool", ("functional",), _adaptive, "adaptive max pooling to C×h×w", "AdaptiveMaxPool2d"),
    Kind("flatten", (), _flatten, "flatten C×H×W to C·H·W", "Flatten", inputs=ANY),
    Kind("fc", ("bias", "tied"), _fc, "fully connected (flatten implied); on tokens, per token", "Linear", inputs=ANY),
    Kind("bn", ("affine",), batchnorm, "batch normalisation", "BatchNorm2d"),
    Kind("instancenorm", ("affine",), instancenorm, "instance normalisation", "InstanceNorm2d"),
    Kind("lrn", (), _same_shape, "local response normalisation", "LocalResponseNorm"),
    Kind("relu", ("functional",), _same_shape, "ReLU", "ReLU", inputs=ANY),
    Kind("relu6", ("functional",), _same_shape, "ReLU6 (MobileNet v2)", "ReLU6", inputs=ANY),
    Kind("lrelu", ("slope", "functional"), _same_shape, "leaky ReLU", "LeakyReLU", inputs=ANY),
    Kind("tanh", ("functional",), _same_shape, "tanh", "Tanh", inputs=ANY),
    Kind("sigmoid", ("functional",), _same_shape, "sigmoid", "Sigmoid", inputs=ANY),
    Kind("dropout", ("rate",), _same_shape, "dropout", "Dropout", inputs=ANY),
    Kind("softmax", ("functional",), _same_shape, "softmax", "Softmax", inputs=ANY),
    Kind("silu", (), _same_shape, "SiLU, also called swish (EfficientNet)", "SiLU", inputs=ANY),
    Kind("hardswish", (), _same_shape, "hard swish (MobileNet v3)", "Hardswish", inputs=ANY),
    Kind("hardsigmoid", (), _same_shape, "hard sigmoid (MobileNet v3's squeeze-and-excitation)", "Hardsigmoid", inputs=ANY),
    Kind("gelu", (), _same_shape, "GELU (ConvNeXt, transformers)", "GELU", inputs=ANY),
    Kind("elu", (), _same_shape, "ELU", "ELU", inputs=ANY),
    Kind("mish", (), _same_shape, "Mish", "Mish", inputs=ANY),
    Kind("prelu", ("channelwise",), _prelu, "PReLU: a learned slope, shared or per channel", "PReLU", inputs=ANY),
    Kind("groupnorm", ("groups", "affine"), groupnorm, "group normalisation", "GroupNorm"),
    Kind("rmsnorm", ("affine",), rmsnorm, "RMSNorm over each token's features (Llama, T5): a weight per feature",
         "RMSNorm", inputs=frozenset({"tokens", "flat"})),
    Kind("layernorm", ("trailing", "affine", "channels_last", "bias"), layernorm, "layer normalisation over the channels at each "
         "position (ConvNeXt), or over the trailing dimension", "LayerNorm2d", inputs=ANY),
    Kind("upsample", ("scale", "size", "mode"), upsample, "upsampling (nearest or bilinear), by whole factors "
         "or to a size", "Upsample"),
    Kind("pixelshuffle", ("scale",), pixel_shuffle, "pixel shuffle: C×H×W to C/r²×rH×rW", "PixelShuffle"),
    Kind("crop", ("size", "by"), crop, "a crop: to a size, centred, or by a margin off both sides", "Crop"),
    Kind("shuffle", ("groups",), channel_shuffle, "channel shuffle (ShuffleNet)", "ChannelShuffle"),
    Kind("se", ("squeeze", "reduction", "act", "gate"), _se, "squeeze-and-excitation: the input times a gate "
         "computed from its global average (Hu et al. 2018; torchvision's SqueezeExcitation)", "SqueezeExcitation"),
    Kind("scale", (), layer_scale, "a learned scale per channel (ConvNeXt's layer scale)", "LayerScale", inputs=ANY),
    Kind("patch", ("bias",), tk.patch, "patch embedding: p×p patches of C×H×W to N×D tokens (ViT)", "PatchEmbedding",
         inputs=frozenset({"spatial"})),
    Kind("embed", ("tied",), tk.embed, "token embedding: N token ids to N×D tokens from a V×D table", "Embedding",
         inputs=frozenset({"ids"})),
    Kind("pos", ("fixed", "frozen"), tk.position, "position embedding added to the tokens: learned, one per token or a "
         "table of P positions, or fixed", "PositionEmbedding", inputs=TOKENS),
    Kind("segment", (), tk.segment, "segment (token type) embedding added to the tokens (BERT)", "SegmentEmbedding",
         inputs=TOKENS),
    Kind("totokens", (), tk.to_tokens, "a map's positions as tokens: C×L to L tokens of width C, C×H×W to H·W "
         "tokens", "ToTokens", inputs=frozenset({"spatial"})),
    Kind("unpatch", (), tk.unpatch, "tokens back to the map the last patch embedding cut (DiT's unpatchify)",
         "Unpatch", inputs=TOKENS),
    Kind("cls", (), tk.class_token, "a learned class token put before the tokens (ViT)", "ClassToken",
         inputs=TOKENS),
    Kind("clspool", (), tk.class_pool, "the first token (the class token) as the output: N×D to D", "ClassPool",
         inputs=TOKENS),
    Kind("attn", ("causal", "memory", "kdim", "bias", "kv_heads", "head_dim", "rope", "alibi", "window", "cross",
                 "relative", "dropout")
         + LATENT_OPTIONS, attention,
         "multi-head attention: h heads (g key/value heads), the Q, K, V and output projections and the N×N "
         "scores", "MultiheadAttention", inputs=TOKENS),
    Kind("wattn", ("window", "shift"), window_attention, "attention within M×M windows of a C×H×W map, shifted "
         "or not, with a relative-position bias table (Swin Transformer)", "ShiftedWindowAttention",
         inputs=frozenset({"spatial"})),
    Kind("merge", (), patch_merging, "patch merging: 2×2 neighbours concatenated, normed and projected, C×H×W "
         "to 2C×H/2×W/2 (Swin Transformer)", "PatchMerging", inputs=frozenset({"spatial"})),
    Kind("adaln", (), modulation, "adaLN modulation: k vectors of the token width from the conditioning vector "
         "(DiT)", "Modulation", inputs=TOKENS),
    Kind("labels", (), label_embedding, "a class label's embedding added to a vector (DiT's LabelEmbedder)",
         "LabelEmbedding", inputs=frozenset({"flat", "tokens"})),
    Kind("router", ("top", "shared"), router, "a mixture of experts' router: each token's scores for the E experts, "
         "of which it runs the top k", "Linear", inputs=TOKENS),
)}

# How a keyword of the grammar names a kind (keywords are case-insensitive).
KEYWORDS = {"conv": "conv", "deconv": "deconv", "convt": "deconv", "tconv": "deconv", "upconv": "deconv",
            "instancenorm": "instancenorm", "inorm": "instancenorm", "lrelu": "lrelu", "leakyrelu": "lrelu",
            "maxpool": "maxpool", "avgpool": "avgpool", "pool": "maxpool",
            "fc": "fc", "dense": "fc", "linear": "fc", "gap": "gap", "flatten": "flatten",
            "bn": "bn", "batchnorm": "bn", "lrn": "lrn", "relu": "relu", "relu6": "relu6", "tanh": "tanh",
            "adaptiveavgpool": "adaptiveavgpool", "adaptivemaxpool": "adaptivemaxpool",
            "sigmoid": "sigmoid", "dropout": "dropout", "softmax": "softmax", "soft-max": "softmax",
            "silu": "silu", "swish": "silu", "hardswish": "hardswish", "hswish": "hardswish",
            "hardsigmoid": "hardsigmoid", "hsigmoid": "hardsigmoid", "gelu": "gelu", "elu": "elu", "mish": "mish",
            "prelu": "prelu", "groupnorm": "groupnorm", "gn": "groupnorm", "layernorm": "layernorm",
            "ln": "layernorm", "rmsnorm": "rmsnorm", "scale": "scale", "layerscale": "scale", "upsample": "upsample",
            "pixelshuffle": "pixelshuffle", "shuffle": "shuffle", "channelshuffle": "shuffle", "se": "se",
            "crop": "crop", "patch": "patch", "embed": "embed", "embedding": "embed", "pos": "pos",
            "segment": "segment", "cls": "cls", "clspool": "clspool", "attn": "attn", "attention": "attn",
            "mha": "attn", "totokens": "totokens", "unpatch": "unpatch", "wattn": "wattn", "merge": "merge"}


WRITTEN = {"router": "moe"}  # kinds whose options are written on another word: moe8[top=2](...)


def option_name(kind: str, written: str) -> str:
    """The canonical option a written name means for this kind, or raise OptionError."""
    accepted, kind = KINDS[kind].options, WRITTEN.get(kind, kind)
    for name in accepted:
        if written == name or written in OPTIONS[name].aliases:
            return name
    if accepted:
        listed = ", ".join(f"{n} ({OPTIONS[n].meaning})" for n in accepted)
        raise LayerProblem(f"unknown option '{written}' for {kind}; it accepts: {listed}", OptionError)
    raise LayerProblem(f"{kind} takes no options, got '{written}'", OptionError)


def parse_option(kind: str, written: str, value) -> tuple:
    name = option_name(kind, written)
    parsed = OPTIONS[name].parse(value, name)
    if name == "bias" and not isinstance(parsed, bool) and kind != "attn":
        raise LayerProblem(f"bias={parsed} names attention's projections; {kind} takes bias=true or false",
                           OptionError)
    return name, parsed


def _wrong_input(kind: str, given: str) -> str:
    takes = " or ".join(LAYOUT_NAMES[name] for name in ("spatial", "flat", "tokens", "ids") if name in KINDS[kind].inputs)
    hint = {"ids": "; token ids become tokens through an embedding first: embed50257-768",
            "tokens": "; on tokens, layers act per token (fc, layernorm, gelu, dropout) or across them (attn)"}
    if kind == "embed" and given == "flat":  # `input T embed…`: the word tokens forgotten
        hint["flat"] = "; a sequence of N token ids is written input N tokens"
    return f"{kind} takes {takes}, not {LAYOUT_NAMES[given]}{hint.get(given, '')}"


@lru_cache(maxsize=8192, typed=True)  # typed: N×D tokens are not the C×L tuple they equal
def evaluate(kind: str, params: tuple, shape: tuple, defaults: Defaults) -> LayerResult:
    """Evaluate one layer on one input shape; cached, as deep nets repeat layers."""
    needs = Needs()
    if layout(shape) not in KINDS[kind].inputs:
        raise LayerProblem(_wrong_input(kind, layout(shape)))
    result = KINDS[kind].evaluate(dict(params), shape, defaults, needs)
    module = dimensional(KINDS[kind].module, shape)  # Conv1d, BatchNorm3d, … off C×H×W
    if not result.module and module != KINDS[kind].module:
        result = replace(result, module=module)
    return replace(result, requires=tuple(needs.open)) if needs.open else result
