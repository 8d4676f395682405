"""Crashes and unbounded work: bad input gets a SymcountError (exit 2), never a traceback; each
input is answered within a few seconds and a few hundred MB, or refused with the limit named.

The hostile inputs run in a child process under an address-space limit (RLIMIT_AS) and a
timeout, so a regression fails the test instead of taking the machine: each once took from
15 s to minutes, or gigabytes.
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

import pytest

import symcount
from symcount.analyses.compiled import MAX_WORK, most_points

SECONDS, MEGABYTES = 5, 600  # the child's whole run, Python's start and SymPy's import included


def bounded(*args, code=None, stdin=""):
    """The symcount command with `args`, or Python running `code`, under the budget: (result, seconds)."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (MEGABYTES * 2**20, MEGABYTES * 2**20))
    command = [sys.executable, "-c", code] if code is not None else [sys.executable, "-m", "symcount", *args]
    start = time.monotonic()
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=60, preexec_fn=limit)
    elapsed = time.monotonic() - start
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr, done.stderr[-2000:]
    assert elapsed < SECONDS, f"{elapsed:.1f} s"
    return done, elapsed


def api(code):
    """Run `code` (which sets `result`) in the bounded child; its result, through JSON."""
    done, _ = bounded(code="import json, symcount\nresult = None\n" + code + "\nprint(json.dumps(result))")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ A. se[reduction=0]
def test_se_with_a_reduction_of_zero_is_an_option_error():
    done, _ = bounded("input 8x8x8 se[reduction=0]")
    assert done.returncode == 2 and "reduction" in done.stderr and "column 13" in done.stderr
    with pytest.raises(symcount.OptionError):
        symcount.parse("input 8x8x8 se[reduction=0]")
    net = symcount.parse("input 8x8x8 se[reduction={r}]")
    assert net.sweep(r=[0, 2])["valid"] == [False, True]
    with pytest.raises(symcount.OptionError):
        net.subs(r=0)


# ------------------------------------------------------------------ B. --padding n on C×D×H×W
def test_a_numeric_default_padding_is_spread_over_every_spatial_axis():
    done, _ = bounded("conv3-8", "--padding", "1", "--input", "1x8x8x8", "--format", "json")
    assert done.returncode == 0, done.stderr
    # PyTorch: Conv3d(1, 8, 3, padding=1) keeps 8×8×8; 8·27 weights, 8 biases, 8·512·27 MACs
    row = json.loads(done.stdout)["layers"][0]
    assert row["output"] == [8, 8, 8, 8] and row["params"] == 224 and row["macs"] == 110_592
    assert symcount.parse("input 2x9 conv3-4", padding=1).layers[0].output == (4, 9)


# ------------------------------------------------------------------ C. --padding {p}
def test_a_padding_symbol_is_a_symbol_of_the_network():
    net = symcount.parse("input 3x8x8 conv3-8", padding="{p}")
    assert list(net.symbols) == ["p"]
    assert net.subs(p=1).layers[0].output == (8, 8, 8) and net.subs(p=0).layers[0].output == (8, 6, 6)
    assert net.sweep(p=[0, 1])["macs"] == [8 * 6 * 6 * 27, 8 * 8 * 8 * 27]
    assert [s["p"] for s in net.solve(["conv1=8x8"], {"p": range(0, 5)}).solutions] == [1]
    done, _ = bounded("input 3x8x8 conv3-8", "--padding", "{p}", "--set", "p=1")
    assert done.returncode == 0 and "13,824 MACs" in done.stdout
    done, _ = bounded("solve", "input 3x8x8 conv3-8", "--padding", "{p}", "--fact", "conv1=8x8", "--bounds", "p=0..4")
    assert done.returncode == 0 and "p ∈ {1}" in done.stdout
    # the REPL: :sweep answers, and the entries after it are still read
    done, _ = bounded("repl", stdin=":padding {p}\ninput 3x8x8 conv3-8\n:sweep p=0..1\n:set p=1\ninput 3x8x8 conv3-8\n")
    assert "7,776" in done.stdout and "13,824" in done.stdout and "error" not in done.stderr


