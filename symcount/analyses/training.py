"""The compute of one training step, per sample: the forward pass, the backward pass, and what
activation recomputation adds (Korthikanti et al. 2022, §4–5: selective and full recomputation).

Counted in FLOPs, two a multiply-accumulate, as FlopCounterMode counts forward and backward:
  a product with a weight (a convolution, a linear layer, attention's projections, an expert)
      backward: the weights' gradient, a forward's worth, and the input's gradient, another, where
      the input carries a gradient: every layer after the first with weights (an embedding's output
      carries one to its table); the first weight layer on the data computes its weights' only
  attention's products of activations (the scores and their weighted sum)
      backward: the gradients of both operands, twice the forward
  layers without products (norms, activations, pooling, an embedding's lookup): 0, as forward
recompute="selective" adds attention's two products again (their inputs kept, the N×N scores and
their weighted sum recomputed: Korthikanti et al.'s selective recomputation, a checkpoint of the core
attention that runs it again, as Megatron-LM's and torch.utils.checkpoint(use_reentrant=True) do);
recompute="full" adds one more forward of the whole network but its last product, whose output the
backward pass does not need: what torch.utils.checkpoint around the model recomputes (its default,
non-reentrant, stops once the tensors the backward pass saved are rebuilt).
"""
from __future__ import annotations

from dataclasses import dataclass

from symcount import algebra as al
from symcount.errors import SymcountError
from symcount.shown import figure, shown_fields

RECOMPUTE = ("none", "selective", "full")


@dataclass(frozen=True)
class TrainingCompute:
    """FLOPs of one training step per sample, each part a number or a formula; `rows`, each row's step
    (its forward, backward and recomputation together)."""
    forward: object
    backward: object
    recomputed: object
    recompute: str
    rows: tuple = ()

    def __post_init__(self):
        shown_fields(self)

    @figure
    def total(self):
        return self.forward + self.backward + self.recomputed


def training_compute(network, recompute: str = "none") -> TrainingCompute:
    if recompute not in RECOMPUTE:
        raise SymcountError(f"recompute is one of {', '.join(RECOMPUTE)} (none; attention's scores; a whole "
                            f"forward), got {recompute!r}")
    carries = False  # whether a row's input carries a gradient back
    forward, backward, scores = [], [], []
    for row in network.layers:
        weighted = 2 * (row.macs - row.scores)
        forward.append(2 * row.macs)
        backward.append(weighted * (2 if carries else 1) + 2 * (2 * row.scores))
        scores.append(2 * row.scores)
        if row.weights != 0 or row.biases != 0 or row.macs != 0:
            carries = True  # a trainable weight before: every later input carries a gradient
    total_forward = _summed(forward)
    last = next((i for i in reversed(range(len(forward))) if forward[i] != 0), None)  # the last product's row
    again = {"none": [al.Integer(0)] * len(forward), "selective": scores,
             "full": [f if i != last else al.Integer(0) for i, f in enumerate(forward)]}[recompute]
    rows = tuple(_summed([f, b, r]) for f, b, r in zip(forward, backward, again))
    return TrainingCompute(total_forward, _summed(backward), _summed(again), recompute, rows)


def _summed(values):
    return al.expand(al.Add(*values))  # numbers as they are, a formula expanded
