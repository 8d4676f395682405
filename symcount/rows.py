"""The table's rows: one Row per layer (or per folded repeat), how rows are named, and how
blocks fold into subtotal rows; shape formatting shared by every renderer."""
from __future__ import annotations

import copy
from dataclasses import dataclass, replace

from symcount import algebra as al

from symcount.layers.result import layout

Expr = object  # an Int, a Rat or a SymPy expression (symcount.algebra)
QUANTITIES = ("weights", "biases", "params", "non_trainable", "activations", "macs")
COUNTED = ("weights", "biases", "non_trainable", "activations", "macs", "idle", "masked", "scores", "cache")  # a Row's stored counts


def dimension_text(dim) -> str:
    """A dimension as text; a sum in parentheses, so 6×(H - 4)×(W - 4) reads as one shape."""
    text = str(dim)
    return f"({text})" if al.is_add(dim) else text


def format_shape(shape, longest: int = 60) -> str:
    """3×224×224, 197×768 tokens; a dimension longer than `longest` characters is cut (error messages)."""
    texts = [dimension_text(d) for d in shape]
    suffix = " tokens" if layout(shape) in ("tokens", "ids") else ""
    return "×".join(t if len(t) <= longest else t[:longest - 1] + "…" for t in texts) + suffix


@dataclass(frozen=True)
class Row:
    """One table row: a layer, or `count` identical layers where a repeat was folded.

    Every count (weights ... macs) is the row's total, i.e. already times ``count``.
    """
    name: str
    kind: str
    text: str
    input: tuple
    output: tuple
    count: Expr
    weights: Expr
    biases: Expr
    non_trainable: Expr
    activations: Expr
    macs: Expr
    exact: tuple = ()    # output shape under exact arithmetic (equal to output where integral)
    windows: tuple = ()  # per spatial axis: Window(kernel k̂, stride, before, after)
    path: tuple = ()     # the blocks it sits in, outermost first: ("conv2_x", "bottleneck1", "res1")
    field: tuple | None = None  # receptive field after this row: per spatial axis (size, stride, padding);
                                # None once a layer sees the whole input (fc, gap, adaptive pooling)
    transposed: object = None   # a transposed convolution's geometry (symcount.layers.sliding.Transposed)
    functional: bool = False    # written [functional]: the model calls it as a function (F.relu), not a module
    module: str = ""            # its PyTorch module where the kind alone does not say (LayerNorm2d, LayerNorm)
    idle: Expr = al.ZERO        # of its params, those one token does not touch (a mixture's unchosen experts)
    masked: Expr = al.ZERO      # of its MACs, those a mask discards (a causal kernel skips them)
    scores: Expr = al.ZERO      # of its MACs, attention's products of queries and keys and of scores and values
    cache: Expr = al.ZERO       # the values a decoder keeps per sequence: attention's keys and values
    tensor: int = 0             # the tensor it makes, and those it reads (symcount.flow)
    reads: tuple = ()
    options: tuple = ()         # its parameters as evaluated: (name, value) pairs

    @property
    def qualified_name(self) -> str:
        """The name with its blocks: conv2_x.bottleneck1.res1.conv3."""
        return ".".join(self.path + (self.name,))

    @property
    def params(self) -> Expr:
        """Trainable parameters: weights + biases."""
        return self.weights + self.biases

    def times(self, factor: Expr) -> "Row":
        """This row standing for `factor` times as many layers."""
        return replace(self, count=self.count * factor, **{q: getattr(self, q) * factor for q in COUNTED})

    @property
    def active_params(self) -> Expr:
        """The parameters one token's forward pass touches."""
        return self.params - self.idle

    def scaled(self, stored: Expr, used: Expr, idle: Expr) -> "Row":
        """This row standing for copies of its layer of which `stored` are kept and `used` run
        (a mixture of experts): parameters times `stored`, outputs and MACs times `used`."""
        return replace(self, weights=self.weights * stored, biases=self.biases * stored,
                       non_trainable=self.non_trainable * stored, activations=self.activations * used,
                       macs=self.macs * used, masked=self.masked * used, scores=self.scores * used,
                       idle=self.idle * stored + idle)

    def plus(self, other: "Row") -> "Row":
        """This row's counts with another's added (a folded block taking in a row)."""
        return replace(self, **{q: getattr(self, q) + getattr(other, q) for q in COUNTED})