# ------------------------------------------------------------------ symbols the fuzz test found unnamed
def test_symbols_in_split_shares_and_in_per_axis_values_are_the_networks():
    shares = symcount.parse("input 8x5x5 split({c}: relu | {c}: )")
    assert list(shares.symbols) == ["c"] and shares.sweep(c=[4, 3])["valid"] == [True, False]
    half = symcount.parse("input 8x6x6 upsample[size=({in/2}, 4)] conv3-{k}")  # {in}: the layer's own 8 channels
    assert half.layers[0].output == (8, 4, 4) and list(half.symbols) == ["k"] and half.sweep(k=[2])["valid"] == [True]


# ------------------------------------------------------------------ D. one meaning of a symbolic repeat count
def test_sweep_and_solve_count_a_symbolic_repeat_as_subs_does():
    net = symcount.parse("input 16x8x8 (dw3/2)x{n}")  # 8 → 4 → 2 → 1, then 1×1 kept: folded after 3 passes
    counts = range(0, 8)
    by_subs = [(net.subs(n=n).params, net.subs(n=n).macs) for n in counts]
    assert by_subs[2][0] == 320  # PyTorch: two Conv2d(16, 16, 3, stride 2, padding 1, groups 16), 160 each
    swept = net.sweep(n=list(counts))
    assert swept["valid"] == [True] * len(counts) and list(zip(swept["params"], swept["macs"])) == by_subs
    assert [s["n"] for s in net.solve(["params=320"], {"n": range(0, 10)}).solutions] == [2]
    assert [s["n"] for s in net.solve(["conv4=1x1"], {"n": range(0, 10)}).solutions] == list(range(4, 10))
    done, _ = bounded("solve", "input 16x8x8 (dw3/2)x{n}", "--fact", "params=320", "--bounds", "n=0..9")
    assert done.returncode == 0 and "n ∈ {2}" in done.stdout
    # nested counts, and a count folded at once whose layer needs what n = 0 does not
    nested = symcount.parse("input 16x8x8 ((dw3/2)x{n} conv1-16)x{m}")
    points = [(n, m) for n in range(5) for m in (0, 1, 2, 5)]
    swept = nested.sweep(n=[n for n, _ in points], m=[m for _, m in points])
    assert swept["params"] == [nested.subs(n=n, m=m).params for n, m in points]
    grouped = symcount.parse("input 3x8x8 groupnorm[groups={g}]x{n}")  # folded at once: n > 0 assumed
    assert grouped.sweep(g=[2, 2, 3], n=[0, 1, 1])["valid"] == [True, False, True]  # no layer at n = 0


def test_check_says_why_a_symbolic_repeat_has_no_exact_closed_form():
    net = symcount.parse("input 16x8x8 (dw3/2)x{n}")  # keeps the shape at 1×1 only by rounding
    with pytest.raises(symcount.ShapeError, match="check and valid_sizes evaluate every size exactly.*give n a value"):
        net.check()
    assert net.subs(n=2).check().findings  # 8 + 2 - 3 = 7 is odd: a fractional 4.5
    with pytest.raises(symcount.SymbolError, match="give the other symbols values first"):
        symcount.parse("input 16xSxS conv3-16x{n} pool").valid_sizes(S=range(1, 20))


