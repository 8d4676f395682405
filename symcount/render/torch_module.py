"""PyTorch source for a network: `symcount export --to torch`, `Network.to_torch()`.

The exporter walks the parsed notation as the network builder does, with the same layer
evaluation, and writes one `nn` module per layer: every number a module needs (channels,
in-features, kernel, stride, padding) comes from symcount's own evaluation, so the module
runs to the shapes and parameter counts of symcount's table.  What PyTorch cannot express
exactly (a convolution rounded up, a symbolic channel count, asymmetric pooling padding)
is an ExportError naming the layer, never a module that silently disagrees.
"""
from __future__ import annotations

import sympy

from symcount.fragments import layer_params, patched, projection_layers, split_part, split_shares, squeeze_excitation, substitute
from symcount.errors import ExportError, visible
from symcount.joins import MATCHING, ends_in_bare_crop
from symcount.layers import arithmetic as ar
from symcount.layers.kinds import evaluate
from symcount.layers import meeting
from symcount.layers.result import dimensional, layout
from symcount.layers.requirements import LayerProblem
from symcount.notation.spec import Branches, Input, Layer
from symcount.render.torch_tokens import token_modules
from symcount.rows import format_shape

MAX_MODULES = 100_000  # modules written out; a longer network is a runaway repeat
INDENT = "    "


TOKEN_LAYERS = frozenset({"patch", "embed", "pos", "segment", "cls", "clspool", "attn", "totokens"})
ON_TOKENS = frozenset({"fc", "softmax", "gap"})  # kinds whose module is another on tokens (per token, over D)
JOINS = {"res": "Residual", "add": "Add", "cat": "Concat", "mul": "Multiply", "split": "Split"}
ACTIVATIONS = {"relu": "nn.ReLU()", "relu6": "nn.ReLU6()", "tanh": "nn.Tanh()", "sigmoid": "nn.Sigmoid()",
               "softmax": "nn.Softmax(dim=1)", "silu": "nn.SiLU()", "hardswish": "nn.Hardswish()",
               "hardsigmoid": "nn.Hardsigmoid()", "gelu": "nn.GELU()", "elu": "nn.ELU()", "mish": "nn.Mish()"}


def _int(value, what, layer) -> int:
    if not (isinstance(value, sympy.Basic) and value.is_Integer) and not isinstance(value, int):
        raise ExportError(f"{layer.text}: a PyTorch module needs a whole number for {what}, got {value} "
                          "(give the symbols values: --set NAME=VALUE, or net.subs(...))")
    return int(value)


def _axes(values, what, layer) -> str:
    """One value per spatial axis as PyTorch takes it: 3 where every axis has it, else (1, 3, 3)."""
    numbers = [_int(v, what, layer) for v in values]
    return str(numbers[0]) if len(set(numbers)) == 1 else f"({', '.join(map(str, numbers))})"



def _literal(value) -> str:
    """A rate or slope as Python source (exact rationals become decimals)."""
    return repr(float(value))


