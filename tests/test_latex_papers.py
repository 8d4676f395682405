"""LaTeX tables that compile in the classes papers use: article in one column and in two,
IEEEtran and acmart's sigconf.  The structure is checked everywhere; where pdflatex (and the
class) is installed, each document is compiled and its log read for errors and overfull
boxes."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import symcount
from symcount import zoo
from symcount.render.model import FLOATS

from test_readable import symbolic_input

CLASSES = {"article": r"\documentclass{article}",
           "article-twocolumn": r"\documentclass[twocolumn]{article}",
           "IEEEtran": r"\documentclass[conference]{IEEEtran}",
           "acmart": "\\documentclass[sigconf]{acmart}\n\\settopmatter{printacmref=false}\\setcopyright{none}"}
TITLE = {"acmart": "\\title{Counts}\\author{A. Author}\\maketitle\n"}
PREAMBLE = "\\usepackage{booktabs, longtable, array, graphicx, amsmath}\n"
FONTS = {"acmart": ""}  # acmart sets up its own fonts
PROSE = "A paragraph of the paper around the table, long enough to fill a line or two of a column. " * 6
# (entry, input, table options): a plain CNN, symbolic ones with named sizes and moved formulas,
# a transformer with folded rows, and a wide one (every column)
TABLES = [("vgg16", None, {}), ("resnet50", "3xHxW", {}), ("unet", "3xHxW", {}), ("gpt", None, {}),
          ("resnet18", "3xHxW", {"columns": "type,notation,output,weights,biases,params,activations,macs"})]


def tables(entries=TABLES, **options) -> str:
    return "\n".join(PROSE + "\n\n" + zoo.load(name, input=shape).table("latex", caption=f"{name} {shape or ''}",
                                                                        label=f"tab:{name}{index}",
                                                                        **more, **options)
                     for index, (name, shape, more) in enumerate(entries))


def compiled(tmp_path: Path, kind: str, body: str, runs: int = 1) -> str:
    """The log of `body` compiled in the class `kind`, after checking it ran to the end."""
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed: the LaTeX tables are checked for structure only")
    cls = re.search(r"\{(\w+)\}", CLASSES[kind])[1]
    if cls != "article" and not subprocess.run(["kpsewhich", f"{cls}.cls"], capture_output=True, text=True).stdout:
        pytest.skip(f"the {cls} class is not installed (texlive-publishers has it)")
    document = tmp_path / f"{kind}.tex"
    fonts = FONTS.get(kind, "\\usepackage[T1]{fontenc}\n")
    document.write_text(f"{CLASSES[kind]}\n{fonts}{PREAMBLE}\\begin{{document}}\n{TITLE.get(kind, '')}{body}\n"
                        f"\\clearpage\n{PROSE}\n\\end{{document}}\n")
    for _ in range(runs):
        done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", document.name],
                              cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-3000:]
    return (tmp_path / f"{kind}.log").read_text(errors="replace")


def problems(log: str) -> list[str]:
    """Errors, overfull lines and floats too large for the page, with the lines TeX shows after them."""
    lines = log.splitlines()
    return [" ".join(lines[i:i + 2]) for i, line in enumerate(lines)
            if line.startswith("!") or "Overfull \\hbox" in line or "Float too large" in line]


@pytest.mark.parametrize("kind", CLASSES)
def test_the_default_table_compiles_in_each_class(tmp_path, kind):
    assert problems(compiled(tmp_path, kind, tables())) == []


@pytest.mark.parametrize("kind", ["article-twocolumn", "IEEEtran"])
def test_a_column_wide_table_compiles_in_two_columns(tmp_path, kind):
    assert problems(compiled(tmp_path, kind, tables(TABLES[:2], latex_float="table"))) == []


def test_a_longtable_compiles_in_one_column(tmp_path):
    # not the widest table: a longtable cannot shrink, and nine columns need more than a line
    assert problems(compiled(tmp_path, "article", tables(TABLES[:4], latex_float="longtable"), runs=2)) == []


@pytest.mark.parametrize("kind, float", [("article-twocolumn", "table*"), ("article", "table*"), ("IEEEtran", "table*"),
                                         ("acmart", "table*"), ("article", "longtable")])
def test_every_zoo_table_compiles(tmp_path, kind, float):
    body = [zoo.load(name, input=shape).table("latex", latex_float=float) + "\n\\clearpage"
            for name in zoo.names() for shape in (None, symbolic_input(name))]
    assert problems(compiled(tmp_path, kind, "\n".join(body), runs=1 + (float == "longtable"))) == []


# --------------------------------------------------------------------------- structure, everywhere
def math_parts(latex: str) -> list[str]:
    """The math of a table: its $…$ cells and its aligned blocks."""
    return re.findall(r"\$(.+?)\$", latex.replace("\n", " "))


def breaks_inside_brackets(math: str) -> list[str]:
    """Each + or − that TeX could break a line after although it is inside a bracket: at the
    outer brace level of the math, inside ( ), ⌊ ⌋ or ⌈ ⌉."""
    found, braces, brackets = [], 0, 0
    for token in re.findall(r"\\[a-zA-Z]+|\\.|.", math):
        braces += {"{": 1, "}": -1}.get(token, 0)
        if braces == 0:
            brackets += {"(": 1, r"\lfloor": 1, r"\lceil": 1, ")": -1, r"\rfloor": -1, r"\rceil": -1}.get(token, 0)
            if brackets > 0 and token in "+-":
                found.append(math)
    return found


def test_every_zoo_table_is_well_formed_in_each_float():
    for name in zoo.names():
        for shape in (None, symbolic_input(name)):
            network = zoo.load(name, input=shape)
            for float in FLOATS:
                latex = network.table("latex", caption="My net", label="tab:net", latex_float=float)
                for environment in ("longtable", "table", "table*", "tabular", "aligned"):
                    assert latex.count(rf"\begin{{{environment}}}") == latex.count(rf"\end{{{environment}}}")
                assert (r"\begin{longtable}" in latex) == (float == "longtable")
                assert latex.count(r"\caption{My net}\label{tab:net}") == 1 and r"\left" not in latex
                assert latex.count(r"\hyphenpenalty=10000") == latex.count(r"\centering") + (float == "longtable")
                assert [m for part in math_parts(latex) for m in breaks_inside_brackets(part)] == [], name
                if network.sizes.items():  # defined before the rows that use them
                    assert latex.index(" &= ") < latex.index(r"\toprule")


def test_a_long_table_is_split_into_floats_marked_as_continued():
    latex = zoo.load("resnet50", input="3xHxW").table("latex")
    floats = latex.count(r"\begin{table*}")
    assert floats > 1 and latex.count(r"(continued)}\par") == floats - 1 and latex.count(r"\caption{") == 1
    assert latex.count(r"\toprule") == floats  # the heading on each
    assert r"\textit{conv2\_x.bottleneck1.res1}" in latex
    # every float no more than about a page: its rows and the formulas over it
    for part in latex.split(r"\begin{table*}")[1:]:
        assert part.count(r"\\") <= 48 + 4


def test_counts_group_their_thousands_and_sizes_do_not():
    latex = symcount.parse("input 3x224x224 conv3-64 conv3-2048 gap fc1000", input="3xHxW").table("latex")
    rows = [line.split(" & ") for line in latex.splitlines() if line.count(" & ") == 4]
    counts = " ".join(cell for row in rows for cell in row[3:])  # params and MACs
    assert r"1{,}792" in counts and r"1{,}728\,H\,W" in counts and not re.search(r"\d{4}", counts)
    assert r"2048 \times H \times W" in latex  # a dimension, not a count


def test_the_float_is_chosen_and_checked():
    network = zoo.load("lenet5")
    assert r"\begin{table*}[tp]" in network.table("latex")
    assert r"\begin{table}[tbp]" in network.table("latex", latex_float="table")
    assert r"\begin{longtable}" in network.table("latex", latex_float="longtable")
    with pytest.raises(symcount.SymcountError, match="table\\*, table, longtable"):
        network.table("latex", latex_float="figure")
    done = subprocess.run([sys.executable, "-m", "symcount", "lenet5", "--format", "latex", "--latex-float", "longtable"],
                          capture_output=True, text=True)
    assert done.returncode == 0 and r"\begin{longtable}" in done.stdout
