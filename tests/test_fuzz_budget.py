"""The class test of crashes and unbounded work: random notation, each API call on it in budget.

Texts come from the grammar's constructs (layers and their options, repeats with numeric and
symbolic counts, groups, the branches res/add/cat/mul/split/side, defined blocks and their
calls, stage labels, symbols, token inputs) and from the zoo's texts with characters
inserted, deleted and duplicated.  Each text goes through parse, every table format, check,
sweep, solve with small bounds and valid_sizes in a child process (tests/budget.py), each call
within SECONDS and MEGABYTES; anything but a SymcountError fails the test, and so does a sweep
that disagrees with subs or a solve that misses the point its fact was read at.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from budget import Child
from symcount import zoo
from symcount.layers.kinds import KINDS

SECONDS, MEGABYTES = 6, 400  # each call: a second or two here and a few hundred MB, with room for a slow machine
BATCH = 12                   # cases per example: the child answers a batch at once


@pytest.fixture(scope="module")
def child():
    process = Child(SECONDS, MEGABYTES)
    yield process
    process.close()


# ------------------------------------------------------------------ texts from the grammar
symbols = st.sampled_from(["C", "n", "k", "p", "s", "g"])
numbers = st.one_of(st.integers(1, 4), st.sampled_from([0, 8, 16, 64, 1000, 10**6]))
expressions = st.one_of(
    numbers.map(str), numbers.map(str),
    symbols.map(lambda s: "{%s}" % s),
    st.tuples(symbols, st.sampled_from("+-*/"), numbers).map(lambda t: "{%s%s%d}" % t),
    st.sampled_from(["{in}", "{in/2}", "{make_divisible(C*3/4)}", "{2*C-1}", "{0/1}"]),
)
sizes = st.one_of(expressions, st.tuples(expressions, expressions).map("x".join))
WORDS = {"pad": ["same", "valid", "half", "full", "causal"], "round": ["floor", "exact", "ceil", "caffe"],
         "padding_mode": ["zeros", "reflect"], "mode": ["nearest", "bilinear"], "act": ["relu", "silu", "hardswish"],
         "gate": ["sigmoid", "hardsigmoid"], "rate": ["0.5", "0"], "slope": ["0.2"]}
AXES = {"pad", "stride", "dilation", "size", "by", "scale", "output_padding"}  # a value per axis may be given
FLAGS = {"bias", "ceil", "affine", "functional", "channelwise", "trailing", "channels_last", "causal", "fixed", "tied"}


@st.composite
def option(draw, name):
    if name in FLAGS:
        return draw(st.sampled_from([name, f"{name}=false", f"{name}=true"]))
    choices = [expressions] + ([st.sampled_from(WORDS[name])] if name in WORDS else []) + (
        [st.tuples(expressions, expressions).map(lambda t: "(%s, %s)" % t)] if name in AXES else [])
    value = draw(st.one_of(*choices)) if name not in ("mode", "act", "gate", "padding_mode", "round", "rate",
                                                       "slope") else draw(st.sampled_from(WORDS[name]))
    return f"{name}={value}"


@st.composite
def layer(draw):
    kernel, out = draw(sizes), draw(expressions)
    stride = draw(st.one_of(st.just(""), expressions.map("/".__add__)))
    kind, core = draw(st.sampled_from([
        ("conv", f"conv{kernel}-{out}{stride}"), ("deconv", f"deconv{kernel}-{out}{stride}"),
        ("conv", f"dw{kernel}{stride}"), ("maxpool", "pool"), ("maxpool", f"maxpool{kernel}{stride}"),
        ("avgpool", f"avgpool{kernel}{stride}"), ("adaptiveavgpool", f"adaptiveavgpool{kernel}"), ("fc", f"fc{out}"),
        ("gap", "gap"), ("flatten", "flatten"), ("bn", "bn"), ("relu", "relu"), ("lrelu", "lrelu"),
        ("dropout", "dropout"), ("softmax", "softmax"), ("gelu", "gelu"), ("layernorm", "ln"), ("scale", "layerscale"),
        ("se", "se"), ("crop", "crop"), ("upsample", "upsample"), ("pixelshuffle", "pixelshuffle"),
        ("shuffle", "shuffle"), ("groupnorm", "groupnorm"), ("prelu", "prelu"), ("instancenorm", "instancenorm"),
        ("lrn", "lrn"), ("cls", "cls"), ("clspool", "clspool"), ("patch", f"patch{kernel}-{out}"),
        ("embed", f"embed{out}-{out}"), ("attn", f"attn{out}"), ("pos", "pos"), ("pos", f"pos{out}"),
        ("segment", f"segment{out}")]))
    names = draw(st.lists(st.sampled_from(KINDS[kind].options), max_size=2, unique=True)) if KINDS[kind].options \
        else []
    return core + ("[" + ", ".join(draw(option(name)) for name in names) + "]" if names else "")


def repeat(item):
    return st.tuples(item, st.sampled_from(["", "x2", "x3", "x{n}", "x{n+1}", "x0", "x65", "x{2*n}"])).map(
        lambda t: t[0] + (" " + t[1] if t[1] and t[0][-1].isdigit() else t[1]))


def items(inner):
    many = st.lists(inner, min_size=0, max_size=4).map(" ".join)
    return st.one_of(
        repeat(many.map(lambda body: f"({body})")),
        repeat(st.tuples(st.sampled_from(["add", "cat", "mul", "split"]), st.lists(many, min_size=2, max_size=3)).map(
            lambda t: f"{t[0]}({' | '.join(t[1])})")),
        repeat(st.tuples(st.sampled_from(["res", "side"]), st.lists(many, min_size=1, max_size=2)).map(
            lambda t: f"{t[0]}({' | '.join(t[1][:1] if t[0] == 'side' else t[1])})")),
        st.tuples(st.sampled_from(["16", "{c}", "{in-4}"]), many, many).map(lambda t: f"split({t[0]}: {t[1]} | {t[0]}: {t[2]})"),
        many.map(lambda body: f'"stage": ({body})'),
        st.tuples(many, st.sampled_from(["crop", ""])).map(lambda t: f"cat({t[0]} {t[1]} | conv1-4)"),
    )


networks = st.recursive(repeat(layer()), items, max_leaves=10)
INPUTS = [None, "3x32x32", "3xHxW", "3xSxS", "8x16", "2x8x8x8", "16", "64 tokens", "16x32 tokens", "3x{S}x{S}",
          "3x1x1", "1x7x7", "8x5x5"]


@st.composite
def grammar_case(draw):
    body = " ".join(draw(st.lists(networks, min_size=1, max_size=3)))
    if draw(st.booleans()):  # a defined block, called three ways; it may use the network's symbols
        body = f"symbols(C n k p s g)\ndef B(c) = ({draw(networks)} conv3-{{c}})\n{body} B(8) B8 B(4)x{{n}}"
    return {"text": body, "input": draw(st.sampled_from(INPUTS)),
            "padding": draw(st.sampled_from([None, None, "1", "{p}", "valid", "same"])),
            "rounding": draw(st.sampled_from([None, None, None, "ceil", "exact", "caffe"]))}


# ------------------------------------------------------------------ zoo texts, mutated
ENTRIES = sorted(zoo.entries().values(), key=lambda entry: entry.name)
ALPHABET = "0123456789xX{}()[]|-/=,:; \n#\"abcknpsHW*+"


@st.composite
def mutated_case(draw):
    text = draw(st.sampled_from(ENTRIES)).text
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "duplicate"]))
        if kind == "insert":
            text = text[:at] + draw(st.sampled_from(ALPHABET)) + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 3)):]
        else:
            piece = text[at:at + draw(st.integers(1, 40))]
            text = text[:at] + piece * draw(st.integers(2, 3)) + text[at:]
    return {"text": text, "input": draw(st.sampled_from([None, None, "3xHxW"]))}


def check_batch(child, cases):
    faults = child.run(cases)
    assert not faults, "\n\n".join(f"{f['call']} of {f['case']!r}:\n{f['fault']}" for f in faults)


@settings(max_examples=25)
@given(st.lists(grammar_case(), min_size=BATCH, max_size=BATCH))
def test_grammar_generated_texts_are_answered_in_budget(child, cases):
    check_batch(child, cases)


@settings(max_examples=8)
@given(st.lists(mutated_case(), min_size=BATCH, max_size=BATCH))
def test_mutated_zoo_texts_are_answered_in_budget(child, cases):
    check_batch(child, cases)


def test_the_budget_tells_a_crash_an_overrun_and_a_refusal_apart():
    import signal
    import time

    import budget
    previous = signal.signal(signal.SIGALRM, budget._alarm)
    try:
        assert budget.bounded(lambda: time.sleep(5), 0.2, 100) == ("fault", "more than 0.2 s")
        assert budget.bounded(lambda: bytearray(2**30), 5, 100) == ("fault", "more than 100 MB")
        assert budget.bounded(lambda: 1 / 0, 5, 100)[0] == "fault"
        assert budget.bounded(lambda: __import__("symcount").parse("conv3"), 5, 100)[0] == "refused"
    finally:
        signal.signal(signal.SIGALRM, previous)
