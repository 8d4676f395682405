"""Formulas a person can read: named sizes, paper-style forms, tables that fit a terminal
and a page, math in the notebook's HTML."""
import os
import re
import shutil
import subprocess
import sys

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symcount
from symcount import zoo
from symcount.layers import arithmetic
from symcount.render.formula import show
from symcount.repl import Session

H, W = sympy.symbols("H W", integer=True, nonnegative=True)
COMMANDS = [["vgg16"], ["vgg16", "--input", "3xHxW"], ["resnet50", "--input", "3xHxW", "--depth", "0"],
            ["mobilenet_v1"]]


def run(*args, columns="80"):
    command = [shutil.which("symcount")] if shutil.which("symcount") else [sys.executable, "-m", "symcount"]
    return subprocess.run(command + list(args), capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": columns})


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_the_commands_fit_80_columns(args):
    done = run(*args)
    assert done.returncode == 0, done.stderr
    assert max(len(line) for line in done.stdout.splitlines()) <= 80


def test_the_repl_fits_80_columns(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    session = Session()
    answers = [session.handle("vgg16"), session.handle(":input 3xHxW"), session.handle("vgg16"),
               session.handle(":depth 0"), session.handle("resnet50"), session.handle(":set H=256 W=256"),
               session.handle("resnet50"), session.handle(":input"), session.handle(":depth off"),
               session.handle("mobilenet_v1")]
    assert max(len(line) for answer in answers for line in answer.splitlines()) <= 80
    assert "25,557,032 params" in answers[6]  # torchvision's ResNet-50


def symbolic_input(name):
    """The entry on symbolic sizes: 3xHxW, 1xL for an audio entry, 3xDxHxW for a video one; a language
    model, whose length is a symbol already, on 512 tokens; a conditioning vector (DiT's first input) as
    it is."""
    if type(zoo.load(name).input_shape).__name__ == "TokenIds":
        return "512 tokens"
    channels, *sizes = zoo.load(name).input_shape
    if not sizes:
        return None
    return {1: f"{channels}xL", 2: "3xHxW", 3: f"{channels}xDxHxW"}[len(sizes)]


def test_every_zoo_table_fits_80_columns_numeric_and_symbolic():
    for name in zoo.names():
        for shape in (None, symbolic_input(name)):
            table = zoo.load(name, input=shape).table(width=80)
            assert max(len(line) for line in table.splitlines()) <= 80, (name, shape)


def test_sizes_are_named_as_papers_write_them():
    vgg = zoo.load("vgg16", input="3xHxW")
    assert [(show(name), show(value)) for name, value in vgg.sizes.items()][-2:] == [("H₅", "⌊H/32⌋"),
                                                                                    ("W₅", "⌊W/32⌋")]
    # fc1 sees 512·H₅·W₅ inputs: 4096·512 weights per position, plus the 35,597,096 that do not depend on the size
    # (138,357,544 − 4096·512·7·7 at 224, seeds/000)
    assert show(vgg.named_total("params")) == "2097152·H₅·W₅ + 35597096"
    assert 138_357_544 - 2_097_152 * 49 == 35_597_096
    resnet = zoo.load("resnet50", input="3xHxW")
    assert show(resnet.sizes["H_5"]) == "⌊(H − 1)/32⌋ + 1"
    assert resnet.totals(named=True)["params"] == 25_557_032  # torchvision's figure; no size in it


def test_named_totals_are_the_totals():
    for name in ("vgg16", "resnet50", "squeezenet1_0", "googlenet", "densenet121", "pix2pix_unet"):
        network = zoo.load(name, input="3xHxW")
        for quantity, named in network.totals(named=True).items():
            assert sympy.expand(network.sizes.defined(named) - getattr(network, quantity)) == 0, (name, quantity)
        # and at sizes PyTorch would take, the named form gives the numeric network's figures
        for size in ((256, 512) if name == "pix2pix_unet" else (224, 225, 256, 301)):
            wide = size * 2 if name == "pix2pix_unet" else size + 7  # its U needs multiples of 256
            numeric = zoo.load(name, input=f"3x{size}x{wide}")
            values = {H: size, W: wide}
            sizes = {n: d.xreplace(values) for n, d in network.sizes.items()}
            assert network.named_total("macs").xreplace(sizes).xreplace(values) == numeric.macs


@settings(max_examples=300, deadline=None)
@given(st.integers(-60, 400), st.integers(1, 9), st.integers(1, 9), st.integers(-20, 20),
       st.sampled_from(["floor", "ceiling"]), st.sampled_from(["floor", "ceiling"]))
def test_a_rounding_inside_a_rounding_is_flattened_exactly(u, q, s, r, inner, outer):
    """ceil((floor(u/q) + r)/s) and its three cousins, kept as one rounding, against Python's integers."""
    x = sympy.Symbol("x", integer=True)
    rounding = {"floor": sympy.floor, "ceiling": sympy.ceiling}
    division = {"floor": arithmetic.floor_div, "ceiling": arithmetic.ceil_div}
    expr = division[outer](rounding[inner](x / q) + r, sympy.Integer(s))
    assert len([a for a in sympy.preorder_traversal(expr) if isinstance(a, (sympy.floor, sympy.ceiling))]) <= 1

    def brute(a, b, up):
        return -((-a) // b) if up else a // b

    expected = brute(brute(u, q, inner == "ceiling") + r, s, outer == "ceiling")
    assert expr.xreplace({x: u}) == expected


def test_squeezenet_ceil_pooling_after_a_floor_convolution_is_one_ceiling():
    sizes = zoo.load("squeezenet1_0", input="3xHxW").sizes
    assert all(len([a for a in sympy.preorder_traversal(d) if isinstance(a, (sympy.floor, sympy.ceiling))]) == 1
               for d in sizes.values())


def test_formulas_print_as_papers_write_them():
    assert show(sympy.floor(H / 32 - sympy.Rational(1, 32)) + 1) == "⌊(H − 1)/32⌋ + 1"
    assert show(sympy.ceiling(H / 4)) == "⌈H/4⌉"
    assert show(sympy.floor(H / 2), "latex") == r"\lfloor H/2 \rfloor"
    assert show(2097152 * sympy.Symbol("H_5") * sympy.Symbol("W_5") + 35597096, "latex") == \
        r"2{,}097{,}152\,H_{5}\,W_{5} + 35{,}597{,}096"
    assert show(sympy.Symbol("alpha") ** 2 * 3) == "3·α²"


def test_columns_type_and_rows_with_parameters_only():
    network = zoo.load("vgg16")
    table = network.table(columns="type,output,params", params_only=True, wide=True, width=200)
    header = table.splitlines()[table.splitlines().index("") + 1].split()
    assert header == ["#", "layer", "type", "output", "params"]
    rows = [line.split() for line in table.splitlines() if re.match(r"\d+ ", line)]
    assert [row[2] for row in rows[1:]] == ["Conv2d"] * 13 + ["Linear"] * 3  # torchvision's VGG-16 modules
    with pytest.raises(symcount.SymcountError, match="unknown column"):
        network.table(columns="params,flopz")
    assert run("vgg16", "--columns", "bogus").returncode == 2


def test_json_carries_the_named_sizes():
    import json
    document = json.loads(zoo.load("vgg16", input="3xHxW").table("json"))
    assert document["sizes"]["H_5"] == "floor(H/32)"
    assert document["totals_in_sizes"]["params"] == "2097152*H_5*W_5 + 35597096"


def test_html_typesets_formulas_and_keeps_tokens_whole():
    page = zoo.load("vgg16", input="3xHxW")._repr_html_()
    assert "<i>H</i><sub>5</sub>" in page and "⌊" in page and "floor(" not in page
    assert page.count("white-space:nowrap") > 100 and "overflow-x:auto" in page
    assert "MACs = " in page  # the totals under the table


def test_a_strided_convolution_with_default_padding_is_pointed_out():
    # AlexNet's paper arithmetic, (227 - 11)/4 + 1 = 55, has no padding; the default pads 5 and gives 56 at 224
    network = symcount.parse("input 3x224x224 conv11-96/4 pool fc10")
    assert network.layers[0].output[1] == (224 + 2 * 5 - 11) // 4 + 1 == 56
    assert "conv11-96/4 pads 5 per side ([pad=0] for none)" in " ".join(network.table().split())
    assert "half padding" not in symcount.parse("input 3x227x227 conv11-96/4[pad=0] pool fc10").table()


def test_the_repl_exports_to_a_file(tmp_path):
    session = Session()
    session.handle("input 3x32x32 conv3-8 pool fc10")
    answer = session.handle(f":export Tiny > {tmp_path / 'tiny.py'}")
    assert answer.startswith("wrote ") and "class Tiny" in answer
    source = (tmp_path / "tiny.py").read_text()
    namespace = {}
    exec(compile(source, "tiny.py", "exec"), namespace)  # the module the file defines builds in PyTorch
    model = namespace["Tiny"]()
    assert sum(p.numel() for p in model.parameters()) == 3 * 9 * 8 + 8 + 8 * 16 * 16 * 10 + 10
    with pytest.raises(symcount.SymcountError, match="needs a file name"):
        session.handle(":export >")


def test_table_options_are_checked():
    network = zoo.load("lenet5")
    for options in (dict(width="80"), dict(width=0), dict(columns=3), dict(label="a}b"), dict(caption=3)):
        with pytest.raises(symcount.SymcountError):
            network.table("latex", **options)
    assert r"\caption{50\% \& \$x\$}" in network.table("latex", caption="50% & $x$")
