"""A network in a notebook: its HTML table fits 1,000 pixels as the terminal table fits 80
columns, and its totals display as HTML math that needs no network (net.summary)."""
from html.parser import HTMLParser

import pytest
import sympy

import symcount
from symcount import zoo
from symcount.render.html import WIDTH

NETWORKS = [("vgg16", "3xHxW"), ("unet", "1xHxW"), ("densenet121", "3xHxW"), ("gpt", None), ("resnet50", None)]


class _Rows(HTMLParser):
    """The text of each table row's cells, and every title."""

    def __init__(self):
        super().__init__()
        self.rows, self.cell, self.titles = [], None, []

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = ""
            self.titles += [value for name, value in attrs if name == "title"]

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(self.cell)
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def _rows(page):
    parser = _Rows()
    parser.feed(page)
    return parser


@pytest.mark.parametrize("name,shape", NETWORKS, ids=[n for n, _ in NETWORKS])
def test_the_notebook_table_fits_its_width_in_characters(name, shape):
    """Each column as wide as its widest cell, two characters between columns (the text
    table's rule): no row of the HTML table is wider than WIDTH, about 1,000 pixels."""
    rows = _rows(zoo.load(name, input=shape)._repr_html_()).rows
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    assert sum(widths) + 2 * (len(widths) - 1) <= WIDTH
    assert "MACs" in rows[0]  # the last column, visible without scrolling


def test_the_notebook_table_takes_a_width_and_keeps_chosen_columns():
    net = zoo.load("densenet121", input="3xHxW")
    narrow, wide = _rows(net.table("html", width=80)), _rows(net.table("html", width=400))
    assert len(narrow.rows[0]) < len(wide.rows[0])
    assert narrow.titles and all("." in title or "[" in title for title in narrow.titles)  # cut names, whole
    chosen = _rows(net.table("html", columns="output,weights,biases,params,macs", width=80)).rows[0]
    assert chosen == ["#", "layer", "output", "weights", "biases", "params", "MACs"]


def test_the_summary_is_the_totals_shown_as_html_math():
    net = zoo.load("vgg16", input="3xHxW")
    summary = net.summary
    assert dict(summary) == {q: v for q, v in net.totals().items() if q != "non_trainable"}
    assert summary["params"] is net.params and isinstance(net.params, sympy.Expr)
    page = summary._repr_html_()
    assert "<i>H</i><sub>5</sub>" in page and "⌊" in page
    assert "\\" not in page and "$" not in page  # no LaTeX: nothing for MathJax to typeset
    assert repr(summary).splitlines()[2] == "params      = 2097152·H₅·W₅ + 35597096"
    assert repr(summary).splitlines()[-1].startswith("where H₁ = ⌊H/2⌋")


def test_the_totals_stay_numbers_and_sympy_expressions():
    net = symcount.parse("input 3x224x224 conv3-64 relu fc10")
    assert net.params == net.summary["params"] == 1792 + 64 * 224 * 224 * 10 + 10  # conv3-64, then fc10
    assert "params      = 32,114,442 (32.11 M)" in repr(net.summary)  # 1,792 + 64·224·224·10 + 10
    symbolic = symcount.parse("conv3-64 relu", input="3xHxW")
    assert sympy.expand(symbolic.summary["activations"] - 128 * sympy.Symbol("H", integer=True, nonnegative=True)
                        * sympy.Symbol("W", integer=True, nonnegative=True)) == 0
