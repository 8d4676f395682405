"""The installed parser is the module Lark's standalone generator writes from the grammar when
the wheel is built (setup.py); it must read every text exactly as Lark itself reads it."""
import hashlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lark.exceptions import UnexpectedInput as LarkUnexpectedInput

from symcount import zoo
from symcount.notation import grammar, runtime

SOURCE_TREE = Path(__file__).resolve().parents[1]

BROKEN = ["conv3", "conv3-64x", "(conv3-64", "conv3-{C", "conv3-64[pad=", "input 3xx224", "conv3-64 )",
          "fc10 @", "def C(k) = conv3-{k}", "relu-8", "conv3-64[pad=1,", "res(conv3-64 | ", "\"stage\" fc10",
          "input 3x224x224 conv3-64\n  pool\n fc-"]
SHAPES = ["3x224x224", "3xHxW", "1024 tokens", "197x768 tokens", "{2*C}x{H}x8"]
EXPRESSIONS = ["224", "2*S", "(H - 1)/2 + 1", "make_divisible(c*alpha, 8)", "-k"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A standalone module generated from the grammar here, as the build generates it."""
    path = tmp_path_factory.mktemp("standalone") / "generated_parser.py"
    grammar.write_standalone(path, grammar.grammar_path())
    spec = importlib.util.spec_from_file_location("generated_parser", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_parser_does_not_try_the_regex_module(generated):
    # where the third-party regex module is installed, importing it cost a cold command about 8 ms
    assert "import regex" not in Path(generated.__file__).read_text(encoding="utf-8")


def _shape(node):
    """A parse tree as plain tuples (the two runtimes have their own Tree and Token classes)."""
    if hasattr(node, "children"):
        return (str(node.data), tuple(_shape(child) for child in node.children),
                node.meta.line if not node.meta.empty else None, node.meta.column if not node.meta.empty else None)
    return (node.type, str(node), node.line, node.column, node.end_column)


def _outcome(parser, error_class, text, start):
    """The tree, or the error: its kind, where, and what was expected."""
    try:
        return _shape(parser.parse(text, start=start))
    except error_class as error:
        expected = getattr(error, "expected", None) or getattr(error, "allowed", None) or ()
        return type(error).__name__, error.line, error.column, sorted(expected)


def test_generated_parser_reads_every_text_as_lark_does(generated):
    lark, standalone = grammar.lark_parser(), generated.Lark_StandAlone()
    cases = [(entry.text, "start") for entry in zoo.entries().values()]
    cases += [(text, "start") for text in BROKEN] + [(text, "shape") for text in SHAPES]
    cases += [(text, "expr") for text in EXPRESSIONS]
    for text, start in cases:
        ours = _outcome(standalone, generated.UnexpectedInput, text, start)
        assert ours == _outcome(lark, LarkUnexpectedInput, text, start), text
        # the zoo parses and every broken text fails: both sides of the comparison are exercised
        assert ours[0].startswith("Unexpected") == (text in BROKEN), text


def test_installed_parser_was_generated_from_the_installed_grammar():
    if not runtime.STANDALONE:
        if os.environ.get("CI"):
            pytest.fail("CI tests the installed wheel, which must carry the generated parser")
        pytest.skip("a source checkout parses with Lark itself (the build generates the standalone parser)")
    from symcount.notation import standalone
    assert standalone.GRAMMAR_SHA256 == hashlib.sha256(grammar.grammar_path().read_bytes()).hexdigest()
    assert standalone.GRAMMAR_SHA256 == hashlib.sha256((SOURCE_TREE / "grammar" / "symcount.lark").read_bytes()
                                                       ).hexdigest(), "the wheel was built from another grammar"


def test_the_installed_command_does_not_import_lark(tmp_path):
    if not runtime.STANDALONE:
        pytest.skip("a source checkout parses with Lark itself")
    code = ("import sys, io, contextlib\n"
            "import symcount.cli\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    symcount.cli.main(['vgg16'])\n"
            "print(sorted(name for name in sys.modules if name == 'lark' or name.startswith('lark.')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert out.stdout.strip() == "[]", out.stderr