class _Writer:
    """Walks the spec, keeping the shape, and returns source lines for each item."""

    def __init__(self, network):
        self.network = network
        self.defaults = network.defaults
        self.mapping = network._mapping
        self.helpers: set = set()
        self.modules = 0
        self.memory = None  # the first stack's output shape, where a second input follows it
        self.patched = None  # the map's sizes and the patch of the last patch embedding (for unpatch)

    # ------------------------------------------------------------ walking
    def items(self, items, shape, depth):
        lines, windows = [], []
        for item in items:
            if isinstance(item, Layer) and item.kind == "se":
                try:
                    node = squeeze_excitation(item, shape[0])
                except LayerProblem as problem:
                    raise ExportError(f"{item.text}: {problem}") from None
                more, shape, used = self.branches(node, shape, depth)
            elif isinstance(item, Layer):
                more, shape, used = self.layer(item, shape, depth)
            elif isinstance(item, Branches):
                more, shape, used = self.branches(item, shape, depth)
            elif isinstance(item, Input):
                raise ExportError(f"{item.text}: a second input starts a stack of its own, between top-level "
                                  "layers")
            else:
                more, shape, used = self.repeat(item, shape, depth)
            lines += more
            windows += used
        return lines, shape, windows

    def layer(self, layer, shape, depth):
        params = dict(layer_params(layer.params, self.mapping, shape))
        if layer.kind in ("adaln", "labels"):
            raise ExportError(f"{layer.text}: a conditioning vector's modulation steers the norms and gates of the "
                              "layers after it, which a sequence of modules does not say; it is counted, not exported")
        if layer.kind == "attn" and params.get("cross"):
            params["memory_width"] = self.memory[-1]  # the first stack's token width
        if layer.kind == "patch":
            self.patched = patched(shape, params)
        if layer.kind == "unpatch":
            params.update(self.patched)
        try:
            result = evaluate(layer.kind, tuple(sorted(params.items())), shape, self.defaults)
        except LayerProblem as problem:
            raise ExportError(f"{layer.text}: {problem}") from None
        self.modules += 1
        if self.modules > MAX_MODULES:
            raise ExportError(f"the network has more than {MAX_MODULES:,} modules; export writes every one")
        pad = INDENT * depth
        comment = f"  # {_short(layer.text, 200)}" if layer.text else ""  # one line, whatever the text holds
        modules = self.module(layer, params, shape, result)
        lines = [f"{pad}{code}," for code in modules[:-1]] + [f"{pad}{modules[-1]},{comment}"]
        return lines, result.output, list(result.windows)

    def branches(self, node, shape, depth):
        if node.kind == "side":
            return self.side(node, shape, depth)
        if node.kind == "moe":
            return self.experts(node, shape, depth)
        pad = INDENT * depth
        cropped = [i for i, branch in enumerate(node.branches) if node.kind in MATCHING and ends_in_bare_crop(branch)]
        join = "CroppedJoin" if cropped else JOINS[node.kind]
        self.helpers.update((join, "Crop") if cropped else (join,))
        parts, outputs, all_windows = [], [], []
        shares = split_shares(node, shape, self.mapping) if node.kind == "split" else None
        for index, branch in enumerate(node.branches):
            share = split_part(shape, shares[index]) if shares else shape
            lines, out, windows = self.items(branch[:-1] if index in cropped else branch, share, depth + 2)
            outputs.append(out)
            all_windows += windows
            parts.append(lines)
        if cropped:
            target = next(o for i, o in enumerate(outputs) if i not in cropped)[1:]
            outputs = [o[:1] + target if i in cropped else o for i, o in enumerate(outputs)]
        if node.kind == "res" and len(node.branches) == 1 and outputs[0] != shape:
            # the builder's automatic projection (symcount.builder), with the body's strides
            axes = len(shape) - 1
            strides = [sympy.Mul(*[w.stride for w in all_windows[axis::axes]]) for axis in range(axes)]
            lines, out, windows = self.items(projection_layers(outputs[0][0], strides, node.span), shape, depth + 2)
            parts.append(lines)
            outputs.append(out)
            all_windows += windows
        try:
            taken = meeting.operands(node.kind, outputs)
            output, groups = meeting.join(node.kind, taken)
        except meeting.JoinProblem as problem:
            raise ExportError(f"{node.text}: {problem}") from None
        if any(len(set(group)) > 1 for group in groups):
            raise ExportError(f"{node.text}: its branches' shapes do not meet "
                              f"({', '.join(format_shape(o) for o in outputs)})")
        for part, before, after in zip(parts, outputs, taken):
            if after != before:  # a per-sequence vector, (B, D), multiplies every token as (B, 1, D)
                part.append(f"{INDENT * (depth + 2)}nn.Unflatten(1, (1, {_int(before[0], 'the width', node)})),")
        inner = INDENT * (depth + 1)
        how = f'"{"cat" if node.kind == "cat" else "add"}", ' if cropped else ""
        lines = [f"{pad}{join}({how.rstrip()}  # {_short(node.text)}"]  # two spaces before a comment (PEP 8)
        for part in parts:
            if part:
                lines += [f"{inner}nn.Sequential("] + part + [f"{inner}),"]
            else:
                lines.append(f"{inner}nn.Identity(),")
        if cropped:
            lines.append(f"{inner}crop={tuple(cropped)!r},")
        if node.kind in ("cat", "split") and meeting.feature_axis(shape):
            lines.append(f"{inner}dim=-1,")  # a token's features
        if shares and node.shares is not None:
            lines.append(f"{inner}sizes={[_int(c, 'a split share', node) for c in shares]!r},")
        lines.append(f"{pad}),")
        return lines, output, all_windows

    def side(self, node, shape, depth):
        """side(head): a Side module holding the head; the trunk's shape and strides go on unchanged."""
        self.helpers.add("Side")
        pad, inner = INDENT * depth, INDENT * (depth + 1)
        lines, _, _ = self.items(node.branches[0], shape, depth + 2)
        return [f"{pad}Side(  # {_short(node.text)}", f"{inner}nn.Sequential("] + lines + \
            [f"{inner}),", f"{pad}),"], shape, []

    def experts(self, node, shape, depth):
        """moe(...): a MixtureOfExperts module holding a list of the routed experts and one of the shared."""
        self.helpers.add("MixtureOfExperts")
        params = dict(layer_params(node.router.params, self.mapping, shape))
        experts, top = (_int(params[key], what, node) for key, what in (("experts", "the experts"), ("top", "top")))
        shared = _int(params.get("shared", 0), "the shared experts", node)
        pad, inner = INDENT * depth, INDENT * (depth + 1)
        lines, _, _ = self.items(node.branches[0], shape, depth + 2)
        self.modules += (experts + shared - 1) * len(lines)
        if self.modules > MAX_MODULES:
            raise ExportError(f"the network has more than {MAX_MODULES:,} modules; export writes every one")
        written = [f"{pad}MixtureOfExperts(  # {_short(node.text)}",
                   f"{inner}{_int(shape[-1], 'the width', node)}, top={top},",
                   f"{inner}experts=[nn.Sequential("] + lines + [f"{inner}) for _ in range({experts})],"]
        if shared:
            written += [f"{inner}shared=[nn.Sequential("] + lines + [f"{inner}) for _ in range({shared})],"]
        return written + [f"{pad}),"], shape, []

    def repeat(self, repeat, shape, depth):
        count = substitute(repeat.count, self.mapping)
        passes = _int(count, "the repeat count", repeat)
        lines, windows, done = [], [], 0
        while done < passes:
            one, out, used = self.items(repeat.body, shape, depth + 1)
            windows += used
            if out == shape and passes - done > 1:
                # every later pass is the same modules on the same shape: a loop writes them all
                pad = INDENT * depth
                lines += [f"{pad}*[nn.Sequential(  # {_short(repeat.text)}: {passes - done} passes"] + one + \
                    [f"{pad}) for _ in range({passes - done})],"]
                return lines, shape, windows
            lines += [line[len(INDENT):] for line in one]  # a pass is not a module of its own
            shape, done = out, done + 1
        return lines, shape, windows

    # ------------------------------------------------------------ one layer
    def module(self, layer, params, shape, result) -> list:
        kind = layer.kind
        if kind == "conv":
            return self.conv(layer, params, shape, result)
        if kind == "deconv":
            return [self.deconv(layer, params, shape, result)]
        if kind in ("maxpool", "avgpool"):
            return self.pool(layer, params, shape, result)
        if kind in TOKEN_LAYERS or (kind in ON_TOKENS and layout(shape) == "tokens"):
            return token_modules(layer, params, shape, result, self.helpers, _int)
        if kind == "fc":
            linear = f"nn.Linear({_int(sympy.Mul(*shape), 'the input features', layer)}, " \
                     f"{_int(params['out'], 'the units', layer)}" + \
                     ("" if params.get("bias", True) else ", bias=False") + ")"
            return (["nn.Flatten()"] if len(shape) > 1 else []) + [linear]
        if kind in ("bn", "instancenorm"):
            channels = _int(shape[0], "the channels", layer)
            if kind == "bn":
                name = f"nn.{result.module or 'BatchNorm2d'}"
                return [f"{name}({channels}" + ("" if params.get("affine", True) else ", affine=False") + ")"]
            affine = ", affine=True" if params.get("affine") else ""
            return [f"{dimensional('nn.InstanceNorm2d', shape)}({channels}{affine})"]
        if kind in ("groupnorm", "layernorm", "scale", "rmsnorm"):
            return [self.norm(layer, params, shape, result)]
        if kind == "upsample":
            how = f"size={_axes(params['size'], 'the size', layer)}" if "size" in params else \
                f"scale_factor={_axes(params['scale'], 'the factor', layer)}"
            return [f"nn.Upsample({how}" + (", mode='bilinear'" if params.get("mode") == "bilinear" else "") + ")"]
        if kind == "pixelshuffle":
            return [f"nn.PixelShuffle({_int(params.get('scale', (2, 2))[0], 'the factor', layer)})"]
        if kind == "crop":
            self.helpers.add("Crop")
            how, values = ("size", params["size"]) if "size" in params else ("margin", params["by"])
            return [f"Crop({how}=({', '.join(str(_int(v, 'the ' + how, layer)) for v in values)},))"]
        if kind == "shuffle":
            return [f"nn.ChannelShuffle({_int(params['groups'], 'the groups', layer)})"]
        if kind == "gap" and params.get("mean"):
            self.helpers.add("TensorMean")
            return [f"TensorMean({tuple(range(2, len(shape) + 1))})"]
        if kind == "gap":
            return [f"{dimensional('nn.AdaptiveAvgPool2d', shape)}(1)"]
        if kind in ("adaptiveavgpool", "adaptivemaxpool"):
            name = dimensional("nn.AdaptiveAvgPool2d" if kind == "adaptiveavgpool" else "nn.AdaptiveMaxPool2d", shape)
            return [f"{name}({_axes(params['size'], 'the output size', layer)})"]
        if kind == "flatten":
            return ["nn.Flatten()"]
        if kind == "wattn":
            self.helpers.add("WindowAttention")
            return [f"WindowAttention({_int(shape[0], 'the channels', layer)}, {_int(params['heads'], 'the heads', layer)}, "
                    f"window={_int(params.get('window', 7), 'the window', layer)}"
                    + (", shift=True" if params.get("shift") else "") + ")"]
        if kind == "unpatch":
            self.helpers.add("Unpatch")
            sizes = tuple(_int(v, "the map's size", layer) for v in params["grid"])
            patch = tuple(_int(v, "the patch", layer) for v in params["kernel"])
            return [f"Unpatch({sizes}, {patch})"]
        if kind == "merge":
            self.helpers.add("PatchMerging")
            return [f"PatchMerging({_int(shape[0], 'the channels', layer)})"]
        if kind == "lrn":
            return ["nn.LocalResponseNorm(5)"]  # AlexNet's size; the notation gives none and it counts nothing
        if kind == "lrelu":
            return [f"nn.LeakyReLU({_literal(params['slope'])})" if "slope" in params else "nn.LeakyReLU()"]
        if kind == "prelu":
            return [f"nn.PReLU({_int(shape[0], 'the channels', layer)})" if params.get("channelwise") else "nn.PReLU()"]
        if kind == "dropout":
            return [f"nn.Dropout({_literal(params['rate'])})" if "rate" in params else "nn.Dropout()"]
        return [ACTIVATIONS[kind]]

    def norm(self, layer, params, shape, result) -> str:
        """GroupNorm, LayerNorm (over the channels: the LayerNorm2d helper) and the layer scale."""
        affine = "" if params.get("affine", True) else (", elementwise_affine=False" if layer.kind in ("layernorm",
                                                       "rmsnorm") else ", affine=False")
        if layer.kind == "rmsnorm":
            return f"nn.RMSNorm({_int(shape[-1], 'the width', layer)}{affine})"
        if layer.kind == "layernorm" and not params.get("bias", True):
            affine += ", bias=False"
        if layer.kind == "groupnorm":
            return f"nn.GroupNorm({_int(params['groups'], 'the groups', layer)}, " \
                   f"{_int(shape[0], 'the channels', layer)}{affine})"
        if layer.kind == "scale":
            self.helpers.add("LayerScale")
            if layout(shape) == "tokens":
                return f"LayerScale(({_int(shape[-1], 'the width', layer)},))"
            return f"LayerScale(({_int(shape[0], 'the channels', layer)}{', 1' * (len(shape) - 1)}))"
        helper = result.module
        if params.get("channels_last"):
            self.helpers.add("ChannelsLast")
            return f"ChannelsLast(nn.LayerNorm({_int(shape[0], 'the channels', layer)}{affine}))"
        if helper != "LayerNorm":
            self.helpers.add(helper)
        size = shape[-1] if helper == "LayerNorm" else shape[0]
        return f"{'nn.' if helper == 'LayerNorm' else ''}{helper}({_int(size, 'the normalised size', layer)}" + \
            (affine if layer.kind == "layernorm" else "") + ")"

    def _floor_matches(self, layer, shape, result, ceil=False):
        """Whether PyTorch's rounding (floor, or ceil_mode) gives this layer's output sizes."""
        rule = "ceil" if ceil else "floor"
        for i, o, window in zip(shape[1:], result.output[1:], result.windows):
            if sympy.simplify(ar.output_size(rule, i, window) - o) != 0:
                return False
        return True

    def conv(self, layer, params, shape, result) -> list:
        cin = _int(shape[0], "the input channels", layer)
        if params.get("channels_last"):
            self.helpers.add("ChannelsLast")
            return [f"ChannelsLast(nn.Linear({cin}, {_int(params['out'], 'the filters', layer)}"
                    + ("" if params.get("bias", True) else ", bias=False") + "))"]
        cout = _int(result.output[0], "the filters", layer)
        windows = result.windows
        if not self._floor_matches(layer, shape, result):
            raise ExportError(f"{layer.text}: PyTorch's Conv2d rounds output sizes down, and this layer's "
                              f"rounding gives {format_shape(result.output[1:])}")
        groups = cin if params.get("depthwise") else _int(params.get("groups", 1), "groups", layer)
        kernel = _axes(params["kernel"], "the kernel", layer)
        args = [str(cin), str(cout), f"kernel_size={kernel}"]
        stride = _axes([w.stride for w in windows], "the stride", layer)
        if stride != "1":
            args.append(f"stride={stride}")
        before = [_int(w.before, "the padding", layer) for w in windows]
        after = [_int(w.after, "the padding", layer) for w in windows]
        prefix = []
        mode = params.get("padding_mode", "zeros")
        if before == after:
            if any(before):
                args.append(f"padding={_axes(before, 'the padding', layer)}")
        else:  # TensorFlow's 'same' puts the extra pixel after, causal padding all of it before: pad explicitly
            pad = {"zeros": "nn.ZeroPad2d", "reflect": "nn.ReflectionPad2d", "replicate": "nn.ReplicationPad2d",
                   "circular": "nn.CircularPad2d"}[mode]
            sides = ", ".join(f"{b}, {a}" for b, a in zip(reversed(before), reversed(after)))  # last axis first
            prefix = [f"{dimensional(pad, shape)}(({sides}))"]
            mode = "zeros"
        dilation = _axes(params.get("dilation", (1, 1)), "the dilation", layer)
        if dilation != "1":
            args.append(f"dilation={dilation}")
        if groups != 1:
            args.append(f"groups={groups}")
        if not params.get("bias", True):
            args.append("bias=False")
        if mode != "zeros":
            args.append(f"padding_mode={mode!r}")
        return prefix + [f"{dimensional('nn.Conv2d', shape)}({', '.join(args)})"]

    def deconv(self, layer, params, shape, result) -> str:
        cin = _int(shape[0], "the input channels", layer)
        cout = _int(result.output[0], "the filters", layer)
        geometry = result.transposed
        args = [str(cin), str(cout), f"kernel_size={_axes(geometry.kernel, 'the kernel', layer)}"]
        stride = _axes(geometry.stride, "the stride", layer)
        if stride != "1":
            args.append(f"stride={stride}")
        paddings = [_int(p, "the padding", layer) for p in geometry.padding]
        extras = [_int(extra, "the output padding", layer) for extra in geometry.output_padding]
        for extra, s, d in zip(extras, geometry.stride, geometry.dilation):
            if extra and extra >= max(_int(s, "the stride", layer), _int(d, "the dilation", layer)):
                raise ExportError(f"{layer.text}: this size needs an output_padding of {extra}, which PyTorch "
                                  "refuses (it must be smaller than the stride or the dilation)")
        if any(paddings):
            args.append(f"padding={_axes(paddings, 'the padding', layer)}")
        if any(extras):
            args.append(f"output_padding={_axes(extras, 'the output padding', layer)}")
        groups = _int(geometry.groups, "groups", layer)
        if groups != 1:
            args.append(f"groups={groups}")
        if not params.get("bias", True):
            args.append("bias=False")
        dilation = _axes(geometry.dilation, "the dilation", layer)
        if dilation != "1":
            args.append(f"dilation={dilation}")
        return f"{dimensional('nn.ConvTranspose2d', shape)}({', '.join(args)})"

    def pool(self, layer, params, shape, result) -> list:
        windows = result.windows
        if self._floor_matches(layer, shape, result):
            ceil = False
        elif self._floor_matches(layer, shape, result, ceil=True):
            ceil = True
        else:
            raise ExportError(f"{layer.text}: neither of PyTorch's roundings (floor, ceil_mode) gives this "
                              f"layer's {format_shape(result.output[1:])}")
        before = [_int(w.before, "the padding", layer) for w in windows]
        after = [_int(w.after, "the padding", layer) for w in windows]
        if before != after:
            raise ExportError(f"{layer.text}: PyTorch pools with the same padding on both sides; this one pads "
                              f"{before} before and {after} after")
        kernels = [_int(k, "the kernel", layer) for k in params["kernel"]]
        strides = [_int(w.stride, "the stride", layer) for w in windows]
        args = [_axes(params["kernel"], "the kernel", layer)]
        if strides != kernels:
            args.append(f"stride={_axes(strides, 'the stride', layer)}")
        if any(before):
            args.append(f"padding={_axes(before, 'the padding', layer)}")
        name = dimensional("nn.MaxPool2d" if layer.kind == "maxpool" else "nn.AvgPool2d", shape)
        dilation = _axes(params.get("dilation", (1, 1)), "the dilation", layer)
        if dilation != "1":
            args.append(f"dilation={dilation}")
        if ceil:
            args.append("ceil_mode=True")
        return [f"{name}({', '.join(args)})"]


def _short(text: str, longest: int = 60) -> str:
    """Text for a comment or the docstring: one line, its whitespace runs as one space, every
    other control character as a visible escape (symcount.errors.visible), at most `longest`
    characters.  Python refuses a source with a NUL in it, and a line break would end the comment."""
    text = visible(" ".join(text.split()))
    return text if len(text) <= longest else text[:longest - 1] + "…"
