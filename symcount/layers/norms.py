"""Normalisations and the layer scale: their parameters, and what they need of their input."""
from __future__ import annotations

from symcount import algebra as al

from symcount.errors import OptionError
from symcount.layers.requirements import LayerProblem
from symcount.layers.result import ZERO, LayerResult, layout, spatial


def batchnorm(params, shape, defaults, needs):
    c = shape[0]
    trainable = c if params.get("affine", True) else ZERO
    return LayerResult(tuple(shape), trainable, trainable, 2 * c, ZERO, module="BatchNorm1d" if len(shape) == 1 else "")


def instancenorm(params, shape, defaults, needs):
    """PyTorch's InstanceNorm2d: no parameters unless affine (its default is affine=False,
    track_running_stats=False, as CycleGAN uses it)."""
    c, *sizes = spatial(shape, "instance normalisation")
    # torch.nn.functional._verify_spatial_size: more than one spatial element
    needs.require(al.Mul(*sizes) - 2, "nonnegative",
                  "instance normalisation needs more than one spatial element (PyTorch refuses 1×1)")
    trainable = c if params.get("affine", False) else ZERO
    return LayerResult(tuple(shape), trainable, trainable, ZERO, ZERO)


def groupnorm(params, shape, defaults, needs):
    """PyTorch's GroupNorm(groups, C): γ and β per channel unless affine=false, no running statistics."""
    if "groups" not in params:
        raise LayerProblem("groupnorm needs its group count: groupnorm[groups=32]", OptionError)
    c, groups = shape[0], params["groups"]
    needs.require(groups - 1, "nonnegative", f"groupnorm needs groups >= 1, got {groups}")
    needs.divides(groups, c, f"groupnorm's {groups} groups must divide its {c} channels")
    # torch.nn.functional.group_norm's _verify_batch_size, in training and evaluation alike
    values = c / groups * al.Mul(*shape[1:])
    needs.require(values - 2, "nonnegative", lambda: f"groupnorm needs more than one value per group, as PyTorch "
                  f"does: {groups} groups of " + "×".join(str(d) for d in shape) + f" hold {values} value(s) each")
    trainable = c if params.get("affine", True) else ZERO
    return LayerResult(tuple(shape), trainable, trainable, ZERO, ZERO)


def layernorm(params, shape, defaults, needs):
    """LayerNorm over the channels at each position (torchvision's LayerNorm2d, ConvNeXt) on
    C×H×W, over the trailing dimension with [trailing] (nn.LayerNorm(W)), over a flat N, over
    each token's D on N×D tokens (nn.LayerNorm(D))."""
    trailing = params.get("trailing", False) or len(shape) == 1 or layout(shape) == "tokens"
    if not trailing and not params.get("channels_last") and len(shape) != 3:
        raise LayerProblem("layernorm over the channels at each position is torchvision's LayerNorm2d, on C×H×W; "
                           "on another input write layernorm[trailing] (nn.LayerNorm over the last axis)", OptionError)
    size = shape[-1] if trailing else shape[0]
    trainable = size if params.get("affine", True) else ZERO
    return LayerResult(shape, trainable, trainable if params.get("bias", True) else ZERO, ZERO, ZERO,
                       module="LayerNorm" if trailing or params.get("channels_last") else "LayerNorm2d")


def rmsnorm(params, shape, defaults, needs):
    """RMSNorm over each token's D (Zhang & Sennrich 2019; Llama, T5's layer norm): x / rms(x) · γ,
    a weight per feature and no bias or mean (PyTorch's nn.RMSNorm(D))."""
    return LayerResult(shape, shape[-1] if params.get("affine", True) else ZERO, ZERO, ZERO, ZERO)


def layer_scale(params, shape, defaults, needs):
    """A learned scale per channel (ConvNeXt's layer scale, a C×1×1 parameter multiplying its input),
    per feature on tokens (CaiT's and DeiT III's layer scale, a D-vector)."""
    return LayerResult(shape, shape[-1 if layout(shape) == "tokens" else 0], ZERO, ZERO, ZERO)
