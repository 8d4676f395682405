"""`--framework keras` against Keras 3 itself: shapes and parameter counts of random 2-D
stacks (convolutions, transposed convolutions, pooling), recorded by running Keras 3.15.1
with the torch backend (tests/fixtures/keras/make_keras.py, its command and versions in
the fixture), so these tests need no Keras installed."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import symcount

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "keras" / "keras_shapes.json").read_text())
# A refusal of Keras' API that is not about shapes: PyTorch and symcount take such a layer.
API_ONLY = "not supported in conjunction with `dilation_rate > 1`"


def pair(values) -> str:
    a, b = values
    return str(a) if a == b else f"({a}, {b})"


def notation(layer: dict) -> str:
    kind = layer["class"]
    options = [f"pad={layer['padding']}"]
    if kind in ("Conv2D", "Conv2DTranspose"):
        kh, kw = layer["kernel_size"]
        head = ("conv" if kind == "Conv2D" else "deconv") + (f"{kh}" if kh == kw else f"{kh}x{kw}")
        head += f"-{layer['filters']}"
        options.append(f"stride={pair(layer['strides'])}")
        options.append(f"dilation={pair(layer['dilation_rate'])}")
        if layer.get("groups", 1) != 1:
            options.append(f"groups={layer['groups']}")
        if layer.get("output_padding") is not None:
            options.append(f"op={pair(layer['output_padding'])}")
        if not layer["use_bias"]:
            options.append("bias=false")
    else:
        kh, kw = layer["pool_size"]
        head = ("maxpool" if kind == "MaxPooling2D" else "avgpool") + (f"{kh}" if kh == kw else f"{kh}x{kw}")
        if layer["strides"] is not None:
            options.append(f"stride={pair(layer['strides'])}")
    return f"{head}[{', '.join(options)}]"


def cases():
    for case in FIXTURE["cases"]:
        if not any(API_ONLY in layer.get("error", {}).get("message", "") for layer in case["layers"]):
            yield pytest.param(case, id=str(case["id"]))


@pytest.mark.parametrize("case", list(cases()))
def test_keras_shapes_and_parameters(case):
    """Every layer Keras built has Keras' shape and parameters under --framework keras, and
    the layer Keras refused (or gave a size of 0) is refused."""
    h, w, c = case["input_shape"]
    texts = [notation(layer) for layer in case["layers"]]
    built = [layer for layer in case["layers"] if "error" not in layer]
    if built:
        text = f"input {c}x{h}x{w} " + " ".join(texts[:len(built)])
        net = symcount.parse(text, framework="keras")
        assert [row.output for row in net.layers] == [(o[2], o[0], o[1]) for o in
                                                      (layer["output_shape"] for layer in built)], text
        assert [row.params for row in net.layers] == [layer["params"] for layer in built], text
    if len(built) < len(case["layers"]):
        refused = f"input {c}x{h}x{w} " + " ".join(texts[:len(built) + 1])
        with pytest.raises(symcount.SymcountError):
            symcount.parse(refused, framework="keras")


def test_the_fixture_covers_kernels_below_the_stride():
    transposed = [layer for case in FIXTURE["cases"] for layer in case["layers"]
                  if layer["class"] == "Conv2DTranspose" and "error" not in layer]
    assert sum(1 for layer in transposed if layer["kernel_size"][0] < layer["strides"][0]) >= 50
    assert FIXTURE["keras"].startswith("3.") and FIXTURE["backend"] == "torch"
