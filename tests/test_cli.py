"""The `symcount` command as a user runs it: exit codes, formats, stdin and files."""
import csv
import io
import json
import os
import shutil
import subprocess
import sys

import pytest

from symcount import zoo

VGG16 = ("input 3x224x224 conv3-64x2 pool conv3-128x2 pool conv3-256x3 pool conv3-512x3 pool "
         "conv3-512x3 pool fc4096 fc4096 fc1000")
LASAGNE = "input 1x28x28 conv5-32[pad=0] pool conv3-32[pad=0] pool fc256 fc10"


def symcount(*args, stdin=None):
    command = [shutil.which("symcount")] if shutil.which("symcount") else [sys.executable, "-m", "symcount"]
    return subprocess.run(command + list(args), input=stdin, capture_output=True, text=True, timeout=120)


def test_vgg16_text_table():
    result = symcount(VGG16, "--wide")
    assert result.returncode == 0, result.stderr
    total = [line for line in result.stdout.splitlines() if line.lstrip().startswith("total")][0]
    assert "138,357,544" in total and "15,470,264,320" in total  # seeds/000; calflops MACs
    assert "512×7×7" not in total and "fc1" in result.stdout


def test_vgg16_compact_table_keeps_the_exact_totals_in_its_headline():
    result = symcount(VGG16)  # not a terminal: 80 columns
    assert result.returncode == 0, result.stderr
    total = [line for line in result.stdout.splitlines() if line.lstrip().startswith("total")][0]
    assert "138.36 M" in total and "15.47 G" in total
    assert "138,357,544 params (138.36 M; 13,416 biases)" in result.stdout  # seeds/000: 13,416 biases
    assert "15,470,264,320 MACs" in result.stdout


def test_json_numbers_are_plain():
    result = symcount(LASAGNE, "--format", "json")
    document = json.loads(result.stdout)
    assert document["totals"]["params"] == 217_706  # seeds/003
    assert [layer["output"] for layer in document["layers"]] == [[32, 24, 24], [32, 12, 12], [32, 10, 10],
                                                                  [32, 5, 5], [256], [10]]


