"""Random and pathological text: symcount answers or raises SymcountError, nothing else."""
import re

import pytest
from hypothesis import example, given, strategies as st

import symcount

VALID = [
    "input 3x224x224 conv3-64x2 pool conv3-128x2 pool conv3-256x3 pool fc4096 fc1000",
    "input 1x28x28 conv5-32[pad=0] pool conv3-32[pad=0] pool fc256 fc10",
    "input 3xHxW conv11-96/4[pad=0] maxpool3/2[ceil] conv5-256[groups=2] gap dense10",
    "(conv3-64 bn relu pool)x2 conv1x7-{2*C}[d=2, bias=false] avgpool7/1 FC-{N} dropout[p=0.5] softmax",
    "input 784 fc{N} tanh fc10 sigmoid # a comment\nconv3-64",
    "def basic(c, s) = (res(conv3-{c}/{s} bn relu conv3-{c} bn) relu) input 3x32x32 conv3-16 basic(16, 1)x2 basic(32, 2)",
    "input 192x28x28 cat(conv1-64 | conv1-96 conv3-128 | maxpool3/1[pad=1] conv1-32) add(relu | ) dw3/2 gap fc10",
]
ALPHABET = st.sampled_from(list("conv3-64x2pool[]=,(){}/*+ #\nfcgapbninputHWxS0123456789.|") +
                           ["×", "é", "\t", "res(", "cat(", "def ", "dw3"])


def _outcome(text):
    try:
        symcount.parse(text)
    except symcount.SymcountError as error:
        # every error names where, when it can, and never leaks Lark's own exception types
        assert str(error)
        return "error"
    return "ok"


@given(st.lists(ALPHABET, max_size=80).map("".join))
@example("conv3-64x")
@example("input")
@example("}{")
def test_random_text_only_raises_symcount_errors(text):
    _outcome(text)


@given(st.text(max_size=60))
def test_arbitrary_unicode_only_raises_symcount_errors(text):
    _outcome(text)


@st.composite
def mutated(draw):
    text = draw(st.sampled_from(VALID))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        char = draw(ALPHABET)
        if action == "insert":
            text = text[:position] + char + text[position:]
        elif action == "delete":
            text = text[:position] + text[position + 1:]
        else:
            text = text[:position] + char + text[position + 1:]
    return text


@given(mutated())
def test_mutated_notations_only_raise_symcount_errors(text):
    _outcome(text)


@given(mutated(), st.sampled_from(["3x32x32", "3xHxW", "1x8x8", "64"]))
def test_mutations_with_other_inputs(text, shape):
    try:
        symcount.parse(text, input=shape)
    except symcount.SymcountError:
        pass


# ------------------------------------------------------------------ pathological input

def test_million_fold_repeat_is_not_unrolled():
    # the Lasagne thread's rule (n*m*l+1)*k: first layer (3*3*3+1)*64, the rest (3*3*64+1)*64 each
    net = symcount.parse("input 3x32x32 conv3-64x1000000")
    assert net.params == (3 * 3 * 3 + 1) * 64 + 999_999 * (3 * 3 * 64 + 1) * 64
    assert len(net.layers) == 2 and net.layers[1].count == 999_999


def test_nested_huge_repeats():
    net = symcount.parse("input 3x32x32 ((conv3-64x1000000)x1000000)x1000000")
    layers = 10**18
    assert net.params == (3 * 3 * 3 + 1) * 64 + (layers - 1) * (3 * 3 * 64 + 1) * 64


def test_runaway_repeat_is_a_limit_error():
    with pytest.raises(symcount.LimitError, match="grows the shape by 0×2×2 a pass and would unroll to more than"):
        symcount.parse("input 3x32x32 conv1-8[pad=1]x1000000")
    with pytest.raises(symcount.LimitError, match="still changes the shape"):
        symcount.parse("input 3x4x4 (deconv2-3/2)x1000000")  # doubling: no constant step to foresee
    with pytest.raises(symcount.LimitError, match="still changes the shape"):
        symcount.parse("input 3xHxW poolx1000000")
    with pytest.raises(symcount.LimitError, match="more than 20,000 layers"):
        symcount.parse("input 3x32x32 ((conv1-8[pad=1])x999)x999")


def test_deep_nesting_is_a_limit_error():
    with pytest.raises(symcount.LimitError, match="nesting deeper") as caught:
        symcount.parse("relu " + "(" * 10_000 + "relu" + ")" * 10_000)
    assert caught.value.line == 1 and caught.value.column == 56


def test_giant_numbers_are_limit_errors():
    with pytest.raises(symcount.LimitError, match="digits"):
        symcount.parse("fc" + "9" * 1000)


def test_long_flat_expression_does_not_recurse():
    net = symcount.parse("input 10 fc{" + "+".join(["1"] * 20_000) + "}")
    assert net.params == 10 * 20_000 + 20_000


def test_big_but_legal_numbers_stay_exact():
    net = symcount.parse("input 3x{1000000007*1000000009}x1 conv1-1[pad=0]")
    assert net.layers[0].output == (1, 1000000007 * 1000000009, 1)


def test_no_eval_of_user_text():
    for text in ["fc{__import__('os')}", "conv3-{exec}", "fc{a.b}", "fc{1**2}"]:
        try:
            net = symcount.parse(text)
        except symcount.SymcountError:
            continue
        # a name is only ever a SymPy symbol of that name
        assert all(re.fullmatch(r"[A-Za-z_]\w*", name) for name in net.symbols)
