"""A network in a notebook: its HTML table fits 1,000 pixels as the terminal table fits 80
columns, and its totals display as HTML math that needs no network (net.summary)."""
import re
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


def test_a_symbolic_total_shows_as_html_math_and_is_still_sympy():
    """net.params on a symbolic input is SymPy's Add with a display of symcount's own."""
    net = zoo.load("vgg16", input="3xHxW")
    params = net.params
    page = params._repr_html_()
    assert "⌊<i>H</i>/32⌋" in page and "\\" not in page and "$" not in page  # nothing for MathJax
    plain = sympy.Add(*params.args)  # the same sum, built by SymPy alone
    assert isinstance(params, sympy.Add) and type(plain) is sympy.Add
    assert params == plain and plain == params and not params != plain and hash(params) == hash(plain)
    assert {plain: "found"}[params] == "found" and sympy.srepr(params) == sympy.srepr(plain)
    assert sympy.latex(params) == sympy.latex(plain) and str(params) == str(plain)
    H, W = sorted(params.free_symbols, key=str)
    assert params.subs({H: 224, W: 224}) == 138357544  # VGG-16 at 224×224 (Simonyan & Zisserman, Table 2)
    assert sympy.lambdify((H, W), params)(224, 224) == 138357544
    for derived in (params + 1, params.subs(H, 2 * H), params * H, sympy.expand(params - 1)):
        assert not hasattr(derived, "_repr_html_")  # what SymPy builds from it is plain SymPy
    import pickle
    again = pickle.loads(pickle.dumps(params))
    assert again == plain and type(again) is sympy.Add
    for total in (net.macs, net.activations, net.named_total("macs"), net.ops("torch")):
        assert "<i>" in total._repr_html_()


def test_every_symbolic_figure_of_a_network_shows_as_html_math():
    gpt = zoo.load("gpt2")
    assert "<i>T</i>" in gpt.kv_cache()._repr_html_() and "<i>T</i>" in gpt.decoding_macs()._repr_html_()
    single = symcount.parse("fc1", input="N")  # one output from N features: N MACs, a bare symbol
    N = sympy.Symbol("N", integer=True, nonnegative=True)
    assert isinstance(single.macs, sympy.Symbol) and single.macs == N and N == single.macs
    assert single.macs.name == "N" and single.macs._repr_html_() == '<span class="symcount"><i>N</i></span>'


def test_an_executed_notebook_shows_the_totals_as_html_not_latex(tmp_path):
    """What nbconvert's HTML export (which loads MathJax from the network) puts on the page."""
    nbformat = pytest.importorskip("nbformat", reason="nbformat, nbclient and ipykernel execute a notebook")
    pytest.importorskip("nbclient", reason="nbclient executes the notebook")
    pytest.importorskip("ipykernel", reason="ipykernel runs the notebook's code")
    from nbclient import NotebookClient
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell('from symcount import zoo\nnet = zoo.load("vgg16", input="3xHxW")\nnet.params'),
        nbformat.v4.new_code_cell("net.macs")])
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    params, macs = (cell.outputs[0]["data"] for cell in notebook.cells)
    # VGG-16: fc6 has 512·4096 weights a 7×7 position, ⌊H/32⌋·⌊W/32⌋ of them; 138,357,544 − 102,760,448 the rest
    assert params["text/plain"] == "2097152*floor(H/32)*floor(W/32) + 35597096"
    assert re.sub("<[^>]+>", "", params["text/html"]) == "2097152·⌊H/32⌋·⌊W/32⌋ + 35597096"
    # conv1_1: 3·3·3·64 = 1,728 MACs a position at full size, 36,864 for conv1_2: 38,592·H·W
    assert re.sub("<[^>]+>", "", macs["text/html"]).startswith("38592·H·W + ")
    assert "$" not in params["text/html"] + macs["text/html"]


def test_the_reports_figures_show_as_html_math_too():
    gpt = zoo.load("gpt2")
    memory, training = gpt.training_memory(batch="B"), gpt.training_flops()
    serving = gpt.serving(batch="B")
    figures = {"training memory": (memory.weights, memory.activations, memory.total),
               "training FLOPs": (training.forward, training.backward, training.total),
               "serving": (serving.cache, serving.cache_bytes, serving.total_bytes),
               "memory": (zoo.load("vgg16", input="3xHxW").memory().weights_file,)}
    for report, values in figures.items():
        for value in values:
            if not value.is_number:
                assert "<i>" in value._repr_html_() and isinstance(value, sympy.Expr), report
    assert "<i>B</i>" in memory.total._repr_html_() and "<i>T</i>" in serving.total_bytes._repr_html_()