def test_csv_rows_and_total():
    result = symcount(LASAGNE, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [int(r["params"]) for r in rows[:-1]] == [832, 0, 9248, 0, 205056, 2570]  # seeds/003 breakdown
    assert rows[-1]["name"] == "total" and int(rows[-1]["params"]) == 217_706


def test_markdown_table():
    result = symcount(LASAGNE, "--format", "markdown")
    assert "| **total** |" in result.stdout.replace("|  | **total**", "| **total**") and "**217,706**" in result.stdout


def test_symbolic_with_set_shows_formula_and_number():
    body = VGG16.replace("input 3x224x224 ", "")
    result = symcount(body, "--input", "3xHxW", "--set", "H=224", "--set", "W=224", "--formulas", "--width", "400")
    assert result.returncode == 0, result.stderr
    total = [line for line in result.stdout.splitlines() if line.lstrip().startswith("total")][0]
    assert "2097152·H₅·W₅ + 35597096 = 138,357,544" in total
    assert "H₅ = ⌊H/32⌋" in result.stdout


def test_symbolic_with_every_value_set_shows_numbers():
    body = VGG16.replace("input 3x224x224 ", "")
    result = symcount(body, "--input", "3xHxW", "--set", "H=224", "--set", "W=224", "--wide")
    total = [line for line in result.stdout.splitlines() if line.lstrip().startswith("total")][0]
    assert "138,357,544" in total and "H" not in total and "=" not in total  # seeds/000


def test_stdin_and_file(tmp_path):
    assert "217,706" in symcount("-", stdin=LASAGNE).stdout
    path = tmp_path / "net.txt"
    path.write_text("# Lasagne MNIST (seeds/003)\ninput 1x28x28\nconv5-32[pad=0], pool\nconv3-32[pad=0], pool\n"
                    "fc256, fc10\n")
    assert "217,706" in symcount("-f", str(path)).stdout
    assert "217,706" in symcount("-f", "-", stdin=path.read_text()).stdout


def test_padding_valid_for_the_whole_network():
    result = symcount("input 1x28x28 conv5-32 pool conv3-32 pool fc256 fc10", "--padding", "valid",
                      "--format", "json")
    assert json.loads(result.stdout)["totals"]["params"] == 217_706


@pytest.mark.parametrize("args,needle", [
    (["conv3-64 poo"], "unknown layer 'poo'"),
    (["conv3-64[padd=1]"], "unknown option 'padd'"),
    (["input 3x8x8 conv3-64[groups=2]"], "does not divide"),
    (["input 3x4x4 conv5-8[pad=0]"], "< 1"),
    (["conv3-64", "--input", "3xHxW", "--set", "Q=1"], "unknown symbol Q"),
    (["conv3-64", "--set", "H"], "--set takes NAME=VALUE"),
    (["-f", "/nonexistent/net.txt"], "cannot read"),
    (["conv3-64", "--padding", "sideways"], "padding must be"),
    (["zoo", "resnet5"], "did you mean resnet50"),
    (["mobilenet_v1", "--set", "alpha=1/3", "--set", "rho=1"], "filters must be a whole number"),
])
def test_bad_input_exits_2_with_one_message(args, needle):
    result = symcount(*args)
    assert result.returncode == 2
    assert needle in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_usage_errors_exit_2():
    assert symcount().returncode == 2
    assert symcount("relu", "-f", "x").returncode == 2


def test_help_documents_notation_and_examples():
    result = symcount("--help")
    assert result.returncode == 0
    for needle in ("--input", "--set", "--padding", "--format", "conv11-96/4", "(conv3-64 pool)x2", "examples:"):
        assert needle in result.stdout


def test_zoo_lists_every_entry_and_prints_one():
    listing = symcount("zoo")
    assert listing.returncode == 0
    names = [line.split()[0] for line in listing.stdout.splitlines() if not line.startswith(" ")]  # a title wraps
    assert sorted(names) == sorted(zoo.names()) and "resnet50" in names and "cyclegan_resnet" in names
    text = symcount("zoo", "lenet5")
    assert text.returncode == 0 and "LeCun" in text.stdout and "## lenet5" in text.stdout


def test_a_zoo_name_in_place_of_the_notation():
    # torchvision documents resnet50 at 25,557,032 parameters and 4.09 GFLOPS
    result = symcount("resnet50", "--format", "json", "--depth", "0")
    document = json.loads(result.stdout)
    assert document["totals"]["params"] == 25_557_032
    assert round(document["totals"]["macs"] / 1e9, 2) == 4.09
    assert [layer["name"] for layer in document["layers"]][:5] == ["conv1", "conv2_x", "conv3_x", "conv4_x",
                                                                   "conv5_x"]
    # the paper's AlexNet is integral at 227 ((227 - 11)/4 + 1 = 55), so check exits 0
    assert symcount("check", "alexnet").returncode == 0
    symbolic = symcount("vgg16", "--input", "3xHxW", "--set", "H=224", "--set", "W=224")
    assert "138,357,544 params" in symbolic.stdout  # Table 2 / seeds/000


def test_convention_column_and_backward_estimate():
    # torchinfo's Mult-Adds on the VGG-16 of seeds/000 (no adaptive pooling, no BatchNorm): MACs plus one
    # add per output of every biased layer, 15,470,264,320 + 13,547,520 + 9,192
    result = symcount(VGG16, "--convention", "torchinfo", "--backward", "--format", "json")
    document = json.loads(result.stdout)
    assert document["ops"]["total"] == 15_483_821_032
    assert "estimate" in document["ops"]["note"] and document["ops"]["forward_backward"] == 3 * 15_483_821_032
    table = symcount(VGG16, "--convention", "torchinfo", "--backward", "--wide", "--columns", "params").stdout
    total = [line for line in table.splitlines() if line.lstrip().startswith("total")][0]
    assert total.split()[-2:] == ["15,483,821,032", f"{3 * 15_483_821_032:,}"]  # the fwd+bwd column
    assert symcount(VGG16, "--convention", "fvcore", "--switch", "unit").returncode == 2


def test_export_prints_a_module_and_refuses_what_torch_cannot_build():
    done = symcount("export", "input 3x32x32 conv3-{C}x2 pool fc10", "--set", "C=8", "--name", "tiny net")
    assert done.returncode == 0 and "class TinyNet(nn.Module):" in done.stdout
    assert "nn.Conv2d(3, 8, kernel_size=3, padding=1)" in done.stdout and "nn.Linear(2048, 10)" in done.stdout
    zoo_entry = symcount("export", "resnet18", "--to", "torch")
    assert zoo_entry.returncode == 0 and "class Resnet18(nn.Module):" in zoo_entry.stdout
    refused = symcount("export", "input 3x32x32 conv3-{C}")
    assert refused.returncode == 2 and "whole number for the filters" in " ".join(refused.stderr.split())  # wrapped
    assert "Traceback" not in refused.stderr


def test_a_reader_that_stops_early_gets_no_traceback():
    # `symcount zoo | head -1`: the pipe closes after the first line of a long listing
    command = [shutil.which("symcount")] if shutil.which("symcount") else [sys.executable, "-m", "symcount"]
    unbuffered = dict(os.environ, PYTHONUNBUFFERED="1")  # a write per line, so most come after the close
    process = subprocess.Popen(command + ["zoo"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0,
                               env=unbuffered)
    first = process.stdout.read(20)
    process.stdout.close()
    errors = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0
    assert first.startswith(b"alexnet") and errors == ""
