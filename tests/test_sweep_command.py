"""`symcount sweep`: the ranges it reads, and totals that agree with the network parsed at each
numeric size (an independent path: a numeric parse builds every layer at that size, where
the sweep evaluates the symbolic closed forms compiled once)."""
import json

import pytest

import symcount
from symcount import zoo
from symcount.analyses.ranges import MAX_POINTS, plan
from symcount.cli import main

SMALL = "conv3-8 pool conv3-16 pool fc10"


def run(capsys, *args):
    status = main(["sweep", *args])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("word,values", [
    ("T=1..5", list(range(1, 6))),
    ("T=0..4096:256", list(range(0, 4097, 256))),
    ("T=1..4096:2x", [2 ** k for k in range(13)]),
    ("T=3..100:3x", [3, 9, 27, 81]),
    ("T=1,2,4,8", [1, 2, 4, 8]),
    ("T=1..3,1024", [1, 2, 3, 1024]),
    ("T=12", [12]),
])
def test_each_form_of_range_lists_what_it_says(word, values):
    assert plan([word]).columns == {"T": values}


def test_axes_make_a_grid_or_go_together():
    grid = plan(["H=1,2", "W=10..30:10"])
    assert list(zip(grid.columns["H"], grid.columns["W"])) == [(h, w) for h in (1, 2) for w in (10, 20, 30)]
    paired = plan(["H=1..3", "W=10..30:10", "--paired"])
    assert list(zip(paired.columns["H"], paired.columns["W"])) == [(1, 10), (2, 20), (3, 30)]
    shared = plan(["H,W=32..96:32", "C=3"])
    assert shared.columns == {"H": [32, 64, 96], "W": [32, 64, 96], "C": [3, 3, 3]}
    assert shared.swept == ["H", "W"] and shared.fixed == {"C": 3}


@pytest.mark.parametrize("words,needle", [
    (["T=5..1"], "down to"),
    (["T=1..8:1x"], "ratio of 2"),
    (["T=0..8:2x"], "start of 1"),
    (["T=1..8:0"], "at least 1"),
    (["T=1,,2"], "cannot read"),
    (["T=2*S"], "cannot read"),
    (["T=__import__('os')"], "cannot read"),
    (["T"], "sweep takes"),
    ([], "needs what to sweep"),
    (["T=1..3", "T=4"], "more than once"),
    (["H=1..3", "W=1..4", "--paired"], "one length"),
    ([f"T=1..{MAX_POINTS + 1}"], "more than"),
    (["H=1..200", "W=1..200"], "a grid of 40,000 points"),
])
def test_bad_ranges_are_refused_with_clear_words(words, needle):
    with pytest.raises(symcount.SymcountError, match=needle):
        plan(words)


def test_totals_equal_the_network_parsed_at_each_size(capsys):
    status, out, _ = run(capsys, SMALL, "--input", "3xHxW", "H=8,12", "W=4..16:4", "--format", "json",
                         "--quantity", "params,macs,activations,memory")
    assert status == 0
    points = json.loads(out)["points"]
    assert len(points) == 8
    for point in points:
        numeric = symcount.parse(SMALL, input=f"3x{point['H']}x{point['W']}")
        memory = numeric.memory("float32")
        assert point["valid"]
        assert (point["params"], point["macs"], point["activations"]) == \
            (numeric.params, numeric.macs, numeric.activations)
        assert point["memory"] == 4 * (numeric.params + numeric.non_trainable + numeric.activations)


def test_a_zoo_decoder_over_its_length_and_the_quantities_of_a_transformer(capsys):
    status, out, _ = run(capsys, "gpt2", "T=1..1024:4x", "--format", "json",
                         "--quantity", "params,macs,attention,training,kv_cache")
    assert status == 0
    for point in json.loads(out)["points"]:
        at = zoo.load("gpt2", input=f"{point['T']} tokens")
        assert point["params"] == at.params == 124_439_808  # GPT-2 small, tied head (Radford et al. 2019)
        assert point["macs"] == at.macs
        assert point["training"] == at.training_flops().total
        # 12 layers keep keys and values of 768 each per token, 2 bytes in float16
        assert point["kv_cache"] == 12 * 2 * 768 * point["T"] * 2
        # attention's MACs by hand: Q, K, V and output projections (4·768² per token) and the
        # scores and the weighted sum (T·768 each per token, the causal mask's zeros counted, as
        # symcount's MACs count them), twelve layers
        T = point["T"]
        assert point["attention"] == 12 * (4 * 768 * 768 * T + 2 * T * T * 768)


def test_an_invalid_point_says_why(capsys):
    status, out, _ = run(capsys, "gpt2", "T=512..2048:2x")
    assert status == 0
    assert "2048 tokens do not fit a table of 1024 positions" in " ".join(out.split())  # GPT-2's 1024 learned positions
    assert out.splitlines()[-1].split()[1:] == ["invalid"] * 3


def test_the_text_table_fits_80_columns(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    status, out, _ = run(capsys, "gpt2", "T=1..1024:2x", "--quantity",
                         "params,macs,attention,activations,training,memory,kv_cache")
    assert status == 0 and max(len(line) for line in out.splitlines()) <= 80
    assert "124.44 M" in out  # compact numbers made it fit
    status, out, _ = run(capsys, "gpt2", "T=1..1024:2x", "--wide", "--quantity", "params,macs,training")
    assert "124,439,808" in out


def test_csv_has_exact_values_and_a_fixed_symbol_is_held(capsys):
    status, out, _ = run(capsys, "conv3-{C} pool fc10", "--input", "3xHxH", "H=8..16:8", "C=4", "--format", "csv")
    lines = out.splitlines()
    assert lines[0] == "C,H,valid,params,macs,activations" or lines[0] == "H,C,valid,params,macs,activations"
    header = lines[0].split(",")
    for line in lines[1:]:
        cells = dict(zip(header, line.split(",")))
        numeric = symcount.parse("conv3-4 pool fc10", input=f"3x{cells['H']}x{cells['H']}")
        assert int(cells["params"]) == numeric.params and int(cells["macs"]) == numeric.macs


@pytest.mark.parametrize("args,needle", [
    (["vgg16", "T=1..3"], "unknown symbol T"),
    (["gpt2"], "needs what to sweep"),
    (["gpt2", "T=1..4", "--quantity", "flops"], "unknown quantity 'flops'"),
    (["vgg16", "--input", "3xHxH", "H=32", "--quantity", "kv_cache"], "keeps no keys and values"),
    (["conv3-8 pool fc10", "--input", "3xHxW", "H=32"], "missing: W"),
    (["gpt2", "T=1..4", "--quantity", "params", "--dtype", "float8"], "unknown dtype 'float8'"),
])
def test_bad_input_exits_2_with_one_message(capsys, args, needle):
    status, out, err = run(capsys, *args)
    assert status == 2 and needle in err and "Traceback" not in err
