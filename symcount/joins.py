"""Where paths meet: the builder's joins of branches (res, add, cat, mul, split), crops to
a matching size, and side heads that leave the trunk.  A mix-in of symcount.builder.Builder,
which gives it `items`, `layer`, `error`, `rows`, `field` and `requirements`."""
from __future__ import annotations

from symcount import algebra as al

from symcount.analyses import receptive as rf
from symcount.errors import ShapeError
from symcount.fragments import layer_params, projection_layers, split_part, split_shares
from symcount.layers.experts import Experts
from symcount.layers.requirements import LayerProblem, Needs, Requirement
from symcount.layers.meeting import JoinProblem, feature_axis, join, operands
from symcount.layers.result import SPATIAL_SHAPES, has_spatial_axes, layout
from symcount.notation.spec import Branches, Layer
from symcount.rows import format_shape

MISMATCH = {"mul": "branches cannot be multiplied where their sizes differ (each axis must agree or be 1)",
            "cat": "branches with different sizes cannot be concatenated (only the channels, or on tokens each "
                   "token's features, may differ)"}
MISMATCH["split"] = MISMATCH["cat"]
MATCHING = frozenset({"res", "add", "cat"})  # joins whose branches may end in a bare crop


def ends_in_bare_crop(branch) -> bool:
    return bool(branch) and isinstance(branch[-1], Layer) and branch[-1].kind == "crop" and not branch[-1].params


