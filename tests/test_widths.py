"""Every command fits the terminal: at 80 columns (the width when none is known) no line
it prints, to standard output or as an error, is wider.  The commands the README and the
docs show run as written (their text formats); the options that add to a table run on
zoo networks of every kind; every --help, the zoo, check, solve and an error are read too."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from symcount import cli, parse, zoo
from symcount.render import listing
from test_docs_commands import examples

WIDTH = 80
NETWORKS = [["vgg16"], ["resnet50", "--input", "3xHxW"], ["unet"], ["gpt2"], ["densenet121"], ["llama2_7b"]]
OPTIONS = [["--receptive-field"], ["--memory", "float16"], ["--convention", "torchinfo"], ["--convention", "fvcore"],
           ["--convention", "deepspeed"], ["--convention", "torch", "--backward"], ["--backward"], ["--training"],
           ["-t"], ["--columns", "type,notation,output,weights,biases,params,non_trainable,activations,macs"],
           ["--depth", "0", "--convention", "thop", "--receptive-field", "--memory", "int8"]]
SUBCOMMANDS = [[], ["check"], ["solve"], ["export"], ["repl"], ["zoo"], ["config"]]
# Formats that are not for a terminal: their lines are data (JSON, CSV) or markup; and the
# export, a Python file the same at any width, its lines within 79 columns (its own tests below
# and in test_export_widths.py).
NOT_TEXT = re.compile(r"--format (json|csv|markdown|latex|html)|symcount export ")


def run(argv, capsys, monkeypatch) -> tuple[int, str]:
    """symcount's exit status and everything it printed, at WIDTH columns."""
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    try:
        status = cli.main(argv)
    except SystemExit as done:  # --help, and argparse's usage errors
        status = done.code
    printed = capsys.readouterr()
    return status, printed.out + printed.err


def too_wide(text: str) -> list[str]:
    return [line for line in text.splitlines() if len(line) > WIDTH]


TEXT_EXAMPLES = [(name, command) for name, command, _ in examples() if not NOT_TEXT.search(command)]


@pytest.mark.parametrize("name,command", TEXT_EXAMPLES, ids=[f"{n}:{c[:50]}" for n, c in TEXT_EXAMPLES])
def test_a_documented_command_fits_80_columns(name, command, tmp_path):
    environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                   "COLUMNS": str(WIDTH)}
    done = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env=environment)
    assert not too_wide(done.stdout + done.stderr), f"{name}: {command}\n" + "\n".join(too_wide(done.stdout))


@pytest.mark.parametrize("network", NETWORKS, ids=" ".join)
@pytest.mark.parametrize("option", OPTIONS, ids=" ".join)
def test_an_option_fits_80_columns(network, option, capsys, monkeypatch):
    status, printed = run(network + option, capsys, monkeypatch)
    assert status == 0, printed
    assert not too_wide(printed), "\n".join(too_wide(printed))


def test_columns_that_do_not_fit_continue_under_the_table(capsys, monkeypatch):
    """Nothing is cut: the receptive field continues in a table of its own, every row there."""
    status, printed = run(["vgg16", "--receptive-field"], capsys, monkeypatch)
    assert status == 0 and "continue in the table under the first" in printed
    assert "…" not in printed  # no notation or layer cut short
    second = printed[printed.index("RF size"):]
    assert re.search(r"^31\s+maxpool5\s+212\s+32\s+90$", second, re.M)


def test_the_memory_report_is_in_its_dtype_throughout(capsys, monkeypatch):
    status, printed = run(["vgg16", "--memory", "float16"], capsys, monkeypatch)
    assert status == 0 and "float32" not in printed
    assert "weights 276.72 MB in float16 (263.90 MiB)" in printed  # 138,357,544 × 2 bytes


@pytest.mark.parametrize("command", SUBCOMMANDS, ids=lambda c: " ".join(c) or "symcount")
def test_every_help_fits_80_columns(command, capsys, monkeypatch):
    status, printed = run(command + ["--help"], capsys, monkeypatch)
    assert status == 0 and "usage:" in printed
    assert not too_wide(printed), "\n".join(too_wide(printed))


