"""Blocks called as papers write their legends: C64, C64x2, c7s1-64,
items chained by dashes (C64-C128), bare calls of parameterless blocks.  Each form must
mean exactly what docs/notation.md says it means: the same network as the spelled-out one."""
import pytest

import symcount

LEGEND = "def C(k) = (conv4-{k}/2[pad=1] bn lrelu) def c7s1(k) = (conv7-{k}[pad=3] relu) def stem() = (conv3-8 relu) "


def layers(text):
    net = symcount.parse("input 3x64x64 " + text)
    return [(row.kind, row.output, row.params) for row in net.layers]


@pytest.mark.parametrize("short,spelled", [
    ("C64-C128-C256", "conv4-64/2[pad=1] bn lrelu conv4-128/2[pad=1] bn lrelu conv4-256/2[pad=1] bn lrelu"),
    ("C64 C128", "C(64) C(128)"),
    ("C64x2", "(conv4-64/2[pad=1] bn lrelu)x2"),
    ("C64 x2", "C(64)x2"),
    ("c7s1-64, c7s1-3", "conv7-64[pad=3] relu conv7-3[pad=3] relu"),
    ("c7s1-16x3", "(conv7-16[pad=3] relu)x3"),
    ("stem - C16", "conv3-8 relu conv4-16/2[pad=1] bn lrelu"),
    ("(C16-C32)x2", "C(16) C(32) C(16) C(32)"),
])
def test_paper_forms_mean_the_spelled_out_network(short, spelled):
    assert layers(LEGEND + short) == layers(LEGEND + spelled)


def test_block_rows_are_named_after_the_block():
    net = symcount.parse("input 3x64x64 " + LEGEND + "c7s1-8 c7s1-8")
    assert [row.path[0] for row in net.layers[::2]] == ["c7s1_1", "c7s1_2"]


@pytest.mark.parametrize("text,message", [
    ("D64", "unknown layer 'D64'.*def D\\(k\\)"),
    ("C", "C takes 1 argument"),
    ("sofmax", "did you mean 'softmax'"),
    ("C64x", "unknown layer 'C64x'"),
])
def test_unknown_paper_forms_are_clear_errors(text, message):
    with pytest.raises(symcount.NotationError, match=message):
        symcount.parse("input 3x64x64 " + LEGEND + text)


def test_a_huge_suffix_is_refused_not_evaluated():
    with pytest.raises(symcount.LimitError):
        symcount.parse("input 3x64x64 " + LEGEND + "C" + "9" * 60)


@pytest.mark.parametrize("alias,name", [("inorm", "instancenorm"), ("leakyrelu", "lrelu"), ("convt4-8/2", "deconv4-8/2"),
                                        ("tconv4-8/2", "deconv4-8/2"), ("upconv4-8/2", "deconv4-8/2")])
def test_keyword_aliases_are_the_same_layer(alias, name):
    assert layers(alias) == layers(name)
