"""Hints and suggestions say only what can help: a suggested word is one the user plausibly
meant, a well-known layer symcount does not count is named as such, and a fix is offered
only where it fixes the network."""
import pytest

import symcount


def message(text: str) -> str:
    with pytest.raises(symcount.SymcountError) as caught:
        symcount.parse(text)
    return str(caught.value)


@pytest.mark.parametrize("word", ["lstm", "selu"])
def test_a_well_known_layer_symcount_does_not_count_is_named_plainly(word):
    said = message(f"input 8x64 tokens {word}")
    assert "not a layer symcount knows" in said
    assert "did you mean" not in said  # rmsnorm is not inorm, swiglu not silu, rope not crop, gqa not gap


@pytest.mark.parametrize("word, written", [("swiglu", "mul(fc11008 silu | fc11008) fc4096"),
                                           ("rope", "attn32[rope]"), ("alibi", "attn32[alibi]"),
                                           ("gqa", "attn32[kv_heads=8]"),
                                           ("mqa", "attn32[kv_heads=1]")])
def test_a_well_known_layer_written_otherwise_is_shown_how(word, written):
    said = message(f"input 8x64 tokens {word}")
    assert written in said and "did you mean" not in said


@pytest.mark.parametrize("text", ["input 8x64 tokens moe", "input 8x64 tokens moe8 fc8",
                                  "input 8x64 tokens moe8[top=2] fc8"])
def test_a_mixture_written_without_its_expert_is_shown_how(text):
    assert "moe8[top=2](fc14336 silu fc4096)" in message(text)


@pytest.mark.parametrize("text,meant", [
    ("input 3x8x8 sofmax", "softmax"), ("input 3x8x8 conv3-4 rleu", "relu"), ("input 3x8x8 flattn", "flatten"),
    ("input 3x8x8 conv3-4 batchnrom", "batchnorm"), ("input 3x8x8 mxpool2", "maxpool"),
    ("def expert(d) = (fc{d}) input 8 expertt(4)", "expert"),
])
def test_a_typo_gets_the_word_it_was_meant_to_be(text, meant):
    assert f"did you mean {meant!r}" in message(text)


@pytest.mark.parametrize("text,unrelated", [
    ("input 3x8x8 regnet", "segment"), ("input 3x8x8 conv3-4 bnorm", "inorm"), ("input 3x8x8 dwconv3", "deconv"),
    ("input 3x8x8 flashattn", "flatten"),
])
def test_a_word_that_merely_looks_alike_is_not_suggested(text, unrelated):
    assert unrelated not in message(text)


def test_a_depthwise_convolution_by_its_common_name_is_answered_with_symcounts():
    said = message("input 3x8x8 dwconv3")
    assert "dw3" in said and "did you mean" not in said


def test_near_is_a_typo_or_a_beginning_not_a_likeness():
    from symcount.notation.suggest import edits, near
    assert edits("rleu", "relu") == 1 and edits("kitten", "sitting") == 3
    assert near("sett", ["set", "sweep", "solve"]) == ["set"]
    assert near("flat", ["flatten", "fc"]) == ["flatten"]
    assert near("rmsnorm", ["inorm", "layernorm"]) == [] and near("rope", ["crop"]) == []


def test_a_bare_name_as_a_block_argument_gets_the_braces_hint():
    said = message("def expert(d, f) = (fc{f} relu fc{d}) input 8 expert(d, f)")
    assert "expert({d}, {f})" in said
    assert "e({2*d})" in message("def e(d) = (fc{d}) input 8 e(2*d)")
    assert "expert(64, {f})" in message("def expert(d, f) = (fc{f} relu fc{d}) input 8 expert(64, f)")
    net = symcount.parse("def expert(d, f) = (fc{f} relu fc{d}) input 8 expert({d}, {f})")
    assert {"d", "f"} <= set(net.symbols)  # the hint's form is the network meant


@pytest.mark.parametrize("text", ["input 3x8x8 conv3-4[pad=(1 2 a)]", "def e(d) = (fc{d}) input 8 e(conv3)",
                                  "input 8 fc10 d"])
def test_the_braces_hint_is_given_only_for_a_blocks_arguments(text):
    assert "in braces" not in message(text)


@pytest.mark.parametrize("text", ["input 3x8x8 res(gap fc10)", "input 3x8x8 res(flatten)",
                                  "input 3x32x32 res(patch8-64)", "input 8x64 tokens res(gap)"])
def test_a_residual_body_that_changes_the_kind_of_shape_is_not_told_to_write_a_shortcut(text):
    said = message(text)
    assert "write the shortcut" not in said and "close res( )" in said


def test_a_residual_body_that_keeps_the_kind_of_shape_is_told_to_write_the_shortcut_which_fixes_it():
    assert "write the shortcut" in message("input 8x64 tokens res(fc128)")
    assert symcount.parse("input 8x64 tokens res(fc128 | fc128)").layers[-1].output == (8, 128)