@pytest.mark.parametrize("columns", [50, 60])
@pytest.mark.parametrize("command", SUBCOMMANDS, ids=lambda c: " ".join(c) or "symcount")
def test_every_help_fits_a_narrow_terminal(command, columns, capsys, monkeypatch):
    """argparse cannot break {caffe,keras,onnx,pytorch,tensorflow}: a long list of choices is the
    option's name in the usage, the choices after its help."""
    monkeypatch.setenv("COLUMNS", str(columns))
    with pytest.raises(SystemExit):
        cli.main(command + ["--help"])
    printed = capsys.readouterr().out
    assert "usage:" in printed
    assert [line for line in printed.splitlines() if len(line) > columns] == []
    if not command:
        words = " ".join(printed.split())
        assert "--framework FRAMEWORK" in words and "one of: caffe, keras, onnx, pytorch, tensorflow" in words


def test_an_example_in_the_help_still_runs_when_copied(capsys, monkeypatch):
    """A long example command breaks with a shell continuation, so a copy of its lines runs."""
    status, printed = run(["solve", "--help"], capsys, monkeypatch)
    lines = printed.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("  symcount solve \"conv3-64x2"))
    command = []
    for line in lines[first:]:
        command.append(line)
        if not line.endswith("\\"):
            break
    done = subprocess.run(["bash", "-c", "\n".join(command).replace("symcount ", f"{sys.executable} -m symcount ", 1)],
                          capture_output=True, text=True, timeout=300)
    assert len(command) > 1 and done.returncode == 0 and "S ∈ {224…255}" in done.stdout


def test_the_parse_error_says_what_was_expected_in_words(capsys, monkeypatch):
    status, printed = run(["oops["], capsys, monkeypatch)
    assert status == 2 and not too_wide(printed)
    words = " ".join(printed.split())
    assert "expected one of: a layer, " in words and "the end of the text" in words
    assert not re.search(r"\b(ATTENTION|EMBED|PATCH|POS|SYMBOLS|TOKENS|BLOCK_NAME|NUMBERED_KIND)\b", printed)


def test_a_long_line_in_an_error_is_shown_around_its_caret(capsys, monkeypatch):
    text = "input 3x224x224 " + "fc10 " * 40 + "conv3-64[pad=1, groups=2, foo"
    status, printed = run([text], capsys, monkeypatch)
    lines = printed.splitlines()
    caret = next(i for i, line in enumerate(lines) if line.strip().startswith("^"))
    assert status == 2 and not too_wide(printed)
    assert lines[caret - 1].startswith("  …") and lines[caret - 1].endswith("foo")
    assert len(lines[caret]) == len(lines[caret - 1]) + 1  # just past the end of the text


@pytest.mark.parametrize("command", [["zoo"], ["zoo", "resnet50"], ["zoo", "inception_v3"], ["zoo", "deepseek_v3"],
                                     ["check", "input 3x224x224 conv11-96/4[pad=0] maxpool3/2 conv5-256 maxpool3/2"],
                                     ["solve", "input 3x224x224 conv11-96/4[pad={p}]", "--fact", "conv1=55x55",
                                      "--bounds", "p=0..10", "--rounding", "exact"]], ids=" ".join)
def test_zoo_check_and_solve_fit_80_columns(command, capsys, monkeypatch):
    status, printed = run(command, capsys, monkeypatch)
    assert status in (0, 1) and not too_wide(printed), "\n".join(too_wide(printed))


def test_an_entry_shows_itself_not_its_family(capsys, monkeypatch):
    status, printed = run(["zoo", "resnet50"], capsys, monkeypatch)
    assert status == 0 and "## resnet50: ResNet-50" in printed and "def bottleneck(c, s)" in printed
    assert "Deep Residual Learning" in " ".join(printed.split())  # the family's citation
    assert "## resnet18" not in printed and "def wide(" not in printed and "def basic(" not in printed