def _renamed(row: Row, name: str, path: tuple) -> Row:
    """The row with its name and path (dataclasses.replace, without its per-call cost, which
    a network of 100,000 rows would pay 100,000 times)."""
    renamed = copy.copy(row)
    object.__setattr__(renamed, "name", name)
    object.__setattr__(renamed, "path", path)
    return renamed


def named(rows, shapes):
    """Name rows by kind and position (conv1, conv2, …) and blocks by name and position
    (bottleneck1, res3); returns the rows and {block path: (input, output)}."""
    layers_seen: dict[str, int] = {"input": 1}  # a second input is input2 (the first is row 0)
    blocks_seen: dict[str, int] = {}
    labels: dict[int, str] = {}
    blocks: dict[tuple, tuple] = {}
    named = []
    for row in rows:
        path = []
        for scope in row.path:
            if scope.uid not in labels:
                blocks_seen[scope.base] = blocks_seen.get(scope.base, 0) + 1
                separator = "_" if scope.base[-1].isdigit() else ""  # c7s1_2, not c7s12
                labels[scope.uid] = f"{scope.base}{separator}{blocks_seen[scope.base]}" if scope.numbered \
                    else scope.base
            path.append(labels[scope.uid])
            blocks.setdefault(tuple(path), shapes[scope.uid])
        layers_seen[row.kind] = layers_seen.get(row.kind, 0) + 1
        separator = "_" if row.kind[-1].isdigit() else ""  # relu6_1, not relu61
        named.append(_renamed(row, f"{row.kind}{separator}{layers_seen[row.kind]}", tuple(path)))
    return tuple(named), blocks


def summed(name: str, text: str, block_in, block_out, members, path=(), count=al.Integer(1)) -> Row:
    """One row standing for `members`, their counts summed: a folded block, a side head's
    subtotal.  Its receptive field is the one after the last member."""
    zero = al.Integer(0)
    row = Row(name, "block", text, block_in, block_out, count, path=path, field=members[-1].field,
              **{quantity: zero for quantity in COUNTED})
    for member in members:
        row = row.plus(member)
    return row


@dataclass(frozen=True)
class Head:
    """A side head (side(...)): its block's name, its rows' positions, and its subtotal, a
    row with the head's output and its rows' counts summed (the network's totals include them)."""
    name: str
    rows: tuple
    subtotal: Row


def side_heads(built, rows) -> tuple:
    """The side heads among the builder's rows (`built`, whose paths hold scopes) and the
    same rows named (`rows`): one Head per side(...) pass, in the order they branch off."""
    members: dict[int, list] = {}
    for index, row in enumerate(built):
        for depth, scope in enumerate(row.path):
            if scope.base == "side":
                members.setdefault(scope.uid, [depth]).append(index)
                break
    heads = []
    for depth, *indices in members.values():
        first, last = rows[indices[0]], rows[indices[-1]]
        name = ".".join(last.path[:depth + 1])
        subtotal = summed(f"{name} subtotal", "side head", first.input, last.output, [rows[i] for i in indices],
                          count=last.count)
        heads.append(Head(name, tuple(indices), subtotal))
    return tuple(heads)


def fold_groups(rows, depth: int) -> list:
    """Which rows each folded row stands for: (block path, [row indices]) for a block nested
    deeper than `depth` levels, (None, [index]) for a row shown as it is."""
    groups: list = []
    for index, row in enumerate(rows):
        key = row.path[:depth + 1] if len(row.path) > depth else None
        if key is not None and groups and groups[-1][0] == key:
            groups[-1][1].append(index)
        else:
            groups.append((key, [index]))
    return groups


def fold(rows, blocks, depth: int) -> tuple:
    """The rows with every block nested deeper than `depth` levels shown as one row, its
    counts summed (torchinfo's depth): depth 0 folds every top-level block.  A block row's
    receptive field is the one after its last layer."""
    folded: list[Row] = []
    for key, members in fold_groups(rows, depth):
        if key is None:
            folded.append(rows[members[0]])
            continue
        block_in, block_out, text = blocks[key]
        folded.append(summed(key[-1], text or key[-1], block_in, block_out, [rows[i] for i in members], key[:-1]))
    return tuple(folded)
