"""Which tensor each layer reads: the builder's record of the data flow, for what the backward pass
keeps (symcount.analyses.kept).

Each row makes one tensor (or, a view such as flatten, passes its input's on) and reads one; where
branches meet, a Join makes a tensor from theirs.  A folded repeat's row stands for `count` layers,
so it makes `count` copies of its tensor; a read is (tensor, share, slot): the row reads
`count · share` copies of that tensor, and reads in different slots are different copies.  Folding
a pass splits its reads of the pass's input: one copy (the first pass's) is that input, the others
are the previous passes' outputs (slot: the fold).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from symcount import algebra as al

VIEWS = frozenset({"flatten", "crop", "clspool"})  # kinds whose output is a view of their input's storage


def is_view(kind: str, options=()) -> bool:
    """Whether a layer's output is its input's storage: the VIEWS, and dropout at rate 0 (PyTorch
    gives back its input)."""
    return kind in VIEWS or (kind == "dropout" and dict(options).get("rate") == 0)


def makes_tensor(row) -> bool:
    """Whether a row computes a tensor of its own: not the input, not a view."""
    return row.kind != "input" and not is_view(row.kind, row.options)


@dataclass(frozen=True)
class Join:
    """Branches' tensors met (res, add, cat, mul, moe): `tensor` made from `operands`, `count` times."""
    kind: str
    tensor: int
    operands: tuple  # reads, as a row's
    count: object

    def times(self, factor):
        return replace(self, count=self.count * factor)


@dataclass(frozen=True)
class Pass:
    """A top-level repeat's rows [start, end) and its passes' inputs, (shape, passes reading one):
    a checkpoint of each pass keeps only its input."""
    start: int
    end: int
    inputs: tuple
    joins: tuple = (0, 0)  # the joins it made, [first, end) of Flow.joins


class Flow:
    """The tensors made so far: their shapes, the current one, the joins and the top-level repeats."""

    def __init__(self):
        self.shapes: dict[int, tuple] = {}
        self.ids: set[int] = set()     # tensors holding token ids (int64)
        self.joins: list[Join] = []
        self.repeats: list[Pass] = []
        self.current = 0
        self.folds = 0

    def new(self, shape, ids: bool = False) -> int:
        tensor = len(self.shapes)
        self.shapes[tensor] = shape
        if ids:
            self.ids.add(tensor)
        return tensor

    def made(self, kind: str, shape, options=()) -> tuple:
        """A row of `kind` with `options` giving `shape` from the current tensor: (its reads, its tensor)."""
        reads = ((self.current, al.Integer(1), 0),)
        self.current = self.current if is_view(kind, options) else self.new(shape)
        return reads, self.current

    def join(self, kind: str, operands, shape) -> int:
        self.current = self.new(shape)
        self.joins.append(Join(kind, self.current, tuple((t, al.Integer(1), 0) for t in operands), al.Integer(1)))
        return self.current

    def folded(self, rows, joins, entry: int, remaining):
        """One pass's rows and joins standing for `remaining` passes: each read of the pass's input
        `entry` is one copy of it and `remaining − 1` of the pass's output (a slot of its own)."""
        self.folds += 1
        slot, out = self.folds, self.current

        def split(reads):
            return tuple(part for t, share, s in reads for part in
                         (((t, share / remaining, s), (out, share * (remaining - 1) / remaining, slot))
                          if t == entry else ((t, share, s),)))
        return ([replace(row, reads=split(row.reads)) for row in rows],
                [replace(j.times(remaining), operands=split(j.operands)) for j in joins])

    def copied(self, rows, joins, entry: int, out: int, first: int, previous: int):
        """A pass's rows and joins again, reading `previous` (the last pass's output) where the pass
        read `entry`, the tensors it made (ids >= first) made anew; and the copy's output."""
        fresh = {entry: previous}

        def renew(tensor):
            if tensor >= first and tensor not in fresh:
                fresh[tensor] = self.new(self.shapes[tensor], tensor in self.ids)
            return fresh.get(tensor, tensor)

        def reads(rs):
            return tuple((renew(t), share, s) for t, share, s in rs)
        rows = [replace(row, reads=reads(row.reads), tensor=renew(row.tensor)) for row in rows]
        joins = [replace(j, tensor=renew(j.tensor), operands=reads(j.operands)) for j in joins]
        return rows, joins, renew(out)
