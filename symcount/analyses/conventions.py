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

from symcount.errors import SymcountError

ACTIVATIONS = frozenset({"relu", "relu6", "lrelu", "tanh", "sigmoid", "softmax"})
POOLING = frozenset({"maxpool", "avgpool", "gap", "adaptiveavgpool", "adaptivemaxpool"})
NORMALISATION = frozenset({"bn", "instancenorm"})
INSTANCE = frozenset({"instancenorm"})


@dataclass(frozen=True)
class Rule:
    """kinds cost `factor` × the elements of their input or output (per row), or
    `affine_factor` for a layer with parameters (an affine normalisation) where given."""
    kinds: frozenset
    side: str          # "input", "output", or "thop_adaptive" ((prod(in/out) + 1) × output elements)
    factor: int = 1
    affine_factor: int | None = None


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
                               # its "output" positions (weights × H_o·W_o), or "deepspeed" (see below)


CONV_FC = frozenset({"conv", "deconv", "fc"})
# Transposed convolutions, leaky ReLU and instance normalisation: measured with each tool on
# small models (torchinfo 1.8.0, thop 0.1.1.post2209072238, ptflops 0.7.5, fvcore 0.1.5.post20221221,
# calflops 0.3.2, torch 2.15.0; tests/test_conventions.py holds the figures).
PRESETS = {c.name: c for c in (
    Convention("macs", "MACs", "MAC", frozenset(),
               source="symcount's default: multiply-accumulates of convolutions and fully connected layers, "
                      "no bias (docs/conventions.md)"),
    Convention("torchinfo", "Mult-Adds", "MAC", CONV_FC, bn_params=True, transposed="output",
               source="torchinfo 1.8, torchinfo/layer_info.py, LayerInfo.calculate_macs: each parameter "
                      "times the output positions (any class named Conv*, ConvTranspose2d too) or once "
                      "(others); a normalisation costs its parameters"),
    Convention("fvcore", "flops (MACs)", "MAC", frozenset(),
               (Rule(frozenset({"gap", "adaptiveavgpool"}), "input"), Rule(NORMALISATION - INSTANCE, "input", 2),
                Rule(INSTANCE, "input", 4, 5)),
               source="fvcore, fvcore/nn/flop_count.py _DEFAULT_SUPPORTED_OPS and fvcore/nn/jit_handles.py: "
                      "conv_flop_jit, linear/addmm, batchnorm_flop_jit (inference: 2 x input if affine), "
                      "adaptive_avg_pool2d elementwise_flop_counter(1, 0), instance_norm 4 (5 if affine) x "
                      "input; ReLU and max pooling ignored; transposed convolutions on input positions"),
    Convention("thop", "MACs", "MAC", frozenset(),
               (Rule(frozenset({"avgpool"}), "output"), Rule(frozenset({"gap", "adaptiveavgpool"}), "thop_adaptive"),
                Rule(NORMALISATION - INSTANCE, "output", 4), Rule(INSTANCE, "output", 2, 4)), transposed="output",
               source="thop 0.1.1, thop/vision/basic_hooks.py and calc_func.py: count_convNd (no bias), "
                      "count_linear, count_avgpool (output elements), count_adap_avgpool ((kernel + 1) x "
                      "output), count_normalization (2 x elements, x2 if affine); zero_ops for ReLU, max pooling"),
    Convention("ptflops", "MACs", "MAC", CONV_FC,
               (Rule(ACTIVATIONS - {"tanh", "sigmoid", "softmax", "lrelu"}, "output", 2), Rule(POOLING, "input", 2),
                Rule(frozenset({"softmax"}), "input"), Rule(frozenset({"lrelu"}), "output"),
                Rule(NORMALISATION - INSTANCE, "input", 2), Rule(INSTANCE, "input", 1, 2)),
               source="ptflops 0.7.5 (pytorch backend), ptflops/pytorch_ops.py: conv_flops_counter_hook and "
                      "linear_flops_counter_hook (bias included), relu_flops_counter_hook, pool_flops_counter_hook, "
                      "bn_flops_counter_hook; MODULES_MAPPING and FUNCTIONAL_MAPPING both count an nn.ReLU or "
                      "pooling module, which calls the patched F.relu / F.max_pool2d: counted twice (a leaky ReLU "
                      "once); "
                      "deconv_flops_counter_hook: input positions, bias per output element"),
    Convention("deepspeed", "MACs", "MAC", frozenset(), transposed="deepspeed",
               source="DeepSpeed flops profiler (and calflops), deepspeed/profiling/flops_profiler/profiler.py: "
                      "_conv_flops_compute and _linear_flops_compute return (flops, macs); macs have no bias and "
                      "activations, pooling and normalisation have 0 MACs; transposed convolutions: see "
                      "_deepspeed_transposed"),
    Convention("deepspeed_flops", "FLOPs", "FLOP", frozenset({"conv"}),
               (Rule(ACTIVATIONS - {"tanh", "sigmoid"}, "input"), Rule(POOLING, "input"),
                Rule(NORMALISATION - INSTANCE, "input", 2), Rule(INSTANCE, "input", 4, 5)), transposed="deepspeed",
               source="the same file's FLOPs: 2 x MACs, plus a convolution's bias (not a linear layer's), "
                      "the input elements of _relu_flops_compute, _pool_flops_compute, _softmax_flops_compute, "
                      "2 x the input of _batch_norm_flops_compute (inference, affine), 4 (5 if affine) x the input of "
                      "_instance_norm_flops_compute; _conv_trans_flops_compute: see _deepspeed_transposed"),
    Convention("torch", "FLOPs", "FLOP", frozenset(),
               source="PyTorch, torch/utils/flop_counter.py FlopCounterMode: conv_flop_count and mm/addmm "
                      "flop functions count 2 per multiply-accumulate, no bias, nothing else"),
)}
ALIASES = {"calflops": "deepspeed", "calflops_flops": "deepspeed_flops", "flopcountermode": "torch"}
SWITCHES = ("unit", "bias", "activations", "pooling", "normalization", "fold_bn")


