"""How the popular counters count: named presets and independent switches.

Each counter reports one headline figure, and they disagree: on a factor 2 (one
multiply-accumulate or two floating-point operations), on whether a bias add counts, and
on which elementwise layers (activations, pooling, normalisation) cost anything.  A
:class:`Convention` says all of it as data; ``count(network, convention)`` gives each
row's figure and the total, symbolic where the network is.  Every preset names the file
and function of the tool it reproduces (docs/conventions.md), and the VGG-16 figures in tests/test_conventions.py come from
running those tools.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import sympy

from symcount.analyses import token_counting as tc
from symcount.errors import SymcountError
from symcount.layers.kinds import KINDS
from symcount.layers.options import truth
from symcount.layers.result import layout

ACTIVATIONS = frozenset({"relu", "relu6", "lrelu", "tanh", "sigmoid", "softmax", "silu", "hardswish", "hardsigmoid",
                         "gelu", "elu", "mish", "prelu"})
# What each tool charges the newer activations, measured on Conv2d + the module
# (tests/fixtures/counters/activations.json): none of them charges Hardswish, Hardsigmoid or Mish.
PATCHED = frozenset({"silu", "gelu", "elu", "prelu"})  # DeepSpeed and calflops patch F.silu, F.gelu, F.elu
                                                       # and F.prelu
POOLING = frozenset({"maxpool", "avgpool", "gap", "adaptiveavgpool", "adaptivemaxpool"})
NORMALISATION = frozenset({"bn", "instancenorm"})
# GroupNorm and LayerNorm, by the module a row is (the tools tell torchvision's LayerNorm2d, an
# nn.LayerNorm subclass, from nn.LayerNorm itself); measured like the activations above.
LATER_NORMS = frozenset({"groupnorm", "layernorm"})
NORM_MODULES = frozenset({"GroupNorm", "LayerNorm2d", "LayerNorm"})
# nn.Upsample, by mode and by whether it was given a factor or a size (measured as above).
NEAREST = frozenset({"Upsample", "Upsample(size)"})
BILINEAR = frozenset({"Upsample(bilinear)", "Upsample(size, bilinear)"})
SIZED = frozenset({"Upsample(size)", "Upsample(size, bilinear)"})
INSTANCE = frozenset({"instancenorm"})
# Layers the model computes with a tensor method (x.mean([2, 3])): no hook sees them and no traced
# operator of any tool measured is charged for them (fvcore lists aten::mean as unsupported).
UNSEEN = frozenset({"TensorMean"})
CALLABLE = ACTIVATIONS | POOLING  # kinds a model may call as a function (F.relu) or as a module (nn.ReLU)


@dataclass(frozen=True)
class Rule:
    """kinds cost `factor` × the elements of their input or output (per row), or
    `affine_factor` for a layer with parameters (an affine normalisation) where given, or
    `functional_factor` for a layer the model calls as a function (F.relu, not nn.ReLU).
    side: "input", "output", "params" (the layer's parameters, once), "positions" (output H·W), "thop_adaptive"
    ((prod(in/out) + 1) × output elements),
    "thop_softmax" ((3n - 1) per softmax over n channels) or "lrn" (the elementwise
    operations LocalResponseNorm(5) is made of: 3 × input + the channel-padded input)."""
    kinds: frozenset
    side: str
    factor: int = 1
    affine_factor: int | None = None
    functional_factor: int | None = None


@dataclass(frozen=True)
class Convention:
    name: str
    label: str              # what the tool calls its figure
    unit: str               # "MAC" or "FLOP": a convolution's or linear layer's multiply-accumulate is 1 or 2
    bias: frozenset         # layer kinds whose bias add counts (one per output element)
    rules: tuple = ()       # elementwise costs, a tuple of Rule
    bn_params: bool = False  # torchinfo: BatchNorm costs its parameter count
    fold_bn: bool = False   # BatchNorm folded into the convolution before it: no cost of its own
    source: str = ""
    transposed: str = "input"  # a transposed convolution's MACs on its "input" positions (PyTorch),
                               # its "output" positions (weights × H_o·W_o), or "calflops" (see below)
    functional: frozenset | None = None  # kinds taken as functional calls; None: as each layer is written
    buffers: bool = True    # whether the tool reports BatchNorm's running statistics as non-trainable
    linear: str = "positions"  # an nn.Linear applied at every position (conv1[channels_last]): its MACs at
                               # each "positions", or its "params" once (torchinfo)
    attention: str = "full"    # attention's scores under a causal mask or window: "full" (the masked
                               # product computed whole, as PyTorch does) or "computed" (the kept pairs only)
    scores: bool = True        # whether F.scaled_dot_product_attention's two products are charged
    functional_linear: str = "macs"  # F.linear on a module's own parameters (GPT-2's attention): its "macs",
                                     # "none" (hooks on nn.Linear see none), or "per_token_params" (torchinfo)


CONV_FC = frozenset({"conv", "deconv", "fc"})
ROUTER = frozenset({"router"})  # a mixture's router: the softmax over its E scores, one op each (measured)
# Every preset's figure on torchvision's networks, and on small modules for transposed
# convolutions, ReLU6, LRN, softmax and functional calls, was recorded by running the tool
# (tests/fixtures/counters/counts.json, with the versions and the command).
_PTFLOPS = ("ptflops 0.7.5 (pytorch backend), ptflops/pytorch_engine.py patch_functional and "
            "ptflops/pytorch_ops.py: conv_flops_counter_hook and linear_flops_counter_hook (bias included), "
            "bn_flops_counter_hook (2 x input); an nn.ReLU or pooling module is counted by its hook and again by "
            "the patched F.relu / F.max_pool2d it calls (twice), a functional call once; nn.ReLU6 calls "
            "F.hardtanh, which is not patched (once); F.softmax and LRN's Tensor.mul, Tensor.add and "
            "F.avg_pool3d through the patched functions; nn.ELU, nn.GELU and nn.PReLU by their hook and their "
            "patched function (twice), nn.SiLU once, Hardswish, Hardsigmoid and Mish not at all; "
            "deconv_flops_counter_hook: input positions, bias "
            "per output element")
_DEEPSPEED_FLOPS = ("2 x MACs, plus a convolution's bias (not a linear layer's), the input elements of "
                    "_relu_flops_compute (F.relu, F.relu6; nn.ReLU6 calls the unpatched F.hardtanh: 0), "
                    "_pool_flops_compute, _softmax_flops_compute, the patched F.silu, F.gelu, F.elu and F.prelu "
                    "(one per input element; Hardswish, Hardsigmoid and Mish are not patched: 0) and LRN's "
                    "patched Tensor.mul, Tensor.add and F.avg_pool3d, 2 x the input of _batch_norm_flops_compute "
                    "(inference, affine), 4 (5 if affine) "
                    "x the input of _instance_norm_flops_compute")
_ELEMENTWISE_FLOPS = (Rule(frozenset({"relu", "lrelu", "softmax"}) | PATCHED, "input"),
                      Rule(NORM_MODULES, "input", 4, 5), Rule(SIZED, "positions"),
                      Rule(frozenset({"relu6"}), "input", 0, functional_factor=1),
                      Rule(POOLING, "input"), Rule(frozenset({"lrn"}), "lrn"),
                      Rule(NORMALISATION - INSTANCE, "input", 2), Rule(INSTANCE, "input", 4, 5))


def _fvcore(batchnorm: int) -> tuple:
    """fvcore's elementwise rules; BatchNorm costs 2 x input in eval mode, 5 x in train mode."""
    return (Rule(frozenset({"gap", "adaptiveavgpool"}), "input"), Rule(NORMALISATION - INSTANCE, "input", batchnorm),
            Rule(INSTANCE | NORM_MODULES, "input", 4, 5), Rule(NEAREST, "output"), Rule(BILINEAR, "output", 4))


PRESETS = {c.name: c for c in (
    Convention("macs", "MACs", "MAC", frozenset(),
               source="symcount's default: multiply-accumulates of convolutions and fully connected layers, "
                      "no bias (docs/conventions.md)"),
    Convention("torchinfo", "Mult-Adds", "MAC", CONV_FC,
               (Rule(frozenset({"prelu", "rmsnorm", "embed", "pos"}) | LATER_NORMS, "params"),),
               bn_params=True,
               transposed="output", buffers=False, linear="params", scores=False,
               functional_linear="per_token_params",
               source="torchinfo 1.8.0, torchinfo/layer_info.py, LayerInfo.calculate_macs: each parameter "
                      "times the output positions (any class named Conv*, ConvTranspose2d too) or once "
                      "(others, so an nn.Linear applied at every position costs its parameters); a normalisation and a PReLU cost their parameters; its 'Non-trainable params' are "
                      "parameters with requires_grad=False, so BatchNorm's running statistics are not among them"),
    Convention("fvcore", "flops", "MAC", frozenset(), _fvcore(batchnorm=2), scores=False,
               source="fvcore 0.1.5.post20221221 in eval mode, fvcore/nn/flop_count.py _DEFAULT_SUPPORTED_OPS and "
                      "fvcore/nn/jit_handles.py: conv_flop_jit, linear/addmm, batchnorm_flop_jit (eval: 2 x input "
                      "if affine), adaptive_avg_pool2d elementwise_flop_counter(1, 0), instance_norm 4 (5 if "
                      "affine) x input; ReLU, max pooling, softmax and LRN ignored; transposed convolutions on "
                      "input positions"),
    Convention("fvcore_train", "flops", "MAC", frozenset(), _fvcore(batchnorm=5), scores=False,
               source="fvcore as above with the model in train mode: batchnorm_flop_jit counts a BatchNorm "
                      "that updates its running statistics as norm_flop_counter(1), 5 x input"),
    Convention("thop", "MACs", "MAC", frozenset(),
               (Rule(frozenset({"avgpool"}), "output", functional_factor=0),
                Rule(frozenset({"gap", "adaptiveavgpool"}), "thop_adaptive", functional_factor=0),
                Rule(NORMALISATION - INSTANCE, "output", 4), Rule(INSTANCE, "output", 2, 4),
                Rule(frozenset({"softmax"}), "thop_softmax", functional_factor=0),
                Rule(frozenset({"prelu"}), "output"), Rule(frozenset({"LayerNorm"}), "input", 2, 4),
                Rule(NEAREST, "output"), Rule(BILINEAR, "output", 11)),
               transposed="output", scores=False, functional_linear="none",
               source="thop 0.1.1.post2209072238, thop/profile.py register_hooks and thop/vision/basic_hooks.py: "
                      "count_convNd (no bias), count_linear, count_avgpool (output elements), count_adap_avgpool "
                      "((kernel + 1) x output), count_normalization (2 x elements, x2 if affine), count_softmax "
                      "((3n - 1) per softmax over n), count_prelu (output elements); zero_ops for ReLU and max "
                      "pooling; hooks see modules only, "
                      "so a functional call (F.adaptive_avg_pool2d) costs nothing"),
    Convention("ptflops", "MACs", "MAC", CONV_FC,
               (Rule(frozenset({"relu"}), "output", 2, functional_factor=1), Rule(frozenset({"relu6"}), "output"),
                Rule(POOLING, "input", 2, functional_factor=1), Rule(frozenset({"softmax"}), "input"),
                Rule(frozenset({"lrelu", "silu"}), "output"), Rule(frozenset({"elu", "gelu", "prelu"}), "output", 2),
                Rule(frozenset({"GroupNorm"}), "input", 1, 2), Rule(frozenset({"LayerNorm"}), "input"),
                Rule(frozenset({"upsample"}), "output", 2),
                Rule(frozenset({"lrn"}), "lrn"), Rule(ROUTER, "output"),
                Rule(NORMALISATION - INSTANCE, "input", 2), Rule(INSTANCE, "input", 1, 2)),
               scores=False, functional_linear="none", source=_PTFLOPS),
    Convention("deepspeed", "MACs", "MAC", frozenset(),
               source="DeepSpeed 0.19.8 flops profiler, deepspeed/profiling/flops_profiler/profiler.py: "
                      "_conv_flops_compute, _conv_trans_flops_compute and _linear_flops_compute return (flops, "
                      "macs); macs have no bias, transposed convolutions on input positions, and activations, "
                      "pooling and normalisation have 0 MACs"),
    Convention("deepspeed_flops", "FLOPs", "FLOP", frozenset({"conv", "deconv"}),
               _ELEMENTWISE_FLOPS + (Rule((NEAREST | BILINEAR) - SIZED, "output"), Rule(ROUTER, "output")),
               source="the same file's FLOPs: " + _DEEPSPEED_FLOPS + "; a transposed convolution's bias per output "
                      "element"),
    Convention("calflops", "MACs", "MAC", frozenset(), transposed="calflops", scores=False,
               source="calflops 0.3.2, calflops/pytorch_ops.py, DeepSpeed's profiler before its fixes: the same "
                      "MACs as deepspeed except transposed convolutions (see _calflops_transposed)"),
    Convention("calflops_flops", "FLOPs", "FLOP", frozenset({"conv"}),
               _ELEMENTWISE_FLOPS + (Rule((NEAREST | BILINEAR) - SIZED, "input"), Rule(ROUTER, "output")),
               transposed="calflops", scores=False,
               source="calflops 0.3.2's FLOPs: " + _DEEPSPEED_FLOPS + "; _conv_trans_flops_compute: see "
                      "_calflops_transposed"),
    Convention("torch", "FLOPs", "FLOP", frozenset(),
               source="PyTorch, torch/utils/flop_counter.py FlopCounterMode: conv_flop_count and mm/addmm "
                      "flop functions count 2 per multiply-accumulate, no bias, nothing else"),
)}
ALIASES = {"flopcountermode": "torch"}
SWITCHES = ("unit", "bias", "activations", "pooling", "normalization", "fold_bn", "functional", "attention")
ATTENTION = ("full", "computed")


def _flag(switch, value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and truth(value) is not None:
        return truth(value)
    raise SymcountError(f"the switch {switch} is true or false, got {value!r}")


def _functional(value) -> frozenset:
    """'none', 'all', or a comma-separated list of layer kinds called as functions."""
    words = [w.strip().lower() for w in str(value).split(",") if w.strip()]
    if words == ["none"]:
        return frozenset()
    if words == ["all"]:
        return CALLABLE
    unknown = [w for w in words if w not in CALLABLE]
    if unknown or not words:
        raise SymcountError(f"the switch functional is none, all or a list of {', '.join(sorted(CALLABLE))}; "
                            f"got {value!r}")
    return frozenset(words)


def convention(name: str = "macs", **switches) -> Convention:
    """A preset by name, changed by independent switches:
    unit="MAC"|"FLOP"; bias=True|False (convolutions' and fc layers' bias adds);
    activations, pooling, normalization = True (1 op per output / input element, 2 per
    BatchNorm element) or False (none); fold_bn=True (BatchNorm free, folded into the
    convolution before it); functional="none"|"all"|"relu,gap" (which activation and
    pooling layers the model calls as functions, whatever the notation's [functional]);
    attention="full"|"computed" (a causal or windowed attention's masked scores counted or not)."""
    key = ALIASES.get(str(name).lower(), str(name).lower())
    if key not in PRESETS:
        raise SymcountError(f"unknown convention {name!r}; choose one of {', '.join(PRESETS)} "
                            f"(or {', '.join(ALIASES)})")
    chosen = PRESETS[key]
    unknown = set(switches) - set(SWITCHES)
    if unknown:
        raise SymcountError(f"unknown switch {', '.join(sorted(unknown))}; the switches are {', '.join(SWITCHES)}")
    switches = {k: v for k, v in switches.items() if v is not None}
    changes, rules = {}, chosen.rules
    if "unit" in switches:
        unit = str(switches["unit"]).upper().rstrip("S")
        if unit not in ("MAC", "FLOP"):
            raise SymcountError(f"unit is MAC or FLOP, got {switches['unit']!r}")
        changes["unit"] = unit
    if "bias" in switches:
        changes["bias"] = CONV_FC if _flag("bias", switches["bias"]) else frozenset()
    for switch, kinds, rule in (("activations", ACTIVATIONS, Rule(ACTIVATIONS, "output")),
                                ("pooling", POOLING, Rule(POOLING, "input")),
                                ("normalization", NORMALISATION | LATER_NORMS | NORM_MODULES,
                                 Rule(NORMALISATION | LATER_NORMS, "input", 2))):
        if switch in switches:
            on = _flag(switch, switches[switch])
            rules = tuple(replace(r, kinds=r.kinds - kinds) for r in rules if r.kinds - kinds)
            rules += (rule,) if on else ()
            if switch == "normalization":
                changes["bn_params"] = False
    if "fold_bn" in switches:
        changes["fold_bn"] = _flag("fold_bn", switches["fold_bn"])
    if "functional" in switches:
        changes["functional"] = _functional(switches["functional"])
    if "attention" in switches:
        if str(switches["attention"]).lower() not in ATTENTION:
            raise SymcountError(f"the switch attention is full (the masked scores computed too, as PyTorch does) or "
                                f"computed (a causal or banded kernel's), got {switches['attention']!r}")
        changes["attention"] = str(switches["attention"]).lower()
    changed = replace(chosen, rules=rules, **changes)
    if changed != chosen or switches:
        described = ", ".join(f"{k}={v}" for k, v in switches.items())
        changed = replace(changed, name=f"{chosen.name} ({described})")
    return changed


def _elements(shape) -> sympy.Expr:
    return sympy.Mul(*shape)


def _called(row, chosen: Convention) -> bool:
    """Whether the model calls this layer as a function (F.relu) rather than a module."""
    return row.functional if chosen.functional is None else row.kind in chosen.functional


def _rule_cost(rule: Rule, row, chosen: Convention) -> sympy.Expr:
    factor = rule.affine_factor if rule.affine_factor is not None and row.params != 0 else rule.factor
    if rule.functional_factor is not None and _called(row, chosen):
        factor = rule.functional_factor
    if rule.side == "output":
        return factor * row.activations            # already times the row's count
    if rule.side == "input":  # k + s passes in a mixture's experts
        return factor * _elements(row.input) * row.count * (tc.uses(row) if layout(row.output) == "tokens" else 1)
    if rule.side == "params":
        return factor * row.params   # already times the row's count
    if rule.side == "positions":     # DeepSpeed's and calflops' upsampling to a size: prod(size), channels ignored
        return factor * _positions(row.output) * row.count
    if rule.side == "lrn":  # x·x, pad channels by 2 and 2 then avg_pool3d, ·alpha, +k (torch.nn.functional.local_response_norm)
        padded = (row.input[0] + 4) * _positions(row.input) if len(row.input) >= 2 else _elements(row.input)
        return factor * (3 * _elements(row.input) + padded) * row.count
    if rule.side == "thop_softmax":  # exp, sum and divide over the n channels at each position: 3n - 1
        if layout(row.input) == "tokens":  # over each token's D features
            return factor * (3 * row.input[1] - 1) * row.input[0] * row.count
        return factor * (3 * row.input[0] - 1) * (_positions(row.input) if len(row.input) >= 2 else 1) * row.count
    # thop's count_adap_avgpool: kernel = input size / output size per axis, (prod(kernel) + 1) × output
    # (an output without its spatial axes, gap[mean]'s C, is C×1×1 to the module)
    outputs = tuple(row.output[1:]) + (1,) * (len(row.input) - len(row.output))
    kernel = sympy.Mul(*[i / o for i, o in zip(row.input[1:], outputs)])
    return factor * (kernel + 1) * row.activations


def _positions(shape) -> sympy.Expr:
    return sympy.Mul(*shape[1:])


def _calflops_transposed(row) -> tuple:
    """calflops 0.3.2's _conv_trans_flops_compute (DeepSpeed's before its fix), as measured: (MACs, bias adds).
    The MACs per input position use weight.shape[1] // groups = (C_out/g) // g filters per
    channel (a grouped layer loses a factor g, floored), and the bias counts weight.shape[1] =
    C_out/g adds at each position of the *forward* convolution's output, floor((i + 2p - k̂)/s) + 1."""
    geometry = row.transposed
    per_group = row.output[0] / geometry.groups
    macs = _positions(row.input) * sympy.Mul(*geometry.kernel) * row.input[0] * sympy.floor(per_group / geometry.groups)
    sizes = [sympy.floor((i + 2 * p - (d * (k - 1) + 1)) / s) + 1
             for i, k, s, p, d in zip(row.input[1:], geometry.kernel, geometry.stride, geometry.padding,
                                      geometry.dilation)]
    bias = per_group * sympy.Mul(*sizes) if row.biases != 0 else sympy.Integer(0)
    return macs * row.count, bias * row.count


def _transposed_ops(row, chosen: Convention, factor: int) -> sympy.Expr:
    """A transposed convolution's figure: on its input positions (PyTorch), its output
    positions (torchinfo, thop), or as calflops computes it."""
    if chosen.transposed == "calflops":
        macs, bias = _calflops_transposed(row)
        return factor * macs + (bias if "conv" in chosen.bias else 0)
    if chosen.transposed == "output":
        cost = factor * row.weights * _positions(row.output)
    else:
        cost = factor * row.macs
    if row.kind in chosen.bias and row.biases != 0:
        cost += row.activations
    return cost


def row_ops(row, chosen: Convention, folded_bias: bool = False) -> sympy.Expr:
    """One row's figure under a convention (the row's count included)."""
    factor = 2 if chosen.unit == "FLOP" else 1
    kind = "fc" if row.module == "Linear" else row.kind  # conv1[channels_last] is an nn.Linear
    if row.kind == "attn" and chosen.name.split(" ")[0] != "macs":
        return tc.attention_ops(row, chosen, factor)
    if kind == "fc" and chosen.linear == "params":
        return tc.linear_params(row)
    if row.kind == "deconv":
        cost = _transposed_ops(row, chosen, factor)
    else:
        cost = factor * (row.macs - row.masked if chosen.attention == "computed" else row.macs)
    if row.kind != "deconv" and kind in chosen.bias and (row.biases != 0 or folded_bias):
        cost += row.activations   # one add per output element
    if row.kind == "bn" and chosen.fold_bn:
        return cost
    if row.kind in NORMALISATION and chosen.bn_params:
        cost += row.params
    names = {row.kind, row.module or (KINDS[row.kind].module if row.kind in KINDS else "")}
    if row.module in UNSEEN and chosen.functional is None:  # the switch functional decides instead
        return cost
    for rule in chosen.rules:
        if names & rule.kinds:
            cost += _rule_cost(rule, row, chosen)
    return cost


def count(network, chosen: Convention) -> tuple:
    """([figure per layer row], total)."""
    rows = network.layers
    if chosen.name.split(" ")[0] != "macs":
        tc.check_measured(rows, chosen)
    figures = []
    for index, row in enumerate(rows):
        # a BatchNorm folded into the convolution before it turns into that convolution's bias
        folded_bias = chosen.fold_bn and row.kind == "conv" and index + 1 < len(rows) and \
            rows[index + 1].kind == "bn"
        figures.append(row_ops(row, chosen, folded_bias))
    total = sympy.Add(*figures)
    return figures, (total if total.is_number else sympy.expand(total))
