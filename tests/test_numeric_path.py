"""The numeric path and the symbolic path are one set of layer rules, and agree.

A numeric input is evaluated with Python integers and fractions (symcount.algebra), a
symbolic one with SymPy.  Here the same random networks (test_differential's, the ones
checked against PyTorch there) are built both ways: every row of the numeric table must equal
the symbolic closed form evaluated by SymPy at that size, every count must be an exact
Python number with no SymPy object inside, and each layer kind evaluated on SymPy's numbers
must give what it gives on Python's.  The cold command must not import SymPy at all.
"""
from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

import pytest
from hypothesis import given, settings

sympy = pytest.importorskip("sympy")

import symcount  # noqa: E402
from symcount.algebra import Int, Rat  # noqa: E402
from symcount.fragments import layer_params  # noqa: E402
from symcount.layers.kinds import Defaults, evaluate  # noqa: E402
from symcount.layers.requirements import LayerProblem  # noqa: E402
from symcount.notation.parse import parse_notation  # noqa: E402
from symcount.rows import QUANTITIES  # noqa: E402

from differential_models import render  # noqa: E402
from test_differential import SETTINGS, cases  # noqa: E402

COUNTS = ("weights", "biases", "non_trainable", "activations", "macs")


def exact_python(value) -> bool:
    return type(value) in (Int, Rat)


def rows_of(net):
    return [(row.kind, tuple(row.output), *(getattr(row, q) for q in COUNTS)) for row in net.layers]


def at(value, point):
    """A closed form evaluated by SymPy itself (xreplace, no symcount arithmetic)."""
    value = sympy.sympify(value).xreplace(point)
    return int(value) if value.is_Integer else Fraction(int(value.p), int(value.q)) if value.is_Rational else value


@settings(max_examples=60, **SETTINGS)
@given(case=cases())
def test_numeric_table_is_the_closed_form_evaluated(case):
    try:
        symbolic = symcount.parse(render(case.items), input=f"{case.cin}xHxW")
    except symcount.SymcountError:
        return  # refused at every size (test_differential checks that PyTorch refuses it too)
    for h, w in ((1, 1), (2, 3), (7, 7), case.extra, (32, 20)):
        try:
            numeric = symcount.parse(render(case.items, case.env), input=f"{case.cin}x{h}x{w}")
        except symcount.SymcountError:
            continue  # refused sizes: test_differential checks them against PyTorch
        point = {symbolic.symbols[k]: sympy.Integer(v) for k, v in {"H": h, "W": w, "C": case.C}.items() if k in symbolic.symbols}
        for row in numeric.layers:
            for value in (*row.output, *(getattr(row, q) for q in COUNTS)):
                assert exact_python(value), f"{row.text}: {value!r} is a {type(value).__name__}, not Int or Rat"
        for quantity in QUANTITIES:
            assert exact_python(getattr(numeric, quantity)), quantity
        if len(symbolic.layers) != len(numeric.layers):  # a numeric repeat may be unrolled differently
            continue
        for mine, closed in zip(rows_of(numeric), rows_of(symbolic)):
            evaluated = (closed[0], tuple(at(d, point) for d in closed[1]), *(at(v, point) for v in closed[2:]))
            assert mine == evaluated, f"{render(case.items)} at {h}x{w}: {mine} != {evaluated}"
        for quantity in QUANTITIES:
            assert getattr(numeric, quantity) == at(getattr(symbolic, quantity), point), quantity


LAYERS = ["conv3-8/2", "conv3x1-6[groups=2, pad=same]", "conv5-4/4[pad=valid, round=exact]", "dw3/2",
          "maxpool3/2[ceil]", "maxpool3/2[pad=1, round=caffe]", "avgpool2", "avgpool3/2[pad=1, ceil]",
          "deconv4-3/2[pad=1]", "deconv3-3/2[pad=same]", "deconv3-5/2[pad=1, output_padding=1]", "fc10",
          "bn", "groupnorm[groups=2]", "prelu[channelwise]", "upsample[scale=2]", "pixelshuffle[scale=2]",
          "crop[by=1]", "adaptiveavgpool3", "gap", "flatten", "conv3-8[dilation=2, pad=2]"]


def _as(number, value):
    if isinstance(value, tuple):
        return tuple(_as(number, v) for v in value)
    return number(value) if isinstance(value, int) and not isinstance(value, bool) else value


@pytest.mark.parametrize("text", LAYERS)
@pytest.mark.parametrize("size", [(4, 9, 9), (4, 12, 7), (2, 1, 1)])
@pytest.mark.parametrize("rounding", ["floor", "exact", "ceil", "caffe"])
def test_each_kind_gives_the_same_on_sympy_numbers(text, size, rounding):
    """One layer on SymPy's Integers and on symcount's Int: the same result, the same error."""
    layer = parse_notation(text).items[0]
    defaults = Defaults(conv=rounding, pool=rounding)

    def on(number):
        shape = _as(number, size)
        try:
            params = layer_params(_as(number, layer.params), {}, shape)
            return evaluate(layer.kind, params, shape, defaults)
        except LayerProblem as problem:  # both paths must refuse alike
            return type(problem), str(problem)

    python, symbolic = on(Int), on(sympy.Integer)
    assert type(python) is type(symbolic), (python, symbolic)
    if isinstance(python, tuple):
        assert python == symbolic
        return
    for field in ("output", "exact", "weights", "biases", "non_trainable", "macs", "windows", "transposed",
                  "requires"):
        assert getattr(python, field) == getattr(symbolic, field), field
    assert all(exact_python(v) for v in (*python.output, *python.exact, python.weights, python.biases, python.macs))


def test_a_numeric_command_never_imports_sympy():
    code = ("import sys, io, contextlib\n"
            "import symcount.cli\n"
            "for name in ('vgg16', 'resnet50', 'mobilenet_v2', 'densenet121', 'alexnet'):\n"
            "    sys.argv = ['symcount', name]\n"
            "    with contextlib.redirect_stdout(io.StringIO()):\n"
            "        symcount.cli.main()\n"
            "print('sympy' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr
