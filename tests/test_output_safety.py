"""Output that is safe where it lands: whatever a label, a comment or the notation holds, no
control character reaches a terminal, each table row stays one line, Markdown and HTML carry
no markup of the user's, a spreadsheet runs no formula from a CSV cell, LaTeX gets no raw
control character, and an exported module compiles."""
import csv
import io
import json
import re
import subprocess
import sys
import unicodedata
from html.parser import HTMLParser

import pytest
from hypothesis import given, strategies as st

import symcount
from symcount.errors import SymcountError
from symcount.render import model
from symcount.repl import run as repl

# Bidirectional controls (they reorder what a terminal or an editor shows).
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def raw_controls(text: str, allowed: str = "\n") -> list:
    """The characters of `text` that must not land as they are: controls (C0, DEL, C1), line
    and paragraph separators, lone surrogates and the bidirectional controls."""
    return [c for c in text if c not in allowed and
            (unicodedata.category(c) in ("Cc", "Zl", "Zp", "Cs") or c in BIDI)]


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "symcount", *args], capture_output=True, text=True, input=stdin,
                          encoding="utf-8", errors="surrogateescape")


def table_rows(text: str) -> list:
    """A text table's body and total lines: those between and after its two rules."""
    lines = text.splitlines()
    rules = [i for i, line in enumerate(lines) if line and set(line) == {"-"}]
    return lines[rules[0] + 1:rules[1]] + [lines[rules[1] + 1]]


def markdown_cells(line: str) -> int:
    """The cell separators of a Markdown table line: each | not escaped by a backslash."""
    count, escaped = 0, False
    for char in line:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "|":
            count += 1
    return count


# --------------------------------------------------------------------------- one defect each
def test_control_characters_in_a_label_are_shown_escaped_in_a_text_table():
    result = run('input 3x8x8 "\x1b[2J\x07\u202e\x9b": relu', "--width", "200")
    assert result.returncode == 0, result.stderr
    assert not raw_controls(result.stdout)
    assert "\\x1b[2J\\x07\\u202e\\x9b.relu1" in result.stdout


def test_an_error_shows_the_source_line_escaped_with_the_caret_under_the_spot():
    with pytest.raises(SymcountError) as caught:
        symcount.parse('input 3x8x8 "\x1b[2J\x07": conv3-8 foo')
    message = str(caught.value)
    assert not raw_controls(message)
    shown, caret = message.splitlines()[1:3]
    assert shown == '  input 3x8x8 "\\x1b[2J\\x07": conv3-8 foo'
    assert shown[caret.index("^"):].startswith("foo") and caret.endswith("^~~")


def test_an_error_quoting_a_layer_escapes_its_text():
    with pytest.raises(SymcountError) as caught:  # the message quotes the layer's text, comment and all
        symcount.parse("input 3x8x8 conv3-{C}[pad=1 # \x1b[31m\n]").to_torch()
    assert "conv3-{C}[pad=1 # \\x1b[31m\n]" in str(caught.value) and not raw_controls(str(caught.value))


def test_a_usage_error_escapes_the_argument_it_quotes():
    result = run("conv3-8", "\x1b[2Jx")
    assert result.returncode == 2 and "\\x1b[2Jx" in result.stderr and not raw_controls(result.stderr)


def test_check_and_solve_reports_escape_the_notation_they_quote():
    check = run("check", "input 3x10x10 conv3-8/2[pad=0 # \x1b[31m\n]")
    assert "\\x1b[31m" in check.stdout and not raw_controls(check.stdout)
    solve = run("solve", 'input 3x8x8 "\x1b]0;t\x07": conv3-{C}', "--fact", "params=224", "--bounds", "C=1..9")
    assert solve.returncode == 0, solve.stderr
    assert not raw_controls(solve.stdout)


def test_the_repl_shows_what_was_typed_escaped():
    out = io.StringIO()
    stdin = io.StringIO("def A(k) = (conv3-{k} # \x1b[31m\nrelu)\n:defs\ninput 3x8x8 \"\x1b[2J\": A(4)\n")
    repl(stdin, out, io.StringIO())
    assert "\\x1b[31m" in out.getvalue() and not raw_controls(out.getvalue())


def test_a_line_break_in_a_layers_options_keeps_each_row_one_line():
    net = symcount.parse("input 3x8x8 conv3-8[pad=\n1] relu")
    rows = table_rows(net.table(width=200))
    assert len(rows) == 1 + 2 + 1 and "conv3-8[pad=\\n1]" in rows[1] and rows[1].rstrip().endswith("13,824")
    markdown = [line for line in net.table("markdown").splitlines() if line.startswith("|")]
    # the escape's backslash is Markdown's to escape too: the cell reads conv3-8[pad=\n1]
    assert len(markdown) == 2 + 1 + 2 + 1 and r"conv3-8[pad=\\n1]" in markdown[3] and markdown[3].endswith(" |")


def test_markdown_keeps_no_markup_from_a_label():
    net = symcount.parse('input 3x8x8 "<img src=x onerror=alert(1)> a|b *c* _d_ `e` [f](g) \\\\": conv3-8')
    text = net.table("markdown")
    assert "<" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    row = next(line for line in text.splitlines() if line.startswith("| 1 |"))
    assert markdown_cells(row) == markdown_cells(text.splitlines()[2])  # the pipe is no cell's end
    assert r"a\|b \*c\* \_d\_ \`e\` [f\](g) \\\\.conv1" in row


def test_csv_cells_that_a_spreadsheet_would_run_begin_with_a_quote():
    net = symcount.parse('input 3x8x8 "=HYPERLINK(1)": conv3-8 "@x": relu "+1": relu "-1": relu')
    rows = list(csv.reader(io.StringIO(net.table("csv"))))
    assert [row[1] for row in rows[1:-1]] == ["'=HYPERLINK(1)", "'@x", "'+1", "'-1"]
    assert rows[1][9] == "224" and rows[-1][9] == "224"  # the counts are numbers still


def test_csv_keeps_a_negative_integer_a_number():
    # a crop's receptive field has a negative effective padding: a number, not a formula
    text = symcount.parse("input 1x8x8 crop[by=2] conv3-8[pad=0]").table("csv", receptive_field=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["rf_padding"] == "-2" and rows[1]["rf_padding"] == "-2"


def test_csv_writes_a_line_break_in_the_notation_as_an_escape():
    text = symcount.parse("input 3x8x8 conv3-8[pad=\n1]").table("csv")
    assert len(text.splitlines()) == 3 and "conv3-8[pad=\\n1]" in text


def test_an_export_compiles_whatever_its_comments_and_labels_hold():
    net = symcount.parse('input 3x8x8 "a\x00b\\\x1b\u202e": conv3-8[pad=1 # \x00"""\\\n] '
                         "res(conv3-8 # \x00\x7f\n relu) # \x00 end")
    source = net.to_torch()
    compile(source, "exported.py", "exec")
    assert not raw_controls(source)
    assert "# conv3-8[pad=1 # \\x00\"\"\"\\ ]" in source


def test_the_notebook_latex_escapes_its_text():
    net = symcount.parse("conv3-8 bn fc10", input="3xHxW")
    latex = net._repr_latex_()
    assert r"\text{non_trainable}" not in latex and r"\text{non-trainable}" in latex and r"\text{MACs}" in latex
    check = symcount.parse("input 3x224x224 conv11-96/4 bn pool fc10").check()
    assert "_" not in check._repr_latex_().replace(r"\_", "")


def test_compact_numbers_use_integers_past_a_floats_range():
    compact, scaled = model.compact, model.scaled
    assert compact(9_999) == "9,999" and compact(138_357_544) == "138.36 M" and compact(12_345) == "12.35 k"
    assert compact(999_999_999_999_999) == "1,000.00 T"
    assert compact(10**15) == "1.00 × 10¹⁵" and compact(123 * 10**478) == "1.23 × 10⁴⁸⁰"
    assert compact(9_995 * 10**477) == "1.00 × 10⁴⁸¹" and compact(-5 * 10**20) == "-5.00 × 10²⁰"
    assert scaled(4 * 138_357_544, 10**6) == "553.43" and scaled(4 * 10**400, 10**6) == "4.00 × 10³⁹⁴"


def test_a_table_of_counts_past_a_floats_range():
    net = symcount.parse("input 1x8x8 upsample[scale=2]x1000")  # activations of 4¹⁰⁰⁰·64 ≈ 7.35 × 10⁶⁰³
    text = net.table()
    assert "7.35 × 10⁶⁰³" in text and "9.80 × 10⁶⁰³" in table_rows(text)[-1]
    assert str(net.activations) in net.table("text", wide=True).replace(",", "")
    assert json.loads(net.table("json"))["totals"]["activations"] == int(net.activations)
    assert list(csv.reader(io.StringIO(net.table("csv"))))[-1][11] == str(net.activations)
    for format in ("markdown", "html", "latex"):
        assert f"{int(net.activations):,}".split(",")[0] in net.table(format)


def test_html_and_latex_carry_no_control_character():
    net = symcount.parse('input 3x8x8 "\x01\x08\x1b\x7f\x9f\u202e": conv3-8[pad=\n1]')
    assert not raw_controls(net.table("html"), "")
    assert not raw_controls(net.table("latex"))
    assert not raw_controls(net.table("latex", caption="a\x1b\nb\x00"))


# --------------------------------------------------------------------------- the class
class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)