def convention(name: str = "macs", **switches) -> Convention:
    """A preset by name, changed by independent switches:
    unit="MAC"|"FLOP"; bias=True|False (convolutions' and fc layers' bias adds);
    activations, pooling, normalization = True (1 op per output / input element, 2 per
    BatchNorm element) or False (none); fold_bn=True (BatchNorm free, folded into the
    convolution before it)."""
    key = ALIASES.get(str(name).lower(), str(name).lower())
    if key not in PRESETS:
        raise SymcountError(f"unknown convention {name!r}; choose one of {', '.join(PRESETS)} "
                            f"(or {', '.join(ALIASES)})")
    chosen = PRESETS[key]
    unknown = set(switches) - set(SWITCHES)
    if unknown:
        raise SymcountError(f"unknown switch {', '.join(sorted(unknown))}; the switches are {', '.join(SWITCHES)}")
    changes, rules = {}, chosen.rules
    if switches.get("unit") is not None:
        unit = str(switches["unit"]).upper().rstrip("S")
        if unit not in ("MAC", "FLOP"):
            raise SymcountError(f"unit is MAC or FLOP, got {switches['unit']!r}")
        changes["unit"] = unit
    if switches.get("bias") is not None:
        changes["bias"] = CONV_FC if switches["bias"] else frozenset()
    for switch, kinds, rule in (("activations", ACTIVATIONS, Rule(ACTIVATIONS, "output")),
                                ("pooling", POOLING, Rule(POOLING, "input")),
                                ("normalization", NORMALISATION, Rule(NORMALISATION, "input", 2))):
        if switches.get(switch) is not None:
            rules = tuple(replace(r, kinds=r.kinds - kinds) for r in rules if r.kinds - kinds)
            rules += (rule,) if switches[switch] else ()
            if switch == "normalization":
                changes["bn_params"] = False
    if switches.get("fold_bn") is not None:
        changes["fold_bn"] = bool(switches["fold_bn"])
    changed = replace(chosen, rules=rules, **changes)
    if changed != chosen:
        described = ", ".join(f"{k}={v}" for k, v in switches.items() if v is not None)
        changed = replace(changed, name=f"{chosen.name} ({described})")
    return changed


def _elements(shape) -> sympy.Expr:
    return sympy.Mul(*shape)


def _rule_cost(rule: Rule, row) -> sympy.Expr:
    factor = rule.affine_factor if rule.affine_factor is not None and row.params != 0 else rule.factor
    if rule.side == "output":
        return factor * row.activations            # already times the row's count
    if rule.side == "input":
        return factor * _elements(row.input) * row.count
    # thop's count_adap_avgpool: kernel = input size / output size per axis, (prod(kernel) + 1) × output
    kernel = sympy.Mul(*[i / o for i, o in zip(row.input[1:], row.output[1:])])
    return (kernel + 1) * row.activations


def _positions(shape) -> sympy.Expr:
    return sympy.Mul(*shape[1:])


def _deepspeed_transposed(row) -> tuple:
    """DeepSpeed's _conv_trans_flops_compute (calflops copies it), as measured: (MACs, bias adds).
    The MACs per input position use weight.shape[1] // groups = (C_out/g) // g filters per
    channel (a grouped layer loses a factor g, floored), and the bias counts weight.shape[1] =
    C_out/g adds at each position of the *forward* convolution's output, floor((i + 2p - k̂)/s) + 1."""
    geometry = row.transposed
    per_group = row.output[0] / geometry.groups
    macs = _positions(row.input) * sympy.Mul(*geometry.kernel) * row.input[0] * sympy.floor(per_group / geometry.groups)
    sizes = [sympy.floor((i + 2 * p - (d * (k - 1) + 1)) / s) + 1 if p is not None else i  # (pad=same: i)
             for i, k, s, p, d in zip(row.input[1:], geometry.kernel, geometry.stride, geometry.padding,
                                      geometry.dilation)]
    bias = per_group * sympy.Mul(*sizes) if row.biases != 0 else sympy.Integer(0)
    return macs * row.count, bias * row.count


def _transposed_ops(row, chosen: Convention, factor: int) -> sympy.Expr:
    """A transposed convolution's figure: on its input positions (PyTorch), its output
    positions (torchinfo, thop), or as DeepSpeed computes it."""
    if chosen.transposed == "deepspeed":
        macs, bias = _deepspeed_transposed(row)
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
    if row.kind == "deconv":
        cost = _transposed_ops(row, chosen, factor)
    else:
        cost = factor * row.macs
    if row.kind != "deconv" and row.kind in chosen.bias and (row.biases != 0 or folded_bias):
        cost += row.activations   # one add per output element
    if row.kind == "bn" and chosen.fold_bn:
        return cost
    if row.kind in NORMALISATION and chosen.bn_params:
        cost += row.params
    for rule in chosen.rules:
        if row.kind in rule.kinds:
            cost += _rule_cost(rule, row)
    return cost


def count(network, chosen: Convention) -> tuple:
    """([figure per layer row], total)."""
    rows = network.layers
    figures = []
    for index, row in enumerate(rows):
        # a BatchNorm folded into the convolution before it turns into that convolution's bias
        folded_bias = chosen.fold_bn and row.kind == "conv" and index + 1 < len(rows) and \
            rows[index + 1].kind == "bn"
        figures.append(row_ops(row, chosen, folded_bias))
    total = sympy.Add(*figures)
    return figures, (total if total.is_number else sympy.expand(total))