# ------------------------------------------------------------------ E. unbounded work
@pytest.mark.parametrize("args", [
    ["(cat(maxpool2 crop | conv1-4))x{n}", "--input", "3xHxW"],
    ["(cat(maxpool2 crop | conv1-4))x64", "--input", "3xHxW", "--rf"],
    ["(cat(maxpool2 crop | conv1-4))x{n}", "--input", "3x64x64"],
    ["input 16x8x8 (dw3/2)x99999999999", "--rf"],
    ["input 3x224x224 (conv3-16/2[pad=1] x1000000)x{L}", "--rf"],
    ["input 3x224x224 conv3-16/2[pad=1] x2000", "--rf"],
    ["input 3x32x32 " + "deconv2-2/{p} " * 200],
    ["pool[dilation={k}, ceil=true]x65", "--input", "8x5x5", "--padding", "1", "--rounding", "caffe"],
    ["input 3 fc{" + "*".join(["(a+b+c+d+e+f+g+h)"] * 8) + "} fc10"],
    ["input 3x8x8 " + " ".join("conv3-{a%d}" % i for i in range(2000))],
])
def test_hostile_texts_are_answered_or_refused_in_budget(args):
    done, _ = bounded(*args)
    assert done.returncode in (0, 2)


def test_a_receptive_field_past_500_digits_is_not_given():
    net = symcount.parse("input 16x8x8 (dw3/2)x99999999999")
    assert net.receptive_field == "n/a (more than 500 digits)" and net.params == 160 * 99999999999


def test_the_work_limit_bounds_sweep_solve_and_valid_sizes():
    net = symcount.parse("conv3-64x2 pool conv3-128x2 pool fc10", input="3xSxS")
    allowed = most_points(net.__dict__.get("_sweep_totals") or _totals(net))
    assert 100_000 < allowed < MAX_WORK
    with pytest.raises(symcount.LimitError, match="at most"):
        net.sweep(S=range(1, allowed + 2))
    with pytest.raises(symcount.LimitError, match="combinations"):
        symcount.parse("conv{k}-8 pool", input="3xSxS").solve(["params=1"], {"S": range(1, 4001), "k": range(1, 1001)})
    with pytest.raises(symcount.LimitError, match="sizes of S"):
        symcount.parse("conv11-96/4[pad=0] pool", input="3xSxS").valid_sizes(S=range(1, 10**9))
    # the allowed maximum itself, measured in the child: about a second, a few hundred MB
    found = api(f"net = symcount.parse('conv3-64x2 pool conv3-128x2 pool fc10', input='3xSxS')\n"
                f"result = sum(net.sweep(S=range(1, {allowed} + 1))['valid'])")
    assert found == allowed - 3  # S = 1, 2, 3 pool to a size below 1
    assert api("net = symcount.parse('conv11-96/4[pad=0] pool', input='3xSxS')\n"
               "result = len(net.valid_sizes(S=range(1, 10**6)))") > 0


def _totals(net):
    from symcount.analyses.sweep import _compiled
    return _compiled(net)


def test_a_hundred_symbols_and_no_more():
    text = "input 3x8x8 " + " ".join("conv3-{a%d}" % i for i in range(100))
    assert api(f"net = symcount.parse({text!r})\nnet.table(); net.check()\nresult = len(net.symbols)") == 100
    with pytest.raises(symcount.LimitError, match="101 symbols"):
        symcount.parse(text + " conv3-{b}")


def test_a_closed_form_past_its_terms_is_refused_before_it_is_expanded():
    net = symcount.parse("input 3 fc{" + "*".join(["(a+b+c+d+e+f+g+h)"] * 8) + "} fc10")
    with pytest.raises(symcount.LimitError, match="1,000 terms"):
        net.params
    four = symcount.parse("input 3 fc{" + "*".join(["(a+b+c+d+e+f+g+h)"] * 4) + "} fc10")
    assert len(four.params.args) == 331  # C(11, 4) monomials of degree 4, one of 3, and the constant


def test_a_size_of_high_degree_is_refused():
    with pytest.raises(symcount.LimitError, match="degree 8"):
        symcount.parse("input 3x32x32 " + "deconv2-2/{p} " * 9)
    assert symcount.parse("input 3xHxW " + "conv3-8/{s} " * 20).symbols.keys() == {"H", "W", "s"}