HTML_TAGS = {"div", "ul", "li", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "i", "sub", "sup"}
FORMULA = tuple("=+-@\t\r")
# Everything a label may hold (no quote, no line break: the notation's LABEL), weighted towards trouble.
TROUBLE = st.sampled_from(["\x1b[2J", "\x1b]0;title\x07", "\x00", "\x07", "\x08", "\t", "\x7f", "\x85", "\x9b",
                           "\u202e", "\u2066", "\u200f", "\ud800", "<", ">", "&", "|", "'", "\\", "`", "*", "_",
                           "[x](y)", "<img src=x onerror=alert(1)>", "=", "+", "-", "@", "#", "$", "~", "é", "中",
                           "😀", " "])
LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
ANY = st.characters(exclude_characters='"' + LINE_BREAKS)
LABEL = st.lists(st.one_of(TROUBLE, ANY), min_size=1, max_size=12).map("".join).filter(
    lambda s: s.strip() and '"' not in s and not any(c in LINE_BREAKS for c in s) and len(s) <= 64)
COMMENT = st.lists(st.one_of(TROUBLE, ANY, st.just('"')), max_size=10).map("".join).filter(
    lambda s: not any(c in LINE_BREAKS for c in s))


@st.composite
def networks(draw):
    """A small network whose labels, comments and layer texts are drawn from trouble."""
    items = []
    for _ in range(draw(st.integers(1, 4))):
        label, comment = draw(LABEL), draw(COMMENT)
        items.append(draw(st.sampled_from([
            f'"{label}": conv3-8',
            f'"{label}": (relu pool)',
            f"conv3-8[pad=1 # {comment}\n]",
            "conv3-8[pad=\n1]",
            f"res(conv3-8 # {comment}\n relu)",
            f'"{label}": relu # {comment}\n',
        ])))
    return "input 3x16x16 " + " ".join(items), draw(COMMENT)


@given(networks())
def test_every_format_is_safe_whatever_the_labels_and_comments_hold(drawn):
    text, caption = drawn
    net = symcount.parse(text)
    rows = 1 + len(net.layers)  # the input row, each layer's
    table = net.table("text", width=120)
    assert not raw_controls(table)
    assert len(table_rows(table)) == rows + 1

    markdown = net.table("markdown")
    assert not raw_controls(markdown) and "<" not in markdown
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    assert len(lines) == 2 + rows + 1 and len({markdown_cells(line) for line in lines}) == 1

    data = net.table("csv")
    assert not raw_controls(data)
    records = list(csv.reader(io.StringIO(data)))
    assert len(records) == len(data.splitlines()) == 1 + len(net.layers) + 1
    assert len({len(record) for record in records}) == 1
    assert not [cell for record in records for cell in record if cell.startswith(FORMULA)]

    document = json.loads(net.table("json"))
    assert [layer["notation"] for layer in document["layers"]] == [row.text for row in net.layers]  # exact

    tags = _Tags()
    page = net.table("html")
    tags.feed(page)
    assert not raw_controls(page, "") and tags.tags <= HTML_TAGS

    assert not raw_controls(net.table("latex", caption=caption or None))
    source = net.to_torch()
    assert not raw_controls(source)
    compile(source, "exported.py", "exec")


@given(LABEL)
def test_an_error_after_any_label_points_at_the_spot(label):
    with pytest.raises(SymcountError) as caught:
        symcount.parse(f'input 3x8x8 "{label}": conv3-8 foo')
    message = str(caught.value)
    assert not raw_controls(message)
    shown, caret = message.splitlines()[1:3]
    assert shown[caret.index("^"):].startswith("foo")
