"""Layer options as written in brackets: each option's aliases and how its value is read.

A written option value is one of: ("flag", None) for a bare `[ceil]`, ("number", expr),
("tuple", (a, b) or (a, b, c)), ("decimal", Rational), ("word", str).  A value given per
spatial axis is kept as written, one value for every axis or one per axis, and spread over
the input's axes where the layer meets it (for_axes).  Each parser returns the value a
layer kind uses, or raises OptionError (through LayerProblem) saying what the option takes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from symcount.errors import OptionError
from symcount.layers import arithmetic as ar
from symcount.layers.requirements import LayerProblem
from symcount.layers.result import per_axis

PADDING_WORDS = ("half", "same", "valid", "full", "causal")
TRUE_WORDS, FALSE_WORDS = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


def truth(word) -> bool | None:
    """True or False for a written yes/no (true, yes, on, 1; false, no, off, 0), else None."""
    word = str(word).strip().lower()
    return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None


def _axes(value, what):
    form, v = value
    if form == "number":
        return (v,)
    if form == "tuple":
        return v
    raise LayerProblem(f"{what} takes a number, {{expression}} or one per axis, (h, w) or (d, h, w)", OptionError)


def _single(value, what):
    form, v = value
    if form == "number":
        return v
    raise LayerProblem(f"{what} takes a number or {{expression}}", OptionError)


def _padding(value, what):
    form, v = value
    if form == "word":
        if v in PADDING_WORDS:
            return v
        raise LayerProblem(f"{what} takes a number, one per axis ((h, w) or (d, h, w)) or one of "
                           f"{', '.join(PADDING_WORDS)}; got '{v}'", OptionError)
    return _axes(value, what)


def _flag(value, what):
    form, v = value
    if form == "flag":
        return True
    if form == "word" and truth(v) is not None:
        return truth(v)
    if form == "number" and v in (0, 1):
        return bool(v)
    raise LayerProblem(f"{what} takes true or false", OptionError)


def _bias(value, what):
    """true or false; on attention, the projections that have one: bias=qkv (Qwen2: not the output)."""
    form, v = value
    if form == "word" and truth(v) is None and v and set(v.lower()) <= set("qkvo") and len(set(v)) == len(v):
        return "".join(p for p in "qkvo" if p in v.lower())
    try:
        return _flag(value, what)
    except LayerProblem:
        raise LayerProblem("bias takes true or false (on attention also the projections that have one, from q, k, "
                           "v and o: bias=qkv)", OptionError) from None


def _rule(value, what):
    form, v = value
    if form == "word" and v in ar.RULES:
        return v
    raise LayerProblem(f"{what} takes one of {', '.join(ar.RULES)}", OptionError)


PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _padding_mode(value, what):
    form, v = value
    if form == "word" and v in PADDING_MODES:
        return v
    raise LayerProblem(f"{what} takes one of {', '.join(PADDING_MODES)} (PyTorch's padding_mode)", OptionError)


UPSAMPLING_MODES = ("nearest", "bilinear")


def _mode(value, what):
    form, v = value
    if form == "word" and v in UPSAMPLING_MODES:
        return v
    raise LayerProblem(f"{what} takes one of {', '.join(UPSAMPLING_MODES)} (PyTorch's nn.Upsample mode)",
                       OptionError)


SE_ACTIVATIONS = {"relu": "relu", "silu": "silu", "swish": "silu", "hardswish": "hardswish"}
SE_GATES = {"sigmoid": "sigmoid", "hardsigmoid": "hardsigmoid"}


def _choice(choices, meaning):
    def parse(value, what):
        form, v = value
        if form == "word" and v in choices:
            return choices[v]
        raise LayerProblem(f"{what} takes one of {', '.join(choices)} ({meaning})", OptionError)
    return parse


def _rate(value, what):
    form, v = value
    if form in ("decimal", "number") and 0 <= v <= 1:
        return v
    raise LayerProblem(f"{what} takes a rate between 0 and 1", OptionError)


@dataclass(frozen=True)
class OptionSpec:
    name: str
    aliases: tuple
    parse: Callable
    meaning: str


OPTIONS = {spec.name: spec for spec in (
    OptionSpec("pad", ("p", "padding"), _padding, "padding per side: n, (h, w), (d, h, w), half, same, valid, "
                                                  "full or causal"),
    OptionSpec("stride", ("s",), _axes, "stride: n, (h, w) or (d, h, w)"),
    OptionSpec("dilation", ("d",), _axes, "dilation: n, (h, w) or (d, h, w)"),
    OptionSpec("groups", ("g",), _single, "groups: must divide the input and output channels"),
    OptionSpec("bias", ("b",), _bias, "whether the layer has biases (attention: or which projections, bias=qkv)"),
    OptionSpec("ceil", ("ceil_mode",), _flag, "round the output size up (PyTorch ceil_mode)"),
    OptionSpec("round", ("rounding",), _rule, "rounding rule of the output size: floor, exact, ceil or caffe"),
    OptionSpec("affine", (), _flag, "whether the normalisation has trainable γ and β (bn: yes by default, "
                                    "instancenorm: no, as in PyTorch)"),
    OptionSpec("rate", ("p",), _rate, "dropout rate (does not change any count)"),
    OptionSpec("slope", ("negative_slope",), _rate, "negative slope of a leaky ReLU (does not change any count)"),
    OptionSpec("padding_mode", ("padmode",), _padding_mode,
               "what the padding holds: zeros, reflect, replicate or circular (no count changes)"),
    OptionSpec("functional", (), _flag, "the model calls it as a function (F.relu, F.adaptive_avg_pool2d), "
                                        "not a module: thop and ptflops count such calls otherwise"),
    OptionSpec("mean", (), _flag, "the model averages with a tensor method, x.mean([2, 3]) (torchvision's "
                                  "ShuffleNet v2), not a module or a functional call: the output is C, and no "
                                  "counting tool sees it"),
    OptionSpec("channelwise", ("channels",), _flag, "a PReLU slope per channel (C parameters), not one shared"),
    OptionSpec("scale", ("factor", "scale_factor"), _axes, "upsampling factor: n or one per axis, whole numbers"),
    OptionSpec("size", (), _axes, "output size of an upsampling or a crop: n or one per axis"),
    OptionSpec("by", ("margin",), _axes, "a crop's margin, taken off both sides: n or one per axis"),
    OptionSpec("mode", (), _mode, "upsampling mode: nearest (the default) or bilinear"),
    OptionSpec("squeeze", ("s",), _single, "squeeze-and-excitation: the channels it squeezes to"),
    OptionSpec("reduction", ("r",), _single, "squeeze-and-excitation: squeeze to C/r channels"),
    OptionSpec("act", ("activation",), _choice(SE_ACTIVATIONS, "the activation after the squeeze"),
               "squeeze-and-excitation: relu (the default), silu or hardswish after the squeeze"),
    OptionSpec("gate", (), _choice(SE_GATES, "the gate"), "squeeze-and-excitation: sigmoid (the default) or "
                                                           "hardsigmoid"),
    OptionSpec("trailing", ("last",), _flag, "normalise over the trailing dimension (nn.LayerNorm(W)), "
                                             "not over the channels at each position"),
    OptionSpec("channels_last", ("linear",), _flag, "the model runs it on a channels-last tensor, as nn.Linear "
                                                    "(conv1) or nn.LayerNorm over the channels (ConvNeXt's blocks)"),
    OptionSpec("causal", ("is_causal",), _flag, "attention masked to earlier tokens (no count changes: PyTorch "
                                                "computes the whole N×N product)"),
    OptionSpec("memory", ("kv",), _single, "cross-attention: the number of tokens keys and values come from"),
    OptionSpec("kdim", ("memory_width",), _single, "cross-attention: the width of the tokens keys and values come "
                                                   "from (the token width by default)"),
    OptionSpec("kv_heads", ("kvheads", "num_key_value_heads"), _single, "grouped-query attention: the key/value "
               "heads, which divide the heads (1: multi-query)"),
    OptionSpec("head_dim", ("head_size",), _single, "attention: the size of each head (the token width over the "
                                                    "heads by default)"),
    OptionSpec("rope", ("rotary",), _flag, "attention with rotary positions on its queries and keys (no parameters, "
                                           "no MACs)"),
    OptionSpec("alibi", (), _flag, "attention with linear biases by distance (ALiBi; BLOOM, MPT): no parameters, "
                               "no MACs"),
    OptionSpec("window", ("sliding_window",), _single, "attention to the last w tokens only (Mistral); PyTorch "
               "computes the whole product under a mask, so no count changes"),
    OptionSpec("dropout", ("attn_pdrop", "attention_dropout"), _rate, "attention: dropout on the attention "
               "probabilities at this rate, in training (no count changes; what the backward pass keeps does)"),
    OptionSpec("fixed", ("sinusoidal",), _flag, "a fixed (sinusoidal) position embedding, with no parameters"),
    OptionSpec("frozen", (), _flag, "a position table stored but not trained (Whisper's encoder in Hugging Face's "
                                    "code): its values are non-trainable"),
    OptionSpec("cross", (), _flag, "cross-attention to the first stack's output (an encoder–decoder's): keys and "
                                   "values from its M tokens of width E"),
    OptionSpec("relative", ("buckets", "relative_positions"), _single, "a learned bias per head for each of R "
               "relative positions (T5: 32 buckets; Swin: (2M − 1)² offsets): R·h weights"),
    OptionSpec("tied", ("shared",), _flag, "the weights are an embedding's before it (GPT-2's output layer, T5's "
                                           "decoder embedding), counted once there"),
    OptionSpec("top", ("k", "topk", "top_k"), _single, "a mixture of experts: the experts each token is routed to"),
    OptionSpec("shared", ("shared_experts",), _single, "a mixture of experts: experts every token passes through, "
                                                       "besides the routed ones (0 by default)"),
    OptionSpec("kv_rank", ("kv_lora_rank", "latent"), _single, "latent attention (DeepSeek-V2, V3): the rank d_c of "
               "the latent keys and values are rebuilt from"),
    OptionSpec("q_rank", ("q_lora_rank",), _single, "latent attention: the rank d_c' the queries are compressed to "
                                                    "(none: projected directly)"),
    OptionSpec("rope_dim", ("qk_rope_head_dim",), _single, "latent attention: the rotary features d_h^R of each "
               "query head and of the one key all heads share"),
    OptionSpec("v_dim", ("v_head_dim",), _single, "latent attention: the size of each head's values (head_dim "
                                                  "by default)"),
    OptionSpec("shift", ("shifted",), _flag, "window attention on windows shifted by half a window (Swin's odd "
                                             "blocks): the map is rolled and the scores masked, no count changes"),
    OptionSpec("output_padding", ("op", "outpad"), _axes,
               "extra size on one side of a transposed convolution's output: n or one per axis"),
)}


# Values given per spatial axis, and what an error calls them.
AXIS_VALUES = {"kernel": "the kernel", "stride": "the stride", "dilation": "the dilation", "pad": "the padding",
               "output_padding": "the output padding", "scale": "the factor", "size": "the size", "by": "the margin"}


def for_axes(params: dict, axes: int) -> dict:
    """The per-axis values spread over `axes` spatial axes (an OptionError where they do not fit)."""
    spread = dict(params)
    for name, what in AXIS_VALUES.items():
        if isinstance(spread.get(name), tuple):
            spread[name] = per_axis(spread[name], axes, what)
    return spread