class Joins:
    def branches(self, node: Branches, shape, name=None):
        scope = self.enter(name or node.kind)
        if node.kind == "side":  # the block's rows end in the head's output; the trunk goes on from its input
            self.last_head = self._side(node, shape)
            self.leave(scope, shape, self.last_head)
            return shape
        out = self._experts(node, shape) if node.kind == "moe" else self._branches(node, shape)
        self.leave(scope, shape, out)
        return out

    def _branches(self, node: Branches, shape):
        """Evaluate each branch on the same input (split: on its share of the channels),
        then add, concatenate or multiply the outputs; the receptive field is the largest
        over the paths (Araujo et al. 2019, §3).  A branch ending in a bare crop is cropped
        to the other branches' size once they are built."""
        first = len(self.rows)
        entry, fields, outputs, cropped = self.field, [], [], []
        fork, ends = self.flow.current, []  # the tensor the branches read, and each branch's
        inputs = self._split(node, shape) if node.kind == "split" else [shape] * len(node.branches)
        for index, (branch, share) in enumerate(zip(node.branches, inputs)):
            self.field, self.flow.current = entry, fork
            if node.kind in MATCHING and ends_in_bare_crop(branch):
                cropped.append((index, branch[-1]))
                branch = branch[:-1]
            outputs.append(self.items(branch, share))
            fields.append(self.field)
            ends.append(self.flow.current)
        texts = [" ".join(getattr(i, "text", "") for i in b) or "identity" for b in node.branches]
        if cropped:
            self._crop_to_match(node, cropped, outputs, fields, texts, ends)
        body_field, self.field, self.flow.current = fields[-1], entry, fork
        if node.kind == "res" and len(node.branches) == 1:
            strides = self._shortcut_strides(node, shape, outputs[0], entry, body_field, self.rows[first:])
            outputs.append(shape if strides is None else self.projection(node, shape, outputs[0], strides))
            ends.append(self.flow.current)
        fields.append(self.field)
        if node.kind == "mul":  # a gate from the whole input (squeeze-and-excitation): the local paths' field
            fields = [f for f in fields if f is not None] or [None]
        self.field = rf.widest(fields)
        texts += ["the shortcut"] * (len(outputs) - len(texts))
        return self._join(node, outputs, texts, ends)

    def _join(self, node, outputs, texts, ends):
        """The branches' outputs joined as symcount.layers.meeting says, on their own layout;
        sizes that differ by an expression meet where it is 0, kept as a requirement."""
        try:
            output, groups = join(node.kind, operands(node.kind, outputs))
        except JoinProblem as problem:
            raise self._mismatch(node, str(problem), outputs, texts) from None
        if not all(self._meet(node, [(size,) for size in group]) for group in groups):
            raise self._mismatch(node, MISMATCH.get(node.kind, "branches with different shapes cannot be added"),
                                 outputs, texts)
        self.flow.join(node.kind, ends, output)
        return output

    def _experts(self, node, shape):
        """moe: the router's row, then one expert's rows standing for all of them
        (symcount.layers.experts); each expert gives back its input's shape."""
        if layout(shape) != "tokens":
            raise self.error(ShapeError, f"moe routes each token to its experts: it takes N×D tokens, not "
                             f"{format_shape(shape)}", node)
        if not node.branches[0]:
            raise self.error(ShapeError, "moe needs the layers of one expert: moe8[top=2](fc14336 gelu fc4096)", node)
        fork = self.flow.current
        self.layer(node.router, shape)
        experts = Experts(dict(layer_params(node.router.params, self.mapping, shape)))
        first, self.flow.current = len(self.rows), fork
        out = self.items(node.branches[0], shape)
        if out != shape:
            raise self.error(ShapeError, f"moe: an expert gives {format_shape(out)} from {format_shape(shape)}; the "
                             "experts' outputs are summed in place of the input, so each must keep its shape", node)
        self.rows[first:] = [experts.scaled(row) for row in self.rows[first:]]
        self.flow.join("moe", (fork, self.flow.current), out)
        return out

    def _side(self, node, shape):
        """side(head): the head's rows, counted in the totals, on the trunk's current output,
        and the head's output; the trunk goes on from that output, its receptive field as it was."""
        if not node.branches[0]:
            raise self.error(ShapeError, "side needs the layers of its head: side(gap fc10)", node)
        entry, fork = self.field, self.flow.current
        head = self.items(node.branches[0], shape)
        self.field, self.flow.current = entry, fork
        return head

    def _crop_to_match(self, node, cropped, outputs, fields, texts, ends):
        """Each branch that ends in a bare crop, cropped (centred) to the spatial size of the
        branches that do not: U-Net's copy and crop, valid where the cropped path is at least
        as large."""
        others = [o for i, o in enumerate(outputs) if i not in {index for index, _ in cropped}]
        if not others:
            raise self.error(ShapeError, f"{node.kind}: every branch ends in a bare crop, so there is no size to "
                             "crop to; leave the crop off the branch whose size the others take", node)
        if not _spatial_alike(outputs) or not self._meet(node, [o[1:] for o in others]):
            raise self._mismatch(node, "branches with different sizes cannot be cropped to one size", outputs, texts)
        target = tuple(others[0][1:])
        for index, crop in cropped:
            self.field, self.flow.current = fields[index], ends[index]
            outputs[index] = self.layer(Layer("crop", (("size", target),), crop.text, crop.span), outputs[index])
            fields[index], ends[index] = self.field, self.flow.current

    def _split(self, node, shape) -> list:
        """split: each branch's input, C×H×W (or C×L, C×D×H×W) with its share of the channels:
        equal parts (torch.chunk, ShuffleNet v2's channel split) or the shares written
        (torch.split), which must add up to the channels; on tokens, each token's features.  The
        outputs are concatenated as cat's."""
        if layout(shape) not in ("spatial", "tokens"):
            raise self.error(ShapeError, f"split needs a {SPATIAL_SHAPES} input or N×D tokens, got "
                             f"{format_shape(shape)}", node)
        needs, parts, axis = Needs(), len(node.branches), feature_axis(shape)
        what = "features" if axis else "channels"
        try:
            shares = split_shares(node, shape, self.mapping)
            if node.shares is None:
                needs.divides(parts, shape[axis], f"split into {parts} needs {what} divisible by {parts}, "
                                                  f"got {shape[axis]}")
            else:
                for share in shares:
                    needs.whole(share, f"a split's share of the {what}", 1)
                needs.require(al.Add(*shares) - shape[axis], "zero", f"split's shares "
                              f"{' + '.join(str(s) for s in shares)} must add up to its input's {shape[axis]} {what}")
        except LayerProblem as problem:
            raise self.error(ShapeError, str(problem), node) from None
        self.requirements.extend(needs.open)
        return [split_part(shape, share) for share in shares]

    def _meet(self, node, shapes) -> bool:
        """Whether paths' shapes can meet, compared as values, not as expression trees:
        ceil(H/2 - 1/2) + 1 and floor(H/2) + 1 are one size written two ways.  Sizes that
        differ by a number never meet; sizes that differ by an expression meet where it is
        0, kept as a requirement (the network is valid there, as PyTorch runs it there),
        unless it is 0 at none of a spread of sample points."""
        kept = []
        for shape in shapes[1:]:
            for mine, first in zip(shape, shapes[0]):
                difference = mine - first
                if difference == 0:
                    continue
                if difference.is_number or not _zero_somewhere(difference):
                    return False
                kept.append(Requirement(difference, "zero", f"{node.kind}: the paths' sizes {mine} and {first} "
                                                             "must be equal"))
        self.requirements.extend(kept)
        return True

    def _mismatch(self, node, problem, outputs, texts):
        described = "; ".join(f"branch {i + 1} ({t}) gives {format_shape(o)}"
                              for i, (t, o) in enumerate(zip(texts, outputs)))
        return self.error(ShapeError, f"{node.kind}: {problem}: {described}", node)

    def _shortcut_strides(self, node, shape, output, entry, body_field, body_rows):
        """None for res(body)'s identity shortcut, else the strides of its 1×1 projection.

        As torchvision's ResNet decides its downsample: a projection exactly where the body
        has a stride other than 1 or changes the channels, from the block's structure and
        never from the input size, so a closed form holds at every size (even 1×1)."""
        if not _spatial_alike([shape, output]):
            if output == shape:
                return None
            raise self.error(ShapeError, f"res: the body changes {format_shape(shape)} to {format_shape(output)}; "
                             + (f"an automatic projection needs {SPATIAL_SHAPES} shapes of one rank: write the "
                                "shortcut, res(body | shortcut)" if type(shape) is type(output) and
                                len(shape) == len(output) else
                                "a residual adds its input to the body's output, and the automatic shortcut (the "
                                "identity or a 1×1 projection) keeps the kind of shape: close res( ) before the "
                                "layer that changes the kind (fc, flatten, patch, embed, ...)"), node)
        if any(row.kind == "deconv" for row in body_rows):
            raise self.error(ShapeError, "res: the body holds a transposed convolution, so no strided 1×1 projection "
                             "can match its shape; write the shortcut: res(body | shortcut)", node)
        if isinstance(entry, tuple) and body_field is None and \
                not any(row.kind in rf.GLOBAL_KINDS for row in body_rows):
            entry = None  # a layer mixed windows of positions (wattn): the strides are its layers'
        if isinstance(entry, tuple) and not isinstance(body_field, tuple):
            raise self.error(ShapeError, "res: the body sees its whole input (fc, gap or adaptive pooling), so no "
                             "1×1 projection can match its shape; write the shortcut: res(body | shortcut)", node)
        if isinstance(entry, tuple):
            strides = [after.stride / before.stride for before, after in zip(entry, body_field)]
        else:  # after a global layer the field is gone: multiply the strides of the body's own layers
            strides = [al.Mul(*[row.windows[axis].stride ** row.count for row in body_rows
                                   if row.windows and not row.text.endswith("(projection)")])
                       for axis in range(len(shape) - 1)]
        changes = [s - 1 for s in strides] + [output[0] - shape[0]]
        if any(change.is_zero is False for change in changes):
            return strides
        if all(change.is_zero for change in changes):
            return None
        free = sorted({str(s) for change in changes for s in change.free_symbols})
        raise self.error(ShapeError, f"res: whether the shortcut is the identity or a 1×1 projection depends on "
                         f"{', '.join(free)} (the body has stride {'×'.join(map(str, strides))} and gives {output[0]} "
                         f"channels from {shape[0]}); write the projection, res(body | conv1-{{...}}[bias=false] bn), or "
                         "numbers that decide it", node)

    def projection(self, node: Branches, shape, target, strides):
        """The automatic shortcut of res(body) that changes the shape: a 1×1 convolution
        with the body's stride, without bias, then BatchNorm (ResNet's option B,
        torchvision's downsample)."""
        conv, bn = projection_layers(target[0], strides, node.span)
        out = self.items((conv, bn), shape)
        if not self._meet(node, [target, out]):
            raise self.error(ShapeError, f"res: a 1×1 projection with stride {'×'.join(map(str, strides))} gives "
                             f"{format_shape(out)}, "
                             f"but the body gives {format_shape(target)}; write the shortcut: res(body | shortcut)",
                             node)
        return out



def _spatial_alike(shapes) -> bool:
    """Whether the shapes have channels and the same 1, 2 or 3 spatial axes."""
    return all(len(s) == len(shapes[0]) for s in shapes) and has_spatial_axes(shapes[0])


def _zero_somewhere(difference) -> bool:
    """Whether a difference of two sizes is 0 at some of 64 sample points of its symbols."""
    symbols = sorted(difference.free_symbols, key=lambda s: s.name)
    for k in range(64):
        point = {s: 1 + (k * (2 * j + 3) + j) % 61 + (k // 8) * 61 for j, s in enumerate(symbols)}
        try:
            value = al.replaced(difference, point)
        except ZeroDivisionError:
            continue
        if al.is_number(value) and value == 0:
            return True
    return False
