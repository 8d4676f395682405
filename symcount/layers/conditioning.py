"""Layers that read a conditioning vector: DiT's class label embedding and adaLN modulation
(Peebles & Xie 2023, §3.2, "adaLN-Zero"), on a second input's tokens.

A conditioning vector c of width E is the output of a first stack ending in a flat vector (the
timestep's MLP, and a class label's embedding added to it: labels1001); a network's layers after its
second input read it:
  adaln{k}  SiLU then nn.Linear(E, k·D) on c, once per sample: the k vectors of D (shift, scale and
            gate of each sublayer) that modulate the D-wide tokens it passes through: E·k·D weights, k·D
            biases and E·k·D MACs; its output is the k·D values. The modulation itself (a layer norm
            without affine parameters times 1 + scale, plus shift; a sublayer times its gate) is
            elementwise and costs no MACs.
  labels{N} a table of N rows of width D whose row for the class label is added to c (DiT's
            LabelEmbedder, whose last row stands for "no class" under classifier-free guidance).
"""
from __future__ import annotations

from symcount.layers.result import ZERO, LayerResult


def modulation(params, shape, defaults, needs):
    vectors, condition = params["vectors"], params["condition"]
    needs.whole(vectors, "the modulation's vectors", 1)
    width = shape[-1]
    out = vectors * width
    return LayerResult(shape, condition * out, out, ZERO, condition * out, activations=out)


def label_embedding(params, shape, defaults, needs):
    labels = params["labels"]
    needs.whole(labels, "the labels", 1)
    return LayerResult(shape, labels * shape[-1], ZERO, ZERO, ZERO)
