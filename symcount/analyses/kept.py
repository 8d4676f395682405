"""What a training step keeps of the forward pass for the backward pass, layer by layer, under two
named conventions.  Each tensor is counted once, however many layers keep it: a ReLU keeps its
output, and the convolution after it keeps that as its input, one tensor (symcount.flow says which
tensor each layer reads).

"pytorch": what eager PyTorch autograd saves (torch.autograd.graph.saved_tensors_hooks, measured with
  torch 2.13 on the CPU), for the layers as symcount's export writes them, not in place, in training mode:
  a convolution, a linear layer, GELU, SiLU, ReLU6, average pooling keep their input; ReLU, sigmoid,
  tanh and softmax their output; max pooling its input and an int64 index per output; BatchNorm its
  input and two statistics per channel; LayerNorm its input and two per token; RMSNorm its input, the
  normalised input and one per token (Hugging Face's LlamaRMSNorm, which computes in float32: in 16-bit
  a float32 copy of its input, a float32 number per token and the normalised input); dropout its mask, in the activations' dtype on the CPU; an
  embedding its int64 ids; attention, through scaled_dot_product_attention's default kernel, its
  input, q, k, v (k and v at the query heads where grouped-query heads are repeated by a copy), its
  output and a float32 logsumexp per head and token, and, with rotary positions, one cos and one sin
  table for the whole model; a product of branches (a gated MLP, squeeze-and-excitation) both factors.
"megatron": Korthikanti et al. 2022, §4.1: 16-bit activations and 1-byte dropout masks; a norm, a linear
  layer and an activation keep their input; attention its input, Q, K, V, the softmax's output, the
  attention dropout's mask and output, and the output projection's input (34·s·b·h + 5·a·s²·b a GPT
  layer).  Under tensor parallelism t what lies between the column- and row-parallel layers (attention's
  heads, a wider MLP's activations) is split over t, the rest (tensors of the model's width) only under
  sequence parallelism; selective recomputation drops the N×N terms, full recomputation keeps only the
  input of each pass of the top-level repeats (the transformer layers).
Kinds neither convention has a rule for are refused by name.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from symcount import algebra as al
from symcount.errors import SymcountError
from symcount.flow import VIEWS, is_view
from symcount.layers.result import layout

CONVENTIONS = ("pytorch", "megatron")


class Part(NamedTuple):
    """A tensor a layer keeps of its own: its bytes (one copy), whether tensor parallelism splits it
    (attention's inner tensors), and whether each sample has one (else one for the whole batch)."""
    bytes: object
    inner: bool = False
    per_sample: bool = True


@dataclass(frozen=True)
class Keeps:
    """What one copy of a layer keeps: its input tensor, its output tensor, and Parts of its own."""
    input: bool = False
    output: bool = False
    extra: tuple = ()


@dataclass(frozen=True)
class Dtypes:
    value: int      # bytes of an activation
    mask: int       # bytes of a dropout mask element
    index: int = 8  # int64: token ids, max pooling's indices
    lse: int = 4    # attention's logsumexp, float32


def _elements(shape):
    return al.Mul(*shape)


def _positions(shape):
    """Norm statistics: one per token (or per vector)."""
    return _elements(shape) / shape[-1]


def _attention(row):
    """(N, M, d, heads, key/value heads, head size) of an attention row."""
    options = dict(row.options)
    heads = options["heads"]
    n, d = row.input[0], row.input[1]
    kv = options.get("kv_heads", heads)
    head = options.get("head_dim", d / heads)
    return n, options.get("memory", n), d, heads, kv, head, options


PYTORCH_REFUSED = {"memory": "cross-attention", "kdim": "cross-attention", "cross": "cross-attention",
                   "window": "a sliding window (the mask sends it to another kernel)",
                   "alibi": "ALiBi (the bias sends it to another kernel)",
                   "relative": "relative position biases (the bias sends it to another kernel)",
                   "kv_rank": "latent attention", "dropout": "dropout on the probabilities (the CPU runs it "
                   "in the math kernel, which keeps the N×N probabilities, mask and dropped probabilities)"}


def _pytorch_attention(row, dt):
    n, _, d, heads, kv, head, options = _attention(row)
    for name, what in PYTORCH_REFUSED.items():
        if options.get(name):
            raise SymcountError(f"{row.name}: activations='pytorch' has no measured rule for attention with {what}; "
                                "activations='megatron' counts it")
    if not (al.is_constant(kv) and al.is_constant(heads)) and kv not in (1, heads):
        raise SymcountError(f"{row.name}: whether PyTorch copies the key/value heads ({kv} of {heads}) to the "
                            "heads depends on their values; give them values")
    repeated = heads if kv not in (1, heads) else kv  # repeat_kv copies unless it is a view
    kept = 2 * heads * n * head + 2 * repeated * n * head  # q, output; k, v
    return Keeps(input=True, extra=(Part(dt.value * kept + dt.lse * heads * n, inner=True),))


def _per_token(row):
    """A norm's measured rule holds over each token's (or vector's) features only."""
    if layout(row.input) not in ("tokens", "flat"):
        raise SymcountError(f"{row.name}: activations='pytorch' has a measured rule for a norm over each token's "
                            "or vector's features only, not over a map's channels")


def _layer_norm(row, dt):
    """Its input, and a mean and an inverse deviation per token."""
    _per_token(row)
    return Keeps(input=True, extra=(Part(dt.value * 2 * _positions(row.input)),))


def _rms_norm(row, dt):
    """Hugging Face's LlamaRMSNorm: x in float32 (the input itself when it is float32, else a copy), the
    float32 inverse root per token, and the normalised x in the activations' dtype, which the weight keeps."""
    _per_token(row)
    elements, tokens = _elements(row.input), _positions(row.input)
    if dt.value == 4:
        return Keeps(input=True, extra=(Part(4 * (elements + tokens)),))
    return Keeps(extra=(Part(4 * elements + 4 * tokens + dt.value * elements),))


def _maxpool(row, dt):
    return Keeps(input=True, extra=(Part(dt.index * _elements(row.output)),))


def _adaptive_average(row, dt):
    return Keeps() if all(size == 1 for size in row.output[1:]) else Keeps(input=True)


def _batchnorm(row, dt):
    """Its input, and the batch's mean and inverse deviation per channel."""
    return Keeps(input=True, extra=(Part(dt.value * 2 * row.input[0], per_sample=False),))


def _dropout(row, dt):
    """Its mask; at rate 0 nothing (PyTorch gives back its input)."""
    if is_view(row.kind, row.options):
        return NOTHING
    return Keeps(extra=(Part(dt.mask * _elements(row.input)),))


INPUT, OUTPUT, NOTHING = Keeps(input=True), Keeps(output=True), Keeps()
PYTORCH = {
    **{kind: INPUT for kind in ("conv", "deconv", "fc", "relu6", "lrelu", "elu", "gelu", "silu", "hardswish",
                                "hardsigmoid", "mish", "prelu", "avgpool", "patch", "embed")},
    **{kind: OUTPUT for kind in ("relu", "sigmoid", "tanh", "softmax")},
    **{kind: NOTHING for kind in (*VIEWS, "pos", "cls", "gap", "upsample", "pixelshuffle", "shuffle")},
    "maxpool": _maxpool, "adaptivemaxpool": _maxpool, "adaptiveavgpool": _adaptive_average, "bn": _batchnorm,
    "dropout": _dropout, "attn": _pytorch_attention,
    "layernorm": _layer_norm,
    "rmsnorm": _rms_norm,
}


def _megatron_attention(row, dt, recompute):
    n, m, d, heads, kv, head, options = _attention(row)
    for name in ("kv_rank", "memory", "cross"):
        if options.get(name):
            raise SymcountError(f"{row.name}: activations='megatron' has no rule for "
                                f"{'latent attention' if name == 'kv_rank' else 'cross-attention'}")
    kept = dt.value * (heads * n * head + 2 * kv * m * head + heads * n * head)  # Q; K, V; the output projection's input
    scores = dt.value * heads * n * m  # the softmax's output
    if options.get("dropout"):
        scores += (dt.mask + dt.value) * heads * n * m  # its mask, the dropped probabilities
    return Keeps(input=True, extra=(Part(kept, inner=True),) + (() if recompute == "selective" else
                                                               (Part(scores, inner=True),)))


MEGATRON = {
    **{kind: INPUT for kind in ("layernorm", "rmsnorm", "fc", "gelu", "silu", "relu", "sigmoid", "tanh")},
    **{kind: NOTHING for kind in ("embed", "pos", "clspool", "flatten")},
    "dropout": _dropout,
}
JOINS_KEEPING = frozenset({"mul"})  # a product keeps both factors; a sum or a concatenation nothing


def keeps(row, convention: str, dt: Dtypes, recompute: str = "none") -> Keeps:
    if row.kind == "input":
        return NOTHING
    if convention == "megatron" and row.kind == "attn":
        return _megatron_attention(row, dt, recompute)
    rule = (PYTORCH if convention == "pytorch" else MEGATRON).get(row.kind)
    if rule is None:
        raise SymcountError(f"{row.name}: activations={convention!r} has no rule for what {row.kind} keeps for "
                            f"the backward pass; it has rules for {', '.join(sorted(RULES[convention]))}")
    return rule(row, dt) if callable(rule) else rule


RULES = {"pytorch": set(PYTORCH), "megatron": set(MEGATRON) | {"attn"}}
