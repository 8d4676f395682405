"""Outputs for papers and notebooks: LaTeX, HTML and Jupyter's reprs."""
import re
from html.parser import HTMLParser

import symcount
from symcount import zoo

VGG16 = ("input 3x224x224 conv3-64x2 pool conv3-128x2 pool conv3-256x3 pool conv3-512x3 pool "
         "conv3-512x3 pool fc4096 fc4096 fc1000")


def tabular_rows(latex):
    body = latex[latex.index(r"\toprule"):latex.index(r"\bottomrule")]
    return [line for line in body.splitlines() if line.endswith(r"\\")]


def test_latex_table_is_well_formed_booktabs():
    latex = symcount.parse(VGG16).table("latex")
    columns = re.search(r"\\begin\{tabular\}\{(\w+)\}", latex)[1]
    rows = tabular_rows(latex)
    assert len(rows) == 1 + 1 + 21 + 1  # header, input, 13 convolutions, 5 poolings, 3 fc, total
    # every row has as many cells as the column spec (no unescaped & or missing cell)
    assert all(len(re.split(r"(?<!\\)&", row)) == len(columns) for row in rows)
    assert "138{,}357{,}544" in rows[-1]  # seeds/000: VGG-16's parameters
    assert latex.count(r"\begin{table*}") == latex.count(r"\end{table*}") == 1  # 43 lines: one float


def test_latex_escapes_names_and_gives_closed_forms():
    latex = zoo.load("resnet18", input="3xHxW").table("latex", depth=0)
    assert r"conv2\_x" in latex and "conv2_x" not in latex.replace(r"conv2\_x", "")
    assert r"\begin{aligned}" in latex and r"\lfloor" in latex and r"\left" not in latex  # inline brackets
    # folded rows show their count in math mode
    assert r"$\times 99$" in symcount.parse("input 8x8x8 conv3-8x99").table("latex")


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.rows[-1].append(self.cell)
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def test_jupyter_html_repr_is_the_table():
    parser = _Cells()
    parser.feed(symcount.parse(VGG16)._repr_html_())
    header, *body = parser.rows
    assert len(body) == 1 + 21 + 1
    assert body[-1][header.index("params")] == "138,357,544"


def test_jupyter_latex_repr_gives_the_totals_as_math():
    net = symcount.parse("conv3-64x2 pool fc10", input="3xHxW")
    latex = net._repr_latex_()
    assert latex.startswith("$\\begin{aligned}") and latex.endswith("\\end{aligned}$")
    # the two named sizes H_1 = floor(H/2), W_1 = floor(W/2), then five totals (no non-trainable ones)
    assert latex.count("&=") == 2 + 5 and r"H_{1} &= \lfloor H/2 \rfloor" in latex and r"\left" not in latex


def test_check_and_solve_results_show_themselves_in_jupyter():
    # AlexNet's conv1 with half padding at 224: (224 + 2·5 - 11)/4 + 1 = 56.75 (by hand)
    check = symcount.parse("input 3x224x224 conv11-96/4 pool fc10").check()
    page = check._repr_html_()
    assert "not integral" in page and "<td>227/4 = 56.75</td>" in page and "<table>" in page
    assert check._repr_latex_().startswith("$\\begin{aligned}") and r"\pmod{8}" in check._repr_latex_()
    # (227 + 2p - 11)/4 + 1 = 55 under floor for p = 0 (54 exactly) and p = 1 (54.5, floored)
    solved = symcount.parse("input 3x227x227 conv11-96/4[pad={p}]").solve(["conv1=55x55"], {"p": range(0, 10)})
    assert solved._repr_latex_() == r"$p \in \{0, 1\}$"
    assert "<td>0</td></tr><tr><td>1</td>" in solved._repr_html_()
    none = symcount.parse("input 3x227x227 conv11-96/4[pad={p}]").solve(["conv1=99x99"], {"p": range(0, 3)})
    assert "no solution" in none._repr_latex_()
