"""Deep symbolic tables at 80 columns: every size named, derivable columns left out before a
formula moves out of its cell, and a formula moved out only when it is longer than its column."""
import re

import pytest
import sympy

from symcount import zoo
from symcount.render import text as text_render
from symcount.render.model import Pair, build
from symcount.render.shortest import shortest

H, W = sympy.symbols("H W", integer=True, nonnegative=True)
# (network, symbolic input, a numeric input the same network takes, the most footnotes allowed)
DEEP = [("densenet121", "3xHxW", "3x224x231", 0), ("unet", "1xHxW", "1x572x572", 0),
        ("inception_v3", "3xHxW", "3x299x311", 2), ("vit_b_16", "3xHxW", "3x224x224", 1),
        ("gpt", None, None, 2)]
FOOTNOTE = re.compile(r"^\[\d+\] ", re.M)


def _layout(network, width=80):
    """The text renderer's own layout: the grid it printed and the formulas it moved out."""
    table = build(network, {}, network.layers)
    _, cells, dropped, short, _ = text_render._fit(table, width, False, False)
    header, rows, columns = text_render._grid(table, cells, dropped, short)
    return table, header, rows, cells, dropped


@pytest.mark.parametrize("name,shape,numeric,most", DEEP, ids=[d[0] for d in DEEP])
def test_a_deep_symbolic_table_fits_80_columns_with_few_footnotes(name, shape, numeric, most):
    printed = zoo.load(name, input=shape).table(width=80)
    assert max(len(line) for line in printed.splitlines()) <= 80
    assert len(FOOTNOTE.findall(printed)) <= most


@pytest.mark.parametrize("name,shape,numeric,most", DEEP, ids=[d[0] for d in DEEP])
def test_no_formula_moves_out_that_its_column_would_hold(name, shape, numeric, most):
    table, header, rows, cells, _ = _layout(zoo.load(name, input=shape))
    markers = {marker: formula for marker, _, formula in cells.moved}
    for j, heading in enumerate(header):
        shown = [row[j] for row in rows if row[j] not in markers and row[j] != "↓"]
        room = max([len(heading)] + [len(cell) for cell in shown])
        for row in rows:
            if row[j] in markers:
                assert len(markers[row[j]]) > room, (heading, markers[row[j]], room)


@pytest.mark.parametrize("name,shape", [("unet", "1xHxW"), ("vit_b_16", "3xHxW"), ("densenet121", "3xHxW"),
                                        ("vgg16", None), ("gpt", None)])
def test_a_column_left_out_holds_nothing_the_others_do_not(name, shape):
    network = zoo.load(name, input=shape)
    table, header, rows, cells, dropped = _layout(network)
    printed = network.table(width=80)
    for key in dropped:
        assert key in table.derivable and key in printed.split("left out to fit")[0].splitlines()[-1]
    if "activations" in dropped:  # each row's activations are its output's size, checked here independently
        for row in network.layers:
            size = row.count * sympy.prod(row.output)
            assert sympy.expand(row.activations - size) == 0, row.qualified_name
    # non-trainable is left out of the default columns only when it is zero in every row
    shown = [c.key for c in table.columns]
    assert ("non_trainable" in shown) == any(row.non_trainable != 0 for row in network.layers)


@pytest.mark.parametrize("name,shape,numeric,most", [d for d in DEEP if d[2]], ids=[d[0] for d in DEEP if d[2]])
def test_the_named_table_is_the_numeric_table_at_numbers(name, shape, numeric, most):
    """Every cell of the symbolic table, its names replaced by their definitions and the input's
    symbols by numbers, is the cell of the network parsed at those numbers."""
    symbolic, concrete = zoo.load(name, input=shape), zoo.load(name, input=numeric)
    _, height, width = (int(n) for n in numeric.split("x"))
    values = {H: height, W: width}
    sizes = symbolic.sizes
    definitions = {n: d.xreplace(values) for n, d in sizes.items()}
    assert all(d.is_Integer and d >= 0 for d in definitions.values())
    named, plain = build(symbolic, {}, symbolic.layers), build(concrete, {}, concrete.layers)
    assert [c.key for c in named.columns] == [c.key for c in plain.columns]

    def at_numbers(cell):
        if isinstance(cell, tuple):
            return tuple(at_numbers(d) for d in cell)
        if isinstance(cell, sympy.Basic):
            return cell.xreplace(definitions).xreplace(values)
        return cell

    for ours, theirs in zip(named.body + [named.total], plain.body + [plain.total]):
        assert not any(isinstance(cell, Pair) for cell in ours)
        assert [at_numbers(c) for c in ours] == list(theirs), ours[1]
    assert len(named.body) == len(plain.body)


def test_every_token_and_spatial_size_is_named():
    unet = zoo.load("unet", input="1xHxW")
    assert str(unet.sizes["H_1"]) == "H - 2"  # a valid convolution's output, named like a rounded one
    for row in unet.layers:
        for size in row.output[1:]:
            assert unet.sizes.named(size).is_Symbol
    vit = zoo.load("vit_b_16", input="3xHxW")
    assert [str(d) for d in vit.sizes.values()] == ["H*W/256", "H*W/256 + 1"]  # patches, then the class token
    assert vit.sizes.named(vit.layers[1].output[0]).name == "N_2"


def test_the_shortest_form_is_equal():
    vit = zoo.load("vit_b_16", input="3xHxW")
    sizes = vit.sizes
    for row in vit.layers:
        for quantity in ("activations", "macs", "params"):
            expr = getattr(row, quantity)
            short = shortest(sizes.named(expr, expand=False), sizes)
            assert sympy.expand(sizes.defined(short) - expr) == 0
    n_2 = sympy.Symbol("N_2", integer=True, positive=True)
    assert shortest(sizes.named(vit.layers[1].activations, expand=False), sizes) == 768 * n_2
