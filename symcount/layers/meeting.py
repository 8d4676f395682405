"""What paths give where they meet, on every layout: the one shape rule of add, res, cat,
split and mul, which the network builder and the PyTorch exporter both follow.

The output keeps the layout its branches give (symcount.layers.result.layout):
  add, res  the branches' shapes are equal;
  cat       channels concatenated on C×L, C×H×W and C×D×H×W (torch.cat(dim=1)), the features of
            each token on N×D tokens (torch.cat(dim=-1)), vectors on flat ones; the other sizes
            are equal;
  mul       the shapes broadcast as PyTorch's do: along each axis the sizes agree or are 1; on
            tokens a flat vector of D values (a per-sequence gate, gap fc… sigmoid) is one row
            of 1×D, multiplying every token (PyTorch: gate.unsqueeze(1)).
Token ids are never joined: an embedding makes tokens of them first.
"""
from __future__ import annotations

from symcount import algebra as al

from symcount.layers.result import Tokens, layout, like

VERBS = {"res": "added", "add": "added", "cat": "concatenated", "split": "concatenated", "mul": "multiplied"}


class JoinProblem(Exception):
    """The branches' outputs cannot meet as they are; the message says why, in words."""


def feature_axis(shape) -> int:
    """The axis cat and split join and cut: a token's features on tokens, else the channels."""
    return len(shape) - 1 if layout(shape) == "tokens" else 0


def operands(kind: str, outputs) -> list:
    """The branches' outputs as the join takes them: one layout for all, or a JoinProblem."""
    layouts = [layout(o) for o in outputs]
    if kind == "mul" and set(layouts) == {"tokens", "flat"}:  # a per-sequence vector over the tokens
        outputs = [o if layout(o) == "tokens" else Tokens((al.Integer(1),) + tuple(o)) for o in outputs]
        layouts = ["tokens"] * len(outputs)
    if "ids" in layouts:
        raise JoinProblem(f"token ids cannot be {VERBS[kind]}; an embedding makes tokens of them first "
                          "(embed50257-768)")
    if len(set(layouts)) > 1:
        raise JoinProblem(f"branches of different layouts cannot be {VERBS[kind]}"
                          + (" (a gate on C×H×W keeps its C×1×1 shape when written with 1×1 convolutions: "
                             "mul( | gap conv1-16 relu conv1-64 sigmoid))" if kind == "mul" else ""))
    if any(len(o) != len(outputs[0]) for o in outputs):
        raise JoinProblem(f"branches with different shapes cannot be {VERBS[kind]}")
    return list(outputs)


def join(kind: str, outputs) -> tuple:
    """(output, groups): the join's output shape, and the groups of sizes that must be equal
    for it (checked by the caller, symbolically or as numbers).  `outputs` from operands()."""
    first = outputs[0]
    axes = range(len(first))
    if kind == "mul":
        groups = [[o[axis] for o in outputs if o[axis] != 1] for axis in axes]
        return like(first, [g[0] if g else al.Integer(1) for g in groups]), [g for g in groups if len(g) > 1]
    groups = [[o[axis] for o in outputs] for axis in axes]
    if kind in ("cat", "split"):
        joined = feature_axis(first)
        sizes = [g[0] for g in groups]
        sizes[joined] = al.Add(*groups[joined])
        return like(first, sizes), [g for axis, g in enumerate(groups) if axis != joined]
    return first, groups