@pytest.mark.parametrize("width", [80, 50])
def test_every_entry_as_shown_is_the_same_network(width):
    for name in zoo.names():
        shown = "\n".join(listing.notation(zoo.notation(name), width))
        network, entry = parse(shown), zoo.load(name)
        assert (network.params, network.macs, network.output_shape) == \
            (entry.params, entry.macs, entry.output_shape), name


def test_the_repl_welcome_and_its_errors_fit_80_columns(monkeypatch):
    """At a terminal the prompt greets in one line; an error there wraps as the command's do."""
    import io

    from symcount import repl

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setenv("COLUMNS", str(WIDTH))
    monkeypatch.setattr(repl, "_line_editing", lambda session: ((lambda entry: None), (lambda: None)))
    typed = iter(["conv3-64 ]", ":quit"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(typed))
    stdout, stderr = Terminal(), io.StringIO()
    repl.run(Terminal(), stdout, stderr)
    welcome = stdout.getvalue().splitlines()[0]
    assert welcome.startswith("symcount: ") and welcome.endswith("Ctrl-D leaves")
    assert "expected one of: a layer" in stderr.getvalue() and not too_wide(stdout.getvalue() + stderr.getvalue())


@pytest.mark.parametrize("name", ["resnet50", "vgg16", "inception_v3", "densenet121", "gpt2"])
def test_the_exported_lines_keep_to_79_columns(name):
    source = zoo.load(name).to_torch("Net")  # the helper classes' lines too (written by hand to fit)
    compile(source, name, "exec")
    assert [line for line in source.splitlines() if len(line) > 79] == []


RF_NETWORKS = [["unet", "--input", "1xHxW"], ["resnet50", "--input", "3xHxW"], ["inception_v3", "--input", "3xHxW"]]


def _formula(shown: str):
    """A formula as a table writes it, read back by SymPy: per-axis figures "(a)×(b)" as a tuple."""
    import sympy
    text = shown.replace("⌊", "floor(").replace("⌋", ")").replace("·", "*").replace("−", "-").replace("×", ",")
    return sympy.sympify(text, locals={name: sympy.Symbol(name, integer=True, nonnegative=True) for name in "HW"})


@pytest.mark.parametrize("network", RF_NETWORKS, ids=" ".join)
def test_receptive_fields_fit_80_columns_their_long_figures_under_the_table(network, capsys, monkeypatch):
    """Every line fits (in characters); a figure moved out of its cell, [n] under the table,
    is the one JSON gives for that layer, axis by axis."""
    import json
    import sympy
    status, printed = run(network + ["--receptive-field"], capsys, monkeypatch)
    assert status == 0 and not too_wide(printed), "\n".join(too_wide(printed))
    assert "n/a (after upsampling)" not in printed  # "n/a" in the cells, explained in the note
    status, document = run(network + ["--receptive-field", "--format", "json"], capsys, monkeypatch)
    layers = {".".join(filter(None, (layer["path"], layer["name"]))): layer for layer in json.loads(document)["layers"]}
    footnotes = re.findall(r"^\[\d+\] (RF \w+) of (\S+):\s*(.*?)(?=^\[|\n\n|\Z)", printed, re.M | re.S)
    for heading, layer, shown in footnotes:
        key = "rf_" + {"RF size": "size", "RF stride": "stride", "RF padding": "padding"}[heading]
        expected = layers[layer][key].split("×")
        got = _formula(" ".join(shown.split()))
        got = got if isinstance(got, tuple) else (got,)
        assert len(got) == len(expected) and all(sympy.simplify(g - sympy.sympify(e, locals={
            n: sympy.Symbol(n, integer=True, nonnegative=True) for n in "HW"})) == 0
            for g, e in zip(got, expected)), (layer, shown, expected)
    if network[0] == "unet":
        assert len(footnotes) == 4 and "the network's last layers that see part of the input follow one" in \
            " ".join(printed.split())
